//! Service apps (`/api/v1/apps`) and what belongs to one: its public keys, client secrets, federated
//! credentials and grants;
//! and the Access Gateway's read-only view of them (`/api/v2/apps`).
//!
//! An app and its DCR client are one record (the app `id` doubles as `client_id` unless one is given),
//! so everything here shows up on `/oauth2/v1/clients` too, and every change reloads the client cache so
//! the token endpoint sees it on the very next request.
mod app;
mod credential;
mod federated;
mod grants;
mod input;
mod keys;
mod oag;
mod secrets;

use crate::errors::ApiError;
use crate::state::AppState;
use axum::Router;
use tollgate_store::{App, AppKey, AppSecret};

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
        .merge(federated::routes())
        .merge(secrets::routes())
        .merge(grants::routes())
        .merge(oag::routes())
}

/// What a replace (the Apps API's or DCR's `PUT`) would change of how the app authenticates.
pub(crate) struct CredentialChange<'a> {
    pub(crate) keys: &'a [AppKey],
    pub(crate) existing_keys: &'a [AppKey],
    pub(crate) jwks_uri: &'a Option<String>,
    pub(crate) auth_method: &'a str,
    /// `None`: the secrets stay as they are.
    pub(crate) secrets: Option<&'a [AppSecret]>,
    pub(crate) existing_secrets: &'a [AppSecret],
}

impl CredentialChange<'_> {
    /// Whether keys, `jwks_uri`, auth method or secrets change. On an app with `okta.*` grants that is the
    /// Super Admin's (whoever sets them can sign as the app and get its scopes); the rest of a PUT is not.
    pub(crate) fn changes(&self, old: &App) -> bool {
        self.keys != self.existing_keys
            || &old.jwks_uri != self.jwks_uri
            || old.auth_method != self.auth_method
            || self.secrets.is_some_and(|s| !(s.is_empty() && self.existing_secrets.is_empty()))
    }
}
