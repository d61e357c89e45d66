//! Key pairs and public keys: generation, PEM/DER/JWK import and export, thumbprints, raw sign/verify.
//!
//! A [`PrivateKey`] always has a `kid` (the RFC 7638 thumbprint unless one was given). A [`PublicKey`]
//! made from a JWK keeps that JWK's `kid`, `alg` and `use`; its `alg`, when pinned, restricts what it
//! verifies. Private material is never printed by `Debug` and is zeroized where we hold it.
//!
//! [`PublicKey`] lives in `public`; the per-type details in `rsa`, `ec` and `okp`; `der` reads and writes the containers
//! (PEM, PKCS#8, SPKI).
use aws_lc_rs::signature::KeyPair as _;
use zeroize::Zeroizing;

use crate::{Algorithm, Curve, JoseError, Jwk, KeySpec};

mod der;
mod ec;
mod okp;
mod public;
mod rsa;
mod rsa_crt;

pub use public::PublicKey;

/// The public half of a key, in the form the JWK members are made from.
#[derive(Clone, PartialEq, Eq)]
pub(crate) enum PublicMaterial {
    /// Big-endian `n` and `e`, without leading zero bytes.
    Rsa { n: Vec<u8>, e: Vec<u8> },
    /// The uncompressed SEC1 point `04 || x || y`, checked to be on `curve`.
    Ec { curve: Curve, point: Vec<u8> },
    /// The 32-byte Ed25519 public key.
    Ed25519 { x: Vec<u8> },
}

impl PublicMaterial {
    pub(super) fn spec(&self) -> KeySpec {
        match self {
            PublicMaterial::Rsa { n, .. } => KeySpec::Rsa { bits: rsa::bits(n) },
            PublicMaterial::Ec { curve, .. } => KeySpec::Ec(*curve),
            PublicMaterial::Ed25519 { .. } => KeySpec::Ed25519,
        }
    }

    /// The public JWK members (`kty` and the key members only).
    pub(super) fn jwk(&self) -> Jwk {
        let b64 = crate::b64url_encode;
        match self {
            PublicMaterial::Rsa { n, e } => {
                Jwk { kty: "RSA".into(), n: Some(b64(n)), e: Some(b64(e)), ..Jwk::default() }
            }
            PublicMaterial::Ec { curve, point } => {
                let (x, y) = ec::coordinates(*curve, point);
                Jwk {
                    kty: "EC".into(),
                    crv: Some(curve.as_str().into()),
                    x: Some(b64(x)),
                    y: Some(b64(y)),
                    ..Jwk::default()
                }
            }
            PublicMaterial::Ed25519 { x } => {
                Jwk { kty: "OKP".into(), crv: Some("Ed25519".into()), x: Some(b64(x)), ..Jwk::default() }
            }
        }
    }

    /// RFC 7638 §3: the required members, in lexicographic order, without whitespace, hashed with SHA-256.
    pub(super) fn thumbprint(&self) -> String {
        let jwk = self.jwk();
        let (x, y, n, e) = (
            jwk.x.unwrap_or_default(),
            jwk.y.unwrap_or_default(),
            jwk.n.unwrap_or_default(),
            jwk.e.unwrap_or_default(),
        );
        let canonical = match self {
            PublicMaterial::Rsa { .. } => format!(r#"{{"e":"{e}","kty":"RSA","n":"{n}"}}"#),
            PublicMaterial::Ec { curve, .. } => {
                format!(r#"{{"crv":"{}","kty":"EC","x":"{x}","y":"{y}"}}"#, curve.as_str())
            }
            PublicMaterial::Ed25519 { .. } => {
                format!(r#"{{"crv":"Ed25519","kty":"OKP","x":"{x}"}}"#)
            }
        };
        crate::sha256_b64url(canonical.as_bytes())
    }
}

/// The key pair that does the signing.
enum Signer {
    Rsa(aws_lc_rs::rsa::KeyPair),
    Ec(Curve, aws_lc_rs::signature::EcdsaKeyPair),
    Ed25519(aws_lc_rs::signature::Ed25519KeyPair),
}

impl Signer {
    fn public_material(&self) -> Result<PublicMaterial, JoseError> {
        match self {
            Signer::Rsa(kp) => rsa::public_material_from_pkcs1(kp.public_key().as_ref()),
            Signer::Ec(curve, kp) => ec::public_material(*curve, kp.public_key().as_ref()),
            Signer::Ed25519(kp) => okp::public_material(kp.public_key().as_ref()),
        }
    }
}

pub(super) fn mismatch(alg: Algorithm, key: impl std::fmt::Display) -> JoseError {
    JoseError::AlgorithmMismatch { alg: alg.as_str().into(), key: key.to_string() }
}

/// A pinned JWK `alg`, which must name a supported algorithm that fits the key.
pub(super) fn pinned_alg(name: Option<&str>, spec: KeySpec) -> Result<Option<Algorithm>, JoseError> {
    let Some(name) = name else { return Ok(None) };
    let alg = Algorithm::from_name(name)?;
    if !spec.fits(alg) {
        return Err(mismatch(alg, spec));
    }
    Ok(Some(alg))
}

/// A private signing key (RSA, ECDSA P-256/384/521 or Ed25519) with its `kid` and default algorithm.
pub struct PrivateKey {
    signer: Signer,
    public: PublicMaterial,
    kid: String,
    alg: Option<Algorithm>,
}

impl std::fmt::Debug for PrivateKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PrivateKey").field("kid", &self.kid()).finish_non_exhaustive()
    }
}

impl PrivateKey {
    fn from_signer(signer: Signer) -> Result<Self, JoseError> {
        let public = signer.public_material()?;
        let kid = public.thumbprint();
        Ok(PrivateKey { signer, public, kid, alg: None })
    }

