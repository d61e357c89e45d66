//! `/api/v1/apps/{appId}/grants`: which `okta.*` scopes a service app may be issued by the org server.
use super::find_app;
use crate::cache::normalize_issuer;
use crate::clock::{iso8601, now_millis};
use crate::errors::ApiError;
use crate::mgmt::auth::Admin;
use crate::mgmt::body::{self, JsonObject};
use crate::state::AppState;
use axum::Router;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use serde_json::{Value, json};
use tollgate_store::{ACTIVE, App, Grant};

fn grant_json(state: &AppState, app: &App, g: &Grant) -> Value {
    let base = &state.issuer;
    json!({
        "id": g.id,
        "status": g.status,
        "created": iso8601(g.created),
        "createdBy": { "id": "tollgate", "type": "ApiToken" },
        "lastUpdated": iso8601(g.last_updated),
        "issuer": g.issuer,
        "clientId": app.client_id,
        "scopeId": g.scope_id,
        "source": g.source,
        "_embedded": { "scope": { "id": g.scope_id } },
        "_links": {
            "app": { "href": format!("{base}/api/v1/apps/{}", app.id), "title": app.name },
            "self": { "href": format!("{base}/api/v1/apps/{}/grants/{}", app.id, g.id), "hints": { "allow": ["GET", "DELETE"] } },
            "client": { "href": format!("{base}/oauth2/v1/clients/{}", app.client_id), "title": app.name },
        },
    })
}

async fn create(
    State(state): State<AppState>,
    admin: Admin,
    Path(app_id): Path<String>,
    body: JsonObject,
) -> Result<Response, ApiError> {
    admin.require(&state, &["okta.appGrants.manage"])?;
    let map = body.object()?;
    let scope_id = body::required_str(&map, "OAuth2ScopeConsentGrant", "scopeId")?.to_string();
    let issuer = body::required_str(&map, "OAuth2ScopeConsentGrant", "issuer")?.to_string();
    let app = find_app(&state, &app_id).await?;
    if !crate::mgmt::catalogue::is_known(&scope_id) {
        return Err(ApiError::validation(
            "OAuth2ScopeConsentGrant",
            vec![format!("scopeId: The scope '{scope_id}' is not a valid Okta API scope.")],
        ));
    }
    if normalize_issuer(&issuer) != normalize_issuer(&state.issuer) {
        return Err(ApiError::validation(
            "OAuth2ScopeConsentGrant",
            vec![format!(
                "issuer: '{issuer}' is not the issuer of this org's authorization server ({}).",
                state.issuer
            )],
        ));
    }
    let existing = state.store.grants(&app.id).await?;
    if existing.iter().any(|g| g.scope_id == scope_id && normalize_issuer(&g.issuer) == normalize_issuer(&issuer)) {
        return Err(ApiError::validation(
            "OAuth2ScopeConsentGrant",
            vec![format!("scopeId: The scope '{scope_id}' is already granted to this app.")],
        ));
    }
    let now = now_millis();
    let grant = Grant {
        id: crate::ids::new_id("oag"),
        app_id: app.id.clone(),
        scope_id,
        issuer,
        status: ACTIVE.into(),
        source: "ADMIN".into(),
        created: now,
        last_updated: now,
    };
    state.store.insert_grant(&grant).await?;
    state.clients.reload(state.store.as_ref(), &app.client_id).await?;
    Ok((StatusCode::CREATED, axum::Json(grant_json(&state, &app, &grant))).into_response())
}

async fn list(State(state): State<AppState>, admin: Admin, Path(app_id): Path<String>) -> Result<Response, ApiError> {
    admin.require(&state, &["okta.appGrants.read", "okta.appGrants.manage"])?;
    let app = find_app(&state, &app_id).await?;
    let grants = state.store.grants(&app.id).await?;
    Ok(axum::Json(grants.iter().map(|g| grant_json(&state, &app, g)).collect::<Vec<_>>()).into_response())
}

async fn get_one(
    State(state): State<AppState>,
    admin: Admin,
    Path((app_id, grant_id)): Path<(String, String)>,
) -> Result<Response, ApiError> {
    admin.require(&state, &["okta.appGrants.read", "okta.appGrants.manage"])?;
    let app = find_app(&state, &app_id).await?;
    let grant = state
        .store
        .grant(&app.id, &grant_id)
        .await?
        .ok_or_else(|| ApiError::not_found(&grant_id, "OAuth2ScopeConsentGrant"))?;
    Ok(axum::Json(grant_json(&state, &app, &grant)).into_response())
}

async fn delete(
    State(state): State<AppState>,
    admin: Admin,
    Path((app_id, grant_id)): Path<(String, String)>,
) -> Result<Response, ApiError> {
    admin.require(&state, &["okta.appGrants.manage"])?;
    let app = find_app(&state, &app_id).await?;
    if !state.store.delete_grant(&app.id, &grant_id).await? {
        return Err(ApiError::not_found(&grant_id, "OAuth2ScopeConsentGrant"));
    }
    state.clients.reload(state.store.as_ref(), &app.client_id).await?;
    Ok(StatusCode::NO_CONTENT.into_response())
}

/// The grants routes.
pub(super) fn routes() -> Router<AppState> {
    Router::new()
        .route("/api/v1/apps/{app_id}/grants", get(list).post(create))
        .route("/api/v1/apps/{app_id}/grants/{grant_id}", get(get_one).delete(delete))
}
