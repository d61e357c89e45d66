//! DPoP (RFC 9449) on the client side: one key per process (or a configured one), a fresh proof for every
//! request, and the server nonces remembered so that only the first request to a server pays the
//! `use_dpop_nonce` round trip.
//!
//! Nonces are kept apart for the token endpoint (keyed by its URL) and for resource servers (keyed by
//! origin), because an authorization server and an API on the same host may hand out different nonces.
//! The map is bounded: a process that talks to many servers forgets the oldest nonce, which costs one
//! extra round trip, never a failure.
use std::collections::VecDeque;
use std::sync::{Arc, Mutex};

use reqwest::header::HeaderMap;
use tollgate_jose::dpop::{DpopError, ProofRequest, SUPPORTED_ALGS, sign_proof};
use tollgate_jose::{Curve, KeySpec, PrivateKey};

use crate::ClientError;

/// The request header carrying a proof.
pub const DPOP_HEADER: &str = "dpop";
/// The response header carrying a server nonce.
pub const DPOP_NONCE_HEADER: &str = "dpop-nonce";
/// The OAuth error asking for a nonce.
pub const USE_DPOP_NONCE: &str = "use_dpop_nonce";
/// The OAuth error for a refused proof.
pub const INVALID_DPOP_PROOF: &str = "invalid_dpop_proof";
/// How many times a token request is repeated with a new nonce (Okta's Python SDK: 2).
pub const MAX_NONCE_RETRIES: u32 = 2;
/// Servers whose nonce is remembered.
const MAX_NONCES: usize = 64;

/// A DPoP signing key and the nonces servers gave it.
#[derive(Debug, Clone)]
pub struct DpopKey {
    key: Arc<PrivateKey>,
    jkt: Arc<str>,
    nonces: Arc<Mutex<VecDeque<(String, String)>>>,
}

/// Where a nonce was issued: the token endpoint or a resource server.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NonceScope {
    /// The authorization server's token endpoint (keyed by its URL).
    TokenEndpoint,
    /// A resource server (keyed by its origin).
    Resource,
}

impl DpopKey {
    /// A new EC P-256 key (ES256): small, fast to sign, and accepted by Okta and tollgate.
    pub fn generate() -> Result<Self, ClientError> {
        Self::from_private_key(PrivateKey::generate(KeySpec::Ec(Curve::P256))?)
    }

    /// Uses `key` (RSA or EC; its algorithm must be one servers accept for proofs: RS/ES 256/384/512).
    pub fn from_private_key(key: PrivateKey) -> Result<Self, ClientError> {
        let alg = key.algorithm();
        if !SUPPORTED_ALGS.contains(&alg) {
            return Err(ClientError::Config(format!(
                "a DPoP key must sign with RS256, RS384, RS512, ES256, ES384 or ES512, not {alg}"
            )));
        }
        let jkt = key.public_key().thumbprint();
        Ok(DpopKey { key: Arc::new(key), jkt: Arc::from(jkt), nonces: Arc::default() })
    }

    /// The RFC 7638 thumbprint of the public key: what a bound token carries as `cnf.jkt`.
    pub fn thumbprint(&self) -> &str {
        &self.jkt
    }

    pub fn private_key(&self) -> &PrivateKey {
        &self.key
    }

    /// A new proof for `htm` `htu` at `now`, with the remembered nonce of that server and, for a resource
    /// request, `ath` of `access_token`.
    pub fn proof(
        &self,
        scope: NonceScope,
        htm: &str,
        htu: &str,
        now: i64,
        access_token: Option<&str>,
    ) -> Result<String, ClientError> {
        let nonce = self.nonce(scope, htu);
        let request = ProofRequest { htm, htu, iat: now, nonce: nonce.as_deref(), access_token };
        Ok(sign_proof(&self.key, &request)?)
    }

    /// The nonce last received from the server behind `url`.
    pub fn nonce(&self, scope: NonceScope, url: &str) -> Option<String> {
        let key = nonce_key(scope, url)?;
        let nonces = self.nonces.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
        nonces.iter().find(|(k, _)| *k == key).map(|(_, nonce)| nonce.clone())
    }

    /// Remembers the `DPoP-Nonce` of an answer from `url`; returns whether it is a new one.
    pub fn remember_nonce(&self, scope: NonceScope, url: &str, headers: &HeaderMap) -> bool {
        let Some(nonce) = nonce_header(headers) else { return false };
        let Some(key) = nonce_key(scope, url) else { return false };
        let mut nonces = self.nonces.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
        if let Some(position) = nonces.iter().position(|(k, _)| *k == key) {
            let changed = nonces[position].1 != nonce;
            nonces[position].1 = nonce;
            return changed;
        }
        if nonces.len() >= MAX_NONCES {
            nonces.pop_front();
        }
        nonces.push_back((key, nonce));
        true
    }
}

