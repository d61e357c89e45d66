//! RSA: size policy, PKCS#1 <-> components, JWK members, RS*/PS* sign and verify.
use aws_lc_rs::rsa::{KeyPair, KeyPairComponents, KeySize, PublicKeyComponents};
use aws_lc_rs::signature::{self, RsaEncoding, RsaParameters};
use der::{Decode, asn1::UintRef};
use zeroize::Zeroizing;

use super::PublicMaterial;
use crate::{Algorithm, JoseError, Jwk, b64url_decode_part, b64url_encode};

/// Smallest modulus accepted, in bits (NIST SP 800-131A; RFC 7518 §3.3 requires 2048).
const MIN_BITS: u32 = 2048;
/// Largest modulus accepted (aws-lc-rs verifies up to 8192 bits).
const MAX_BITS: u32 = 8192;

/// The bit length of a big-endian unsigned integer.
pub(super) fn bits(n: &[u8]) -> u32 {
    let n = strip_zeros(n);
    let Some(first) = n.first() else { return 0 };
    u32::try_from(n.len() * 8).unwrap_or(u32::MAX).saturating_sub(first.leading_zeros())
}

fn strip_zeros(mut bytes: &[u8]) -> &[u8] {
    while let [0, rest @ ..] = bytes {
        bytes = rest;
    }
    bytes
}

fn invalid(detail: &str) -> JoseError {
    JoseError::InvalidKey(detail.to_owned())
}

/// Refuses moduli outside [2048, 8192] bits.
fn check_size(n: &[u8]) -> Result<(), JoseError> {
    match bits(n) {
        b if b < MIN_BITS => Err(JoseError::KeyTooSmall(b)),
        b if b > MAX_BITS => Err(JoseError::InvalidKey(format!("RSA key of {b} bits is larger than {MAX_BITS}"))),
        _ => Ok(()),
    }
}

pub(super) fn generate(bits: u32) -> Result<KeyPair, JoseError> {
    let size = match bits {
        2048 => KeySize::Rsa2048,
        3072 => KeySize::Rsa3072,
        4096 => KeySize::Rsa4096,
        b if b < MIN_BITS => return Err(JoseError::KeyTooSmall(b)),
        b => return Err(JoseError::Unsupported(format!("generating RSA-{b}; use 2048, 3072 or 4096"))),
    };
    KeyPair::generate(size).map_err(|_| invalid("RSA key generation failed"))
}

/// Validated public material from `n` and `e` (leading zero bytes are tolerated and dropped).
pub(super) fn public_material(n: &[u8], e: &[u8]) -> Result<PublicMaterial, JoseError> {
    let (n, e) = (strip_zeros(n), strip_zeros(e));
    check_size(n)?;
    // e must be odd and at least 3; e = 1 makes every "signature" its own message.
    let e_value = match e.len() {
        1..=4 => e.iter().fold(0u32, |acc, b| (acc << 8) | u32::from(*b)),
        _ => return Err(invalid("RSA public exponent is longer than 32 bits")),
    };
    if e_value < 3 || e_value % 2 == 0 {
        return Err(JoseError::InvalidKey(format!("RSA public exponent {e_value} is not an odd number >= 3")));
    }
    if n.last().is_none_or(|last| last % 2 == 0) {
        return Err(invalid("RSA modulus is even"));
    }
    PublicKeyComponents { n, e }
        .to_parsed_public_key(&signature::RSA_PKCS1_2048_8192_SHA256)
        .map_err(|e| JoseError::InvalidKey(format!("RSA public key rejected: {e}")))?;
    Ok(PublicMaterial::Rsa { n: n.to_vec(), e: e.to_vec() })
}

/// From a DER `RSAPublicKey` (RFC 8017 A.1.1).
pub(super) fn public_material_from_pkcs1(der: &[u8]) -> Result<PublicMaterial, JoseError> {
    let key = pkcs1::RsaPublicKey::<UintRef<'_>>::from_der(der)
        .map_err(|e| JoseError::InvalidKey(format!("bad RSAPublicKey: {e}")))?;
    public_material(key.modulus.as_bytes(), key.public_exponent.as_bytes())
}

fn member<'a>(jwk: &'a Jwk, value: &'a Option<String>, name: &str) -> Result<&'a str, JoseError> {
    value.as_deref().ok_or_else(|| JoseError::InvalidKey(format!("{} JWK without {name:?}", jwk.kty)))
}

