//! Containers: PEM armour, PKCS#8 `PrivateKeyInfo` and SPKI `SubjectPublicKeyInfo`, dispatched by OID.
use der::Decode;
use der::asn1::ObjectIdentifier;
use zeroize::Zeroizing;

use super::{PublicMaterial, Signer, ec, okp, rsa};
use crate::JoseError;

const RSA_OID: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.113549.1.1.1");
const RSA_PSS_OID: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.113549.1.1.10");
const EC_OID: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.10045.2.1");
const ED25519_OID: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.3.101.112");

fn bad(what: &str, e: impl std::fmt::Display) -> JoseError {
    JoseError::InvalidKey(format!("bad {what}: {e}"))
}

/// Decodes the first PEM block that is not `EC PARAMETERS` (`openssl ecparam -genkey` writes one first).
pub(super) fn decode_pem(text: &str) -> Result<(String, Zeroizing<Vec<u8>>), JoseError> {
    let starts: Vec<usize> = text.match_indices("-----BEGIN ").map(|(i, _)| i).collect();
    if starts.is_empty() {
        return Err(JoseError::InvalidKey("not a PEM document (no -----BEGIN line)".into()));
    }
    for (i, &start) in starts.iter().enumerate() {
        let end = starts.get(i + 1).copied().unwrap_or(text.len());
        let block = text.get(start..end).unwrap_or_default().trim();
        // Detect the wrap width: some tools write 76-column or unwrapped base64.
        let mut decoder = der::pem::Decoder::new_detect_wrap(block.as_bytes()).map_err(|e| bad("PEM", e))?;
        let label = decoder.type_label().to_owned();
        // Capacity up front, so no reallocation leaves an unzeroized copy behind.
        let mut der = Zeroizing::new(Vec::with_capacity(block.len()));
        decoder.decode_to_end(&mut der).map_err(|e| bad("PEM", e))?;
        if label != "EC PARAMETERS" {
            return Ok((label, der));
        }
    }
    Err(JoseError::InvalidKey("the PEM holds only EC PARAMETERS, no key".into()))
}

pub(super) fn encode_pem(label: &str, der: &[u8]) -> Result<Zeroizing<String>, JoseError> {
    der::pem::encode_string(label, der::pem::LineEnding::LF, der)
        .map(Zeroizing::new)
        .map_err(|e| JoseError::InvalidKey(format!("PEM encoding failed: {e}")))
}

fn named_curve(params: Option<der::AnyRef<'_>>) -> Result<crate::Curve, JoseError> {
    let oid = params
        .ok_or_else(|| JoseError::InvalidKey("EC key without curve parameters".into()))?
        .decode_as::<ObjectIdentifier>()
        .map_err(|e| bad("EC curve parameters (only named curves are supported)", e))?;
    ec::curve_from_oid(oid)
}

pub(super) fn signer_from_pkcs8(der: &[u8]) -> Result<Signer, JoseError> {
    let info = pkcs8::PrivateKeyInfoRef::from_der(der).map_err(|e| bad("PKCS#8", e))?;
    match info.algorithm.oid {
        RSA_OID => Ok(Signer::Rsa(rsa::from_pkcs8(der, info.private_key.as_bytes())?)),
        EC_OID => {
            let curve = named_curve(info.algorithm.parameters)?;
            Ok(Signer::Ec(curve, ec::from_pkcs8(curve, der)?))
        }
        ED25519_OID => Ok(Signer::Ed25519(okp::from_pkcs8(der)?)),
        RSA_PSS_OID => Err(JoseError::Unsupported("RSASSA-PSS-only keys (id-RSASSA-PSS); use rsaEncryption".into())),
        other => Err(JoseError::Unsupported(format!("private key algorithm {other}"))),
    }
}

pub(super) fn public_from_spki(der: &[u8]) -> Result<PublicMaterial, JoseError> {
    let spki = spki::SubjectPublicKeyInfoRef::from_der(der).map_err(|e| bad("SubjectPublicKeyInfo", e))?;
    let bits = spki
        .subject_public_key
        .as_bytes()
        .ok_or_else(|| JoseError::InvalidKey("public key BIT STRING with unused bits".into()))?;
    match spki.algorithm.oid {
        RSA_OID => rsa::public_material_from_pkcs1(bits),
        EC_OID => ec::public_material(named_curve(spki.algorithm.parameters)?, bits),
        ED25519_OID => okp::public_material(bits),
        RSA_PSS_OID => Err(JoseError::Unsupported("RSASSA-PSS-only keys (id-RSASSA-PSS); use rsaEncryption".into())),
        other => Err(JoseError::Unsupported(format!("public key algorithm {other}"))),
    }
}

pub(super) fn spki_der(material: &PublicMaterial) -> Result<Vec<u8>, JoseError> {
    match material {
        PublicMaterial::Rsa { n, e } => rsa::spki_der(n, e),
        PublicMaterial::Ec { curve, point } => ec::spki_der(*curve, point),
        PublicMaterial::Ed25519 { x } => okp::spki_der(x),
    }
}
