//! `/api/v1/apps/{appId}/credentials/secrets`: client secrets one by one, for rotation without downtime
//! (add a second secret, move clients over, deactivate and delete the first). A new secret's plain text
//! is in the creation response only; afterwards only its keyed hash exists. Each change reloads the
//! client cache, so a deactivated secret is refused on the very next token request.
use super::{MANAGE, READ, find_app, refresh};
use crate::clock::{iso8601, now_millis};
use crate::errors::ApiError;
use crate::mgmt::auth::Admin;
use crate::mgmt::body::{JsonObject, no_store};
use crate::state::AppState;
use axum::Router;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use serde_json::{Value, json};
use tollgate_store::{ACTIVE, App, AppSecret, INACTIVE};

const WHAT: &str = "OAuth2ClientSecret";
/// Okta allows two secrets per app.
const MAX_SECRETS: usize = 2;

fn secret_json(state: &AppState, app: &App, s: &AppSecret, plain: Option<&str>) -> Value {
    let base = format!("{}/api/v1/apps/{}/credentials/secrets/{}", state.issuer, app.id, s.id);
    let post = json!({ "allow": ["POST"] });
    let links = if s.status == ACTIVE {
        json!({ "deactivate": { "href": format!("{base}/lifecycle/deactivate"), "hints": post } })
    } else {
        json!({
            "activate": { "href": format!("{base}/lifecycle/activate"), "hints": post },
            "delete": { "href": base, "hints": { "allow": ["DELETE"] } },
        })
    };
    let mut v = json!({
        "id": s.id,
        "status": s.status,
        "secret_hash": tollgate_jose::b64url_encode(&s.secret_hash[..s.secret_hash.len().min(16)]),
        "created": iso8601(s.created),
        "lastUpdated": iso8601(s.last_updated),
        "_links": links,
    });
    if let (Some(p), Some(map)) = (plain, v.as_object_mut()) {
        map.insert("client_secret".into(), json!(p));
    }
    v
}

fn refused(cause: &str) -> ApiError {
    ApiError::validation(WHAT, vec![cause.to_string()])
}

async fn find_secret(state: &AppState, app: &App, id: &str) -> Result<AppSecret, ApiError> {
    let all = state.store.app_secrets(&app.id).await?;
    all.into_iter().find(|s| s.id == id).ok_or_else(|| ApiError::not_found(id, WHAT))
}

async fn create(
    State(state): State<AppState>,
    admin: Admin,
    Path(app_id): Path<String>,
    body: JsonObject,
) -> Result<Response, ApiError> {
    admin.require(&state, MANAGE)?;
    let app = find_app(&state, &app_id).await?;
    // An empty body is fine: everything is optional.
    let map = body.object_or_empty()?;
    if !app.auth_method.starts_with("client_secret") {
        return Err(refused(&format!(
            "A client secret can't be added when 'token_endpoint_auth_method' is '{}'.",
            app.auth_method
        )));
    }
    let plain = match map.get("client_secret") {
        None | Some(Value::Null) => crate::secrets::new_client_secret(),
        Some(Value::String(s)) if (14..=100).contains(&s.len()) => s.clone(),
        Some(Value::String(_)) => {
            return Err(refused("client_secret: 'client_secret' must be between '14' and '100' characters long."));
        }
        Some(_) => return Err(refused("client_secret: The field must be a string")),
    };
    let status = match map.get("status") {
        None | Some(Value::Null) => ACTIVE.to_string(),
        Some(Value::String(s)) if s == ACTIVE || s == INACTIVE => s.clone(),
        Some(_) => return Err(refused("status: must be ACTIVE or INACTIVE")),
    };
    if state.store.app_secrets(&app.id).await?.len() >= MAX_SECRETS {
        return Err(ApiError::limit_reached(tollgate_store::AppChild::Secrets, MAX_SECRETS));
    }
    let now = now_millis();
    let secret = AppSecret {
        id: crate::ids::new_id("ocs"),
        app_id: app.id.clone(),
        secret_hash: state.hasher.hash(&plain),
        status,
        created: now,
        last_updated: now,
    };
    state.store.insert_app_secret(&secret, MAX_SECRETS).await?;
    refresh(&state, &app.client_id).await?;
    Ok(no_store((StatusCode::CREATED, axum::Json(secret_json(&state, &app, &secret, Some(&plain))))))
}

