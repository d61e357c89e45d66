//! Creating, replacing and deleting custom authorization servers, and their access policy.
//!
//! tollgate keeps one policy per server: the list of client ids allowed to get tokens from it
//! (`ALL_CLIENTS` for everyone, the default). It is shown in Okta's policy shape,
//! `GET/PUT /api/v1/authorizationServers/{id}/policies[/{policyId}]` with `conditions.clients.include`,
//! so Okta tooling reads it naturally. Token lifetime (Okta sets it on policy rules, 5–1440 minutes) is
//! the server's `accessTokenLifetimeSeconds`, 300–86400. Every change reloads the server cache, so the
//! token endpoint applies it to the very next request.
use super::auth::Admin;
use super::body;
use super::servers::{MANAGE, READ, find, server_json};
use crate::clock::{iso8601, now_millis};
use crate::errors::ApiError;
use crate::state::AppState;
use axum::body::Body;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde_json::{Map, Value, json};
use tollgate_store::{ACTIVE, AuthServer};

const WHAT: &str = "AuthorizationServer";
const ALL_CLIENTS: &str = "ALL_CLIENTS";

fn invalid(cause: impl Into<String>) -> ApiError {
    ApiError::validation(WHAT, vec![cause.into()])
}

fn string_list(map: &Map<String, Value>, field: &str) -> Result<Vec<String>, ApiError> {
    let items = match map.get(field) {
        None | Some(Value::Null) => return Err(invalid(format!("{field}: The field cannot be left blank"))),
        Some(Value::Array(items)) => items,
        Some(_) => return Err(invalid(format!("{field}: The field must be an array of strings"))),
    };
    let list: Vec<String> = items
        .iter()
        .map(|i| match i {
            Value::String(s) if !s.trim().is_empty() => Ok(s.clone()),
            _ => Err(invalid(format!("{field}: The field must be an array of non-empty strings"))),
        })
        .collect::<Result<_, _>>()?;
    if list.is_empty() {
        return Err(invalid(format!("{field}: The field cannot be left blank")));
    }
    Ok(list)
}

/// The writable members of a server body: name, description, audiences, lifetime.
struct ServerInput {
    name: String,
    description: String,
    audiences: Vec<String>,
    lifetime: Option<i64>,
}

fn parse_server(map: &Map<String, Value>) -> Result<ServerInput, ApiError> {
    let name = body::required_str(map, WHAT, "name")?.to_string();
    let description = match map.get("description") {
        None | Some(Value::Null) => String::new(),
        Some(Value::String(s)) => s.clone(),
        Some(_) => return Err(invalid("description: The field must be a string")),
    };
    let audiences = string_list(map, "audiences")?;
    let lifetime = match map.get("accessTokenLifetimeSeconds") {
        None | Some(Value::Null) => None,
        Some(v) => match v.as_i64() {
            Some(n) if (300..=86_400).contains(&n) => Some(n),
            _ => return Err(invalid("accessTokenLifetimeSeconds: must be an integer from 300 to 86400")),
        },
    };
    Ok(ServerInput { name, description, audiences, lifetime })
}

pub async fn create(State(state): State<AppState>, admin: Admin, body: Body) -> Result<Response, ApiError> {
    admin.require(&state, MANAGE)?;
    let map = body::read_object(body, state.config.max_body_bytes).await?;
    let input = parse_server(&map)?;
    let now = now_millis();
    let server = AuthServer {
        id: crate::ids::new_id("aus"),
        name: input.name,
        description: input.description,
        audiences: input.audiences,
        access_token_lifetime: input.lifetime.unwrap_or(3600),
        policy_clients: vec![ALL_CLIENTS.into()],
        status: ACTIVE.into(),
        created: now,
        last_updated: now,
    };
    state.store.insert_auth_server(&server).await?;
    if let Err(err) = state.keys.ensure(&server.id).await {
        // No server without signing keys: undo (deleting the server also deletes any keys made).
        let _ = state.store.delete_auth_server(&server.id).await;
        state.keys.remove(&server.id);
        return Err(ApiError::internal(err));
    }
    state.servers.reload(state.store.as_ref(), &server.id).await?;
    let cached = find(&state, &server.id)?;
    tracing::info!(server = %server.id, "authorization server created");
    Ok((StatusCode::CREATED, axum::Json(server_json(&state, &cached))).into_response())
}

