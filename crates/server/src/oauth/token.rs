//! `POST /oauth2/v1/token` and `/oauth2/{id}/v1/token` (and the Access Gateway's `/api/v2/oauth/token`,
//! see [`super::oag`]): the client-credentials grant.
//!
//! Path of a request: parse the form → check `grant_type` → authenticate the client (the only database
//! access is the atomic `jti` insert) → check the server-specific rules (org: service apps, private_key_jwt)
//! → pick scopes (org: intersect with grants, silently narrowing; custom: the server's scopes and policy)
//! → sign the access token with the server's active key.
use super::client_auth::{self, AuthMethod};
use super::form::Form;
use crate::cache::{CachedClient, CachedServer};
use crate::errors::OAuthError;
use crate::state::{AppState, AuthzServer};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};

const CLIENT_CREDENTIALS: &str = "client_credentials";
/// The org server's refusal when none of the requested scopes is granted.
const CONSENT_REQUIRED: &str = "consent_required";

/// Scopes that belong to OpenID Connect: a client-credentials token has no user to describe.
const OIDC_SCOPES: &[&str] = &["openid", "profile", "email", "address", "phone", "offline_access", "groups"];

/// Handles a token request addressed to `server`.
pub async fn handle(
    state: &AppState,
    server: &AuthzServer,
    headers: &HeaderMap,
    form: &Form,
) -> Result<Response, OAuthError> {
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
    if !matches!(server, AuthzServer::Custom(_)) && client_auth::method_of(headers, form)? != AuthMethod::PrivateKeyJwt
    {
        return Err(match server {
            AuthzServer::Oag => super::oag::assertion_required(),
            _ => OAuthError::invalid_client(
                "Client Credentials requests to the Org Authorization Server must use the private_key_jwt token_endpoint_auth_method.",
            ),
        });
    }
    let mut auth = client_auth::authenticate_deferred(state, server, "token", headers, form).await?;
    let binding = super::dpop::token_request(state, server, headers, &mut auth).await?;
    let requested = requested_scopes(form.get("scope").unwrap_or(""));
    let client = &auth.client;
    let scopes = match decide(server, client, &requested) {
        Ok(scopes) => scopes,
        Err(refusal) if refusal.error == CONSENT_REQUIRED => {
            // The cached entry may predate a grant just made through another node (its change notification
            // not applied here yet: an app and its grant are two writes, so the app can be cached first).
            // Read the client once more before refusing; only this refusal pays the read, never a token.
            match state.clients.reload(state.store.as_ref(), &client.app.client_id).await? {
                Some(fresh) if fresh.is_active() => decide(server, &fresh, &requested)?,
                _ => return Err(refusal),
            }
        }
        Err(refusal) => return Err(refusal),
    };
    let cnf = binding.as_ref().map(|b| serde_json::json!({ "jkt": b.jkt }));
    let (token, claims) = super::access_token::mint_bound(state, server, &client.app.client_id, scopes, cnf)?;
    tracing::info!(client_id = %client.app.client_id, method = auth.method.as_str(), scope = %claims.scp.join(" "), "access token issued");
    let body = serde_json::json!({
        "token_type": if binding.is_some() { "DPoP" } else { "Bearer" },
        "expires_in": server.token_lifetime(),
        "access_token": token,
        "scope": claims.scp.join(" "),
    });
    let mut resp = (StatusCode::OK, axum::Json(body)).into_response();
    resp.headers_mut().insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    resp.headers_mut().insert(header::PRAGMA, HeaderValue::from_static("no-cache"));
    if let Some(nonce) = binding.and_then(|b| b.next_nonce) {
        resp.headers_mut().insert(super::dpop::DPOP_NONCE, nonce);
    }
    Ok(resp)
}