async fn list(State(state): State<AppState>, admin: Admin, Path(app_id): Path<String>) -> Result<Response, ApiError> {
    admin.require(&state, READ)?;
    let app = find_app(&state, &app_id).await?;
    let all = state.store.app_secrets(&app.id).await?;
    Ok(axum::Json(all.iter().map(|s| secret_json(&state, &app, s, None)).collect::<Vec<_>>()).into_response())
}

async fn get_one(
    State(state): State<AppState>,
    admin: Admin,
    Path((app_id, id)): Path<(String, String)>,
) -> Result<Response, ApiError> {
    admin.require(&state, READ)?;
    let app = find_app(&state, &app_id).await?;
    let s = find_secret(&state, &app, &id).await?;
    Ok(axum::Json(secret_json(&state, &app, &s, None)).into_response())
}

async fn set_status(state: &AppState, app_id: &str, id: &str, status: &str) -> Result<Response, ApiError> {
    let app = find_app(state, app_id).await?;
    let mut s = find_secret(state, &app, id).await?;
    if status == INACTIVE && s.status == ACTIVE && app.auth_method.starts_with("client_secret") {
        let active = state.store.app_secrets(&app.id).await?.iter().filter(|x| x.status == ACTIVE).count();
        if active <= 1 {
            return Err(refused("You can't deactivate the only active client secret of this app."));
        }
    }
    let now = now_millis();
    state.store.set_app_secret_status(&app.id, &s.id, status, now).await?;
    s.status = status.into();
    s.last_updated = now;
    refresh(state, &app.client_id).await?;
    Ok(axum::Json(secret_json(state, &app, &s, None)).into_response())
}

async fn activate(
    State(state): State<AppState>,
    admin: Admin,
    Path((app_id, id)): Path<(String, String)>,
) -> Result<Response, ApiError> {
    admin.require(&state, MANAGE)?;
    set_status(&state, &app_id, &id, ACTIVE).await
}

async fn deactivate(
    State(state): State<AppState>,
    admin: Admin,
    Path((app_id, id)): Path<(String, String)>,
) -> Result<Response, ApiError> {
    admin.require(&state, MANAGE)?;
    set_status(&state, &app_id, &id, INACTIVE).await
}

async fn delete(
    State(state): State<AppState>,
    admin: Admin,
    Path((app_id, id)): Path<(String, String)>,
) -> Result<Response, ApiError> {
    admin.require(&state, MANAGE)?;
    let app = find_app(&state, &app_id).await?;
    let s = find_secret(&state, &app, &id).await?;
    if s.status == ACTIVE {
        return Err(refused("You can't delete an active client secret. Deactivate the secret before deleting it."));
    }
    state.store.delete_app_secret(&app.id, &s.id).await?;
    refresh(&state, &app.client_id).await?;
    Ok(StatusCode::NO_CONTENT.into_response())
}

/// The client secret routes.
pub(super) fn routes() -> Router<AppState> {
    Router::new()
        .route("/api/v1/apps/{app_id}/credentials/secrets", get(list).post(create))
        .route("/api/v1/apps/{app_id}/credentials/secrets/{secret_id}", get(get_one).delete(delete))
        .route("/api/v1/apps/{app_id}/credentials/secrets/{secret_id}/lifecycle/activate", post(activate))
        .route("/api/v1/apps/{app_id}/credentials/secrets/{secret_id}/lifecycle/deactivate", post(deactivate))
}
