//! Custom authorization servers in full: access policies and rules (evaluation order, lifetimes, Okta's
//! refusals), custom claims (in tokens and introspection), scopes by id (`default`, `metadataPublish`),
//! server lifecycle, key listing and manual rotation, and Okta's 405 bodies.
use crate::harness::*;
use reqwest::Method;
use serde_json::{Value, json};

async fn new_server(server: &TestServer, scopes: &[&str]) -> String {
    let (status, created) = server
        .admin_post("/api/v1/authorizationServers", &json!({"name": "Orders", "audiences": ["api://orders"]}))
        .await;
    assert_eq!(status, 201, "{created}");
    let id = created["id"].as_str().unwrap().to_string();
    for s in scopes {
        server.create_scope(&id, s).await;
    }
    id
}

async fn token(
    server: &TestServer,
    as_id: &str,
    (client_id, secret): (&str, &str),
    scope: Option<&str>,
) -> (u16, Value) {
    let mut form = vec![("grant_type", "client_credentials"), ("client_id", client_id), ("client_secret", secret)];
    if let Some(s) = scope {
        form.push(("scope", s));
    }
    server.post_form(&format!("/oauth2/{as_id}/v1/token"), &form).await
}

/// The token's lifetime and scope, or the refusal's `error_description`.
async fn outcome(server: &TestServer, as_id: &str, app: (&str, &str), scope: &str) -> Result<(i64, String), String> {
    let (status, body) = token(server, as_id, app, Some(scope)).await;
    if status != 200 {
        return Err(format!(
            "{status} {} {}",
            body["error"].as_str().unwrap_or(""),
            body["error_description"].as_str().unwrap_or("")
        ));
    }
    let claims = payload(body["access_token"].as_str().unwrap());
    assert_eq!(claims["exp"].as_i64().unwrap() - claims["iat"].as_i64().unwrap(), body["expires_in"].as_i64().unwrap());
    Ok((body["expires_in"].as_i64().unwrap(), body["scope"].as_str().unwrap().to_string()))
}

fn rule_body(name: &str, priority: Option<i64>, grants: &[&str], scopes: &[&str], minutes: i64) -> Value {
    let mut body = json!({
        "type": "RESOURCE_ACCESS",
        "name": name,
        "conditions": {
            "people": {"groups": {"include": ["EVERYONE"]}},
            "grantTypes": {"include": grants},
            "scopes": {"include": scopes},
        },
        "actions": {"token": {"accessTokenLifetimeMinutes": minutes}},
    });
    if let Some(p) = priority {
        body["priority"] = json!(p);
    }
    body
}

const POLICY_FAILED: &str =
    "400 access_denied Policy evaluation failed for this request, please check the policy configurations.";
const ALL_REJECTED: &str = "400 access_denied Policy evaluation succeeded, but all the requested scopes were rejected.";

