//! tollgate's own access tokens: minting (RS256 JWTs shaped like Okta's) and checking them where they
//! come back (introspection, revocation, the management and users APIs).
use super::jti::ConsumedJti;
use crate::clock::now_secs;
use crate::state::{AppState, AuthzServer};
use serde::{Deserialize, Serialize};
use tollgate_jose::{Algorithm, Header, jws};

/// The claims of an access token tollgate issued.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct AccessClaims {
    pub ver: u8,
    pub jti: String,
    pub iss: String,
    pub aud: serde_json::Value,
    pub iat: i64,
    pub exp: i64,
    pub cid: String,
    pub scp: Vec<String>,
    pub sub: String,
    /// DPoP confirmation (`{"jkt": thumbprint}`) for sender-constrained tokens.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub cnf: Option<serde_json::Value>,
}

/// Mints a signed access token for `client_id` with `scopes` on `server`, with a confirmation claim
/// (`cnf`) for DPoP-bound tokens; returns it with its claims. Takes the proof that the request's assertion
/// `jti` was spent, so no path can mint without spending it.
pub fn mint(
    state: &AppState,
    server: &AuthzServer,
    client_id: &str,
    scopes: Vec<String>,
    cnf: Option<serde_json::Value>,
    _jti_spent: ConsumedJti,
) -> Result<(String, AccessClaims), crate::errors::OAuthError> {
    let keys = server
        .keys(state)
        .ok_or_else(|| crate::errors::OAuthError::server_error("authorization server has no signing keys"))?;
    let now = now_secs();
    let claims = AccessClaims {
        ver: 1,
        jti: format!("AT.{}", crate::ids::random_b64url_32()),
        iss: server.issuer(state),
        aud: server.audience(state),
        iat: now,
        exp: now + server.token_lifetime(),
        cid: client_id.to_string(),
        scp: scopes,
        sub: client_id.to_string(),
        cnf,
    };
    let header = Header::new(Algorithm::Rs256).with_kid(keys.active.kid());
    let token = jws::sign_json(&keys.active, &header, &claims).map_err(crate::errors::OAuthError::server_error)?;
    Ok((token, claims))
}

/// Why a presented access token is not accepted.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Rejection {
    /// Not a token of this server (bad format, unknown key, bad signature, wrong issuer).
    Invalid,
    Expired,
    Revoked,
    /// Its client no longer exists or is deactivated.
    ClientInactive,
}

impl Rejection {
    /// The `error_description` Okta uses for this case.
    pub fn description(self) -> &'static str {
        match self {
            Rejection::Expired => "The token has expired.",
            Rejection::Invalid => "The access token is invalid.",
            Rejection::Revoked => "The access token has been revoked.",
            Rejection::ClientInactive => "The client of this access token is not active.",
        }
    }
}

/// Checks a presented access token against `server`: signature by a published key, issuer, expiry,
/// not revoked, and its client still active.
pub async fn verify(state: &AppState, server: &AuthzServer, token: &str) -> Result<AccessClaims, Rejection> {
    let parsed = jws::decode(token).map_err(|_| Rejection::Invalid)?;
    if parsed.header().alg != Algorithm::Rs256 {
        return Err(Rejection::Invalid);
    }
    let keys = server.keys(state).ok_or(Rejection::Invalid)?;
    let kid = parsed.header().kid.as_deref().ok_or(Rejection::Invalid)?;
    let key = keys.published.get(kid).ok_or(Rejection::Invalid)?;
    parsed.verify(key).map_err(|_| Rejection::Invalid)?;
    let claims: AccessClaims = parsed.claims().map_err(|_| Rejection::Invalid)?;
    if claims.iss != server.issuer(state) {
        return Err(Rejection::Invalid);
    }
    if claims.exp <= now_secs() {
        return Err(Rejection::Expired);
    }
    // A client created through another node moments ago may not be cached here yet: read it once.
    let client = state.clients.get_or_load(state.store.as_ref(), &claims.cid).await.ok().flatten();
    if !client.is_some_and(|c| c.is_active()) {
        return Err(Rejection::ClientInactive);
    }
    match state.store.is_revoked(&claims.jti).await {
        Ok(false) => Ok(claims),
        Ok(true) => Err(Rejection::Revoked),
        // If revocations cannot be read, fail closed.
        Err(err) => {
            tracing::error!(error = %err, "revocation check failed");
            Err(Rejection::Invalid)
        }
    }
}
