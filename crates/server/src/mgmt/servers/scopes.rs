//! `/api/v1/authorizationServers/{id}/scopes`: a custom server's scopes.
use super::find;
use crate::clock::{iso8601, now_millis};
use crate::errors::ApiError;
use crate::mgmt::auth::Admin;
use crate::mgmt::authz::Permission;
use crate::mgmt::body::{self, JsonObject};
use crate::state::AppState;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde_json::{Value, json};
use tollgate_store::Scope;

fn scope_json(s: &Scope) -> Value {
    json!({
        "id": s.id,
        "name": s.name,
        "description": s.description,
        "system": false,
        "default": s.is_default,
        "metadataPublish": s.metadata_publish,
        "consent": "IMPLICIT",
        "created": iso8601(s.created),
        "lastUpdated": iso8601(s.last_updated),
    })
}

/// Checks a custom scope name: printable ASCII without space, `"` or `\`, not `okta.`/`okta:`, `okta`, `*`.
fn valid_scope_name(name: &str) -> bool {
    !name.is_empty()
        && name.bytes().all(|b| b.is_ascii_graphic() && b != b'"' && b != b'\\')
        && !name.starts_with("okta.")
        && !name.starts_with("okta:")
        && name != "okta"
        && name != "*"
}

/// The writable members of a scope body: name, description, `default`, `metadataPublish`.
struct ScopeInput {
    name: String,
    description: String,
    is_default: bool,
    metadata_publish: String,
}

fn parse_scope(map: &serde_json::Map<String, Value>) -> Result<ScopeInput, ApiError> {
    let invalid = |cause: String| ApiError::validation("OAuth2Scope", vec![cause]);
    let name = body::required_str(map, "OAuth2Scope", "name")?.to_string();
    if !valid_scope_name(&name) {
        return Err(invalid(format!(
            "name: '{name}' is not a valid scope name (printable ASCII without space, quote or backslash; not starting with 'okta.')"
        )));
    }
    let description = match map.get("description") {
        None | Some(Value::Null) => String::new(),
        Some(Value::String(d)) => d.clone(),
        Some(_) => return Err(invalid("description: The field must be a string".into())),
    };
    let is_default = match map.get("default") {
        None | Some(Value::Null) => false,
        Some(Value::Bool(b)) => *b,
        Some(_) => return Err(invalid("default: The field must be a boolean".into())),
    };
    let metadata_publish = match map.get("metadataPublish") {
        None | Some(Value::Null) => "ALL_CLIENTS".to_string(),
        Some(Value::String(m)) if m == "ALL_CLIENTS" || m == "NO_CLIENTS" => m.clone(),
        Some(_) => return Err(invalid("metadataPublish: must be ALL_CLIENTS or NO_CLIENTS".into())),
    };
    Ok(ScopeInput { name, description, is_default, metadata_publish })
}

fn taken(name: &str) -> ApiError {
    ApiError::validation("OAuth2Scope", vec![format!("name: A scope with the name '{name}' already exists.")])
}

pub(super) async fn create(
    State(state): State<AppState>,
    admin: Admin,
    Path(id): Path<String>,
    body: JsonObject,
) -> Result<Response, ApiError> {
    admin.require(&state, Permission::ServersManage)?;
    let server = find(&state, &id)?;
    let map = body.object()?;
    let input = parse_scope(&map)?;
    if server.scopes.iter().any(|s| s.name == input.name) {
        return Err(taken(&input.name));
    }
    let now = now_millis();
    let scope = Scope {
        id: crate::ids::new_id("scp"),
        server_id: id.clone(),
        name: input.name,
        description: input.description,
        is_default: input.is_default,
        metadata_publish: input.metadata_publish,
        created: now,
        last_updated: now,
    };
    state.store.insert_scope(&scope).await?;
    state.servers.reload(state.store.as_ref(), &id).await?;
    Ok((StatusCode::CREATED, axum::Json(scope_json(&scope))).into_response())
}

pub(super) async fn get_one(
    State(state): State<AppState>,
    admin: Admin,
    Path((id, scope_id)): Path<(String, String)>,
) -> Result<Response, ApiError> {
    admin.require(&state, Permission::ServersRead)?;
    let server = find(&state, &id)?;
    let scope =
        server.scopes.iter().find(|s| s.id == scope_id).ok_or_else(|| ApiError::not_found(&scope_id, "OAuth2Scope"))?;
    Ok(axum::Json(scope_json(scope)).into_response())
}

/// Replaces a scope's name, description, `default` and `metadataPublish`.
pub(super) async fn replace(
    State(state): State<AppState>,
    admin: Admin,
    Path((id, scope_id)): Path<(String, String)>,
    body: JsonObject,
) -> Result<Response, ApiError> {
    admin.require(&state, Permission::ServersManage)?;
    let server = find(&state, &id)?;
    let current =
        server.scopes.iter().find(|s| s.id == scope_id).ok_or_else(|| ApiError::not_found(&scope_id, "OAuth2Scope"))?;
    let map = body.object()?;
    let input = parse_scope(&map)?;
    if server.scopes.iter().any(|s| s.name == input.name && s.id != scope_id) {
        return Err(taken(&input.name));
    }
    let scope = Scope {
        name: input.name,
        description: input.description,
        is_default: input.is_default,
        metadata_publish: input.metadata_publish,
        last_updated: now_millis(),
        ..current.clone()
    };
    if !state.store.update_scope(&scope).await? {
        return Err(ApiError::not_found(&scope_id, "OAuth2Scope"));
    }
    state.servers.reload(state.store.as_ref(), &id).await?;
    Ok(axum::Json(scope_json(&scope)).into_response())
}

pub(super) async fn list(
    State(state): State<AppState>,
    admin: Admin,
    Path(id): Path<String>,
) -> Result<Response, ApiError> {
    admin.require(&state, Permission::ServersRead)?;
    let server = find(&state, &id)?;
    Ok(axum::Json(server.scopes.iter().map(scope_json).collect::<Vec<_>>()).into_response())
}

pub(super) async fn delete(
    State(state): State<AppState>,
    admin: Admin,
    Path((id, scope_id)): Path<(String, String)>,
) -> Result<Response, ApiError> {
    admin.require(&state, Permission::ServersManage)?;
    find(&state, &id)?;
    if !state.store.delete_scope(&id, &scope_id).await? {
        return Err(ApiError::not_found(&scope_id, "OAuth2Scope"));
    }
    state.servers.reload(state.store.as_ref(), &id).await?;
    Ok(StatusCode::NO_CONTENT.into_response())
}
