//! Client authentication at the token, introspection and revocation endpoints: `private_key_jwt`
//! (RFC 7523), `client_secret_basic` and `client_secret_post`, with Okta's exact refusals.
//!
//! Order of checks for an assertion: its type; it parses (strict JWS); its `alg` is one we take; `iss`
//! names a client and `sub` agrees; the client is active and has keys; a key is selected by `kid` (or, with
//! no `kid`, every active key of the right type is tried); the signature verifies; only then are `aud` and
//! the times checked (and, at the Access Gateway, the `scope` claim) and the `jti` consumed, so an unsigned
//! token can never burn another client's `jti`. One rule set serves every flavour; only the accepted `aud`
//! differs (see `audience_accepted`).
use super::form::Form;
use crate::cache::{CachedClient, ClientKey};
use crate::clock::now_secs;
use crate::errors::OAuthError;
use crate::state::{AppState, AuthzServer};
use axum::http::{HeaderMap, header};
use std::sync::Arc;
use tollgate_jose::{Algorithm, Claims, ClaimsError, JoseError, Validation, jws};

/// The only `client_assertion_type` there is.
pub const JWT_BEARER: &str = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer";

/// Longest an assertion may live: Okta refuses `exp` more than an hour ahead.
pub const MAX_ASSERTION_LIFETIME: u64 = 3600;

/// How the client authenticated.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AuthMethod {
    PrivateKeyJwt,
    ClientSecretBasic,
    ClientSecretPost,
}

impl AuthMethod {
    /// The RFC 7591 name.
    pub fn as_str(self) -> &'static str {
        match self {
            AuthMethod::PrivateKeyJwt => "private_key_jwt",
            AuthMethod::ClientSecretBasic => "client_secret_basic",
            AuthMethod::ClientSecretPost => "client_secret_post",
        }
    }
}

/// An authenticated client.
pub struct Authenticated {
    pub client: Arc<CachedClient>,
    pub method: AuthMethod,
    /// The assertion `jti` still to consume, when [`authenticate_deferred`] was used.
    pub pending_jti: Option<PendingJti>,
}

/// An assertion `jti` whose single use is yet to be recorded (see [`consume_jti`]).
#[derive(Debug, Clone)]
pub struct PendingJti {
    pub client_id: String,
    pub jti: String,
    /// Unix milliseconds, as `used_jti` keeps it.
    pub keep_until: i64,
}

/// Okta's answer to a replayed assertion.
pub fn replayed_assertion() -> OAuthError {
    OAuthError::invalid_client("The client_assertion token has already been used.")
}

/// Records a pending assertion `jti`; a replay is refused.
pub async fn consume_jti(state: &AppState, pending: &PendingJti) -> Result<(), OAuthError> {
    if state.store.use_jti(&pending.client_id, &pending.jti, pending.keep_until).await? {
        Ok(())
    } else {
        Err(replayed_assertion())
    }
}

enum Presented<'a> {
    Basic(&'a str),
    Post,
    Assertion,
}

/// Which credentials the request carries; more than one kind, or none, is refused as Okta does.
fn presented<'a>(headers: &'a HeaderMap, form: &Form) -> Result<Presented<'a>, OAuthError> {
    let basic = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.split_once(' ').filter(|(scheme, _)| scheme.eq_ignore_ascii_case("basic")))
        .map(|(_, creds)| creds.trim());
    let post = form.get("client_secret").is_some();
    let assertion = form.get("client_assertion").is_some() || form.get("client_assertion_type").is_some();
    match (basic, post, assertion) {
        (Some(b), false, false) => Ok(Presented::Basic(b)),
        (None, true, false) => Ok(Presented::Post),
        (None, false, true) => Ok(Presented::Assertion),
        (None, false, false) => Err(OAuthError::invalid_client("No client credentials found.")),
        _ => Err(OAuthError::new(
            axum::http::StatusCode::UNAUTHORIZED,
            "invalid_request",
            "Cannot supply multiple client credentials. Use one of the following: credentials in the \
             Authorization header, credentials in the post body, or a client_assertion in the post body.",
        )),
    }
}

