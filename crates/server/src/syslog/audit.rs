//! Every management change goes into the System Log from one place: a middleware around the management
//! routes. It learns who called from the [`CallerSlot`] the `Admin` extractor fills, what was changed from
//! the route (its template names the resource of each path parameter) and the answer (a created
//! resource's `id`), and whether it worked from the status (a refusal's `errorSummary` is the reason).
//! Handlers record nothing themselves, so a new route is logged without anyone remembering to.
use super::event::{Event, Party, RequestContext};
use crate::state::AppState;
use axum::body::Body;
use axum::extract::{MatchedPath, Request, State};
use axum::http::{Method, StatusCode, header};
use axum::middleware::Next;
use axum::response::Response;
use std::sync::{Arc, Mutex};

/// Where the `Admin` extractor leaves the authenticated caller for the audit middleware.
#[derive(Clone, Default)]
pub(crate) struct CallerSlot(Arc<Mutex<Option<Party>>>);

impl CallerSlot {
    pub(crate) fn set(&self, caller: Party) {
        if let Ok(mut slot) = self.0.lock() {
            *slot = Some(caller);
        }
    }

    fn take(&self) -> Option<Party> {
        self.0.lock().ok().and_then(|mut s| s.take())
    }
}

/// Largest response body read back for a created resource's id or a refusal's summary.
const MAX_INSPECTED_BODY: usize = 64 * 1024;

