use super::*;
use crate::claims::ClaimsError;
use crate::{Claims, Curve, KeySpec};

fn p256() -> PrivateKey {
    PrivateKey::generate(KeySpec::Ec(Curve::P256)).unwrap()
}

/// A token with this exact header JSON, signed by `key` with `alg` (bypassing our header writer).
fn forge(key: &PrivateKey, alg: Algorithm, header_json: &str, payload: &str) -> String {
    let input = format!("{}.{}", b64url_encode(header_json.as_bytes()), b64url_encode(payload.as_bytes()));
    let sig = key.sign(alg, input.as_bytes()).unwrap();
    format!("{input}.{}", b64url_encode(&sig))
}

#[test]
fn sign_decode_verify() {
    let key = p256();
    let header = Header::new(Algorithm::Es256).with_kid(key.kid()).with_typ("JWT");
    let claims = Claims { iss: Some("me".into()), exp: Some(1_700_000_000), ..Claims::default() };
    let token = sign_json(&key, &header, &claims).unwrap();
    let jws = decode(&token).unwrap();
    assert_eq!(jws.header(), &header);
    assert_eq!(jws.claims::<Claims>().unwrap(), claims);
    assert_eq!(jws.verify(&key.public_key()), Ok(()));
    assert_eq!(jws.signing_input(), &token[..token.rfind('.').unwrap()]);
    assert_eq!(jws.signature().len(), 64);
}

#[test]
fn wrong_key_does_not_verify() {
    let token = sign(&p256(), &Header::new(Algorithm::Es256), b"{}").unwrap();
    assert_eq!(decode(&token).unwrap().verify(&p256().public_key()), Err(JoseError::BadSignature));
}

