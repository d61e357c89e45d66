//! tollgate's own access tokens: minting (RS256 JWTs shaped like Okta's) and checking them where they
//! come back (introspection, revocation, the management and users APIs).
use super::jti::ConsumedJti;
use crate::clock::now_secs;
use crate::state::{AppState, AuthzServer};
use serde::{Deserialize, Serialize};
use tollgate_jose::{Algorithm, Header, jws};
use tollgate_store::App;

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
    /// The app instance (its internal id, not the `client_id`) the token was issued to: a client
    /// re-registered under the same `client_id` is another instance and does not inherit the token.
    /// Absent only in tokens minted before this claim existed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub app: Option<String>,
    /// The app's token generation at issue; deactivating the app moves it on, killing the token for good.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tgen: Option<i64>,
    /// The custom server's custom claims (`RESOURCE` claims whose conditions the grant met).
    #[serde(flatten)]
    pub custom: serde_json::Map<String, serde_json::Value>,
}

/// What a token is minted with: the granted scopes, its lifetime in seconds and, for a DPoP-bound token,
/// the confirmation claim.
#[derive(Debug)]
pub struct Minted {
    pub scopes: Vec<String>,
    pub lifetime: i64,
    pub cnf: Option<serde_json::Value>,
    /// The latest `exp` allowed (a federated assertion's token may not outlive the external token).
    pub not_after: Option<i64>,
}

/// The custom claims a token of `server` for `app` with `scopes` carries: each ACTIVE `RESOURCE` claim whose
/// scope condition is met (none: any scope), evaluated for the app; a claim whose value is `null` (it reads
/// an attribute the app lacks) is left out, as Okta leaves it out.
pub fn custom_claims(server: &AuthzServer, app: &App, scopes: &[String]) -> serde_json::Map<String, serde_json::Value> {
    let mut out = serde_json::Map::new();
    let AuthzServer::Custom(custom) = server else {
        return out;
    };
    let ctx = super::expr::Context {
        client_id: &app.client_id,
        app_id: &app.id,
        label: &app.name,
        profile: app.extra.get("profile").and_then(serde_json::Value::as_object),
    };
    for claim in &custom.token_claims {
        if !claim.scopes.is_empty() && !claim.scopes.iter().any(|s| scopes.contains(s)) {
            continue;
        }
        let value = claim.expr.eval(&ctx);
        if !value.is_null() {
            out.insert(claim.name.clone(), value);
        }
    }
    out
}

/// Mints a signed access token for `app` on `server` as `minted` says (scopes, lifetime, a confirmation
/// claim `cnf` for DPoP-bound tokens) with the server's custom claims; returns it with its claims. Takes the proof that the request's assertion
/// `jti` was spent, so no path can mint without spending it. The app instance and token generation come
/// from the cached app: no database read here. `not_after` caps `exp` (a federated assertion's token may
/// not outlive the external token it was exchanged for).
pub fn mint(
    state: &AppState,
    server: &AuthzServer,
    app: &App,
    minted: Minted,
    _jti_spent: ConsumedJti,
) -> Result<(String, AccessClaims), crate::errors::OAuthError> {
    let keys = server
        .keys(state)
        .ok_or_else(|| crate::errors::OAuthError::server_error("authorization server has no signing keys"))?;
    let now = now_secs();
    let custom = custom_claims(server, app, &minted.scopes);
    let Minted { scopes, lifetime, cnf, not_after } = minted;
    let exp = match not_after {
        Some(cap) if cap <= now => return Err(tollgate_jose::assertion::Refusal::Expired.into()),
        Some(cap) => cap.min(now + lifetime),
        None => now + lifetime,
    };
    let claims = AccessClaims {
        ver: 1,
        jti: format!("AT.{}", crate::ids::random_b64url_32()),
        iss: server.issuer(state),
        aud: server.audience(state),
        iat: now,
        exp,
        cid: app.client_id.clone(),
        scp: scopes,
        sub: app.client_id.clone(),
        cnf,
        app: Some(app.id.clone()),
        tgen: Some(app.token_generation),
        custom,
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
    /// Its client no longer exists, is deactivated, was deactivated after the token was issued, or is
    /// another instance registered under the same `client_id`.
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

/// Whether a token with these claims still belongs to `app`: the same instance, issued under the app's
/// current token generation. A token from before these claims existed has neither; it is taken only while
/// the app was never deactivated and if it is not older than the app (so not from an earlier instance).
fn issued_to(claims: &AccessClaims, app: &App) -> bool {
    match (&claims.app, claims.tgen) {
        (Some(instance), Some(generation)) => *instance == app.id && generation == app.token_generation,
        (None, None) => app.token_generation == 0 && claims.iat.saturating_mul(1000) >= app.created,
        _ => false,
    }
}

/// Checks a presented access token against `server`: signature by a published key, issuer, expiry,
/// not revoked, and its client still active and the very instance (and generation) it was issued to.
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
    if !client.is_some_and(|c| c.is_active() && issued_to(&claims, &c.app)) {
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

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    fn app(id: &str, generation: i64) -> App {
        App {
            id: id.into(),
            client_id: "cid".into(),
            name: "n".into(),
            status: tollgate_store::ACTIVE.into(),
            application_type: "service".into(),
            auth_method: "private_key_jwt".into(),
            grant_types: vec![],
            jwks_uri: None,
            dpop_bound: false,
            extra: serde_json::Map::new(),
            created: 1_000_000,
            last_updated: 1_000_000,
            token_generation: generation,
        }
    }

    fn claims(app: Option<&str>, tgen: Option<i64>, iat: i64) -> AccessClaims {
        let mut value = serde_json::json!({
            "ver": 1, "jti": "AT.x", "iss": "i", "aud": "a", "iat": iat, "exp": iat + 60,
            "cid": "cid", "scp": [], "sub": "cid",
        });
        if let Some(a) = app {
            value["app"] = a.into();
        }
        if let Some(g) = tgen {
            value["tgen"] = g.into();
        }
        serde_json::from_value(value).unwrap()
    }

    #[test]
    fn a_token_belongs_to_one_instance_and_generation() {
        assert!(issued_to(&claims(Some("0oa1"), Some(2), 5_000), &app("0oa1", 2)));
        assert!(!issued_to(&claims(Some("0oa1"), Some(1), 5_000), &app("0oa1", 2)), "an earlier generation");
        assert!(!issued_to(&claims(Some("0oa0"), Some(2), 5_000), &app("0oa1", 2)), "another instance");
        assert!(!issued_to(&claims(Some("0oa1"), None, 5_000), &app("0oa1", 0)), "half the binding");
    }

    #[test]
    fn tokens_from_before_the_binding_parse_and_are_checked_by_age() {
        // Older than the app: issued to an earlier instance under the same client_id.
        assert!(!issued_to(&claims(None, None, 999), &app("0oa1", 0)));
        assert!(issued_to(&claims(None, None, 1_000), &app("0oa1", 0)));
        // Any deactivation since retires them.
        assert!(!issued_to(&claims(None, None, 5_000), &app("0oa1", 1)));
    }
}
