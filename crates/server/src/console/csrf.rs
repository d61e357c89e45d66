//! Cross-site request forgery: every console state change (a `POST`) must come from a page of this
//! console. Two checks, both required:
//!
//! * **Origin**: the browser's `Origin` (or, failing that, `Referer`) must be this server's own origin,
//!   the issuer's or the request's `Host`; a request naming neither is refused.
//! * **Synchronizer token**: the form's `csrf` field must equal the token stored with the session
//!   (compared in constant time). A page from another site cannot read it.
//!
//! The session cookie is also `SameSite=Strict`, so a cross-site form does not even carry it.
use super::session::Signed;
use super::view;
use crate::state::AppState;
use axum::extract::{FromRequest, Request};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use std::collections::HashMap;
use subtle::ConstantTimeEq;

/// The largest console form read (a pasted PEM or JWKS fits many times over).
const MAX_FORM: usize = 256 * 1024;

fn origin_of(url: &str) -> Option<String> {
    let u = url::Url::parse(url).ok()?;
    let origin = u.origin();
    origin.is_tuple().then(|| origin.ascii_serialization())
}

/// A refused state change: 403 with a plain page saying why.
#[derive(Debug)]
pub(crate) struct Refused(&'static str);

impl IntoResponse for Refused {
    fn into_response(self) -> Response {
        (StatusCode::FORBIDDEN, view::plain_error(self.0)).into_response()
    }
}

fn refused(why: &'static str) -> Refused {
    Refused(why)
}

/// Refuses (403) a request whose `Origin`/`Referer` is not this server.
pub(crate) fn same_origin(state: &AppState, headers: &HeaderMap) -> Result<(), Refused> {
    let text = |h| headers.get(h).and_then(|v: &axum::http::HeaderValue| v.to_str().ok());
    let claimed = match text(header::ORIGIN) {
        Some(o) if o != "null" => Some(o.to_string()),
        _ => text(header::REFERER).and_then(origin_of),
    };
    let Some(claimed) = claimed else {
        return Err(refused("Refused: the request does not say which page it came from (no Origin)."));
    };
    let mut own = Vec::new();
    if let Some(o) = origin_of(&state.issuer) {
        own.push(o);
    }
    if let Some(host) = text(header::HOST) {
        own.push(format!("http://{host}"));
        own.push(format!("https://{host}"));
    }
    if own.iter().any(|o| o.eq_ignore_ascii_case(&claimed)) {
        Ok(())
    } else {
        Err(refused("Refused: the request came from another site."))
    }
}

/// A console form (`application/x-www-form-urlencoded`), to be checked with [`Form::check`].
pub(crate) struct Form(pub(crate) HashMap<String, String>);

impl Form {
    /// The origin and the session's synchronizer token, or the 403 to send.
    pub(crate) fn check(&self, state: &AppState, who: &Signed, headers: &HeaderMap) -> Result<(), Refused> {
        same_origin(state, headers)?;
        let given = self.0.get("csrf").map(String::as_str).unwrap_or("");
        if given.is_empty() || !bool::from(given.as_bytes().ct_eq(who.csrf.as_bytes())) {
            return Err(refused(
                "Refused: this form is missing its security token or it has expired. Reload the page and try again.",
            ));
        }
        Ok(())
    }

    /// A field, trimmed; `""` when absent.
    pub(crate) fn get(&self, name: &str) -> &str {
        self.0.get(name).map(|v| v.trim()).unwrap_or("")
    }

    /// A field as given (not trimmed).
    pub(crate) fn raw(&self, name: &str) -> &str {
        self.0.get(name).map(String::as_str).unwrap_or("")
    }
}

impl<S: Send + Sync> FromRequest<S> for Form {
    type Rejection = Response;

    async fn from_request(req: Request, _: &S) -> Result<Self, Self::Rejection> {
        let bytes = axum::body::to_bytes(req.into_body(), MAX_FORM).await.map_err(|_| {
            (StatusCode::PAYLOAD_TOO_LARGE, view::plain_error("The form is too large.")).into_response()
        })?;
        Ok(Form(form_urlencoded::parse(&bytes).into_owned().collect()))
    }
}
