//! Sign and verify throughput per algorithm over a typical client-assertion-sized JWT (~200 bytes).
//!
//! `raw/*` is the primitive alone (what `openssl speed` measures); `jws/*` adds JSON, base64 and
//! strict decoding, i.e. what a token endpoint pays per request. `scripts/bench-jose.sh` compares
//! the `raw` numbers with openssl's.
#![allow(clippy::expect_used)] // benchmark setup, not library code
use std::hint::black_box;
use std::time::Duration;

use criterion::{Criterion, criterion_group, criterion_main};
use tollgate_jose::{Algorithm, Curve, Header, KeySpec, PrivateKey, jws};

const PAYLOAD: &[u8] = br#"{"iss":"0oa8f5j3ecb5w3dF35d7","sub":"0oa8f5j3ecb5w3dF35d7","aud":"https://tollgate.example/oauth2/default/v1/token","iat":1700000000,"exp":1700000300,"jti":"3f1c8a4e-6a57-4c4b-9a7d-2f4f0c5b8e11"}"#;

fn bench(c: &mut Criterion) {
    let rsa = PrivateKey::generate(KeySpec::Rsa { bits: 2048 }).expect("RSA key");
    let others: Vec<(Curve, PrivateKey)> = [Curve::P256, Curve::P384, Curve::P521]
        .into_iter()
        .map(|curve| (curve, PrivateKey::generate(KeySpec::Ec(curve)).expect("EC key")))
        .collect();
    let ed = PrivateKey::generate(KeySpec::Ed25519).expect("Ed25519 key");
    let key_for = |alg: Algorithm| -> &PrivateKey {
        match alg.curve() {
            None => &rsa,
            Some(Curve::Ed25519) => &ed,
            Some(curve) => others.iter().find(|(c, _)| *c == curve).map(|(_, k)| k).expect("curve"),
        }
    };
    for alg in Algorithm::ALL {
        let key = key_for(alg);
        let public = key.public_key();
        let header = Header::new(alg).with_kid(key.kid()).with_typ("JWT");
        let token = jws::sign(key, &header, PAYLOAD).expect("sign");
        let input = jws::decode(&token).expect("decode").signing_input().to_owned();
        let sig = key.sign(alg, input.as_bytes()).expect("sign");

        c.bench_function(&format!("raw/sign/{alg}"), |b| b.iter(|| key.sign(alg, black_box(input.as_bytes()))));
        c.bench_function(&format!("raw/verify/{alg}"), |b| {
            b.iter(|| public.verify(alg, black_box(input.as_bytes()), black_box(&sig)))
        });
        c.bench_function(&format!("jws/sign/{alg}"), |b| b.iter(|| jws::sign(key, &header, black_box(PAYLOAD))));
        c.bench_function(&format!("jws/verify/{alg}"), |b| {
            b.iter(|| jws::decode(black_box(&token)).and_then(|j| j.verify(&public)))
        });
    }
}

/// What a DPoP proof costs a server beyond the raw ES256 verify: `dpop/verify_proof` is the whole stateless
/// check (decode, the header's JWK parsed into a key, the signature, claims, the RFC 7638 thumbprint).
fn bench_dpop(c: &mut Criterion) {
    use tollgate_jose::dpop::{Expected, ProofRequest, sign_proof, verify_proof};
    let key = PrivateKey::generate(KeySpec::Ec(Curve::P256)).expect("EC key");
    let htu = "https://tollgate.example/oauth2/v1/token";
    let request = ProofRequest { htm: "POST", htu, iat: 1_700_000_000, nonce: Some("bm9uY2U"), access_token: None };
    let proof = sign_proof(&key, &request).expect("proof");
    let expected = Expected { htm: "POST", htu, now: 1_700_000_000, access_token: None };
    c.bench_function("dpop/sign_proof/ES256", |b| b.iter(|| sign_proof(&key, black_box(&request))));
    c.bench_function("dpop/verify_proof/ES256", |b| b.iter(|| verify_proof(black_box(&proof), &expected)));
}

criterion_group! {
    name = benches;
    config = Criterion::default().warm_up_time(Duration::from_millis(700)).measurement_time(Duration::from_secs(2)).sample_size(30);
    targets = bench, bench_dpop
}
criterion_main!(benches);
