//! The client commands against a real `tollgate serve`: the `.env` three-command flow, every algorithm,
//! client secrets on the `default` server, refusals, `call` with 401/403, and `verify` on issued tokens.
use std::path::Path;

use crate::harness::{ADMIN_TOKEN, Server};
use crate::support::{fails_with, ok_json, ok_stdout, tollgate};

/// A scratch directory whose `.env` points at the server.
fn workspace(server: &Server, scopes: &str) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join(".env"),
        format!("# written by the test\nOKTA_URL={}\nAPI_KEY={ADMIN_TOKEN}\nSCOPES=\"{scopes}\"\n", server.url),
    )
    .unwrap();
    dir
}

/// Registers a private_key_jwt app for `alg` and returns (client id, key file).
fn key_app(server: &Server, dir: &Path, alg: &str, scopes: &str) -> (String, String) {
    let key_file = format!("{alg}.jwk");
    let jwks_file = format!("{alg}.jwks.json");
    ok_stdout(tollgate(dir).args([
        "keygen",
        "--alg",
        alg,
        "--format",
        "jwk",
        "--private-key",
        &key_file,
        "--jwks",
        &jwks_file,
    ]));
    let created = ok_json(tollgate(dir).args([
        "app",
        "create",
        "--org",
        &server.url,
        "--api-token",
        ADMIN_TOKEN,
        "--name",
        alg,
        "--jwks",
        &jwks_file,
        "--scopes",
        scopes,
    ]));
    (created["client_id"].as_str().unwrap().to_owned(), key_file)
}

fn create_custom_scope(server: &Server, name: &str) {
    let (status, body) =
        server.admin_post("/api/v1/authorizationServers/default/scopes", serde_json::json!({ "name": name }));
    assert!((200..300).contains(&status), "creating scope {name}: {status} {body}");
}

#[test]
fn the_dotenv_three_command_flow_works_end_to_end() {
    let server = Server::start();
    let dir = workspace(&server, "okta.users.read");
    let d = dir.path();
    ok_stdout(tollgate(d).args(["keygen", "--env"]));
    let created = ok_stdout(tollgate(d).args(["app", "create", "--env"]));
    assert!(created.contains("client_id: "), "{created}");
    let env = std::fs::read_to_string(d.join(".env")).unwrap();
    assert!(env.contains("\nCLIENT_ID='"), "{env}");
    assert!(env.starts_with("# written by the test\n"), "{env}");

    let token = ok_stdout(tollgate(d).args(["token", "--env"]));
    let token = token.trim();
    assert_eq!(token.split('.').count(), 3, "a JWT: {token}");
    assert!(std::fs::read_to_string(d.join(".env")).unwrap().contains("ACCESS_TOKEN='"));
    let claims = crate::support::decode(d, token)["claims"].clone();
    assert_eq!(claims["scp"], serde_json::json!(["okta.users.read"]));
    assert_eq!(claims["iss"], server.url.as_str());

    let users: serde_json::Value =
        serde_json::from_str(&ok_stdout(tollgate(d).args(["call", "GET", "/api/v1/users"]))).unwrap();
    assert!(users.is_array(), "{users}");
    let response = ok_json(tollgate(d).args(["token"]));
    assert_eq!(response["token_type"], "Bearer");
    assert_eq!(response["expires_in"], 3600);
}

#[test]
fn every_algorithm_gets_a_token() {
    let server = Server::start();
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    for alg in ["RS256", "RS384", "RS512", "PS256", "ES256", "ES384", "ES512"] {
        let (client_id, key) = key_app(&server, d, alg, "okta.users.read");
        let response = ok_json(tollgate(d).args([
            "token",
            "--org",
            &server.url,
            "--client-id",
            &client_id,
            "--private-key",
            &key,
            "--scopes",
            "okta.users.read",
        ]));
        assert_eq!(response["scope"], "okta.users.read", "{alg}: {response}");
    }
}

#[test]
fn a_pem_key_without_kid_works_for_a_single_key_app() {
    let server = Server::start();
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    ok_stdout(tollgate(d).args(["keygen", "--private-key", "k.pem", "--jwks", "j.json"]));
    let client_id = ok_json(tollgate(d).args([
        "app",
        "create",
        "--org",
        &server.url,
        "--api-token",
        ADMIN_TOKEN,
        "--jwks",
        "j.json",
        "--scopes",
        "okta.users.read",
    ]))["client_id"]
        .as_str()
        .unwrap()
        .to_owned();
    for extra in [&[][..], &["--no-kid"]] {
        ok_stdout(
            tollgate(d)
                .args([
                    "token",
                    "--org",
                    &server.url,
                    "--client-id",
                    &client_id,
                    "--private-key",
                    "k.pem",
                    "--scopes",
                    "okta.users.read",
                ])
                .args(extra),
        );
    }
}

