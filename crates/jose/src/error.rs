//! One error type for the crate. Each variant names the rule that failed, because the server turns them
//! into Okta's error descriptions and the CLI's `explain` into advice.
use crate::claims::ClaimsError;

/// Everything that can go wrong in `tollgate-jose`.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
#[non_exhaustive]
pub enum JoseError {
    /// The compact serialization is not three base64url parts separated by dots, or is otherwise broken.
    #[error("malformed JWS: {0}")]
    Malformed(&'static str),
    /// A part is not strict base64url (padding, bad characters, non-canonical trailing bits).
    #[error("invalid base64url in the {0}")]
    Base64(&'static str),
    /// The header or payload is not a JSON object, or not the expected shape.
    #[error("invalid JSON in the {part}: {detail}")]
    Json { part: &'static str, detail: String },
    /// A JSON object repeats a member name.
    #[error("duplicate member {name:?} in the {part}")]
    DuplicateMember { part: &'static str, name: String },
    /// The token or key text is larger than the crate accepts.
    #[error("input too large: {len} bytes, the limit is {limit}")]
    TooLarge { len: usize, limit: usize },
    /// `alg` is `none`, `HS*` or unknown.
    #[error("unsupported algorithm {0:?}")]
    UnsupportedAlgorithm(String),
    /// The header's `alg` does not fit the key (its type, curve, or the JWK's pinned `alg`).
    #[error("algorithm {alg} cannot be used with this {key} key")]
    AlgorithmMismatch { alg: String, key: String },
    /// `crit` names an extension this implementation does not understand (including `b64`).
    #[error("unsupported critical header parameter {0:?}")]
    UnknownCritical(String),
    /// The signature does not verify.
    #[error("signature verification failed")]
    BadSignature,
    /// A key could not be read or is not usable.
    #[error("invalid key: {0}")]
    InvalidKey(String),
    /// An RSA key below 2048 bits.
    #[error("RSA key of {0} bits is too small; at least 2048 bits are required")]
    KeyTooSmall(u32),
    /// A JWK meant to be public carries private members (`d`, `p`, `q`, `dp`, `dq`, `qi`, `oth`, `k`).
    #[error("the public JWK{} carries private key material ({member}); publish only the public half", kid.as_deref().map(|k| format!(" {k:?}")).unwrap_or_default())]
    PrivateKeyMaterial { kid: Option<String>, member: &'static str },
    /// Claims failed validation.
    #[error(transparent)]
    Claims(#[from] ClaimsError),
    /// Something this crate does not do (e.g. a traditional PEM for an Ed25519 key).
    #[error("unsupported: {0}")]
    Unsupported(String),
}
