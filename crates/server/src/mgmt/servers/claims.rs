//! `/api/v1/authorizationServers/{id}/claims[/{claimId}]`: a custom server's custom claims (Okta's
//! `OAuth2Claim`). tollgate issues access tokens only, to service apps, so a claim is `claimType: RESOURCE`
//! with `valueType: EXPRESSION`; its `value` is parsed when saved ([`crate::oauth::expr`]: a clear 400 for
//! anything outside the supported subset) and evaluated for the app at every token. `conditions.scopes`
//! (empty: any scope) says with which granted scopes the claim is included. `GROUPS` and `SYSTEM` values
//! and `IDENTITY` (ID token) claims are refused: a service app has no groups and gets no ID token.
use super::find;
use crate::cache::CachedServer;
use crate::clock::now_millis;
use crate::errors::ApiError;
use crate::mgmt::auth::Admin;
use crate::mgmt::authz::Permission;
use crate::mgmt::body::JsonObject;
use crate::state::AppState;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde_json::{Map, Value, json};
use tollgate_store::{ACTIVE, Claim, INACTIVE};

const WHAT: &str = "OAuth2Claim";

/// Claim names an access token already uses (Okta's reserved names, and tollgate's own `app`, `tgen`).
const RESERVED: &[&str] = &[
    "ver",
    "jti",
    "iss",
    "aud",
    "sub",
    "iat",
    "exp",
    "nbf",
    "cid",
    "uid",
    "scp",
    "auth_time",
    "acr",
    "amr",
    "cnf",
    "app",
    "tgen",
    "idp",
    "nonce",
    "at_hash",
    "c_hash",
];

fn invalid(cause: impl Into<String>) -> ApiError {
    ApiError::validation(WHAT, vec![cause.into()])
}

fn claim_json(state: &AppState, c: &Claim) -> Value {
    json!({
        "id": c.id,
        "name": c.name,
        "status": c.status,
        "claimType": c.claim_type,
        "valueType": c.value_type,
        "value": c.value,
        "alwaysIncludeInToken": c.always_include,
        "conditions": { "scopes": c.scopes },
        "system": false,
        "_links": { "self": {
            "href": format!("{}/api/v1/authorizationServers/{}/claims/{}", state.issuer, c.server_id, c.id),
            "hints": { "allow": ["GET", "PUT", "DELETE"] },
        }},
    })
}

fn find_claim<'a>(server: &'a CachedServer, cid: &str) -> Result<&'a Claim, ApiError> {
    server.claims.iter().find(|c| c.id == cid).ok_or_else(|| ApiError::not_found(cid, WHAT))
}

fn string_field(map: &Map<String, Value>, field: &str) -> Result<Option<String>, ApiError> {
    match map.get(field) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(s)) => Ok(Some(s.clone())),
        Some(_) => Err(invalid(format!("{field}: The field must be a string"))),
    }
}

fn required(map: &Map<String, Value>, field: &str) -> Result<String, ApiError> {
    string_field(map, field)?
        .filter(|s| !s.trim().is_empty())
        .ok_or_else(|| invalid(format!("{field}: The field cannot be left blank")))
}

