//! The Apps API: Okta's app shape, validation, pagination, lifecycle, and that every change reaches the
//! token endpoint on the very next request.
use crate::harness::*;
use reqwest::Method;
use serde_json::{Value, json};

async fn jwt_token(server: &TestServer, client_id: &str) -> (u16, Value) {
    let key = rsa_key();
    let assertion = sign(key, &assertion_claims(client_id, &server.url("/oauth2/v1/token")));
    server.token_with(&assertion, "okta.users.read").await
}

#[tokio::test]
async fn create_returns_okta_shape_and_the_app_is_a_client() {
    let server = TestServer::start().await;
    let (status, app) = server.admin_post("/api/v1/apps", &jwt_app_body("Billing svc", &[rsa_key()])).await;
    assert_eq!(status, 200, "{app}");
    let id = app["id"].as_str().unwrap();
    assert!(id.starts_with("0oa"));
    assert_eq!(app["name"], "oidc_client");
    assert_eq!(app["label"], "Billing svc");
    assert_eq!(app["status"], "ACTIVE");
    assert_eq!(app["signOnMode"], "OPENID_CONNECT");
    assert_eq!(app["credentials"]["oauthClient"]["client_id"], id);
    assert_eq!(app["credentials"]["oauthClient"]["autoKeyRotation"], true);
    assert_eq!(app["credentials"]["oauthClient"]["token_endpoint_auth_method"], "private_key_jwt");
    assert!(app["credentials"]["oauthClient"].get("client_secret").is_none());
    assert_eq!(app["settings"]["oauthClient"]["application_type"], "service");
    assert_eq!(app["settings"]["oauthClient"]["dpop_bound_access_tokens"], false);
    assert_eq!(app["settings"]["oauthClient"]["jwks"]["keys"].as_array().unwrap().len(), 1);
    assert!(app["created"].as_str().unwrap().ends_with('Z'));
    assert!(app["_links"]["deactivate"]["href"].as_str().unwrap().ends_with("/lifecycle/deactivate"));
    // Same record through DCR, and it gets tokens once granted.
    let (status, client) = server.admin_get(&format!("/oauth2/v1/clients/{id}")).await;
    assert_eq!((status, client["client_name"].as_str().unwrap()), (200, "Billing svc"));
    server.grant(id, &["okta.users.read"]).await;
    let (status, body) = jwt_token(&server, id).await;
    assert_eq!(status, 200, "{body}");
    let (status, got) = server.admin_get(&format!("/api/v1/apps/{id}")).await;
    assert_eq!((status, &got["label"]), (200, &json!("Billing svc")));
    let (status, body) = server.admin_get("/api/v1/apps/0oanope").await;
    assert_eq!(status, 404);
    assert_eq!(body["errorCode"], "E0000007");
    assert_eq!(body["errorSummary"], "Not found: Resource not found: 0oanope (App)");
    server.stop().await;
}

