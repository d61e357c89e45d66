//! Workload identity federation from the command line: `tollgate token --federated-token-file` (the file
//! re-read for every request), `--federated-token-env`, `--github-actions` against a local stand-in of
//! the Actions runtime's token endpoint, and `tollgate explain` on external tokens; all against a real
//! `tollgate serve --allow-private-fetch` and an issuer on 127.0.0.1 (discovery + JWKS).
use std::sync::Arc;

use serde_json::{Value, json};
use tollgate_jose::{Curve, Header, KeySpec, PrivateKey, jws};

use crate::harness::Server;
use crate::support::{fails_with, ok_json, tollgate};

/// A local OIDC issuer (and, on `/actions-token`, a stand-in of GitHub's Actions token endpoint, which
/// signs a GitHub-shaped token for the `audience` asked, if the bearer is `runtime-token`).
struct Issuer {
    url: String,
    key: Arc<PrivateKey>,
    _runtime: tokio::runtime::Runtime,
}

impl Issuer {
    fn start() -> Issuer {
        let runtime = tokio::runtime::Builder::new_multi_thread().worker_threads(1).enable_all().build().unwrap();
        let key = Arc::new(PrivateKey::generate(KeySpec::Ec(Curve::P256)).unwrap());
        let listener = runtime.block_on(tokio::net::TcpListener::bind("127.0.0.1:0")).unwrap();
        let url = format!("http://{}", listener.local_addr().unwrap());
        let (u, k, k2) = (url.clone(), key.clone(), key.clone());
        let u2 = url.clone();
        let app = axum::Router::new()
            .route(
                "/.well-known/openid-configuration",
                axum::routing::get(move || {
                    let u = u.clone();
                    async move { axum::Json(json!({ "issuer": u, "jwks_uri": format!("{u}/jwks") })) }
                }),
            )
            .route(
                "/jwks",
                axum::routing::get(move || {
                    let k = k.clone();
                    async move { axum::Json(json!({ "keys": [k.public_key().to_jwk()] })) }
                }),
            )
            .route(
                "/actions-token",
                axum::routing::get(
                    move |headers: axum::http::HeaderMap,
                          query: axum::extract::Query<std::collections::HashMap<String, String>>| {
                        let (k, u) = (k2.clone(), u2.clone());
                        async move {
                            let authorized = headers.get("authorization").and_then(|v| v.to_str().ok())
                                == Some("bearer runtime-token");
                            if !authorized || query.get("api-version").map(String::as_str) != Some("2.0") {
                                return (axum::http::StatusCode::UNAUTHORIZED, axum::Json(json!({}))).into_response();
                            }
                            let aud =
                                query.get("audience").cloned().unwrap_or_else(|| "https://github.com/acme".into());
                            let claims = github_claims(&u, &aud, "refs/heads/main");
                            axum::Json(json!({ "count": 1, "value": sign(&k, &claims) })).into_response()
                        }
                    },
                ),
            );
        runtime.spawn(async move { axum::serve(listener, app).await.unwrap() });
        Issuer { url, key, _runtime: runtime }
    }
}

use axum::response::IntoResponse;

fn now() -> i64 {
    std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_secs() as i64
}

fn github_claims(issuer: &str, aud: &str, git_ref: &str) -> Value {
    let now = now();
    json!({ "iss": issuer, "aud": aud, "sub": format!("repo:acme/api:ref:{git_ref}"), "ref": git_ref,
            "repository": "acme/api", "repository_owner": "acme", "event_name": "push",
            "jti": uuid_like(), "iat": now, "nbf": now, "exp": now + 300 })
}

fn uuid_like() -> String {
    format!("{:x}", std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_nanos())
}

fn sign(key: &PrivateKey, claims: &Value) -> String {
    jws::sign_json(key, &Header::new(key.algorithm()).with_kid(key.kid()), claims).unwrap()
}

