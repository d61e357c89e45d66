//! The rows tollgate keeps. Plain data: the server gives them meaning.
use serde::{Deserialize, Serialize};

/// Lifecycle status shared by apps, app keys, secrets and authorization servers.
pub const ACTIVE: &str = "ACTIVE";
/// See [`ACTIVE`].
pub const INACTIVE: &str = "INACTIVE";

/// The server id under which the org authorization server's signing keys are kept.
pub const ORG_SERVER_ID: &str = "org";

/// A custom authorization server (`/oauth2/{id}`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AuthServer {
    pub id: String,
    pub name: String,
    pub description: String,
    pub audiences: Vec<String>,
    /// Access token lifetime in seconds (300..=86400): the lifetime of the "Default Policy Rule" made with
    /// the server; tokens get their lifetime from the policy rule that matched.
    pub access_token_lifetime: i64,
    pub status: String,
    /// `AUTO` (scheduled signing-key rotation) or `MANUAL` (rotated only on request).
    pub rotation_mode: String,
    pub created: i64,
    pub last_updated: i64,
}

/// A scope of a custom authorization server.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, sqlx::FromRow)]
pub struct Scope {
    pub id: String,
    pub server_id: String,
    pub name: String,
    pub description: String,
    pub is_default: bool,
    /// `ALL_CLIENTS` (listed in discovery) or `NO_CLIENTS`.
    pub metadata_publish: String,
    pub created: i64,
    pub last_updated: i64,
}

/// One access policy of a custom authorization server: which clients it applies to. Policies are evaluated
/// by `priority` (1 first); the first ACTIVE one that applies to the client decides, by its rules.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AccessPolicy {
    pub id: String,
    pub server_id: String,
    pub name: String,
    pub description: String,
    pub status: String,
    pub priority: i64,
    /// Client ids, or `ALL_CLIENTS`.
    pub clients: Vec<String>,
    pub created: i64,
    pub last_updated: i64,
}

/// A rule of an access policy: for which grant types and scopes it applies, and the token it issues.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PolicyRule {
    pub id: String,
    pub server_id: String,
    pub policy_id: String,
    pub name: String,
    pub status: String,
    pub priority: i64,
    pub grant_types: Vec<String>,
    /// Scope names, or `*` for every scope.
    pub scopes: Vec<String>,
    /// 5..=1440.
    pub token_lifetime_minutes: i64,
    pub created: i64,
    pub last_updated: i64,
}

/// A custom claim of an authorization server's access tokens.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Claim {
    pub id: String,
    pub server_id: String,
    pub name: String,
    pub status: String,
    /// `RESOURCE` (access tokens).
    pub claim_type: String,
    /// `EXPRESSION`.
    pub value_type: String,
    /// The expression's source text; the server parses it.
    pub value: String,
    /// Included only when one of these scopes is granted; empty: with any scope.
    pub scopes: Vec<String>,
    pub always_include: bool,
    pub created: i64,
    pub last_updated: i64,
}

/// Status of an authorization server's signing key.
pub mod key_status {
    /// Published ahead of use; becomes ACTIVE at the next rotation.
    pub const NEXT: &str = "NEXT";
    /// Signs new tokens.
    pub const ACTIVE: &str = "ACTIVE";
    /// No longer signs; published until `retire_at`, so tokens it signed still verify.
    pub const EXPIRED: &str = "EXPIRED";
}

/// An authorization server's token-signing key.
#[derive(Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct SigningKey {
    pub kid: String,
    pub server_id: String,
    pub status: String,
    /// PKCS#8 DER.
    pub private_key: Vec<u8>,
    pub created: i64,
    pub activated: Option<i64>,
    pub retire_at: Option<i64>,
}

impl std::fmt::Debug for SigningKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SigningKey")
            .field("kid", &self.kid)
            .field("server_id", &self.server_id)
            .field("status", &self.status)
            .finish_non_exhaustive()
    }
}

/// A service app: one record, seen as an Apps-API app (`id`) and as an OAuth client (`client_id`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct App {
    pub id: String,
    pub client_id: String,
    pub name: String,
    pub status: String,
    pub application_type: String,
    /// `private_key_jwt`, `client_secret_basic`, `client_secret_post`, `none`.
    pub auth_method: String,
    pub grant_types: Vec<String>,
    pub jwks_uri: Option<String>,
    pub dpop_bound: bool,
    /// Other client metadata kept as given (`response_types`, `redirect_uris`, `label`, ...).
    pub extra: serde_json::Map<String, serde_json::Value>,
    pub created: i64,
    pub last_updated: i64,
    /// Which of the app's access tokens are still good: tokens carry the generation they were issued
    /// under, and the store bumps it whenever the app leaves ACTIVE (never written from this field, so a
    /// stale copy cannot roll it back). 0 for a new app.
    #[serde(default)]
    pub token_generation: i64,
}

/// One public key registered for an app.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, sqlx::FromRow)]
pub struct AppKey {
    pub id: String,
    pub app_id: String,
    pub kid: Option<String>,
    pub status: String,
    /// The public JWK as JSON text.
    pub jwk: String,
    pub created: i64,
    pub last_updated: i64,
}

/// A client secret, stored only as a keyed hash.
#[derive(Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct AppSecret {
    pub id: String,
    pub app_id: String,
    pub secret_hash: Vec<u8>,
    pub status: String,
    pub created: i64,
    pub last_updated: i64,
}

