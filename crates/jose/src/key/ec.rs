//! ECDSA on P-256/384/521: curve plumbing, SEC1, JWK members, ES* verification (raw `r || s`).
use aws_lc_rs::encoding::{AsBigEndian, AsDer, EcPrivateKeyBin, EcPrivateKeyRfc5915Der};
use aws_lc_rs::signature::{self, EcdsaKeyPair, EcdsaSigningAlgorithm, EcdsaVerificationAlgorithm, ParsedPublicKey};
use der::Decode;
use der::asn1::ObjectIdentifier;
use zeroize::Zeroizing;

use super::PublicMaterial;
use crate::{Curve, JoseError, Jwk, b64url_decode_part, b64url_encode};

pub(super) const P256_OID: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.10045.3.1.7");
pub(super) const P384_OID: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.3.132.0.34");
pub(super) const P521_OID: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.3.132.0.35");

fn invalid(detail: &str) -> JoseError {
    JoseError::InvalidKey(detail.to_owned())
}

pub(super) fn curve_from_oid(oid: ObjectIdentifier) -> Result<Curve, JoseError> {
    match oid {
        P256_OID => Ok(Curve::P256),
        P384_OID => Ok(Curve::P384),
        P521_OID => Ok(Curve::P521),
        other => Err(JoseError::InvalidKey(format!("unsupported elliptic curve {other}"))),
    }
}

fn signing_alg(curve: Curve) -> Result<&'static EcdsaSigningAlgorithm, JoseError> {
    match curve {
        Curve::P256 => Ok(&signature::ECDSA_P256_SHA256_FIXED_SIGNING),
        Curve::P384 => Ok(&signature::ECDSA_P384_SHA384_FIXED_SIGNING),
        Curve::P521 => Ok(&signature::ECDSA_P521_SHA512_FIXED_SIGNING),
        Curve::Ed25519 => Err(invalid("Ed25519 is not an ECDSA curve")),
    }
}

/// The one verification algorithm per curve that JWS defines (ES256 = P-256 + SHA-256, ...).
pub(super) fn verification_alg(curve: Curve) -> Result<&'static EcdsaVerificationAlgorithm, JoseError> {
    match curve {
        Curve::P256 => Ok(&signature::ECDSA_P256_SHA256_FIXED),
        Curve::P384 => Ok(&signature::ECDSA_P384_SHA384_FIXED),
        Curve::P521 => Ok(&signature::ECDSA_P521_SHA512_FIXED),
        Curve::Ed25519 => Err(invalid("Ed25519 is not an ECDSA curve")),
    }
}

pub(super) fn generate(curve: Curve) -> Result<EcdsaKeyPair, JoseError> {
    EcdsaKeyPair::generate(signing_alg(curve)?).map_err(|_| invalid("EC key generation failed"))
}

/// Validated public material from an uncompressed SEC1 point.
pub(super) fn public_material(curve: Curve, point: &[u8]) -> Result<PublicMaterial, JoseError> {
    let len = curve.coordinate_len();
    match point {
        [0x04, rest @ ..] if rest.len() == 2 * len => {}
        [0x02 | 0x03, ..] => return Err(JoseError::Unsupported("compressed EC points".into())),
        _ => {
            return Err(JoseError::InvalidKey(format!("not an uncompressed {} point", curve.as_str())));
        }
    }
    ParsedPublicKey::new(verification_alg(curve)?, point)
        .map_err(|_| JoseError::InvalidKey(format!("the point is not on {}", curve.as_str())))?;
    Ok(PublicMaterial::Ec { curve, point: point.to_vec() })
}

/// `(x, y)` of a point built by [`public_material`].
pub(super) fn coordinates(curve: Curve, point: &[u8]) -> (&[u8], &[u8]) {
    let len = curve.coordinate_len();
    let xy = point.get(1..).unwrap_or_default();
    (xy.get(..len).unwrap_or_default(), xy.get(len..).unwrap_or_default())
}

fn decode_member(value: &Option<String>, name: &'static str, len: usize) -> Result<Zeroizing<Vec<u8>>, JoseError> {
    let text = value.as_deref().ok_or_else(|| JoseError::InvalidKey(format!("EC JWK without {name:?}")))?;
    let bytes = Zeroizing::new(b64url_decode_part(text, name)?);
    // RFC 7518 §6.2.1.2-6.2.2.1: x, y and d are the full coordinate length, no more, no less.
    if bytes.len() != len {
        return Err(JoseError::InvalidKey(format!("EC JWK {name:?} is {} bytes, expected {len}", bytes.len())));
    }
    Ok(bytes)
}

