//! System Log events and metrics for the OAuth endpoints: every token grant and refusal at every server,
//! introspection and revocation. Recorded once, by the dispatcher, after the answer is decided: the token
//! path only notes what it established ([`TokenFacts`]) and never waits on the log.
//!
//! Okta's event types: `app.oauth2.token.grant.access_token` (org server and Access Gateway) and
//! `app.oauth2.as.token.grant.access_token` (custom servers) for grants; `app.oauth2.token.grant` /
//! `app.oauth2.as.token.grant` with outcome FAILURE for refusals; `app.oauth2.token.revoke` /
//! `app.oauth2.as.token.revoke`. Introspection has no Okta event; tollgate logs it as
//! `app.oauth2.token.introspect` / `app.oauth2.as.token.introspect`.
use super::event::{Event, Party, RequestContext};
use crate::errors::OAuthError;
use crate::metrics::TokenLabels;
use crate::oauth::form::Form;
use crate::oauth::token::TokenFacts;
use crate::state::{AppState, AuthzServer};
use axum::http::{HeaderMap, header};

/// Which endpoint answered.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Call {
    Token,
    Introspect,
    Revoke,
}

/// The client a request claims to be (verified or not): Basic's id, the form's `client_id`, or the
/// assertion's `iss` (read without verifying; on a refusal it is only what the caller claimed).
fn claimed_client(headers: &HeaderMap, form: Option<&Form>) -> Option<String> {
    if let Some(id) = form.and_then(|f| f.non_empty("client_id")) {
        return Some(id.to_string());
    }
    if let Some(basic) = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Basic ").or_else(|| v.strip_prefix("basic ")))
    {
        use base64ct::Encoding;
        let raw = base64ct::Base64::decode_vec(basic.trim()).ok()?;
        let text = String::from_utf8(raw).ok()?;
        let id = text.split_once(':')?.0;
        return Some(percent_encoding::percent_decode_str(&id.replace('+', " ")).decode_utf8_lossy().into_owned());
    }
    let assertion = form?.non_empty("client_assertion")?;
    let jws = tollgate_jose::jws::decode(assertion).ok()?;
    let claims: serde_json::Map<String, serde_json::Value> = jws.claims().ok()?;
    claims.get("iss")?.as_str().map(str::to_string)
}

/// The assertion's `kid` and `jti`, when the client authenticated with one.
fn assertion_ids(form: Option<&Form>) -> (Option<String>, Option<String>) {
    let Some(jws) = form.and_then(|f| f.non_empty("client_assertion")).and_then(|a| tollgate_jose::jws::decode(a).ok())
    else {
        return (None, None);
    };
    let jti = jws
        .claims::<serde_json::Map<String, serde_json::Value>>()
        .ok()
        .and_then(|c| c.get("jti").and_then(|j| j.as_str().map(str::to_string)));
    (jws.header().kid.clone(), jti)
}

/// The external `iss` and `sub` of a federated assertion (a `jwt-spiffe` one, or a `jwt-bearer` one whose
/// `iss` is not the form's `client_id`), read without verifying: on a refusal they are what was claimed.
fn external_identity(form: Option<&Form>) -> Option<(String, String)> {
    let form = form?;
    let jws = tollgate_jose::jws::decode(form.non_empty("client_assertion")?).ok()?;
    let claims: serde_json::Map<String, serde_json::Value> = jws.claims().ok()?;
    let iss = claims.get("iss").and_then(|v| v.as_str()).unwrap_or("");
    let spiffe = form.get("client_assertion_type") == Some(tollgate_jose::assertion::JWT_SPIFFE);
    let client_id = form.non_empty("client_id")?;
    if !spiffe && iss == client_id {
        return None;
    }
    let sub = claims.get("sub").and_then(|v| v.as_str()).unwrap_or("");
    Some((iss.to_string(), sub.to_string()))
}

fn server_label(server: &AuthzServer) -> String {
    match server {
        AuthzServer::Org => "org".into(),
        AuthzServer::Oag => "oag".into(),
        AuthzServer::Custom(s) => s.server.id.clone(),
    }
}

