//! The OAuth 2.0 endpoints of the org authorization server (`/oauth2/v1/...`), of custom ones
//! (`/oauth2/{id}/v1/...`) and of the Access Gateway flavour (`/api/v2/oauth/token`), plus discovery.
//! Handlers resolve which server a request is for, then share one implementation per endpoint; what
//! differs between the flavours is data, in [`rules`].
//!
//! Modules, from the bottom up (each uses only those above it): [`rules`], [`form`], [`nonce`],
//! [`remote_jwks`], [`expr`] (leaves); [`jti`]; [`client_auth`] with [`federation`] (external tokens); [`dpop`]; [`scopes`]; [`access_token`]; [`token`],
//! [`introspect`], [`metadata`].
pub mod access_token;
pub mod client_auth;
pub mod dpop;
pub mod expr;
pub mod federation;
pub mod form;
pub mod introspect;
pub mod jti;
pub mod metadata;
pub mod nonce;
pub mod remote_jwks;
pub mod rules;
pub mod scopes;
pub mod token;

use crate::errors::{ApiError, OAuthError};
use crate::ratelimit::{self, Metered};
use crate::state::{AppState, AuthzServer};
use crate::syslog::{self, RequestContext};
use axum::Router;
use axum::body::Body;
use axum::extract::{Extension, Path, State};
use axum::http::{HeaderMap, Uri};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};

/// Resolves a custom server id, or Okta's 404 for an unknown one.
pub fn custom_server(state: &AppState, id: &str) -> Result<AuthzServer, ApiError> {
    state
        .servers
        .get(id)
        .filter(|s| s.server.status == tollgate_store::ACTIVE)
        .map(AuthzServer::Custom)
        .ok_or_else(|| ApiError::not_found(id, "AuthorizationServer"))
}

/// What the request layers learnt about an OAuth request: its rate-limit slot and its context.
#[derive(Clone, Copy)]
pub struct Admission<'a> {
    pub(crate) metered: Option<&'a Metered>,
    pub(crate) context: Option<&'a RequestContext>,
}

impl Admission<'_> {
    /// Charges the authenticated client's share of the endpoint's rate limit: a 429 when it is used up.
    pub(crate) fn admit(&self, state: &AppState, client: &crate::cache::CachedClient) -> Result<(), OAuthError> {
        let caller = ratelimit::Caller {
            id: &client.app.client_id,
            kind: "PublicClientApp",
            share: client.limits.share_percent,
        };
        ratelimit::admit(state, self.metered, caller, self.context).map_err(|_| ratelimit::oauth_refusal())
    }
}

#[derive(Clone, Copy)]
enum Endpoint {
    Token,
    Introspect,
    Revoke,
}

// The request's parts as axum hands them over, plus what the layers attached (context, rate-limit slot).
#[allow(clippy::too_many_arguments)]
async fn dispatch(
    state: AppState,
    server: AuthzServer,
    endpoint: Endpoint,
    context: Option<RequestContext>,
    metered: Option<Metered>,
    headers: HeaderMap,
    uri: Uri,
    body: Body,
) -> Response {
    let mut facts = token::TokenFacts::default();
    let admission = Admission { metered: metered.as_ref(), context: context.as_ref() };
    let (form, result): (Option<form::Form>, Result<Response, OAuthError>) =
        match form::read_form(&headers, &uri, body, state.config.max_body_bytes).await {
            Err(e) => (None, Err(e)),
            Ok(form) => {
                let result = match endpoint {
                    Endpoint::Token => token::handle(&state, &server, &headers, &form, &mut facts, admission).await,
                    Endpoint::Introspect => introspect::introspect(&state, &server, &headers, &form, admission).await,
                    Endpoint::Revoke => introspect::revoke(&state, &server, &headers, &form, admission).await,
                };
                (Some(form), result)
            }
        };
    let call = match endpoint {
        Endpoint::Token => syslog::oauth::Call::Token,
        Endpoint::Introspect => syslog::oauth::Call::Introspect,
        Endpoint::Revoke => syslog::oauth::Call::Revoke,
    };
    let refusal = result.as_ref().err().filter(|e| !e.status.is_server_error());
    if result.is_ok() || refusal.is_some() {
        syslog::oauth::record(&state, &server, call, context.as_ref(), &headers, form.as_ref(), &facts, refusal);
    }
    match result {
        Ok(resp) => resp,
        Err(mut err) => {
            // The Access Gateway answers 400 to every refusal, but a 429 stays a 429 (clients back off on it).
            if let Some(status) = server.rules().client_error_status
                && err.status.is_client_error()
                && err.status != axum::http::StatusCode::TOO_MANY_REQUESTS
            {
                err.status = status;
            }
            err.into_response()
        }
    }
}

