//! Dynamic Client Registration, Okta's shape: `POST/GET /oauth2/v1/clients`, `GET/DELETE
//! /oauth2/v1/clients/{clientId}`. The client and its Apps-API app are one record (`client_id` = app id).
//! Validation errors are OAuth-style (`invalid_client_metadata`), as Okta's DCR answers them; the rest
//! (authentication, scopes, bodies, the store) are the management API's, so a handler's error is a
//! [`DcrError`], one or the other.
use super::auth::Admin;
use super::authz::Permission;
use super::body::{JsonObject, no_store};
use super::paging::Page;
use crate::clock::now_millis;
use crate::errors::{ApiError, OAuthError};
use crate::state::AppState;
use axum::Router;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use serde_json::{Map, Value, json};
use std::collections::HashMap;
use tollgate_store::{ACTIVE, App, AppKey, AppSecret};

const AUTH_METHODS: [&str; 4] = ["client_secret_basic", "client_secret_post", "private_key_jwt", "none"];

/// Why a service app may not register `token_endpoint_auth_method: none`.
const SERVICE_NONE: &str = "token_endpoint_auth_method: 'none' can't be used by a service application, which must \
     authenticate to get tokens; use private_key_jwt, client_secret_basic or client_secret_post";

fn metadata_error(text: impl Into<String>) -> OAuthError {
    OAuthError::new(StatusCode::BAD_REQUEST, "invalid_client_metadata", text.into())
}

fn str_list(map: &Map<String, Value>, field: &str, default: &[&str]) -> Result<Vec<String>, OAuthError> {
    match map.get(field) {
        None | Some(Value::Null) => Ok(default.iter().map(|s| s.to_string()).collect()),
        Some(Value::Array(items)) => items
            .iter()
            .map(|i| {
                i.as_str()
                    .map(str::to_string)
                    .ok_or_else(|| metadata_error(format!("{field}: must be an array of strings")))
            })
            .collect(),
        Some(_) => Err(metadata_error(format!("{field}: must be an array of strings"))),
    }
}

/// A validated registration: the app row, its keys, and a new secret (plain text, shown once) if any.
struct Registration {
    app: App,
    keys: Vec<AppKey>,
    secret: Option<String>,
}

/// Validates a DCR body into a new app.
fn register(map: &Map<String, Value>, now: i64) -> Result<Registration, OAuthError> {
    let name = match map.get("client_name") {
        Some(Value::String(s)) if !s.trim().is_empty() => s.clone(),
        _ => return Err(metadata_error("client_name: The field cannot be left blank")),
    };
    let application_type = match map.get("application_type") {
        None | Some(Value::Null) => "web".to_string(),
        Some(Value::String(t)) if ["web", "native", "browser", "service"].contains(&t.as_str()) => t.clone(),
        Some(_) => return Err(metadata_error("application_type: must be one of web, native, browser, service")),
    };
    let service = application_type == "service";
    let auth_method = match map.get("token_endpoint_auth_method") {
        None | Some(Value::Null) => "client_secret_basic".to_string(),
        Some(Value::String(m)) if AUTH_METHODS.contains(&m.as_str()) => m.clone(),
        Some(other) => {
            return Err(metadata_error(format!(
                "token_endpoint_auth_method: unsupported value {other}; use one of {}",
                AUTH_METHODS.join(", ")
            )));
        }
    };
    // A service app gets tokens only by authenticating: with `none` it could never get one.
    if service && auth_method == "none" {
        return Err(metadata_error(SERVICE_NONE));
    }
    let grant_types =
        str_list(map, "grant_types", if service { &["client_credentials"] } else { &["authorization_code"] })?;
    if service && grant_types.iter().any(|g| g != "client_credentials") {
        return Err(metadata_error("grant_types: service applications may only use client_credentials"));
    }
    let response_types = str_list(map, "response_types", if service { &["token"] } else { &["code"] })?;
    let redirect_uris = str_list(map, "redirect_uris", &[])?;
    let id = crate::ids::new_id("0oa");
    let jwks_uri = match map.get("jwks_uri") {
        None | Some(Value::Null) => None,
        Some(Value::String(u)) => {
            let parsed = url::Url::parse(u).map_err(|_| metadata_error("jwks_uri: must be an absolute URL"))?;
            if !matches!(parsed.scheme(), "https" | "http") {
                return Err(metadata_error("jwks_uri: must be an http(s) URL"));
            }
            Some(u.clone())
        }
        Some(_) => return Err(metadata_error("jwks_uri: must be a string")),
    };
    let keys = match map.get("jwks") {
        None | Some(Value::Null) => Vec::new(),
        Some(jwks) => crate::mgmt::jwks::app_keys_from_jwks(jwks, &id, now).map_err(metadata_error)?,
    };
    if jwks_uri.is_some() && !keys.is_empty() {
        return Err(metadata_error("jwks: 'jwks' and 'jwks_uri' cannot both be set"));
    }
    if auth_method == "private_key_jwt" && jwks_uri.is_none() && keys.is_empty() {
        return Err(metadata_error("jwks: a private_key_jwt client needs 'jwks' or 'jwks_uri'"));
    }
    let dpop_bound = match map.get("dpop_bound_access_tokens") {
        None | Some(Value::Null) => false,
        Some(Value::Bool(b)) => *b,
        Some(_) => return Err(metadata_error("dpop_bound_access_tokens: must be a boolean")),
    };
    let secret = auth_method.starts_with("client_secret").then(crate::secrets::new_client_secret);
    let mut extra = Map::new();
    extra.insert("response_types".into(), json!(response_types));
    extra.insert("redirect_uris".into(), json!(redirect_uris));
    for field in ["client_uri", "logo_uri", "policy_uri", "tos_uri"] {
        if let Some(Value::String(v)) = map.get(field) {
            extra.insert(field.into(), json!(v));
        }
    }
    let app = App {
        client_id: id.clone(),
        id,
        name,
        status: ACTIVE.into(),
        application_type,
        auth_method,
        grant_types,
        jwks_uri,
        dpop_bound,
        extra,
        created: now,
        last_updated: now,
        token_generation: 0,
    };
    Ok(Registration { app, keys, secret })
}

