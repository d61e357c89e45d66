//! The Admin Console (`/admin`): server-rendered pages (askama templates under `templates/console/`, one
//! small stylesheet and script compiled into the binary) for the clicks Okta's service-app guide describes.
//!
//! * `session`: sign-in (admin API token or local admin user, argon2id), sessions in the database (the
//!   cookie holds a random id, the table its SHA-256), sign-out; System Log `user.session.*` events.
//! * `csrf`: every state change carries the session's synchronizer token and a same-origin `Origin`.
//! * `mgmt`: the console never re-implements a rule: each page reads and changes through the management
//!   API's own routes, called in-process for the signed-in credential (`Acting`), so validation,
//!   permissions (roles, super-admin-only operations) and the audit middleware's System Log events are the
//!   API's. The page hides what the credential's role cannot do; the API refuses it anyway.
//! * `pages`: Applications, Security > API, Directory > People, Reports > System Log, the token tester.
pub(crate) mod csrf;
pub(crate) mod mgmt;
pub(crate) mod pages;
pub(crate) mod session;
mod view;

pub use session::{AdminUserError, create_admin_user, create_admin_user_at};

use crate::mgmt::auth::Principal;
use crate::state::AppState;
use axum::Router;
use axum::http::{HeaderValue, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;

/// The credential a console request acts with, put on the in-process management request. Only the
/// console constructs it; a client cannot send a request extension.
#[derive(Debug, Clone)]
pub(crate) struct Acting(pub(crate) Principal);

/// The console's Content-Security-Policy: everything from this origin only, no inline script or style,
/// no framing, forms post only here.
pub(crate) const CSP: &str = "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; \
                              connect-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'; \
                              object-src 'none'";

const STYLESHEET: &str = include_str!("../../assets/console/console.css");
const SCRIPT: &str = include_str!("../../assets/console/console.js");

async fn stylesheet() -> Response {
    ([(header::CONTENT_TYPE, "text/css; charset=utf-8"), (header::CACHE_CONTROL, "max-age=300")], STYLESHEET)
        .into_response()
}

async fn script() -> Response {
    ([(header::CONTENT_TYPE, "text/javascript; charset=utf-8"), (header::CACHE_CONTROL, "max-age=300")], SCRIPT)
        .into_response()
}

/// Security headers on every console answer; pages are never cached (they may show a secret once).
async fn headers(req: axum::extract::Request, next: axum::middleware::Next) -> Response {
    let asset = req.uri().path().starts_with("/admin/assets/");
    let mut resp = next.run(req).await;
    let h = resp.headers_mut();
    h.insert(header::CONTENT_SECURITY_POLICY, HeaderValue::from_static(CSP));
    h.insert(header::X_CONTENT_TYPE_OPTIONS, HeaderValue::from_static("nosniff"));
    h.insert(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
    h.insert(header::REFERRER_POLICY, HeaderValue::from_static("same-origin"));
    if !asset {
        h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    }
    resp
}

/// Every console route, under `/admin`.
pub(crate) fn routes(state: &AppState) -> Router<AppState> {
    let api = mgmt::Mgmt::new(state);
    Router::new()
        .route("/admin", get(|| async { axum::response::Redirect::to("/admin/apps") }))
        .route("/admin/", get(|| async { axum::response::Redirect::to("/admin/apps") }))
        .route("/admin/assets/console.css", get(stylesheet))
        .route("/admin/assets/console.js", get(script))
        .merge(session::routes())
        .merge(pages::routes())
        .layer(axum::Extension(api))
        .layer(axum::middleware::from_fn(headers))
}
