//! Project Wycheproof vectors (tests/vectors/wycheproof, see its README).
//!
//! Primitive files: every `valid` signature verifies, every `invalid` one does not, `acceptable` is recorded.
//! Keys are built through our public API (JWK first, SPKI DER when a group has no JWK); groups whose key
//! our policy refuses are skipped, counted, and the refusal itself is asserted.
use serde_json::Value;
use tollgate_jose::{Algorithm, JoseError, Jwk, Jwks, PublicKey, jws};

use crate::{hex, vector};

#[derive(Debug, Default)]
struct Stats {
    valid: usize,
    invalid: usize,
    acceptable_accepted: usize,
    acceptable_rejected: usize,
    skipped_groups: usize,
    skipped_tests: usize,
}

fn group_key(group: &Value) -> Result<PublicKey, JoseError> {
    match group.get("publicKeyJwk").or_else(|| group.get("keyJwk")) {
        Some(jwk) => PublicKey::from_jwk(&serde_json::from_value::<Jwk>(jwk.clone()).unwrap()),
        None => PublicKey::from_spki_der(&hex(group["publicKeyDer"].as_str().unwrap())),
    }
}

fn run_primitive(file: &str, alg: Algorithm) -> Stats {
    let doc = vector(&format!("wycheproof/{file}"));
    let mut stats = Stats::default();
    for group in doc["testGroups"].as_array().unwrap() {
        let tests = group["tests"].as_array().unwrap();
        let key = match group_key(group) {
            Ok(key) => key,
            Err(err) => {
                // Only policy refusals are acceptable reasons to skip: small RSA, compressed points.
                assert!(
                    matches!(err, JoseError::KeyTooSmall(_) | JoseError::Unsupported(_)),
                    "{file}: unexpected key refusal {err:?} for {}",
                    group["publicKeyJwk"]
                );
                stats.skipped_groups += 1;
                stats.skipped_tests += tests.len();
                continue;
            }
        };
        for test in tests {
            let id = &test["tcId"];
            let msg = hex(test["msg"].as_str().unwrap());
            let sig = hex(test["sig"].as_str().unwrap());
            let result = key.verify(alg, &msg, &sig);
            match test["result"].as_str().unwrap() {
                "valid" => {
                    assert_eq!(result, Ok(()), "{file} tcId {id} ({}) must verify", test["comment"]);
                    stats.valid += 1;
                }
                "invalid" => {
                    assert_eq!(
                        result,
                        Err(JoseError::BadSignature),
                        "{file} tcId {id} ({}) must not verify",
                        test["comment"]
                    );
                    stats.invalid += 1;
                }
                "acceptable" if result.is_ok() => stats.acceptable_accepted += 1,
                "acceptable" => stats.acceptable_rejected += 1,
                other => panic!("unknown result {other}"),
            }
        }
    }
    let total: usize = doc["numberOfTests"].as_u64().unwrap().try_into().unwrap();
    assert_eq!(
        stats.valid + stats.invalid + stats.acceptable_accepted + stats.acceptable_rejected + stats.skipped_tests,
        total
    );
    // Skipping must stay the exception, or this test would prove nothing.
    assert!(stats.skipped_tests * 10 < total, "{file}: too many skipped: {stats:?}");
    eprintln!("wycheproof {file} ({alg}): {stats:?}");
    stats
}

#[test]
fn rs256() {
    run_primitive("rsa_signature_2048_sha256_test.json", Algorithm::Rs256);
}

#[test]
fn rs384() {
    run_primitive("rsa_signature_3072_sha384_test.json", Algorithm::Rs384);
}

#[test]
fn ps256() {
    run_primitive("rsa_pss_2048_sha256_mgf1_32_test.json", Algorithm::Ps256);
}

#[test]
fn ps512() {
    run_primitive("rsa_pss_4096_sha512_mgf1_64_test.json", Algorithm::Ps512);
}

#[test]
fn es256() {
    run_primitive("ecdsa_secp256r1_sha256_p1363_test.json", Algorithm::Es256);
}

#[test]
fn es384() {
    run_primitive("ecdsa_secp384r1_sha384_p1363_test.json", Algorithm::Es384);
}

#[test]
fn es512() {
    run_primitive("ecdsa_secp521r1_sha512_p1363_test.json", Algorithm::Es512);
}

#[test]
fn eddsa() {
    let stats = run_primitive("ed25519_test.json", Algorithm::EdDsa);
    assert_eq!(stats.skipped_groups, 0);
}

fn header_alg(token: &str) -> Option<String> {
    let header = token.split('.').next()?;
    let json = tollgate_jose::b64url_decode(header).ok()?;
    let value: Value = serde_json::from_slice(&json).ok()?;
    value.get("alg")?.as_str().map(str::to_owned)
}

