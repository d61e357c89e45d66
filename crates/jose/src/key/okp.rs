//! Ed25519 (RFC 8037 `OKP` keys, JWS `EdDSA`).
use aws_lc_rs::encoding::{AsBigEndian, AsDer, Curve25519SeedBin};
use aws_lc_rs::signature::{self, Ed25519KeyPair, ParsedPublicKey};
use zeroize::Zeroizing;

use super::PublicMaterial;
use crate::{Curve, JoseError, Jwk, b64url_decode_part, b64url_encode};

const LEN: usize = 32;

fn invalid(detail: &str) -> JoseError {
    JoseError::InvalidKey(detail.to_owned())
}

pub(super) fn generate() -> Result<Ed25519KeyPair, JoseError> {
    Ed25519KeyPair::generate().map_err(|_| invalid("Ed25519 key generation failed"))
}

pub(super) fn public_material(x: &[u8]) -> Result<PublicMaterial, JoseError> {
    if x.len() != LEN {
        return Err(JoseError::InvalidKey(format!("an Ed25519 public key is {LEN} bytes, not {}", x.len())));
    }
    ParsedPublicKey::new(&signature::ED25519, x).map_err(|_| invalid("Ed25519 public key rejected"))?;
    Ok(PublicMaterial::Ed25519 { x: x.to_vec() })
}

fn decode_member(value: &Option<String>, name: &'static str) -> Result<Zeroizing<Vec<u8>>, JoseError> {
    let text = value.as_deref().ok_or_else(|| JoseError::InvalidKey(format!("OKP JWK without {name:?}")))?;
    let bytes = Zeroizing::new(b64url_decode_part(text, name)?);
    if bytes.len() != LEN {
        return Err(JoseError::InvalidKey(format!("OKP JWK {name:?} is {} bytes, expected {LEN}", bytes.len())));
    }
    Ok(bytes)
}

fn check_curve(jwk: &Jwk) -> Result<(), JoseError> {
    match jwk.crv.as_deref() {
        Some("Ed25519") => Ok(()),
        Some(other @ ("Ed448" | "X25519" | "X448")) => Err(JoseError::Unsupported(format!("OKP curve {other}"))),
        Some(other) => Curve::from_name(other).and(Err(invalid("OKP JWK with a non-OKP curve"))),
        None => Err(invalid("OKP JWK without \"crv\"")),
    }
}

pub(super) fn public_material_from_jwk(jwk: &Jwk) -> Result<PublicMaterial, JoseError> {
    check_curve(jwk)?;
    public_material(&decode_member(&jwk.x, "x")?)
}

pub(super) fn from_jwk(jwk: &Jwk) -> Result<Ed25519KeyPair, JoseError> {
    check_curve(jwk)?;
    let x = decode_member(&jwk.x, "x")?;
    let d = decode_member(&jwk.d, "d")?;
    Ed25519KeyPair::from_seed_and_public_key(&d, &x)
        .map_err(|_| invalid("Ed25519 private JWK rejected: d does not match x"))
}

pub(super) fn from_pkcs8(der: &[u8]) -> Result<Ed25519KeyPair, JoseError> {
    Ed25519KeyPair::from_pkcs8(der).map_err(|e| JoseError::InvalidKey(format!("Ed25519 private key rejected: {e}")))
}

pub(super) fn to_pkcs8(kp: &Ed25519KeyPair) -> Result<Zeroizing<Vec<u8>>, JoseError> {
    let doc = kp.to_pkcs8v1().map_err(|_| invalid("PKCS#8 encoding failed"))?;
    Ok(Zeroizing::new(doc.as_ref().to_vec()))
}

pub(super) fn seed_b64(kp: &Ed25519KeyPair) -> Result<String, JoseError> {
    let seed = kp.seed().map_err(|_| invalid("Ed25519 seed export failed"))?;
    let bytes: Curve25519SeedBin<'static> = seed.as_be_bytes().map_err(|_| invalid("Ed25519 seed export failed"))?;
    Ok(b64url_encode(bytes.as_ref()))
}

pub(super) fn spki_der(x: &[u8]) -> Result<Vec<u8>, JoseError> {
    let key = ParsedPublicKey::new(&signature::ED25519, x).map_err(|_| invalid("Ed25519 key rejected"))?;
    let der = key.as_der().map_err(|_| invalid("SPKI encoding failed"))?;
    Ok(der.as_ref().to_vec())
}