/// A service app (registered with some key it never uses) granted okta.users.read, with a federated
/// credential trusting `issuer` for acme/api's main branch; returns its client id.
fn federated_app(server: &Server, issuer: &str) -> String {
    let unused = PrivateKey::generate(KeySpec::Ec(Curve::P256)).unwrap();
    let (status, app) = server.admin_post(
        "/oauth2/v1/clients",
        json!({ "client_name": "ci", "application_type": "service", "grant_types": ["client_credentials"],
                "token_endpoint_auth_method": "private_key_jwt", "jwks": { "keys": [unused.public_key().to_jwk()] } }),
    );
    assert_eq!(status, 201, "{app}");
    let id = app["client_id"].as_str().unwrap().to_string();
    let (status, body) = server.admin_post(
        &format!("/api/v1/apps/{id}/grants"),
        json!({ "scopeId": "okta.users.read", "issuer": server.url }),
    );
    assert_eq!(status, 201, "{body}");
    let (status, body) = server.admin_post(
        &format!("/api/v1/apps/{id}/credentials/federated"),
        json!({ "name": "acme/api main", "issuer": issuer, "subject": "repo:acme/api:ref:refs/heads/main",
                "claims": { "repository_owner": "acme" } }),
    );
    assert_eq!(status, 201, "{body}");
    id
}

#[test]
fn a_federated_token_file_is_read_for_every_request() {
    let issuer = Issuer::start();
    let server = Server::start_with(None, &["--allow-private-fetch"]);
    let app = federated_app(&server, &issuer.url);
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let file = d.join("token");
    std::fs::write(&file, sign(&issuer.key, &github_claims(&issuer.url, &server.url, "refs/heads/main"))).unwrap();
    let args = |file: &str| {
        vec![
            "token".to_string(),
            // Every call asks the token endpoint (the file is re-read for each request, not the cache).
            "--no-cache".into(),
            "--org".into(),
            server.url.clone(),
            "--client-id".into(),
            app.clone(),
            "--scopes".into(),
            "okta.users.read".into(),
            "--federated-token-file".into(),
            file.to_string(),
        ]
    };
    let file_arg = file.display().to_string();
    let response = ok_json(tollgate(d).args(args(&file_arg)));
    assert_eq!(response["token_type"], "Bearer", "{response}");
    assert_eq!(response["scope"], "okta.users.read");
    assert!(response["expires_in"].as_i64().unwrap() <= 300, "capped by the external token: {response}");
    // The platform rewrites the file: the next request sends the new token (here one for another branch,
    // which the credential refuses, naming the claim).
    std::fs::write(&file, sign(&issuer.key, &github_claims(&issuer.url, &server.url, "refs/heads/dev"))).unwrap();
    let stderr = fails_with(tollgate(d).args(args(&file_arg)), 1);
    assert!(
        stderr.contains("invalid_client: The client_assertion does not match any federated credential"),
        "{stderr}"
    );
    assert!(stderr.contains("'acme/api main'") && stderr.contains("claim 'sub'"), "{stderr}");
    // A missing file is a one-line error.
    let stderr = fails_with(tollgate(d).args(args("/nonexistent/token")), 1);
    assert!(stderr.contains("federated token file /nonexistent/token"), "{stderr}");

    // The same from a variable, and `tollgate call` with it.
    let good = sign(&issuer.key, &github_claims(&issuer.url, &server.url, "refs/heads/main"));
    let users = ok_json(
        tollgate(d)
            .env("WORKLOAD_TOKEN", &good)
            .args(["call", "GET", "/api/v1/users", "--org", &server.url, "--client-id", &app])
            .args(["--scopes", "okta.users.read", "--federated-token-env", "WORKLOAD_TOKEN"]),
    );
    assert!(users.is_array(), "{users}");
    let stderr = fails_with(
        tollgate(d)
            .args(["token", "--no-cache", "--org", &server.url, "--client-id", &app, "--scopes", "okta.users.read"])
            .args(["--federated-token-env", "UNSET_WORKLOAD_TOKEN"]),
        1,
    );
    assert!(stderr.contains("UNSET_WORKLOAD_TOKEN is not set"), "{stderr}");
}

