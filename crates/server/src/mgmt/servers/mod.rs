//! `/api/v1/authorizationServers`: custom authorization servers, by part: the server itself
//! ([`server`]: create, read, replace, delete), its scopes ([`scopes`]), its access policy ([`policies`])
//! and its signing-key rotation ([`keys`]). Every change reloads the server cache, so the token endpoint
//! applies it to the very next request.
mod keys;
mod policies;
mod scopes;
mod server;

use crate::cache::CachedServer;
use crate::errors::ApiError;
use crate::state::AppState;
use axum::Router;
use axum::routing::{delete, get, post};
use std::sync::Arc;

const READ: &[&str] = &["okta.authorizationServers.read", "okta.authorizationServers.manage"];
const MANAGE: &[&str] = &["okta.authorizationServers.manage"];

/// The server with this id, or 404 E0000007 (AuthorizationServer).
fn find(state: &AppState, id: &str) -> Result<Arc<CachedServer>, ApiError> {
    state.servers.get(id).ok_or_else(|| ApiError::not_found(id, "AuthorizationServer"))
}

/// The authorization-server routes.
pub(super) fn routes() -> Router<AppState> {
    Router::new()
        .route("/api/v1/authorizationServers", get(server::list).post(server::create))
        .route("/api/v1/authorizationServers/{id}", get(server::get_one).put(server::replace).delete(server::delete))
        .route("/api/v1/authorizationServers/{id}/policies", get(policies::list))
        .route("/api/v1/authorizationServers/{id}/policies/{policy_id}", get(policies::get_one).put(policies::replace))
        .route("/api/v1/authorizationServers/{id}/scopes", get(scopes::list).post(scopes::create))
        .route("/api/v1/authorizationServers/{id}/scopes/{scope_id}", delete(scopes::delete))
        .route("/api/v1/authorizationServers/{id}/credentials/lifecycle/keyRotate", post(keys::rotate))
}
