//! Client authentication at the token, introspection and revocation endpoints: `private_key_jwt`
//! (RFC 7523), `client_secret_basic` and `client_secret_post`, with Okta's exact refusals
//! ([`tollgate_jose::assertion::Refusal`] for assertions).
//!
//! Order of checks for an assertion: its type; it parses (strict JWS); its `alg` is one we take; `iss`
//! names a client and `sub` agrees; the client is active and has keys; a key is selected by `kid` (with no `kid`:
//! the app's one key of the assertion's key type, if it has exactly one); the signature verifies; only then are `aud`, the
//! times and (where the server's rules want one) the `scope` claim checked. The `jti` is not consumed here:
//! it is handed back as a [`PendingJti`] for the caller to spend, so an unsigned token can never burn
//! another client's `jti`, and the token endpoint can record it with a DPoP proof's in one statement.
//!
//! An assertion that is an external token for the form's `client_id` (workload identity federation, or
//! the SPIFFE draft's `jwt-spiffe` type) is handed to [`super::federation`] right after it parses.
use super::federation;
use super::form::{Form, storable};
use super::jti::PendingJti;
use super::remote_jwks::RemoteJwksError;
use super::rules::{Audience, AuthMethod};
use crate::cache::{CachedClient, ClientKey};
use crate::clock::now_secs;
use crate::errors::OAuthError;
use crate::state::{AppState, AuthzServer};
use axum::http::{HeaderMap, header};
use std::sync::Arc;
use tollgate_jose::assertion::{JWT_BEARER, JWT_SPIFFE, MAX_LIFETIME_SECONDS, Refusal, scope_set};
use tollgate_jose::{Algorithm, Claims, JoseError, Validation, jws};

/// An authenticated client.
pub struct Authenticated {
    pub client: Arc<CachedClient>,
    pub method: AuthMethod,
    /// The latest `exp` (Unix seconds) an access token for this request may have: the external token's,
    /// for a federated assertion. `None`: the server's own lifetime alone.
    pub not_after: Option<i64>,
    /// For a federated assertion: which credential it met, and the external identity.
    pub federated: Option<FederatedFacts>,
    /// The assertion's `kid` and `jti` (private_key_jwt), noted for the System Log so that it need not
    /// decode the assertion again.
    pub assertion_ids: (Option<String>, Option<String>),
}

/// Who a federated assertion proved to be.
#[derive(Debug, Clone)]
pub struct FederatedFacts {
    /// The federated credential met.
    pub credential_id: String,
    /// The external token's `iss` and `sub`.
    pub issuer: String,
    pub subject: String,
    /// Sent with the SPIFFE draft's assertion type.
    pub spiffe: bool,
}

