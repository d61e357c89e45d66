//! Workload identity federation, the client side: authenticating with a token the workload's platform
//! already gives it (a GitHub Actions OIDC token, a Kubernetes projected service-account token, a SPIFFE
//! JWT-SVID) instead of a key or secret. The external token is sent as the `client_assertion`, with the
//! app's `client_id` (the token's `iss` is the platform, not the app).
//!
//! The token is obtained afresh for every token request: a file is re-read (Kubernetes and the SPIFFE
//! helper rewrite it as the token nears its end), an environment variable re-read, and GitHub Actions'
//! runtime asked again (`ACTIONS_ID_TOKEN_REQUEST_URL` with `ACTIONS_ID_TOKEN_REQUEST_TOKEN`).
use std::path::PathBuf;

use crate::assertion::CLIENT_ASSERTION_TYPE;
use crate::{ClientError, TokenEndpoint};

/// The SPIFFE client-authentication draft's `client_assertion_type`, for JWT-SVIDs.
pub const SPIFFE_ASSERTION_TYPE: &str = "urn:ietf:params:oauth:client-assertion-type:jwt-spiffe";

/// The variables the GitHub Actions runtime sets for a job with `permissions: id-token: write`.
pub const GITHUB_REQUEST_URL: &str = "ACTIONS_ID_TOKEN_REQUEST_URL";
/// See [`GITHUB_REQUEST_URL`].
pub const GITHUB_REQUEST_TOKEN: &str = "ACTIONS_ID_TOKEN_REQUEST_TOKEN";

/// Largest external token read from a file or variable (Kubernetes tokens are a few KiB).
pub const MAX_TOKEN_BYTES: u64 = 64 * 1024;

/// Where the external token comes from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ExternalToken {
    /// A file, re-read for every token request (a projected service-account token, a JWT-SVID file).
    File(PathBuf),
    /// An environment variable, re-read for every token request.
    Env(String),
    /// The GitHub Actions runtime, asked for a token with this `audience` (`None`: the token endpoint's
    /// issuer, which is what a federated credential accepts by default).
    GithubActions { audience: Option<String> },
}

/// Federated client authentication: the app's `client_id` and where its external token comes from.
#[derive(Debug, Clone)]
pub struct FederatedAuth {
    pub client_id: String,
    pub token: ExternalToken,
    /// Send the SPIFFE draft's assertion type (`jwt-spiffe`) instead of RFC 7523's `jwt-bearer`.
    pub spiffe: bool,
}

impl FederatedAuth {
    pub fn new(client_id: impl Into<String>, token: ExternalToken) -> Self {
        FederatedAuth { client_id: client_id.into(), token, spiffe: false }
    }

    /// Sends the SPIFFE draft's assertion type.
    pub fn spiffe(mut self, spiffe: bool) -> Self {
        self.spiffe = spiffe;
        self
    }

    /// The `client_assertion_type` sent.
    pub fn assertion_type(&self) -> &'static str {
        if self.spiffe { SPIFFE_ASSERTION_TYPE } else { CLIENT_ASSERTION_TYPE }
    }

    /// The form fields of one token request: the external token, fetched now.
    pub async fn form(
        &self,
        http: &reqwest::Client,
        endpoint: &TokenEndpoint,
    ) -> Result<Vec<(&'static str, String)>, ClientError> {
        let token = self.external_token(http, endpoint).await?;
        Ok(vec![
            ("client_id", self.client_id.clone()),
            ("client_assertion_type", self.assertion_type().to_owned()),
            ("client_assertion", token),
        ])
    }

    /// The external token, as it is now.
    pub async fn external_token(
        &self,
        http: &reqwest::Client,
        endpoint: &TokenEndpoint,
    ) -> Result<String, ClientError> {
        let text = match &self.token {
            ExternalToken::File(path) => read_token_file(path)?,
            ExternalToken::Env(name) => std::env::var(name)
                .map_err(|_| ClientError::Config(format!("the federated token variable {name} is not set")))?,
            ExternalToken::GithubActions { audience } => {
                github_actions_token(http, audience.as_deref().unwrap_or(endpoint.issuer())).await?
            }
        };
        let token = text.trim();
        if token.is_empty() {
            return Err(ClientError::Config(format!("the federated token from {} is empty", self.token.describe())));
        }
        if token.len() as u64 > MAX_TOKEN_BYTES {
            return Err(ClientError::Config(format!(
                "the federated token from {} is larger than {MAX_TOKEN_BYTES} bytes",
                self.token.describe()
            )));
        }
        Ok(token.to_owned())
    }
}

