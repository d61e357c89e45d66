//! Tokens die with their app (issue 14): an access token is bound to the app instance and token generation
//! it was issued under, so deactivation kills it for good and a re-registered `client_id` does not inherit
//! it; and a changed `TOLLGATE_ADMIN_TOKEN` retires the previous value. On both backends.
use crate::harness::*;
use serde_json::{Value, json};

const MIN_TOKEN: &str = "/oauth2/v1/token";

/// A fixed issuer: tokens and grants stay comparable across a restart on another port.
const ISSUER: &str = "https://tollgate.example";

async fn start() -> TestServer {
    TestServer::start_with(std::sync::Arc::new(tempfile::tempdir().unwrap()), Some(ISSUER)).await
}

/// A private_key_jwt client that only introspects.
async fn introspector(server: &TestServer) -> String {
    server.register_jwt_app(&[rsa_key_2()], &[]).await
}

/// Whether the org server's introspection calls `token` active (asked by `client_id`).
async fn active(server: &TestServer, client_id: &str, token: &str) -> bool {
    let a = sign(rsa_key_2(), &assertion_claims(client_id, &server.issuer_url("/oauth2/v1/introspect")));
    let (status, body) = server
        .post_form(
            "/oauth2/v1/introspect",
            &[("token", token), ("client_assertion_type", JWT_BEARER), ("client_assertion", a.as_str())],
        )
        .await;
    assert_eq!(status, 200, "{body}");
    body["active"].as_bool().unwrap()
}

/// The protected API's answer to `token` (listing apps, which needs `okta.apps.read`).
async fn protected(server: &TestServer, token: &str) -> u16 {
    server.call(reqwest::Method::GET, "/api/v1/apps", None, Auth::Bearer(token)).await.0
}

/// A fresh org token for `client_id` (signed with the shared test key) with `scopes`.
async fn token(server: &TestServer, client_id: &str, scopes: &str) -> String {
    let assertion = sign(rsa_key(), &assertion_claims(client_id, &server.issuer_url(MIN_TOKEN)));
    let (status, body) = server.token_with(&assertion, scopes).await;
    assert_eq!(status, 200, "{body}");
    body["access_token"].as_str().unwrap().to_string()
}

async fn assign_super_admin(server: &TestServer, client_id: &str) {
    let (status, body) =
        server.admin_post(&format!("/oauth2/v1/clients/{client_id}/roles"), &json!({ "type": "SUPER_ADMIN" })).await;
    assert_eq!(status, 201, "{body}");
}

async fn lifecycle(server: &TestServer, app_id: &str, op: &str) {
    let (status, body) = server.admin_post(&format!("/api/v1/apps/{app_id}/lifecycle/{op}"), &json!({})).await;
    assert_eq!(status, 200, "{op}: {body}");
}

/// Both checks of a token agree: the protected API admits it and introspection calls it active, or neither.
async fn assert_alive(server: &TestServer, introspector: &str, token: &str, alive: bool, what: &str) {
    assert_eq!(protected(server, token).await, if alive { 200 } else { 401 }, "protected API: {what}");
    assert_eq!(active(server, introspector, token).await, alive, "introspection: {what}");
}

#[tokio::test]
async fn deactivation_kills_earlier_tokens_for_good() {
    let server = start().await;
    let inspector = introspector(&server).await;
    let client_id = server.register_jwt_app(&[rsa_key()], &["okta.apps.read"]).await;
    assign_super_admin(&server, &client_id).await;
    let first = token(&server, &client_id, "okta.apps.read").await;
    assert_alive(&server, &inspector, &first, true, "a fresh token").await;

    lifecycle(&server, &client_id, "deactivate").await;
    assert_alive(&server, &inspector, &first, false, "while the app is inactive").await;
    lifecycle(&server, &client_id, "activate").await;
    assert_alive(&server, &inspector, &first, false, "after reactivation").await;

    // Tokens issued after the reactivation work, even within the same second as the deactivation.
    let second = token(&server, &client_id, "okta.apps.read").await;
    assert_alive(&server, &inspector, &second, true, "a token issued after reactivation").await;
    // ... and die at the next deactivation, however quickly it follows.
    lifecycle(&server, &client_id, "deactivate").await;
    lifecycle(&server, &client_id, "activate").await;
    assert_alive(&server, &inspector, &second, false, "a token from before the second deactivation").await;
    assert_alive(&server, &inspector, &first, false, "the first token, still").await;

    // A restart (every cache rebuilt from the database) changes nothing.
    let dir = server.stop().await;
    let server = TestServer::start_with(dir, Some(ISSUER)).await;
    assert_alive(&server, &inspector, &first, false, "the first token after a restart").await;
    assert_alive(&server, &inspector, &second, false, "the second token after a restart").await;
    let third = token(&server, &client_id, "okta.apps.read").await;
    assert_alive(&server, &inspector, &third, true, "a token issued after the restart").await;
}

