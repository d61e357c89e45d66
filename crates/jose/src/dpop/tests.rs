use super::*;
use crate::{Curve, Jwk, KeySpec, jws};
use serde_json::json;

const URL: &str = "https://id.example.com/oauth2/v1/token";
const NOW: i64 = 1_800_000_000;

fn ec_key() -> PrivateKey {
    PrivateKey::generate(KeySpec::Ec(Curve::P256)).unwrap()
}

fn expected() -> Expected<'static> {
    Expected { htm: "POST", htu: URL, now: NOW, access_token: None }
}

fn proof(key: &PrivateKey) -> String {
    sign_proof(key, &ProofRequest { htm: "POST", htu: URL, iat: NOW, nonce: None, access_token: None }).unwrap()
}

/// A proof with a hand-made header and claims, for the refusals `sign_proof` would never produce.
fn custom(key: &PrivateKey, header: Header, claims: serde_json::Value) -> String {
    jws::sign_json(key, &header, &claims).unwrap()
}

fn good_header(key: &PrivateKey) -> Header {
    Header::new(key.algorithm()).with_typ(PROOF_TYP).with_jwk(key.public_key().to_jwk())
}

fn good_claims() -> serde_json::Value {
    json!({"jti": "j-1", "htm": "POST", "htu": URL, "iat": NOW})
}

#[test]
fn a_signed_proof_verifies_and_yields_the_key_thumbprint() {
    for spec in [KeySpec::Ec(Curve::P256), KeySpec::Ec(Curve::P384), KeySpec::Rsa { bits: 2048 }] {
        let key = PrivateKey::generate(spec).unwrap();
        let verified = verify_proof(&proof(&key), &expected()).unwrap();
        assert_eq!(verified.jkt, key.public_key().thumbprint());
        assert_eq!(verified.iat, NOW);
        assert!(verified.nonce.is_none());
        assert_eq!(verified.jti.len(), 32, "24 random bytes in base64url");
    }
}

#[test]
fn each_proof_has_a_fresh_jti_and_no_kid_in_its_jwk() {
    let key = ec_key();
    let (a, b) = (proof(&key), proof(&key));
    let (a, b) = (verify_proof(&a, &expected()).unwrap(), verify_proof(&b, &expected()).unwrap());
    assert_ne!(a.jti, b.jti);
    let decoded = jws::decode(&proof(&key)).unwrap().header().clone();
    assert_eq!(decoded.typ.as_deref(), Some("dpop+jwt"));
    assert!(decoded.jwk.unwrap().kid.is_none());
}

#[test]
fn the_query_is_dropped_from_htu_and_nonce_and_ath_are_carried() {
    let key = ec_key();
    let request = ProofRequest {
        htm: "GET",
        htu: "https://id.example.com/api/v1/users?limit=2#x",
        iat: NOW,
        nonce: Some("n-1"),
        access_token: Some("token-abc"),
    };
    let token = sign_proof(&key, &request).unwrap();
    let claims: ProofClaims = jws::decode(&token).unwrap().claims().unwrap();
    assert_eq!(claims.htu, "https://id.example.com/api/v1/users");
    assert_eq!(claims.ath.as_deref(), Some(access_token_hash("token-abc").as_str()));
    let expect = Expected {
        htm: "GET",
        htu: "https://id.example.com/api/v1/users?limit=5",
        now: NOW,
        access_token: Some("token-abc"),
    };
    assert_eq!(verify_proof(&token, &expect).unwrap().nonce.as_deref(), Some("n-1"));
    let other_token = Expected { access_token: Some("token-abd"), ..expect };
    assert_eq!(verify_proof(&token, &other_token).unwrap_err(), DpopError::BadAth);
}

#[test]
fn a_proof_without_ath_is_refused_where_a_token_is_presented() {
    let key = ec_key();
    let expect = Expected { access_token: Some("t"), ..expected() };
    assert_eq!(verify_proof(&proof(&key), &expect).unwrap_err(), DpopError::BadAth);
}

#[test]
fn ath_is_the_rfc_9449_example_hash() {
    // RFC 9449 §7.1: the access token "Kz~8mXK1EalYznwH-LC-1fBAo.4Ljp~zsPE_NeO.gxU" hashes to this `ath`.
    assert_eq!(
        access_token_hash("Kz~8mXK1EalYznwH-LC-1fBAo.4Ljp~zsPE_NeO.gxU"),
        "fUHyO2r2Z3DZ53EsNrWBb0xWXoaNy59IiKCAqksmQEo"
    );
}

