//! Shared server state and the notion of "which authorization server is this request for".
use crate::cache::{CachedServer, ClientCache, ServerCache};
use crate::config::Config;
use crate::oauth::nonce::Nonces;
use crate::oauth::remote_jwks::RemoteJwks;
use crate::oauth::rules::{self, ServerRules};
use crate::secrets::SecretHasher;
use crate::signing::{KeyRings, ServerKeys};
use std::sync::Arc;
use tollgate_store::{ORG_SERVER_ID, Store};

/// Everything handlers share. Cheap to clone.
#[derive(Clone)]
pub struct AppState(pub Arc<Inner>);

/// See [`AppState`].
pub struct Inner {
    pub config: Config,
    /// The org authorization server's issuer, without a trailing slash.
    pub issuer: String,
    pub store: Arc<dyn Store>,
    pub keys: KeyRings,
    pub clients: ClientCache,
    pub servers: ServerCache,
    pub hasher: SecretHasher,
    pub remote_jwks: RemoteJwks,
    /// The System Log's writer.
    pub(crate) log: crate::syslog::EventLog,
    /// Prometheus metrics.
    pub(crate) metrics: std::sync::Arc<crate::metrics::Metrics>,
    /// Issues and checks DPoP nonces (same key on every node).
    pub dpop_nonces: Nonces,
    /// Rate limits and token quotas.
    pub(crate) limiter: crate::ratelimit::Limiter,
    /// When app keys and secrets last authenticated a request, noted off the hot path.
    pub(crate) last_used: std::sync::Arc<crate::last_used::LastUsed>,
}

impl std::ops::Deref for AppState {
    type Target = Inner;
    fn deref(&self) -> &Inner {
        &self.0
    }
}

/// The authorization server a request is addressed to.
#[derive(Clone)]
pub enum AuthzServer {
    /// `/oauth2/v1/...`: issuer is the org URL; mints `okta.*` scopes from grants.
    Org,
    /// `/oauth2/{id}/v1/...`: its own issuer, audience and scopes.
    Custom(Arc<CachedServer>),
    /// `/api/v2/oauth/token`, the Access Gateway flavour of the org server: the org's issuer, keys and
    /// grants under its own rules ([`rules::OAG`]).
    Oag,
}

impl AuthzServer {
    /// Its flavour's rules.
    pub fn rules(&self) -> &'static ServerRules {
        match self {
            AuthzServer::Org => &rules::ORG,
            AuthzServer::Custom(_) => &rules::CUSTOM,
            AuthzServer::Oag => &rules::OAG,
        }
    }

    /// The id its signing keys are kept under.
    pub fn key_ring_id(&self) -> &str {
        match self {
            AuthzServer::Org | AuthzServer::Oag => ORG_SERVER_ID,
            AuthzServer::Custom(s) => &s.server.id,
        }
    }

    /// Its issuer URL.
    pub fn issuer(&self, state: &AppState) -> String {
        match self {
            AuthzServer::Org | AuthzServer::Oag => state.issuer.clone(),
            AuthzServer::Custom(s) => format!("{}/oauth2/{}", state.issuer, s.server.id),
        }
    }

    /// The base of its endpoints: `{org}/oauth2` or `{org}/oauth2/{id}` (`{org}/api/v2/oauth` for OAG).
    pub fn endpoint_base(&self, state: &AppState) -> String {
        match self {
            AuthzServer::Org => format!("{}/oauth2", state.issuer),
            AuthzServer::Oag => format!("{}/api/v2/oauth", state.issuer),
            AuthzServer::Custom(s) => format!("{}/oauth2/{}", state.issuer, s.server.id),
        }
    }

    /// The full URL of one of its `v1` endpoints (`token`, `introspect`, `revoke`, `keys`); OAG's are
    /// unversioned (`/api/v2/oauth/token`).
    pub fn endpoint(&self, state: &AppState, name: &str) -> String {
        match self {
            AuthzServer::Oag => format!("{}/{name}", self.endpoint_base(state)),
            _ => format!("{}/v1/{name}", self.endpoint_base(state)),
        }
    }

    /// The `aud` of the access tokens it issues.
    pub fn audience(&self, state: &AppState) -> serde_json::Value {
        match self {
            AuthzServer::Org | AuthzServer::Oag => serde_json::Value::String(state.issuer.clone()),
            AuthzServer::Custom(s) => match s.server.audiences.as_slice() {
                [one] => serde_json::Value::String(one.clone()),
                many => serde_json::json!(many),
            },
        }
    }

    /// Access token lifetime in seconds.
    pub fn token_lifetime(&self) -> i64 {
        match (self.rules().token_lifetime, self) {
            (Some(fixed), _) => fixed,
            (None, AuthzServer::Custom(s)) => s.server.access_token_lifetime,
            (None, _) => rules::ORG_TOKEN_LIFETIME,
        }
    }

    /// Its signing keys.
    pub fn keys(&self, state: &AppState) -> Option<Arc<ServerKeys>> {
        state.keys.get(self.key_ring_id())
    }
}