#[tokio::test]
async fn create_with_client_id_secret_and_inactive() {
    let server = TestServer::start().await;
    let mut body = json!({
        "name": "oidc_client", "label": "secret svc", "signOnMode": "OPENID_CONNECT", "unknownField": 1,
        "credentials": { "oauthClient": { "token_endpoint_auth_method": "client_secret_basic", "client_id": "my-client.1", "client_secret": "abcdefghijklmnopq" } },
        "settings": { "oauthClient": { "application_type": "service", "grant_types": ["client_credentials"] } },
    });
    let (status, app) = server.admin_post("/api/v1/apps?activate=false", &body).await;
    assert_eq!(status, 200, "{app}");
    assert_eq!(app["status"], "INACTIVE");
    assert_eq!(app["credentials"]["oauthClient"]["client_id"], "my-client.1");
    assert_eq!(app["credentials"]["oauthClient"]["client_secret"], "abcdefghijklmnopq");
    assert_ne!(app["id"], "my-client.1");
    // Taken client_id.
    let (status, err) = server.admin_post("/api/v1/apps", &body).await;
    assert_eq!((status, err["errorCode"].as_str().unwrap()), (400, "E0000001"), "{err}");
    // A short secret, a secret with private_key_jwt.
    body["credentials"]["oauthClient"]["client_id"] = json!("another-one");
    body["credentials"]["oauthClient"]["client_secret"] = json!("short");
    let (status, err) = server.admin_post("/api/v1/apps", &body).await;
    assert_eq!(status, 400);
    assert_eq!(err["errorSummary"], "Api validation failed: client_secret");
    assert_eq!(
        err["errorCauses"][0]["errorSummary"],
        "client_secret: 'client_secret' must be at least '14' characters long."
    );
    let mut jwt = jwt_app_body("x", &[rsa_key()]);
    jwt["credentials"]["oauthClient"]["client_secret"] = json!("abcdefghijklmnopq");
    let (status, err) = server.admin_post("/api/v1/apps", &jwt).await;
    assert_eq!(status, 400);
    assert_eq!(
        err["errorCauses"][0]["errorSummary"],
        "'client_secret' can't be used when 'token_endpoint_auth_method' is 'private_key_jwt'."
    );
    let (_, list) = server.admin_get("/api/v1/apps").await;
    assert_eq!(list.as_array().unwrap().len(), 1, "refusals wrote nothing");
    server.stop().await;
}

#[tokio::test]
async fn bad_bodies_are_refused_naming_the_field() {
    let server = TestServer::start().await;
    let good = jwt_app_body("svc", &[rsa_key()]);
    let cases: Vec<(Value, &str)> = vec![
        (
            {
                let mut b = good.clone();
                b.as_object_mut().unwrap().remove("label");
                b
            },
            "label: The field cannot be left blank",
        ),
        (
            {
                let mut b = good.clone();
                b["label"] = json!(5);
                b
            },
            "label: The field must be a string",
        ),
        (
            {
                let mut b = good.clone();
                b["signOnMode"] = json!("SAML_2_0");
                b
            },
            "signOnMode",
        ),
        (
            {
                let mut b = good.clone();
                b.as_object_mut().unwrap().remove("settings");
                b
            },
            "settings.oauthClient: The field cannot be left blank",
        ),
        (
            {
                let mut b = good.clone();
                b["settings"]["oauthClient"]["grant_types"] = json!("client_credentials");
                b
            },
            "grant_types: must be an array of strings",
        ),
        (
            {
                let mut b = good.clone();
                b["settings"]["oauthClient"]["dpop_bound_access_tokens"] = json!("yes");
                b
            },
            "dpop_bound_access_tokens: The field must be a boolean",
        ),
        (
            {
                let mut b = good.clone();
                b["settings"]["oauthClient"]["jwks"] =
                    json!({"keys": [serde_json::to_value(rsa_key().to_jwk().unwrap()).unwrap()]});
                b
            },
            "private key material",
        ),
        (
            {
                let mut b = good.clone();
                b["settings"]["oauthClient"].as_object_mut().unwrap().remove("jwks");
                b
            },
            "jwks: a private_key_jwt client needs",
        ),
        (
            {
                let mut b = good.clone();
                b["credentials"]["oauthClient"]["client_id"] = json!("ALL_CLIENTS");
                b
            },
            "client_id:",
        ),
    ];
    for (body, cause) in cases {
        let (status, err) = server.admin_post("/api/v1/apps", &body).await;
        assert_eq!(status, 400, "{body} -> {err}");
        assert_eq!(err["errorCode"], "E0000001");
        let got = err["errorCauses"][0]["errorSummary"].as_str().unwrap();
        assert!(got.contains(cause), "{got:?} should contain {cause:?}");
    }
    let r = server
        .http
        .post(server.url("/api/v1/apps"))
        .header("authorization", format!("SSWS {ADMIN}"))
        .body("{not json")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 400);
    assert_eq!(r.json::<Value>().await.unwrap()["errorCode"], "E0000003");
    let big = "x".repeat(70 * 1024);
    let (status, _) = server.admin_post("/api/v1/apps", &json!({ "label": big })).await;
    assert_eq!(status, 413);
    let (_, list) = server.admin_get("/api/v1/apps").await;
    assert_eq!(list, json!([]));
    server.stop().await;
}

