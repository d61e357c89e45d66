//! The authorization model, from outside: every management route × {SSWS super admin, SSWS read-only,
//! Bearer with each `okta.*` scope, without and with each admin role}, and the escalation chains of
//! issue 14, each refused at its first step with Okta's error.
use crate::harness::*;
use reqwest::Method;
use serde_json::{Value, json};

/// Okta's standard roles as docs/api.md's table gives them: role → the permission classes it allows
/// (SUPER_ADMIN: everything). Written out here, independently of the server's code, as the spec.
const ROLES: &[(&str, &[&str])] = &[
    ("SUPER_ADMIN", &["*"]),
    (
        "ORG_ADMIN",
        &[
            "apps.read",
            "apps.manage",
            "clients.register",
            "grants.read",
            "users.read",
            "users.manage",
            "servers.read",
            "servers.manage",
            "apiTokens.read",
            "roles.read",
        ],
    ),
    ("APP_ADMIN", &["apps.read", "apps.manage", "clients.register", "grants.read", "users.read", "servers.read"]),
    ("USER_ADMIN", &["users.read", "users.manage"]),
    ("API_ACCESS_MANAGEMENT_ADMIN", &["servers.read", "servers.manage", "apps.read", "grants.read"]),
    (
        "READ_ONLY_ADMIN",
        &["apps.read", "grants.read", "users.read", "servers.read", "apiTokens.read", "roles.read", "oag.read"],
    ),
];

/// One route: method, path (`{v}`: the victim app, which holds an okta.* grant), body, the permission
/// class it needs, the scopes that carry it, whether it is super-admin-only, and the status a caller who
/// may call it gets (the ids are unknown or the bodies incomplete, so nothing changes).
struct Route {
    method: Method,
    path: &'static str,
    body: Option<Value>,
    class: &'static str,
    scopes: &'static [&'static str],
    super_only: bool,
    allowed: u16,
}

