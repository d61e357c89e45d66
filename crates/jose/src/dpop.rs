//! DPoP proofs (RFC 9449): signing them (clients) and checking them (authorization and resource servers).
//!
//! One vocabulary for every party: [`DpopError`]'s messages are Okta's `error_description` texts, so the
//! server answers with them, the verifier puts them in `WWW-Authenticate`, and `tollgate explain` reads
//! them back. What needs state (the `jti` replay cache, the server's nonce) is the caller's job: this module
//! returns the proof's `jti` and `nonce` and checks everything that needs only the proof, the request and a
//! clock.
use crate::{Algorithm, Header, JoseError, PrivateKey, PublicKey, b64url_encode, sha256_b64url};
use serde::{Deserialize, Serialize};

/// The `typ` every DPoP proof carries.
pub const PROOF_TYP: &str = "dpop+jwt";
/// A proof older than this is stale (Okta: "issued more than five minutes in the past").
pub const MAX_AGE_SECONDS: i64 = 300;
/// Clock skew tolerated for an `iat` ahead of our clock.
pub const FUTURE_LEEWAY_SECONDS: i64 = 5;
/// Longest `jti` accepted: enough for any UUID or 32 random bytes, short enough to store.
pub const MAX_JTI_LEN: usize = 256;
/// The proof signing algorithms a server accepts, as Okta advertises them (`dpop_signing_alg_values_supported`).
pub const SUPPORTED_ALGS: [Algorithm; 6] =
    [Algorithm::Rs256, Algorithm::Rs384, Algorithm::Rs512, Algorithm::Es256, Algorithm::Es384, Algorithm::Es512];

/// Why a DPoP proof (or its use) was refused. `Display` is Okta's `error_description`.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum DpopError {
    #[error("The DPoP proof JWT header is missing.")]
    Missing,
    #[error("Multiple DPoP proof JWT headers are not allowed.")]
    Multiple,
    #[error("The DPoP proof JWT cannot be parsed.")]
    Unparsable,
    #[error("'typ' must be 'dpop+jwt' in the DPoP proof JWT.")]
    WrongTyp,
    #[error("The DPoP proof JWT signature algorithm is invalid.")]
    BadAlgorithm,
    /// No `jwk`, a private or symmetric `jwk`, or one that is not a usable key.
    #[error("The DPoP proof JWT is invalid.")]
    Invalid,
    #[error("The DPoP proof JWT signature is invalid.")]
    BadSignature,
    #[error("'htm' claim in the DPoP proof JWT is invalid.")]
    BadHtm,
    #[error("'htu' claim in the DPoP proof JWT is invalid.")]
    BadHtu,
    #[error("'iat' claim in the DPoP proof JWT is invalid.")]
    BadIat,
    #[error("The DPoP proof JWT is issued in the future.")]
    Future,
    #[error("The DPoP proof JWT is issued more than five minutes in the past.")]
    Stale,
    #[error("'jti' claim in the DPoP proof JWT is invalid.")]
    BadJti,
    /// For the caller's replay cache.
    #[error("The DPoP proof JWT has already been used.")]
    Replayed,
    #[error("'ath' claim in the DPoP proof does not match the presented access_token.")]
    BadAth,
    /// For the caller: the proof key's thumbprint is not the token's `cnf.jkt`.
    #[error("The access_token is not bound to the provided DPoP proof.")]
    NotBound,
}

/// The claims of a proof.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ProofClaims {
    pub jti: String,
    pub htm: String,
    pub htu: String,
    pub iat: i64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub nonce: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ath: Option<String>,
}

/// What a new proof is for.
#[derive(Debug, Clone, Copy)]
pub struct ProofRequest<'a> {
    /// The HTTP method (`POST`).
    pub htm: &'a str,
    /// The request URL; its query and fragment are dropped, as RFC 9449 §4.2 requires.
    pub htu: &'a str,
    /// The issue time, Unix seconds.
    pub iat: i64,
    /// The server's `DPoP-Nonce`, when it sent one.
    pub nonce: Option<&'a str>,
    /// The access token the request carries (resource requests): sets `ath`.
    pub access_token: Option<&'a str>,
}

/// Signs a proof with `key` (its default algorithm), a fresh random `jti` and the public half in the header.
pub fn sign_proof(key: &PrivateKey, request: &ProofRequest<'_>) -> Result<String, JoseError> {
    let public = key.public_key().to_jwk();
    let jwk = crate::Jwk { kid: None, alg: None, use_: None, key_ops: None, ..public };
    let header = Header::new(key.algorithm()).with_typ(PROOF_TYP).with_jwk(jwk);
    let claims = ProofClaims {
        jti: random_jti()?,
        htm: request.htm.to_owned(),
        htu: strip_query(request.htu).to_owned(),
        iat: request.iat,
        nonce: request.nonce.map(str::to_owned),
        ath: request.access_token.map(access_token_hash),
    };
    crate::jws::sign_json(key, &header, &claims)
}

/// `ath`: base64url(SHA-256(access token)).
pub fn access_token_hash(access_token: &str) -> String {
    sha256_b64url(access_token.as_bytes())
}

