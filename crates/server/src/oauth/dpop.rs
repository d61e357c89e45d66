//! DPoP (RFC 9449) at the token endpoint: server nonces and the checks that bind a token to a proof key.
//!
//! The proof itself is checked by [`tollgate_jose::dpop::verify_proof`]; this module adds what needs the
//! server's state: the nonce and the single use of the proof's `jti`.
//!
//! Nonces are stateless, so that every node agrees without a lookup: `b64url(bucket ‖ HMAC-SHA-256(key,
//! label ‖ bucket)[..16])`, where `bucket = now / period` and the key is the installation's `dpop_nonce_key`
//! setting (created once in the database, like the secret-hashing key). A nonce is accepted during its own
//! period and the three after it (Okta renews daily and keeps the old nonce valid for three days), plus one
//! period ahead to forgive clock skew between nodes.
use super::client_auth::{self, Authenticated};
use crate::clock::now_secs;
use crate::errors::OAuthError;
use crate::state::{AppState, AuthzServer};
use aws_lc_rs::hmac;
use axum::http::{HeaderMap, HeaderName, HeaderValue, StatusCode};
use tollgate_jose::dpop::{DpopError, Expected, VerifiedProof, verify_proof};

/// The request header that carries a proof.
pub const DPOP: HeaderName = HeaderName::from_static("dpop");
/// The response header that carries the server's nonce.
pub const DPOP_NONCE: HeaderName = HeaderName::from_static("dpop-nonce");
/// How many periods after its own a nonce stays valid.
const PREVIOUS_PERIODS: u64 = 3;
/// Domain separation for the nonce MAC.
const LABEL: &[u8] = b"tollgate-dpop-nonce";
const MAC_LEN: usize = 16;

/// Issues and checks the server's DPoP nonces.
#[derive(Clone)]
pub struct Nonces {
    key: hmac::Key,
    period: u64,
}

impl std::fmt::Debug for Nonces {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Nonces").field("period", &self.period).finish_non_exhaustive()
    }
}

impl Nonces {
    /// Nonces keyed with `key` that change every `period_seconds` (at least one second).
    pub fn new(key: &[u8], period_seconds: u64) -> Self {
        Nonces { key: hmac::Key::new(hmac::HMAC_SHA256, key), period: period_seconds.max(1) }
    }

    fn bucket(&self, now: i64) -> u64 {
        u64::try_from(now).unwrap_or(0) / self.period
    }

    fn mac(&self, bucket: u64) -> hmac::Tag {
        let mut ctx = hmac::Context::with_key(&self.key);
        ctx.update(LABEL);
        ctx.update(&bucket.to_be_bytes());
        ctx.sign()
    }

    /// The nonce of the current period.
    pub fn current(&self, now: i64) -> String {
        let bucket = self.bucket(now);
        let mut raw = Vec::with_capacity(8 + MAC_LEN);
        raw.extend_from_slice(&bucket.to_be_bytes());
        raw.extend_from_slice(&self.mac(bucket).as_ref()[..MAC_LEN]);
        tollgate_jose::b64url_encode(&raw)
    }

    /// Whether `nonce` was issued by this installation and has not expired.
    pub fn is_valid(&self, nonce: &str, now: i64) -> bool {
        let Ok(raw) = tollgate_jose::b64url_decode(nonce) else { return false };
        if raw.len() != 8 + MAC_LEN {
            return false;
        }
        let mut be = [0u8; 8];
        be.copy_from_slice(&raw[..8]);
        let bucket = u64::from_be_bytes(be);
        let current = self.bucket(now);
        if bucket > current.saturating_add(1) || bucket.saturating_add(PREVIOUS_PERIODS) < current {
            return false;
        }
        aws_lc_rs::constant_time::verify_slices_are_equal(&raw[8..], &self.mac(bucket).as_ref()[..MAC_LEN]).is_ok()
    }
}

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

/// The DPoP part of a token request, after client authentication and before scopes.
///
/// Consumes the assertion `jti` left pending by [`client_auth::authenticate_deferred`] in every case (Okta
/// burns it even when the request then fails, which is why clients re-sign the assertion on a nonce retry).
/// For an app that requires DPoP: checks the proof, then the nonce, then records the assertion's and the
/// proof's `jti` in one store round trip. For any other app the `DPoP` header is ignored, and so it is at
/// the Access Gateway endpoint: the gateway has no DPoP and its `/api/v2` takes Bearer tokens only.
pub async fn token_request(
    state: &AppState,
    server: &AuthzServer,
    headers: &HeaderMap,
    auth: &mut Authenticated,
) -> Result<Option<Binding>, OAuthError> {
    let pending = auth.pending_jti.take();
    if !auth.client.app.dpop_bound || matches!(server, AuthzServer::Oag) {
        if let Some(pending) = &pending {
            client_auth::consume_jti(state, pending).await?;
        }
        return Ok(None);
    }
    let now = now_secs();
    let proof = match check_token_proof(state, server, headers, now) {
        Ok(proof) => proof,
        Err(err) => {
            // Authentication comes first: a replayed assertion is reported as such.
            if let Some(pending) = &pending {
                client_auth::consume_jti(state, pending).await?;
            }
            return Err(err);
        }
    };
    let scope = replay_scope(&proof.jkt);
    let proof_entry = (scope.as_str(), proof.jti.as_str(), keep_until(state, proof.iat));
    let (assertion_fresh, proof_fresh) = match &pending {
        Some(p) => state.store.use_jti_pair((&p.client_id, &p.jti, p.keep_until), proof_entry).await?,
        None => (true, state.store.use_jti(proof_entry.0, proof_entry.1, proof_entry.2).await?),
    };
    if !assertion_fresh {
        return Err(client_auth::replayed_assertion());
    }
    if !proof_fresh {
        return Err(invalid_proof(&DpopError::Replayed));
    }
    let current = state.dpop_nonces.current(now);
    let next_nonce = match proof.nonce.as_deref() {
        Some(used) if used == current => None,
        _ => HeaderValue::from_str(&current).ok(),
    };
    Ok(Some(Binding { jkt: proof.jkt, next_nonce }))
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nonces_round_trip_and_expire() {
        let nonces = Nonces::new(b"key one", 100);
        let n = nonces.current(1_000);
        assert_eq!(n, nonces.current(1_099), "same period, same nonce");
        assert_ne!(n, nonces.current(1_100), "next period, new nonce");
        assert!(nonces.is_valid(&n, 1_000));
        assert!(nonces.is_valid(&n, 1_000 + 3 * 100), "three periods later still good");
        assert!(!nonces.is_valid(&n, 1_000 + 4 * 100), "four periods later expired");
        assert!(nonces.is_valid(&n, 900), "one period of skew between nodes");
        assert!(!nonces.is_valid(&n, 800));
    }

    #[test]
    fn foreign_and_malformed_nonces_are_refused() {
        let ours = Nonces::new(b"key one", 100);
        let theirs = Nonces::new(b"key two", 100);
        assert!(!ours.is_valid(&theirs.current(1_000), 1_000));
        assert!(!ours.is_valid("", 1_000));
        assert!(!ours.is_valid("not base64!", 1_000));
        let mut tampered = tollgate_jose::b64url_decode(&ours.current(1_000)).unwrap();
        tampered[7] ^= 1;
        assert!(!ours.is_valid(&tollgate_jose::b64url_encode(&tampered), 1_000));
    }
}
