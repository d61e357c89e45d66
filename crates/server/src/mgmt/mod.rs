//! The management API (`/api/v1/...`, `/oauth2/v1/clients`, and the Access Gateway's read-only
//! `/api/v2/apps`), by resource, authenticated by [`auth::Admin`].
//!
//! * [`apps`]: service apps and what hangs off them (keys, secrets, grants), and their OAG view.
//! * [`servers`]: custom authorization servers (the server, scopes, policy, key rotation).
//! * [`users`]: the example protected resource. [`api_tokens`]: admin API tokens.
//! * [`dcr`]: Dynamic Client Registration (`/oauth2/v1/clients`), the same records as [`apps`].
//! * [`roles`]: admin roles assigned to service apps (`/oauth2/v1/clients/{clientId}/roles`).
//! * Shared: [`auth`] and [`dpop_auth`] (who is calling), [`authz`] (permissions and roles), [`body`] (JSON bodies), [`paging`] (Okta's
//!   cursor pages), [`jwks`] (registered public keys), [`catalogue`] (the `okta.*` scopes).
mod api_tokens;
mod apps;
pub(crate) mod auth;
pub(crate) mod authz;
mod body;
pub(crate) mod catalogue;
mod dcr;
mod dpop_auth;
mod jwks;
mod outbound;
mod paging;
mod roles;
mod servers;
mod users;

use crate::state::AppState;
use axum::Router;

/// All management routes.
pub(crate) fn routes() -> Router<AppState> {
    Router::new()
        .merge(api_tokens::routes())
        .merge(apps::routes())
        .merge(dcr::routes())
        .merge(roles::routes())
        .merge(servers::routes())
        .merge(users::routes())
        .route("/api/v1/logs", axum::routing::get(crate::syslog::api::list))
}