#[tokio::test]
async fn policies_and_rules_decide_in_priority_order_with_their_lifetimes() {
    let server = TestServer::start().await;
    let id = new_server(&server, &["a", "b", "c"]).await;
    let base = format!("/api/v1/authorizationServers/{id}/policies");
    let (x_id, x_secret) = server.register_secret_app().await;
    let (y_id, y_secret) = server.register_secret_app().await;
    let (x, y) = ((x_id.as_str(), x_secret.as_str()), (y_id.as_str(), y_secret.as_str()));

    // A new server has the default policy and rule: every client, every scope, 60 minutes.
    let (_, policies) = server.admin_get(&base).await;
    assert_eq!(policies.as_array().unwrap().len(), 1);
    let default_pid = policies[0]["id"].as_str().unwrap().to_string();
    let (_, rules) = server.admin_get(&format!("{base}/{default_pid}/rules")).await;
    assert_eq!(rules[0]["conditions"]["scopes"]["include"], json!(["*"]));
    assert_eq!(rules[0]["actions"]["token"]["accessTokenLifetimeMinutes"], 60);
    assert_eq!(outcome(&server, &id, x, "a").await, Ok((3600, "a".into())));

    // A policy for X alone, created first: it pushes the default one to priority 2.
    let (status, p1) = server
        .admin_post(
            &base,
            &json!({"type": "OAUTH_AUTHORIZATION_POLICY", "name": "X only", "description": "d", "priority": 1,
                    "conditions": {"clients": {"include": [x_id]}}}),
        )
        .await;
    assert_eq!(status, 201, "{p1}");
    assert_eq!((p1["priority"].as_i64(), p1["status"].as_str()), (Some(1), Some("ACTIVE")));
    let pid = p1["id"].as_str().unwrap().to_string();
    let (_, policies) = server.admin_get(&base).await;
    let order: Vec<(&str, i64)> = policies
        .as_array()
        .unwrap()
        .iter()
        .map(|p| (p["id"].as_str().unwrap(), p["priority"].as_i64().unwrap()))
        .collect();
    assert_eq!(order, [(pid.as_str(), 1), (default_pid.as_str(), 2)]);
    // X's policy has no rule yet: Okta does not fall through to the next policy.
    assert_eq!(outcome(&server, &id, x, "a").await, Err(POLICY_FAILED.into()));
    assert_eq!(outcome(&server, &id, y, "a").await, Ok((3600, "a".into())), "Y still gets the default policy");

    let rules = format!("{base}/{pid}/rules");
    let (status, r1) = server.admin_post(&rules, &rule_body("a only", None, &["client_credentials"], &["a"], 10)).await;
    assert_eq!(status, 201, "{r1}");
    assert_eq!(r1["actions"]["token"]["accessTokenLifetimeMinutes"], 10);
    let (_, r2) = server.admin_post(&rules, &rule_body("anything", None, &["client_credentials"], &["*"], 20)).await;
    assert_eq!(r2["priority"], 2);
    // First matching rule: "a" by the first, "b" by the second; "a b" by the first, narrowed to "a".
    assert_eq!(outcome(&server, &id, x, "a").await, Ok((600, "a".into())));
    assert_eq!(outcome(&server, &id, x, "b").await, Ok((1200, "b".into())));
    assert_eq!(outcome(&server, &id, x, "a b").await, Ok((600, "a".into())));
    // A rule put first takes over and moves the others down.
    let (_, r0) = server.admin_post(&rules, &rule_body("b first", Some(1), &["client_credentials"], &["b"], 5)).await;
    assert_eq!(r0["priority"], 1);
    let (_, listed) = server.admin_get(&rules).await;
    let names: Vec<(&str, i64)> = listed
        .as_array()
        .unwrap()
        .iter()
        .map(|r| (r["name"].as_str().unwrap(), r["priority"].as_i64().unwrap()))
        .collect();
    assert_eq!(names, [("b first", 1), ("a only", 2), ("anything", 3)]);
    assert_eq!(outcome(&server, &id, x, "b").await, Ok((300, "b".into())));
    assert_eq!(outcome(&server, &id, x, "b a").await, Ok((300, "b".into())));

    // A deactivated policy is skipped; activated again, it decides again.
    let (status, _) = server.admin_post(&format!("{base}/{pid}/lifecycle/deactivate"), &json!({})).await;
    assert_eq!(status, 204);
    assert_eq!(outcome(&server, &id, x, "a").await, Ok((3600, "a".into())));
    let (_, got) = server.admin_get(&format!("{base}/{pid}")).await;
    assert_eq!(got["status"], "INACTIVE");
    server.admin_post(&format!("{base}/{pid}/lifecycle/activate"), &json!({})).await;
    assert_eq!(outcome(&server, &id, x, "a").await, Ok((600, "a".into())));

    // Rules for another grant type only: no rule matches. Rules for the grant but not the scope: every
    // requested scope is rejected.
    let r1_path = format!("{rules}/{}", r1["id"].as_str().unwrap());
    let r2_path = format!("{rules}/{}", r2["id"].as_str().unwrap());
    let r0_path = format!("{rules}/{}", r0["id"].as_str().unwrap());
    for r in [&r0_path, &r2_path] {
        let (status, _) = server.admin_post(&format!("{r}/lifecycle/deactivate"), &json!({})).await;
        assert_eq!(status, 204);
    }
    let (status, put) =
        server.admin_put(&r1_path, &rule_body("a only", None, &["authorization_code"], &["a"], 10)).await;
    assert_eq!(status, 200, "{put}");
    assert_eq!(outcome(&server, &id, x, "a").await, Err(POLICY_FAILED.into()));
    server.admin_put(&r1_path, &rule_body("c only", None, &["client_credentials"], &["c"], 30)).await;
    assert_eq!(outcome(&server, &id, x, "a").await, Err(ALL_REJECTED.into()));
    assert_eq!(outcome(&server, &id, x, "c").await, Ok((1800, "c".into())));
    let (_, got) = server.admin_get(&r1_path).await;
    assert_eq!((got["name"].as_str(), got["priority"].as_i64()), (Some("c only"), Some(2)), "a PUT keeps the priority");

    // Validation: Okta's bounds on the lifetime, known grant types and scopes, the required conditions.
    for (body, cause) in [
        (rule_body("r", None, &["client_credentials"], &["a"], 4), "actions.token.accessTokenLifetimeMinutes"),
        (rule_body("r", None, &["client_credentials"], &["a"], 1441), "actions.token.accessTokenLifetimeMinutes"),
        (rule_body("r", None, &["magic"], &["a"], 60), "conditions.grantTypes.include: 'magic' is not a grant type"),
        (rule_body("r", None, &["client_credentials"], &["nope"], 60), "conditions.scopes.include: 'nope'"),
        (json!({"name": "r", "conditions": {}}), "conditions.grantTypes.include: The field cannot be left blank"),
        (
            json!({"conditions": {"grantTypes": {"include": ["client_credentials"]}}}),
            "name: The field cannot be left blank",
        ),
    ] {
        let (status, err) = server.admin_post(&rules, &body).await;
        assert_eq!((status, err["errorCode"].as_str()), (400, Some("E0000001")), "{body}");
        assert!(err["errorCauses"][0]["errorSummary"].as_str().unwrap().starts_with(cause), "{err}");
    }
    let (status, err) =
        server.admin_post(&base, &json!({"name": "p", "conditions": {"clients": {"include": ["0oanope12"]}}})).await;
    assert_eq!((status, err["errorCode"].as_str()), (400, Some("E0000001")));
    let (status, _) = server.admin_get(&format!("{base}/00pnope/rules")).await;
    assert_eq!(status, 404);
    let (status, err) = server.admin_get(&format!("{rules}/0prnope")).await;
    assert_eq!(status, 404);
    assert_eq!(err["errorSummary"], "Not found: Resource not found: 0prnope (AuthorizationServerPolicyRule)");

    // Deleting a rule, then the policy (with its rules): X is back on the default policy.
    let (status, _) = server.admin_delete(&r0_path).await;
    assert_eq!(status, 204);
    let (status, _) = server.admin_delete(&r0_path).await;
    assert_eq!(status, 404);
    let (status, _) = server.admin_delete(&format!("{base}/{pid}")).await;
    assert_eq!(status, 204);
    assert_eq!(outcome(&server, &id, x, "a").await, Ok((3600, "a".into())));

    // Everything survives a restart.
    let r_default = format!("{base}/{default_pid}/rules/0pr{id}");
    let (status, _) = server
        .admin_put(&r_default, &rule_body("Default Policy Rule", None, &["client_credentials"], &["*"], 15))
        .await;
    assert_eq!(status, 200);
    let dir = server.stop().await;
    let server = TestServer::start_in(dir).await;
    assert_eq!(outcome(&server, &id, y, "b").await, Ok((900, "b".into())));
    server.stop().await;
}

