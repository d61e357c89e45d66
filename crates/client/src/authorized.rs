//! A `reqwest` helper for calling APIs with the token: it attaches `Authorization: Bearer <token>` (or, for
//! a DPoP-bound token, `Authorization: DPoP <token>` and a new proof with `htm`, `htu`, `ath` per request)
//! and, when the API answers 401 (an expired or revoked token; what the Node SDK relies on), drops the
//! cached token and repeats the request once with a new one. A DPoP nonce challenge (a 400 or 401 carrying
//! a new `DPoP-Nonce`) is answered once with a proof carrying that nonce.
use std::sync::Arc;

use reqwest::header::{AUTHORIZATION, HeaderName, HeaderValue};
use reqwest::{Request, RequestBuilder, Response, StatusCode};

use crate::dpop::{DPOP_HEADER, NonceScope};
use crate::retry::{RetryPolicy, retry_headers};
use crate::{ClientError, TokenResponse, TokenSource};

const CONTEXT: &str = "API request";

/// Sends requests with a token from a [`TokenSource`].
#[derive(Debug, Clone)]
pub struct AuthorizedClient {
    source: Arc<TokenSource>,
}

impl AuthorizedClient {
    pub fn new(source: Arc<TokenSource>) -> Self {
        AuthorizedClient { source }
    }

    /// The underlying HTTP client, to build requests with.
    pub fn http(&self) -> &reqwest::Client {
        self.source.http_client()
    }

    pub fn token_source(&self) -> &TokenSource {
        &self.source
    }

    /// Builds and sends `builder` (see [`execute`](Self::execute)).
    pub async fn send(&self, builder: RequestBuilder) -> Result<Response, ClientError> {
        let request = builder.build().map_err(ClientError::transport(CONTEXT))?;
        self.execute(request).await
    }

    /// Sends `request` with the current token; on 401 renews the token and sends it once more (when the
    /// body can be replayed); on 429, 503 or 504 waits as the server says and repeats it, within the token
    /// source's [`RetryPolicy`](crate::RetryPolicy) (see [`crate::retry::send_api`]). Any answer, success or not,
    /// is returned for the caller to judge.
    pub async fn execute(&self, request: Request) -> Result<Response, ClientError> {
        let policy = self.source.retry_policy();
        let Some(replay) = request.try_clone() else { return self.execute_once(request).await };
        let mut response = self.execute_once(request).await?;
        let mut retry = 0;
        while RetryPolicy::is_retryable_api(response.status().as_u16()) && retry < policy.max_retries {
            let Some(delay) = policy.wait(response.headers(), retry + 1, self.source.clock().now()) else { break };
            retry += 1;
            let mut next = clone(&replay)?;
            for (name, value) in retry_headers(response.headers(), retry) {
                next.headers_mut().insert(name, value);
            }
            tracing::info!(
                status = response.status().as_u16(),
                retry,
                delay_ms = u64::try_from(delay.as_millis()).unwrap_or(u64::MAX),
                "API call will be retried"
            );
            tokio::time::sleep(delay).await;
            response = self.execute_once(next).await?;
        }
        Ok(response)
    }

    /// One send (with the 401 and DPoP-nonce repeats).
    async fn execute_once(&self, request: Request) -> Result<Response, ClientError> {
        let token = self.source.token().await?;
        let Some(replay) = request.try_clone() else { return self.attempt(request, &token).await.map(|(r, _)| r) };
        let (response, new_nonce) = self.attempt(request, &token).await?;
        let response = self.after_nonce_challenge(response, new_nonce, &replay, &token).await?;
        if response.status() != StatusCode::UNAUTHORIZED {
            return Ok(response);
        }
        tracing::debug!("the API refused the token with 401; renewing it and retrying once");
        self.source.invalidate(&token.access_token).await;
        let token = self.source.token().await?;
        let (response, new_nonce) = self.attempt(clone(&replay)?, &token).await?;
        self.after_nonce_challenge(response, new_nonce, &replay, &token).await
    }

    /// Repeats a DPoP request once when the answer was a nonce challenge: 400 or 401 with a new nonce.
    async fn after_nonce_challenge(
        &self,
        response: Response,
        new_nonce: bool,
        replay: &Request,
        token: &TokenResponse,
    ) -> Result<Response, ClientError> {
        let challenged = matches!(response.status(), StatusCode::BAD_REQUEST | StatusCode::UNAUTHORIZED);
        if !(token.is_dpop() && new_nonce && challenged) {
            return Ok(response);
        }
        tracing::debug!("the API sent a DPoP nonce; repeating the request with it");
        Ok(self.attempt(clone(replay)?, token).await?.0)
    }

    /// One send with `token`: the authorization header, a proof for a DPoP token; returns the answer and
    /// whether it brought a new DPoP nonce.
    async fn attempt(&self, mut request: Request, token: &TokenResponse) -> Result<(Response, bool), ClientError> {
        set_header(&mut request, AUTHORIZATION, &token.authorization())?;
        let dpop = self.source.dpop_key().filter(|_| token.is_dpop());
        if let Some(key) = dpop {
            let now = self.source.clock().now();
            let proof = key.proof(
                NonceScope::Resource,
                request.method().as_str(),
                request.url().as_str(),
                now,
                Some(&token.access_token),
            )?;
            set_header(&mut request, HeaderName::from_static(DPOP_HEADER), &proof)?;
        } else if token.is_dpop() {
            return Err(ClientError::Config(
                "the token is DPoP-bound but this token source has no DPoP key to sign proofs with".into(),
            ));
        }
        let url = request.url().to_string();
        let response = self.http().execute(request).await.map_err(ClientError::transport(CONTEXT))?;
        let new_nonce = dpop.is_some_and(|key| key.remember_nonce(NonceScope::Resource, &url, response.headers()));
        Ok((response, new_nonce))
    }
}

fn clone(request: &Request) -> Result<Request, ClientError> {
    request.try_clone().ok_or_else(|| ClientError::Config("the request body cannot be replayed".into()))
}

fn set_header(request: &mut Request, name: HeaderName, value: &str) -> Result<(), ClientError> {
    let mut value = HeaderValue::from_str(value).map_err(|_| ClientError::InvalidResponse {
        context: "token request",
        detail: "the access token is not a valid header value".into(),
    })?;
    value.set_sensitive(true);
    request.headers_mut().insert(name, value);
    Ok(())
}
