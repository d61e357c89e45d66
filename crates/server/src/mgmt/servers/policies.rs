//! `/api/v1/authorizationServers/{id}/policies[/{policyId}[/rules[/{ruleId}]]]`: a custom server's access
//! policies and their rules, in Okta's shapes (`OAUTH_AUTHORIZATION_POLICY`, `RESOURCE_ACCESS`).
//!
//! Policies are evaluated by `priority` (1 first); the first ACTIVE policy whose
//! `conditions.clients.include` names the client (or `ALL_CLIENTS`) decides, by its first ACTIVE rule (by
//! priority) whose `conditions.grantTypes.include` has the grant and whose `conditions.scopes.include`
//! allows a requested scope (`*`: all); that rule's `actions.token.accessTokenLifetimeMinutes` (5–1440)
//! is the token's lifetime ([`crate::oauth::scopes`]). Priorities are kept a sequence 1..n as Okta keeps
//! them: a policy or rule created or moved to priority p pushes those at p and after down by one; without
//! a priority it goes last. Every server is created with a "Default Policy" (`ALL_CLIENTS`) and its
//! "Default Policy Rule" (client_credentials, every scope, the server's lifetime), so a new server issues
//! tokens at once as before.
use super::find;
use super::server::{ALL_CLIENTS, string_list};
use crate::cache::{CachedPolicy, CachedServer};
use crate::clock::{iso8601, now_millis};
use crate::errors::ApiError;
use crate::mgmt::auth::Admin;
use crate::mgmt::authz::Permission;
use crate::mgmt::body::JsonObject;
use crate::state::AppState;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde_json::{Map, Value, json};
use tollgate_store::{ACTIVE, AccessPolicy, INACTIVE, PolicyRule};

const POLICY: &str = "AuthorizationServerPolicy";
const RULE: &str = "AuthorizationServerPolicyRule";
const POLICY_TYPE: &str = "OAUTH_AUTHORIZATION_POLICY";
const RULE_TYPE: &str = "RESOURCE_ACCESS";

/// Grant types Okta's rules may name (tollgate issues tokens for `client_credentials` only).
const GRANT_TYPES: &[&str] = &[
    "authorization_code",
    "client_credentials",
    "implicit",
    "password",
    "refresh_token",
    "interaction_code",
    "urn:ietf:params:oauth:grant-type:device_code",
    "urn:ietf:params:oauth:grant-type:jwt-bearer",
    "urn:ietf:params:oauth:grant-type:saml2-bearer",
    "urn:ietf:params:oauth:grant-type:token-exchange",
    "urn:okta:params:oauth:grant-type:otp",
    "urn:okta:params:oauth:grant-type:oob",
];
/// OpenID Connect scopes a rule may name although the server does not list them (Okta's system scopes).
const OIDC_SCOPES: &[&str] = &["openid", "profile", "email", "address", "phone", "offline_access", "groups"];

fn invalid(what: &str, cause: impl Into<String>) -> ApiError {
    ApiError::validation(what, vec![cause.into()])
}

fn link(href: String, allow: &[&str]) -> Value {
    json!({ "href": href, "hints": { "allow": allow } })
}

fn policy_json(state: &AppState, p: &AccessPolicy) -> Value {
    let base = format!("{}/api/v1/authorizationServers/{}/policies/{}", state.issuer, p.server_id, p.id);
    let toggle = if p.status == ACTIVE { "deactivate" } else { "activate" };
    json!({
        "id": p.id,
        "type": POLICY_TYPE,
        "name": p.name,
        // Okta's model has no empty description (1–255 characters): none is shown as null.
        "description": (!p.description.is_empty()).then_some(&p.description),
        "status": p.status,
        "priority": p.priority,
        "system": false,
        "conditions": { "clients": { "include": p.clients } },
        "created": iso8601(p.created),
        "lastUpdated": iso8601(p.last_updated),
        "_links": {
            "self": link(base.clone(), &["GET", "PUT", "DELETE"]),
            toggle: link(format!("{base}/lifecycle/{toggle}"), &["POST"]),
            "rules": link(format!("{base}/rules"), &["GET"]),
        },
    })
}

