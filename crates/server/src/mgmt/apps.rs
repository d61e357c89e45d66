//! `/api/v1/apps`: OIDC service apps in Okta's Apps-API shape. An app and its DCR client are one record
//! (the app `id` doubles as `client_id` unless one is given), so everything here shows up on
//! `/oauth2/v1/clients` too, and every change reloads the client cache so the token endpoint sees it on
//! the very next request.
use super::app_body::{AppInput, parse_app};
use super::auth::Admin;
use super::body;
use crate::clock::{iso8601, now_millis};
use crate::errors::ApiError;
use crate::state::AppState;
use axum::Router;
use axum::body::Body;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use serde_json::{Value, json};
use std::collections::HashMap;
use tollgate_store::{ACTIVE, App, AppKey, AppSecret, INACTIVE};

pub const READ: &[&str] = &["okta.apps.read", "okta.apps.manage"];
pub const MANAGE: &[&str] = &["okta.apps.manage"];

/// Okta's app object. `client_secret` is shown only when just created or replaced.
pub fn app_json(state: &AppState, app: &App, keys: &[AppKey], secret: Option<&str>) -> Value {
    let base = format!("{}/api/v1/apps/{}", state.issuer, app.id);
    let extra = |f: &str, d: Value| app.extra.get(f).cloned().unwrap_or(d);
    let mut oauth_client = json!({
        "autoKeyRotation": extra("autoKeyRotation", json!(true)),
        "client_id": app.client_id,
        "token_endpoint_auth_method": app.auth_method,
        "pkce_required": false,
    });
    if let (Some(s), Some(map)) = (secret, oauth_client.as_object_mut()) {
        map.insert("client_secret".into(), json!(s));
    }
    let mut settings = json!({
        "application_type": app.application_type,
        "grant_types": app.grant_types,
        "response_types": extra("response_types", json!(["token"])),
        "redirect_uris": extra("redirect_uris", json!([])),
        "dpop_bound_access_tokens": app.dpop_bound,
        "wildcard_redirect": "DISABLED",
        "issuer_mode": "ORG_URL",
        "consent_method": extra("consent_method", json!("TRUSTED")),
    });
    if let Some(map) = settings.as_object_mut() {
        if let Some(uri) = &app.jwks_uri {
            map.insert("jwks_uri".into(), json!(uri));
        } else if !keys.is_empty() {
            let jwks: Vec<Value> = keys.iter().map(super::app_keys::key_json_bare).collect();
            map.insert("jwks".into(), json!({ "keys": jwks }));
        }
    }
    let lifecycle = if app.status == ACTIVE { "deactivate" } else { "activate" };
    json!({
        "id": app.id,
        "name": "oidc_client",
        "label": app.name,
        "status": app.status,
        "created": iso8601(app.created),
        "lastUpdated": iso8601(app.last_updated),
        "signOnMode": "OPENID_CONNECT",
        "credentials": { "oauthClient": oauth_client },
        "settings": { "oauthClient": settings },
        "_links": {
            "self": { "href": base },
            lifecycle: { "href": format!("{base}/lifecycle/{lifecycle}") },
            "users": { "href": format!("{base}/users") },
            "groups": { "href": format!("{base}/groups") },
            "appLinks": [],
        },
    })
}

/// The app with this id, or 404 E0000007 (App).
pub async fn find_app(state: &AppState, id: &str) -> Result<App, ApiError> {
    state.store.app(id).await?.ok_or_else(|| ApiError::not_found(id, "App"))
}

/// Reloads the app's cache entry (and forgets a fetched `jwks_uri`), after any change.
pub async fn refresh(state: &AppState, client_id: &str) -> Result<(), ApiError> {
    state.remote_jwks.forget(client_id);
    state.clients.reload(state.store.as_ref(), client_id).await?;
    Ok(())
}

fn new_secret_row(state: &AppState, app_id: &str, plain: &str, now: i64) -> AppSecret {
    AppSecret {
        id: crate::ids::new_id("ocs"),
        app_id: app_id.to_string(),
        secret_hash: state.hasher.hash(plain),
        status: ACTIVE.into(),
        created: now,
        last_updated: now,
    }
}