    /// Generates a new key: RSA 2048/3072/4096 (e = 65537), P-256/384/521, or Ed25519.
    pub fn generate(spec: KeySpec) -> Result<Self, JoseError> {
        let signer = match spec {
            KeySpec::Rsa { bits } => Signer::Rsa(rsa::generate(bits)?),
            KeySpec::Ec(Curve::Ed25519) | KeySpec::Ed25519 => Signer::Ed25519(okp::generate()?),
            KeySpec::Ec(curve) => Signer::Ec(curve, ec::generate(curve)?),
        };
        Self::from_signer(signer)
    }

    /// Reads a PEM private key: PKCS#8 (`PRIVATE KEY`), PKCS#1 (`RSA PRIVATE KEY`) or SEC1
    /// (`EC PRIVATE KEY`). RSA below 2048 bits is refused.
    pub fn from_pem(pem: &str) -> Result<Self, JoseError> {
        if pem.len() > crate::jwk::MAX_JWK_TEXT_LEN {
            return Err(JoseError::TooLarge { len: pem.len(), limit: crate::jwk::MAX_JWK_TEXT_LEN });
        }
        let (label, der) = der::decode_pem(pem)?;
        let signer = match label.as_str() {
            "PRIVATE KEY" => der::signer_from_pkcs8(&der)?,
            "RSA PRIVATE KEY" => Signer::Rsa(rsa::from_pkcs1_der(&der)?),
            "EC PRIVATE KEY" => {
                let (curve, kp) = ec::from_sec1_der(&der)?;
                Signer::Ec(curve, kp)
            }
            "ENCRYPTED PRIVATE KEY" => {
                return Err(JoseError::Unsupported("encrypted PKCS#8; decrypt it first (openssl pkey)".into()));
            }
            "PUBLIC KEY" | "RSA PUBLIC KEY" | "CERTIFICATE" => {
                return Err(JoseError::InvalidKey(format!("the PEM holds a {label}, not a private key")));
            }
            other => {
                return Err(JoseError::InvalidKey(format!("unsupported PEM type {other:?}")));
            }
        };
        Self::from_signer(signer)
    }

    /// Reads a PKCS#8 DER private key.
    pub fn from_pkcs8_der(der: &[u8]) -> Result<Self, JoseError> {
        Self::from_signer(der::signer_from_pkcs8(der)?)
    }

    /// Builds a key from a private JWK (RSA with or without CRT members, EC, OKP/Ed25519). Its `kid` and
    /// `alg` are kept (an `alg` that does not fit the key is an error).
    pub fn from_jwk(jwk: &Jwk) -> Result<Self, JoseError> {
        let signer = match jwk.kty.as_str() {
            "RSA" => Signer::Rsa(rsa::from_jwk(jwk)?),
            "EC" => {
                let (curve, kp) = ec::from_jwk(jwk)?;
                Signer::Ec(curve, kp)
            }
            "OKP" => Signer::Ed25519(okp::from_jwk(jwk)?),
            "oct" => {
                return Err(JoseError::InvalidKey("symmetric (oct) keys are not supported".into()));
            }
            other => return Err(JoseError::InvalidKey(format!("unknown kty {other:?}"))),
        };
        let mut key = Self::from_signer(signer)?;
        key.alg = pinned_alg(jwk.alg.as_deref(), key.spec())?;
        if let Some(kid) = &jwk.kid {
            key.kid.clone_from(kid);
        }
        Ok(key)
    }

    /// Reads a private key from text that is either PEM or a JWK JSON object (what `PRIVATE_KEY` holds).
    pub fn parse(text: &str) -> Result<Self, JoseError> {
        if text.len() > crate::jwk::MAX_JWK_TEXT_LEN {
            return Err(JoseError::TooLarge { len: text.len(), limit: crate::jwk::MAX_JWK_TEXT_LEN });
        }
        let trimmed = text.trim();
        if trimmed.starts_with('{') {
            let jwk = Jwk::from_json(trimmed)?;
            Self::from_jwk(&jwk)
        } else if trimmed.contains("-----BEGIN ") {
            Self::from_pem(trimmed)
        } else {
            Err(JoseError::InvalidKey("expected a PEM private key or a JWK JSON object".into()))
        }
    }

