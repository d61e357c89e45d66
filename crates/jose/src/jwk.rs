//! JWK and JWKS wire types (RFC 7517, RFC 7518 §6). Key material is base64url text here; turning it into
//! a usable key, and refusing what must be refused, is [`crate::key`]'s job.
use serde::{Deserialize, Serialize};

/// One JSON Web Key as it appears on the wire. Unknown members are kept in `other` and written back.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Jwk {
    pub kty: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub kid: Option<String>,
    #[serde(rename = "use", skip_serializing_if = "Option::is_none")]
    pub use_: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub alg: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub key_ops: Option<Vec<String>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub crv: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub x: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub y: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub n: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub e: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub d: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub p: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub q: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub dp: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub dq: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub qi: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub k: Option<String>,
    /// Members this type does not name (`x5c`, `oth`, vendor extensions, ...).
    #[serde(flatten)]
    pub other: serde_json::Map<String, serde_json::Value>,
}

impl Jwk {
    /// The first private member present (`d`, `p`, `q`, `dp`, `dq`, `qi`, `oth`, `k`), if any.
    pub fn private_member(&self) -> Option<&'static str> {
        todo!()
    }

    /// Parses one JWK from JSON text (strict: an object, no duplicate members).
    pub fn from_json(text: &str) -> Result<Self, crate::JoseError> {
        todo!()
    }
}

/// A JWK Set: `{"keys": [...]}`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Jwks {
    pub keys: Vec<Jwk>,
}

impl Jwks {
    /// Parses a JWKS from JSON text (strict: an object with a `keys` array, no duplicate members).
    pub fn from_json(text: &str) -> Result<Self, crate::JoseError> {
        todo!()
    }

    /// Every key as a verified-usable public key. Fails on the first key that is private, symmetric,
    /// malformed or too small, naming it (by `kid` when it has one).
    pub fn public_keys(&self) -> Result<Vec<crate::PublicKey>, crate::JoseError> {
        todo!()
    }
}
