-- Workload identity federation (issue 19): an app trusts tokens of an external issuer (GitHub Actions,
-- Kubernetes, SPIFFE, ...) whose subject, audience and claims match one of these rows, instead of a key
-- or secret of its own. `audiences` and `claims` are JSON (an array; an object claim -> pattern). They are
-- part of the client cache, read by the token endpoint from memory.
CREATE TABLE federated_credentials (
    id            TEXT PRIMARY KEY,
    app_id        TEXT NOT NULL REFERENCES apps(id) ON DELETE CASCADE,
    name          TEXT NOT NULL,
    issuer        TEXT NOT NULL,
    subject       TEXT NOT NULL,
    audiences     TEXT NOT NULL,
    claims        TEXT NOT NULL,
    jwks_uri      TEXT,
    max_token_age INTEGER NOT NULL,
    status        TEXT NOT NULL,
    created       INTEGER NOT NULL,
    last_updated  INTEGER NOT NULL
);
CREATE INDEX federated_credentials_app ON federated_credentials (app_id);