fn routes(issuer: &str) -> Vec<Route> {
    const APPS_R: &[&str] = &["okta.apps.read", "okta.apps.manage"];
    const APPS_M: &[&str] = &["okta.apps.manage"];
    const CL_R: &[&str] = &["okta.clients.read", "okta.clients.manage"];
    const CL_M: &[&str] = &["okta.clients.manage"];
    const CL_REG: &[&str] = &["okta.clients.manage", "okta.clients.register"];
    const GR_R: &[&str] = &["okta.appGrants.read", "okta.appGrants.manage"];
    const GR_M: &[&str] = &["okta.appGrants.manage"];
    const US_R: &[&str] = &["okta.users.read", "okta.users.manage"];
    const US_M: &[&str] = &["okta.users.manage"];
    const SV_R: &[&str] = &["okta.authorizationServers.read", "okta.authorizationServers.manage"];
    const SV_M: &[&str] = &["okta.authorizationServers.manage"];
    const AT_R: &[&str] = &["okta.apiTokens.read", "okta.apiTokens.manage"];
    const AT_M: &[&str] = &["okta.apiTokens.manage"];
    const RO_R: &[&str] = &["okta.roles.read", "okta.roles.manage"];
    const RO_M: &[&str] = &["okta.roles.manage"];
    const OAG_R: &[&str] = &["okta.oag.app.read", "okta.oag.app.manage"];
    let empty = || Some(json!({}));
    let r = |method: Method, path, body, class, scopes, super_only, allowed| Route {
        method,
        path,
        body,
        class,
        scopes,
        super_only,
        allowed,
    };
    use Method as M;
    vec![
        r(M::GET, "/api/v1/apps", None, "apps.read", APPS_R, false, 200),
        r(M::POST, "/api/v1/apps", empty(), "apps.manage", APPS_M, false, 400),
        r(M::GET, "/api/v1/apps/nope", None, "apps.read", APPS_R, false, 404),
        r(M::PUT, "/api/v1/apps/nope", empty(), "apps.manage", APPS_M, false, 404),
        r(M::DELETE, "/api/v1/apps/nope", None, "apps.manage", APPS_M, false, 404),
        r(M::POST, "/api/v1/apps/nope/lifecycle/activate", None, "apps.manage", APPS_M, false, 404),
        r(M::POST, "/api/v1/apps/nope/lifecycle/deactivate", None, "apps.manage", APPS_M, false, 404),
        r(M::GET, "/api/v1/apps/{v}/credentials/jwks", None, "apps.read", APPS_R, false, 200),
        r(M::GET, "/api/v1/apps/{v}/credentials/jwks/nope", None, "apps.read", APPS_R, false, 404),
        r(M::POST, "/api/v1/apps/{v}/credentials/jwks", empty(), "apps.manage", APPS_M, true, 400),
        r(M::POST, "/api/v1/apps/{v}/credentials/jwks/nope/lifecycle/activate", None, "apps.manage", APPS_M, true, 404),
        r(
            M::POST,
            "/api/v1/apps/{v}/credentials/jwks/nope/lifecycle/deactivate",
            None,
            "apps.manage",
            APPS_M,
            true,
            404,
        ),
        r(M::DELETE, "/api/v1/apps/{v}/credentials/jwks/nope", None, "apps.manage", APPS_M, true, 404),
        r(M::GET, "/api/v1/apps/{v}/credentials/federated", None, "apps.read", APPS_R, false, 200),
        r(M::GET, "/api/v1/apps/{v}/credentials/federated/nope", None, "apps.read", APPS_R, false, 404),
        r(M::POST, "/api/v1/apps/{v}/credentials/federated", empty(), "apps.manage", APPS_M, true, 400),
        r(M::PUT, "/api/v1/apps/{v}/credentials/federated/nope", empty(), "apps.manage", APPS_M, true, 404),
        r(M::DELETE, "/api/v1/apps/{v}/credentials/federated/nope", None, "apps.manage", APPS_M, true, 404),
        r(
            M::POST,
            "/api/v1/apps/{v}/credentials/federated/nope/lifecycle/activate",
            None,
            "apps.manage",
            APPS_M,
            true,
            404,
        ),
        r(
            M::POST,
            "/api/v1/apps/{v}/credentials/federated/nope/lifecycle/deactivate",
            None,
            "apps.manage",
            APPS_M,
            true,
            404,
        ),
        r(M::GET, "/api/v1/apps/{v}/credentials/secrets", None, "apps.read", APPS_R, false, 200),
        r(M::GET, "/api/v1/apps/{v}/credentials/secrets/nope", None, "apps.read", APPS_R, false, 404),
        r(M::POST, "/api/v1/apps/{v}/credentials/secrets", empty(), "apps.manage", APPS_M, true, 400),
        r(
            M::POST,
            "/api/v1/apps/{v}/credentials/secrets/nope/lifecycle/activate",
            None,
            "apps.manage",
            APPS_M,
            true,
            404,
        ),
        r(
            M::POST,
            "/api/v1/apps/{v}/credentials/secrets/nope/lifecycle/deactivate",
            None,
            "apps.manage",
            APPS_M,
            true,
            404,
        ),
        r(M::DELETE, "/api/v1/apps/{v}/credentials/secrets/nope", None, "apps.manage", APPS_M, true, 404),
        r(M::GET, "/api/v1/apps/{v}/grants", None, "grants.read", GR_R, false, 200),
        r(M::GET, "/api/v1/apps/{v}/grants/nope", None, "grants.read", GR_R, false, 404),
        // Already granted: 400 once past the checks.
        r(
            M::POST,
            "/api/v1/apps/{v}/grants",
            Some(json!({ "scopeId": "okta.users.read", "issuer": issuer })),
            "grants.manage",
            GR_M,
            true,
            400,
        ),
        r(M::DELETE, "/api/v1/apps/{v}/grants/nope", None, "grants.manage", GR_M, true, 404),
        r(M::GET, "/oauth2/v1/clients", None, "apps.read", CL_R, false, 200),
        r(M::POST, "/oauth2/v1/clients", empty(), "clients.register", CL_REG, false, 400),
        r(M::GET, "/oauth2/v1/clients/nope", None, "apps.read", CL_R, false, 401),
        r(M::PUT, "/oauth2/v1/clients/nope", Some(json!({"client_name": "x"})), "apps.manage", CL_M, false, 401),
        r(M::DELETE, "/oauth2/v1/clients/nope", None, "apps.manage", CL_M, false, 401),
        r(M::POST, "/oauth2/v1/clients/{v}/lifecycle/newSecret", None, "apps.manage", CL_M, true, 400),
        r(M::GET, "/oauth2/v1/clients/{v}/roles", None, "roles.read", RO_R, false, 200),
        r(M::GET, "/oauth2/v1/clients/{v}/roles/nope", None, "roles.read", RO_R, false, 404),
        r(M::POST, "/oauth2/v1/clients/{v}/roles", Some(json!({"type": "BOGUS"})), "roles.manage", RO_M, true, 400),
        r(M::DELETE, "/oauth2/v1/clients/{v}/roles/nope", None, "roles.manage", RO_M, true, 404),
        r(M::GET, "/api/v1/users", None, "users.read", US_R, false, 200),
        r(M::POST, "/api/v1/users", empty(), "users.manage", US_M, false, 400),
        r(M::GET, "/api/v1/users/nope", None, "users.read", US_R, false, 404),
        r(M::POST, "/api/v1/users/nope", empty(), "users.manage", US_M, false, 404),
        r(M::PUT, "/api/v1/users/nope", empty(), "users.manage", US_M, false, 404),
        r(M::DELETE, "/api/v1/users/nope", None, "users.manage", US_M, false, 404),
        r(M::POST, "/api/v1/users/nope/lifecycle/activate", None, "users.manage", US_M, false, 404),
        r(M::GET, "/api/v1/authorizationServers", None, "servers.read", SV_R, false, 200),
        r(M::POST, "/api/v1/authorizationServers", empty(), "servers.manage", SV_M, false, 400),
        r(M::GET, "/api/v1/authorizationServers/nope", None, "servers.read", SV_R, false, 404),
        r(M::PUT, "/api/v1/authorizationServers/nope", empty(), "servers.manage", SV_M, false, 404),
        r(M::DELETE, "/api/v1/authorizationServers/nope", None, "servers.manage", SV_M, false, 404),
        r(M::GET, "/api/v1/authorizationServers/nope/policies", None, "servers.read", SV_R, false, 404),
        r(M::GET, "/api/v1/authorizationServers/nope/policies/x", None, "servers.read", SV_R, false, 404),
        r(M::PUT, "/api/v1/authorizationServers/nope/policies/x", empty(), "servers.manage", SV_M, false, 404),
        r(M::GET, "/api/v1/authorizationServers/nope/scopes", None, "servers.read", SV_R, false, 404),
        r(M::POST, "/api/v1/authorizationServers/nope/scopes", empty(), "servers.manage", SV_M, false, 404),
        r(M::DELETE, "/api/v1/authorizationServers/nope/scopes/x", None, "servers.manage", SV_M, false, 404),
        r(
            M::POST,
            "/api/v1/authorizationServers/nope/credentials/lifecycle/keyRotate",
            None,
            "servers.manage",
            SV_M,
            false,
            404,
        ),
        r(M::GET, "/api/v1/api-tokens", None, "apiTokens.read", AT_R, false, 200),
        r(M::GET, "/api/v1/api-tokens/nope", None, "apiTokens.read", AT_R, false, 404),
        r(M::POST, "/api/v1/api-tokens", empty(), "apiTokens.manage", AT_M, true, 400),
        r(M::DELETE, "/api/v1/api-tokens/nope", None, "apiTokens.manage", AT_M, false, 404),
        r(M::GET, "/api/v2/apps", None, "oag.read", OAG_R, false, 200),
        r(M::GET, "/api/v2/apps/nope", None, "oag.read", OAG_R, false, 404),
    ]
}

