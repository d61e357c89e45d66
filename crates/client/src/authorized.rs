//! A `reqwest` helper for calling APIs with the token: it attaches `Authorization: Bearer <token>` and,
//! when the API answers 401 (an expired or revoked token; what the Node SDK relies on), drops the cached
//! token and repeats the request once with a new one.
use std::sync::Arc;

use reqwest::header::{AUTHORIZATION, HeaderValue};
use reqwest::{Request, RequestBuilder, Response, StatusCode};

use crate::{ClientError, TokenSource};

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
    /// body can be replayed). Any answer, success or not, is returned for the caller to judge.
    pub async fn execute(&self, mut request: Request) -> Result<Response, ClientError> {
        let replay = request.try_clone();
        let token = self.source.token().await?;
        set_authorization(&mut request, &token.authorization())?;
        let response = self.http().execute(request).await.map_err(ClientError::transport(CONTEXT))?;
        let Some(mut replay) = replay else { return Ok(response) };
        if response.status() != StatusCode::UNAUTHORIZED {
            return Ok(response);
        }
        tracing::debug!("the API refused the token with 401; renewing it and retrying once");
        self.source.invalidate(&token.access_token).await;
        let token = self.source.token().await?;
        set_authorization(&mut replay, &token.authorization())?;
        self.http().execute(replay).await.map_err(ClientError::transport(CONTEXT))
    }
}

fn set_authorization(request: &mut Request, value: &str) -> Result<(), ClientError> {
    let mut value = HeaderValue::from_str(value).map_err(|_| ClientError::InvalidResponse {
        context: "token request",
        detail: "the access token is not a valid header value".into(),
    })?;
    value.set_sensitive(true);
    request.headers_mut().insert(AUTHORIZATION, value);
    Ok(())
}
