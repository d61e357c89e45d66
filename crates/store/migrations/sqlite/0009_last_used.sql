-- When each app credential (a public key of app_keys, a client secret of app_secrets) last authenticated a
-- request: the tollgate extension `lastUsed` of the JWKS and secrets APIs. A table of its own, not a
-- column of app_keys/app_secrets: the token endpoint never writes here (a background task flushes what it
-- noted, at most once a minute per credential), and the cached client tables do not change because of it.
CREATE TABLE credential_last_used (
    app_id        TEXT NOT NULL REFERENCES apps(id) ON DELETE CASCADE,
    credential_id TEXT NOT NULL,
    last_used     INTEGER NOT NULL,
    PRIMARY KEY (app_id, credential_id)
);
