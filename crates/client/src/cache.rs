//! When a cached token may still be handed out, what it is cached under, and the single-flight slot that
//! holds it.
//!
//! A token is reused until it is due for renewal by the [`RefreshAhead`] policy: by default `margin`
//! seconds before it expires (Okta's Python SDK renews 5 minutes early; for short-lived tokens the margin
//! shrinks to half the lifetime, so a 300-second token is still reused for 150 seconds instead of never),
//! or, as the agent does, after a share of its lifetime. A [`TokenSlot`] lets one caller fetch while the
//! others wait for its result ("single flight"); a token that is due but not yet expired keeps being
//! served while someone else renews it, so a renewal ahead of expiry blocks nobody.
use std::future::Future;
use std::sync::Arc;
use std::sync::atomic::{AtomicI64, Ordering};

use serde::{Deserialize, Serialize};

use crate::{TokenEndpoint, TokenResponse};

/// The default refresh margin (okta-sdk-python's `oauthTokenRenewalOffset` of 5 minutes).
pub const DEFAULT_REFRESH_MARGIN_SECS: u64 = 300;

/// A token past its renewal point is still served while another caller renews it, until this many
/// seconds before it expires (a token about to expire is not worth handing out).
pub const MIN_REMAINING_SECS: i64 = 5;

/// When a token is renewed.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum RefreshAhead {
    /// This many seconds before expiry, but at most half the lifetime before it.
    Margin(u64),
    /// Once this share of the lifetime (0 < share < 1) has passed: 0.75 renews a one-hour token after 45
    /// minutes.
    Share(f64),
}

impl Default for RefreshAhead {
    fn default() -> Self {
        RefreshAhead::Margin(DEFAULT_REFRESH_MARGIN_SECS)
    }
}

/// A token and when we got it.
#[derive(Debug, Clone)]
pub struct CachedToken {
    pub response: Arc<TokenResponse>,
    /// Seconds since the epoch when the request that returned it was sent.
    pub obtained_at: i64,
}

impl CachedToken {
    pub fn new(response: TokenResponse, obtained_at: i64) -> Self {
        CachedToken { response: Arc::new(response), obtained_at }
    }

    /// When the token expires, by the server's `expires_in`.
    pub fn expires_at(&self) -> i64 {
        self.obtained_at.saturating_add(i64::try_from(self.response.lifetime_secs()).unwrap_or(i64::MAX))
    }

    /// The margin actually applied: `margin`, but at most half the token's lifetime.
    pub fn effective_margin(&self, margin_secs: u64) -> i64 {
        let half_life = self.response.lifetime_secs() / 2;
        i64::try_from(margin_secs.min(half_life)).unwrap_or(0)
    }

    /// Whether the token may still be used at `now`.
    pub fn is_fresh(&self, now: i64, margin_secs: u64) -> bool {
        now < self.expires_at().saturating_sub(self.effective_margin(margin_secs))
    }

    /// When the token is due for renewal under `policy`.
    pub fn refresh_at(&self, policy: RefreshAhead) -> i64 {
        match policy {
            RefreshAhead::Margin(margin) => self.expires_at().saturating_sub(self.effective_margin(margin)),
            RefreshAhead::Share(share) => {
                let share = if share.is_finite() { share.clamp(0.0, 1.0) } else { 1.0 };
                let lifetime = self.response.lifetime_secs() as f64;
                self.obtained_at.saturating_add((lifetime * share) as i64)
            }
        }
    }

    /// Whether the token is not yet due for renewal at `now`.
    pub fn is_fresh_under(&self, now: i64, policy: RefreshAhead) -> bool {
        now < self.refresh_at(policy)
    }

    /// Whether the token can still be handed out at `now` (due for renewal or not).
    pub fn is_usable(&self, now: i64) -> bool {
        now < self.expires_at().saturating_sub(MIN_REMAINING_SECS)
    }
}

/// What a token is cached under: the agent's cache and the on-disk cache are keyed by it, so a token is
/// never handed to a request for another org, authorization server, client, scope set or DPoP key.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct CacheKey {
    /// The org (scheme, host and port of the token endpoint).
    pub org: String,
    /// The token endpoint URL (which authorization server).
    pub server: String,
    pub client_id: String,
    /// Sorted, without repeats.
    pub scopes: Vec<String>,
    /// The RFC 7638 thumbprint of the DPoP key the token is bound to; `None` for a Bearer token.
    pub dpop_jkt: Option<String>,
}

