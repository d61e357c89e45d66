//! `/api/v1/api-tokens` and the app client-secret API.
use crate::harness::*;
use reqwest::Method;
use serde_json::{Value, json};

#[tokio::test]
async fn api_tokens_create_list_revoke() {
    let server = TestServer::start().await;
    let (status, err) = server.admin_post("/api/v1/api-tokens", &json!({})).await;
    assert_eq!((status, err["errorCode"].as_str().unwrap()), (400, "E0000001"));
    let (status, created) = server.admin_post("/api/v1/api-tokens", &json!({"name": "ci"})).await;
    assert_eq!(status, 201, "{created}");
    let token = created["token"].as_str().unwrap().to_string();
    let id = created["id"].as_str().unwrap().to_string();
    let r = server
        .http
        .get(server.url("/api/v1/users"))
        .header("authorization", format!("SSWS {token}"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    let (_, list) = server.admin_get("/api/v1/api-tokens").await;
    let mine: Vec<&Value> = list.as_array().unwrap().iter().filter(|t| t["id"] == id.as_str()).collect();
    assert_eq!(mine.len(), 1);
    assert!(mine[0].get("token").is_none(), "plain text shown once only");
    assert!(!list.to_string().contains(&token));
    let (status, _) = server.admin_get(&format!("/api/v1/api-tokens/{id}")).await;
    assert_eq!(status, 200);
    // Survives a restart, then revoke: the token stops working at once.
    let dir = server.stop().await;
    let server = TestServer::start_in(dir).await;
    let r = server
        .http
        .get(server.url("/api/v1/users"))
        .header("authorization", format!("SSWS {token}"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    let (status, _) = server.admin_delete(&format!("/api/v1/api-tokens/{id}")).await;
    assert_eq!(status, 204);
    let r = server
        .http
        .get(server.url("/api/v1/users"))
        .header("authorization", format!("SSWS {token}"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 401);
    assert_eq!(r.json::<Value>().await.unwrap()["errorCode"], "E0000011");
    let (status, err) = server.admin_delete(&format!("/api/v1/api-tokens/{id}")).await;
    assert_eq!(
        (status, err["errorSummary"].as_str().unwrap()),
        (404, format!("Not found: Resource not found: {id} (ApiToken)").as_str())
    );
    let read = server.org_access_token(&["okta.apiTokens.read"]).await;
    let (status, _, _) = server.call(Method::GET, "/api/v1/api-tokens", None, Auth::Bearer(&read)).await;
    assert_eq!(status, 200);
    let (status, _, _) =
        server.call(Method::POST, "/api/v1/api-tokens", Some(&json!({"name": "x"})), Auth::Bearer(&read)).await;
    assert_eq!(status, 403);
    server.stop().await;
}

#[tokio::test]
async fn client_secret_rotation() {
    let server = TestServer::start().await;
    server.create_scope("default", "orders.read").await;
    let (client_id, first_plain) = server.register_secret_app().await;
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
                .0
        }
    };
    let base = format!("/api/v1/apps/{client_id}/credentials/secrets");
    let (_, list) = server.admin_get(&base).await;
    assert_eq!(list.as_array().unwrap().len(), 1);
    let first = list[0]["id"].as_str().unwrap().to_string();
    assert!(list[0].get("client_secret").is_none());
    // The only active secret can neither be deactivated nor (being active) deleted.
    let (status, _) = server.admin_post(&format!("{base}/{first}/lifecycle/deactivate"), &json!({})).await;
    assert_eq!(status, 400);
    let (status, err) = server.admin_delete(&format!("{base}/{first}")).await;
    assert_eq!((status, err["errorCode"].as_str().unwrap()), (400, "E0000001"));
    let (status, second) = server.admin_post(&base, &json!({})).await;
    assert_eq!(status, 201, "{second}");
    let second_plain = second["client_secret"].as_str().unwrap().to_string();
    assert_eq!(token(second_plain.clone()).await, 200);
    assert_eq!(token(first_plain.clone()).await, 200);
    let (status, _) = server.admin_post(&base, &json!({})).await;
    assert_eq!(status, 400, "at most two secrets");
    let (status, s) = server.admin_post(&format!("{base}/{first}/lifecycle/deactivate"), &json!({})).await;
    assert_eq!((status, s["status"].as_str().unwrap()), (200, "INACTIVE"));
    assert_eq!(token(first_plain.clone()).await, 401, "deactivated secret refused at once");
    let (status, _) = server.admin_post(&format!("{base}/{first}/lifecycle/activate"), &json!({})).await;
    assert_eq!(status, 200);
    assert_eq!(token(first_plain).await, 200);
    server.admin_post(&format!("{base}/{first}/lifecycle/deactivate"), &json!({})).await;
    let (status, _) = server.admin_delete(&format!("{base}/{first}")).await;
    assert_eq!(status, 204);
    let (status, _) = server.admin_get(&format!("{base}/{first}")).await;
    assert_eq!(status, 404);
    // A private_key_jwt app has no secrets to add.
    let jwt = server.register_jwt_app(&[rsa_key()], &[]).await;
    let (status, _) = server.admin_post(&format!("/api/v1/apps/{jwt}/credentials/secrets"), &json!({})).await;
    assert_eq!(status, 400);
    server.stop().await;
}
