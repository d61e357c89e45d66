//! The outbound HTTP client that obeys [`Policy`].
use crate::{Policy, PolicyError};
use bytes::Bytes;
use futures::FutureExt;
use futures::future::{BoxFuture, Shared};
use reqwest::dns::{Addrs, Name, Resolve, Resolving};
use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use tokio::sync::Semaphore;

/// Why a fetch failed. Cloneable: one failure is handed to every caller waiting on the same URL.
#[derive(Debug, Clone, thiserror::Error)]
pub enum FetchError {
    #[error("refused by the outbound policy: {0}")]
    Policy(#[from] PolicyError),
    #[error("{0}")]
    Http(String),
    #[error("answered HTTP {0}; redirects are not followed")]
    Redirect(u16),
    #[error("answered HTTP {0}")]
    Status(u16),
    #[error("the answer is larger than {0} bytes")]
    TooLarge(usize),
    #[error("no answer within {0} s")]
    Timeout(u64),
    #[error("a fetch of this URL failed less than {0} s ago: {1}")]
    RecentlyFailed(u64, Box<FetchError>),
}

/// The caps every fetch runs under.
#[derive(Debug, Clone)]
pub struct Limits {
    /// Time to establish the TCP (and TLS) connection.
    pub connect_timeout: Duration,
    /// Time for the whole fetch: waiting for a slot, connecting, and reading the body.
    pub total_timeout: Duration,
    /// Largest body accepted.
    pub max_body_bytes: usize,
    /// Fetches running at once, over all URLs.
    pub max_concurrent: usize,
    /// How long a failure is remembered: fetching the URL again within it answers the same failure.
    pub failure_ttl: Duration,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            connect_timeout: Duration::from_secs(3),
            total_timeout: Duration::from_secs(5),
            max_body_bytes: 256 * 1024,
            max_concurrent: 16,
            failure_ttl: Duration::from_secs(30),
        }
    }
}

/// Resolves a host once and hands reqwest only the addresses the policy allows, so the connection goes to
/// an address that was checked (a second lookup, which a rebinding DNS server could answer differently,
/// never happens).
struct PolicyResolver {
    policy: Policy,
}

impl Resolve for PolicyResolver {
    fn resolve(&self, name: Name) -> Resolving {
        let policy = self.policy;
        let host = name.as_str().to_string();
        Box::pin(async move {
            let found: Vec<SocketAddr> = tokio::net::lookup_host((host.as_str(), 0)).await?.collect();
            let allowed: Vec<SocketAddr> = found.into_iter().filter(|a| policy.allows_ip(a.ip())).collect();
            if allowed.is_empty() {
                return Err(Box::new(PolicyError::NoPublicAddress) as Box<dyn std::error::Error + Send + Sync>);
            }
            Ok(Box::new(allowed.into_iter()) as Addrs)
        })
    }
}

type Outcome = Result<Bytes, FetchError>;

struct Inner {
    http: reqwest::Client,
    policy: Policy,
    limits: Limits,
    permits: Semaphore,
    in_flight: Mutex<HashMap<String, Shared<BoxFuture<'static, Outcome>>>>,
    failures: Mutex<HashMap<String, (Instant, FetchError)>>,
}

/// Most remembered failures; past it, expired ones are dropped, then all.
const MAX_FAILURES: usize = 10_000;

/// An HTTP GET client under a [`Policy`] and [`Limits`]. Cheap to clone.
#[derive(Clone)]
pub struct Fetcher {
    inner: Arc<Inner>,
}

impl Fetcher {
    /// A client for `policy` within `limits`.
    pub fn new(policy: Policy, limits: Limits) -> Result<Fetcher, FetchError> {
        let http = reqwest::Client::builder()
            .dns_resolver(Arc::new(PolicyResolver { policy }))
            .no_proxy()
            .redirect(reqwest::redirect::Policy::none())
            .connect_timeout(limits.connect_timeout)
            .timeout(limits.total_timeout)
            .user_agent(concat!("tollgate/", env!("CARGO_PKG_VERSION")))
            .build()
            .map_err(|e| FetchError::Http(e.to_string()))?;
        let permits = Semaphore::new(limits.max_concurrent.max(1));
        Ok(Fetcher {
            inner: Arc::new(Inner {
                http,
                policy,
                limits,
                permits,
                in_flight: Mutex::new(HashMap::new()),
                failures: Mutex::new(HashMap::new()),
            }),
        })
    }

    /// The policy this client enforces.
    pub fn policy(&self) -> Policy {
        self.inner.policy
    }

