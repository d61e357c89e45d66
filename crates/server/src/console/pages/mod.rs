//! The console's pages, by Okta's menu: Applications ([`apps`], with the token tester [`tester`]),
//! Security > API ([`servers`]), Directory > People ([`people`]), Reports > System Log ([`logs`]).
//!
//! A page handler takes the [`Signed`](super::session::Signed) caller, reads through
//! [`Mgmt`](super::mgmt::Mgmt), and renders a template; a form handler checks the [`Form`](super::csrf::Form)
//! (origin and CSRF token), makes the management call, and redirects back with the outcome.
pub(crate) mod apps;
pub(crate) mod logs;
pub(crate) mod people;
pub(crate) mod servers;
pub(crate) mod tester;

use crate::state::AppState;
use axum::Router;
use serde::Deserialize;

/// The one-line outcome of the last action, carried by a redirect (`?notice=` / `?error=`).
#[derive(Debug, Default, Deserialize)]
pub(crate) struct Flash {
    pub(crate) notice: Option<String>,
    pub(crate) error: Option<String>,
}

pub(super) fn routes() -> Router<AppState> {
    Router::new()
        .merge(apps::routes())
        .merge(servers::routes())
        .merge(people::routes())
        .merge(logs::routes())
        .merge(tester::routes())
}
