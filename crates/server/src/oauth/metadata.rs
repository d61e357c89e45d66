//! Discovery documents (OpenID Connect Discovery, RFC 8414) and the published signing keys.
use super::rules::{ALL_METHODS, AuthMethod};
use super::scopes::is_oag_scope;
use crate::catalogue::OKTA_SCOPES;
use crate::clock::now_secs;
use crate::state::{AppState, AuthzServer};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde_json::{Value, json};

const ASSERTION_ALGS: [&str; 9] = ["RS256", "RS384", "RS512", "PS256", "PS384", "PS512", "ES256", "ES384", "ES512"];
/// The claims of the access tokens tollgate issues (it issues no ID token).
const CLAIMS: [&str; 9] = ["ver", "jti", "iss", "aud", "iat", "exp", "cid", "scp", "sub"];

/// Which document: `openid-configuration` or `oauth-authorization-server`.
#[derive(Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    OpenId,
    OAuth,
}

fn method_names(methods: &[AuthMethod]) -> Vec<&'static str> {
    methods.iter().map(|m| m.as_str()).collect()
}

/// The discovery document of `server`: only what it really serves (no authorization, userinfo or logout
/// endpoint, no `client_secret_jwt` or `none`), with the fields the specifications require kept valid.
pub fn document(state: &AppState, server: &AuthzServer, kind: Kind) -> Value {
    let issuer = server.issuer(state);
    let base = server.endpoint_base(state);
    let scopes: Vec<&str> = match server {
        // Only the scopes published to every client (`metadataPublish: ALL_CLIENTS`).
        AuthzServer::Custom(s) => {
            s.scopes.iter().filter(|s| s.metadata_publish == "ALL_CLIENTS").map(|s| s.name.as_str()).collect()
        }
        _ => OKTA_SCOPES.iter().copied().filter(|s| !is_oag_scope(s)).collect(),
    };
    let mut doc = json!({
        "issuer": issuer,
        "token_endpoint": format!("{base}/v1/token"),
        "registration_endpoint": format!("{}/oauth2/v1/clients", state.issuer),
        "jwks_uri": format!("{base}/v1/keys"),
        // Required by both specifications; there is no authorization endpoint, so no response type.
        "response_types_supported": [],
        "grant_types_supported": ["client_credentials"],
        "scopes_supported": scopes,
        "token_endpoint_auth_methods_supported": method_names(server.rules().token_methods),
        "token_endpoint_auth_signing_alg_values_supported": ASSERTION_ALGS,
        "introspection_endpoint": format!("{base}/v1/introspect"),
        "introspection_endpoint_auth_methods_supported": method_names(ALL_METHODS),
        "introspection_endpoint_auth_signing_alg_values_supported": ASSERTION_ALGS,
        "revocation_endpoint": format!("{base}/v1/revoke"),
        "revocation_endpoint_auth_methods_supported": method_names(ALL_METHODS),
        "revocation_endpoint_auth_signing_alg_values_supported": ASSERTION_ALGS,
        "claims_supported": CLAIMS,
        "dpop_signing_alg_values_supported": ["RS256", "RS384", "RS512", "ES256", "ES384", "ES512"],
    });
    if let (Kind::OpenId, Some(map)) = (kind, doc.as_object_mut()) {
        // Required by OpenID Connect Discovery: the subject (a client id) is the same for everyone, and
        // RS256 is what tollgate signs with.
        map.insert("subject_types_supported".into(), json!(["public"]));
        map.insert("id_token_signing_alg_values_supported".into(), json!(["RS256"]));
    }
    doc
}

/// `GET .../v1/keys`: the published keys, cacheable until the next scheduled rotation.
pub fn keys(state: &AppState, server: &AuthzServer) -> Response {
    let Some(keys) = server.keys(state) else {
        return StatusCode::SERVICE_UNAVAILABLE.into_response();
    };
    let max_age = (keys.next_rotation - now_secs()).max(0);
    let mut resp = (StatusCode::OK, keys.jwks_json.clone()).into_response();
    let h = resp.headers_mut();
    h.insert(header::CONTENT_TYPE, HeaderValue::from_static("application/json"));
    if let Ok(v) = HeaderValue::from_str(&format!("max-age={max_age}, must-revalidate")) {
        h.insert(header::CACHE_CONTROL, v);
    }
    resp
}
