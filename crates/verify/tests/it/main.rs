//! Verifier and layer tests over real HTTP: a tiny issuer on 127.0.0.1:0 (discovery + JWKS, with a
//! switchable key set and a fetch counter) and tokens signed here with tollgate-jose.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // test helpers outside #[test] fns

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::Router;
use axum::extract::State;
use axum::routing::get;
use tollgate_jose::jws::{Header, sign_json};
use tollgate_jose::{Audience, Claims, Jwks, KeySpec, PrivateKey};
use tollgate_verify::{VerifiedToken, Verifier, VerifierConfig, VerifyError, VerifyLayer};
use tower::ServiceExt;

const AUDIENCE: &str = "api://default";

struct Issuer {
    url: String,
    jwks: Arc<Mutex<Jwks>>,
    fetches: Arc<AtomicUsize>,
    task: tokio::task::JoinHandle<()>,
}

impl Drop for Issuer {
    fn drop(&mut self) {
        self.task.abort();
    }
}

#[derive(Clone)]
struct IssuerState {
    url: Arc<Mutex<String>>,
    jwks: Arc<Mutex<Jwks>>,
    fetches: Arc<AtomicUsize>,
}

impl Issuer {
    async fn start(keys: &[&PrivateKey]) -> Issuer {
        let jwks = Arc::new(Mutex::new(Jwks::default()));
        let state = IssuerState { url: Arc::default(), jwks: jwks.clone(), fetches: Arc::default() };
        let app = Router::new()
            .route(
                "/oauth2/default/.well-known/openid-configuration",
                get(|State(s): State<IssuerState>| async move {
                    let url = s.url.lock().unwrap().clone();
                    axum::Json(serde_json::json!({"issuer": url, "jwks_uri": format!("{url}/v1/keys")}))
                }),
            )
            .route(
                "/oauth2/default/v1/keys",
                get(|State(s): State<IssuerState>| async move {
                    s.fetches.fetch_add(1, Ordering::SeqCst);
                    axum::Json(s.jwks.lock().unwrap().clone())
                }),
            )
            .with_state(state.clone());
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("http://{}/oauth2/default", listener.local_addr().unwrap());
        *state.url.lock().unwrap() = url.clone();
        let task = tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
        let issuer = Issuer { url, jwks, fetches: state.fetches, task };
        issuer.publish(keys);
        issuer
    }

    fn publish(&self, keys: &[&PrivateKey]) {
        *self.jwks.lock().unwrap() = Jwks { keys: keys.iter().map(|k| k.public_key().to_jwk()).collect() };
    }

    fn fetches(&self) -> usize {
        self.fetches.load(Ordering::SeqCst)
    }

    fn verifier(&self) -> Verifier {
        Verifier::new(VerifierConfig::new(self.url.clone()).audience(AUDIENCE)).unwrap()
    }
}

fn now() -> i64 {
    std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_secs() as i64
}

fn rsa(kid: &str) -> PrivateKey {
    PrivateKey::generate(KeySpec::Rsa { bits: 2048 }).unwrap().with_kid(kid)
}

fn claims(iss: &str, aud: &str, exp: i64, scp: &[&str]) -> Claims {
    let mut claims = Claims {
        iss: Some(iss.into()),
        sub: Some("0oa-client".into()),
        aud: Some(Audience::One(aud.into())),
        iat: Some(now()),
        exp: Some(exp),
        jti: Some(format!("AT.{}", uuid::Uuid::new_v4())),
        ..Claims::default()
    };
    claims.extra.insert("scp".into(), serde_json::json!(scp));
    claims.extra.insert("cid".into(), serde_json::json!("0oa-client"));
    claims
}

fn sign(key: &PrivateKey, claims: &Claims) -> String {
    sign_json(key, &Header::new(key.algorithm()).with_kid(key.kid()), claims).unwrap()
}

#[tokio::test]
async fn a_valid_token_is_accepted_with_its_scopes() {
    let key = rsa("k1");
    let issuer = Issuer::start(&[&key]).await;
    let token = sign(&key, &claims(&issuer.url, AUDIENCE, now() + 3600, &["api.read", "api.write"]));
    let verified = issuer.verifier().verify(&token).await.unwrap();
    assert_eq!(verified.scopes, vec!["api.read", "api.write"]);
    assert_eq!(verified.kid.as_deref(), Some("k1"));
}

