use std::sync::OnceLock;

use super::*;
use crate::Jwks;

fn rsa() -> &'static PrivateKey {
    static KEY: OnceLock<PrivateKey> = OnceLock::new();
    KEY.get_or_init(|| PrivateKey::generate(KeySpec::Rsa { bits: 2048 }).unwrap())
}

fn ec(curve: Curve) -> PrivateKey {
    PrivateKey::generate(KeySpec::Ec(curve)).unwrap()
}

fn all_small_keys() -> Vec<PrivateKey> {
    vec![ec(Curve::P256), ec(Curve::P384), ec(Curve::P521), PrivateKey::generate(KeySpec::Ed25519).unwrap()]
}

#[test]
fn generated_keys_sign_and_verify_with_their_default_algorithm() {
    let mut keys = all_small_keys();
    keys.push(PrivateKey::from_pkcs8_der(&rsa().to_pkcs8_der().unwrap()).unwrap());
    for key in keys {
        let alg = key.algorithm();
        let sig = key.sign(alg, b"message").unwrap();
        let public = key.public_key();
        assert_eq!(public.verify(alg, b"message", &sig), Ok(()), "{alg}");
        assert_eq!(public.verify(alg, b"massage", &sig), Err(JoseError::BadSignature), "{alg}");
        assert_eq!(key.kid(), public.thumbprint());
        assert_eq!(public.kid(), Some(key.kid()));
    }
}

#[test]
fn es_signatures_are_raw_r_s() {
    for (curve, len) in [(Curve::P256, 64), (Curve::P384, 96), (Curve::P521, 132)] {
        let key = ec(curve);
        assert_eq!(key.sign(key.algorithm(), b"m").unwrap().len(), len);
    }
}

#[test]
fn rsa_below_2048_bits_is_refused() {
    assert_eq!(PrivateKey::generate(KeySpec::Rsa { bits: 1024 }).err(), Some(JoseError::KeyTooSmall(1024)));
    // A real 1024-bit PKCS#1 key (openssl genrsa -traditional 1024) is refused by size, not by parsing luck.
    let pem = include_str!("../../tests/vectors/keys/rsa1024_pkcs1.pem");
    assert_eq!(PrivateKey::from_pem(pem).err(), Some(JoseError::KeyTooSmall(1024)));
    let jwk = Jwk {
        kty: "RSA".into(),
        n: Some(crate::b64url_encode(&[0xc1; 128])),
        e: Some("AQAB".into()),
        ..Jwk::default()
    };
    assert_eq!(PublicKey::from_jwk(&jwk), Err(JoseError::KeyTooSmall(1024)));
}

#[test]
fn generate_refuses_odd_rsa_sizes() {
    assert!(matches!(PrivateKey::generate(KeySpec::Rsa { bits: 2049 }), Err(JoseError::Unsupported(_))));
}

#[test]
fn algorithm_must_fit_the_key() {
    let p256 = ec(Curve::P256);
    let public = p256.public_key();
    assert!(!public.allows(Algorithm::Rs256));
    assert!(!public.allows(Algorithm::Es384));
    assert!(public.allows(Algorithm::Es256));
    let sig = p256.sign(Algorithm::Es256, b"m").unwrap();
    assert!(matches!(public.verify(Algorithm::Rs256, b"m", &sig), Err(JoseError::AlgorithmMismatch { .. })));
    assert!(matches!(public.verify(Algorithm::Es384, b"m", &sig), Err(JoseError::AlgorithmMismatch { .. })));
    assert!(matches!(p256.sign(Algorithm::Es384, b"m"), Err(JoseError::AlgorithmMismatch { .. })));
    assert!(matches!(p256.sign(Algorithm::EdDsa, b"m"), Err(JoseError::AlgorithmMismatch { .. })));
    let rsa_public = rsa().public_key();
    assert!(!rsa_public.allows(Algorithm::Es256));
    assert!(!rsa_public.allows(Algorithm::EdDsa));
    assert!(Algorithm::ALL.iter().filter(|a| a.is_rsa()).all(|a| rsa_public.allows(*a)));
}

