//! `POST /api/v1/authorizationServers/{id}/credentials/lifecycle/keyRotate`: rotates a custom server's
//! signing keys at once (NEXT becomes ACTIVE, a new NEXT is made) and answers with the published keys.
use super::{MANAGE, find};
use crate::errors::ApiError;
use crate::mgmt::auth::Admin;
use crate::state::AppState;
use axum::extract::{Path, State};
use axum::response::{IntoResponse, Response};
use serde_json::{Value, json};

pub(super) async fn rotate(
    State(state): State<AppState>,
    admin: Admin,
    Path(id): Path<String>,
) -> Result<Response, ApiError> {
    admin.require(&state, MANAGE)?;
    let server = find(&state, &id)?;
    let keys = state.keys.rotate(&id, server.server.access_token_lifetime).await.map_err(ApiError::internal)?;
    let body: Value = serde_json::from_slice(&keys.jwks_json).map_err(ApiError::internal)?;
    Ok(axum::Json(body.get("keys").cloned().unwrap_or(json!([]))).into_response())
}
