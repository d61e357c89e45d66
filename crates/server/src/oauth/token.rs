//! `POST /oauth2/v1/token`, `/oauth2/{id}/v1/token` and the Access Gateway's `/api/v2/oauth/token`: the
//! client-credentials grant, for every flavour by the same path, which consults the server's
//! [`super::rules`] row and reads top to bottom:
//!
//! form (already parsed) → `grant_type` → [`client_auth::authenticate`] (a client cache miss reads the
//! database once) → [`dpop::bind`] (spends the assertion `jti`, with the proof's when the token is to be
//! DPoP-bound: one store statement) → grant type and app type → [`scopes::grant`] →
//! [`access_token::mint`], which takes the proof that the `jti` was spent (and, for a federated assertion,
//! the external token's `exp` as the latest the access token may have). Between authentication and the
//! `jti`: the app's share of the rate limit and its token quotas (`crate::ratelimit`).
use super::form::Form;
use super::rules::AuthMethod;
use super::{access_token, client_auth, dpop, scopes};
use crate::errors::OAuthError;
use crate::state::{AppState, AuthzServer};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};

const CLIENT_CREDENTIALS: &str = "client_credentials";

/// What a token request established, for the System Log and metrics (filled as the path gets there).
#[derive(Debug, Default)]
pub struct TokenFacts {
    /// The authenticated client's id and name.
    pub client: Option<(String, String)>,
    pub method: Option<AuthMethod>,
    pub granted: Vec<String>,
    /// The access token's `jti`.
    pub token_jti: Option<String>,
    /// The DPoP key's thumbprint, for a bound token.
    pub jkt: Option<String>,
    /// For a federated assertion: the credential met and the external `iss` and `sub`.
    pub federated: Option<client_auth::FederatedFacts>,
    /// The authenticated assertion's `kid` and `jti`; `None` before authentication (the System Log then
    /// reads them from the request).
    pub assertion_ids: Option<(Option<String>, Option<String>)>,
}

/// Handles a token request addressed to `server`, noting in `facts` what it established.
pub async fn handle(
    state: &AppState,
    server: &AuthzServer,
    headers: &HeaderMap,
    form: &Form,
    facts: &mut TokenFacts,
    admission: super::Admission<'_>,
) -> Result<Response, OAuthError> {
    let rules = server.rules();
    match form.non_empty("grant_type") {
        None => {
            return Err(OAuthError::invalid_request(
                "The token request must specify a 'grant_type'. Valid values: [client_credentials]",
            ));
        }
        Some(CLIENT_CREDENTIALS) => {}
        Some(_) => {
            return Err(OAuthError::new(
                StatusCode::BAD_REQUEST,
                "unsupported_grant_type",
                "The authorization grant type is not supported by the authorization server. Configured grant types: [client_credentials].",
            ));
        }
    }
    if !rules.token_methods.contains(&client_auth::method_of(headers, form)?) {
        return Err(OAuthError::invalid_client(rules.other_method_refusal));
    }
    let (auth, pending_jti) = client_auth::authenticate(state, server, "token", headers, form).await?;
    let client = &auth.client;
    facts.client = Some((client.app.client_id.clone(), client.app.name.clone()));
    facts.method = Some(auth.method);
    facts.federated = auth.federated.clone();
    // The app's share of the token bucket and its token quotas, before the `jti` is spent: a client that
    // was told to wait may send the same assertion again.
    admission.admit(state, client)?;
    crate::ratelimit::quota::check(state, client, admission.context)?;
    facts.assertion_ids = Some(auth.assertion_ids.clone());
    let (consumed_jti, binding) = dpop::bind(state, server, headers, client, pending_jti).await?;
    if !client.app.grant_types.iter().any(|g| g == CLIENT_CREDENTIALS) {
        return Err(OAuthError::new(
            StatusCode::BAD_REQUEST,
            "unauthorized_client",
            format!(
                "The client is not authorized to use the provided grant type. Configured grant types: [{}].",
                client.app.grant_types.join(", ")
            ),
        ));
    }
    if rules.service_apps_only && client.app.application_type != "service" {
        return Err(OAuthError::invalid_client(
            "Only clients with 'application_type' of 'service' may use the client_credentials 'grant_type' with the Org Authorization Server.",
        ));
    }
    let requested = form.get("scope").unwrap_or("");
    let granted = match scopes::grant(server, client, requested) {
        Ok(granted) => granted,
        Err(refusal) if refusal.error == scopes::CONSENT_REQUIRED => {
            // The cached entry may predate a grant just made through another node (its change notification
            // not applied here yet: an app and its grant are two writes, so the app can be cached first).
            // Read the client once more before refusing; only this refusal pays the read, never a token.
            match state.clients.reload(state.store.as_ref(), &client.app.client_id).await? {
                Some(fresh) if fresh.is_active() => scopes::grant(server, &fresh, requested)?,
                _ => return Err(refusal),
            }
        }
        Err(refusal) => return Err(refusal),
    };
    let cnf = binding.as_ref().map(|b| serde_json::json!({ "jkt": b.jkt }));
    let lifetime = granted.lifetime.unwrap_or_else(|| server.token_lifetime());
    let minted = access_token::Minted { scopes: granted.scopes, lifetime, cnf, not_after: auth.not_after };
    let (token, claims) = access_token::mint(state, server, &client.app, minted, consumed_jti)?;
    crate::ratelimit::quota::record(state, client, admission.context);
    let scope = claims.scp.join(" ");
    facts.token_jti = Some(claims.jti.clone());
    facts.jkt = binding.as_ref().map(|b| b.jkt.clone());
    facts.granted = claims.scp;
    tracing::info!(client_id = %client.app.client_id, method = auth.method.as_str(), scope = %scope, "access token issued");
    let body = serde_json::json!({
        "token_type": if binding.is_some() { "DPoP" } else { "Bearer" },
        "expires_in": claims.exp - claims.iat,
        "access_token": token,
        "scope": scope,
    });
    let mut resp = (StatusCode::OK, axum::Json(body)).into_response();
    resp.headers_mut().insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    resp.headers_mut().insert(header::PRAGMA, HeaderValue::from_static("no-cache"));
    if let Some(nonce) = binding.and_then(|b| b.next_nonce) {
        resp.headers_mut().insert(dpop::DPOP_NONCE, nonce);
    }
    Ok(resp)
}