fn rule_json(state: &AppState, r: &PolicyRule) -> Value {
    let base =
        format!("{}/api/v1/authorizationServers/{}/policies/{}/rules/{}", state.issuer, r.server_id, r.policy_id, r.id);
    let toggle = if r.status == ACTIVE { "deactivate" } else { "activate" };
    json!({
        "id": r.id,
        "type": RULE_TYPE,
        "name": r.name,
        "status": r.status,
        "priority": r.priority,
        "system": false,
        "conditions": {
            "people": { "users": { "include": [], "exclude": [] }, "groups": { "include": ["EVERYONE"], "exclude": [] } },
            "grantTypes": { "include": r.grant_types },
            "scopes": { "include": r.scopes },
        },
        "actions": { "token": {
            "accessTokenLifetimeMinutes": r.token_lifetime_minutes,
            "refreshTokenLifetimeMinutes": 0,
            "refreshTokenWindowMinutes": 10080,
        }},
        "created": iso8601(r.created),
        "lastUpdated": iso8601(r.last_updated),
        "_links": {
            "self": link(base.clone(), &["GET", "PUT", "DELETE"]),
            toggle: link(format!("{base}/lifecycle/{toggle}"), &["POST"]),
        },
    })
}

fn find_policy<'a>(server: &'a CachedServer, pid: &str) -> Result<&'a CachedPolicy, ApiError> {
    server.policies.iter().find(|p| p.policy.id == pid).ok_or_else(|| ApiError::not_found(pid, POLICY))
}

fn find_rule<'a>(policy: &'a CachedPolicy, rid: &str) -> Result<&'a PolicyRule, ApiError> {
    policy.rules.iter().find(|r| r.id == rid).ok_or_else(|| ApiError::not_found(rid, RULE))
}

/// Where `id` goes among `others` (ids in priority order, without it): at `priority` (1-based; beyond the
/// end or `None`: last). Returns its priority and the others' new priorities where they change.
fn place(others: &[(String, i64)], id: &str, priority: Option<i64>) -> (i64, Vec<(String, i64)>) {
    let len = i64::try_from(others.len()).unwrap_or(i64::MAX);
    let at = priority.map_or(len, |p| (p - 1).clamp(0, len));
    let mut reorder = Vec::new();
    let mut next = 1;
    for (other, old) in others.iter().filter(|(o, _)| o != id) {
        if next == at + 1 {
            next += 1;
        }
        if *old != next {
            reorder.push((other.clone(), next));
        }
        next += 1;
    }
    (at + 1, reorder)
}

fn opt_string(map: &Map<String, Value>, what: &str, field: &str) -> Result<Option<String>, ApiError> {
    match map.get(field) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(s)) => Ok(Some(s.clone())),
        Some(_) => Err(invalid(what, format!("{field}: The field must be a string"))),
    }
}

fn name(map: &Map<String, Value>, what: &str, current: Option<&str>) -> Result<String, ApiError> {
    match (opt_string(map, what, "name")?, current) {
        (Some(n), _) if !n.trim().is_empty() => Ok(n),
        (None, Some(c)) => Ok(c.to_string()),
        _ => Err(invalid(what, "name: The field cannot be left blank")),
    }
}

fn status(map: &Map<String, Value>, what: &str, current: Option<&str>) -> Result<String, ApiError> {
    match opt_string(map, what, "status")?.as_deref() {
        None => Ok(current.unwrap_or(ACTIVE).to_string()),
        Some(s @ (ACTIVE | INACTIVE)) => Ok(s.to_string()),
        Some(other) => Err(invalid(what, format!("status: '{other}' is not ACTIVE or INACTIVE"))),
    }
}

