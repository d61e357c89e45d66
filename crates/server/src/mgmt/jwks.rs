//! Validation of the public keys a client registers (`jwks` in DCR and the Apps API), with Okta's causes.
use tollgate_jose::{JoseError, Jwk, PublicKey};
use tollgate_store::{ACTIVE, AppKey};

/// Most keys an app may hold (Okta's limit).
pub(crate) const MAX_APP_KEYS: usize = 50;

/// Checks a JWKS value and turns it into key rows for `app_id`. The error is the cause to report.
pub(crate) fn app_keys_from_jwks(value: &serde_json::Value, app_id: &str, now: i64) -> Result<Vec<AppKey>, String> {
    let keys = value
        .get("keys")
        .and_then(|k| k.as_array())
        .ok_or_else(|| "jwks: must be an object with a 'keys' array".to_string())?;
    if keys.is_empty() {
        return Err("jwks: must contain at least one key".into());
    }
    if keys.len() > MAX_APP_KEYS {
        return Err(format!(
            "You can't create a new key. You have reached the maximum number of keys allowed ({MAX_APP_KEYS})."
        ));
    }
    let mut rows = Vec::with_capacity(keys.len());
    let mut kids = std::collections::HashSet::new();
    for (i, raw) in keys.iter().enumerate() {
        let jwk = check_public_jwk(raw, i)?;
        match &jwk.kid {
            Some(kid) if !kids.insert(kid.clone()) => {
                return Err("All keys in the 'jwks' must have a unique `kid`.".into());
            }
            None if keys.len() > 1 => {
                return Err("Each key should have a unique kid when adding multiple keys.".into());
            }
            _ => {}
        }
        rows.push(AppKey {
            id: crate::ids::new_id("pks"),
            app_id: app_id.to_string(),
            kid: jwk.kid.clone(),
            status: ACTIVE.into(),
            jwk: serde_json::to_string(&jwk).map_err(|e| e.to_string())?,
            created: now,
            last_updated: now,
        });
    }
    Ok(rows)
}

/// Parses one public JWK, refusing private material, symmetric keys and weak RSA keys.
pub(crate) fn check_public_jwk(raw: &serde_json::Value, index: usize) -> Result<Jwk, String> {
    let jwk: Jwk = serde_json::from_value(raw.clone()).map_err(|e| format!("jwks.keys[{index}]: {e}"))?;
    PublicKey::from_jwk(&jwk).map_err(|e| match e {
        JoseError::KeyTooSmall(_) => {
            "RSA key length in the 'jwks' is less than '2,048' bits for the given key.".to_string()
        }
        JoseError::PrivateKeyMaterial { .. } => {
            format!("jwks.keys[{index}]: the key carries private key material; register only the public key")
        }
        other => format!("jwks.keys[{index}]: {other}"),
    })?;
    Ok(jwk)
}

/// A stored key as DCR echoes it: the JWK with `use` shown as `null` when it was not given.
pub(crate) fn echo_jwk(key: &AppKey) -> serde_json::Value {
    let mut v: serde_json::Value = serde_json::from_str(&key.jwk).unwrap_or(serde_json::Value::Null);
    if let Some(map) = v.as_object_mut() {
        map.entry("use").or_insert(serde_json::Value::Null);
    }
    v
}
