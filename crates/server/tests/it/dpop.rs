//! DPoP (RFC 9449) on the real server: the nonce round trip at the token endpoint, every proof refusal,
//! apps without the setting, and `Authorization: DPoP` on the management API.
use crate::harness::*;
use reqwest::header::HeaderMap;
use serde_json::{Value, json};
use tollgate_jose::dpop::{ProofRequest, access_token_hash, sign_proof};
use tollgate_jose::{Curve, PrivateKey, b64url_encode};

const TOKEN_PATH: &str = "/oauth2/v1/token";

/// Registers (DCR) a DPoP-bound private_key_jwt service app granted `scopes`.
async fn register_dpop_app(server: &TestServer, scopes: &[&str]) -> String {
    let (status, body) = server
        .admin_post(
            "/oauth2/v1/clients",
            &json!({
                "client_name": "dpop service",
                "application_type": "service",
                "grant_types": ["client_credentials"],
                "token_endpoint_auth_method": "private_key_jwt",
                "dpop_bound_access_tokens": true,
                "jwks": { "keys": [public_jwk(rsa_key())] },
            }),
        )
        .await;
    assert_eq!(status, 201, "{body}");
    assert_eq!(body["dpop_bound_access_tokens"], true);
    let client_id = body["client_id"].as_str().unwrap().to_string();
    server.grant(&client_id, scopes).await;
    client_id
}

/// A fresh assertion for `client_id` at the org token endpoint.
fn assertion(server: &TestServer, client_id: &str) -> String {
    sign(rsa_key(), &assertion_claims(client_id, &server.url(TOKEN_PATH)))
}

/// A token request with `assertion` and the given `DPoP` headers.
async fn token_request(server: &TestServer, assertion: &str, proofs: &[&str]) -> (u16, HeaderMap, Value) {
    let mut req = server.http.post(server.url(TOKEN_PATH)).form(&[
        ("grant_type", "client_credentials"),
        ("scope", "okta.users.read"),
        ("client_assertion_type", JWT_BEARER),
        ("client_assertion", assertion),
    ]);
    for proof in proofs {
        req = req.header("DPoP", *proof);
    }
    let r = req.send().await.unwrap();
    let status = r.status().as_u16();
    let headers = r.headers().clone();
    (status, headers, r.json().await.unwrap_or(Value::Null))
}

/// A well-formed proof by `key` for `htm` `url`.
fn proof(key: &PrivateKey, htm: &str, url: &str, nonce: Option<&str>, token: Option<&str>) -> String {
    sign_proof(key, &ProofRequest { htm, htu: url, iat: now(), nonce, access_token: token }).unwrap()
}

/// A proof assembled by hand from a JSON header and claims, signed by `key` (for what `sign_proof` refuses
/// to produce).
fn raw_proof(key: &PrivateKey, header: &Value, claims: &Value) -> String {
    let input =
        format!("{}.{}", b64url_encode(header.to_string().as_bytes()), b64url_encode(claims.to_string().as_bytes()));
    let signature = key.sign(key.algorithm(), input.as_bytes()).unwrap();
    format!("{input}.{}", b64url_encode(&signature))
}

fn good_header(key: &PrivateKey) -> Value {
    json!({ "typ": "dpop+jwt", "alg": key.algorithm().as_str(), "jwk": public_jwk_bare(key) })
}

fn public_jwk_bare(key: &PrivateKey) -> Value {
    let mut jwk = public_jwk(key);
    jwk.as_object_mut().unwrap().remove("kid");
    jwk
}

fn good_claims(server: &TestServer, nonce: &str) -> Value {
    json!({ "jti": uuid::Uuid::new_v4().to_string(), "htm": "POST", "htu": server.url(TOKEN_PATH), "iat": now(), "nonce": nonce })
}