/// The `okta.*` scopes a Bearer caller is tried with, one at a time (the org server never mints the
/// `okta.oag.*` ones, so the OAG routes are refused for want of scope to every org token).
const SCOPES: &[&str] = &[
    "okta.apps.read",
    "okta.apps.manage",
    "okta.clients.read",
    "okta.clients.manage",
    "okta.clients.register",
    "okta.appGrants.read",
    "okta.appGrants.manage",
    "okta.users.read",
    "okta.users.manage",
    "okta.authorizationServers.read",
    "okta.authorizationServers.manage",
    "okta.apiTokens.read",
    "okta.apiTokens.manage",
    "okta.roles.read",
    "okta.roles.manage",
];

fn role_allows(role: &str, class: &str) -> bool {
    ROLES.iter().any(|(r, classes)| *r == role && classes.iter().any(|c| *c == "*" || *c == class))
}

/// What a caller must get: the route's status, or a refusal (`Err(what)`).
#[derive(Debug, PartialEq)]
enum Expect {
    Allowed(u16),
    /// 403 E0000006.
    NoPermission,
    /// 403 with an insufficient_scope challenge and no body.
    NoScope,
    /// 403 E0000005 (the OAG view takes no SSWS).
    InvalidSession,
}

async fn check(server: &TestServer, victim: &str, route: &Route, auth: Auth<'_>, expect: &Expect, who: &str) {
    let path = route.path.replace("{v}", victim);
    let (status, headers, body) = server.call(route.method.clone(), &path, route.body.as_ref(), auth).await;
    let what = format!("{who}: {} {path} -> {status} {body}", route.method);
    match expect {
        Expect::Allowed(s) => assert_eq!(status, *s, "{what}"),
        Expect::NoPermission => {
            assert_eq!((status, body["errorCode"].as_str()), (403, Some("E0000006")), "{what}");
            assert_eq!(body["errorSummary"], "You do not have permission to perform the requested action", "{what}");
        }
        Expect::NoScope => {
            assert_eq!(status, 403, "{what}");
            assert_eq!(body, Value::Null, "{what}");
            let challenge = headers.get("www-authenticate").and_then(|v| v.to_str().ok()).unwrap_or("");
            assert!(challenge.contains("error=\"insufficient_scope\""), "{what}: {challenge}");
        }
        Expect::InvalidSession => {
            assert_eq!((status, body["errorCode"].as_str()), (403, Some("E0000005")), "{what}");
        }
    }
}

