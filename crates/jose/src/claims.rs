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
        match self {
            Audience::One(one) => one == value,
            Audience::Many(many) => many.iter().any(|a| a == value),
        }
    }
    /// All values.
    pub fn values(&self) -> Vec<&str> {
        match self {
            Audience::One(one) => vec![one.as_str()],
            Audience::Many(many) => many.iter().map(String::as_str).collect(),
        }
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
    #[serde(default, skip_serializing_if = "Option::is_none", deserialize_with = "numeric_date")]
    pub exp: Option<i64>,
    #[serde(default, skip_serializing_if = "Option::is_none", deserialize_with = "numeric_date")]
    pub nbf: Option<i64>,
    #[serde(default, skip_serializing_if = "Option::is_none", deserialize_with = "numeric_date")]
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
        Validation {
            now,
            leeway: 0,
            required: Vec::new(),
            issuer: None,
            subject: None,
            audiences: Vec::new(),
            max_lifetime: None,
        }
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
        for &name in &self.required {
            if !claims.has(name) {
                return Err(ClaimsError::Missing(name));
            }
        }
        // i128: `exp + leeway` and `now + leeway` cannot overflow, whatever the token says.
        let now = i128::from(self.now);
        let leeway = i128::from(self.leeway);
        if let Some(exp) = claims.exp {
            // RFC 7519 §4.1.4: the current time must be before `exp`.
            if i128::from(exp) + leeway <= now {
                return Err(ClaimsError::Expired { exp, now: self.now });
            }
            if let Some(max_lifetime) = self.max_lifetime
                && i128::from(exp) - now > i128::from(max_lifetime) + leeway
            {
                return Err(ClaimsError::ExpiresTooLate { exp, now: self.now, max_lifetime });
            }
        }
        if let Some(nbf) = claims.nbf
            && i128::from(nbf) > now + leeway
        {
            return Err(ClaimsError::NotYetValid { nbf, now: self.now });
        }
        if let Some(iat) = claims.iat
            && i128::from(iat) > now + leeway
        {
            return Err(ClaimsError::IssuedInFuture { iat, now: self.now });
        }
        if let Some(expected) = &self.issuer {
            let found = claims.iss.as_deref().ok_or(ClaimsError::Missing("iss"))?;
            if found != expected {
                return Err(ClaimsError::WrongIssuer { found: found.to_owned() });
            }
        }
        if let Some(expected) = &self.subject {
            let found = claims.sub.as_deref().ok_or(ClaimsError::Missing("sub"))?;
            if found != expected {
                return Err(ClaimsError::WrongSubject { found: found.to_owned() });
            }
        }
        if !self.audiences.is_empty() {
            let aud = claims.aud.as_ref().ok_or(ClaimsError::Missing("aud"))?;
            if !self.audiences.iter().any(|expected| aud.contains(expected)) {
                return Err(ClaimsError::WrongAudience {
                    found: aud.values().into_iter().map(str::to_owned).collect(),
                });
            }
        }
        Ok(())
    }
}

impl Claims {
    /// Whether the claim `name` is present (registered claims by field, others in `extra`).
    pub fn has(&self, name: &str) -> bool {
        match name {
            "iss" => self.iss.is_some(),
            "sub" => self.sub.is_some(),
            "aud" => self.aud.is_some(),
            "exp" => self.exp.is_some(),
            "nbf" => self.nbf.is_some(),
            "iat" => self.iat.is_some(),
            "jti" => self.jti.is_some(),
            other => self.extra.contains_key(other),
        }
    }
}

/// Checks the JSON types of the registered claims (RFC 7519 §4.1) in a payload object, so that a string
/// `exp` is reported as [`ClaimsError::WrongType`] whatever type the caller deserializes into.
pub(crate) fn check_registered_types(map: &serde_json::Map<String, serde_json::Value>) -> Result<(), ClaimsError> {
    use serde_json::Value;
    for name in ["iss", "sub", "jti"] {
        if map.get(name).is_some_and(|v| !v.is_string()) {
            return Err(ClaimsError::WrongType(name));
        }
    }
    for name in ["exp", "nbf", "iat"] {
        if map.get(name).is_some_and(|v| !v.is_number()) {
            return Err(ClaimsError::WrongType(name));
        }
    }
    match map.get("aud") {
        None | Some(Value::String(_)) => Ok(()),
        Some(Value::Array(items)) if items.iter().all(Value::is_string) => Ok(()),
        Some(_) => Err(ClaimsError::WrongType("aud")),
    }
}

