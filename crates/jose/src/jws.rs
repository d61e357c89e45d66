//! Compact JWS (RFC 7515), small and strict.
//!
//! Decoding refuses: anything but three base64url parts, non-canonical base64url, a header or payload
//! that is not a JSON object (when parsed as claims), duplicate member names, `alg` `none`/`HS*`/unknown,
//! `crit` with anything (we understand no extensions, `b64` included), and inputs over [`MAX_TOKEN_LEN`].
//! The header's `jwk`, `jku`, `x5u` and `x5c` are exposed for protocols that need them (DPoP) but are
//! never used by [`Jws::verify`] to find a key: the caller always supplies the key.
use crate::{Algorithm, JoseError, Jwk, PrivateKey, PublicKey, b64url_decode_part, b64url_encode};

/// Largest compact JWS accepted, in bytes.
pub const MAX_TOKEN_LEN: usize = 16 * 1024;

/// A protected header.
#[derive(Debug, Clone, PartialEq)]
pub struct Header {
    pub alg: Algorithm,
    pub kid: Option<String>,
    pub typ: Option<String>,
    /// An embedded public key (DPoP proofs). Never used to verify unless the caller chooses it explicitly.
    pub jwk: Option<Jwk>,
    /// Every other member, kept as sent.
    pub other: serde_json::Map<String, serde_json::Value>,
}

impl Header {
    /// A header with only `alg`.
    pub fn new(alg: Algorithm) -> Self {
        Header { alg, kid: None, typ: None, jwk: None, other: serde_json::Map::new() }
    }
    /// Sets `kid`.
    pub fn with_kid(mut self, kid: impl Into<String>) -> Self {
        self.kid = Some(kid.into());
        self
    }
    /// Sets `typ`.
    pub fn with_typ(mut self, typ: impl Into<String>) -> Self {
        self.typ = Some(typ.into());
        self
    }
    /// Sets `jwk` (must be a public JWK).
    pub fn with_jwk(mut self, jwk: Jwk) -> Self {
        self.jwk = Some(jwk);
        self
    }
}

/// Signs `payload` as a compact JWS with `header` (whose `alg` must fit `key`).
pub fn sign(key: &PrivateKey, header: &Header, payload: &[u8]) -> Result<String, JoseError> {
    let header_json = serde_json::to_vec(&header.to_object()?).map_err(|e| crate::json::json_error("header", &e))?;
    let mut token = String::with_capacity((header_json.len() + payload.len()) * 4 / 3 + 400);
    token.push_str(&b64url_encode(&header_json));
    token.push('.');
    token.push_str(&b64url_encode(payload));
    let signature = key.sign(header.alg, token.as_bytes())?;
    token.push('.');
    token.push_str(&b64url_encode(&signature));
    Ok(token)
}

/// Header members with a meaning we own: they may not be smuggled in through [`Header::other`].
const RESERVED: [&str; 4] = ["alg", "kid", "typ", "jwk"];

impl Header {
    /// The header as a JSON object. Refuses what [`decode`] would refuse (`crit`, `b64`, a private `jwk`).
    fn to_object(&self) -> Result<serde_json::Map<String, serde_json::Value>, JoseError> {
        use serde_json::Value;
        let mut map = serde_json::Map::new();
        map.insert("alg".into(), Value::String(self.alg.as_str().into()));
        if let Some(kid) = &self.kid {
            map.insert("kid".into(), Value::String(kid.clone()));
        }
        if let Some(typ) = &self.typ {
            map.insert("typ".into(), Value::String(typ.clone()));
        }
        if let Some(jwk) = &self.jwk {
            if let Some(member) = jwk.private_member() {
                return Err(JoseError::PrivateKeyMaterial { kid: jwk.kid.clone(), member });
            }
            map.insert("jwk".into(), serde_json::to_value(jwk).map_err(|e| crate::json::json_error("header", &e))?);
        }
        for (name, value) in &self.other {
            if RESERVED.contains(&name.as_str()) {
                return Err(JoseError::DuplicateMember { part: "header", name: name.clone() });
            }
            if name == "crit" || name == "b64" {
                return Err(JoseError::UnknownCritical(name.clone()));
            }
            map.insert(name.clone(), value.clone());
        }
        Ok(map)
    }

