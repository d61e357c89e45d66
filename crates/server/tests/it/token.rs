//! The token endpoint: happy paths for every algorithm and every refusal, with Okta's status and text.
use crate::harness::*;
use serde_json::{Value, json};
use tollgate_jose::{Algorithm, Curve, Jwks, KeySpec, PrivateKey, jws};

/// Verifies an access token against the server's published keys, as a resource server would.
async fn verify_with_published_keys(server: &TestServer, path: &str, token: &str) -> Value {
    let text = server.http.get(server.url(path)).send().await.unwrap().text().await.unwrap();
    let jwks = Jwks::from_json(&text).unwrap();
    let parsed = jws::decode(token).unwrap();
    assert_eq!(parsed.header().alg, Algorithm::Rs256);
    let kid = parsed.header().kid.clone().expect("access token has a kid");
    let jwk = jwks.keys.iter().find(|k| k.kid.as_deref() == Some(&kid)).expect("kid is published");
    parsed.verify(&tollgate_jose::PublicKey::from_jwk(jwk).unwrap()).unwrap();
    serde_json::from_slice(parsed.payload()).unwrap()
}

#[tokio::test]
async fn every_assertion_algorithm_gets_a_token() {
    let server = TestServer::start().await;
    let token_url = server.url("/oauth2/v1/token");
    let cases: Vec<(Algorithm, PrivateKey)> = vec![
        (Algorithm::Rs256, PrivateKey::from_pkcs8_der(&rsa_key().to_pkcs8_der().unwrap()).unwrap()),
        (Algorithm::Rs384, PrivateKey::from_pkcs8_der(&rsa_key().to_pkcs8_der().unwrap()).unwrap()),
        (Algorithm::Rs512, PrivateKey::from_pkcs8_der(&rsa_key().to_pkcs8_der().unwrap()).unwrap()),
        (Algorithm::Ps256, PrivateKey::from_pkcs8_der(&rsa_key().to_pkcs8_der().unwrap()).unwrap()),
        (Algorithm::Ps384, PrivateKey::from_pkcs8_der(&rsa_key().to_pkcs8_der().unwrap()).unwrap()),
        (Algorithm::Ps512, PrivateKey::from_pkcs8_der(&rsa_key().to_pkcs8_der().unwrap()).unwrap()),
        (Algorithm::Es256, ec_key(Curve::P256)),
        (Algorithm::Es384, ec_key(Curve::P384)),
        (Algorithm::Es512, ec_key(Curve::P521)),
    ];
    for (alg, key) in cases {
        let key = key.with_algorithm(alg).unwrap();
        let client_id = server.register_jwt_app(&[&key], &["okta.users.read"]).await;
        let assertion = sign(&key, &assertion_claims(&client_id, &token_url));
        let (status, body) = server.token_with(&assertion, "okta.users.read").await;
        assert_eq!(status, 200, "{alg}: {body}");
        assert_eq!(body["token_type"], "Bearer");
        assert_eq!(body["expires_in"], 3600);
        assert_eq!(body["scope"], "okta.users.read");
        let claims =
            verify_with_published_keys(&server, "/oauth2/v1/keys", body["access_token"].as_str().unwrap()).await;
        assert_eq!(claims["sub"], client_id.as_str());
        assert_eq!(claims["cid"], client_id.as_str());
    }
    server.stop().await;
}

