//! Clients registered with a `jwks_uri`: keys fetched over real HTTP from a small JWKS server on
//! 127.0.0.1, cached, and refetched on an unknown `kid` no more often than the configured interval.
use crate::harness::*;
use serde_json::{Value, json};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use tollgate_jose::{Curve, PrivateKey};

/// A JWKS endpoint whose key set the test can change, counting fetches.
struct JwksServer {
    url: String,
    keys: Arc<Mutex<Value>>,
    fetches: Arc<AtomicUsize>,
}

async fn jwks_server(initial: Value) -> JwksServer {
    let keys = Arc::new(Mutex::new(initial));
    let fetches = Arc::new(AtomicUsize::new(0));
    let (k, f) = (keys.clone(), fetches.clone());
    let app = axum::Router::new().route(
        "/jwks.json",
        axum::routing::get(move || {
            let (k, f) = (k.clone(), f.clone());
            async move {
                f.fetch_add(1, Ordering::SeqCst);
                axum::Json(k.lock().unwrap().clone())
            }
        }),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    JwksServer { url: format!("http://{addr}/jwks.json"), keys, fetches }
}

fn jwks_of(keys: &[&PrivateKey]) -> Value {
    json!({ "keys": keys.iter().map(|k| serde_json::to_value(k.public_key().to_jwk()).unwrap()).collect::<Vec<_>>() })
}

async fn register_uri_app(server: &TestServer, uri: &str) -> String {
    let (status, body) = server
        .admin_post(
            "/oauth2/v1/clients",
            &json!({"client_name": "uri client", "application_type": "service", "token_endpoint_auth_method": "private_key_jwt", "jwks_uri": uri}),
        )
        .await;
    assert_eq!(status, 201, "{body}");
    assert_eq!(body["jwks_uri"], uri);
    let id = body["client_id"].as_str().unwrap().to_string();
    server.grant(&id, &["okta.users.read"]).await;
    id
}

#[tokio::test]
async fn keys_come_from_the_uri_and_an_unknown_kid_refetches_at_most_once_per_interval() {
    let first = PrivateKey::generate(tollgate_jose::KeySpec::Ec(Curve::P256)).unwrap();
    let jwks = jwks_server(jwks_of(&[&first])).await;
    let server = TestServer::start_configured(|c| c.allow_private_fetch = true).await;
    let client_id = register_uri_app(&server, &jwks.url).await;
    let url = server.url("/oauth2/v1/token");

    let (status, body) = server.token_with(&sign(&first, &assertion_claims(&client_id, &url)), "okta.users.read").await;
    assert_eq!(status, 200, "{body}");
    let (status, _) = server.token_with(&sign(&first, &assertion_claims(&client_id, &url)), "okta.users.read").await;
    assert_eq!(status, 200);
    assert_eq!(jwks.fetches.load(Ordering::SeqCst), 1, "the key set is cached");

    // The client rotates to a new key. Within the refetch interval (60 s by default) an unknown kid does
    // not make tollgate fetch again: a flood of bogus kids cannot turn it into a request amplifier.
    let second = PrivateKey::generate(tollgate_jose::KeySpec::Ec(Curve::P256)).unwrap();
    *jwks.keys.lock().unwrap() = jwks_of(&[&second]);
    for _ in 0..3 {
        let (status, body) =
            server.token_with(&sign(&second, &assertion_claims(&client_id, &url)), "okta.users.read").await;
        assert_eq!(status, 401);
        assert_eq!(body["error_description"], "The client_assertion JWT kid is invalid.");
    }
    assert_eq!(jwks.fetches.load(Ordering::SeqCst), 1);
    server.stop().await;
}

#[tokio::test]
async fn an_unknown_kid_refetches_once_the_interval_has_passed() {
    let first = PrivateKey::generate(tollgate_jose::KeySpec::Ec(Curve::P384)).unwrap();
    let jwks = jwks_server(jwks_of(&[&first])).await;
    let server = TestServer::start_configured(|c| {
        c.jwks_uri_refetch_seconds = 0;
        c.allow_private_fetch = true;
    })
    .await;
    let client_id = register_uri_app(&server, &jwks.url).await;
    let url = server.url("/oauth2/v1/token");
    let (status, _) = server.token_with(&sign(&first, &assertion_claims(&client_id, &url)), "okta.users.read").await;
    assert_eq!(status, 200);
    let second = PrivateKey::generate(tollgate_jose::KeySpec::Ec(Curve::P384)).unwrap();
    *jwks.keys.lock().unwrap() = jwks_of(&[&second]);
    let (status, body) =
        server.token_with(&sign(&second, &assertion_claims(&client_id, &url)), "okta.users.read").await;
    assert_eq!(status, 200, "the new kid was found by refetching: {body}");
    assert_eq!(jwks.fetches.load(Ordering::SeqCst), 2);
    // A broken JWKS endpoint is a clean 401, not a 500.
    *jwks.keys.lock().unwrap() = json!({"keys": "nope"});
    let third = PrivateKey::generate(tollgate_jose::KeySpec::Ec(Curve::P384)).unwrap();
    let (status, body) = server.token_with(&sign(&third, &assertion_claims(&client_id, &url)), "okta.users.read").await;
    assert_eq!(status, 401, "{body}");
    assert_eq!(body["error_description"], "The client JWKSet is invalid.");
    server.stop().await;
}
