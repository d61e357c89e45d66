//! Client registration and grants as the token endpoint depends on them.
use crate::harness::*;
use serde_json::json;
use tollgate_jose::{KeySpec, PrivateKey};

#[tokio::test]
async fn registration_validates_keys_and_echoes_okta_fields() {
    let server = TestServer::start().await;
    let key = rsa_key();
    let mut jwk = serde_json::to_value(key.public_key().to_jwk()).unwrap();
    jwk.as_object_mut().unwrap().remove("use");
    let (status, body) = server
        .admin_post("/oauth2/v1/clients", &json!({"client_name": "svc", "application_type": "service", "token_endpoint_auth_method": "private_key_jwt", "jwks": {"keys": [jwk]}}))
        .await;
    assert_eq!(status, 201, "{body}");
    assert!(body["client_id"].as_str().unwrap().starts_with("0oa"));
    assert!(body["client_id_issued_at"].is_i64());
    assert_eq!(body["grant_types"], json!(["client_credentials"]));
    assert_eq!(body["jwks"]["keys"][0]["use"], serde_json::Value::Null);
    assert!(body.get("client_secret").is_none());

    // Private material, small RSA keys, a missing name: refused, nothing written.
    let private = serde_json::to_value(key.to_jwk().unwrap()).unwrap();
    let (status, body) = server
        .admin_post("/oauth2/v1/clients", &json!({"client_name": "svc", "application_type": "service", "token_endpoint_auth_method": "private_key_jwt", "jwks": {"keys": [private]}}))
        .await;
    assert_eq!((status, body["error"].as_str().unwrap()), (400, "invalid_client_metadata"), "{body}");
    let (status, body) = server.admin_post("/oauth2/v1/clients", &json!({"application_type": "service"})).await;
    assert_eq!(status, 400);
    assert_eq!(body["error_description"], "client_name: The field cannot be left blank");
    let (_, list) = server.admin_get("/oauth2/v1/clients").await;
    assert_eq!(list.as_array().unwrap().len(), 1);
    let (status, body) = server.admin_get("/oauth2/v1/clients/0oanope").await;
    assert_eq!((status, body["error"].as_str().unwrap()), (401, "invalid_client"));
    server.stop().await;
}

#[tokio::test]
async fn grants_are_validated_and_take_effect_at_once() {
    let server = TestServer::start().await;
    let key = PrivateKey::generate(KeySpec::Ec(tollgate_jose::Curve::P256)).unwrap();
    let client_id = server.register_jwt_app(&[&key], &[]).await;
    let url = server.url("/oauth2/v1/token");
    let (status, _) = server.token_with(&sign(&key, &assertion_claims(&client_id, &url)), "okta.users.read").await;
    assert_eq!(status, 400, "nothing granted yet");
    // Issuer without scheme is accepted, as Okta's reference sends it.
    let host = server.base.trim_start_matches("http://").to_string();
    let (status, grant) = server
        .admin_post(&format!("/api/v1/apps/{client_id}/grants"), &json!({"scopeId": "okta.users.read", "issuer": host}))
        .await;
    assert_eq!(status, 201, "{grant}");
    assert!(grant["id"].as_str().unwrap().starts_with("oag"));
    assert_eq!(grant["status"], "ACTIVE");
    assert_eq!(grant["source"], "ADMIN");
    assert_eq!(grant["clientId"], client_id.as_str());
    let (status, body) = server.token_with(&sign(&key, &assertion_claims(&client_id, &url)), "okta.users.read").await;
    assert_eq!(status, 200, "{body}");
    // Duplicate, unknown scope, unknown app.
    let (status, body) = server
        .admin_post(
            &format!("/api/v1/apps/{client_id}/grants"),
            &json!({"scopeId": "okta.users.read", "issuer": server.base}),
        )
        .await;
    assert_eq!((status, body["errorCode"].as_str().unwrap()), (400, "E0000001"));
    assert!(!body["errorCauses"].as_array().unwrap().is_empty());
    let (status, body) = server
        .admin_post(
            &format!("/api/v1/apps/{client_id}/grants"),
            &json!({"scopeId": "okta.bogus", "issuer": server.base}),
        )
        .await;
    assert_eq!((status, body["errorCode"].as_str().unwrap()), (400, "E0000001"));
    let (status, body) = server
        .admin_post("/api/v1/apps/0oanope/grants", &json!({"scopeId": "okta.users.read", "issuer": server.base}))
        .await;
    assert_eq!((status, body["errorCode"].as_str().unwrap()), (404, "E0000007"));
    // Removing the grant takes effect on the next token request.
    let (_, grants) = server.admin_get(&format!("/api/v1/apps/{client_id}/grants")).await;
    let grant_id = grants[0]["id"].as_str().unwrap();
    let r = server
        .http
        .delete(server.url(&format!("/api/v1/apps/{client_id}/grants/{grant_id}")))
        .header("authorization", format!("SSWS {ADMIN}"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 204);
    let (status, body) = server.token_with(&sign(&key, &assertion_claims(&client_id, &url)), "okta.users.read").await;
    assert_eq!((status, body["error"].as_str().unwrap()), (400, "consent_required"));
    server.stop().await;
}