/// The server's current nonce, learnt the way a client does: a first proof without one.
async fn fetch_nonce(server: &TestServer, client_id: &str, key: &PrivateKey) -> String {
    let (status, headers, body) = token_request(
        server,
        &assertion(server, client_id),
        &[&proof(key, "POST", &server.url(TOKEN_PATH), None, None)],
    )
    .await;
    assert_eq!(status, 400, "{body}");
    assert_eq!(body["error"], "use_dpop_nonce");
    headers["dpop-nonce"].to_str().unwrap().to_string()
}

/// A DPoP-bound token for `client_id`, bound to `key`.
async fn dpop_token(server: &TestServer, client_id: &str, key: &PrivateKey) -> String {
    let nonce = fetch_nonce(server, client_id, key).await;
    let p = proof(key, "POST", &server.url(TOKEN_PATH), Some(&nonce), None);
    let (status, _, body) = token_request(server, &assertion(server, client_id), &[&p]).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["token_type"], "DPoP");
    body["access_token"].as_str().unwrap().to_string()
}

fn assert_dpop_error(status: u16, body: &Value, error: &str, description: &str) {
    assert_eq!(
        (status, body["error"].as_str(), body["error_description"].as_str()),
        (400, Some(error), Some(description)),
        "{body}"
    );
}

#[tokio::test]
async fn the_nonce_round_trip_yields_a_bound_dpop_token() {
    let server = TestServer::start().await;
    let client_id = register_dpop_app(&server, &["okta.users.read"]).await;
    let key = ec_key(Curve::P256);
    let url = server.url(TOKEN_PATH);

    // First proof without a nonce: 400 use_dpop_nonce, a DPoP-Nonce header, and no caching.
    let first_assertion = assertion(&server, &client_id);
    let (status, headers, body) =
        token_request(&server, &first_assertion, &[&proof(&key, "POST", &url, None, None)]).await;
    assert_dpop_error(status, &body, "use_dpop_nonce", "Authorization server requires nonce in DPoP proof.");
    let nonce = headers["dpop-nonce"].to_str().unwrap().to_string();
    assert!(!nonce.is_empty());
    assert_eq!(headers["cache-control"], "no-cache, no-store");
    assert_eq!(headers["pragma"], "no-cache");

    // The assertion was consumed by the refused request: retrying with it fails, as at Okta.
    let (status, _, body) =
        token_request(&server, &first_assertion, &[&proof(&key, "POST", &url, Some(&nonce), None)]).await;
    assert_eq!(status, 401, "{body}");
    assert_eq!(body["error_description"], "The client_assertion token has already been used.");

    // With the nonce and a fresh assertion: a DPoP token bound to the proof key.
    let (status, headers, body) =
        token_request(&server, &assertion(&server, &client_id), &[&proof(&key, "POST", &url, Some(&nonce), None)])
            .await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["token_type"], "DPoP");
    assert_eq!(body["expires_in"], 3600);
    assert!(headers.get("dpop-nonce").is_none(), "the nonce used is current: no new one");
    let token = body["access_token"].as_str().unwrap();
    let claims = payload(token);
    assert_eq!(claims["cnf"]["jkt"], key.public_key().thumbprint());

    // Introspection reports the binding (RFC 9449 §6.2).
    let a = sign(rsa_key(), &assertion_claims(&client_id, &server.url("/oauth2/v1/introspect")));
    let (status, body) = server
        .post_form(
            "/oauth2/v1/introspect",
            &[("token", token), ("client_assertion_type", JWT_BEARER), ("client_assertion", &a)],
        )
        .await;
    assert_eq!(status, 200);
    assert_eq!(body["active"], true);
    assert_eq!(body["token_type"], "DPoP");
    assert_eq!(body["cnf"]["jkt"], key.public_key().thumbprint());
    server.stop().await;
}