/// What the checker expects of a proof.
#[derive(Debug, Clone, Copy)]
pub struct Expected<'a> {
    /// The request's method.
    pub htm: &'a str,
    /// The URL the request reached (the server's public URL for it); query and fragment are ignored.
    pub htu: &'a str,
    /// Now, Unix seconds.
    pub now: i64,
    /// The presented access token, on resource requests: the proof's `ath` must match it.
    pub access_token: Option<&'a str>,
}

/// A proof that passed every stateless check.
#[derive(Debug, Clone)]
pub struct VerifiedProof {
    /// RFC 7638 thumbprint of the proof key (`cnf.jkt`).
    pub jkt: String,
    pub jti: String,
    pub iat: i64,
    pub nonce: Option<String>,
    pub alg: Algorithm,
}

/// Checks a proof, in Okta's order: parse, `typ`, `alg`, `jwk`, signature, `htm`, `htu`, `iat`, `jti`, `ath`.
/// Replay (`jti`) and nonce checks are left to the caller, which holds the state for them.
pub fn verify_proof(proof: &str, expected: &Expected<'_>) -> Result<VerifiedProof, DpopError> {
    let jws = crate::jws::decode(proof).map_err(|error| match error {
        JoseError::UnsupportedAlgorithm(_) => DpopError::BadAlgorithm,
        JoseError::PrivateKeyMaterial { .. } => DpopError::Invalid,
        _ => DpopError::Unparsable,
    })?;
    let header = jws.header();
    if header.typ.as_deref() != Some(PROOF_TYP) {
        return Err(DpopError::WrongTyp);
    }
    if !SUPPORTED_ALGS.contains(&header.alg) {
        return Err(DpopError::BadAlgorithm);
    }
    let jwk = header.jwk.as_ref().ok_or(DpopError::Invalid)?;
    // Refuses private members, `oct` keys, weak RSA and a pinned `alg` that contradicts the header.
    let key = PublicKey::from_jwk(jwk).map_err(|_| DpopError::Invalid)?;
    jws.verify(&key).map_err(|error| match error {
        JoseError::AlgorithmMismatch { .. } => DpopError::BadAlgorithm,
        _ => DpopError::BadSignature,
    })?;
    // Strict JSON (no duplicate members); claim types are checked one by one below, with Okta's messages.
    let claims = crate::json::parse_object(jws.payload(), "payload").map_err(|_| DpopError::Unparsable)?;
    let text = |name: &str| claims.get(name).and_then(serde_json::Value::as_str);
    if text("htm") != Some(expected.htm) {
        return Err(DpopError::BadHtm);
    }
    if !text("htu").is_some_and(|htu| same_target(htu, expected.htu)) {
        return Err(DpopError::BadHtu);
    }
    let iat = claims.get("iat").and_then(serde_json::Value::as_i64).ok_or(DpopError::BadIat)?;
    if iat > expected.now + FUTURE_LEEWAY_SECONDS {
        return Err(DpopError::Future);
    }
    if iat < expected.now - MAX_AGE_SECONDS {
        return Err(DpopError::Stale);
    }
    // No NUL: every replay cache must be able to keep it (PostgreSQL text cannot hold one).
    let jti = text("jti")
        .filter(|jti| !jti.is_empty() && jti.len() <= MAX_JTI_LEN && !jti.contains('\0'))
        .ok_or(DpopError::BadJti)?;
    if let Some(access_token) = expected.access_token {
        let expected_ath = access_token_hash(access_token);
        let matches = text("ath").is_some_and(|ath| {
            aws_lc_rs::constant_time::verify_slices_are_equal(ath.as_bytes(), expected_ath.as_bytes()).is_ok()
        });
        if !matches {
            return Err(DpopError::BadAth);
        }
    }
    let nonce = match claims.get("nonce") {
        None => None,
        Some(serde_json::Value::String(nonce)) => Some(nonce.clone()),
        Some(_) => return Err(DpopError::Invalid),
    };
    Ok(VerifiedProof { jkt: key.thumbprint(), jti: jti.to_owned(), iat, nonce, alg: header.alg })
}

/// The URL without its query and fragment.
fn strip_query(url: &str) -> &str {
    let end = url.find(['?', '#']).unwrap_or(url.len());
    &url[..end]
}

/// RFC 9449 §4.3 (point 9): `htu` matches when scheme, host, port and path agree, ignoring query and
/// fragment, after syntax-based normalisation (case of scheme and host, default ports, percent-decoding).
pub fn same_target(htu: &str, expected: &str) -> bool {
    match (normalise(htu), normalise(expected)) {
        (Some(a), Some(b)) => a == b,
        _ => false,
    }
}

fn normalise(url: &str) -> Option<(String, String, u16, Vec<u8>)> {
    let parsed = url::Url::parse(url).ok()?;
    if !matches!(parsed.scheme(), "http" | "https") {
        return None;
    }
    let host = parsed.host_str()?.to_ascii_lowercase();
    let port = parsed.port_or_known_default()?;
    let path: Vec<u8> = percent_encoding::percent_decode_str(parsed.path()).collect();
    Some((parsed.scheme().to_owned(), host, port, path))
}

fn random_jti() -> Result<String, JoseError> {
    let mut bytes = [0u8; 24];
    aws_lc_rs::rand::fill(&mut bytes).map_err(|_| JoseError::Unsupported("system random source failed".into()))?;
    Ok(b64url_encode(&bytes))
}

#[cfg(test)]
mod tests;
