//! `/api/v1/api-tokens`: admin API tokens (`Authorization: SSWS …`). A new token's plain text is in the
//! creation response only; the store keeps a keyed hash, so a lost token can only be replaced. Revoking
//! (DELETE) works at once: every SSWS call looks the token up.
//!
//! Every token carries an admin role ([`Role`]) that bounds what it may do. Creating one needs a
//! super-admin credential and the new token never has more than its creator; `DELETE
//! /api/v1/api-tokens/current` lets any SSWS token revoke itself.
use super::auth::{Admin, Principal};
use super::authz::{Permission, Role};
use super::body::{self, JsonObject, no_store};
use crate::clock::{iso8601, now_millis};
use crate::errors::ApiError;
use crate::state::AppState;
use axum::Router;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use serde_json::{Value, json};
use tollgate_store::ApiToken;

fn token_json(state: &AppState, t: &ApiToken, plain: Option<&str>) -> Value {
    let mut v = json!({
        "id": t.id,
        "name": t.name,
        "tokenWindow": "P30D",
        "role": t.role,
        "created": iso8601(t.created),
        "lastUpdated": iso8601(t.created),
        "_links": { "self": { "href": format!("{}/api/v1/api-tokens/{}", state.issuer, t.id) } },
    });
    if let (Some(p), Some(map)) = (plain, v.as_object_mut()) {
        map.insert("token".into(), json!(p));
    }
    v
}

async fn create(State(state): State<AppState>, admin: Admin, body: JsonObject) -> Result<Response, ApiError> {
    admin.require(&state, Permission::ApiTokensManage)?;
    // An unscoped SSWS token from a scoped caller would be an escalation: only a super admin creates.
    admin.require_super_admin()?;
    let creator = admin.acting_role().ok_or_else(ApiError::forbidden)?;
    let map = body.object()?;
    let name = body::required_str(&map, "ApiToken", "name")?.to_string();
    let role = match map.get("role") {
        None | Some(Value::Null) => creator,
        Some(Value::String(s)) => Role::parse(s).ok_or_else(|| {
            ApiError::validation("ApiToken", vec![format!("role: '{s}' is not a known admin role type.")])
        })?,
        Some(_) => return Err(ApiError::validation("ApiToken", vec!["role: must be a string.".into()])),
    };
    if !creator.covers(role) {
        return Err(ApiError::forbidden());
    }
    let plain = crate::secrets::new_api_token();
    let token = ApiToken {
        id: crate::ids::new_id("00T"),
        name,
        token_hash: state.hasher.hash(&plain),
        created: now_millis(),
        role: role.as_str().to_string(),
    };
    state.store.insert_api_token(&token).await?;
    tracing::info!(token = %token.id, role = %token.role, "API token created");
    Ok(no_store((StatusCode::CREATED, axum::Json(token_json(&state, &token, Some(&plain))))))
}

async fn list(State(state): State<AppState>, admin: Admin) -> Result<Response, ApiError> {
    admin.require(&state, Permission::ApiTokensRead)?;
    let all = state.store.api_tokens().await?;
    Ok(axum::Json(all.iter().map(|t| token_json(&state, t, None)).collect::<Vec<_>>()).into_response())
}

async fn get_one(State(state): State<AppState>, admin: Admin, Path(id): Path<String>) -> Result<Response, ApiError> {
    admin.require(&state, Permission::ApiTokensRead)?;
    let all = state.store.api_tokens().await?;
    let t = all.iter().find(|t| t.id == id).ok_or_else(|| ApiError::not_found(&id, "ApiToken"))?;
    Ok(axum::Json(token_json(&state, t, None)).into_response())
}

/// `DELETE /api/v1/api-tokens/{id}`; `{id}` = `current` revokes the calling SSWS token itself, which any
/// API token may do whatever its role (a Bearer caller has no API token to revoke: 403 E0000006).
async fn revoke(State(state): State<AppState>, admin: Admin, Path(id): Path<String>) -> Result<Response, ApiError> {
    let id = if id == "current" {
        match &admin.principal {
            Principal::ApiToken { id, .. } => id.clone(),
            Principal::Bearer { .. } | Principal::User { .. } => {
                admin.require(&state, Permission::ApiTokensManage)?;
                return Err(ApiError::forbidden());
            }
        }
    } else {
        admin.require(&state, Permission::ApiTokensManage)?;
        id
    };
    if !state.store.delete_api_token(&id).await? {
        return Err(ApiError::not_found(&id, "ApiToken"));
    }
    tracing::info!(token = %id, "API token revoked");
    Ok(StatusCode::NO_CONTENT.into_response())
}

/// The API token routes.
pub(super) fn routes() -> Router<AppState> {
    Router::new()
        .route("/api/v1/api-tokens", get(list).post(create))
        .route("/api/v1/api-tokens/{id}", get(get_one).delete(revoke))
}