/// The `DPoP-Nonce` header of an answer, if it is a usable one (RFC 9449 §8.1: NQCHAR, non-empty).
pub fn nonce_header(headers: &HeaderMap) -> Option<String> {
    let value = headers.get(DPOP_NONCE_HEADER)?.to_str().ok()?.trim();
    let usable =
        !value.is_empty() && value.len() <= 1024 && value.bytes().all(|b| b == b'!' || (0x23..=0x7e).contains(&b));
    usable.then(|| value.to_owned())
}

fn nonce_key(scope: NonceScope, url: &str) -> Option<String> {
    let parsed = url::Url::parse(url).ok()?;
    Some(match scope {
        NonceScope::TokenEndpoint => {
            format!("as {}{}", parsed.origin().ascii_serialization(), parsed.path())
        }
        NonceScope::Resource => format!("rs {}", parsed.origin().ascii_serialization()),
    })
}

/// A DPoP refusal, typed so that tools (`tollgate explain`) can say what to do about it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DpopRefusal {
    /// `use_dpop_nonce`: the server wants its nonce in the proof (normally handled by a retry).
    UseNonce,
    /// `invalid_dpop_proof` with one of Okta's descriptions.
    InvalidProof(DpopError),
    /// `invalid_dpop_proof` with a description we do not know.
    InvalidProofOther(String),
    /// A resource request with a DPoP-bound token but no proof.
    ProofRequired,
    /// A DPoP-bound token sent with the `Bearer` scheme.
    SchemeRequired,
    /// A `DPoP`-scheme request with a token that is not bound.
    NotBound,
}

/// Every [`DpopError`], to map Okta's descriptions back to it.
const DPOP_ERRORS: [DpopError; 16] = [
    DpopError::Missing,
    DpopError::Multiple,
    DpopError::Unparsable,
    DpopError::WrongTyp,
    DpopError::BadAlgorithm,
    DpopError::Invalid,
    DpopError::BadSignature,
    DpopError::BadHtm,
    DpopError::BadHtu,
    DpopError::BadIat,
    DpopError::Future,
    DpopError::Stale,
    DpopError::BadJti,
    DpopError::Replayed,
    DpopError::BadAth,
    DpopError::NotBound,
];

/// Okta's resource-side texts that are not proof errors.
pub const PROOF_REQUIRED_TEXT: &str = "The resource request requires a DPoP proof.";
pub const SCHEME_REQUIRED_TEXT: &str =
    "The resource request must use the DPoP authentication scheme when using a DPoP bound token.";
pub const NOT_BOUND_TEXT: &str = "The presented access_token is not DPoP bound.";

impl DpopRefusal {
    /// Classifies an OAuth `error` and `error_description`; `None` when it is not about DPoP.
    pub fn classify(error: &str, description: &str) -> Option<Self> {
        let description = description.trim();
        if error == USE_DPOP_NONCE {
            return Some(DpopRefusal::UseNonce);
        }
        match description {
            PROOF_REQUIRED_TEXT => return Some(DpopRefusal::ProofRequired),
            SCHEME_REQUIRED_TEXT => return Some(DpopRefusal::SchemeRequired),
            NOT_BOUND_TEXT => return Some(DpopRefusal::NotBound),
            _ => {}
        }
        let known = DPOP_ERRORS.iter().find(|e| e.to_string() == description).cloned();
        match (error, known) {
            (_, Some(known)) => Some(DpopRefusal::InvalidProof(known)),
            (INVALID_DPOP_PROOF, None) => Some(DpopRefusal::InvalidProofOther(description.to_owned())),
            _ => None,
        }
    }

    /// Classifies a `WWW-Authenticate` challenge (`DPoP error="…", error_description="…"`).
    pub fn from_challenge(challenge: &str) -> Option<Self> {
        let error = challenge_param(challenge, "error")?;
        let description = challenge_param(challenge, "error_description").unwrap_or_default();
        Self::classify(&error, &description)
    }
}

