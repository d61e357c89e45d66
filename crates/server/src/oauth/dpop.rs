//! DPoP (RFC 9449) at the token endpoint: binding a token to a proof key.
//!
//! The proof itself is checked by [`tollgate_jose::dpop::verify_proof`] and the nonce by
//! [`super::nonce::Nonces`]; this module adds the order of the checks and the single use of the proof's
//! `jti`, recorded together with the assertion's (see [`super::jti`]). `mgmt::dpop_auth` uses its helpers
//! for the resource side.
use super::jti::{ConsumedJti, PendingJti};
use crate::cache::CachedClient;
use crate::clock::now_secs;
use crate::errors::OAuthError;
use crate::state::{AppState, AuthzServer};
use axum::http::{HeaderMap, HeaderName, HeaderValue, StatusCode};
use tollgate_jose::dpop::{DpopError, Expected, VerifiedProof, verify_proof};

/// The request header that carries a proof.
pub const DPOP: HeaderName = HeaderName::from_static("dpop");
/// The response header that carries the server's nonce.
pub const DPOP_NONCE: HeaderName = HeaderName::from_static("dpop-nonce");

/// The one proof a request carries: none or several are refused with Okta's texts.
pub fn proof_header(headers: &HeaderMap) -> Result<&str, DpopError> {
    let mut values = headers.get_all(DPOP).iter();
    let first = values.next().ok_or(DpopError::Missing)?;
    if values.next().is_some() {
        return Err(DpopError::Multiple);
    }
    first.to_str().map_err(|_| DpopError::Unparsable)
}

/// The `used_jti` scope of a proof's `jti`: per proof key, apart from every client's assertion `jti`s.
pub fn replay_scope(jkt: &str) -> String {
    format!("dpop:{jkt}")
}

/// How long a proof's `jti` must be remembered (Unix milliseconds): until the proof is too old anyway.
pub fn keep_until(state: &AppState, iat: i64) -> i64 {
    let leeway = i64::try_from(state.config.assertion_leeway_seconds).unwrap_or(0);
    (iat + tollgate_jose::dpop::MAX_AGE_SECONDS + tollgate_jose::dpop::FUTURE_LEEWAY_SECONDS + leeway) * 1000
}

/// 400 `invalid_dpop_proof` with Okta's description.
pub fn invalid_proof(err: &DpopError) -> OAuthError {
    OAuthError::new(StatusCode::BAD_REQUEST, "invalid_dpop_proof", err.to_string())
}

/// 400 `use_dpop_nonce` with a fresh `DPoP-Nonce`.
fn use_nonce(state: &AppState, now: i64) -> OAuthError {
    let mut err = OAuthError::new(
        StatusCode::BAD_REQUEST,
        "use_dpop_nonce",
        "Authorization server requires nonce in DPoP proof.",
    );
    if let Ok(value) = HeaderValue::from_str(&state.dpop_nonces.current(now)) {
        err.headers.push((DPOP_NONCE, value));
    }
    err
}

/// A token request's binding to a proof key.
pub struct Binding {
    /// The proof key's thumbprint, for `cnf.jkt`.
    pub jkt: String,
    /// A newer nonce for the client when the one it used is from an earlier period.
    pub next_nonce: Option<HeaderValue>,
}

/// The DPoP step of a token request, right after client authentication: spends the assertion's `jti`
/// in every case (Okta burns it even when the request then fails, which is why clients re-sign the
/// assertion on a nonce retry) and, for an app that requires DPoP at a server whose rules issue DPoP
/// tokens, checks the proof and the nonce and records both `jti`s in one store round trip. For any other
/// app, or at the Access Gateway, the `DPoP` header is ignored (not even parsed).
pub async fn bind(
    state: &AppState,
    server: &AuthzServer,
    headers: &HeaderMap,
    client: &CachedClient,
    pending: PendingJti,
) -> Result<(ConsumedJti, Option<Binding>), OAuthError> {
    if !(client.app.dpop_bound && server.rules().dpop) {
        return Ok((pending.consume(state).await?, None));
    }
    let now = now_secs();
    let proof = match check_token_proof(state, server, headers, now) {
        Ok(proof) => proof,
        Err(err) => {
            // Authentication comes first: a replayed assertion is reported as such.
            let _consumed = pending.consume(state).await?;
            return Err(err);
        }
    };
    let scope = replay_scope(&proof.jkt);
    let (consumed, proof_fresh) =
        pending.consume_with(state, (scope.as_str(), proof.jti.as_str(), keep_until(state, proof.iat))).await?;
    if !proof_fresh {
        return Err(invalid_proof(&DpopError::Replayed));
    }
    let current = state.dpop_nonces.current(now);
    let next_nonce = match proof.nonce.as_deref() {
        Some(used) if used == current => None,
        _ => HeaderValue::from_str(&current).ok(),
    };
    Ok((consumed, Some(Binding { jkt: proof.jkt, next_nonce })))
}

/// The stateless checks of a token-endpoint proof: header, proof (against the public token URL, never the
/// `Host` header), then the nonce.
fn check_token_proof(
    state: &AppState,
    server: &AuthzServer,
    headers: &HeaderMap,
    now: i64,
) -> Result<VerifiedProof, OAuthError> {
    let proof = proof_header(headers).map_err(|e| invalid_proof(&e))?;
    let token_url = server.endpoint(state, "token");
    let expected = Expected { htm: "POST", htu: &token_url, now, access_token: None };
    let verified = verify_proof(proof, &expected).map_err(|e| invalid_proof(&e))?;
    match verified.nonce.as_deref() {
        Some(nonce) if state.dpop_nonces.is_valid(nonce, now) => Ok(verified),
        _ => Err(use_nonce(state, now)),
    }
}
