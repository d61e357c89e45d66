//! Signature algorithms and the key shapes they belong to.
//!
//! An [`Algorithm`] is always checked against the key that is to verify it ([`crate::PublicKey::allows`]):
//! the `alg` in a JWS header is a claim by the sender, never a choice the verifier follows (RFC 8725 §3.1).
use crate::JoseError;

/// The JWS algorithms tollgate signs and verifies. `none` and `HS*` do not exist here on purpose.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Algorithm {
    Rs256,
    Rs384,
    Rs512,
    Ps256,
    Ps384,
    Ps512,
    Es256,
    Es384,
    Es512,
    EdDsa,
}

impl Algorithm {
    /// Every supported algorithm, in a stable order.
    pub const ALL: [Algorithm; 10] = [
        Algorithm::Rs256,
        Algorithm::Rs384,
        Algorithm::Rs512,
        Algorithm::Ps256,
        Algorithm::Ps384,
        Algorithm::Ps512,
        Algorithm::Es256,
        Algorithm::Es384,
        Algorithm::Es512,
        Algorithm::EdDsa,
    ];

    /// The JOSE name (`RS256`, ..., `EdDSA`).
    pub fn as_str(self) -> &'static str {
        match self {
            Algorithm::Rs256 => "RS256",
            Algorithm::Rs384 => "RS384",
            Algorithm::Rs512 => "RS512",
            Algorithm::Ps256 => "PS256",
            Algorithm::Ps384 => "PS384",
            Algorithm::Ps512 => "PS512",
            Algorithm::Es256 => "ES256",
            Algorithm::Es384 => "ES384",
            Algorithm::Es512 => "ES512",
            Algorithm::EdDsa => "EdDSA",
        }
    }

    /// Parses a JOSE `alg` name. `Ed25519` is accepted as a synonym of `EdDSA`.
    /// `none`, `HS*` and anything unknown: [`JoseError::UnsupportedAlgorithm`].
    pub fn from_name(name: &str) -> Result<Self, JoseError> {
        // Exact, case-sensitive names (RFC 7515 §4.1.1): "rs256" or "NONE" are not aliases.
        if name == "Ed25519" {
            return Ok(Algorithm::EdDsa);
        }
        Algorithm::ALL
            .into_iter()
            .find(|alg| alg.as_str() == name)
            .ok_or_else(|| JoseError::UnsupportedAlgorithm(name.to_owned()))
    }

    /// True for RS* and PS*.
    pub fn is_rsa(self) -> bool {
        matches!(
            self,
            Algorithm::Rs256
                | Algorithm::Rs384
                | Algorithm::Rs512
                | Algorithm::Ps256
                | Algorithm::Ps384
                | Algorithm::Ps512
        )
    }

    /// The curve an ES*/EdDSA algorithm requires (`ES256` → P-256, ...); `None` for RSA.
    pub fn curve(self) -> Option<Curve> {
        match self {
            Algorithm::Es256 => Some(Curve::P256),
            Algorithm::Es384 => Some(Curve::P384),
            Algorithm::Es512 => Some(Curve::P521),
            Algorithm::EdDsa => Some(Curve::Ed25519),
            _ => None,
        }
    }
}

impl std::fmt::Display for Algorithm {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

impl std::str::FromStr for Algorithm {
    type Err = JoseError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Algorithm::from_name(s)
    }
}

impl serde::Serialize for Algorithm {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.as_str())
    }
}

impl<'de> serde::Deserialize<'de> for Algorithm {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let name = <std::borrow::Cow<'de, str>>::deserialize(d)?;
        Algorithm::from_name(&name).map_err(serde::de::Error::custom)
    }
}

/// Elliptic curves (JWK `crv`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Curve {
    P256,
    P384,
    P521,
    Ed25519,
}

impl Curve {
    /// The JWK `crv` name (`P-256`, `P-384`, `P-521`, `Ed25519`).
    pub fn as_str(self) -> &'static str {
        match self {
            Curve::P256 => "P-256",
            Curve::P384 => "P-384",
            Curve::P521 => "P-521",
            Curve::Ed25519 => "Ed25519",
        }
    }
    /// Parses a JWK `crv` name.
    pub fn from_name(name: &str) -> Result<Self, JoseError> {
        match name {
            "P-256" => Ok(Curve::P256),
            "P-384" => Ok(Curve::P384),
            "P-521" => Ok(Curve::P521),
            "Ed25519" => Ok(Curve::Ed25519),
            _ => Err(JoseError::InvalidKey(format!("unsupported curve {name:?}"))),
        }
    }

    /// Bytes in one coordinate (and in the private scalar) of a point on this curve.
    pub fn coordinate_len(self) -> usize {
        match self {
            Curve::P256 | Curve::Ed25519 => 32,
            Curve::P384 => 48,
            Curve::P521 => 66,
        }
    }
}