#[test]
fn client_secrets_work_on_the_default_server() {
    let server = Server::start();
    create_custom_scope(&server, "api.read");
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    for method in ["basic", "post"] {
        let created = ok_json(tollgate(d).args([
            "app",
            "create",
            "--org",
            &server.url,
            "--api-token",
            ADMIN_TOKEN,
            "--secret",
            "--secret-method",
            method,
            "--name",
            method,
        ]));
        let client_id = created["client_id"].as_str().unwrap();
        let secret = created["client_secret"].as_str().expect("a secret app gets its secret once");
        let response = ok_json(tollgate(d).args([
            "token",
            "--org",
            &server.url,
            "--auth-server",
            "default",
            "--client-id",
            client_id,
            "--client-secret",
            secret,
            "--secret-method",
            method,
            "--scopes",
            "api.read",
        ]));
        assert_eq!(response["scope"], "api.read", "{method}: {response}");
        // the same token verifies as a resource server would check it
        let token = response["access_token"].as_str().unwrap();
        let issuer = format!("{}/oauth2/default", server.url);
        let verified = ok_json(tollgate(d).args([
            "verify",
            token,
            "--issuer",
            &issuer,
            "--audience",
            "api://default",
            "--scope",
            "api.read",
        ]));
        assert_eq!(verified["valid"], true);
        let stderr =
            fails_with(tollgate(d).args(["verify", token, "--issuer", &issuer, "--audience", "api://other"]), 1);
        assert!(stderr.contains("audience"), "{stderr}");
        let stderr = fails_with(tollgate(d).args(["verify", token, "--issuer", &server.url]), 1);
        assert!(stderr.contains("not valid"), "{stderr}");
        let stderr = fails_with(tollgate(d).args(["verify", token, "--issuer", &issuer, "--scope", "api.write"]), 1);
        assert!(stderr.contains("api.write"), "{stderr}");
    }
}

#[test]
fn a_refused_token_request_quotes_the_server() {
    let server = Server::start();
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let (client_id, _) = key_app(&server, d, "ES256", "okta.users.read");
    // signed with a key the app does not know
    ok_stdout(tollgate(d).args(["keygen", "--alg", "ES256", "--kid", "stranger", "--private-key", "stranger.pem"]));
    let stderr = fails_with(
        tollgate(d).args([
            "token",
            "--org",
            &server.url,
            "--client-id",
            &client_id,
            "--private-key",
            "stranger.pem",
            "--scopes",
            "okta.users.read",
        ]),
        1,
    );
    assert!(
        stderr.starts_with(
            "error: token request refused (HTTP 401): invalid_client: The client_assertion JWT kid is invalid."
        ),
        "{stderr}"
    );
    // a client that does not exist
    let stderr = fails_with(
        tollgate(d).args([
            "token",
            "--org",
            &server.url,
            "--client-id",
            "0oa-nobody",
            "--private-key",
            "stranger.pem",
            "--scopes",
            "okta.users.read",
        ]),
        1,
    );
    assert!(stderr.contains("invalid_client"), "{stderr}");
    // secrets are refused by the org authorization server
    let stderr = fails_with(
        tollgate(d).args([
            "token",
            "--org",
            &server.url,
            "--client-id",
            &client_id,
            "--client-secret",
            "x",
            "--scopes",
            "okta.users.read",
        ]),
        1,
    );
    assert!(stderr.contains("invalid_client"), "{stderr}");
}

#[test]
fn call_reports_401_and_403_with_the_status() {
    let server = Server::start();
    create_custom_scope(&server, "api.read");
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    // granted something else than okta.users.read: the users API answers 403
    let (client_id, key) = key_app(&server, d, "RS256", "okta.apps.read");
    let stderr = fails_with(
        tollgate(d).args([
            "call",
            "--org",
            &server.url,
            "--client-id",
            &client_id,
            "--private-key",
            &key,
            "--scopes",
            "okta.apps.read",
            "GET",
            "/api/v1/users",
        ]),
        1,
    );
    assert!(stderr.contains("GET /api/v1/users answered 403"), "{stderr}");
    // a token of the default server is not for the management API: 401, even after one renewal
    let created =
        ok_json(tollgate(d).args(["app", "create", "--org", &server.url, "--api-token", ADMIN_TOKEN, "--secret"]));
    let stderr = fails_with(
        tollgate(d).args([
            "call",
            "--org",
            &server.url,
            "--auth-server",
            "default",
            "--client-id",
            created["client_id"].as_str().unwrap(),
            "--client-secret",
            created["client_secret"].as_str().unwrap(),
            "--scopes",
            "api.read",
            "GET",
            "/api/v1/users",
        ]),
        1,
    );
    assert!(stderr.contains("answered 401"), "{stderr}");
}

#[test]
fn app_create_reports_a_bad_api_token() {
    let server = Server::start();
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    ok_stdout(tollgate(d).args(["keygen", "--jwks", "j.json", "--private-key", "k.pem"]));
    let stderr = fails_with(
        tollgate(d).args(["app", "create", "--org", &server.url, "--api-token", "wrong", "--jwks", "j.json"]),
        1,
    );
    assert!(stderr.contains("E0000011"), "{stderr}");
}
