//! Interop with the `openssl` command line: keys it writes load here, keys we write load there,
//! and signatures cross over.
use std::path::Path;
use std::process::Command;

use tollgate_jose::{Algorithm, Curve, KeySpec, PrivateKey, PublicKey};

fn openssl(dir: &Path, args: &[&str]) -> Vec<u8> {
    let out = Command::new("openssl").args(args).current_dir(dir).output().expect("the openssl CLI is installed");
    assert!(out.status.success(), "openssl {args:?}: {}", String::from_utf8_lossy(&out.stderr));
    out.stdout
}

fn read(dir: &Path, name: &str) -> String {
    std::fs::read_to_string(dir.join(name)).unwrap()
}

/// Loads `key.pem` (written by openssl), checks the label, signs with `alg`, and verifies with the
/// SPKI that `openssl pkey -pubout` derives from it.
fn load_sign_verify(dir: &Path, label: &str, alg: Algorithm, spec: KeySpec) {
    let pem = read(dir, "key.pem");
    assert!(pem.contains(&format!("-----BEGIN {label}-----")), "{pem}");
    let key = PrivateKey::from_pem(&pem).unwrap();
    assert_eq!(key.spec(), spec);
    openssl(dir, &["pkey", "-in", "key.pem", "-pubout", "-out", "pub.pem"]);
    let public = PublicKey::from_pem(&read(dir, "pub.pem")).unwrap();
    assert_eq!(public.to_jwk().n, key.public_key().to_jwk().n);
    assert_eq!(public.thumbprint(), key.kid());
    let sig = key.sign(alg, b"interop").unwrap();
    assert_eq!(public.verify(alg, b"interop", &sig), Ok(()), "{label} {alg}");
}

#[test]
fn openssl_keys_load_sign_and_verify() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    openssl(d, &["genpkey", "-algorithm", "RSA", "-pkeyopt", "rsa_keygen_bits:2048", "-out", "key.pem"]);
    load_sign_verify(d, "PRIVATE KEY", Algorithm::Ps256, KeySpec::Rsa { bits: 2048 });
    openssl(d, &["genrsa", "-traditional", "-out", "key.pem", "2048"]);
    load_sign_verify(d, "RSA PRIVATE KEY", Algorithm::Rs512, KeySpec::Rsa { bits: 2048 });
    for (name, curve, alg) in [
        ("P-256", Curve::P256, Algorithm::Es256),
        ("P-384", Curve::P384, Algorithm::Es384),
        ("P-521", Curve::P521, Algorithm::Es512),
    ] {
        openssl(
            d,
            &["genpkey", "-algorithm", "EC", "-pkeyopt", &format!("ec_paramgen_curve:{name}"), "-out", "key.pem"],
        );
        load_sign_verify(d, "PRIVATE KEY", alg, KeySpec::Ec(curve));
    }
    for (name, curve, alg) in [
        ("prime256v1", Curve::P256, Algorithm::Es256),
        ("secp384r1", Curve::P384, Algorithm::Es384),
        ("secp521r1", Curve::P521, Algorithm::Es512),
    ] {
        // Without -noout, ecparam writes an EC PARAMETERS block before the key: we must skip it.
        openssl(d, &["ecparam", "-name", name, "-genkey", "-out", "key.pem"]);
        load_sign_verify(d, "EC PRIVATE KEY", alg, KeySpec::Ec(curve));
    }
    openssl(d, &["genpkey", "-algorithm", "ed25519", "-out", "key.pem"]);
    load_sign_verify(d, "PRIVATE KEY", Algorithm::EdDsa, KeySpec::Ed25519);
}

#[test]
fn openssl_rsa_public_key_pem_loads() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let key = &crate::keys().rsa2048;
    std::fs::write(d.join("key.pem"), key.to_pkcs8_pem().unwrap().as_bytes()).unwrap();
    openssl(d, &["rsa", "-in", "key.pem", "-RSAPublicKey_out", "-out", "rsapub.pem"]);
    let pem = read(d, "rsapub.pem");
    assert!(pem.contains("BEGIN RSA PUBLIC KEY"));
    assert_eq!(PublicKey::from_pem(&pem).unwrap().thumbprint(), key.kid());
}

#[test]
fn our_keys_load_in_openssl() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let keys = crate::keys();
    for key in [&keys.rsa2048, &keys.p256, &keys.p384, &keys.p521, &keys.ed25519] {
        let spki = key.public_key().to_spki_pem().unwrap();
        std::fs::write(d.join("pub.pem"), &spki).unwrap();
        let mut pems = vec![("PRIVATE KEY", key.to_pkcs8_pem().unwrap())];
        if key.spec() != KeySpec::Ed25519 {
            pems.push(("traditional", key.to_traditional_pem().unwrap()));
        }
        for (what, pem) in pems {
            std::fs::write(d.join("key.pem"), pem.as_bytes()).unwrap();
            // openssl parses it and derives the same public key we did.
            let derived = openssl(d, &["pkey", "-in", "key.pem", "-pubout"]);
            assert_eq!(String::from_utf8(derived).unwrap(), spki, "{:?} {what}", key.spec());
        }
        let text = openssl(d, &["pkey", "-pubin", "-in", "pub.pem", "-noout", "-text"]);
        assert!(!text.is_empty());
        // DER PKCS#8 too.
        std::fs::write(d.join("key.der"), key.to_pkcs8_der().unwrap().as_slice()).unwrap();
        openssl(d, &["pkey", "-inform", "DER", "-in", "key.der", "-noout"]);
    }
}

#[test]
fn openssl_signatures_verify_with_ours() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    openssl(d, &["genpkey", "-algorithm", "RSA", "-pkeyopt", "rsa_keygen_bits:2048", "-out", "key.pem"]);
    openssl(d, &["pkey", "-in", "key.pem", "-pubout", "-out", "pub.pem"]);
    std::fs::write(d.join("msg"), b"eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJ4In0").unwrap();
    let public = PublicKey::from_pem(&read(d, "pub.pem")).unwrap();
    let sig = openssl(d, &["dgst", "-sha256", "-sign", "key.pem", "msg"]);
    assert_eq!(public.verify(Algorithm::Rs256, b"eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJ4In0", &sig), Ok(()));
    // PS256 as JWS defines it: MGF1-SHA256, salt = 32.
    let pss = openssl(
        d,
        &[
            "dgst",
            "-sha256",
            "-sign",
            "key.pem",
            "-sigopt",
            "rsa_padding_mode:pss",
            "-sigopt",
            "rsa_pss_saltlen:32",
            "msg",
        ],
    );
    assert_eq!(public.verify(Algorithm::Ps256, b"eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJ4In0", &pss), Ok(()));
    // And the other way: openssl verifies our RS256 signature.
    let key = PrivateKey::from_pem(&read(d, "key.pem")).unwrap();
    std::fs::write(d.join("sig"), key.sign(Algorithm::Rs256, b"eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJ4In0").unwrap())
        .unwrap();
    let out = openssl(d, &["dgst", "-sha256", "-verify", "pub.pem", "-signature", "sig", "msg"]);
    assert!(String::from_utf8_lossy(&out).contains("Verified OK"));
}
