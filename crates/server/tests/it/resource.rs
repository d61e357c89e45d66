//! The protected API, introspection and revocation, discovery.
use crate::harness::*;
use serde_json::{Value, json};

async fn org_token(server: &TestServer, scopes: &[&str], ask: &str) -> (String, String) {
    let key = rsa_key();
    let client_id = server.register_jwt_app(&[key], scopes).await;
    let assertion = sign(key, &assertion_claims(&client_id, &server.url("/oauth2/v1/token")));
    let (status, body) = server.token_with(&assertion, ask).await;
    assert_eq!(status, 200, "{body}");
    (client_id, body["access_token"].as_str().unwrap().to_string())
}

#[tokio::test]
async fn users_api_needs_a_token_with_the_scope() {
    let server = TestServer::start().await;
    let (status, _) = server
        .admin_post("/api/v1/users?activate=true", &json!({"profile": {"firstName": "Ada", "lastName": "L", "email": "ada@example.com", "login": "ada@example.com"}}))
        .await;
    assert_eq!(status, 200);
    let (_, token) = org_token(&server, &["okta.users.read"], "okta.users.read").await;
    let r = server.http.get(server.url("/api/v1/users")).bearer_auth(&token).send().await.unwrap();
    assert_eq!(r.status(), 200);
    let users: Value = r.json().await.unwrap();
    assert_eq!(users[0]["profile"]["login"], "ada@example.com");
    assert_eq!(users[0]["status"], "ACTIVE");
    // No credentials: 403 E0000005.
    let r = server.http.get(server.url("/api/v1/users")).send().await.unwrap();
    assert_eq!(r.status(), 403);
    assert_eq!(r.json::<Value>().await.unwrap()["errorCode"], "E0000005");
    // A bad SSWS token: 401 E0000011.
    let r = server.http.get(server.url("/api/v1/users")).header("authorization", "SSWS wrong").send().await.unwrap();
    assert_eq!(r.status(), 401);
    assert_eq!(r.json::<Value>().await.unwrap()["errorSummary"], "Invalid token provided");
    // A garbage Bearer token: 401 with an invalid_token challenge (Okta's SDKs re-authenticate on 401).
    let r = server.http.get(server.url("/api/v1/users")).bearer_auth("abc.def.ghi").send().await.unwrap();
    assert_eq!(r.status(), 401);
    assert!(r.headers()["www-authenticate"].to_str().unwrap().contains("error=\"invalid_token\""));
    // The right token without the scope: 403 insufficient_scope, no body.
    let (_, apps_token) = org_token(&server, &["okta.apps.read"], "okta.apps.read").await;
    let r = server.http.get(server.url("/api/v1/users")).bearer_auth(&apps_token).send().await.unwrap();
    assert_eq!(r.status(), 403);
    let challenge = r.headers()["www-authenticate"].to_str().unwrap().to_string();
    assert!(challenge.contains("error=\"insufficient_scope\""), "{challenge}");
    assert!(challenge.contains("scope=\"okta.users.read\""), "{challenge}");
    assert!(challenge.contains("resource=\"/api/v1/users\""), "{challenge}");
    server.stop().await;
}

#[tokio::test]
async fn introspection_and_revocation() {
    let server = TestServer::start().await;
    let (client_id, token) = org_token(&server, &["okta.users.read"], "okta.users.read").await;
    let key = rsa_key();
    let introspect = |t: String| {
        let a = sign(key, &assertion_claims(&client_id, &server.url("/oauth2/v1/introspect")));
        let server = &server;
        async move {
            server
                .post_form(
                    "/oauth2/v1/introspect",
                    &[
                        ("token", t.as_str()),
                        ("token_type_hint", "access_token"),
                        ("client_assertion_type", JWT_BEARER),
                        ("client_assertion", a.as_str()),
                    ],
                )
                .await
        }
    };
    let (status, body) = introspect(token.clone()).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["active"], true);
    assert_eq!(body["client_id"], client_id.as_str());
    assert_eq!(body["sub"], client_id.as_str());
    assert_eq!(body["scope"], "okta.users.read");
    assert_eq!(body["token_type"], "Bearer");
    let (_, body) = introspect("garbage".into()).await;
    assert_eq!(body, json!({"active": false}));
    // An assertion meant for the token endpoint is refused at introspect.
    let wrong_aud = sign(key, &assertion_claims(&client_id, &server.url("/oauth2/v1/token")));
    let (status, body) = server
        .post_form(
            "/oauth2/v1/introspect",
            &[("token", token.as_str()), ("client_assertion_type", JWT_BEARER), ("client_assertion", &wrong_aud)],
        )
        .await;
    assert_eq!(status, 401, "{body}");
    // Another client cannot revoke it.
    let (other_id, _) = org_token(&server, &["okta.users.read"], "okta.users.read").await;
    let a = sign(key, &assertion_claims(&other_id, &server.url("/oauth2/v1/revoke")));
    let r = server
        .http
        .post(server.url("/oauth2/v1/revoke"))
        .form(&[("token", token.as_str()), ("client_assertion_type", JWT_BEARER), ("client_assertion", &a)])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    assert_eq!(introspect(token.clone()).await.1["active"], true);
    // Its own client can.
    let a = sign(key, &assertion_claims(&client_id, &server.url("/oauth2/v1/revoke")));
    let r = server
        .http
        .post(server.url("/oauth2/v1/revoke"))
        .form(&[("token", token.as_str()), ("client_assertion_type", JWT_BEARER), ("client_assertion", &a)])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    assert_eq!(r.text().await.unwrap(), "");
    assert_eq!(introspect(token.clone()).await.1, json!({"active": false}));
    let r = server.http.get(server.url("/api/v1/users")).bearer_auth(&token).send().await.unwrap();
    assert_eq!(r.status(), 401, "a revoked token is refused by the API");
    server.stop().await;
}

