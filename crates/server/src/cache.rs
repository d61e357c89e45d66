//! In-memory views of what the token endpoint reads: clients (with parsed keys, secret hashes, grants and
//! admin roles)
//! and custom authorization servers (with scopes, access policies and rules, and parsed custom claims).
//!
//! The token endpoint must not read the database (its one write is the replay check), so every change
//! made through the management API reloads the affected entry here at once, and a periodic full reload
//! is the safety net for changes made by other nodes.
//!
//! Loads of one cache (a full reload, one entry, a miss) are serialised: each holds the cache's load lock
//! from its database read to its install. So they install in the order they read, and a later read sees
//! at least what an earlier one saw: an older result can never overwrite a newer one (before, a full
//! reload that read before a change and installed after a reload of that change undid it). Lookups
//! (`get`) never take the load lock.
use std::collections::{HashMap, HashSet};
use std::sync::{Arc, RwLock};
use tollgate_jose::{Jwk, PublicKey};
use tollgate_store::{
    ACTIVE, AccessPolicy, App, AuthServer, Claim, ClientRecord, FederatedCredential, PolicyRule, Scope, Store,
    StoreError,
};

/// One usable public key of a client.
#[derive(Debug, Clone)]
pub struct ClientKey {
    /// The stored key's id (`pks…`), for `lastUsed`; `None` for a key fetched from a `jwks_uri`.
    pub id: Option<String>,
    pub kid: Option<String>,
    pub key: PublicKey,
}

/// A client as the token endpoint needs it.
#[derive(Debug)]
pub struct CachedClient {
    pub app: App,
    /// ACTIVE keys from the stored JWKS (a client with `jwks_uri` has none here).
    pub keys: Vec<ClientKey>,
    /// Whether the app has a stored JWKS at all (even with every key deactivated).
    pub has_jwks: bool,
    /// Hashes of ACTIVE client secrets.
    pub secret_hashes: Vec<Vec<u8>>,
    /// The ids of those secrets, in the same order (for `lastUsed`).
    pub secret_ids: Vec<String>,
    /// Scope ids granted on the org authorization server.
    pub org_grants: HashSet<String>,
    /// Types of the app's ACTIVE admin roles (`SUPER_ADMIN`, ...): what bounds its tokens on the management
    /// API, read here at every call so a removed role bites tokens already issued.
    pub roles: Vec<String>,
    /// The app's own rate-limit share and token quotas (the Apps API's `settings.tollgate`).
    pub limits: crate::ratelimit::AppLimits,
    /// The app's federated credentials (every status: a refusal says when only an INACTIVE one trusts an
    /// issuer), oldest first.
    pub federated: Vec<FederatedCredential>,
}

impl CachedClient {
    /// Whether the app is ACTIVE.
    pub fn is_active(&self) -> bool {
        self.app.status == ACTIVE
    }
}

/// Grant issuers are accepted with or without scheme and trailing slash: compare them normalized.
pub fn normalize_issuer(issuer: &str) -> &str {
    let s = issuer.strip_prefix("https://").or_else(|| issuer.strip_prefix("http://")).unwrap_or(issuer);
    s.trim_end_matches('/')
}

fn build_client(record: ClientRecord, org_issuer: &str) -> CachedClient {
    let org = normalize_issuer(org_issuer);
    let keys = record
        .keys
        .iter()
        .filter(|k| k.status == ACTIVE)
        .filter_map(|k| {
            let parsed = Jwk::from_json(&k.jwk).and_then(|jwk| PublicKey::from_jwk(&jwk));
            match parsed {
                Ok(key) => Some(ClientKey { id: Some(k.id.clone()), kid: k.kid.clone(), key }),
                Err(err) => {
                    tracing::warn!(app = %k.app_id, key = %k.id, error = %err, "stored client key unusable");
                    None
                }
            }
        })
        .collect();
    let has_jwks = !record.keys.is_empty();
    let active_secrets = record.secrets.iter().filter(|s| s.status == ACTIVE);
    let (secret_ids, secret_hashes) = active_secrets.map(|s| (s.id.clone(), s.secret_hash.clone())).unzip();
    let org_grants = record
        .grants
        .iter()
        .filter(|g| g.status == ACTIVE && normalize_issuer(&g.issuer) == org)
        .map(|g| g.scope_id.clone())
        .collect();
    let roles = record.roles.iter().filter(|r| r.status == ACTIVE).map(|r| r.role_type.clone()).collect();
    let limits = crate::ratelimit::AppLimits::from_extra(&record.app.extra);
    CachedClient {
        app: record.app,
        keys,
        has_jwks,
        secret_hashes,
        secret_ids,
        org_grants,
        roles,
        limits,
        federated: record.federated,
    }
}

