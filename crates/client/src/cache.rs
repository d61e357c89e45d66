//! When a cached token may still be handed out. A token is reused until `margin` seconds before it
//! expires (Okta's Python SDK renews 5 minutes early). For short-lived tokens the margin shrinks to half
//! the lifetime, so a 300-second token is still reused for 150 seconds instead of never.
use std::sync::Arc;

use crate::TokenResponse;

/// The default refresh margin (okta-sdk-python's `oauthTokenRenewalOffset` of 5 minutes).
pub const DEFAULT_REFRESH_MARGIN_SECS: u64 = 300;

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
    fn zero_lifetime_is_never_fresh() {
        let cached = CachedToken::new(token(Some(0)), 50);
        assert!(!cached.is_fresh(50, 300));
    }
}
