//! Verifying one access token: strict JWS decoding, an accepted `alg`, a key of the issuer bound to that
//! `alg` (jose refuses a key whose type or pinned `alg` does not fit), then the claims (`exp` required,
//! `iss` exact, `aud` when configured, leeway on times) and the required scopes.
use std::sync::Arc;

use tollgate_jose::{Algorithm, Claims, Validation};

use crate::keys::KeyCache;
use crate::replay::ReplayCache;
use crate::scopes::{missing_scopes, token_scopes};
use crate::{VerifierConfig, VerifyError};
use tollgate_jose::dpop::{DpopError, Expected, FUTURE_LEEWAY_SECONDS, MAX_AGE_SECONDS, verify_proof};

/// A token that passed every check.
#[derive(Debug, Clone)]
pub struct VerifiedToken {
    pub alg: Algorithm,
    pub kid: Option<String>,
    pub claims: Claims,
    pub scopes: Vec<String>,
    /// `cnf.jkt`: the thumbprint of the DPoP key the token is bound to, if it is bound.
    pub jkt: Option<String>,
}

impl VerifiedToken {
    /// Checks that the token carries every scope in `required`.
    pub fn require_scopes(&self, required: &[String]) -> Result<(), VerifyError> {
        let missing = missing_scopes(&self.scopes, required);
        if missing.is_empty() { Ok(()) } else { Err(VerifyError::InsufficientScope { missing }) }
    }
}

type Now = Arc<dyn Fn() -> i64 + Send + Sync>;

/// Verifies access tokens of one issuer.
pub struct Verifier {
    config: VerifierConfig,
    keys: KeyCache,
    now: Now,
    replay: ReplayCache,
}

/// What a `DPoP`-scheme request brings besides the token.
#[derive(Debug, Clone, Copy)]
pub struct DpopRequest<'a> {
    /// The `DPoP` header values (exactly one is accepted).
    pub proofs: &'a [&'a str],
    /// The request method.
    pub htm: &'a str,
    /// The request's public URL (scheme, host, port, path; the query is ignored). Build it from
    /// configuration, not from the `Host` header.
    pub htu: &'a str,
}

impl std::fmt::Debug for Verifier {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Verifier").field("config", &self.config).finish_non_exhaustive()
    }
}

fn system_now() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| i64::try_from(d.as_secs()).unwrap_or(i64::MAX))
        .unwrap_or(0)
}

impl Verifier {
    /// A verifier with its own HTTP client, trusting the CAs of [`tollgate_fetch::trust`] (the platform's
    /// and `SSL_CERT_FILE`'s). No request is made until the first token arrives.
    pub fn new(config: VerifierConfig) -> Result<Self, VerifyError> {
        let http = tollgate_fetch::trust::client_builder()
            .map_err(|e| VerifyError::KeysUnavailable(e.to_string()))?
            .user_agent(concat!("tollgate-verify/", env!("CARGO_PKG_VERSION")))
            .timeout(std::time::Duration::from_secs(10))
            .build()
            .map_err(|e| VerifyError::KeysUnavailable(e.to_string()))?;
        Ok(Self::with_http_client(config, http))
    }

    pub fn with_http_client(config: VerifierConfig, http: reqwest::Client) -> Self {
        let keys = KeyCache::new(
            http,
            config.issuer.clone(),
            config.jwks_uri.clone(),
            config.min_refresh_interval,
            config.max_key_age,
        );
        let replay = ReplayCache::new(config.dpop_replay_capacity);
        Verifier { config, keys, now: Arc::new(system_now), replay }
    }

    /// Replaces the clock (seconds since the epoch); for tests.
    pub fn with_clock(mut self, now: impl Fn() -> i64 + Send + Sync + 'static) -> Self {
        self.now = Arc::new(now);
        self
    }

    pub fn config(&self) -> &VerifierConfig {
        &self.config
    }

    pub fn key_cache(&self) -> &KeyCache {
        &self.keys
    }

    /// Verifies a bearer `token` and the configured required scopes. A DPoP-bound token (`cnf.jkt`) is
    /// refused: without its proof it may be a stolen one (RFC 9449 §7.1).
    pub async fn verify(&self, token: &str) -> Result<VerifiedToken, VerifyError> {
        let verified = self.verify_unbound(token).await?;
        if verified.jkt.is_some() {
            return Err(VerifyError::DpopBoundAsBearer);
        }
        Ok(verified)
    }

    /// Verifies a token sent with the `DPoP` scheme: the token as [`verify`](Self::verify) does, then that
    /// it is bound, exactly one proof for this method and URL with `ath` of this token, signed by the bound
    /// key, and not seen before (in-memory `jti` cache, see [`crate::replay`]).
    pub async fn verify_dpop(&self, token: &str, request: &DpopRequest<'_>) -> Result<VerifiedToken, VerifyError> {
        let proof = match request.proofs {
            [] => return Err(VerifyError::DpopProofRequired),
            [one] => *one,
            _ => return Err(VerifyError::DpopProof(DpopError::Multiple)),
        };
        let verified = self.verify_unbound(token).await?;
        let Some(jkt) = verified.jkt.as_deref() else { return Err(VerifyError::NotDpopBound) };
        let now = (self.now)();
        let expected = Expected { htm: request.htm, htu: request.htu, now, access_token: Some(token) };
        let proof = verify_proof(proof, &expected).map_err(VerifyError::DpopProof)?;
        if proof.jkt != jkt {
            return Err(VerifyError::DpopProof(DpopError::NotBound));
        }
        let expires_at = proof.iat.saturating_add(MAX_AGE_SECONDS + FUTURE_LEEWAY_SECONDS);
        if !self.replay.insert(format!("{}:{}", proof.jkt, proof.jti), expires_at, now) {
            return Err(VerifyError::DpopProof(DpopError::Replayed));
        }
        Ok(verified)
    }

    /// Verifies `token` without looking at its binding (for tools that only inspect tokens).
    pub async fn verify_unbound(&self, token: &str) -> Result<VerifiedToken, VerifyError> {
        let jws = tollgate_jose::jws::decode(token).map_err(|e| VerifyError::Malformed(e.to_string()))?;
        let header = jws.header();
        let alg = header.alg;
        if !self.config.algorithms.contains(&alg) {
            return Err(VerifyError::AlgorithmNotAllowed(alg.to_string()));
        }
        let kid = header.kid.clone();
        let candidates = self.keys.candidates(kid.as_deref(), alg).await?;
        if !candidates.iter().any(|key| jws.verify(key).is_ok()) {
            return Err(VerifyError::BadSignature);
        }
        let claims: Claims = jws.claims().map_err(|e| VerifyError::Malformed(e.to_string()))?;
        let mut rules = Validation::new((self.now)())
            .leeway(self.config.leeway_secs)
            .require("exp")
            .issuer(self.config.issuer.clone());
        for audience in &self.config.audiences {
            rules = rules.audience(audience.clone());
        }
        rules.validate(&claims)?;
        let scopes = token_scopes(&claims);
        let jkt = match claims.extra.get("cnf") {
            None => None,
            Some(cnf) => match cnf.get("jkt") {
                Some(serde_json::Value::String(jkt)) if !jkt.is_empty() => Some(jkt.clone()),
                // A confirmation we cannot check (mTLS `x5t#S256`, a malformed jkt) is not ignored.
                _ => return Err(VerifyError::InvalidClaims("unsupported cnf confirmation".into())),
            },
        };
        let verified = VerifiedToken { alg, kid, claims, scopes, jkt };
        verified.require_scopes(&self.config.required_scopes)?;
        Ok(verified)
    }
}
