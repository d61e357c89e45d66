//! RFC 7520 (JOSE cookbook), RFC 7515 Appendix A, RFC 7517, RFC 7638 and RFC 8037 examples.
use serde_json::Value;
use tollgate_jose::{Algorithm, Header, JoseError, Jwk, Jwks, PrivateKey, PublicKey, jws};

use crate::vector;

fn jwk(value: &Value) -> Jwk {
    serde_json::from_value(value.clone()).unwrap()
}

/// The compact output verifies with the public half of `input.key`; reproducible ones are re-signed exactly.
fn cookbook_jws(file: &str, alg: Algorithm) {
    let doc = vector(&format!("jose-cookbook/jws/{file}"));
    let private = PrivateKey::from_jwk(&jwk(&doc["input"]["key"])).unwrap();
    let public = private.public_key();
    let compact = doc["output"]["compact"].as_str().unwrap();
    let decoded = jws::decode(compact).unwrap();
    assert_eq!(decoded.header().alg, alg);
    assert_eq!(decoded.payload(), doc["input"]["payload"].as_str().unwrap().as_bytes());
    assert_eq!(decoded.verify(&public), Ok(()), "{file}");
    // The public JWK from the cookbook gives the same key.
    let mut public_jwk = jwk(&doc["input"]["key"]);
    for m in [
        &mut public_jwk.d,
        &mut public_jwk.p,
        &mut public_jwk.q,
        &mut public_jwk.dp,
        &mut public_jwk.dq,
        &mut public_jwk.qi,
    ] {
        *m = None;
    }
    assert_eq!(decoded.verify(&PublicKey::from_jwk(&public_jwk).unwrap()), Ok(()));
    if doc["reproducible"] == true {
        let sig = private.sign(alg, doc["signing"]["sig-input"].as_str().unwrap().as_bytes()).unwrap();
        assert_eq!(tollgate_jose::b64url_encode(&sig), doc["signing"]["sig"].as_str().unwrap(), "{file} re-signed");
    }
    // Our own signature over the same input verifies too.
    let header = Header::new(alg).with_kid(private.kid());
    let ours = jws::sign(&private, &header, decoded.payload()).unwrap();
    assert_eq!(jws::decode(&ours).unwrap().verify(&public), Ok(()));
}

#[test]
fn rfc7520_4_1_rsa_v15() {
    cookbook_jws("4_1.rsa_v15_signature.json", Algorithm::Rs256);
}

#[test]
fn rfc7520_4_2_rsa_pss() {
    cookbook_jws("4_2.rsa-pss_signature.json", Algorithm::Ps384);
}

#[test]
fn rfc7520_4_3_ecdsa() {
    cookbook_jws("4_3.ecdsa_signature.json", Algorithm::Es512);
}

#[test]
fn rfc7520_4_4_hmac_is_refused() {
    let doc = vector("jose-cookbook/jws/4_4.hmac-sha2_integrity_protection.json");
    let compact = doc["output"]["compact"].as_str().unwrap();
    assert_eq!(jws::decode(compact).err(), Some(JoseError::UnsupportedAlgorithm("HS256".into())));
    let key = jwk(&doc["input"]["key"]);
    assert!(PublicKey::from_jwk(&key).is_err());
    assert!(PrivateKey::from_jwk(&key).is_err());
}

#[test]
fn rfc8037_ed25519() {
    let doc = vector("jose-cookbook/curve25519/jws.json");
    let private = PrivateKey::from_jwk(&jwk(&doc["input"]["key"])).unwrap();
    let compact = doc["output"]["compact"].as_str().unwrap();
    assert_eq!(jws::decode(compact).unwrap().verify(&private.public_key()), Ok(()));
    let sig = private.sign(Algorithm::EdDsa, doc["signing"]["sig-input"].as_str().unwrap().as_bytes()).unwrap();
    assert_eq!(tollgate_jose::b64url_encode(&sig), doc["signing"]["sig"].as_str().unwrap());
}

#[test]
fn rfc7515_appendix_a() {
    let doc = vector("jose-cookbook/rfc/rfc7515_appendix_a_jws.json");
    let mut verified = 0;
    for test in doc["tests"].as_array().unwrap() {
        let (id, compact) = (test["id"].as_str().unwrap(), test["compact"].as_str().unwrap());
        match test["alg"].as_str().unwrap() {
            "HS256" => {
                assert_eq!(jws::decode(compact).err(), Some(JoseError::UnsupportedAlgorithm("HS256".into())), "{id}")
            }
            "none" => {
                assert_eq!(jws::decode(compact).err(), Some(JoseError::UnsupportedAlgorithm("none".into())), "{id}")
            }
            _ => {
                let public = PublicKey::from_jwk(&jwk(&test["public_key"])).unwrap();
                let decoded = jws::decode(compact).unwrap();
                // A.1-A.4 headers have CRLFs and spaces; what is signed is the exact octets.
                assert_eq!(decoded.signing_input(), test["signing_input"].as_str().unwrap());
                assert_eq!(decoded.payload(), test["payload_utf8"].as_str().unwrap().as_bytes());
                assert_eq!(decoded.verify(&public), Ok(()), "{id}");
                // The private JWK imports and matches.
                assert_eq!(
                    PrivateKey::from_jwk(&jwk(&test["key"])).unwrap().public_key().with_kid(None),
                    public.clone().with_kid(None)
                );
                verified += 1;
            }
        }
    }
    assert_eq!(verified, 4, "A.2, A.3 (high-S), A.4 and RFC 8037 A.4");
}

