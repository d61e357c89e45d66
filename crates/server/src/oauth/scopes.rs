//! Which scopes a client-credentials token gets, by the server's [`Scopes`] rule: Okta API scopes
//! narrowed to the app's org grants ("silent downscoping"; the org server issues no `okta.oag.*` scope and
//! the Access Gateway nothing else, so their tokens never share a scope), or a custom server's own scopes
//! under its access policy.
use super::rules::Scopes;
use crate::cache::{CachedClient, CachedServer};
use crate::errors::OAuthError;
use crate::state::AuthzServer;
use axum::http::StatusCode;
use tollgate_store::ACTIVE;

/// The refusal when none of the requested scopes is granted (the token path reads the client once more
/// before answering it).
pub const CONSENT_REQUIRED: &str = "consent_required";

/// Scopes that belong to OpenID Connect: a client-credentials token has no user to describe.
const OIDC_SCOPES: &[&str] = &["openid", "profile", "email", "address", "phone", "offline_access", "groups"];

/// Every Access Gateway scope starts with this.
pub const OAG_SCOPE_PREFIX: &str = "okta.oag.";

/// Whether `scope` belongs to the Access Gateway.
pub fn is_oag_scope(scope: &str) -> bool {
    scope.starts_with(OAG_SCOPE_PREFIX)
}

/// Refusal when no access policy, or no rule of the first policy that applies, matches the request.
pub const POLICY_FAILED: &str = "Policy evaluation failed for this request, please check the policy configurations.";
/// Refusal when a rule matched the client and grant type but allows none of the requested scopes.
pub const ALL_SCOPES_REJECTED: &str = "Policy evaluation succeeded, but all the requested scopes were rejected.";

const CLIENT_CREDENTIALS: &str = "client_credentials";

/// What a token request is granted.
#[derive(Debug)]
pub struct Granted {
    pub scopes: Vec<String>,
    /// The access token lifetime in seconds set by the matching policy rule; `None`: the flavour's own.
    pub lifetime: Option<i64>,
}

/// The scopes `client` gets from `server` for the form's `scope` parameter (and, at a custom server, the
/// lifetime its policy rule sets).
pub fn grant(server: &AuthzServer, client: &CachedClient, scope_param: &str) -> Result<Granted, OAuthError> {
    let requested = requested_scopes(scope_param);
    match (server.rules().scopes, server) {
        (Scopes::ServerOwn, AuthzServer::Custom(custom)) => custom_scopes(custom, client, &requested),
        (Scopes::ServerOwn, _) => Err(OAuthError::server_error("a server's own scopes without a custom server")),
        (family, _) => Ok(Granted { scopes: org_scopes(family, client, &requested)?, lifetime: None }),
    }
}

/// The `scope` parameter split on spaces, empties and repeats dropped, order kept.
fn requested_scopes(scope: &str) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    for s in scope.split(' ').filter(|s| !s.is_empty()) {
        if !out.iter().any(|o| o == s) {
            out.push(s.to_string());
        }
    }
    out
}

fn refuse_oidc(requested: &[String]) -> Result<(), OAuthError> {
    if requested.iter().any(|s| s == "openid") {
        return Err(OAuthError::invalid_scope("Cannot request 'openid' scopes using client credentials."));
    }
    let oidc: Vec<&str> = requested.iter().map(String::as_str).filter(|s| OIDC_SCOPES.contains(s)).collect();
    if !oidc.is_empty() {
        return Err(OAuthError::invalid_scope(format!(
            "The following scopes are not allowed for this request: [{}].",
            oidc.join(", ")
        )));
    }
    Ok(())
}

/// Org server and Access Gateway: `okta.*` scopes of the server's family only, narrowed to the app's grants.
fn org_scopes(family: Scopes, client: &CachedClient, requested: &[String]) -> Result<Vec<String>, OAuthError> {
    if requested.is_empty() {
        return Err(OAuthError::invalid_scope("No scopes were requested."));
    }
    refuse_oidc(requested)?;
    if requested.iter().any(|s| s.ends_with(".self")) {
        return Err(OAuthError::new(
            StatusCode::BAD_REQUEST,
            "client_credentials_self_scope_requested",
            "The 'client_credentials' grant type may not request .self scopes.",
        ));
    }
    if requested.iter().any(|s| !s.starts_with("okta.")) {
        return Err(OAuthError::invalid_scope("Custom scopes are not allowed for this request."));
    }
    check_family(family, requested)?;
    let granted: Vec<String> = requested.iter().filter(|s| client.org_grants.contains(*s)).cloned().collect();
    if granted.is_empty() {
        return Err(OAuthError::new(
            StatusCode::BAD_REQUEST,
            CONSENT_REQUIRED,
            "You are not allowed any of the requested scopes.",
        ));
    }
    Ok(granted)
}