#[test]
fn the_rfc_9449_example_proof_passes_the_stateless_checks() {
    // RFC 9449 §4.1, figure 4 (ES256), checked at its own iat.
    let proof = "eyJ0eXAiOiJkcG9wK2p3dCIsImFsZyI6IkVTMjU2IiwiandrIjp7Imt0eSI6IkVDIiwieCI6Imw4dEZyaHgtMzR0VjNoUklDUkRZOXpDa0RscEJoRjQyVVFVZldWQVdCRnMiLCJ5IjoiOVZFNGpmX09rX282NHpiVFRsY3VOSmFqSG10NnY5VERWclUwQ2R2R1JEQSIsImNydiI6IlAtMjU2In19.eyJqdGkiOiItQndDM0VTYzZhY2MybFRjIiwiaHRtIjoiUE9TVCIsImh0dSI6Imh0dHBzOi8vc2VydmVyLmV4YW1wbGUuY29tL3Rva2VuIiwiaWF0IjoxNTYyMjYyNjE2fQ.2-GxA6T8lP4vfrg8v-FdWP0A0zdrj8igiMLvqRMUvwnQg4PtFLbdLXiOSsX0x7NVY-FNyJK70nfbV37xRZT3Lg";
    let expect =
        Expected { htm: "POST", htu: "https://server.example.com/token", now: 1_562_262_616, access_token: None };
    let verified = verify_proof(proof, &expect).unwrap();
    assert_eq!(verified.jti, "-BwC3ESc6acc2lTc");
    assert_eq!(verified.jkt, "0ZcOCORZNYy-DWpqq30jZyJGHTN0d2HglBV3uiguA4I");
}

#[test]
fn wrong_or_missing_typ_is_refused() {
    let key = ec_key();
    for header in [good_header(&key).with_typ("JWT"), Header { typ: None, ..good_header(&key) }] {
        assert_eq!(verify_proof(&custom(&key, header, good_claims()), &expected()).unwrap_err(), DpopError::WrongTyp);
    }
}

