//! `/api/v1/apps/{appId}/credentials/federated`: an app's federated credentials (workload identity
//! federation, a tollgate extension of Okta's Apps API; docs/federation.md). Each trusts tokens of one
//! external issuer whose `sub`, `aud` and claims match; several per app. Changing them on an app with
//! `okta.*` grants is the Super Admin's, as for keys: whoever adds one can get the app's tokens. Each change
//! reloads the client cache at once, so a deactivated credential stops working on the very next request.
use super::{find_app, refresh};
use crate::clock::{iso8601, now_millis};
use crate::errors::ApiError;
use crate::mgmt::auth::Admin;
use crate::mgmt::authz::Permission;
use crate::mgmt::body::JsonObject;
use crate::state::AppState;
use axum::Router;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use serde_json::{Map, Value, json};
use tollgate_store::{ACTIVE, App, FederatedCredential, INACTIVE};

const WHAT: &str = "FederatedCredential";
/// Most federated credentials one app may have.
pub(crate) const MAX_FEDERATED: usize = 20;
/// `max_token_age` when none is given, and its bounds (seconds).
const DEFAULT_MAX_TOKEN_AGE: i64 = 3600;
const MAX_TOKEN_AGE_RANGE: std::ops::RangeInclusive<i64> = 60..=86_400;
const MAX_TEXT: usize = 1024;
const MAX_AUDIENCES: usize = 20;
const MAX_CLAIMS: usize = 30;

fn refused(cause: impl Into<String>) -> ApiError {
    ApiError::validation(WHAT, vec![cause.into()])
}

fn credential_json(state: &AppState, app: &App, c: &FederatedCredential) -> Value {
    let base = format!("{}/api/v1/apps/{}/credentials/federated/{}", state.issuer, app.id, c.id);
    let post = json!({ "allow": ["POST"] });
    let lifecycle = if c.status == ACTIVE {
        json!({ "deactivate": { "href": format!("{base}/lifecycle/deactivate"), "hints": post } })
    } else {
        json!({ "activate": { "href": format!("{base}/lifecycle/activate"), "hints": post } })
    };
    let mut links = json!({ "self": { "href": base, "hints": { "allow": ["GET", "PUT", "DELETE"] } } });
    if let (Some(l), Some(extra)) = (links.as_object_mut(), lifecycle.as_object()) {
        l.extend(extra.clone());
    }
    json!({
        "id": c.id,
        "name": c.name,
        "issuer": c.issuer,
        "subject": c.subject,
        "audiences": c.audiences,
        "claims": c.claims,
        "jwks_uri": c.jwks_uri,
        "max_token_age": c.max_token_age,
        "status": c.status,
        "created": iso8601(c.created),
        "lastUpdated": iso8601(c.last_updated),
        "_links": links,
    })
}

fn text(map: &Map<String, Value>, name: &str, required: bool) -> Result<Option<String>, ApiError> {
    match map.get(name) {
        None | Some(Value::Null) if required => Err(refused(format!("{name}: is required"))),
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(s)) if s.trim().is_empty() && required => Err(refused(format!("{name}: is required"))),
        Some(Value::String(s)) if s.len() > MAX_TEXT => {
            Err(refused(format!("{name}: must be at most {MAX_TEXT} characters")))
        }
        Some(Value::String(s)) if s.contains('\0') => Err(refused(format!("{name}: must not contain NUL"))),
        Some(Value::String(s)) => Ok(Some(s.clone())),
        Some(_) => Err(refused(format!("{name}: must be a string"))),
    }
}