impl Authenticated {
    fn by(client: Arc<CachedClient>, method: AuthMethod) -> Self {
        Authenticated { client, method, not_after: None, federated: None, assertion_ids: (None, None) }
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
/// The assertion `jti`, if any, is returned unconsumed: the caller must spend it (see [`super::jti`]).
pub async fn authenticate(
    state: &AppState,
    server: &AuthzServer,
    endpoint: &str,
    headers: &HeaderMap,
    form: &Form,
) -> Result<(Authenticated, PendingJti), OAuthError> {
    match presented(headers, form)? {
        Presented::Basic(creds) => {
            let basic = decode_basic(creds).ok_or_else(|| {
                OAuthError::invalid_client("Found Authentication header but was not valid client credentials.")
            })?;
            if !storable(&basic.id) || form.non_empty("client_id").is_some_and(|f| f != basic.id) {
                return Err(Refusal::BadClientId.into());
            }
            let client = match &basic.decoded_secret {
                Some(decoded) => check_secret(state, &basic.id, &[&basic.secret, decoded]).await?,
                None => check_secret(state, &basic.id, &[&basic.secret]).await?,
            };
            Ok((Authenticated::by(client, AuthMethod::ClientSecretBasic), PendingJti::nothing()))
        }
        Presented::Post => {
            let id = form
                .non_empty("client_id")
                .ok_or_else(|| OAuthError::invalid_client("No client credentials found."))?;
            if !storable(id) {
                return Err(Refusal::BadClientId.into());
            }
            let client = check_secret(state, id, &[form.get("client_secret").unwrap_or("")]).await?;
            Ok((Authenticated::by(client, AuthMethod::ClientSecretPost), PendingJti::nothing()))
        }
        Presented::Assertion => check_assertion(state, server, endpoint, form).await,
    }
}

/// What a `Basic` header carries.
struct BasicCredentials {
    id: String,
    /// The secret as sent, and form-decoded when that differs: RFC 6749 §2.3.1 wants both parts
    /// form-encoded, but curl `-u`, requests, authlib, httpx and ruby-oauth2 send them raw.
    secret: String,
    decoded_secret: Option<String>,
}

/// `Basic base64(id ":" secret)`, split on the first `:` (an encoded secret has none before it; a raw one
/// may have some after it). The id is form-decoded (ids have nothing to encode, so both forms agree).
fn decode_basic(creds: &str) -> Option<BasicCredentials> {
    use base64ct::Encoding;
    let raw = base64ct::Base64::decode_vec(creds).ok()?;
    let text = String::from_utf8(raw).ok()?;
    let (id, secret) = text.split_once(':')?;
    let decode =
        |s: &str| percent_encoding::percent_decode_str(&s.replace('+', " ")).decode_utf8().ok().map(|c| c.into_owned());
    let id = decode(id)?;
    (!id.is_empty()).then_some(())?;
    let decoded_secret = decode(secret).filter(|d| d != secret);
    Some(BasicCredentials { id, secret: secret.to_owned(), decoded_secret })
}

async fn check_secret(state: &AppState, client_id: &str, candidates: &[&str]) -> Result<Arc<CachedClient>, OAuthError> {
    let client = state
        .clients
        .get_or_load(state.store.as_ref(), client_id)
        .await?
        .filter(|c| c.is_active())
        .ok_or(Refusal::BadClientId)?;
    // Every candidate against every active secret (constant time each), so timing says neither which
    // secret nor which spelling matched.
    let mut matched: Option<usize> = None;
    for (index, stored) in client.secret_hashes.iter().enumerate() {
        let hit = candidates.iter().fold(false, |acc, secret| state.hasher.matches(secret, stored) | acc);
        matched = if hit { Some(index) } else { matched };
    }
    let Some(index) = matched else {
        return Err(OAuthError::invalid_client("The client secret supplied for a confidential client is invalid."));
    };
    if let Some(id) = client.secret_ids.get(index) {
        state.last_used.note(&client.app.id, id, crate::clock::now_millis());
    }
    Ok(client)
}

fn assertion_error(err: JoseError) -> OAuthError {
    match err {
        JoseError::UnsupportedAlgorithm(_) => Refusal::BadAlgorithm.into(),
        other => OAuthError::from(Refusal::Unparsable).with_detail(other),
    }
}

/// A client's active keys: its stored JWKS (borrowed from the cache, not copied) or its `jwks_uri`'s.
enum Keys<'a> {
    Stored(&'a [ClientKey]),
    Remote(Arc<Vec<ClientKey>>),
}

impl std::ops::Deref for Keys<'_> {
    type Target = [ClientKey];
    fn deref(&self) -> &[ClientKey] {
        match self {
            Keys::Stored(keys) => keys,
            Keys::Remote(keys) => keys,
        }
    }
}

async fn client_keys<'a>(
    state: &AppState,
    client: &'a CachedClient,
    kid: Option<&str>,
) -> Result<Keys<'a>, OAuthError> {
    match &client.app.jwks_uri {
        Some(uri) => state.remote_jwks.keys(&client.app.client_id, uri, kid).await.map(Keys::Remote).map_err(|err| {
            let refusal = match err {
                RemoteJwksError::Empty => Refusal::RemoteJwksEmpty,
                RemoteJwksError::DuplicateKid => Refusal::RemoteJwksDuplicateKid,
                _ => Refusal::JwksInvalid,
            };
            OAuthError::from(refusal).with_detail(err)
        }),
        None => Ok(Keys::Stored(&client.keys)),
    }
}

