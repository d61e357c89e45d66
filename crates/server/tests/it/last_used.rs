//! `lastUsed` of app keys and client secrets (a tollgate extension of the JWKS and secrets APIs): set when
//! the credential authenticates, advanced at most once per interval (1 s here instead of 60), never by
//! a refused request, and absent (null) for a credential that has not been used.
use crate::harness::*;
use serde_json::{Value, json};
use std::time::Duration;

/// Polls `path` until the object at `pointer` has a `lastUsed` different from `before`.
async fn last_used_after(server: &TestServer, path: &str, pointer: &str, before: &Value) -> Value {
    for _ in 0..100 {
        let (status, body) = server.admin_get(path).await;
        assert_eq!(status, 200, "{body}");
        let now = body.pointer(pointer).cloned().unwrap_or(Value::Null)["lastUsed"].clone();
        if now != *before {
            return now;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("lastUsed of {path}{pointer} stayed {before}");
}

async fn last_used(server: &TestServer, path: &str, pointer: &str) -> Value {
    let (_, body) = server.admin_get(path).await;
    body.pointer(pointer).cloned().unwrap_or(Value::Null)["lastUsed"].clone()
}

#[tokio::test]
async fn a_key_records_its_last_use_at_most_once_per_interval() {
    let server = TestServer::start_configured(|c| c.last_used_interval_seconds = 1).await;
    let (k1, k2) = (rsa_key(), rsa_key_2());
    let id = server.register_jwt_app(&[k1, k2], &["okta.users.read"]).await;
    let base = format!("/api/v1/apps/{id}/credentials/jwks");
    let (_, list) = server.admin_get(&base).await;
    let keys = list["jwks"]["keys"].as_array().unwrap().clone();
    assert_eq!(keys.len(), 2);
    assert!(keys.iter().all(|k| k["lastUsed"].is_null()), "never used yet: {list}");
    let first_of = |k: &tollgate_jose::PrivateKey| {
        let i = keys.iter().position(|j| j["kid"] == k.kid()).unwrap();
        format!("/jwks/keys/{i}")
    };
    let (p1, p2) = (first_of(k1), first_of(k2));
    let aud = server.issuer_url("/oauth2/v1/token");
    let at = &server;
    let token = |key: &'static tollgate_jose::PrivateKey| {
        let assertion = sign(key, &assertion_claims(&id, &aud));
        async move { at.token_with(&assertion, "okta.users.read").await }
    };

    let (status, body) = token(k1).await;
    assert_eq!(status, 200, "{body}");
    let first = last_used_after(&server, &base, &p1, &Value::Null).await;
    assert!(first.is_string(), "{first}");
    assert!(last_used(&server, &base, &p2).await.is_null(), "the other key was not used");

    // Used again within the interval: not written again.
    for _ in 0..3 {
        assert_eq!(token(k1).await.0, 200);
    }
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert_eq!(last_used(&server, &base, &p1).await, first, "more than once within the interval");

    // After the interval, the next use advances it; a refused assertion does not.
    tokio::time::sleep(Duration::from_millis(1100)).await;
    let bad = sign(k1, &assertion_claims(&id, "https://wrong.example/oauth2/v1/token"));
    assert_eq!(server.token_with(&bad, "okta.users.read").await.0, 401);
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert_eq!(last_used(&server, &base, &p1).await, first, "a refused request is no use");
    assert_eq!(token(k1).await.0, 200);
    let second = last_used_after(&server, &base, &p1, &first).await;
    assert!(second.as_str().unwrap() > first.as_str().unwrap(), "{first} -> {second}");
    // One key object shows it too.
    let key_id = keys.iter().find(|k| k["kid"] == k1.kid()).unwrap()["id"].as_str().unwrap().to_string();
    let (_, one) = server.admin_get(&format!("{base}/{key_id}")).await;
    assert_eq!(one["lastUsed"], second);
    server.stop().await;
}

#[tokio::test]
async fn a_client_secret_records_its_last_use() {
    let server = TestServer::start_configured(|c| c.last_used_interval_seconds = 1).await;
    server.create_scope("default", "api.read").await;
    let (client_id, secret) = server.register_secret_app().await;
    let (_, app) = server.admin_get(&format!("/oauth2/v1/clients/{client_id}")).await;
    let app_id = app["client_id"].as_str().unwrap().to_string();
    let base = format!("/api/v1/apps/{app_id}/credentials/secrets");
    assert!(last_used(&server, &base, "/0").await.is_null());
    // A second secret, never used.
    let (status, added) = server.admin_post(&base, &json!({})).await;
    assert_eq!(status, 201, "{added}");
    assert!(added["lastUsed"].is_null());
    let wrong = server
        .http
        .post(server.url("/oauth2/default/v1/token"))
        .basic_auth(&client_id, Some("not the secret at all"))
        .form(&[("grant_type", "client_credentials"), ("scope", "api.read")])
        .send()
        .await
        .unwrap();
    assert_eq!(wrong.status(), 401);
    let r = server
        .http
        .post(server.url("/oauth2/default/v1/token"))
        .basic_auth(&client_id, Some(&secret))
        .form(&[("grant_type", "client_credentials"), ("scope", "api.read")])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    let used = last_used_after(&server, &base, "/0", &Value::Null).await;
    assert!(used.is_string());
    assert!(last_used(&server, &base, "/1").await.is_null(), "the unused secret stays null");
    server.stop().await;
}