#[tokio::test]
async fn access_token_has_okta_claims_and_no_store_headers() {
    let server = TestServer::start().await;
    let key = rsa_key();
    let client_id = server.register_jwt_app(&[key], &["okta.users.read", "okta.apps.read"]).await;
    let assertion = sign(key, &assertion_claims(&client_id, &server.url("/oauth2/v1/token")));
    let resp = server
        .http
        .post(server.url("/oauth2/v1/token"))
        .form(&[
            ("grant_type", "client_credentials"),
            ("scope", "okta.users.read okta.apps.read"),
            ("client_assertion_type", JWT_BEARER),
            ("client_assertion", &assertion),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 200);
    assert_eq!(resp.headers()["cache-control"], "no-store");
    assert_eq!(resp.headers()["pragma"], "no-cache");
    assert!(resp.headers()["content-type"].to_str().unwrap().starts_with("application/json"));
    let body: Value = resp.json().await.unwrap();
    assert_eq!(body["scope"], "okta.users.read okta.apps.read");
    let claims = payload(body["access_token"].as_str().unwrap());
    assert_eq!(claims["ver"], 1);
    assert_eq!(claims["iss"], server.base.as_str());
    assert_eq!(claims["aud"], server.base.as_str());
    assert_eq!(claims["scp"], json!(["okta.users.read", "okta.apps.read"]));
    assert_eq!(claims["exp"].as_i64().unwrap() - claims["iat"].as_i64().unwrap(), 3600);
    let jti = claims["jti"].as_str().unwrap();
    assert!(jti.starts_with("AT.") && jti.len() == 46, "{jti}");
    assert!(claims.get("uid").is_none());
    server.stop().await;
}

/// One refused request: asserts the status, `error` and `error_description`.
async fn refused(server: &TestServer, form: &[(&str, &str)], status: u16, error: &str, description: &str) {
    let (got, body) = server.post_form("/oauth2/v1/token", form).await;
    assert_eq!((got, body["error"].as_str().unwrap_or("")), (status, error), "{body}");
    assert_eq!(body["error_description"], description, "{body}");
}

fn assertion_form<'a>(assertion: &'a str, scope: &'a str) -> Vec<(&'a str, &'a str)> {
    vec![
        ("grant_type", "client_credentials"),
        ("scope", scope),
        ("client_assertion_type", JWT_BEARER),
        ("client_assertion", assertion),
    ]
}

#[tokio::test]
async fn assertion_refusals_match_okta() {
    let server = TestServer::start().await;
    let key = rsa_key();
    let client_id = server.register_jwt_app(&[key], &["okta.users.read"]).await;
    let token_url = server.url("/oauth2/v1/token");
    let base = assertion_claims(&client_id, &token_url);
    let with = |f: &dyn Fn(&mut Value)| {
        let mut c = base.clone();
        c["jti"] = json!(uuid::Uuid::new_v4().to_string());
        f(&mut c);
        c
    };
    let s = "okta.users.read";
    let cases: Vec<(Value, &str)> = vec![
        (
            with(&|c| c["aud"] = json!(format!("{}//oauth2/v1/token", server.base))),
            "The audience claim for client_assertion must be the endpoint invoked for the request.",
        ),
        (
            with(&|c| c["aud"] = json!(server.url("/oauth2/v1/introspect"))),
            "The audience claim for client_assertion must be the endpoint invoked for the request.",
        ),
        (
            with(&|c| c["exp"] = json!(now() + 3700)),
            "The client_assertion token has an expiration too far into the future.",
        ),
        (with(&|c| c["exp"] = json!(now() - 60)), "The client_assertion token is expired."),
        (
            with(&|c| {
                c.as_object_mut().unwrap().remove("exp");
            }),
            "The client_assertion must contain the 'exp' claim as seconds since epoch.",
        ),
        (
            with(&|c| c["iat"] = json!(now() + 600)),
            "The client_assertion token must be issued before the current time.",
        ),
        (
            with(&|c| c["iss"] = json!("0oanotaclient")),
            "The issuer claim for client_assertion is not a valid client_id.",
        ),
        (
            with(&|c| c["sub"] = json!("someone-else")),
            "The subject claim for client_assertion is not a valid client_id.",
        ),
    ];
    for (claims, description) in cases {
        let assertion = sign(key, &claims);
        refused(&server, &assertion_form(&assertion, s), 401, "invalid_client", description).await;
    }
    // Signed by another key under the registered kid.
    let forged = sign_with(rsa_key_2(), Algorithm::Rs256, Some(key.kid()), &with(&|_| {}));
    refused(&server, &assertion_form(&forged, s), 401, "invalid_client", "The client_assertion signature is invalid.")
        .await;
    // A kid the app does not have.
    let unknown_kid = sign_with(key, Algorithm::Rs256, Some("no-such-kid"), &with(&|_| {}));
    refused(
        &server,
        &assertion_form(&unknown_kid, s),
        401,
        "invalid_client",
        "The client_assertion JWT kid is invalid.",
    )
    .await;
    // ES256 header on an RSA key: the algorithm is bound to the key.
    let es = ec_key(Curve::P256);
    let wrong_alg = sign_with(&es, Algorithm::Es256, Some(key.kid()), &with(&|_| {}));
    refused(
        &server,
        &assertion_form(&wrong_alg, s),
        401,
        "invalid_client",
        "The client_assertion JWT signature algorithm is invalid.",
    )
    .await;
    // alg none and HS256 (RFC 8725 §2.1, §3.1).
    let payload_b64 = tollgate_jose::b64url_encode(serde_json::to_string(&with(&|_| {})).unwrap().as_bytes());
    for header in [r#"{"alg":"none"}"#, r#"{"alg":"HS256","kid":"x"}"#] {
        let token = format!(
            "{}.{}.{}",
            tollgate_jose::b64url_encode(header.as_bytes()),
            payload_b64,
            tollgate_jose::b64url_encode(b"sig")
        );
        refused(
            &server,
            &assertion_form(&token, s),
            401,
            "invalid_client",
            "The client_assertion JWT signature algorithm is invalid.",
        )
        .await;
    }
    // EdDSA is not an Okta client-assertion algorithm.
    let ed = PrivateKey::generate(KeySpec::Ed25519).unwrap();
    let ed_token = sign(&ed, &with(&|_| {}));
    refused(
        &server,
        &assertion_form(&ed_token, s),
        401,
        "invalid_client",
        "The client_assertion JWT signature algorithm is invalid.",
    )
    .await;
    // Not a JWT at all.
    refused(
        &server,
        &assertion_form("not.a.jwt!", s),
        401,
        "invalid_client",
        "The parsing of the client_assertion failed.",
    )
    .await;
    // Wrong assertion type.
    let ok = sign(key, &with(&|_| {}));
    refused(
        &server,
        &[
            ("grant_type", "client_credentials"),
            ("scope", s),
            ("client_assertion_type", "urn:wrong"),
            ("client_assertion", &ok),
        ],
        400,
        "invalid_request",
        "The client_assertion_type is invalid.",
    )
    .await;
    server.stop().await;
}