/// The DCR representation of an app.
fn client_json(app: &App, keys: &[AppKey], secret: Option<&str>) -> Value {
    let extra = |f: &str| app.extra.get(f).cloned().unwrap_or(Value::Null);
    let mut v = json!({
        "client_id": app.client_id,
        "client_id_issued_at": app.created / 1000,
        "client_name": app.name,
        "client_uri": extra("client_uri"),
        "logo_uri": extra("logo_uri"),
        "redirect_uris": app.extra.get("redirect_uris").cloned().unwrap_or(json!([])),
        "response_types": app.extra.get("response_types").cloned().unwrap_or(json!([])),
        "grant_types": app.grant_types,
        "token_endpoint_auth_method": app.auth_method,
        "application_type": app.application_type,
        "dpop_bound_access_tokens": app.dpop_bound,
    });
    if let Some(map) = v.as_object_mut() {
        if let Some(uri) = &app.jwks_uri {
            map.insert("jwks_uri".into(), json!(uri));
        } else if !keys.is_empty() {
            map.insert(
                "jwks".into(),
                json!({ "keys": keys.iter().map(crate::mgmt::jwks::echo_jwk).collect::<Vec<_>>() }),
            );
        }
        if let Some(s) = secret {
            map.insert("client_secret".into(), json!(s));
            map.insert("client_secret_expires_at".into(), json!(0));
        }
    }
    v
}

/// What a DCR handler answers when it refuses: Okta's OAuth error shape for client metadata and unknown
/// clients, its management-API shape for everything else.
#[derive(Debug)]
enum DcrError {
    OAuth(OAuthError),
    Api(ApiError),
}

impl From<OAuthError> for DcrError {
    fn from(e: OAuthError) -> Self {
        DcrError::OAuth(e)
    }
}

impl From<ApiError> for DcrError {
    fn from(e: ApiError) -> Self {
        DcrError::Api(e)
    }
}

impl From<tollgate_store::StoreError> for DcrError {
    fn from(e: tollgate_store::StoreError) -> Self {
        DcrError::Api(e.into())
    }
}

impl IntoResponse for DcrError {
    fn into_response(self) -> Response {
        match self {
            DcrError::OAuth(e) => e.into_response(),
            DcrError::Api(e) => e.into_response(),
        }
    }
}

