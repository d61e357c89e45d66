//! Keys of clients registered with a `jwks_uri`, fetched over HTTP and cached.
//!
//! A cached set is used for `jwks_uri_cache_seconds`; an unknown `kid` may force a refetch at most once per
//! `jwks_uri_refetch_seconds` per client, so a stream of bogus assertions cannot turn tollgate into a
//! request amplifier. Fetches go through [`tollgate_fetch::Fetcher`] (the outbound policy: https, public
//! addresses only, no redirects, bounded size and time, one fetch per URL at a time, failures remembered
//! for `jwks_uri_failure_cache_seconds`); a document that is fetched but unusable is remembered as long.
//!
//! The keys of federated credentials' external issuers come through the same cache and the same rules
//! ([`RemoteJwks::issuer_keys`]): a configured `jwks_uri` (Kubernetes), or the one named by the issuer's
//! discovery document (`{issuer}/.well-known/openid-configuration`, also cached, whose `issuer` must be
//! the issuer itself). They are cached by URL, not by app, so apps trusting one issuer share one fetch.
use crate::cache::ClientKey;
use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use tollgate_jose::Jwks;

/// Largest JWKS document accepted from a `jwks_uri`.
pub const MAX_JWKS_BYTES: usize = 256 * 1024;
/// Most keys used from one `jwks_uri`.
pub const MAX_JWKS_KEYS: usize = 50;

/// Why a client's remote keys are not available.
#[derive(Debug, thiserror::Error)]
pub enum RemoteJwksError {
    #[error("fetching the jwks_uri failed: {0}")]
    Fetch(String),
    #[error("the client JWKSet is invalid: {0}")]
    Invalid(String),
    #[error("the JWKSet from jwks_uri contains no key")]
    Empty,
    #[error("the JWKSet from jwks_uri has duplicate kids")]
    DuplicateKid,
    #[error("the issuer's discovery document is unusable: {0}")]
    Discovery(String),
}

/// Largest discovery document accepted from an external issuer.
pub const MAX_DISCOVERY_BYTES: usize = 256 * 1024;

struct Entry {
    uri: String,
    keys: Arc<Vec<ClientKey>>,
    fetched: Instant,
}

/// The per-client cache of remote key sets.
pub struct RemoteJwks {
    fetcher: tollgate_fetch::Fetcher,
    ttl: Duration,
    min_refetch: Duration,
    entries: Mutex<HashMap<String, Entry>>,
    /// URLs whose document was fetched but unusable, and when (transport failures are the fetcher's).
    invalid: Mutex<HashMap<String, (Instant, String)>>,
    failure_ttl: Duration,
    /// External issuers' `jwks_uri` from their discovery documents, and when each was read.
    discovered: Mutex<HashMap<String, (String, Instant)>>,
    /// Fetch outcomes, for the `tollgate_outbound_fetches` metric.
    outcomes: prometheus_client::metrics::family::Family<
        crate::metrics::FetchLabels,
        prometheus_client::metrics::counter::Counter,
    >,
}

impl RemoteJwks {
    /// A cache with these freshness rules, fetching through `fetcher`.
    pub fn new(fetcher: tollgate_fetch::Fetcher, ttl_secs: u64, min_refetch_secs: u64, failure_secs: u64) -> Self {
        RemoteJwks {
            fetcher,
            ttl: Duration::from_secs(ttl_secs),
            min_refetch: Duration::from_secs(min_refetch_secs),
            entries: Mutex::new(HashMap::new()),
            invalid: Mutex::new(HashMap::new()),
            failure_ttl: Duration::from_secs(failure_secs),
            discovered: Mutex::new(HashMap::new()),
            outcomes: Default::default(),
        }
    }

    /// The fetch outcome counters (registered with the metrics).
    pub(crate) fn outcomes(
        &self,
    ) -> prometheus_client::metrics::family::Family<
        crate::metrics::FetchLabels,
        prometheus_client::metrics::counter::Counter,
    > {
        self.outcomes.clone()
    }

    fn count(&self, result: &str) {
        self.outcomes.get_or_create(&crate::metrics::FetchLabels { result: result.to_string() }).inc();
    }

    /// The outbound fetch client (and its policy).
    pub fn fetcher(&self) -> &tollgate_fetch::Fetcher {
        &self.fetcher
    }

    fn cached(&self, client_id: &str, uri: &str) -> Option<(Arc<Vec<ClientKey>>, Instant)> {
        let entries = self.entries.lock().ok()?;
        entries.get(client_id).filter(|e| e.uri == uri).map(|e| (e.keys.clone(), e.fetched))
    }

    /// The client's keys: from the cache when fresh, else fetched. With `want_kid` not in the cached set,
    /// refetches once if the last fetch is older than the refetch interval.
    pub async fn keys(
        &self,
        client_id: &str,
        uri: &str,
        want_kid: Option<&str>,
    ) -> Result<Arc<Vec<ClientKey>>, RemoteJwksError> {
        if let Some((keys, fetched)) = self.cached(client_id, uri) {
            let age = fetched.elapsed();
            let has_kid = want_kid.is_none_or(|kid| keys.iter().any(|k| k.kid.as_deref() == Some(kid)));
            if age < self.ttl && (has_kid || age < self.min_refetch) {
                return Ok(keys);
            }
        }
        let keys = Arc::new(self.fetch(uri).await?);
        if let Ok(mut entries) = self.entries.lock() {
            entries.insert(
                client_id.to_string(),
                Entry { uri: uri.to_string(), keys: keys.clone(), fetched: Instant::now() },
            );
        }
        Ok(keys)
    }

