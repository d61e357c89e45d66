//! DPoP-bound tokens (RFC 9449) through the verifier and the layer: tokens with `cnf.jkt` signed here,
//! proofs signed with tollgate-jose, over the same local issuer as the other tests.
use super::*;
use tollgate_jose::Curve;
use tollgate_jose::dpop::{DpopError, ProofRequest, sign_proof};
use tollgate_verify::DpopRequest;

const PUBLIC: &str = "https://api.example.com";

fn dpop_key() -> PrivateKey {
    PrivateKey::generate(KeySpec::Ec(Curve::P256)).unwrap()
}

fn bound_token(key: &PrivateKey, issuer: &Issuer, dpop: &PrivateKey, scp: &[&str]) -> String {
    let mut claims = claims(&issuer.url, AUDIENCE, now() + 600, scp);
    claims.extra.insert("cnf".into(), serde_json::json!({ "jkt": dpop.public_key().thumbprint() }));
    sign(key, &claims)
}

fn proof(dpop: &PrivateKey, htm: &str, htu: &str, token: Option<&str>, iat: i64) -> String {
    sign_proof(dpop, &ProofRequest { htm, htu, iat, nonce: None, access_token: token }).unwrap()
}

async fn dpop_app(issuer: &Issuer, scopes: &[&str]) -> Router {
    let verifier = Arc::new(issuer.verifier());
    Router::new()
        .route(
            "/hello",
            get(|axum::Extension(token): axum::Extension<VerifiedToken>| async move {
                format!("hello {}", token.jkt.unwrap_or_default())
            }),
        )
        .layer(VerifyLayer::new(verifier).require_scopes(scopes.iter().copied()).public_url(PUBLIC))
}

async fn send(app: Router, authorization: Option<String>, proofs: &[&str]) -> (u16, Option<String>, String) {
    let mut request = http::Request::builder().uri("/hello?x=1");
    if let Some(authorization) = authorization {
        request = request.header("authorization", authorization);
    }
    for proof in proofs {
        request = request.header("dpop", *proof);
    }
    let response = app.oneshot(request.body(axum::body::Body::empty()).unwrap()).await.unwrap();
    let status = response.status().as_u16();
    let challenge = response.headers().get("www-authenticate").map(|v| v.to_str().unwrap().to_owned());
    let body = axum::body::to_bytes(response.into_body(), 1 << 16).await.unwrap();
    (status, challenge, String::from_utf8_lossy(&body).into_owned())
}

fn assert_dpop_refusal(result: &(u16, Option<String>, String), status: u16, error: &str, description: &str) {
    assert_eq!(result.0, status, "{result:?}");
    let challenge = result.1.as_deref().unwrap();
    assert!(challenge.starts_with("DPoP algs=\"RS256 RS384 RS512 ES256 ES384 ES512\""), "{challenge}");
    assert!(challenge.contains(&format!("error=\"{error}\"")), "{challenge}");
    assert!(challenge.contains(&format!("error_description=\"{}\"", description.replace('"', "\\\""))), "{challenge}");
}

#[tokio::test]
async fn a_bound_token_with_a_good_proof_passes_once() {
    let key = rsa("k1");
    let issuer = Issuer::start(&[&key]).await;
    let dpop = dpop_key();
    let token = bound_token(&key, &issuer, &dpop, &["api.read"]);
    let app = dpop_app(&issuer, &["api.read"]).await;
    let good = proof(&dpop, "GET", &format!("{PUBLIC}/hello"), Some(&token), now());
    let (status, _, body) = send(app.clone(), Some(format!("DPoP {token}")), &[&good]).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body, format!("hello {}", dpop.public_key().thumbprint()));
    // the same proof again is a replay
    let again = send(app.clone(), Some(format!("DPoP {token}")), &[&good]).await;
    assert_dpop_refusal(&again, 401, "invalid_dpop_proof", "The DPoP proof JWT has already been used.");
    // a new proof is fine
    let fresh = proof(&dpop, "GET", &format!("{PUBLIC}/hello"), Some(&token), now());
    assert_eq!(send(app, Some(format!("DPoP {token}")), &[&fresh]).await.0, 200);
}