fn priority(map: &Map<String, Value>, what: &str) -> Result<Option<i64>, ApiError> {
    match map.get("priority") {
        None | Some(Value::Null) => Ok(None),
        Some(v) => match v.as_i64() {
            Some(p) if p >= 1 => Ok(Some(p)),
            _ => Err(invalid(what, "priority: must be an integer of at least 1")),
        },
    }
}

fn check_type(map: &Map<String, Value>, what: &str, want: &str) -> Result<(), ApiError> {
    match opt_string(map, what, "type")?.as_deref() {
        None => Ok(()),
        Some(t) if t == want => Ok(()),
        Some(other) => Err(invalid(what, format!("type: '{other}' is not supported; use {want}"))),
    }
}

/// `conditions.<member>.include`, a non-empty list of non-empty strings.
fn include(map: &Map<String, Value>, what: &str, member: &str) -> Result<Vec<String>, ApiError> {
    let blank = || invalid(what, format!("conditions.{member}.include: The field cannot be left blank"));
    let holder = map.get("conditions").and_then(|c| c.get(member)).and_then(Value::as_object).ok_or_else(blank)?;
    string_list(holder, "include")
        .map_err(|e| ApiError::validation(what, e.causes.iter().map(|c| format!("conditions.{member}.{c}")).collect()))
}

async fn policy_input(
    state: &AppState,
    map: &Map<String, Value>,
    current: Option<&AccessPolicy>,
) -> Result<(String, String, String, Option<i64>, Vec<String>), ApiError> {
    check_type(map, POLICY, POLICY_TYPE)?;
    let name = name(map, POLICY, current.map(|c| c.name.as_str()))?;
    let description =
        opt_string(map, POLICY, "description")?.or_else(|| current.map(|c| c.description.clone())).unwrap_or_default();
    let status = status(map, POLICY, current.map(|c| c.status.as_str()))?;
    let priority = priority(map, POLICY)?;
    let clients = include(map, POLICY, "clients")?;
    for c in &clients {
        if c != ALL_CLIENTS && state.store.app_by_client_id(c).await?.is_none() {
            return Err(invalid(POLICY, format!("conditions.clients.include: '{c}' is not a client id of this org")));
        }
    }
    Ok((name, description, status, priority, clients))
}

pub(super) async fn list(
    State(state): State<AppState>,
    admin: Admin,
    Path(id): Path<String>,
) -> Result<Response, ApiError> {
    admin.require(&state, Permission::ServersRead)?;
    let server = find(&state, &id)?;
    let body: Vec<Value> = server.policies.iter().map(|p| policy_json(&state, &p.policy)).collect();
    Ok(axum::Json(body).into_response())
}

pub(super) async fn get_one(
    State(state): State<AppState>,
    admin: Admin,
    Path((id, pid)): Path<(String, String)>,
) -> Result<Response, ApiError> {
    admin.require(&state, Permission::ServersRead)?;
    let server = find(&state, &id)?;
    Ok(axum::Json(policy_json(&state, &find_policy(&server, &pid)?.policy)).into_response())
}

/// Saves `policy` at `wanted` priority among the server's policies, reloads the server, answers with it.
async fn save_policy(
    state: &AppState,
    server: &CachedServer,
    mut policy: AccessPolicy,
    wanted: Option<i64>,
    status: StatusCode,
) -> Result<Response, ApiError> {
    let others: Vec<(String, i64)> = server
        .policies
        .iter()
        .map(|p| (p.policy.id.clone(), p.policy.priority))
        .filter(|(o, _)| *o != policy.id)
        .collect();
    let wanted = wanted.or_else(|| (status == StatusCode::OK).then_some(policy.priority));
    let (priority, reorder) = place(&others, &policy.id, wanted);
    policy.priority = priority;
    state.store.save_policy(&policy, &reorder).await?;
    state.servers.reload(state.store.as_ref(), &server.server.id).await?;
    Ok((status, axum::Json(policy_json(state, &policy))).into_response())
}

