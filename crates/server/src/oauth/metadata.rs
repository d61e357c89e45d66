//! Discovery documents (OpenID Connect Discovery, RFC 8414) and the published signing keys.
use crate::clock::now_secs;
use crate::state::{AppState, AuthzServer};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde_json::{Value, json};

const AUTH_METHODS: [&str; 5] =
    ["client_secret_basic", "client_secret_post", "client_secret_jwt", "private_key_jwt", "none"];
const ASSERTION_ALGS: [&str; 9] = ["RS256", "RS384", "RS512", "PS256", "PS384", "PS512", "ES256", "ES384", "ES512"];

/// Which document: `openid-configuration` or `oauth-authorization-server`.
#[derive(Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    OpenId,
    OAuth,
}

/// The discovery document of `server`.
pub fn document(state: &AppState, server: &AuthzServer, kind: Kind) -> Value {
    let issuer = server.issuer(state);
    let base = server.endpoint_base(state);
    let mut scopes: Vec<String> =
        ["openid", "profile", "email", "address", "phone", "offline_access", "groups"].map(String::from).to_vec();
    let mut grant_types = vec!["authorization_code", "implicit", "refresh_token", "password"];
    match server {
        AuthzServer::Org | AuthzServer::Oag => {}
        AuthzServer::Custom(s) => {
            grant_types.push("client_credentials");
            scopes.extend(s.scopes.iter().map(|s| s.name.clone()));
        }
    }
    let mut doc = json!({
        "issuer": issuer,
        "authorization_endpoint": format!("{base}/v1/authorize"),
        "token_endpoint": format!("{base}/v1/token"),
        "registration_endpoint": format!("{}/oauth2/v1/clients", state.issuer),
        "jwks_uri": format!("{base}/v1/keys"),
        "response_types_supported": ["code", "id_token", "code id_token", "code token", "id_token token", "code id_token token"],
        "response_modes_supported": ["query", "fragment", "form_post", "okta_post_message"],
        "grant_types_supported": grant_types,
        "subject_types_supported": ["public"],
        "scopes_supported": scopes,
        "token_endpoint_auth_methods_supported": AUTH_METHODS,
        "token_endpoint_auth_signing_alg_values_supported": ASSERTION_ALGS,
        "code_challenge_methods_supported": ["S256"],
        "introspection_endpoint": format!("{base}/v1/introspect"),
        "introspection_endpoint_auth_methods_supported": AUTH_METHODS,
        "revocation_endpoint": format!("{base}/v1/revoke"),
        "revocation_endpoint_auth_methods_supported": AUTH_METHODS,
        "end_session_endpoint": format!("{base}/v1/logout"),
        "request_parameter_supported": true,
        "request_object_signing_alg_values_supported": ["HS256", "HS384", "HS512", "RS256", "RS384", "RS512", "ES256", "ES384", "ES512"],
        "dpop_signing_alg_values_supported": ["RS256", "RS384", "RS512", "ES256", "ES384", "ES512"],
    });
    if let Some(map) = doc.as_object_mut() {
        match kind {
            Kind::OpenId => {
                map.insert("userinfo_endpoint".into(), json!(format!("{base}/v1/userinfo")));
                map.insert("id_token_signing_alg_values_supported".into(), json!(["RS256"]));
                map.insert(
                    "claims_supported".into(),
                    json!([
                        "iss",
                        "ver",
                        "sub",
                        "aud",
                        "iat",
                        "exp",
                        "jti",
                        "auth_time",
                        "amr",
                        "idp",
                        "nonce",
                        "name",
                        "email",
                        "preferred_username"
                    ]),
                );
            }
            Kind::OAuth => {
                map.insert(
                    "claims_supported".into(),
                    json!(["ver", "jti", "iss", "aud", "iat", "exp", "cid", "uid", "scp", "sub"]),
                );
            }
        }
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