/// The settings of a credential from a create or replace body (read-only members ignored, unknown ones
/// refused, so a misspelt condition cannot silently widen what is trusted).
fn settings(state: &AppState, mut map: Map<String, Value>) -> Result<(FederatedCredential, Option<String>), ApiError> {
    for field in ["id", "created", "lastUpdated", "_links"] {
        map.remove(field);
    }
    const KNOWN: [&str; 8] =
        ["name", "issuer", "subject", "audiences", "claims", "jwks_uri", "max_token_age", "status"];
    if let Some(unknown) = map.keys().find(|k| !KNOWN.contains(&k.as_str())) {
        return Err(refused(format!("{unknown}: is not a property of a federated credential")));
    }
    let name = text(&map, "name", true)?.unwrap_or_default();
    let issuer = text(&map, "issuer", true)?.unwrap_or_default();
    let subject = text(&map, "subject", true)?.unwrap_or_default();
    let jwks_uri = text(&map, "jwks_uri", false)?;
    let policy = state.remote_jwks.fetcher().policy();
    match &jwks_uri {
        // Without a jwks_uri the issuer's discovery document is fetched: the issuer must be fetchable.
        None => {
            policy
                .check_url(&issuer)
                .map_err(|e| refused(format!("issuer: {e} (its discovery document is fetched; or give a jwks_uri)")))?;
        }
        Some(uri) => {
            policy.check_url(uri).map_err(|e| refused(format!("jwks_uri: {e}")))?;
        }
    }
    let audiences = match map.get("audiences") {
        None | Some(Value::Null) => Vec::new(),
        Some(Value::Array(items)) => {
            if items.len() > MAX_AUDIENCES {
                return Err(refused(format!("audiences: at most {MAX_AUDIENCES}")));
            }
            let mut out = Vec::new();
            for item in items {
                match item.as_str() {
                    Some(a) if !a.is_empty() && a.len() <= MAX_TEXT && !a.contains('\0') => out.push(a.to_string()),
                    _ => return Err(refused("audiences: must be non-empty strings")),
                }
            }
            out
        }
        Some(_) => return Err(refused("audiences: must be an array of strings")),
    };
    let claims = match map.get("claims") {
        None | Some(Value::Null) => Map::new(),
        Some(Value::Object(conditions)) => {
            if conditions.len() > MAX_CLAIMS {
                return Err(refused(format!("claims: at most {MAX_CLAIMS} conditions")));
            }
            for (claim, pattern) in conditions {
                if claim.is_empty() || claim.contains('\0') || matches!(claim.as_str(), "iss" | "exp" | "iat" | "nbf") {
                    return Err(refused(format!("claims: '{claim}' cannot be a condition")));
                }
                match pattern.as_str() {
                    Some(p) if !p.is_empty() && p.len() <= MAX_TEXT && !p.contains('\0') => {}
                    _ => return Err(refused(format!("claims: the condition on '{claim}' must be a non-empty string"))),
                }
            }
            conditions.clone()
        }
        Some(_) => return Err(refused("claims: must be an object of claim → pattern")),
    };
    let max_token_age = match map.get("max_token_age") {
        None | Some(Value::Null) => DEFAULT_MAX_TOKEN_AGE,
        Some(v) => match v.as_i64() {
            Some(n) if MAX_TOKEN_AGE_RANGE.contains(&n) => n,
            _ => {
                return Err(refused(format!(
                    "max_token_age: must be a whole number of seconds from {} to {}",
                    MAX_TOKEN_AGE_RANGE.start(),
                    MAX_TOKEN_AGE_RANGE.end()
                )));
            }
        },
    };
    let status = match map.get("status") {
        None | Some(Value::Null) => None,
        Some(Value::String(s)) if s == ACTIVE || s == INACTIVE => Some(s.clone()),
        Some(_) => return Err(refused("status: must be ACTIVE or INACTIVE")),
    };
    let credential = FederatedCredential {
        id: String::new(),
        app_id: String::new(),
        name,
        issuer,
        subject,
        audiences,
        claims,
        jwks_uri,
        max_token_age,
        status: String::new(),
        created: 0,
        last_updated: 0,
    };
    Ok((credential, status))
}

async fn find(state: &AppState, app: &App, id: &str) -> Result<FederatedCredential, ApiError> {
    let all = state.store.federated_credentials(&app.id).await?;
    all.into_iter().find(|c| c.id == id).ok_or_else(|| ApiError::not_found(id, WHAT))
}

async fn create(
    State(state): State<AppState>,
    admin: Admin,
    Path(app_id): Path<String>,
    body: JsonObject,
) -> Result<Response, ApiError> {
    admin.require(&state, Permission::AppsManage)?;
    let app = find_app(&state, &app_id).await?;
    admin.require_super_admin_for_app(&state, &app).await?;
    let (mut credential, status) = settings(&state, body.object()?)?;
    let now = now_millis();
    credential.id = crate::ids::new_id("fdc");
    credential.app_id = app.id.clone();
    credential.status = status.unwrap_or_else(|| ACTIVE.to_string());
    credential.created = now;
    credential.last_updated = now;
    state.store.insert_federated_credential(&credential, MAX_FEDERATED).await?;
    refresh(&state, &app.client_id).await?;
    Ok((StatusCode::CREATED, axum::Json(credential_json(&state, &app, &credential))).into_response())
}

