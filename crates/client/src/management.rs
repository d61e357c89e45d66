//! The management calls the CLI makes, with Okta's shapes and `Authorization: SSWS <api token>`: Dynamic
//! Client Registration (`POST {org}/oauth2/v1/clients`) for a service app, one grant per scope
//! (`POST {org}/api/v1/apps/{clientId}/grants`), and an app's keys and client secrets one by one
//! (`/api/v1/apps/{appId}/credentials/jwks` and `/secrets`, with their lifecycle), for rotation.
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
    retry: crate::RetryPolicy,
}

impl ManagementClient {
    pub fn new(org_url: &str, api_token: Secret) -> Result<Self, ClientError> {
        let http = crate::source::default_http_client()?;
        Ok(ManagementClient {
            http,
            org: normalize_base_url(org_url)?,
            api_token,
            retry: crate::RetryPolicy::default(),
        })
    }

    /// How calls are repeated on 429, 503 and 504 (default: Okta's SDKs' two retries).
    pub fn with_retry_policy(mut self, retry: crate::RetryPolicy) -> Self {
        self.retry = retry;
        self
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

    /// `/api/v1/apps/{app_id}/credentials/{kind}` (`jwks` or `secrets`), the id path-encoded.
    fn credentials_url(&self, app_id: &str, kind: &str) -> String {
        let path_id: String = url::form_urlencoded::byte_serialize(app_id.as_bytes()).collect();
        format!("{}/api/v1/apps/{path_id}/credentials/{kind}", self.org)
    }

    /// The app's public keys (Okta's JWKS API answers an array; tollgate a `{"jwks": {"keys": [...]}}`
    /// object: both are read), each with `id`, `kid`, `status` and, from tollgate, `lastUsed`.
    pub async fn app_keys(&self, app_id: &str) -> Result<Vec<serde_json::Value>, ClientError> {
        let body = self
            .send_json("listing the app's keys", reqwest::Method::GET, &self.credentials_url(app_id, "jwks"), None)
            .await?;
        Ok(match body {
            serde_json::Value::Array(keys) => keys,
            other => other.pointer("/jwks/keys").and_then(|k| k.as_array()).cloned().unwrap_or_default(),
        })
    }

    /// Adds a public key (a JWK; `status` ACTIVE unless it says otherwise).
    pub async fn add_app_key(&self, app_id: &str, jwk: &serde_json::Value) -> Result<serde_json::Value, ClientError> {
        self.send_json("adding the key", reqwest::Method::POST, &self.credentials_url(app_id, "jwks"), Some(jwk)).await
    }

    /// The app's client secrets (plain text never included).
    pub async fn app_secrets(&self, app_id: &str) -> Result<Vec<serde_json::Value>, ClientError> {
        let url = self.credentials_url(app_id, "secrets");
        let body = self.send_json("listing the app's client secrets", reqwest::Method::GET, &url, None).await?;
        Ok(body.as_array().cloned().unwrap_or_default())
    }

    /// Creates a client secret generated by the server; the answer holds its plain text (`client_secret`)
    /// this once.
    pub async fn create_app_secret(&self, app_id: &str) -> Result<serde_json::Value, ClientError> {
        let url = self.credentials_url(app_id, "secrets");
        self.send_json("creating a client secret", reqwest::Method::POST, &url, Some(&serde_json::json!({}))).await
    }

    /// Activates or deactivates (`activate`: false) one key (`kind` `jwks`) or secret (`secrets`).
    pub async fn set_credential_active(
        &self,
        app_id: &str,
        kind: &str,
        id: &str,
        activate: bool,
    ) -> Result<serde_json::Value, ClientError> {
        let op = if activate { "activate" } else { "deactivate" };
        let id: String = url::form_urlencoded::byte_serialize(id.as_bytes()).collect();
        let url = format!("{}/{id}/lifecycle/{op}", self.credentials_url(app_id, kind));
        self.send_json("changing the credential's status", reqwest::Method::POST, &url, None).await
    }

    /// Deletes one (inactive) key or secret.
    pub async fn delete_credential(&self, app_id: &str, kind: &str, id: &str) -> Result<(), ClientError> {
        let id: String = url::form_urlencoded::byte_serialize(id.as_bytes()).collect();
        let url = format!("{}/{id}", self.credentials_url(app_id, kind));
        self.send_json("deleting the credential", reqwest::Method::DELETE, &url, None).await.map(|_| ())
    }

    /// One management call; an empty success body (204) is `null`.
    async fn send_json(
        &self,
        context: &'static str,
        method: reqwest::Method,
        url: &str,
        body: Option<&serde_json::Value>,
    ) -> Result<serde_json::Value, ClientError> {
        let mut request = self
            .http
            .request(method, url)
            .header(reqwest::header::AUTHORIZATION, format!("SSWS {}", self.api_token.expose()))
            .header(reqwest::header::ACCEPT, "application/json");
        if let Some(body) = body {
            request = request.json(body);
        }
        let response = request.send().await.map_err(ClientError::transport(context))?;
        let status = response.status().as_u16();
        let bytes = ClientError::read_body(context, response).await?;
        if !(200..300).contains(&status) {
            return Err(ClientError::from_response(context, status, &bytes));
        }
        if bytes.is_empty() {
            return Ok(serde_json::Value::Null);
        }
        serde_json::from_slice(&bytes).map_err(|e| ClientError::InvalidResponse { context, detail: e.to_string() })
    }

    async fn post_json<B: Serialize, T: serde::de::DeserializeOwned>(
        &self,
        context: &'static str,
        url: &str,
        body: &B,
    ) -> Result<T, ClientError> {
        let request = self
            .http
            .post(url)
            .header(reqwest::header::AUTHORIZATION, format!("SSWS {}", self.api_token.expose()))
            .header(reqwest::header::ACCEPT, "application/json")
            .json(body)
            .build()
            .map_err(ClientError::transport(context))?;
        let response =
            crate::retry::send_api(&self.http, request, &self.retry).await.map_err(ClientError::transport(context))?;
        let status = response.status().as_u16();
        let bytes = ClientError::read_body(context, response).await?;
        if !(200..300).contains(&status) {
            return Err(ClientError::from_response(context, status, &bytes));
        }
        serde_json::from_slice(&bytes).map_err(|e| ClientError::InvalidResponse { context, detail: e.to_string() })
    }
}