fn decode_member(jwk: &Jwk, value: &Option<String>, name: &'static str) -> Result<Zeroizing<Vec<u8>>, JoseError> {
    Ok(Zeroizing::new(b64url_decode_part(member(jwk, value, name)?, name)?))
}

pub(super) fn public_material_from_jwk(jwk: &Jwk) -> Result<PublicMaterial, JoseError> {
    public_material(&decode_member(jwk, &jwk.n, "n")?, &decode_member(jwk, &jwk.e, "e")?)
}

/// From a DER `RSAPrivateKey` (PKCS#1, what `openssl genrsa -traditional` writes).
pub(super) fn from_pkcs1_der(der: &[u8]) -> Result<KeyPair, JoseError> {
    check_private_der(der)?;
    KeyPair::from_der(der).map_err(|e| JoseError::InvalidKey(format!("RSA private key rejected: {e}")))
}

/// From a PKCS#8 document whose inner `RSAPrivateKey` is `inner`.
pub(super) fn from_pkcs8(pkcs8: &[u8], inner: &[u8]) -> Result<KeyPair, JoseError> {
    check_private_der(inner)?;
    KeyPair::from_pkcs8(pkcs8).map_err(|e| JoseError::InvalidKey(format!("RSA private key rejected: {e}")))
}

/// Size and shape checks that give a precise error before aws-lc-rs gives a generic one.
fn check_private_der(der: &[u8]) -> Result<(), JoseError> {
    let key = pkcs1::RsaPrivateKey::<UintRef<'_>>::from_der(der)
        .map_err(|e| JoseError::InvalidKey(format!("bad RSAPrivateKey: {e}")))?;
    if key.other_prime_infos.is_some() {
        return Err(JoseError::Unsupported("multi-prime RSA keys".into()));
    }
    check_size(key.modulus.as_bytes())
}

pub(super) fn from_jwk(jwk: &Jwk) -> Result<KeyPair, JoseError> {
    if jwk.other.contains_key("oth") {
        return Err(JoseError::Unsupported("multi-prime RSA keys (oth)".into()));
    }
    let n = decode_member(jwk, &jwk.n, "n")?;
    let e = decode_member(jwk, &jwk.e, "e")?;
    public_material(&n, &e)?;
    let d = decode_member(jwk, &jwk.d, "d")?;
    let crt = [&jwk.p, &jwk.q, &jwk.dp, &jwk.dq, &jwk.qi];
    let [p, q, dp, dq, qi] = if crt.iter().all(|m| m.is_some()) {
        [
            decode_member(jwk, &jwk.p, "p")?,
            decode_member(jwk, &jwk.q, "q")?,
            decode_member(jwk, &jwk.dp, "dp")?,
            decode_member(jwk, &jwk.dq, "dq")?,
            decode_member(jwk, &jwk.qi, "qi")?,
        ]
    } else if crt.iter().all(|m| m.is_none()) {
        // RFC 7518 §6.3.2: the CRT members are optional; recover them from n, e, d.
        super::rsa_crt::recover(&n, &e, &d)?
    } else {
        return Err(invalid("RSA JWK has some but not all of p, q, dp, dq, qi"));
    };
    let components = KeyPairComponents {
        public_key: PublicKeyComponents { n: strip_zeros(&n), e: strip_zeros(&e) },
        d: &d[..],
        p: &p[..],
        q: &q[..],
        dP: &dp[..],
        dQ: &dq[..],
        qInv: &qi[..],
    };
    KeyPair::from_components(&components).map_err(|e| JoseError::InvalidKey(format!("RSA private JWK rejected: {e}")))
}

pub(super) fn to_pkcs8(kp: &KeyPair) -> Result<Zeroizing<Vec<u8>>, JoseError> {
    use aws_lc_rs::encoding::{AsDer, Pkcs8V1Der};
    let der: Pkcs8V1Der<'static> = kp.as_der().map_err(|_| invalid("PKCS#8 encoding failed"))?;
    Ok(Zeroizing::new(der.as_ref().to_vec()))
}

/// The PKCS#1 `RSAPrivateKey` inside our PKCS#8 encoding.
pub(super) fn to_pkcs1(kp: &KeyPair) -> Result<Zeroizing<Vec<u8>>, JoseError> {
    let pkcs8 = to_pkcs8(kp)?;
    let info = pkcs8::PrivateKeyInfoRef::from_der(&pkcs8).map_err(|_| invalid("PKCS#8 decoding failed"))?;
    Ok(Zeroizing::new(info.private_key.as_bytes().to_vec()))
}