/// An Apps-API service app with a client secret and a `profile`.
async fn profile_app(server: &TestServer, profile: Value) -> (String, String, String) {
    let (status, app) = server
        .admin_post(
            "/api/v1/apps",
            &json!({
                "name": "oidc_client", "label": "Billing", "signOnMode": "OPENID_CONNECT",
                "profile": profile,
                "credentials": {"oauthClient": {"token_endpoint_auth_method": "client_secret_post"}},
                "settings": {"oauthClient": {"application_type": "service", "grant_types": ["client_credentials"]}},
            }),
        )
        .await;
    assert_eq!(status, 200, "{app}");
    let client_id = app["credentials"]["oauthClient"]["client_id"].as_str().unwrap().to_string();
    let secret = app["credentials"]["oauthClient"]["client_secret"].as_str().unwrap().to_string();
    (app["id"].as_str().unwrap().to_string(), client_id, secret)
}

fn claim_body(name: &str, value: &str, scopes: &[&str]) -> Value {
    json!({"name": name, "status": "ACTIVE", "claimType": "RESOURCE", "valueType": "EXPRESSION", "value": value,
           "alwaysIncludeInToken": true, "conditions": {"scopes": scopes}})
}

#[tokio::test]
async fn custom_claims_are_in_tokens_and_introspection() {
    let server = TestServer::start().await;
    let id = new_server(&server, &["a", "b"]).await;
    let claims = format!("/api/v1/authorizationServers/{id}/claims");
    let (app_id, client_id, secret) =
        profile_app(&server, json!({"tenant": "acme", "region": "eu-west", "tier": 3})).await;
    let (_, app) = server.admin_get(&format!("/api/v1/apps/{app_id}")).await;
    assert_eq!(app["profile"]["tenant"], "acme", "the Apps API keeps the profile");
    let app_creds = (client_id.as_str(), secret.as_str());

    let (status, tenant) = server.admin_post(&claims, &claim_body("tenant", "app.profile.tenant", &[])).await;
    assert_eq!(status, 201, "{tenant}");
    assert_eq!((tenant["claimType"].as_str(), tenant["valueType"].as_str()), (Some("RESOURCE"), Some("EXPRESSION")));
    assert!(tenant["id"].as_str().unwrap().starts_with("ocl"));
    server.admin_post(&claims, &claim_body("cid_upper", "String.toUpperCase(app.clientId)", &["b"])).await;
    server
        .admin_post(&claims, &claim_body("where", r#""svc:" + String.substringBefore(app.profile.region, "-")"#, &[]))
        .await;
    server.admin_post(&claims, &claim_body("tier_plus", "app.profile.tier + 1", &[])).await;
    server.admin_post(&claims, &claim_body("absent", "app.profile.nothing", &[])).await;
    let mut off = claim_body("off", "true", &[]);
    off["status"] = json!("INACTIVE");
    server.admin_post(&claims, &off).await;

    let (status, body) = token(&server, &id, app_creds, Some("a")).await;
    assert_eq!(status, 200, "{body}");
    let access = body["access_token"].as_str().unwrap().to_string();
    let c = payload(&access);
    assert_eq!(c["tenant"], "acme");
    assert_eq!(c["where"], "svc:eu");
    assert_eq!(c["tier_plus"], 4);
    assert!(c.get("cid_upper").is_none(), "granted only with scope b");
    assert!(c.get("absent").is_none(), "a null value is left out");
    assert!(c.get("off").is_none(), "an INACTIVE claim is left out");
    let (_, body) = token(&server, &id, app_creds, Some("b")).await;
    assert_eq!(payload(body["access_token"].as_str().unwrap())["cid_upper"], client_id.to_uppercase());

    // Introspection shows the custom claims too.
    let (status, intro) = server
        .post_form(
            &format!("/oauth2/{id}/v1/introspect"),
            &[("client_id", &client_id), ("client_secret", &secret), ("token", &access)],
        )
        .await;
    assert_eq!(status, 200);
    assert_eq!(
        (intro["active"].as_bool(), intro["tenant"].as_str(), intro["where"].as_str()),
        (Some(true), Some("acme"), Some("svc:eu"))
    );
    assert_eq!(intro["client_id"], client_id.as_str(), "a standard member is never overwritten");

    // A replaced claim applies to the next token; a deleted one is gone.
    let tid = tenant["id"].as_str().unwrap();
    let (status, put) = server
        .admin_put(&format!("{claims}/{tid}"), &claim_body("tenant", r#"'t-' + app.profile.tenant"#, &["a"]))
        .await;
    assert_eq!(status, 200, "{put}");
    let (_, got) = server.admin_get(&format!("{claims}/{tid}")).await;
    assert_eq!(got["conditions"]["scopes"], json!(["a"]));
    let (_, body) = token(&server, &id, app_creds, Some("a")).await;
    assert_eq!(payload(body["access_token"].as_str().unwrap())["tenant"], "t-acme");
    let (_, body) = token(&server, &id, app_creds, Some("b")).await;
    assert!(payload(body["access_token"].as_str().unwrap()).get("tenant").is_none());
    let (status, _) = server.admin_delete(&format!("{claims}/{tid}")).await;
    assert_eq!(status, 204);
    let (_, body) = token(&server, &id, app_creds, Some("a")).await;
    assert!(payload(body["access_token"].as_str().unwrap()).get("tenant").is_none());
    let (_, listed) = server.admin_get(&claims).await;
    assert_eq!(listed.as_array().unwrap().len(), 5);

    // Refusals: unsupported expressions and value types, ID-token claims, reserved and taken names.
    for (body, cause) in [
        (claim_body("x", "user.email", &[]), "value: Unsupported expression: unsupported reference 'user.email'"),
        (claim_body("x", "app.clientId == 'a'", &[]), "value: Unsupported expression: unsupported character '='"),
        (claim_body("x", "Arrays.isEmpty(app.clientId)", &[]), "value: Unsupported expression: unsupported function"),
        (claim_body("sub", "app.clientId", &[]), "name: 'sub' is a reserved claim name"),
        (claim_body("where", "app.clientId", &[]), "name: A claim with the name 'where' already exists"),
        (claim_body("x", "app.clientId", &["nope"]), "conditions.scopes: 'nope'"),
        (
            json!({"name": "x", "claimType": "RESOURCE", "valueType": "GROUPS", "value": "Everyone"}),
            "valueType: GROUPS claims are not supported",
        ),
        (
            json!({"name": "x", "claimType": "IDENTITY", "valueType": "EXPRESSION", "value": "1"}),
            "claimType: IDENTITY claims are not supported",
        ),
        (
            json!({"name": "x", "claimType": "RESOURCE", "valueType": "EXPRESSION"}),
            "value: The field cannot be left blank",
        ),
    ] {
        let (status, err) = server.admin_post(&claims, &body).await;
        assert_eq!((status, err["errorCode"].as_str()), (400, Some("E0000001")), "{body}");
        assert!(err["errorCauses"][0]["errorSummary"].as_str().unwrap().starts_with(cause), "{err}");
    }
    let (status, _) = server.admin_get(&format!("{claims}/oclnope")).await;
    assert_eq!(status, 404);
    server.stop().await;
}

#[tokio::test]
async fn scopes_by_id_default_scopes_and_discovery() {
    let server = TestServer::start().await;
    let id = new_server(&server, &["a"]).await;
    let (status, b) = server
        .admin_post(
            &format!("/api/v1/authorizationServers/{id}/scopes"),
            &json!({"name": "b", "description": "B", "default": true, "metadataPublish": "NO_CLIENTS"}),
        )
        .await;
    assert_eq!(status, 201, "{b}");
    let b_path = format!("/api/v1/authorizationServers/{id}/scopes/{}", b["id"].as_str().unwrap());
    let (status, got) = server.admin_get(&b_path).await;
    assert_eq!(
        (status, got["default"].as_bool(), got["metadataPublish"].as_str()),
        (200, Some(true), Some("NO_CLIENTS"))
    );
    let (_, doc) = server.admin_get(&format!("/oauth2/{id}/.well-known/openid-configuration")).await;
    assert_eq!(doc["scopes_supported"], json!(["a"]), "NO_CLIENTS scopes are not published");

    // No scope asked: the default scopes.
    let (cid, secret) = server.register_secret_app().await;
    let (status, body) = token(&server, &id, (&cid, &secret), None).await;
    assert_eq!((status, body["scope"].as_str()), (200, Some("b")), "{body}");

    // Replace by id: published, no longer default, renamed.
    let (status, put) =
        server.admin_put(&b_path, &json!({"name": "b2", "default": false, "metadataPublish": "ALL_CLIENTS"})).await;
    assert_eq!((status, put["name"].as_str()), (200, Some("b2")), "{put}");
    let (_, doc) = server.admin_get(&format!("/oauth2/{id}/.well-known/oauth-authorization-server")).await;
    assert_eq!(doc["scopes_supported"], json!(["a", "b2"]));
    let (status, body) = token(&server, &id, (&cid, &secret), None).await;
    assert_eq!(status, 400);
    assert_eq!(
        body["error_description"],
        "The authorization server resource does not have any configured default scopes, 'scope' must be provided."
    );
    let (status, err) = server.admin_put(&b_path, &json!({"name": "a"})).await;
    assert_eq!((status, err["errorCode"].as_str()), (400, Some("E0000001")), "a taken name");
    let (status, err) = server.admin_put(&b_path, &json!({"name": "b2", "metadataPublish": "SOME"})).await;
    assert_eq!(status, 400, "{err}");
    let (status, _) = server.admin_delete(&b_path).await;
    assert_eq!(status, 204);
    let (status, _) = server.admin_get(&b_path).await;
    assert_eq!(status, 404);
    server.stop().await;
}

#[tokio::test]
async fn server_lifecycle_key_listing_and_manual_rotation() {
    // Rotation checked every second; each server's ACTIVE key is then back-dated past the 90-day schedule.
    let fast = |c: &mut tollgate_server::Config| c.maintenance_seconds = 1;
    let server = TestServer::start_configured(fast).await;
    let auto = new_server(&server, &["a"]).await;
    let manual = new_server(&server, &["a"]).await;
    let manual_path = format!("/api/v1/authorizationServers/{manual}");
    let (status, put) = server
        .admin_put(
            &manual_path,
            &json!({"name": "Manual", "audiences": ["api://m"], "credentials": {"signing": {"rotationMode": "MANUAL"}}}),
        )
        .await;
    assert_eq!(status, 200, "{put}");
    assert_eq!(put["credentials"]["signing"]["rotationMode"], "MANUAL");
    assert!(put["credentials"]["signing"].get("nextRotation").is_none_or(Value::is_null));
    let kid = |v: &Value| v["credentials"]["signing"]["kid"].as_str().unwrap().to_string();
    let manual_kid = kid(&put);
    let (_, auto_before) = server.admin_get(&format!("/api/v1/authorizationServers/{auto}")).await;
    let dir = server.stop().await;
    let store = tollgate_store::open(&crate::harness::database_url_for(&dir)).await.unwrap();
    for id in [&auto, &manual] {
        let mut active: Vec<_> =
            store.signing_keys(id).await.unwrap().into_iter().filter(|k| k.status == "ACTIVE").collect();
        active[0].activated = Some((now() - 91 * 86_400) * 1000);
        store.rotate_signing_keys(&active, &[], &[]).await.unwrap();
    }
    drop(store);
    let server = TestServer::start_in_configured(dir, fast).await;
    let mut rotated = false;
    for _ in 0..50 {
        let (_, auto_after) = server.admin_get(&format!("/api/v1/authorizationServers/{auto}")).await;
        if kid(&auto_before) != kid(&auto_after) {
            rotated = true;
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(200)).await;
    }
    assert!(rotated, "the AUTO server rotated on schedule");
    tokio::time::sleep(std::time::Duration::from_millis(1500)).await;
    let (_, still) = server.admin_get(&manual_path).await;
    assert_eq!(kid(&still), manual_kid, "the MANUAL server, as overdue, did not");

    // The keys with their status; keyRotate is the MANUAL server's one way to rotate.
    let (status, keys) = server.admin_get(&format!("{manual_path}/credentials/keys")).await;
    assert_eq!(status, 200);
    let statuses: Vec<(&str, &str)> =
        keys.as_array().unwrap().iter().map(|k| (k["kid"].as_str().unwrap(), k["status"].as_str().unwrap())).collect();
    assert_eq!(statuses[0], (manual_kid.as_str(), "ACTIVE"));
    assert_eq!(statuses[1].1, "NEXT");
    let next = statuses[1].0.to_string();
    assert!(keys[0]["n"].is_string() && keys[0]["use"] == "sig" && keys[0].get("d").is_none());
    let (status, rotated) =
        server.admin_post(&format!("{manual_path}/credentials/lifecycle/keyRotate"), &json!({})).await;
    assert_eq!(status, 200, "{rotated}");
    let (_, now) = server.admin_get(&manual_path).await;
    assert_eq!(kid(&now), next);
    let (_, keys) = server.admin_get(&format!("{manual_path}/credentials/keys")).await;
    assert!(keys.as_array().unwrap().iter().any(|k| k["kid"] == manual_kid.as_str() && k["status"] == "EXPIRED"));

    // Deactivated: the management API still shows it; its OAuth endpoints answer as for an unknown server.
    let (cid, secret) = server.register_secret_app().await;
    let (status, _) = server.admin_post(&format!("{manual_path}/lifecycle/deactivate"), &json!({})).await;
    assert_eq!(status, 204);
    let (_, got) = server.admin_get(&manual_path).await;
    assert_eq!(got["status"], "INACTIVE");
    for path in ["/.well-known/openid-configuration", "/v1/keys"] {
        let (status, err) = server.admin_get(&format!("/oauth2/{manual}{path}")).await;
        assert_eq!((status, err["errorCode"].as_str()), (404, Some("E0000007")), "{path}");
    }
    let (status, err) = token(&server, &manual, (&cid, &secret), Some("a")).await;
    assert_eq!((status, err["errorCode"].as_str()), (404, Some("E0000007")));
    let (status, _) = server.admin_post(&format!("{manual_path}/lifecycle/activate"), &json!({})).await;
    assert_eq!(status, 204);
    let (status, body) = token(&server, &manual, (&cid, &secret), Some("a")).await;
    assert_eq!(status, 200, "{body}");
    let (status, _) = server.admin_post(&format!("{manual_path}/lifecycle/wake"), &json!({})).await;
    assert_eq!(status, 404);

    // Survives a restart.
    let dir = server.stop().await;
    let server = TestServer::start_in(dir).await;
    let (_, got) = server.admin_get(&manual_path).await;
    assert_eq!(got["credentials"]["signing"]["rotationMode"], "MANUAL");
    server.stop().await;
}

#[tokio::test]
async fn every_405_carries_oktas_body() {
    let server = TestServer::start().await;
    for (method, path) in [
        (Method::PATCH, "/api/v1/apps"),
        (Method::DELETE, "/api/v1/authorizationServers/default/credentials/keys"),
        (Method::GET, "/api/v1/authorizationServers/default/credentials/lifecycle/keyRotate"),
        (Method::PATCH, "/api/v1/authorizationServers/default/policies"),
    ] {
        let (status, headers, body) = server.call(method.clone(), path, None, Auth::Ssws).await;
        assert_eq!(status, 405, "{method} {path}");
        assert_eq!(body["errorCode"], "E0000022", "{method} {path}: {body}");
        assert_eq!(body["errorSummary"], "The endpoint does not support the provided HTTP method");
        assert!(headers.get("allow").is_some(), "{method} {path}");
    }
    for (method, path) in [
        (Method::GET, "/oauth2/v1/token"),
        (Method::PUT, "/oauth2/default/v1/introspect"),
        (Method::POST, "/oauth2/default/v1/keys"),
        (Method::DELETE, "/.well-known/openid-configuration"),
        (Method::GET, "/api/v2/oauth/token"),
    ] {
        let r = server.http.request(method.clone(), server.url(path)).send().await.unwrap();
        let status = r.status().as_u16();
        let body: Value = r.json().await.unwrap_or(Value::Null);
        assert_eq!(status, 405, "{method} {path}");
        assert_eq!(body["error"], "invalid_request", "{method} {path}: {body}");
        assert_eq!(body["error_description"], "The endpoint does not support the provided HTTP method");
    }
    server.stop().await;
}

/// The System Log names these changes with Okta's event types and the server, policy, rule or claim as
/// targets (the created one with its kind).
#[tokio::test]
async fn policy_rule_and_claim_changes_are_in_the_system_log() {
    let server = TestServer::start().await;
    let id = new_server(&server, &["a"]).await;
    let base = format!("/api/v1/authorizationServers/{id}/policies");
    let (_, p) =
        server.admin_post(&base, &json!({"name": "P", "conditions": {"clients": {"include": ["ALL_CLIENTS"]}}})).await;
    let pid = p["id"].as_str().unwrap().to_string();
    let (_, r) = server
        .admin_post(&format!("{base}/{pid}/rules"), &rule_body("R", None, &["client_credentials"], &["a"], 30))
        .await;
    let rid = r["id"].as_str().unwrap().to_string();
    server.admin_post(&format!("{base}/{pid}/rules/{rid}/lifecycle/deactivate"), &json!({})).await;
    let (_, c) = server
        .admin_post(&format!("/api/v1/authorizationServers/{id}/claims"), &claim_body("t", "app.clientId", &[]))
        .await;
    let cid = c["id"].as_str().unwrap().to_string();
    let until = time::OffsetDateTime::from_unix_timestamp(now() + 60)
        .unwrap()
        .format(&time::format_description::well_known::Rfc3339)
        .unwrap();
    let enc = |s: &str| form_urlencoded::byte_serialize(s.as_bytes()).collect::<String>();
    let targets_of = |event: &Value| -> Vec<(String, String)> {
        event["target"]
            .as_array()
            .unwrap()
            .iter()
            .map(|t| (t["id"].as_str().unwrap().to_string(), t["type"].as_str().unwrap().to_string()))
            .collect()
    };
    let want = [
        ("policy.lifecycle.create", vec![(id.clone(), "AuthorizationServer"), (pid.clone(), "Policy")]),
        (
            "policy.rule.add",
            vec![(id.clone(), "AuthorizationServer"), (pid.clone(), "Policy"), (rid.clone(), "PolicyRule")],
        ),
        (
            "policy.rule.deactivate",
            vec![(id.clone(), "AuthorizationServer"), (pid.clone(), "Policy"), (rid.clone(), "PolicyRule")],
        ),
        ("oauth2.claim.created", vec![(id.clone(), "AuthorizationServer"), (cid.clone(), "OAuth2Claim")]),
    ];
    for (event_type, targets) in want {
        let query =
            format!("/api/v1/logs?until={}&filter={}", enc(&until), enc(&format!("eventType eq \"{event_type}\"")));
        let mut found = Value::Null;
        for _ in 0..50 {
            let (status, events) = server.admin_get(&query).await;
            assert_eq!(status, 200, "{events}");
            if let Some(e) = events.as_array().and_then(|a| a.first()) {
                found = e.clone();
                break;
            }
            tokio::time::sleep(std::time::Duration::from_millis(100)).await;
        }
        assert_eq!(found["outcome"]["result"], "SUCCESS", "{event_type}: {found}");
        let want: Vec<(String, String)> = targets.into_iter().map(|(i, k)| (i, k.to_string())).collect();
        assert_eq!(targets_of(&found), want, "{event_type}");
    }
    server.stop().await;
}