/// Clients by `client_id`.
pub struct ClientCache {
    org_issuer: String,
    map: RwLock<HashMap<String, Arc<CachedClient>>>,
    /// Held from read to install by every load (see the module doc).
    loading: tokio::sync::Mutex<()>,
}

impl ClientCache {
    /// An empty cache for the org server with this issuer.
    pub fn new(org_issuer: &str) -> Self {
        ClientCache {
            org_issuer: org_issuer.to_string(),
            map: RwLock::new(HashMap::new()),
            loading: tokio::sync::Mutex::new(()),
        }
    }

    /// How many clients are cached (a metric).
    pub fn len(&self) -> usize {
        self.map.read().map(|m| m.len()).unwrap_or(0)
    }

    /// Whether no client is cached.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The cached client, if it exists.
    pub fn get(&self, client_id: &str) -> Option<Arc<CachedClient>> {
        self.map.read().ok().and_then(|m| m.get(client_id).cloned())
    }

    /// The cached client, or on a miss the stored one (then cached): an app created through another node
    /// is usable here at once, before that node's change notification arrives. A miss costs one read; a
    /// hit, none.
    pub async fn get_or_load(
        &self,
        store: &dyn Store,
        client_id: &str,
    ) -> Result<Option<Arc<CachedClient>>, StoreError> {
        if let Some(hit) = self.get(client_id) {
            return Ok(Some(hit));
        }
        let _loading = self.loading.lock().await;
        // A load that held the lock meanwhile may have brought it.
        if let Some(hit) = self.get(client_id) {
            return Ok(Some(hit));
        }
        self.load_locked(store, client_id).await
    }

    /// Replaces the whole cache with the store's contents.
    pub async fn reload_all(&self, store: &dyn Store) -> Result<usize, StoreError> {
        let _loading = self.loading.lock().await;
        let records = store.client_snapshot().await?;
        let fresh: HashMap<_, _> = records
            .into_iter()
            .map(|r| (r.app.client_id.clone(), Arc::new(build_client(r, &self.org_issuer))))
            .collect();
        let n = fresh.len();
        if let Ok(mut map) = self.map.write() {
            *map = fresh;
        }
        Ok(n)
    }

    /// Reloads one client (after a change to it), or drops it if it no longer exists; returns what is now
    /// cached for it.
    pub async fn reload(&self, store: &dyn Store, client_id: &str) -> Result<Option<Arc<CachedClient>>, StoreError> {
        let _loading = self.loading.lock().await;
        self.load_locked(store, client_id).await
    }

    /// Reads one client and installs it (or drops it); the caller holds `loading`.
    async fn load_locked(&self, store: &dyn Store, client_id: &str) -> Result<Option<Arc<CachedClient>>, StoreError> {
        let client = store.client_record(client_id).await?.map(|r| Arc::new(build_client(r, &self.org_issuer)));
        if let Ok(mut map) = self.map.write() {
            match &client {
                Some(c) => {
                    map.insert(client_id.to_string(), c.clone());
                }
                None => {
                    map.remove(client_id);
                }
            }
        }
        Ok(client)
    }
}

/// An access policy with its rules, by priority.
#[derive(Debug)]
pub struct CachedPolicy {
    pub policy: AccessPolicy,
    pub rules: Vec<PolicyRule>,
}

impl CachedPolicy {
    /// Whether the policy applies to `client_id` (`conditions.clients.include`).
    pub fn applies_to(&self, client_id: &str) -> bool {
        self.policy.clients.iter().any(|c| c == "ALL_CLIENTS" || c == client_id)
    }
}

