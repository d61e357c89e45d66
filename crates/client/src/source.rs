//! The token source: gets client-credentials tokens, caches them, and shares one refresh between
//! concurrent callers.
//!
//! Single flight is the [`TokenSlot`]'s: whoever finds the token due fetches while the others wait for
//! that result (or keep getting the current token while it is still usable). The wait spans the HTTP
//! request on purpose; that is the point.
use std::sync::Arc;

use reqwest::header::{ACCEPT, AUTHORIZATION};

use crate::cache::{CacheKey, CachedToken, RefreshAhead, Served, TokenSlot};
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
    refresh: RefreshAhead,
    clock: Arc<dyn Clock>,
    dpop: Option<DpopKey>,
    slot: TokenSlot,
}

/// Builds a [`TokenSource`].
#[derive(Debug)]
pub struct TokenSourceBuilder {
    http: Option<reqwest::Client>,
    endpoint: TokenEndpoint,
    auth: ClientAuth,
    scopes: Vec<String>,
    retry: RetryPolicy,
    refresh: RefreshAhead,
    clock: Arc<dyn Clock>,
    dpop: Option<DpopKey>,
}

impl TokenSource {
    /// How token requests, and API calls made with [`AuthorizedClient`](crate::AuthorizedClient), are retried.
    pub fn retry_policy(&self) -> &RetryPolicy {
        &self.retry
    }
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
        self.refresh = RefreshAhead::Margin(seconds);
        self
    }
    /// When to renew a cached token (a margin before expiry, or a share of its lifetime).
    pub fn refresh_ahead(mut self, refresh: RefreshAhead) -> Self {
        self.refresh = refresh;
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
            refresh: self.refresh,
            clock: self.clock,
            dpop: self.dpop,
            slot: TokenSlot::default(),
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
            refresh: RefreshAhead::default(),
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
        Ok(self.cached_token().await?.0.response)
    }

    /// [`token`](Self::token) with when it was obtained, and whether this call fetched it.
    pub async fn cached_token(&self) -> Result<(CachedToken, Served), ClientError> {
        self.slot.get(|| self.clock.now(), self.refresh, || self.fetch()).await
    }

    /// The token held now, if any, fresh or not.
    pub fn peek(&self) -> Option<CachedToken> {
        self.slot.peek()
    }

    /// Puts a token obtained elsewhere (a cache on disk) in the cache.
    pub fn preload(&self, token: CachedToken) {
        self.slot.put(token);
    }

    /// When a token was last handed out by [`token`](Self::token).
    pub fn last_served(&self) -> i64 {
        self.slot.last_served()
    }

    /// The renewal policy.
    pub fn refresh_policy(&self) -> RefreshAhead {
        self.refresh
    }

    /// The scopes asked for.
    pub fn scopes(&self) -> &[String] {
        &self.scopes
    }

    /// The client authentication.
    pub fn auth(&self) -> &ClientAuth {
        &self.auth
    }

    /// What this source's tokens are cached under (see [`CacheKey`]).
    pub fn cache_key(&self) -> CacheKey {
        let jkt = self.dpop.as_ref().map(DpopKey::thumbprint);
        CacheKey::new(&self.endpoint, self.auth.client_id(), &self.scopes, jkt)
    }

    /// Drops the cached token if it is still `access_token` (the one a server just refused), so that the
    /// next [`token`](Self::token) asks again; a token another caller already renewed is kept.
    pub async fn invalidate(&self, access_token: &str) {
        self.slot.invalidate(access_token);
    }

    /// Asks the token endpoint for a new token, bypassing the cache; retries 429, 5xx and requests that got
    /// no answer (with [`RetryPolicy`]'s back-off), and (with DPoP)
    /// answers a `use_dpop_nonce` challenge with a new proof and a new client assertion (the first
    /// assertion's `jti` was consumed), at most [`MAX_NONCE_RETRIES`] times.
    pub async fn fetch(&self) -> Result<TokenResponse, ClientError> {
        let mut retry: u32 = 0;
        let mut nonce_retries: u32 = 0;
        let mut refused_headers = None;
        let token_url = self.endpoint.token_url();
        loop {
            let now = self.clock.now();
            let auth = self.auth.request_parts(&self.http, &self.endpoint, now, &self.scopes).await?;
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
            let response = match request.send().await {
                Ok(response) => response,
                // No answer at all (refused, reset, timed out): worth another try after a back-off.
                Err(error) if retry < self.retry.max_retries && transient(&error) => {
                    retry += 1;
                    let delay = self.retry.delay(&reqwest::header::HeaderMap::new(), retry, self.clock.now());
                    tracing::info!(%error, retry, delay_ms = delay.as_millis() as u64, "token request will be retried");
                    tokio::time::sleep(delay).await;
                    continue;
                }
                Err(error) => return Err(ClientError::transport(CONTEXT)(error)),
            };
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

/// Whether a request that got no answer is worth repeating: not when TLS refused the server (an untrusted
/// or mismatched certificate stays so), which would only delay the error.
fn transient(error: &reqwest::Error) -> bool {
    let mut source: Option<&(dyn std::error::Error + 'static)> = Some(error);
    while let Some(e) = source {
        if e.downcast_ref::<rustls::Error>().is_some() {
            return false;
        }
        source = e.source();
    }
    true
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scopes_split_on_spaces_and_commas_without_repeats() {
        assert_eq!(split_scopes(["a b", "c,a", ""]), vec!["a", "b", "c"]);
    }
}
