//! JWT claims (RFC 7519) and their validation.
//!
//! NumericDate values must be JSON numbers (a string `"exp"` is refused, not coerced). Validation is explicit:
//! the caller passes `now`, the leeway, the required claims, the expected issuer and audience(s), and the
//! longest lifetime it accepts (`exp - now`), and gets back the exact rule that failed.
use serde::{Deserialize, Serialize};

/// `aud`: one string or an array of strings.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum Audience {
    One(String),
    Many(Vec<String>),
}

impl Audience {
    /// Whether `value` is (one of) the audience(s).
    pub fn contains(&self, value: &str) -> bool {
        todo!()
    }
    /// All values.
    pub fn values(&self) -> Vec<&str> {
        todo!()
    }
}

/// The registered claims, plus every other member in `extra` (e.g. `scp`, `cid`, `cnf`, `scope`, `htm`).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Claims {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub iss: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub sub: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub aud: Option<Audience>,
    /// Expiration, seconds since the epoch.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub exp: Option<i64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub nbf: Option<i64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub iat: Option<i64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub jti: Option<String>,
    #[serde(flatten)]
    pub extra: serde_json::Map<String, serde_json::Value>,
}

/// Which claim validation rule failed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ClaimsError {
    #[error("the {0} claim is missing")]
    Missing(&'static str),
    #[error("the {0} claim has the wrong type")]
    WrongType(&'static str),
    #[error("the token expired at {exp} (now {now})")]
    Expired { exp: i64, now: i64 },
    #[error("the token expires at {exp}, more than {max_lifetime} s after now ({now})")]
    ExpiresTooLate { exp: i64, now: i64, max_lifetime: u64 },
    #[error("the token is not valid before {nbf} (now {now})")]
    NotYetValid { nbf: i64, now: i64 },
    #[error("the token was issued in the future ({iat}, now {now})")]
    IssuedInFuture { iat: i64, now: i64 },
    #[error("the issuer {found:?} is not the expected one")]
    WrongIssuer { found: String },
    #[error("the subject {found:?} is not the expected one")]
    WrongSubject { found: String },
    #[error("the audience {found:?} is not an expected one")]
    WrongAudience { found: Vec<String> },
}

/// The rules to check a [`Claims`] against. Build with [`Validation::new`] and the `with_*`/`require` methods.
#[derive(Debug, Clone)]
pub struct Validation {
    /// The current time, seconds since the epoch.
    pub now: i64,
    /// Clock skew tolerated on `exp`, `nbf` and `iat`, in seconds.
    pub leeway: u64,
    /// Claims that must be present (`"exp"`, `"iat"`, `"jti"`, ...). Checked first, in this order.
    pub required: Vec<&'static str>,
    pub issuer: Option<String>,
    pub subject: Option<String>,
    /// When non-empty, `aud` must contain one of these.
    pub audiences: Vec<String>,
    /// When set, `exp - now` may not exceed this (plus leeway).
    pub max_lifetime: Option<u64>,
}

impl Validation {
    /// No requirements beyond `exp`/`nbf`/`iat` sanity at `now` with zero leeway.
    pub fn new(now: i64) -> Self {
        Validation { now, leeway: 0, required: Vec::new(), issuer: None, subject: None, audiences: Vec::new(), max_lifetime: None }
    }
    pub fn leeway(mut self, seconds: u64) -> Self {
        self.leeway = seconds;
        self
    }
    pub fn require(mut self, claim: &'static str) -> Self {
        self.required.push(claim);
        self
    }
    pub fn issuer(mut self, iss: impl Into<String>) -> Self {
        self.issuer = Some(iss.into());
        self
    }
    pub fn subject(mut self, sub: impl Into<String>) -> Self {
        self.subject = Some(sub.into());
        self
    }
    pub fn audience(mut self, aud: impl Into<String>) -> Self {
        self.audiences.push(aud.into());
        self
    }
    pub fn max_lifetime(mut self, seconds: u64) -> Self {
        self.max_lifetime = Some(seconds);
        self
    }

    /// Checks, in order: required claims; `exp` not past (minus leeway); `exp - now <= max_lifetime` (plus
    /// leeway); `nbf` and `iat` not in the future (beyond leeway); issuer; subject; audience.
    pub fn validate(&self, claims: &Claims) -> Result<(), ClaimsError> {
        todo!()
    }
}
