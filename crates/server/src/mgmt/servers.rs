//! `/api/v1/authorizationServers`: custom authorization servers, their scopes and key rotation.
//! Create (id `aus…`, its signing keys made at once), replace, delete, and the access policy (which
//! clients may use the server) are in [`super::server_admin`].
use super::auth::Admin;
use super::body;
use crate::cache::CachedServer;
use crate::clock::{iso8601, now_millis};
use crate::errors::ApiError;
use crate::state::AppState;
use axum::Router;
use axum::body::Body;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use serde_json::{Value, json};
use std::sync::Arc;
use tollgate_store::Scope;

pub fn server_json(state: &AppState, s: &CachedServer) -> Value {
    let keys = state.keys.get(&s.server.id);
    json!({
        "id": s.server.id,
        "name": s.server.name,
        "description": s.server.description,
        "audiences": s.server.audiences,
        "issuer": format!("{}/oauth2/{}", state.issuer, s.server.id),
        "issuerMode": "ORG_URL",
        "status": s.server.status,
        "accessTokenLifetimeSeconds": s.server.access_token_lifetime,
        "created": iso8601(s.server.created),
        "lastUpdated": iso8601(s.server.last_updated),
        "credentials": { "signing": {
            "rotationMode": "AUTO",
            "kid": keys.as_ref().map(|k| k.active.kid().to_string()),
            "nextRotation": keys.as_ref().map(|k| iso8601(k.next_rotation * 1000)),
        }},
        "_links": { "self": { "href": format!("{}/api/v1/authorizationServers/{}", state.issuer, s.server.id) } },
    })
}

fn scope_json(s: &Scope) -> Value {
    json!({
        "id": s.id,
        "name": s.name,
        "description": s.description,
        "system": false,
        "default": s.is_default,
        "metadataPublish": "ALL_CLIENTS",
        "consent": "IMPLICIT",
        "created": iso8601(s.created),
        "lastUpdated": iso8601(s.last_updated),
    })
}

pub fn find(state: &AppState, id: &str) -> Result<Arc<CachedServer>, ApiError> {
    state.servers.get(id).ok_or_else(|| ApiError::not_found(id, "AuthorizationServer"))
}

pub const READ: &[&str] = &["okta.authorizationServers.read", "okta.authorizationServers.manage"];
pub const MANAGE: &[&str] = &["okta.authorizationServers.manage"];

async fn list(State(state): State<AppState>, admin: Admin) -> Result<Response, ApiError> {
    admin.require(&state, READ)?;
    let mut servers = state.servers.all();
    servers.sort_by(|a, b| (a.server.created, &a.server.id).cmp(&(b.server.created, &b.server.id)));
    Ok(axum::Json(servers.iter().map(|s| server_json(&state, s)).collect::<Vec<_>>()).into_response())
}

async fn get_one(State(state): State<AppState>, admin: Admin, Path(id): Path<String>) -> Result<Response, ApiError> {
    admin.require(&state, READ)?;
    let server = find(&state, &id)?;
    Ok(axum::Json(server_json(&state, &server)).into_response())
}

/// Checks a custom scope name: printable ASCII without space, `"` or `\`, not `okta.`/`okta:`, `okta`, `*`.
pub fn valid_scope_name(name: &str) -> bool {
    !name.is_empty()
        && name.bytes().all(|b| b.is_ascii_graphic() && b != b'"' && b != b'\\')
        && !name.starts_with("okta.")
        && !name.starts_with("okta:")
        && name != "okta"
        && name != "*"
}

async fn create_scope(
    State(state): State<AppState>,
    admin: Admin,
    Path(id): Path<String>,
    body: Body,
) -> Result<Response, ApiError> {
    admin.require(&state, MANAGE)?;
    let server = find(&state, &id)?;
    let map = body::read_object(body, state.config.max_body_bytes).await?;
    let name = body::required_str(&map, "OAuth2Scope", "name")?.to_string();
    if !valid_scope_name(&name) {
        return Err(ApiError::validation(
            "OAuth2Scope",
            vec![format!(
                "name: '{name}' is not a valid scope name (printable ASCII without space, quote or backslash; not starting with 'okta.')"
            )],
        ));
    }
    if server.scopes.iter().any(|s| s.name == name) {
        return Err(ApiError::validation(
            "OAuth2Scope",
            vec![format!("name: A scope with the name '{name}' already exists.")],
        ));
    }
    let now = now_millis();
    let scope = Scope {
        id: crate::ids::new_id("scp"),
        server_id: id.clone(),
        name,
        description: map.get("description").and_then(Value::as_str).unwrap_or("").to_string(),
        is_default: map.get("default").and_then(Value::as_bool).unwrap_or(false),
        created: now,
        last_updated: now,
    };
    state.store.insert_scope(&scope).await?;
    state.servers.reload(state.store.as_ref(), &id).await?;
    Ok((StatusCode::CREATED, axum::Json(scope_json(&scope))).into_response())
}

async fn list_scopes(
    State(state): State<AppState>,
    admin: Admin,
    Path(id): Path<String>,
) -> Result<Response, ApiError> {
    admin.require(&state, READ)?;
    let server = find(&state, &id)?;
    Ok(axum::Json(server.scopes.iter().map(scope_json).collect::<Vec<_>>()).into_response())
}

async fn delete_scope(
    State(state): State<AppState>,
    admin: Admin,
    Path((id, scope_id)): Path<(String, String)>,
) -> Result<Response, ApiError> {
    admin.require(&state, MANAGE)?;
    find(&state, &id)?;
    if !state.store.delete_scope(&id, &scope_id).await? {
        return Err(ApiError::not_found(&scope_id, "OAuth2Scope"));
    }
    state.servers.reload(state.store.as_ref(), &id).await?;
    Ok(StatusCode::NO_CONTENT.into_response())
}

async fn rotate(State(state): State<AppState>, admin: Admin, Path(id): Path<String>) -> Result<Response, ApiError> {
    admin.require(&state, MANAGE)?;
    let server = find(&state, &id)?;
    let keys = state.keys.rotate(&id, server.server.access_token_lifetime).await.map_err(ApiError::internal)?;
    let body: Value = serde_json::from_slice(&keys.jwks_json).map_err(ApiError::internal)?;
    Ok(axum::Json(body.get("keys").cloned().unwrap_or(json!([]))).into_response())
}

/// The authorization-server routes.
pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/api/v1/authorizationServers", get(list).post(super::server_admin::create))
        .route(
            "/api/v1/authorizationServers/{id}",
            get(get_one).put(super::server_admin::replace).delete(super::server_admin::delete),
        )
        .route("/api/v1/authorizationServers/{id}/policies", get(super::server_admin::list_policies))
        .route(
            "/api/v1/authorizationServers/{id}/policies/{policy_id}",
            get(super::server_admin::get_policy).put(super::server_admin::replace_policy),
        )
        .route("/api/v1/authorizationServers/{id}/scopes", get(list_scopes).post(create_scope))
        .route("/api/v1/authorizationServers/{id}/scopes/{scope_id}", axum::routing::delete(delete_scope))
        .route("/api/v1/authorizationServers/{id}/credentials/lifecycle/keyRotate", post(rotate))
}