#[test]
fn rfc7638_thumbprints() {
    let doc = vector("jose-cookbook/rfc/rfc7517_jwk_examples.json");
    let a1 = Jwks::from_json(&doc["rfc7517_A1_public_jwk_set"].to_string()).unwrap();
    let rsa = a1.keys.iter().find(|k| k.kid.as_deref() == Some("2011-04-29")).unwrap();
    let rsa = PublicKey::from_jwk(rsa).unwrap();
    assert_eq!(rsa.thumbprint(), "NzbLsXh8uDCcd-6MNwXF4W_7noWXFZAfHkxZsRGC9Xs");
    for entry in doc["thumbprints"].as_array().unwrap() {
        let name = entry["key"].as_str().unwrap();
        let key = if name.starts_with("rfc7517_A1[0]") {
            PublicKey::from_jwk(&a1.keys[0]).unwrap()
        } else if name.starts_with("rfc7517_A1[1]") {
            rsa.clone()
        } else {
            PublicKey::from_jwk(&jwk(&doc["rfc8037_A2_ed25519_public"])).unwrap()
        };
        assert_eq!(key.thumbprint(), entry["sha256_thumbprint"].as_str().unwrap(), "{name}");
    }
    // A private key's default kid is its thumbprint.
    let mut ed = jwk(&doc["rfc8037_A1_ed25519_private"]);
    ed.kid = None;
    assert_eq!(PrivateKey::from_jwk(&ed).unwrap().kid(), "kPrK_qmxVWaYVA9wwBF6Iuo3vVzz7TxHCTwXBygrS4k");
}

#[test]
fn private_jwks_import_and_re_export_the_same_members() {
    let doc = vector("jose-cookbook/rfc/rfc7517_jwk_examples.json");
    let mut private: Vec<Jwk> = Jwks::from_json(&doc["rfc7517_A2_private_jwk_set"].to_string()).unwrap().keys;
    private.push(jwk(&doc["rfc7517_C1_rsa_private_key"]));
    private.push(jwk(&doc["rfc8037_A1_ed25519_private"]));
    for file in ["3_2.ec_private_key.json", "3_4.rsa_private_key.json"] {
        private.push(jwk(&vector(&format!("jose-cookbook/jwk/{file}"))));
    }
    for original in private {
        let key = PrivateKey::from_jwk(&original).unwrap();
        let out = key.to_jwk().unwrap();
        let members =
            |j: &Jwk| (j.kty.clone(), j.crv.clone(), j.x.clone(), j.y.clone(), j.n.clone(), j.e.clone(), j.d.clone());
        assert_eq!(members(&out), members(&original));
        assert_eq!(
            (&out.p, &out.q, &out.dp, &out.dq, &out.qi),
            (&original.p, &original.q, &original.dp, &original.dq, &original.qi)
        );
        if let Some(kid) = &original.kid {
            assert_eq!(&key.kid(), kid);
        }
        // Public JWKs published in the same documents give the same public key.
        assert!(out.private_member().is_some());
        assert_eq!(key.public_key().to_jwk().private_member(), None);
    }
    for file in ["3_1.ec_public_key.json", "3_3.rsa_public_key.json"] {
        let public = jwk(&vector(&format!("jose-cookbook/jwk/{file}")));
        let key = PublicKey::from_jwk(&public).unwrap();
        let out = key.to_jwk();
        assert_eq!((out.n, out.e, out.x, out.y, out.kid), (public.n, public.e, public.x, public.y, public.kid));
    }
}

#[test]
fn public_jwks_with_enc_keys_import_but_do_not_verify_signatures() {
    let doc = vector("jose-cookbook/rfc/rfc7517_jwk_examples.json");
    let keys = Jwks::from_json(&doc["rfc7517_A1_public_jwk_set"].to_string()).unwrap().public_keys().unwrap();
    assert_eq!(keys[0].key_use(), Some("enc"));
    assert!(!keys[0].allows(Algorithm::Es256));
    assert!(keys[1].allows(Algorithm::Rs256));
    // The symmetric set is refused as a public key set.
    let sym = Jwks::from_json(&doc["rfc7517_A3_symmetric_jwk_set"].to_string()).unwrap();
    assert!(matches!(sym.public_keys(), Err(JoseError::PrivateKeyMaterial { member: "k", .. })));
    // And a private set is refused as a public one.
    let private = Jwks::from_json(&doc["rfc7517_A2_private_jwk_set"].to_string()).unwrap();
    assert!(matches!(private.public_keys(), Err(JoseError::PrivateKeyMaterial { member: "d", .. })));
}
