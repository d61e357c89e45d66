//! The agent's wire protocol: newline-delimited JSON over a Unix socket. Each request is one JSON object
//! on one line, with `"op"` naming it (and optionally `"v": 1`); the agent answers each with one line,
//! `{"ok": true, ...}` or `{"ok": false, "error": {"code": "...", "message": "..."}}`, and keeps the
//! connection open for the next request. See docs/agent.md for the whole contract.
use serde::{Deserialize, Serialize};

use crate::TokenResponse;

/// The protocol version this crate speaks.
pub const VERSION: u32 = 1;
/// Longest request or answer line read (a token answer is a few KiB).
pub const MAX_LINE_BYTES: u64 = 256 * 1024;

/// A request, by its `op`.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(tag = "op", rename_all = "snake_case")]
pub enum Request {
    /// A token for the agent's client (optionally with a DPoP proof for one API request).
    Token(TokenQuery),
    /// A DPoP proof for an API request with a DPoP-bound token the agent handed out.
    Proof(ProofQuery),
    /// Forget a token a server refused (the next `token` fetches a new one).
    Invalidate { access_token: String },
    /// Health and counters.
    Status,
    /// Stop the agent.
    Shutdown,
}

/// What a `token` request asks for. Everything left out takes the agent's value; anything given must
/// name what the agent holds (its org and client), or the answer is `not_held`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct TokenQuery {
    /// The token endpoint URL the caller would use (another authorization server of the agent's org is fine).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub token_url: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub client_id: Option<String>,
    /// Empty: the agent's scopes.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub scopes: Vec<String>,
    /// A DPoP-bound token (bound to the agent's key; proofs come from the agent).
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub dpop: bool,
    /// With `dpop`: the thumbprint the caller expects the agent's key to have.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub jkt: Option<String>,
    /// With `dpop`: also sign a proof for this API request.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub proof: Option<ProofFor>,
}

/// The API request a proof is for.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ProofFor {
    pub htm: String,
    pub htu: String,
    /// A `DPoP-Nonce` the API sent; remembered for later proofs to that origin.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub nonce: Option<String>,
}

/// A `proof` request.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ProofQuery {
    pub access_token: String,
    #[serde(flatten)]
    pub request: ProofFor,
}

/// A request line: the request and the version the caller speaks.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Envelope {
    #[serde(default = "version")]
    pub v: u32,
    #[serde(flatten)]
    pub request: Request,
}

fn version() -> u32 {
    VERSION
}

/// A refusal: a stable `code` for programs and a sentence for people.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ErrorBody {
    pub code: String,
    pub message: String,
    /// For `token_request_failed`: what the token endpoint answered.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub upstream: Option<Upstream>,
}

/// A token endpoint's refusal as the agent got it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Upstream {
    pub status: u16,
    pub error: String,
    pub error_description: String,
}

/// Error codes.
pub mod code {
    /// The peer is another user (by its socket credentials).
    pub const FORBIDDEN: &str = "forbidden";
    /// The line is not a request this agent understands.
    pub const BAD_REQUEST: &str = "bad_request";
    /// The request names an org, authorization server, client or DPoP key the agent does not hold.
    pub const NOT_HELD: &str = "not_held";
    /// The app requires DPoP-bound tokens and the caller asked for a Bearer token.
    pub const DPOP_REQUIRED: &str = "dpop_required";
    /// A proof for a token that is not a DPoP-bound token handed out by this agent.
    pub const UNKNOWN_TOKEN: &str = "unknown_token";
    /// The token endpoint refused or could not be reached.
    pub const TOKEN_REQUEST_FAILED: &str = "token_request_failed";
}

/// An answer line.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct Response {
    pub ok: bool,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<ErrorBody>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub token: Option<TokenResponse>,
    /// When the token was obtained and when it expires (seconds since the epoch).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub obtained_at: Option<i64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub expires_at: Option<i64>,
    /// Whether the token came from the agent's cache (`false`: fetched for this request).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cached: Option<bool>,
    /// The thumbprint of the key a DPoP-bound token is bound to.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub jkt: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub dpop_proof: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub status: Option<serde_json::Value>,
}

impl Response {
    pub fn ok() -> Self {
        Response { ok: true, ..Default::default() }
    }

    pub fn refused(code: &str, message: impl Into<String>) -> Self {
        Response {
            ok: false,
            error: Some(ErrorBody { code: code.to_owned(), message: message.into(), upstream: None }),
            ..Default::default()
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn requests_are_one_json_object_with_an_op() {
        let line = r#"{"op":"token","scopes":["a"],"dpop":true,"proof":{"htm":"GET","htu":"https://x/y"}}"#;
        let parsed: Envelope = serde_json::from_str(line).unwrap();
        assert_eq!(parsed.v, VERSION);
        let Request::Token(query) = parsed.request else { panic!("not a token request") };
        assert!(query.dpop);
        assert_eq!(query.proof.unwrap().htm, "GET");
        let status: Envelope = serde_json::from_str(r#"{"v":1,"op":"status"}"#).unwrap();
        assert!(matches!(status.request, Request::Status));
        assert!(serde_json::from_str::<Envelope>(r#"{"op":"steal"}"#).is_err());
        let written = serde_json::to_string(&Envelope { v: 1, request: Request::Shutdown }).unwrap();
        assert_eq!(written, r#"{"v":1,"op":"shutdown"}"#);
    }
}