pub(super) async fn create(
    State(state): State<AppState>,
    admin: Admin,
    Path(id): Path<String>,
    body: JsonObject,
) -> Result<Response, ApiError> {
    admin.require(&state, Permission::ServersManage)?;
    let server = find(&state, &id)?;
    let map = body.object()?;
    let (name, description, status, priority, clients) = policy_input(&state, &map, None).await?;
    let now = now_millis();
    let policy = AccessPolicy {
        id: crate::ids::new_id("00p"),
        server_id: id,
        name,
        description,
        status,
        priority: 0,
        clients,
        created: now,
        last_updated: now,
    };
    save_policy(&state, &server, policy, priority, StatusCode::CREATED).await
}

/// Replaces a policy (name, description, status, priority, `conditions.clients.include`).
pub(super) async fn replace(
    State(state): State<AppState>,
    admin: Admin,
    Path((id, pid)): Path<(String, String)>,
    body: JsonObject,
) -> Result<Response, ApiError> {
    admin.require(&state, Permission::ServersManage)?;
    let server = find(&state, &id)?;
    let current = find_policy(&server, &pid)?.policy.clone();
    let map = body.object()?;
    let (name, description, status, priority, clients) = policy_input(&state, &map, Some(&current)).await?;
    let policy = AccessPolicy { name, description, status, clients, last_updated: now_millis(), ..current };
    save_policy(&state, &server, policy, priority, StatusCode::OK).await
}

pub(super) async fn delete(
    State(state): State<AppState>,
    admin: Admin,
    Path((id, pid)): Path<(String, String)>,
) -> Result<Response, ApiError> {
    admin.require(&state, Permission::ServersManage)?;
    find(&state, &id)?;
    if !state.store.delete_policy(&id, &pid).await? {
        return Err(ApiError::not_found(&pid, POLICY));
    }
    state.servers.reload(state.store.as_ref(), &id).await?;
    Ok(StatusCode::NO_CONTENT.into_response())
}

/// `POST .../policies/{policyId}/lifecycle/activate`: 204.
pub(super) async fn activate(
    state: State<AppState>,
    admin: Admin,
    path: Path<(String, String)>,
) -> Result<Response, ApiError> {
    set_policy_status(state, admin, path, ACTIVE).await
}

/// `POST .../policies/{policyId}/lifecycle/deactivate`: 204.
pub(super) async fn deactivate(
    state: State<AppState>,
    admin: Admin,
    path: Path<(String, String)>,
) -> Result<Response, ApiError> {
    set_policy_status(state, admin, path, INACTIVE).await
}

async fn set_policy_status(
    State(state): State<AppState>,
    admin: Admin,
    Path((id, pid)): Path<(String, String)>,
    status: &'static str,
) -> Result<Response, ApiError> {
    admin.require(&state, Permission::ServersManage)?;
    let server = find(&state, &id)?;
    let mut policy = find_policy(&server, &pid)?.policy.clone();
    if policy.status != status {
        policy.status = status.into();
        policy.last_updated = now_millis();
        state.store.save_policy(&policy, &[]).await?;
        state.servers.reload(state.store.as_ref(), &id).await?;
    }
    Ok(StatusCode::NO_CONTENT.into_response())
}

// --- rules ------------------------------------------------------------------------------------------------

/// The writable members of a rule body.
struct RuleInput {
    name: String,
    status: String,
    priority: Option<i64>,
    grant_types: Vec<String>,
    scopes: Vec<String>,
    lifetime: i64,
}

