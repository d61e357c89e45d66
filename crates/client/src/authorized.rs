//! A `reqwest` helper for calling APIs with the token (from a [`TokenSource`], or from a running agent, which
//! then also signs the DPoP proofs): it attaches `Authorization: Bearer <token>` (or, for
//! a DPoP-bound token, `Authorization: DPoP <token>` and a new proof with `htm`, `htu`, `ath` per request)
//! and, when the API answers 401 (an expired or revoked token; what the Node SDK relies on), drops the
//! cached token and repeats the request once with a new one. A DPoP nonce challenge (a 400 or 401 carrying
//! a new `DPoP-Nonce`) is answered once with a proof carrying that nonce.
use std::sync::Arc;

use reqwest::header::{AUTHORIZATION, HeaderName, HeaderValue};
use reqwest::{Request, RequestBuilder, Response, StatusCode};

use crate::dpop::{DPOP_HEADER, NonceScope, nonce_header};
use crate::retry::{RetryPolicy, retry_headers};
use crate::{ClientError, TokenResponse, TokenSource};

const CONTEXT: &str = "API request";

/// Where the tokens come from.
#[derive(Debug, Clone)]
enum Tokens {
    Source(Arc<TokenSource>),
    /// A running agent: it holds the token (and, for a DPoP-bound one, the key that signs the proofs).
    #[cfg(unix)]
    Agent {
        agent: Arc<crate::AgentSource>,
        http: reqwest::Client,
    },
}

/// Sends requests with a token from a [`TokenSource`] or a `tollgate agent`.
#[derive(Debug, Clone)]
pub struct AuthorizedClient {
    tokens: Tokens,
}

impl AuthorizedClient {
    pub fn new(source: Arc<TokenSource>) -> Self {
        AuthorizedClient { tokens: Tokens::Source(source) }
    }

    /// Tokens (and DPoP proofs for bound ones) from a running agent; requests go out through `http`.
    #[cfg(unix)]
    pub fn with_agent(agent: Arc<crate::AgentSource>, http: reqwest::Client) -> Self {
        AuthorizedClient { tokens: Tokens::Agent { agent, http } }
    }

    /// The underlying HTTP client, to build requests with.
    pub fn http(&self) -> &reqwest::Client {
        match &self.tokens {
            Tokens::Source(source) => source.http_client(),
            #[cfg(unix)]
            Tokens::Agent { http, .. } => http,
        }
    }

    /// The token source, when the tokens do not come from an agent.
    pub fn token_source(&self) -> Option<&TokenSource> {
        match &self.tokens {
            Tokens::Source(source) => Some(source),
            #[cfg(unix)]
            Tokens::Agent { .. } => None,
        }
    }

    /// How API calls are retried: the token source's policy (an agent's caller gets the default).
    fn retry_policy(&self) -> RetryPolicy {
        match &self.tokens {
            Tokens::Source(source) => source.retry_policy().clone(),
            #[cfg(unix)]
            Tokens::Agent { .. } => RetryPolicy::default(),
        }
    }

    /// The time, from the token source's clock (the system clock with an agent).
    fn now(&self) -> i64 {
        match &self.tokens {
            Tokens::Source(source) => source.clock().now(),
            #[cfg(unix)]
            Tokens::Agent { .. } => crate::Clock::now(&crate::SystemClock),
        }
    }

    async fn token(&self) -> Result<Arc<TokenResponse>, ClientError> {
        match &self.tokens {
            Tokens::Source(source) => source.token().await,
            #[cfg(unix)]
            Tokens::Agent { agent, .. } => Ok(Arc::new(agent.token().await?.token)),
        }
    }

    async fn invalidate(&self, access_token: &str) -> Result<(), ClientError> {
        match &self.tokens {
            Tokens::Source(source) => {
                source.invalidate(access_token).await;
                Ok(())
            }
            #[cfg(unix)]
            Tokens::Agent { agent, .. } => agent.invalidate(access_token).await,
        }
    }

    /// Builds and sends `builder` (see [`execute`](Self::execute)).
    pub async fn send(&self, builder: RequestBuilder) -> Result<Response, ClientError> {
        let request = builder.build().map_err(ClientError::transport(CONTEXT))?;
        self.execute(request).await
    }