/// Okta's event type and message for a change, by route.
fn classify(method: &Method, template: &str) -> (&'static str, &'static str) {
    let m = method.as_str();
    match (m, template) {
        ("POST", "/api/v1/apps") => ("application.lifecycle.create", "Add application"),
        ("PUT", "/api/v1/apps/{id}") => ("application.lifecycle.update", "Update application"),
        ("DELETE", "/api/v1/apps/{id}") => ("application.lifecycle.delete", "Delete application"),
        ("POST", "/api/v1/apps/{id}/lifecycle/activate") => ("application.lifecycle.activate", "Activate application"),
        ("POST", "/api/v1/apps/{id}/lifecycle/deactivate") => {
            ("application.lifecycle.deactivate", "Deactivate application")
        }
        ("POST", "/oauth2/v1/clients") => ("app.oauth2.client.lifecycle.create", "Create OAuth client"),
        ("PUT", "/oauth2/v1/clients/{client_id}") => ("app.oauth2.client.lifecycle.update", "Update OAuth client"),
        ("DELETE", "/oauth2/v1/clients/{client_id}") => ("app.oauth2.client.lifecycle.delete", "Delete OAuth client"),
        ("POST", "/oauth2/v1/clients/{client_id}/lifecycle/newSecret") => {
            ("app.oauth2.credentials.lifecycle.create", "Generate a new client secret")
        }
        ("POST", t) if t.ends_with("/roles") => ("app.oauth2.client.privilege.grant", "Assign admin role to client"),
        ("DELETE", t) if t.contains("/roles/") => {
            ("app.oauth2.client.privilege.revoke", "Remove admin role from client")
        }
        ("POST", t) if t.ends_with("/grants") => ("app.oauth2.as.consent.grant", "Grant scope to app"),
        ("DELETE", t) if t.contains("/grants/") => ("app.oauth2.as.consent.revoke", "Revoke scope from app"),
        ("POST", t) if t.ends_with("/credentials/jwks") || t.ends_with("/credentials/secrets") => {
            ("app.oauth2.credentials.lifecycle.create", "Add client credential")
        }
        ("POST", t) if t.ends_with("/credentials/federated") => {
            ("app.oauth2.credentials.federated.create", "Add federated credential")
        }
        ("PUT", t) if t.contains("/credentials/federated/") => {
            ("app.oauth2.credentials.federated.update", "Update federated credential")
        }
        ("DELETE", t) if t.contains("/credentials/federated/") => {
            ("app.oauth2.credentials.federated.delete", "Delete federated credential")
        }
        ("POST", t) if t.contains("/credentials/") && t.ends_with("/lifecycle/activate") => {
            ("app.oauth2.credentials.lifecycle.activate", "Activate client credential")
        }
        ("POST", t) if t.contains("/credentials/") && t.ends_with("/lifecycle/deactivate") => {
            ("app.oauth2.credentials.lifecycle.deactivate", "Deactivate client credential")
        }
        ("DELETE", t) if t.contains("/credentials/jwks/") || t.contains("/credentials/secrets/") => {
            ("app.oauth2.credentials.lifecycle.delete", "Delete client credential")
        }
        ("POST", t) if t.ends_with("/credentials/lifecycle/keyRotate") => {
            ("app.oauth2.as.key.rollover", "Authorization server signing key rotated")
        }
        ("POST", "/api/v1/authorizationServers") => ("oauth2.as.created", "Create authorization server"),
        ("PUT", "/api/v1/authorizationServers/{id}") => ("oauth2.as.updated", "Update authorization server"),
        ("DELETE", "/api/v1/authorizationServers/{id}") => ("oauth2.as.deleted", "Delete authorization server"),
        ("POST", "/api/v1/authorizationServers/{id}/lifecycle/activate") => {
            ("oauth2.as.activated", "Activate authorization server")
        }
        ("POST", "/api/v1/authorizationServers/{id}/lifecycle/deactivate") => {
            ("oauth2.as.deactivated", "Deactivate authorization server")
        }
        ("POST", t) if t.ends_with("/scopes") => ("oauth2.scope.created", "Create scope"),
        ("PUT", t) if t.contains("/scopes/") => ("oauth2.scope.updated", "Update scope"),
        ("DELETE", t) if t.contains("/scopes/") => ("oauth2.scope.deleted", "Delete scope"),
        ("POST", t) if t.ends_with("/claims") => ("oauth2.claim.created", "Create claim"),
        ("PUT", t) if t.contains("/claims/") => ("oauth2.claim.updated", "Update claim"),
        ("DELETE", t) if t.contains("/claims/") => ("oauth2.claim.deleted", "Delete claim"),
        ("POST", t) if t.ends_with("/rules") => ("policy.rule.add", "Add policy rule"),
        ("PUT", t) if t.contains("/rules/") && !t.contains("/lifecycle/") => {
            ("policy.rule.update", "Update policy rule")
        }
        ("DELETE", t) if t.contains("/rules/") => ("policy.rule.delete", "Delete policy rule"),
        ("POST", t) if t.contains("/rules/") && t.ends_with("/activate") => {
            ("policy.rule.activate", "Activate policy rule")
        }
        ("POST", t) if t.contains("/rules/") && t.ends_with("/deactivate") => {
            ("policy.rule.deactivate", "Deactivate policy rule")
        }
        ("POST", t) if t.ends_with("/policies") => ("policy.lifecycle.create", "Create policy"),
        ("PUT", t) if t.contains("/policies/") => ("policy.lifecycle.update", "Update policy"),
        ("DELETE", t) if t.contains("/policies/") => ("policy.lifecycle.delete", "Delete policy"),
        ("POST", t) if t.contains("/policies/") && t.ends_with("/activate") => {
            ("policy.lifecycle.activate", "Activate policy")
        }
        ("POST", t) if t.contains("/policies/") && t.ends_with("/deactivate") => {
            ("policy.lifecycle.deactivate", "Deactivate policy")
        }
        ("POST", "/api/v1/users") => ("user.lifecycle.create", "Create Okta user"),
        ("POST" | "PUT", "/api/v1/users/{id}") => ("user.account.update_profile", "User update profile for Okta"),
        ("DELETE", "/api/v1/users/{id}") => ("user.lifecycle.delete.completed", "Delete Okta user"),
        ("POST", "/api/v1/users/{id}/lifecycle/{op}") => ("user.lifecycle.update", "Change user lifecycle state"),
        ("POST", "/api/v1/api-tokens") => ("system.api_token.create", "Create API token"),
        ("DELETE", t) if t.starts_with("/api/v1/api-tokens/") => ("system.api_token.revoke", "Revoke API token"),
        _ => ("tollgate.api.change", "Management change"),
    }
}

