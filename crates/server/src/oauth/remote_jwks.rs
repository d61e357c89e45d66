//! Keys of clients registered with a `jwks_uri`, fetched over HTTP and cached.
//!
//! A cached set is used for `jwks_uri_cache_seconds`; an unknown `kid` may force a refetch at most once per
//! `jwks_uri_refetch_seconds` per client, so a stream of bogus assertions cannot turn tollgate into a
//! request amplifier. Answers are bounded in size, time and number of keys; redirects are not followed.
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
}

struct Entry {
    uri: String,
    keys: Arc<Vec<ClientKey>>,
    fetched: Instant,
}

/// The per-client cache of remote key sets.
pub struct RemoteJwks {
    http: reqwest::Client,
    ttl: Duration,
    min_refetch: Duration,
    entries: Mutex<HashMap<String, Entry>>,
}

impl RemoteJwks {
    /// A cache with these freshness rules.
    pub fn new(ttl_secs: u64, min_refetch_secs: u64) -> Self {
        let http = reqwest::Client::builder()
            .timeout(Duration::from_secs(5))
            .connect_timeout(Duration::from_secs(3))
            .redirect(reqwest::redirect::Policy::none())
            .user_agent(concat!("tollgate/", env!("CARGO_PKG_VERSION")))
            .build()
            .unwrap_or_else(|_| reqwest::Client::new());
        RemoteJwks {
            http,
            ttl: Duration::from_secs(ttl_secs),
            min_refetch: Duration::from_secs(min_refetch_secs),
            entries: Mutex::new(HashMap::new()),
        }
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

    /// Forgets a client's cached set (its registration changed).
    pub fn forget(&self, client_id: &str) {
        if let Ok(mut entries) = self.entries.lock() {
            entries.remove(client_id);
        }
    }

    async fn fetch(&self, uri: &str) -> Result<Vec<ClientKey>, RemoteJwksError> {
        let mut resp = self
            .http
            .get(uri)
            .header("accept", "application/json")
            .send()
            .await
            .map_err(|e| RemoteJwksError::Fetch(e.without_url().to_string()))?;
        if !resp.status().is_success() {
            return Err(RemoteJwksError::Fetch(format!("HTTP {}", resp.status().as_u16())));
        }
        let mut body = Vec::new();
        while let Some(chunk) = resp.chunk().await.map_err(|e| RemoteJwksError::Fetch(e.without_url().to_string()))? {
            if body.len() + chunk.len() > MAX_JWKS_BYTES {
                return Err(RemoteJwksError::Invalid(format!("larger than {MAX_JWKS_BYTES} bytes")));
            }
            body.extend_from_slice(&chunk);
        }
        let text = String::from_utf8(body).map_err(|_| RemoteJwksError::Invalid("not UTF-8".into()))?;
        let jwks = Jwks::from_json(&text).map_err(|e| RemoteJwksError::Invalid(e.to_string()))?;
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
            keys.push(ClientKey { kid: jwk.kid.clone(), key });
        }
        if keys.is_empty() {
            return Err(RemoteJwksError::Empty);
        }
        Ok(keys)
    }
}