#[tokio::test]
async fn each_proof_mistake_is_refused_with_okta_words() {
    let key = rsa("k1");
    let issuer = Issuer::start(&[&key]).await;
    let dpop = dpop_key();
    let token = bound_token(&key, &issuer, &dpop, &["api.read"]);
    let app = dpop_app(&issuer, &[]).await;
    let url = format!("{PUBLIC}/hello");
    let auth = || Some(format!("DPoP {token}"));
    let cases: Vec<(String, DpopError)> = vec![
        (proof(&dpop, "POST", &url, Some(&token), now()), DpopError::BadHtm),
        (proof(&dpop, "GET", "https://evil.example/hello", Some(&token), now()), DpopError::BadHtu),
        (proof(&dpop, "GET", &url, Some("another token"), now()), DpopError::BadAth),
        (proof(&dpop, "GET", &url, None, now()), DpopError::BadAth),
        (proof(&dpop, "GET", &url, Some(&token), now() - 600), DpopError::Stale),
        (proof(&dpop, "GET", &url, Some(&token), now() + 600), DpopError::Future),
        (proof(&dpop_key(), "GET", &url, Some(&token), now()), DpopError::NotBound),
        ("not.a.proof".to_owned(), DpopError::Unparsable),
    ];
    for (proof, error) in cases {
        let result = send(app.clone(), auth(), &[&proof]).await;
        assert_dpop_refusal(&result, 401, "invalid_dpop_proof", &error.to_string());
    }
    let one = proof(&dpop, "GET", &url, Some(&token), now());
    let two = proof(&dpop, "GET", &url, Some(&token), now());
    let result = send(app.clone(), auth(), &[&one, &two]).await;
    assert_dpop_refusal(&result, 401, "invalid_dpop_proof", "Multiple DPoP proof JWT headers are not allowed.");
    let result = send(app, auth(), &[]).await;
    assert_dpop_refusal(&result, 400, "invalid_request", "The resource request requires a DPoP proof.");
}

#[tokio::test]
async fn bound_tokens_as_bearer_and_unbound_tokens_as_dpop_are_refused() {
    let key = rsa("k1");
    let issuer = Issuer::start(&[&key]).await;
    let dpop = dpop_key();
    let bound = bound_token(&key, &issuer, &dpop, &["api.read"]);
    let app = dpop_app(&issuer, &[]).await;
    let result = send(app.clone(), Some(format!("Bearer {bound}")), &[]).await;
    assert_dpop_refusal(
        &result,
        400,
        "invalid_request",
        "The resource request must use the DPoP authentication scheme when using a DPoP bound token.",
    );
    let plain = sign(&key, &claims(&issuer.url, AUDIENCE, now() + 600, &["api.read"]));
    let p = proof(&dpop, "GET", &format!("{PUBLIC}/hello"), Some(&plain), now());
    let result = send(app.clone(), Some(format!("DPoP {plain}")), &[&p]).await;
    assert_dpop_refusal(&result, 401, "invalid_token", "The presented access_token is not DPoP bound.");
    // plain bearer tokens keep working, and a missing token offers both schemes
    assert_eq!(send(app.clone(), Some(format!("Bearer {plain}")), &[]).await.0, 200);
    let response =
        app.oneshot(http::Request::builder().uri("/hello").body(axum::body::Body::empty()).unwrap()).await.unwrap();
    let challenges: Vec<&str> =
        response.headers().get_all("www-authenticate").iter().map(|v| v.to_str().unwrap()).collect();
    assert_eq!(challenges, vec!["Bearer", "DPoP algs=\"RS256 RS384 RS512 ES256 ES384 ES512\""]);
}

#[tokio::test]
async fn insufficient_scope_with_dpop_uses_the_dpop_challenge() {
    let key = rsa("k1");
    let issuer = Issuer::start(&[&key]).await;
    let dpop = dpop_key();
    let token = bound_token(&key, &issuer, &dpop, &["api.read"]);
    let app = dpop_app(&issuer, &["api.write"]).await;
    let p = proof(&dpop, "GET", &format!("{PUBLIC}/hello"), Some(&token), now());
    let result = send(app, Some(format!("DPoP {token}")), &[&p]).await;
    assert_dpop_refusal(
        &result,
        403,
        "insufficient_scope",
        "The access token provided does not contain the required scopes.",
    );
    assert!(result.1.unwrap().contains("scope=\"api.write\""));
}

