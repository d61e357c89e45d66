//! `tollgate-store`: the data model and the [`Store`] trait behind which every backend sits.
//!
//! The server never writes SQL; it calls [`Store`]. The embedded default is SQLite ([`SqliteStore`]);
//! PostgreSQL ([`PostgresStore`]) is a second implementation of the same trait, with the same
//! conformance tests, for deployments where several nodes share one database. The store knows
//! nothing of HTTP or OAuth wire formats: rows in, rows out. Secrets arrive already hashed. Times are Unix
//! milliseconds. Every multi-row change is one transaction, so nothing is ever half-written.

mod changes;
mod error;
pub mod filter;
pub mod log;
mod model;
mod postgres;
mod shared;
mod sqlite;

pub use changes::{Change, ChangeFeed};
pub use error::{StoreError, Unique};
pub use model::*;
pub use postgres::PostgresStore;
pub use sqlite::SqliteStore;

use std::sync::Arc;

/// Shorthand for store results.
pub type Result<T, E = StoreError> = std::result::Result<T, E>;

/// Opens the store named by a database URL (`sqlite://path`, `sqlite::memory:`, or
/// `postgres://user@host/db` / `postgresql://...`), creating (SQLite) and migrating it when needed.
pub async fn open(url: &str) -> Result<Arc<dyn Store>> {
    if url.starts_with("sqlite:") {
        Ok(Arc::new(SqliteStore::open(url).await?))
    } else if url.starts_with("postgres://") || url.starts_with("postgresql://") {
        Ok(Arc::new(PostgresStore::open(url).await?))
    } else {
        Err(StoreError::Unsupported(format!(
            "unknown database URL scheme in {:?}; expected sqlite:// or postgres://",
            redact_url(url)
        )))
    }
}

/// A database URL with any password removed, for messages and logs.
pub fn redact_url(url: &str) -> String {
    match (url.find("://"), url.rfind('@')) {
        (Some(scheme_end), Some(at)) if at > scheme_end => {
            let userinfo = &url[scheme_end + 3..at];
            let user = userinfo.split(':').next().unwrap_or("");
            format!("{}://{}:***@{}", &url[..scheme_end], user, &url[at + 1..])
        }
        _ => url.to_string(),
    }
}

