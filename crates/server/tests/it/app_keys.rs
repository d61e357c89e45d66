//! `/api/v1/apps/{id}/credentials/jwks`: Okta's key lifecycle, exact causes, and that a deactivated key
//! stops signing assertions on the very next token request.
use crate::harness::*;
use reqwest::Method;
use serde_json::{Value, json};
use tollgate_jose::PrivateKey;

fn cause(body: &Value) -> &str {
    body["errorCauses"][0]["errorSummary"].as_str().unwrap_or("")
}

async fn token(server: &TestServer, key: &PrivateKey, client_id: &str) -> (u16, Value) {
    let assertion = sign(key, &assertion_claims(client_id, &server.issuer_url("/oauth2/v1/token")));
    server.token_with(&assertion, "okta.users.read").await
}

#[tokio::test]
async fn key_lifecycle_matches_okta_and_takes_effect_at_once() {
    // A fixed issuer, so that the grant (issued for it) still applies after the restart on a new port.
    let issuer = "https://tollgate.example";
    let server = TestServer::start_with(std::sync::Arc::new(tempfile::tempdir().unwrap()), Some(issuer)).await;
    let (k1, k2) = (rsa_key(), rsa_key_2());
    let (_, app) = server.admin_post("/api/v1/apps", &jwt_app_body("svc", &[k1])).await;
    let id = app["id"].as_str().unwrap().to_string();
    server.grant(&id, &["okta.users.read"]).await;
    let base = format!("/api/v1/apps/{id}/credentials/jwks");
    let (_, list) = server.admin_get(&base).await;
    let first = list["jwks"]["keys"][0]["id"].as_str().unwrap().to_string();
    assert!(first.starts_with("pks"));
    assert_eq!(list["jwks"]["keys"][0]["status"], "ACTIVE");

    // The only active key of a private_key_jwt app cannot be deactivated; an active key cannot be deleted.
    let (status, err) = server.admin_post(&format!("{base}/{first}/lifecycle/deactivate"), &json!({})).await;
    assert_eq!((status, err["errorSummary"].as_str().unwrap()), (400, "Api validation failed: JsonWebKey"));
    assert_eq!(
        cause(&err),
        "Can't deactivate the only active JSON Web Key when the value for `token_endpoint_auth_method` is `private_key_jwt`."
    );
    let (status, err) = server.admin_delete(&format!("{base}/{first}")).await;
    assert_eq!(status, 400);
    assert_eq!(cause(&err), "You can't delete an active JSON Web key. Deactivate the key before deleting it.");

    // Add a second key (201, Okta's shape), then the first can go.
    let mut jwk = public_jwk(k2);
    jwk["status"] = json!("ACTIVE");
    let (status, added) = server.admin_post(&base, &jwk).await;
    assert_eq!(status, 201, "{added}");
    assert!(added["id"].as_str().unwrap().starts_with("pks"));
    assert_eq!(added["kid"], k2.kid());
    assert_eq!(added["status"], "ACTIVE");
    assert!(added["_links"]["deactivate"]["href"].as_str().unwrap().ends_with("/lifecycle/deactivate"));
    let second = added["id"].as_str().unwrap().to_string();
    let (status, body) = token(&server, k2, &id).await;
    assert_eq!(status, 200, "new key works at once: {body}");

    let (status, key) = server.admin_post(&format!("{base}/{first}/lifecycle/deactivate"), &json!({})).await;
    assert_eq!((status, key["status"].as_str().unwrap()), (200, "INACTIVE"));
    assert!(key["_links"]["activate"].is_object() && key["_links"]["delete"].is_object());
    let (status, body) = token(&server, k1, &id).await;
    assert_eq!(status, 401, "deactivated key refused at once: {body}");
    let (status, key) = server.admin_post(&format!("{base}/{first}/lifecycle/activate"), &json!({})).await;
    assert_eq!((status, key["status"].as_str().unwrap()), (200, "ACTIVE"));
    let (status, _) = token(&server, k1, &id).await;
    assert_eq!(status, 200);
    server.admin_post(&format!("{base}/{first}/lifecycle/deactivate"), &json!({})).await;
    let (status, _) = server.admin_delete(&format!("{base}/{first}")).await;
    assert_eq!(status, 204);
    let (status, err) = server.admin_get(&format!("{base}/{first}")).await;
    assert_eq!(status, 404);
    assert_eq!(err["errorSummary"], format!("Not found: Resource not found: {first} (JsonWebKey)"));
    let (status, got) = server.admin_get(&format!("{base}/{second}")).await;
    assert_eq!((status, got["kid"].as_str().unwrap()), (200, k2.kid()));

    // Survives a restart.
    let dir = server.stop().await;
    let server = TestServer::start_with(dir, Some(issuer)).await;
    let (_, list) = server.admin_get(&base).await;
    assert_eq!(list["jwks"]["keys"].as_array().unwrap().len(), 1);
    let (status, _) = token(&server, k2, &id).await;
    assert_eq!(status, 200);
    server.stop().await;
}

