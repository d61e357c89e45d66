//! Management-API hardening: `Authorization` values as real clients send them, no caching of answers
//! that carry a secret, no service app without client authentication, and input the database cannot hold
//! (a NUL character) refused in Okta's shape before it reaches the store, on SQLite and PostgreSQL.
use crate::harness::*;
use reqwest::Method;
use reqwest::header::HeaderMap;
use serde_json::{Value, json};

async fn get_with(server: &TestServer, path: &str, authorization: &str) -> (u16, Value) {
    let r = server.http.get(server.url(path)).header("authorization", authorization).send().await.unwrap();
    let status = r.status().as_u16();
    (status, r.json().await.unwrap_or(Value::Null))
}

#[tokio::test]
async fn authorization_schemes_as_clients_send_them() {
    let server = TestServer::start().await;
    // The Okta Python SDK 3.4.6 in SSWS mode sends no space; others send several, a tab, or lower case.
    for value in [
        format!("SSWS{ADMIN}"),
        format!("SSWS  {ADMIN}"),
        format!("ssws {ADMIN}"),
        format!("SSWS\t{ADMIN}"),
        format!("SSWS {ADMIN} "),
    ] {
        let (status, body) = get_with(&server, "/api/v1/apps", &value).await;
        assert_eq!(status, 200, "{value:?}: {body}");
    }
    let token = server.org_access_token(&["okta.users.read"]).await;
    for value in [
        format!("Bearer {token}"),
        format!("bearer {token}"),
        format!("BEARER {token}"),
        format!("Bearer   {token}"),
        format!("Bearer\t{token}"),
        format!("bEaReR \t {token}"),
    ] {
        let (status, body) = get_with(&server, "/api/v1/users", &value).await;
        assert_eq!(status, 200, "{value:?}: {body}");
    }
    // Still refused as Okta refuses them: no separator after Bearer, a scheme alone, another scheme.
    for value in [format!("Bearer{token}"), "SSWS".to_string(), "Bearer".to_string(), format!("Basic {ADMIN}")] {
        let (status, body) = get_with(&server, "/api/v1/users", &value).await;
        assert_eq!((status, &body["errorCode"]), (403, &json!("E0000005")), "{value:?}");
    }
    // A wrong token after a good scheme is a bad token (401), however it is spaced.
    let (status, body) = get_with(&server, "/api/v1/apps", "SSWSnot-a-token").await;
    assert_eq!((status, &body["errorCode"]), (401, &json!("E0000011")));
    let (status, _) = get_with(&server, "/api/v1/apps", "bearer\tnot.a.jwt").await;
    assert_eq!(status, 401);
}

fn assert_no_store(what: &str, headers: &HeaderMap) {
    assert_eq!(headers.get("cache-control").and_then(|v| v.to_str().ok()), Some("no-store"), "{what}");
    assert_eq!(headers.get("pragma").and_then(|v| v.to_str().ok()), Some("no-cache"), "{what}");
}

fn secret_app_body(label: &str) -> Value {
    json!({
        "name": "oidc_client",
        "label": label,
        "signOnMode": "OPENID_CONNECT",
        "credentials": { "oauthClient": { "token_endpoint_auth_method": "client_secret_basic" } },
        "settings": { "oauthClient": { "application_type": "service", "grant_types": ["client_credentials"] } },
    })
}