#[tokio::test]
async fn es256_tokens_verify_too() {
    let key = PrivateKey::generate(KeySpec::Ec(tollgate_jose::Curve::P256)).unwrap().with_kid("ec");
    let issuer = Issuer::start(&[&key]).await;
    let token = sign(&key, &claims(&issuer.url, AUDIENCE, now() + 60, &[]));
    issuer.verifier().verify(&token).await.unwrap();
}

#[tokio::test]
async fn expired_wrong_issuer_and_wrong_audience_are_refused() {
    let key = rsa("k1");
    let issuer = Issuer::start(&[&key]).await;
    let verifier = issuer.verifier();
    let expired = sign(&key, &claims(&issuer.url, AUDIENCE, now() - 120, &[]));
    assert!(matches!(verifier.verify(&expired).await, Err(VerifyError::Expired)));
    // within the 60 s leeway it still passes
    let just_expired = sign(&key, &claims(&issuer.url, AUDIENCE, now() - 10, &[]));
    verifier.verify(&just_expired).await.unwrap();
    let other_issuer = sign(&key, &claims("https://evil.example", AUDIENCE, now() + 60, &[]));
    assert!(matches!(verifier.verify(&other_issuer).await, Err(VerifyError::WrongIssuer(_))));
    let other_audience = sign(&key, &claims(&issuer.url, "api://other", now() + 60, &[]));
    assert!(matches!(verifier.verify(&other_audience).await, Err(VerifyError::WrongAudience(_))));
    let mut no_exp = claims(&issuer.url, AUDIENCE, 0, &[]);
    no_exp.exp = None;
    assert!(matches!(verifier.verify(&sign(&key, &no_exp)).await, Err(VerifyError::MissingClaim("exp"))));
}

#[tokio::test]
async fn a_forged_signature_is_refused() {
    let key = rsa("k1");
    let impostor = rsa("k1");
    let issuer = Issuer::start(&[&key]).await;
    let forged = sign(&impostor, &claims(&issuer.url, AUDIENCE, now() + 60, &[]));
    assert!(matches!(issuer.verifier().verify(&forged).await, Err(VerifyError::BadSignature)));
}

#[tokio::test]
async fn the_key_alg_binds_the_token_alg() {
    // an RSA key pinned to RS256 must not verify a PS256 token, even with the right key material
    let key = rsa("k1").with_algorithm(tollgate_jose::Algorithm::Rs256).unwrap();
    let issuer = Issuer::start(&[&key]).await;
    let token = sign_json(
        &key,
        &Header::new(tollgate_jose::Algorithm::Ps256).with_kid("k1"),
        &claims(&issuer.url, AUDIENCE, now() + 60, &[]),
    );
    // jose may refuse to sign it at all, which is fine too
    if let Ok(token) = token {
        assert!(issuer.verifier().verify(&token).await.is_err());
    }
}

#[tokio::test]
async fn an_unknown_kid_refetches_the_keys_after_rotation_but_not_too_often() {
    // Every key is made before the clock starts: RSA generation in a debug build on a busy machine can take
    // longer than the refresh interval, which would make "too soon to refetch" a race.
    let old = rsa("old");
    let new = rsa("new");
    let stranger = rsa("stranger");
    let issuer = Issuer::start(&[&old]).await;
    let config =
        VerifierConfig::new(issuer.url.clone()).audience(AUDIENCE).min_refresh_interval(Duration::from_millis(1000));
    let verifier = Verifier::new(config).unwrap();
    verifier.verify(&sign(&old, &claims(&issuer.url, AUDIENCE, now() + 60, &[]))).await.unwrap();
    assert_eq!(issuer.fetches(), 1);

    // the issuer rotates; a token with the new kid arrives right away: too soon to refetch
    issuer.publish(&[&old, &new]);
    let new_token = sign(&new, &claims(&issuer.url, AUDIENCE, now() + 60, &[]));
    assert!(matches!(verifier.verify(&new_token).await, Err(VerifyError::UnknownKey(Some(_)))));
    assert_eq!(issuer.fetches(), 1, "an unknown kid within the interval does not refetch");

    tokio::time::sleep(Duration::from_millis(1100)).await;
    verifier.verify(&new_token).await.unwrap();
    assert_eq!(issuer.fetches(), 2, "refetched once after the interval");
    verifier.verify(&new_token).await.unwrap();
    assert_eq!(issuer.fetches(), 2, "then served from the cache");

    // a flood of forged kids costs at most one fetch per interval
    tokio::time::sleep(Duration::from_millis(1100)).await;
    let forged = sign(&stranger, &claims(&issuer.url, AUDIENCE, now() + 60, &[]));
    for _ in 0..20 {
        assert!(verifier.verify(&forged).await.is_err());
    }
    assert_eq!(issuer.fetches(), 3);
}

