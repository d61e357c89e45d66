//! `/api/v1/authorizationServers[/{id}]`: listing, reading, creating (id `aus…`, its signing keys made at
//! once, with a "Default Policy" and its rule), replacing, activating, deactivating and deleting custom
//! authorization servers. Token lifetimes are set by policy rules (Okta's way); the server's own
//! `accessTokenLifetimeSeconds` (300–86400, tollgate's) is the lifetime its default rule starts with.
//! `credentials.signing.rotationMode` is `AUTO` (scheduled rotation) or `MANUAL` (keyRotate only). An
//! INACTIVE server keeps its configuration but its OAuth endpoints answer 404 as for an unknown server.
use super::find;
use crate::cache::CachedServer;
use crate::clock::{iso8601, now_millis};
use crate::errors::ApiError;
use crate::mgmt::auth::Admin;
use crate::mgmt::authz::Permission;
use crate::mgmt::body::{self, JsonObject};
use crate::state::AppState;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde_json::{Map, Value, json};
use tollgate_store::{ACTIVE, AuthServer, INACTIVE};

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

/// The writable members of a server body: name, description, audiences, lifetime, rotation mode.
struct ServerInput {
    name: String,
    description: String,
    audiences: Vec<String>,
    lifetime: Option<i64>,
    rotation_mode: Option<String>,
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
    let rotation_mode = match map.get("credentials").and_then(|c| c.get("signing")).and_then(|s| s.get("rotationMode"))
    {
        None | Some(Value::Null) => None,
        Some(Value::String(m)) if m == "AUTO" || m == "MANUAL" => Some(m.clone()),
        Some(_) => return Err(invalid("credentials.signing.rotationMode: must be AUTO or MANUAL")),
    };
    Ok(ServerInput { name, description, audiences, lifetime, rotation_mode })
}

pub(super) async fn create(
    State(state): State<AppState>,
    admin: Admin,
    body: JsonObject,
) -> Result<Response, ApiError> {
    admin.require(&state, Permission::ServersManage)?;
    let map = body.object()?;
    let input = parse_server(&map)?;
    let now = now_millis();
    let server = AuthServer {
        id: crate::ids::new_id("aus"),
        name: input.name,
        description: input.description,
        audiences: input.audiences,
        access_token_lifetime: input.lifetime.unwrap_or(3600),
        status: ACTIVE.into(),
        rotation_mode: input.rotation_mode.unwrap_or_else(|| "AUTO".into()),
        created: now,
        last_updated: now,
    };
    let (policy, rule) = crate::bootstrap::default_policy(&server);
    state.store.insert_auth_server_with(&server, &[policy], &[rule]).await?;
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
    admin.require(&state, Permission::ServersManage)?;
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
    if let Some(m) = input.rotation_mode {
        server.rotation_mode = m;
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
    admin.require(&state, Permission::ServersManage)?;
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
    let base = format!("{}/api/v1/authorizationServers/{}", state.issuer, s.server.id);
    let toggle = if s.server.status == ACTIVE { "deactivate" } else { "activate" };
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
            "rotationMode": s.server.rotation_mode,
            "kid": keys.as_ref().map(|k| k.active.kid().to_string()),
            "lastRotated": keys.as_ref().map(|k| iso8601((k.next_rotation - state.config.key_rotation_days as i64 * 86_400) * 1000)),
            "nextRotation": keys.as_ref().filter(|_| s.server.rotation_mode != "MANUAL").map(|k| iso8601(k.next_rotation * 1000)),
            "use": "sig",
        }},
        "_links": {
            "self": { "href": base.clone() },
            toggle: { "href": format!("{base}/lifecycle/{toggle}"), "hints": { "allow": ["POST"] } },
            "policies": { "href": format!("{base}/policies") },
            "claims": { "href": format!("{base}/claims") },
            "scopes": { "href": format!("{base}/scopes") },
            "keys": { "href": format!("{base}/credentials/keys") },
            "rotateKey": { "href": format!("{base}/credentials/lifecycle/keyRotate"), "hints": { "allow": ["POST"] } },
            "metadata": [
                { "href": format!("{}/oauth2/{}/.well-known/openid-configuration", state.issuer, s.server.id) },
                { "href": format!("{}/oauth2/{}/.well-known/oauth-authorization-server", state.issuer, s.server.id) },
            ],
        },
    })
}

pub(super) async fn list(State(state): State<AppState>, admin: Admin) -> Result<Response, ApiError> {
    admin.require(&state, Permission::ServersRead)?;
    let mut servers = state.servers.all();
    servers.sort_by(|a, b| (a.server.created, &a.server.id).cmp(&(b.server.created, &b.server.id)));
    Ok(axum::Json(servers.iter().map(|s| server_json(&state, s)).collect::<Vec<_>>()).into_response())
}

pub(super) async fn get_one(
    State(state): State<AppState>,
    admin: Admin,
    Path(id): Path<String>,
) -> Result<Response, ApiError> {
    admin.require(&state, Permission::ServersRead)?;
    let server = find(&state, &id)?;
    Ok(axum::Json(server_json(&state, &server)).into_response())
}

/// `POST /api/v1/authorizationServers/{id}/lifecycle/{activate|deactivate}`: 204. An INACTIVE server's
/// discovery, keys, token, introspect and revoke endpoints answer 404 E0000007, as for an unknown server.
pub(super) async fn activate(state: State<AppState>, admin: Admin, id: Path<String>) -> Result<Response, ApiError> {
    set_status(state, admin, id, ACTIVE).await
}

/// See [`activate`].
pub(super) async fn deactivate(state: State<AppState>, admin: Admin, id: Path<String>) -> Result<Response, ApiError> {
    set_status(state, admin, id, INACTIVE).await
}

async fn set_status(
    State(state): State<AppState>,
    admin: Admin,
    Path(id): Path<String>,
    status: &'static str,
) -> Result<Response, ApiError> {
    admin.require(&state, Permission::ServersManage)?;
    let current = find(&state, &id)?;
    if current.server.status != status {
        let mut server = current.server.clone();
        server.status = status.into();
        server.last_updated = now_millis();
        state.store.update_auth_server(&server).await?;
        state.servers.reload(state.store.as_ref(), &id).await?;
        tracing::info!(server = %id, status, "authorization server status changed");
    }
    Ok(StatusCode::NO_CONTENT.into_response())
}
