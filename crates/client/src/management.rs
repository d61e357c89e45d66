//! The two management calls `tollgate app create` makes, with Okta's shapes: Dynamic Client Registration
//! (`POST {org}/oauth2/v1/clients`) for a service app, then one grant per scope
//! (`POST {org}/api/v1/apps/{clientId}/grants`), both with `Authorization: SSWS <api token>`.
use serde::{Deserialize, Serialize};

use crate::endpoint::normalize_base_url;
use crate::{ClientError, Secret};

/// How the new app will authenticate at the token endpoint.
#[derive(Debug, Clone)]
pub enum AppCredentials {
    /// `private_key_jwt` with these public keys.
    Jwks(serde_json::Value),
    /// `private_key_jwt` with keys fetched from this URL.
    JwksUri(String),
    /// `client_secret_basic` (or `client_secret_post`); the server generates the secret.
    Secret { method: &'static str },
}

/// The DCR request body (RFC 7591, Okta's service-app shape).
#[derive(Debug, Serialize)]
struct RegistrationRequest<'a> {
    client_name: &'a str,
    application_type: &'static str,
    grant_types: [&'static str; 1],
    response_types: [&'static str; 1],
    token_endpoint_auth_method: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    jwks: Option<&'a serde_json::Value>,
    #[serde(skip_serializing_if = "Option::is_none")]
    jwks_uri: Option<&'a str>,
    /// RFC 9449 §5.2 / Okta: tokens only with a DPoP proof, bound to its key. Left out when false.
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    dpop_bound_access_tokens: bool,
}

/// What the server answered; everything else it sent is kept in `other`.
#[derive(Clone, Deserialize, Serialize)]
pub struct Registration {
    pub client_id: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub client_secret: Option<String>,
    #[serde(default)]
    pub token_endpoint_auth_method: Option<String>,
    #[serde(flatten)]
    pub other: serde_json::Map<String, serde_json::Value>,
}

impl std::fmt::Debug for Registration {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Registration")
            .field("client_id", &self.client_id)
            .field("client_secret", &self.client_secret.as_ref().map(|_| "<redacted>"))
            .finish_non_exhaustive()
    }
}

/// The management API of one org, authenticated with an API token.
#[derive(Debug, Clone)]
pub struct ManagementClient {
    http: reqwest::Client,
    org: String,
    api_token: Secret,
}

impl ManagementClient {
    pub fn new(org_url: &str, api_token: Secret) -> Result<Self, ClientError> {
        let http = crate::source::default_http_client()?;
        Ok(ManagementClient { http, org: normalize_base_url(org_url)?, api_token })
    }

    /// The org URL, without a trailing slash (also the org authorization server's issuer).
    pub fn org(&self) -> &str {
        &self.org
    }

    /// Registers a service app for the client-credentials grant.
    pub async fn register_service_app(
        &self,
        name: &str,
        credentials: &AppCredentials,
    ) -> Result<Registration, ClientError> {
        self.register_app(name, credentials, false).await
    }

    /// Registers a service app; with `dpop_bound`, one whose tokens are DPoP-bound (RFC 9449).
    pub async fn register_app(
        &self,
        name: &str,
        credentials: &AppCredentials,
        dpop_bound: bool,
    ) -> Result<Registration, ClientError> {
        let (method, jwks, jwks_uri) = match credentials {
            AppCredentials::Jwks(jwks) => ("private_key_jwt", Some(jwks), None),
            AppCredentials::JwksUri(uri) => ("private_key_jwt", None, Some(uri.as_str())),
            AppCredentials::Secret { method } => (*method, None, None),
        };
        let body = RegistrationRequest {
            client_name: name,
            application_type: "service",
            grant_types: ["client_credentials"],
            response_types: ["token"],
            token_endpoint_auth_method: method,
            jwks,
            jwks_uri,
            dpop_bound_access_tokens: dpop_bound,
        };
        self.post_json("registering the app", &format!("{}/oauth2/v1/clients", self.org), &body).await
    }

    /// Grants one scope to the app; `issuer` is the authorization server's issuer (the org URL for the
    /// org authorization server and its `okta.*` scopes).
    pub async fn grant_scope(
        &self,
        client_id: &str,
        scope: &str,
        issuer: &str,
    ) -> Result<serde_json::Value, ClientError> {
        let path_id: String = url::form_urlencoded::byte_serialize(client_id.as_bytes()).collect();
        let body = serde_json::json!({ "scopeId": scope, "issuer": issuer });
        self.post_json("granting the scope", &format!("{}/api/v1/apps/{path_id}/grants", self.org), &body).await
    }

    async fn post_json<B: Serialize, T: serde::de::DeserializeOwned>(
        &self,
        context: &'static str,
        url: &str,
        body: &B,
    ) -> Result<T, ClientError> {
        let response = self
            .http
            .post(url)
            .header(reqwest::header::AUTHORIZATION, format!("SSWS {}", self.api_token.expose()))
            .header(reqwest::header::ACCEPT, "application/json")
            .json(body)
            .send()
            .await
            .map_err(ClientError::transport(context))?;
        let status = response.status().as_u16();
        let bytes = ClientError::read_body(context, response).await?;
        if !(200..300).contains(&status) {
            return Err(ClientError::from_response(context, status, &bytes));
        }
        serde_json::from_slice(&bytes).map_err(|e| ClientError::InvalidResponse { context, detail: e.to_string() })
    }
}
