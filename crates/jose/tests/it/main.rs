//! Integration tests for `tollgate-jose`: published vectors, interop with openssl and jsonwebtoken,
//! and property tests. One binary, so the crate is linked once.
// Test code: a failed unwrap is a failed test (the library itself denies these lints).
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
mod cookbook;
mod openssl;
mod oracle;
mod props;
mod wycheproof;

use std::path::PathBuf;
use std::sync::OnceLock;

use tollgate_jose::{Curve, KeySpec, PrivateKey};

/// `tests/vectors/<rel>` parsed as JSON.
pub fn vector(rel: &str) -> serde_json::Value {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/vectors").join(rel);
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    serde_json::from_str(&text).unwrap()
}

pub fn hex(text: &str) -> Vec<u8> {
    assert!(text.len().is_multiple_of(2), "odd hex length");
    (0..text.len()).step_by(2).map(|i| u8::from_str_radix(&text[i..i + 2], 16).unwrap()).collect()
}

/// One key of every kind, generated once per test binary (RSA generation is slow in debug builds).
pub struct Keys {
    pub rsa2048: PrivateKey,
    pub p256: PrivateKey,
    pub p384: PrivateKey,
    pub p521: PrivateKey,
    pub ed25519: PrivateKey,
}

pub fn keys() -> &'static Keys {
    static KEYS: OnceLock<Keys> = OnceLock::new();
    KEYS.get_or_init(|| Keys {
        rsa2048: PrivateKey::generate(KeySpec::Rsa { bits: 2048 }).unwrap(),
        p256: PrivateKey::generate(KeySpec::Ec(Curve::P256)).unwrap(),
        p384: PrivateKey::generate(KeySpec::Ec(Curve::P384)).unwrap(),
        p521: PrivateKey::generate(KeySpec::Ec(Curve::P521)).unwrap(),
        ed25519: PrivateKey::generate(KeySpec::Ed25519).unwrap(),
    })
}

impl Keys {
    /// The key that signs `alg`.
    pub fn for_alg(&self, alg: tollgate_jose::Algorithm) -> &PrivateKey {
        match KeySpec::for_algorithm(alg, 2048) {
            KeySpec::Rsa { .. } => &self.rsa2048,
            KeySpec::Ec(Curve::P256) => &self.p256,
            KeySpec::Ec(Curve::P384) => &self.p384,
            KeySpec::Ec(Curve::P521) => &self.p521,
            _ => &self.ed25519,
        }
    }
}