#[tokio::test]
async fn replayed_jti_is_refused_even_after_restart_and_aud_may_be_the_issuer() {
    let issuer = "http://tollgate.test";
    let server = TestServer::start_with(std::sync::Arc::new(tempfile::tempdir().unwrap()), Some(issuer)).await;
    let key = rsa_key();
    let client_id = server.register_jwt_app(&[key], &["okta.users.read"]).await;
    // RFC 7523bis: the issuer is an accepted audience.
    let assertion = sign(key, &assertion_claims(&client_id, issuer));
    let (status, body) = server.token_with(&assertion, "okta.users.read").await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(payload(body["access_token"].as_str().unwrap())["iss"], issuer);
    let (status, body) = server.token_with(&assertion, "okta.users.read").await;
    assert_eq!(status, 401);
    assert_eq!(body["error_description"], "The client_assertion token has already been used.");

    let dir = server.stop().await;
    let server = TestServer::start_with(dir, Some(issuer)).await;
    let (status, body) = server.token_with(&assertion, "okta.users.read").await;
    assert_eq!(status, 401, "{body}");
    assert_eq!(body["error_description"], "The client_assertion token has already been used.");
    // The app, its key and its grant survived the restart.
    let fresh = sign(key, &assertion_claims(&client_id, &server.issuer_url("/oauth2/v1/token")));
    let (status, body) = server.token_with(&fresh, "okta.users.read").await;
    assert_eq!(status, 200, "{body}");
    server.stop().await;
}

#[tokio::test]
async fn assertion_without_kid_needs_exactly_one_key_of_its_type() {
    let server = TestServer::start().await;
    let ec = ec_key(Curve::P256);
    let client_id = server.register_jwt_app(&[rsa_key(), rsa_key_2(), &ec], &["okta.users.read"]).await;
    let claims = || assertion_claims(&client_id, &server.url("/oauth2/v1/token"));
    // Two RSA keys: a kid-less RS256 assertion is ambiguous, as at Okta (no trying every key).
    let (status, body) =
        server.token_with(&sign_with(rsa_key_2(), Algorithm::Rs256, None, &claims()), "okta.users.read").await;
    assert_eq!((status, body["error"].as_str()), (401, Some("invalid_client")), "{body}");
    assert_eq!(body["error_description"], "The client_assertion JWT kid is invalid.");
    // One EC key: the kid may be left out.
    let (status, body) = server.token_with(&sign_with(&ec, Algorithm::Es256, None, &claims()), "okta.users.read").await;
    assert_eq!(status, 200, "{body}");
    let other = PrivateKey::generate(KeySpec::Ec(Curve::P256)).unwrap();
    let (status, body) =
        server.token_with(&sign_with(&other, Algorithm::Es256, None, &claims()), "okta.users.read").await;
    assert_eq!(status, 401);
    assert_eq!(body["error_description"], "The client_assertion signature is invalid.");
    server.stop().await;
}

