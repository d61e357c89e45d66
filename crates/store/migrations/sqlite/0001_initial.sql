-- tollgate's schema (SQLite). Times are Unix milliseconds; JSON columns hold text.
CREATE TABLE settings (
    key   TEXT PRIMARY KEY,
    value TEXT NOT NULL
);

CREATE TABLE auth_servers (
    id                    TEXT PRIMARY KEY,
    name                  TEXT NOT NULL,
    description           TEXT NOT NULL DEFAULT '',
    audiences             TEXT NOT NULL,            -- JSON array of strings
    access_token_lifetime INTEGER NOT NULL,          -- seconds
    policy_clients        TEXT NOT NULL DEFAULT '["ALL_CLIENTS"]', -- JSON array: client ids or ALL_CLIENTS
    status                TEXT NOT NULL,
    created               INTEGER NOT NULL,
    last_updated          INTEGER NOT NULL
);

CREATE TABLE scopes (
    id           TEXT PRIMARY KEY,
    server_id    TEXT NOT NULL REFERENCES auth_servers(id) ON DELETE CASCADE,
    name         TEXT NOT NULL,
    description  TEXT NOT NULL DEFAULT '',
    is_default   INTEGER NOT NULL DEFAULT 0,
    created      INTEGER NOT NULL,
    last_updated INTEGER NOT NULL,
    UNIQUE (server_id, name)
);

-- Signing keys of the org server (server_id 'org') and of each custom server.
CREATE TABLE signing_keys (
    kid         TEXT PRIMARY KEY,
    server_id   TEXT NOT NULL,
    status      TEXT NOT NULL,       -- NEXT | ACTIVE | EXPIRED
    private_key BLOB NOT NULL,       -- PKCS#8 DER
    created     INTEGER NOT NULL,
    activated   INTEGER,             -- when it became ACTIVE
    retire_at   INTEGER              -- EXPIRED keys stay published until then
);
CREATE INDEX signing_keys_server ON signing_keys (server_id);

CREATE TABLE apps (
    id               TEXT PRIMARY KEY,
    client_id        TEXT NOT NULL UNIQUE,
    name             TEXT NOT NULL,
    status           TEXT NOT NULL,  -- ACTIVE | INACTIVE
    application_type TEXT NOT NULL,
    auth_method      TEXT NOT NULL,
    grant_types      TEXT NOT NULL,  -- JSON array
    jwks_uri         TEXT,
    dpop_bound       INTEGER NOT NULL DEFAULT 0,
    extra            TEXT NOT NULL DEFAULT '{}', -- other client metadata, JSON object
    created          INTEGER NOT NULL,
    last_updated     INTEGER NOT NULL
);

CREATE TABLE app_keys (
    id           TEXT PRIMARY KEY,
    app_id       TEXT NOT NULL REFERENCES apps(id) ON DELETE CASCADE,
    kid          TEXT,
    status       TEXT NOT NULL,      -- ACTIVE | INACTIVE
    jwk          TEXT NOT NULL,      -- the public JWK as registered
    created      INTEGER NOT NULL,
    last_updated INTEGER NOT NULL
);
CREATE INDEX app_keys_app ON app_keys (app_id);

CREATE TABLE app_secrets (
    id           TEXT PRIMARY KEY,
    app_id       TEXT NOT NULL REFERENCES apps(id) ON DELETE CASCADE,
    secret_hash  BLOB NOT NULL,
    status       TEXT NOT NULL,
    created      INTEGER NOT NULL,
    last_updated INTEGER NOT NULL
);
CREATE INDEX app_secrets_app ON app_secrets (app_id);

CREATE TABLE grants (
    id           TEXT PRIMARY KEY,
    app_id       TEXT NOT NULL REFERENCES apps(id) ON DELETE CASCADE,
    scope_id     TEXT NOT NULL,
    issuer       TEXT NOT NULL,
    status       TEXT NOT NULL,
    source       TEXT NOT NULL,
    created      INTEGER NOT NULL,
    last_updated INTEGER NOT NULL,
    UNIQUE (app_id, scope_id, issuer)
);

CREATE TABLE api_tokens (
    id         TEXT PRIMARY KEY,
    name       TEXT NOT NULL,
    token_hash BLOB NOT NULL UNIQUE,
    created    INTEGER NOT NULL
);

CREATE TABLE users (
    id               TEXT PRIMARY KEY,
    login            TEXT NOT NULL UNIQUE,
    status           TEXT NOT NULL,
    profile          TEXT NOT NULL,   -- JSON object
    created          INTEGER NOT NULL,
    activated        INTEGER,
    status_changed   INTEGER,
    last_login       INTEGER,
    last_updated     INTEGER NOT NULL,
    password_changed INTEGER
);

-- Replay protection: a client's assertion jti is usable once until it expires.
CREATE TABLE used_jti (
    client_id TEXT NOT NULL,
    jti       TEXT NOT NULL,
    expires   INTEGER NOT NULL,
    PRIMARY KEY (client_id, jti)
) WITHOUT ROWID;
CREATE INDEX used_jti_expires ON used_jti (expires);

CREATE TABLE revoked_tokens (
    jti     TEXT PRIMARY KEY,
    expires INTEGER NOT NULL
) WITHOUT ROWID;