pub async fn replace(
    State(state): State<AppState>,
    admin: Admin,
    Path(id): Path<String>,
    body: Body,
) -> Result<Response, ApiError> {
    admin.require(&state, MANAGE)?;
    let current = find(&state, &id)?;
    let map = body::read_object(body, state.config.max_body_bytes).await?;
    let input = parse_server(&map)?;
    let mut server = current.server.clone();
    server.name = input.name;
    server.description = input.description;
    server.audiences = input.audiences;
    if let Some(l) = input.lifetime {
        server.access_token_lifetime = l;
    }
    server.last_updated = now_millis();
    state.store.update_auth_server(&server).await?;
    state.servers.reload(state.store.as_ref(), &id).await?;
    let cached = find(&state, &id)?;
    Ok(axum::Json(server_json(&state, &cached)).into_response())
}

pub async fn delete(State(state): State<AppState>, admin: Admin, Path(id): Path<String>) -> Result<Response, ApiError> {
    admin.require(&state, MANAGE)?;
    find(&state, &id)?;
    // One transaction: the server, its scopes (cascade) and its signing keys.
    state.store.delete_auth_server(&id).await?;
    state.keys.remove(&id);
    state.servers.reload(state.store.as_ref(), &id).await?;
    tracing::info!(server = %id, "authorization server deleted");
    Ok(StatusCode::NO_CONTENT.into_response())
}

fn policy_id(server_id: &str) -> String {
    format!("00p{server_id}")
}

fn policy_json(state: &AppState, server: &AuthServer) -> Value {
    let pid = policy_id(&server.id);
    json!({
        "id": pid,
        "type": "OAUTH_AUTHORIZATION_POLICY",
        "name": "Default Policy",
        "description": "Which clients may get tokens from this authorization server.",
        "status": ACTIVE,
        "priority": 1,
        "system": false,
        "conditions": { "clients": { "include": server.policy_clients } },
        "created": iso8601(server.created),
        "lastUpdated": iso8601(server.last_updated),
        "_links": { "self": { "href": format!("{}/api/v1/authorizationServers/{}/policies/{pid}", state.issuer, server.id) } },
    })
}

pub async fn list_policies(
    State(state): State<AppState>,
    admin: Admin,
    Path(id): Path<String>,
) -> Result<Response, ApiError> {
    admin.require(&state, READ)?;
    let server = find(&state, &id)?;
    Ok(axum::Json(json!([policy_json(&state, &server.server)])).into_response())
}

pub async fn get_policy(
    State(state): State<AppState>,
    admin: Admin,
    Path((id, pid)): Path<(String, String)>,
) -> Result<Response, ApiError> {
    admin.require(&state, READ)?;
    let server = find(&state, &id)?;
    if pid != policy_id(&id) {
        return Err(ApiError::not_found(&pid, "AuthorizationServerPolicy"));
    }
    Ok(axum::Json(policy_json(&state, &server.server)).into_response())
}

/// Replaces the policy's client list (`conditions.clients.include`): `ALL_CLIENTS` or known client ids.
pub async fn replace_policy(
    State(state): State<AppState>,
    admin: Admin,
    Path((id, pid)): Path<(String, String)>,
    body: Body,
) -> Result<Response, ApiError> {
    admin.require(&state, MANAGE)?;
    let current = find(&state, &id)?;
    if pid != policy_id(&id) {
        return Err(ApiError::not_found(&pid, "AuthorizationServerPolicy"));
    }
    let map = body::read_object(body, state.config.max_body_bytes).await?;
    let what = "AuthorizationServerPolicy";
    let include = map.get("conditions").and_then(|c| c.get("clients")).and_then(Value::as_object).ok_or_else(|| {
        ApiError::validation(what, vec!["conditions.clients.include: The field cannot be left blank".into()])
    })?;
    let clients = string_list(include, "include").map_err(|e| {
        ApiError::validation(what, e.causes.iter().map(|c| format!("conditions.clients.{c}")).collect())
    })?;
    for c in &clients {
        if c != ALL_CLIENTS && state.store.app_by_client_id(c).await?.is_none() {
            return Err(ApiError::validation(
                what,
                vec![format!("conditions.clients.include: '{c}' is not a client id of this org")],
            ));
        }
    }
    let mut server = current.server.clone();
    server.policy_clients = clients;
    server.last_updated = now_millis();
    state.store.update_auth_server(&server).await?;
    state.servers.reload(state.store.as_ref(), &id).await?;
    Ok(axum::Json(policy_json(&state, &server)).into_response())
}