#[tokio::test]
async fn org_scope_rules() {
    let server = TestServer::start().await;
    let key = rsa_key();
    let client_id = server.register_jwt_app(&[key], &["okta.users.read"]).await;
    let url = server.url("/oauth2/v1/token");
    let ask = |scope: &'static str| {
        let a = sign(key, &assertion_claims(&client_id, &url));
        let server = &server;
        async move { server.token_with(&a, scope).await }
    };
    // Partly granted: silently narrowed.
    let (status, body) = ask("okta.users.read okta.apps.manage").await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["scope"], "okta.users.read");
    let expect = [
        ("okta.apps.manage", "consent_required", "You are not allowed any of the requested scopes."),
        ("", "invalid_scope", "No scopes were requested."),
        ("openid okta.users.read", "invalid_scope", "Cannot request 'openid' scopes using client credentials."),
        ("api.read", "invalid_scope", "Custom scopes are not allowed for this request."),
    ];
    for (scope, error, description) in expect {
        let (status, body) = ask(scope).await;
        assert_eq!((status, body["error"].as_str().unwrap()), (400, error), "{scope}: {body}");
        assert_eq!(body["error_description"], description);
    }
    server.stop().await;
}

/// A grant written by another node (straight to the database: no reload here, and SQLite has no change
/// feed) counts at once. The app was cached without it; before refusing `consent_required` the endpoint
/// reads the app once more, so an app created on one node and granted a moment later gets its token from
/// another node that cached the app in between.
#[tokio::test]
async fn a_grant_made_elsewhere_counts_before_a_consent_refusal() {
    let server = TestServer::start().await;
    let key = rsa_key();
    let client_id = server.register_jwt_app(&[key], &["okta.users.read"]).await;
    let url = server.url("/oauth2/v1/token");
    let ask = |scope: &'static str| {
        let a = sign(key, &assertion_claims(&client_id, &url));
        let server = &server;
        async move { server.token_with(&a, scope).await }
    };
    assert_eq!(ask("okta.users.read").await.0, 200, "cached with its one grant");

    let other_node = tollgate_store::open(&server.database_url()).await.unwrap();
    let app = other_node.app_by_client_id(&client_id).await.unwrap().unwrap();
    let now = now() * 1000;
    let grant = tollgate_store::Grant {
        id: "oag_written_elsewhere".into(),
        app_id: app.id,
        scope_id: "okta.apps.read".into(),
        issuer: server.issuer.clone(),
        status: "ACTIVE".into(),
        source: "ADMIN".into(),
        created: now,
        last_updated: now,
    };
    other_node.insert_grant(&grant).await.unwrap();
    let (status, body) = ask("okta.apps.read").await;
    assert_eq!(status, 200, "the stored grant is honoured: {body}");
    assert_eq!(body["scope"], "okta.apps.read");
    // Still refused when the database has no such grant either.
    let (status, body) = ask("okta.apps.manage").await;
    assert_eq!((status, body["error"].as_str()), (400, Some("consent_required")), "{body}");
    server.stop().await;
}

