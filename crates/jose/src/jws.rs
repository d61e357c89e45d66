//! Compact JWS (RFC 7515), small and strict.
//!
//! Decoding refuses: anything but three base64url parts, non-canonical base64url, a header or payload
//! that is not a JSON object (when parsed as claims), duplicate member names, `alg` `none`/`HS*`/unknown,
//! `crit` with anything (we understand no extensions, `b64` included), and inputs over [`MAX_TOKEN_LEN`].
//! The header's `jwk`, `jku`, `x5u` and `x5c` are exposed for protocols that need them (DPoP) but are
//! never used by [`Jws::verify`] to find a key: the caller always supplies the key.
use crate::{Algorithm, JoseError, Jwk, PrivateKey, PublicKey};

/// Largest compact JWS accepted, in bytes.
pub const MAX_TOKEN_LEN: usize = 16 * 1024;

/// A protected header.
#[derive(Debug, Clone, PartialEq)]
pub struct Header {
    pub alg: Algorithm,
    pub kid: Option<String>,
    pub typ: Option<String>,
    /// An embedded public key (DPoP proofs). Never used to verify unless the caller chooses it explicitly.
    pub jwk: Option<Jwk>,
    /// Every other member, kept as sent.
    pub other: serde_json::Map<String, serde_json::Value>,
}

impl Header {
    /// A header with only `alg`.
    pub fn new(alg: Algorithm) -> Self {
        Header { alg, kid: None, typ: None, jwk: None, other: serde_json::Map::new() }
    }
    /// Sets `kid`.
    pub fn with_kid(mut self, kid: impl Into<String>) -> Self {
        self.kid = Some(kid.into());
        self
    }
    /// Sets `typ`.
    pub fn with_typ(mut self, typ: impl Into<String>) -> Self {
        self.typ = Some(typ.into());
        self
    }
    /// Sets `jwk` (must be a public JWK).
    pub fn with_jwk(mut self, jwk: Jwk) -> Self {
        self.jwk = Some(jwk);
        self
    }
}

/// Signs `payload` as a compact JWS with `header` (whose `alg` must fit `key`).
pub fn sign(key: &PrivateKey, header: &Header, payload: &[u8]) -> Result<String, JoseError> {
    todo!()
}

/// Serializes `claims` to JSON and signs it: a JWT.
pub fn sign_json<T: serde::Serialize>(key: &PrivateKey, header: &Header, claims: &T) -> Result<String, JoseError> {
    todo!()
}

/// A decoded, not yet verified, compact JWS.
#[derive(Debug, Clone)]
pub struct Jws<'a> {
    _token: &'a str,
}

/// Strictly decodes a compact JWS without verifying it.
pub fn decode(token: &str) -> Result<Jws<'_>, JoseError> {
    todo!()
}

impl<'a> Jws<'a> {
    /// The protected header.
    pub fn header(&self) -> &Header {
        todo!()
    }
    /// The decoded payload bytes.
    pub fn payload(&self) -> &[u8] {
        todo!()
    }
    /// The payload parsed as a JSON object (strict: no duplicate members) into `T`. Not verified!
    pub fn claims<T: serde::de::DeserializeOwned>(&self) -> Result<T, JoseError> {
        todo!()
    }
    /// `BASE64URL(header) || '.' || BASE64URL(payload)`.
    pub fn signing_input(&self) -> &'a str {
        todo!()
    }
    /// The raw signature bytes.
    pub fn signature(&self) -> &[u8] {
        todo!()
    }
    /// Verifies the signature with `key`, after checking that the header's `alg` fits the key.
    pub fn verify(&self, key: &PublicKey) -> Result<(), JoseError> {
        todo!()
    }
}
