//! [`PublicKey`]: verification keys with their JWK metadata, and the rule that binds an algorithm to a key.
use super::{PublicMaterial, der, ec, mismatch, okp, pinned_alg, rsa};
use crate::{Algorithm, JoseError, Jwk, KeySpec};
use aws_lc_rs::signature::{self, ParsedPublicKey};
use std::sync::{Arc, OnceLock};

/// A public verification key, with the JWK metadata (`kid`, `alg`, `use`) it came with.
#[derive(Clone)]
pub struct PublicKey {
    pub(super) material: PublicMaterial,
    pub(super) kid: Option<String>,
    pub(super) alg: Option<Algorithm>,
    pub(super) use_: Option<String>,
    pub(super) key_ops: Option<Vec<String>>,
    /// The key as aws-lc parsed it, once per algorithm it has verified (shared by clones).
    pub(super) parsed: Arc<ParsedCache>,
}

/// aws-lc's parsed form of a key, made on first use for each algorithm. Building an RSA key (its
/// Montgomery context) costs about as much as one verification, so doing it once per key instead of once
/// per signature nearly doubles RS256 verification throughput.
#[derive(Default)]
pub(super) struct ParsedCache([OnceLock<Option<ParsedPublicKey>>; Algorithm::ALL.len()]);

impl PartialEq for PublicKey {
    fn eq(&self, other: &Self) -> bool {
        self.material == other.material
            && self.kid == other.kid
            && self.alg == other.alg
            && self.use_ == other.use_
            && self.key_ops == other.key_ops
    }
}

impl Eq for PublicKey {}

impl std::fmt::Debug for PublicKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PublicKey").field("kid", &self.kid()).finish_non_exhaustive()
    }
}

impl PublicKey {
    fn new(material: PublicMaterial) -> Self {
        PublicKey { material, kid: None, alg: None, use_: None, key_ops: None, parsed: Arc::default() }
    }

    /// Reads a PEM public key: SPKI (`PUBLIC KEY`) or PKCS#1 (`RSA PUBLIC KEY`).
    pub fn from_pem(pem: &str) -> Result<Self, JoseError> {
        if pem.len() > crate::jwk::MAX_JWK_TEXT_LEN {
            return Err(JoseError::TooLarge { len: pem.len(), limit: crate::jwk::MAX_JWK_TEXT_LEN });
        }
        let (label, der) = der::decode_pem(pem)?;
        match label.as_str() {
            "PUBLIC KEY" => Self::from_spki_der(&der),
            "RSA PUBLIC KEY" => Ok(Self::new(rsa::public_material_from_pkcs1(&der)?)),
            "PRIVATE KEY" | "RSA PRIVATE KEY" | "EC PRIVATE KEY" | "ENCRYPTED PRIVATE KEY" => Err(
                JoseError::InvalidKey(format!("the PEM holds a {label}; a public key (BEGIN PUBLIC KEY) was expected")),
            ),
            other => Err(JoseError::InvalidKey(format!("unsupported PEM type {other:?}"))),
        }
    }

    /// Reads an SPKI DER public key.
    pub fn from_spki_der(der: &[u8]) -> Result<Self, JoseError> {
        Ok(Self::new(der::public_from_spki(der)?))
    }

    /// Builds a key from a public JWK. Private members, symmetric (`oct`) keys, unknown `kty`/`crv`,
    /// off-curve points, RSA below 2048 bits and an `alg` that does not fit the key are all refused.
    pub fn from_jwk(jwk: &Jwk) -> Result<Self, JoseError> {
        if let Some(member) = jwk.private_member() {
            return Err(JoseError::PrivateKeyMaterial { kid: jwk.kid.clone(), member });
        }
        let material = match jwk.kty.as_str() {
            "RSA" => rsa::public_material_from_jwk(jwk)?,
            "EC" => ec::public_material_from_jwk(jwk)?,
            "OKP" => okp::public_material_from_jwk(jwk)?,
            "oct" => {
                return Err(JoseError::InvalidKey("symmetric (oct) keys cannot be public keys".into()));
            }
            other => return Err(JoseError::InvalidKey(format!("unknown kty {other:?}"))),
        };
        let alg = pinned_alg(jwk.alg.as_deref(), material.spec())?;
        Ok(PublicKey {
            material,
            kid: jwk.kid.clone(),
            alg,
            use_: jwk.use_.clone(),
            key_ops: jwk.key_ops.clone(),
            parsed: Arc::default(),
        })
    }

