//! DPoP options shared by `tollgate token` and `tollgate call`: `--dpop` (a key for this run only) and
//! `--dpop-key FILE` / `DPOP_KEY` (a key kept in a file, so that a token from `tollgate token` can later be
//! used by another command: the file is read if it exists, otherwise a new P-256 key is written there with
//! mode 0600).
use std::path::{Path, PathBuf};

use clap::Args;
use tollgate_client::{DpopKey, DpopRefusal};
use tollgate_jose::dpop::DpopError;

use crate::commands::keygen::write_new_file;
use crate::inputs::{env_var, read_private_key_file};

#[derive(Debug, Clone, Args)]
pub struct DpopArgs {
    /// Ask for a DPoP-bound token (RFC 9449): token_type DPoP, a proof on every request. Without
    /// --dpop-key the key lives only as long as this command.
    #[arg(long)]
    pub dpop: bool,
    /// DPoP key file (PEM or JWK); created with a new P-256 key (mode 0600) if missing; implies --dpop
    /// [env: DPOP_KEY]
    #[arg(long, value_name = "FILE")]
    pub dpop_key: Option<PathBuf>,
}

impl DpopArgs {
    /// The key file named by `--dpop-key`, else `DPOP_KEY`.
    pub fn key_file(&self) -> Option<PathBuf> {
        self.dpop_key.clone().or_else(|| env_var("DPOP_KEY").map(PathBuf::from))
    }

    /// The DPoP key to use, or `None` when DPoP was not asked for.
    pub fn key(&self) -> anyhow::Result<Option<DpopKey>> {
        match self.key_file() {
            Some(path) => Ok(Some(load_or_create(&path)?)),
            None if self.dpop => Ok(Some(DpopKey::generate()?)),
            None => Ok(None),
        }
    }
}

/// Reads the key at `path`, or generates one and saves it there (0600).
pub fn load_or_create(path: &Path) -> anyhow::Result<DpopKey> {
    if path.exists() {
        let key = read_private_key_file(path)?;
        return Ok(DpopKey::from_private_key(key)?);
    }
    let key = DpopKey::generate()?;
    let pem = key.private_key().to_pkcs8_pem()?;
    write_new_file(path, &pem, true, false)?;
    tracing::info!(path = %path.display(), "saved a new DPoP key");
    Ok(key)
}

/// A token is DPoP-bound when its type says so or, for a JWT access token, when it has `cnf.jkt`.
pub fn is_bound(token_type: &str, access_token: &str) -> bool {
    if token_type.eq_ignore_ascii_case("DPoP") {
        return true;
    }
    tollgate_jose::jws::decode(access_token)
        .ok()
        .and_then(|jws| jws.claims::<serde_json::Value>().ok())
        .is_some_and(|claims| claims.pointer("/cnf/jkt").and_then(serde_json::Value::as_str).is_some())
}

/// Adds what to do to a client error that is a DPoP refusal.
pub fn with_advice(error: tollgate_client::ClientError) -> anyhow::Error {
    match error.dpop_refusal() {
        Some(refusal) => anyhow::anyhow!("{error} (hint: {})", advice(&refusal)),
        None => anyhow::Error::new(error),
    }
}

/// What to do about a DPoP refusal, in one or two sentences.
pub fn advice(refusal: &DpopRefusal) -> String {
    let text = match refusal {
        DpopRefusal::UseNonce => {
            "the server wants its nonce in the proof: repeat the request with a new proof carrying the DPoP-Nonce \
             header's value and, at the token endpoint, a NEW client assertion (the first one's jti is used up); \
             tollgate-client and `tollgate token --dpop` do this by themselves"
        }
        DpopRefusal::ProofRequired => {
            "the token is DPoP-bound: send a DPoP header with a proof (htm, htu, iat, jti, ath) signed by the key \
             the token is bound to; with tollgate use the same --dpop-key FILE (or DPOP_KEY) for `token` and `call`"
        }
        DpopRefusal::SchemeRequired => {
            "the token is DPoP-bound: send it as `Authorization: DPoP <token>` (not Bearer) together with a DPoP \
             proof header"
        }
        DpopRefusal::NotBound => {
            "the token is a Bearer token: send it as `Authorization: Bearer <token>`, or get a DPoP-bound one \
             (`tollgate token --dpop`; the app needs dpop_bound_access_tokens: true)"
        }
        DpopRefusal::InvalidProofOther(_) => "the server refused the DPoP proof; check it with `tollgate decode`",
        DpopRefusal::InvalidProof(error) => proof_advice(error),
    };
    text.to_owned()
}

fn proof_advice(error: &DpopError) -> &'static str {
    match error {
        DpopError::Missing => {
            "the app requires DPoP (dpop_bound_access_tokens, ticked by default for new API Services apps in \
             Okta's Admin Console): pass --dpop (or --dpop-key FILE), or untick \"Require DPoP\" on the app"
        }
        DpopError::Multiple => "send exactly one DPoP header",
        DpopError::Unparsable => "the DPoP header must be one compact JWS: header.payload.signature in base64url",
        DpopError::WrongTyp => "set \"typ\": \"dpop+jwt\" in the proof's protected header",
        DpopError::BadAlgorithm => "sign the proof with RS256/384/512 or ES256/384/512 (never HS*, none, PS* or EdDSA)",
        DpopError::Invalid => {
            "put the PUBLIC key as \"jwk\" in the proof header (RSA >= 2048 bits or EC, no private members), and \
             only string claims where strings belong"
        }
        DpopError::BadSignature => "sign the proof with the private half of the \"jwk\" in its header",
        DpopError::BadHtm => "set htm to the request's HTTP method, in capitals (POST for the token endpoint)",
        DpopError::BadHtu => {
            "set htu to the request URL without query or fragment, exactly as the server sees it (scheme, host, \
             port, path; behind a proxy, the public URL)"
        }
        DpopError::BadIat => "set iat to the current time as an integer (seconds since the epoch)",
        DpopError::Future => "the proof's iat is ahead of the server's clock: sync this machine's clock (NTP)",
        DpopError::Stale => {
            "the proof is older than five minutes: sign a new proof for every request; check this machine's clock"
        }
        DpopError::BadJti => "give every proof a unique jti (a uuid, at most 256 characters)",
        DpopError::Replayed => "a proof is single-use: sign a new one (new jti) for every request and every retry",
        DpopError::BadAth => "set ath to base64url(SHA-256(access token)) of the token sent with this request",
        DpopError::NotBound => {
            "sign the proof with the key the token was issued for (its cnf.jkt): the same --dpop-key FILE for \
             `tollgate token` and `tollgate call`"
        }
        _ => "the server refused the DPoP proof",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_missing_key_file_is_created_private_and_then_reused() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("dpop.pem");
        let first = load_or_create(&path).unwrap();
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            assert_eq!(std::fs::metadata(&path).unwrap().permissions().mode() & 0o777, 0o600);
        }
        let second = load_or_create(&path).unwrap();
        assert_eq!(first.thumbprint(), second.thumbprint());
    }

    #[test]
    fn bearer_tokens_are_not_bound() {
        assert!(is_bound("DPoP", "opaque"));
        assert!(!is_bound("Bearer", "opaque"));
    }
}
