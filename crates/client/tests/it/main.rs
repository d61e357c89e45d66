//! Integration tests of the token source over real HTTP: a small in-test token endpoint on 127.0.0.1:0
//! that records what it receives and answers what each test scripts (429s with Okta's headers, errors,
//! tokens), so caching, single flight, retries and the 401 retry of `AuthorizedClient` are exercised
//! through the network stack rather than mocks of our own code.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // test helpers outside #[test] fns
mod dpop;
mod token_endpoint;

use std::sync::Arc;
use std::time::Duration;

use tollgate_client::clock::ManualClock;
use tollgate_client::{AuthorizedClient, ClientAuth, ClientError, RetryPolicy, Secret, TokenEndpoint, TokenSource};
use tollgate_jose::{Claims, KeySpec, PrivateKey};

use token_endpoint::{Reply, TestServer};

fn secret_auth() -> ClientAuth {
    ClientAuth::SecretBasic { client_id: "client-1".into(), secret: Secret::new("s3cr:t") }
}

fn fast_retries() -> RetryPolicy {
    RetryPolicy { max_retries: 2, base_delay: Duration::from_millis(10), max_delay: Duration::from_secs(2) }
}

#[tokio::test]
async fn a_cached_token_is_reused_until_the_margin_then_renewed() {
    let server = TestServer::start(vec![Reply::token("t1", 3600), Reply::token("t2", 3600)]).await;
    let clock = ManualClock::new(1_000_000);
    let source = TokenSource::builder(server.endpoint(), secret_auth())
        .scopes(["okta.users.read"])
        .clock(Arc::new(clock.clone()))
        .build()
        .unwrap();
    assert_eq!(source.token().await.unwrap().access_token, "t1");
    clock.advance(3600 - 301);
    assert_eq!(source.token().await.unwrap().access_token, "t1");
    assert_eq!(server.requests().len(), 1);
    clock.advance(1);
    assert_eq!(source.token().await.unwrap().access_token, "t2");
    assert_eq!(server.requests().len(), 2);
}

#[tokio::test]
async fn concurrent_callers_share_one_refresh() {
    let server = TestServer::start(vec![Reply::token("only", 3600).delayed(Duration::from_millis(200))]).await;
    let source = Arc::new(TokenSource::builder(server.endpoint(), secret_auth()).build().unwrap());
    let calls: Vec<_> = (0..16)
        .map(|_| {
            let source = source.clone();
            tokio::spawn(async move { source.token().await.map(|t| t.access_token.clone()) })
        })
        .collect();
    for call in calls {
        assert_eq!(call.await.unwrap().unwrap(), "only");
    }
    assert_eq!(server.requests().len(), 1);
}

#[tokio::test]
async fn rate_limited_requests_are_retried_with_okta_headers() {
    let server = TestServer::start(vec![Reply::rate_limited("req-429", 1), Reply::token("after-429", 3600)]).await;
    let source = TokenSource::builder(server.endpoint(), secret_auth()).retry_policy(fast_retries()).build().unwrap();
    let started = std::time::Instant::now();
    assert_eq!(source.fetch().await.unwrap().access_token, "after-429");
    let waited = started.elapsed();
    // X-Rate-Limit-Reset = Date + 1 → wait (1 + 1 s), capped by nothing here
    assert!(waited >= Duration::from_millis(1500), "waited only {waited:?}");
    let requests = server.requests();
    assert_eq!(requests.len(), 2);
    assert_eq!(requests[0].header("x-okta-retry-count"), None);
    assert_eq!(requests[1].header("x-okta-retry-for").as_deref(), Some("req-429"));
    assert_eq!(requests[1].header("x-okta-retry-count").as_deref(), Some("1"));
}

#[tokio::test]
async fn server_errors_are_retried_then_reported() {
    let server = TestServer::start(vec![Reply::status(503), Reply::status(503), Reply::status(503)]).await;
    let source = TokenSource::builder(server.endpoint(), secret_auth()).retry_policy(fast_retries()).build().unwrap();
    let error = source.fetch().await.unwrap_err();
    assert_eq!(error.status(), Some(503));
    assert_eq!(server.requests().len(), 3);
}