#[tokio::test]
async fn answers_with_a_secret_are_not_stored() {
    let server = TestServer::start().await;
    let dcr = json!({
        "client_name": "secret service",
        "application_type": "service",
        "token_endpoint_auth_method": "client_secret_basic",
    });
    let (status, h, client) = server.call(Method::POST, "/oauth2/v1/clients", Some(&dcr), Auth::Ssws).await;
    assert_eq!(status, 201, "{client}");
    assert!(client["client_secret"].is_string());
    assert_no_store("DCR create", &h);
    let client_id = client["client_id"].as_str().unwrap();

    let path = format!("/oauth2/v1/clients/{client_id}/lifecycle/newSecret");
    let (status, h, body) = server.call(Method::POST, &path, None, Auth::Ssws).await;
    assert_eq!(status, 200, "{body}");
    assert!(body["client_secret"].is_string());
    assert_no_store("DCR newSecret", &h);

    let (status, h, app) =
        server.call(Method::POST, "/api/v1/apps", Some(&secret_app_body("with secret")), Auth::Ssws).await;
    assert_eq!(status, 200, "{app}");
    assert!(app["credentials"]["oauthClient"]["client_secret"].is_string());
    assert_no_store("app create", &h);
    let app_id = app["id"].as_str().unwrap();

    let path = format!("/api/v1/apps/{app_id}/credentials/secrets");
    let (status, h, body) = server.call(Method::POST, &path, Some(&json!({})), Auth::Ssws).await;
    assert_eq!(status, 201, "{body}");
    assert!(body["client_secret"].is_string());
    assert_no_store("new app secret", &h);

    let (status, h, body) =
        server.call(Method::POST, "/api/v1/api-tokens", Some(&json!({ "name": "ci" })), Auth::Ssws).await;
    assert_eq!(status, 201, "{body}");
    assert!(body["token"].is_string());
    assert_no_store("API token create", &h);

    // Reading the same records back carries no secret, and needs no such header.
    let (status, h, body) = server.call(Method::GET, &format!("/api/v1/apps/{app_id}"), None, Auth::Ssws).await;
    assert_eq!(status, 200);
    assert!(body["credentials"]["oauthClient"].get("client_secret").is_none());
    assert!(h.get("pragma").is_none());
}

#[tokio::test]
async fn service_apps_cannot_register_without_client_authentication() {
    let server = TestServer::start().await;
    let dcr = json!({
        "client_name": "no auth",
        "application_type": "service",
        "grant_types": ["client_credentials"],
        "token_endpoint_auth_method": "none",
    });
    let (status, body) = server.admin_post("/oauth2/v1/clients", &dcr).await;
    assert_eq!((status, &body["error"]), (400, &json!("invalid_client_metadata")), "{body}");
    assert!(body["error_description"].as_str().unwrap().contains("'none' can't be used by a service application"));
    // A browser app (no client_credentials) may still be public.
    let spa = json!({
        "client_name": "spa",
        "application_type": "browser",
        "token_endpoint_auth_method": "none",
        "redirect_uris": ["https://spa.example/cb"],
    });
    let (status, body) = server.admin_post("/oauth2/v1/clients", &spa).await;
    assert_eq!(status, 201, "{body}");

    let mut app = secret_app_body("no auth");
    app["credentials"]["oauthClient"]["token_endpoint_auth_method"] = json!("none");
    let (status, body) = server.admin_post("/api/v1/apps", &app).await;
    assert_eq!((status, &body["errorCode"]), (400, &json!("E0000001")), "{body}");
    let cause = body["errorCauses"][0]["errorSummary"].as_str().unwrap();
    assert!(cause.contains("'none' can't be used by a service application"), "{cause}");
    // Nor can an existing app be switched to it.
    let (status, created) = server.admin_post("/api/v1/apps", &jwt_app_body("keys", &[rsa_key()])).await;
    assert_eq!(status, 200, "{created}");
    let mut changed = jwt_app_body("keys", &[rsa_key()]);
    changed["credentials"]["oauthClient"]["token_endpoint_auth_method"] = json!("none");
    let (status, body) = server.admin_put(&format!("/api/v1/apps/{}", created["id"].as_str().unwrap()), &changed).await;
    assert_eq!((status, &body["errorCode"]), (400, &json!("E0000001")), "{body}");
}

/// Asserts a clean 4xx in Okta's management shape with `code`.
fn assert_refused(what: &str, status: u16, body: &Value, want: u16, code: &str) {
    assert_eq!(status, want, "{what}: {body}");
    assert_eq!(body["errorCode"], code, "{what}: {body}");
}

