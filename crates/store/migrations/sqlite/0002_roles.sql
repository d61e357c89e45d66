-- Admin roles (issue 14). Every API token carries a role; tokens made before roles existed could do
-- everything, so they keep that as SUPER_ADMIN.
ALTER TABLE api_tokens ADD COLUMN role TEXT NOT NULL DEFAULT 'SUPER_ADMIN';

-- Okta's standard admin roles assigned to service apps (`/oauth2/v1/clients/{clientId}/roles`).
CREATE TABLE app_roles (
    id           TEXT PRIMARY KEY,
    app_id       TEXT NOT NULL REFERENCES apps(id) ON DELETE CASCADE,
    role_type    TEXT NOT NULL,      -- SUPER_ADMIN | ORG_ADMIN | APP_ADMIN | ...
    status       TEXT NOT NULL,
    created      INTEGER NOT NULL,
    last_updated INTEGER NOT NULL,
    UNIQUE (app_id, role_type)
);
CREATE INDEX app_roles_app ON app_roles (app_id);