pub(super) fn add_private_members(kp: &KeyPair, jwk: &mut Jwk) -> Result<(), JoseError> {
    let pkcs1 = to_pkcs1(kp)?;
    let key = pkcs1::RsaPrivateKey::<UintRef<'_>>::from_der(&pkcs1).map_err(|_| invalid("PKCS#1 decoding failed"))?;
    let b64 = |v: UintRef<'_>| Some(b64url_encode(v.as_bytes()));
    jwk.d = b64(key.private_exponent);
    jwk.p = b64(key.prime1);
    jwk.q = b64(key.prime2);
    jwk.dp = b64(key.exponent1);
    jwk.dq = b64(key.exponent2);
    jwk.qi = b64(key.coefficient);
    Ok(())
}

pub(super) fn sign(kp: &KeyPair, alg: Algorithm, message: &[u8]) -> Result<Vec<u8>, JoseError> {
    let encoding: &'static dyn RsaEncoding = match alg {
        Algorithm::Rs256 => &signature::RSA_PKCS1_SHA256,
        Algorithm::Rs384 => &signature::RSA_PKCS1_SHA384,
        Algorithm::Rs512 => &signature::RSA_PKCS1_SHA512,
        Algorithm::Ps256 => &signature::RSA_PSS_SHA256,
        Algorithm::Ps384 => &signature::RSA_PSS_SHA384,
        Algorithm::Ps512 => &signature::RSA_PSS_SHA512,
        _ => return Err(invalid("not an RSA algorithm")),
    };
    let mut out = vec![0; kp.public_modulus_len()];
    kp.sign(encoding, &aws_lc_rs::rand::SystemRandom::new(), message, &mut out)
        .map_err(|_| invalid("RSA signing failed"))?;
    Ok(out)
}

pub(super) fn verify(n: &[u8], e: &[u8], alg: Algorithm, message: &[u8], sig: &[u8]) -> Result<(), ()> {
    // PS*: MGF1 with the same hash and a salt as long as the hash (RFC 7518 §3.5).
    let params: &'static RsaParameters = match alg {
        Algorithm::Rs256 => &signature::RSA_PKCS1_2048_8192_SHA256,
        Algorithm::Rs384 => &signature::RSA_PKCS1_2048_8192_SHA384,
        Algorithm::Rs512 => &signature::RSA_PKCS1_2048_8192_SHA512,
        Algorithm::Ps256 => &signature::RSA_PSS_2048_8192_SHA256,
        Algorithm::Ps384 => &signature::RSA_PSS_2048_8192_SHA384,
        Algorithm::Ps512 => &signature::RSA_PSS_2048_8192_SHA512,
        _ => return Err(()),
    };
    PublicKeyComponents { n, e }.verify(params, message, sig).map_err(|_| ())
}

/// SPKI DER for `n`, `e`.
pub(super) fn spki_der(n: &[u8], e: &[u8]) -> Result<Vec<u8>, JoseError> {
    use aws_lc_rs::encoding::AsDer;
    let der = PublicKeyComponents { n, e }.as_der().map_err(|_| invalid("SPKI encoding failed"))?;
    Ok(der.as_ref().to_vec())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bit_lengths() {
        assert_eq!(bits(&[]), 0);
        assert_eq!(bits(&[0, 0, 1]), 1);
        assert_eq!(bits(&[0x80, 0]), 16);
        assert_eq!(bits(&[0x7f; 256]), 2047);
    }

    #[test]
    fn exponent_policy() {
        let mut n = vec![0xc5; 256];
        n[255] = 0x01;
        assert!(matches!(public_material(&n, &[1]), Err(JoseError::InvalidKey(_))));
        assert!(matches!(public_material(&n, &[4]), Err(JoseError::InvalidKey(_))));
        assert!(matches!(public_material(&n, &[1, 0, 0, 0, 1]), Err(JoseError::InvalidKey(_))));
        assert_eq!(public_material(&n[..128], &[1, 0, 1]).err(), Some(JoseError::KeyTooSmall(1024)));
        assert!(public_material(&n, &[1, 0, 1]).is_ok());
    }
}
