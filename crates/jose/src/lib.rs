//! `tollgate-jose`: the JOSE layer every other tollgate crate signs and verifies through.
//!
//! * [`key`]: RSA / EC / Ed25519 key pairs and public keys; PEM, DER, JWK conversion; RFC 7638 thumbprints.
//! * [`jwk`]: the JWK and JWKS wire types.
//! * [`jws`]: compact JWS sign and strict decode + verify (RFC 7515, with RFC 8725's rules).
//! * [`claims`]: JWT claims (RFC 7519) and their validation against an explicit clock.
//!
//! All cryptography is aws-lc-rs; ASN.1, PEM, base64 and JSON come from crates. The crate does no I/O,
//! has no async and no clock of its own: time is always passed in, so that tests and the server agree on it.
#![allow(clippy::todo)] // SKELETON: removed once implemented

pub mod alg;
pub mod claims;
pub mod error;
pub mod jwk;
pub mod jws;
pub mod key;

pub use alg::{Algorithm, Curve, KeySpec};
pub use claims::{Audience, Claims, ClaimsError, Validation};
pub use error::JoseError;
pub use jwk::{Jwk, Jwks};
pub use jws::{Header, Jws};
pub use key::{PrivateKey, PublicKey};

/// Strict base64url (RFC 4648 §5, no padding, canonical trailing bits) encoding.
pub fn b64url_encode(bytes: &[u8]) -> String {
    todo!()
}

/// Strict base64url decoding: no padding, no whitespace, no non-canonical trailing bits.
pub fn b64url_decode(text: &str) -> Result<Vec<u8>, JoseError> {
    todo!()
}

/// SHA-256 of `bytes`, base64url encoded (used for DPoP `ath` and RFC 7638 thumbprints).
pub fn sha256_b64url(bytes: &[u8]) -> String {
    todo!()
}