    /// Sends `request` with the current token; on 401 renews the token and sends it once more (when the
    /// body can be replayed); on 429, 503 or 504 waits as the server says and repeats it, within the token
    /// source's [`RetryPolicy`] (see [`crate::retry::send_api`]). Any answer, success or not,
    /// is returned for the caller to judge.
    pub async fn execute(&self, request: Request) -> Result<Response, ClientError> {
        let policy = self.retry_policy();
        let Some(replay) = request.try_clone() else { return self.execute_once(request).await };
        let mut response = self.execute_once(request).await?;
        let mut retry = 0;
        while RetryPolicy::is_retryable_api(response.status().as_u16()) && retry < policy.max_retries {
            let Some(delay) = policy.wait(response.headers(), retry + 1, self.now()) else { break };
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
        let token = self.token().await?;
        let Some(replay) = request.try_clone() else {
            return self.attempt(request, &token, None).await.map(|(r, _)| r);
        };
        let (response, nonce) = self.attempt(request, &token, None).await?;
        let response = self.after_nonce_challenge(response, nonce, &replay, &token).await?;
        if response.status() != StatusCode::UNAUTHORIZED {
            return Ok(response);
        }
        tracing::debug!("the API refused the token with 401; renewing it and retrying once");
        self.invalidate(&token.access_token).await?;
        let token = self.token().await?;
        let (response, nonce) = self.attempt(clone(&replay)?, &token, None).await?;
        self.after_nonce_challenge(response, nonce, &replay, &token).await
    }

    /// Repeats a DPoP request once when the answer was a nonce challenge: 400 or 401 with a new nonce.
    async fn after_nonce_challenge(
        &self,
        response: Response,
        new_nonce: Option<String>,
        replay: &Request,
        token: &TokenResponse,
    ) -> Result<Response, ClientError> {
        let challenged = matches!(response.status(), StatusCode::BAD_REQUEST | StatusCode::UNAUTHORIZED);
        let Some(nonce) = new_nonce.filter(|_| token.is_dpop() && challenged) else { return Ok(response) };
        tracing::debug!("the API sent a DPoP nonce; repeating the request with it");
        Ok(self.attempt(clone(replay)?, token, Some(&nonce)).await?.0)
    }

    /// A proof for `request` with `token`: signed here with the source's key (which remembers nonces), or
    /// by the agent (told the `nonce` the API just sent).
    async fn proof(
        &self,
        request: &Request,
        token: &TokenResponse,
        nonce: Option<&str>,
    ) -> Result<String, ClientError> {
        let (htm, htu) = (request.method().as_str(), request.url().as_str());
        match &self.tokens {
            Tokens::Source(source) => match source.dpop_key() {
                Some(key) => key.proof(NonceScope::Resource, htm, htu, source.clock().now(), Some(&token.access_token)),
                None => Err(ClientError::Config(
                    "the token is DPoP-bound but this token source has no DPoP key to sign proofs with".into(),
                )),
            },
            #[cfg(unix)]
            Tokens::Agent { agent, .. } => agent.proof(htm, htu, &token.access_token, nonce).await,
        }
    }

    /// One send with `token`: the authorization header, a proof for a DPoP token; returns the answer and
    /// the DPoP nonce it brought, if that is a new one.
    async fn attempt(
        &self,
        mut request: Request,
        token: &TokenResponse,
        nonce: Option<&str>,
    ) -> Result<(Response, Option<String>), ClientError> {
        set_header(&mut request, AUTHORIZATION, &token.authorization())?;
        if token.is_dpop() {
            let proof = self.proof(&request, token, nonce).await?;
            set_header(&mut request, HeaderName::from_static(DPOP_HEADER), &proof)?;
        }
        let url = request.url().to_string();
        let response = self.http().execute(request).await.map_err(ClientError::transport(CONTEXT))?;
        let new_nonce = match (&self.tokens, token.is_dpop()) {
            (_, false) => None,
            (Tokens::Source(source), true) => source
                .dpop_key()
                .filter(|key| key.remember_nonce(NonceScope::Resource, &url, response.headers()))
                .and_then(|_| nonce_header(response.headers())),
            #[cfg(unix)]
            (Tokens::Agent { .. }, true) => nonce_header(response.headers()).filter(|n| Some(n.as_str()) != nonce),
        };
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
