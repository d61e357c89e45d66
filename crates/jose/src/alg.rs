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
        todo!()
    }

    /// Parses a JOSE `alg` name. `Ed25519` is accepted as a synonym of `EdDSA`.
    /// `none`, `HS*` and anything unknown: [`JoseError::UnsupportedAlgorithm`].
    pub fn from_name(name: &str) -> Result<Self, JoseError> {
        todo!()
    }

    /// True for RS* and PS*.
    pub fn is_rsa(self) -> bool {
        todo!()
    }

    /// The curve an ES*/EdDSA algorithm requires (`ES256` → P-256, ...); `None` for RSA.
    pub fn curve(self) -> Option<Curve> {
        todo!()
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
        todo!()
    }
    /// Parses a JWK `crv` name.
    pub fn from_name(name: &str) -> Result<Self, JoseError> {
        todo!()
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
        todo!()
    }

    /// The algorithm a key of this kind signs with when nothing else is said:
    /// RSA → RS256, P-256 → ES256, P-384 → ES384, P-521 → ES512, Ed25519 → EdDSA.
    pub fn default_algorithm(self) -> Algorithm {
        todo!()
    }

    /// The JWK `kty` (`RSA`, `EC`, `OKP`).
    pub fn kty(self) -> &'static str {
        todo!()
    }
}
