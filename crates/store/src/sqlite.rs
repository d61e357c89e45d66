//! The embedded default backend: one SQLite file in WAL mode.
//!
//! WAL lets readers run beside the single writer; `synchronous = NORMAL` keeps commits durable across a
//! process crash (the WAL is fsynced at checkpoints) while not fsyncing every `jti` insert.
use crate::{
    ApiToken, App, AppChild, AppKey, AppSecret, AuthServer, ClientRecord, Grant, Result, Scope, SigningKey, Store,
    StoreError, User,
};
use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePoolOptions, SqliteSynchronous};
use sqlx::{Row, SqlitePool};
use std::str::FromStr;
use std::time::Duration;

static MIGRATOR: sqlx::migrate::Migrator = sqlx::migrate!("./migrations/sqlite");

/// The SQLite store: one pool of connections to a WAL-mode file.
///
/// Measured, not guessed: sending every write through a single-connection pool (so writers queue in sqlx
/// rather than in SQLite's busy handler) halved token-endpoint throughput (619 vs 1189 tokens/s at 32
/// connections), because each `jti` insert then waits for one connection thread. Concurrent connections
/// with WAL and a busy timeout are faster here.
#[derive(Debug, Clone)]
pub struct SqliteStore {
    pool: SqlitePool,
}

impl SqliteStore {
    /// Opens (creating if missing) and migrates the database at `url` (`sqlite://path`, `sqlite::memory:`).
    pub async fn open(url: &str) -> Result<Self> {
        let options = SqliteConnectOptions::from_str(url)?
            .create_if_missing(true)
            .journal_mode(SqliteJournalMode::Wal)
            .synchronous(SqliteSynchronous::Normal)
            .foreign_keys(true)
            .busy_timeout(Duration::from_secs(5));
        let in_memory = url.contains(":memory:");
        let pool = SqlitePoolOptions::new()
            // An in-memory database exists per connection: keep exactly one.
            .max_connections(if in_memory { 1 } else { 8 })
            .min_connections(1)
            .connect_with(options)
            .await?;
        MIGRATOR.run(&pool).await?;
        Ok(SqliteStore { pool })
    }
}

fn json_vec(text: &str) -> Result<Vec<String>> {
    Ok(serde_json::from_str(text)?)
}

fn json_map(text: &str) -> Result<serde_json::Map<String, serde_json::Value>> {
    Ok(serde_json::from_str(text)?)
}

fn auth_server_from_row(row: &sqlx::sqlite::SqliteRow) -> Result<AuthServer> {
    Ok(AuthServer {
        id: row.try_get("id")?,
        name: row.try_get("name")?,
        description: row.try_get("description")?,
        audiences: json_vec(row.try_get("audiences")?)?,
        access_token_lifetime: row.try_get("access_token_lifetime")?,
        policy_clients: json_vec(row.try_get("policy_clients")?)?,
        status: row.try_get("status")?,
        created: row.try_get("created")?,
        last_updated: row.try_get("last_updated")?,
    })
}

fn app_from_row(row: &sqlx::sqlite::SqliteRow) -> Result<App> {
    Ok(App {
        id: row.try_get("id")?,
        client_id: row.try_get("client_id")?,
        name: row.try_get("name")?,
        status: row.try_get("status")?,
        application_type: row.try_get("application_type")?,
        auth_method: row.try_get("auth_method")?,
        grant_types: json_vec(row.try_get("grant_types")?)?,
        jwks_uri: row.try_get("jwks_uri")?,
        dpop_bound: row.try_get("dpop_bound")?,
        extra: json_map(row.try_get("extra")?)?,
        created: row.try_get("created")?,
        last_updated: row.try_get("last_updated")?,
    })
}

fn user_from_row(row: &sqlx::sqlite::SqliteRow) -> Result<User> {
    Ok(User {
        id: row.try_get("id")?,
        login: row.try_get("login")?,
        status: row.try_get("status")?,
        profile: json_map(row.try_get("profile")?)?,
        created: row.try_get("created")?,
        activated: row.try_get("activated")?,
        status_changed: row.try_get("status_changed")?,
        last_login: row.try_get("last_login")?,
        last_updated: row.try_get("last_updated")?,
        password_changed: row.try_get("password_changed")?,
    })
}

