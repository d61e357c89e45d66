//! `/api/v1/users`: the example protected resource, in Okta's user shape. Reading needs
//! `okta.users.read` (or `.manage`); changing needs `okta.users.manage`. Lists scan in id order and
//! filter in memory (see [`search`]); fine for the example resource's sizes.
mod search;

use crate::clock::{iso8601, iso8601_opt, now_millis};
use crate::errors::ApiError;
use crate::mgmt::auth::Admin;
use crate::mgmt::body::{self, JsonObject};
use crate::mgmt::paging::Page;
use crate::state::AppState;
use axum::Router;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use serde_json::{Map, Value, json};
use std::collections::HashMap;
use tollgate_store::User;

const READ: &[&str] = &["okta.users.read", "okta.users.manage"];
const MANAGE: &[&str] = &["okta.users.manage"];

/// Okta's user object.
fn user_json(state: &AppState, u: &User) -> Value {
    let mut profile = u.profile.clone();
    for field in ["firstName", "lastName", "mobilePhone", "secondEmail", "email"] {
        profile.entry(field).or_insert(Value::Null);
    }
    profile.insert("login".into(), json!(u.login));
    json!({
        "id": u.id,
        "status": u.status,
        "created": iso8601(u.created),
        "activated": iso8601_opt(u.activated),
        "statusChanged": iso8601_opt(u.status_changed),
        "lastLogin": iso8601_opt(u.last_login),
        "lastUpdated": iso8601(u.last_updated),
        "passwordChanged": iso8601_opt(u.password_changed),
        "type": { "id": "oty00000000000000000" },
        "profile": profile,
        "credentials": { "password": {}, "provider": { "type": "OKTA", "name": "OKTA" } },
        "_links": { "self": { "href": format!("{}/api/v1/users/{}", state.issuer, u.id) } },
    })
}

async fn list(
    State(state): State<AppState>,
    admin: Admin,
    Query(q): Query<HashMap<String, String>>,
) -> Result<Response, ApiError> {
    admin.require(&state, READ)?;
    let query = search::UserQuery::from_params(&q)?;
    let default_limit = if query.is_q() { 10 } else { 200 };
    let page = Page::from_query(&q, default_limit, 200)?;
    let users = page.fill(state.store.as_ref(), |u| query.matches(u)).await?;
    let body: Vec<Value> = users.items.iter().map(|u| user_json(&state, u)).collect();
    Ok(page.respond(&format!("{}/api/v1/users", state.issuer), body, users.next.as_deref()))
}

async fn get_one(State(state): State<AppState>, admin: Admin, Path(id): Path<String>) -> Result<Response, ApiError> {
    admin.require(&state, READ)?;
    let user = state.store.user(&id).await?.ok_or_else(|| ApiError::not_found(&id, "User"))?;
    Ok(axum::Json(user_json(&state, &user)).into_response())
}

fn looks_like_email(s: &str) -> bool {
    matches!(s.split_once('@'), Some((local, domain)) if !local.is_empty() && domain.contains('.') && !domain.starts_with('.') && !domain.ends_with('.') && !s.contains(char::is_whitespace))
}

async fn create(
    State(state): State<AppState>,
    admin: Admin,
    Query(q): Query<HashMap<String, String>>,
    body: JsonObject,
) -> Result<Response, ApiError> {
    admin.require(&state, MANAGE)?;
    let map = body.object()?;
    let profile: Map<String, Value> = match map.get("profile") {
        Some(Value::Object(p)) => p.clone(),
        _ => return Err(ApiError::validation("User", vec!["profile: The field cannot be left blank".into()])),
    };
    let login = check_profile(&state, &profile, None).await?;
    let activate = q.get("activate").is_none_or(|v| v != "false");
    let now = now_millis();
    let user = User {
        id: crate::ids::new_id("00u"),
        login,
        status: if activate { "ACTIVE" } else { "STAGED" }.into(),
        profile,
        created: now,
        activated: activate.then_some(now),
        status_changed: activate.then_some(now),
        last_login: None,
        last_updated: now,
        password_changed: None,
    };
    state.store.insert_user(&user).await?;
    Ok(axum::Json(user_json(&state, &user)).into_response())
}

/// Validates a profile (login present and email-shaped, email well-formed, login not taken by another
/// user); returns the login.
async fn check_profile(
    state: &AppState,
    profile: &Map<String, Value>,
    own_id: Option<&str>,
) -> Result<String, ApiError> {
    let login = body::required_str(profile, "User", "login")?.to_string();
    let mut causes = Vec::new();
    if !looks_like_email(&login) {
        causes.push("login: Username must be in the form of an email address".to_string());
    }
    match profile.get("email") {
        None | Some(Value::Null) => {}
        Some(Value::String(email)) if looks_like_email(email) => {}
        Some(_) => causes.push("email: Does not match required pattern".to_string()),
    }
    if !causes.is_empty() {
        return Err(ApiError::validation("login", causes));
    }
    if let Some(other) = state.store.user(&login).await?
        && Some(other.id.as_str()) != own_id
    {
        return Err(ApiError::validation(
            "login",
            vec!["login: An object with this field already exists in the current organization".into()],
        ));
    }
    Ok(login)
}