    /// Reads a decoded header object, applying the rules in the module docs.
    fn from_object(mut map: serde_json::Map<String, serde_json::Value>) -> Result<Self, JoseError> {
        use serde_json::Value;
        let wrong = |name: &str| JoseError::Json { part: "header", detail: format!("\"{name}\" must be a string") };
        // RFC 7515 §4.1.11: we implement no extension, so any `crit` is refused, whatever it lists.
        if let Some(crit) = map.get("crit") {
            let names = match crit {
                Value::Array(items) => items.iter().map(|v| v.as_str().unwrap_or("?")).collect::<Vec<_>>().join(","),
                other => other.to_string(),
            };
            return Err(JoseError::UnknownCritical(names));
        }
        // RFC 7797 unencoded payloads change what is signed; not supported even without `crit`.
        if map.contains_key("b64") {
            return Err(JoseError::UnknownCritical("b64".into()));
        }
        let alg = match map.remove("alg") {
            Some(Value::String(name)) => Algorithm::from_name(&name)?,
            Some(_) => return Err(wrong("alg")),
            None => return Err(JoseError::Malformed("the header has no \"alg\"")),
        };
        let mut string = |name: &str| match map.remove(name) {
            None => Ok(None),
            Some(Value::String(value)) => Ok(Some(value)),
            Some(_) => Err(wrong(name)),
        };
        let kid = string("kid")?;
        let typ = string("typ")?;
        let jwk = match map.remove("jwk") {
            None => None,
            Some(value @ Value::Object(_)) => {
                let jwk: Jwk = serde_json::from_value(value).map_err(|e| crate::json::json_error("header", &e))?;
                if let Some(member) = jwk.private_member() {
                    return Err(JoseError::PrivateKeyMaterial { kid: jwk.kid, member });
                }
                Some(jwk)
            }
            Some(_) => {
                return Err(JoseError::Json { part: "header", detail: "\"jwk\" must be an object".into() });
            }
        };
        Ok(Header { alg, kid, typ, jwk, other: map })
    }
}

/// Serializes `claims` to JSON and signs it: a JWT.
pub fn sign_json<T: serde::Serialize>(key: &PrivateKey, header: &Header, claims: &T) -> Result<String, JoseError> {
    let payload = serde_json::to_vec(claims).map_err(|e| crate::json::json_error("payload", &e))?;
    sign(key, header, &payload)
}

/// A decoded, not yet verified, compact JWS.
#[derive(Debug, Clone)]
pub struct Jws<'a> {
    header: Header,
    payload: Vec<u8>,
    signing_input: &'a str,
    signature: Vec<u8>,
}

/// Strictly decodes a compact JWS without verifying it.
pub fn decode(token: &str) -> Result<Jws<'_>, JoseError> {
    if token.len() > MAX_TOKEN_LEN {
        return Err(JoseError::TooLarge { len: token.len(), limit: MAX_TOKEN_LEN });
    }
    let mut parts = token.split('.');
    let (Some(header_b64), Some(payload_b64), Some(signature_b64), None) =
        (parts.next(), parts.next(), parts.next(), parts.next())
    else {
        return Err(JoseError::Malformed("a compact JWS has exactly three parts separated by dots"));
    };
    let signing_input =
        token.get(..header_b64.len() + 1 + payload_b64.len()).ok_or(JoseError::Malformed("bad part lengths"))?;
    if header_b64.is_empty() {
        return Err(JoseError::Malformed("the header is empty"));
    }
    let header_json = b64url_decode_part(header_b64, "header")?;
    let header = Header::from_object(crate::json::parse_object(&header_json, "header")?)?;
    let payload = b64url_decode_part(payload_b64, "payload")?;
    if signature_b64.is_empty() {
        return Err(JoseError::Malformed("the signature is empty"));
    }
    let signature = b64url_decode_part(signature_b64, "signature")?;
    Ok(Jws { header, payload, signing_input, signature })
}

impl<'a> Jws<'a> {
    /// The protected header.
    pub fn header(&self) -> &Header {
        &self.header
    }
    /// The decoded payload bytes.
    pub fn payload(&self) -> &[u8] {
        &self.payload
    }
    /// The payload parsed as a JSON object (strict: no duplicate members) into `T`. Not verified!
    pub fn claims<T: serde::de::DeserializeOwned>(&self) -> Result<T, JoseError> {
        let map = crate::json::parse_object(&self.payload, "payload")?;
        crate::claims::check_registered_types(&map)?;
        serde_json::from_value(serde_json::Value::Object(map)).map_err(|e| crate::json::json_error("payload", &e))
    }
    /// `BASE64URL(header) || '.' || BASE64URL(payload)`.
    pub fn signing_input(&self) -> &'a str {
        self.signing_input
    }
    /// The raw signature bytes.
    pub fn signature(&self) -> &[u8] {
        &self.signature
    }
    /// Verifies the signature with `key`, after checking that the header's `alg` fits the key.
    pub fn verify(&self, key: &PublicKey) -> Result<(), JoseError> {
        key.verify(self.header.alg, self.signing_input.as_bytes(), &self.signature)
    }
}

#[cfg(test)]
mod tests;
