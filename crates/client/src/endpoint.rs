//! Where to ask for a token. Okta compares the assertion's `aud` with the invoked URL byte for byte and
//! refuses `https://org//oauth2/v1/token`, so the org URL is normalised once here (no trailing slash) and
//! every URL is derived from that one string.
use serde::Deserialize;
use url::Url;

use crate::ClientError;

/// A token endpoint and the issuer of the authorization server behind it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TokenEndpoint {
    token_url: String,
    issuer: String,
    /// An Okta Access Gateway endpoint: assertions name the base URL and carry the scopes.
    gateway: bool,
}

/// Checks that `text` is an absolute http(s) URL and returns it without trailing slashes.
pub fn normalize_base_url(text: &str) -> Result<String, ClientError> {
    let trimmed = text.trim().trim_end_matches('/');
    let parsed =
        Url::parse(trimmed).map_err(|e| ClientError::InvalidUrl { url: text.to_owned(), reason: e.to_string() })?;
    if !matches!(parsed.scheme(), "http" | "https") {
        return Err(ClientError::InvalidUrl {
            url: text.to_owned(),
            reason: "the scheme must be http or https".into(),
        });
    }
    if parsed.query().is_some() || parsed.fragment().is_some() {
        return Err(ClientError::InvalidUrl {
            url: text.to_owned(),
            reason: "a query or fragment is not allowed here".into(),
        });
    }
    Ok(trimmed.to_owned())
}

impl TokenEndpoint {
    /// The endpoint for an org: `{org}/oauth2/v1/token` (org authorization server, issuer `{org}`), or
    /// `{org}/oauth2/{id}/v1/token` (custom authorization server `id`, issuer `{org}/oauth2/{id}`).
    pub fn for_org(org_url: &str, authorization_server: Option<&str>) -> Result<Self, ClientError> {
        let org = normalize_base_url(org_url)?;
        match authorization_server.map(str::trim).filter(|id| !id.is_empty()) {
            None => Ok(TokenEndpoint { token_url: format!("{org}/oauth2/v1/token"), issuer: org, gateway: false }),
            Some(id) => {
                if id.contains(['/', '?', '#', ' ']) {
                    return Err(ClientError::Config(format!("invalid authorization server id {id:?}")));
                }
                let issuer = format!("{org}/oauth2/{id}");
                Ok(TokenEndpoint { token_url: format!("{issuer}/v1/token"), issuer, gateway: false })
            }
        }
    }

    /// The Okta Access Gateway admin API's endpoint: `{base}/api/v2/oauth/token`. Its assertions differ
    /// from Okta's: `aud` is the base URL and a `scope` claim repeats the requested scopes (see
    /// [`AssertionSigner::claims_for`](crate::AssertionSigner::claims_for)); its tokens last 300 s.
    pub fn for_gateway(base_url: &str) -> Result<Self, ClientError> {
        let base = normalize_base_url(base_url)?;
        Ok(TokenEndpoint { token_url: format!("{base}/api/v2/oauth/token"), issuer: base, gateway: true })
    }

    /// Whether this is an Access Gateway endpoint ([`for_gateway`](Self::for_gateway)).
    pub fn is_gateway(&self) -> bool {
        self.gateway
    }

    /// An endpoint given explicitly (for servers that do not follow Okta's paths).
    pub fn new(token_url: impl Into<String>, issuer: impl Into<String>) -> Self {
        TokenEndpoint { token_url: token_url.into(), issuer: issuer.into(), gateway: false }
    }

    /// Reads `{issuer}/.well-known/openid-configuration` (falling back to
    /// `oauth-authorization-server`) and takes its `token_endpoint`.
    pub async fn discover(http: &reqwest::Client, issuer: &str) -> Result<Self, ClientError> {
        let issuer = normalize_base_url(issuer)?;
        let metadata = fetch_metadata(http, &issuer).await?;
        if metadata.issuer != issuer {
            return Err(ClientError::InvalidResponse {
                context: "discovery",
                detail: format!("the metadata names issuer {:?}, expected {issuer:?}", metadata.issuer),
            });
        }
        Ok(TokenEndpoint { token_url: metadata.token_endpoint, issuer, gateway: false })
    }

    /// The token endpoint URL (also the default assertion `aud`).
    pub fn token_url(&self) -> &str {
        &self.token_url
    }

    /// The authorization server's issuer.
    pub fn issuer(&self) -> &str {
        &self.issuer
    }

    /// The URL of a sibling endpoint (`introspect`, `revoke`, `keys`): the token URL's last segment swapped.
    pub fn sibling(&self, endpoint: &str) -> String {
        match self.token_url.strip_suffix("/token") {
            Some(base) => format!("{base}/{endpoint}"),
            None => format!("{}/v1/{endpoint}", self.issuer),
        }
    }
}

#[derive(Debug, Deserialize)]
struct Metadata {
    issuer: String,
    token_endpoint: String,
}

async fn fetch_metadata(http: &reqwest::Client, issuer: &str) -> Result<Metadata, ClientError> {
    let mut last_error = None;
    for document in ["openid-configuration", "oauth-authorization-server"] {
        let url = format!("{issuer}/.well-known/{document}");
        let response = http.get(&url).send().await.map_err(ClientError::transport("discovery"))?;
        let status = response.status();
        let body = ClientError::read_body("discovery", response).await?;
        if status.is_success() {
            return serde_json::from_slice(&body)
                .map_err(|e| ClientError::InvalidResponse { context: "discovery", detail: format!("{url}: {e}") });
        }
        last_error = Some(ClientError::from_response("discovery", status.as_u16(), &body));
    }
    Err(last_error.unwrap_or_else(|| ClientError::Config("no discovery document".into())))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn org_authorization_server() {
        let ep = TokenEndpoint::for_org("https://dev-1.okta.com", None).unwrap();
        assert_eq!(ep.token_url(), "https://dev-1.okta.com/oauth2/v1/token");
        assert_eq!(ep.issuer(), "https://dev-1.okta.com");
    }

    #[test]
    fn trailing_slash_never_doubles() {
        let ep = TokenEndpoint::for_org("https://dev-1.okta.com/", None).unwrap();
        assert_eq!(ep.token_url(), "https://dev-1.okta.com/oauth2/v1/token");
        let ep = TokenEndpoint::for_org("http://127.0.0.1:8080//", Some("default")).unwrap();
        assert_eq!(ep.token_url(), "http://127.0.0.1:8080/oauth2/default/v1/token");
        assert_eq!(ep.issuer(), "http://127.0.0.1:8080/oauth2/default");
        assert_eq!(ep.sibling("introspect"), "http://127.0.0.1:8080/oauth2/default/v1/introspect");
    }

    #[test]
    fn access_gateway() {
        let ep = TokenEndpoint::for_gateway("https://oag.example.com/").unwrap();
        assert_eq!(ep.token_url(), "https://oag.example.com/api/v2/oauth/token");
        assert_eq!(ep.issuer(), "https://oag.example.com");
        assert!(ep.is_gateway());
        assert!(!TokenEndpoint::for_org("https://oag.example.com", None).unwrap().is_gateway());
    }

    #[test]
    fn bad_urls_are_refused() {
        assert!(TokenEndpoint::for_org("dev-1.okta.com", None).is_err());
        assert!(TokenEndpoint::for_org("ftp://dev-1.okta.com", None).is_err());
        assert!(TokenEndpoint::for_org("https://dev-1.okta.com", Some("a/b")).is_err());
    }
}