/// The keys that may have signed an assertion with this `kid` and `alg`: by `kid` (a lone key without
/// one matches any), or without `kid` the one key of the algorithm's type if there is exactly one.
pub(super) fn candidate_keys<'k>(keys: &'k [ClientKey], kid: Option<&str>, alg: Algorithm) -> Vec<&'k ClientKey> {
    match kid {
        Some(kid) => {
            let by_kid: Vec<_> = keys.iter().filter(|k| k.kid.as_deref() == Some(kid)).collect();
            // A lone key without a kid matches any kid, as Okta lets a single-key JWKS omit it.
            if by_kid.is_empty() && keys.len() == 1 && keys[0].kid.is_none() { keys.iter().collect() } else { by_kid }
        }
        // No kid: only when the app has exactly one key of the assertion's key type (Okta's Python SDK with a
        // PEM sends none); never a trial of every key, which would let garbage cost one verify per key.
        None => {
            let of_type: Vec<_> = keys.iter().filter(|k| k.key.spec().kty() == kty_of(alg)).collect();
            if of_type.len() == 1 { of_type } else { Vec::new() }
        }
    }
}

async fn check_assertion(
    state: &AppState,
    server: &AuthzServer,
    endpoint: &str,
    form: &Form,
) -> Result<(Authenticated, PendingJti), OAuthError> {
    let spiffe = match form.get("client_assertion_type") {
        Some(JWT_BEARER) => false,
        Some(JWT_SPIFFE) => true,
        _ => return Err(Refusal::WrongType.into()),
    };
    let token = form.get("client_assertion").unwrap_or("");
    let jws = jws::decode(token).map_err(assertion_error)?;
    let alg = jws.header().alg;
    let claims: Claims = jws.claims().map_err(assertion_error)?;
    let federated_client = if spiffe {
        Some(federation::spiffe_client(state, server, form).await?)
    } else {
        federation::is_federated(state, server, form, &claims).await?
    };
    if let Some(client) = federated_client {
        return federation::authenticate(state, server, form, &jws, &claims, client).await;
    }
    if alg == Algorithm::EdDsa {
        return Err(Refusal::BadAlgorithm.into());
    }
    let client_id = claims.iss.as_deref().unwrap_or("");
    if !storable(client_id) {
        return Err(Refusal::BadIssuer.into());
    }
    let client = state.clients.get_or_load(state.store.as_ref(), client_id).await?.ok_or(Refusal::BadIssuer)?;
    if claims.sub.as_deref() != Some(client_id) {
        return Err(Refusal::BadSubject.into());
    }
    if form.non_empty("client_id").is_some_and(|id| id != client_id) || !client.is_active() {
        return Err(Refusal::BadClientId.into());
    }
    if client.app.jwks_uri.is_none() && !client.has_jwks {
        return Err(Refusal::NoJwks.into());
    }
    let kid = jws.header().kid.as_deref();
    let keys = client_keys(state, &client, kid).await?;
    let candidates = candidate_keys(&keys, kid, alg);
    if candidates.is_empty() {
        return Err(Refusal::BadKid.into());
    }
    if candidates.iter().all(|k| k.key.key_use() == Some("enc")) {
        return Err(Refusal::EncryptionKey.into());
    }
    let usable: Vec<_> = candidates.iter().filter(|k| k.key.key_use() != Some("enc") && k.key.allows(alg)).collect();
    if usable.is_empty() {
        return Err(if kid.is_some() { Refusal::BadAlgorithm } else { Refusal::BadKid }.into());
    }
    let Some(signer) = usable.iter().find(|k| jws.verify(&k.key).is_ok()) else {
        return Err(Refusal::BadSignature.into());
    };
    let signer_id = signer.id.clone();

    let rules = server.rules();
    if !audience_accepted(state, server, endpoint, &claims) {
        return Err(rules.wrong_audience.into());
    }
    let validation = Validation::new(now_secs())
        .leeway(state.config.assertion_leeway_seconds)
        .require("exp")
        .max_lifetime(MAX_LIFETIME_SECONDS);
    validation.validate(&claims).map_err(|e| OAuthError::from(Refusal::from_claims(&e)).with_detail(e))?;
    if rules.scope_claim {
        check_scope_claim(&claims, form)?;
    }

    let ids = (jws.header().kid.clone(), claims.jti.clone());
    let pending = match (claims.jti, claims.exp) {
        // Signed by the client, but not a jti the replay store can keep.
        (Some(jti), _) if !storable(&jti) => return Err(Refusal::Unparsable.into()),
        (Some(jti), Some(exp)) => {
            PendingJti::new(client_id.to_owned(), jti, (exp + state.config.assertion_leeway_seconds as i64) * 1000)
        }
        _ => PendingJti::nothing(),
    };
    if let Some(id) = &signer_id {
        state.last_used.note(&client.app.id, id, crate::clock::now_millis());
    }
    let mut authenticated = Authenticated::by(client, AuthMethod::PrivateKeyJwt);
    authenticated.assertion_ids = ids;
    Ok((authenticated, pending))
}

