//! Rate limits and token quotas (issue 16): Okta's `X-Rate-Limit-*` headers on every limited route and
//! none on discovery and keys; 429s in both shapes (E0000047 on the management API, an OAuth body at the
//! OAuth endpoints) with `Date` and exactly one `X-Rate-Limit-Reset`; each app's share of a bucket (set
//! through the Apps API); per-address limits for unauthenticated callers; monitor mode; token quotas in
//! enforce and monitor mode, surviving a restart; System Log events and metrics; two nodes sharing limits.
use crate::harness::*;
use reqwest::header::HeaderMap;
use serde_json::{Value, json};
use std::time::Duration;
use tollgate_server::config::LimitMode;

const TOKEN: &str = "/oauth2/v1/token";
/// A fixed issuer: tokens and grants stay good across restarts and nodes.
const ISSUER: &str = "https://tollgate.example";
const EXCEEDED: &str = "API call exceeded rate limit due to too many requests.";

/// One header's only value as a number (asserting there is exactly one).
fn one(headers: &HeaderMap, name: &str) -> u64 {
    let values: Vec<_> = headers.get_all(name).iter().collect();
    assert_eq!(values.len(), 1, "exactly one {name}: {headers:?}");
    values[0].to_str().unwrap().parse().unwrap()
}

/// The three headers: (limit, remaining, reset).
fn limits(headers: &HeaderMap) -> (u64, u64, u64) {
    (one(headers, "x-rate-limit-limit"), one(headers, "x-rate-limit-remaining"), one(headers, "x-rate-limit-reset"))
}

/// A token request for `client_id` (signed with the shared test key): status, headers, body.
async fn token(server: &TestServer, client_id: &str) -> (u16, HeaderMap, Value) {
    let assertion = sign(rsa_key(), &assertion_claims(client_id, &server.issuer_url(TOKEN)));
    let r = server
        .http
        .post(server.url(TOKEN))
        .form(&[
            ("grant_type", "client_credentials"),
            ("scope", "okta.users.read"),
            ("client_assertion_type", JWT_BEARER),
            ("client_assertion", assertion.as_str()),
        ])
        .send()
        .await
        .unwrap();
    let status = r.status().as_u16();
    let headers = r.headers().clone();
    (status, headers, r.json().await.unwrap_or(Value::Null))
}

/// A refused 429's common rules: `Date`, one reset in the near future, nothing remaining.
fn assert_429(status: u16, headers: &HeaderMap, body: &Value) {
    assert_eq!(status, 429, "{body}");
    assert!(headers.get("date").is_some(), "a 429 carries Date: {headers:?}");
    let (_, remaining, reset) = limits(headers);
    assert_eq!(remaining, 0);
    let now = now() as u64;
    assert!((now..=now + 3_600).contains(&reset), "reset {reset} is soon after {now}");
}

/// Sets an app's `settings.tollgate` through the Apps API (GET, change, PUT back, as SDKs do).
async fn set_app_limits(server: &TestServer, client_id: &str, settings: Value) -> Value {
    let (status, mut app) = server.admin_get(&format!("/api/v1/apps/{client_id}")).await;
    assert_eq!(status, 200, "{app}");
    app["settings"]["tollgate"] = settings;
    let (status, body) = server.admin_put(&format!("/api/v1/apps/{client_id}"), &app).await;
    assert_eq!(status, 200, "{body}");
    body
}