#[tokio::test]
async fn bad_keys_are_refused_with_okta_causes() {
    let server = TestServer::start().await;
    let (_, app) = server.admin_post("/api/v1/apps", &jwt_app_body("svc", &[rsa_key()])).await;
    let id = app["id"].as_str().unwrap().to_string();
    let base = format!("/api/v1/apps/{id}/credentials/jwks");
    // Duplicate kid.
    let (status, err) = server.admin_post(&base, &public_jwk(rsa_key())).await;
    assert_eq!(status, 400);
    assert_eq!(cause(&err), "All keys in the 'jwks' must have a unique `kid`.");
    // No kid next to existing keys.
    let mut nokid = public_jwk(rsa_key_2());
    nokid.as_object_mut().unwrap().remove("kid");
    let (status, err) = server.admin_post(&base, &nokid).await;
    assert_eq!(status, 400);
    assert!(cause(&err).starts_with("Each key should have a unique kid when adding multiple keys."));
    // Small RSA key (a 1024-bit public key; tollgate's own key generator refuses to make one).
    let small = json!({"kty": "RSA", "kid": "small", "e": "AQAB", "n": "vQJIRm1_wEKE93HyChPFKYYOiww-8S79QyoevInCn6GSSAxHHZQJTclCyDbBmBoae6ws-MTcedqicTZWU5y8kithzicVRe7FofCavjHYBD577oCmEcAerBMHef-31NLaKlWYPUQfymDyI75yoIe_vk6eM3pTTaREvjRrWp157Ws"});
    let (status, err) = server.admin_post(&base, &small).await;
    assert_eq!(status, 400);
    assert_eq!(cause(&err), "RSA key length in the 'jwks' is less than '2,048' bits for the given key.");
    // Private material.
    let private = serde_json::to_value(rsa_key_2().to_jwk().unwrap()).unwrap();
    let (status, err) = server.admin_post(&base, &private).await;
    assert_eq!(status, 400);
    assert!(cause(&err).contains("private key material"), "{err}");
    // Unknown app / key.
    let (status, err) = server.admin_post("/api/v1/apps/0oanope/credentials/jwks", &public_jwk(rsa_key_2())).await;
    assert_eq!((status, err["errorSummary"].as_str().unwrap()), (404, "Not found: Resource not found: 0oanope (App)"));
    let (status, _) = server.admin_post(&format!("{base}/pksnope/lifecycle/activate"), &json!({})).await;
    assert_eq!(status, 404);
    // At most 50 keys: EC keys are quick to make.
    for _ in 1..50 {
        let (status, body) = server.admin_post(&base, &public_jwk(&ec_key(tollgate_jose::Curve::P256))).await;
        assert_eq!(status, 201, "{body}");
    }
    let (status, err) = server.admin_post(&base, &public_jwk(&ec_key(tollgate_jose::Curve::P256))).await;
    assert_eq!(status, 400);
    assert!(
        cause(&err)
            .starts_with("You can't create a new key. You have reached the maximum number of keys allowed (50).")
    );
    let (_, list) = server.admin_get(&base).await;
    assert_eq!(list["jwks"]["keys"].as_array().unwrap().len(), 50);
    // Scopes: read may list, not add.
    let read = server.org_access_token(&["okta.apps.read"]).await;
    let (status, _, _) = server.call(Method::GET, &base, None, Auth::Bearer(&read)).await;
    assert_eq!(status, 200);
    let (status, _, _) = server.call(Method::POST, &base, Some(&public_jwk(rsa_key_2())), Auth::Bearer(&read)).await;
    assert_eq!(status, 403);
    let manage = server.org_access_token(&["okta.apps.manage"]).await;
    let (_, fresh) = server.admin_post("/api/v1/apps", &jwt_app_body("other", &[rsa_key()])).await;
    let other = format!("/api/v1/apps/{}/credentials/jwks", fresh["id"].as_str().unwrap());
    let (status, _, added) =
        server.call(Method::POST, &other, Some(&public_jwk(rsa_key_2())), Auth::Bearer(&manage)).await;
    assert_eq!(status, 201, "{added}");
    let path = format!("{other}/{}/lifecycle/deactivate", added["id"].as_str().unwrap());
    let (status, _, key) = server.call(Method::POST, &path, None, Auth::Bearer(&manage)).await;
    assert_eq!((status, key["status"].as_str().unwrap()), (200, "INACTIVE"));
    server.stop().await;
}

/// Adds racing past the handler's count: the store's count in the insert's transaction keeps the app at
/// 50 keys, and the losers get the same cause as a sequential add over the limit.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrent_adds_stop_at_fifty_keys() {
    let server = std::sync::Arc::new(TestServer::start().await);
    let (_, app) = server.admin_post("/api/v1/apps", &jwt_app_body("many", &[rsa_key()])).await;
    let base = format!("/api/v1/apps/{}/credentials/jwks", app["id"].as_str().unwrap());
    for _ in 1..48 {
        let (status, body) = server.admin_post(&base, &public_jwk(&ec_key(tollgate_jose::Curve::P256))).await;
        assert_eq!(status, 201, "{body}");
    }
    let mut tasks = tokio::task::JoinSet::new();
    for _ in 0..16 {
        let (server, base) = (server.clone(), base.clone());
        let jwk = public_jwk(&ec_key(tollgate_jose::Curve::P256));
        tasks.spawn(async move { server.admin_post(&base, &jwk).await });
    }
    let mut added = 0;
    while let Some(done) = tasks.join_next().await {
        let (status, reply) = done.unwrap();
        if status == 201 {
            added += 1;
            continue;
        }
        assert_eq!((status, reply["errorSummary"].as_str().unwrap()), (400, "Api validation failed: JsonWebKey"));
        assert!(
            cause(&reply)
                .starts_with("You can't create a new key. You have reached the maximum number of keys allowed (50).")
        );
    }
    assert_eq!(added, 2);
    let (_, list) = server.admin_get(&base).await;
    assert_eq!(list["jwks"]["keys"].as_array().unwrap().len(), 50);
}
