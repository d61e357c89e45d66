//! The management API (`/api/v1/...`, `/oauth2/v1/clients`, and the Access Gateway's read-only
//! `/api/v2/apps`), authenticated by [`auth::Admin`].
pub mod api_tokens;
pub mod app_body;
pub mod app_keys;
pub mod app_secrets;
pub mod apps;
pub mod auth;
pub mod body;
pub mod catalogue;
pub mod clients;
pub mod dpop_auth;
pub mod grants;
pub mod jwks;
pub mod oag_apps;
pub mod server_admin;
pub mod servers;
pub mod user_search;
pub mod users;

use crate::state::AppState;
use axum::Router;

/// All management routes.
pub fn routes() -> Router<AppState> {
    Router::new()
        .merge(api_tokens::routes())
        .merge(apps::routes())
        .merge(app_keys::routes())
        .merge(app_secrets::routes())
        .merge(clients::routes())
        .merge(grants::routes())
        .merge(oag_apps::routes())
        .merge(servers::routes())
        .merge(users::routes())
}
