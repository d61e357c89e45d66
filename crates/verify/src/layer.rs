//! A tower [`Layer`] for resource servers (axum or any tower stack): it takes the bearer token from
//! `Authorization`, verifies it, checks the scopes the route needs, puts the [`VerifiedToken`] into the
//! request's extensions, and otherwise answers like RFC 6750 §3: 401 with
//! `WWW-Authenticate: Bearer error="invalid_token", error_description="..."`, or 403 with
//! `error="insufficient_scope"` and the `scope` needed.
//!
//! DPoP (RFC 9449): `Authorization: DPoP <token>` with one `DPoP` proof header is checked by
//! [`Verifier::verify_dpop`]; a bound token sent as `Bearer` is refused. The proof's `htu` is compared with
//! the URL the client meant to call, which the layer builds from [`VerifyLayer::public_url`] and the
//! request path. The `Host` header is not trusted for this (a client chooses it freely) unless
//! [`VerifyLayer::trust_host_header`] says so; with neither, DPoP requests are refused ('htu' invalid) and
//! a warning is logged. DPoP refusals carry `WWW-Authenticate: DPoP algs="…", error="…"`.
use std::sync::Arc;
use std::task::{Context, Poll};

use axum::body::Body;
use axum::response::Response;
use futures::future::BoxFuture;
use http::header::{AUTHORIZATION, CONTENT_TYPE, WWW_AUTHENTICATE};
use http::{HeaderValue, Request};
use tower::{Layer, Service};

use crate::{DpopRequest, VerifiedToken, Verifier, VerifyError};

/// The proof algorithms accepted, as the `algs` of a DPoP challenge.
pub const DPOP_ALGS: &str = "RS256 RS384 RS512 ES256 ES384 ES512";

/// Where the layer gets the public URL a DPoP proof's `htu` must name.
#[derive(Debug, Clone)]
enum PublicUrl {
    /// Not configured: DPoP requests are refused.
    Unset,
    /// `{base}{path}`.
    Base(Arc<str>),
    /// `{scheme}://{Host}{path}`: only behind a proxy that sets `Host` itself.
    HostHeader(&'static str),
}

/// Protects a service with a [`Verifier`] and, optionally, required scopes.
#[derive(Debug, Clone)]
pub struct VerifyLayer {
    verifier: Arc<Verifier>,
    required_scopes: Arc<Vec<String>>,
    realm: Option<Arc<str>>,
    public_url: PublicUrl,
}

/// What the request brings: the scheme and token, the proofs, and the URL for `htu`.
struct Presented {
    dpop_scheme: bool,
    token: Option<String>,
    proofs: Vec<String>,
    htm: String,
    htu: Option<String>,
}

impl VerifyLayer {
    pub fn new(verifier: Arc<Verifier>) -> Self {
        VerifyLayer { verifier, required_scopes: Arc::new(Vec::new()), realm: None, public_url: PublicUrl::Unset }
    }

    /// The public base URL of this resource server, e.g. `https://api.example.com` (the request path is
    /// appended as the service sees it). A DPoP proof's `htu` must name that URL.
    pub fn public_url(mut self, base: impl Into<String>) -> Self {
        let base = base.into();
        self.public_url = PublicUrl::Base(Arc::from(base.trim_end_matches('/')));
        self
    }

