//! `tollgate-jose`: the JOSE layer every other tollgate crate signs and verifies through.
//!
//! * [`key`]: RSA / EC / Ed25519 key pairs and public keys; PEM, DER, JWK conversion; RFC 7638 thumbprints.
//! * [`jwk`]: the JWK and JWKS wire types.
//! * [`jws`]: compact JWS sign and strict decode + verify (RFC 7515, with RFC 8725's rules).
//! * [`claims`]: JWT claims (RFC 7519) and their validation against an explicit clock.
//! * [`dpop`]: DPoP proofs (RFC 9449), signed and checked.
//! * [`assertion`]: client assertions' refusals (RFC 7523), with Okta's texts, for the server and `explain`.
//!
//! All cryptography is aws-lc-rs; ASN.1, PEM, base64 and JSON come from crates. The crate does no I/O,
//! has no async and no clock of its own: time is always passed in, so that tests and the server agree on it.

pub mod alg;
pub mod assertion;
pub mod claims;
pub mod dpop;
pub mod error;
pub mod explain;
pub mod federation;
mod json;
pub mod jwk;
pub mod jws;
pub mod key;

pub use alg::{Algorithm, Curve, KeySpec};
pub use claims::{Audience, Claims, ClaimsError, Validation};
pub use error::JoseError;
pub use jwk::{Jwk, Jwks};
pub use jws::{Header, Jws};
pub use key::{PrivateKey, PublicKey};

use base64ct::{Base64UrlUnpadded, Encoding};

/// Strict base64url (RFC 4648 §5, no padding, canonical trailing bits) encoding.
pub fn b64url_encode(bytes: &[u8]) -> String {
    Base64UrlUnpadded::encode_string(bytes)
}

/// Strict base64url decoding: no padding, no whitespace, no non-canonical trailing bits.
pub fn b64url_decode(text: &str) -> Result<Vec<u8>, JoseError> {
    b64url_decode_part(text, "input")
}

/// [`b64url_decode`], naming `part` in the error.
pub(crate) fn b64url_decode_part(text: &str, part: &'static str) -> Result<Vec<u8>, JoseError> {
    let bytes = Base64UrlUnpadded::decode_vec(text).map_err(|_| JoseError::Base64(part))?;
    // base64ct already refuses non-zero unused trailing bits; re-encoding is a cheap belt-and-braces
    // check that only the canonical spelling of these bytes is accepted (RFC 7515 §2, RFC 4648 §3.5).
    let canonical = zeroize::Zeroizing::new(Base64UrlUnpadded::encode_string(&bytes));
    if canonical.as_str() != text {
        return Err(JoseError::Base64(part));
    }
    Ok(bytes)
}

/// SHA-256 of `bytes`, base64url encoded (used for DPoP `ath` and RFC 7638 thumbprints).
pub fn sha256_b64url(bytes: &[u8]) -> String {
    b64url_encode(aws_lc_rs::digest::digest(&aws_lc_rs::digest::SHA256, bytes).as_ref())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn b64url_round_trips() {
        for len in 0..40u8 {
            let bytes: Vec<u8> = (0..len).map(|i| i.wrapping_mul(37).wrapping_add(250)).collect();
            assert_eq!(b64url_decode(&b64url_encode(&bytes)), Ok(bytes));
        }
    }

    #[test]
    fn b64url_refuses_padding_whitespace_and_the_standard_alphabet() {
        for bad in ["Zg==", "Zg=", "Zm9v YmFy", "Zm9v\n", "+/8", "ab/c", "Z", "Zm9vY"] {
            assert_eq!(b64url_decode(bad), Err(JoseError::Base64("input")), "{bad:?}");
        }
    }

    #[test]
    fn b64url_refuses_non_canonical_trailing_bits() {
        // "AA" is the canonical spelling of [0]; "AB".."AP" differ only in the 4 unused bits.
        assert_eq!(b64url_decode("AA"), Ok(vec![0]));
        for bad in ["AB", "AF", "AP", "AAB", "AAD"] {
            assert_eq!(b64url_decode(bad), Err(JoseError::Base64("input")), "{bad:?}");
        }
        assert_eq!(b64url_decode("AAE"), Ok(vec![0, 1]));
    }

    #[test]
    fn sha256_b64url_of_abc() {
        assert_eq!(sha256_b64url(b"abc"), "ungWv48Bz-pBQUDeXa4iI7ADYaOWF3qctBD_YfIAFa0");
    }
}
