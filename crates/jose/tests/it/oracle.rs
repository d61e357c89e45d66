//! jsonwebtoken (aws-lc-rs backend) as an independent oracle: its tokens verify with ours and ours with
//! its, for every algorithm both implement (it has no ES512).
use jsonwebtoken as jwt;
use tollgate_jose::{Algorithm, Claims, Header, Validation, jws};

use crate::keys;

const NOW: i64 = 1_700_000_000;

fn their_alg(alg: Algorithm) -> Option<jwt::Algorithm> {
    Some(match alg {
        Algorithm::Rs256 => jwt::Algorithm::RS256,
        Algorithm::Rs384 => jwt::Algorithm::RS384,
        Algorithm::Rs512 => jwt::Algorithm::RS512,
        Algorithm::Ps256 => jwt::Algorithm::PS256,
        Algorithm::Ps384 => jwt::Algorithm::PS384,
        Algorithm::Ps512 => jwt::Algorithm::PS512,
        Algorithm::Es256 => jwt::Algorithm::ES256,
        Algorithm::Es384 => jwt::Algorithm::ES384,
        Algorithm::EdDsa => jwt::Algorithm::EdDSA,
        Algorithm::Es512 => return None,
    })
}

fn claims() -> Claims {
    let mut extra = serde_json::Map::new();
    extra.insert("scp".into(), serde_json::json!(["read", "write"]));
    Claims {
        iss: Some("https://tollgate.example/oauth2/default".into()),
        sub: Some("0oa1client".into()),
        aud: Some(tollgate_jose::Audience::One("api://default".into())),
        exp: Some(NOW + 3600),
        iat: Some(NOW),
        jti: Some("id-123".into()),
        extra,
        ..Claims::default()
    }
}

fn keys_for(alg: Algorithm) -> (jwt::EncodingKey, jwt::DecodingKey) {
    let key = keys().for_alg(alg);
    let private = key.to_pkcs8_pem().unwrap();
    let public = key.public_key().to_spki_pem().unwrap();
    match alg {
        a if a.is_rsa() => (
            jwt::EncodingKey::from_rsa_pem(private.as_bytes()).unwrap(),
            jwt::DecodingKey::from_rsa_pem(public.as_bytes()).unwrap(),
        ),
        Algorithm::EdDsa => (
            jwt::EncodingKey::from_ed_pem(private.as_bytes()).unwrap(),
            jwt::DecodingKey::from_ed_pem(public.as_bytes()).unwrap(),
        ),
        _ => (
            jwt::EncodingKey::from_ec_pem(private.as_bytes()).unwrap(),
            jwt::DecodingKey::from_ec_pem(public.as_bytes()).unwrap(),
        ),
    }
}

fn their_validation(alg: jwt::Algorithm) -> jwt::Validation {
    let mut v = jwt::Validation::new(alg);
    v.set_audience(&["api://default"]);
    v.validate_exp = false; // our fixed NOW is in the past
    v.required_spec_claims.clear();
    v
}

#[test]
fn our_tokens_verify_with_jsonwebtoken() {
    for alg in Algorithm::ALL {
        let Some(theirs) = their_alg(alg) else {
            continue;
        };
        let key = keys().for_alg(alg);
        let token = jws::sign_json(key, &Header::new(alg).with_kid(key.kid()).with_typ("JWT"), &claims()).unwrap();
        let (_, decoding) = keys_for(alg);
        let data = jwt::decode::<serde_json::Value>(&token, &decoding, &their_validation(theirs))
            .unwrap_or_else(|e| panic!("{alg}: jsonwebtoken refused our token: {e}"));
        assert_eq!(data.claims["sub"], "0oa1client");
        assert_eq!(data.header.kid.as_deref(), Some(key.kid()));
    }
}

#[test]
fn jsonwebtoken_tokens_verify_with_ours() {
    for alg in Algorithm::ALL {
        let Some(theirs) = their_alg(alg) else {
            continue;
        };
        let (encoding, _) = keys_for(alg);
        let mut header = jwt::Header::new(theirs);
        header.kid = Some("k1".into());
        let token = jwt::encode(&header, &claims(), &encoding).unwrap();
        let decoded = jws::decode(&token).unwrap();
        assert_eq!(decoded.header().alg, alg);
        assert_eq!(decoded.verify(&keys().for_alg(alg).public_key()), Ok(()), "{alg}");
        let got: Claims = decoded.claims().unwrap();
        assert_eq!(got, claims());
        let validation = Validation::new(NOW)
            .require("exp")
            .issuer("https://tollgate.example/oauth2/default")
            .audience("api://default");
        assert_eq!(validation.validate(&got), Ok(()));
    }
}

#[test]
fn a_token_they_refuse_we_refuse() {
    // Signed with one key, checked with another: both libraries say no.
    let alg = Algorithm::Es256;
    let token = jws::sign_json(&keys().p256, &Header::new(alg), &claims()).unwrap();
    let other = tollgate_jose::PrivateKey::generate(tollgate_jose::KeySpec::Ec(tollgate_jose::Curve::P256)).unwrap();
    let their_key = jwt::DecodingKey::from_ec_pem(other.public_key().to_spki_pem().unwrap().as_bytes()).unwrap();
    assert!(jwt::decode::<serde_json::Value>(&token, &their_key, &their_validation(jwt::Algorithm::ES256)).is_err());
    assert!(jws::decode(&token).unwrap().verify(&other.public_key()).is_err());
}
