-- The Admin Console (issue 18): local admin users and console sessions. Nothing is cached, so no NOTIFY
-- trigger: every node reads a session from the table on each console request.

-- An admin user signs in to the console with a login and password (argon2id PHC string, never the
-- password) and acts with one admin role, like an API token.
CREATE TABLE admin_users (
    id            TEXT COLLATE "C" PRIMARY KEY,
    login         TEXT NOT NULL UNIQUE,
    password_hash TEXT NOT NULL,
    role          TEXT NOT NULL,
    created       BIGINT NOT NULL,
    last_updated  BIGINT NOT NULL
);

-- A signed-in console session. The cookie holds a random id; only its SHA-256 is stored, so a copy of the
-- database signs nobody in. The CSRF token is bound to the session (synchronizer token).
CREATE TABLE console_sessions (
    id_hash        BYTEA PRIMARY KEY,
    csrf_token     TEXT NOT NULL,
    principal_kind TEXT NOT NULL,      -- user | api_token
    principal_id   TEXT NOT NULL,
    created        BIGINT NOT NULL,
    expires        BIGINT NOT NULL
);
CREATE INDEX console_sessions_expires ON console_sessions (expires);
