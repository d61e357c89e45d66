//! The one error type of the crate. A refusal keeps the server's own words (Okta's `error` and
//! `error_description`, or the management API's `errorCode` and `errorSummary`), because those are what a
//! user searches for and what `tollgate explain` maps to a fix.
use serde::Deserialize;

/// Everything that can go wrong while getting or using a token.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ClientError {
    /// A URL given to us (org, issuer, path) is not usable.
    #[error("invalid URL {url:?}: {reason}")]
    InvalidUrl { url: String, reason: String },
    /// The configuration is incomplete or contradictory.
    #[error("{0}")]
    Config(String),
    /// An OAuth endpoint answered with `{"error", "error_description"}`.
    #[error("{context} refused (HTTP {status}): {error}: {description}")]
    OAuth { context: &'static str, status: u16, error: String, description: String },
    /// The management API answered with Okta's error object.
    #[error("{context} failed (HTTP {status}): {code}: {summary}{}", causes_suffix(.causes))]
    Okta { context: &'static str, status: u16, code: String, summary: String, causes: Vec<String> },
    /// Any other non-success answer.
    #[error("{context} failed: HTTP {status}{}", body_suffix(.body))]
    Status { context: &'static str, status: u16, body: String },
    /// The request did not get an answer (connection refused, timeout, TLS, ...).
    #[error("{context}: {source}")]
    Transport {
        context: &'static str,
        #[source]
        source: reqwest::Error,
    },
    /// The answer was a success status but not the document we expected.
    #[error("{context}: unexpected response: {detail}")]
    InvalidResponse { context: &'static str, detail: String },
    /// The answer was larger than the client reads (see [`crate::MAX_RESPONSE_BYTES`]).
    #[error("{context}: the answer is larger than {limit} bytes")]
    TooLarge { context: &'static str, limit: usize },
    /// No usable `tollgate agent` at the socket (none running, or it is not this user's).
    #[error("no usable tollgate agent at {socket}: {reason}")]
    AgentUnavailable { socket: String, reason: String },
    /// The agent refused the request (`code` is one of [`crate::agent::protocol::code`]).
    #[error("the tollgate agent refused: {code}: {message}")]
    Agent { code: String, message: String },
    /// Signing the client assertion or reading a key failed.
    #[error(transparent)]
    Jose(#[from] tollgate_jose::JoseError),
    /// A CA certificate file to trust (`SSL_CERT_FILE`, `--ca-cert`) cannot be used.
    #[error(transparent)]
    Trust(#[from] tollgate_fetch::trust::TrustError),
}

fn causes_suffix(causes: &[String]) -> String {
    if causes.is_empty() { String::new() } else { format!(" ({})", causes.join("; ")) }
}

fn body_suffix(body: &str) -> String {
    if body.is_empty() { String::new() } else { format!(": {body}") }
}

#[derive(Deserialize)]
struct OAuthErrorBody {
    error: String,
    #[serde(default)]
    error_description: Option<String>,
}

#[derive(Deserialize)]
struct OktaErrorBody {
    #[serde(rename = "errorCode")]
    error_code: String,
    #[serde(rename = "errorSummary", default)]
    error_summary: String,
    #[serde(rename = "errorCauses", default)]
    error_causes: Vec<OktaErrorCause>,
}

#[derive(Deserialize)]
struct OktaErrorCause {
    #[serde(rename = "errorSummary", default)]
    error_summary: String,
}

/// Longest excerpt of an unrecognised error body kept in [`ClientError::Status`].
const BODY_EXCERPT_CHARS: usize = 200;

impl ClientError {
    /// Classifies a non-success answer by its body: OAuth error, Okta error object, or anything else.
    pub fn from_response(context: &'static str, status: u16, body: &[u8]) -> Self {
        if let Ok(oauth) = serde_json::from_slice::<OAuthErrorBody>(body) {
            return ClientError::OAuth {
                context,
                status,
                error: oauth.error,
                description: oauth.error_description.unwrap_or_default(),
            };
        }
        if let Ok(okta) = serde_json::from_slice::<OktaErrorBody>(body) {
            return ClientError::Okta {
                context,
                status,
                code: okta.error_code,
                summary: okta.error_summary,
                causes: okta.error_causes.into_iter().map(|c| c.error_summary).filter(|s| !s.is_empty()).collect(),
            };
        }
        let text = String::from_utf8_lossy(body);
        let one_line: String = text.split_whitespace().collect::<Vec<_>>().join(" ");
        let body = one_line.chars().take(BODY_EXCERPT_CHARS).collect();
        ClientError::Status { context, status, body }
    }

    pub(crate) fn transport(context: &'static str) -> impl FnOnce(reqwest::Error) -> Self {
        move |source| ClientError::Transport { context, source }
    }

    /// A response body, read up to [`crate::MAX_RESPONSE_BYTES`].
    pub(crate) async fn read_body(context: &'static str, response: reqwest::Response) -> Result<bytes::Bytes, Self> {
        let limit = crate::MAX_RESPONSE_BYTES;
        tollgate_fetch::read_capped(response, limit).await.map_err(|e| match e {
            tollgate_fetch::FetchError::TooLarge(limit) => ClientError::TooLarge { context, limit },
            other => ClientError::InvalidResponse { context, detail: other.to_string() },
        })
    }

    /// The HTTP status of a refused request, if the server answered.
    pub fn status(&self) -> Option<u16> {
        match self {
            ClientError::OAuth { status, .. }
            | ClientError::Okta { status, .. }
            | ClientError::Status { status, .. } => Some(*status),
            _ => None,
        }
    }

    /// The DPoP refusal this error is, if it is one (by the OAuth `error` and `error_description`).
    pub fn dpop_refusal(&self) -> Option<crate::dpop::DpopRefusal> {
        match self {
            ClientError::OAuth { error, description, .. } => crate::dpop::DpopRefusal::classify(error, description),
            ClientError::Okta { causes, .. } => {
                causes.iter().find_map(|cause| crate::dpop::DpopRefusal::classify("", cause))
            }
            _ => None,
        }
    }

    /// The OAuth `error` code, if the server sent one.
    pub fn oauth_error(&self) -> Option<&str> {
        match self {
            ClientError::OAuth { error, .. } => Some(error),
            _ => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn oauth_body_keeps_error_and_description() {
        let body = br#"{"error":"invalid_client","error_description":"The client_assertion token is expired."}"#;
        let err = ClientError::from_response("token request", 401, body);
        assert_eq!(err.oauth_error(), Some("invalid_client"));
        assert_eq!(
            err.to_string(),
            "token request refused (HTTP 401): invalid_client: The client_assertion token is expired."
        );
    }

    #[test]
    fn okta_error_object_keeps_code_summary_and_causes() {
        let body = br#"{"errorCode":"E0000001","errorSummary":"Api validation failed: JsonWebKey","errorLink":"E0000001","errorId":"oae1","errorCauses":[{"errorSummary":"RSA key too small"}]}"#;
        let err = ClientError::from_response("creating the app", 400, body);
        assert_eq!(
            err.to_string(),
            "creating the app failed (HTTP 400): E0000001: Api validation failed: JsonWebKey (RSA key too small)"
        );
    }

    #[test]
    fn other_bodies_become_a_one_line_excerpt() {
        let err = ClientError::from_response("call", 502, b"<html>\n bad\n gateway </html>");
        assert_eq!(err.to_string(), "call failed: HTTP 502: <html> bad gateway </html>");
        assert_eq!(err.status(), Some(502));
    }
}