#[tokio::test]
async fn a_missing_or_doubled_dpop_header_is_refused() {
    let server = TestServer::start().await;
    let client_id = register_dpop_app(&server, &["okta.users.read"]).await;
    let (status, _, body) = token_request(&server, &assertion(&server, &client_id), &[]).await;
    assert_dpop_error(status, &body, "invalid_dpop_proof", "The DPoP proof JWT header is missing.");
    let key = ec_key(Curve::P256);
    let p = proof(&key, "POST", &server.url(TOKEN_PATH), None, None);
    let (status, _, body) = token_request(&server, &assertion(&server, &client_id), &[&p, &p]).await;
    assert_dpop_error(status, &body, "invalid_dpop_proof", "Multiple DPoP proof JWT headers are not allowed.");
    let (status, _, body) = token_request(&server, &assertion(&server, &client_id), &["not a jwt"]).await;
    assert_dpop_error(status, &body, "invalid_dpop_proof", "The DPoP proof JWT cannot be parsed.");
    server.stop().await;
}

#[tokio::test]
async fn every_bad_proof_is_refused_at_the_token_endpoint() {
    let server = TestServer::start().await;
    let client_id = register_dpop_app(&server, &["okta.users.read"]).await;
    let key = ec_key(Curve::P256);
    let other = ec_key(Curve::P256);
    let nonce = fetch_nonce(&server, &client_id, &key).await;
    let with = |f: &dyn Fn(&mut Value, &mut Value)| {
        let (mut header, mut claims) = (good_header(&key), good_claims(&server, &nonce));
        f(&mut header, &mut claims);
        raw_proof(&key, &header, &claims)
    };
    let foreign_nonce = tollgate_server::oauth::nonce::Nonces::new(b"another installation", 86_400).current(now());
    let cases: Vec<(&str, String, &str, &str)> = vec![
        (
            "wrong typ",
            with(&|h, _| h["typ"] = json!("JWT")),
            "invalid_dpop_proof",
            "'typ' must be 'dpop+jwt' in the DPoP proof JWT.",
        ),
        (
            "private jwk",
            with(&|h, _| h["jwk"] = serde_json::to_value(key.to_jwk().unwrap()).unwrap()),
            "invalid_dpop_proof",
            "The DPoP proof JWT is invalid.",
        ),
        (
            "symmetric jwk",
            with(&|h, _| h["jwk"] = json!({"kty": "oct", "k": "c2VjcmV0LXNlY3JldC1zZWNyZXQ"})),
            "invalid_dpop_proof",
            "The DPoP proof JWT is invalid.",
        ),
        (
            "signed by another key",
            with(&|h, _| h["jwk"] = public_jwk_bare(&other)),
            "invalid_dpop_proof",
            "The DPoP proof JWT signature is invalid.",
        ),
        (
            "htm GET",
            with(&|_, c| c["htm"] = json!("GET")),
            "invalid_dpop_proof",
            "'htm' claim in the DPoP proof JWT is invalid.",
        ),
        (
            "htu another path",
            with(&|_, c| c["htu"] = json!(server.url("/oauth2/default/v1/token"))),
            "invalid_dpop_proof",
            "'htu' claim in the DPoP proof JWT is invalid.",
        ),
        (
            "stale iat",
            with(&|_, c| c["iat"] = json!(now() - 400)),
            "invalid_dpop_proof",
            "The DPoP proof JWT is issued more than five minutes in the past.",
        ),
        (
            "future iat",
            with(&|_, c| c["iat"] = json!(now() + 120)),
            "invalid_dpop_proof",
            "The DPoP proof JWT is issued in the future.",
        ),
        (
            "missing nonce",
            with(&|_, c| {
                c.as_object_mut().unwrap().remove("nonce");
            }),
            "use_dpop_nonce",
            "Authorization server requires nonce in DPoP proof.",
        ),
        (
            "foreign nonce",
            with(&|_, c| c["nonce"] = json!(foreign_nonce)),
            "use_dpop_nonce",
            "Authorization server requires nonce in DPoP proof.",
        ),
    ];
    for (name, p, error, description) in cases {
        let (status, headers, body) = token_request(&server, &assertion(&server, &client_id), &[&p]).await;
        assert_eq!(body["error"], error, "{name}: {body}");
        assert_dpop_error(status, &body, error, description);
        if error == "use_dpop_nonce" {
            assert_eq!(headers["dpop-nonce"].to_str().unwrap(), nonce, "{name}: the current nonce is offered");
        }
    }

    // A good proof works once; its replay is refused, even with a fresh assertion.
    let p = proof(&key, "POST", &server.url(TOKEN_PATH), Some(&nonce), None);
    let (status, _, body) = token_request(&server, &assertion(&server, &client_id), &[&p]).await;
    assert_eq!(status, 200, "{body}");
    let (status, _, body) = token_request(&server, &assertion(&server, &client_id), &[&p]).await;
    assert_dpop_error(status, &body, "invalid_dpop_proof", "The DPoP proof JWT has already been used.");
    server.stop().await;
}

