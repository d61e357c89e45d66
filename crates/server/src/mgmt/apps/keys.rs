//! `/api/v1/apps/{appId}/credentials/jwks`: an app's public keys one by one, with Okta's rules and exact
//! causes (unique `kid`, RSA ≥ 2048, at most 50 keys, never deactivate the last active key of a
//! private_key_jwt app, delete only inactive keys). Each change reloads the client cache at once, so a
//! deactivated key stops signing assertions on the very next token request.
use super::credential::{self, Credential};
use super::{find_app, refresh};
use crate::clock::now_millis;
use crate::errors::ApiError;
use crate::mgmt::auth::Admin;
use crate::mgmt::authz::Permission;
use crate::mgmt::body::JsonObject;
use crate::mgmt::jwks::{MAX_APP_KEYS, check_public_jwk};
use crate::state::AppState;
use axum::Router;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde_json::{Value, json};
use tollgate_store::{ACTIVE, App, AppChild, AppKey, INACTIVE, StoreError};

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

impl Credential for AppKey {
    const WHAT: &'static str = WHAT;
    const SEGMENT: &'static str = "jwks";
    const DELETE_ACTIVE: &'static str =
        "You can't delete an active JSON Web key. Deactivate the key before deleting it.";

    const CHILD: AppChild = AppChild::Keys;
    credential::row_fields!();

    async fn all(state: &AppState, app_id: &str) -> Result<Vec<Self>, StoreError> {
        state.store.app_keys(app_id).await
    }
    fn last_active_cause(app: &App) -> Option<&'static str> {
        (app.auth_method == "private_key_jwt" && app.jwks_uri.is_none()).then_some(
            "Can't deactivate the only active JSON Web Key when the value for `token_endpoint_auth_method` is `private_key_jwt`.",
        )
    }
    fn body(&self) -> Value {
        key_json_bare(self)
    }
    fn list_body(items: Vec<Value>) -> Value {
        json!({ "jwks": { "keys": items } })
    }
}

fn refused(cause: &str) -> ApiError {
    credential::refused::<AppKey>(cause)
}

async fn add(
    State(state): State<AppState>,
    admin: Admin,
    Path(app_id): Path<String>,
    body: JsonObject,
) -> Result<Response, ApiError> {
    admin.require(&state, Permission::AppsManage)?;
    let app = find_app(&state, &app_id).await?;
    admin.require_super_admin_for_app(&state, &app).await?;
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
    Ok((StatusCode::CREATED, axum::Json(credential::to_json(&state, &app, &key, None))).into_response())
}

/// The app key routes.
pub(super) fn routes() -> Router<AppState> {
    credential::routes::<AppKey, _, _>(add)
}