/// Records the outcome of one OAuth call.
#[allow(clippy::too_many_arguments)]
pub(crate) fn record(
    state: &AppState,
    server: &AuthzServer,
    call: Call,
    context: Option<&RequestContext>,
    headers: &HeaderMap,
    form: Option<&Form>,
    facts: &TokenFacts,
    refusal: Option<&OAuthError>,
) {
    let custom = matches!(server, AuthzServer::Custom(_));
    if call == Call::Token {
        let labels = TokenLabels {
            server: server_label(server),
            auth_method: facts.method.map(|m| m.as_str()).unwrap_or("none").to_string(),
            result: if refusal.is_none() { "success" } else { "failure" }.to_string(),
            error: refusal.map(|e| e.error.to_string()).unwrap_or_default(),
        };
        state.metrics.tokens.get_or_create(&labels).inc();
    }
    if !state.log.enabled() {
        return;
    }
    let (event_type, message) = match (call, refusal.is_none(), custom) {
        (Call::Token, true, false) => ("app.oauth2.token.grant.access_token", "OAuth2 access token is granted"),
        (Call::Token, true, true) => ("app.oauth2.as.token.grant.access_token", "OAuth2 access token is granted"),
        (Call::Token, false, false) => ("app.oauth2.token.grant", "OAuth2 access token request refused"),
        (Call::Token, false, true) => ("app.oauth2.as.token.grant", "OAuth2 access token request refused"),
        (Call::Revoke, _, false) => ("app.oauth2.token.revoke", "OAuth2 token revocation request"),
        (Call::Revoke, _, true) => ("app.oauth2.as.token.revoke", "OAuth2 token revocation request"),
        (Call::Introspect, _, false) => ("app.oauth2.token.introspect", "OAuth2 token introspection request"),
        (Call::Introspect, _, true) => ("app.oauth2.as.token.introspect", "OAuth2 token introspection request"),
    };
    let actor = match &facts.client {
        Some((id, name)) => Party::new(id, "PublicClientApp", id, name),
        None => match claimed_client(headers, form) {
            Some(id) => {
                let name = state.clients.get(&id).map(|c| c.app.name.clone()).unwrap_or_else(|| id.clone());
                Party::new(id.clone(), "PublicClientApp", id, name)
            }
            None => Party::unknown(),
        },
    };
    let server_id = server_label(server);
    let mut event = Event::new(event_type, message, actor).target(Party::new(
        server.key_ring_id(),
        "AuthorizationServer",
        server.issuer(state),
        server_id,
    ));
    if let Some(ctx) = context {
        event = event.context(ctx);
    }
    if let Some(jti) = &facts.token_jti {
        event = event.target(Party::new(jti, "access_token", jti, "Access Token"));
    }
    let requested = form.and_then(|f| f.get("scope")).unwrap_or("").to_string();
    // Noted by the token path once authenticated; only a refusal before that decodes the assertion here.
    let (kid, assertion_jti) = match &facts.assertion_ids {
        Some(ids) => ids.clone(),
        None => assertion_ids(form),
    };
    event = event
        .debug("grantType", form.and_then(|f| f.get("grant_type")).unwrap_or("").to_string())
        .debug("requestedScopes", requested)
        .debug("grantedScopes", facts.granted.join(" "))
        .debug("clientAuthMethod", facts.method.map(|m| m.as_str()).unwrap_or(""))
        .debug("kid", kid)
        .debug("assertionJti", assertion_jti)
        .debug("dpopJkt", facts.jkt.clone());
    // Federated grants and refusals: the external identity (verified on a grant, claimed on a refusal).
    let external = match &facts.federated {
        Some(f) => Some((f.issuer.clone(), f.subject.clone())),
        None => external_identity(form),
    };
    if let Some((iss, sub)) = external {
        event = event
            .debug("federatedIssuer", iss)
            .debug("federatedSubject", sub)
            .debug("federatedCredential", facts.federated.as_ref().map(|f| f.credential_id.clone()));
    }
    if let Some(err) = refusal {
        event = event.outcome("FAILURE", err.description.to_string()).debug("error", err.error);
    }
    state.log.record(event);
}