#[tokio::test]
async fn an_expired_nonce_asks_for_a_new_one() {
    let server = TestServer::start_configured(|c| c.dpop_nonce_period_seconds = 1).await;
    let client_id = register_dpop_app(&server, &["okta.users.read"]).await;
    let key = ec_key(Curve::P256);
    let nonce = fetch_nonce(&server, &client_id, &key).await;
    // Valid for its own period and three more: five seconds later it is gone.
    tokio::time::sleep(std::time::Duration::from_millis(5_100)).await;
    let p = proof(&key, "POST", &server.url(TOKEN_PATH), Some(&nonce), None);
    let (status, headers, body) = token_request(&server, &assertion(&server, &client_id), &[&p]).await;
    assert_dpop_error(status, &body, "use_dpop_nonce", "Authorization server requires nonce in DPoP proof.");
    let fresh = headers["dpop-nonce"].to_str().unwrap().to_string();
    assert_ne!(fresh, nonce);
    let p = proof(&key, "POST", &server.url(TOKEN_PATH), Some(&fresh), None);
    let (status, _, body) = token_request(&server, &assertion(&server, &client_id), &[&p]).await;
    assert_eq!(status, 200, "{body}");
    server.stop().await;
}

#[tokio::test]
async fn apps_without_the_setting_ignore_the_dpop_header() {
    let server = TestServer::start().await;
    let client_id = server.register_jwt_app(&[rsa_key()], &["okta.users.read"]).await;
    let key = ec_key(Curve::P256);
    // A good proof (as Okta's Node SDK always sends) and garbage alike: a Bearer token, unbound.
    for p in [proof(&key, "POST", &server.url(TOKEN_PATH), None, None), "garbage".to_string()] {
        let (status, _, body) = token_request(&server, &assertion(&server, &client_id), &[&p]).await;
        assert_eq!(status, 200, "{body}");
        assert_eq!(body["token_type"], "Bearer");
        assert!(payload(body["access_token"].as_str().unwrap()).get("cnf").is_none());
    }
    server.stop().await;
}

#[tokio::test]
async fn the_access_gateway_issues_bearer_tokens_to_dpop_bound_apps() {
    // The gateway has no DPoP and its /api/v2 takes Bearer only: a DPoP-bound app still gets a usable token.
    let server = TestServer::start().await;
    let client_id = register_dpop_app(&server, &["okta.oag.app.read"]).await;
    let mut claims = assertion_claims(&client_id, &server.issuer);
    claims["scope"] = json!("okta.oag.app.read");
    let form = [
        ("grant_type", "client_credentials"),
        ("client_assertion_type", "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"),
        ("scope", "okta.oag.app.read"),
    ];
    let gateway_assertion = sign(rsa_key(), &claims);
    let mut fields = form.to_vec();
    fields.push(("client_assertion", &gateway_assertion));
    let (status, body) = server.post_form("/api/v2/oauth/token", &fields).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["token_type"], "Bearer");
    let token = body["access_token"].as_str().unwrap();
    assert!(payload(token).get("cnf").is_none());
    let (status, apps) = api_get(&server, "/api/v2/apps", "Bearer", token, &[]).await;
    assert_eq!(status, 200, "{apps}");
    // The same app at the org server still needs its proof.
    let (status, _, body) = token_request(&server, &assertion(&server, &client_id), &[]).await;
    assert_dpop_error(status, &body, "invalid_dpop_proof", "The DPoP proof JWT header is missing.");
    server.stop().await;
}

