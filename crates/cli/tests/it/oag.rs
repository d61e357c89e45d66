//! `--flavor oag`: `tollgate token` and `tollgate call` against the Access Gateway endpoints of a real
//! `tollgate serve` (`/api/v2/oauth/token`, `/api/v2/apps`).
use std::path::Path;

use crate::harness::{ADMIN_TOKEN, Server};
use crate::support::{decode, fails_with, ok_json, ok_stdout, tollgate};

/// An RSA key (PEM, as OAG hands one out) and an app granted `scopes`; returns its client id.
fn gateway_app(server: &Server, dir: &Path, scopes: &str) -> String {
    ok_stdout(tollgate(dir).args(["keygen", "--alg", "RS256", "--private-key", "oag.pem", "--jwks", "oag.jwks.json"]));
    let created = ok_json(tollgate(dir).args([
        "app",
        "create",
        "--org",
        &server.url,
        "--api-token",
        ADMIN_TOKEN,
        "--name",
        "gateway admin",
        "--jwks",
        "oag.jwks.json",
        "--scopes",
        scopes,
    ]));
    created["client_id"].as_str().unwrap().to_owned()
}

#[test]
fn token_flavor_oag_gets_a_300_second_gateway_token_and_call_lists_apps() {
    let server = Server::start();
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let client_id = gateway_app(&server, d, "okta.oag.app.read okta.oag.idp.read");
    // `tollgate COMMAND --flavor oag ... --scopes SCOPES [ARGS]`
    let gateway = |command: &str, scopes: &str, args: &[&str]| {
        let mut cmd = tollgate(d);
        cmd.args([command, "--flavor", "oag", "--org", &server.url, "--client-id", &client_id]);
        cmd.args(["--private-key", "oag.pem", "--scopes", scopes]).args(args);
        cmd
    };
    let response = ok_json(&mut gateway("token", "okta.oag.app.read okta.oag.idp.read", &[]));
    assert_eq!(response["token_type"], "Bearer");
    assert_eq!(response["expires_in"], 300);
    assert_eq!(response["scope"], "okta.oag.app.read okta.oag.idp.read");
    let claims = decode(d, response["access_token"].as_str().unwrap())["claims"].clone();
    assert_eq!(claims["exp"].as_i64().unwrap() - claims["iat"].as_i64().unwrap(), 300);
    assert_eq!(claims["aud"], server.url.as_str());

    let apps: serde_json::Value =
        serde_json::from_str(&ok_stdout(&mut gateway("call", "okta.oag.app.read", &["GET", "/api/v2/apps"]))).unwrap();
    let mine = apps.as_array().unwrap().iter().find(|a| a["oidc"]["clientId"] == client_id.as_str());
    assert_eq!(mine.expect("the app is listed")["label"], "gateway admin", "{apps}");

    // Without the read scope the gateway API answers 403.
    let stderr = fails_with(&mut gateway("call", "okta.oag.idp.read", &["GET", "/api/v2/apps"]), 1);
    assert!(stderr.contains("403") && stderr.contains("insufficient_scope"), "{stderr}");
}

#[test]
fn flavors_do_not_mix() {
    let server = Server::start();
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let client_id = gateway_app(&server, d, "okta.oag.app.read okta.users.read");
    let base = ["token", "--org", &server.url, "--client-id", &client_id, "--private-key", "oag.pem"];
    // Okta's flavour does not hand out gateway scopes...
    let stderr = fails_with(tollgate(d).args(base).args(["--scopes", "okta.oag.app.read"]), 1);
    assert!(
        stderr.starts_with(
            "error: token request refused (HTTP 400): invalid_scope: Access Gateway scopes are issued only by /api/v2/oauth/token"
        ),
        "{stderr}"
    );
    // ...and the gateway does not hand out Okta's.
    let stderr = fails_with(tollgate(d).args(base).args(["--flavor", "oag", "--scopes", "okta.users.read"]), 1);
    assert!(
        stderr.starts_with(
            "error: token request refused (HTTP 400): invalid_scope: The following scopes are not Access Gateway scopes: [okta.users.read]."
        ),
        "{stderr}"
    );
}

#[test]
fn flavor_oag_usage_errors() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    ok_stdout(tollgate(d).args(["keygen", "--alg", "RS256", "--private-key", "oag.pem", "--jwks", "oag.jwks.json"]));
    let base = ["token", "--flavor", "oag", "--org", "http://127.0.0.1:9", "--client-id", "c"];
    let stderr = fails_with(tollgate(d).args(base).args(["--client-secret", "s", "--scopes", "okta.oag.app.read"]), 2);
    assert!(stderr.contains("--private-key"), "{stderr}");
    let stderr = fails_with(
        tollgate(d).args(base).args(["--private-key", "oag.pem", "--auth-server", "default", "--scopes", "x"]),
        2,
    );
    assert!(stderr.contains("--auth-server"), "{stderr}");
    let stderr = fails_with(tollgate(d).args(base).args(["--private-key", "oag.pem"]), 2);
    assert!(stderr.contains("no scopes"), "{stderr}");
    let stderr = fails_with(
        tollgate(d).args(base).args(["--private-key", "oag.pem", "--scopes", "okta.oag.app.read", "--dpop"]),
        2,
    );
    assert!(stderr.contains("Bearer tokens only"), "{stderr}");
}

#[test]
fn assertion_flavor_oag_is_what_curl_sends_to_the_gateway() {
    let server = Server::start();
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let client_id = gateway_app(&server, d, "okta.oag.app.read");
    let args = ["assertion", "--flavor", "oag", "--org", &server.url, "--client-id", &client_id];
    let doc = ok_json(tollgate(d).args(args).args(["--private-key", "oag.pem", "--scopes", "okta.oag.app.read"]));
    assert_eq!(doc["claims"]["aud"], server.url.as_str());
    assert_eq!(doc["claims"]["scope"], "okta.oag.app.read");
    assert_eq!(doc["token_url"], format!("{}/api/v2/oauth/token", server.url));
    let out = std::process::Command::new("curl")
        .args(["-sS", "-X", "POST", doc["token_url"].as_str().unwrap()])
        .args(["--data-urlencode", "grant_type=client_credentials"])
        .args(["--data-urlencode", "client_assertion_type=urn:ietf:params:oauth:client-assertion-type:jwt-bearer"])
        .args(["--data-urlencode", &format!("client_assertion={}", doc["assertion"].as_str().unwrap())])
        .args(["--data-urlencode", "scope=okta.oag.app.read"])
        .output()
        .expect("curl is installed");
    let body: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(body["expires_in"], 300, "{body}");
    assert_eq!(body["scope"], "okta.oag.app.read", "{body}");
    // --scopes means nothing to Okta's assertions.
    let stderr = fails_with(tollgate(d).args(["assertion", "--org", &server.url, "--scopes", "x"]), 2);
    assert!(stderr.contains("--flavor oag"), "{stderr}");
}