#[tokio::test]
async fn refusals_keep_okta_error_and_description() {
    let server =
        TestServer::start(vec![Reply::oauth_error(401, "invalid_client", "The client_assertion token is expired.")])
            .await;
    let source = TokenSource::builder(server.endpoint(), secret_auth()).retry_policy(fast_retries()).build().unwrap();
    let error = source.fetch().await.unwrap_err();
    assert!(matches!(&error, ClientError::OAuth { status: 401, error, description, .. }
        if error == "invalid_client" && description == "The client_assertion token is expired."));
    assert_eq!(server.requests().len(), 1, "4xx must not be retried");
}

#[tokio::test]
async fn client_secret_basic_and_post_send_what_rfc_6749_says() {
    let server = TestServer::start(vec![Reply::token("a", 3600), Reply::token("b", 3600)]).await;
    TokenSource::builder(server.endpoint(), secret_auth())
        .scopes(["api.read api.write"])
        .build()
        .unwrap()
        .fetch()
        .await
        .unwrap();
    let post = ClientAuth::SecretPost { client_id: "client-1".into(), secret: Secret::new("s3cr:t") };
    TokenSource::builder(server.endpoint(), post).build().unwrap().fetch().await.unwrap();
    let requests = server.requests();
    // base64("client-1:s3cr%3At")
    assert_eq!(requests[0].header("authorization").as_deref(), Some("Basic Y2xpZW50LTE6czNjciUzQXQ="));
    assert_eq!(requests[0].form("grant_type").as_deref(), Some("client_credentials"));
    assert_eq!(requests[0].form("scope").as_deref(), Some("api.read api.write"));
    assert_eq!(requests[0].form("client_secret"), None);
    assert_eq!(requests[1].header("authorization"), None);
    assert_eq!(requests[1].form("client_id").as_deref(), Some("client-1"));
    assert_eq!(requests[1].form("client_secret").as_deref(), Some("s3cr:t"));
}

#[tokio::test]
async fn every_attempt_carries_a_fresh_assertion() {
    let server = TestServer::start(vec![Reply::status(500), Reply::token("t", 3600)]).await;
    let key = PrivateKey::generate(KeySpec::Ec(tollgate_jose::Curve::P256)).unwrap();
    let public = key.public_key();
    let signer = tollgate_client::AssertionSigner::new("client-1", key);
    let source = TokenSource::builder(server.endpoint(), ClientAuth::PrivateKeyJwt(signer))
        .retry_policy(fast_retries())
        .build()
        .unwrap();
    source.fetch().await.unwrap();
    let requests = server.requests();
    let mut jtis = Vec::new();
    for request in &requests {
        assert_eq!(
            request.form("client_assertion_type").as_deref(),
            Some("urn:ietf:params:oauth:client-assertion-type:jwt-bearer")
        );
        assert_eq!(request.form("client_id"), None, "like Okta's SDKs, no client_id next to an assertion");
        let assertion = request.form("client_assertion").unwrap();
        let jws = tollgate_jose::jws::decode(&assertion).unwrap();
        jws.verify(&public).unwrap();
        let claims: Claims = jws.claims().unwrap();
        assert_eq!(claims.aud.unwrap().values(), vec![server.endpoint().token_url()]);
        jtis.push(claims.jti.unwrap());
    }
    assert_eq!(jtis.len(), 2);
    assert_ne!(jtis[0], jtis[1]);
}

#[tokio::test]
async fn authorized_client_renews_the_token_once_on_401() {
    let server = TestServer::start(vec![Reply::token("old", 3600), Reply::token("new", 3600)]).await;
    let source = Arc::new(TokenSource::builder(server.endpoint(), secret_auth()).build().unwrap());
    let client = AuthorizedClient::new(source);
    let response = client.send(client.http().get(server.url("/api/v1/users"))).await.unwrap();
    assert_eq!(response.status(), 200);
    assert_eq!(response.text().await.unwrap(), "hello new");
    let seen = server.api_authorizations();
    assert_eq!(seen, vec!["Bearer old".to_owned(), "Bearer new".to_owned()]);
}

#[tokio::test]
async fn discovery_finds_the_token_endpoint() {
    let server = TestServer::start(vec![]).await;
    let http = reqwest::Client::new();
    let endpoint = TokenEndpoint::discover(&http, &server.url("")).await.unwrap();
    assert_eq!(endpoint.token_url(), server.endpoint().token_url());
}