    /// Builds the `htu` from the `Host` header with this scheme. Only safe behind a proxy that sets
    /// `Host` to the public host itself; otherwise a client picks the URL its proof is checked against.
    pub fn trust_host_header(mut self, scheme: &'static str) -> Self {
        self.public_url = PublicUrl::HostHeader(scheme);
        self
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

    fn presented<B>(&self, request: &Request<B>) -> Presented {
        let (dpop_scheme, token) = match authorization(request) {
            Some((scheme, token)) => (scheme.eq_ignore_ascii_case("dpop"), Some(token.to_owned())),
            None => (false, None),
        };
        let proofs = request
            .headers()
            .get_all("dpop")
            .iter()
            .map(|value| value.to_str().map(str::to_owned).unwrap_or_default())
            .collect();
        let path = request.uri().path();
        let htu = match &self.public_url {
            PublicUrl::Unset => None,
            PublicUrl::Base(base) => Some(format!("{base}{path}")),
            PublicUrl::HostHeader(scheme) => request
                .headers()
                .get(http::header::HOST)
                .and_then(|host| host.to_str().ok())
                .map(|host| format!("{scheme}://{host}{path}")),
        };
        Presented { dpop_scheme, token, proofs, htm: request.method().as_str().to_owned(), htu }
    }

    async fn check(&self, presented: Presented) -> Result<VerifiedToken, VerifyError> {
        let token = presented.token.ok_or(VerifyError::MissingToken)?;
        let verified = if presented.dpop_scheme {
            let htu = presented.htu.unwrap_or_else(|| {
                tracing::warn!("a DPoP request arrived but VerifyLayer has no public_url; refusing it");
                String::new()
            });
            let proofs: Vec<&str> = presented.proofs.iter().map(String::as_str).collect();
            let request = DpopRequest { proofs: &proofs, htm: &presented.htm, htu: &htu };
            self.verifier.verify_dpop(&token, &request).await?
        } else {
            self.verifier.verify(&token).await?
        };
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
        let presented = layer.presented(&request);
        let dpop_scheme = presented.dpop_scheme;
        Box::pin(async move {
            match layer.check(presented).await {
                Ok(verified) => {
                    request.extensions_mut().insert(verified);
                    inner.call(request).await
                }
                Err(error) => {
                    tracing::debug!(error = %error, "request refused");
                    let response = refusal(&error, layer.realm.as_deref(), &layer.required_scopes);
                    Ok(if dpop_scheme || error.is_dpop() {
                        with_dpop_challenge(response, &error, layer.realm.as_deref(), &layer.required_scopes)
                    } else {
                        response
                    })
                }
            }
        })
    }
}

/// The token of an `Authorization: Bearer <token>` header (scheme case-insensitive).
pub fn bearer_token<B>(request: &Request<B>) -> Option<&str> {
    authorization(request).filter(|(scheme, _)| scheme.eq_ignore_ascii_case("bearer")).map(|(_, token)| token)
}

/// The scheme and token of an `Authorization: Bearer|DPoP <token>` header.
fn authorization<B>(request: &Request<B>) -> Option<(&str, &str)> {
    let value = request.headers().get(AUTHORIZATION)?.to_str().ok()?;
    let (scheme, token) = value.split_once(' ')?;
    let token = token.trim();
    let known = scheme.eq_ignore_ascii_case("bearer") || scheme.eq_ignore_ascii_case("dpop");
    (known && !token.is_empty()).then_some((scheme, token))
}

/// Replaces the Bearer challenge of `response` with a DPoP one (RFC 9449 §7.1): `DPoP algs="…"` and the
/// same parameters.
pub fn with_dpop_challenge(
    mut response: Response,
    error: &VerifyError,
    realm: Option<&str>,
    required_scopes: &[String],
) -> Response {
    let mut params = vec![format!("algs=\"{DPOP_ALGS}\"")];
    if let Some(realm) = realm {
        params.push(format!("realm=\"{}\"", quote(realm)));
    }
    if let Some(code) = error.error_code() {
        params.push(format!("error=\"{code}\""));
        params.push(format!("error_description=\"{}\"", quote(&error.description())));
    }
    if let VerifyError::InsufficientScope { .. } = error {
        params.push(format!("scope=\"{}\"", quote(&required_scopes.join(" "))));
    }
    if let Ok(value) = HeaderValue::from_str(&format!("DPoP {}", params.join(", "))) {
        response.headers_mut().insert(WWW_AUTHENTICATE, value);
    }
    response
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
    if code.is_none() {
        // No credentials at all: say that DPoP is accepted too (RFC 9449 §7.1 allows both challenges).
        response.headers_mut().append(WWW_AUTHENTICATE, HeaderValue::from_static(DPOP_CHALLENGE));
    }
    if code.is_some() {
        response.headers_mut().insert(CONTENT_TYPE, HeaderValue::from_static("application/json"));
    }
    response
}

const DPOP_CHALLENGE: &str = concat!("DPoP algs=\"", "RS256 RS384 RS512 ES256 ES384 ES512", "\"");

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