impl std::fmt::Debug for AppSecret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AppSecret").field("id", &self.id).field("status", &self.status).finish_non_exhaustive()
    }
}

/// One use of an app credential (a key's or a secret's id) to authenticate, at `at` (Unix ms).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CredentialUse {
    pub app_id: String,
    pub credential_id: String,
    pub at: i64,
}

/// An app's grant of a scope (`okta.users.read`, ...) on an issuer.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, sqlx::FromRow)]
pub struct Grant {
    pub id: String,
    pub app_id: String,
    pub scope_id: String,
    pub issuer: String,
    pub status: String,
    pub source: String,
    pub created: i64,
    pub last_updated: i64,
}

/// An app with everything the token endpoint needs to authenticate it and pick its scopes.
#[derive(Debug, Clone)]
pub struct ClientRecord {
    pub app: App,
    pub keys: Vec<AppKey>,
    pub secrets: Vec<AppSecret>,
    pub grants: Vec<Grant>,
    /// Admin roles assigned to the app: they bound what its access tokens may do on the management API.
    pub roles: Vec<RoleAssignment>,
    /// External issuers whose tokens authenticate the app (workload identity federation).
    pub federated: Vec<FederatedCredential>,
}

/// A federated credential of an app: tokens of `issuer` whose `sub`, `aud` and claims match authenticate
/// the app at the token endpoint (workload identity federation). Matching is the server's; the store
/// keeps the row.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FederatedCredential {
    pub id: String,
    pub app_id: String,
    pub name: String,
    /// The external issuer, exactly as its tokens' `iss`.
    pub issuer: String,
    /// The `sub` the token must have: exact, or a pattern with `*` wildcards.
    pub subject: String,
    /// Accepted `aud` values; empty: the token endpoint's issuer.
    pub audiences: Vec<String>,
    /// More conditions: claim (a `/`-separated path into nested objects) -> pattern.
    pub claims: serde_json::Map<String, serde_json::Value>,
    /// The issuer's keys, for issuers without discovery (Kubernetes); `None`: from discovery.
    pub jwks_uri: Option<String>,
    /// Oldest `iat` accepted, in seconds before now.
    pub max_token_age: i64,
    pub status: String,
    pub created: i64,
    pub last_updated: i64,
}

/// An admin role (Okta's standard role type, e.g. `SUPER_ADMIN`) assigned to a service app.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, sqlx::FromRow)]
pub struct RoleAssignment {
    pub id: String,
    pub app_id: String,
    /// The role type as Okta names it; the server gives it meaning.
    pub role_type: String,
    pub status: String,
    pub created: i64,
    pub last_updated: i64,
}

/// An admin API token (`Authorization: SSWS ...`), stored only as a keyed hash.
#[derive(Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct ApiToken {
    pub id: String,
    pub name: String,
    pub token_hash: Vec<u8>,
    pub created: i64,
    /// The admin role type the token acts with (`SUPER_ADMIN`, `READ_ONLY_ADMIN`, ...).
    pub role: String,
}

impl std::fmt::Debug for ApiToken {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ApiToken")
            .field("id", &self.id)
            .field("name", &self.name)
            .field("role", &self.role)
            .finish_non_exhaustive()
    }
}

/// A user (the example protected resource).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct User {
    pub id: String,
    pub login: String,
    pub status: String,
    pub profile: serde_json::Map<String, serde_json::Value>,
    pub created: i64,
    pub activated: Option<i64>,
    pub status_changed: Option<i64>,
    pub last_login: Option<i64>,
    pub last_updated: i64,
    pub password_changed: Option<i64>,
}

/// One node's count of tokens issued to one app in one quota window (rate limits and quotas across
/// nodes: migration `0005`/`0006`). As read back summed over the other nodes, `node_id` is empty.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct QuotaUsage {
    pub node_id: String,
    pub app_id: String,
    /// `hour` or `day`.
    pub period: String,
    /// The window's start (Unix milliseconds, a UTC hour or day boundary).
    pub window_start: i64,
    pub count: i64,
}

/// A local admin user of the Admin Console: a login, an argon2id password hash (PHC string) and the admin
/// role type it acts with.
#[derive(Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct AdminUser {
    pub id: String,
    pub login: String,
    pub password_hash: String,
    pub role: String,
    pub created: i64,
    pub last_updated: i64,
}

impl std::fmt::Debug for AdminUser {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AdminUser")
            .field("id", &self.id)
            .field("login", &self.login)
            .field("role", &self.role)
            .finish_non_exhaustive()
    }
}

/// A signed-in Admin Console session, found by the SHA-256 of the id its cookie holds.
#[derive(Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct ConsoleSession {
    pub id_hash: Vec<u8>,
    /// The synchronizer CSRF token every state-changing form of this session must carry.
    pub csrf_token: String,
    /// `user` (an [`AdminUser`]) or `api_token` (an [`ApiToken`]).
    pub principal_kind: String,
    /// The admin user's or API token's id.
    pub principal_id: String,
    pub created: i64,
    pub expires: i64,
}

impl std::fmt::Debug for ConsoleSession {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ConsoleSession")
            .field("principal_kind", &self.principal_kind)
            .field("principal_id", &self.principal_id)
            .field("expires", &self.expires)
            .finish_non_exhaustive()
    }
}