/// A route of a server known from the path alone (the org server, the Access Gateway).
fn fixed_post(server: AuthzServer, endpoint: Endpoint) -> axum::routing::MethodRouter<AppState> {
    post(
        move |State(state): State<AppState>,
              context: Option<Extension<RequestContext>>,
              metered: Option<Extension<Metered>>,
              headers: HeaderMap,
              uri: Uri,
              body: Body| {
            dispatch(state, server.clone(), endpoint, context.map(|c| c.0), metered.map(|m| m.0), headers, uri, body)
        },
    )
}

fn custom_post(endpoint: Endpoint) -> axum::routing::MethodRouter<AppState> {
    post(
        move |State(state): State<AppState>,
              Path(id): Path<String>,
              context: Option<Extension<RequestContext>>,
              metered: Option<Extension<Metered>>,
              headers: HeaderMap,
              uri: Uri,
              body: Body| async move {
            match custom_server(&state, &id) {
                Ok(server) => {
                    dispatch(state, server, endpoint, context.map(|c| c.0), metered.map(|m| m.0), headers, uri, body)
                        .await
                }
                Err(e) => e.into_response(),
            }
        },
    )
}

fn org_doc(kind: metadata::Kind) -> axum::routing::MethodRouter<AppState> {
    get(
        move |State(state): State<AppState>| async move { axum::Json(metadata::document(&state, &AuthzServer::Org, kind)) },
    )
}

fn custom_doc(kind: metadata::Kind) -> axum::routing::MethodRouter<AppState> {
    get(move |State(state): State<AppState>, Path(id): Path<String>| async move {
        match custom_server(&state, &id) {
            Ok(server) => axum::Json(metadata::document(&state, &server, kind)).into_response(),
            Err(e) => e.into_response(),
        }
    })
}

/// The OAuth routes.
pub fn routes() -> Router<AppState> {
    use metadata::Kind;
    Router::new()
        .route("/.well-known/openid-configuration", org_doc(Kind::OpenId))
        .route("/.well-known/oauth-authorization-server", org_doc(Kind::OAuth))
        .route("/.well-known/oauth-authorization-server/oauth2/{id}", custom_doc(Kind::OAuth))
        .route("/oauth2/{id}/.well-known/openid-configuration", custom_doc(Kind::OpenId))
        .route("/oauth2/{id}/.well-known/oauth-authorization-server", custom_doc(Kind::OAuth))
        .route(
            "/oauth2/v1/keys",
            get(|State(state): State<AppState>| async move { metadata::keys(&state, &AuthzServer::Org) }),
        )
        .route(
            "/oauth2/{id}/v1/keys",
            get(|State(state): State<AppState>, Path(id): Path<String>| async move {
                match custom_server(&state, &id) {
                    Ok(server) => metadata::keys(&state, &server),
                    Err(e) => e.into_response(),
                }
            }),
        )
        .route("/oauth2/v1/token", fixed_post(AuthzServer::Org, Endpoint::Token))
        .route("/oauth2/v1/introspect", fixed_post(AuthzServer::Org, Endpoint::Introspect))
        .route("/oauth2/v1/revoke", fixed_post(AuthzServer::Org, Endpoint::Revoke))
        .route("/oauth2/{id}/v1/token", custom_post(Endpoint::Token))
        .route("/oauth2/{id}/v1/introspect", custom_post(Endpoint::Introspect))
        .route("/oauth2/{id}/v1/revoke", custom_post(Endpoint::Revoke))
        .route("/api/v2/oauth/token", fixed_post(AuthzServer::Oag, Endpoint::Token))
}
