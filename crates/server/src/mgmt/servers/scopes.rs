//! `/api/v1/authorizationServers/{id}/scopes`: a custom server's scopes.
use super::{MANAGE, READ, find};
use crate::clock::{iso8601, now_millis};
use crate::errors::ApiError;
use crate::mgmt::auth::Admin;
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
        "metadataPublish": "ALL_CLIENTS",
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

pub(super) async fn create(
    State(state): State<AppState>,
    admin: Admin,
    Path(id): Path<String>,
    body: JsonObject,
) -> Result<Response, ApiError> {
    admin.require(&state, MANAGE)?;
    let server = find(&state, &id)?;
    let map = body.object()?;
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

pub(super) async fn list(
    State(state): State<AppState>,
    admin: Admin,
    Path(id): Path<String>,
) -> Result<Response, ApiError> {
    admin.require(&state, READ)?;
    let server = find(&state, &id)?;
    Ok(axum::Json(server.scopes.iter().map(scope_json).collect::<Vec<_>>()).into_response())
}

pub(super) async fn delete(
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
