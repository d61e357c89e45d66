//! Property tests: round trips, single-byte tampering, and no panics on arbitrary input.
use proptest::prelude::*;
use tollgate_jose::{Algorithm, Header, Jwk, Jwks, PrivateKey, PublicKey, jws};

use crate::keys;

fn alg_strategy(rsa: bool) -> impl Strategy<Value = Algorithm> {
    proptest::sample::select(Algorithm::ALL.iter().copied().filter(|a| a.is_rsa() == rsa).collect::<Vec<_>>())
}

fn round_trip(alg: Algorithm, payload: &[u8], kid: &str) -> Result<(), TestCaseError> {
    let key = keys().for_alg(alg);
    let token = jws::sign(key, &Header::new(alg).with_kid(kid), payload).unwrap();
    let decoded = jws::decode(&token).unwrap();
    prop_assert_eq!(decoded.payload(), payload);
    prop_assert_eq!(decoded.header().kid.as_deref(), Some(kid));
    prop_assert_eq!(decoded.verify(&key.public_key()), Ok(()));
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]

    #[test]
    fn round_trip_ec_and_eddsa(alg in alg_strategy(false), payload in proptest::collection::vec(any::<u8>(), 0..512), kid in "\\PC{0,20}") {
        round_trip(alg, &payload, &kid)?;
    }

    #[test]
    fn decode_never_panics(token in "[A-Za-z0-9_.=+/ -]{0,300}") {
        let _ = jws::decode(&token).map(|j| j.verify(&keys().p256.public_key()));
    }

    #[test]
    fn decode_never_panics_on_json_looking_headers(header in "\\PC{0,80}", payload in "\\PC{0,80}", sig in proptest::collection::vec(any::<u8>(), 0..80)) {
        let token = format!("{}.{}.{}", tollgate_jose::b64url_encode(header.as_bytes()), tollgate_jose::b64url_encode(payload.as_bytes()), tollgate_jose::b64url_encode(&sig));
        if let Ok(decoded) = jws::decode(&token) {
            let _ = decoded.claims::<tollgate_jose::Claims>();
            prop_assert!(decoded.verify(&keys().p256.public_key()).is_err());
        }
    }

    #[test]
    fn key_parsers_never_panic(text in "\\PC{0,400}") {
        let _ = Jwk::from_json(&text);
        let _ = Jwks::from_json(&text);
        let _ = PrivateKey::parse(&text);
        let _ = PublicKey::from_pem(&text);
    }

    #[test]
    fn key_parsers_never_panic_on_json_and_pem_shapes(
        kty in proptest::sample::select(vec!["RSA", "EC", "OKP", "oct", "x"]),
        crv in proptest::sample::select(vec!["P-256", "P-384", "P-521", "Ed25519", "X25519", ""]),
        x in "[A-Za-z0-9_-]{0,90}", n in "[A-Za-z0-9_-]{0,400}", d in proptest::option::of("[A-Za-z0-9_-]{0,90}"),
        body in proptest::collection::vec(any::<u8>(), 0..300),
    ) {
        let mut jwk = serde_json::json!({"kty": kty, "crv": crv, "x": x, "y": x, "n": n, "e": "AQAB"});
        if let Some(d) = d { jwk["d"] = serde_json::Value::String(d); }
        let text = jwk.to_string();
        if let Ok(parsed) = Jwk::from_json(&text) {
            let _ = PublicKey::from_jwk(&parsed);
            let _ = PrivateKey::from_jwk(&parsed);
        }
        let _ = Jwks::from_json(&format!(r#"{{"keys":[{text}]}}"#)).map(|s| s.public_keys());
        let b64 = base64_std(&body);
        for label in ["PRIVATE KEY", "RSA PRIVATE KEY", "EC PRIVATE KEY", "PUBLIC KEY", "RSA PUBLIC KEY"] {
            let pem = format!("-----BEGIN {label}-----\n{b64}\n-----END {label}-----\n");
            let _ = PrivateKey::parse(&pem);
            let _ = PublicKey::from_pem(&pem);
        }
        let _ = PrivateKey::from_pkcs8_der(&body);
        let _ = PublicKey::from_spki_der(&body);
    }
}

proptest! {
    // RSA signing is slow in debug builds: few cases.
    #![proptest_config(ProptestConfig::with_cases(8))]

    #[test]
    fn round_trip_rsa(alg in alg_strategy(true), payload in proptest::collection::vec(any::<u8>(), 0..256)) {
        round_trip(alg, &payload, "rsa")?;
    }
}

/// A mutated DER inside well-formed PEM armour reaches the ASN.1 parsers, not just the PEM one.
fn base64_std(bytes: &[u8]) -> String {
    use base64ct::Encoding;
    base64ct::Base64::encode_string(bytes)
}

/// Every single-byte change of a valid token, for every algorithm, is refused (and nothing panics).
#[test]
fn any_single_byte_change_is_refused() {
    let replacements = [b'A', b'B', b'_', b'-', b'.', b'=', b'a', b'0', b'+', 0xff];
    for alg in Algorithm::ALL {
        let key = keys().for_alg(alg);
        let public = key.public_key();
        let token = jws::sign(key, &Header::new(alg).with_kid("k"), br#"{"sub":"client","exp":1700000000}"#).unwrap();
        let bytes = token.as_bytes();
        for i in 0..bytes.len() {
            for &r in &replacements {
                if bytes[i] == r {
                    continue;
                }
                let mut tampered = bytes.to_vec();
                tampered[i] = r;
                let Ok(text) = String::from_utf8(tampered) else {
                    continue;
                };
                let result = jws::decode(&text).and_then(|j| j.verify(&public));
                assert!(result.is_err(), "{alg}: byte {i} -> {:?} still verifies", r as char);
            }
        }
        // Truncation and extension too.
        assert!(jws::decode(&token[..token.len() - 1]).and_then(|j| j.verify(&public)).is_err());
        assert!(jws::decode(&format!("{token}A")).and_then(|j| j.verify(&public)).is_err());
    }
}