/// Events of `event_type` in the System Log, waiting (bounded) for at least `n`.
async fn events(server: &TestServer, event_type: &str, n: usize) -> Vec<Value> {
    let filter: String = form_urlencoded::byte_serialize(format!("eventType eq \"{event_type}\"").as_bytes()).collect();
    for _ in 0..50 {
        let (status, body) = server.admin_get(&format!("/api/v1/logs?filter={filter}&limit=100")).await;
        assert_eq!(status, 200, "{body}");
        let found = body.as_array().cloned().unwrap_or_default();
        if found.len() >= n {
            return found;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("fewer than {n} {event_type} events");
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port()
}

async fn metrics(port: u16) -> String {
    reqwest::get(format!("http://127.0.0.1:{port}/metrics")).await.unwrap().text().await.unwrap()
}

#[tokio::test]
async fn every_limited_route_sends_the_headers_and_discovery_and_keys_none() {
    let server = TestServer::start().await;
    let client_id = server.register_jwt_app(&[rsa_key()], &["okta.users.read"]).await;
    // tollgate's preset, an admin API token's 50% share.
    for (path, bucket_limit) in [
        ("/api/v1/apps", 60_000),
        ("/api/v1/apps/nope", 60_000),
        ("/api/v1/users", 60_000),
        ("/api/v1/logs", 6_000),
        ("/api/v1/authorizationServers", 60_000),
        ("/api/v1/api-tokens", 60_000),
        ("/oauth2/v1/clients", 6_000),
    ] {
        let (status, headers, body) = server.call(reqwest::Method::GET, path, None, Auth::Ssws).await;
        assert!(status == 200 || status == 404, "{path}: {status} {body}");
        let (limit, remaining, reset) = limits(&headers);
        assert_eq!(limit, bucket_limit / 2, "{path}: the admin token's share");
        assert!(remaining < limit, "{path}");
        assert!(reset > now() as u64 && reset <= now() as u64 + 60, "{path}: {reset}");
    }
    // The token endpoints: an app's share of the token bucket; introspection and revocation the other
    // /oauth2 bucket; refusals (by address) carry them too.
    let (status, headers, body) = token(&server, &client_id).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(limits(&headers).0, 600_000);
    let access_token = body["access_token"].as_str().unwrap().to_string();
    let inspector = sign(rsa_key(), &assertion_claims(&client_id, &server.issuer_url("/oauth2/v1/introspect")));
    let r = server
        .http
        .post(server.url("/oauth2/v1/introspect"))
        .form(&[
            ("token", access_token.as_str()),
            ("client_assertion_type", JWT_BEARER),
            ("client_assertion", &inspector),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    assert_eq!(limits(r.headers()).0, 300_000);
    for path in ["/oauth2/v1/token", "/oauth2/v1/revoke", "/api/v2/oauth/token", "/oauth2/default/v1/token"] {
        let r = server.http.post(server.url(path)).form(&[("grant_type", "client_credentials")]).send().await.unwrap();
        assert!(r.status().is_client_error(), "{path}: {}", r.status());
        assert_eq!(limits(r.headers()).0, 6_000, "{path}: an unauthenticated caller's per-address limit");
    }
    // The users API with the app's own token.
    let (status, headers, _) =
        server.call(reqwest::Method::GET, "/api/v1/users", None, Auth::Bearer(&access_token)).await;
    assert_eq!(status, 200);
    assert_eq!(limits(&headers).0, 30_000);
    // The Access Gateway's app view (which refuses SSWS) is limited too.
    let (_, headers, _) = server.call(reqwest::Method::GET, "/api/v2/apps", None, Auth::Ssws).await;
    assert!(limits(&headers).0 > 0);
    for path in ["/oauth2/v1/keys", "/.well-known/openid-configuration", "/.well-known/oauth-authorization-server"] {
        let r = server.http.get(server.url(path)).send().await.unwrap();
        assert_eq!(r.status(), 200, "{path}");
        assert!(r.headers().get("x-rate-limit-limit").is_none(), "{path} is not limited");
    }
    server.stop().await;
}

#[tokio::test]
async fn the_management_api_answers_okta_e0000047_past_a_share() {
    let port = free_port();
    let server = TestServer::start_configured(|c| {
        c.rate_limits.users = Some(6);
        c.metrics_listen = Some(format!("127.0.0.1:{port}"));
    })
    .await;
    // The admin token's share: 50% of 6.
    for left in [2, 1, 0] {
        let (status, headers, body) = server.call(reqwest::Method::GET, "/api/v1/users", None, Auth::Ssws).await;
        assert_eq!(status, 200, "{body}");
        assert_eq!(limits(&headers).0, 3);
        assert_eq!(limits(&headers).1, left);
    }
    let (status, headers, body) = server.call(reqwest::Method::GET, "/api/v1/users", None, Auth::Ssws).await;
    assert_429(status, &headers, &body);
    assert_eq!(body["errorCode"], "E0000047");
    assert_eq!(body["errorSummary"], EXCEEDED);
    assert_eq!(body["errorLink"], "E0000047");
    assert!(body["errorId"].as_str().is_some_and(|id| !id.is_empty()));
    assert_eq!(body["errorCauses"], json!([]));
    // Other buckets are untouched.
    assert_eq!(server.call(reqwest::Method::GET, "/api/v1/apps", None, Auth::Ssws).await.0, 200);
    // Visible: one violation event per window, and a counter per refusal.
    server.call(reqwest::Method::GET, "/api/v1/users", None, Auth::Ssws).await;
    let found = events(&server, "system.rate.limit.violation", 1).await;
    assert_eq!(found.len(), 1, "logged once per window: {found:?}");
    let e = &found[0];
    assert_eq!(e["outcome"]["result"], "DENY");
    assert_eq!(e["actor"]["type"], "ApiToken");
    assert_eq!(e["debugContext"]["debugData"]["bucket"], "users");
    assert_eq!(e["debugContext"]["debugData"]["scope"], "app");
    let warnings = events(&server, "system.rate.limit.warning", 1).await;
    assert_eq!(warnings[0]["debugContext"]["debugData"]["threshold"], 90);
    let text = metrics(port).await;
    assert!(
        text.contains("tollgate_rate_limited_total{bucket=\"users\",scope=\"app\",action=\"refused\"} 2"),
        "{text}"
    );
    assert!(text.contains("tollgate_rate_limit_warnings_total{bucket=\"users\",scope=\"app\",action=\"warned\"} 1"));
    server.stop().await;
}

#[tokio::test]
async fn each_app_gets_its_share_of_the_token_bucket_set_through_the_apps_api() {
    let server = TestServer::start_configured(|c| c.rate_limits.token = Some(20)).await;
    let a = server.register_jwt_app(&[rsa_key()], &["okta.users.read"]).await;
    let b = server.register_jwt_app(&[rsa_key()], &["okta.users.read"]).await;
    let shown = set_app_limits(&server, &b, json!({ "rateLimitSharePercent": 20 })).await;
    assert_eq!(shown["settings"]["tollgate"], json!({ "rateLimitSharePercent": 20 }));
    // Okta's default share, 50%: 10 for a.
    for _ in 0..10 {
        let (status, headers, body) = token(&server, &a).await;
        assert_eq!(status, 200, "{body}");
        assert_eq!(limits(&headers).0, 10);
    }
    let (status, headers, body) = token(&server, &a).await;
    assert_429(status, &headers, &body);
    assert_eq!(body, json!({ "error": "too_many_requests", "error_description": EXCEEDED }));
    assert_eq!(headers.get("cache-control").unwrap(), "no-cache, no-store");
    // b's own 20%: 4, unaffected by a's refusals.
    for _ in 0..4 {
        let (status, headers, body) = token(&server, &b).await;
        assert_eq!(status, 200, "{body}");
        assert_eq!(limits(&headers).0, 4);
    }
    let (status, headers, body) = token(&server, &b).await;
    assert_429(status, &headers, &body);
    // The share survives a PUT that leaves settings.tollgate out (an SDK that does not know it), and
    // bad values are Okta's E0000001.
    let (_, mut app) = server.admin_get(&format!("/api/v1/apps/{b}")).await;
    app["settings"].as_object_mut().unwrap().remove("tollgate");
    let (status, body) = server.admin_put(&format!("/api/v1/apps/{b}"), &app).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["settings"]["tollgate"]["rateLimitSharePercent"], 20);
    app["settings"]["tollgate"] = json!({ "rateLimitSharePercent": 0, "tokenQuota": { "mode": "sometimes" } });
    let (status, body) = server.admin_put(&format!("/api/v1/apps/{b}"), &app).await;
    assert_eq!(status, 400, "{body}");
    assert_eq!(body["errorCode"], "E0000001");
    assert_eq!(body["errorCauses"].as_array().unwrap().len(), 2, "{body}");
    server.stop().await;
}

#[tokio::test]
async fn the_org_bucket_holds_whatever_the_shares() {
    let server = TestServer::start_configured(|c| {
        c.rate_limits.token = Some(6);
        c.rate_limits.app_share_percent = 100;
    })
    .await;
    let a = server.register_jwt_app(&[rsa_key()], &["okta.users.read"]).await;
    let b = server.register_jwt_app(&[rsa_key()], &["okta.users.read"]).await;
    for client in [&a, &a, &a, &a, &b, &b] {
        assert_eq!(token(&server, client).await.0, 200);
    }
    let (status, headers, body) = token(&server, &b).await;
    assert_429(status, &headers, &body);
    assert_eq!(body["error"], "too_many_requests");
    assert_eq!(limits(&headers).0, 6, "the org-wide bucket refused");
    server.stop().await;
}

#[tokio::test]
async fn unauthenticated_callers_are_limited_per_address() {
    let server = TestServer::start_configured(|c| c.rate_limits.per_ip = Some(3)).await;
    // Authenticated calls do not spend the address's allowance.
    for _ in 0..5 {
        assert_eq!(server.call(reqwest::Method::GET, "/api/v1/users", None, Auth::Ssws).await.0, 200);
    }
    for _ in 0..3 {
        let r = server.http.get(server.url("/api/v1/users")).send().await.unwrap();
        assert_eq!(r.status(), 403, "no credential: Okta's E0000005");
    }
    let r = server.http.get(server.url("/api/v1/users")).send().await.unwrap();
    let (status, headers) = (r.status().as_u16(), r.headers().clone());
    let body: Value = r.json().await.unwrap();
    assert_429(status, &headers, &body);
    assert_eq!(body["errorCode"], "E0000047");
    // The token endpoint: bad assertions from this address, then an OAuth-shaped 429.
    for _ in 0..3 {
        let (status, _) = server.token_with("not-a-jwt", "okta.users.read").await;
        assert_eq!(status, 401);
    }
    let r = server
        .http
        .post(server.url(TOKEN))
        .form(&[("grant_type", "client_credentials"), ("client_assertion_type", JWT_BEARER), ("client_assertion", "x")])
        .send()
        .await
        .unwrap();
    let (status, headers) = (r.status().as_u16(), r.headers().clone());
    let body: Value = r.json().await.unwrap();
    assert_429(status, &headers, &body);
    assert_eq!(body["error"], "too_many_requests");
    let found = events(&server, "system.rate.limit.violation", 2).await;
    assert!(found.iter().all(|e| e["debugContext"]["debugData"]["scope"] == "ip"), "{found:?}");
    assert!(found.iter().all(|e| e["actor"]["id"] == "127.0.0.1"), "{found:?}");
    server.stop().await;
}

#[tokio::test]
async fn monitor_mode_counts_and_logs_but_never_refuses() {
    let port = free_port();
    let server = TestServer::start_configured(|c| {
        c.rate_limits.users = Some(2);
        c.rate_limits.mode = LimitMode::Monitor;
        c.metrics_listen = Some(format!("127.0.0.1:{port}"));
    })
    .await;
    for _ in 0..4 {
        let (status, headers, _) = server.call(reqwest::Method::GET, "/api/v1/users", None, Auth::Ssws).await;
        assert_eq!(status, 200);
        assert_eq!(limits(&headers).0, 1);
    }
    let found = events(&server, "system.rate.limit.violation", 1).await;
    assert_eq!(found[0]["outcome"]["result"], "ALLOW");
    assert_eq!(found[0]["debugContext"]["debugData"]["mode"], "monitor");
    let text = metrics(port).await;
    assert!(
        text.contains("tollgate_rate_limited_total{bucket=\"users\",scope=\"app\",action=\"monitored\"} 3"),
        "{text}"
    );
    server.stop().await;
}

#[tokio::test]
async fn token_quotas_refuse_in_enforce_mode_and_warn_first() {
    let port = free_port();
    let server = TestServer::start_configured(|c| c.metrics_listen = Some(format!("127.0.0.1:{port}"))).await;
    let client_id = server.register_jwt_app(&[rsa_key()], &["okta.users.read"]).await;
    let shown = set_app_limits(
        &server,
        &client_id,
        json!({ "tokenQuota": { "perHour": 3, "mode": "ENFORCE", "warnAtPercent": 60 } }),
    )
    .await;
    assert_eq!(
        shown["settings"]["tollgate"]["tokenQuota"],
        json!({ "perHour": 3, "mode": "ENFORCE", "warnAtPercent": 60 })
    );
    for _ in 0..3 {
        assert_eq!(token(&server, &client_id).await.0, 200);
    }
    let (status, headers, body) = token(&server, &client_id).await;
    assert_429(status, &headers, &body);
    assert_eq!(body["error"], "too_many_requests");
    assert_eq!(body["error_description"], "The client has used its token quota for this hour.");
    let (limit, _, reset) = limits(&headers);
    assert_eq!(limit, 3, "the quota's own numbers");
    assert_eq!(reset % 3_600, 0, "the end of the UTC hour");
    let retry_after: u64 = headers.get("retry-after").unwrap().to_str().unwrap().parse().unwrap();
    assert!((1..=3_600).contains(&retry_after));
    let warning = events(&server, "system.rate.limit.warning", 1).await;
    assert_eq!(warning[0]["debugContext"]["debugData"]["limitType"], "tokenQuota");
    assert_eq!(warning[0]["actor"]["id"], client_id.as_str());
    let violation = events(&server, "system.rate.limit.violation", 1).await;
    assert_eq!(violation[0]["outcome"]["result"], "DENY");
    assert_eq!(violation[0]["debugContext"]["debugData"]["period"], "hour");
    let text = metrics(port).await;
    assert!(text.contains("tollgate_token_quota_events_total{period=\"hour\",action=\"refused\"} 1"), "{text}");
    assert!(text.contains("tollgate_token_quota_events_total{period=\"hour\",action=\"warned\"} 1"), "{text}");
    // Another app is not affected.
    let other = server.register_jwt_app(&[rsa_key()], &["okta.users.read"]).await;
    assert_eq!(token(&server, &other).await.0, 200);
    server.stop().await;
}

#[tokio::test]
async fn token_quotas_in_monitor_mode_only_count() {
    let server = TestServer::start_configured(|c| {
        c.rate_limits.token_quota_per_day = Some(2);
        c.rate_limits.token_quota_mode = LimitMode::Monitor;
    })
    .await;
    let client_id = server.register_jwt_app(&[rsa_key()], &["okta.users.read"]).await;
    for _ in 0..4 {
        assert_eq!(token(&server, &client_id).await.0, 200);
    }
    let violation = events(&server, "system.rate.limit.violation", 1).await;
    assert_eq!(violation.len(), 1);
    assert_eq!(violation[0]["outcome"]["result"], "ALLOW");
    assert_eq!(violation[0]["debugContext"]["debugData"]["period"], "day");
    assert_eq!(violation[0]["debugContext"]["debugData"]["mode"], "monitor");
    // An app may switch itself to enforce: refused at once, its count kept.
    set_app_limits(&server, &client_id, json!({ "tokenQuota": { "mode": "ENFORCE" } })).await;
    assert_eq!(token(&server, &client_id).await.0, 429);
    server.stop().await;
}

#[tokio::test]
async fn a_quota_holds_across_a_restart() {
    let dir = std::sync::Arc::new(tempfile::tempdir().unwrap());
    let config = |c: &mut tollgate_server::Config| {
        c.rate_limits.token_quota_per_hour = Some(2);
    };
    let server = TestServer::start_full(dir.clone(), Some(ISSUER), config).await;
    let client_id = server.register_jwt_app(&[rsa_key()], &["okta.users.read"]).await;
    for _ in 0..2 {
        assert_eq!(token(&server, &client_id).await.0, 200);
    }
    let dir = server.stop().await;
    let server = TestServer::start_full(dir, Some(ISSUER), config).await;
    let (status, headers, body) = token(&server, &client_id).await;
    assert_429(status, &headers, &body);
    server.stop().await;
}

/// Waits until `server` shares its limits with `n` nodes (its apps-bucket limit says so).
async fn wait_for_nodes(server: &TestServer, per_node_limit: u64) {
    for _ in 0..100 {
        let (_, headers, _) = server.call(reqwest::Method::GET, "/api/v1/authorizationServers", None, Auth::Ssws).await;
        if limits(&headers).0 == per_node_limit {
            return;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("the node never saw the other node");
}

#[tokio::test]
async fn two_nodes_share_the_limits_and_the_quotas() {
    let dir = std::sync::Arc::new(tempfile::tempdir().unwrap());
    let config = |c: &mut tollgate_server::Config| {
        c.rate_limits.users = Some(20);
        c.rate_limits.api = Some(4000);
        c.rate_limits.app_share_percent = 100;
        c.rate_limits.node_heartbeat_seconds = 1;
    };
    let a = TestServer::start_full(dir.clone(), Some(ISSUER), config).await;
    let b = TestServer::start_full(dir.clone(), Some(ISSUER), config).await;
    wait_for_nodes(&a, 2000).await;
    wait_for_nodes(&b, 2000).await;
    // 30 calls spread over both nodes: the cluster grants the limit, 20 (within 10%), with no database
    // round trip for the count.
    let mut granted = 0;
    for i in 0..30 {
        let node = if i % 2 == 0 { &a } else { &b };
        let (status, headers, body) = node.call(reqwest::Method::GET, "/api/v1/users", None, Auth::Ssws).await;
        match status {
            200 => granted += 1,
            429 => assert_eq!(limits(&headers).0, 10, "each node's half: {body}"),
            other => panic!("{other}: {body}"),
        }
    }
    assert!((18..=22).contains(&granted), "granted {granted} of a cluster-wide 20");

    // A quota counts what every node issued: 3 per hour; 2 from a, then b knows (after a heartbeat).
    let quota_app = a.register_jwt_app(&[rsa_key()], &["okta.users.read"]).await;
    set_app_limits(&a, &quota_app, json!({ "tokenQuota": { "perHour": 3 } })).await;
    tokio::time::sleep(Duration::from_millis(300)).await;
    for _ in 0..2 {
        assert_eq!(token(&a, &quota_app).await.0, 200);
    }
    tokio::time::sleep(Duration::from_millis(2_500)).await;
    assert_eq!(token(&b, &quota_app).await.0, 200);
    let (status, headers, body) = token(&b, &quota_app).await;
    assert_429(status, &headers, &body);
    tokio::time::sleep(Duration::from_millis(2_500)).await;
    assert_eq!(token(&a, &quota_app).await.0, 429, "a learnt b's token");
    a.stop().await;
    b.stop().await;
}
