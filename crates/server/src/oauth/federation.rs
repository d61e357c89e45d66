//! Workload identity federation at the token endpoint: an app authenticated by a token its platform
//! issued (GitHub Actions, Kubernetes, SPIFFE, a cloud), matched against the app's federated credentials,
//! instead of a key or secret of its own. See docs/federation.md.
//!
//! A request is federated when the assertion type is the SPIFFE draft's (`jwt-spiffe`), or when it is
//! `jwt-bearer` with a `client_id` that is not the assertion's `iss` and names an app with federated
//! credentials (so `client_id` is required: `iss` is the external issuer). Order of checks: the app is
//! active; an ACTIVE credential trusts `iss`; the issuer's keys (the credential's `jwks_uri`, or
//! discovery), the key by `kid` and the signature; `exp` required, `nbf`/`iat` not in the future; then each
//! credential's conditions (`sub`, `aud`, claims, age: [`tollgate_jose::federation`]) — the first credential
//! met wins, and a refusal names the one that came closest and what failed. Nothing is written: the
//! external token's `jti` is not single use (`PendingJti::not_single_use`), and the access token may
//! not outlive the external token ([`Authenticated::not_after`]).
use super::client_auth::{Authenticated, FederatedFacts, candidate_keys};
use super::form::{Form, storable};
use super::jti::PendingJti;
use super::rules::AuthMethod;
use crate::cache::CachedClient;
use crate::clock::now_secs;
use crate::errors::OAuthError;
use crate::state::{AppState, AuthzServer};
use std::sync::Arc;
use tollgate_jose::assertion::{JWT_SPIFFE, Refusal};
use tollgate_jose::federation::{Mismatch, Rule, closeness, mismatches};
use tollgate_jose::{Claims, Validation, jws};
use tollgate_store::{ACTIVE, FederatedCredential};

/// Whether a `jwt-bearer` assertion is an external token for the form's `client_id`: the server takes
/// them, `client_id` is not the assertion's `iss`, and it names an app with federated credentials.
pub(super) async fn is_federated(
    state: &AppState,
    server: &AuthzServer,
    form: &Form,
    claims: &Claims,
) -> Result<Option<Arc<CachedClient>>, OAuthError> {
    let Some(client_id) = form.non_empty("client_id") else { return Ok(None) };
    if !server.rules().federation || claims.iss.as_deref() == Some(client_id) || !storable(client_id) {
        return Ok(None);
    }
    let client = state.clients.get_or_load(state.store.as_ref(), client_id).await?;
    Ok(client.filter(|c| !c.federated.is_empty()))
}

/// The client for a `jwt-spiffe` assertion: the form's `client_id`, required.
pub(super) async fn spiffe_client(
    state: &AppState,
    server: &AuthzServer,
    form: &Form,
) -> Result<Arc<CachedClient>, OAuthError> {
    if !server.rules().federation {
        return Err(Refusal::WrongType.into());
    }
    let client_id = form.non_empty("client_id").ok_or(Refusal::FederatedClientIdRequired)?;
    if !storable(client_id) {
        return Err(Refusal::BadClientId.into());
    }
    state.clients.get_or_load(state.store.as_ref(), client_id).await?.ok_or_else(|| Refusal::BadClientId.into())
}

