-- Workload identity federation (issue 19): an app trusts tokens of an external issuer (GitHub Actions,
-- Kubernetes, SPIFFE, ...) whose subject, audience and claims match one of these rows, instead of a key
-- or secret of its own. `audiences` and `claims` are JSON text (an array; an object claim -> pattern).
CREATE TABLE federated_credentials (
    id            TEXT PRIMARY KEY,
    app_id        TEXT NOT NULL REFERENCES apps(id) ON DELETE CASCADE,
    name          TEXT NOT NULL,
    issuer        TEXT NOT NULL,
    subject       TEXT NOT NULL,
    audiences     TEXT NOT NULL,
    claims        TEXT NOT NULL,
    jwks_uri      TEXT,
    max_token_age BIGINT NOT NULL,
    status        TEXT NOT NULL,
    created       BIGINT NOT NULL,
    last_updated  BIGINT NOT NULL
);
CREATE INDEX federated_credentials_app ON federated_credentials (app_id);

-- Part of the client cache (the token endpoint reads them from memory): other nodes reload it on change.
CREATE TRIGGER federated_credentials_notify AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON federated_credentials
    FOR EACH STATEMENT EXECUTE FUNCTION tollgate_notify_change();
