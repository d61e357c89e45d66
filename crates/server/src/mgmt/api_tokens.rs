//! `/api/v1/api-tokens`: admin API tokens (`Authorization: SSWS …`). A new token's plain text is in the
//! creation response only; the store keeps a keyed hash, so a lost token can only be replaced. Revoking
//! (DELETE) works at once: every SSWS call looks the token up.
use super::auth::Admin;
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

const READ: &[&str] = &["okta.apiTokens.read", "okta.apiTokens.manage"];
const MANAGE: &[&str] = &["okta.apiTokens.manage"];

fn token_json(state: &AppState, t: &ApiToken, plain: Option<&str>) -> Value {
    let mut v = json!({
        "id": t.id,
        "name": t.name,
        "tokenWindow": "P30D",
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
    admin.require(&state, MANAGE)?;
    let map = body.object()?;
    let name = body::required_str(&map, "ApiToken", "name")?.to_string();
    let plain = crate::secrets::new_api_token();
    let token =
        ApiToken { id: crate::ids::new_id("00T"), name, token_hash: state.hasher.hash(&plain), created: now_millis() };
    state.store.insert_api_token(&token).await?;
    tracing::info!(token = %token.id, "API token created");
    Ok(no_store((StatusCode::CREATED, axum::Json(token_json(&state, &token, Some(&plain))))))
}

async fn list(State(state): State<AppState>, admin: Admin) -> Result<Response, ApiError> {
    admin.require(&state, READ)?;
    let all = state.store.api_tokens().await?;
    Ok(axum::Json(all.iter().map(|t| token_json(&state, t, None)).collect::<Vec<_>>()).into_response())
}

async fn get_one(State(state): State<AppState>, admin: Admin, Path(id): Path<String>) -> Result<Response, ApiError> {
    admin.require(&state, READ)?;
    let all = state.store.api_tokens().await?;
    let t = all.iter().find(|t| t.id == id).ok_or_else(|| ApiError::not_found(&id, "ApiToken"))?;
    Ok(axum::Json(token_json(&state, t, None)).into_response())
}

async fn revoke(State(state): State<AppState>, admin: Admin, Path(id): Path<String>) -> Result<Response, ApiError> {
    admin.require(&state, MANAGE)?;
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
