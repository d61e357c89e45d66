//! `/oauth2/v1/clients/{clientId}/roles`: Okta's standard admin roles assigned to a service app. An app
//! with roles has its access tokens bounded by them on the management API ([`super::authz`]); an app
//! without keeps scope-only access. Assigning and unassigning need a super-admin credential. Each change
//! reloads the app's cache entry, so it bites tokens already issued on their next call.
use super::auth::Admin;
use super::authz::{Permission, Role};
use super::body::JsonObject;
use crate::clock::{iso8601, now_millis};
use crate::errors::ApiError;
use crate::state::AppState;
use axum::Router;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use serde_json::{Value, json};
use tollgate_store::{ACTIVE, App, RoleAssignment, StoreError, Unique};

fn role_json(state: &AppState, app: &App, r: &RoleAssignment) -> Value {
    let label = Role::parse(&r.role_type).map_or_else(|| r.role_type.clone(), |role| role.label().to_string());
    let client = format!("{}/oauth2/v1/clients/{}", state.issuer, app.client_id);
    json!({
        "id": r.id,
        "label": label,
        "type": r.role_type,
        "status": r.status,
        "created": iso8601(r.created),
        "lastUpdated": iso8601(r.last_updated),
        "assignmentType": "CLIENT",
        "_links": {
            "assignee": { "href": client },
            "self": { "href": format!("{client}/roles/{}", r.id) },
        },
    })
}

/// The app with this client id, or 404 E0000007.
async fn find_client(state: &AppState, client_id: &str) -> Result<App, ApiError> {
    state.store.app_by_client_id(client_id).await?.ok_or_else(|| ApiError::not_found(client_id, "Client"))
}

fn invalid_type(cause: String) -> ApiError {
    ApiError::validation("type", vec![cause])
}

async fn assign(
    State(state): State<AppState>,
    admin: Admin,
    Path(client_id): Path<String>,
    body: JsonObject,
) -> Result<Response, ApiError> {
    admin.require(&state, Permission::RolesManage)?;
    admin.require_super_admin()?;
    let map = body.object()?;
    let role = match map.get("type") {
        Some(Value::String(t)) => Role::parse(t).ok_or_else(|| {
            invalid_type(format!("type: '{t}' is not a standard role type tollgate supports (custom roles are not)."))
        })?,
        Some(_) => return Err(invalid_type("type: must be a string.".into())),
        None => return Err(invalid_type("type: The role type is required.".into())),
    };
    let app = find_client(&state, &client_id).await?;
    let now = now_millis();
    let assignment = RoleAssignment {
        id: crate::ids::new_id("irb"),
        app_id: app.id.clone(),
        role_type: role.as_str().to_string(),
        status: ACTIVE.into(),
        created: now,
        last_updated: now,
    };
    match state.store.insert_role(&assignment).await {
        Ok(()) => {}
        Err(StoreError::Conflict { what: Unique::Role }) => {
            return Err(ApiError::new(StatusCode::CONFLICT, "E0000090", "Duplicate role assignment exception")
                .with_causes(vec![format!("The role {} is already assigned to this client.", role.as_str())]));
        }
        Err(e) => return Err(e.into()),
    }
    state.clients.reload(state.store.as_ref(), &app.client_id).await?;
    tracing::info!(client_id = %app.client_id, role = role.as_str(), "role assigned");
    Ok((StatusCode::CREATED, axum::Json(role_json(&state, &app, &assignment))).into_response())
}

async fn list(
    State(state): State<AppState>,
    admin: Admin,
    Path(client_id): Path<String>,
) -> Result<Response, ApiError> {
    admin.require(&state, Permission::RolesRead)?;
    let app = find_client(&state, &client_id).await?;
    let roles = state.store.roles(&app.id).await?;
    Ok(axum::Json(roles.iter().map(|r| role_json(&state, &app, r)).collect::<Vec<_>>()).into_response())
}

async fn get_one(
    State(state): State<AppState>,
    admin: Admin,
    Path((client_id, role_id)): Path<(String, String)>,
) -> Result<Response, ApiError> {
    admin.require(&state, Permission::RolesRead)?;
    let app = find_client(&state, &client_id).await?;
    let roles = state.store.roles(&app.id).await?;
    let role = roles.iter().find(|r| r.id == role_id).ok_or_else(|| ApiError::not_found(&role_id, "Role"))?;
    Ok(axum::Json(role_json(&state, &app, role)).into_response())
}

async fn unassign(
    State(state): State<AppState>,
    admin: Admin,
    Path((client_id, role_id)): Path<(String, String)>,
) -> Result<Response, ApiError> {
    admin.require(&state, Permission::RolesManage)?;
    admin.require_super_admin()?;
    let app = find_client(&state, &client_id).await?;
    if !state.store.delete_role(&app.id, &role_id).await? {
        return Err(ApiError::not_found(&role_id, "Role"));
    }
    state.clients.reload(state.store.as_ref(), &app.client_id).await?;
    tracing::info!(client_id = %app.client_id, role = %role_id, "role unassigned");
    Ok(StatusCode::NO_CONTENT.into_response())
}

/// The client role routes.
pub(super) fn routes() -> Router<AppState> {
    Router::new()
        .route("/oauth2/v1/clients/{client_id}/roles", get(list).post(assign))
        .route("/oauth2/v1/clients/{client_id}/roles/{role_id}", get(get_one).delete(unassign))
}