impl CacheKey {
    pub fn new(endpoint: &TokenEndpoint, client_id: &str, scopes: &[String], dpop_jkt: Option<&str>) -> Self {
        let token_url = endpoint.token_url();
        let org = url::Url::parse(token_url)
            .map(|u| u.origin().ascii_serialization())
            .unwrap_or_else(|_| token_url.to_owned());
        let mut scopes = scopes.to_vec();
        scopes.sort();
        scopes.dedup();
        CacheKey {
            org,
            server: token_url.to_owned(),
            client_id: client_id.to_owned(),
            scopes,
            dpop_jkt: dpop_jkt.map(str::to_owned),
        }
    }

    /// A file-name-safe digest of the key (base64url of SHA-256 of its JSON).
    pub fn digest(&self) -> String {
        let json = serde_json::to_vec(self).unwrap_or_default();
        tollgate_jose::sha256_b64url(&json)
    }
}

/// One cached token with single flight: whoever finds it due fetches, everyone else waits for that
/// fetch (or, while the current token is still usable, is served the current one).
#[derive(Debug, Default)]
pub struct TokenSlot {
    current: std::sync::Mutex<Option<CachedToken>>,
    flight: tokio::sync::Mutex<()>,
    /// When the slot last handed out a token (seconds since the epoch).
    last_served: AtomicI64,
}

/// Where a token handed out by a [`TokenSlot`] came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Served {
    /// Fetched by this call.
    Fetched,
    /// From the cache (possibly fetched by a concurrent caller this call waited for).
    Cached,
}

impl TokenSlot {
    /// The token held now, fresh or not.
    pub fn peek(&self) -> Option<CachedToken> {
        self.current.lock().unwrap_or_else(|p| p.into_inner()).clone()
    }

    /// Puts a token in (one read from a cache on disk, say).
    pub fn put(&self, token: CachedToken) {
        *self.current.lock().unwrap_or_else(|p| p.into_inner()) = Some(token);
    }

    /// When a token was last handed out.
    pub fn last_served(&self) -> i64 {
        self.last_served.load(Ordering::Relaxed)
    }

    /// Drops the token if it is still `access_token` (the one a server just refused); a token another
    /// caller already renewed is kept.
    pub fn invalidate(&self, access_token: &str) {
        let mut current = self.current.lock().unwrap_or_else(|p| p.into_inner());
        if current.as_ref().is_some_and(|c| c.response.access_token == access_token) {
            *current = None;
        }
    }

    fn served(&self, token: CachedToken, now: i64, how: Served) -> (CachedToken, Served) {
        self.last_served.fetch_max(now, Ordering::Relaxed);
        (token, how)
    }