fn rule_input(
    server: &CachedServer,
    map: &Map<String, Value>,
    current: Option<&PolicyRule>,
) -> Result<RuleInput, ApiError> {
    check_type(map, RULE, RULE_TYPE)?;
    let name = name(map, RULE, current.map(|c| c.name.as_str()))?;
    let status = status(map, RULE, current.map(|c| c.status.as_str()))?;
    let priority = priority(map, RULE)?;
    let grant_types = include(map, RULE, "grantTypes")?;
    if let Some(bad) = grant_types.iter().find(|g| !GRANT_TYPES.contains(&g.as_str())) {
        return Err(invalid(RULE, format!("conditions.grantTypes.include: '{bad}' is not a grant type")));
    }
    let scopes = include(map, RULE, "scopes")?;
    let known =
        |s: &String| s == "*" || OIDC_SCOPES.contains(&s.as_str()) || server.scopes.iter().any(|k| &k.name == s);
    if let Some(bad) = scopes.iter().find(|s| !known(s)) {
        return Err(invalid(
            RULE,
            format!("conditions.scopes.include: '{bad}' is not a scope of this authorization server"),
        ));
    }
    let token = map.get("actions").and_then(|a| a.get("token"));
    let lifetime = match token.and_then(|t| t.get("accessTokenLifetimeMinutes")) {
        None | Some(Value::Null) => current.map_or(60, |c| c.token_lifetime_minutes),
        Some(v) => match v.as_i64() {
            Some(m) if (5..=1440).contains(&m) => m,
            _ => {
                return Err(invalid(
                    RULE,
                    "actions.token.accessTokenLifetimeMinutes: Access token lifetime must be between 5 and 1440 minutes.",
                ));
            }
        },
    };
    Ok(RuleInput { name, status, priority, grant_types, scopes, lifetime })
}

pub(super) async fn list_rules(
    State(state): State<AppState>,
    admin: Admin,
    Path((id, pid)): Path<(String, String)>,
) -> Result<Response, ApiError> {
    admin.require(&state, Permission::ServersRead)?;
    let server = find(&state, &id)?;
    let policy = find_policy(&server, &pid)?;
    Ok(axum::Json(policy.rules.iter().map(|r| rule_json(&state, r)).collect::<Vec<_>>()).into_response())
}

pub(super) async fn get_rule(
    State(state): State<AppState>,
    admin: Admin,
    Path((id, pid, rid)): Path<(String, String, String)>,
) -> Result<Response, ApiError> {
    admin.require(&state, Permission::ServersRead)?;
    let server = find(&state, &id)?;
    let rule = find_rule(find_policy(&server, &pid)?, &rid)?;
    Ok(axum::Json(rule_json(&state, rule)).into_response())
}

async fn save_rule(
    state: &AppState,
    policy: &CachedPolicy,
    mut rule: PolicyRule,
    wanted: Option<i64>,
    status: StatusCode,
) -> Result<Response, ApiError> {
    let others: Vec<(String, i64)> =
        policy.rules.iter().map(|r| (r.id.clone(), r.priority)).filter(|(o, _)| *o != rule.id).collect();
    let wanted = wanted.or_else(|| (status == StatusCode::OK).then_some(rule.priority));
    let (priority, reorder) = place(&others, &rule.id, wanted);
    rule.priority = priority;
    state.store.save_policy_rule(&rule, &reorder).await?;
    state.servers.reload(state.store.as_ref(), &rule.server_id).await?;
    Ok((status, axum::Json(rule_json(state, &rule))).into_response())
}

pub(super) async fn create_rule(
    State(state): State<AppState>,
    admin: Admin,
    Path((id, pid)): Path<(String, String)>,
    body: JsonObject,
) -> Result<Response, ApiError> {
    admin.require(&state, Permission::ServersManage)?;
    let server = find(&state, &id)?;
    let policy = find_policy(&server, &pid)?;
    let map = body.object()?;
    let RuleInput { name, status, priority, grant_types, scopes, lifetime } = rule_input(&server, &map, None)?;
    let now = now_millis();
    let rule = PolicyRule {
        id: crate::ids::new_id("0pr"),
        server_id: id,
        policy_id: pid,
        name,
        status,
        priority: 0,
        grant_types,
        scopes,
        token_lifetime_minutes: lifetime,
        created: now,
        last_updated: now,
    };
    save_rule(&state, policy, rule, priority, StatusCode::CREATED).await
}

