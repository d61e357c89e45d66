//! DPoP against a real `tollgate serve`: the client library's nonce round trip and resource calls, and
//! the same through the CLI (`token --dpop-key`, then `call` with the kept key; `call` choosing DPoP by
//! itself; refusals with hints).
use std::path::Path;
use std::sync::Arc;

use tollgate_client::assertion::AssertionSigner;
use tollgate_client::{AuthorizedClient, ClientAuth, DpopKey, TokenEndpoint, TokenSource};
use tollgate_jose::PrivateKey;

use crate::harness::Server;
use crate::support::{fails_with, ok_json, ok_stdout, tollgate};

/// Writes an RS256 key pair into `dir`, registers (DCR) a service app for it, DPoP-bound or not, and
/// grants `okta.users.read`; returns (client id, key file name).
fn app(server: &Server, dir: &Path, dpop_bound: bool) -> (String, String) {
    ok_stdout(tollgate(dir).args(["keygen", "--private-key", "client.pem", "--jwks", "client.jwks.json"]));
    let jwks: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(dir.join("client.jwks.json")).unwrap()).unwrap();
    let (status, body) = server.admin_post(
        "/oauth2/v1/clients",
        serde_json::json!({
            "client_name": "dpop test",
            "application_type": "service",
            "grant_types": ["client_credentials"],
            "token_endpoint_auth_method": "private_key_jwt",
            "dpop_bound_access_tokens": dpop_bound,
            "jwks": jwks,
        }),
    );
    assert_eq!(status, 201, "{body}");
    let client_id = body["client_id"].as_str().unwrap().to_owned();
    let (status, body) = server.admin_post(
        &format!("/api/v1/apps/{client_id}/grants"),
        serde_json::json!({ "scopeId": "okta.users.read", "issuer": server.url }),
    );
    assert_eq!(status, 201, "{body}");
    (client_id, "client.pem".to_owned())
}

fn source(server: &Server, dir: &Path, client_id: &str, key_file: &str, dpop: Option<DpopKey>) -> Arc<TokenSource> {
    let key = PrivateKey::parse(&std::fs::read_to_string(dir.join(key_file)).unwrap()).unwrap();
    let auth = ClientAuth::PrivateKeyJwt(AssertionSigner::new(client_id, key));
    let endpoint = TokenEndpoint::for_org(&server.url, None).unwrap();
    let mut builder = TokenSource::builder(endpoint, auth).scopes(["okta.users.read"]);
    if let Some(dpop) = dpop {
        builder = builder.dpop(dpop);
    }
    Arc::new(builder.build().unwrap())
}

fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap()
}

fn jwt_claims(token: &str) -> serde_json::Value {
    tollgate_jose::jws::decode(token).unwrap().claims().unwrap()
}

#[test]
fn the_library_does_the_nonce_round_trip_and_calls_the_api_with_proofs() {
    let server = Server::start();
    let dir = tempfile::tempdir().unwrap();
    let (client_id, key_file) = app(&server, dir.path(), true);
    let dpop = DpopKey::generate().unwrap();
    let jkt = dpop.thumbprint().to_owned();
    let source = source(&server, dir.path(), &client_id, &key_file, Some(dpop.clone()));
    runtime().block_on(async {
        // The first request has no nonce: use_dpop_nonce, then a retry with a new assertion succeeds.
        let token = source.token().await.unwrap();
        assert_eq!(token.token_type, "DPoP");
        assert!(token.is_dpop());
        assert_eq!(jwt_claims(&token.access_token)["cnf"]["jkt"], jkt.as_str());
        let token_url = format!("{}/oauth2/v1/token", server.url);
        let nonce = dpop.nonce(tollgate_client::dpop::NonceScope::TokenEndpoint, &token_url);
        assert!(nonce.is_some(), "the token endpoint's nonce is remembered");
        // A second fetch reuses the nonce: one request, no challenge (a challenge would also work, so check
        // that the nonce did not change).
        let again = source.fetch().await.unwrap();
        assert!(again.is_dpop());
        assert_eq!(dpop.nonce(tollgate_client::dpop::NonceScope::TokenEndpoint, &token_url), nonce);

        // Resource calls: Authorization: DPoP + a fresh proof with ath each time (the server refuses a
        // replayed proof jti, so two calls in a row prove the proofs are fresh).
        let client = AuthorizedClient::new(source.clone());
        for _ in 0..2 {
            let url = format!("{}/api/v1/users?limit=5", server.url);
            let response = client.send(client.http().get(url)).await.unwrap();
            assert_eq!(response.status(), 200, "{:?}", response.headers());
            let users: serde_json::Value = response.json().await.unwrap();
            assert!(users.is_array(), "{users}");
        }

        // The same token sent as Bearer (what a thief without the key could do) is refused.
        let response = client
            .http()
            .get(format!("{}/api/v1/users", server.url))
            .header("authorization", format!("Bearer {}", token.access_token))
            .send()
            .await
            .unwrap();
        assert!(matches!(response.status().as_u16(), 400 | 401), "{}", response.status());
    });
}

