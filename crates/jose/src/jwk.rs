//! JWK and JWKS wire types (RFC 7517, RFC 7518 §6). Key material is base64url text here; turning it into
//! a usable key, and refusing what must be refused, is [`crate::key`]'s job.
use serde::{Deserialize, Serialize};

/// One JSON Web Key as it appears on the wire. Unknown members are kept in `other` and written back.
/// `Debug` shows which private members are present, never their values.
#[derive(Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
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

impl std::fmt::Debug for Jwk {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let redacted = |v: &Option<String>| v.as_ref().map(|_| "<redacted>");
        let other: Vec<(&String, &dyn std::fmt::Debug)> = self
            .other
            .iter()
            .map(|(k, v)| {
                (k, if k == "oth" { &"<redacted>" as &dyn std::fmt::Debug } else { v as &dyn std::fmt::Debug })
            })
            .collect();
        f.debug_struct("Jwk")
            .field("kty", &self.kty)
            .field("kid", &self.kid)
            .field("use", &self.use_)
            .field("alg", &self.alg)
            .field("key_ops", &self.key_ops)
            .field("crv", &self.crv)
            .field("x", &self.x)
            .field("y", &self.y)
            .field("n", &self.n)
            .field("e", &self.e)
            .field("d", &redacted(&self.d))
            .field("p", &redacted(&self.p))
            .field("q", &redacted(&self.q))
            .field("dp", &redacted(&self.dp))
            .field("dq", &redacted(&self.dq))
            .field("qi", &redacted(&self.qi))
            .field("k", &redacted(&self.k))
            .field("other", &other)
            .finish()
    }
}

impl Jwk {
    /// The first private member present (`d`, `p`, `q`, `dp`, `dq`, `qi`, `oth`, `k`), if any.
    pub fn private_member(&self) -> Option<&'static str> {
        let named =
            [("d", &self.d), ("p", &self.p), ("q", &self.q), ("dp", &self.dp), ("dq", &self.dq), ("qi", &self.qi)];
        if let Some((name, _)) = named.iter().find(|(_, value)| value.is_some()) {
            return Some(name);
        }
        if self.other.contains_key("oth") {
            return Some("oth");
        }
        self.k.as_ref().map(|_| "k")
    }

    /// Parses one JWK from JSON text (strict: an object, no duplicate members).
    pub fn from_json(text: &str) -> Result<Self, crate::JoseError> {
        check_len(text)?;
        let map = crate::json::parse_object(text.as_bytes(), "JWK")?;
        from_map(map, "JWK")
    }
}

/// Largest JWK or JWKS text accepted, in bytes (a JWKS of a few dozen RSA-4096 keys fits).
pub const MAX_JWK_TEXT_LEN: usize = 256 * 1024;

fn check_len(text: &str) -> Result<(), crate::JoseError> {
    if text.len() > MAX_JWK_TEXT_LEN {
        return Err(crate::JoseError::TooLarge { len: text.len(), limit: MAX_JWK_TEXT_LEN });
    }
    Ok(())
}

fn from_map<T: serde::de::DeserializeOwned>(
    map: serde_json::Map<String, serde_json::Value>,
    part: &'static str,
) -> Result<T, crate::JoseError> {
    serde_json::from_value(serde_json::Value::Object(map)).map_err(|e| crate::json::json_error(part, &e))
}

/// A JWK Set: `{"keys": [...]}`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Jwks {
    pub keys: Vec<Jwk>,
}

impl Jwks {
    /// Parses a JWKS from JSON text (strict: an object with a `keys` array, no duplicate members).
    pub fn from_json(text: &str) -> Result<Self, crate::JoseError> {
        check_len(text)?;
        let map = crate::json::parse_object(text.as_bytes(), "JWKS")?;
        from_map(map, "JWKS")
    }

    /// Every key as a verified-usable public key. Fails on the first key that is private, symmetric,
    /// malformed or too small, naming it (by `kid` when it has one).
    pub fn public_keys(&self) -> Result<Vec<crate::PublicKey>, crate::JoseError> {
        let mut keys: Vec<crate::PublicKey> = Vec::with_capacity(self.keys.len());
        for jwk in &self.keys {
            let key = crate::PublicKey::from_jwk(jwk).map_err(|e| name_key(jwk, e))?;
            // Two keys of one type under one kid make "pick the key by kid" ambiguous (RFC 7517 §4.5).
            if let Some(kid) = key.kid()
                && keys.iter().any(|k| k.kid() == Some(kid) && k.spec().kty() == key.spec().kty())
            {
                return Err(crate::JoseError::InvalidKey(format!(
                    "the JWKS has two {} keys with kid {kid:?}",
                    key.spec().kty()
                )));
            }
            keys.push(key);
        }
        Ok(keys)
    }

