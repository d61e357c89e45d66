//! `/api/v1/authorizationServers`: custom authorization servers, by part: the server itself
//! ([`server`]: create, read, replace, activate, deactivate, delete), its scopes ([`scopes`]), its access
//! policies and their rules ([`policies`]), its custom claims ([`claims`]) and its signing keys ([`keys`]). Every change reloads the server cache, so the token endpoint
//! applies it to the very next request.
mod claims;
mod keys;
mod policies;
mod scopes;
mod server;

use crate::cache::CachedServer;
use crate::errors::ApiError;
use crate::state::AppState;
use axum::Router;
use axum::routing::{get, post};
use std::sync::Arc;

/// The server with this id, or 404 E0000007 (AuthorizationServer).
fn find(state: &AppState, id: &str) -> Result<Arc<CachedServer>, ApiError> {
    state.servers.get(id).ok_or_else(|| ApiError::not_found(id, "AuthorizationServer"))
}

/// The authorization-server routes.
pub(super) fn routes() -> Router<AppState> {
    Router::new()
        .route("/api/v1/authorizationServers", get(server::list).post(server::create))
        .route("/api/v1/authorizationServers/{id}", get(server::get_one).put(server::replace).delete(server::delete))
        .route("/api/v1/authorizationServers/{id}/lifecycle/activate", post(server::activate))
        .route("/api/v1/authorizationServers/{id}/lifecycle/deactivate", post(server::deactivate))
        .route("/api/v1/authorizationServers/{id}/policies", get(policies::list).post(policies::create))
        .route(
            "/api/v1/authorizationServers/{id}/policies/{policy_id}",
            get(policies::get_one).put(policies::replace).delete(policies::delete),
        )
        .route("/api/v1/authorizationServers/{id}/policies/{policy_id}/lifecycle/activate", post(policies::activate))
        .route(
            "/api/v1/authorizationServers/{id}/policies/{policy_id}/lifecycle/deactivate",
            post(policies::deactivate),
        )
        .route(
            "/api/v1/authorizationServers/{id}/policies/{policy_id}/rules",
            get(policies::list_rules).post(policies::create_rule),
        )
        .route(
            "/api/v1/authorizationServers/{id}/policies/{policy_id}/rules/{rule_id}",
            get(policies::get_rule).put(policies::replace_rule).delete(policies::delete_rule),
        )
        .route(
            "/api/v1/authorizationServers/{id}/policies/{policy_id}/rules/{rule_id}/lifecycle/activate",
            post(policies::activate_rule),
        )
        .route(
            "/api/v1/authorizationServers/{id}/policies/{policy_id}/rules/{rule_id}/lifecycle/deactivate",
            post(policies::deactivate_rule),
        )
        .route("/api/v1/authorizationServers/{id}/claims", get(claims::list).post(claims::create))
        .route(
            "/api/v1/authorizationServers/{id}/claims/{claim_id}",
            get(claims::get_one).put(claims::replace).delete(claims::delete),
        )
        .route("/api/v1/authorizationServers/{id}/scopes", get(scopes::list).post(scopes::create))
        .route(
            "/api/v1/authorizationServers/{id}/scopes/{scope_id}",
            get(scopes::get_one).put(scopes::replace).delete(scopes::delete),
        )
        .route("/api/v1/authorizationServers/{id}/credentials/keys", get(keys::list))
        .route("/api/v1/authorizationServers/{id}/credentials/lifecycle/keyRotate", post(keys::rotate))
}
