//! Key pairs and public keys: generation, PEM/DER/JWK import and export, thumbprints, raw sign/verify.
//!
//! A [`PrivateKey`] always has a `kid` (the RFC 7638 thumbprint unless one was given). A [`PublicKey`]
//! made from a JWK keeps that JWK's `kid`, `alg` and `use`; its `alg`, when pinned, restricts what it
//! verifies. Private material is never printed by `Debug` and is zeroized where we hold it.
use crate::{Algorithm, JoseError, Jwk, KeySpec};

/// A private signing key (RSA, ECDSA P-256/384/521 or Ed25519) with its `kid` and default algorithm.
pub struct PrivateKey {
    _private: (),
}

impl std::fmt::Debug for PrivateKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PrivateKey").field("kid", &self.kid()).finish_non_exhaustive()
    }
}

impl PrivateKey {
    /// Generates a new key: RSA 2048/3072/4096 (e = 65537), P-256/384/521, or Ed25519.
    pub fn generate(spec: KeySpec) -> Result<Self, JoseError> {
        todo!()
    }

    /// Reads a PEM private key: PKCS#8 (`PRIVATE KEY`), PKCS#1 (`RSA PRIVATE KEY`) or SEC1
    /// (`EC PRIVATE KEY`). RSA below 2048 bits is refused.
    pub fn from_pem(pem: &str) -> Result<Self, JoseError> {
        todo!()
    }

    /// Reads a PKCS#8 DER private key.
    pub fn from_pkcs8_der(der: &[u8]) -> Result<Self, JoseError> {
        todo!()
    }

    /// Builds a key from a private JWK (RSA with or without CRT members, EC, OKP/Ed25519). Its `kid` and
    /// `alg` are kept (an `alg` that does not fit the key is an error).
    pub fn from_jwk(jwk: &Jwk) -> Result<Self, JoseError> {
        todo!()
    }

    /// Reads a private key from text that is either PEM or a JWK JSON object (what `PRIVATE_KEY` holds).
    pub fn parse(text: &str) -> Result<Self, JoseError> {
        todo!()
    }

    /// PKCS#8 v1 DER.
    pub fn to_pkcs8_der(&self) -> Result<zeroize::Zeroizing<Vec<u8>>, JoseError> {
        todo!()
    }

    /// PKCS#8 PEM (`BEGIN PRIVATE KEY`).
    pub fn to_pkcs8_pem(&self) -> Result<zeroize::Zeroizing<String>, JoseError> {
        todo!()
    }

    /// The traditional PEM: PKCS#1 (`BEGIN RSA PRIVATE KEY`) for RSA, SEC1 (`BEGIN EC PRIVATE KEY`) for EC.
    /// Ed25519 has none: [`JoseError::Unsupported`].
    pub fn to_traditional_pem(&self) -> Result<zeroize::Zeroizing<String>, JoseError> {
        todo!()
    }

    /// The private JWK (RSA with all CRT members), with `kid`, and `alg` if one is pinned.
    pub fn to_jwk(&self) -> Result<Jwk, JoseError> {
        todo!()
    }

    /// The matching public key, carrying this key's `kid` and pinned `alg`.
    pub fn public_key(&self) -> crate::PublicKey {
        todo!()
    }

    /// The key id: the one given, or the RFC 7638 thumbprint of the public key.
    pub fn kid(&self) -> &str {
        todo!()
    }

    /// Replaces the key id.
    pub fn with_kid(self, kid: impl Into<String>) -> Self {
        todo!()
    }

    /// Pins the algorithm this key signs with; an algorithm that does not fit the key is an error.
    pub fn with_algorithm(self, alg: Algorithm) -> Result<Self, JoseError> {
        todo!()
    }

    /// The pinned algorithm, or the key's default ([`KeySpec::default_algorithm`]).
    pub fn algorithm(&self) -> Algorithm {
        todo!()
    }

    /// What kind of key this is (RSA bits, curve).
    pub fn spec(&self) -> KeySpec {
        todo!()
    }

    /// Signs `message` with `alg` (which must fit the key). ES* signatures are raw `r || s` (RFC 7518).
    pub fn sign(&self, alg: Algorithm, message: &[u8]) -> Result<Vec<u8>, JoseError> {
        todo!()
    }
}

/// A public verification key, with the JWK metadata (`kid`, `alg`, `use`) it came with.
#[derive(Clone, PartialEq, Eq)]
pub struct PublicKey {
    _private: (),
}

impl std::fmt::Debug for PublicKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PublicKey").field("kid", &self.kid()).finish_non_exhaustive()
    }
}

impl PublicKey {
    /// Reads a PEM public key: SPKI (`PUBLIC KEY`) or PKCS#1 (`RSA PUBLIC KEY`).
    pub fn from_pem(pem: &str) -> Result<Self, JoseError> {
        todo!()
    }

    /// Reads an SPKI DER public key.
    pub fn from_spki_der(der: &[u8]) -> Result<Self, JoseError> {
        todo!()
    }

    /// Builds a key from a public JWK. Private members, symmetric (`oct`) keys, unknown `kty`/`crv`,
    /// off-curve points, RSA below 2048 bits and an `alg` that does not fit the key are all refused.
    pub fn from_jwk(jwk: &Jwk) -> Result<Self, JoseError> {
        todo!()
    }

    /// SPKI DER.
    pub fn to_spki_der(&self) -> Result<Vec<u8>, JoseError> {
        todo!()
    }

    /// SPKI PEM (`BEGIN PUBLIC KEY`).
    pub fn to_spki_pem(&self) -> Result<String, JoseError> {
        todo!()
    }

    /// The public JWK: `kty`, key members, `kid` (if any), `alg` (if pinned), `use` (if set). Never private members.
    pub fn to_jwk(&self) -> Jwk {
        todo!()
    }

    /// RFC 7638 JWK thumbprint (SHA-256, base64url).
    pub fn thumbprint(&self) -> String {
        todo!()
    }

    /// The key id, if the key has one.
    pub fn kid(&self) -> Option<&str> {
        todo!()
    }

    /// Replaces the key id.
    pub fn with_kid(self, kid: Option<String>) -> Self {
        todo!()
    }

    /// The JWK `use`, if set (`sig`, `enc`).
    pub fn key_use(&self) -> Option<&str> {
        todo!()
    }

    /// The pinned JWK `alg`, if set.
    pub fn algorithm(&self) -> Option<Algorithm> {
        todo!()
    }

    /// What kind of key this is (RSA bits, curve).
    pub fn spec(&self) -> KeySpec {
        todo!()
    }

    /// Whether this key may verify `alg`: the key type and curve fit, and the pinned `alg` (if any) is `alg`.
    pub fn allows(&self, alg: Algorithm) -> bool {
        todo!()
    }

    /// Verifies a raw signature. Fails with [`JoseError::AlgorithmMismatch`] if `!self.allows(alg)`.
    pub fn verify(&self, alg: Algorithm, message: &[u8], signature: &[u8]) -> Result<(), JoseError> {
        todo!()
    }
}
