//! `/api/v1/users`: the example protected resource, in Okta's user shape. Reading needs
//! `okta.users.read` (or `.manage`); creating needs `okta.users.manage`.
use super::auth::Admin;
use super::body;
use crate::clock::{iso8601, iso8601_opt, now_millis};
use crate::errors::ApiError;
use crate::state::AppState;
use axum::Router;
use axum::body::Body;
use axum::extract::{Path, Query, State};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use serde_json::{Map, Value, json};
use std::collections::HashMap;
use tollgate_store::User;

const READ: &[&str] = &["okta.users.read", "okta.users.manage"];

/// Okta's user object.
pub fn user_json(state: &AppState, u: &User) -> Value {
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
    let (after, limit) = body::page(q.get("after").map(String::as_str), q.get("limit").map(String::as_str), 200, 200)?;
    let users = state.store.users(after.as_deref(), limit + 1).await?;
    let more = users.len() > limit as usize;
    let page: Vec<&User> = users.iter().take(limit as usize).collect();
    let next = if more { page.last().map(|u| u.id.as_str()) } else { None };
    let mut resp = axum::Json(page.iter().map(|u| user_json(&state, u)).collect::<Vec<_>>()).into_response();
    for (k, v) in body::link_headers(&format!("{}/api/v1/users", state.issuer), after.as_deref(), limit, next) {
        resp.headers_mut().append(k, v);
    }
    Ok(resp)
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
    body: Body,
) -> Result<Response, ApiError> {
    admin.require(&state, &["okta.users.manage"])?;
    let map = body::read_object(body, state.config.max_body_bytes).await?;
    let profile: Map<String, Value> = match map.get("profile") {
        Some(Value::Object(p)) => p.clone(),
        _ => return Err(ApiError::validation("User", vec!["profile: The field cannot be left blank".into()])),
    };
    let login = body::required_str(&profile, "User", "login")?.to_string();
    let mut causes = Vec::new();
    if !looks_like_email(&login) {
        causes.push("login: Username must be in the form of an email address".to_string());
    }
    if let Some(email) = profile.get("email").and_then(Value::as_str)
        && !looks_like_email(email)
    {
        causes.push("email: Does not match required pattern".to_string());
    }
    if !causes.is_empty() {
        return Err(ApiError::validation("login", causes));
    }
    if state.store.user(&login).await?.is_some() {
        return Err(ApiError::validation(
            "login",
            vec!["login: An object with this field already exists in the current organization".into()],
        ));
    }
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

/// The users routes.
pub fn routes() -> Router<AppState> {
    Router::new().route("/api/v1/users", get(list).post(create)).route("/api/v1/users/{id}", get(get_one))
}