#[test]
fn a_pinned_alg_restricts_the_key() {
    let mut jwk = rsa().public_key().to_jwk();
    jwk.alg = Some("PS256".into());
    let public = PublicKey::from_jwk(&jwk).unwrap();
    assert_eq!(public.algorithm(), Some(Algorithm::Ps256));
    assert!(!public.allows(Algorithm::Rs256));
    let sig = rsa().sign(Algorithm::Rs256, b"m").unwrap();
    let err = public.verify(Algorithm::Rs256, b"m", &sig).unwrap_err();
    assert_eq!(err, JoseError::AlgorithmMismatch { alg: "RS256".into(), key: "RSA-2048 (alg PS256)".into() });
    let pss = rsa().sign(Algorithm::Ps256, b"m").unwrap();
    assert_eq!(public.verify(Algorithm::Ps256, b"m", &pss), Ok(()));
    // A private key pinned to ES256 does not sign anything else, and cannot be pinned to a misfit.
    let pinned = ec(Curve::P256).with_algorithm(Algorithm::Es256).unwrap();
    assert_eq!(pinned.algorithm(), Algorithm::Es256);
    assert!(matches!(ec(Curve::P256).with_algorithm(Algorithm::Rs256), Err(JoseError::AlgorithmMismatch { .. })));
}

#[test]
fn a_jwk_alg_that_does_not_fit_is_refused() {
    let mut jwk = ec(Curve::P256).public_key().to_jwk();
    jwk.alg = Some("ES384".into());
    assert!(matches!(PublicKey::from_jwk(&jwk), Err(JoseError::AlgorithmMismatch { .. })));
    jwk.alg = Some("HS256".into());
    assert_eq!(PublicKey::from_jwk(&jwk), Err(JoseError::UnsupportedAlgorithm("HS256".into())));
    jwk.alg = Some("ES521".into());
    assert_eq!(PublicKey::from_jwk(&jwk), Err(JoseError::UnsupportedAlgorithm("ES521".into())));
}

#[test]
fn use_enc_and_key_ops_without_verify_do_not_verify() {
    let key = ec(Curve::P256);
    let sig = key.sign(Algorithm::Es256, b"m").unwrap();
    let mut jwk = key.public_key().to_jwk();
    jwk.use_ = Some("enc".into());
    let enc = PublicKey::from_jwk(&jwk).unwrap();
    assert!(matches!(enc.verify(Algorithm::Es256, b"m", &sig), Err(JoseError::AlgorithmMismatch { .. })));
    jwk.use_ = None;
    jwk.key_ops = Some(vec!["encrypt".into()]);
    let ops = PublicKey::from_jwk(&jwk).unwrap();
    assert!(matches!(ops.verify(Algorithm::Es256, b"m", &sig), Err(JoseError::AlgorithmMismatch { .. })));
    jwk.key_ops = Some(vec!["verify".into()]);
    assert_eq!(PublicKey::from_jwk(&jwk).unwrap().verify(Algorithm::Es256, b"m", &sig), Ok(()));
}