/// A NumericDate (RFC 7519 §2): a JSON number of seconds. Strings are refused; fractions are floored.
fn numeric_date<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Option<i64>, D::Error> {
    struct NumericDate;
    impl serde::de::Visitor<'_> for NumericDate {
        type Value = Option<i64>;
        fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
            f.write_str("a NumericDate (a JSON number of seconds since the epoch)")
        }
        fn visit_i64<E: serde::de::Error>(self, v: i64) -> Result<Self::Value, E> {
            Ok(Some(v))
        }
        fn visit_u64<E: serde::de::Error>(self, v: u64) -> Result<Self::Value, E> {
            i64::try_from(v).map(Some).map_err(|_| E::custom("NumericDate out of range"))
        }
        fn visit_f64<E: serde::de::Error>(self, v: f64) -> Result<Self::Value, E> {
            let floored = v.floor();
            // ±2^63: the open upper bound keeps the cast exact.
            let limit = 2f64.powi(63);
            if floored.is_finite() && (-limit..limit).contains(&floored) {
                #[allow(clippy::cast_possible_truncation)]
                Ok(Some(floored as i64))
            } else {
                Err(E::custom("NumericDate out of range"))
            }
        }
    }
    d.deserialize_any(NumericDate)
}

#[cfg(test)]
mod tests {
    use super::*;

    const NOW: i64 = 1_700_000_000;

    fn claims() -> Claims {
        Claims {
            iss: Some("https://issuer.example".into()),
            sub: Some("client-1".into()),
            aud: Some(Audience::Many(vec!["api://a".into(), "api://b".into()])),
            exp: Some(NOW + 300),
            nbf: Some(NOW - 10),
            iat: Some(NOW - 10),
            jti: Some("id-1".into()),
            extra: serde_json::Map::new(),
        }
    }

    #[test]
    fn a_good_token_validates() {
        let v = Validation::new(NOW)
            .require("exp")
            .require("jti")
            .issuer("https://issuer.example")
            .subject("client-1")
            .audience("api://b")
            .max_lifetime(300);
        assert_eq!(v.validate(&claims()), Ok(()));
    }

    #[test]
    fn missing_required_claim() {
        let mut c = claims();
        c.jti = None;
        assert_eq!(Validation::new(NOW).require("exp").require("jti").validate(&c), Err(ClaimsError::Missing("jti")));
        assert_eq!(Validation::new(NOW).require("cnf").validate(&claims()), Err(ClaimsError::Missing("cnf")));
    }

    #[test]
    fn expired_at_exp_and_leeway_extends() {
        let mut c = claims();
        c.exp = Some(NOW);
        assert_eq!(Validation::new(NOW).validate(&c), Err(ClaimsError::Expired { exp: NOW, now: NOW }));
        assert_eq!(Validation::new(NOW).leeway(1).validate(&c), Ok(()));
        c.exp = Some(NOW - 30);
        assert_eq!(Validation::new(NOW).leeway(30).validate(&c), Err(ClaimsError::Expired { exp: NOW - 30, now: NOW }));
    }

    #[test]
    fn expires_too_late() {
        let mut c = claims();
        c.exp = Some(NOW + 3601);
        let err = Validation::new(NOW).max_lifetime(3600).validate(&c);
        assert_eq!(err, Err(ClaimsError::ExpiresTooLate { exp: NOW + 3601, now: NOW, max_lifetime: 3600 }));
        assert_eq!(Validation::new(NOW).max_lifetime(3600).leeway(1).validate(&c), Ok(()));
    }