/// One quoted (or token) parameter of a challenge; enough for the values servers send.
pub fn challenge_param(challenge: &str, name: &str) -> Option<String> {
    let mut rest = challenge;
    while let Some(position) = rest.find(name) {
        let before = rest[..position].chars().last();
        let after = &rest[position + name.len()..];
        rest = after;
        if before.is_some_and(|c| !(c == ' ' || c == ',')) {
            continue;
        }
        let Some(value) = after.trim_start().strip_prefix('=') else { continue };
        let value = value.trim_start();
        if let Some(quoted) = value.strip_prefix('"') {
            let mut out = String::new();
            let mut chars = quoted.chars();
            while let Some(c) = chars.next() {
                match c {
                    '\\' => out.extend(chars.next()),
                    '"' => return Some(out),
                    c => out.push(c),
                }
            }
            return None;
        }
        return Some(value.split([',', ' ']).next().unwrap_or_default().to_owned());
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;
    use reqwest::header::HeaderValue;
    use tollgate_jose::dpop::{Expected, verify_proof};

    fn nonce_headers(nonce: &str) -> HeaderMap {
        let mut headers = HeaderMap::new();
        headers.insert(DPOP_NONCE_HEADER, HeaderValue::from_str(nonce).unwrap());
        headers
    }

    #[test]
    fn proofs_carry_the_remembered_nonce_per_server() {
        let key = DpopKey::generate().unwrap();
        let token_url = "https://org.example/oauth2/v1/token";
        assert!(key.remember_nonce(NonceScope::TokenEndpoint, token_url, &nonce_headers("n-as")));
        assert!(!key.remember_nonce(NonceScope::TokenEndpoint, token_url, &nonce_headers("n-as")));
        let proof = key.proof(NonceScope::TokenEndpoint, "POST", token_url, 1000, None).unwrap();
        let expected = Expected { htm: "POST", htu: token_url, now: 1000, access_token: None };
        let verified = verify_proof(&proof, &expected).unwrap();
        assert_eq!(verified.nonce.as_deref(), Some("n-as"));
        assert_eq!(verified.jkt, key.thumbprint());
        // the resource server on the same origin has no nonce yet
        let proof =
            key.proof(NonceScope::Resource, "GET", "https://org.example/api/v1/users?x=1", 1000, Some("at")).unwrap();
        let expected =
            Expected { htm: "GET", htu: "https://org.example/api/v1/users", now: 1000, access_token: Some("at") };
        assert_eq!(verify_proof(&proof, &expected).unwrap().nonce, None);
    }

    #[test]
    fn the_nonce_map_is_bounded() {
        let key = DpopKey::generate().unwrap();
        for i in 0..(MAX_NONCES + 5) {
            key.remember_nonce(NonceScope::Resource, &format!("https://h{i}.example/"), &nonce_headers("n"));
        }
        assert_eq!(key.nonces.lock().unwrap().len(), MAX_NONCES);
        assert_eq!(key.nonce(NonceScope::Resource, "https://h0.example/x"), None);
        assert_eq!(
            key.nonce(NonceScope::Resource, &format!("https://h{}.example/", MAX_NONCES + 4)).as_deref(),
            Some("n")
        );
    }

    #[test]
    fn unusable_nonces_are_ignored() {
        assert_eq!(nonce_header(&nonce_headers("a b")), None);
        assert_eq!(nonce_header(&nonce_headers("")), None);
        assert_eq!(nonce_header(&nonce_headers("abc-_.~")).as_deref(), Some("abc-_.~"));
    }

    #[test]
    fn ed25519_keys_are_refused() {
        let key = PrivateKey::generate(KeySpec::Ed25519).unwrap();
        assert!(matches!(DpopKey::from_private_key(key), Err(ClientError::Config(_))));
    }

    #[test]
    fn refusals_are_classified() {
        assert_eq!(DpopRefusal::classify("use_dpop_nonce", "x"), Some(DpopRefusal::UseNonce));
        assert_eq!(
            DpopRefusal::classify("invalid_dpop_proof", "'htu' claim in the DPoP proof JWT is invalid."),
            Some(DpopRefusal::InvalidProof(DpopError::BadHtu))
        );
        assert_eq!(DpopRefusal::classify("invalid_request", PROOF_REQUIRED_TEXT), Some(DpopRefusal::ProofRequired));
        assert_eq!(DpopRefusal::classify("invalid_client", "The client_assertion token is expired."), None);
        let challenge = "DPoP algs=\"ES256\", realm=\"x\", error=\"invalid_dpop_proof\", error_description=\"The DPoP proof JWT has already been used.\"";
        assert_eq!(DpopRefusal::from_challenge(challenge), Some(DpopRefusal::InvalidProof(DpopError::Replayed)));
        assert_eq!(challenge_param("DPoP error=invalid_token, x=\"y\"", "error").as_deref(), Some("invalid_token"));
    }
}
