//! Registration-time checks of URLs the server will fetch later (a client's `jwks_uri`), under the same
//! outbound policy as the fetch itself (`tollgate-fetch`), so a URL that would be refused at fetch time is
//! refused with a 400 when it is registered.
use crate::errors::{ApiError, OAuthError};
use crate::mgmt::app_body::AppInput;
use crate::mgmt::clients::Registration;
use crate::state::AppState;
use axum::http::StatusCode;

fn check(state: &AppState, uri: Option<&str>) -> Result<(), String> {
    match uri {
        None => Ok(()),
        Some(u) => state.remote_jwks.fetcher().policy().check_url(u).map(|_| ()).map_err(|e| format!("jwks_uri: {e}")),
    }
}

/// An Apps-API body whose `jwks_uri` passes the policy; else 400 `E0000001`.
pub fn checked_app(state: &AppState, input: AppInput) -> Result<AppInput, ApiError> {
    check(state, input.jwks_uri.as_deref()).map_err(|cause| ApiError::validation("jwks_uri", vec![cause]))?;
    Ok(input)
}

/// A DCR registration whose `jwks_uri` passes the policy; else 400 `invalid_client_metadata`.
pub fn checked_registration(state: &AppState, reg: Registration) -> Result<Registration, OAuthError> {
    check(state, reg.app.jwks_uri.as_deref())
        .map_err(|cause| OAuthError::new(StatusCode::BAD_REQUEST, "invalid_client_metadata", cause))?;
    Ok(reg)
}