/// Which method the request would use, without checking anything (for early, method-based refusals).
pub fn method_of(headers: &HeaderMap, form: &Form) -> Result<AuthMethod, OAuthError> {
    Ok(match presented(headers, form)? {
        Presented::Basic(_) => AuthMethod::ClientSecretBasic,
        Presented::Post => AuthMethod::ClientSecretPost,
        Presented::Assertion => AuthMethod::PrivateKeyJwt,
    })
}

/// Authenticates the client of a request to `endpoint` (`token`, `introspect`, `revoke`) of `server`.
pub async fn authenticate(
    state: &AppState,
    server: &AuthzServer,
    endpoint: &str,
    headers: &HeaderMap,
    form: &Form,
) -> Result<Authenticated, OAuthError> {
    let mut auth = authenticate_deferred(state, server, endpoint, headers, form).await?;
    if let Some(pending) = auth.pending_jti.take() {
        consume_jti(state, &pending).await?;
    }
    Ok(auth)
}

/// Like [`authenticate`], but leaves the assertion `jti` unconsumed in `pending_jti`, so that the token
/// endpoint can record it together with a DPoP proof's `jti` in one store round trip. The caller must
/// consume it (even when the request then fails, as Okta does).
pub async fn authenticate_deferred(
    state: &AppState,
    server: &AuthzServer,
    endpoint: &str,
    headers: &HeaderMap,
    form: &Form,
) -> Result<Authenticated, OAuthError> {
    match presented(headers, form)? {
        Presented::Basic(creds) => {
            let (id, secret) = decode_basic(creds).ok_or_else(|| {
                OAuthError::invalid_client("Found Authentication header but was not valid client credentials.")
            })?;
            if form.non_empty("client_id").is_some_and(|f| f != id) {
                return Err(OAuthError::invalid_client("Invalid value for 'client_id' parameter."));
            }
            let client = check_secret(state, &id, &secret).await?;
            Ok(Authenticated { client, method: AuthMethod::ClientSecretBasic, pending_jti: None })
        }
        Presented::Post => {
            let id = form
                .non_empty("client_id")
                .ok_or_else(|| OAuthError::invalid_client("No client credentials found."))?;
            let client = check_secret(state, id, form.get("client_secret").unwrap_or("")).await?;
            Ok(Authenticated { client, method: AuthMethod::ClientSecretPost, pending_jti: None })
        }
        Presented::Assertion => {
            let (client, pending_jti) = check_assertion(state, server, endpoint, form).await?;
            Ok(Authenticated { client, method: AuthMethod::PrivateKeyJwt, pending_jti })
        }
    }
}

/// `Basic base64(urlencode(id) ":" urlencode(secret))` (RFC 6749 §2.3.1).
fn decode_basic(creds: &str) -> Option<(String, String)> {
    use base64ct::Encoding;
    let raw = base64ct::Base64::decode_vec(creds).ok()?;
    let text = String::from_utf8(raw).ok()?;
    let (id, secret) = text.split_once(':')?;
    let decode =
        |s: &str| percent_encoding::percent_decode_str(&s.replace('+', " ")).decode_utf8().ok().map(|c| c.into_owned());
    let id = decode(id)?;
    (!id.is_empty()).then_some(())?;
    Some((id, decode(secret)?))
}

async fn check_secret(state: &AppState, client_id: &str, secret: &str) -> Result<Arc<CachedClient>, OAuthError> {
    let client = state
        .clients
        .get_or_load(state.store.as_ref(), client_id)
        .await?
        .filter(|c| c.is_active())
        .ok_or_else(|| OAuthError::invalid_client("Invalid value for 'client_id' parameter."))?;
    // Compare against every active secret (constant time each), so timing does not say which matched.
    let matched = client.secret_hashes.iter().fold(false, |acc, stored| state.hasher.matches(secret, stored) | acc);
    if !matched {
        return Err(OAuthError::invalid_client("The client secret supplied for a confidential client is invalid."));
    }
    Ok(client)
}

