//! `Authorization: DPoP <token>` on the management API (RFC 9449 §7), with Okta's refusals.
//!
//! The token is checked as a Bearer token is; then it must be bound (`cnf.jkt`), the request must carry one
//! proof for this method and public URL (the issuer's origin and path + the request path, never the `Host`
//! header) whose `ath` is the token's hash and whose key is the bound one, and the proof's `jti` must be
//! new. Refusals carry `WWW-Authenticate: DPoP algs="…", …, error="…", error_description="…"`.
use crate::errors::ApiError;
use crate::oauth::access_token::{self, AccessClaims};
use crate::oauth::dpop::{keep_until, proof_header, replay_scope};
use crate::state::{AppState, AuthzServer};
use axum::http::{HeaderValue, StatusCode, header, request::Parts};
use tollgate_jose::dpop::{DpopError, Expected, verify_proof};

/// The proof algorithms advertised in the challenge, as Okta lists them.
pub(crate) const ALGS: &str = "RS256 RS384 RS512 ES256 ES384 ES512";

/// The `WWW-Authenticate: DPoP …` value for a refusal on `path`.
pub(crate) fn challenge(state: &AppState, path: &str, scope: Option<&str>, error: &str, description: &str) -> String {
    let scope = scope.map(|s| format!("scope=\"{s}\", ")).unwrap_or_default();
    format!(
        "DPoP algs=\"{ALGS}\", authorization_uri=\"{iss}/oauth2/v1/authorize\", realm=\"{iss}\", {scope}\
         error=\"{error}\", error_description=\"{description}\", resource=\"{path}\"",
        iss = state.issuer,
    )
}

/// A refusal: status, Okta's error object (the description as its cause) and the DPoP challenge.
pub(crate) fn refusal(state: &AppState, path: &str, status: StatusCode, error: &str, description: &str) -> ApiError {
    let mut err = ApiError::invalid_token().with_causes(vec![description.to_owned()]);
    err.status = status;
    if let Ok(value) = HeaderValue::from_str(&challenge(state, path, None, error, description)) {
        err.headers.push((header::WWW_AUTHENTICATE, value));
    }
    err
}

fn bad_proof(state: &AppState, path: &str, err: &DpopError) -> ApiError {
    refusal(state, path, StatusCode::BAD_REQUEST, "invalid_dpop_proof", &err.to_string())
}

/// A bound token presented as `Bearer`.
pub(crate) fn bearer_refused(state: &AppState, path: &str) -> ApiError {
    refusal(
        state,
        path,
        StatusCode::BAD_REQUEST,
        "invalid_request",
        "The resource request must use the DPoP authentication scheme when using a DPoP bound token.",
    )
}

/// Checks a `DPoP`-scheme request carrying `token`; returns the token's claims.
pub(crate) async fn authenticate(state: &AppState, parts: &Parts, token: &str) -> Result<AccessClaims, ApiError> {
    let path = parts.uri.path();
    let claims = access_token::verify(state, &AuthzServer::Org, token).await.map_err(|rejection| {
        refusal(state, path, StatusCode::UNAUTHORIZED, "invalid_token", rejection.description())
    })?;
    let Some(bound) = claims.cnf.as_ref().and_then(|cnf| cnf.get("jkt")).and_then(|jkt| jkt.as_str()) else {
        return Err(refusal(
            state,
            path,
            StatusCode::UNAUTHORIZED,
            "invalid_token",
            "The presented access_token is not DPoP bound.",
        ));
    };
    let proof = proof_header(&parts.headers).map_err(|err| match err {
        DpopError::Missing => refusal(
            state,
            path,
            StatusCode::BAD_REQUEST,
            "invalid_request",
            "The resource request requires a DPoP proof.",
        ),
        other => bad_proof(state, path, &other),
    })?;
    let htu = format!("{}{path}", state.issuer);
    let now = crate::clock::now_secs();
    let expected = Expected { htm: parts.method.as_str(), htu: &htu, now, access_token: Some(token) };
    let verified = verify_proof(proof, &expected).map_err(|err| bad_proof(state, path, &err))?;
    if verified.jkt != bound {
        return Err(bad_proof(state, path, &DpopError::NotBound));
    }
    // The `jti` is stored as text, which cannot hold a NUL character on PostgreSQL.
    if verified.jti.contains('\0') {
        return Err(bad_proof(state, path, &DpopError::BadJti));
    }
    let fresh =
        state.store.use_jti(&replay_scope(&verified.jkt), &verified.jti, keep_until(state, verified.iat)).await?;
    if !fresh {
        return Err(bad_proof(state, path, &DpopError::Replayed));
    }
    Ok(claims)
}
