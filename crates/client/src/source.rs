//! The token source: gets client-credentials tokens, caches them, and shares one refresh between
//! concurrent callers.
//!
//! Single flight is a `tokio::sync::Mutex` around the cache slot: whoever finds the token stale refreshes
//! while holding the lock, and everyone queued behind it then finds the new token. The lock is held across
//! the HTTP request on purpose; that is the point.
use std::sync::Arc;

use reqwest::header::{ACCEPT, AUTHORIZATION};
use tokio::sync::Mutex;

use crate::cache::{CachedToken, DEFAULT_REFRESH_MARGIN_SECS};
use crate::dpop::{DPOP_HEADER, DpopKey, MAX_NONCE_RETRIES, NonceScope, USE_DPOP_NONCE};
use crate::retry::{RetryPolicy, retry_headers};
use crate::{ClientAuth, ClientError, Clock, SystemClock, TokenEndpoint, TokenResponse, USER_AGENT};

const CONTEXT: &str = "token request";

/// Gets and caches access tokens for one client, one endpoint and one set of scopes.
#[derive(Debug)]
pub struct TokenSource {
    http: reqwest::Client,
    endpoint: TokenEndpoint,
    auth: ClientAuth,
    scopes: Vec<String>,
    retry: RetryPolicy,
    refresh_margin_secs: u64,
    clock: Arc<dyn Clock>,
    dpop: Option<DpopKey>,
    cache: Mutex<Option<CachedToken>>,
}

/// Builds a [`TokenSource`].
#[derive(Debug)]
pub struct TokenSourceBuilder {
    http: Option<reqwest::Client>,
    endpoint: TokenEndpoint,
    auth: ClientAuth,
    scopes: Vec<String>,
    retry: RetryPolicy,
    refresh_margin_secs: u64,
    clock: Arc<dyn Clock>,
    dpop: Option<DpopKey>,
}

impl TokenSourceBuilder {
    /// Uses this HTTP client (to share a connection pool).
    pub fn http_client(mut self, http: reqwest::Client) -> Self {
        self.http = Some(http);
        self
    }
    /// The scopes to request; a space-separated string may be passed as one item.
    pub fn scopes<I, S>(mut self, scopes: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: AsRef<str>,
    {
        self.scopes = split_scopes(scopes);
        self
    }
    pub fn retry_policy(mut self, retry: RetryPolicy) -> Self {
        self.retry = retry;
        self
    }
    /// Renew this many seconds before expiry (default 300; at most half the token's lifetime).
    pub fn refresh_margin_secs(mut self, seconds: u64) -> Self {
        self.refresh_margin_secs = seconds;
        self
    }
    pub fn clock(mut self, clock: Arc<dyn Clock>) -> Self {
        self.clock = clock;
        self
    }
    /// Asks for DPoP-bound tokens (RFC 9449) with this key: every token request carries a proof, the
    /// `use_dpop_nonce` round trip is done here, and [`crate::AuthorizedClient`] signs a proof per call.
    pub fn dpop(mut self, key: DpopKey) -> Self {
        self.dpop = Some(key);
        self
    }
    pub fn build(self) -> Result<TokenSource, ClientError> {
        let http = match self.http {
            Some(http) => http,
            None => default_http_client()?,
        };
        Ok(TokenSource {
            http,
            endpoint: self.endpoint,
            auth: self.auth,
            scopes: self.scopes,
            retry: self.retry,
            refresh_margin_secs: self.refresh_margin_secs,
            clock: self.clock,
            dpop: self.dpop,
            cache: Mutex::new(None),
        })
    }
}

/// The HTTP client used when none is given: our user agent, a request timeout, and the CAs of
/// [`tollgate_fetch::trust`] (the platform's, `SSL_CERT_FILE`'s, the CLI's `--ca-cert`).
pub fn default_http_client() -> Result<reqwest::Client, ClientError> {
    tollgate_fetch::trust::client_builder()?
        .user_agent(USER_AGENT)
        .timeout(std::time::Duration::from_secs(30))
        .build()
        .map_err(ClientError::transport("building the HTTP client"))
}

/// Splits items that may each hold several space-separated scopes; drops empties and repeats.
pub fn split_scopes<I, S>(items: I) -> Vec<String>
where
    I: IntoIterator<Item = S>,
    S: AsRef<str>,
{
    let mut scopes: Vec<String> = Vec::new();
    for item in items {
        for scope in item.as_ref().split([' ', ',']).filter(|s| !s.is_empty()) {
            if !scopes.iter().any(|known| known == scope) {
                scopes.push(scope.to_owned());
            }
        }
    }
    scopes
}

impl TokenSource {
    pub fn builder(endpoint: TokenEndpoint, auth: ClientAuth) -> TokenSourceBuilder {
        TokenSourceBuilder {
            http: None,
            endpoint,
            auth,
            scopes: Vec::new(),
            retry: RetryPolicy::default(),
            refresh_margin_secs: DEFAULT_REFRESH_MARGIN_SECS,
            clock: Arc::new(SystemClock),
            dpop: None,
        }
    }

