//! The console's one way to read and change anything: the management API's own routes (with the audit
//! middleware around them, as `crate::router` mounts them), called in-process with the signed-in
//! credential as [`super::Acting`]. So a console click is the API call it stands for: the same validation,
//! the same permission checks, the same System Log event.
use super::Acting;
use super::session::Signed;
use crate::state::AppState;
use crate::syslog::RequestContext;
use axum::Router;
use axum::body::Body;
use axum::http::{Method, Request, StatusCode, header};
use serde_json::Value;
use tower::ServiceExt;

/// Largest management answer the console reads.
const MAX_ANSWER: usize = 8 * 1024 * 1024;

/// The management routes, ready to be called in-process.
#[derive(Clone)]
pub(crate) struct Mgmt(Router);

/// A management API answer: its status and JSON body (`Null` when empty).
#[derive(Debug)]
pub(crate) struct Answer {
    pub(crate) status: StatusCode,
    pub(crate) json: Value,
}

impl Answer {
    pub(crate) fn ok(&self) -> bool {
        self.status.is_success()
    }

    /// The refusal in words: Okta's `errorSummary` and each `errorCauses[].errorSummary`.
    pub(crate) fn error_text(&self) -> String {
        let summary = self.json.get("errorSummary").and_then(Value::as_str).map(str::to_string).unwrap_or_else(|| {
            match self.status {
                StatusCode::FORBIDDEN => "You do not have permission to perform the requested action".into(),
                s => s.canonical_reason().unwrap_or("Refused").to_string(),
            }
        });
        let causes: Vec<&str> = self
            .json
            .get("errorCauses")
            .and_then(Value::as_array)
            .map(|c| c.iter().filter_map(|c| c.get("errorSummary").and_then(Value::as_str)).collect())
            .unwrap_or_default();
        if causes.is_empty() { summary } else { format!("{summary} {}", causes.join(" ")) }
    }

    /// The answer as a result: `Err` with [`Answer::error_text`] unless it succeeded.
    pub(crate) fn into_result(self) -> Result<Value, String> {
        if self.ok() { Ok(self.json) } else { Err(self.error_text()) }
    }
}

impl Mgmt {
    pub(crate) fn new(state: &AppState) -> Self {
        let routes = crate::mgmt::routes()
            .route_layer(axum::middleware::from_fn_with_state(state.clone(), crate::syslog::audit::audit))
            .with_state(state.clone());
        Mgmt(routes)
    }

    /// Calls `method path` (path with query) as the signed-in credential, with `body` as JSON.
    pub(crate) async fn call(&self, who: &Signed, method: Method, path: &str, body: Option<&Value>) -> Answer {
        let mut req = Request::builder().method(method).uri(path);
        if body.is_some() {
            req = req.header(header::CONTENT_TYPE, "application/json");
        }
        let bytes = body.map(|b| b.to_string()).unwrap_or_default();
        let Ok(mut req) = req.body(Body::from(bytes)) else {
            return Answer { status: StatusCode::BAD_REQUEST, json: Value::Null };
        };
        req.extensions_mut().insert(Acting(who.principal.clone()));
        req.extensions_mut().insert(who.context.clone());
        let resp = match self.0.clone().oneshot(req).await {
            Ok(resp) => resp,
            Err(never) => match never {},
        };
        let status = resp.status();
        let json = match axum::body::to_bytes(resp.into_body(), MAX_ANSWER).await {
            Ok(b) if !b.is_empty() => serde_json::from_slice(&b).unwrap_or(Value::Null),
            _ => Value::Null,
        };
        Answer { status, json }
    }

    pub(crate) async fn get(&self, who: &Signed, path: &str) -> Answer {
        self.call(who, Method::GET, path, None).await
    }

    pub(crate) async fn post(&self, who: &Signed, path: &str, body: &Value) -> Answer {
        self.call(who, Method::POST, path, Some(body)).await
    }

    pub(crate) async fn put(&self, who: &Signed, path: &str, body: &Value) -> Answer {
        self.call(who, Method::PUT, path, Some(body)).await
    }

    pub(crate) async fn delete(&self, who: &Signed, path: &str) -> Answer {
        self.call(who, Method::DELETE, path, None).await
    }
}

/// A request context for the in-process call (the outer request's, so the event has the browser's IP).
pub(crate) fn context_of(parts: &axum::http::request::Parts) -> RequestContext {
    parts.extensions.get::<RequestContext>().cloned().unwrap_or_default()
}

/// One path segment, percent-encoded.
pub(crate) fn seg(s: &str) -> String {
    percent_encoding::utf8_percent_encode(s, percent_encoding::NON_ALPHANUMERIC).to_string()
}

/// A query value, percent-encoded.
pub(crate) fn q(s: &str) -> String {
    form_urlencoded::byte_serialize(s.as_bytes()).collect()
}