fn assertion_error(err: &JoseError) -> OAuthError {
    match err {
        JoseError::UnsupportedAlgorithm(_) => {
            OAuthError::invalid_client("The client_assertion JWT signature algorithm is invalid.")
        }
        other => OAuthError::invalid_client("The parsing of the client_assertion failed.").with_detail(other),
    }
}

/// Maps a claims-validation failure to Okta's description.
pub fn claims_error(err: &ClaimsError) -> OAuthError {
    let text = match err {
        ClaimsError::Missing("exp") | ClaimsError::WrongType("exp") => {
            "The client_assertion must contain the 'exp' claim as seconds since epoch."
        }
        ClaimsError::Expired { .. } => "The client_assertion token is expired.",
        ClaimsError::ExpiresTooLate { .. } => "The client_assertion token has an expiration too far into the future.",
        ClaimsError::IssuedInFuture { .. } => "The client_assertion token must be issued before the current time.",
        ClaimsError::NotYetValid { .. } => "The client_assertion token is not valid yet (nbf is in the future).",
        ClaimsError::WrongAudience { .. } => {
            "The audience claim for client_assertion must be the endpoint invoked for the request."
        }
        _ => "The parsing of the client_assertion failed.",
    };
    OAuthError::invalid_client(text).with_detail(err)
}

async fn client_keys(
    state: &AppState,
    client: &CachedClient,
    kid: Option<&str>,
) -> Result<Arc<Vec<ClientKey>>, OAuthError> {
    match &client.app.jwks_uri {
        Some(uri) => state.remote_jwks.keys(&client.app.client_id, uri, kid).await.map_err(|err| {
            let text = match err {
                super::remote_jwks::RemoteJwksError::Empty => {
                    "The client JWKSet from jwks_uri must contain at least one key."
                }
                super::remote_jwks::RemoteJwksError::DuplicateKid => {
                    "All keys in the client JWKSet from jwks_uri must have a unique kid."
                }
                _ => "The client JWKSet is invalid.",
            };
            OAuthError::invalid_client(text).with_detail(err)
        }),
        None => Ok(Arc::new(client.keys.clone())),
    }
}

