-- tollgate's schema (PostgreSQL): the same tables as migrations/sqlite/0001_initial.sql.
-- Times are Unix milliseconds (BIGINT); JSON columns hold text, decoded by the store as in SQLite.
-- Keys that are ordered or paged on use COLLATE "C" so that ordering is bytewise, as in SQLite.
CREATE TABLE settings (
    key   TEXT PRIMARY KEY,
    value TEXT NOT NULL
);

CREATE TABLE auth_servers (
    id                    TEXT COLLATE "C" PRIMARY KEY,
    name                  TEXT NOT NULL,
    description           TEXT NOT NULL DEFAULT '',
    audiences             TEXT NOT NULL,            -- JSON array of strings
    access_token_lifetime BIGINT NOT NULL,          -- seconds
    policy_clients        TEXT NOT NULL DEFAULT '["ALL_CLIENTS"]', -- JSON array: client ids or ALL_CLIENTS
    status                TEXT NOT NULL,
    created               BIGINT NOT NULL,
    last_updated          BIGINT NOT NULL
);

CREATE TABLE scopes (
    id           TEXT COLLATE "C" PRIMARY KEY,
    server_id    TEXT COLLATE "C" NOT NULL REFERENCES auth_servers(id) ON DELETE CASCADE,
    name         TEXT COLLATE "C" NOT NULL,
    description  TEXT NOT NULL DEFAULT '',
    is_default   BOOLEAN NOT NULL DEFAULT FALSE,
    created      BIGINT NOT NULL,
    last_updated BIGINT NOT NULL,
    UNIQUE (server_id, name)
);

-- Signing keys of the org server (server_id 'org') and of each custom server.
CREATE TABLE signing_keys (
    kid         TEXT COLLATE "C" PRIMARY KEY,
    server_id   TEXT COLLATE "C" NOT NULL,
    status      TEXT NOT NULL,       -- NEXT | ACTIVE | EXPIRED
    private_key BYTEA NOT NULL,      -- PKCS#8 DER
    created     BIGINT NOT NULL,
    activated   BIGINT,              -- when it became ACTIVE
    retire_at   BIGINT               -- EXPIRED keys stay published until then
);
CREATE INDEX signing_keys_server ON signing_keys (server_id);

CREATE TABLE apps (
    id               TEXT COLLATE "C" PRIMARY KEY,
    client_id        TEXT COLLATE "C" NOT NULL UNIQUE,
    name             TEXT NOT NULL,
    status           TEXT NOT NULL,  -- ACTIVE | INACTIVE
    application_type TEXT NOT NULL,
    auth_method      TEXT NOT NULL,
    grant_types      TEXT NOT NULL,  -- JSON array
    jwks_uri         TEXT,
    dpop_bound       BOOLEAN NOT NULL DEFAULT FALSE,
    extra            TEXT NOT NULL DEFAULT '{}', -- other client metadata, JSON object
    created          BIGINT NOT NULL,
    last_updated     BIGINT NOT NULL
);

CREATE TABLE app_keys (
    id           TEXT COLLATE "C" PRIMARY KEY,
    app_id       TEXT COLLATE "C" NOT NULL REFERENCES apps(id) ON DELETE CASCADE,
    kid          TEXT,
    status       TEXT NOT NULL,      -- ACTIVE | INACTIVE
    jwk          TEXT NOT NULL,      -- the public JWK as registered
    created      BIGINT NOT NULL,
    last_updated BIGINT NOT NULL
);
CREATE INDEX app_keys_app ON app_keys (app_id);

CREATE TABLE app_secrets (
    id           TEXT COLLATE "C" PRIMARY KEY,
    app_id       TEXT COLLATE "C" NOT NULL REFERENCES apps(id) ON DELETE CASCADE,
    secret_hash  BYTEA NOT NULL,
    status       TEXT NOT NULL,
    created      BIGINT NOT NULL,
    last_updated BIGINT NOT NULL
);
CREATE INDEX app_secrets_app ON app_secrets (app_id);

CREATE TABLE grants (
    id           TEXT COLLATE "C" PRIMARY KEY,
    app_id       TEXT COLLATE "C" NOT NULL REFERENCES apps(id) ON DELETE CASCADE,
    scope_id     TEXT NOT NULL,
    issuer       TEXT NOT NULL,
    status       TEXT NOT NULL,
    source       TEXT NOT NULL,
    created      BIGINT NOT NULL,
    last_updated BIGINT NOT NULL,
    UNIQUE (app_id, scope_id, issuer)
);

CREATE TABLE api_tokens (
    id         TEXT COLLATE "C" PRIMARY KEY,
    name       TEXT NOT NULL,
    token_hash BYTEA NOT NULL UNIQUE,
    created    BIGINT NOT NULL
);

CREATE TABLE users (
    id               TEXT COLLATE "C" PRIMARY KEY,
    login            TEXT NOT NULL UNIQUE,
    status           TEXT NOT NULL,
    profile          TEXT NOT NULL,   -- JSON object
    created          BIGINT NOT NULL,
    activated        BIGINT,
    status_changed   BIGINT,
    last_login       BIGINT,
    last_updated     BIGINT NOT NULL,
    password_changed BIGINT
);

-- Replay protection: a client's assertion jti is usable once until it expires. The primary key makes
-- `INSERT ... ON CONFLICT DO NOTHING` the atomic check-and-record, across every node.
CREATE TABLE used_jti (
    client_id TEXT NOT NULL,
    jti       TEXT NOT NULL,
    expires   BIGINT NOT NULL,
    PRIMARY KEY (client_id, jti)
);
CREATE INDEX used_jti_expires ON used_jti (expires);

CREATE TABLE revoked_tokens (
    jti     TEXT PRIMARY KEY,
    expires BIGINT NOT NULL
);
CREATE INDEX revoked_tokens_expires ON revoked_tokens (expires);