#[tokio::test]
async fn discovery_documents() {
    let server = TestServer::start().await;
    let get = |p: &'static str| {
        let server = &server;
        async move {
            let r = server.http.get(server.url(p)).send().await.unwrap();
            (r.status().as_u16(), r.json::<Value>().await.unwrap())
        }
    };
    let (status, org) = get("/.well-known/openid-configuration").await;
    assert_eq!(status, 200);
    assert_eq!(org["issuer"], server.base.as_str());
    assert_eq!(org["token_endpoint"], server.url("/oauth2/v1/token"));
    assert_eq!(org["jwks_uri"], server.url("/oauth2/v1/keys"));
    assert_eq!(org["registration_endpoint"], server.url("/oauth2/v1/clients"));
    // Only what is served: the org token endpoint takes private_key_jwt alone, no endpoint that would 404.
    assert_eq!(org["token_endpoint_auth_methods_supported"], json!(["private_key_jwt"]));
    let all = json!(["client_secret_basic", "client_secret_post", "private_key_jwt"]);
    assert_eq!(org["introspection_endpoint_auth_methods_supported"], all);
    assert_eq!(org["revocation_endpoint_auth_methods_supported"], all);
    assert_eq!(org["grant_types_supported"], json!(["client_credentials"]));
    assert!(org["response_types_supported"].is_array() && org["subject_types_supported"].is_array());
    for absent in ["authorization_endpoint", "userinfo_endpoint", "end_session_endpoint", "response_modes_supported"] {
        assert!(org.get(absent).is_none(), "{absent} is advertised: {org}");
    }
    for path in [
        "/oauth2/default/.well-known/oauth-authorization-server",
        "/.well-known/oauth-authorization-server/oauth2/default",
        "/oauth2/default/.well-known/openid-configuration",
    ] {
        let (status, doc) = get(path).await;
        assert_eq!(status, 200, "{path}");
        assert_eq!(doc["issuer"], server.url("/oauth2/default"));
        assert_eq!(doc["token_endpoint"], server.url("/oauth2/default/v1/token"));
        assert_eq!(doc["registration_endpoint"], server.url("/oauth2/v1/clients"));
        assert!(doc["grant_types_supported"].as_array().unwrap().contains(&json!("client_credentials")));
        assert_eq!(
            doc["token_endpoint_auth_methods_supported"],
            json!(["client_secret_basic", "client_secret_post", "private_key_jwt"])
        );
        // Every URL advertised answers (a POST endpoint refuses an empty request, it does not 404).
        for (field, value) in doc.as_object().unwrap() {
            let Some(url) = value.as_str().filter(|_| field.ends_with("_endpoint") || field == "jwks_uri") else {
                continue;
            };
            let status = if field == "jwks_uri" {
                server.http.get(url).send().await.unwrap().status().as_u16()
            } else {
                server.http.post(url).send().await.unwrap().status().as_u16()
            };
            assert!(status != 404 && status != 405, "{path}: {field} {url} answers {status}");
        }
    }
    let (status, body) = get("/oauth2/nope/.well-known/openid-configuration").await;
    assert_eq!(status, 404);
    assert_eq!(body["errorSummary"], "Not found: Resource not found: nope (AuthorizationServer)");
    let health = server.http.get(server.url("/healthz")).send().await.unwrap();
    assert_eq!(health.status(), 200);
    server.stop().await;
}