    /// A token under `policy` at the time `now()` gives: the held one while it is fresh, otherwise the
    /// result of `fetch`, which runs at most once at a time for this slot.
    pub async fn get<F, Fut, E>(
        &self,
        now: impl Fn() -> i64,
        policy: RefreshAhead,
        fetch: F,
    ) -> Result<(CachedToken, Served), E>
    where
        F: FnOnce() -> Fut,
        Fut: Future<Output = Result<TokenResponse, E>>,
    {
        let t = now();
        if let Some(token) = self.peek().filter(|c| c.is_fresh_under(t, policy)) {
            return Ok(self.served(token, t, Served::Cached));
        }
        let _flight = match self.flight.try_lock() {
            Ok(guard) => guard,
            Err(_) => {
                // Someone is fetching: a token that is due but still usable is good enough meanwhile.
                if let Some(token) = self.peek().filter(|c| c.is_usable(t)) {
                    return Ok(self.served(token, t, Served::Cached));
                }
                self.flight.lock().await
            }
        };
        let t = now();
        if let Some(token) = self.peek().filter(|c| c.is_fresh_under(t, policy)) {
            return Ok(self.served(token, t, Served::Cached));
        }
        let fresh = CachedToken::new(fetch().await?, t);
        self.put(fresh.clone());
        Ok(self.served(fresh, t, Served::Fetched))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn token(expires_in: Option<u64>) -> TokenResponse {
        TokenResponse {
            token_type: "Bearer".into(),
            expires_in,
            access_token: "at".into(),
            scope: None,
            other: Default::default(),
        }
    }

    #[test]
    fn fresh_until_the_margin_before_expiry() {
        let cached = CachedToken::new(token(Some(3600)), 1000);
        assert!(cached.is_fresh(1000, 300));
        assert!(cached.is_fresh(1000 + 3600 - 301, 300));
        assert!(!cached.is_fresh(1000 + 3600 - 300, 300));
        assert!(!cached.is_fresh(1000 + 3600, 300));
    }

    #[test]
    fn short_tokens_use_half_their_lifetime_as_margin() {
        let cached = CachedToken::new(token(Some(300)), 0);
        assert_eq!(cached.effective_margin(300), 150);
        assert!(cached.is_fresh(149, 300));
        assert!(!cached.is_fresh(150, 300));
    }

    #[test]
    fn missing_expires_in_means_one_hour() {
        let cached = CachedToken::new(token(None), 0);
        assert_eq!(cached.expires_at(), 3600);
    }

    #[test]
    fn a_share_of_the_lifetime_sets_the_renewal() {
        let cached = CachedToken::new(token(Some(3600)), 1000);
        assert_eq!(cached.refresh_at(RefreshAhead::Share(0.75)), 1000 + 2700);
        assert!(cached.is_fresh_under(1000 + 2699, RefreshAhead::Share(0.75)));
        assert!(!cached.is_fresh_under(1000 + 2700, RefreshAhead::Share(0.75)));
        assert!(cached.is_usable(1000 + 2700), "due, but still good to hand out");
        assert!(!cached.is_usable(1000 + 3600 - MIN_REMAINING_SECS));
        assert_eq!(cached.refresh_at(RefreshAhead::Margin(300)), 1000 + 3300);
    }

    #[test]
    fn cache_keys_ignore_scope_order_and_tell_dpop_keys_apart() {
        let ep = TokenEndpoint::for_org("https://x.example", Some("default")).unwrap();
        let a = CacheKey::new(&ep, "c", &["b".into(), "a".into(), "a".into()], None);
        let b = CacheKey::new(&ep, "c", &["a".into(), "b".into()], None);
        assert_eq!(a, b);
        assert_eq!(a.digest(), b.digest());
        assert_eq!(a.org, "https://x.example");
        let bound = CacheKey::new(&ep, "c", &["a".into(), "b".into()], Some("jkt"));
        assert_ne!(a.digest(), bound.digest());
        let org = TokenEndpoint::for_org("https://x.example", None).unwrap();
        assert_ne!(CacheKey::new(&org, "c", &b.scopes, None), b, "another authorization server");
    }

    #[tokio::test]
    async fn one_fetch_for_concurrent_callers_and_none_while_fresh() {
        let slot = Arc::new(TokenSlot::default());
        let fetches = Arc::new(AtomicI64::new(0));
        let mut tasks = Vec::new();
        for _ in 0..20 {
            let (slot, fetches) = (slot.clone(), fetches.clone());
            tasks.push(tokio::spawn(async move {
                slot.get(
                    || 1000,
                    RefreshAhead::Share(0.5),
                    || async {
                        fetches.fetch_add(1, Ordering::SeqCst);
                        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
                        Ok::<_, ()>(token(Some(100)))
                    },
                )
                .await
                .map(|(_, how)| how)
            }));
        }
        let mut fetched = 0;
        for task in tasks {
            if task.await.unwrap().unwrap() == Served::Fetched {
                fetched += 1;
            }
        }
        assert_eq!((fetches.load(Ordering::SeqCst), fetched), (1, 1));
        // Past the renewal point (50 s): fetched again, before the token expires (100 s).
        let (_, how) =
            slot.get(|| 1049, RefreshAhead::Share(0.5), || async { Ok::<_, ()>(token(Some(100))) }).await.unwrap();
        assert_eq!(how, Served::Cached);
        let (renewed, how) =
            slot.get(|| 1050, RefreshAhead::Share(0.5), || async { Ok::<_, ()>(token(Some(100))) }).await.unwrap();
        assert_eq!((how, renewed.obtained_at), (Served::Fetched, 1050));
    }

    #[test]
    fn zero_lifetime_is_never_fresh() {
        let cached = CachedToken::new(token(Some(0)), 50);
        assert!(!cached.is_fresh(50, 300));
    }
}