/// What kind of key to generate, or what kind a key is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum KeySpec {
    /// RSA with this modulus size in bits (2048, 3072 or 4096 to generate; >= 2048 to import).
    Rsa { bits: u32 },
    /// ECDSA on P-256, P-384 or P-521.
    Ec(Curve),
    /// Ed25519.
    Ed25519,
}

impl KeySpec {
    /// The key an algorithm needs by default: RS*/PS* → RSA `rsa_bits`, ES256 → P-256, ..., EdDSA → Ed25519.
    pub fn for_algorithm(alg: Algorithm, rsa_bits: u32) -> Self {
        match alg.curve() {
            None => KeySpec::Rsa { bits: rsa_bits },
            Some(Curve::Ed25519) => KeySpec::Ed25519,
            Some(curve) => KeySpec::Ec(curve),
        }
    }

    /// The algorithm a key of this kind signs with when nothing else is said:
    /// RSA → RS256, P-256 → ES256, P-384 → ES384, P-521 → ES512, Ed25519 → EdDSA.
    pub fn default_algorithm(self) -> Algorithm {
        match self {
            KeySpec::Rsa { .. } => Algorithm::Rs256,
            KeySpec::Ec(Curve::P256) => Algorithm::Es256,
            KeySpec::Ec(Curve::P384) => Algorithm::Es384,
            KeySpec::Ec(Curve::P521) => Algorithm::Es512,
            KeySpec::Ec(Curve::Ed25519) | KeySpec::Ed25519 => Algorithm::EdDsa,
        }
    }

    /// Whether a key of this kind can sign/verify `alg`, by type and curve only (a JWK's pinned `alg`,
    /// `use` and `key_ops` are checked by [`crate::PublicKey::allows`]).
    pub fn fits(self, alg: Algorithm) -> bool {
        match self {
            KeySpec::Rsa { .. } => alg.is_rsa(),
            KeySpec::Ec(Curve::Ed25519) | KeySpec::Ed25519 => alg == Algorithm::EdDsa,
            KeySpec::Ec(curve) => alg.curve() == Some(curve),
        }
    }

    /// The JWK `kty` (`RSA`, `EC`, `OKP`).
    pub fn kty(self) -> &'static str {
        match self {
            KeySpec::Rsa { .. } => "RSA",
            KeySpec::Ec(Curve::Ed25519) | KeySpec::Ed25519 => "OKP",
            KeySpec::Ec(_) => "EC",
        }
    }
}

impl std::fmt::Display for KeySpec {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            KeySpec::Rsa { bits } => write!(f, "RSA-{bits}"),
            KeySpec::Ec(curve) => write!(f, "EC {}", curve.as_str()),
            KeySpec::Ed25519 => f.write_str("OKP Ed25519"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_round_trip() {
        for alg in Algorithm::ALL {
            assert_eq!(Algorithm::from_name(alg.as_str()), Ok(alg));
        }
    }

    #[test]
    fn ed25519_is_a_synonym_of_eddsa() {
        assert_eq!(Algorithm::from_name("Ed25519"), Ok(Algorithm::EdDsa));
        assert_eq!(Algorithm::EdDsa.as_str(), "EdDSA");
    }

    #[test]
    fn none_hs_and_case_variants_are_refused() {
        for name in ["none", "None", "HS256", "HS384", "HS512", "rs256", "ES521", "RSA-OAEP", ""] {
            assert_eq!(Algorithm::from_name(name), Err(JoseError::UnsupportedAlgorithm(name.into())), "{name}");
        }
    }

    #[test]
    fn spec_fits_only_its_algorithms() {
        assert!(KeySpec::Rsa { bits: 2048 }.fits(Algorithm::Ps512));
        assert!(!KeySpec::Rsa { bits: 2048 }.fits(Algorithm::Es256));
        assert!(KeySpec::Ec(Curve::P256).fits(Algorithm::Es256));
        assert!(!KeySpec::Ec(Curve::P256).fits(Algorithm::Es384));
        assert!(!KeySpec::Ed25519.fits(Algorithm::Es256));
        assert_eq!(KeySpec::Ec(Curve::P521).default_algorithm(), Algorithm::Es512);
        assert_eq!(KeySpec::for_algorithm(Algorithm::EdDsa, 2048), KeySpec::Ed25519);
    }
}
