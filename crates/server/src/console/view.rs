//! Rendering: the frame every page shares ([`Chrome`]), a template into an HTML answer, and errors.
use super::session::Signed;
use axum::http::{StatusCode, header};
use axum::response::{Html, IntoResponse, Response};

/// What the frame around every signed-in page needs: who is signed in, the CSRF token for its forms
/// (sign out included), which section is open, and a message from the last action.
pub(crate) struct Chrome {
    pub(crate) name: String,
    pub(crate) role: String,
    pub(crate) csrf: String,
    pub(crate) section: &'static str,
    pub(crate) notice: Option<String>,
    pub(crate) error: Option<String>,
}

impl Chrome {
    pub(crate) fn new(who: &Signed, section: &'static str) -> Self {
        Chrome {
            name: who.name.clone(),
            role: who.role.map_or("no known role", |r| r.label()).to_string(),
            csrf: who.csrf.clone(),
            section,
            notice: None,
            error: None,
        }
    }

    pub(crate) fn error(mut self, error: Option<String>) -> Self {
        self.error = error;
        self
    }

    pub(crate) fn notice(mut self, notice: Option<String>) -> Self {
        self.notice = notice;
        self
    }
}

/// A template as an HTML answer (a 500 page if it cannot render).
pub(crate) fn render(t: &impl askama::Template) -> Response {
    match t.render() {
        Ok(html) => Html(html).into_response(),
        Err(e) => {
            tracing::error!(error = %e, "console template failed");
            (StatusCode::INTERNAL_SERVER_ERROR, plain_error("The page could not be shown.")).into_response()
        }
    }
}

/// A template with a status.
pub(crate) fn render_status(status: StatusCode, t: &impl askama::Template) -> Response {
    let mut resp = render(t);
    if resp.status() == StatusCode::OK {
        *resp.status_mut() = status;
    }
    resp
}

fn escape(text: &str) -> String {
    text.replace('&', "&amp;").replace('<', "&lt;").replace('>', "&gt;").replace('"', "&quot;")
}

/// A minimal page for refusals that happen before a page can be built (CSRF, no session).
pub(crate) fn plain_error(message: &str) -> Response {
    let html = format!(
        "<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\"><title>tollgate Admin Console</title>\
         <link rel=\"stylesheet\" href=\"/admin/assets/console.css\"></head><body><main class=\"narrow\">\
         <h1>tollgate Admin Console</h1><p role=\"alert\" class=\"error\">{}</p>\
         <p><a href=\"/admin/apps\">Back to the console</a></p></main></body></html>",
        escape(message)
    );
    ([(header::CONTENT_TYPE, "text/html; charset=utf-8")], html).into_response()
}

/// [`plain_error`] with a status (a refused or missing resource's own).
pub(crate) fn plain_error_status(status: StatusCode, message: &str) -> Response {
    let status = if status.is_success() { StatusCode::BAD_GATEWAY } else { status };
    (status, plain_error(message)).into_response()
}

/// Milliseconds since the epoch as `2026-12-01 12:00:00 UTC`.
pub(crate) fn when(ms: i64) -> String {
    let iso = crate::clock::iso8601(ms);
    iso.get(..19).map(|s| format!("{} UTC", s.replace('T', " "))).unwrap_or(iso)
}

/// An ISO-8601 instant from an API answer as `2026-12-01 12:00:00 UTC`.
pub(crate) fn when_iso(iso: &str) -> String {
    iso.get(..19).map(|s| format!("{} UTC", s.replace('T', " "))).unwrap_or_else(|| iso.to_string())
}

/// A `303 See Other` to `to` with a one-line message for the next page (`?notice=`: never a secret).
pub(crate) fn back(to: &str, notice: &str) -> Response {
    let sep = if to.contains('?') { '&' } else { '?' };
    axum::response::Redirect::to(&format!("{to}{sep}notice={}", super::mgmt::q(notice))).into_response()
}

/// A `303 See Other` to `to` carrying an error message for the next page.
pub(crate) fn back_error(to: &str, error: &str) -> Response {
    let sep = if to.contains('?') { '&' } else { '?' };
    axum::response::Redirect::to(&format!("{to}{sep}error={}", super::mgmt::q(error))).into_response()
}
