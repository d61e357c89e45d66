-- Cross-node cache invalidation: every committed change to what nodes cache (clients, grants, custom
-- servers, signing keys) sends a NOTIFY on channel `tollgate_changes` whose payload is the table name.
-- PostgreSQL delivers it at commit, once per distinct payload per transaction, so a rolled-back change
-- notifies nobody. Statement-level triggers: one notification per statement, not per row. The hot tables
-- (used_jti, revoked_tokens) have none: the token endpoint's write stays a plain insert.
CREATE FUNCTION tollgate_notify_change() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM pg_notify('tollgate_changes', TG_TABLE_NAME);
    RETURN NULL;
END
$$;

CREATE TRIGGER apps_notify AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON apps
    FOR EACH STATEMENT EXECUTE FUNCTION tollgate_notify_change();
CREATE TRIGGER app_keys_notify AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON app_keys
    FOR EACH STATEMENT EXECUTE FUNCTION tollgate_notify_change();
CREATE TRIGGER app_secrets_notify AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON app_secrets
    FOR EACH STATEMENT EXECUTE FUNCTION tollgate_notify_change();
CREATE TRIGGER grants_notify AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON grants
    FOR EACH STATEMENT EXECUTE FUNCTION tollgate_notify_change();
CREATE TRIGGER auth_servers_notify AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON auth_servers
    FOR EACH STATEMENT EXECUTE FUNCTION tollgate_notify_change();
CREATE TRIGGER scopes_notify AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON scopes
    FOR EACH STATEMENT EXECUTE FUNCTION tollgate_notify_change();
CREATE TRIGGER signing_keys_notify AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON signing_keys
    FOR EACH STATEMENT EXECUTE FUNCTION tollgate_notify_change();
