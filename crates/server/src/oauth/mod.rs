//! The OAuth 2.0 endpoints of the org authorization server (`/oauth2/v1/...`) and of custom ones
//! (`/oauth2/{id}/v1/...`), plus discovery. Handlers resolve which server a request is for, then share
//! one implementation per endpoint.
pub mod access_token;
pub mod client_auth;
pub mod dpop;
pub mod form;
pub mod introspect;
pub mod metadata;
pub mod oag;
pub mod remote_jwks;
pub mod token;

use crate::errors::{ApiError, OAuthError};
use crate::state::{AppState, AuthzServer};
use axum::Router;
use axum::body::Body;
use axum::extract::{Path, State};
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

#[derive(Clone, Copy)]
enum Endpoint {
    Token,
    Introspect,
    Revoke,
}

async fn dispatch(
    state: AppState,
    server: AuthzServer,
    endpoint: Endpoint,
    headers: HeaderMap,
    uri: Uri,
    body: Body,
) -> Response {
    let result: Result<Response, OAuthError> = async {
        let form = form::read_form(&headers, &uri, body, state.config.max_body_bytes).await?;
        match endpoint {
            Endpoint::Token => token::handle(&state, &server, &headers, &form).await,
            Endpoint::Introspect => introspect::introspect(&state, &server, &headers, &form).await,
            Endpoint::Revoke => introspect::revoke(&state, &server, &headers, &form).await,
        }
    }
    .await;
    result.unwrap_or_else(IntoResponse::into_response)
}

fn org_post(endpoint: Endpoint) -> axum::routing::MethodRouter<AppState> {
    post(move |State(state): State<AppState>, headers: HeaderMap, uri: Uri, body: Body| {
        dispatch(state, AuthzServer::Org, endpoint, headers, uri, body)
    })
}

fn custom_post(endpoint: Endpoint) -> axum::routing::MethodRouter<AppState> {
    post(
        move |State(state): State<AppState>, Path(id): Path<String>, headers: HeaderMap, uri: Uri, body: Body| async move {
            match custom_server(&state, &id) {
                Ok(server) => dispatch(state, server, endpoint, headers, uri, body).await,
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
        .route("/oauth2/v1/token", org_post(Endpoint::Token))
        .route("/oauth2/v1/introspect", org_post(Endpoint::Introspect))
        .route("/oauth2/v1/revoke", org_post(Endpoint::Revoke))
        .route("/oauth2/{id}/v1/token", custom_post(Endpoint::Token))
        .route("/oauth2/{id}/v1/introspect", custom_post(Endpoint::Introspect))
        .route("/oauth2/{id}/v1/revoke", custom_post(Endpoint::Revoke))
        .merge(oag::routes())
}