    #[test]
    fn not_yet_valid_and_issued_in_future() {
        let mut c = claims();
        c.nbf = Some(NOW + 61);
        assert_eq!(
            Validation::new(NOW).leeway(60).validate(&c),
            Err(ClaimsError::NotYetValid { nbf: NOW + 61, now: NOW })
        );
        c.nbf = Some(NOW + 60);
        assert_eq!(Validation::new(NOW).leeway(60).validate(&c), Ok(()));
        c.iat = Some(NOW + 61);
        assert_eq!(
            Validation::new(NOW).leeway(60).validate(&c),
            Err(ClaimsError::IssuedInFuture { iat: NOW + 61, now: NOW })
        );
    }

    #[test]
    fn wrong_issuer_subject_audience() {
        let c = claims();
        assert_eq!(
            Validation::new(NOW).issuer("https://other").validate(&c),
            Err(ClaimsError::WrongIssuer { found: "https://issuer.example".into() })
        );
        assert_eq!(
            Validation::new(NOW).subject("client-2").validate(&c),
            Err(ClaimsError::WrongSubject { found: "client-1".into() })
        );
        assert_eq!(
            Validation::new(NOW).audience("api://c").validate(&c),
            Err(ClaimsError::WrongAudience { found: vec!["api://a".into(), "api://b".into()] })
        );
        assert_eq!(Validation::new(NOW).audience("api://c").audience("api://a").validate(&c), Ok(()));
        let mut none = claims();
        none.aud = None;
        assert_eq!(Validation::new(NOW).audience("api://a").validate(&none), Err(ClaimsError::Missing("aud")));
    }

    #[test]
    fn checks_run_in_the_documented_order() {
        let mut c = claims();
        c.exp = Some(NOW - 1);
        c.iss = Some("bad".into());
        c.jti = None;
        let v = Validation::new(NOW).require("jti").issuer("good");
        assert_eq!(v.validate(&c), Err(ClaimsError::Missing("jti")));
        c.jti = Some("x".into());
        assert_eq!(v.validate(&c), Err(ClaimsError::Expired { exp: NOW - 1, now: NOW }));
    }

    #[test]
    fn extreme_values_do_not_overflow() {
        let mut c = claims();
        c.exp = Some(i64::MAX);
        c.nbf = Some(i64::MIN);
        c.iat = Some(i64::MIN);
        assert!(Validation::new(i64::MIN).leeway(u64::MAX).max_lifetime(u64::MAX).validate(&c).is_ok());
        assert!(matches!(Validation::new(NOW).max_lifetime(60).validate(&c), Err(ClaimsError::ExpiresTooLate { .. })));
    }

    #[test]
    fn numeric_dates_must_be_numbers() {
        let parsed: Claims =
            serde_json::from_str(r#"{"exp":1700000000.5,"iat":1700000000,"aud":"x","cnf":{"jkt":"t"}}"#).unwrap();
        assert_eq!(parsed.exp, Some(1_700_000_000));
        assert_eq!(parsed.iat, Some(1_700_000_000));
        assert_eq!(parsed.aud, Some(Audience::One("x".into())));
        assert!(parsed.extra.contains_key("cnf"));
        assert_eq!(serde_json::from_str::<Claims>(r#"{"exp":-1.5}"#).unwrap().exp, Some(-2));
        for bad in [
            r#"{"exp":"1700000000"}"#,
            r#"{"nbf":null}"#,
            r#"{"iat":true}"#,
            r#"{"exp":1e300}"#,
            r#"{"exp":18446744073709551615}"#,
        ] {
            assert!(serde_json::from_str::<Claims>(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn registered_claim_types_are_checked() {
        let map = |text: &str| serde_json::from_str::<serde_json::Map<String, serde_json::Value>>(text).unwrap();
        assert_eq!(check_registered_types(&map(r#"{"exp":"1"}"#)), Err(ClaimsError::WrongType("exp")));
        assert_eq!(check_registered_types(&map(r#"{"iss":1}"#)), Err(ClaimsError::WrongType("iss")));
        assert_eq!(check_registered_types(&map(r#"{"aud":["a",1]}"#)), Err(ClaimsError::WrongType("aud")));
        assert_eq!(check_registered_types(&map(r#"{"aud":["a"],"exp":1.5,"jti":"j"}"#)), Ok(()));
    }
}
