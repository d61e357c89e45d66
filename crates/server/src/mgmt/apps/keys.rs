//! `/api/v1/apps/{appId}/credentials/jwks`: an app's public keys one by one, with Okta's rules and exact
//! causes (unique `kid`, RSA ≥ 2048, at most 50 keys, never deactivate the last active key of a
//! private_key_jwt app, delete only inactive keys). Each change reloads the client cache at once, so a
//! deactivated key stops signing assertions on the very next token request.
use super::{MANAGE, READ, find_app, refresh};
use crate::clock::{iso8601, now_millis};
use crate::errors::ApiError;
use crate::mgmt::auth::Admin;
use crate::mgmt::body::JsonObject;
use crate::mgmt::jwks::{MAX_APP_KEYS, check_public_jwk};
use crate::state::AppState;
use axum::Router;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use serde_json::{Value, json};
use tollgate_store::{ACTIVE, App, AppKey, INACTIVE};

const WHAT: &str = "JsonWebKey";

/// The stored JWK with the key's `id` and `status` (as the app's `settings.oauthClient.jwks` shows it).
pub(super) fn key_json_bare(key: &AppKey) -> Value {
    let mut v: Value = serde_json::from_str(&key.jwk).unwrap_or(Value::Null);
    if let Some(map) = v.as_object_mut() {
        map.insert("id".into(), json!(key.id));
        map.insert("status".into(), json!(key.status));
    }
    v
}

fn key_json(state: &AppState, app: &App, key: &AppKey) -> Value {
    let mut v = key_json_bare(key);
    let base = format!("{}/api/v1/apps/{}/credentials/jwks/{}", state.issuer, app.id, key.id);
    let post = json!({ "allow": ["POST"] });
    let links = if key.status == ACTIVE {
        json!({ "deactivate": { "href": format!("{base}/lifecycle/deactivate"), "hints": post } })
    } else {
        json!({
            "activate": { "href": format!("{base}/lifecycle/activate"), "hints": post },
            "delete": { "href": base, "hints": { "allow": ["DELETE"] } },
        })
    };
    if let Some(map) = v.as_object_mut() {
        map.insert("created".into(), json!(iso8601(key.created)));
        map.insert("lastUpdated".into(), json!(iso8601(key.last_updated)));
        map.insert("_links".into(), links);
    }
    v
}

fn refused(cause: &str) -> ApiError {
    ApiError::validation(WHAT, vec![cause.to_string()])
}

async fn find_key(state: &AppState, app: &App, key_id: &str) -> Result<AppKey, ApiError> {
    let keys = state.store.app_keys(&app.id).await?;
    keys.into_iter().find(|k| k.id == key_id).ok_or_else(|| ApiError::not_found(key_id, WHAT))
}

async fn add(
    State(state): State<AppState>,
    admin: Admin,
    Path(app_id): Path<String>,
    body: JsonObject,
) -> Result<Response, ApiError> {
    admin.require(&state, MANAGE)?;
    let app = find_app(&state, &app_id).await?;
    let mut map = body.object()?;
    let status = match map.remove("status") {
        None | Some(Value::Null) => ACTIVE.to_string(),
        Some(Value::String(s)) if s == ACTIVE || s == INACTIVE => s,
        Some(_) => return Err(refused("status: must be ACTIVE or INACTIVE")),
    };
    // Read-only members of the key object are ignored, not stored into the JWK.
    for field in ["id", "created", "lastUpdated", "_links"] {
        map.remove(field);
    }
    let jwk = check_public_jwk(&Value::Object(map), 0).map_err(|c| refused(&c))?;
    if app.jwks_uri.is_some() {
        return Err(refused("The app uses 'jwks_uri'. Update the app to use 'jwks' before adding keys."));
    }
    let existing = state.store.app_keys(&app.id).await?;
    if existing.len() >= MAX_APP_KEYS {
        return Err(ApiError::limit_reached(tollgate_store::AppChild::Keys, MAX_APP_KEYS));
    }
    match &jwk.kid {
        Some(kid) if existing.iter().any(|k| k.kid.as_deref() == Some(kid)) => {
            return Err(refused("All keys in the 'jwks' must have a unique `kid`."));
        }
        _ if !existing.is_empty() && (jwk.kid.is_none() || existing.iter().any(|k| k.kid.is_none())) => {
            return Err(refused(
                "Each key should have a unique kid when adding multiple keys. Use the Apps API to update the JWKS to add a kid for the existing key, or delete the existing key and re-add the key with a kid using the JWKS APIs.",
            ));
        }
        _ => {}
    }
    let now = now_millis();
    let key = AppKey {
        id: crate::ids::new_id("pks"),
        app_id: app.id.clone(),
        kid: jwk.kid.clone(),
        status,
        jwk: serde_json::to_string(&jwk).map_err(ApiError::internal)?,
        created: now,
        last_updated: now,
    };
    state.store.insert_app_key(&key, MAX_APP_KEYS).await?;
    refresh(&state, &app.client_id).await?;
    Ok((StatusCode::CREATED, axum::Json(key_json(&state, &app, &key))).into_response())
}