/// Everything tollgate keeps. Implementations must be safe to share between tasks and, for server
/// backends, between nodes: uniqueness rules (client ids, grants, used `jti`) are enforced by the database.
#[async_trait::async_trait]
pub trait Store: Send + Sync + 'static {
    /// Checks that the database answers (for `/healthz`).
    async fn ping(&self) -> Result<()>;

    // --- settings -------------------------------------------------------------------------------
    /// A setting's value, if set.
    async fn setting(&self, key: &str) -> Result<Option<String>>;
    /// Stores `value` unless the key already has one; returns the value that is now stored.
    async fn setting_init(&self, key: &str, value: &str) -> Result<String>;
    /// Stores `value`, replacing any earlier one.
    async fn set_setting(&self, key: &str, value: &str) -> Result<()>;

    // --- authorization servers and scopes --------------------------------------------------------
    async fn insert_auth_server(&self, server: &AuthServer) -> Result<()>;
    async fn auth_server(&self, id: &str) -> Result<Option<AuthServer>>;
    async fn auth_servers(&self) -> Result<Vec<AuthServer>>;
    async fn update_auth_server(&self, server: &AuthServer) -> Result<()>;
    async fn delete_auth_server(&self, id: &str) -> Result<bool>;
    async fn insert_scope(&self, scope: &Scope) -> Result<()>;
    async fn scopes(&self, server_id: &str) -> Result<Vec<Scope>>;
    async fn delete_scope(&self, server_id: &str, scope_id: &str) -> Result<bool>;
    /// Creates a server with its first access policies and rules, in one transaction.
    async fn insert_auth_server_with(
        &self,
        server: &AuthServer,
        policies: &[AccessPolicy],
        rules: &[PolicyRule],
    ) -> Result<()>;
    /// Replaces a scope's name, description, `default` and `metadataPublish` (by server and id); `false`
    /// when the server has no such scope. A taken name is [`StoreError::Conflict`] ([`Unique::ScopeName`]).
    async fn update_scope(&self, scope: &Scope) -> Result<bool>;

    // --- access policies, their rules, custom claims ---------------------------------------------------
    /// A server's access policies by priority (then age).
    async fn policies(&self, server_id: &str) -> Result<Vec<AccessPolicy>>;
    /// Creates or replaces a policy and, in the same transaction, gives other policies of its server the
    /// priorities in `reorder` (`(id, priority)`), so priorities stay a sequence.
    async fn save_policy(&self, policy: &AccessPolicy, reorder: &[(String, i64)]) -> Result<()>;
    /// Deletes a policy and its rules; `false` when the server has no such policy.
    async fn delete_policy(&self, server_id: &str, policy_id: &str) -> Result<bool>;
    /// Every rule of a server's policies, by policy, then priority (then age).
    async fn policy_rules(&self, server_id: &str) -> Result<Vec<PolicyRule>>;
    /// Creates or replaces a rule, re-prioritising its policy's other rules as [`Store::save_policy`] does.
    async fn save_policy_rule(&self, rule: &PolicyRule, reorder: &[(String, i64)]) -> Result<()>;
    /// Deletes a rule; `false` when the policy has no such rule.
    async fn delete_policy_rule(&self, server_id: &str, policy_id: &str, rule_id: &str) -> Result<bool>;
    /// A server's custom claims, by name.
    async fn claims(&self, server_id: &str) -> Result<Vec<Claim>>;
    /// Creates or replaces a claim. A name taken on the server is [`StoreError::Conflict`]
    /// ([`Unique::ClaimName`]).
    async fn save_claim(&self, claim: &Claim) -> Result<()>;
    /// Deletes a claim; `false` when the server has no such claim.
    async fn delete_claim(&self, server_id: &str, claim_id: &str) -> Result<bool>;

    // --- signing keys ----------------------------------------------------------------------------
    async fn signing_keys(&self, server_id: &str) -> Result<Vec<SigningKey>>;
    async fn insert_signing_key(&self, key: &SigningKey) -> Result<()>;
    /// Applies a rotation atomically: every key in `updates` gets its new status/activated/retire_at,
    /// `new_keys` are inserted and `delete_kids` removed, all in one transaction.
    async fn rotate_signing_keys(
        &self,
        updates: &[SigningKey],
        new_keys: &[SigningKey],
        delete_kids: &[String],
    ) -> Result<()>;

    // --- apps (service clients) -------------------------------------------------------------------
    /// Creates an app with its keys and secrets in one transaction. A taken `client_id` is
    /// [`StoreError::Conflict`].
    async fn insert_app(&self, app: &App, keys: &[AppKey], secrets: &[AppSecret]) -> Result<()>;
    async fn app(&self, id: &str) -> Result<Option<App>>;
    async fn app_by_client_id(&self, client_id: &str) -> Result<Option<App>>;
    /// Apps ordered by id, after the cursor `after` (exclusive), at most `limit`.
    async fn apps(&self, after: Option<&str>, limit: u32) -> Result<Vec<App>>;
    async fn update_app(&self, app: &App) -> Result<()>;
    /// Replaces an app's whole key set (e.g. a DCR PUT or a switch to `jwks_uri`).
    async fn replace_app_keys(&self, app_id: &str, keys: &[AppKey]) -> Result<()>;
    async fn delete_app(&self, id: &str) -> Result<bool>;
    async fn app_keys(&self, app_id: &str) -> Result<Vec<AppKey>>;
    async fn app_secrets(&self, app_id: &str) -> Result<Vec<AppSecret>>;
    /// Every app with its keys, secrets and grants: what the server's cache is built from.
    async fn client_snapshot(&self) -> Result<Vec<ClientRecord>>;
    /// One app with its keys, secrets and grants, by client id.
    async fn client_record(&self, client_id: &str) -> Result<Option<ClientRecord>>;

    // --- grants ----------------------------------------------------------------------------------
    /// A duplicate (app, scope, issuer) is [`StoreError::Conflict`].
    async fn insert_grant(&self, grant: &Grant) -> Result<()>;
    async fn grants(&self, app_id: &str) -> Result<Vec<Grant>>;
    async fn grant(&self, app_id: &str, grant_id: &str) -> Result<Option<Grant>>;
    async fn delete_grant(&self, app_id: &str, grant_id: &str) -> Result<bool>;

    // --- admin roles of apps ----------------------------------------------------------------------
    /// Assigns a role to an app. The same role type twice on one app is [`StoreError::Conflict`]
    /// ([`Unique::Role`]).
    async fn insert_role(&self, role: &RoleAssignment) -> Result<()>;
    /// An app's role assignments, oldest first.
    async fn roles(&self, app_id: &str) -> Result<Vec<RoleAssignment>>;
    /// Removes a role assignment; `false` when the app has no such assignment.
    async fn delete_role(&self, app_id: &str, role_id: &str) -> Result<bool>;

    // --- API tokens ------------------------------------------------------------------------------
    async fn insert_api_token(&self, token: &ApiToken) -> Result<()>;
    async fn api_token_by_hash(&self, hash: &[u8]) -> Result<Option<ApiToken>>;
    async fn api_token_count(&self) -> Result<u64>;

    // --- users -----------------------------------------------------------------------------------
    async fn insert_user(&self, user: &User) -> Result<()>;
    async fn user(&self, id_or_login: &str) -> Result<Option<User>>;
    /// Users ordered by id, after the cursor `after` (exclusive), at most `limit`.
    async fn users(&self, after: Option<&str>, limit: u32) -> Result<Vec<User>>;

    // --- management API changes ----------------------------------------------------------------
    /// Updates an app and, when given, replaces its whole key set and/or secret set, in one transaction
    /// (an Apps-API PUT that switches to `jwks_uri` drops the saved keys; a switch to keys drops secrets).
    async fn save_app(&self, app: &App, keys: Option<&[AppKey]>, secrets: Option<&[AppSecret]>) -> Result<()>;
    /// Adds one key to an app that has fewer than `max` ([`StoreError::LimitReached`] otherwise), counted in
    /// the insert's transaction with the app row locked, so concurrent adds cannot pass `max` together.
    async fn insert_app_key(&self, key: &AppKey, max: usize) -> Result<()>;
    /// Sets a key's status; `false` when the app has no such key.
    async fn set_app_key_status(&self, app_id: &str, key_id: &str, status: &str, now: i64) -> Result<bool>;
    /// Deletes a key; `false` when the app has no such key.
    async fn delete_app_key(&self, app_id: &str, key_id: &str) -> Result<bool>;
    /// Adds one client secret to an app that has fewer than `max`, as [`Store::insert_app_key`] does.
    async fn insert_app_secret(&self, secret: &AppSecret, max: usize) -> Result<()>;
    /// Sets a secret's status; `false` when the app has no such secret.
    async fn set_app_secret_status(&self, app_id: &str, secret_id: &str, status: &str, now: i64) -> Result<bool>;
    /// Deletes a secret; `false` when the app has no such secret.
    async fn delete_app_secret(&self, app_id: &str, secret_id: &str) -> Result<bool>;
    /// An app's federated credentials, oldest first.
    async fn federated_credentials(&self, app_id: &str) -> Result<Vec<FederatedCredential>>;
    /// Adds a federated credential to an app that has fewer than `max`, as [`Store::insert_app_key`] does.
    async fn insert_federated_credential(&self, credential: &FederatedCredential, max: usize) -> Result<()>;
    /// Replaces a federated credential's settings and status (by app and id); `false` when there is none.
    async fn update_federated_credential(&self, credential: &FederatedCredential) -> Result<bool>;
    /// Sets a federated credential's status; `false` when the app has no such credential.
    async fn set_federated_credential_status(&self, app_id: &str, id: &str, status: &str, now: i64) -> Result<bool>;
    /// Deletes a federated credential; `false` when the app has no such credential.
    async fn delete_federated_credential(&self, app_id: &str, id: &str) -> Result<bool>;
    /// Records when app credentials last authenticated a request. Each use is written only if the app
    /// still exists and the stored time is at least `min_interval` milliseconds older (so the write is
    /// skipped, not repeated, when another node recorded it within that interval).
    async fn record_credentials_used(&self, used: &[CredentialUse], min_interval: i64) -> Result<()>;
    /// `(credential id, last used)` of an app's keys and secrets that have been used.
    async fn credentials_last_used(&self, app_id: &str) -> Result<Vec<(String, i64)>>;
    /// Every API token, oldest first.
    async fn api_tokens(&self) -> Result<Vec<ApiToken>>;
    /// Deletes (revokes) an API token; `false` when there is none with that id.
    async fn delete_api_token(&self, id: &str) -> Result<bool>;
    /// Replaces a user's login, status, profile and times (by id). A taken login is [`StoreError::Conflict`].
    async fn update_user(&self, user: &User) -> Result<()>;
    /// Deletes a user; `false` when there is none with that id.
    async fn delete_user(&self, id: &str) -> Result<bool>;

    // --- Admin Console -----------------------------------------------------------------------------
    /// Adds a console admin user. A taken login is [`StoreError::Conflict`] ([`Unique::Login`]).
    async fn insert_admin_user(&self, user: &AdminUser) -> Result<()>;
    /// The admin user with this id or login.
    async fn admin_user(&self, id_or_login: &str) -> Result<Option<AdminUser>>;
    /// Replaces an admin user's password hash and role (by login); `false` when there is none.
    async fn update_admin_user(&self, user: &AdminUser) -> Result<bool>;
    /// Every admin user, by login.
    async fn admin_users(&self) -> Result<Vec<AdminUser>>;
    /// Stores a new console session.
    async fn insert_console_session(&self, session: &ConsoleSession) -> Result<()>;
    /// The session whose id hashes to `id_hash`, if it has not expired at `now`.
    async fn console_session(&self, id_hash: &[u8], now: i64) -> Result<Option<ConsoleSession>>;
    /// Ends a session (sign out); `false` when there was none.
    async fn delete_console_session(&self, id_hash: &[u8]) -> Result<bool>;
    /// Ends every session of one principal (a deleted API token or admin user).
    async fn delete_console_sessions_of(&self, kind: &str, principal_id: &str) -> Result<u64>;

    // --- replay and revocation -------------------------------------------------------------------
    /// Records a client's assertion `jti` until `expires`. Returns `false` if it was already used.
    /// This is the one write on the token endpoint's path, and it is atomic across nodes.
    async fn use_jti(&self, client_id: &str, jti: &str, expires: i64) -> Result<bool>;
    /// Records two `(client_id, jti, expires)` entries at once (a DPoP token request: the assertion's and
    /// the proof's); returns for each whether it was fresh. Backends do it in one round trip.
    async fn use_jti_pair(&self, first: (&str, &str, i64), second: (&str, &str, i64)) -> Result<(bool, bool)>;
    async fn revoke_token(&self, jti: &str, expires: i64) -> Result<()>;
    async fn is_revoked(&self, jti: &str) -> Result<bool>;
    /// Deletes used `jti`s and revocations that have expired by `now`; returns how many rows went.
    async fn prune_expired(&self, now: i64) -> Result<u64>;

    // --- System Log ------------------------------------------------------------------------------
    /// Writes a batch of events (and their targets) in one transaction.
    async fn insert_log_events(&self, events: &[log::LogEventRow]) -> Result<()>;
    /// One page of events matching `query`, in its order.
    async fn log_events(&self, query: &log::LogQuery) -> Result<Vec<log::LoggedEvent>>;
    /// Deletes events published before `before` (retention); returns how many went.
    async fn prune_log_events(&self, before: i64) -> Result<u64>;

    // --- several nodes ---------------------------------------------------------------------------
    /// Records that node `node_id` is alive at `now` (its first call also records `started`), forgets
    /// nodes silent for an hour, and returns how many nodes were seen at or after `live_since` (this one
    /// included). Called every few seconds by each node, never on a request.
    async fn node_heartbeat(&self, node_id: &str, now: i64, live_since: i64) -> Result<u64>;
    /// Writes a node's current token counts (one row per node, app, period and window; the count replaces
    /// the stored one) in one transaction.
    async fn save_quota_usage(&self, rows: &[QuotaUsage]) -> Result<()>;
    /// The token counts of every node but `except_node`, summed per app, period and window, for windows
    /// starting at or after `since`.
    async fn quota_usage(&self, except_node: &str, since: i64) -> Result<Vec<QuotaUsage>>;
    /// Deletes the counts of windows that started before `before`; returns how many rows went.
    async fn prune_quota_usage(&self, before: i64) -> Result<u64>;
    /// A feed of changes committed by any node (PostgreSQL: `LISTEN tollgate_changes`), so each node can
    /// drop what it caches. `None` when the backend has no other nodes to hear from (SQLite).
    async fn subscribe_changes(&self) -> Result<Option<ChangeFeed>>;
    /// Rotation once per cluster: applies like [`Store::rotate_signing_keys`], but only if `server_id`'s
    /// ACTIVE key is still `expected_active` (`None`: it has no ACTIVE key yet). A node changing the same
    /// server's keys at that moment is waited for (PostgreSQL: a transaction-scoped advisory lock), so on
    /// return its keys are committed and readable. `false` when nothing was done.
    async fn rotate_signing_keys_if_active(
        &self,
        server_id: &str,
        expected_active: Option<&str>,
        updates: &[SigningKey],
        new_keys: &[SigningKey],
        delete_kids: &[String],
    ) -> Result<bool>;
    /// Every signing key of every server (for re-encrypting them under a new master key).
    async fn all_signing_keys(&self) -> Result<Vec<SigningKey>>;
    /// Replaces a signing key's stored (sealed) private key material, if it is still `expected`, so two
    /// nodes re-sealing at once cannot undo each other. `false` when the row changed or is gone.
    async fn replace_signing_key_material(&self, kid: &str, expected: &[u8], sealed: &[u8]) -> Result<bool>;
}

/// Whether the ACTIVE kids found are what a conditional rotation expects.
pub fn active_matches(active: &[&str], expected: Option<&str>) -> bool {
    match expected {
        Some(kid) => active.contains(&kid),
        None => active.is_empty(),
    }
}

/// The per-app child tables whose rows have the same status lifecycle (keys, client secrets, federated
/// credentials), shared by
/// both backends' status, delete and limit statements; also what a [`StoreError::LimitReached`] counts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AppChild {
    Keys,
    Secrets,
    Federated,
}

impl AppChild {
    pub(crate) fn table(self) -> &'static str {
        match self {
            AppChild::Keys => "app_keys",
            AppChild::Secrets => "app_secrets",
            AppChild::Federated => "federated_credentials",
        }
    }
}

impl std::fmt::Display for AppChild {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            AppChild::Keys => "keys",
            AppChild::Secrets => "client secrets",
            AppChild::Federated => "federated credentials",
        })
    }
}