async fn check_assertion(
    state: &AppState,
    server: &AuthzServer,
    endpoint: &str,
    form: &Form,
) -> Result<(Arc<CachedClient>, Option<PendingJti>), OAuthError> {
    if form.get("client_assertion_type") != Some(JWT_BEARER) {
        return Err(OAuthError::invalid_request("The client_assertion_type is invalid."));
    }
    let token = form.get("client_assertion").unwrap_or("");
    let jws = jws::decode(token).map_err(|e| assertion_error(&e))?;
    let alg = jws.header().alg;
    if alg == Algorithm::EdDsa {
        return Err(OAuthError::invalid_client("The client_assertion JWT signature algorithm is invalid."));
    }
    let claims: Claims = jws.claims().map_err(|e| assertion_error(&e))?;
    let client_id = claims.iss.as_deref().unwrap_or("");
    let client =
        state.clients.get_or_load(state.store.as_ref(), client_id).await?.ok_or_else(|| {
            OAuthError::invalid_client("The issuer claim for client_assertion is not a valid client_id.")
        })?;
    if claims.sub.as_deref() != Some(client_id) {
        return Err(OAuthError::invalid_client("The subject claim for client_assertion is not a valid client_id."));
    }
    if form.non_empty("client_id").is_some_and(|id| id != client_id) {
        return Err(OAuthError::invalid_client("Invalid value for 'client_id' parameter."));
    }
    if !client.is_active() {
        return Err(OAuthError::invalid_client("Invalid value for 'client_id' parameter."));
    }
    if client.app.jwks_uri.is_none() && !client.has_jwks {
        return Err(OAuthError::invalid_client(
            "The client does not have a JWKSet configured, but the client_assertion requires one.",
        ));
    }
    let kid = jws.header().kid.as_deref();
    let keys = client_keys(state, &client, kid).await?;
    let candidates: Vec<&ClientKey> = match kid {
        Some(kid) => {
            let by_kid: Vec<_> = keys.iter().filter(|k| k.kid.as_deref() == Some(kid)).collect();
            // A lone key without a kid matches any kid, as Okta lets a single-key JWKS omit it.
            if by_kid.is_empty() && keys.len() == 1 && keys[0].kid.is_none() { keys.iter().collect() } else { by_kid }
        }
        None => keys.iter().collect(),
    };
    if candidates.is_empty() {
        return Err(OAuthError::invalid_client("The client_assertion JWT kid is invalid."));
    }
    if candidates.iter().all(|k| k.key.key_use() == Some("enc")) {
        return Err(OAuthError::invalid_client("The client_assertion JWT needs to be signed using a signing key."));
    }
    let usable: Vec<_> = candidates.iter().filter(|k| k.key.key_use() != Some("enc") && k.key.allows(alg)).collect();
    if usable.is_empty() {
        return Err(if kid.is_some() {
            OAuthError::invalid_client("The client_assertion JWT signature algorithm is invalid.")
        } else {
            OAuthError::invalid_client("The client_assertion JWT kid is invalid.")
        });
    }
    if !usable.iter().any(|k| jws.verify(&k.key).is_ok()) {
        return Err(OAuthError::invalid_client("The client_assertion signature is invalid."));
    }

    let now = now_secs();
    if !audience_accepted(state, server, endpoint, &claims) {
        return Err(match server {
            AuthzServer::Oag => super::oag::wrong_audience(),
            _ => OAuthError::invalid_client(
                "The audience claim for client_assertion must be the endpoint invoked for the request.",
            ),
        });
    }
    let validation = Validation::new(now)
        .leeway(state.config.assertion_leeway_seconds)
        .require("exp")
        .max_lifetime(MAX_ASSERTION_LIFETIME);
    validation.validate(&claims).map_err(|e| claims_error(&e))?;
    if matches!(server, AuthzServer::Oag) {
        super::oag::check_scope_claim(&claims, form)?;
    }

    let pending = match (claims.jti, claims.exp) {
        (Some(jti), Some(exp)) => Some(PendingJti {
            client_id: client_id.to_owned(),
            jti,
            keep_until: (exp + state.config.assertion_leeway_seconds as i64) * 1000,
        }),
        _ => None,
    };
    Ok((client, pending))
}

/// Which `aud` an assertion may name. Custom servers: the invoked endpoint or the issuer (RFC 7523bis).
/// The Access Gateway: its base URL (the org issuer) only, as OAG requires. The org server: the endpoint,
/// or the issuer only when the assertion carries no `scope` claim — an assertion with `aud` = the bare
/// org URL and a `scope` claim is the Access Gateway's, and must not be taken here.
fn audience_accepted(state: &AppState, server: &AuthzServer, endpoint: &str, claims: &Claims) -> bool {
    let Some(aud) = claims.aud.as_ref() else { return false };
    let issuer = server.issuer(state);
    match server {
        // Exactly the base URL, alone: a list that also named the token URL would make one assertion good at
        // both endpoints, and the two flavours must refuse each other's assertions.
        AuthzServer::Oag => aud.values() == [issuer.as_str()],
        AuthzServer::Org if claims.extra.contains_key("scope") => aud.contains(&server.endpoint(state, endpoint)),
        _ => aud.contains(&server.endpoint(state, endpoint)) || aud.contains(&issuer),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn basic_credentials_are_form_decoded() {
        use base64ct::Encoding;
        let enc = base64ct::Base64::encode_string(b"my%20id:p%40ss+word");
        assert_eq!(decode_basic(&enc), Some(("my id".into(), "p@ss word".into())));
        assert_eq!(decode_basic("not base64!"), None);
        let no_colon = base64ct::Base64::encode_string(b"justid");
        assert_eq!(decode_basic(&no_colon), None);
    }
}