const APP_COLUMNS: &str = "id, client_id, name, status, application_type, auth_method, grant_types, \
                           jwks_uri, dpop_bound, extra, created, last_updated";

async fn insert_app_key<'e, E: sqlx::SqliteExecutor<'e>>(exec: E, key: &AppKey) -> Result<()> {
    sqlx::query(
        "INSERT INTO app_keys (id, app_id, kid, status, jwk, created, last_updated) \
         VALUES ($1, $2, $3, $4, $5, $6, $7)",
    )
    .bind(&key.id)
    .bind(&key.app_id)
    .bind(&key.kid)
    .bind(&key.status)
    .bind(&key.jwk)
    .bind(key.created)
    .bind(key.last_updated)
    .execute(exec)
    .await?;
    Ok(())
}

async fn insert_app_secret<'e, E: sqlx::SqliteExecutor<'e>>(exec: E, s: &AppSecret) -> Result<()> {
    sqlx::query(
        "INSERT INTO app_secrets (id, app_id, secret_hash, status, created, last_updated) \
         VALUES ($1, $2, $3, $4, $5, $6)",
    )
    .bind(&s.id)
    .bind(&s.app_id)
    .bind(&s.secret_hash)
    .bind(&s.status)
    .bind(s.created)
    .bind(s.last_updated)
    .execute(exec)
    .await?;
    Ok(())
}

#[async_trait::async_trait]
impl Store for SqliteStore {
    async fn ping(&self) -> Result<()> {
        sqlx::query("SELECT 1").execute(&self.pool).await?;
        Ok(())
    }

    async fn setting(&self, key: &str) -> Result<Option<String>> {
        Ok(sqlx::query_scalar("SELECT value FROM settings WHERE key = $1").bind(key).fetch_optional(&self.pool).await?)
    }

    async fn setting_init(&self, key: &str, value: &str) -> Result<String> {
        sqlx::query("INSERT INTO settings (key, value) VALUES ($1, $2) ON CONFLICT (key) DO NOTHING")
            .bind(key)
            .bind(value)
            .execute(&self.pool)
            .await?;
        self.setting(key).await?.ok_or_else(|| StoreError::Corrupt(format!("setting {key} vanished")))
    }