/// A service app granted `scopes`, its access token for them, and its client id.
async fn bearer(server: &TestServer, scopes: &[&str]) -> (String, String) {
    let key = rsa_key();
    let client_id = server.register_jwt_app(&[key], scopes).await;
    let assertion = sign(key, &assertion_claims(&client_id, &server.url("/oauth2/v1/token")));
    let (status, body) = server.token_with(&assertion, &scopes.join(" ")).await;
    assert_eq!(status, 200, "{body}");
    (client_id, body["access_token"].as_str().unwrap().to_string())
}

/// Assigns `role` to the client with the bootstrap (super-admin) token; returns the assignment id.
async fn assign(server: &TestServer, client_id: &str, role: &str) -> String {
    let (status, body) =
        server.admin_post(&format!("/oauth2/v1/clients/{client_id}/roles"), &json!({ "type": role })).await;
    assert_eq!(status, 201, "{body}");
    body["id"].as_str().unwrap().to_string()
}

async fn api_token(server: &TestServer, role: &str) -> String {
    let (status, body) = server.admin_post("/api/v1/api-tokens", &json!({ "name": role, "role": role })).await;
    assert_eq!((status, body["role"].as_str()), (201, Some(role)), "{body}");
    body["token"].as_str().unwrap().to_string()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_route_by_caller_scope_and_role() {
    let server = TestServer::start().await;
    // The victim: an app holding an okta.* grant, whose credentials only a super admin may touch.
    let victim = server.register_jwt_app(&[rsa_key_2()], &["okta.users.read"]).await;
    let routes = routes(&server.issuer);
    let read_only = api_token(&server, "READ_ONLY_ADMIN").await;
    for route in &routes {
        let oag = route.class == "oag.read";
        let super_expect = if oag { Expect::InvalidSession } else { Expect::Allowed(route.allowed) };
        check(&server, &victim, route, Auth::Ssws, &super_expect, "SSWS super admin").await;
        let ro_expect = if oag {
            Expect::InvalidSession
        } else if role_allows("READ_ONLY_ADMIN", route.class) && !route.super_only {
            Expect::Allowed(route.allowed)
        } else {
            Expect::NoPermission
        };
        check(&server, &victim, route, Auth::SswsToken(&read_only), &ro_expect, "SSWS read-only").await;
    }

    let mut callers = Vec::new();
    for scope in SCOPES {
        let (client_id, token) = bearer(&server, &[scope]).await;
        callers.push((*scope, client_id, token));
    }
    let roles: Vec<Option<&str>> = std::iter::once(None).chain(ROLES.iter().map(|(r, _)| Some(*r))).collect();
    for role in roles {
        // Roles are read at use: the same tokens, issued before, are bound by the role assigned now.
        let mut assigned = Vec::new();
        if let Some(role) = role {
            for (_, client_id, _) in &callers {
                assigned.push((client_id.clone(), assign(&server, client_id, role).await));
            }
        }
        for (scope, _, token) in &callers {
            for route in &routes {
                let expect = if !route.scopes.contains(scope) {
                    Expect::NoScope
                } else if role.is_some_and(|r| !role_allows(r, route.class))
                    || (route.super_only && role != Some("SUPER_ADMIN"))
                {
                    Expect::NoPermission
                } else {
                    Expect::Allowed(route.allowed)
                };
                let who = format!("Bearer {scope} role {role:?}");
                check(&server, &victim, route, Auth::Bearer(token), &expect, &who).await;
            }
        }
        for (client_id, id) in assigned {
            let (status, body) = server.admin_delete(&format!("/oauth2/v1/clients/{client_id}/roles/{id}")).await;
            assert_eq!(status, 204, "{body}");
        }
    }
    server.stop().await;
}

fn assert_no_permission(step: &str, status: u16, body: &Value) {
    assert_eq!((status, body["errorCode"].as_str()), (403, Some("E0000006")), "{step}: {body}");
}

/// Issue 14's escalation chains, tried as an attacker would: each fails at its first step.
#[tokio::test]
async fn escalation_chains_fail_at_their_first_step() {
    let server = TestServer::start().await;
    // okta.apiTokens.manage cannot mint an SSWS token.
    let (_, tokens) = bearer(&server, &["okta.apiTokens.manage"]).await;
    let (status, _, body) =
        server.call(Method::POST, "/api/v1/api-tokens", Some(&json!({"name": "x"})), Auth::Bearer(&tokens)).await;
    assert_no_permission("mint an API token", status, &body);

    // okta.apps.manage cannot take over an app with okta.* grants: no key, secret, PUT or newSecret.
    let (_, apps) = bearer(&server, &["okta.apps.manage", "okta.clients.manage"]).await;
    let victim = server.register_jwt_app(&[rsa_key_2()], &["okta.users.manage", "okta.appGrants.manage"]).await;
    let mine = ec_key(tollgate_jose::Curve::P256);
    let add_key = format!("/api/v1/apps/{victim}/credentials/jwks");
    let (status, _, body) = server.call(Method::POST, &add_key, Some(&public_jwk(&mine)), Auth::Bearer(&apps)).await;
    assert_no_permission("add a key to the victim", status, &body);
    let mut put = jwt_app_body("taken", &[&mine]);
    put["id"] = json!(victim);
    let (status, _, body) =
        server.call(Method::PUT, &format!("/api/v1/apps/{victim}"), Some(&put), Auth::Bearer(&apps)).await;
    assert_no_permission("replace the victim's keys", status, &body);
    let dcr_put = json!({
        "client_name": "taken",
        "token_endpoint_auth_method": "client_secret_basic",
        "grant_types": ["client_credentials"],
        "response_types": ["token"],
    });
    let (status, _, body) =
        server.call(Method::PUT, &format!("/oauth2/v1/clients/{victim}"), Some(&dcr_put), Auth::Bearer(&apps)).await;
    assert_no_permission("switch the victim to a secret", status, &body);
    let (secret_client, _) = server.register_secret_app().await;
    let (_, all) = server.admin_get("/api/v1/apps?limit=200").await;
    let secret_victim = all
        .as_array()
        .unwrap()
        .iter()
        .find(|a| a["credentials"]["oauthClient"]["client_id"] == secret_client.as_str())
        .and_then(|a| a["id"].as_str())
        .unwrap()
        .to_string();
    server.grant(&secret_victim, &["okta.users.read"]).await;
    let path = format!("/oauth2/v1/clients/{secret_client}/lifecycle/newSecret");
    let (status, _, body) = server.call(Method::POST, &path, None, Auth::Bearer(&apps)).await;
    assert_no_permission("set the victim's secret", status, &body);
    let path = format!("/api/v1/apps/{secret_victim}/credentials/secrets");
    let (status, _, body) = server.call(Method::POST, &path, Some(&json!({})), Auth::Bearer(&apps)).await;
    assert_no_permission("add a secret to the victim", status, &body);
    // The victim is untouched: its one key, still private_key_jwt.
    let (_, keys) = server.admin_get(&add_key).await;
    assert_eq!(keys["jwks"]["keys"].as_array().map(Vec::len), Some(1), "{keys}");
    // Everything else okta.apps.manage did stays possible: an app without okta.* grants takes the key.
    let plain = server.register_jwt_app(&[rsa_key_2()], &[]).await;
    let path = format!("/api/v1/apps/{plain}/credentials/jwks");
    let (status, _, body) = server.call(Method::POST, &path, Some(&public_jwk(&mine)), Auth::Bearer(&apps)).await;
    assert_eq!(status, 201, "{body}");
    let mut put = jwt_app_body("renamed", &[rsa_key_2()]);
    put["id"] = json!(plain);
    let (status, _, body) =
        server.call(Method::PUT, &format!("/api/v1/apps/{plain}"), Some(&put), Auth::Bearer(&apps)).await;
    assert_eq!(status, 200, "{body}");

    // okta.appGrants.manage cannot grant okta.* scopes, to itself or anyone.
    let (me, grants) = bearer(&server, &["okta.appGrants.manage"]).await;
    let body = json!({ "scopeId": "okta.users.manage", "issuer": server.issuer });
    let (status, _, body) =
        server.call(Method::POST, &format!("/api/v1/apps/{me}/grants"), Some(&body), Auth::Bearer(&grants)).await;
    assert_no_permission("grant itself okta.users.manage", status, &body);

    // okta.roles.manage cannot make itself super admin.
    let (me, roles) = bearer(&server, &["okta.roles.manage"]).await;
    let path = format!("/oauth2/v1/clients/{me}/roles");
    let (status, _, body) =
        server.call(Method::POST, &path, Some(&json!({"type": "SUPER_ADMIN"})), Auth::Bearer(&roles)).await;
    assert_no_permission("assign itself SUPER_ADMIN", status, &body);

    // A non-super SSWS token cannot mint a bigger one either.
    let org = api_token(&server, "ORG_ADMIN").await;
    let (status, _, body) =
        server.call(Method::POST, "/api/v1/api-tokens", Some(&json!({"name": "x"})), Auth::SswsToken(&org)).await;
    assert_no_permission("ORG_ADMIN mints a token", status, &body);
    server.stop().await;
}

/// The seeds' flow is unchanged; a super-admin app may do what only a super admin may; a removed role
/// bites tokens already issued; API tokens carry roles and can revoke themselves.
#[tokio::test]
async fn super_admin_apps_roles_at_use_and_api_token_roles() {
    let server = TestServer::start().await;
    // The seeds' flow: SSWS creates the app, adds the key, grants okta.users.read; no role, scope only.
    let (_, users) = bearer(&server, &["okta.users.read"]).await;
    let (status, _, _) = server.call(Method::GET, "/api/v1/users", None, Auth::Bearer(&users)).await;
    assert_eq!(status, 200);

    // An app holding SUPER_ADMIN grants okta.* scopes and mints API tokens (bounded by its scopes).
    let (boss, token) = bearer(&server, &["okta.appGrants.manage", "okta.apiTokens.manage", "okta.apps.read"]).await;
    let (other, _) = bearer(&server, &["okta.apps.read"]).await;
    let grant = json!({ "scopeId": "okta.users.read", "issuer": server.issuer });
    let path = format!("/api/v1/apps/{other}/grants");
    let (status, _, body) = server.call(Method::POST, &path, Some(&grant), Auth::Bearer(&token)).await;
    assert_no_permission("before the role", status, &body);
    let role_id = assign(&server, &boss, "SUPER_ADMIN").await;
    let (status, _, body) = server.call(Method::POST, &path, Some(&grant), Auth::Bearer(&token)).await;
    assert_eq!(status, 201, "{body}");
    let (status, _, body) =
        server.call(Method::POST, "/api/v1/api-tokens", Some(&json!({"name": "from app"})), Auth::Bearer(&token)).await;
    assert_eq!((status, body["role"].as_str()), (201, Some("SUPER_ADMIN")), "{body}");
    // Role listing and Okta's role object.
    let (status, list) = server.admin_get(&format!("/oauth2/v1/clients/{boss}/roles")).await;
    assert_eq!(status, 200);
    assert_eq!(list[0]["type"], "SUPER_ADMIN");
    assert_eq!(list[0]["label"], "Super Administrator");
    assert_eq!(list[0]["assignmentType"], "CLIENT");
    assert_eq!(list[0]["status"], "ACTIVE");
    let (status, body) =
        server.admin_post(&format!("/oauth2/v1/clients/{boss}/roles"), &json!({"type": "SUPER_ADMIN"})).await;
    assert_eq!((status, body["errorCode"].as_str()), (409, Some("E0000090")), "{body}");
    // Swapped for USER_ADMIN: the token issued before loses apps.read at once; removed, scope-only again.
    let (status, _) = server.admin_delete(&format!("/oauth2/v1/clients/{boss}/roles/{role_id}")).await;
    assert_eq!(status, 204);
    let user_admin = assign(&server, &boss, "USER_ADMIN").await;
    let (status, _, body) = server.call(Method::GET, "/api/v1/apps", None, Auth::Bearer(&token)).await;
    assert_no_permission("USER_ADMIN lists apps", status, &body);
    server.admin_delete(&format!("/oauth2/v1/clients/{boss}/roles/{user_admin}")).await;
    let (status, _, _) = server.call(Method::GET, "/api/v1/apps", None, Auth::Bearer(&token)).await;
    assert_eq!(status, 200);

    // API tokens: a role is named or defaults to the creator's; unknown roles refused.
    let (status, body) = server.admin_post("/api/v1/api-tokens", &json!({"name": "x", "role": "GOD"})).await;
    assert_eq!((status, body["errorCode"].as_str()), (400, Some("E0000001")), "{body}");
    let (_, body) = server.admin_post("/api/v1/api-tokens", &json!({"name": "default"})).await;
    assert_eq!(body["role"], "SUPER_ADMIN");
    let read_only = api_token(&server, "READ_ONLY_ADMIN").await;
    let (status, _, body) =
        server.call(Method::POST, "/api/v1/users", Some(&json!({"profile": {}})), Auth::SswsToken(&read_only)).await;
    assert_no_permission("read-only creates a user", status, &body);
    // Any API token may revoke itself (Okta's DELETE /api/v1/api-tokens/current), then it is dead.
    let (status, _, _) =
        server.call(Method::DELETE, "/api/v1/api-tokens/current", None, Auth::SswsToken(&read_only)).await;
    assert_eq!(status, 204);
    let (status, _, body) = server.call(Method::GET, "/api/v1/users", None, Auth::SswsToken(&read_only)).await;
    assert_eq!((status, body["errorCode"].as_str()), (401, Some("E0000011")));
    server.stop().await;
}