#[tokio::test]
async fn nul_characters_are_refused_before_the_store() {
    let server = TestServer::start().await;
    let (_, app) = server.admin_post("/api/v1/apps", &jwt_app_body("nul", &[rsa_key()])).await;
    let app_id = app["id"].as_str().unwrap().to_string();

    // JSON strings and member names in bodies.
    let mut label = jwt_app_body("a\u{0}b", &[rsa_key()]);
    let (status, body) = server.admin_post("/api/v1/apps", &label).await;
    assert_refused("app label", status, &body, 400, "E0000001");
    assert_eq!(body["errorCauses"][0]["errorSummary"], "label: The value must not contain the NUL character (U+0000).");
    label["label"] = json!("ok");
    label["settings"]["oauthClient"]["redirect_uris"] = json!(["https://x.example/\u{0}"]);
    let (status, body) = server.admin_post("/api/v1/apps", &label).await;
    assert_refused("redirect uri", status, &body, 400, "E0000001");
    let users = [
        json!({ "profile": { "login": "a\u{0}@example.com", "email": "a@example.com" } }),
        json!({ "profile": { "login": "b@example.com", "firstName": "B\u{0}" } }),
        json!({ "profile": { "login": "c@example.com", "nick\u{0}name": "c" } }),
    ];
    for user in &users {
        let (status, body) = server.admin_post("/api/v1/users", user).await;
        assert_refused("user profile", status, &body, 400, "E0000001");
    }
    let (status, body) = server.admin_post("/api/v1/api-tokens", &json!({ "name": "x\u{0}" })).await;
    assert_refused("token name", status, &body, 400, "E0000001");
    let (status, body) =
        server.admin_post("/api/v1/authorizationServers", &json!({ "name": "s\u{0}", "audiences": ["api"] })).await;
    assert_refused("server name", status, &body, 400, "E0000001");
    let (status, body) = server
        .admin_post(
            &format!("/api/v1/apps/{app_id}/grants"),
            &json!({ "scopeId": "okta.users.read\u{0}", "issuer": server.issuer }),
        )
        .await;
    assert_refused("grant scope", status, &body, 400, "E0000001");
    let (status, body) = server.admin_post("/oauth2/v1/clients", &json!({ "client_name": "c\u{0}" })).await;
    assert_refused("DCR name", status, &body, 400, "E0000001");

    // Ids in paths: no such resource can exist.
    for path in [
        "/api/v1/apps/0oa%00".to_string(),
        format!("/api/v1/apps/{app_id}%00/grants"),
        format!("/api/v1/apps/{app_id}/credentials/jwks/%00"),
        format!("/api/v1/apps/{app_id}/credentials/secrets/x%00y"),
        "/api/v1/users/%00".to_string(),
        "/api/v1/users/a%00@example.com".to_string(),
        "/api/v1/api-tokens/%00".to_string(),
        "/api/v1/authorizationServers/%00".to_string(),
        "/api/v2/apps/%00".to_string(),
    ] {
        let (status, body) = server.admin_get(&path).await;
        assert_refused(&path, status, &body, 404, "E0000007");
    }
    let (status, _, body) = server.call(Method::GET, "/oauth2/v1/clients/%00", None, Auth::Ssws).await;
    assert_refused("DCR client id", status, &body, 404, "E0000007");
    let (status, body) = server.admin_delete("/api/v1/users/%00").await;
    assert_refused("delete user", status, &body, 404, "E0000007");

    // Query values: cursors and searches.
    for path in [
        "/api/v1/apps?after=%00",
        "/api/v1/apps?q=a%00",
        "/api/v1/apps?filter=status%20eq%20%22%00%22",
        "/api/v1/users?after=00u%00",
        "/api/v1/users?q=%00",
        "/api/v1/users?search=profile.email%20sw%20%22%00%22",
        "/api/v1/users?filter=id%20eq%20%22%00%22",
        "/oauth2/v1/clients?after=%00",
    ] {
        let (status, body) = server.admin_get(path).await;
        assert_refused(path, status, &body, 400, "E0000001");
    }
    // The org still works.
    let (status, list) = server.admin_get("/api/v1/apps").await;
    assert_eq!((status, list.as_array().map(Vec::len)), (200, Some(1)));
}
