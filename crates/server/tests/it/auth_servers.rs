//! Custom authorization servers: create/replace/delete and the client policy, effective at once.
use crate::harness::*;
use reqwest::Method;
use serde_json::{Value, json};

async fn secret_token(server: &TestServer, as_id: &str, client_id: &str, secret: &str) -> (u16, Value) {
    server
        .post_form(
            &format!("/oauth2/{as_id}/v1/token"),
            &[
                ("grant_type", "client_credentials"),
                ("scope", "orders.read"),
                ("client_id", client_id),
                ("client_secret", secret),
            ],
        )
        .await
}

#[tokio::test]
async fn create_update_policy_delete() {
    let server = TestServer::start().await;
    // Validation first: nothing is created.
    let (status, err) = server.admin_post("/api/v1/authorizationServers", &json!({"name": "Orders"})).await;
    assert_eq!((status, err["errorCode"].as_str().unwrap()), (400, "E0000001"));
    assert_eq!(err["errorCauses"][0]["errorSummary"], "audiences: The field cannot be left blank");
    let (status, err) = server
        .admin_post("/api/v1/authorizationServers", &json!({"name": "Orders", "audiences": "api://orders"}))
        .await;
    assert_eq!(status, 400);
    assert_eq!(err["errorCauses"][0]["errorSummary"], "audiences: The field must be an array of strings");
    let (status, created) = server
        .admin_post(
            "/api/v1/authorizationServers",
            &json!({"name": "Orders", "description": "d", "audiences": ["api://orders"], "extra": true}),
        )
        .await;
    assert_eq!(status, 201, "{created}");
    let id = created["id"].as_str().unwrap().to_string();
    assert!(id.starts_with("aus"));
    assert_eq!(created["issuer"], server.url(&format!("/oauth2/{id}")));
    assert_eq!(created["accessTokenLifetimeSeconds"], 3600);
    assert!(created["credentials"]["signing"]["kid"].is_string());
    let (status, keys) = server.admin_get(&format!("/oauth2/{id}/v1/keys")).await;
    assert_eq!(status, 200);
    assert!(keys["keys"].as_array().unwrap().len() >= 2);
    server.create_scope(&id, "orders.read").await;
    let (client_id, secret) = server.register_secret_app().await;
    let (other_id, _) = server.register_secret_app().await;
    let (status, body) = secret_token(&server, &id, &client_id, &secret).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["expires_in"], 3600);
    assert_eq!(payload(body["access_token"].as_str().unwrap())["aud"], "api://orders");

    // Replace: lifetime within 300..=86400 (the server's own setting: tokens take the rule's lifetime).
    let (status, err) = server
        .admin_put(
            &format!("/api/v1/authorizationServers/{id}"),
            &json!({"name": "Orders", "audiences": ["api://orders"], "accessTokenLifetimeSeconds": 299}),
        )
        .await;
    assert_eq!((status, err["errorCode"].as_str().unwrap()), (400, "E0000001"));
    let (status, put) = server
        .admin_put(
            &format!("/api/v1/authorizationServers/{id}"),
            &json!({"name": "Orders v2", "audiences": ["api://orders2"], "accessTokenLifetimeSeconds": 600}),
        )
        .await;
    assert_eq!(status, 200, "{put}");
    assert_eq!(put["name"], "Orders v2");
    let (_, body) = secret_token(&server, &id, &client_id, &secret).await;
    assert_eq!(body["expires_in"], 3600, "the Default Policy Rule's lifetime");
    assert_eq!(payload(body["access_token"].as_str().unwrap())["aud"], "api://orders2");

    // Policy: default ALL_CLIENTS; restricting to another client refuses this one at once.
    let (status, policies) = server.admin_get(&format!("/api/v1/authorizationServers/{id}/policies")).await;
    assert_eq!(status, 200);
    assert_eq!(policies[0]["conditions"]["clients"]["include"], json!(["ALL_CLIENTS"]));
    let pid = policies[0]["id"].as_str().unwrap().to_string();
    let ppath = format!("/api/v1/authorizationServers/{id}/policies/{pid}");
    let (status, err) =
        server.admin_put(&ppath, &json!({"conditions": {"clients": {"include": ["0oanope1234"]}}})).await;
    assert_eq!((status, err["errorCode"].as_str().unwrap()), (400, "E0000001"));
    let (status, err) = server.admin_put(&ppath, &json!({"conditions": {}})).await;
    assert_eq!(status, 400, "{err}");
    let (status, pol) = server.admin_put(&ppath, &json!({"conditions": {"clients": {"include": [other_id]}}})).await;
    assert_eq!(status, 200, "{pol}");
    let (status, body) = secret_token(&server, &id, &client_id, &secret).await;
    assert_eq!((status, body["error"].as_str().unwrap()), (400, "access_denied"));
    let (_, got) = server.admin_get(&ppath).await;
    assert_eq!(got["conditions"]["clients"]["include"], json!([other_id]));
    let (status, _) = server.admin_get(&format!("/api/v1/authorizationServers/{id}/policies/00pnope")).await;
    assert_eq!(status, 404);

    // Survives a restart.
    let dir = server.stop().await;
    let server = TestServer::start_in(dir).await;
    let (status, got) = server.admin_get(&format!("/api/v1/authorizationServers/{id}")).await;
    assert_eq!((status, got["accessTokenLifetimeSeconds"].as_i64()), (200, Some(600)));
    let (_, got) = server.admin_get(&ppath).await;
    assert_eq!(got["conditions"]["clients"]["include"], json!([other_id]));

    // Delete: gone from the API, discovery and the token endpoint.
    let (status, _) = server.admin_delete(&format!("/api/v1/authorizationServers/{id}")).await;
    assert_eq!(status, 204);
    let (status, err) = server.admin_get(&format!("/api/v1/authorizationServers/{id}")).await;
    assert_eq!(status, 404);
    assert_eq!(err["errorSummary"], format!("Not found: Resource not found: {id} (AuthorizationServer)"));
    let (status, _) = server.admin_get(&format!("/oauth2/{id}/v1/keys")).await;
    assert_eq!(status, 404);
    let (status, _) = secret_token(&server, &id, &client_id, &secret).await;
    assert_eq!(status, 404);
    let (status, _) = server.admin_delete(&format!("/api/v1/authorizationServers/{id}")).await;
    assert_eq!(status, 404);
    server.stop().await;
}

#[tokio::test]
async fn server_admin_scopes() {
    let server = TestServer::start().await;
    let read = server.org_access_token(&["okta.authorizationServers.read"]).await;
    let manage = server.org_access_token(&["okta.authorizationServers.manage"]).await;
    let body = json!({"name": "S", "audiences": ["api://s"]});
    let (status, _, _) =
        server.call(Method::POST, "/api/v1/authorizationServers", Some(&body), Auth::Bearer(&read)).await;
    assert_eq!(status, 403);
    let (status, _, created) =
        server.call(Method::POST, "/api/v1/authorizationServers", Some(&body), Auth::Bearer(&manage)).await;
    assert_eq!(status, 201, "{created}");
    let id = created["id"].as_str().unwrap();
    let (status, _, _) = server
        .call(Method::GET, &format!("/api/v1/authorizationServers/{id}/policies"), None, Auth::Bearer(&read))
        .await;
    assert_eq!(status, 200);
    let (status, _, _) =
        server.call(Method::DELETE, &format!("/api/v1/authorizationServers/{id}"), None, Auth::Bearer(&read)).await;
    assert_eq!(status, 403);
    server.stop().await;
}