    /// SPKI DER.
    pub fn to_spki_der(&self) -> Result<Vec<u8>, JoseError> {
        der::spki_der(&self.material)
    }

    /// SPKI PEM (`BEGIN PUBLIC KEY`).
    pub fn to_spki_pem(&self) -> Result<String, JoseError> {
        der::encode_pem("PUBLIC KEY", &self.to_spki_der()?).map(|pem| pem.as_str().to_owned())
    }

    /// The public JWK: `kty`, key members, `kid` (if any), `alg` (if pinned), `use` (if set). Never private members.
    pub fn to_jwk(&self) -> Jwk {
        Jwk {
            kid: self.kid.clone(),
            use_: self.use_.clone(),
            alg: self.alg.map(|alg| alg.as_str().to_owned()),
            key_ops: self.key_ops.clone(),
            ..self.material.jwk()
        }
    }

    /// RFC 7638 JWK thumbprint (SHA-256, base64url).
    pub fn thumbprint(&self) -> String {
        self.material.thumbprint()
    }

    /// The key id, if the key has one.
    pub fn kid(&self) -> Option<&str> {
        self.kid.as_deref()
    }

    /// Replaces the key id.
    pub fn with_kid(mut self, kid: Option<String>) -> Self {
        self.kid = kid;
        self
    }

    /// The JWK `use`, if set (`sig`, `enc`).
    pub fn key_use(&self) -> Option<&str> {
        self.use_.as_deref()
    }

    /// The pinned JWK `alg`, if set.
    pub fn algorithm(&self) -> Option<Algorithm> {
        self.alg
    }

    /// What kind of key this is (RSA bits, curve).
    pub fn spec(&self) -> KeySpec {
        self.material.spec()
    }

    /// Whether this key may verify `alg`: the key type and curve fit, and the pinned `alg` (if any) is `alg`.
    /// A JWK `use` other than `sig`, or `key_ops` without `verify`, also rules the key out (RFC 7517 §4.2-4.3).
    pub fn allows(&self, alg: Algorithm) -> bool {
        self.spec().fits(alg)
            && self.alg.is_none_or(|pinned| pinned == alg)
            && self.use_.as_deref().is_none_or(|u| u == "sig")
            && self.key_ops.as_ref().is_none_or(|ops| ops.iter().any(|op| op == "verify"))
    }

    /// Verifies a raw signature. Fails with [`JoseError::AlgorithmMismatch`] if `!self.allows(alg)`.
    pub fn verify(&self, alg: Algorithm, message: &[u8], signature: &[u8]) -> Result<(), JoseError> {
        if !self.allows(alg) {
            return Err(mismatch(alg, self.describe()));
        }
        let slot = Algorithm::ALL.iter().position(|a| *a == alg).and_then(|i| self.parsed.0.get(i));
        let parsed = slot.and_then(|s| s.get_or_init(|| self.parse_for(alg)).as_ref());
        match parsed {
            Some(key) => key.verify_sig(message, signature).map_err(|_| JoseError::BadSignature),
            None => Err(JoseError::BadSignature),
        }
    }

    /// The key in aws-lc's parsed form for `alg` (already checked to fit the key).
    fn parse_for(&self, alg: Algorithm) -> Option<ParsedPublicKey> {
        match &self.material {
            PublicMaterial::Rsa { n, e } => {
                let spki = rsa::spki_der(n, e).ok()?;
                ParsedPublicKey::new(rsa::verification_params(alg)?, spki).ok()
            }
            PublicMaterial::Ec { curve, point } => ParsedPublicKey::new(ec::verification_alg(*curve).ok()?, point).ok(),
            PublicMaterial::Ed25519 { x } => ParsedPublicKey::new(&signature::ED25519, x).ok(),
        }
    }

    /// `RSA-2048`, `EC P-256 (alg ES256)`, ...: how errors name the key.
    pub(super) fn describe(&self) -> String {
        let mut out = self.spec().to_string();
        if let Some(alg) = self.alg {
            out.push_str(&format!(" (alg {alg})"));
        }
        if let Some(use_) = &self.use_ {
            out.push_str(&format!(" (use {use_:?})"));
        }
        if let Some(ops) = &self.key_ops {
            out.push_str(&format!(" (key_ops {ops:?})"));
        }
        out
    }
}