/// Authenticates `client` by the external token `jws` (see the module doc).
pub(super) async fn authenticate(
    state: &AppState,
    server: &AuthzServer,
    form: &Form,
    jws: &jws::Jws<'_>,
    claims: &Claims,
    client: Arc<CachedClient>,
) -> Result<(Authenticated, PendingJti), OAuthError> {
    if !client.is_active() {
        return Err(Refusal::BadClientId.into());
    }
    let spiffe = form.get("client_assertion_type") == Some(JWT_SPIFFE);
    let issuer = claims.iss.as_deref().unwrap_or("");
    let trusting: Vec<&FederatedCredential> = client.federated.iter().filter(|c| c.issuer == issuer).collect();
    let active: Vec<&FederatedCredential> = trusting.iter().copied().filter(|c| c.status == ACTIVE).collect();
    if active.is_empty() {
        let mut err = OAuthError::from(Refusal::FederatedUntrustedIssuer);
        if let Some(inactive) = trusting.first() {
            err.description = format!(
                "{} The federated credential '{}' trusts this issuer but is INACTIVE.",
                Refusal::FederatedUntrustedIssuer.description(),
                inactive.name
            )
            .into();
        }
        return Err(err.with_detail(format!("iss {issuer:?}")));
    }

    // The issuer's keys: one source per distinct `jwks_uri` (None: discovery) among the trusting credentials.
    let kid = jws.header().kid.as_deref();
    let alg = jws.header().alg;
    let mut sources: Vec<Option<&str>> = Vec::new();
    for c in &active {
        if !sources.contains(&c.jwks_uri.as_deref()) {
            sources.push(c.jwks_uri.as_deref());
        }
    }
    let mut verified_sources: Vec<Option<&str>> = Vec::new();
    let mut last: Option<OAuthError> = None;
    for source in sources {
        let keys = match state.remote_jwks.issuer_keys(issuer, source, kid).await {
            Ok(keys) => keys,
            Err(e) => {
                last = Some(OAuthError::from(Refusal::FederatedKeysUnavailable).with_detail(e));
                continue;
            }
        };
        let candidates = candidate_keys(&keys, kid, alg);
        if candidates.is_empty() {
            last = Some(Refusal::BadKid.into());
            continue;
        }
        let usable: Vec<_> = candidates.iter().filter(|k| k.key.allows(alg)).collect();
        if usable.is_empty() {
            last = Some(Refusal::BadAlgorithm.into());
        } else if usable.iter().any(|k| jws.verify(&k.key).is_ok()) {
            verified_sources.push(source);
        } else {
            last = Some(Refusal::BadSignature.into());
        }
    }
    if verified_sources.is_empty() {
        return Err(last.unwrap_or_else(|| Refusal::BadSignature.into()));
    }

    // Platforms' tokens live longer than an hour (Kubernetes) and are reused: `exp` is required and must be
    // ahead, but not capped at an hour; `max_token_age` bounds the age instead.
    let now = now_secs();
    let validation = Validation::new(now).leeway(state.config.assertion_leeway_seconds).require("exp");
    validation.validate(claims).map_err(|e| OAuthError::from(Refusal::from_claims(&e)).with_detail(e))?;
    let all: serde_json::Map<String, serde_json::Value> = jws.claims().map_err(|_| Refusal::Unparsable)?;

    let default_audience = [server.issuer(state)];
    type Closeness = (usize, std::cmp::Reverse<usize>);
    let mut closest: Option<(&FederatedCredential, Vec<Mismatch>, Closeness)> = None;
    for credential in active.iter().filter(|c| verified_sources.contains(&c.jwks_uri.as_deref())) {
        let audiences =
            if credential.audiences.is_empty() { &default_audience[..] } else { credential.audiences.as_slice() };
        let rule = Rule {
            subject: &credential.subject,
            audiences,
            claims: &credential.claims,
            max_token_age: credential.max_token_age,
        };
        let failed = mismatches(&rule, &all, now);
        if failed.is_empty() {
            let facts = FederatedFacts {
                credential_id: credential.id.clone(),
                issuer: issuer.to_string(),
                subject: claims.sub.clone().unwrap_or_default(),
                spiffe,
            };
            let auth = Authenticated {
                client: client.clone(),
                method: AuthMethod::Federated,
                not_after: claims.exp,
                federated: Some(facts),
                assertion_ids: (None, None),
            };
            return Ok((auth, PendingJti::not_single_use()));
        }
        let how_close = closeness(&rule, &failed);
        if closest.as_ref().is_none_or(|(_, _, best)| how_close > *best) {
            closest = Some((*credential, failed, how_close));
        }
    }
    let mut err = OAuthError::from(Refusal::FederatedNoMatch);
    if let Some((credential, failed, _)) = closest {
        let what: Vec<String> = failed.iter().map(ToString::to_string).collect();
        err.description = format!(
            "{} Closest: federated credential '{}' ({}): {}.",
            Refusal::FederatedNoMatch.description(),
            credential.name,
            credential.id,
            what.join("; ")
        )
        .into();
    }
    Err(err)
}