#[test]
fn algorithms_other_than_rs_and_es_are_refused() {
    let key = PrivateKey::generate(KeySpec::Rsa { bits: 2048 }).unwrap();
    let header = Header::new(Algorithm::Ps256).with_typ(PROOF_TYP).with_jwk(key.public_key().to_jwk());
    assert_eq!(verify_proof(&custom(&key, header, good_claims()), &expected()).unwrap_err(), DpopError::BadAlgorithm);
    let ed = PrivateKey::generate(KeySpec::Ed25519).unwrap();
    assert_eq!(
        verify_proof(&custom(&ed, good_header(&ed), good_claims()), &expected()).unwrap_err(),
        DpopError::BadAlgorithm
    );
    // alg "none" and HS256 never parse as a JWS here.
    let none = format!("{}.{}.", b64url_encode(br#"{"alg":"none","typ":"dpop+jwt"}"#), b64url_encode(b"{}"));
    assert_eq!(verify_proof(&none, &expected()).unwrap_err(), DpopError::BadAlgorithm);
}

#[test]
fn a_missing_private_or_symmetric_jwk_is_refused() {
    let key = ec_key();
    let no_jwk = Header { jwk: None, ..good_header(&key) };
    assert_eq!(verify_proof(&custom(&key, no_jwk, good_claims()), &expected()).unwrap_err(), DpopError::Invalid);
    // Our signer refuses to put private material in a header, so these are assembled by hand.
    let private = serde_json::to_value(key.to_jwk().unwrap()).unwrap();
    let oct = serde_json::to_value(Jwk { kty: "oct".into(), k: Some("c2VjcmV0".into()), ..Jwk::default() }).unwrap();
    for jwk in [private, oct] {
        let header = json!({"typ": PROOF_TYP, "alg": "ES256", "jwk": jwk});
        let input = format!(
            "{}.{}",
            b64url_encode(header.to_string().as_bytes()),
            b64url_encode(good_claims().to_string().as_bytes())
        );
        let token = format!("{input}.{}", b64url_encode(&key.sign(Algorithm::Es256, input.as_bytes()).unwrap()));
        assert_eq!(verify_proof(&token, &expected()).unwrap_err(), DpopError::Invalid);
    }
}

#[test]
fn a_signature_by_another_key_than_the_header_jwk_is_refused() {
    let (signer, other) = (ec_key(), ec_key());
    let header = good_header(&signer).with_jwk(other.public_key().to_jwk());
    assert_eq!(
        verify_proof(&custom(&signer, header, good_claims()), &expected()).unwrap_err(),
        DpopError::BadSignature
    );
    let mut tampered = proof(&signer);
    tampered.replace_range(tampered.len() - 2.., "AA");
    assert!(matches!(verify_proof(&tampered, &expected()), Err(DpopError::BadSignature | DpopError::Unparsable)));
}

#[test]
fn htm_and_htu_must_match_the_request() {
    let key = ec_key();
    let get = Expected { htm: "GET", ..expected() };
    assert_eq!(verify_proof(&proof(&key), &get).unwrap_err(), DpopError::BadHtm);
    for url in [
        "https://id.example.com/oauth2/default/v1/token",
        "http://id.example.com/oauth2/v1/token",
        "https://id.example.com:8443/oauth2/v1/token",
        "https://other.example.com/oauth2/v1/token",
        "not a url",
    ] {
        let expect = Expected { htu: url, ..expected() };
        assert_eq!(verify_proof(&proof(&key), &expect).unwrap_err(), DpopError::BadHtu, "{url}");
    }
}

#[test]
fn htu_is_compared_after_normalisation() {
    assert!(same_target("https://ID.example.com:443/api/v1/users/a%40b", "https://id.example.com/api/v1/users/a@b"));
    assert!(same_target("http://127.0.0.1:80/x?y=1", "http://127.0.0.1/x"));
    assert!(!same_target("https://id.example.com/api/v1/users", "https://id.example.com/api/v1/users/"));
    assert!(!same_target("ftp://id.example.com/x", "ftp://id.example.com/x"));
}

#[test]
fn iat_must_be_present_fresh_and_not_ahead() {
    let key = ec_key();
    let with_iat = |iat: serde_json::Value| {
        let mut claims = good_claims();
        claims["iat"] = iat;
        verify_proof(&custom(&key, good_header(&key), claims), &expected())
    };
    assert_eq!(with_iat(json!("soon")).unwrap_err(), DpopError::BadIat);
    assert_eq!(with_iat(json!(NOW + FUTURE_LEEWAY_SECONDS + 1)).unwrap_err(), DpopError::Future);
    assert_eq!(with_iat(json!(NOW - MAX_AGE_SECONDS - 1)).unwrap_err(), DpopError::Stale);
    assert!(with_iat(json!(NOW + FUTURE_LEEWAY_SECONDS)).is_ok());
    assert!(with_iat(json!(NOW - MAX_AGE_SECONDS)).is_ok());
    let mut no_iat = good_claims();
    no_iat.as_object_mut().unwrap().remove("iat");
    assert_eq!(verify_proof(&custom(&key, good_header(&key), no_iat), &expected()).unwrap_err(), DpopError::BadIat);
}

#[test]
fn jti_must_be_a_non_empty_bounded_string() {
    let key = ec_key();
    // A NUL cannot be kept by every replay cache (PostgreSQL text cannot hold one).
    for jti in [json!(""), json!(7), json!("x".repeat(MAX_JTI_LEN + 1)), serde_json::Value::Null, json!("a\0b")] {
        let mut claims = good_claims();
        claims["jti"] = jti;
        let token = custom(&key, good_header(&key), claims);
        assert!(matches!(verify_proof(&token, &expected()), Err(DpopError::BadJti | DpopError::Unparsable)));
    }
}

#[test]
fn garbage_is_unparsable_not_a_panic() {
    for input in ["", "a.b", "a.b.c", "....", "eyJ.eyJ.eyJ"] {
        assert_eq!(verify_proof(input, &expected()).unwrap_err(), DpopError::Unparsable, "{input}");
    }
}

#[test]
fn messages_are_oktas() {
    assert_eq!(DpopError::Missing.to_string(), "The DPoP proof JWT header is missing.");
    assert_eq!(DpopError::BadHtu.to_string(), "'htu' claim in the DPoP proof JWT is invalid.");
    assert_eq!(DpopError::NotBound.to_string(), "The access_token is not bound to the provided DPoP proof.");
}

#[test]
fn the_rfc_9449_resource_proof_checks_ath_against_its_token() {
    // RFC 9449 §7.1, figure 13: the proof sent with "Authorization: DPoP Kz~8mXK1...".
    let proof = concat!(
        "eyJ0eXAiOiJkcG9wK2p3dCIsImFsZyI6IkVTMjU2IiwiandrIjp7Imt0eSI6IkVDIiwieCI6Imw4dEZyaHgtMzR0VjNoUklDUkRZOXpDa0RscEJoRjQyVVFVZldWQVdCRnMiLCJ5IjoiOVZFNGpmX09rX282NHpiVFRsY3VOSmFqSG10NnY5VERWclUwQ2R2R1JEQSIsImNydiI6IlAtMjU2In19.",
        "eyJqdGkiOiJlMWozVl9iS2ljOC1MQUVCIiwiaHRtIjoiR0VUIiwiaHR1IjoiaHR0cHM6Ly9yZXNvdXJjZS5leGFtcGxlLm9yZy9wcm90ZWN0ZWRyZXNvdXJjZSIsImlhdCI6MTU2MjI2MjYxOCwiYXRoIjoiZlVIeU8ycjJaM0RaNTNFc05yV0JiMHhXWG9hTnk1OUlpS0NBcWtzbVFFbyJ9.",
        "2oW9RP35yRqzhrtNP86L-Ey71EOptxRimPPToA1plemAgR6pxHF8y6-yqyVnmcw6Fy1dqd-jfxSYoMxhAJpLjA"
    );
    let expect = Expected {
        htm: "GET",
        htu: "https://resource.example.org/protectedresource",
        now: 1_562_262_618,
        access_token: Some("Kz~8mXK1EalYznwH-LC-1fBAo.4Ljp~zsPE_NeO.gxU"),
    };
    assert_eq!(verify_proof(proof, &expect).unwrap().jkt, "0ZcOCORZNYy-DWpqq30jZyJGHTN0d2HglBV3uiguA4I");
    let other = Expected { access_token: Some("another-token"), ..expect };
    assert_eq!(verify_proof(proof, &other).unwrap_err(), DpopError::BadAth);
}