async fn create(
    State(state): State<AppState>,
    admin: Admin,
    Query(q): Query<HashMap<String, String>>,
    body: Body,
) -> Result<Response, ApiError> {
    admin.require(&state, MANAGE)?;
    let map = body::read_object(body, state.config.max_body_bytes).await?;
    let id = crate::ids::new_id("0oa");
    let now = now_millis();
    let input: AppInput = crate::outbound::checked_app(&state, parse_app(&map, &id, now)?)?;
    let client_id = input.client_id.clone().unwrap_or_else(|| id.clone());
    if state.store.app_by_client_id(&client_id).await?.is_some() {
        return Err(ApiError::validation(
            "client_id",
            vec!["client_id: An object with this field already exists in the current organization".into()],
        ));
    }
    let activate = q.get("activate").is_none_or(|v| v != "false");
    let secret =
        input.wants_secret().then(|| input.client_secret.clone().unwrap_or_else(crate::secrets::new_client_secret));
    let app = App {
        id: id.clone(),
        client_id,
        name: input.label,
        status: if activate { ACTIVE } else { INACTIVE }.into(),
        application_type: "service".into(),
        auth_method: input.auth_method,
        grant_types: input.grant_types,
        jwks_uri: input.jwks_uri,
        dpop_bound: input.dpop_bound,
        extra: input.extra,
        created: now,
        last_updated: now,
    };
    let secrets: Vec<AppSecret> = secret.iter().map(|s| new_secret_row(&state, &id, s, now)).collect();
    state.store.insert_app(&app, &input.keys, &secrets).await?;
    refresh(&state, &app.client_id).await?;
    tracing::info!(app = %app.id, client_id = %app.client_id, method = %app.auth_method, "app created");
    Ok(axum::Json(app_json(&state, &app, &input.keys, secret.as_deref())).into_response())
}

async fn get_one(State(state): State<AppState>, admin: Admin, Path(id): Path<String>) -> Result<Response, ApiError> {
    admin.require(&state, READ)?;
    let app = find_app(&state, &id).await?;
    let keys = state.store.app_keys(&app.id).await?;
    Ok(axum::Json(app_json(&state, &app, &keys, None)).into_response())
}

/// The `filter` values understood: `status eq "ACTIVE"` / `"INACTIVE"`.
fn status_filter(filter: Option<&String>) -> Result<Option<String>, ApiError> {
    let Some(f) = filter.map(|f| f.trim()).filter(|f| !f.is_empty()) else {
        return Ok(None);
    };
    let invalid = || ApiError::new(StatusCode::BAD_REQUEST, "E0000031", "Invalid search criteria.");
    let rest = f.strip_prefix("status").ok_or_else(invalid)?.trim_start();
    let value = rest.strip_prefix("eq").ok_or_else(invalid)?.trim();
    let value = value.strip_prefix('"').and_then(|v| v.strip_suffix('"')).ok_or_else(invalid)?;
    if value != ACTIVE && value != INACTIVE {
        return Err(invalid());
    }
    Ok(Some(value.to_string()))
}

/// Up to `limit` apps matching `wanted`, in id order after the cursor `after`, and whether more follow.
pub async fn page_of_apps(
    state: &AppState,
    after: Option<&str>,
    limit: u32,
    wanted: impl Fn(&App) -> bool,
) -> Result<(Vec<App>, bool), ApiError> {
    // Scan in id order from the cursor, keeping matches, until one more than a page is found.
    let mut page = Vec::new();
    let mut cursor = after.map(str::to_string);
    let mut more = false;
    loop {
        let batch = state.store.apps(cursor.as_deref(), 200).await?;
        let done = batch.len() < 200;
        cursor = batch.last().map(|a| a.id.clone());
        for app in batch.into_iter().filter(|a| wanted(a)) {
            if page.len() == limit as usize {
                more = true;
                break;
            }
            page.push(app);
        }
        if more || done {
            break;
        }
    }
    Ok((page, more))
}

async fn list(
    State(state): State<AppState>,
    admin: Admin,
    Query(q): Query<HashMap<String, String>>,
) -> Result<Response, ApiError> {
    admin.require(&state, READ)?;
    let (after, limit) = body::page(q.get("after").map(String::as_str), q.get("limit").map(String::as_str), 20, 200)?;
    let status = status_filter(q.get("filter"))?;
    let prefix = q.get("q").map(|p| p.to_lowercase()).filter(|p| !p.is_empty());
    let wanted = |a: &App| {
        status.as_ref().is_none_or(|s| &a.status == s)
            && prefix.as_ref().is_none_or(|p| a.name.to_lowercase().starts_with(p.as_str()))
    };
    let (page, more) = page_of_apps(&state, after.as_deref(), limit, wanted).await?;
    let mut out = Vec::with_capacity(page.len());
    for app in &page {
        let keys = state.store.app_keys(&app.id).await?;
        out.push(app_json(&state, app, &keys, None));
    }
    let next = if more { page.last().map(|a| a.id.as_str()) } else { None };
    let mut resp = axum::Json(out).into_response();
    for (k, v) in body::link_headers(&format!("{}/api/v1/apps", state.issuer), after.as_deref(), limit, next) {
        resp.headers_mut().append(k, v);
    }
    Ok(resp)
}

