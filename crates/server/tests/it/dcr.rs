//! DCR additions: `PUT /oauth2/v1/clients/{id}` (full replace) and `lifecycle/newSecret`.
use crate::harness::*;
use serde_json::json;

#[tokio::test]
async fn put_replaces_and_new_secret_rotates() {
    let server = TestServer::start().await;
    let (client_id, old_secret) = server.register_secret_app().await;
    server.create_scope("default", "orders.read").await;
    let token = |secret: String| {
        let server = &server;
        let client_id = client_id.clone();
        async move {
            server
                .post_form(
                    "/oauth2/default/v1/token",
                    &[
                        ("grant_type", "client_credentials"),
                        ("scope", "orders.read"),
                        ("client_id", &client_id),
                        ("client_secret", &secret),
                    ],
                )
                .await
        }
    };
    assert_eq!(token(old_secret.clone()).await.0, 200);
    // Missing client_name: Okta's exact refusal.
    let (status, body) =
        server.admin_put(&format!("/oauth2/v1/clients/{client_id}"), &json!({"application_type": "service"})).await;
    assert_eq!(status, 400);
    assert_eq!(
        body,
        json!({"error": "invalid_client_metadata", "error_description": "client_name: The field cannot be left blank"})
    );
    let (status, body) = server
        .admin_put(&format!("/oauth2/v1/clients/{client_id}"), &json!({"client_name": "renamed", "application_type": "service", "token_endpoint_auth_method": "client_secret_post"}))
        .await;
    assert_eq!(status, 200, "{body}");
    assert_eq!((body["client_name"].as_str(), body["client_id"].as_str()), (Some("renamed"), Some(client_id.as_str())));
    assert!(body.get("client_secret").is_none(), "secret kept, not shown");
    assert_eq!(token(old_secret.clone()).await.0, 200);
    let (status, body) = server.admin_put("/oauth2/v1/clients/0oanope", &json!({"client_name": "x"})).await;
    assert_eq!((status, body["error"].as_str().unwrap()), (401, "invalid_client"));
    // New secret: shown once; the old one stops working at once.
    let (status, body) =
        server.admin_post(&format!("/oauth2/v1/clients/{client_id}/lifecycle/newSecret"), &json!({})).await;
    assert_eq!(status, 200, "{body}");
    let fresh = body["client_secret"].as_str().unwrap().to_string();
    assert_ne!(fresh, old_secret);
    assert_eq!(token(old_secret).await.0, 401);
    assert_eq!(token(fresh).await.0, 200);
    let (status, body) = server.admin_post("/oauth2/v1/clients/0oanope/lifecycle/newSecret", &json!({})).await;
    assert_eq!(status, 404);
    assert_eq!(body["errorSummary"], "Not found: Resource not found: 0oanope (PublicClientApp)");
    // Switching to private_key_jwt drops the secret.
    let jwks = json!({"keys": [public_jwk(rsa_key())]});
    let (status, body) = server
        .admin_put(&format!("/oauth2/v1/clients/{client_id}"), &json!({"client_name": "renamed", "application_type": "service", "token_endpoint_auth_method": "private_key_jwt", "jwks": jwks}))
        .await;
    assert_eq!(status, 200, "{body}");
    let (_, secrets) = server.admin_get(&format!("/api/v1/apps/{client_id}/credentials/secrets")).await;
    assert_eq!(secrets, json!([]));
    server.stop().await;
}
