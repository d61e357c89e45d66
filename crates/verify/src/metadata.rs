//! Issuer metadata: `{issuer}/.well-known/openid-configuration`, falling back to
//! `{issuer}/.well-known/oauth-authorization-server` (RFC 8414). Only `issuer` and `jwks_uri` matter
//! here, and the document's `issuer` must be exactly the configured one (RFC 8414 §3.3), so that a
//! misconfigured URL cannot make us trust another issuer's keys.
use serde::Deserialize;

use crate::VerifyError;

#[derive(Debug, Clone, Deserialize)]
pub struct IssuerMetadata {
    pub issuer: String,
    pub jwks_uri: String,
}

/// Fetches and checks the issuer's metadata.
pub async fn discover(http: &reqwest::Client, issuer: &str) -> Result<IssuerMetadata, VerifyError> {
    let mut failures = Vec::new();
    for document in ["openid-configuration", "oauth-authorization-server"] {
        let url = format!("{issuer}/.well-known/{document}");
        match fetch_json::<IssuerMetadata>(http, &url).await {
            Ok(metadata) if metadata.issuer == issuer => return Ok(metadata),
            Ok(metadata) => {
                return Err(VerifyError::KeysUnavailable(format!(
                    "{url} names issuer {:?}, not {issuer:?}",
                    metadata.issuer
                )));
            }
            Err(reason) => failures.push(reason),
        }
    }
    Err(VerifyError::KeysUnavailable(failures.join("; ")))
}

/// Largest discovery document or JWKS read: a misbehaving issuer cannot make the verifier buffer without bound.
pub const MAX_DOCUMENT_BYTES: usize = 1024 * 1024;

/// GETs a JSON document of at most [`MAX_DOCUMENT_BYTES`]; the error is a one-line reason.
pub async fn fetch_json<T: serde::de::DeserializeOwned>(http: &reqwest::Client, url: &str) -> Result<T, String> {
    let response = http
        .get(url)
        .header(reqwest::header::ACCEPT, "application/json")
        .send()
        .await
        .map_err(|e| format!("{url}: {e}"))?;
    let status = response.status();
    if !status.is_success() {
        return Err(format!("{url}: HTTP {status}"));
    }
    let body = tollgate_fetch::read_capped(response, MAX_DOCUMENT_BYTES).await.map_err(|e| format!("{url}: {e}"))?;
    serde_json::from_slice(&body).map_err(|e| format!("{url}: {e}"))
}
