//! A custom server's signing keys: `GET /api/v1/authorizationServers/{id}/credentials/keys` lists the
//! published keys with their status (ACTIVE, NEXT, EXPIRED), and
//! `POST .../credentials/lifecycle/keyRotate` rotates them at once (NEXT becomes ACTIVE, a new NEXT is
//! made) and answers with the published keys. With `rotationMode: MANUAL` the latter is the only rotation.
use super::find;
use crate::errors::ApiError;
use crate::mgmt::auth::Admin;
use crate::mgmt::authz::Permission;
use crate::state::AppState;
use axum::extract::{Path, State};
use axum::response::{IntoResponse, Response};

pub(super) async fn rotate(
    State(state): State<AppState>,
    admin: Admin,
    Path(id): Path<String>,
) -> Result<Response, ApiError> {
    admin.require(&state, Permission::ServersManage)?;
    let server = find(&state, &id)?;
    let keys = state.keys.rotate(&id, server.longest_token_lifetime()).await.map_err(ApiError::internal)?;
    Ok(axum::Json(keys.listed.clone()).into_response())
}

pub(super) async fn list(
    State(state): State<AppState>,
    admin: Admin,
    Path(id): Path<String>,
) -> Result<Response, ApiError> {
    admin.require(&state, Permission::ServersRead)?;
    find(&state, &id)?;
    let keys = state.keys.get(&id).ok_or_else(|| ApiError::internal("authorization server without signing keys"))?;
    Ok(axum::Json(keys.listed.clone()).into_response())
}