#[tokio::test]
async fn list_pages_filters_and_searches() {
    let server = TestServer::start().await;
    let mut ids = Vec::new();
    for i in 0..7 {
        let label = if i % 2 == 0 { format!("Alpha {i}") } else { format!("Beta {i}") };
        let (status, app) = server.admin_post("/api/v1/apps", &jwt_app_body(&label, &[rsa_key()])).await;
        assert_eq!(status, 200);
        ids.push(app["id"].as_str().unwrap().to_string());
    }
    server.admin_post(&format!("/api/v1/apps/{}/lifecycle/deactivate", ids[0]), &json!({})).await;
    let mut seen = Vec::new();
    let mut url = "/api/v1/apps?limit=3".to_string();
    let mut pages = 0;
    loop {
        let (status, headers, page) = server.call(Method::GET, &url, None, Auth::Ssws).await;
        assert_eq!(status, 200);
        pages += 1;
        assert!(page.as_array().unwrap().len() <= 3);
        seen.extend(page.as_array().unwrap().iter().map(|a| a["id"].as_str().unwrap().to_string()));
        match next_link(&headers) {
            Some(next) => url = next,
            None => break,
        }
    }
    assert_eq!(pages, 3);
    let mut expected = ids.clone();
    expected.sort();
    assert_eq!(seen, expected, "every app exactly once");
    let (_, alpha) = server.admin_get("/api/v1/apps?q=alpha").await;
    assert_eq!(alpha.as_array().unwrap().len(), 4);
    let (_, active) = server.admin_get("/api/v1/apps?filter=status%20eq%20%22ACTIVE%22").await;
    assert_eq!(active.as_array().unwrap().len(), 6);
    let (_, inactive) = server.admin_get("/api/v1/apps?filter=status+eq+%22INACTIVE%22&q=Alpha").await;
    assert_eq!(inactive.as_array().unwrap().len(), 1);
    let (status, err) = server.admin_get("/api/v1/apps?filter=name%20eq%20%22x%22").await;
    assert_eq!((status, err["errorCode"].as_str().unwrap()), (400, "E0000031"));
    assert_eq!(err["errorSummary"], "Invalid search criteria.");
    server.stop().await;
}

#[tokio::test]
async fn lifecycle_and_delete_take_effect_at_once() {
    let server = TestServer::start().await;
    let (_, app) = server.admin_post("/api/v1/apps", &jwt_app_body("svc", &[rsa_key()])).await;
    let id = app["id"].as_str().unwrap().to_string();
    server.grant(&id, &["okta.users.read"]).await;
    let (status, body) = jwt_token(&server, &id).await;
    assert_eq!(status, 200, "{body}");
    let token = body["access_token"].as_str().unwrap().to_string();
    let (status, _, _) = server.call(Method::GET, "/api/v1/users", None, Auth::Bearer(&token)).await;
    assert_eq!(status, 200);
    // Another (active) client introspects the token: active now, inactive once the app is deactivated.
    let watcher = server.register_jwt_app(&[rsa_key()], &[]).await;
    let introspect = |token: String| {
        let server = &server;
        let watcher = watcher.clone();
        async move {
            let assertion = sign(rsa_key(), &assertion_claims(&watcher, &server.url("/oauth2/v1/introspect")));
            let form = [
                ("token", token.as_str()),
                ("client_assertion_type", JWT_BEARER),
                ("client_assertion", assertion.as_str()),
            ];
            server.post_form("/oauth2/v1/introspect", &form).await
        }
    };
    assert_eq!(introspect(token.clone()).await.1["active"], true);
    // Delete while active is forbidden.
    let (status, err) = server.admin_delete(&format!("/api/v1/apps/{id}")).await;
    assert_eq!((status, err["errorCode"].as_str().unwrap()), (403, "E0000056"), "{err}");
    let (status, body) = server.admin_post(&format!("/api/v1/apps/{id}/lifecycle/deactivate"), &json!({})).await;
    assert_eq!((status, body), (200, json!({})));
    let (status, body) = jwt_token(&server, &id).await;
    assert_eq!(
        (status, body["error_description"].as_str().unwrap()),
        (401, "Invalid value for 'client_id' parameter.")
    );
    let (status, _, _) = server.call(Method::GET, "/api/v1/users", None, Auth::Bearer(&token)).await;
    assert_eq!(status, 401, "its tokens stop working");
    let (status, intro) = introspect(token.clone()).await;
    assert_eq!((status, intro), (200, json!({"active": false})));
    let (_, got) = server.admin_get(&format!("/api/v1/apps/{id}")).await;
    assert_eq!(got["status"], "INACTIVE");
    assert!(got["_links"]["activate"].is_object());
    server.admin_post(&format!("/api/v1/apps/{id}/lifecycle/activate"), &json!({})).await;
    let (status, _) = jwt_token(&server, &id).await;
    assert_eq!(status, 200);
    server.admin_post(&format!("/api/v1/apps/{id}/lifecycle/deactivate"), &json!({})).await;
    let (status, _) = server.admin_delete(&format!("/api/v1/apps/{id}")).await;
    assert_eq!(status, 204);
    let (status, _) = server.admin_get(&format!("/api/v1/apps/{id}")).await;
    assert_eq!(status, 404);
    let (status, _) = server.admin_post(&format!("/api/v1/apps/{id}/lifecycle/activate"), &json!({})).await;
    assert_eq!(status, 404);
    server.stop().await;
}

