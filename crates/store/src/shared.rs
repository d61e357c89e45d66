//! The [`Store`](crate::Store) methods whose SQL and semantics are the same on every backend, written once.
//!
//! Both schemas have the same tables and columns and sqlx accepts `$1` placeholders on both engines, so the
//! statements are byte-identical; what differs is the sqlx database type the code is compiled against.
//! [`store_impl!`] is a `macro_rules!` that emits, for one backend, the shared helper functions and the
//! whole `#[async_trait] impl Store` block (async_trait must see every method, so the macro cannot be
//! invoked inside an impl), with the backend's own methods pasted in after the shared ones.
//!
//! Why a macro and not a generic `impl<DB: sqlx::Database>`: each statement would need its own bounds
//! (`for<'q> String: Encode<'q, DB>`, `for<'c> &'c mut DB::Connection: Executor<'c>`, `FromRow` per model,
//! `usize: ColumnIndex<DB::Row>`, ...), dozens of higher-ranked bounds that hide the SQL and give
//! unreadable errors. `sqlx::Any` would lose PostgreSQL's types (BYTEA, BOOLEAN) and the listener. Expanded
//! per backend, the code is plain concrete sqlx, type-checked against each engine.
//!
//! Each backend module provides, next to its invocation, the few things the engines really do differently:
//! `begin_write` (a transaction that reads, then writes on what it read), `begin_snapshot` (one
//! consistent read of several tables), `lock_rotation` (PostgreSQL's advisory lock), and the row-lock
//! suffix passed as `row_lock` (`FOR UPDATE` on PostgreSQL; SQLite's one writer needs none).

/// Decodes a JSON array column.
pub(crate) fn json_vec(text: &str) -> crate::Result<Vec<String>> {
    Ok(serde_json::from_str(text)?)
}

/// Decodes a JSON object column.
pub(crate) fn json_map(text: &str) -> crate::Result<serde_json::Map<String, serde_json::Value>> {
    Ok(serde_json::from_str(text)?)
}

/// The columns of `apps`, in the order [`store_impl!`]'s `app_from_row` reads them.
pub(crate) const APP_COLUMNS: &str = "id, client_id, name, status, application_type, auth_method, grant_types, \
                                      jwks_uri, dpop_bound, extra, created, last_updated, token_generation";

/// Groups the child rows of a snapshot under their apps.
pub(crate) fn assemble(
    apps: Vec<crate::App>,
    keys: Vec<crate::AppKey>,
    secrets: Vec<crate::AppSecret>,
    grants: Vec<crate::Grant>,
    roles: Vec<crate::RoleAssignment>,
    federated: Vec<crate::FederatedCredential>,
) -> Vec<crate::ClientRecord> {
    let mut by_app: std::collections::HashMap<String, crate::ClientRecord> = apps
        .into_iter()
        .map(|app| {
            let record = crate::ClientRecord {
                app,
                keys: Vec::new(),
                secrets: Vec::new(),
                grants: Vec::new(),
                roles: Vec::new(),
                federated: Vec::new(),
            };
            (record.app.id.clone(), record)
        })
        .collect();
    for k in keys {
        if let Some(r) = by_app.get_mut(&k.app_id) {
            r.keys.push(k);
        }
    }
    for s in secrets {
        if let Some(r) = by_app.get_mut(&s.app_id) {
            r.secrets.push(s);
        }
    }
    for g in grants {
        if let Some(r) = by_app.get_mut(&g.app_id) {
            r.grants.push(g);
        }
    }
    for role in roles {
        if let Some(r) = by_app.get_mut(&role.app_id) {
            r.roles.push(role);
        }
    }
    for f in federated {
        if let Some(r) = by_app.get_mut(&f.app_id) {
            r.federated.push(f);
        }
    }
    by_app.into_values().collect()
}

