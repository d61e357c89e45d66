//! Service apps (`/api/v1/apps`) and what belongs to one: its public keys, client secrets and grants;
//! and the Access Gateway's read-only view of them (`/api/v2/apps`).
//!
//! An app and its DCR client are one record (the app `id` doubles as `client_id` unless one is given),
//! so everything here shows up on `/oauth2/v1/clients` too, and every change reloads the client cache so
//! the token endpoint sees it on the very next request.
mod app;
mod grants;
mod input;
mod keys;
mod oag;
mod secrets;

use crate::errors::ApiError;
use crate::state::AppState;
use axum::Router;
use tollgate_store::App;

const READ: &[&str] = &["okta.apps.read", "okta.apps.manage"];
const MANAGE: &[&str] = &["okta.apps.manage"];

/// The app with this id, or 404 E0000007 (App).
async fn find_app(state: &AppState, id: &str) -> Result<App, ApiError> {
    state.store.app(id).await?.ok_or_else(|| ApiError::not_found(id, "App"))
}

/// Reloads the app's cache entry (and forgets a fetched `jwks_uri`), after any change.
async fn refresh(state: &AppState, client_id: &str) -> Result<(), ApiError> {
    state.remote_jwks.forget(client_id);
    state.clients.reload(state.store.as_ref(), client_id).await?;
    Ok(())
}

/// The app routes: the app itself, its keys, secrets and grants, and the OAG view.
pub(super) fn routes() -> Router<AppState> {
    Router::new()
        .merge(app::routes())
        .merge(keys::routes())
        .merge(secrets::routes())
        .merge(grants::routes())
        .merge(oag::routes())
}