/// The resource each path parameter names, from the literal segment before it.
fn kind_of(segment: &str) -> &'static str {
    match segment {
        "apps" => "AppInstance",
        "clients" => "PublicClientApp",
        "jwks" => "JsonWebKey",
        "secrets" => "ClientSecret",
        "grants" => "OAuth2ScopeConsentGrant",
        "roles" => "Role",
        "users" => "User",
        "authorizationServers" => "AuthorizationServer",
        "scopes" => "OAuth2Scope",
        "claims" => "OAuth2Claim",
        "policies" => "Policy",
        "rules" => "PolicyRule",
        "api-tokens" => "ApiToken",
        "federated" => "FederatedCredential",
        _ => "Resource",
    }
}

/// The targets a path names: each `{param}` of the template with the value in the same position.
fn path_targets(template: &str, path: &str) -> Vec<Party> {
    let mut out = Vec::new();
    let mut previous = "";
    for (t, p) in template.split('/').zip(path.split('/')) {
        if t.starts_with('{') && t != "{op}" {
            let id = percent_encoding::percent_decode_str(p).decode_utf8_lossy().into_owned();
            out.push(Party::new(id.clone(), kind_of(previous), id.clone(), id));
        }
        previous = t;
    }
    out
}

/// The request's context (request id, peer address, user agent), set by the outermost middleware.
fn context_of(req: &Request) -> RequestContext {
    req.extensions().get::<RequestContext>().cloned().unwrap_or_default()
}

/// The middleware: see the module doc.
pub(crate) async fn audit(State(state): State<AppState>, mut req: Request, next: Next) -> Response {
    let method = req.method().clone();
    let mutating = !matches!(method, Method::GET | Method::HEAD | Method::OPTIONS);
    if !state.log.enabled() {
        return next.run(req).await;
    }
    let template = req.extensions().get::<MatchedPath>().map(|m| m.as_str().to_string());
    let path = req.uri().path().to_string();
    let context = context_of(&req);
    let slot = CallerSlot::default();
    req.extensions_mut().insert(slot.clone());
    let resp = next.run(req).await;
    let status = resp.status();
    let denied = matches!(status, StatusCode::UNAUTHORIZED | StatusCode::FORBIDDEN);
    // Reads are logged only when refused: who tried to look is worth knowing, every successful GET is not.
    if !(mutating || denied) || status.is_server_error() {
        return resp;
    }
    let template = template.unwrap_or_else(|| path.clone());
    let (event_type, message) =
        if mutating { classify(&method, &template) } else { ("tollgate.api.read", "Management read") };
    let caller = slot.take().unwrap_or_else(Party::unknown);
    let mut event = Event::new(event_type, message, caller).context(&context).debug("requestUri", template.clone());
    for t in path_targets(&template, &path) {
        event = event.target(t);
    }
    // Look into small JSON answers for a created resource's id or a refusal's summary.
    let is_json = resp
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("application/json"));
    let wants_body = is_json && (status == StatusCode::CREATED || status.is_client_error() || method == Method::POST);
    let (parts, body) = resp.into_parts();
    let bytes = if wants_body {
        match axum::body::to_bytes(body, MAX_INSPECTED_BODY).await {
            Ok(b) => Some(b),
            Err(_) => return Response::from_parts(parts, Body::empty()),
        }
    } else {
        state.log.record(finish(event, status, None, mutating, "Resource"));
        return Response::from_parts(parts, body);
    };
    let json: Option<serde_json::Value> = bytes.as_ref().and_then(|b| serde_json::from_slice(b).ok());
    // A created resource is of the kind the collection it was created in holds (`.../policies` → Policy).
    let created_kind = kind_of(template.rsplit('/').next().unwrap_or(""));
    state.log.record(finish(event, status, json.as_ref(), mutating, created_kind));
    Response::from_parts(parts, bytes.map(Body::from).unwrap_or_else(Body::empty))
}