/// What the authenticated `client` may have from `server`: its grant type, then the scopes.
fn decide(server: &AuthzServer, client: &CachedClient, requested: &[String]) -> Result<Vec<String>, OAuthError> {
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
    match server {
        AuthzServer::Org | AuthzServer::Oag => {
            if client.app.application_type != "service" {
                return Err(OAuthError::invalid_client(
                    "Only clients with 'application_type' of 'service' may use the client_credentials 'grant_type' with the Org Authorization Server.",
                ));
            }
            org_scopes(server, client, requested)
        }
        AuthzServer::Custom(custom) => custom_scopes(custom, client, requested),
    }
}

/// The `scope` parameter split on spaces, empties and repeats dropped, order kept.
fn requested_scopes(scope: &str) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    for s in scope.split(' ').filter(|s| !s.is_empty()) {
        if !out.iter().any(|o| o == s) {
            out.push(s.to_string());
        }
    }
    out
}

fn refuse_oidc(requested: &[String]) -> Result<(), OAuthError> {
    if requested.iter().any(|s| s == "openid") {
        return Err(OAuthError::invalid_scope("Cannot request 'openid' scopes using client credentials."));
    }
    let oidc: Vec<&str> = requested.iter().map(String::as_str).filter(|s| OIDC_SCOPES.contains(s)).collect();
    if !oidc.is_empty() {
        return Err(OAuthError::invalid_scope(format!(
            "The following scopes are not allowed for this request: [{}].",
            oidc.join(", ")
        )));
    }
    Ok(())
}

/// Org server and Access Gateway: `okta.*` scopes only (`okta.oag.*` at the gateway, any other at the org
/// server), narrowed to the app's grants ("silent downscoping").
fn org_scopes(server: &AuthzServer, client: &CachedClient, requested: &[String]) -> Result<Vec<String>, OAuthError> {
    if requested.is_empty() {
        return Err(OAuthError::invalid_scope("No scopes were requested."));
    }
    refuse_oidc(requested)?;
    if requested.iter().any(|s| s.ends_with(".self")) {
        return Err(OAuthError::new(
            StatusCode::BAD_REQUEST,
            "client_credentials_self_scope_requested",
            "The 'client_credentials' grant type may not request .self scopes.",
        ));
    }
    if requested.iter().any(|s| !s.starts_with("okta.")) {
        return Err(OAuthError::invalid_scope("Custom scopes are not allowed for this request."));
    }
    super::oag::check_scope_family(server, requested)?;
    let granted: Vec<String> = requested.iter().filter(|s| client.org_grants.contains(*s)).cloned().collect();
    if granted.is_empty() {
        return Err(OAuthError::new(
            StatusCode::BAD_REQUEST,
            CONSENT_REQUIRED,
            "You are not allowed any of the requested scopes.",
        ));
    }
    Ok(granted)
}

/// Custom server: its own scopes (or its default scopes when none are asked for), under its policy.
fn custom_scopes(
    server: &CachedServer,
    client: &CachedClient,
    requested: &[String],
) -> Result<Vec<String>, OAuthError> {
    if !server.allows_client(&client.app.client_id) {
        return Err(OAuthError::new(
            StatusCode::BAD_REQUEST,
            "access_denied",
            "Policy evaluation failed for this request, please check the policy configurations.",
        ));
    }
    if requested.is_empty() {
        let defaults: Vec<String> = server.scopes.iter().filter(|s| s.is_default).map(|s| s.name.clone()).collect();
        if defaults.is_empty() {
            return Err(OAuthError::invalid_scope(
                "The authorization server resource does not have any configured default scopes, 'scope' must be provided.",
            ));
        }
        return Ok(defaults);
    }
    refuse_oidc(requested)?;
    let known = |name: &String| server.scopes.iter().any(|s| &s.name == name);
    if !requested.iter().all(known) {
        return Err(OAuthError::invalid_scope(
            "One or more scopes are not configured for the authorization server resource.",
        ));
    }
    Ok(requested.to_vec())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scopes_are_split_and_deduplicated() {
        assert_eq!(requested_scopes("  a b  a c "), vec!["a", "b", "c"]);
        assert!(requested_scopes("").is_empty());
    }
}
