//! `/api/v1/authorizationServers[/{id}]`: listing, reading, creating (id `aus…`, its signing keys made at
//! once), replacing and deleting custom authorization servers. Token lifetime (Okta sets it on policy
//! rules, 5–1440 minutes) is the server's `accessTokenLifetimeSeconds`, 300–86400.
use super::{MANAGE, READ, find};
use crate::cache::CachedServer;
use crate::clock::{iso8601, now_millis};
use crate::errors::ApiError;
use crate::mgmt::auth::Admin;
use crate::mgmt::body::{self, JsonObject};
use crate::state::AppState;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde_json::{Map, Value, json};
use tollgate_store::{ACTIVE, AuthServer};

const WHAT: &str = "AuthorizationServer";
pub(super) const ALL_CLIENTS: &str = "ALL_CLIENTS";

fn invalid(cause: impl Into<String>) -> ApiError {
    ApiError::validation(WHAT, vec![cause.into()])
}

pub(super) fn string_list(map: &Map<String, Value>, field: &str) -> Result<Vec<String>, ApiError> {
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

pub(super) async fn create(
    State(state): State<AppState>,
    admin: Admin,
    body: JsonObject,
) -> Result<Response, ApiError> {
    admin.require(&state, MANAGE)?;
    let map = body.object()?;
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

pub(super) async fn replace(
    State(state): State<AppState>,
    admin: Admin,
    Path(id): Path<String>,
    body: JsonObject,
) -> Result<Response, ApiError> {
    admin.require(&state, MANAGE)?;
    let current = find(&state, &id)?;
    let map = body.object()?;
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

pub(super) async fn delete(
    State(state): State<AppState>,
    admin: Admin,
    Path(id): Path<String>,
) -> Result<Response, ApiError> {
    admin.require(&state, MANAGE)?;
    find(&state, &id)?;
    // One transaction: the server, its scopes (cascade) and its signing keys.
    state.store.delete_auth_server(&id).await?;
    state.keys.remove(&id);
    state.servers.reload(state.store.as_ref(), &id).await?;
    tracing::info!(server = %id, "authorization server deleted");
    Ok(StatusCode::NO_CONTENT.into_response())
}

fn server_json(state: &AppState, s: &CachedServer) -> Value {
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

pub(super) async fn list(State(state): State<AppState>, admin: Admin) -> Result<Response, ApiError> {
    admin.require(&state, READ)?;
    let mut servers = state.servers.all();
    servers.sort_by(|a, b| (a.server.created, &a.server.id).cmp(&(b.server.created, &b.server.id)));
    Ok(axum::Json(servers.iter().map(|s| server_json(&state, s)).collect::<Vec<_>>()).into_response())
}

pub(super) async fn get_one(
    State(state): State<AppState>,
    admin: Admin,
    Path(id): Path<String>,
) -> Result<Response, ApiError> {
    admin.require(&state, READ)?;
    let server = find(&state, &id)?;
    Ok(axum::Json(server_json(&state, &server)).into_response())
}