#[tokio::test]
async fn request_shape_refusals() {
    let server = TestServer::start().await;
    let (id, secret) = server.register_secret_app().await;
    refused(
        &server,
        &[("scope", "x")],
        400,
        "invalid_request",
        "The token request must specify a 'grant_type'. Valid values: [client_credentials]",
    )
    .await;
    refused(
        &server,
        &[("grant_type", "password")],
        400,
        "unsupported_grant_type",
        "The authorization grant type is not supported by the authorization server. Configured grant types: [client_credentials].",
    )
    .await;
    refused(
        &server,
        &[("grant_type", "client_credentials"), ("scope", "okta.users.read")],
        401,
        "invalid_client",
        "No client credentials found.",
    )
    .await;
    refused(
        &server,
        &[("grant_type", "client_credentials"), ("client_id", &id), ("client_secret", &secret), ("scope", "okta.users.read")],
        401,
        "invalid_client",
        "Client Credentials requests to the Org Authorization Server must use the private_key_jwt token_endpoint_auth_method.",
    )
    .await;
    refused(
        &server,
        &[("grant_type", "client_credentials"), ("client_secret", &secret), ("client_assertion_type", JWT_BEARER), ("client_assertion", "x")],
        401,
        "invalid_request",
        "Cannot supply multiple client credentials. Use one of the following: credentials in the Authorization header, credentials in the post body, or a client_assertion in the post body.",
    )
    .await;
    // Duplicate parameters, credentials in the query, wrong content type, a huge body: all clean 4xx.
    let r = server
        .http
        .post(server.url("/oauth2/v1/token"))
        .header("content-type", "application/x-www-form-urlencoded")
        .body("grant_type=client_credentials&grant_type=client_credentials")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 400);
    assert_eq!(
        r.json::<Value>().await.unwrap()["error_description"],
        "Duplicate parameter provided in request. Duplicated parameters: [grant_type]."
    );
    let r = server
        .http
        .post(server.url("/oauth2/v1/token?client_secret=x"))
        .form(&[("grant_type", "client_credentials")])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 400);
    assert_eq!(
        r.json::<Value>().await.unwrap()["error_description"],
        "Client credentials cannot be supplied via query parameters."
    );
    let r = server
        .http
        .post(server.url("/oauth2/v1/token"))
        .json(&json!({"grant_type": "client_credentials"}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 400);
    let big = "a".repeat(200 * 1024);
    let r = server
        .http
        .post(server.url("/oauth2/v1/token"))
        .form(&[("grant_type", "client_credentials"), ("scope", big.as_str())])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 413);
    assert_eq!(r.json::<Value>().await.unwrap()["error"], "invalid_request");
    server.stop().await;
}

#[tokio::test]
async fn custom_server_takes_client_secrets_and_its_own_scopes() {
    let server = TestServer::start().await;
    server.create_scope("default", "api.read").await;
    let (id, secret) = server.register_secret_app().await;
    let url = server.url("/oauth2/default/v1/token");
    // client_secret_basic
    let r = server
        .http
        .post(&url)
        .basic_auth(&id, Some(&secret))
        .form(&[("grant_type", "client_credentials"), ("scope", "api.read")])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    let body: Value = r.json().await.unwrap();
    let claims =
        verify_with_published_keys(&server, "/oauth2/default/v1/keys", body["access_token"].as_str().unwrap()).await;
    assert_eq!(claims["iss"], server.url("/oauth2/default"));
    assert_eq!(claims["aud"], "api://default");
    assert_eq!(claims["scp"], json!(["api.read"]));
    // client_secret_post
    let (status, body) = server
        .post_form(
            "/oauth2/default/v1/token",
            &[
                ("grant_type", "client_credentials"),
                ("scope", "api.read"),
                ("client_id", &id),
                ("client_secret", &secret),
            ],
        )
        .await;
    assert_eq!(status, 200, "{body}");
    // Refusals.
    let (status, body) = server
        .post_form(
            "/oauth2/default/v1/token",
            &[
                ("grant_type", "client_credentials"),
                ("scope", "api.read"),
                ("client_id", &id),
                ("client_secret", "wrong"),
            ],
        )
        .await;
    assert_eq!(
        (status, body["error_description"].as_str().unwrap()),
        (401, "The client secret supplied for a confidential client is invalid.")
    );
    let (status, body) = server
        .post_form(
            "/oauth2/default/v1/token",
            &[
                ("grant_type", "client_credentials"),
                ("scope", "api.read"),
                ("client_id", "0oanobody"),
                ("client_secret", "x"),
            ],
        )
        .await;
    assert_eq!(
        (status, body["error_description"].as_str().unwrap()),
        (401, "Invalid value for 'client_id' parameter.")
    );
    let (status, body) = server
        .post_form(
            "/oauth2/default/v1/token",
            &[
                ("grant_type", "client_credentials"),
                ("scope", "api.write"),
                ("client_id", &id),
                ("client_secret", &secret),
            ],
        )
        .await;
    assert_eq!(
        (status, body["error_description"].as_str().unwrap()),
        (400, "One or more scopes are not configured for the authorization server resource.")
    );
    let (status, body) = server
        .post_form(
            "/oauth2/default/v1/token",
            &[("grant_type", "client_credentials"), ("client_id", &id), ("client_secret", &secret)],
        )
        .await;
    assert_eq!(
        (status, body["error_description"].as_str().unwrap()),
        (
            400,
            "The authorization server resource does not have any configured default scopes, 'scope' must be provided."
        )
    );
    let r = server
        .http
        .post(&url)
        .header("authorization", "Basic !!!")
        .form(&[("grant_type", "client_credentials")])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 401);
    // As Okta: no WWW-Authenticate challenge, so clients surface the JSON error (docs/api.md).
    assert!(!r.headers().contains_key("www-authenticate"));
    assert_eq!(
        r.json::<Value>().await.unwrap()["error_description"],
        "Found Authentication header but was not valid client credentials."
    );
    // Unknown custom server: Okta's management 404.
    let (status, body) = server.post_form("/oauth2/nope/v1/token", &[("grant_type", "client_credentials")]).await;
    assert_eq!((status, body["errorCode"].as_str().unwrap()), (404, "E0000007"));
    assert_eq!(body["errorSummary"], "Not found: Resource not found: nope (AuthorizationServer)");
    server.stop().await;
}

