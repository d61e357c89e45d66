//! `/api/v1/apps` and `/api/v1/apps/{id}`: OIDC service apps in Okta's Apps-API shape (see [`super`]).
use super::input::{AppInput, parse_app};
use super::{find_app, refresh};
use crate::clock::{iso8601, now_millis};
use crate::errors::ApiError;
use crate::mgmt::auth::Admin;
use crate::mgmt::authz::Permission;
use crate::mgmt::body::{JsonObject, no_store};
use crate::mgmt::paging::Page;
use crate::state::AppState;
use axum::Router;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use serde_json::{Value, json};
use std::collections::HashMap;
use tollgate_store::{ACTIVE, App, AppKey, AppSecret, INACTIVE};

/// Okta's app object. `client_secret` is shown only when just created or replaced.
fn app_json(state: &AppState, app: &App, keys: &[AppKey], secret: Option<&str>) -> Value {
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
            let jwks: Vec<Value> = keys.iter().map(super::keys::key_json_bare).collect();
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
        "profile": extra("profile", json!({})),
        "credentials": { "oauthClient": oauth_client },
        "settings": app_settings(app, settings),
        "_links": {
            "self": { "href": base },
            lifecycle: { "href": format!("{base}/lifecycle/{lifecycle}") },
            "users": { "href": format!("{base}/users") },
            "groups": { "href": format!("{base}/groups") },
            "appLinks": [],
        },
    })
}

/// `settings`: Okta's `oauthClient`, and tollgate's extension (`tollgate`: rate-limit share, token quotas)
/// when the app set it.
fn app_settings(app: &App, oauth_client: Value) -> Value {
    let mut out = json!({ "oauthClient": oauth_client });
    if let (Some(ours), Some(map)) = (app.extra.get(crate::ratelimit::EXTRA_KEY), out.as_object_mut()) {
        map.insert(crate::ratelimit::EXTRA_KEY.into(), ours.clone());
    }
    out
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
    body: JsonObject,
) -> Result<Response, ApiError> {
    admin.require(&state, Permission::AppsManage)?;
    let map = body.object()?;
    let id = crate::ids::new_id("0oa");
    let now = now_millis();
    let mut input: AppInput = checked(&state, parse_app(&map, &id, now)?)?;
    input.apply_tollgate(None);
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
        token_generation: 0,
    };
    let secrets: Vec<AppSecret> = secret.iter().map(|s| new_secret_row(&state, &id, s, now)).collect();
    state.store.insert_app(&app, &input.keys, &secrets).await?;
    refresh(&state, &app.client_id).await?;
    tracing::info!(app = %app.id, client_id = %app.client_id, method = %app.auth_method, "app created");
    let answer = axum::Json(app_json(&state, &app, &input.keys, secret.as_deref()));
    Ok(if secret.is_some() { no_store(answer) } else { answer.into_response() })
}

async fn get_one(State(state): State<AppState>, admin: Admin, Path(id): Path<String>) -> Result<Response, ApiError> {
    admin.require(&state, Permission::AppsRead)?;
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

async fn list(
    State(state): State<AppState>,
    admin: Admin,
    Query(q): Query<HashMap<String, String>>,
) -> Result<Response, ApiError> {
    admin.require(&state, Permission::AppsRead)?;
    let page = Page::from_query(&q, 20, 200)?;
    let status = status_filter(q.get("filter"))?;
    let prefix = q.get("q").map(|p| p.to_lowercase()).filter(|p| !p.is_empty());
    let wanted = |a: &App| {
        status.as_ref().is_none_or(|s| &a.status == s)
            && prefix.as_ref().is_none_or(|p| a.name.to_lowercase().starts_with(p.as_str()))
    };
    let apps = page.fill(state.store.as_ref(), wanted).await?;
    let mut out = Vec::with_capacity(apps.items.len());
    for app in &apps.items {
        let keys = state.store.app_keys(&app.id).await?;
        out.push(app_json(&state, app, &keys, None));
    }
    Ok(page.respond(&format!("{}/api/v1/apps", state.issuer), out, apps.next.as_deref()))
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
    body: JsonObject,
) -> Result<Response, ApiError> {
    admin.require(&state, Permission::AppsManage)?;
    let mut app = find_app(&state, &id).await?;
    let map = body.object()?;
    let now = now_millis();
    let mut input = checked(&state, parse_app(&map, &app.id, now)?)?;
    input.apply_tollgate(Some(&app.extra));
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
    let change = super::CredentialChange {
        keys: &keys,
        existing_keys: &existing_keys,
        jwks_uri: &input.jwks_uri,
        auth_method: &input.auth_method,
        secrets: secrets.as_deref(),
        existing_secrets: &existing_secrets,
    };
    if change.changes(&app) {
        admin.require_super_admin_for_app(&state, &app).await?;
    }
    app.name = input.label;
    app.auth_method = input.auth_method;
    app.grant_types = input.grant_types;
    app.jwks_uri = input.jwks_uri;
    app.dpop_bound = input.dpop_bound;
    app.extra = input.extra;
    app.last_updated = now;
    state.store.save_app(&app, Some(&keys), secrets.as_deref()).await?;
    refresh(&state, &app.client_id).await?;
    let answer = axum::Json(app_json(&state, &app, &keys, shown_secret.as_deref()));
    Ok(if shown_secret.is_some() { no_store(answer) } else { answer.into_response() })
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
    admin.require(&state, Permission::AppsManage)?;
    set_status(&state, &id, ACTIVE).await
}

async fn deactivate(State(state): State<AppState>, admin: Admin, Path(id): Path<String>) -> Result<Response, ApiError> {
    admin.require(&state, Permission::AppsManage)?;
    set_status(&state, &id, INACTIVE).await
}

async fn delete(State(state): State<AppState>, admin: Admin, Path(id): Path<String>) -> Result<Response, ApiError> {
    admin.require(&state, Permission::AppsManage)?;
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
pub(super) fn routes() -> Router<AppState> {
    Router::new()
        .route("/api/v1/apps", get(list).post(create))
        .route("/api/v1/apps/{id}", get(get_one).put(replace).delete(delete))
        .route("/api/v1/apps/{id}/lifecycle/activate", post(activate))
        .route("/api/v1/apps/{id}/lifecycle/deactivate", post(deactivate))
}

/// An Apps-API body whose `jwks_uri` passes the outbound policy; else 400 `E0000001`.
fn checked(state: &AppState, input: AppInput) -> Result<AppInput, ApiError> {
    crate::mgmt::outbound::jwks_uri_refusal(state, input.jwks_uri.as_deref())
        .map_err(|cause| ApiError::validation("jwks_uri", vec![cause]))?;
    Ok(input)
}