fn jwk_curve(jwk: &Jwk) -> Result<Curve, JoseError> {
    let crv = jwk.crv.as_deref().ok_or_else(|| invalid("EC JWK without \"crv\""))?;
    match Curve::from_name(crv)? {
        Curve::Ed25519 => Err(invalid("crv Ed25519 belongs to kty OKP, not EC")),
        curve => Ok(curve),
    }
}

fn jwk_point(jwk: &Jwk, curve: Curve) -> Result<Vec<u8>, JoseError> {
    let len = curve.coordinate_len();
    let mut point = Vec::with_capacity(1 + 2 * len);
    point.push(0x04);
    point.extend_from_slice(&decode_member(&jwk.x, "x", len)?);
    point.extend_from_slice(&decode_member(&jwk.y, "y", len)?);
    Ok(point)
}

pub(super) fn public_material_from_jwk(jwk: &Jwk) -> Result<PublicMaterial, JoseError> {
    let curve = jwk_curve(jwk)?;
    public_material(curve, &jwk_point(jwk, curve)?)
}

pub(super) fn from_jwk(jwk: &Jwk) -> Result<(Curve, EcdsaKeyPair), JoseError> {
    let curve = jwk_curve(jwk)?;
    let point = jwk_point(jwk, curve)?;
    public_material(curve, &point)?;
    let d = decode_member(&jwk.d, "d", curve.coordinate_len())?;
    EcdsaKeyPair::from_private_key_and_public_key(signing_alg(curve)?, &d, &point)
        .map(|kp| (curve, kp))
        .map_err(|_| invalid("EC private JWK rejected: d does not match x, y"))
}

pub(super) fn from_pkcs8(curve: Curve, der: &[u8]) -> Result<EcdsaKeyPair, JoseError> {
    EcdsaKeyPair::from_pkcs8(signing_alg(curve)?, der)
        .map_err(|e| JoseError::InvalidKey(format!("EC private key rejected: {e}")))
}

/// From a DER `ECPrivateKey` (SEC1 / RFC 5915, what `openssl ecparam -genkey` writes).
pub(super) fn from_sec1_der(der: &[u8]) -> Result<(Curve, EcdsaKeyPair), JoseError> {
    let key = sec1::EcPrivateKey::from_der(der).map_err(|e| JoseError::InvalidKey(format!("bad ECPrivateKey: {e}")))?;
    let Some(sec1::EcParameters::NamedCurve(oid)) = key.parameters else {
        return Err(invalid("the SEC1 key does not name its curve"));
    };
    let curve = curve_from_oid(oid)?;
    EcdsaKeyPair::from_private_key_der(signing_alg(curve)?, der)
        .map(|kp| (curve, kp))
        .map_err(|e| JoseError::InvalidKey(format!("EC private key rejected: {e}")))
}

pub(super) fn to_pkcs8(kp: &EcdsaKeyPair) -> Result<Zeroizing<Vec<u8>>, JoseError> {
    let doc = kp.to_pkcs8v1().map_err(|_| invalid("PKCS#8 encoding failed"))?;
    Ok(Zeroizing::new(doc.as_ref().to_vec()))
}

pub(super) fn to_sec1(kp: &EcdsaKeyPair) -> Result<Zeroizing<Vec<u8>>, JoseError> {
    let der: EcPrivateKeyRfc5915Der<'static> =
        kp.private_key().as_der().map_err(|_| invalid("SEC1 encoding failed"))?;
    Ok(Zeroizing::new(der.as_ref().to_vec()))
}

pub(super) fn private_scalar_b64(kp: &EcdsaKeyPair) -> Result<String, JoseError> {
    let d: EcPrivateKeyBin<'static> =
        kp.private_key().as_be_bytes().map_err(|_| invalid("EC private key export failed"))?;
    Ok(b64url_encode(d.as_ref()))
}

pub(super) fn spki_der(curve: Curve, point: &[u8]) -> Result<Vec<u8>, JoseError> {
    let key = ParsedPublicKey::new(verification_alg(curve)?, point).map_err(|_| invalid("EC point rejected"))?;
    let der = key.as_der().map_err(|_| invalid("SPKI encoding failed"))?;
    Ok(der.as_ref().to_vec())
}