/// Keeps the stored rows (ids, status) of keys that are given again unchanged; new ones get new rows.
fn merge_keys(existing: &[AppKey], given: Vec<AppKey>) -> Vec<AppKey> {
    given
        .into_iter()
        .map(|k| existing.iter().find(|e| e.kid == k.kid && e.jwk == k.jwk).cloned().unwrap_or(k))
        .collect()
}

async fn replace(
    State(state): State<AppState>,
    admin: Admin,
    Path(id): Path<String>,
    body: Body,
) -> Result<Response, ApiError> {
    admin.require(&state, MANAGE)?;
    let mut app = find_app(&state, &id).await?;
    let map = body::read_object(body, state.config.max_body_bytes).await?;
    let now = now_millis();
    let input = crate::outbound::checked_app(&state, parse_app(&map, &app.id, now)?)?;
    if input.client_id.as_ref().is_some_and(|c| c != &app.client_id) {
        return Err(ApiError::validation("client_id", vec!["client_id: The client_id cannot be changed.".into()]));
    }
    let existing_keys = state.store.app_keys(&app.id).await?;
    let existing_secrets = state.store.app_secrets(&app.id).await?;
    // Full replace: a JWKS replaces the keys, a jwks_uri (or neither) removes them, as Okta does.
    let keys = merge_keys(&existing_keys, input.keys.clone());
    let mut shown_secret = None;
    let secrets = if !input.wants_secret() {
        // Switching to key-based (or no) client auth deletes the client secrets.
        Some(Vec::new())
    } else if let Some(given) = &input.client_secret {
        shown_secret = Some(given.clone());
        Some(vec![new_secret_row(&state, &app.id, given, now)])
    } else if existing_secrets.is_empty() {
        let fresh = crate::secrets::new_client_secret();
        let row = new_secret_row(&state, &app.id, &fresh, now);
        shown_secret = Some(fresh);
        Some(vec![row])
    } else {
        None
    };
    app.name = input.label;
    app.auth_method = input.auth_method;
    app.grant_types = input.grant_types;
    app.jwks_uri = input.jwks_uri;
    app.dpop_bound = input.dpop_bound;
    app.extra = input.extra;
    app.last_updated = now;
    state.store.save_app(&app, Some(&keys), secrets.as_deref()).await?;
    refresh(&state, &app.client_id).await?;
    Ok(axum::Json(app_json(&state, &app, &keys, shown_secret.as_deref())).into_response())
}

async fn set_status(state: &AppState, id: &str, status: &str) -> Result<Response, ApiError> {
    let mut app = find_app(state, id).await?;
    if app.status != status {
        app.status = status.into();
        app.last_updated = now_millis();
        state.store.save_app(&app, None, None).await?;
        refresh(state, &app.client_id).await?;
        tracing::info!(app = %app.id, status, "app status changed");
    }
    Ok(axum::Json(json!({})).into_response())
}

async fn activate(State(state): State<AppState>, admin: Admin, Path(id): Path<String>) -> Result<Response, ApiError> {
    admin.require(&state, MANAGE)?;
    set_status(&state, &id, ACTIVE).await
}

async fn deactivate(State(state): State<AppState>, admin: Admin, Path(id): Path<String>) -> Result<Response, ApiError> {
    admin.require(&state, MANAGE)?;
    set_status(&state, &id, INACTIVE).await
}

async fn delete(State(state): State<AppState>, admin: Admin, Path(id): Path<String>) -> Result<Response, ApiError> {
    admin.require(&state, MANAGE)?;
    let app = find_app(&state, &id).await?;
    if app.status == ACTIVE {
        return Err(ApiError::new(StatusCode::FORBIDDEN, "E0000056", "Delete application forbidden.")
            .with_causes(vec!["Deactivate the application before deleting it.".into()]));
    }
    state.store.delete_app(&app.id).await?;
    refresh(&state, &app.client_id).await?;
    tracing::info!(app = %app.id, "app deleted");
    Ok(StatusCode::NO_CONTENT.into_response())
}

/// The Apps-API routes.
pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/api/v1/apps", get(list).post(create))
        .route("/api/v1/apps/{id}", get(get_one).put(replace).delete(delete))
        .route("/api/v1/apps/{id}/lifecycle/activate", post(activate))
        .route("/api/v1/apps/{id}/lifecycle/deactivate", post(deactivate))
}