/// Keeps the two families apart: the gateway issues known `okta.oag.*` scopes only, the org server none
/// of them.
fn check_family(family: Scopes, requested: &[String]) -> Result<(), OAuthError> {
    let refused = |keep: &dyn Fn(&str) -> bool| -> Vec<&str> {
        requested.iter().map(String::as_str).filter(|s| !keep(s)).collect()
    };
    match family {
        Scopes::Gateway => {
            let bad = refused(&|s| is_oag_scope(s) && crate::catalogue::is_known(s));
            if !bad.is_empty() {
                return Err(OAuthError::invalid_scope(format!(
                    "The following scopes are not Access Gateway scopes: [{}].",
                    bad.join(", ")
                )));
            }
        }
        Scopes::OktaApi => {
            let oag = refused(&|s| !is_oag_scope(s));
            if !oag.is_empty() {
                return Err(OAuthError::invalid_scope(format!(
                    "Access Gateway scopes are issued only by /api/v2/oauth/token: [{}].",
                    oag.join(", ")
                )));
            }
        }
        Scopes::ServerOwn => {}
    }
    Ok(())
}

/// Custom server: its own scopes (or its default scopes when none are asked for), under its access
/// policies as Okta evaluates them: the first ACTIVE policy (by priority) whose clients include the client,
/// then the first ACTIVE rule of that policy (by priority) for the `client_credentials` grant that allows at
/// least one of the requested scopes. The token gets the requested scopes that rule allows and the rule's
/// lifetime. No such policy, or no rule for the grant type: "Policy evaluation failed"; rules for the grant
/// type but none allowing any requested scope: "all the requested scopes were rejected".
fn custom_scopes(server: &CachedServer, client: &CachedClient, requested: &[String]) -> Result<Granted, OAuthError> {
    let denied = |text: &'static str| OAuthError::new(StatusCode::BAD_REQUEST, "access_denied", text);
    let client_id = &client.app.client_id;
    let policy = server
        .policies
        .iter()
        .find(|p| p.policy.status == ACTIVE && p.applies_to(client_id))
        .ok_or_else(|| denied(POLICY_FAILED).with_detail("no ACTIVE access policy applies to the client"))?;
    let requested: Vec<String> = if requested.is_empty() {
        let defaults: Vec<String> = server.scopes.iter().filter(|s| s.is_default).map(|s| s.name.clone()).collect();
        if defaults.is_empty() {
            return Err(OAuthError::invalid_scope(
                "The authorization server resource does not have any configured default scopes, 'scope' must be provided.",
            ));
        }
        defaults
    } else {
        refuse_oidc(requested)?;
        let known = |name: &String| server.scopes.iter().any(|s| &s.name == name);
        if !requested.iter().all(known) {
            return Err(OAuthError::invalid_scope(
                "One or more scopes are not configured for the authorization server resource.",
            ));
        }
        requested.to_vec()
    };
    let mut rules = policy
        .rules
        .iter()
        .filter(|r| r.status == ACTIVE && r.grant_types.iter().any(|g| g == CLIENT_CREDENTIALS))
        .peekable();
    if rules.peek().is_none() {
        return Err(denied(POLICY_FAILED).with_detail(format!("no ACTIVE rule of policy {} matches", policy.policy.id)));
    }
    for rule in rules {
        let allowed: Vec<String> =
            requested.iter().filter(|s| rule.scopes.iter().any(|r| r == "*" || r == *s)).cloned().collect();
        if !allowed.is_empty() {
            return Ok(Granted { scopes: allowed, lifetime: Some(rule.token_lifetime_minutes * 60) });
        }
    }
    Err(denied(ALL_SCOPES_REJECTED))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scopes_are_split_and_deduplicated() {
        assert_eq!(requested_scopes("  a b  a c "), vec!["a", "b", "c"]);
        assert!(requested_scopes("").is_empty());
    }

    #[test]
    fn families_stay_apart() {
        let oag = vec!["okta.oag.app.read".to_string()];
        let org = vec!["okta.users.read".to_string()];
        assert!(check_family(Scopes::Gateway, &oag).is_ok());
        assert!(check_family(Scopes::Gateway, &org).is_err());
        assert!(check_family(Scopes::Gateway, &["okta.oag.nope".to_string()]).is_err());
        assert!(check_family(Scopes::OktaApi, &org).is_ok());
        assert!(check_family(Scopes::OktaApi, &oag).is_err());
    }
}