#[tokio::test]
async fn the_apps_api_round_trips_the_setting_and_the_token_endpoint_follows_it() {
    let server = TestServer::start().await;
    let mut app = jwt_app_body("dpop via apps", &[rsa_key()]);
    app["settings"]["oauthClient"]["dpop_bound_access_tokens"] = json!(true);
    let (status, created) = server.admin_post("/api/v1/apps", &app).await;
    assert_eq!(status, 200, "{created}");
    assert_eq!(created["settings"]["oauthClient"]["dpop_bound_access_tokens"], true);
    let id = created["id"].as_str().unwrap().to_string();
    let (_, fetched) = server.admin_get(&format!("/api/v1/apps/{id}")).await;
    assert_eq!(fetched["settings"]["oauthClient"]["dpop_bound_access_tokens"], true);
    let (_, dcr) = server.admin_get(&format!("/oauth2/v1/clients/{id}")).await;
    assert_eq!(dcr["dpop_bound_access_tokens"], true);
    server.grant(&id, &["okta.users.read"]).await;
    let (status, _, body) = token_request(&server, &assertion(&server, &id), &[]).await;
    assert_dpop_error(status, &body, "invalid_dpop_proof", "The DPoP proof JWT header is missing.");

    // Turned off with PUT: the very next request gets a Bearer token without a proof.
    let mut updated = fetched.clone();
    updated["settings"]["oauthClient"]["dpop_bound_access_tokens"] = json!(false);
    let (status, body) = server.admin_put(&format!("/api/v1/apps/{id}"), &updated).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["settings"]["oauthClient"]["dpop_bound_access_tokens"], false);
    let (status, _, body) = token_request(&server, &assertion(&server, &id), &[]).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["token_type"], "Bearer");
    server.stop().await;
}

/// GET `path` with `Authorization: {scheme} {token}` and the given proofs.
async fn api_get(server: &TestServer, path: &str, scheme: &str, token: &str, proofs: &[&str]) -> (u16, String) {
    let mut req = server.http.get(server.url(path)).header("authorization", format!("{scheme} {token}"));
    for p in proofs {
        req = req.header("DPoP", *p);
    }
    let r = req.send().await.unwrap();
    let challenge = r.headers().get("www-authenticate").map(|v| v.to_str().unwrap().to_string()).unwrap_or_default();
    (r.status().as_u16(), challenge)
}

fn assert_challenge(got: (u16, String), status: u16, error: &str, description: &str) {
    assert_eq!(got.0, status, "{}", got.1);
    assert!(got.1.starts_with("DPoP algs=\"RS256 RS384 RS512 ES256 ES384 ES512\", "), "{}", got.1);
    assert!(got.1.contains(&format!("error=\"{error}\", error_description=\"{description}\"")), "{}", got.1);
}