#[test]
fn without_a_dpop_key_a_dpop_bound_app_is_a_typed_refusal() {
    let server = Server::start();
    let dir = tempfile::tempdir().unwrap();
    let (client_id, key_file) = app(&server, dir.path(), true);
    let source = source(&server, dir.path(), &client_id, &key_file, None);
    let error = runtime().block_on(source.fetch()).unwrap_err();
    assert_eq!(
        error.dpop_refusal(),
        Some(tollgate_client::DpopRefusal::InvalidProof(tollgate_jose::dpop::DpopError::Missing)),
        "{error}"
    );
}

#[test]
fn an_app_without_the_setting_ignores_the_proof_and_issues_bearer() {
    let server = Server::start();
    let dir = tempfile::tempdir().unwrap();
    let (client_id, key_file) = app(&server, dir.path(), false);
    let source = source(&server, dir.path(), &client_id, &key_file, Some(DpopKey::generate().unwrap()));
    runtime().block_on(async {
        let token = source.token().await.unwrap();
        assert_eq!(token.token_type, "Bearer");
        let client = AuthorizedClient::new(source.clone());
        let response = client.send(client.http().get(format!("{}/api/v1/users", server.url))).await.unwrap();
        assert_eq!(response.status(), 200);
    });
}

#[test]
fn the_cli_gets_a_dpop_token_with_a_kept_key_and_calls_with_it() {
    let server = Server::start();
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let (client_id, key_file) = app(&server, d, true);
    let common = ["--org", server.url.as_str(), "--client-id", client_id.as_str(), "--private-key", key_file.as_str()];

    // Without DPoP the token request is refused, with the server's words and a hint.
    let stderr = fails_with(tollgate(d).arg("token").args(common).args(["--scopes", "okta.users.read"]), 1);
    assert!(stderr.contains("invalid_dpop_proof: The DPoP proof JWT header is missing."), "{stderr}");
    assert!(stderr.contains("hint: the app requires DPoP"), "{stderr}");

    let response =
        ok_json(tollgate(d).arg("token").args(common).args(["--scopes", "okta.users.read", "--dpop-key", "dpop.pem"]));
    assert_eq!(response["token_type"], "DPoP");
    assert!(d.join("dpop.pem").exists(), "the key file was created");
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        assert_eq!(std::fs::metadata(d.join("dpop.pem")).unwrap().permissions().mode() & 0o777, 0o600);
    }
    let key =
        DpopKey::from_private_key(PrivateKey::parse(&std::fs::read_to_string(d.join("dpop.pem")).unwrap()).unwrap())
            .unwrap();
    let claims = jwt_claims(response["access_token"].as_str().unwrap());
    assert_eq!(claims["cnf"]["jkt"], key.thumbprint(), "bound to the saved key");

    // `call` with the same key from the environment.
    let users = ok_stdout(tollgate(d).env("DPOP_KEY", "dpop.pem").arg("call").args(common).args([
        "--scopes",
        "okta.users.read",
        "GET",
        "/api/v1/users",
    ]));
    assert!(serde_json::from_str::<serde_json::Value>(&users).unwrap().is_array(), "{users}");

    // `call` with no DPoP option notices that the app requires DPoP and uses a key of its own.
    let users =
        ok_stdout(tollgate(d).arg("call").args(common).args(["--scopes", "okta.users.read", "GET", "/api/v1/users"]));
    assert!(serde_json::from_str::<serde_json::Value>(&users).unwrap().is_array(), "{users}");
}

#[test]
fn token_env_writes_the_dpop_key_path_for_later_calls() {
    let server = Server::start();
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let (client_id, key_file) = app(&server, d, true);
    std::fs::write(d.join(".env"), format!("OKTA_URL={}\nCLIENT_ID={client_id}\nSCOPES=okta.users.read\n", server.url))
        .unwrap();
    ok_stdout(tollgate(d).args(["token", "--env", "--private-key", &key_file, "--dpop-key", "dpop.pem"]));
    let env = std::fs::read_to_string(d.join(".env")).unwrap();
    assert!(env.contains("DPOP_KEY="), "{env}");
    assert!(env.contains("ACCESS_TOKEN="), "{env}");
    let users = ok_stdout(tollgate(d).args(["call", "--private-key", &key_file, "GET", "/api/v1/users"]));
    assert!(serde_json::from_str::<serde_json::Value>(&users).unwrap().is_array(), "{users}");
}

#[test]
fn the_dotenv_flow_with_app_create_dpop_then_token_then_call() {
    let server = Server::start();
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let env = format!("OKTA_URL={}\nAPI_KEY={}\nSCOPES=okta.users.read\n", server.url, crate::harness::ADMIN_TOKEN);
    std::fs::write(d.join(".env"), env).unwrap();
    ok_stdout(tollgate(d).args(["keygen", "--env"]));
    let created = ok_json(tollgate(d).args(["app", "create", "--env", "--dpop"]));
    assert_eq!(created["registration"]["dpop_bound_access_tokens"], true, "{created}");
    ok_stdout(tollgate(d).args(["token", "--env", "--dpop-key", "dpop.pem"]));
    let env = std::fs::read_to_string(d.join(".env")).unwrap();
    assert!(env.contains("DPOP_KEY="), "{env}");
    let users = ok_stdout(tollgate(d).args(["call", "GET", "/api/v1/users"]));
    assert!(serde_json::from_str::<serde_json::Value>(&users).unwrap().is_array(), "{users}");
}