#[tokio::test]
async fn tokens_signed_before_a_rotation_still_verify() {
    let server = TestServer::start().await;
    server.create_scope("default", "api.read").await;
    let (id, secret) = server.register_secret_app().await;
    let get_token = || async {
        let (status, body) = server
            .post_form(
                "/oauth2/default/v1/token",
                &[
                    ("grant_type", "client_credentials"),
                    ("scope", "api.read"),
                    ("client_id", &id),
                    ("client_secret", &secret),
                ],
            )
            .await;
        assert_eq!(status, 200, "{body}");
        body["access_token"].as_str().unwrap().to_string()
    };
    let old_token = get_token().await;
    let old_kid = jws::decode(&old_token).unwrap().header().kid.clone().unwrap();
    let before: Value =
        server.http.get(server.url("/oauth2/default/v1/keys")).send().await.unwrap().json().await.unwrap();
    assert_eq!(before["keys"].as_array().unwrap().len(), 2, "ACTIVE and NEXT are published: {before}");
    let (status, _) =
        server.admin_post("/api/v1/authorizationServers/default/credentials/lifecycle/keyRotate", &json!({})).await;
    assert_eq!(status, 200);
    let new_token = get_token().await;
    let new_kid = jws::decode(&new_token).unwrap().header().kid.clone().unwrap();
    assert_ne!(old_kid, new_kid, "the NEXT key signs after rotation");
    assert!(
        before["keys"].as_array().unwrap().iter().any(|k| k["kid"] == new_kid.as_str()),
        "the new signing key was published before use"
    );
    // The old token still verifies with what is published now.
    let claims = verify_with_published_keys(&server, "/oauth2/default/v1/keys", &old_token).await;
    assert_eq!(claims["cid"], id.as_str());
    verify_with_published_keys(&server, "/oauth2/default/v1/keys", &new_token).await;
    let r = server.http.get(server.url("/oauth2/default/v1/keys")).send().await.unwrap();
    let cc = r.headers()["cache-control"].to_str().unwrap().to_string();
    assert!(cc.starts_with("max-age=") && cc.ends_with(", must-revalidate"), "{cc}");
    server.stop().await;
}