#[tokio::test]
async fn the_management_api_takes_dpop_tokens_with_their_proofs_only() {
    let server = TestServer::start().await;
    let client_id = register_dpop_app(&server, &["okta.users.read"]).await;
    let key = ec_key(Curve::P256);
    let token = dpop_token(&server, &client_id, &key).await;
    let users = server.url("/api/v1/users");
    let good = || proof(&key, "GET", &users, None, Some(&token));

    // The token with a good proof: 200 (the query is not part of htu).
    let p = good();
    let r = server
        .http
        .get(server.url("/api/v1/users?limit=5"))
        .header("authorization", format!("DPoP {token}"))
        .header("DPoP", &p)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    // The same proof again: replay.
    let bad = "invalid_dpop_proof";
    assert_challenge(
        api_get(&server, "/api/v1/users", "DPoP", &token, &[&p]).await,
        400,
        bad,
        "The DPoP proof JWT has already been used.",
    );
    // Presented as Bearer: refused.
    assert_challenge(
        api_get(&server, "/api/v1/users", "Bearer", &token, &[]).await,
        400,
        "invalid_request",
        "The resource request must use the DPoP authentication scheme when using a DPoP bound token.",
    );
    // No proof.
    assert_challenge(
        api_get(&server, "/api/v1/users", "DPoP", &token, &[]).await,
        400,
        "invalid_request",
        "The resource request requires a DPoP proof.",
    );
    // ath of another token.
    let p = proof(&key, "GET", &users, None, Some("another.access.token"));
    assert_challenge(
        api_get(&server, "/api/v1/users", "DPoP", &token, &[&p]).await,
        400,
        bad,
        "'ath' claim in the DPoP proof does not match the presented access_token.",
    );
    // No ath at all.
    let p = proof(&key, "GET", &users, None, None);
    assert_challenge(
        api_get(&server, "/api/v1/users", "DPoP", &token, &[&p]).await,
        400,
        bad,
        "'ath' claim in the DPoP proof does not match the presented access_token.",
    );
    // htu with another path, htm of another method.
    let p = proof(&key, "GET", &server.url("/api/v1/apps"), None, Some(&token));
    assert_challenge(
        api_get(&server, "/api/v1/users", "DPoP", &token, &[&p]).await,
        400,
        bad,
        "'htu' claim in the DPoP proof JWT is invalid.",
    );
    let p = proof(&key, "POST", &users, None, Some(&token));
    assert_challenge(
        api_get(&server, "/api/v1/users", "DPoP", &token, &[&p]).await,
        400,
        bad,
        "'htm' claim in the DPoP proof JWT is invalid.",
    );
    // A proof by another key than the bound one.
    let p = proof(&ec_key(Curve::P256), "GET", &users, None, Some(&token));
    assert_challenge(
        api_get(&server, "/api/v1/users", "DPoP", &token, &[&p]).await,
        400,
        bad,
        "The access_token is not bound to the provided DPoP proof.",
    );
    // A stale proof.
    let stale = sign_proof(
        &key,
        &ProofRequest { htm: "GET", htu: &users, iat: now() - 400, nonce: None, access_token: Some(&token) },
    )
    .unwrap();
    assert_challenge(
        api_get(&server, "/api/v1/users", "DPoP", &token, &[&stale]).await,
        400,
        bad,
        "The DPoP proof JWT is issued more than five minutes in the past.",
    );
    // A scope the token lacks: 403 with a DPoP challenge naming it.
    let p = proof(&key, "GET", &server.url("/api/v1/apps"), None, Some(&token));
    let (status, challenge) = api_get(&server, "/api/v1/apps", "DPoP", &token, &[&p]).await;
    assert_eq!(status, 403, "{challenge}");
    assert!(challenge.starts_with("DPoP algs=\"RS256 RS384 RS512 ES256 ES384 ES512\", "), "{challenge}");
    assert!(challenge.contains("scope=\"okta.apps.read\", error=\"insufficient_scope\""), "{challenge}");
    assert!(challenge.contains("resource=\"/api/v1/apps\""), "{challenge}");
    // A garbage token with the DPoP scheme: 401 invalid_token.
    let p = proof(&key, "GET", &users, None, Some("abc.def.ghi"));
    assert_challenge(
        api_get(&server, "/api/v1/users", "DPoP", "abc.def.ghi", &[&p]).await,
        401,
        "invalid_token",
        "The access token is invalid.",
    );
    // A fresh good proof still works after all that.
    assert_eq!(api_get(&server, "/api/v1/users", "DPoP", &token, &[&good()]).await.0, 200);
    assert_eq!(access_token_hash(&token).len(), 43);
    server.stop().await;
}