fn secret_row(state: &AppState, app_id: &str, plain: &str, now: i64) -> AppSecret {
    AppSecret {
        id: crate::ids::new_id("ocs"),
        app_id: app_id.to_string(),
        secret_hash: state.hasher.hash(plain),
        status: ACTIVE.into(),
        created: now,
        last_updated: now,
    }
}

/// The client with this id, or Okta's 401 `invalid_client`.
async fn find_client(state: &AppState, client_id: &str) -> Result<App, DcrError> {
    let app = state.store.app_by_client_id(client_id).await?;
    app.ok_or_else(|| OAuthError::invalid_client("Invalid value for 'client_id' parameter.").into())
}

async fn create(State(state): State<AppState>, admin: Admin, body: JsonObject) -> Result<Response, DcrError> {
    admin.require(&state, Permission::ClientsRegister)?;
    let map = body.object()?;
    let reg = checked(&state, register(&map, now_millis())?)?;
    let secrets: Vec<AppSecret> =
        reg.secret.iter().map(|s| secret_row(&state, &reg.app.id, s, reg.app.created)).collect();
    state.store.insert_app(&reg.app, &reg.keys, &secrets).await?;
    state.clients.reload(state.store.as_ref(), &reg.app.client_id).await?;
    tracing::info!(client_id = %reg.app.client_id, method = %reg.app.auth_method, "client registered");
    let answer = (StatusCode::CREATED, axum::Json(client_json(&reg.app, &reg.keys, reg.secret.as_deref())));
    Ok(if reg.secret.is_some() { no_store(answer) } else { answer.into_response() })
}

async fn get_one(
    State(state): State<AppState>,
    admin: Admin,
    Path(client_id): Path<String>,
) -> Result<Response, DcrError> {
    admin.require(&state, Permission::ClientsRead)?;
    let app = find_client(&state, &client_id).await?;
    let keys = state.store.app_keys(&app.id).await?;
    Ok(axum::Json(client_json(&app, &keys, None)).into_response())
}

async fn list(
    State(state): State<AppState>,
    admin: Admin,
    Query(q): Query<HashMap<String, String>>,
) -> Result<Response, DcrError> {
    admin.require(&state, Permission::ClientsRead)?;
    let page = Page::from_query(&q, 20, 200)?;
    let apps = page.fill(state.store.as_ref(), |_: &App| true).await?;
    let mut out = Vec::with_capacity(apps.items.len());
    for app in &apps.items {
        let keys = state.store.app_keys(&app.id).await?;
        out.push(client_json(app, &keys, None));
    }
    Ok(page.respond(&format!("{}/oauth2/v1/clients", state.issuer), out, apps.next.as_deref()))
}

async fn delete(
    State(state): State<AppState>,
    admin: Admin,
    Path(client_id): Path<String>,
) -> Result<Response, DcrError> {
    admin.require(&state, Permission::ClientsManage)?;
    let app = find_client(&state, &client_id).await?;
    state.store.delete_app(&app.id).await?;
    state.remote_jwks.forget(&client_id);
    state.clients.reload(state.store.as_ref(), &client_id).await?;
    Ok(StatusCode::NO_CONTENT.into_response())
}

