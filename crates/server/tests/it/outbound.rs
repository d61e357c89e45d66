//! The outbound fetch policy seen from outside: a `jwks_uri` that points into the server's own network is
//! refused at registration (400 in Okta's shapes), and with the development opt-out a local JWKS server
//! shows that failures are not refetched per request, redirects are not followed and size is capped.
use crate::harness::*;
use serde_json::{Value, json};
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use tollgate_jose::{Curve, KeySpec, PrivateKey};

const BAD_URIS: &[&str] = &[
    "http://127.0.0.1:9/jwks.json",
    "https://127.0.0.1/jwks.json",
    "https://0.0.0.0/jwks.json",
    "https://2130706433/jwks.json",
    "https://0x7f000001/jwks.json",
    "https://0177.0.0.1/jwks.json",
    "https://127.1/jwks.json",
    "https://localhost/jwks.json",
    "https://[::1]/jwks.json",
    "https://[::ffff:127.0.0.1]/jwks.json",
    "https://169.254.169.254/latest/meta-data/",
    "https://10.0.0.1/jwks.json",
    "https://192.168.0.10/jwks.json",
    "https://100.64.0.1/jwks.json",
    "https://[fd00::1]/jwks.json",
    "http://example.com/jwks.json",
];

#[tokio::test]
async fn dcr_and_the_apps_api_refuse_a_jwks_uri_into_private_networks() {
    let server = TestServer::start().await;
    for uri in BAD_URIS {
        let (status, body) = server
            .admin_post(
                "/oauth2/v1/clients",
                &json!({"client_name": "c", "application_type": "service", "token_endpoint_auth_method": "private_key_jwt", "jwks_uri": uri}),
            )
            .await;
        assert_eq!(status, 400, "DCR {uri}: {body}");
        assert_eq!(body["error"], "invalid_client_metadata", "{uri}: {body}");
        assert!(body["error_description"].as_str().unwrap().starts_with("jwks_uri: "), "{body}");

        let app = json!({
            "name": "oidc_client", "label": "svc", "signOnMode": "OPENID_CONNECT",
            "credentials": {"oauthClient": {"token_endpoint_auth_method": "private_key_jwt"}},
            "settings": {"oauthClient": {"application_type": "service", "grant_types": ["client_credentials"], "jwks_uri": uri}},
        });
        let (status, body) = server.admin_post("/api/v1/apps", &app).await;
        assert_eq!(status, 400, "Apps API {uri}: {body}");
        assert_eq!(body["errorCode"], "E0000001", "{uri}: {body}");
        assert!(body["errorCauses"][0]["errorSummary"].as_str().unwrap().starts_with("jwks_uri: "), "{body}");
    }
    // A public https URL is still fine.
    let (status, body) = server
        .admin_post(
            "/oauth2/v1/clients",
            &json!({"client_name": "c", "application_type": "service", "token_endpoint_auth_method": "private_key_jwt", "jwks_uri": "https://example.com/jwks.json"}),
        )
        .await;
    assert_eq!(status, 201, "{body}");
    server.stop().await;
}

/// A local HTTP server whose `/jwks.json` answers `respond` (after `delay`), counting hits per path.
struct Upstream {
    base: String,
    hits: Arc<AtomicUsize>,
    target_hits: Arc<AtomicUsize>,
}

async fn upstream(respond: fn(&str) -> axum::response::Response, delay: std::time::Duration) -> Upstream {
    use axum::response::IntoResponse;
    let hits = Arc::new(AtomicUsize::new(0));
    let target_hits = Arc::new(AtomicUsize::new(0));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    let (h, t, b) = (hits.clone(), target_hits.clone(), base.clone());
    let app = axum::Router::new()
        .route(
            "/jwks.json",
            axum::routing::get(move || {
                let (h, b) = (h.clone(), b.clone());
                async move {
                    h.fetch_add(1, Ordering::SeqCst);
                    tokio::time::sleep(delay).await;
                    respond(&b)
                }
            }),
        )
        .route(
            "/target.json",
            axum::routing::get(move || {
                let t = t.clone();
                async move {
                    t.fetch_add(1, Ordering::SeqCst);
                    axum::Json(json!({"keys": []})).into_response()
                }
            }),
        );
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    Upstream { base, hits, target_hits }
}