pub(super) async fn replace_rule(
    State(state): State<AppState>,
    admin: Admin,
    Path((id, pid, rid)): Path<(String, String, String)>,
    body: JsonObject,
) -> Result<Response, ApiError> {
    admin.require(&state, Permission::ServersManage)?;
    let server = find(&state, &id)?;
    let policy = find_policy(&server, &pid)?;
    let current = find_rule(policy, &rid)?.clone();
    let map = body.object()?;
    let RuleInput { name, status, priority, grant_types, scopes, lifetime } =
        rule_input(&server, &map, Some(&current))?;
    let rule = PolicyRule {
        name,
        status,
        grant_types,
        scopes,
        token_lifetime_minutes: lifetime,
        last_updated: now_millis(),
        ..current
    };
    save_rule(&state, policy, rule, priority, StatusCode::OK).await
}

pub(super) async fn delete_rule(
    State(state): State<AppState>,
    admin: Admin,
    Path((id, pid, rid)): Path<(String, String, String)>,
) -> Result<Response, ApiError> {
    admin.require(&state, Permission::ServersManage)?;
    let server = find(&state, &id)?;
    find_policy(&server, &pid)?;
    if !state.store.delete_policy_rule(&id, &pid, &rid).await? {
        return Err(ApiError::not_found(&rid, RULE));
    }
    state.servers.reload(state.store.as_ref(), &id).await?;
    Ok(StatusCode::NO_CONTENT.into_response())
}

/// `POST .../rules/{ruleId}/lifecycle/activate`: 204.
pub(super) async fn activate_rule(
    state: State<AppState>,
    admin: Admin,
    path: Path<(String, String, String)>,
) -> Result<Response, ApiError> {
    set_rule_status(state, admin, path, ACTIVE).await
}

/// `POST .../rules/{ruleId}/lifecycle/deactivate`: 204.
pub(super) async fn deactivate_rule(
    state: State<AppState>,
    admin: Admin,
    path: Path<(String, String, String)>,
) -> Result<Response, ApiError> {
    set_rule_status(state, admin, path, INACTIVE).await
}

async fn set_rule_status(
    State(state): State<AppState>,
    admin: Admin,
    Path((id, pid, rid)): Path<(String, String, String)>,
    status: &'static str,
) -> Result<Response, ApiError> {
    admin.require(&state, Permission::ServersManage)?;
    let server = find(&state, &id)?;
    let mut rule = find_rule(find_policy(&server, &pid)?, &rid)?.clone();
    if rule.status != status {
        rule.status = status.into();
        rule.last_updated = now_millis();
        state.store.save_policy_rule(&rule, &[]).await?;
        state.servers.reload(state.store.as_ref(), &id).await?;
    }
    Ok(StatusCode::NO_CONTENT.into_response())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ids(list: &[(&str, i64)]) -> Vec<(String, i64)> {
        list.iter().map(|(i, p)| (i.to_string(), *p)).collect()
    }

    #[test]
    fn priorities_stay_a_sequence() {
        let others = ids(&[("a", 1), ("b", 2)]);
        // Appended without a priority, or beyond the end.
        assert_eq!(place(&others, "n", None), (3, vec![]));
        assert_eq!(place(&others, "n", Some(9)), (3, vec![]));
        // Inserted first: the others move down by one.
        assert_eq!(place(&others, "n", Some(1)), (1, ids(&[("a", 2), ("b", 3)])));
        assert_eq!(place(&others, "n", Some(2)), (2, ids(&[("b", 3)])));
        // Gaps left by a deletion close up.
        assert_eq!(place(&ids(&[("a", 1), ("c", 3)]), "n", None), (3, ids(&[("c", 2)])));
    }
}