/// `PUT /oauth2/v1/clients/{clientId}`: full replace (a missing `client_name` is refused as Okta does).
/// The id, creation time, status and `application_type` stay; keys given again unchanged keep their rows.
async fn replace(
    State(state): State<AppState>,
    admin: Admin,
    Path(client_id): Path<String>,
    body: JsonObject,
) -> Result<Response, DcrError> {
    admin.require(&state, Permission::ClientsManage)?;
    let map = body.object()?;
    let old = find_client(&state, &client_id).await?;
    let now = now_millis();
    let reg = checked(&state, register(&map, now)?)?;
    if map.contains_key("application_type") && reg.app.application_type != old.application_type {
        return Err(metadata_error("application_type: The field cannot be changed after creation").into());
    }
    let existing_keys = state.store.app_keys(&old.id).await?;
    let keys: Vec<AppKey> = reg
        .keys
        .into_iter()
        .map(|mut k| {
            k.app_id = old.id.clone();
            existing_keys.iter().find(|e| e.kid == k.kid && e.jwk == k.jwk).cloned().unwrap_or(k)
        })
        .collect();
    let existing_secrets = state.store.app_secrets(&old.id).await?;
    let wants_secret = reg.app.auth_method.starts_with("client_secret");
    let mut shown = None;
    let secrets = if !wants_secret {
        Some(Vec::new())
    } else if existing_secrets.is_empty() {
        let fresh = crate::secrets::new_client_secret();
        let row = secret_row(&state, &old.id, &fresh, now);
        shown = Some(fresh);
        Some(vec![row])
    } else {
        None
    };
    // As for the Apps API's PUT: new credentials on an app with okta.* grants are the Super Admin's.
    let change = super::apps::CredentialChange {
        keys: &keys,
        existing_keys: &existing_keys,
        jwks_uri: &reg.app.jwks_uri,
        auth_method: &reg.app.auth_method,
        secrets: secrets.as_deref(),
        existing_secrets: &existing_secrets,
    };
    if change.changes(&old) {
        admin.require_super_admin_for_app(&state, &old).await?;
    }
    let mut app = App {
        id: old.id.clone(),
        client_id: old.client_id.clone(),
        status: old.status.clone(),
        application_type: old.application_type.clone(),
        created: old.created,
        last_updated: now,
        token_generation: old.token_generation,
        ..reg.app
    };
    // DCR has no field for tollgate's rate-limit and quota settings (set through the Apps API): kept.
    if let Some(ours) = old.extra.get(crate::ratelimit::EXTRA_KEY) {
        app.extra.insert(crate::ratelimit::EXTRA_KEY.into(), ours.clone());
    }
    state.store.save_app(&app, Some(&keys), secrets.as_deref()).await?;
    state.remote_jwks.forget(&app.client_id);
    state.clients.reload(state.store.as_ref(), &app.client_id).await?;
    let answer = axum::Json(client_json(&app, &keys, shown.as_deref()));
    Ok(if shown.is_some() { no_store(answer) } else { answer.into_response() })
}

/// `POST /oauth2/v1/clients/{clientId}/lifecycle/newSecret`: replaces the client's secrets with a new
/// one, shown in this response only. Unknown client: 404 E0000007 (PublicClientApp), as Okta answers.
async fn new_secret(
    State(state): State<AppState>,
    admin: Admin,
    Path(client_id): Path<String>,
) -> Result<Response, ApiError> {
    admin.require(&state, Permission::ClientsManage)?;
    let mut app = state
        .store
        .app_by_client_id(&client_id)
        .await?
        .ok_or_else(|| ApiError::not_found(&client_id, "PublicClientApp"))?;
    admin.require_super_admin_for_app(&state, &app).await?;
    if !app.auth_method.starts_with("client_secret") {
        return Err(ApiError::validation(
            "client_secret",
            vec![format!(
                "client_secret: A client secret can't be generated when 'token_endpoint_auth_method' is '{}'.",
                app.auth_method
            )],
        ));
    }
    let now = now_millis();
    let fresh = crate::secrets::new_client_secret();
    app.last_updated = now;
    state.store.save_app(&app, None, Some(&[secret_row(&state, &app.id, &fresh, now)])).await?;
    state.clients.reload(state.store.as_ref(), &app.client_id).await?;
    let keys = state.store.app_keys(&app.id).await?;
    tracing::info!(client_id = %app.client_id, "client secret replaced");
    Ok(no_store(axum::Json(client_json(&app, &keys, Some(&fresh)))))
}

/// The DCR routes.
pub(super) fn routes() -> Router<AppState> {
    Router::new()
        .route("/oauth2/v1/clients", get(list).post(create))
        .route("/oauth2/v1/clients/{client_id}", get(get_one).put(replace).delete(delete))
        .route("/oauth2/v1/clients/{client_id}/lifecycle/newSecret", axum::routing::post(new_secret))
}

/// A registration whose `jwks_uri` passes the outbound policy; else 400 `invalid_client_metadata`.
fn checked(state: &AppState, reg: Registration) -> Result<Registration, OAuthError> {
    super::outbound::jwks_uri_refusal(state, reg.app.jwks_uri.as_deref()).map_err(metadata_error)?;
    Ok(reg)
}
