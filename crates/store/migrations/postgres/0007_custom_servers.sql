-- Custom authorization servers in full: access policies (several per server, by priority), their rules
-- (grant types, scopes, token lifetime), custom claims, the signing-key rotation mode and each scope's
-- discovery visibility. Lists are JSON text, as elsewhere. Rows go with their server (and rules with
-- their policy). `auth_servers.policy_clients` is no longer read: every server's old one-policy setting
-- becomes its "Default Policy" (id 00p{serverId}) with a "Default Policy Rule" (0pr{serverId}) that lets
-- client_credentials ask for every scope, for the server's old token lifetime.
ALTER TABLE auth_servers ADD COLUMN rotation_mode TEXT NOT NULL DEFAULT 'AUTO';
ALTER TABLE scopes ADD COLUMN metadata_publish TEXT NOT NULL DEFAULT 'ALL_CLIENTS';

CREATE TABLE auth_server_policies (
    id           TEXT COLLATE "C" PRIMARY KEY,
    server_id    TEXT NOT NULL REFERENCES auth_servers(id) ON DELETE CASCADE,
    name         TEXT NOT NULL,
    description  TEXT NOT NULL DEFAULT '',
    status       TEXT NOT NULL,              -- ACTIVE | INACTIVE
    priority     BIGINT NOT NULL,           -- 1 is evaluated first
    clients      TEXT NOT NULL,              -- JSON array: client ids or ALL_CLIENTS
    created      BIGINT NOT NULL,
    last_updated BIGINT NOT NULL
);
CREATE INDEX auth_server_policies_server ON auth_server_policies (server_id);

CREATE TABLE auth_server_policy_rules (
    id                     TEXT COLLATE "C" PRIMARY KEY,
    server_id              TEXT NOT NULL REFERENCES auth_servers(id) ON DELETE CASCADE,
    policy_id              TEXT NOT NULL REFERENCES auth_server_policies(id) ON DELETE CASCADE,
    name                   TEXT NOT NULL,
    status                 TEXT NOT NULL,
    priority               BIGINT NOT NULL,
    grant_types            TEXT NOT NULL,    -- JSON array
    scopes                 TEXT NOT NULL,    -- JSON array; ["*"] is every scope
    token_lifetime_minutes BIGINT NOT NULL, -- 5..=1440
    created                BIGINT NOT NULL,
    last_updated           BIGINT NOT NULL
);
CREATE INDEX auth_server_policy_rules_server ON auth_server_policy_rules (server_id);

CREATE TABLE auth_server_claims (
    id             TEXT COLLATE "C" PRIMARY KEY,
    server_id      TEXT NOT NULL REFERENCES auth_servers(id) ON DELETE CASCADE,
    name           TEXT NOT NULL,
    status         TEXT NOT NULL,
    claim_type     TEXT NOT NULL,            -- RESOURCE
    value_type     TEXT NOT NULL,            -- EXPRESSION
    value          TEXT NOT NULL,            -- the expression's source text
    scopes         TEXT NOT NULL,            -- JSON array; [] is any scope
    always_include BOOLEAN NOT NULL DEFAULT FALSE,
    created        BIGINT NOT NULL,
    last_updated   BIGINT NOT NULL,
    UNIQUE (server_id, name)
);

INSERT INTO auth_server_policies (id, server_id, name, description, status, priority, clients, created, last_updated)
    SELECT '00p' || id, id, 'Default Policy', 'Which clients may get tokens from this authorization server.',
           'ACTIVE', 1, policy_clients, created, last_updated FROM auth_servers;
INSERT INTO auth_server_policy_rules (id, server_id, policy_id, name, status, priority, grant_types, scopes,
                                      token_lifetime_minutes, created, last_updated)
    SELECT '0pr' || id, id, '00p' || id, 'Default Policy Rule', 'ACTIVE', 1, '["client_credentials"]', '["*"]',
           access_token_lifetime / 60, created, last_updated FROM auth_servers;

-- Nodes cache these with their server: a change anywhere reloads the servers on every node (0002).
CREATE TRIGGER auth_server_policies_notify AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON auth_server_policies
    FOR EACH STATEMENT EXECUTE FUNCTION tollgate_notify_change();
CREATE TRIGGER auth_server_policy_rules_notify AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON auth_server_policy_rules
    FOR EACH STATEMENT EXECUTE FUNCTION tollgate_notify_change();
CREATE TRIGGER auth_server_claims_notify AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON auth_server_claims
    FOR EACH STATEMENT EXECUTE FUNCTION tollgate_notify_change();