#[tokio::test]
async fn put_replaces_and_switching_to_jwks_uri_drops_keys() {
    // The jwks_uri below is on 127.0.0.1: allowed only with the outbound policy's opt-out.
    let server = TestServer::start_configured(|c| c.allow_private_fetch = true).await;
    let (_, app) = server.admin_post("/api/v1/apps", &jwt_app_body("svc", &[rsa_key()])).await;
    let id = app["id"].as_str().unwrap().to_string();
    server.grant(&id, &["okta.users.read"]).await;
    let key_id = app["settings"]["oauthClient"]["jwks"]["keys"][0]["id"].as_str().unwrap().to_string();
    // Same key again with a new label: key row kept.
    let (status, put) = server.admin_put(&format!("/api/v1/apps/{id}"), &jwt_app_body("renamed", &[rsa_key()])).await;
    assert_eq!(status, 200, "{put}");
    assert_eq!(put["label"], "renamed");
    assert_eq!(put["settings"]["oauthClient"]["jwks"]["keys"][0]["id"], key_id.as_str());
    // Switch to a jwks_uri: stored keys are deleted, and the old key no longer works.
    let mut uri = jwt_app_body("renamed", &[]);
    uri["settings"]["oauthClient"].as_object_mut().unwrap().remove("jwks");
    uri["settings"]["oauthClient"]["jwks_uri"] = json!("http://127.0.0.1:9/jwks.json");
    let (status, put) = server.admin_put(&format!("/api/v1/apps/{id}"), &uri).await;
    assert_eq!(status, 200, "{put}");
    assert_eq!(put["settings"]["oauthClient"]["jwks_uri"], "http://127.0.0.1:9/jwks.json");
    let (_, keys) = server.admin_get(&format!("/api/v1/apps/{id}/credentials/jwks")).await;
    assert_eq!(keys, json!({"jwks": {"keys": []}}));
    let (status, _) = jwt_token(&server, &id).await;
    assert_eq!(status, 401);
    // And back to keys.
    let (status, _) = server.admin_put(&format!("/api/v1/apps/{id}"), &jwt_app_body("renamed", &[rsa_key()])).await;
    assert_eq!(status, 200);
    let (status, body) = jwt_token(&server, &id).await;
    assert_eq!(status, 200, "{body}");
    // Switching to a secret shows a new secret once.
    let mut secret = jwt_app_body("renamed", &[]);
    secret["credentials"]["oauthClient"]["token_endpoint_auth_method"] = json!("client_secret_post");
    secret["settings"]["oauthClient"].as_object_mut().unwrap().remove("jwks");
    let (status, put) = server.admin_put(&format!("/api/v1/apps/{id}"), &secret).await;
    assert_eq!(status, 200, "{put}");
    assert_eq!(put["credentials"]["oauthClient"]["client_secret"].as_str().unwrap().len(), 48);
    let (_, got) = server.admin_get(&format!("/api/v1/apps/{id}")).await;
    assert!(got["credentials"]["oauthClient"].get("client_secret").is_none());
    let (status, err) = server.admin_put("/api/v1/apps/0oanope", &jwt_app_body("x", &[rsa_key()])).await;
    assert_eq!((status, err["errorCode"].as_str().unwrap()), (404, "E0000007"));
    server.stop().await;
}