impl ExternalToken {
    fn describe(&self) -> String {
        match self {
            ExternalToken::File(path) => path.display().to_string(),
            ExternalToken::Env(name) => format!("${name}"),
            ExternalToken::GithubActions { .. } => "the GitHub Actions runtime".to_owned(),
        }
    }
}

fn read_token_file(path: &std::path::Path) -> Result<String, ClientError> {
    use std::io::Read;
    let file = std::fs::File::open(path)
        .map_err(|e| ClientError::Config(format!("cannot read the federated token file {}: {e}", path.display())))?;
    let mut text = String::new();
    file.take(MAX_TOKEN_BYTES + 1)
        .read_to_string(&mut text)
        .map_err(|e| ClientError::Config(format!("cannot read the federated token file {}: {e}", path.display())))?;
    Ok(text)
}

/// Asks the GitHub Actions runtime for an OIDC token for `audience`: `GET $ACTIONS_ID_TOKEN_REQUEST_URL
/// &audience=...` with `Authorization: bearer $ACTIONS_ID_TOKEN_REQUEST_TOKEN`; the answer is `{"value": jwt}`.
pub async fn github_actions_token(http: &reqwest::Client, audience: &str) -> Result<String, ClientError> {
    const CONTEXT: &str = "GitHub Actions OIDC token request";
    let missing = |name: &str| {
        ClientError::Config(format!(
            "{name} is not set: run in a GitHub Actions job with `permissions: id-token: write`"
        ))
    };
    let request_url = std::env::var(GITHUB_REQUEST_URL).map_err(|_| missing(GITHUB_REQUEST_URL))?;
    let request_token = std::env::var(GITHUB_REQUEST_TOKEN).map_err(|_| missing(GITHUB_REQUEST_TOKEN))?;
    let mut url = url::Url::parse(&request_url)
        .map_err(|e| ClientError::InvalidUrl { url: request_url.clone(), reason: e.to_string() })?;
    url.query_pairs_mut().append_pair("audience", audience);
    let response = http
        .get(url)
        .header(reqwest::header::AUTHORIZATION, format!("bearer {request_token}"))
        .header(reqwest::header::ACCEPT, "application/json")
        .send()
        .await
        .map_err(ClientError::transport(CONTEXT))?;
    let status = response.status().as_u16();
    let body = ClientError::read_body(CONTEXT, response).await?;
    if !(200..300).contains(&status) {
        return Err(ClientError::from_response(CONTEXT, status, &body));
    }
    #[derive(serde::Deserialize)]
    struct Answer {
        value: String,
    }
    let answer: Answer = serde_json::from_slice(&body)
        .map_err(|e| ClientError::InvalidResponse { context: CONTEXT, detail: e.to_string() })?;
    Ok(answer.value)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn a_file_is_read_anew_for_every_request() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("token");
        std::fs::write(&path, "first.jwt.x\n").unwrap();
        let auth = FederatedAuth::new("0oa1", ExternalToken::File(path.clone()));
        let http = reqwest::Client::new();
        let ep = TokenEndpoint::for_org("https://x.example", None).unwrap();
        let form = auth.form(&http, &ep).await.unwrap();
        assert_eq!(form[0], ("client_id", "0oa1".to_owned()));
        assert_eq!(form[1].1, CLIENT_ASSERTION_TYPE);
        assert_eq!(form[2].1, "first.jwt.x", "trimmed");
        std::fs::write(&path, "second.jwt.y").unwrap();
        assert_eq!(auth.external_token(&http, &ep).await.unwrap(), "second.jwt.y", "rotated by the platform");
        std::fs::write(&path, "  \n").unwrap();
        assert!(auth.external_token(&http, &ep).await.is_err(), "an empty file is an error, not an empty assertion");
        let spiffe = auth.clone().spiffe(true);
        assert_eq!(spiffe.assertion_type(), SPIFFE_ASSERTION_TYPE);
    }
}