    /// The first usable key whose `kid` is `kid`, ignoring keys this crate cannot use.
    pub fn find(&self, kid: &str) -> Option<crate::PublicKey> {
        self.keys
            .iter()
            .filter(|jwk| jwk.kid.as_deref() == Some(kid))
            .find_map(|jwk| crate::PublicKey::from_jwk(jwk).ok())
    }
}

/// Adds the key's `kid` to an error that does not already name it.
fn name_key(jwk: &Jwk, error: crate::JoseError) -> crate::JoseError {
    use crate::JoseError;
    match (error, &jwk.kid) {
        (JoseError::InvalidKey(detail), Some(kid)) => JoseError::InvalidKey(format!("key {kid:?}: {detail}")),
        (JoseError::PrivateKeyMaterial { kid: None, member }, kid) => {
            JoseError::PrivateKeyMaterial { kid: kid.clone(), member }
        }
        (error, _) => error,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::JoseError;

    #[test]
    fn private_members_are_found() {
        assert_eq!(Jwk::default().private_member(), None);
        assert_eq!(Jwk { dq: Some("x".into()), ..Jwk::default() }.private_member(), Some("dq"));
        assert_eq!(Jwk { k: Some("x".into()), ..Jwk::default() }.private_member(), Some("k"));
        let mut oth = Jwk::default();
        oth.other.insert("oth".into(), serde_json::Value::Array(vec![]));
        assert_eq!(oth.private_member(), Some("oth"));
    }

    #[test]
    fn debug_redacts_private_members() {
        let jwk =
            Jwk { kty: "oct".into(), k: Some("c2VjcmV0LXNlY3JldA".into()), d: Some("ZGRkZA".into()), ..Jwk::default() };
        let debug = format!("{jwk:?}");
        assert!(!debug.contains("c2VjcmV0LXNlY3JldA") && !debug.contains("ZGRkZA"), "{debug}");
        assert!(debug.contains("<redacted>"));
    }

    #[test]
    fn unknown_members_are_kept() {
        let jwk = Jwk::from_json(r#"{"kty":"EC","crv":"P-256","x":"a","y":"b","x5t":"t","ext":true}"#).unwrap();
        assert_eq!(jwk.other.get("x5t"), Some(&serde_json::Value::String("t".into())));
        let back: serde_json::Value = serde_json::to_value(&jwk).unwrap();
        assert_eq!(back["ext"], serde_json::Value::Bool(true));
    }

    #[test]
    fn duplicate_members_are_refused() {
        assert_eq!(
            Jwk::from_json(r#"{"kty":"RSA","n":"AQAB","n":"AQAC","e":"AQAB"}"#),
            Err(JoseError::DuplicateMember { part: "JWK", name: "n".into() })
        );
        assert_eq!(
            Jwks::from_json(r#"{"keys":[],"keys":[]}"#),
            Err(JoseError::DuplicateMember { part: "JWKS", name: "keys".into() })
        );
        assert_eq!(
            Jwks::from_json(r#"{"keys":[{"kty":"EC","kty":"RSA"}]}"#),
            Err(JoseError::DuplicateMember { part: "JWKS", name: "kty".into() })
        );
    }

    #[test]
    fn wrong_shapes_are_refused() {
        for text in [r#"[]"#, r#"{"kty":1}"#, r#"{"kid":"x"}"#, r#"{"kty":"RSA","key_ops":"sign"}"#] {
            assert!(matches!(Jwk::from_json(text), Err(JoseError::Json { part: "JWK", .. })), "{text}");
        }
        for text in [r#"{}"#, r#"{"keys":{}}"#, r#"{"keys":[1]}"#] {
            assert!(matches!(Jwks::from_json(text), Err(JoseError::Json { part: "JWKS", .. })), "{text}");
        }
        let big = format!("{{\"kty\":\"{}\"}}", "a".repeat(MAX_JWK_TEXT_LEN));
        assert!(matches!(Jwk::from_json(&big), Err(JoseError::TooLarge { .. })));
    }

    #[test]
    fn a_public_jwks_with_d_is_refused_naming_the_key() {
        let jwks =
            Jwks::from_json(r#"{"keys":[{"kty":"EC","kid":"k1","crv":"P-256","x":"a","y":"b","d":"c"}]}"#).unwrap();
        assert_eq!(jwks.public_keys(), Err(JoseError::PrivateKeyMaterial { kid: Some("k1".into()), member: "d" }));
    }
}