async fn protected_app(issuer: &Issuer, scopes: &[&str]) -> Router {
    let verifier = Arc::new(issuer.verifier());
    Router::new()
        .route(
            "/hello",
            get(|axum::Extension(token): axum::Extension<VerifiedToken>| async move {
                format!("hello {}", token.claims.sub.unwrap_or_default())
            }),
        )
        .layer(VerifyLayer::new(verifier).require_scopes(scopes.iter().copied()).realm("test"))
}

async fn call(app: Router, token: Option<&str>) -> (u16, Option<String>, String) {
    let mut request = http::Request::builder().uri("/hello");
    if let Some(token) = token {
        request = request.header("authorization", format!("Bearer {token}"));
    }
    let response = app.oneshot(request.body(axum::body::Body::empty()).unwrap()).await.unwrap();
    let status = response.status().as_u16();
    let challenge = response.headers().get("www-authenticate").map(|v| v.to_str().unwrap().to_owned());
    let body = axum::body::to_bytes(response.into_body(), 1 << 16).await.unwrap();
    (status, challenge, String::from_utf8_lossy(&body).into_owned())
}

#[tokio::test]
async fn the_layer_answers_401_403_and_lets_good_tokens_through() {
    let key = rsa("k1");
    let issuer = Issuer::start(&[&key]).await;
    let app = protected_app(&issuer, &["api.read"]).await;

    let (status, challenge, _) = call(app.clone(), None).await;
    assert_eq!(status, 401);
    assert_eq!(challenge.as_deref(), Some("Bearer realm=\"test\""));

    let expired = sign(&key, &claims(&issuer.url, AUDIENCE, now() - 600, &["api.read"]));
    let (status, challenge, _) = call(app.clone(), Some(&expired)).await;
    assert_eq!(status, 401);
    assert_eq!(
        challenge.as_deref(),
        Some("Bearer realm=\"test\", error=\"invalid_token\", error_description=\"The token has expired.\"")
    );

    let no_scope = sign(&key, &claims(&issuer.url, AUDIENCE, now() + 60, &["api.write"]));
    let (status, challenge, _) = call(app.clone(), Some(&no_scope)).await;
    assert_eq!(status, 403);
    let challenge = challenge.unwrap();
    assert!(challenge.contains("error=\"insufficient_scope\""), "{challenge}");
    assert!(challenge.contains("scope=\"api.read\""), "{challenge}");

    let good = sign(&key, &claims(&issuer.url, AUDIENCE, now() + 60, &["api.read"]));
    let (status, _, body) = call(app, Some(&good)).await;
    assert_eq!(status, 200);
    assert_eq!(body, "hello 0oa-client");
}

mod dpop;

#[tokio::test]
async fn an_oversized_jwks_is_a_clear_error_not_a_buffer() {
    // The issuer's keys endpoint streams 4 MiB of a never-ending JSON string; the verifier stops at its cap.
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    let url = format!("{base}/oauth2/big");
    let (u1, u2) = (url.clone(), url.clone());
    let app = Router::new()
        .route(
            "/oauth2/big/.well-known/openid-configuration",
            get(move || {
                let u = u1.clone();
                async move { axum::Json(serde_json::json!({"issuer": u, "jwks_uri": format!("{u}/v1/keys")})) }
            }),
        )
        .route(
            "/oauth2/big/v1/keys",
            get(|| async {
                let chunks = futures::stream::iter((0..64).map(|i| {
                    Ok::<_, std::io::Error>(if i == 0 { b"{\"keys\":\"".to_vec() } else { vec![b'a'; 64 * 1024] })
                }));
                axum::body::Body::from_stream(chunks)
            }),
        );
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    let key = rsa("k1");
    let token = sign(&key, &claims(&u2, AUDIENCE, now() + 300, &["read"]));
    let verifier = Verifier::new(VerifierConfig::new(url).audience(AUDIENCE)).unwrap();
    match verifier.verify(&token).await {
        Err(VerifyError::KeysUnavailable(why)) => assert!(why.contains("larger than 1048576 bytes"), "{why}"),
        other => panic!("expected KeysUnavailable, got {other:?}"),
    }
}
