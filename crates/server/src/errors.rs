//! The two error shapes Okta answers with, built in one place.
//!
//! * [`OAuthError`]: `/oauth2/...` endpoints, `{"error","error_description"}` (RFC 6749 §5.2) with Okta's
//!   exact codes, statuses and texts.
//! * [`ApiError`]: the management API, Okta's error object (`errorCode`, `errorSummary`, `errorLink`,
//!   `errorId`, `errorCauses`).
//!
//! Each carries what the client sees and, separately, an internal detail for the log (never a secret).
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use std::borrow::Cow;

/// An OAuth endpoint refusal.
#[derive(Debug)]
pub struct OAuthError {
    pub status: StatusCode,
    pub error: &'static str,
    pub description: Cow<'static, str>,
    /// For the log only.
    pub detail: Option<String>,
    /// Extra response headers (e.g. `DPoP-Nonce`, `WWW-Authenticate`).
    pub headers: Vec<(header::HeaderName, HeaderValue)>,
}

impl OAuthError {
    pub fn new(status: StatusCode, error: &'static str, description: impl Into<Cow<'static, str>>) -> Self {
        OAuthError { status, error, description: description.into(), detail: None, headers: Vec::new() }
    }
    /// 401 `invalid_client`.
    pub fn invalid_client(description: impl Into<Cow<'static, str>>) -> Self {
        Self::new(StatusCode::UNAUTHORIZED, "invalid_client", description)
    }
    /// 400 `invalid_request`.
    pub fn invalid_request(description: impl Into<Cow<'static, str>>) -> Self {
        Self::new(StatusCode::BAD_REQUEST, "invalid_request", description)
    }
    /// 400 `invalid_scope`.
    pub fn invalid_scope(description: impl Into<Cow<'static, str>>) -> Self {
        Self::new(StatusCode::BAD_REQUEST, "invalid_scope", description)
    }
    /// 500 `server_error`, with the cause kept for the log only.
    pub fn server_error(detail: impl std::fmt::Display) -> Self {
        let mut e = Self::new(
            StatusCode::INTERNAL_SERVER_ERROR,
            "server_error",
            "The authorization server encountered an unexpected condition.",
        );
        e.detail = Some(detail.to_string());
        e
    }
    /// 503 `temporarily_unavailable` (e.g. the database does not answer).
    pub fn unavailable(detail: impl std::fmt::Display) -> Self {
        let mut e = Self::new(
            StatusCode::SERVICE_UNAVAILABLE,
            "temporarily_unavailable",
            "The authorization server is temporarily unable to handle the request.",
        );
        e.detail = Some(detail.to_string());
        e
    }
    /// Adds an internal detail for the log.
    pub fn with_detail(mut self, detail: impl std::fmt::Display) -> Self {
        self.detail = Some(detail.to_string());
        self
    }
}

impl From<tollgate_store::StoreError> for OAuthError {
    fn from(err: tollgate_store::StoreError) -> Self {
        crate::metrics::DATABASE_ERRORS.inc();
        OAuthError::unavailable(err)
    }
}

impl From<tollgate_jose::assertion::Refusal> for OAuthError {
    fn from(refusal: tollgate_jose::assertion::Refusal) -> Self {
        let status = if refusal.status() == 401 { StatusCode::UNAUTHORIZED } else { StatusCode::BAD_REQUEST };
        OAuthError::new(status, refusal.error(), refusal.description())
    }
}

impl IntoResponse for OAuthError {
    fn into_response(self) -> Response {
        if self.status.is_server_error() {
            tracing::error!(error = self.error, detail = ?self.detail, "oauth request failed");
        } else {
            tracing::info!(error = self.error, description = %self.description, detail = ?self.detail, "oauth request refused");
        }
        let body = serde_json::json!({ "error": self.error, "error_description": self.description });
        let mut resp = (self.status, axum::Json(body)).into_response();
        let h = resp.headers_mut();
        h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-cache, no-store"));
        h.insert(header::PRAGMA, HeaderValue::from_static("no-cache"));
        for (name, value) in self.headers {
            h.insert(name, value);
        }
        resp
    }
}