#[tokio::test]
async fn basic_credentials_are_accepted_raw_or_form_encoded() {
    use base64ct::Encoding;
    let server = TestServer::start().await;
    server.create_scope("default", "api.read").await;
    let secret = "p+ss%word:with/slash-0123%2F";
    let (status, app) = server
        .admin_post(
            "/api/v1/apps",
            &json!({
                "name": "oidc_client", "label": "odd secret", "signOnMode": "OPENID_CONNECT",
                "credentials": { "oauthClient": { "token_endpoint_auth_method": "client_secret_basic", "client_secret": secret } },
                "settings": { "oauthClient": { "application_type": "service", "grant_types": ["client_credentials"] } },
            }),
        )
        .await;
    assert_eq!(status, 200, "{app}");
    let id = app["credentials"]["oauthClient"]["client_id"].as_str().unwrap().to_owned();
    let token = |user: String, password: String| {
        let header = format!("Basic {}", base64ct::Base64::encode_string(format!("{user}:{password}").as_bytes()));
        let request = server.http.post(server.url("/oauth2/default/v1/token")).header("Authorization", header);
        async move {
            let r = request.form(&[("grant_type", "client_credentials"), ("scope", "api.read")]).send().await.unwrap();
            let status = r.status().as_u16();
            (status, r.json::<Value>().await.unwrap())
        }
    };
    let encode = |s: &str| form_urlencoded::byte_serialize(s.as_bytes()).collect::<String>();
    // As curl -u, requests, httpx... send it: raw.
    let (status, body) = token(id.clone(), secret.to_owned()).await;
    assert_eq!(status, 200, "raw: {body}");
    // As RFC 6749 wants it (and tollgate's client sends it): form-encoded.
    let (status, body) = token(encode(&id), encode(secret)).await;
    assert_eq!(status, 200, "encoded: {body}");
    // Neither spelling of a wrong secret.
    let (status, body) = token(id.clone(), "p ss%word:with/slash-0123/".to_owned()).await;
    assert_eq!(status, 401, "{body}");
    assert_eq!(body["error_description"], "The client secret supplied for a confidential client is invalid.");
    server.stop().await;
}

/// A NUL (which PostgreSQL text cannot hold) in a client id, an assertion `iss` or `jti`, or an
/// introspected token is refused in Okta's shape before any lookup, on both backends (was a 503).
#[tokio::test]
async fn bytes_the_database_cannot_hold_are_refused_before_any_lookup() {
    use base64ct::Encoding;
    let server = TestServer::start().await;
    let (id, secret) = server.register_secret_app().await;
    let token_url = "/oauth2/default/v1/token";
    let (status, body) = server
        .post_form(token_url, &[("grant_type", "client_credentials"), ("client_id", "a\0b"), ("client_secret", "x")])
        .await;
    assert_eq!((status, body["error"].as_str()), (401, Some("invalid_client")), "{body}");
    assert_eq!(body["error_description"], "Invalid value for 'client_id' parameter.");
    let basic = format!("Basic {}", base64ct::Base64::encode_string(b"a%00b:secret"));
    let r = server
        .http
        .post(server.url(token_url))
        .header("Authorization", basic)
        .form(&[("grant_type", "client_credentials")])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 401);
    let body: Value = r.json().await.unwrap();
    assert_eq!(body["error_description"], "Invalid value for 'client_id' parameter.");

    let client_id = server.register_jwt_app(&[rsa_key()], &["okta.users.read"]).await;
    let mut claims = assertion_claims("a\0b", &server.url("/oauth2/v1/token"));
    let (status, body) = server.token_with(&sign(rsa_key(), &claims), "okta.users.read").await;
    assert_eq!((status, body["error"].as_str()), (401, Some("invalid_client")), "{body}");
    assert_eq!(body["error_description"], "The issuer claim for client_assertion is not a valid client_id.");
    claims = assertion_claims(&client_id, &server.url("/oauth2/v1/token"));
    claims["jti"] = json!("j\0ti");
    let (status, body) = server.token_with(&sign(rsa_key(), &claims), "okta.users.read").await;
    assert_eq!((status, body["error"].as_str()), (401, Some("invalid_client")), "{body}");
    assert_eq!(body["error_description"], "The parsing of the client_assertion failed.");

    for (name, value) in [("token", "a\0b"), ("token_type_hint", "access\0token")] {
        for endpoint in ["introspect", "revoke"] {
            let token = if name == "token" { value } else { "abc" };
            let mut form = vec![("client_id", id.as_str()), ("client_secret", secret.as_str()), ("token", token)];
            if name == "token_type_hint" {
                form.push((name, value));
            }
            let (status, body) = server.post_form(&format!("/oauth2/default/v1/{endpoint}"), &form).await;
            assert_eq!((status, body["error"].as_str()), (400, Some("invalid_request")), "{endpoint} {name}: {body}");
            assert_eq!(body["error_description"], format!("The '{name}' parameter is invalid."));
        }
    }
    server.stop().await;
}
