//! A tower [`Layer`] for resource servers (axum or any tower stack): it takes the bearer token from
//! `Authorization`, verifies it, checks the scopes the route needs, puts the [`VerifiedToken`] into the
//! request's extensions, and otherwise answers like RFC 6750 §3: 401 with
//! `WWW-Authenticate: Bearer error="invalid_token", error_description="..."`, or 403 with
//! `error="insufficient_scope"` and the `scope` needed.
use std::sync::Arc;
use std::task::{Context, Poll};

use axum::body::Body;
use axum::response::Response;
use futures::future::BoxFuture;
use http::header::{AUTHORIZATION, CONTENT_TYPE, WWW_AUTHENTICATE};
use http::{HeaderValue, Request};
use tower::{Layer, Service};

use crate::{VerifiedToken, Verifier, VerifyError};

/// Protects a service with a [`Verifier`] and, optionally, required scopes.
#[derive(Debug, Clone)]
pub struct VerifyLayer {
    verifier: Arc<Verifier>,
    required_scopes: Arc<Vec<String>>,
    realm: Option<Arc<str>>,
}

impl VerifyLayer {
    pub fn new(verifier: Arc<Verifier>) -> Self {
        VerifyLayer { verifier, required_scopes: Arc::new(Vec::new()), realm: None }
    }

    /// Every request must carry these scopes (on top of the verifier's own).
    pub fn require_scopes<I, S>(mut self, scopes: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        self.required_scopes = Arc::new(scopes.into_iter().map(Into::into).collect());
        self
    }

    /// The `realm` named in challenges.
    pub fn realm(mut self, realm: impl Into<String>) -> Self {
        self.realm = Some(Arc::from(realm.into()));
        self
    }

    async fn check(&self, token: Option<String>) -> Result<VerifiedToken, VerifyError> {
        let token = token.ok_or(VerifyError::MissingToken)?;
        let verified = self.verifier.verify(&token).await?;
        verified.require_scopes(&self.required_scopes)?;
        Ok(verified)
    }
}

impl<S> Layer<S> for VerifyLayer {
    type Service = VerifyService<S>;
    fn layer(&self, inner: S) -> Self::Service {
        VerifyService { inner, layer: self.clone() }
    }
}

/// The service [`VerifyLayer`] wraps around `S`.
#[derive(Debug, Clone)]
pub struct VerifyService<S> {
    inner: S,
    layer: VerifyLayer,
}

impl<S, B> Service<Request<B>> for VerifyService<S>
where
    S: Service<Request<B>, Response = Response> + Clone + Send + 'static,
    S::Future: Send + 'static,
    B: Send + 'static,
{
    type Response = Response;
    type Error = S::Error;
    type Future = BoxFuture<'static, Result<Response, S::Error>>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, mut request: Request<B>) -> Self::Future {
        // The clone is not ready; the ready one goes into the future (tower's usual swap).
        let clone = self.inner.clone();
        let mut inner = std::mem::replace(&mut self.inner, clone);
        let layer = self.layer.clone();
        let token = bearer_token(&request).map(str::to_owned);
        Box::pin(async move {
            match layer.check(token).await {
                Ok(verified) => {
                    request.extensions_mut().insert(verified);
                    inner.call(request).await
                }
                Err(error) => {
                    tracing::debug!(error = %error, "request refused");
                    Ok(refusal(&error, layer.realm.as_deref(), &layer.required_scopes))
                }
            }
        })
    }
}

/// The token of an `Authorization: Bearer <token>` header (scheme case-insensitive).
pub fn bearer_token<B>(request: &Request<B>) -> Option<&str> {
    let value = request.headers().get(AUTHORIZATION)?.to_str().ok()?;
    let (scheme, token) = value.split_once(' ')?;
    let token = token.trim();
    (scheme.eq_ignore_ascii_case("bearer") && !token.is_empty()).then_some(token)
}

/// The RFC 6750 answer for a refused request.
pub fn refusal(error: &VerifyError, realm: Option<&str>, required_scopes: &[String]) -> Response {
    let mut params = Vec::new();
    if let Some(realm) = realm {
        params.push(format!("realm=\"{}\"", quote(realm)));
    }
    let code = error.error_code();
    if let Some(code) = code {
        params.push(format!("error=\"{code}\""));
        params.push(format!("error_description=\"{}\"", quote(&error.description())));
    }
    if let VerifyError::InsufficientScope { .. } = error {
        params.push(format!("scope=\"{}\"", quote(&required_scopes.join(" "))));
    }
    let challenge = if params.is_empty() { "Bearer".to_owned() } else { format!("Bearer {}", params.join(", ")) };
    let body = match code {
        Some(code) => serde_json::json!({ "error": code, "error_description": error.description() }).to_string(),
        None => String::new(),
    };
    let mut response = Response::new(Body::from(body));
    *response.status_mut() = error.status();
    if let Ok(value) = HeaderValue::from_str(&challenge) {
        response.headers_mut().insert(WWW_AUTHENTICATE, value);
    }
    if code.is_some() {
        response.headers_mut().insert(CONTENT_TYPE, HeaderValue::from_static("application/json"));
    }
    response
}

/// Escapes a value for a quoted-string (RFC 9110 §5.6.4); drops control characters.
fn quote(value: &str) -> String {
    value
        .chars()
        .filter(|c| !c.is_control())
        .flat_map(|c| if c == '"' || c == '\\' { vec!['\\', c] } else { vec![c] })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bearer_is_case_insensitive_and_needs_a_token() {
        let req = Request::builder().header(AUTHORIZATION, "bearer abc").body(()).unwrap();
        assert_eq!(bearer_token(&req), Some("abc"));
        let req = Request::builder().header(AUTHORIZATION, "Basic abc").body(()).unwrap();
        assert_eq!(bearer_token(&req), None);
        let req = Request::builder().header(AUTHORIZATION, "Bearer ").body(()).unwrap();
        assert_eq!(bearer_token(&req), None);
    }

    #[test]
    fn challenges_follow_rfc_6750() {
        let response = refusal(&VerifyError::Expired, Some("api"), &[]);
        assert_eq!(response.status(), 401);
        assert_eq!(
            response.headers()[WWW_AUTHENTICATE],
            "Bearer realm=\"api\", error=\"invalid_token\", error_description=\"The token has expired.\""
        );
        let response =
            refusal(&VerifyError::InsufficientScope { missing: vec!["b".into()] }, None, &["a".into(), "b".into()]);
        assert_eq!(response.status(), 403);
        assert_eq!(
            response.headers()[WWW_AUTHENTICATE],
            "Bearer error=\"insufficient_scope\", error_description=\"The access token provided does not contain the required scopes.\", scope=\"a b\""
        );
        let response = refusal(&VerifyError::MissingToken, None, &[]);
        assert_eq!(response.headers()[WWW_AUTHENTICATE], "Bearer");
    }
}