    /// GETs `url` (accepting JSON) and returns its body. Callers asking for the same URL while a fetch of it
    /// runs share that fetch; a failure is answered again without fetching for [`Limits::failure_ttl`].
    pub async fn get(&self, url: &str) -> Result<Bytes, FetchError> {
        if let Some(failure) = self.inner.recent_failure(url) {
            return Err(failure);
        }
        let shared = {
            let Ok(mut in_flight) = self.inner.in_flight.lock() else {
                return Err(FetchError::Http("fetch state unavailable".into()));
            };
            match in_flight.get(url) {
                Some(running) => running.clone(),
                None => {
                    // Spawned, so the fetch finishes (and its outcome is recorded) even if every caller
                    // gives up; the task takes the map's lock to finish, so it cannot finish before this
                    // entry is in place.
                    let inner = self.inner.clone();
                    let key = url.to_string();
                    let task = tokio::spawn(async move {
                        let outcome = inner.fetch_once(&key).await;
                        inner.finish(&key, &outcome);
                        outcome
                    });
                    let fut: BoxFuture<'static, Outcome> = async move {
                        task.await.unwrap_or_else(|e| Err(FetchError::Http(format!("fetch task failed: {e}"))))
                    }
                    .boxed();
                    let shared = fut.shared();
                    in_flight.insert(url.to_string(), shared.clone());
                    shared
                }
            }
        };
        shared.await
    }
}

impl Inner {
    fn recent_failure(&self, url: &str) -> Option<FetchError> {
        let failures = self.failures.lock().ok()?;
        let (at, err) = failures.get(url)?;
        (at.elapsed() < self.limits.failure_ttl)
            .then(|| FetchError::RecentlyFailed(self.limits.failure_ttl.as_secs(), Box::new(err.clone())))
    }

    fn finish(&self, url: &str, outcome: &Outcome) {
        if let Ok(mut in_flight) = self.in_flight.lock() {
            in_flight.remove(url);
        }
        let Ok(mut failures) = self.failures.lock() else { return };
        match outcome {
            Ok(_) => {
                failures.remove(url);
            }
            Err(e) => {
                if failures.len() >= MAX_FAILURES {
                    let ttl = self.limits.failure_ttl;
                    failures.retain(|_, (at, _)| at.elapsed() < ttl);
                    if failures.len() >= MAX_FAILURES {
                        failures.clear();
                    }
                }
                failures.insert(url.to_string(), (Instant::now(), e.clone()));
            }
        }
    }

    async fn fetch_once(&self, url: &str) -> Outcome {
        let checked = self.policy.check_url(url)?;
        let total = self.limits.total_timeout;
        let work = async {
            let _permit = self.permits.acquire().await.map_err(|e| FetchError::Http(e.to_string()))?;
            let resp = self
                .http
                .get(checked)
                .header("accept", "application/json")
                .send()
                .await
                .map_err(|e| FetchError::Http(describe(&e)))?;
            let status = resp.status();
            if status.is_redirection() {
                return Err(FetchError::Redirect(status.as_u16()));
            }
            if !status.is_success() {
                return Err(FetchError::Status(status.as_u16()));
            }
            read_capped(resp, self.limits.max_body_bytes).await
        };
        match tokio::time::timeout(total, work).await {
            Ok(outcome) => outcome,
            Err(_) => Err(FetchError::Timeout(total.as_secs())),
        }
    }
}

/// A reqwest error with its causes (the policy's refusal is the resolver's error, two levels down).
fn describe(e: &reqwest::Error) -> String {
    let mut text = if e.is_timeout() { "timed out".to_string() } else { e.to_string() };
    let mut source = std::error::Error::source(e);
    while let Some(s) = source {
        text.push_str(": ");
        text.push_str(&s.to_string());
        source = s.source();
    }
    text
}

/// Reads a response body, refusing it as soon as it grows past `max` bytes (a declared `Content-Length`
/// over the cap is refused before reading). Errors carry no URL.
pub async fn read_capped(mut resp: reqwest::Response, max: usize) -> Result<Bytes, FetchError> {
    if resp.content_length().is_some_and(|n| n > max as u64) {
        return Err(FetchError::TooLarge(max));
    }
    let mut body = Vec::new();
    while let Some(chunk) = resp.chunk().await.map_err(|e| FetchError::Http(describe(&e.without_url())))? {
        if body.len() + chunk.len() > max {
            return Err(FetchError::TooLarge(max));
        }
        body.extend_from_slice(&chunk);
    }
    Ok(Bytes::from(body))
}
