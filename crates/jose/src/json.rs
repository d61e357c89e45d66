//! Strict JSON: an object at the top, and no member name twice in any object.
//!
//! `serde_json` silently keeps the last of two equal member names; two parsers that disagree on which
//! `alg` or `kid` counts is the classic JOSE confusion, so we refuse them (RFC 7515 §5.2, RFC 8725 §3.9).
use std::cell::RefCell;
use std::fmt;

use serde::de::{self, DeserializeSeed, Deserializer, MapAccess, SeqAccess, Visitor};
use serde_json::{Map, Value};

use crate::JoseError;

/// Parses `bytes` as one JSON object with no repeated member names at any depth.
pub(crate) fn parse_object(bytes: &[u8], part: &'static str) -> Result<Map<String, Value>, JoseError> {
    let duplicate = RefCell::new(None);
    let mut de = serde_json::Deserializer::from_slice(bytes);
    let parsed = de.deserialize_map(StrictVisitor { duplicate: &duplicate, top: true });
    if let Some(name) = duplicate.into_inner() {
        return Err(JoseError::DuplicateMember { part, name });
    }
    let value = parsed.and_then(|v| de.end().map(|()| v)).map_err(|e| json_error(part, &e))?;
    match value {
        Value::Object(map) => Ok(map),
        _ => Err(JoseError::Json { part, detail: "not a JSON object".into() }),
    }
}

/// A [`JoseError::Json`] for `part`.
pub(crate) fn json_error(part: &'static str, error: &impl fmt::Display) -> JoseError {
    JoseError::Json { part, detail: error.to_string() }
}

#[derive(Clone, Copy)]
struct StrictVisitor<'a> {
    duplicate: &'a RefCell<Option<String>>,
    top: bool,
}

impl<'de> DeserializeSeed<'de> for StrictVisitor<'_> {
    type Value = Value;
    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<Value, D::Error> {
        d.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for StrictVisitor<'_> {
    type Value = Value;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(if self.top { "a JSON object" } else { "a JSON value" })
    }

    fn visit_bool<E: de::Error>(self, v: bool) -> Result<Value, E> {
        Ok(Value::Bool(v))
    }
    fn visit_i64<E: de::Error>(self, v: i64) -> Result<Value, E> {
        Ok(Value::from(v))
    }
    fn visit_u64<E: de::Error>(self, v: u64) -> Result<Value, E> {
        Ok(Value::from(v))
    }
    fn visit_f64<E: de::Error>(self, v: f64) -> Result<Value, E> {
        serde_json::Number::from_f64(v).map(Value::Number).ok_or_else(|| E::custom("non-finite number"))
    }
    fn visit_str<E: de::Error>(self, v: &str) -> Result<Value, E> {
        Ok(Value::String(v.to_owned()))
    }
    fn visit_string<E: de::Error>(self, v: String) -> Result<Value, E> {
        Ok(Value::String(v))
    }
    fn visit_unit<E: de::Error>(self) -> Result<Value, E> {
        Ok(Value::Null)
    }
    fn visit_none<E: de::Error>(self) -> Result<Value, E> {
        Ok(Value::Null)
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Value, A::Error> {
        let inner = StrictVisitor { top: false, ..self };
        let mut items = Vec::new();
        while let Some(item) = seq.next_element_seed(inner)? {
            items.push(item);
        }
        Ok(Value::Array(items))
    }

    fn visit_map<A: MapAccess<'de>>(self, mut access: A) -> Result<Value, A::Error> {
        let inner = StrictVisitor { top: false, ..self };
        let mut map = Map::new();
        while let Some(name) = access.next_key::<String>()? {
            if map.contains_key(&name) {
                let message = format!("duplicate member {name:?}");
                *self.duplicate.borrow_mut() = Some(name);
                return Err(de::Error::custom(message));
            }
            let value = access.next_value_seed(inner)?;
            map.insert(name, value);
        }
        Ok(Value::Object(map))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accepts_a_plain_object() {
        let map = parse_object(br#"{"a":1,"b":[true,null,"x",1.5,{"c":-2}]}"#, "header");
        assert_eq!(map.map(|m| m.len()), Ok(2));
    }

    #[test]
    fn refuses_duplicates_at_the_top_and_nested() {
        assert_eq!(
            parse_object(br#"{"alg":"RS256","alg":"none"}"#, "header"),
            Err(JoseError::DuplicateMember { part: "header", name: "alg".into() })
        );
        assert_eq!(
            parse_object(br#"{"jwk":{"kty":"EC","kty":"RSA"}}"#, "header"),
            Err(JoseError::DuplicateMember { part: "header", name: "kty".into() })
        );
    }

    #[test]
    fn refuses_non_objects_and_trailing_data() {
        for text in [&b"[1]"[..], b"\"x\"", b"1", b"null", b"{} {}", b"{", b"", b"\xff"] {
            assert!(matches!(parse_object(text, "payload"), Err(JoseError::Json { part: "payload", .. })), "{text:?}");
        }
    }

    #[test]
    fn deep_nesting_is_an_error_not_a_stack_overflow() {
        let text = format!("{{\"a\":{}{}}}", "[".repeat(10_000), "]".repeat(10_000));
        assert!(parse_object(text.as_bytes(), "payload").is_err());
    }
}
