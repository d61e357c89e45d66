//! Registration-time checks of URLs the server will fetch later (a client's `jwks_uri`), under the same
//! outbound policy as the fetch itself (`tollgate-fetch`), so a URL that would be refused at fetch time is
//! refused with a 400 when it is registered: `E0000001` from the Apps API, `invalid_client_metadata` from
//! DCR (each caller maps the cause to its shape).
use crate::state::AppState;

/// Why `uri` would not be fetched (`jwks_uri: ...`), if it would not.
pub(super) fn jwks_uri_refusal(state: &AppState, uri: Option<&str>) -> Result<(), String> {
    match uri {
        None => Ok(()),
        Some(u) => state.remote_jwks.fetcher().policy().check_url(u).map(|_| ()).map_err(|e| format!("jwks_uri: {e}")),
    }
}