async fn list(State(state): State<AppState>, admin: Admin, Path(app_id): Path<String>) -> Result<Response, ApiError> {
    admin.require(&state, Permission::AppsRead)?;
    let app = find_app(&state, &app_id).await?;
    let all = state.store.federated_credentials(&app.id).await?;
    let out: Vec<Value> = all.iter().map(|c| credential_json(&state, &app, c)).collect();
    Ok(axum::Json(Value::Array(out)).into_response())
}

async fn get_one(
    State(state): State<AppState>,
    admin: Admin,
    Path((app_id, id)): Path<(String, String)>,
) -> Result<Response, ApiError> {
    admin.require(&state, Permission::AppsRead)?;
    let app = find_app(&state, &app_id).await?;
    let credential = find(&state, &app, &id).await?;
    Ok(axum::Json(credential_json(&state, &app, &credential)).into_response())
}

async fn replace(
    State(state): State<AppState>,
    admin: Admin,
    Path((app_id, id)): Path<(String, String)>,
    body: JsonObject,
) -> Result<Response, ApiError> {
    admin.require(&state, Permission::AppsManage)?;
    let app = find_app(&state, &app_id).await?;
    admin.require_super_admin_for_app(&state, &app).await?;
    let existing = find(&state, &app, &id).await?;
    let (mut credential, status) = settings(&state, body.object()?)?;
    credential.id = existing.id;
    credential.app_id = existing.app_id;
    credential.status = status.unwrap_or(existing.status);
    credential.created = existing.created;
    credential.last_updated = now_millis();
    if !state.store.update_federated_credential(&credential).await? {
        return Err(ApiError::not_found(&id, WHAT));
    }
    refresh(&state, &app.client_id).await?;
    Ok(axum::Json(credential_json(&state, &app, &credential)).into_response())
}

async fn set_status(
    state: &AppState,
    admin: &Admin,
    app_id: &str,
    id: &str,
    status: &str,
) -> Result<Response, ApiError> {
    let app = find_app(state, app_id).await?;
    admin.require_super_admin_for_app(state, &app).await?;
    let mut credential = find(state, &app, id).await?;
    let now = now_millis();
    state.store.set_federated_credential_status(&app.id, &credential.id, status, now).await?;
    credential.status = status.into();
    credential.last_updated = now;
    refresh(state, &app.client_id).await?;
    Ok(axum::Json(credential_json(state, &app, &credential)).into_response())
}

async fn activate(
    State(state): State<AppState>,
    admin: Admin,
    Path((app_id, id)): Path<(String, String)>,
) -> Result<Response, ApiError> {
    admin.require(&state, Permission::AppsManage)?;
    set_status(&state, &admin, &app_id, &id, ACTIVE).await
}

async fn deactivate(
    State(state): State<AppState>,
    admin: Admin,
    Path((app_id, id)): Path<(String, String)>,
) -> Result<Response, ApiError> {
    admin.require(&state, Permission::AppsManage)?;
    set_status(&state, &admin, &app_id, &id, INACTIVE).await
}

async fn delete(
    State(state): State<AppState>,
    admin: Admin,
    Path((app_id, id)): Path<(String, String)>,
) -> Result<Response, ApiError> {
    admin.require(&state, Permission::AppsManage)?;
    let app = find_app(&state, &app_id).await?;
    admin.require_super_admin_for_app(&state, &app).await?;
    let credential = find(&state, &app, &id).await?;
    state.store.delete_federated_credential(&app.id, &credential.id).await?;
    refresh(&state, &app.client_id).await?;
    Ok(StatusCode::NO_CONTENT.into_response())
}

/// The federated credential routes.
pub(super) fn routes() -> Router<AppState> {
    Router::new()
        .route("/api/v1/apps/{app_id}/credentials/federated", get(list).post(create))
        .route("/api/v1/apps/{app_id}/credentials/federated/{credential_id}", get(get_one).put(replace).delete(delete))
        .route("/api/v1/apps/{app_id}/credentials/federated/{credential_id}/lifecycle/activate", post(activate))
        .route("/api/v1/apps/{app_id}/credentials/federated/{credential_id}/lifecycle/deactivate", post(deactivate))
}