async fn list(State(state): State<AppState>, admin: Admin, Path(app_id): Path<String>) -> Result<Response, ApiError> {
    admin.require(&state, READ)?;
    let app = find_app(&state, &app_id).await?;
    let keys = state.store.app_keys(&app.id).await?;
    let keys: Vec<Value> = keys.iter().map(|k| key_json(&state, &app, k)).collect();
    Ok(axum::Json(json!({ "jwks": { "keys": keys } })).into_response())
}

async fn get_one(
    State(state): State<AppState>,
    admin: Admin,
    Path((app_id, key_id)): Path<(String, String)>,
) -> Result<Response, ApiError> {
    admin.require(&state, READ)?;
    let app = find_app(&state, &app_id).await?;
    let key = find_key(&state, &app, &key_id).await?;
    Ok(axum::Json(key_json(&state, &app, &key)).into_response())
}

async fn set_status(state: &AppState, app_id: &str, key_id: &str, status: &str) -> Result<Response, ApiError> {
    let app = find_app(state, app_id).await?;
    let mut key = find_key(state, &app, key_id).await?;
    if status == INACTIVE && key.status == ACTIVE && app.auth_method == "private_key_jwt" && app.jwks_uri.is_none() {
        let active = state.store.app_keys(&app.id).await?.iter().filter(|k| k.status == ACTIVE).count();
        if active <= 1 {
            return Err(refused(
                "Can't deactivate the only active JSON Web Key when the value for `token_endpoint_auth_method` is `private_key_jwt`.",
            ));
        }
    }
    let now = now_millis();
    state.store.set_app_key_status(&app.id, &key.id, status, now).await?;
    key.status = status.into();
    key.last_updated = now;
    refresh(state, &app.client_id).await?;
    Ok(axum::Json(key_json(state, &app, &key)).into_response())
}

async fn activate(
    State(state): State<AppState>,
    admin: Admin,
    Path((app_id, key_id)): Path<(String, String)>,
) -> Result<Response, ApiError> {
    admin.require(&state, MANAGE)?;
    set_status(&state, &app_id, &key_id, ACTIVE).await
}

async fn deactivate(
    State(state): State<AppState>,
    admin: Admin,
    Path((app_id, key_id)): Path<(String, String)>,
) -> Result<Response, ApiError> {
    admin.require(&state, MANAGE)?;
    set_status(&state, &app_id, &key_id, INACTIVE).await
}

async fn delete(
    State(state): State<AppState>,
    admin: Admin,
    Path((app_id, key_id)): Path<(String, String)>,
) -> Result<Response, ApiError> {
    admin.require(&state, MANAGE)?;
    let app = find_app(&state, &app_id).await?;
    let key = find_key(&state, &app, &key_id).await?;
    if key.status == ACTIVE {
        return Err(refused("You can't delete an active JSON Web key. Deactivate the key before deleting it."));
    }
    state.store.delete_app_key(&app.id, &key.id).await?;
    refresh(&state, &app.client_id).await?;
    Ok(StatusCode::NO_CONTENT.into_response())
}

/// The app key routes.
pub(super) fn routes() -> Router<AppState> {
    Router::new()
        .route("/api/v1/apps/{app_id}/credentials/jwks", get(list).post(add))
        .route("/api/v1/apps/{app_id}/credentials/jwks/{key_id}", get(get_one).delete(delete))
        .route("/api/v1/apps/{app_id}/credentials/jwks/{key_id}/lifecycle/activate", post(activate))
        .route("/api/v1/apps/{app_id}/credentials/jwks/{key_id}/lifecycle/deactivate", post(deactivate))
}
