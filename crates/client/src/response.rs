//! The token endpoint's success answer (RFC 6749 §5.1). Unknown members are kept so that
//! `tollgate token --output json` can print the whole response as the server sent it.
use serde::{Deserialize, Serialize};

/// Lifetime assumed when a server leaves out `expires_in` (what Okta's SDKs assume).
pub const DEFAULT_EXPIRES_IN: u64 = 3600;

/// A token response.
#[derive(Clone, PartialEq, Serialize, Deserialize)]
pub struct TokenResponse {
    #[serde(default = "bearer")]
    pub token_type: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub expires_in: Option<u64>,
    pub access_token: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub scope: Option<String>,
    #[serde(flatten)]
    pub other: serde_json::Map<String, serde_json::Value>,
}

fn bearer() -> String {
    "Bearer".to_owned()
}

impl TokenResponse {
    /// `expires_in`, or the default.
    pub fn lifetime_secs(&self) -> u64 {
        self.expires_in.unwrap_or(DEFAULT_EXPIRES_IN)
    }

    /// Whether the token is DPoP-bound (`token_type` `DPoP`, RFC 9449 §5): it must be sent with the
    /// `DPoP` scheme and a proof.
    pub fn is_dpop(&self) -> bool {
        self.token_type.eq_ignore_ascii_case("DPoP")
    }

    /// The value for an `Authorization` header (`Bearer <token>`, or `DPoP <token>`).
    pub fn authorization(&self) -> String {
        format!("{} {}", self.token_type, self.access_token)
    }
}

impl std::fmt::Debug for TokenResponse {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TokenResponse")
            .field("token_type", &self.token_type)
            .field("expires_in", &self.expires_in)
            .field("access_token", &"<redacted>")
            .field("scope", &self.scope)
            .finish_non_exhaustive()
    }
}