    /// The DPoP key, when tokens are requested DPoP-bound.
    pub fn dpop_key(&self) -> Option<&DpopKey> {
        self.dpop.as_ref()
    }

    pub fn clock(&self) -> &dyn Clock {
        self.clock.as_ref()
    }

    pub fn endpoint(&self) -> &TokenEndpoint {
        &self.endpoint
    }

    pub fn http_client(&self) -> &reqwest::Client {
        &self.http
    }

    /// A valid token: the cached one while it is fresh, otherwise a new one (one request for all
    /// concurrent callers).
    pub async fn token(&self) -> Result<Arc<TokenResponse>, ClientError> {
        let mut slot = self.cache.lock().await;
        if let Some(cached) = slot.as_ref().filter(|c| c.is_fresh(self.clock.now(), self.refresh_margin_secs)) {
            return Ok(cached.response.clone());
        }
        let obtained_at = self.clock.now();
        let fresh = CachedToken::new(self.fetch().await?, obtained_at);
        let response = fresh.response.clone();
        *slot = Some(fresh);
        Ok(response)
    }

    /// Drops the cached token if it is still `access_token` (the one a server just refused), so that the
    /// next [`token`](Self::token) asks again; a token another caller already renewed is kept.
    pub async fn invalidate(&self, access_token: &str) {
        let mut slot = self.cache.lock().await;
        if slot.as_ref().is_some_and(|cached| cached.response.access_token == access_token) {
            *slot = None;
        }
    }

    /// Asks the token endpoint for a new token, bypassing the cache; retries 429 and 5xx, and (with DPoP)
    /// answers a `use_dpop_nonce` challenge with a new proof and a new client assertion (the first
    /// assertion's `jti` was consumed), at most [`MAX_NONCE_RETRIES`] times.
    pub async fn fetch(&self) -> Result<TokenResponse, ClientError> {
        let mut retry: u32 = 0;
        let mut nonce_retries: u32 = 0;
        let mut refused_headers = None;
        let token_url = self.endpoint.token_url();
        loop {
            let now = self.clock.now();
            let auth = self.auth.parts_for(&self.endpoint, now, &self.scopes)?;
            let mut form: Vec<(&str, String)> = vec![("grant_type", "client_credentials".to_owned())];
            if !self.scopes.is_empty() {
                form.push(("scope", self.scopes.join(" ")));
            }
            form.extend(auth.form);
            let mut request = self.http.post(token_url).header(ACCEPT, "application/json").form(&form);
            if let Some(authorization) = auth.authorization {
                request = request.header(AUTHORIZATION, authorization);
            }
            if let Some(key) = &self.dpop {
                request =
                    request.header(DPOP_HEADER, key.proof(NonceScope::TokenEndpoint, "POST", token_url, now, None)?);
            }
            if let Some(previous) = &refused_headers {
                for (name, value) in retry_headers(previous, retry) {
                    request = request.header(name, value);
                }
            }
            tracing::debug!(
                client_id = self.auth.client_id(),
                method = self.auth.method_name(),
                url = token_url,
                retry,
                dpop = self.dpop.is_some(),
                "token request"
            );
            let response = request.send().await.map_err(ClientError::transport(CONTEXT))?;
            let status = response.status().as_u16();
            let headers = response.headers().clone();
            let body = ClientError::read_body(CONTEXT, response).await?;
            let new_nonce = self
                .dpop
                .as_ref()
                .is_some_and(|key| key.remember_nonce(NonceScope::TokenEndpoint, token_url, &headers));
            if (200..300).contains(&status) {
                let token: TokenResponse = serde_json::from_slice(&body)
                    .map_err(|e| ClientError::InvalidResponse { context: CONTEXT, detail: e.to_string() })?;
                if self.dpop.is_some() && !token.is_dpop() {
                    tracing::warn!(
                        token_type = token.token_type,
                        "DPoP was requested but the server issued an unbound token"
                    );
                }
                return Ok(token);
            }
            let error = ClientError::from_response(CONTEXT, status, &body);
            if self.dpop.is_some() && error.oauth_error() == Some(USE_DPOP_NONCE) && nonce_retries < MAX_NONCE_RETRIES {
                if !new_nonce && nonce_retries > 0 {
                    // The same nonce refused twice: asking again will not help.
                    return Err(error);
                }
                nonce_retries += 1;
                tracing::debug!(nonce_retries, "the token endpoint asked for a DPoP nonce; signing a new proof");
                continue;
            }
            if RetryPolicy::is_retryable(status) && retry < self.retry.max_retries {
                retry += 1;
                let delay = self.retry.delay(&headers, retry, self.clock.now());
                tracing::info!(status, retry, delay_ms = delay.as_millis() as u64, "token request will be retried");
                tokio::time::sleep(delay).await;
                refused_headers = Some(headers);
                continue;
            }
            return Err(error);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scopes_split_on_spaces_and_commas_without_repeats() {
        assert_eq!(split_scopes(["a b", "c,a", ""]), vec!["a", "b", "c"]);
    }
}