#[test]
fn github_actions_tokens_come_from_the_actions_runtime_with_the_issuer_as_audience() {
    let issuer = Issuer::start();
    let server = Server::start_with(None, &["--allow-private-fetch"]);
    let app = federated_app(&server, &issuer.url);
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let request_url = format!("{}/actions-token?api-version=2.0", issuer.url);
    let run = |token: &str| {
        let mut cmd = tollgate(d);
        cmd.env("ACTIONS_ID_TOKEN_REQUEST_URL", &request_url).env("ACTIONS_ID_TOKEN_REQUEST_TOKEN", token).args([
            "token",
            "--no-cache",
            "--org",
            &server.url,
            "--client-id",
            &app,
            "--scopes",
            "okta.users.read",
            "--github-actions",
        ]);
        cmd
    };
    // The runtime signs for the audience asked: the org issuer, which the credential accepts by default.
    let response = ok_json(&mut run("runtime-token"));
    assert_eq!(response["scope"], "okta.users.read", "{response}");
    // Another audience asked for: refused by the credential, which names the claim.
    let stderr = fails_with(run("runtime-token").args(["--github-audience", "https://github.com/acme"]), 1);
    assert!(stderr.contains("claim 'aud' (https://github.com/acme)"), "{stderr}");
    // The runtime refuses a wrong request token.
    let stderr = fails_with(&mut run("wrong"), 1);
    assert!(stderr.contains("GitHub Actions OIDC token request") && stderr.contains("401"), "{stderr}");
    // Outside Actions.
    let stderr = fails_with(
        tollgate(d).args([
            "token",
            "--no-cache",
            "--org",
            &server.url,
            "--client-id",
            &app,
            "--scopes",
            "x",
            "--github-actions",
        ]),
        1,
    );
    assert!(stderr.contains("ACTIONS_ID_TOKEN_REQUEST_URL is not set"), "{stderr}");
}

#[test]
fn explain_checks_an_external_token_against_the_apps_credentials() {
    let key = PrivateKey::generate(KeySpec::Ec(Curve::P256)).unwrap();
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let issuer = "https://token.actions.githubusercontent.com";
    let org = "https://tollgate.example";
    std::fs::write(
        d.join("credentials.json"),
        json!([{ "id": "fdc1", "name": "acme/api main", "issuer": issuer, "subject": "repo:acme/api:ref:refs/heads/main",
                 "audiences": [], "claims": { "repository_owner": "acme" }, "max_token_age": 3600, "status": "ACTIVE" }])
        .to_string(),
    )
    .unwrap();
    std::fs::write(d.join("jwks.json"), json!({ "keys": [key.public_key().to_jwk()] }).to_string()).unwrap();
    let explain =
        |token: &str| {
            let mut cmd = tollgate(d);
            cmd.args(["explain", token, "--org", org, "--client-id", "0oa1", "--credential", "credentials.json"])
                .args(["--jwks", "jwks.json", "--output", "json"]);
            cmd
        };
    let good = sign(&key, &github_claims(issuer, org, "refs/heads/main"));
    let out = explain(&good).output().unwrap();
    let report: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert!(out.status.success(), "{report}");
    assert_eq!(report["federated"], true);
    let rules: Vec<&str> = report["checks"].as_array().unwrap().iter().map(|c| c["rule"].as_str().unwrap()).collect();
    assert!(rules.contains(&"match") && rules.contains(&"client_id"), "{rules:?}");

    let dev = sign(&key, &github_claims(issuer, org, "refs/heads/dev"));
    let out = explain(&dev).output().unwrap();
    assert!(!out.status.success());
    let report: Value = serde_json::from_slice(&out.stdout).unwrap();
    let failed = report["checks"].as_array().unwrap().iter().find(|c| c["verdict"] == "fail").unwrap().clone();
    assert_eq!(failed["rule"], "match", "{report}");
    assert!(
        failed["detail"].as_str().unwrap().contains("claim 'sub' (\"repo:acme/api:ref:refs/heads/dev\")"),
        "{failed}"
    );
    assert!(failed["server_answer"].as_str().unwrap().contains("does not match any federated credential"), "{failed}");

    // Without client_id: the rule the server would refuse it by.
    let out = tollgate(d).args(["explain", &good, "--org", org, "--federated", "--output", "json"]).output().unwrap();
    let report: Value = serde_json::from_slice(&out.stdout).unwrap();
    let failed = report["checks"].as_array().unwrap().iter().find(|c| c["verdict"] == "fail").unwrap().clone();
    assert_eq!(failed["rule"], "client_id", "{report}");
}