    async fn set_setting(&self, key: &str, value: &str) -> Result<()> {
        sqlx::query(
            "INSERT INTO settings (key, value) VALUES ($1, $2) ON CONFLICT (key) DO UPDATE SET value = excluded.value",
        )
        .bind(key)
        .bind(value)
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    async fn insert_auth_server(&self, s: &AuthServer) -> Result<()> {
        sqlx::query(
            "INSERT INTO auth_servers (id, name, description, audiences, access_token_lifetime, \
             policy_clients, status, created, last_updated) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)",
        )
        .bind(&s.id)
        .bind(&s.name)
        .bind(&s.description)
        .bind(serde_json::to_string(&s.audiences)?)
        .bind(s.access_token_lifetime)
        .bind(serde_json::to_string(&s.policy_clients)?)
        .bind(&s.status)
        .bind(s.created)
        .bind(s.last_updated)
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    async fn auth_server(&self, id: &str) -> Result<Option<AuthServer>> {
        let row = sqlx::query("SELECT * FROM auth_servers WHERE id = $1").bind(id).fetch_optional(&self.pool).await?;
        row.as_ref().map(auth_server_from_row).transpose()
    }

    async fn auth_servers(&self) -> Result<Vec<AuthServer>> {
        let rows = sqlx::query("SELECT * FROM auth_servers ORDER BY created, id").fetch_all(&self.pool).await?;
        rows.iter().map(auth_server_from_row).collect()
    }

    async fn update_auth_server(&self, s: &AuthServer) -> Result<()> {
        sqlx::query(
            "UPDATE auth_servers SET name = $1, description = $2, audiences = $3, \
             access_token_lifetime = $4, policy_clients = $5, status = $6, last_updated = $7 WHERE id = $8",
        )
        .bind(&s.name)
        .bind(&s.description)
        .bind(serde_json::to_string(&s.audiences)?)
        .bind(s.access_token_lifetime)
        .bind(serde_json::to_string(&s.policy_clients)?)
        .bind(&s.status)
        .bind(s.last_updated)
        .bind(&s.id)
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    async fn delete_auth_server(&self, id: &str) -> Result<bool> {
        let mut tx = self.pool.begin().await?;
        sqlx::query("DELETE FROM signing_keys WHERE server_id = $1").bind(id).execute(&mut *tx).await?;
        let done = sqlx::query("DELETE FROM auth_servers WHERE id = $1").bind(id).execute(&mut *tx).await?;
        tx.commit().await?;
        Ok(done.rows_affected() > 0)
    }

    async fn insert_scope(&self, s: &Scope) -> Result<()> {
        sqlx::query(
            "INSERT INTO scopes (id, server_id, name, description, is_default, created, last_updated) \
             VALUES ($1, $2, $3, $4, $5, $6, $7)",
        )
        .bind(&s.id)
        .bind(&s.server_id)
        .bind(&s.name)
        .bind(&s.description)
        .bind(s.is_default)
        .bind(s.created)
        .bind(s.last_updated)
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    async fn scopes(&self, server_id: &str) -> Result<Vec<Scope>> {
        Ok(sqlx::query_as("SELECT * FROM scopes WHERE server_id = $1 ORDER BY name")
            .bind(server_id)
            .fetch_all(&self.pool)
            .await?)
    }

    async fn delete_scope(&self, server_id: &str, scope_id: &str) -> Result<bool> {
        let done = sqlx::query("DELETE FROM scopes WHERE server_id = $1 AND id = $2")
            .bind(server_id)
            .bind(scope_id)
            .execute(&self.pool)
            .await?;
        Ok(done.rows_affected() > 0)
    }

    async fn signing_keys(&self, server_id: &str) -> Result<Vec<SigningKey>> {
        Ok(sqlx::query_as("SELECT * FROM signing_keys WHERE server_id = $1 ORDER BY created, kid")
            .bind(server_id)
            .fetch_all(&self.pool)
            .await?)
    }

    async fn insert_signing_key(&self, k: &SigningKey) -> Result<()> {
        insert_signing_key(&self.pool, k).await
    }

    async fn rotate_signing_keys(
        &self,
        updates: &[SigningKey],
        new_keys: &[SigningKey],
        delete_kids: &[String],
    ) -> Result<()> {
        let mut tx = self.pool.begin().await?;
        for k in updates {
            sqlx::query("UPDATE signing_keys SET status = $1, activated = $2, retire_at = $3 WHERE kid = $4")
                .bind(&k.status)
                .bind(k.activated)
                .bind(k.retire_at)
                .bind(&k.kid)
                .execute(&mut *tx)
                .await?;
        }
        for k in new_keys {
            insert_signing_key(&mut *tx, k).await?;
        }
        for kid in delete_kids {
            sqlx::query("DELETE FROM signing_keys WHERE kid = $1").bind(kid).execute(&mut *tx).await?;
        }
        tx.commit().await?;
        Ok(())
    }

    async fn insert_app(&self, app: &App, keys: &[AppKey], secrets: &[AppSecret]) -> Result<()> {
        let mut tx = self.pool.begin().await?;
        sqlx::query(
            "INSERT INTO apps (id, client_id, name, status, application_type, auth_method, grant_types, \
             jwks_uri, dpop_bound, extra, created, last_updated) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)",
        )
        .bind(&app.id)
        .bind(&app.client_id)
        .bind(&app.name)
        .bind(&app.status)
        .bind(&app.application_type)
        .bind(&app.auth_method)
        .bind(serde_json::to_string(&app.grant_types)?)
        .bind(&app.jwks_uri)
        .bind(app.dpop_bound)
        .bind(serde_json::to_string(&app.extra)?)
        .bind(app.created)
        .bind(app.last_updated)
        .execute(&mut *tx)
        .await?;
        for key in keys {
            insert_app_key(&mut *tx, key).await?;
        }
        for s in secrets {
            insert_app_secret(&mut *tx, s).await?;
        }
        tx.commit().await?;
        Ok(())
    }

    async fn app(&self, id: &str) -> Result<Option<App>> {
        let sql = format!("SELECT {APP_COLUMNS} FROM apps WHERE id = $1");
        let row = sqlx::query(sqlx::AssertSqlSafe(sql)).bind(id).fetch_optional(&self.pool).await?;
        row.as_ref().map(app_from_row).transpose()
    }

    async fn app_by_client_id(&self, client_id: &str) -> Result<Option<App>> {
        let sql = format!("SELECT {APP_COLUMNS} FROM apps WHERE client_id = $1");
        let row = sqlx::query(sqlx::AssertSqlSafe(sql)).bind(client_id).fetch_optional(&self.pool).await?;
        row.as_ref().map(app_from_row).transpose()
    }

    async fn apps(&self, after: Option<&str>, limit: u32) -> Result<Vec<App>> {
        let sql = format!("SELECT {APP_COLUMNS} FROM apps WHERE id > $1 ORDER BY id LIMIT $2");
        let rows = sqlx::query(sqlx::AssertSqlSafe(sql))
            .bind(after.unwrap_or(""))
            .bind(i64::from(limit))
            .fetch_all(&self.pool)
            .await?;
        rows.iter().map(app_from_row).collect()
    }

    async fn update_app(&self, app: &App) -> Result<()> {
        sqlx::query(
            "UPDATE apps SET name = $1, status = $2, auth_method = $3, grant_types = $4, jwks_uri = $5, \
             dpop_bound = $6, extra = $7, last_updated = $8 WHERE id = $9",
        )
        .bind(&app.name)
        .bind(&app.status)
        .bind(&app.auth_method)
        .bind(serde_json::to_string(&app.grant_types)?)
        .bind(&app.jwks_uri)
        .bind(app.dpop_bound)
        .bind(serde_json::to_string(&app.extra)?)
        .bind(app.last_updated)
        .bind(&app.id)
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    async fn replace_app_keys(&self, app_id: &str, keys: &[AppKey]) -> Result<()> {
        let mut tx = self.pool.begin().await?;
        sqlx::query("DELETE FROM app_keys WHERE app_id = $1").bind(app_id).execute(&mut *tx).await?;
        for key in keys {
            insert_app_key(&mut *tx, key).await?;
        }
        tx.commit().await?;
        Ok(())
    }

    async fn delete_app(&self, id: &str) -> Result<bool> {
        let done = sqlx::query("DELETE FROM apps WHERE id = $1").bind(id).execute(&self.pool).await?;
        Ok(done.rows_affected() > 0)
    }

    async fn app_keys(&self, app_id: &str) -> Result<Vec<AppKey>> {
        Ok(sqlx::query_as("SELECT * FROM app_keys WHERE app_id = $1 ORDER BY created, id")
            .bind(app_id)
            .fetch_all(&self.pool)
            .await?)
    }

    async fn app_secrets(&self, app_id: &str) -> Result<Vec<AppSecret>> {
        Ok(sqlx::query_as("SELECT * FROM app_secrets WHERE app_id = $1 ORDER BY created, id")
            .bind(app_id)
            .fetch_all(&self.pool)
            .await?)
    }

    async fn client_snapshot(&self) -> Result<Vec<ClientRecord>> {
        let sql = format!("SELECT {APP_COLUMNS} FROM apps ORDER BY id");
        let apps: Vec<App> = sqlx::query(sqlx::AssertSqlSafe(sql))
            .fetch_all(&self.pool)
            .await?
            .iter()
            .map(app_from_row)
            .collect::<Result<_>>()?;
        let mut keys: Vec<AppKey> =
            sqlx::query_as("SELECT * FROM app_keys ORDER BY created, id").fetch_all(&self.pool).await?;
        let mut secrets: Vec<AppSecret> =
            sqlx::query_as("SELECT * FROM app_secrets ORDER BY created, id").fetch_all(&self.pool).await?;
        let mut grants: Vec<Grant> =
            sqlx::query_as("SELECT * FROM grants ORDER BY created, id").fetch_all(&self.pool).await?;
        let mut by_app: std::collections::HashMap<String, ClientRecord> = apps
            .into_iter()
            .map(|app| {
                (app.id.clone(), ClientRecord { app, keys: Vec::new(), secrets: Vec::new(), grants: Vec::new() })
            })
            .collect();
        for k in keys.drain(..) {
            if let Some(r) = by_app.get_mut(&k.app_id) {
                r.keys.push(k);
            }
        }
        for s in secrets.drain(..) {
            if let Some(r) = by_app.get_mut(&s.app_id) {
                r.secrets.push(s);
            }
        }
        for g in grants.drain(..) {
            if let Some(r) = by_app.get_mut(&g.app_id) {
                r.grants.push(g);
            }
        }
        Ok(by_app.into_values().collect())
    }

    async fn client_record(&self, client_id: &str) -> Result<Option<ClientRecord>> {
        let Some(app) = self.app_by_client_id(client_id).await? else {
            return Ok(None);
        };
        let keys = self.app_keys(&app.id).await?;
        let secrets = self.app_secrets(&app.id).await?;
        let grants = self.grants(&app.id).await?;
        Ok(Some(ClientRecord { app, keys, secrets, grants }))
    }

    async fn insert_grant(&self, g: &Grant) -> Result<()> {
        sqlx::query(
            "INSERT INTO grants (id, app_id, scope_id, issuer, status, source, created, last_updated) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
        )
        .bind(&g.id)
        .bind(&g.app_id)
        .bind(&g.scope_id)
        .bind(&g.issuer)
        .bind(&g.status)
        .bind(&g.source)
        .bind(g.created)
        .bind(g.last_updated)
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    async fn grants(&self, app_id: &str) -> Result<Vec<Grant>> {
        Ok(sqlx::query_as("SELECT * FROM grants WHERE app_id = $1 ORDER BY created, id")
            .bind(app_id)
            .fetch_all(&self.pool)
            .await?)
    }

    async fn grant(&self, app_id: &str, grant_id: &str) -> Result<Option<Grant>> {
        Ok(sqlx::query_as("SELECT * FROM grants WHERE app_id = $1 AND id = $2")
            .bind(app_id)
            .bind(grant_id)
            .fetch_optional(&self.pool)
            .await?)
    }

    async fn delete_grant(&self, app_id: &str, grant_id: &str) -> Result<bool> {
        let done = sqlx::query("DELETE FROM grants WHERE app_id = $1 AND id = $2")
            .bind(app_id)
            .bind(grant_id)
            .execute(&self.pool)
            .await?;
        Ok(done.rows_affected() > 0)
    }

    async fn insert_api_token(&self, t: &ApiToken) -> Result<()> {
        sqlx::query("INSERT INTO api_tokens (id, name, token_hash, created) VALUES ($1, $2, $3, $4)")
            .bind(&t.id)
            .bind(&t.name)
            .bind(&t.token_hash)
            .bind(t.created)
            .execute(&self.pool)
            .await?;
        Ok(())
    }

    async fn api_token_by_hash(&self, hash: &[u8]) -> Result<Option<ApiToken>> {
        Ok(sqlx::query_as("SELECT * FROM api_tokens WHERE token_hash = $1")
            .bind(hash)
            .fetch_optional(&self.pool)
            .await?)
    }

    async fn api_token_count(&self) -> Result<u64> {
        let n: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM api_tokens").fetch_one(&self.pool).await?;
        Ok(u64::try_from(n).unwrap_or(0))
    }

    async fn insert_user(&self, u: &User) -> Result<()> {
        sqlx::query(
            "INSERT INTO users (id, login, status, profile, created, activated, status_changed, last_login, \
             last_updated, password_changed) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)",
        )
        .bind(&u.id)
        .bind(&u.login)
        .bind(&u.status)
        .bind(serde_json::to_string(&u.profile)?)
        .bind(u.created)
        .bind(u.activated)
        .bind(u.status_changed)
        .bind(u.last_login)
        .bind(u.last_updated)
        .bind(u.password_changed)
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    async fn user(&self, id_or_login: &str) -> Result<Option<User>> {
        let row = sqlx::query("SELECT * FROM users WHERE id = $1 OR login = $1")
            .bind(id_or_login)
            .fetch_optional(&self.pool)
            .await?;
        row.as_ref().map(user_from_row).transpose()
    }

    async fn users(&self, after: Option<&str>, limit: u32) -> Result<Vec<User>> {
        let rows = sqlx::query("SELECT * FROM users WHERE id > $1 ORDER BY id LIMIT $2")
            .bind(after.unwrap_or(""))
            .bind(i64::from(limit))
            .fetch_all(&self.pool)
            .await?;
        rows.iter().map(user_from_row).collect()
    }

    async fn save_app(&self, app: &App, keys: Option<&[AppKey]>, secrets: Option<&[AppSecret]>) -> Result<()> {
        let mut tx = self.pool.begin().await?;
        sqlx::query(
            "UPDATE apps SET name = $1, status = $2, auth_method = $3, grant_types = $4, jwks_uri = $5, \
             dpop_bound = $6, extra = $7, last_updated = $8 WHERE id = $9",
        )
        .bind(&app.name)
        .bind(&app.status)
        .bind(&app.auth_method)
        .bind(serde_json::to_string(&app.grant_types)?)
        .bind(&app.jwks_uri)
        .bind(app.dpop_bound)
        .bind(serde_json::to_string(&app.extra)?)
        .bind(app.last_updated)
        .bind(&app.id)
        .execute(&mut *tx)
        .await?;
        if let Some(keys) = keys {
            sqlx::query("DELETE FROM app_keys WHERE app_id = $1").bind(&app.id).execute(&mut *tx).await?;
            for key in keys {
                insert_app_key(&mut *tx, key).await?;
            }
        }
        if let Some(secrets) = secrets {
            sqlx::query("DELETE FROM app_secrets WHERE app_id = $1").bind(&app.id).execute(&mut *tx).await?;
            for s in secrets {
                insert_app_secret(&mut *tx, s).await?;
            }
        }
        tx.commit().await?;
        Ok(())
    }

    async fn insert_app_key(&self, key: &AppKey) -> Result<()> {
        insert_app_key(&self.pool, key).await
    }

    async fn set_app_key_status(&self, app_id: &str, key_id: &str, status: &str, now: i64) -> Result<bool> {
        set_child_status(&self.pool, AppChild::Keys, app_id, key_id, status, now).await
    }

    async fn delete_app_key(&self, app_id: &str, key_id: &str) -> Result<bool> {
        delete_child(&self.pool, AppChild::Keys, app_id, key_id).await
    }

    async fn insert_app_secret(&self, secret: &AppSecret) -> Result<()> {
        insert_app_secret(&self.pool, secret).await
    }

    async fn set_app_secret_status(&self, app_id: &str, secret_id: &str, status: &str, now: i64) -> Result<bool> {
        set_child_status(&self.pool, AppChild::Secrets, app_id, secret_id, status, now).await
    }

    async fn delete_app_secret(&self, app_id: &str, secret_id: &str) -> Result<bool> {
        delete_child(&self.pool, AppChild::Secrets, app_id, secret_id).await
    }

    async fn api_tokens(&self) -> Result<Vec<ApiToken>> {
        Ok(sqlx::query_as("SELECT * FROM api_tokens ORDER BY created, id").fetch_all(&self.pool).await?)
    }

    async fn delete_api_token(&self, id: &str) -> Result<bool> {
        let done = sqlx::query("DELETE FROM api_tokens WHERE id = $1").bind(id).execute(&self.pool).await?;
        Ok(done.rows_affected() > 0)
    }

    async fn update_user(&self, u: &User) -> Result<()> {
        sqlx::query(
            "UPDATE users SET login = $1, status = $2, profile = $3, activated = $4, status_changed = $5, \
             last_login = $6, last_updated = $7, password_changed = $8 WHERE id = $9",
        )
        .bind(&u.login)
        .bind(&u.status)
        .bind(serde_json::to_string(&u.profile)?)
        .bind(u.activated)
        .bind(u.status_changed)
        .bind(u.last_login)
        .bind(u.last_updated)
        .bind(u.password_changed)
        .bind(&u.id)
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    async fn delete_user(&self, id: &str) -> Result<bool> {
        let done = sqlx::query("DELETE FROM users WHERE id = $1").bind(id).execute(&self.pool).await?;
        Ok(done.rows_affected() > 0)
    }

    async fn use_jti(&self, client_id: &str, jti: &str, expires: i64) -> Result<bool> {
        let done = sqlx::query(
            "INSERT INTO used_jti (client_id, jti, expires) VALUES ($1, $2, $3) \
             ON CONFLICT (client_id, jti) DO NOTHING",
        )
        .bind(client_id)
        .bind(jti)
        .bind(expires)
        .execute(&self.pool)
        .await?;
        Ok(done.rows_affected() == 1)
    }

    async fn use_jti_pair(&self, first: (&str, &str, i64), second: (&str, &str, i64)) -> Result<(bool, bool)> {
        let inserted: Vec<(String, String)> = sqlx::query_as(
            "INSERT INTO used_jti (client_id, jti, expires) VALUES ($1, $2, $3), ($4, $5, $6) \
             ON CONFLICT (client_id, jti) DO NOTHING RETURNING client_id, jti",
        )
        .bind(first.0)
        .bind(first.1)
        .bind(first.2)
        .bind(second.0)
        .bind(second.1)
        .bind(second.2)
        .fetch_all(&self.pool)
        .await?;
        let fresh = |(client_id, jti, _): (&str, &str, i64)| inserted.iter().any(|(c, j)| c == client_id && j == jti);
        Ok((fresh(first), fresh(second)))
    }

    async fn revoke_token(&self, jti: &str, expires: i64) -> Result<()> {
        sqlx::query("INSERT INTO revoked_tokens (jti, expires) VALUES ($1, $2) ON CONFLICT (jti) DO NOTHING")
            .bind(jti)
            .bind(expires)
            .execute(&self.pool)
            .await?;
        Ok(())
    }

    async fn is_revoked(&self, jti: &str) -> Result<bool> {
        let found: Option<i64> = sqlx::query_scalar("SELECT 1 FROM revoked_tokens WHERE jti = $1")
            .bind(jti)
            .fetch_optional(&self.pool)
            .await?;
        Ok(found.is_some())
    }

    async fn prune_expired(&self, now: i64) -> Result<u64> {
        let a = sqlx::query("DELETE FROM used_jti WHERE expires < $1").bind(now).execute(&self.pool).await?;
        let b = sqlx::query("DELETE FROM revoked_tokens WHERE expires < $1").bind(now).execute(&self.pool).await?;
        Ok(a.rows_affected() + b.rows_affected())
    }

    async fn all_signing_keys(&self) -> Result<Vec<SigningKey>> {
        Ok(sqlx::query_as("SELECT * FROM signing_keys ORDER BY server_id, created, kid").fetch_all(&self.pool).await?)
    }

    async fn replace_signing_key_material(&self, kid: &str, expected: &[u8], sealed: &[u8]) -> Result<bool> {
        let done = sqlx::query("UPDATE signing_keys SET private_key = $1 WHERE kid = $2 AND private_key = $3")
            .bind(sealed)
            .bind(kid)
            .bind(expected)
            .execute(&self.pool)
            .await?;
        Ok(done.rows_affected() > 0)
    }
}

async fn insert_signing_key<'e, E: sqlx::SqliteExecutor<'e>>(exec: E, k: &SigningKey) -> Result<()> {
    sqlx::query(
        "INSERT INTO signing_keys (kid, server_id, status, private_key, created, activated, retire_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7)",
    )
    .bind(&k.kid)
    .bind(&k.server_id)
    .bind(&k.status)
    .bind(&k.private_key)
    .bind(k.created)
    .bind(k.activated)
    .bind(k.retire_at)
    .execute(exec)
    .await?;
    Ok(())
}

/// Sets one child row's status; `false` when the app has no such row.
async fn set_child_status(
    pool: &SqlitePool,
    child: AppChild,
    app_id: &str,
    id: &str,
    status: &str,
    now: i64,
) -> Result<bool> {
    // The table name comes from a closed enum, never from input.
    let sql = format!("UPDATE {} SET status = $1, last_updated = $2 WHERE app_id = $3 AND id = $4", child.table());
    let done = sqlx::query(sqlx::AssertSqlSafe(sql)).bind(status).bind(now).bind(app_id).bind(id).execute(pool).await?;
    Ok(done.rows_affected() > 0)
}

/// Deletes one child row; `false` when the app has no such row.
async fn delete_child(pool: &SqlitePool, child: AppChild, app_id: &str, id: &str) -> Result<bool> {
    let sql = format!("DELETE FROM {} WHERE app_id = $1 AND id = $2", child.table());
    let done = sqlx::query(sqlx::AssertSqlSafe(sql)).bind(app_id).bind(id).execute(pool).await?;
    Ok(done.rows_affected() > 0)
}