#[test]
fn header_alg_must_fit_the_key() {
    let key = p256();
    let token = forge(&key, Algorithm::Es256, r#"{"alg":"RS256"}"#, "{}");
    assert!(matches!(decode(&token).unwrap().verify(&key.public_key()), Err(JoseError::AlgorithmMismatch { .. })));
    let token = forge(&key, Algorithm::Es256, r#"{"alg":"ES384"}"#, "{}");
    assert!(matches!(decode(&token).unwrap().verify(&key.public_key()), Err(JoseError::AlgorithmMismatch { .. })));
    assert!(matches!(sign(&key, &Header::new(Algorithm::Rs256), b"{}"), Err(JoseError::AlgorithmMismatch { .. })));
}

#[test]
fn none_and_hs256_are_refused() {
    let none = format!("{}.{}.", b64url_encode(br#"{"alg":"none"}"#), b64url_encode(b"{}"));
    assert_eq!(decode(&none).err(), Some(JoseError::UnsupportedAlgorithm("none".into())));
    let none_sig = format!("{none}AAAA");
    assert_eq!(decode(&none_sig).err(), Some(JoseError::UnsupportedAlgorithm("none".into())));
    let hs = format!("{}.{}.AAAA", b64url_encode(br#"{"alg":"HS256","typ":"JWT"}"#), b64url_encode(b"{}"));
    assert_eq!(decode(&hs).err(), Some(JoseError::UnsupportedAlgorithm("HS256".into())));
}

#[test]
fn crit_is_refused_whatever_it_lists() {
    let key = p256();
    for header in [
        r#"{"alg":"ES256","crit":["b64"],"b64":false}"#,
        r#"{"alg":"ES256","crit":["exp"],"exp":1}"#,
        r#"{"alg":"ES256","crit":[]}"#,
        r#"{"alg":"ES256","crit":"x"}"#,
    ] {
        assert!(
            matches!(decode(&forge(&key, Algorithm::Es256, header, "{}")), Err(JoseError::UnknownCritical(_))),
            "{header}"
        );
    }
    let b64 = forge(&key, Algorithm::Es256, r#"{"alg":"ES256","b64":false}"#, "{}");
    assert_eq!(decode(&b64).err(), Some(JoseError::UnknownCritical("b64".into())));
    let mut header = Header::new(Algorithm::Es256);
    header.other.insert("crit".into(), serde_json::json!(["b64"]));
    assert!(matches!(sign(&key, &header, b"{}"), Err(JoseError::UnknownCritical(_))));
}

#[test]
fn duplicate_members_are_refused() {
    let key = p256();
    let token = forge(&key, Algorithm::Es256, r#"{"alg":"ES256","alg":"ES256"}"#, "{}");
    assert_eq!(decode(&token).err(), Some(JoseError::DuplicateMember { part: "header", name: "alg".into() }));
    let token = forge(&key, Algorithm::Es256, r#"{"alg":"ES256"}"#, r#"{"sub":"a","sub":"b"}"#);
    let jws = decode(&token).unwrap();
    assert_eq!(jws.verify(&key.public_key()), Ok(()));
    assert_eq!(jws.claims::<Claims>().err(), Some(JoseError::DuplicateMember { part: "payload", name: "sub".into() }));
    let mut header = Header::new(Algorithm::Es256);
    header.other.insert("alg".into(), serde_json::json!("none"));
    assert!(matches!(sign(&key, &header, b"{}"), Err(JoseError::DuplicateMember { .. })));
}

#[test]
fn padded_and_non_canonical_base64_is_refused() {
    let key = p256();
    let token = sign(&key, &Header::new(Algorithm::Es256), b"{\"a\":1}").unwrap();
    let parts: Vec<&str> = token.split('.').collect();
    // Padding in any part.
    for i in 0..3 {
        let mut p = parts.clone();
        let padded = format!("{}=", p[i]);
        p[i] = &padded;
        assert!(matches!(decode(&p.join(".")), Err(JoseError::Base64(_))), "part {i}");
    }
    // The payload {"a":1} is 7 bytes = 10 chars: the last char carries 4 unused bits; set one.
    const ALPHABET: &str = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
    let payload = parts[1];
    let v = ALPHABET.find(payload.chars().last().unwrap()).unwrap();
    assert_eq!(v & 0xf, 0);
    let tweaked_char = char::from(ALPHABET.as_bytes()[v | 1]);
    let tweaked = format!("{}{}", &payload[..payload.len() - 1], tweaked_char);
    assert_eq!(decode(&format!("{}.{}.{}", parts[0], tweaked, parts[2])).err(), Some(JoseError::Base64("payload")));
    // Standard-alphabet characters and whitespace.
    assert_eq!(decode(&format!("{}.{}+.{}", parts[0], parts[1], parts[2])).err(), Some(JoseError::Base64("payload")));
    assert_eq!(decode(&format!("{} .{}.{}", parts[0], parts[1], parts[2])).err(), Some(JoseError::Base64("header")));
}

#[test]
fn structure_and_size_rules() {
    for token in ["", "a", "a.b", "a.b.c.d", "..", ".e30.AAAA", "e30.e30."] {
        assert!(matches!(decode(token), Err(JoseError::Malformed(_) | JoseError::Base64(_))), "{token:?}");
    }
    let big = format!("{}.{}.AAAA", b64url_encode(br#"{"alg":"ES256"}"#), "A".repeat(MAX_TOKEN_LEN));
    assert!(matches!(decode(&big), Err(JoseError::TooLarge { limit: MAX_TOKEN_LEN, .. })));
    let array_header = format!("{}.e30.AAAA", b64url_encode(b"[]"));
    assert!(matches!(decode(&array_header), Err(JoseError::Json { part: "header", .. })));
    let no_alg = format!("{}.e30.AAAA", b64url_encode(br#"{"typ":"JWT"}"#));
    assert!(matches!(decode(&no_alg), Err(JoseError::Malformed(_))));
    let numeric_kid = format!("{}.e30.AAAA", b64url_encode(br#"{"alg":"ES256","kid":1}"#));
    assert!(matches!(decode(&numeric_kid), Err(JoseError::Json { part: "header", .. })));
}

#[test]
fn payload_must_be_an_object_for_claims() {
    let key = p256();
    let token = sign(&key, &Header::new(Algorithm::Es256), b"[1,2]").unwrap();
    let jws = decode(&token).unwrap();
    assert_eq!(jws.payload(), b"[1,2]");
    assert!(matches!(jws.claims::<Claims>(), Err(JoseError::Json { part: "payload", .. })));
}

#[test]
fn string_numeric_date_is_refused() {
    let key = p256();
    let token = sign(&key, &Header::new(Algorithm::Es256), br#"{"exp":"1700000000"}"#).unwrap();
    let jws = decode(&token).unwrap();
    assert_eq!(jws.claims::<Claims>().err(), Some(JoseError::Claims(ClaimsError::WrongType("exp"))));
    assert_eq!(
        jws.claims::<serde_json::Value>().err(),
        Some(JoseError::Claims(ClaimsError::WrongType("exp"))),
        "whatever type the caller asks for"
    );
    let token = sign(&key, &Header::new(Algorithm::Es256), br#"{"exp":1700000000.5}"#).unwrap();
    assert_eq!(decode(&token).unwrap().claims::<Claims>().unwrap().exp, Some(1_700_000_000));
}

#[test]
fn ed25519_header_name_is_accepted() {
    let key = PrivateKey::generate(KeySpec::Ed25519).unwrap();
    let token = forge(&key, Algorithm::EdDsa, r#"{"alg":"Ed25519"}"#, "{}");
    let jws = decode(&token).unwrap();
    assert_eq!(jws.header().alg, Algorithm::EdDsa);
    assert_eq!(jws.verify(&key.public_key()), Ok(()));
}

#[test]
fn embedded_jwk_is_exposed_but_never_used() {
    let attacker = p256();
    let victim = p256();
    let header = Header::new(Algorithm::Es256).with_jwk(attacker.public_key().to_jwk());
    let token = sign(&attacker, &header, b"{}").unwrap();
    let jws = decode(&token).unwrap();
    assert_eq!(jws.header().jwk, Some(attacker.public_key().to_jwk()));
    assert_eq!(jws.verify(&victim.public_key()), Err(JoseError::BadSignature));
    // jku / x5u / x5c are kept as data, nothing more.
    let token =
        forge(&attacker, Algorithm::Es256, r#"{"alg":"ES256","jku":"https://evil.example/jwks","x5c":["AAAA"]}"#, "{}");
    let jws = decode(&token).unwrap();
    assert!(jws.header().other.contains_key("jku"));
    assert_eq!(jws.verify(&victim.public_key()), Err(JoseError::BadSignature));
    // A private key in the header is refused, both ways.
    let private_header = Header::new(Algorithm::Es256).with_jwk(attacker.to_jwk().unwrap());
    assert!(matches!(sign(&attacker, &private_header, b"{}"), Err(JoseError::PrivateKeyMaterial { .. })));
    let leaked = serde_json::json!({"alg": "ES256", "jwk": attacker.to_jwk().unwrap()}).to_string();
    assert!(matches!(
        decode(&forge(&attacker, Algorithm::Es256, &leaked, "{}")),
        Err(JoseError::PrivateKeyMaterial { .. })
    ));
}