/// The JWK `kty` of the keys that can verify `alg`.
fn kty_of(alg: Algorithm) -> &'static str {
    match alg {
        Algorithm::EdDsa => "OKP",
        a if a.is_rsa() => "RSA",
        _ => "EC",
    }
}

/// Whether the assertion's `aud` is one the server's rules accept (see [`Audience`]).
fn audience_accepted(state: &AppState, server: &AuthzServer, endpoint: &str, claims: &Claims) -> bool {
    let Some(aud) = claims.aud.as_ref() else { return false };
    let issuer = server.issuer(state);
    match server.rules().audience {
        Audience::IssuerAlone => aud.values() == [issuer.as_str()],
        Audience::EndpointOrIssuerWithoutScopeClaim if claims.extra.contains_key("scope") => {
            aud.contains(&server.endpoint(state, endpoint))
        }
        _ => aud.contains(&server.endpoint(state, endpoint)) || aud.contains(&issuer),
    }
}

/// The assertion's `scope` claim must be there, be a string, and name the same set of scopes as the form's
/// `scope` parameter (order and repeats do not matter).
fn check_scope_claim(claims: &Claims, form: &Form) -> Result<(), Refusal> {
    let claim = match claims.extra.get("scope") {
        Some(serde_json::Value::String(s)) => s.as_str(),
        Some(_) => return Err(Refusal::ScopeClaimNotString),
        None => return Err(Refusal::MissingScopeClaim),
    };
    if scope_set(claim) != scope_set(form.get("scope").unwrap_or("")) {
        return Err(Refusal::ScopeClaimMismatch);
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn basic_credentials_are_form_decoded() {
        use base64ct::Encoding;
        let parts = |text: &[u8]| {
            decode_basic(&base64ct::Base64::encode_string(text)).map(|b| (b.id, b.secret, b.decoded_secret))
        };
        assert_eq!(
            parts(b"my%20id:p%40ss+word"),
            Some(("my id".into(), "p%40ss+word".into(), Some("p@ss word".into())))
        );
        // Sent raw: split on the first colon, the rest is the secret.
        assert_eq!(parts(b"id:a:b/c"), Some(("id".into(), "a:b/c".into(), None)));
        assert_eq!(parts(b"id:%FF"), Some(("id".into(), "%FF".into(), None)), "not UTF-8 once decoded: raw only");
        assert!(decode_basic("not base64!").is_none());
        assert!(parts(b"justid").is_none());
    }

    fn form(scope: &str) -> Form {
        Form::parse(format!("scope={}", scope.replace(' ', "+")).as_bytes()).unwrap()
    }

    fn claims(scope: serde_json::Value) -> Claims {
        serde_json::from_value(serde_json::json!({ "iss": "c", "scope": scope })).unwrap()
    }

    #[test]
    fn scope_claim_agrees_as_a_set() {
        let c = claims("okta.oag.app.read okta.oag.idp.read".into());
        assert!(check_scope_claim(&c, &form("okta.oag.idp.read okta.oag.app.read")).is_ok());
        assert!(check_scope_claim(&c, &form("okta.oag.app.read  okta.oag.idp.read okta.oag.app.read")).is_ok());
        assert_eq!(check_scope_claim(&c, &form("okta.oag.app.read")), Err(Refusal::ScopeClaimMismatch));
        let not_string = claims(serde_json::json!(["okta.oag.app.read"]));
        assert_eq!(check_scope_claim(&not_string, &form("x")), Err(Refusal::ScopeClaimNotString));
        let none: Claims = serde_json::from_value(serde_json::json!({ "iss": "c" })).unwrap();
        assert_eq!(check_scope_claim(&none, &form("okta.oag.app.read")), Err(Refusal::MissingScopeClaim));
    }
}
