//! `GET /api/v2/apps` and `GET /api/v2/apps/{id}`: tollgate's apps in the Access Gateway admin API's
//! camelCase shape, for clients written against OAG. Read-only; Bearer tokens with `okta.oag.app.read` or
//! `okta.oag.app.manage` only (OAG has no API tokens, so an `SSWS` token is an unknown scheme here).
//!
//! Mapping from tollgate's app (the `/api/v1/apps` record): `id`, `label` and `status` as they are;
//! `type` is `OAG_OIDC` (every tollgate app is an OIDC client); `oidc` carries the client's settings under
//! OAG's names; `_embedded` is empty, as OAG sends it without `expand`.
use crate::clock::iso8601;
use crate::errors::ApiError;
use crate::mgmt::auth::{Admin, Principal};
use crate::mgmt::authz::Permission;
use crate::mgmt::paging::Page;
use crate::state::AppState;
use axum::Router;
use axum::extract::{Path, Query, State};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use serde_json::{Value, json};
use std::collections::HashMap;
use tollgate_store::App;

/// A page holds every app unless there are more than this (OAG's list has no paging; ours does, with
/// Okta's `after`/`limit` and `Link` headers).
const DEFAULT_LIMIT: u32 = 200;

/// One app in OAG's shape.
fn oag_app_json(app: &App) -> Value {
    let extra = |f: &str, d: Value| app.extra.get(f).cloned().unwrap_or(d);
    let mut oidc = json!({
        "applicationType": app.application_type,
        "clientId": app.client_id,
        "grantTypes": app.grant_types,
        "responseTypes": extra("response_types", json!(["token"])),
        "redirectUris": extra("redirect_uris", json!([])),
        "tokenEndpointAuthMethod": app.auth_method,
        "clientCredentialsEnabled": app.grant_types.iter().any(|g| g == "client_credentials"),
        "pkceRequired": false,
        "dpopBoundAccessTokens": app.dpop_bound,
    });
    if let (Some(uri), Some(map)) = (&app.jwks_uri, oidc.as_object_mut()) {
        map.insert("jwksUri".into(), json!(uri));
    }
    json!({
        "id": app.id,
        "type": "OAG_OIDC",
        "label": app.name,
        "status": app.status,
        "created": iso8601(app.created),
        "lastUpdated": iso8601(app.last_updated),
        "oidc": oidc,
        "_embedded": {},
    })
}

/// Bearer callers holding one of `scopes`; anything else is refused as the management API refuses it.
fn allow(state: &AppState, admin: &Admin) -> Result<(), ApiError> {
    if matches!(admin.principal, Principal::ApiToken { .. } | Principal::User { .. }) {
        return Err(ApiError::invalid_session());
    }
    admin.require(state, Permission::OagRead)
}

async fn list(
    State(state): State<AppState>,
    admin: Admin,
    Query(q): Query<HashMap<String, String>>,
) -> Result<Response, ApiError> {
    allow(&state, &admin)?;
    let page = Page::from_query(&q, DEFAULT_LIMIT, DEFAULT_LIMIT)?;
    let apps = page.fill(state.store.as_ref(), |_: &App| true).await?;
    let out: Vec<Value> = apps.items.iter().map(oag_app_json).collect();
    Ok(page.respond(&format!("{}/api/v2/apps", state.issuer), out, apps.next.as_deref()))
}

async fn get_one(State(state): State<AppState>, admin: Admin, Path(id): Path<String>) -> Result<Response, ApiError> {
    allow(&state, &admin)?;
    let app = super::find_app(&state, &id).await?;
    Ok(axum::Json(oag_app_json(&app)).into_response())
}

/// The Access Gateway's app routes.
pub(super) fn routes() -> Router<AppState> {
    Router::new().route("/api/v2/apps", get(list)).route("/api/v2/apps/{id}", get(get_one))
}
