//! DPoP in the token source and `AuthorizedClient` over real HTTP, against scripted servers: the nonce
//! round trip (a new proof and a new assertion per attempt, bounded), nonces kept per server, and the one
//! retry on a resource server's nonce challenge. (The same against a real `tollgate serve` is in
//! crates/cli/tests/it/dpop.rs.)
use std::sync::{Arc, Mutex};

use axum::Router;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use tollgate_client::dpop::NonceScope;
use tollgate_client::{AuthorizedClient, ClientAuth, DpopKey, DpopRefusal, TokenSource};
use tollgate_jose::dpop::{Expected, verify_proof};
use tollgate_jose::{Claims, KeySpec, PrivateKey};

use crate::token_endpoint::{Reply, TestServer};

const NONCE_TEXT: &str = "Authorization server requires nonce in DPoP proof.";

fn now() -> i64 {
    std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_secs() as i64
}

fn jwt_source(server: &TestServer, dpop: &DpopKey) -> TokenSource {
    let key = PrivateKey::generate(KeySpec::Ec(tollgate_jose::Curve::P256)).unwrap();
    let signer = tollgate_client::AssertionSigner::new("client-1", key);
    TokenSource::builder(server.endpoint(), ClientAuth::PrivateKeyJwt(signer)).dpop(dpop.clone()).build().unwrap()
}

#[tokio::test]
async fn the_nonce_challenge_is_answered_with_a_new_proof_and_a_new_assertion() {
    let server = TestServer::start(vec![
        Reply::oauth_error(400, "use_dpop_nonce", NONCE_TEXT).with_header("dpop-nonce", "n1"),
        Reply::dpop_token("bound"),
    ])
    .await;
    let dpop = DpopKey::generate().unwrap();
    let token = jwt_source(&server, &dpop).fetch().await.unwrap();
    assert!(token.is_dpop());
    let requests = server.requests();
    assert_eq!(requests.len(), 2);
    let token_url = server.endpoint().token_url().to_owned();
    let expected = Expected { htm: "POST", htu: &token_url, now: now(), access_token: None };
    let first = verify_proof(&requests[0].header("dpop").unwrap(), &expected).unwrap();
    let second = verify_proof(&requests[1].header("dpop").unwrap(), &expected).unwrap();
    assert_eq!(first.nonce, None);
    assert_eq!(second.nonce.as_deref(), Some("n1"));
    assert_ne!(first.jti, second.jti);
    assert_eq!(first.jkt, dpop.thumbprint());
    let jti = |i: usize| {
        let assertion = requests[i].form("client_assertion").unwrap();
        tollgate_jose::jws::decode(&assertion).unwrap().claims::<Claims>().unwrap().jti.unwrap()
    };
    assert_ne!(jti(0), jti(1), "the first assertion's jti was consumed: a new one is needed");
    assert_eq!(dpop.nonce(NonceScope::TokenEndpoint, &token_url).as_deref(), Some("n1"));
}

#[tokio::test]
async fn nonce_retries_are_bounded() {
    let challenge = |n: &str| Reply::oauth_error(400, "use_dpop_nonce", NONCE_TEXT).with_header("dpop-nonce", n);
    let server = TestServer::start(vec![challenge("a"), challenge("b"), challenge("c"), challenge("d")]).await;
    let error = jwt_source(&server, &DpopKey::generate().unwrap()).fetch().await.unwrap_err();
    assert_eq!(error.dpop_refusal(), Some(DpopRefusal::UseNonce));
    assert_eq!(server.requests().len(), 3, "the first attempt and two nonce retries");
}

#[tokio::test]
async fn a_bearer_answer_to_a_dpop_request_is_used_as_bearer() {
    let server = TestServer::start(vec![Reply::token("plain", 3600)]).await;
    let token = jwt_source(&server, &DpopKey::generate().unwrap()).fetch().await.unwrap();
    assert_eq!(token.token_type, "Bearer");
    assert!(server.requests()[0].header("dpop").is_some(), "the proof was sent");
}

/// A resource server that wants its nonce "rs-1" in the proof and checks `ath` and `htu`.
#[derive(Default)]
struct Api {
    base: Mutex<String>,
    seen: Mutex<Vec<(String, Option<String>)>>,
}

async fn api(State(api): State<Arc<Api>>, headers: HeaderMap) -> Response {
    let authorization = headers.get("authorization").unwrap().to_str().unwrap().to_owned();
    let token = authorization.strip_prefix("DPoP ").unwrap_or("").to_owned();
    let proof = headers.get("dpop").map(|v| v.to_str().unwrap().to_owned()).unwrap_or_default();
    let htu = format!("{}/api/v1/users", api.base.lock().unwrap());
    let verified = verify_proof(&proof, &Expected { htm: "GET", htu: &htu, now: now(), access_token: Some(&token) });
    let nonce = verified.as_ref().ok().and_then(|v| v.nonce.clone());
    api.seen.lock().unwrap().push((authorization, nonce.clone()));
    match (verified, nonce.as_deref()) {
        (Ok(_), Some("rs-1")) => "users".into_response(),
        (Ok(_), _) => (
            StatusCode::UNAUTHORIZED,
            [
                (
                    "www-authenticate",
                    "DPoP error=\"use_dpop_nonce\", error_description=\"Resource server requires nonce in DPoP proof\"",
                ),
                ("dpop-nonce", "rs-1"),
            ],
        )
            .into_response(),
        (Err(e), _) => (StatusCode::BAD_REQUEST, e.to_string()).into_response(),
    }
}

#[tokio::test]
async fn authorized_client_sends_dpop_proofs_and_answers_one_nonce_challenge() {
    let server = TestServer::start(vec![Reply::dpop_token("bound-token")]).await;
    let dpop = DpopKey::generate().unwrap();
    let source = Arc::new(jwt_source(&server, &dpop));
    let state = Arc::new(Api::default());
    let app = Router::new().route("/api/v1/users", get(api)).with_state(state.clone());
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    *state.base.lock().unwrap() = base.clone();
    let task = tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });

    let client = AuthorizedClient::new(source);
    let url = format!("{base}/api/v1/users?limit=1");
    let response = client.send(client.http().get(&url)).await.unwrap();
    assert_eq!(response.status(), 200);
    assert_eq!(response.text().await.unwrap(), "users");
    {
        let seen = state.seen.lock().unwrap();
        assert_eq!(seen.len(), 2, "one challenge, one retry: {seen:?}");
        assert!(seen.iter().all(|(authorization, _)| authorization == "DPoP bound-token"));
        assert_eq!(seen[0].1, None);
        assert_eq!(seen[1].1.as_deref(), Some("rs-1"));
    }
    // The nonce is remembered for that origin: the next call needs no challenge.
    let response = client.send(client.http().get(&url)).await.unwrap();
    assert_eq!(response.status(), 200);
    assert_eq!(state.seen.lock().unwrap().len(), 3);
    assert_eq!(dpop.nonce(NonceScope::Resource, &url).as_deref(), Some("rs-1"));
    assert_eq!(dpop.nonce(NonceScope::TokenEndpoint, &url), None, "token endpoint nonces are kept apart");
    task.abort();
}
