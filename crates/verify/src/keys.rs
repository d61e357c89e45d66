//! The issuer's public keys, cached. Keys are fetched on first use, refetched when a token names a `kid`
//! we do not know (key rotation) but at most once per `min_refresh_interval`, and refetched when older
//! than `max_key_age`. Concurrent refreshes collapse into one (a `tokio::sync::Mutex`); readers never
//! wait for the network while keys are fresh.
use std::sync::{Arc, RwLock};
use std::time::{Duration, Instant};

use tokio::sync::Mutex;
use tollgate_jose::{Algorithm, Jwks, PublicKey};

use crate::VerifyError;
use crate::metadata::{discover, fetch_json};

#[derive(Debug, Default)]
struct Snapshot {
    keys: Arc<Vec<PublicKey>>,
    fetched_at: Option<Instant>,
}

/// A JWKS cache for one issuer.
#[derive(Debug)]
pub struct KeyCache {
    http: reqwest::Client,
    issuer: String,
    jwks_uri: Mutex<Option<String>>,
    snapshot: RwLock<Snapshot>,
    refresh: Mutex<()>,
    min_refresh_interval: Duration,
    max_key_age: Duration,
}

impl KeyCache {
    pub fn new(
        http: reqwest::Client,
        issuer: String,
        jwks_uri: Option<String>,
        min_refresh_interval: Duration,
        max_key_age: Duration,
    ) -> Self {
        KeyCache {
            http,
            issuer,
            jwks_uri: Mutex::new(jwks_uri),
            snapshot: RwLock::new(Snapshot::default()),
            refresh: Mutex::new(()),
            min_refresh_interval,
            max_key_age,
        }
    }

    /// Keys that may verify a token with this `kid` and `alg`: the one with that kid, or (no kid) every
    /// key that allows `alg`. Refreshes once if none matches and the last fetch is old enough.
    pub async fn candidates(&self, kid: Option<&str>, alg: Algorithm) -> Result<Vec<PublicKey>, VerifyError> {
        let (keys, fetched_at) = self.current();
        let stale = fetched_at.is_none_or(|at| at.elapsed() >= self.max_key_age);
        let keys = if stale { self.refresh_if_older_than(fetched_at).await? } else { keys };
        let found = select(&keys, kid, alg);
        if !found.is_empty() {
            return Ok(found);
        }
        let (_, fetched_at) = self.current();
        if fetched_at.is_some_and(|at| at.elapsed() < self.min_refresh_interval) {
            return Err(VerifyError::UnknownKey(kid.map(str::to_owned)));
        }
        tracing::debug!(kid, "unknown kid; refetching the issuer's keys");
        let keys = self.refresh_if_older_than(fetched_at).await?;
        let found = select(&keys, kid, alg);
        if found.is_empty() { Err(VerifyError::UnknownKey(kid.map(str::to_owned))) } else { Ok(found) }
    }

    /// How many keys are cached (for tests and metrics).
    pub fn len(&self) -> usize {
        self.current().0.len()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    fn current(&self) -> (Arc<Vec<PublicKey>>, Option<Instant>) {
        match self.snapshot.read() {
            Ok(snapshot) => (snapshot.keys.clone(), snapshot.fetched_at),
            Err(poisoned) => {
                let snapshot = poisoned.into_inner();
                (snapshot.keys.clone(), snapshot.fetched_at)
            }
        }
    }

    /// Fetches the keys unless someone else did since `seen` (the fetch time the caller saw).
    async fn refresh_if_older_than(&self, seen: Option<Instant>) -> Result<Arc<Vec<PublicKey>>, VerifyError> {
        let _single_flight = self.refresh.lock().await;
        let (keys, fetched_at) = self.current();
        if fetched_at != seen && fetched_at.is_some() {
            return Ok(keys);
        }
        let uri = self.jwks_uri().await?;
        let jwks: Jwks = fetch_json(&self.http, &uri).await.map_err(VerifyError::KeysUnavailable)?;
        let keys = usable_keys(&jwks);
        let keys = Arc::new(keys);
        let mut snapshot = match self.snapshot.write() {
            Ok(guard) => guard,
            Err(poisoned) => poisoned.into_inner(),
        };
        *snapshot = Snapshot { keys: keys.clone(), fetched_at: Some(Instant::now()) };
        Ok(keys)
    }

    async fn jwks_uri(&self) -> Result<String, VerifyError> {
        let mut slot = self.jwks_uri.lock().await;
        if let Some(uri) = slot.as_ref() {
            return Ok(uri.clone());
        }
        let metadata = discover(&self.http, &self.issuer).await?;
        *slot = Some(metadata.jwks_uri.clone());
        Ok(metadata.jwks_uri)
    }
}

/// Every key of the set that is a valid public signing key; others are skipped (and logged), so one bad
/// key does not take the whole set down.
fn usable_keys(jwks: &Jwks) -> Vec<PublicKey> {
    jwks.keys
        .iter()
        .filter(|jwk| jwk.use_.as_deref().is_none_or(|u| u == "sig"))
        .filter_map(|jwk| match PublicKey::from_jwk(jwk) {
            Ok(key) => Some(key),
            Err(e) => {
                tracing::warn!(kid = jwk.kid.as_deref(), error = %e, "skipping an unusable key in the issuer's JWKS");
                None
            }
        })
        .collect()
}

fn select(keys: &[PublicKey], kid: Option<&str>, alg: Algorithm) -> Vec<PublicKey> {
    match kid {
        Some(kid) => keys.iter().filter(|k| k.kid() == Some(kid)).cloned().collect(),
        None => keys.iter().filter(|k| k.allows(alg)).cloned().collect(),
    }
}