/// Whole compact tokens through `jws::decode` + `verify`.
#[test]
fn json_web_signature() {
    let doc = vector("wycheproof/json_web_signature_test.json");
    let (mut ok, mut refused, mut hs_or_none, mut lenient_b64, mut pinned) = (0, 0, 0, 0, 0);
    for group in doc["testGroups"].as_array().unwrap() {
        let jwk: Jwk = serde_json::from_value(group.get("public").unwrap_or(&group["private"]).clone()).unwrap();
        let key = PublicKey::from_jwk(&jwk);
        for test in group["tests"].as_array().unwrap() {
            let (id, token) = (test["tcId"].as_u64().unwrap(), test["jws"].as_str().unwrap());
            let outcome = match &key {
                Ok(key) => jws::decode(token).and_then(|j| j.verify(key)),
                Err(e) => Err(JoseError::InvalidKey(e.to_string())),
            };
            let alg = header_alg(token);
            if jwk.kty == "oct" || matches!(alg.as_deref(), Some(a) if a.starts_with("HS") || a == "none") {
                // HMAC and unsecured tokens never verify here: no symmetric keys, no `none`.
                assert!(outcome.is_err(), "tcId {id}: an HS*/none token was accepted");
                hs_or_none += 1;
                continue;
            }
            // Our policy: a JWK's `alg` binds the key. Two RFC 7520 groups pin `PS256` on the key of the
            // PS384 example, and `ES521` (not an algorithm) on the ES512 key; Wycheproof's JWK file calls
            // the latter invalid itself. These must fail for exactly that reason.
            let pinned_alg = jwk.alg.as_deref().filter(|a| alg.as_deref().is_some_and(|h| h != *a));
            if let Some(pinned_alg) = pinned_alg.filter(|_| test["result"] == "valid") {
                assert!(
                    matches!(&outcome, Err(JoseError::AlgorithmMismatch { .. }))
                        || outcome
                            == Err(JoseError::InvalidKey(
                                JoseError::UnsupportedAlgorithm(pinned_alg.into()).to_string()
                            )),
                    "tcId {id}: {outcome:?}"
                );
                pinned += 1;
                continue;
            }
            match (test["result"].as_str().unwrap(), id) {
                // A `?` inside a segment: valid only for lenient base64 decoders (see the vectors' README).
                (_, 372 | 373) => {
                    assert!(outcome.is_err());
                    lenient_b64 += 1;
                }
                ("valid", _) => {
                    assert_eq!(outcome, Ok(()), "tcId {id} ({}) must verify", test["comment"]);
                    ok += 1;
                }
                ("invalid", _) => {
                    assert!(outcome.is_err(), "tcId {id} ({}) must be refused", test["comment"]);
                    refused += 1;
                }
                (other, _) => panic!("tcId {id}: unexpected result {other}"),
            }
        }
    }
    eprintln!(
        "json_web_signature: {ok} verified, {refused} refused, {hs_or_none} HS*/none refused, \
         {lenient_b64} lenient-base64 refused, {pinned} refused by the key's pinned alg"
    );
    assert!(pinned <= 4, "{pinned}");
    assert!(ok >= 30 && refused >= 300, "{ok} {refused}");
}

/// JWK/JWKS import rules: what must be refused is refused, and the one RS256 `valid` case verifies.
#[test]
fn json_web_key() {
    let doc = vector("wycheproof/json_web_key_test.json");
    let (mut verified, mut refused) = (0, 0);
    for group in doc["testGroups"].as_array().unwrap() {
        let jwks_value = group.get("public").unwrap_or(&group["private"]);
        let jwks = Jwks::from_json(&jwks_value.to_string()).unwrap();
        for test in group["tests"].as_array().unwrap() {
            let (id, token) = (test["tcId"].as_u64().unwrap(), test["jws"].as_str().unwrap());
            let outcome = (|| {
                let keys = jwks.public_keys()?;
                let jws = jws::decode(token)?;
                let key =
                    keys.iter().find(|k| k.kid() == jws.header().kid.as_deref()).ok_or(JoseError::BadSignature)?;
                jws.verify(key)
            })();
            let is_hs = header_alg(token).is_some_and(|a| a.starts_with("HS"));
            if test["result"] == "valid" && !is_hs {
                assert_eq!(outcome, Ok(()), "tcId {id} ({})", test["comment"]);
                verified += 1;
            } else {
                assert!(outcome.is_err(), "tcId {id} ({}) must be refused", test["comment"]);
                refused += 1;
            }
        }
    }
    eprintln!("json_web_key: {verified} verified, {refused} refused");
    assert_eq!(verified, 1);
}

/// The specific JWK refusals in json_web_key_test.json, each for the reason it names.
#[test]
fn json_web_key_refusal_reasons() {
    let doc = vector("wycheproof/json_web_key_test.json");
    let reason = |tc: u64| -> JoseError {
        let group = doc["testGroups"]
            .as_array()
            .unwrap()
            .iter()
            .find(|g| g["tests"].as_array().unwrap().iter().any(|t| t["tcId"] == tc))
            .unwrap();
        let jwks = Jwks::from_json(&group.get("public").unwrap_or(&group["private"]).to_string()).unwrap();
        jwks.public_keys().unwrap_err()
    };
    assert!(matches!(reason(1), JoseError::PrivateKeyMaterial { member: "k", .. }), "mixed keyset with an oct key");
    assert!(matches!(reason(6), JoseError::UnsupportedAlgorithm(a) if a == "RSA1_5"));
    assert!(matches!(reason(7), JoseError::InvalidKey(d) if d.contains("ROCA")));
    assert_eq!(reason(8), JoseError::KeyTooSmall(1024));
    assert!(matches!(reason(9), JoseError::InvalidKey(d) if d.contains("exponent")));
    assert_eq!(reason(19), JoseError::UnsupportedAlgorithm("ES521".into()));
    assert_eq!(reason(20), JoseError::UnsupportedAlgorithm("ES224".into()));
    assert!(matches!(reason(22), JoseError::InvalidKey(d) if d.contains("not on")));
    assert!(matches!(reason(23), JoseError::InvalidKey(_)), "P-384 with 32-byte coordinates");
    assert!(matches!(reason(24), JoseError::InvalidKey(_)), "kty RSA with EC members");
}