/// A custom claim whose value expression is parsed, ready for the token endpoint.
#[derive(Debug)]
pub struct CompiledClaim {
    pub name: String,
    /// Granted with one of these scopes; empty: with any.
    pub scopes: Vec<String>,
    pub expr: crate::oauth::expr::Expr,
}

/// A custom authorization server with its scopes, access policies (with rules) and claims.
#[derive(Debug)]
pub struct CachedServer {
    pub server: AuthServer,
    pub scopes: Vec<Scope>,
    /// By priority, then age.
    pub policies: Vec<CachedPolicy>,
    /// Every claim, as stored (the management API shows them).
    pub claims: Vec<Claim>,
    /// The ACTIVE `RESOURCE` claims whose value parses: what access tokens get.
    pub token_claims: Vec<CompiledClaim>,
}

impl CachedServer {
    /// The longest access token lifetime its rules (or its own setting) can issue, in seconds: how long a
    /// retired signing key must stay published.
    pub fn longest_token_lifetime(&self) -> i64 {
        let rules = self.policies.iter().flat_map(|p| p.rules.iter()).map(|r| r.token_lifetime_minutes * 60);
        rules.fold(self.server.access_token_lifetime, i64::max)
    }
}

/// Reads one server with everything cached beside it.
async fn load_server(store: &dyn Store, server: AuthServer) -> Result<CachedServer, StoreError> {
    let scopes = store.scopes(&server.id).await?;
    let mut rules = store.policy_rules(&server.id).await?;
    rules.sort_by(|a, b| (a.priority, a.created, &a.id).cmp(&(b.priority, b.created, &b.id)));
    let policies = store
        .policies(&server.id)
        .await?
        .into_iter()
        .map(|policy| {
            let rules = rules.iter().filter(|r| r.policy_id == policy.id).cloned().collect();
            CachedPolicy { policy, rules }
        })
        .collect();
    let claims = store.claims(&server.id).await?;
    let token_claims = claims
        .iter()
        .filter(|c| c.status == ACTIVE && c.claim_type == "RESOURCE" && c.value_type == "EXPRESSION")
        .filter_map(|c| match crate::oauth::expr::parse(&c.value) {
            Ok(expr) => Some(CompiledClaim { name: c.name.clone(), scopes: c.scopes.clone(), expr }),
            Err(err) => {
                tracing::warn!(server = %c.server_id, claim = %c.id, error = %err, "stored claim value unusable");
                None
            }
        })
        .collect();
    Ok(CachedServer { server, scopes, policies, claims, token_claims })
}

/// Custom authorization servers by id.
#[derive(Default)]
pub struct ServerCache {
    map: RwLock<HashMap<String, Arc<CachedServer>>>,
    /// Held from read to install by every load (see the module doc).
    loading: tokio::sync::Mutex<()>,
}

impl ServerCache {
    /// The cached server, if it exists.
    pub fn get(&self, id: &str) -> Option<Arc<CachedServer>> {
        self.map.read().ok().and_then(|m| m.get(id).cloned())
    }

    /// Every cached server.
    pub fn all(&self) -> Vec<Arc<CachedServer>> {
        self.map.read().map(|m| m.values().cloned().collect()).unwrap_or_default()
    }

    /// Reloads every server and its scopes.
    pub async fn reload_all(&self, store: &dyn Store) -> Result<(), StoreError> {
        let _loading = self.loading.lock().await;
        let mut fresh = HashMap::new();
        for server in store.auth_servers().await? {
            fresh.insert(server.id.clone(), Arc::new(load_server(store, server).await?));
        }
        if let Ok(mut map) = self.map.write() {
            *map = fresh;
        }
        Ok(())
    }

    /// Reloads one server (or drops it when deleted).
    pub async fn reload(&self, store: &dyn Store, id: &str) -> Result<(), StoreError> {
        let _loading = self.loading.lock().await;
        let server = store.auth_server(id).await?;
        let entry = match server {
            Some(server) => Some(Arc::new(load_server(store, server).await?)),
            None => None,
        };
        if let Ok(mut map) = self.map.write() {
            match entry {
                Some(e) => {
                    map.insert(id.to_string(), e);
                }
                None => {
                    map.remove(id);
                }
            }
        }
        Ok(())
    }
}