    /// PKCS#8 v1 DER.
    pub fn to_pkcs8_der(&self) -> Result<Zeroizing<Vec<u8>>, JoseError> {
        match &self.signer {
            Signer::Rsa(kp) => rsa::to_pkcs8(kp),
            Signer::Ec(_, kp) => ec::to_pkcs8(kp),
            Signer::Ed25519(kp) => okp::to_pkcs8(kp),
        }
    }

    /// PKCS#8 PEM (`BEGIN PRIVATE KEY`).
    pub fn to_pkcs8_pem(&self) -> Result<Zeroizing<String>, JoseError> {
        der::encode_pem("PRIVATE KEY", &self.to_pkcs8_der()?)
    }

    /// The traditional PEM: PKCS#1 (`BEGIN RSA PRIVATE KEY`) for RSA, SEC1 (`BEGIN EC PRIVATE KEY`) for EC.
    /// Ed25519 has none: [`JoseError::Unsupported`].
    pub fn to_traditional_pem(&self) -> Result<Zeroizing<String>, JoseError> {
        match &self.signer {
            Signer::Rsa(kp) => der::encode_pem("RSA PRIVATE KEY", &rsa::to_pkcs1(kp)?),
            Signer::Ec(_, kp) => der::encode_pem("EC PRIVATE KEY", &ec::to_sec1(kp)?),
            Signer::Ed25519(_) => {
                Err(JoseError::Unsupported("Ed25519 keys have no traditional PEM; use PKCS#8".into()))
            }
        }
    }

    /// The private JWK (RSA with all CRT members), with `kid`, and `alg` if one is pinned.
    pub fn to_jwk(&self) -> Result<Jwk, JoseError> {
        let mut jwk = self.public.jwk();
        match &self.signer {
            Signer::Rsa(kp) => rsa::add_private_members(kp, &mut jwk)?,
            Signer::Ec(_, kp) => jwk.d = Some(ec::private_scalar_b64(kp)?),
            Signer::Ed25519(kp) => jwk.d = Some(okp::seed_b64(kp)?),
        }
        jwk.kid = Some(self.kid.clone());
        jwk.alg = self.alg.map(|alg| alg.as_str().to_owned());
        Ok(jwk)
    }

    /// The matching public key, carrying this key's `kid` and pinned `alg`.
    pub fn public_key(&self) -> crate::PublicKey {
        PublicKey {
            material: self.public.clone(),
            kid: Some(self.kid.clone()),
            alg: self.alg,
            use_: None,
            key_ops: None,
            parsed: Default::default(),
        }
    }

    /// The key id: the one given, or the RFC 7638 thumbprint of the public key.
    pub fn kid(&self) -> &str {
        &self.kid
    }

    /// Replaces the key id.
    pub fn with_kid(mut self, kid: impl Into<String>) -> Self {
        self.kid = kid.into();
        self
    }

    /// Pins the algorithm this key signs with; an algorithm that does not fit the key is an error.
    pub fn with_algorithm(mut self, alg: Algorithm) -> Result<Self, JoseError> {
        if !self.spec().fits(alg) {
            return Err(mismatch(alg, self.spec()));
        }
        self.alg = Some(alg);
        Ok(self)
    }

    /// The pinned algorithm, or the key's default ([`KeySpec::default_algorithm`]).
    pub fn algorithm(&self) -> Algorithm {
        self.alg.unwrap_or_else(|| self.spec().default_algorithm())
    }

    /// What kind of key this is (RSA bits, curve).
    pub fn spec(&self) -> KeySpec {
        self.public.spec()
    }

    /// Signs `message` with `alg` (which must fit the key). ES* signatures are raw `r || s` (RFC 7518).
    pub fn sign(&self, alg: Algorithm, message: &[u8]) -> Result<Vec<u8>, JoseError> {
        if !self.spec().fits(alg) || self.alg.is_some_and(|pinned| pinned != alg) {
            return Err(mismatch(alg, self.public_key().describe()));
        }
        let failed = |_| JoseError::InvalidKey("the signing operation failed".into());
        match &self.signer {
            Signer::Rsa(kp) => rsa::sign(kp, alg, message),
            Signer::Ec(_, kp) => {
                kp.sign(&aws_lc_rs::rand::SystemRandom::new(), message).map(|sig| sig.as_ref().to_vec()).map_err(failed)
            }
            Signer::Ed25519(kp) => kp.try_sign(message).map(|sig| sig.as_ref().to_vec()).map_err(failed),
        }
    }
}

#[cfg(test)]
mod tests;