#[tokio::test]
async fn bearer_scopes_and_restart() {
    let server = TestServer::start().await;
    let manage = server.org_access_token(&["okta.apps.manage"]).await;
    let read = server.org_access_token(&["okta.apps.read"]).await;
    let body = jwt_app_body("via bearer", &[rsa_key()]);
    let (status, _, app) = server.call(Method::POST, "/api/v1/apps", Some(&body), Auth::Bearer(&manage)).await;
    assert_eq!(status, 200, "{app}");
    let id = app["id"].as_str().unwrap().to_string();
    let (status, _, _) = server.call(Method::GET, &format!("/api/v1/apps/{id}"), None, Auth::Bearer(&read)).await;
    assert_eq!(status, 200);
    let (status, headers, body) = server.call(Method::POST, "/api/v1/apps", Some(&body), Auth::Bearer(&read)).await;
    assert_eq!(status, 403);
    assert_eq!(body, Value::Null);
    let challenge = headers.get("www-authenticate").unwrap().to_str().unwrap();
    assert!(
        challenge.contains("scope=\"okta.apps.manage\"") && challenge.contains("insufficient_scope"),
        "{challenge}"
    );
    let (status, _, _) =
        server.call(Method::POST, &format!("/api/v1/apps/{id}/lifecycle/deactivate"), None, Auth::Bearer(&read)).await;
    assert_eq!(status, 403);
    let (status, _, _) = server
        .call(Method::POST, &format!("/api/v1/apps/{id}/lifecycle/deactivate"), None, Auth::Bearer(&manage))
        .await;
    assert_eq!(status, 200);
    let dir = server.stop().await;
    let server = TestServer::start_in(dir).await;
    let (status, got) = server.admin_get(&format!("/api/v1/apps/{id}")).await;
    assert_eq!(
        (status, got["status"].as_str().unwrap(), got["label"].as_str().unwrap()),
        (200, "INACTIVE", "via bearer")
    );
    server.stop().await;
}

/// Creates racing for one client id (each passes the handler's look-up before any commits): one wins,
/// the others get Okta's E0000001 with the usual cause, never the database's own message.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_lost_client_id_race_is_okta_validation_not_a_database_message() {
    let server = std::sync::Arc::new(TestServer::start().await);
    let mut body = jwt_app_body("racer", &[rsa_key()]);
    body["credentials"]["oauthClient"]["client_id"] = json!("racing-client");
    let mut tasks = tokio::task::JoinSet::new();
    for _ in 0..12 {
        let (server, body) = (server.clone(), body.clone());
        tasks.spawn(async move { server.admin_post("/api/v1/apps", &body).await });
    }
    let mut created = 0;
    while let Some(done) = tasks.join_next().await {
        let (status, reply) = done.unwrap();
        if status == 200 {
            created += 1;
            continue;
        }
        assert_eq!(status, 400, "{reply}");
        assert_eq!(reply["errorCode"], "E0000001", "{reply}");
        assert_eq!(reply["errorSummary"], "Api validation failed: client_id", "{reply}");
        assert_eq!(
            reply["errorCauses"][0]["errorSummary"],
            "client_id: An object with this field already exists in the current organization"
        );
        let text = reply.to_string().to_lowercase();
        assert!(!text.contains("unique") && !text.contains("constraint"), "{reply}");
    }
    assert_eq!(created, 1, "exactly one app holds the client id");
}