async fn find_user(state: &AppState, id: &str) -> Result<User, ApiError> {
    state.store.user(id).await?.ok_or_else(|| ApiError::not_found(id, "User"))
}

/// `POST /api/v1/users/{id}` merges the given profile members; `PUT` replaces the profile.
async fn update(state: &AppState, id: &str, body: JsonObject, merge: bool) -> Result<Response, ApiError> {
    let mut user = find_user(state, id).await?;
    let map = body.object()?;
    let given: Map<String, Value> = match map.get("profile") {
        Some(Value::Object(p)) => p.clone(),
        None if merge => Map::new(),
        Some(_) => return Err(ApiError::validation("User", vec!["profile: The field must be an object".into()])),
        None => return Err(ApiError::validation("User", vec!["profile: The field cannot be left blank".into()])),
    };
    let mut profile = if merge { user.profile.clone() } else { Map::new() };
    if merge {
        profile.insert("login".into(), json!(user.login));
    }
    for (k, v) in given {
        profile.insert(k, v);
    }
    user.login = check_profile(state, &profile, Some(&user.id)).await?;
    user.profile = profile;
    user.last_updated = now_millis();
    state.store.update_user(&user).await?;
    Ok(axum::Json(user_json(state, &user)).into_response())
}

async fn partial_update(
    State(state): State<AppState>,
    admin: Admin,
    Path(id): Path<String>,
    body: JsonObject,
) -> Result<Response, ApiError> {
    admin.require(&state, MANAGE)?;
    update(&state, &id, body, true).await
}

async fn full_update(
    State(state): State<AppState>,
    admin: Admin,
    Path(id): Path<String>,
    body: JsonObject,
) -> Result<Response, ApiError> {
    admin.require(&state, MANAGE)?;
    update(&state, &id, body, false).await
}

/// Okta's status transitions for the lifecycle operations.
async fn lifecycle(
    State(state): State<AppState>,
    admin: Admin,
    Path((id, op)): Path<(String, String)>,
) -> Result<Response, ApiError> {
    admin.require(&state, MANAGE)?;
    let mut user = find_user(&state, &id).await?;
    let now = now_millis();
    let not_allowed = |text: &str| ApiError::validation("User", vec![text.to_string()]);
    let next = match (op.as_str(), user.status.as_str()) {
        ("activate", "ACTIVE") => {
            return Err(ApiError::new(
                StatusCode::FORBIDDEN,
                "E0000016",
                "Activation failed because the user is already active",
            ));
        }
        ("activate", _) => {
            user.activated = Some(now);
            "ACTIVE"
        }
        ("deactivate", _) => "DEPROVISIONED",
        ("suspend", "ACTIVE") => "SUSPENDED",
        ("suspend", _) => return Err(not_allowed("Cannot suspend a user that is not active.")),
        ("unsuspend", "SUSPENDED") => "ACTIVE",
        ("unsuspend", _) => return Err(not_allowed("Cannot unsuspend a user that is not suspended.")),
        _ => return Err(ApiError::not_found(&op, "UserLifecycleOperation")),
    };
    if user.status != next {
        user.status = next.into();
        user.status_changed = Some(now);
        user.last_updated = now;
        state.store.update_user(&user).await?;
    }
    Ok(axum::Json(json!({})).into_response())
}

/// Okta deletes only DEPROVISIONED users; deleting any other user deactivates it first (a second
/// delete then removes it).
async fn delete(State(state): State<AppState>, admin: Admin, Path(id): Path<String>) -> Result<Response, ApiError> {
    admin.require(&state, MANAGE)?;
    let mut user = find_user(&state, &id).await?;
    if user.status == "DEPROVISIONED" {
        state.store.delete_user(&user.id).await?;
    } else {
        let now = now_millis();
        user.status = "DEPROVISIONED".into();
        user.status_changed = Some(now);
        user.last_updated = now;
        state.store.update_user(&user).await?;
    }
    Ok(StatusCode::NO_CONTENT.into_response())
}

/// The users routes.
pub(super) fn routes() -> Router<AppState> {
    Router::new()
        .route("/api/v1/users", get(list).post(create))
        .route("/api/v1/users/{id}", get(get_one).post(partial_update).put(full_update).delete(delete))
        .route("/api/v1/users/{id}/lifecycle/{op}", axum::routing::post(lifecycle))
}