/// Emits the shared helpers and `impl Store for $store` over the sqlx database `$db`; the backend's own
/// methods follow in `specific`. See the module documentation.
macro_rules! store_impl {
    (store: $store:ty, db: $db:ty, row_lock: $row_lock:literal, specific: { $($specific:tt)* }) => {
        use $crate::shared::{APP_COLUMNS, json_map, json_vec};
        use $crate::{
            AccessPolicy, AdminUser, ApiToken, App, AppChild, AppKey, AppSecret, AuthServer, Claim, ClientRecord, ConsoleSession, CredentialUse,
            FederatedCredential, Grant,
            PolicyRule, QuotaUsage, Result, RoleAssignment, Scope, SigningKey, Store, StoreError, User, key_status,
        };
        use sqlx::Row;

        type DbRow = <$db as sqlx::Database>::Row;
        type Tx = sqlx::Transaction<'static, $db>;

        fn auth_server_from_row(row: &DbRow) -> Result<AuthServer> {
            Ok(AuthServer {
                id: row.try_get("id")?,
                name: row.try_get("name")?,
                description: row.try_get("description")?,
                audiences: json_vec(row.try_get("audiences")?)?,
                access_token_lifetime: row.try_get("access_token_lifetime")?,
                status: row.try_get("status")?,
                rotation_mode: row.try_get("rotation_mode")?,
                created: row.try_get("created")?,
                last_updated: row.try_get("last_updated")?,
            })
        }

        fn app_from_row(row: &DbRow) -> Result<App> {
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
                token_generation: row.try_get("token_generation")?,
            })
        }

        fn federated_from_row(row: &DbRow) -> Result<FederatedCredential> {
            Ok(FederatedCredential {
                id: row.try_get("id")?,
                app_id: row.try_get("app_id")?,
                name: row.try_get("name")?,
                issuer: row.try_get("issuer")?,
                subject: row.try_get("subject")?,
                audiences: json_vec(row.try_get("audiences")?)?,
                claims: json_map(row.try_get("claims")?)?,
                jwks_uri: row.try_get("jwks_uri")?,
                max_token_age: row.try_get("max_token_age")?,
                status: row.try_get("status")?,
                created: row.try_get("created")?,
                last_updated: row.try_get("last_updated")?,
            })
        }

        async fn federated_where<'e, E: sqlx::Executor<'e, Database = $db>>(
            exec: E,
            condition: &str,
            binds: &[&str],
        ) -> Result<Vec<FederatedCredential>> {
            let sql = format!("SELECT * FROM federated_credentials {condition} ORDER BY created, id");
            let mut query = sqlx::query(sqlx::AssertSqlSafe(sql));
            for b in binds {
                query = query.bind(b.to_string());
            }
            query.fetch_all(exec).await?.iter().map(federated_from_row).collect()
        }

        fn user_from_row(row: &DbRow) -> Result<User> {
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

        fn policy_from_row(row: &DbRow) -> Result<AccessPolicy> {
            Ok(AccessPolicy {
                id: row.try_get("id")?,
                server_id: row.try_get("server_id")?,
                name: row.try_get("name")?,
                description: row.try_get("description")?,
                status: row.try_get("status")?,
                priority: row.try_get("priority")?,
                clients: json_vec(row.try_get("clients")?)?,
                created: row.try_get("created")?,
                last_updated: row.try_get("last_updated")?,
            })
        }

        fn rule_from_row(row: &DbRow) -> Result<PolicyRule> {
            Ok(PolicyRule {
                id: row.try_get("id")?,
                server_id: row.try_get("server_id")?,
                policy_id: row.try_get("policy_id")?,
                name: row.try_get("name")?,
                status: row.try_get("status")?,
                priority: row.try_get("priority")?,
                grant_types: json_vec(row.try_get("grant_types")?)?,
                scopes: json_vec(row.try_get("scopes")?)?,
                token_lifetime_minutes: row.try_get("token_lifetime_minutes")?,
                created: row.try_get("created")?,
                last_updated: row.try_get("last_updated")?,
            })
        }

        fn claim_from_row(row: &DbRow) -> Result<Claim> {
            Ok(Claim {
                id: row.try_get("id")?,
                server_id: row.try_get("server_id")?,
                name: row.try_get("name")?,
                status: row.try_get("status")?,
                claim_type: row.try_get("claim_type")?,
                value_type: row.try_get("value_type")?,
                value: row.try_get("value")?,
                scopes: json_vec(row.try_get("scopes")?)?,
                always_include: row.try_get("always_include")?,
                created: row.try_get("created")?,
                last_updated: row.try_get("last_updated")?,
            })
        }

        async fn upsert_policy<'e, E: sqlx::Executor<'e, Database = $db>>(exec: E, p: &AccessPolicy) -> Result<()> {
            sqlx::query(
                "INSERT INTO auth_server_policies (id, server_id, name, description, status, priority, clients, \
                 created, last_updated) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) ON CONFLICT (id) DO UPDATE SET \
                 name = excluded.name, description = excluded.description, status = excluded.status, \
                 priority = excluded.priority, clients = excluded.clients, last_updated = excluded.last_updated",
            )
            .bind(&p.id)
            .bind(&p.server_id)
            .bind(&p.name)
            .bind(&p.description)
            .bind(&p.status)
            .bind(p.priority)
            .bind(serde_json::to_string(&p.clients)?)
            .bind(p.created)
            .bind(p.last_updated)
            .execute(exec)
            .await?;
            Ok(())
        }

        async fn upsert_rule<'e, E: sqlx::Executor<'e, Database = $db>>(exec: E, r: &PolicyRule) -> Result<()> {
            sqlx::query(
                "INSERT INTO auth_server_policy_rules (id, server_id, policy_id, name, status, priority, grant_types, \
                 scopes, token_lifetime_minutes, created, last_updated) \
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11) ON CONFLICT (id) DO UPDATE SET \
                 name = excluded.name, status = excluded.status, priority = excluded.priority, \
                 grant_types = excluded.grant_types, scopes = excluded.scopes, \
                 token_lifetime_minutes = excluded.token_lifetime_minutes, last_updated = excluded.last_updated",
            )
            .bind(&r.id)
            .bind(&r.server_id)
            .bind(&r.policy_id)
            .bind(&r.name)
            .bind(&r.status)
            .bind(r.priority)
            .bind(serde_json::to_string(&r.grant_types)?)
            .bind(serde_json::to_string(&r.scopes)?)
            .bind(r.token_lifetime_minutes)
            .bind(r.created)
            .bind(r.last_updated)
            .execute(exec)
            .await?;
            Ok(())
        }

        /// Runs a statement; whether it touched a row.
        async fn affected<'e, E: sqlx::Executor<'e, Database = $db>>(
            exec: E,
            query: sqlx::query::Query<'e, $db, <$db as sqlx::Database>::Arguments>,
        ) -> Result<bool> {
            Ok(query.execute(exec).await?.rows_affected() > 0)
        }

        async fn apps_where<'e, E: sqlx::Executor<'e, Database = $db>>(
            exec: E,
            condition: &str,
            binds: &[&str],
        ) -> Result<Vec<App>> {
            let sql = format!("SELECT {APP_COLUMNS} FROM apps {condition}");
            let mut query = sqlx::query(sqlx::AssertSqlSafe(sql));
            for b in binds {
                query = query.bind(b.to_string());
            }
            query.fetch_all(exec).await?.iter().map(app_from_row).collect()
        }

        /// Writes an app's settings; leaving ACTIVE bumps `token_generation` in the same statement (the
        /// right-hand `status` is the stored one), so every token issued before is dead for good.
        async fn update_app_row<'e, E: sqlx::Executor<'e, Database = $db>>(exec: E, app: &App) -> Result<()> {
            sqlx::query(
                "UPDATE apps SET name = $1, status = $2, auth_method = $3, grant_types = $4, jwks_uri = $5, \
                 dpop_bound = $6, extra = $7, last_updated = $8, token_generation = CASE \
                 WHEN status = 'ACTIVE' AND $2 <> 'ACTIVE' THEN token_generation + 1 ELSE token_generation END \
                 WHERE id = $9",
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
            .execute(exec)
            .await?;
            Ok(())
        }

        async fn insert_app_key<'e, E: sqlx::Executor<'e, Database = $db>>(exec: E, key: &AppKey) -> Result<()> {
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

        async fn insert_app_secret<'e, E: sqlx::Executor<'e, Database = $db>>(exec: E, s: &AppSecret) -> Result<()> {
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

        /// Replaces an app's whole key set, inside `tx`.
        async fn replace_keys(tx: &mut Tx, app_id: &str, keys: &[AppKey]) -> Result<()> {
            sqlx::query("DELETE FROM app_keys WHERE app_id = $1").bind(app_id).execute(&mut **tx).await?;
            for key in keys {
                insert_app_key(&mut **tx, key).await?;
            }
            Ok(())
        }

        async fn insert_signing_key<'e, E: sqlx::Executor<'e, Database = $db>>(
            exec: E,
            k: &SigningKey,
        ) -> Result<()> {
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

        async fn apply_rotation(
            tx: &mut Tx,
            updates: &[SigningKey],
            new_keys: &[SigningKey],
            delete_kids: &[String],
        ) -> Result<()> {
            for k in updates {
                sqlx::query("UPDATE signing_keys SET status = $1, activated = $2, retire_at = $3 WHERE kid = $4")
                    .bind(&k.status)
                    .bind(k.activated)
                    .bind(k.retire_at)
                    .bind(&k.kid)
                    .execute(&mut **tx)
                    .await?;
            }
            for k in new_keys {
                insert_signing_key(&mut **tx, k).await?;
            }
            for kid in delete_kids {
                sqlx::query("DELETE FROM signing_keys WHERE kid = $1").bind(kid).execute(&mut **tx).await?;
            }
            Ok(())
        }

        /// Refuses one more child row for an app that has `max`. Inside a [`begin_write`] transaction, after
        /// the app row is locked (PostgreSQL; SQLite's `BEGIN IMMEDIATE` already holds the one write lock),
        /// so the count cannot change before the insert commits.
        async fn check_limit(mut tx: Tx, child: AppChild, app_id: &str, max: usize) -> Result<Tx> {
            let lock = sqlx::query(concat!("SELECT id FROM apps WHERE id = $1", $row_lock));
            lock.bind(app_id.to_string()).execute(&mut *tx).await?;
            let sql = format!("SELECT COUNT(*) FROM {} WHERE app_id = $1", child.table());
            let count = sqlx::query_scalar(sqlx::AssertSqlSafe(sql)).bind(app_id.to_string());
            let n: i64 = count.fetch_one(&mut *tx).await?;
            if usize::try_from(n).unwrap_or(usize::MAX) >= max {
                // Explicitly: a dropped transaction would keep the row lock until its connection is reused.
                tx.rollback().await?;
                return Err(StoreError::LimitReached { what: child, max });
            }
            Ok(tx)
        }

        /// Sets one child row's status; `false` when the app has no such row.
        async fn set_child_status(
            exec: &sqlx::Pool<$db>,
            child: AppChild,
            app_id: &str,
            id: &str,
            status: &str,
            now: i64,
        ) -> Result<bool> {
            // The table name comes from a closed enum, never from input.
            let sql =
                format!("UPDATE {} SET status = $1, last_updated = $2 WHERE app_id = $3 AND id = $4", child.table());
            let query = sqlx::query(sqlx::AssertSqlSafe(sql)).bind(status.to_string()).bind(now);
            affected(exec, query.bind(app_id.to_string()).bind(id.to_string())).await
        }

        /// Deletes one child row; `false` when the app has no such row.
        async fn delete_child(exec: &sqlx::Pool<$db>, child: AppChild, app_id: &str, id: &str) -> Result<bool> {
            let sql = format!("DELETE FROM {} WHERE app_id = $1 AND id = $2", child.table());
            let deleted =
                affected(exec, sqlx::query(sqlx::AssertSqlSafe(sql)).bind(app_id.to_string()).bind(id.to_string()))
                    .await?;
            // Its last use goes with it (a leftover row would be harmless: ids are never reused).
            sqlx::query("DELETE FROM credential_last_used WHERE app_id = $1 AND credential_id = $2")
                .bind(app_id.to_string())
                .bind(id.to_string())
                .execute(exec)
                .await?;
            Ok(deleted)
        }

        #[async_trait::async_trait]
        impl Store for $store {
            async fn ping(&self) -> Result<()> {
                sqlx::query("SELECT 1").execute(&self.pool).await?;
                Ok(())
            }

            async fn setting(&self, key: &str) -> Result<Option<String>> {
                let query = sqlx::query_scalar("SELECT value FROM settings WHERE key = $1");
                Ok(query.bind(key).fetch_optional(&self.pool).await?)
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
                    "INSERT INTO settings (key, value) VALUES ($1, $2) \
                     ON CONFLICT (key) DO UPDATE SET value = excluded.value",
                )
                .bind(key)
                .bind(value)
                .execute(&self.pool)
                .await?;
                Ok(())
            }

            async fn insert_auth_server(&self, s: &AuthServer) -> Result<()> {
                self.insert_auth_server_with(s, &[], &[]).await
            }

            async fn insert_auth_server_with(
                &self,
                s: &AuthServer,
                policies: &[AccessPolicy],
                rules: &[PolicyRule],
            ) -> Result<()> {
                let mut tx = self.pool.begin().await?;
                sqlx::query(
                    "INSERT INTO auth_servers (id, name, description, audiences, access_token_lifetime, \
                     status, rotation_mode, created, last_updated) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)",
                )
                .bind(&s.id)
                .bind(&s.name)
                .bind(&s.description)
                .bind(serde_json::to_string(&s.audiences)?)
                .bind(s.access_token_lifetime)
                .bind(&s.status)
                .bind(&s.rotation_mode)
                .bind(s.created)
                .bind(s.last_updated)
                .execute(&mut *tx)
                .await?;
                for p in policies {
                    upsert_policy(&mut *tx, p).await?;
                }
                for r in rules {
                    upsert_rule(&mut *tx, r).await?;
                }
                Ok(tx.commit().await?)
            }

            async fn update_scope(&self, s: &Scope) -> Result<bool> {
                let query = sqlx::query(
                    "UPDATE scopes SET name = $1, description = $2, is_default = $3, metadata_publish = $4, \
                     last_updated = $5 WHERE server_id = $6 AND id = $7",
                );
                let query = query.bind(&s.name).bind(&s.description).bind(s.is_default).bind(&s.metadata_publish);
                affected(&self.pool, query.bind(s.last_updated).bind(&s.server_id).bind(&s.id)).await
            }

            async fn policies(&self, server_id: &str) -> Result<Vec<AccessPolicy>> {
                let query = sqlx::query(
                    "SELECT * FROM auth_server_policies WHERE server_id = $1 ORDER BY priority, created, id",
                );
                query.bind(server_id).fetch_all(&self.pool).await?.iter().map(policy_from_row).collect()
            }

            async fn save_policy(&self, p: &AccessPolicy, reorder: &[(String, i64)]) -> Result<()> {
                let mut tx = self.pool.begin().await?;
                upsert_policy(&mut *tx, p).await?;
                for (id, priority) in reorder {
                    sqlx::query("UPDATE auth_server_policies SET priority = $1 WHERE server_id = $2 AND id = $3")
                        .bind(*priority)
                        .bind(&p.server_id)
                        .bind(id)
                        .execute(&mut *tx)
                        .await?;
                }
                Ok(tx.commit().await?)
            }

            async fn delete_policy(&self, server_id: &str, policy_id: &str) -> Result<bool> {
                let query = sqlx::query("DELETE FROM auth_server_policies WHERE server_id = $1 AND id = $2");
                affected(&self.pool, query.bind(server_id).bind(policy_id)).await
            }

            async fn policy_rules(&self, server_id: &str) -> Result<Vec<PolicyRule>> {
                let query = sqlx::query(
                    "SELECT * FROM auth_server_policy_rules WHERE server_id = $1 \
                     ORDER BY policy_id, priority, created, id",
                );
                query.bind(server_id).fetch_all(&self.pool).await?.iter().map(rule_from_row).collect()
            }

            async fn save_policy_rule(&self, r: &PolicyRule, reorder: &[(String, i64)]) -> Result<()> {
                let mut tx = self.pool.begin().await?;
                upsert_rule(&mut *tx, r).await?;
                for (id, priority) in reorder {
                    sqlx::query("UPDATE auth_server_policy_rules SET priority = $1 WHERE policy_id = $2 AND id = $3")
                        .bind(*priority)
                        .bind(&r.policy_id)
                        .bind(id)
                        .execute(&mut *tx)
                        .await?;
                }
                Ok(tx.commit().await?)
            }

            async fn delete_policy_rule(&self, server_id: &str, policy_id: &str, rule_id: &str) -> Result<bool> {
                let query = sqlx::query(
                    "DELETE FROM auth_server_policy_rules WHERE server_id = $1 AND policy_id = $2 AND id = $3",
                );
                affected(&self.pool, query.bind(server_id).bind(policy_id).bind(rule_id)).await
            }

            async fn claims(&self, server_id: &str) -> Result<Vec<Claim>> {
                let query = sqlx::query("SELECT * FROM auth_server_claims WHERE server_id = $1 ORDER BY name, id");
                query.bind(server_id).fetch_all(&self.pool).await?.iter().map(claim_from_row).collect()
            }

            async fn save_claim(&self, c: &Claim) -> Result<()> {
                sqlx::query(
                    "INSERT INTO auth_server_claims (id, server_id, name, status, claim_type, value_type, value, \
                     scopes, always_include, created, last_updated) \
                     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11) ON CONFLICT (id) DO UPDATE SET \
                     name = excluded.name, status = excluded.status, claim_type = excluded.claim_type, \
                     value_type = excluded.value_type, value = excluded.value, scopes = excluded.scopes, \
                     always_include = excluded.always_include, last_updated = excluded.last_updated",
                )
                .bind(&c.id)
                .bind(&c.server_id)
                .bind(&c.name)
                .bind(&c.status)
                .bind(&c.claim_type)
                .bind(&c.value_type)
                .bind(&c.value)
                .bind(serde_json::to_string(&c.scopes)?)
                .bind(c.always_include)
                .bind(c.created)
                .bind(c.last_updated)
                .execute(&self.pool)
                .await?;
                Ok(())
            }

            async fn delete_claim(&self, server_id: &str, claim_id: &str) -> Result<bool> {
                let query = sqlx::query("DELETE FROM auth_server_claims WHERE server_id = $1 AND id = $2");
                affected(&self.pool, query.bind(server_id).bind(claim_id)).await
            }

            async fn auth_server(&self, id: &str) -> Result<Option<AuthServer>> {
                let query = sqlx::query("SELECT * FROM auth_servers WHERE id = $1").bind(id);
                query.fetch_optional(&self.pool).await?.as_ref().map(auth_server_from_row).transpose()
            }

            async fn auth_servers(&self) -> Result<Vec<AuthServer>> {
                let rows = sqlx::query("SELECT * FROM auth_servers ORDER BY created, id").fetch_all(&self.pool).await?;
                rows.iter().map(auth_server_from_row).collect()
            }

            async fn update_auth_server(&self, s: &AuthServer) -> Result<()> {
                sqlx::query(
                    "UPDATE auth_servers SET name = $1, description = $2, audiences = $3, \
                     access_token_lifetime = $4, rotation_mode = $5, status = $6, last_updated = $7 WHERE id = $8",
                )
                .bind(&s.name)
                .bind(&s.description)
                .bind(serde_json::to_string(&s.audiences)?)
                .bind(s.access_token_lifetime)
                .bind(&s.rotation_mode)
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
                let done = affected(&mut *tx, sqlx::query("DELETE FROM auth_servers WHERE id = $1").bind(id)).await?;
                tx.commit().await?;
                Ok(done)
            }

            async fn insert_scope(&self, s: &Scope) -> Result<()> {
                sqlx::query(
                    "INSERT INTO scopes (id, server_id, name, description, is_default, metadata_publish, created, \
                     last_updated) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
                )
                .bind(&s.id)
                .bind(&s.server_id)
                .bind(&s.name)
                .bind(&s.description)
                .bind(s.is_default)
                .bind(&s.metadata_publish)
                .bind(s.created)
                .bind(s.last_updated)
                .execute(&self.pool)
                .await?;
                Ok(())
            }

            async fn scopes(&self, server_id: &str) -> Result<Vec<Scope>> {
                let query = sqlx::query_as("SELECT * FROM scopes WHERE server_id = $1 ORDER BY name");
                Ok(query.bind(server_id).fetch_all(&self.pool).await?)
            }

            async fn delete_scope(&self, server_id: &str, scope_id: &str) -> Result<bool> {
                let query = sqlx::query("DELETE FROM scopes WHERE server_id = $1 AND id = $2");
                affected(&self.pool, query.bind(server_id).bind(scope_id)).await
            }

            async fn signing_keys(&self, server_id: &str) -> Result<Vec<SigningKey>> {
                let query = sqlx::query_as("SELECT * FROM signing_keys WHERE server_id = $1 ORDER BY created, kid");
                Ok(query.bind(server_id).fetch_all(&self.pool).await?)
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
                apply_rotation(&mut tx, updates, new_keys, delete_kids).await?;
                tx.commit().await?;
                Ok(())
            }

            async fn rotate_signing_keys_if_active(
                &self,
                server_id: &str,
                expected_active: Option<&str>,
                updates: &[SigningKey],
                new_keys: &[SigningKey],
                delete_kids: &[String],
            ) -> Result<bool> {
                let mut tx = begin_write(&self.pool).await?;
                // Every refusal rolls back explicitly: a dropped transaction rolls back only when its pooled
                // connection is next used, and until then would keep holding the rotation lock.
                if !lock_rotation(&mut tx, server_id).await? {
                    tx.rollback().await?;
                    return Ok(false);
                }
                let active: Vec<String> = sqlx::query_scalar(concat!(
                    "SELECT kid FROM signing_keys WHERE server_id = $1 AND status = $2",
                    $row_lock
                ))
                .bind(server_id)
                .bind(key_status::ACTIVE)
                .fetch_all(&mut *tx)
                .await?;
                let active: Vec<&str> = active.iter().map(String::as_str).collect();
                if !$crate::active_matches(&active, expected_active) {
                    tx.rollback().await?;
                    return Ok(false);
                }
                apply_rotation(&mut tx, updates, new_keys, delete_kids).await?;
                tx.commit().await?;
                Ok(true)
            }

            async fn all_signing_keys(&self) -> Result<Vec<SigningKey>> {
                let query = sqlx::query_as("SELECT * FROM signing_keys ORDER BY server_id, created, kid");
                Ok(query.fetch_all(&self.pool).await?)
            }

            async fn replace_signing_key_material(&self, kid: &str, expected: &[u8], sealed: &[u8]) -> Result<bool> {
                let query = sqlx::query("UPDATE signing_keys SET private_key = $1 WHERE kid = $2 AND private_key = $3");
                affected(&self.pool, query.bind(sealed).bind(kid).bind(expected)).await
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
                Ok(apps_where(&self.pool, "WHERE id = $1", &[id]).await?.pop())
            }

            async fn app_by_client_id(&self, client_id: &str) -> Result<Option<App>> {
                Ok(apps_where(&self.pool, "WHERE client_id = $1", &[client_id]).await?.pop())
            }

            async fn apps(&self, after: Option<&str>, limit: u32) -> Result<Vec<App>> {
                let sql = format!("SELECT {APP_COLUMNS} FROM apps WHERE id > $1 ORDER BY id LIMIT $2");
                let query = sqlx::query(sqlx::AssertSqlSafe(sql)).bind(after.unwrap_or("")).bind(i64::from(limit));
                query.fetch_all(&self.pool).await?.iter().map(app_from_row).collect()
            }

            async fn update_app(&self, app: &App) -> Result<()> {
                update_app_row(&self.pool, app).await
            }

            async fn save_app(
                &self,
                app: &App,
                keys: Option<&[AppKey]>,
                secrets: Option<&[AppSecret]>,
            ) -> Result<()> {
                let mut tx = self.pool.begin().await?;
                update_app_row(&mut *tx, app).await?;
                if let Some(keys) = keys {
                    replace_keys(&mut tx, &app.id, keys).await?;
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

            async fn replace_app_keys(&self, app_id: &str, keys: &[AppKey]) -> Result<()> {
                let mut tx = self.pool.begin().await?;
                replace_keys(&mut tx, app_id, keys).await?;
                tx.commit().await?;
                Ok(())
            }

            async fn delete_app(&self, id: &str) -> Result<bool> {
                affected(&self.pool, sqlx::query("DELETE FROM apps WHERE id = $1").bind(id)).await
            }

            async fn app_keys(&self, app_id: &str) -> Result<Vec<AppKey>> {
                let query = sqlx::query_as("SELECT * FROM app_keys WHERE app_id = $1 ORDER BY created, id");
                Ok(query.bind(app_id).fetch_all(&self.pool).await?)
            }

            async fn app_secrets(&self, app_id: &str) -> Result<Vec<AppSecret>> {
                let query = sqlx::query_as("SELECT * FROM app_secrets WHERE app_id = $1 ORDER BY created, id");
                Ok(query.bind(app_id).fetch_all(&self.pool).await?)
            }

            async fn insert_app_key(&self, key: &AppKey, max: usize) -> Result<()> {
                let mut tx = check_limit(begin_write(&self.pool).await?, AppChild::Keys, &key.app_id, max).await?;
                insert_app_key(&mut *tx, key).await?;
                Ok(tx.commit().await?)
            }

            async fn set_app_key_status(&self, app_id: &str, key_id: &str, status: &str, now: i64) -> Result<bool> {
                set_child_status(&self.pool, AppChild::Keys, app_id, key_id, status, now).await
            }

            async fn delete_app_key(&self, app_id: &str, key_id: &str) -> Result<bool> {
                delete_child(&self.pool, AppChild::Keys, app_id, key_id).await
            }

            async fn insert_app_secret(&self, secret: &AppSecret, max: usize) -> Result<()> {
                let mut tx = check_limit(begin_write(&self.pool).await?, AppChild::Secrets, &secret.app_id, max).await?;
                insert_app_secret(&mut *tx, secret).await?;
                Ok(tx.commit().await?)
            }

            async fn set_app_secret_status(&self, app_id: &str, id: &str, status: &str, now: i64) -> Result<bool> {
                set_child_status(&self.pool, AppChild::Secrets, app_id, id, status, now).await
            }

            async fn delete_app_secret(&self, app_id: &str, secret_id: &str) -> Result<bool> {
                delete_child(&self.pool, AppChild::Secrets, app_id, secret_id).await
            }

            async fn federated_credentials(&self, app_id: &str) -> Result<Vec<FederatedCredential>> {
                federated_where(&self.pool, "WHERE app_id = $1", &[app_id]).await
            }

            async fn insert_federated_credential(&self, f: &FederatedCredential, max: usize) -> Result<()> {
                let mut tx = check_limit(begin_write(&self.pool).await?, AppChild::Federated, &f.app_id, max).await?;
                sqlx::query(
                    "INSERT INTO federated_credentials (id, app_id, name, issuer, subject, audiences, claims, \
                     jwks_uri, max_token_age, status, created, last_updated) \
                     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)",
                )
                .bind(&f.id)
                .bind(&f.app_id)
                .bind(&f.name)
                .bind(&f.issuer)
                .bind(&f.subject)
                .bind(serde_json::to_string(&f.audiences)?)
                .bind(serde_json::to_string(&f.claims)?)
                .bind(&f.jwks_uri)
                .bind(f.max_token_age)
                .bind(&f.status)
                .bind(f.created)
                .bind(f.last_updated)
                .execute(&mut *tx)
                .await?;
                Ok(tx.commit().await?)
            }

            async fn update_federated_credential(&self, f: &FederatedCredential) -> Result<bool> {
                let query = sqlx::query(
                    "UPDATE federated_credentials SET name = $1, issuer = $2, subject = $3, audiences = $4, \
                     claims = $5, jwks_uri = $6, max_token_age = $7, status = $8, last_updated = $9 \
                     WHERE app_id = $10 AND id = $11",
                )
                .bind(&f.name)
                .bind(&f.issuer)
                .bind(&f.subject)
                .bind(serde_json::to_string(&f.audiences)?)
                .bind(serde_json::to_string(&f.claims)?)
                .bind(&f.jwks_uri)
                .bind(f.max_token_age)
                .bind(&f.status)
                .bind(f.last_updated)
                .bind(&f.app_id)
                .bind(&f.id);
                affected(&self.pool, query).await
            }

            async fn set_federated_credential_status(&self, app_id: &str, id: &str, status: &str, now: i64) -> Result<bool> {
                set_child_status(&self.pool, AppChild::Federated, app_id, id, status, now).await
            }

            async fn delete_federated_credential(&self, app_id: &str, id: &str) -> Result<bool> {
                delete_child(&self.pool, AppChild::Federated, app_id, id).await
            }

            async fn client_snapshot(&self) -> Result<Vec<ClientRecord>> {
                // One consistent read, so an app and its keys, secrets and grants are seen as of one moment
                // even while another connection (or node) writes.
                let mut tx = begin_snapshot(&self.pool).await?;
                let apps = apps_where(&mut *tx, "ORDER BY id", &[]).await?;
                let keys = sqlx::query_as("SELECT * FROM app_keys ORDER BY created, id").fetch_all(&mut *tx).await?;
                let secrets =
                    sqlx::query_as("SELECT * FROM app_secrets ORDER BY created, id").fetch_all(&mut *tx).await?;
                let grants = sqlx::query_as("SELECT * FROM grants ORDER BY created, id").fetch_all(&mut *tx).await?;
                let roles = sqlx::query_as("SELECT * FROM app_roles ORDER BY created, id").fetch_all(&mut *tx).await?;
                let federated = federated_where(&mut *tx, "", &[]).await?;
                tx.commit().await?;
                Ok($crate::shared::assemble(apps, keys, secrets, grants, roles, federated))
            }

            async fn client_record(&self, client_id: &str) -> Result<Option<ClientRecord>> {
                let Some(app) = self.app_by_client_id(client_id).await? else {
                    return Ok(None);
                };
                let keys = self.app_keys(&app.id).await?;
                let secrets = self.app_secrets(&app.id).await?;
                let grants = self.grants(&app.id).await?;
                let roles = self.roles(&app.id).await?;
                let federated = self.federated_credentials(&app.id).await?;
                Ok(Some(ClientRecord { app, keys, secrets, grants, roles, federated }))
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
                let query = sqlx::query_as("SELECT * FROM grants WHERE app_id = $1 ORDER BY created, id");
                Ok(query.bind(app_id).fetch_all(&self.pool).await?)
            }

            async fn grant(&self, app_id: &str, grant_id: &str) -> Result<Option<Grant>> {
                let query = sqlx::query_as("SELECT * FROM grants WHERE app_id = $1 AND id = $2");
                Ok(query.bind(app_id).bind(grant_id).fetch_optional(&self.pool).await?)
            }

            async fn delete_grant(&self, app_id: &str, grant_id: &str) -> Result<bool> {
                let query = sqlx::query("DELETE FROM grants WHERE app_id = $1 AND id = $2");
                affected(&self.pool, query.bind(app_id).bind(grant_id)).await
            }

            async fn insert_role(&self, r: &RoleAssignment) -> Result<()> {
                sqlx::query(
                    "INSERT INTO app_roles (id, app_id, role_type, status, created, last_updated) \
                     VALUES ($1, $2, $3, $4, $5, $6)",
                )
                .bind(&r.id)
                .bind(&r.app_id)
                .bind(&r.role_type)
                .bind(&r.status)
                .bind(r.created)
                .bind(r.last_updated)
                .execute(&self.pool)
                .await?;
                Ok(())
            }

            async fn roles(&self, app_id: &str) -> Result<Vec<RoleAssignment>> {
                let query = sqlx::query_as("SELECT * FROM app_roles WHERE app_id = $1 ORDER BY created, id");
                Ok(query.bind(app_id).fetch_all(&self.pool).await?)
            }

            async fn delete_role(&self, app_id: &str, role_id: &str) -> Result<bool> {
                let query = sqlx::query("DELETE FROM app_roles WHERE app_id = $1 AND id = $2");
                affected(&self.pool, query.bind(app_id).bind(role_id)).await
            }

            async fn insert_api_token(&self, t: &ApiToken) -> Result<()> {
                sqlx::query(
                    "INSERT INTO api_tokens (id, name, token_hash, created, role) VALUES ($1, $2, $3, $4, $5)",
                )
                .bind(&t.id)
                .bind(&t.name)
                .bind(&t.token_hash)
                .bind(t.created)
                .bind(&t.role)
                .execute(&self.pool)
                .await?;
                Ok(())
            }

            async fn api_token_by_hash(&self, hash: &[u8]) -> Result<Option<ApiToken>> {
                let query = sqlx::query_as("SELECT * FROM api_tokens WHERE token_hash = $1");
                Ok(query.bind(hash).fetch_optional(&self.pool).await?)
            }

            async fn api_token_count(&self) -> Result<u64> {
                let n: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM api_tokens").fetch_one(&self.pool).await?;
                Ok(u64::try_from(n).unwrap_or(0))
            }

            async fn api_tokens(&self) -> Result<Vec<ApiToken>> {
                Ok(sqlx::query_as("SELECT * FROM api_tokens ORDER BY created, id").fetch_all(&self.pool).await?)
            }

            async fn record_credentials_used(&self, used: &[CredentialUse], min_interval: i64) -> Result<()> {
                if used.is_empty() {
                    return Ok(());
                }
                let mut tx = self.pool.begin().await?;
                for u in used {
                    // Only for an app that still exists, and only when the stored time is at least
                    // `min_interval` older: several nodes noting the same credential write it once.
                    sqlx::query(
                        "INSERT INTO credential_last_used (app_id, credential_id, last_used) \
                         SELECT $1, $2, $3 WHERE EXISTS (SELECT 1 FROM apps WHERE id = $1) \
                         ON CONFLICT (app_id, credential_id) DO UPDATE SET last_used = excluded.last_used \
                         WHERE credential_last_used.last_used <= excluded.last_used - $4",
                    )
                    .bind(&u.app_id)
                    .bind(&u.credential_id)
                    .bind(u.at)
                    .bind(min_interval)
                    .execute(&mut *tx)
                    .await?;
                }
                Ok(tx.commit().await?)
            }

            async fn credentials_last_used(&self, app_id: &str) -> Result<Vec<(String, i64)>> {
                let query = sqlx::query_as(
                    "SELECT credential_id, last_used FROM credential_last_used WHERE app_id = $1 ORDER BY credential_id",
                );
                Ok(query.bind(app_id).fetch_all(&self.pool).await?)
            }

            async fn delete_api_token(&self, id: &str) -> Result<bool> {
                affected(&self.pool, sqlx::query("DELETE FROM api_tokens WHERE id = $1").bind(id)).await
            }

            async fn insert_admin_user(&self, u: &AdminUser) -> Result<()> {
                sqlx::query(
                    "INSERT INTO admin_users (id, login, password_hash, role, created, last_updated) \
                     VALUES ($1, $2, $3, $4, $5, $6)",
                )
                .bind(&u.id)
                .bind(&u.login)
                .bind(&u.password_hash)
                .bind(&u.role)
                .bind(u.created)
                .bind(u.last_updated)
                .execute(&self.pool)
                .await?;
                Ok(())
            }

            async fn admin_user(&self, id_or_login: &str) -> Result<Option<AdminUser>> {
                let query = sqlx::query_as("SELECT * FROM admin_users WHERE id = $1 OR login = $1");
                Ok(query.bind(id_or_login).fetch_optional(&self.pool).await?)
            }

            async fn update_admin_user(&self, u: &AdminUser) -> Result<bool> {
                let query = sqlx::query(
                    "UPDATE admin_users SET password_hash = $1, role = $2, last_updated = $3 WHERE login = $4",
                );
                affected(&self.pool, query.bind(&u.password_hash).bind(&u.role).bind(u.last_updated).bind(&u.login))
                    .await
            }

            async fn admin_users(&self) -> Result<Vec<AdminUser>> {
                Ok(sqlx::query_as("SELECT * FROM admin_users ORDER BY login").fetch_all(&self.pool).await?)
            }

            async fn insert_console_session(&self, s: &ConsoleSession) -> Result<()> {
                sqlx::query(
                    "INSERT INTO console_sessions (id_hash, csrf_token, principal_kind, principal_id, created, \
                     expires) VALUES ($1, $2, $3, $4, $5, $6)",
                )
                .bind(&s.id_hash)
                .bind(&s.csrf_token)
                .bind(&s.principal_kind)
                .bind(&s.principal_id)
                .bind(s.created)
                .bind(s.expires)
                .execute(&self.pool)
                .await?;
                Ok(())
            }

            async fn console_session(&self, id_hash: &[u8], now: i64) -> Result<Option<ConsoleSession>> {
                let query = sqlx::query_as("SELECT * FROM console_sessions WHERE id_hash = $1 AND expires > $2");
                Ok(query.bind(id_hash).bind(now).fetch_optional(&self.pool).await?)
            }

            async fn delete_console_session(&self, id_hash: &[u8]) -> Result<bool> {
                affected(&self.pool, sqlx::query("DELETE FROM console_sessions WHERE id_hash = $1").bind(id_hash)).await
            }

            async fn delete_console_sessions_of(&self, kind: &str, principal_id: &str) -> Result<u64> {
                let query =
                    sqlx::query("DELETE FROM console_sessions WHERE principal_kind = $1 AND principal_id = $2");
                Ok(query.bind(kind).bind(principal_id).execute(&self.pool).await?.rows_affected())
            }

            async fn insert_user(&self, u: &User) -> Result<()> {
                sqlx::query(
                    "INSERT INTO users (id, login, status, profile, created, activated, status_changed, \
                     last_login, last_updated, password_changed) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)",
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
                let query = sqlx::query("SELECT * FROM users WHERE id = $1 OR login = $1").bind(id_or_login);
                query.fetch_optional(&self.pool).await?.as_ref().map(user_from_row).transpose()
            }

            async fn users(&self, after: Option<&str>, limit: u32) -> Result<Vec<User>> {
                let query = sqlx::query("SELECT * FROM users WHERE id > $1 ORDER BY id LIMIT $2");
                let rows = query.bind(after.unwrap_or("")).bind(i64::from(limit)).fetch_all(&self.pool).await?;
                rows.iter().map(user_from_row).collect()
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
                affected(&self.pool, sqlx::query("DELETE FROM users WHERE id = $1").bind(id)).await
            }

            async fn use_jti(&self, client_id: &str, jti: &str, expires: i64) -> Result<bool> {
                let query = sqlx::query(
                    "INSERT INTO used_jti (client_id, jti, expires) VALUES ($1, $2, $3) \
                     ON CONFLICT (client_id, jti) DO NOTHING",
                );
                affected(&self.pool, query.bind(client_id).bind(jti).bind(expires)).await
            }

            async fn use_jti_pair(
                &self,
                first: (&str, &str, i64),
                second: (&str, &str, i64),
            ) -> Result<(bool, bool)> {
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
                let fresh = |(client_id, jti, _): (&str, &str, i64)| {
                    inserted.iter().any(|(c, j)| c == client_id && j == jti)
                };
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
                // COUNT is a 64-bit integer on both engines (a bare `1` is INT4 on PostgreSQL).
                let query = sqlx::query_scalar("SELECT COUNT(*) FROM revoked_tokens WHERE jti = $1");
                let n: i64 = query.bind(jti).fetch_one(&self.pool).await?;
                Ok(n > 0)
            }

            async fn prune_expired(&self, now: i64) -> Result<u64> {
                let a = sqlx::query("DELETE FROM used_jti WHERE expires < $1").bind(now).execute(&self.pool).await?;
                let b =
                    sqlx::query("DELETE FROM revoked_tokens WHERE expires < $1").bind(now).execute(&self.pool).await?;
                let c =
                    sqlx::query("DELETE FROM console_sessions WHERE expires < $1").bind(now).execute(&self.pool).await?;
                Ok(a.rows_affected() + b.rows_affected() + c.rows_affected())
            }

            async fn insert_log_events(&self, events: &[$crate::log::LogEventRow]) -> Result<()> {
                // Multi-row inserts of a few dozen events, each its own short transaction, on the System Log's
                // pool (SQLite: its own file, so never the token endpoint's write lock). A failed chunk leaves
                // earlier ones written; the writer keeps the batch and retries; `ON CONFLICT DO NOTHING` skips
                // the events already written.
                const COLUMNS: usize = 13;
                const ROWS: usize = 32;
                for chunk in events.chunks(ROWS) {
                    let mut tx = self.log_pool.begin().await?;
                    let mut sql = String::from(
                        "INSERT INTO log_events (uuid, published, event_type, severity, outcome_result, actor_id, \
                         actor_type, client_ip, transaction_id, target_ids, target_types, search_text, body) VALUES ",
                    );
                    for (i, _) in chunk.iter().enumerate() {
                        let base = i * COLUMNS;
                        let params: Vec<String> = (1..=COLUMNS).map(|c| format!("${}", base + c)).collect();
                        if i > 0 {
                            sql.push(',');
                        }
                        sql.push('(');
                        sql.push_str(&params.join(","));
                        sql.push(')');
                    }
                    sql.push_str(" ON CONFLICT (uuid) DO NOTHING");
                    let mut q = sqlx::query(sqlx::AssertSqlSafe(sql));
                    for e in chunk {
                        let (ids, types) = $crate::log::target_lists(&e.targets);
                        q = q
                            .bind(e.uuid.clone())
                            .bind(e.published)
                            .bind(e.event_type.clone())
                            .bind(e.severity.clone())
                            .bind(e.outcome_result.clone())
                            .bind(e.actor_id.clone())
                            .bind(e.actor_type.clone())
                            .bind(e.client_ip.clone())
                            .bind(e.transaction_id.clone())
                            .bind(ids)
                            .bind(types)
                            .bind(e.search_text.clone())
                            .bind(e.body.clone());
                    }
                    q.execute(&mut *tx).await?;
                    tx.commit().await?;
                }
                Ok(())
            }

            async fn log_events(&self, query: &$crate::log::LogQuery) -> Result<Vec<$crate::log::LoggedEvent>> {
                let (sql, binds) = $crate::log::select_sql(query)?;
                let mut q = sqlx::query(sqlx::AssertSqlSafe(sql));
                for b in binds {
                    q = match b {
                        $crate::log::Bind::Int(i) => q.bind(i),
                        $crate::log::Bind::Text(t) => q.bind(t),
                    };
                }
                q.fetch_all(&self.log_pool)
                    .await?
                    .iter()
                    .map(|row| {
                        Ok($crate::log::LoggedEvent {
                            uuid: row.try_get("uuid")?,
                            published: row.try_get("published")?,
                            body: row.try_get("body")?,
                        })
                    })
                    .collect()
            }

            async fn prune_log_events(&self, before: i64) -> Result<u64> {
                let done = sqlx::query("DELETE FROM log_events WHERE published < $1").bind(before).execute(&self.log_pool).await?;
                Ok(done.rows_affected())
            }

            async fn node_heartbeat(&self, node_id: &str, now: i64, live_since: i64) -> Result<u64> {
                sqlx::query(
                    "INSERT INTO nodes (id, started, last_seen) VALUES ($1, $2, $2) \
                     ON CONFLICT (id) DO UPDATE SET last_seen = excluded.last_seen",
                )
                .bind(node_id)
                .bind(now)
                .execute(&self.pool)
                .await?;
                sqlx::query("DELETE FROM nodes WHERE last_seen < $1").bind(now - 3_600_000).execute(&self.pool).await?;
                let n: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM nodes WHERE last_seen >= $1")
                    .bind(live_since)
                    .fetch_one(&self.pool)
                    .await?;
                Ok(u64::try_from(n).unwrap_or(0))
            }

            async fn save_quota_usage(&self, rows: &[QuotaUsage]) -> Result<()> {
                if rows.is_empty() {
                    return Ok(());
                }
                let mut tx = self.pool.begin().await?;
                for r in rows {
                    sqlx::query(
                        "INSERT INTO quota_usage (node_id, app_id, period, window_start, count) \
                         VALUES ($1, $2, $3, $4, $5) \
                         ON CONFLICT (node_id, app_id, period, window_start) DO UPDATE SET count = excluded.count",
                    )
                    .bind(&r.node_id)
                    .bind(&r.app_id)
                    .bind(&r.period)
                    .bind(r.window_start)
                    .bind(r.count)
                    .execute(&mut *tx)
                    .await?;
                }
                tx.commit().await?;
                Ok(())
            }

            async fn quota_usage(&self, except_node: &str, since: i64) -> Result<Vec<QuotaUsage>> {
                let rows: Vec<(String, String, i64, i64)> = sqlx::query_as(
                    "SELECT app_id, period, window_start, CAST(SUM(count) AS BIGINT) FROM quota_usage \
                     WHERE node_id <> $1 AND window_start >= $2 GROUP BY app_id, period, window_start",
                )
                .bind(except_node)
                .bind(since)
                .fetch_all(&self.pool)
                .await?;
                Ok(rows
                    .into_iter()
                    .map(|(app_id, period, window_start, count)| QuotaUsage {
                        node_id: String::new(),
                        app_id,
                        period,
                        window_start,
                        count,
                    })
                    .collect())
            }

            async fn prune_quota_usage(&self, before: i64) -> Result<u64> {
                let done =
                    sqlx::query("DELETE FROM quota_usage WHERE window_start < $1").bind(before).execute(&self.pool).await?;
                Ok(done.rows_affected())
            }

            $($specific)*
        }
    };
}
pub(crate) use store_impl;
