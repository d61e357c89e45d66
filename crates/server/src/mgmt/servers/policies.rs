//! `/api/v1/authorizationServers/{id}/policies[/{policyId}]`: a custom server's access policy.
//!
//! tollgate keeps one policy per server: the list of client ids allowed to get tokens from it
//! (`ALL_CLIENTS` for everyone, the default). It is shown in Okta's policy shape with
//! `conditions.clients.include`, so Okta tooling reads it naturally.
use super::server::{ALL_CLIENTS, string_list};
use super::{MANAGE, READ, find};
use crate::clock::{iso8601, now_millis};
use crate::errors::ApiError;
use crate::mgmt::auth::Admin;
use crate::mgmt::body::JsonObject;
use crate::state::AppState;
use axum::extract::{Path, State};
use axum::response::{IntoResponse, Response};
use serde_json::{Value, json};
use tollgate_store::{ACTIVE, AuthServer};

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

pub(super) async fn list(
    State(state): State<AppState>,
    admin: Admin,
    Path(id): Path<String>,
) -> Result<Response, ApiError> {
    admin.require(&state, READ)?;
    let server = find(&state, &id)?;
    Ok(axum::Json(json!([policy_json(&state, &server.server)])).into_response())
}

pub(super) async fn get_one(
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
pub(super) async fn replace(
    State(state): State<AppState>,
    admin: Admin,
    Path((id, pid)): Path<(String, String)>,
    body: JsonObject,
) -> Result<Response, ApiError> {
    admin.require(&state, MANAGE)?;
    let current = find(&state, &id)?;
    if pid != policy_id(&id) {
        return Err(ApiError::not_found(&pid, "AuthorizationServerPolicy"));
    }
    let map = body.object()?;
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
