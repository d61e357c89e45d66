//! What a resource server expects of a token. Defaults follow Okta's verifiers where they are sound
//! (issuer exact match, `exp` required, a leeway for clock skew) and are stricter where they are not
//! (the audience must be configured explicitly or deliberately left out).
use std::time::Duration;

use tollgate_jose::Algorithm;

/// Configuration of a [`crate::Verifier`].
#[derive(Debug, Clone)]
pub struct VerifierConfig {
    /// The exact `iss` expected; also where metadata is discovered.
    pub issuer: String,
    /// `aud` must contain one of these; empty means "not checked".
    pub audiences: Vec<String>,
    /// Scopes every token must carry (on top of what a layer requires per route).
    pub required_scopes: Vec<String>,
    /// Clock skew tolerated on `exp`, `nbf`, `iat`.
    pub leeway_secs: u64,
    /// Use this JWKS URL instead of discovering it.
    pub jwks_uri: Option<String>,
    /// An unknown `kid` triggers a JWKS refetch at most this often.
    pub min_refresh_interval: Duration,
    /// Even without an unknown `kid`, keys older than this are refetched.
    pub max_key_age: Duration,
    /// Algorithms accepted in token headers (each key's own type and `alg` restrict further).
    pub algorithms: Vec<Algorithm>,
    /// How many DPoP proof `jti`s are remembered against replay (see [`crate::replay`]).
    pub dpop_replay_capacity: usize,
}

impl VerifierConfig {
    pub fn new(issuer: impl Into<String>) -> Self {
        VerifierConfig {
            issuer: issuer.into().trim_end_matches('/').to_owned(),
            audiences: Vec::new(),
            required_scopes: Vec::new(),
            leeway_secs: 60,
            jwks_uri: None,
            min_refresh_interval: Duration::from_secs(10),
            max_key_age: Duration::from_secs(3600),
            algorithms: vec![
                Algorithm::Rs256,
                Algorithm::Rs384,
                Algorithm::Rs512,
                Algorithm::Ps256,
                Algorithm::Ps384,
                Algorithm::Ps512,
                Algorithm::Es256,
                Algorithm::Es384,
                Algorithm::Es512,
            ],
            dpop_replay_capacity: crate::replay::DEFAULT_CAPACITY,
        }
    }
    pub fn audience(mut self, audience: impl Into<String>) -> Self {
        self.audiences.push(audience.into());
        self
    }
    pub fn require_scope(mut self, scope: impl Into<String>) -> Self {
        self.required_scopes.push(scope.into());
        self
    }
    pub fn leeway_secs(mut self, seconds: u64) -> Self {
        self.leeway_secs = seconds;
        self
    }
    pub fn jwks_uri(mut self, uri: impl Into<String>) -> Self {
        self.jwks_uri = Some(uri.into());
        self
    }
    pub fn min_refresh_interval(mut self, interval: Duration) -> Self {
        self.min_refresh_interval = interval;
        self
    }
    pub fn dpop_replay_capacity(mut self, capacity: usize) -> Self {
        self.dpop_replay_capacity = capacity;
        self
    }
    pub fn algorithms(mut self, algorithms: Vec<Algorithm>) -> Self {
        self.algorithms = algorithms;
        self
    }
}
