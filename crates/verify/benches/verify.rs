//! Verifier throughput on one core: `Verifier::verify` on an RS256 access token with the keys already
//! cached (the steady state of a resource server), next to the bare RSA-2048 verification underneath,
//! so the overhead of decoding and claim checks is visible. Compare with `openssl speed -seconds 3 rsa2048`.
#![allow(clippy::expect_used)] // a benchmark that cannot set up should stop loudly

use std::sync::Arc;

use criterion::{Criterion, criterion_group, criterion_main};
use tollgate_jose::jws::{Header, sign_json};
use tollgate_jose::{Audience, Claims, Jwks, KeySpec, PrivateKey};
use tollgate_verify::{Verifier, VerifierConfig};

fn bench(c: &mut Criterion) {
    let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().expect("runtime");
    let key = PrivateKey::generate(KeySpec::Rsa { bits: 2048 }).expect("key").with_kid("k1");
    let jwks = Jwks { keys: vec![key.public_key().to_jwk()] };
    let (issuer, _server) = runtime.block_on(serve_jwks(jwks));
    let now = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).expect("clock").as_secs() as i64;
    let mut claims = Claims {
        iss: Some(issuer.clone()),
        sub: Some("0oa1".into()),
        aud: Some(Audience::One("api://default".into())),
        iat: Some(now),
        exp: Some(now + 3600),
        jti: Some("AT.bench".into()),
        ..Claims::default()
    };
    claims.extra.insert("scp".into(), serde_json::json!(["api.read"]));
    let token = sign_json(&key, &Header::new(key.algorithm()).with_kid("k1"), &claims).expect("token");
    let verifier = Arc::new(
        Verifier::new(VerifierConfig::new(issuer).audience("api://default").require_scope("api.read"))
            .expect("verifier"),
    );
    runtime.block_on(verifier.verify(&token)).expect("warm the key cache");

    c.bench_function("verifier.verify RS256 (keys cached)", |b| {
        b.iter(|| runtime.block_on(verifier.verify(std::hint::black_box(&token))).expect("valid"))
    });
    let public = key.public_key();
    let jws = tollgate_jose::jws::decode(&token).expect("decode");
    c.bench_function("jose RS256 signature verify only", |b| {
        b.iter(|| jws.verify(std::hint::black_box(&public)).expect("valid"))
    });
}

async fn serve_jwks(jwks: Jwks) -> (String, tokio::task::JoinHandle<()>) {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let base = format!("http://{}", listener.local_addr().expect("addr"));
    let issuer = base.clone();
    let app = axum::Router::new()
        .route(
            "/.well-known/openid-configuration",
            axum::routing::get(move || {
                let base = base.clone();
                async move { axum::Json(serde_json::json!({"issuer": base, "jwks_uri": format!("{base}/keys")})) }
            }),
        )
        .route("/keys", axum::routing::get(move || async move { axum::Json(jwks) }));
    let task = tokio::spawn(async move {
        let _ = axum::serve(listener, app).await;
    });
    (issuer, task)
}

criterion_group!(benches, bench);
criterion_main!(benches);