    /// The keys of an external issuer (a federated credential's): from `jwks_uri` when the credential
    /// names one, else from the issuer's discovery document. Cached and refetched on an unknown `kid` as
    /// [`RemoteJwks::keys`] does, under one cache entry per key URL.
    pub async fn issuer_keys(
        &self,
        issuer: &str,
        jwks_uri: Option<&str>,
        want_kid: Option<&str>,
    ) -> Result<Arc<Vec<ClientKey>>, RemoteJwksError> {
        let uri = match jwks_uri {
            Some(uri) => uri.to_string(),
            None => self.discover(issuer).await?,
        };
        self.keys(&format!("federated {uri}"), &uri, want_kid).await
    }

    /// The `jwks_uri` of `issuer`'s discovery document (cached as long as key sets are).
    async fn discover(&self, issuer: &str) -> Result<String, RemoteJwksError> {
        let cached = self
            .discovered
            .lock()
            .ok()
            .and_then(|m| m.get(issuer).filter(|(_, at)| at.elapsed() < self.ttl).map(|(uri, _)| uri.clone()));
        if let Some(uri) = cached {
            return Ok(uri);
        }
        let url = format!("{}/.well-known/openid-configuration", issuer.trim_end_matches('/'));
        let fetched = self.fetcher.get(&url).await;
        self.count(match &fetched {
            Ok(_) => "ok",
            Err(tollgate_fetch::FetchError::Policy(_)) => "refused",
            Err(tollgate_fetch::FetchError::RecentlyFailed(..)) => "cached_failure",
            Err(_) => "failed",
        });
        let body = fetched.map_err(|e| RemoteJwksError::Fetch(e.to_string()))?;
        if body.len() > MAX_DISCOVERY_BYTES {
            return Err(RemoteJwksError::Discovery(format!("larger than {MAX_DISCOVERY_BYTES} bytes")));
        }
        let doc: serde_json::Value =
            serde_json::from_slice(&body).map_err(|e| RemoteJwksError::Discovery(e.to_string()))?;
        // OpenID Connect Discovery §4.3: the document must name the issuer it was fetched for.
        if doc.get("issuer").and_then(|v| v.as_str()) != Some(issuer) {
            return Err(RemoteJwksError::Discovery("its issuer is not the credential's issuer".into()));
        }
        let uri = doc
            .get("jwks_uri")
            .and_then(|v| v.as_str())
            .ok_or_else(|| RemoteJwksError::Discovery("no jwks_uri".into()))?
            .to_string();
        if let Ok(mut discovered) = self.discovered.lock() {
            if discovered.len() >= 10_000 {
                discovered.clear();
            }
            discovered.insert(issuer.to_string(), (uri.clone(), Instant::now()));
        }
        Ok(uri)
    }

    /// Forgets a client's cached set (its registration changed).
    pub fn forget(&self, client_id: &str) {
        if let Ok(mut entries) = self.entries.lock() {
            entries.remove(client_id);
        }
    }

    async fn fetch(&self, uri: &str) -> Result<Vec<ClientKey>, RemoteJwksError> {
        let recent = self
            .invalid
            .lock()
            .ok()
            .and_then(|m| m.get(uri).filter(|(at, _)| at.elapsed() < self.failure_ttl).map(|(_, why)| why.clone()));
        if let Some(why) = recent {
            self.count("cached_failure");
            return Err(RemoteJwksError::Invalid(why));
        }
        let fetched = self.fetcher.get(uri).await;
        self.count(match &fetched {
            Ok(_) => "ok",
            Err(tollgate_fetch::FetchError::Policy(_)) => "refused",
            Err(tollgate_fetch::FetchError::RecentlyFailed(..)) => "cached_failure",
            Err(_) => "failed",
        });
        let body = fetched.map_err(|e| match e {
            tollgate_fetch::FetchError::TooLarge(n) => RemoteJwksError::Invalid(format!("larger than {n} bytes")),
            other => RemoteJwksError::Fetch(other.to_string()),
        })?;
        let parsed = Self::parse(&body);
        if let (Err(e), Ok(mut invalid)) = (&parsed, self.invalid.lock()) {
            if invalid.len() >= 10_000 {
                invalid.clear();
            }
            invalid.insert(uri.to_string(), (Instant::now(), e.to_string()));
        }
        parsed
    }

    fn parse(body: &[u8]) -> Result<Vec<ClientKey>, RemoteJwksError> {
        let text = std::str::from_utf8(body).map_err(|_| RemoteJwksError::Invalid("not UTF-8".into()))?;
        let jwks = Jwks::from_json(text).map_err(|e| RemoteJwksError::Invalid(e.to_string()))?;
        let mut keys = Vec::new();
        let mut kids = std::collections::HashSet::new();
        for jwk in jwks.keys.iter().take(MAX_JWKS_KEYS) {
            if jwk.use_.as_deref().is_some_and(|u| u != "sig") {
                continue;
            }
            let key = tollgate_jose::PublicKey::from_jwk(jwk).map_err(|e| RemoteJwksError::Invalid(e.to_string()))?;
            if let Some(kid) = &jwk.kid
                && !kids.insert(kid.clone())
            {
                return Err(RemoteJwksError::DuplicateKid);
            }
            keys.push(ClientKey { id: None, kid: jwk.kid.clone(), key });
        }
        if keys.is_empty() {
            return Err(RemoteJwksError::Empty);
        }
        Ok(keys)
    }
}