#[tokio::test]
async fn a_bearer_token_presented_with_the_dpop_scheme_is_refused() {
    let server = TestServer::start().await;
    let token = server.org_access_token(&["okta.users.read"]).await;
    let key = ec_key(Curve::P256);
    let p = proof(&key, "GET", &server.url("/api/v1/users"), None, Some(&token));
    assert_challenge(
        api_get(&server, "/api/v1/users", "DPoP", &token, &[&p]).await,
        401,
        "invalid_token",
        "The presented access_token is not DPoP bound.",
    );
    // As Bearer it still works, and SSWS is untouched.
    assert_eq!(api_get(&server, "/api/v1/users", "Bearer", &token, &[]).await.0, 200);
    assert_eq!(api_get(&server, "/api/v1/users", "SSWS", ADMIN, &[]).await.0, 200);
    server.stop().await;
}

/// A token request to `server` for the public token URL `issuer` + path (the nodes share one issuer).
async fn node_request(server: &TestServer, client_id: &str, proof: &str) -> (u16, HeaderMap, Value) {
    let a = sign(rsa_key(), &assertion_claims(client_id, &server.issuer_url(TOKEN_PATH)));
    let r = server
        .http
        .post(server.url(TOKEN_PATH))
        .header("DPoP", proof)
        .form(&[
            ("grant_type", "client_credentials"),
            ("scope", "okta.users.read"),
            ("client_assertion_type", JWT_BEARER),
            ("client_assertion", a.as_str()),
        ])
        .send()
        .await
        .unwrap();
    let status = r.status().as_u16();
    let headers = r.headers().clone();
    (status, headers, r.json().await.unwrap_or(Value::Null))
}

#[tokio::test]
async fn two_nodes_on_one_database_agree_on_nonces_and_replays() {
    const ISSUER: &str = "https://tollgate.example";
    let a = TestServer::start_with(std::sync::Arc::new(tempfile::tempdir().unwrap()), Some(ISSUER)).await;
    let client_id = register_dpop_app(&a, &["okta.users.read"]).await;
    let b = TestServer::start_with(a.dir.clone(), Some(ISSUER)).await;
    let key = ec_key(Curve::P256);
    // htu is the public URL (from the issuer), never the address the request reached.
    let htu = a.issuer_url(TOKEN_PATH);
    let (status, headers, body) = node_request(&a, &client_id, &proof(&key, "POST", &htu, None, None)).await;
    assert_eq!((status, body["error"].as_str()), (400, Some("use_dpop_nonce")), "{body}");
    let nonce = headers["dpop-nonce"].to_str().unwrap().to_string();
    // Node B takes node A's nonce without asking anyone.
    let p = proof(&key, "POST", &htu, Some(&nonce), None);
    let (status, _, body) = node_request(&b, &client_id, &p).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["token_type"], "DPoP");
    // The proof replayed on node A is refused: the jti is recorded in the shared database.
    let (status, _, body) = node_request(&a, &client_id, &p).await;
    assert_dpop_error(status, &body, "invalid_dpop_proof", "The DPoP proof JWT has already been used.");
    // A proof naming the address the request reached instead of the public URL is refused.
    let p = proof(&key, "POST", &a.url(TOKEN_PATH), Some(&nonce), None);
    let (status, _, body) = node_request(&a, &client_id, &p).await;
    assert_dpop_error(status, &body, "invalid_dpop_proof", "'htu' claim in the DPoP proof JWT is invalid.");
    b.stop().await;
    a.stop().await;
}