#[tokio::test]
async fn without_a_public_url_dpop_requests_are_refused() {
    let key = rsa("k1");
    let issuer = Issuer::start(&[&key]).await;
    let dpop = dpop_key();
    let token = bound_token(&key, &issuer, &dpop, &[]);
    let app = protected_app(&issuer, &[]).await;
    let p = proof(&dpop, "GET", "http://localhost/hello", Some(&token), now());
    let mut request = http::Request::builder()
        .uri("/hello")
        .header("host", "localhost")
        .header("authorization", format!("DPoP {token}"))
        .header("dpop", p);
    request = request.method("GET");
    let response = app.oneshot(request.body(axum::body::Body::empty()).unwrap()).await.unwrap();
    assert_eq!(response.status(), 401, "the Host header is not trusted by default");
}

#[tokio::test]
async fn the_verifier_api_checks_proofs_and_refuses_a_bound_token_as_bearer() {
    let key = rsa("k1");
    let issuer = Issuer::start(&[&key]).await;
    let verifier =
        Verifier::new(VerifierConfig::new(issuer.url.clone()).audience(AUDIENCE).dpop_replay_capacity(2)).unwrap();
    let dpop = dpop_key();
    let token = bound_token(&key, &issuer, &dpop, &[]);
    assert!(matches!(verifier.verify(&token).await, Err(VerifyError::DpopBoundAsBearer)));
    assert_eq!(
        verifier.verify_unbound(&token).await.unwrap().jkt.as_deref(),
        Some(dpop.public_key().thumbprint().as_str())
    );
    let url = format!("{PUBLIC}/x");
    let p = proof(&dpop, "PUT", &url, Some(&token), now());
    let request = DpopRequest { proofs: &[&p], htm: "PUT", htu: &url };
    assert!(verifier.verify_dpop(&token, &request).await.is_ok());
    assert!(matches!(verifier.verify_dpop(&token, &request).await, Err(VerifyError::DpopProof(DpopError::Replayed))));
    let request = DpopRequest { proofs: &[], htm: "PUT", htu: &url };
    assert!(matches!(verifier.verify_dpop(&token, &request).await, Err(VerifyError::DpopProofRequired)));
}

#[tokio::test]
async fn a_confirmation_that_cannot_be_checked_is_refused() {
    let key = rsa("k1");
    let issuer = Issuer::start(&[&key]).await;
    let mut c = claims(&issuer.url, AUDIENCE, now() + 600, &[]);
    c.extra.insert("cnf".into(), serde_json::json!({ "x5t#S256": "abc" }));
    let token = sign(&key, &c);
    assert!(matches!(issuer.verifier().verify(&token).await, Err(VerifyError::InvalidClaims(_))));
}

#[tokio::test]
async fn trust_host_header_builds_htu_from_host() {
    let key = rsa("k1");
    let issuer = Issuer::start(&[&key]).await;
    let dpop = dpop_key();
    let token = bound_token(&key, &issuer, &dpop, &[]);
    let app = Router::new()
        .route("/hello", get(|| async { "ok" }))
        .layer(VerifyLayer::new(Arc::new(issuer.verifier())).trust_host_header("https"));
    let request = |proof: String| {
        http::Request::builder()
            .uri("/hello")
            .header("host", "api.internal:8443")
            .header("authorization", format!("DPoP {token}"))
            .header("dpop", proof)
            .body(axum::body::Body::empty())
            .unwrap()
    };
    let good = proof(&dpop, "GET", "https://api.internal:8443/hello", Some(&token), now());
    assert_eq!(app.clone().oneshot(request(good)).await.unwrap().status(), 200);
    let other_host = proof(&dpop, "GET", "https://elsewhere.example/hello", Some(&token), now());
    assert_eq!(app.oneshot(request(other_host)).await.unwrap().status(), 401);
}