#[test]
fn a_public_jwk_with_private_members_is_refused() {
    let private = ec(Curve::P256).to_jwk().unwrap();
    assert_eq!(
        PublicKey::from_jwk(&private),
        Err(JoseError::PrivateKeyMaterial { kid: private.kid.clone(), member: "d" })
    );
    let text = format!(r#"{{"keys":[{}]}}"#, serde_json::to_string(&private).unwrap());
    let jwks = Jwks::from_json(&text).unwrap();
    assert!(matches!(jwks.public_keys(), Err(JoseError::PrivateKeyMaterial { member: "d", .. })));
}

#[test]
fn oct_and_unknown_keys_are_refused() {
    let oct = Jwk { kty: "oct".into(), k: Some("c2VjcmV0".into()), ..Jwk::default() };
    assert_eq!(PublicKey::from_jwk(&oct), Err(JoseError::PrivateKeyMaterial { kid: None, member: "k" }));
    let oct_no_k = Jwk { kty: "oct".into(), ..Jwk::default() };
    assert!(matches!(PublicKey::from_jwk(&oct_no_k), Err(JoseError::InvalidKey(_))));
    assert!(matches!(PrivateKey::from_jwk(&oct), Err(JoseError::InvalidKey(_))));
    let unknown = Jwk { kty: "XYZ".into(), ..Jwk::default() };
    assert!(matches!(PublicKey::from_jwk(&unknown), Err(JoseError::InvalidKey(_))));
    let mut x25519 = PrivateKey::generate(KeySpec::Ed25519).unwrap().public_key().to_jwk();
    x25519.crv = Some("X25519".into());
    assert!(matches!(PublicKey::from_jwk(&x25519), Err(JoseError::Unsupported(_))));
}

#[test]
fn off_curve_and_wrong_length_points_are_refused() {
    let mut jwk = ec(Curve::P256).public_key().to_jwk();
    let mut y = crate::b64url_decode(jwk.y.as_deref().unwrap()).unwrap();
    y[31] ^= 1;
    jwk.y = Some(crate::b64url_encode(&y));
    assert!(matches!(PublicKey::from_jwk(&jwk), Err(JoseError::InvalidKey(_))));
    jwk.y = Some(crate::b64url_encode(&y[1..]));
    assert!(matches!(PublicKey::from_jwk(&jwk), Err(JoseError::InvalidKey(_))));
    let mut wrong_crv = ec(Curve::P256).public_key().to_jwk();
    wrong_crv.crv = Some("P-384".into());
    assert!(matches!(PublicKey::from_jwk(&wrong_crv), Err(JoseError::InvalidKey(_))));
}

#[test]
fn non_canonical_base64_in_a_jwk_is_refused() {
    let mut jwk = ec(Curve::P256).public_key().to_jwk();
    jwk.x = Some(format!("{}=", jwk.x.unwrap()));
    assert_eq!(PublicKey::from_jwk(&jwk), Err(JoseError::Base64("x")));
}

#[test]
fn private_jwk_round_trips_with_every_member() {
    for key in all_small_keys().into_iter().chain([PrivateKey::from_pkcs8_der(&rsa().to_pkcs8_der().unwrap()).unwrap()])
    {
        let jwk = key.to_jwk().unwrap();
        assert_eq!(jwk.kid.as_deref(), Some(key.kid()));
        if jwk.kty == "RSA" {
            assert!([&jwk.p, &jwk.q, &jwk.dp, &jwk.dq, &jwk.qi].iter().all(|m| m.is_some()));
        }
        let back = PrivateKey::from_jwk(&jwk).unwrap();
        assert_eq!(back.to_jwk().unwrap(), jwk);
        assert_eq!(back.public_key(), key.public_key());
        // And the public JWK never carries private members.
        assert_eq!(key.public_key().to_jwk().private_member(), None);
    }
}

#[test]
fn rsa_private_jwk_without_crt_members_imports() {
    let mut jwk = rsa().to_jwk().unwrap();
    let full = jwk.clone();
    (jwk.p, jwk.q, jwk.dp, jwk.dq, jwk.qi) = (None, None, None, None, None);
    let key = PrivateKey::from_jwk(&jwk).unwrap();
    let mut out = key.to_jwk().unwrap();
    // p and q may come back swapped; what matters is the same key.
    assert_eq!((out.n.take(), out.e.take(), out.d.take()), (full.n, full.e, full.d));
    let sig = key.sign(Algorithm::Rs256, b"m").unwrap();
    assert_eq!(rsa().public_key().verify(Algorithm::Rs256, b"m", &sig), Ok(()));
    jwk.p = full.p;
    assert!(matches!(PrivateKey::from_jwk(&jwk), Err(JoseError::InvalidKey(_))));
}

#[test]
fn pem_and_der_round_trips() {
    let mut keys = all_small_keys();
    keys.push(PrivateKey::from_pkcs8_der(&rsa().to_pkcs8_der().unwrap()).unwrap());
    for key in keys {
        let pkcs8 = PrivateKey::from_pem(&key.to_pkcs8_pem().unwrap()).unwrap();
        assert_eq!(pkcs8.public_key(), key.public_key());
        match key.spec() {
            KeySpec::Ed25519 => assert!(matches!(key.to_traditional_pem(), Err(JoseError::Unsupported(_)))),
            _ => {
                let pem = key.to_traditional_pem().unwrap();
                assert!(pem.starts_with(if key.spec().kty() == "RSA" {
                    "-----BEGIN RSA PRIVATE KEY"
                } else {
                    "-----BEGIN EC PRIVATE KEY"
                }));
                assert_eq!(PrivateKey::from_pem(&pem).unwrap().public_key(), key.public_key());
            }
        }
        let public = key.public_key().with_kid(None);
        let spki = public.to_spki_pem().unwrap();
        assert!(spki.starts_with("-----BEGIN PUBLIC KEY-----\n"));
        assert_eq!(PublicKey::from_pem(&spki).unwrap(), public);
        assert_eq!(PublicKey::from_spki_der(&public.to_spki_der().unwrap()).unwrap(), public);
    }
}

#[test]
fn parse_takes_pem_or_jwk() {
    let key = ec(Curve::P384);
    let from_pem = PrivateKey::parse(&format!("\n  {}\n", key.to_pkcs8_pem().unwrap().as_str())).unwrap();
    let from_jwk = PrivateKey::parse(&serde_json::to_string(&key.to_jwk().unwrap()).unwrap()).unwrap();
    assert_eq!(from_pem.public_key().with_kid(None), key.public_key().with_kid(None));
    assert_eq!(from_jwk.public_key(), key.public_key());
    assert!(matches!(PrivateKey::parse("hello"), Err(JoseError::InvalidKey(_))));
    assert!(matches!(PrivateKey::parse(&key.public_key().to_spki_pem().unwrap()), Err(JoseError::InvalidKey(_))));
    assert!(matches!(PublicKey::from_pem(key.to_pkcs8_pem().unwrap().as_str()), Err(JoseError::InvalidKey(_))));
}

#[test]
fn jwk_kid_and_alg_are_kept() {
    let mut jwk = ec(Curve::P256).to_jwk().unwrap();
    jwk.kid = Some("my-key".into());
    jwk.alg = Some("ES256".into());
    let key = PrivateKey::from_jwk(&jwk).unwrap();
    assert_eq!(key.kid(), "my-key");
    assert_eq!(key.public_key().algorithm(), Some(Algorithm::Es256));
    assert_eq!(key.to_jwk().unwrap().alg.as_deref(), Some("ES256"));
    assert_eq!(key.with_kid("other").kid(), "other");
    jwk.alg = Some("RS256".into());
    assert!(matches!(PrivateKey::from_jwk(&jwk), Err(JoseError::AlgorithmMismatch { .. })));
}

#[test]
fn mismatched_private_parts_are_refused() {
    let a = ec(Curve::P256).to_jwk().unwrap();
    let mut b = ec(Curve::P256).to_jwk().unwrap();
    b.d = a.d;
    assert!(matches!(PrivateKey::from_jwk(&b), Err(JoseError::InvalidKey(_))));
    let a = PrivateKey::generate(KeySpec::Ed25519).unwrap().to_jwk().unwrap();
    let mut b = PrivateKey::generate(KeySpec::Ed25519).unwrap().to_jwk().unwrap();
    b.d = a.d;
    assert!(matches!(PrivateKey::from_jwk(&b), Err(JoseError::InvalidKey(_))));
}

#[test]
fn debug_never_prints_key_material() {
    let key = ec(Curve::P256);
    let jwk = key.to_jwk().unwrap();
    let debug = format!("{key:?} {:?}", key.public_key());
    assert!(debug.contains(key.kid()));
    for member in [jwk.d.unwrap(), jwk.x.unwrap(), jwk.y.unwrap()] {
        assert!(!debug.contains(&member));
    }
}

#[test]
fn garbage_is_an_error() {
    for text in [
        "",
        "-----BEGIN PRIVATE KEY-----\n-----END PRIVATE KEY-----",
        "-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----",
    ] {
        assert!(PrivateKey::parse(text).is_err());
        assert!(PublicKey::from_pem(text).is_err());
    }
    assert!(PrivateKey::from_pkcs8_der(&[0x30, 0x03, 0x02, 0x01, 0x00]).is_err());
    assert!(PublicKey::from_spki_der(&[]).is_err());
}

#[test]
fn pem_with_other_wrap_widths_and_crlf_loads() {
    let key = ec(Curve::P256);
    let pem = key.to_pkcs8_pem().unwrap();
    let body: String = pem.lines().filter(|l| !l.starts_with("-----")).collect();
    let unwrapped = format!("-----BEGIN PRIVATE KEY-----\n{body}\n-----END PRIVATE KEY-----\n");
    assert_eq!(PrivateKey::from_pem(&unwrapped).unwrap().kid(), key.kid());
    let crlf = pem.replace('\n', "\r\n");
    assert_eq!(PrivateKey::from_pem(&crlf).unwrap().kid(), key.kid());
}