/// Creates an Apps-API app with this explicit `client_id`, granted `scopes`, with the super-admin role;
/// returns its (internal) id.
async fn app_with_client_id(server: &TestServer, client_id: &str, scopes: &[&str]) -> String {
    let mut body = jwt_app_body("reused", &[rsa_key()]);
    body["credentials"]["oauthClient"]["client_id"] = json!(client_id);
    let (status, app) = server.admin_post("/api/v1/apps", &body).await;
    assert_eq!(status, 200, "{app}");
    assert_eq!(app["credentials"]["oauthClient"]["client_id"], json!(client_id), "{app}");
    let id = app["id"].as_str().unwrap().to_string();
    for scope in scopes {
        let (status, g) = server
            .admin_post(&format!("/api/v1/apps/{id}/grants"), &json!({ "scopeId": scope, "issuer": server.issuer }))
            .await;
        assert_eq!(status, 201, "{g}");
    }
    assign_super_admin(server, client_id).await;
    id
}

#[tokio::test]
async fn a_re_registered_client_id_does_not_inherit_tokens() {
    let server = start().await;
    let inspector = introspector(&server).await;
    let client_id = "reused-client-0001";
    let old_id = app_with_client_id(&server, client_id, &["okta.apps.read", "okta.users.read"]).await;
    let old = token(&server, client_id, "okta.apps.read okta.users.read").await;
    assert_alive(&server, &inspector, &old, true, "the old app's token").await;

    lifecycle(&server, &old_id, "deactivate").await;
    let (status, body) = server.admin_delete(&format!("/api/v1/apps/{old_id}")).await;
    assert_eq!(status, 204, "{body}");
    assert_alive(&server, &inspector, &old, false, "after the delete").await;

    // The same client_id, key and role again, with fewer scopes: another instance.
    let new_id = app_with_client_id(&server, client_id, &["okta.apps.read"]).await;
    assert_ne!(new_id, old_id);
    assert_alive(&server, &inspector, &old, false, "after the client_id was registered again").await;
    let new = token(&server, client_id, "okta.apps.read").await;
    assert_alive(&server, &inspector, &new, true, "the new app's own token").await;
    let claims = payload(&new);
    assert_eq!((claims["cid"].as_str(), claims["app"].as_str()), (Some(client_id), Some(new_id.as_str())));

    let dir = server.stop().await;
    let server = TestServer::start_with(dir, Some(ISSUER)).await;
    assert_alive(&server, &inspector, &old, false, "the old app's token after a restart").await;
    assert_alive(&server, &inspector, &new, true, "the new app's token after a restart").await;
}

const SECOND_ADMIN: &str = "second-admin-token-9876543210";

/// The answer to listing API tokens with an SSWS token.
async fn ssws(server: &TestServer, token: &str) -> (u16, Value) {
    let (status, _, body) = server.call(reqwest::Method::GET, "/api/v1/api-tokens", None, Auth::SswsToken(token)).await;
    (status, body)
}

#[tokio::test]
async fn a_changed_bootstrap_token_retires_the_previous_one() {
    let server = TestServer::start().await;
    let (status, created) =
        server.admin_post("/api/v1/api-tokens", &json!({ "name": "ops", "role": "ORG_ADMIN" })).await;
    assert_eq!(status, 201, "{created}");
    let made = created["token"].as_str().unwrap().to_string();
    assert_eq!(ssws(&server, ADMIN).await.0, 200);

    // Restart with another TOLLGATE_ADMIN_TOKEN: the old value is dead, the new one is a super admin, and
    // tokens made through the API are untouched.
    let dir = server.stop().await;
    let server = TestServer::start_in_configured(dir, |c| c.admin_token = Some(SECOND_ADMIN.into())).await;
    assert_eq!(ssws(&server, ADMIN).await.0, 401, "the previous bootstrap token");
    let (status, listed) = ssws(&server, SECOND_ADMIN).await;
    assert_eq!(status, 200, "{listed}");
    assert_eq!(ssws(&server, &made).await.0, 200, "a token made through the API");
    let body = json!({ "name": "x", "role": "SUPER_ADMIN" });
    let (status, _, body) =
        server.call(reqwest::Method::POST, "/api/v1/api-tokens", Some(&body), Auth::SswsToken(SECOND_ADMIN)).await;
    assert_eq!(status, 201, "the new bootstrap token is a super admin: {body}");
    let count = listed.as_array().unwrap().len();

    // The same value again: nothing changes; no value at all: the last one stays.
    let dir = server.stop().await;
    let server = TestServer::start_in_configured(dir, |c| c.admin_token = Some(SECOND_ADMIN.into())).await;
    let (status, again) = ssws(&server, SECOND_ADMIN).await;
    assert_eq!((status, again.as_array().unwrap().len()), (200, count + 1), "{again}");
    let dir = server.stop().await;
    let server = TestServer::start_in_configured(dir, |c| c.admin_token = None).await;
    assert_eq!(ssws(&server, SECOND_ADMIN).await.0, 200, "kept when no value is configured");
    assert_eq!(ssws(&server, ADMIN).await.0, 401);

    // Back to the first value: it works again as a new token, and the second one is retired.
    let dir = server.stop().await;
    let server = TestServer::start_in(dir).await;
    assert_eq!(ssws(&server, ADMIN).await.0, 200);
    assert_eq!(ssws(&server, SECOND_ADMIN).await.0, 401, "the second bootstrap token");
    assert_eq!(ssws(&server, &made).await.0, 200, "a token made through the API, still");
}
