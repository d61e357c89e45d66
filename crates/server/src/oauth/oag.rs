//! The Okta Access Gateway flavour of the token endpoint: `POST /api/v2/oauth/token`.
//!
//! It is the org server's rule set ([`super::token::handle`] and [`super::client_auth`] with
//! [`AuthzServer::Oag`]), not a copy. What differs, and only that, lives here:
//! - the assertion's `aud` is the base URL (the org issuer), never a token URL;
//! - the assertion carries a `scope` claim naming the same set of scopes as the form's `scope`;
//! - only `okta.oag.*` scopes are issued (and `/oauth2/v1/token` issues none of them), narrowed to the
//!   app's org grants as the org server narrows;
//! - tokens last 300 s; they are signed by the org server's keys with `iss` = `aud` = the base URL;
//! - every refusal is HTTP 400 (OAG answers 400 on bad requests), in Okta's `{error, error_description}`.
use super::form::{self, Form};
use crate::errors::OAuthError;
use crate::state::{AppState, AuthzServer};
use axum::Router;
use axum::body::Body;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use std::collections::BTreeSet;
use tollgate_jose::Claims;

/// Every Access Gateway scope starts with this.
pub const OAG_SCOPE_PREFIX: &str = "okta.oag.";

/// Whether `scope` belongs to the Access Gateway.
pub fn is_oag_scope(scope: &str) -> bool {
    scope.starts_with(OAG_SCOPE_PREFIX)
}

async fn token(State(state): State<AppState>, headers: HeaderMap, uri: Uri, body: Body) -> Response {
    let result = async {
        let form = form::read_form(&headers, &uri, body, state.config.max_body_bytes).await?;
        super::token::handle(&state, &AuthzServer::Oag, &headers, &form).await
    }
    .await;
    match result {
        Ok(resp) => resp,
        Err(mut err) => {
            if err.status.is_client_error() {
                err.status = StatusCode::BAD_REQUEST;
            }
            err.into_response()
        }
    }
}

/// The Access Gateway's OAuth route.
pub fn routes() -> Router<AppState> {
    Router::new().route("/api/v2/oauth/token", post(token))
}

/// A token request that authenticates any other way than with a `client_assertion`.
pub fn assertion_required() -> OAuthError {
    OAuthError::invalid_client(
        "Access Gateway token requests must authenticate with a signed JWT in the client_assertion parameter.",
    )
}

/// An assertion whose `aud` is not the base URL.
pub fn wrong_audience() -> OAuthError {
    OAuthError::invalid_client("The audience claim for client_assertion must be the Access Gateway's base URL.")
}

/// The space-separated values of a scope string, as a set.
fn scope_set(text: &str) -> BTreeSet<&str> {
    text.split(' ').filter(|s| !s.is_empty()).collect()
}

/// The assertion's `scope` claim must be there, be a string, and name the same set of scopes as the form's
/// `scope` parameter (order and repeats do not matter). Checked before the `jti` is consumed.
pub fn check_scope_claim(claims: &Claims, form: &Form) -> Result<(), OAuthError> {
    let claim = match claims.extra.get("scope") {
        Some(serde_json::Value::String(s)) => s.as_str(),
        Some(_) => {
            return Err(OAuthError::invalid_client(
                "The 'scope' claim of the client_assertion must be a space-separated string.",
            ));
        }
        None => return Err(OAuthError::invalid_client("The client_assertion must contain the 'scope' claim.")),
    };
    if scope_set(claim) != scope_set(form.get("scope").unwrap_or("")) {
        return Err(OAuthError::invalid_request(
            "The 'scope' claim of the client_assertion does not match the 'scope' parameter.",
        ));
    }
    Ok(())
}

/// Keeps the two families apart: the gateway issues known `okta.oag.*` scopes only, the org server none
/// of them. Custom servers have their own scopes and are not concerned.
pub fn check_scope_family(server: &AuthzServer, requested: &[String]) -> Result<(), OAuthError> {
    let list = |bad: Vec<&str>| bad.join(", ");
    match server {
        AuthzServer::Oag => {
            let bad: Vec<&str> = requested
                .iter()
                .map(String::as_str)
                .filter(|s| !is_oag_scope(s) || !crate::mgmt::catalogue::is_known(s))
                .collect();
            if !bad.is_empty() {
                return Err(OAuthError::invalid_scope(format!(
                    "The following scopes are not Access Gateway scopes: [{}].",
                    list(bad)
                )));
            }
        }
        AuthzServer::Org => {
            let oag: Vec<&str> = requested.iter().map(String::as_str).filter(|s| is_oag_scope(s)).collect();
            if !oag.is_empty() {
                return Err(OAuthError::invalid_scope(format!(
                    "Access Gateway scopes are issued only by /api/v2/oauth/token: [{}].",
                    list(oag)
                )));
            }
        }
        AuthzServer::Custom(_) => {}
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn form(scope: &str) -> Form {
        Form::parse(format!("scope={}", scope.replace(' ', "+")).as_bytes()).unwrap()
    }

    fn claims(scope: serde_json::Value) -> Claims {
        serde_json::from_value(serde_json::json!({ "iss": "c", "scope": scope })).unwrap()
    }

    #[test]
    fn scope_claim_agrees_as_a_set() {
        let c = claims("okta.oag.app.read okta.oag.idp.read".into());
        assert!(check_scope_claim(&c, &form("okta.oag.idp.read okta.oag.app.read")).is_ok());
        assert!(check_scope_claim(&c, &form("okta.oag.app.read  okta.oag.idp.read okta.oag.app.read")).is_ok());
        let err = check_scope_claim(&c, &form("okta.oag.app.read")).unwrap_err();
        assert_eq!(err.error, "invalid_request");
        let err = check_scope_claim(&claims(serde_json::json!(["okta.oag.app.read"])), &form("x")).unwrap_err();
        assert_eq!(err.error, "invalid_client");
        let none: Claims = serde_json::from_value(serde_json::json!({ "iss": "c" })).unwrap();
        assert!(check_scope_claim(&none, &form("okta.oag.app.read")).unwrap_err().description.contains("'scope'"));
    }

    #[test]
    fn families_stay_apart() {
        let oag = vec!["okta.oag.app.read".to_string()];
        let org = vec!["okta.users.read".to_string()];
        assert!(check_scope_family(&AuthzServer::Oag, &oag).is_ok());
        assert!(check_scope_family(&AuthzServer::Oag, &org).is_err());
        assert!(check_scope_family(&AuthzServer::Oag, &["okta.oag.nope".to_string()]).is_err());
        assert!(check_scope_family(&AuthzServer::Org, &org).is_ok());
        assert!(check_scope_family(&AuthzServer::Org, &oag).is_err());
    }
}