async fn uri_app(server: &TestServer, uri: &str) -> String {
    let (status, body) = server
        .admin_post(
            "/oauth2/v1/clients",
            &json!({"client_name": "u", "application_type": "service", "token_endpoint_auth_method": "private_key_jwt", "jwks_uri": uri}),
        )
        .await;
    assert_eq!(status, 201, "{body}");
    body["client_id"].as_str().unwrap().to_string()
}

async fn garbage_assertion(server: &TestServer, client_id: &str) -> (u16, Value) {
    let key = PrivateKey::generate(KeySpec::Ec(Curve::P256)).unwrap();
    let assertion = sign(&key, &assertion_claims(client_id, &server.url("/oauth2/v1/token")));
    server.token_with(&assertion, "okta.users.read").await
}

#[tokio::test]
async fn a_failing_jwks_uri_is_fetched_once_for_a_burst_of_garbage_assertions() {
    use axum::response::IntoResponse;
    let up = upstream(
        |_| (axum::http::StatusCode::INTERNAL_SERVER_ERROR, "down").into_response(),
        std::time::Duration::from_millis(300),
    )
    .await;
    let server = TestServer::start_configured(|c| c.allow_private_fetch = true).await;
    let client_id = uri_app(&server, &format!("{}/jwks.json", up.base)).await;
    let results = futures::future::join_all((0..10).map(|_| garbage_assertion(&server, &client_id))).await;
    for (status, body) in &results {
        assert_eq!(*status, 401, "{body}");
        assert_eq!(body["error"], "invalid_client");
    }
    assert_eq!(up.hits.load(Ordering::SeqCst), 1, "one fetch for ten concurrent assertions");
    for _ in 0..5 {
        let (status, _) = garbage_assertion(&server, &client_id).await;
        assert_eq!(status, 401);
    }
    assert_eq!(up.hits.load(Ordering::SeqCst), 1, "the failure is remembered");
    server.stop().await;
}

#[tokio::test]
async fn an_unusable_jwks_document_is_remembered_too() {
    let up = upstream(|_| axum::response::IntoResponse::into_response("not json"), std::time::Duration::ZERO).await;
    let server = TestServer::start_configured(|c| c.allow_private_fetch = true).await;
    let client_id = uri_app(&server, &format!("{}/jwks.json", up.base)).await;
    for _ in 0..5 {
        let (status, body) = garbage_assertion(&server, &client_id).await;
        assert_eq!(status, 401, "{body}");
        assert_eq!(body["error_description"], "The client JWKSet is invalid.");
    }
    assert_eq!(up.hits.load(Ordering::SeqCst), 1);
    server.stop().await;
}

#[tokio::test]
async fn a_redirecting_jwks_uri_is_not_followed() {
    let up = upstream(
        |base| {
            axum::response::IntoResponse::into_response(axum::response::Redirect::temporary(&format!(
                "{base}/target.json"
            )))
        },
        std::time::Duration::ZERO,
    )
    .await;
    let server = TestServer::start_configured(|c| c.allow_private_fetch = true).await;
    let client_id = uri_app(&server, &format!("{}/jwks.json", up.base)).await;
    let (status, body) = garbage_assertion(&server, &client_id).await;
    assert_eq!(status, 401, "{body}");
    assert_eq!(body["error_description"], "The client JWKSet is invalid.");
    assert_eq!(up.hits.load(Ordering::SeqCst), 1);
    assert_eq!(up.target_hits.load(Ordering::SeqCst), 0, "the redirect was not followed");
    server.stop().await;
}

#[tokio::test]
async fn an_oversized_jwks_is_refused() {
    // A valid key set padded past the 256 KiB cap: refused although it would parse.
    let up = upstream(
        |_| {
            let key = PrivateKey::generate(KeySpec::Ec(Curve::P256)).unwrap();
            let mut jwk = serde_json::to_value(key.public_key().to_jwk()).unwrap();
            jwk["x-padding"] = json!("a".repeat(300 * 1024));
            axum::response::IntoResponse::into_response(axum::Json(json!({"keys": [jwk]})))
        },
        std::time::Duration::ZERO,
    )
    .await;
    let server = TestServer::start_configured(|c| c.allow_private_fetch = true).await;
    let client_id = uri_app(&server, &format!("{}/jwks.json", up.base)).await;
    let (status, body) = garbage_assertion(&server, &client_id).await;
    assert_eq!(status, 401, "{body}");
    assert_eq!(body["error_description"], "The client JWKSet is invalid.");
    assert_eq!(up.hits.load(Ordering::SeqCst), 1);
    server.stop().await;
}