fn finish(
    mut event: Event,
    status: StatusCode,
    body: Option<&serde_json::Value>,
    mutating: bool,
    created_kind: &'static str,
) -> Event {
    if status.is_success() {
        if let Some(id) = body.and_then(|b| b.get("id").or_else(|| b.get("client_id"))).and_then(|v| v.as_str())
            && mutating
            && !event.targets.iter().any(|t| t.id == id)
        {
            let name = body
                .and_then(|b| b.get("label").or_else(|| b.get("name")).or_else(|| b.get("client_name")))
                .and_then(|v| v.as_str())
                .unwrap_or(id);
            event = event.target(Party::new(id, created_kind, id, name));
        }
        return event;
    }
    let reason = body
        .and_then(|b| b.get("errorSummary").or_else(|| b.get("error_description")))
        .and_then(|v| v.as_str())
        .map(str::to_string)
        .unwrap_or_else(|| match status {
            StatusCode::FORBIDDEN => "The access token provided does not contain the required scopes.".into(),
            s => s.canonical_reason().unwrap_or("refused").to_string(),
        });
    let result = if matches!(status, StatusCode::UNAUTHORIZED | StatusCode::FORBIDDEN) { "DENY" } else { "FAILURE" };
    event.outcome(result, reason)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn targets_come_from_the_route_template() {
        let t = path_targets(
            "/api/v1/apps/{app_id}/credentials/jwks/{key_id}/lifecycle/activate",
            "/api/v1/apps/0oa1/credentials/jwks/pks%202/lifecycle/activate",
        );
        let got: Vec<(&str, &str)> = t.iter().map(|p| (p.id.as_str(), p.kind)).collect();
        assert_eq!(got, vec![("0oa1", "AppInstance"), ("pks 2", "JsonWebKey")]);
    }

    #[test]
    fn every_known_change_has_an_okta_event_type() {
        let cases = [
            (Method::POST, "/api/v1/apps", "application.lifecycle.create"),
            (
                Method::POST,
                "/api/v1/apps/{app_id}/credentials/jwks/{key_id}/lifecycle/deactivate",
                "app.oauth2.credentials.lifecycle.deactivate",
            ),
            (Method::DELETE, "/api/v1/apps/{app_id}/grants/{grant_id}", "app.oauth2.as.consent.revoke"),
            (
                Method::POST,
                "/api/v1/authorizationServers/{id}/credentials/lifecycle/keyRotate",
                "app.oauth2.as.key.rollover",
            ),
            (Method::POST, "/api/v1/authorizationServers/{id}/policies/{policy_id}/rules", "policy.rule.add"),
            (Method::POST, "/api/v1/authorizationServers/{id}/policies", "policy.lifecycle.create"),
            (
                Method::POST,
                "/api/v1/authorizationServers/{id}/policies/{policy_id}/lifecycle/deactivate",
                "policy.lifecycle.deactivate",
            ),
            (
                Method::POST,
                "/api/v1/authorizationServers/{id}/policies/{policy_id}/rules/{rule_id}/lifecycle/activate",
                "policy.rule.activate",
            ),
            (Method::PUT, "/api/v1/authorizationServers/{id}/claims/{claim_id}", "oauth2.claim.updated"),
            (Method::PUT, "/api/v1/authorizationServers/{id}/scopes/{scope_id}", "oauth2.scope.updated"),
            (Method::POST, "/api/v1/authorizationServers/{id}/lifecycle/deactivate", "oauth2.as.deactivated"),
            (Method::POST, "/api/v1/api-tokens", "system.api_token.create"),
            (Method::DELETE, "/api/v1/api-tokens/{id}", "system.api_token.revoke"),
            (Method::PATCH, "/api/v1/somewhere", "tollgate.api.change"),
        ];
        for (m, t, want) in cases {
            assert_eq!(classify(&m, t).0, want, "{m} {t}");
        }
    }
}