/// A management API error in Okta's shape.
#[derive(Debug)]
pub struct ApiError {
    pub status: StatusCode,
    pub code: &'static str,
    pub summary: String,
    pub causes: Vec<String>,
    pub detail: Option<String>,
    pub headers: Vec<(header::HeaderName, HeaderValue)>,
    /// Okta sends insufficient-scope 403s with only a `WWW-Authenticate` header and no body.
    pub empty_body: bool,
}

impl ApiError {
    pub fn new(status: StatusCode, code: &'static str, summary: impl Into<String>) -> Self {
        ApiError {
            status,
            code,
            summary: summary.into(),
            causes: Vec::new(),
            detail: None,
            headers: Vec::new(),
            empty_body: false,
        }
    }
    /// 400 E0000001 "Api validation failed: {what}" with causes.
    pub fn validation(what: &str, causes: Vec<String>) -> Self {
        let mut e = Self::new(StatusCode::BAD_REQUEST, "E0000001", format!("Api validation failed: {what}"));
        e.causes = causes;
        e
    }
    /// 400 E0000003 "The request body was not well-formed."
    pub fn malformed_body(detail: impl std::fmt::Display) -> Self {
        let mut e = Self::new(StatusCode::BAD_REQUEST, "E0000003", "The request body was not well-formed.");
        e.detail = Some(detail.to_string());
        e
    }
    /// 404 E0000007 "Not found: Resource not found: {id} ({kind})".
    pub fn not_found(id: &str, kind: &str) -> Self {
        Self::new(StatusCode::NOT_FOUND, "E0000007", format!("Not found: Resource not found: {id} ({kind})"))
    }
    /// 401 E0000011 "Invalid token provided".
    pub fn invalid_token() -> Self {
        Self::new(StatusCode::UNAUTHORIZED, "E0000011", "Invalid token provided")
    }
    /// 403 E0000005 "Invalid session".
    pub fn invalid_session() -> Self {
        Self::new(StatusCode::FORBIDDEN, "E0000005", "Invalid session")
    }
    /// 403 E0000006.
    pub fn forbidden() -> Self {
        Self::new(StatusCode::FORBIDDEN, "E0000006", "You do not have permission to perform the requested action")
    }
    /// 413 for bodies over the limit.
    pub fn too_large(limit: usize) -> Self {
        let mut e = Self::new(StatusCode::PAYLOAD_TOO_LARGE, "E0000001", "Api validation failed: body");
        e.causes = vec![format!("The request body is larger than {limit} bytes.")];
        e
    }
    /// 500 E0000009, cause for the log only.
    pub fn internal(detail: impl std::fmt::Display) -> Self {
        let mut e = Self::new(StatusCode::INTERNAL_SERVER_ERROR, "E0000009", "Internal Server Error");
        e.detail = Some(detail.to_string());
        e
    }
    /// 503 when the database does not answer.
    pub fn unavailable(detail: impl std::fmt::Display) -> Self {
        let mut e = Self::new(StatusCode::SERVICE_UNAVAILABLE, "E0000010", "Service is temporarily unavailable.");
        e.detail = Some(detail.to_string());
        e
    }
}