/// Validates a claim body into `claim` (whose id, server and creation time are kept).
fn apply(server: &CachedServer, map: &Map<String, Value>, claim: &mut Claim) -> Result<(), ApiError> {
    let name = required(map, "name")?;
    if RESERVED.contains(&name.as_str()) {
        return Err(invalid(format!("name: '{name}' is a reserved claim name and cannot be used.")));
    }
    if name.len() > 100 || !name.chars().all(|c| c.is_ascii_graphic()) {
        return Err(invalid("name: must be 1 to 100 printable ASCII characters without spaces"));
    }
    match required(map, "claimType")?.as_str() {
        "RESOURCE" => {}
        "IDENTITY" => {
            return Err(invalid(
                "claimType: IDENTITY claims are not supported: tollgate issues no ID tokens; use RESOURCE",
            ));
        }
        other => return Err(invalid(format!("claimType: '{other}' is not RESOURCE or IDENTITY"))),
    }
    match required(map, "valueType")?.as_str() {
        "EXPRESSION" => {}
        "GROUPS" => {
            return Err(invalid(
                "valueType: GROUPS claims are not supported: a service app belongs to no group; use EXPRESSION",
            ));
        }
        "SYSTEM" => return Err(invalid("valueType: SYSTEM claims are not supported; use EXPRESSION")),
        other => return Err(invalid(format!("valueType: '{other}' is not EXPRESSION, GROUPS or SYSTEM"))),
    }
    let value = required(map, "value")?;
    crate::oauth::expr::parse(&value).map_err(|e| invalid(format!("value: Unsupported expression: {e}")))?;
    let status = match string_field(map, "status")?.as_deref() {
        None => ACTIVE.to_string(),
        Some(s @ (ACTIVE | INACTIVE)) => s.to_string(),
        Some(other) => return Err(invalid(format!("status: '{other}' is not ACTIVE or INACTIVE"))),
    };
    let always_include = match map.get("alwaysIncludeInToken") {
        None | Some(Value::Null) => true,
        Some(Value::Bool(b)) => *b,
        Some(_) => return Err(invalid("alwaysIncludeInToken: The field must be a boolean")),
    };
    let scopes: Vec<String> = match map.get("conditions").and_then(|c| c.get("scopes")) {
        None | Some(Value::Null) => Vec::new(),
        Some(Value::Array(items)) => items
            .iter()
            .map(|i| i.as_str().map(str::to_string))
            .collect::<Option<_>>()
            .ok_or_else(|| invalid("conditions.scopes: The field must be an array of strings"))?,
        Some(_) => return Err(invalid("conditions.scopes: The field must be an array of strings")),
    };
    if let Some(bad) = scopes.iter().find(|s| !server.scopes.iter().any(|k| &&k.name == s)) {
        return Err(invalid(format!("conditions.scopes: '{bad}' is not a scope of this authorization server")));
    }
    *claim = Claim {
        name,
        status,
        claim_type: "RESOURCE".into(),
        value_type: "EXPRESSION".into(),
        value,
        scopes,
        always_include,
        last_updated: now_millis(),
        ..claim.clone()
    };
    Ok(())
}

pub(super) async fn list(
    State(state): State<AppState>,
    admin: Admin,
    Path(id): Path<String>,
) -> Result<Response, ApiError> {
    admin.require(&state, Permission::ServersRead)?;
    let server = find(&state, &id)?;
    Ok(axum::Json(server.claims.iter().map(|c| claim_json(&state, c)).collect::<Vec<_>>()).into_response())
}

pub(super) async fn get_one(
    State(state): State<AppState>,
    admin: Admin,
    Path((id, cid)): Path<(String, String)>,
) -> Result<Response, ApiError> {
    admin.require(&state, Permission::ServersRead)?;
    let server = find(&state, &id)?;
    Ok(axum::Json(claim_json(&state, find_claim(&server, &cid)?)).into_response())
}

fn conflict(err: tollgate_store::StoreError, name: &str) -> ApiError {
    match err {
        tollgate_store::StoreError::Conflict { .. } => {
            invalid(format!("name: A claim with the name '{name}' already exists for this authorization server."))
        }
        other => other.into(),
    }
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
    let now = now_millis();
    let mut claim = Claim {
        id: crate::ids::new_id("ocl"),
        server_id: id.clone(),
        name: String::new(),
        status: ACTIVE.into(),
        claim_type: String::new(),
        value_type: String::new(),
        value: String::new(),
        scopes: Vec::new(),
        always_include: true,
        created: now,
        last_updated: now,
    };
    apply(&server, &map, &mut claim)?;
    state.store.save_claim(&claim).await.map_err(|e| conflict(e, &claim.name))?;
    state.servers.reload(state.store.as_ref(), &id).await?;
    Ok((StatusCode::CREATED, axum::Json(claim_json(&state, &claim))).into_response())
}

pub(super) async fn replace(
    State(state): State<AppState>,
    admin: Admin,
    Path((id, cid)): Path<(String, String)>,
    body: JsonObject,
) -> Result<Response, ApiError> {
    admin.require(&state, Permission::ServersManage)?;
    let server = find(&state, &id)?;
    let mut claim = find_claim(&server, &cid)?.clone();
    let map = body.object()?;
    apply(&server, &map, &mut claim)?;
    state.store.save_claim(&claim).await.map_err(|e| conflict(e, &claim.name))?;
    state.servers.reload(state.store.as_ref(), &id).await?;
    Ok(axum::Json(claim_json(&state, &claim)).into_response())
}

pub(super) async fn delete(
    State(state): State<AppState>,
    admin: Admin,
    Path((id, cid)): Path<(String, String)>,
) -> Result<Response, ApiError> {
    admin.require(&state, Permission::ServersManage)?;
    find(&state, &id)?;
    if !state.store.delete_claim(&id, &cid).await? {
        return Err(ApiError::not_found(&cid, WHAT));
    }
    state.servers.reload(state.store.as_ref(), &id).await?;
    Ok(StatusCode::NO_CONTENT.into_response())
}