impl From<tollgate_store::StoreError> for ApiError {
    /// A broken rule becomes Okta's E0000001 with a cause in Okta's words; anything else is a 503 whose
    /// detail (the database's own message) goes to the log only.
    fn from(err: tollgate_store::StoreError) -> Self {
        use tollgate_store::{StoreError, Unique};
        const TAKEN: &str = "An object with this field already exists in the current organization";
        match err {
            StoreError::Conflict { what } => {
                let (what, cause) = match what {
                    Unique::ClientId => ("client_id", format!("client_id: {TAKEN}")),
                    Unique::Login => ("login", format!("login: {TAKEN}")),
                    Unique::Grant => {
                        ("OAuth2ScopeConsentGrant", "scopeId: The scope is already granted to this app.".into())
                    }
                    Unique::ScopeName => ("OAuth2Scope", "name: A scope with this name already exists.".into()),
                    _ => ("conflict", format!("id: {TAKEN}")),
                };
                ApiError::validation(what, vec![cause])
            }
            StoreError::LimitReached { what, max } => ApiError::limit_reached(what, max),
            other => {
                crate::metrics::DATABASE_ERRORS.inc();
                ApiError::unavailable(other)
            }
        }
    }
}

impl ApiError {
    /// 400 E0000001: the app already has as many keys or client secrets as allowed.
    pub fn limit_reached(what: tollgate_store::AppChild, max: usize) -> Self {
        let (object, noun) = match what {
            tollgate_store::AppChild::Keys => ("JsonWebKey", "key"),
            tollgate_store::AppChild::Secrets => ("OAuth2ClientSecret", "secret"),
            tollgate_store::AppChild::Federated => ("FederatedCredential", "federated credential"),
        };
        let cause = format!(
            "You can't create a new {noun}. You have reached the maximum number of {noun}s allowed ({max}). To add another {noun}, you must first delete an existing one."
        );
        ApiError::validation(object, vec![cause])
    }
}

impl ApiError {
    /// Replaces the causes.
    pub fn with_causes(mut self, causes: Vec<String>) -> Self {
        self.causes = causes;
        self
    }
}

/// An opaque error id like Okta's `oae...`.
pub fn error_id() -> String {
    format!("oae{}", crate::ids::random_token(16))
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        if self.status.is_server_error() {
            tracing::error!(code = self.code, detail = ?self.detail, "management request failed");
        } else {
            tracing::info!(code = self.code, summary = %self.summary, detail = ?self.detail, "management request refused");
        }
        let mut resp = if self.empty_body {
            self.status.into_response()
        } else {
            let causes: Vec<_> = self.causes.iter().map(|c| serde_json::json!({ "errorSummary": c })).collect();
            let body = serde_json::json!({
                "errorCode": self.code,
                "errorSummary": self.summary,
                "errorLink": self.code,
                "errorId": error_id(),
                "errorCauses": causes,
            });
            (self.status, axum::Json(body)).into_response()
        };
        for (name, value) in self.headers {
            resp.headers_mut().insert(name, value);
        }
        resp
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use tollgate_store::{AppChild, StoreError, Unique};

    /// A store refusal becomes Okta's E0000001 in Okta's words; nothing of the database's text is shown.
    #[test]
    fn store_refusals_become_validation_errors() {
        let e = ApiError::from(StoreError::Conflict { what: Unique::ClientId });
        assert_eq!(
            (e.status, e.code, e.summary.as_str()),
            (StatusCode::BAD_REQUEST, "E0000001", "Api validation failed: client_id")
        );
        assert_eq!(e.causes, ["client_id: An object with this field already exists in the current organization"]);
        let e = ApiError::from(StoreError::Conflict { what: Unique::Login });
        assert_eq!(e.causes, ["login: An object with this field already exists in the current organization"]);
        let e = ApiError::from(StoreError::LimitReached { what: AppChild::Secrets, max: 2 });
        assert_eq!(e.summary, "Api validation failed: OAuth2ClientSecret");
        assert_eq!(
            e.causes,
            [
                "You can't create a new secret. You have reached the maximum number of secrets allowed (2). To add another secret, you must first delete an existing one."
            ]
        );
        let e = ApiError::from(StoreError::Corrupt("apps.extra: not JSON".into()));
        assert_eq!(
            (e.status, e.summary.as_str()),
            (StatusCode::SERVICE_UNAVAILABLE, "Service is temporarily unavailable.")
        );
        assert!(e.causes.is_empty());
    }
}
