//! The System Log (`GET /api/v1/logs`): management events with actor and target, refusals, Okta's query
//! semantics (since/until/filter/q/limit/sortOrder, `Link` paging and the polling `next` link), the
//! read scope, flushing on shutdown, and the metrics listener.
use crate::harness::*;
use serde_json::{Value, json};

/// An `until` a minute ahead: a bounded query, which sees events as soon as they are written.
fn until_soon() -> String {
    time::OffsetDateTime::from_unix_timestamp(now() + 60)
        .unwrap()
        .format(&time::format_description::well_known::Rfc3339)
        .unwrap()
}

async fn logs(server: &TestServer, query: &str) -> (u16, Vec<String>, Value) {
    let r = server
        .http
        .get(server.url(&format!("/api/v1/logs{query}")))
        .header("Authorization", format!("SSWS {ADMIN}"))
        .send()
        .await
        .unwrap();
    let status = r.status().as_u16();
    let links: Vec<String> = r.headers().get_all("link").iter().map(|v| v.to_str().unwrap().to_string()).collect();
    let body = r.json().await.unwrap_or(Value::Null);
    (status, links, body)
}

/// Waits (bounded) until the events `query` selects number at least `n`, and returns them.
async fn wait_for(server: &TestServer, query: &str, n: usize) -> Vec<Value> {
    for _ in 0..50 {
        let (status, _, body) = logs(server, query).await;
        assert_eq!(status, 200, "{body}");
        let events = body.as_array().cloned().unwrap_or_default();
        if events.len() >= n {
            return events;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    panic!("fewer than {n} events for {query}");
}

fn next_link(links: &[String]) -> Option<String> {
    links.iter().find(|l| l.contains("rel=\"next\"")).map(|l| {
        let url = l.split(';').next().unwrap().trim().trim_start_matches('<').trim_end_matches('>');
        url.to_string()
    })
}

fn enc(s: &str) -> String {
    form_urlencoded::byte_serialize(s.as_bytes()).collect()
}

#[tokio::test]
async fn management_changes_are_logged_with_actor_target_and_outcome() {
    let server = TestServer::start().await;
    let client_id = server.register_jwt_app(&[rsa_key()], &["okta.users.read"]).await;
    let until = enc(&until_soon());
    let q = format!("?until={until}&filter={}", enc(r#"eventType eq "app.oauth2.client.lifecycle.create""#));
    let created = wait_for(&server, &q, 1).await;
    let e = &created[0];
    assert_eq!(e["outcome"]["result"], "SUCCESS");
    assert_eq!(e["actor"]["type"], "ApiToken");
    assert!(e["target"].as_array().unwrap().iter().any(|t| t["id"] == client_id.as_str()), "{e}");
    assert_eq!(e["client"]["ipAddress"], "127.0.0.1");
    assert!(!e["transaction"]["id"].as_str().unwrap().is_empty());
    assert_eq!(e["version"], "0");
    // The grant names the app as its target.
    let q = format!(
        "?until={until}&filter={}",
        enc(&format!(r#"eventType eq "app.oauth2.as.consent.grant" and target.id eq "{client_id}""#))
    );
    assert_eq!(wait_for(&server, &q, 1).await.len(), 1);

    // A refusal is logged too, with Okta's summary as the reason; nothing secret is in any event.
    let (status, _) =
        server.admin_post(&format!("/api/v1/apps/{client_id}/grants"), &json!({"scopeId": "okta.nope"})).await;
    assert_eq!(status, 400);
    let q = format!("?until={until}&filter={}", enc(r#"outcome.result eq "FAILURE""#));
    let failed = wait_for(&server, &q, 1).await;
    assert_eq!(failed[0]["eventType"], "app.oauth2.as.consent.grant");
    assert!(failed[0]["outcome"]["reason"].as_str().unwrap().starts_with("Api validation failed"), "{}", failed[0]);
    let (_, _, all) = logs(&server, &format!("?until={until}&limit=1000")).await;
    assert!(!all.to_string().contains(ADMIN), "the admin token must never be logged");
    server.stop().await;
}

#[tokio::test]
async fn a_denied_call_is_logged_as_deny() {
    let server = TestServer::start().await;
    let r =
        server.http.get(server.url("/api/v1/apps")).header("Authorization", "SSWS wrong-token").send().await.unwrap();
    assert_eq!(r.status(), 401);
    let q = format!("?until={}&filter={}", enc(&until_soon()), enc(r#"outcome.result eq "DENY""#));
    let denied = wait_for(&server, &q, 1).await;
    assert_eq!(denied[0]["outcome"]["reason"], "Invalid token provided");
    server.stop().await;
}

#[tokio::test]
async fn paging_bounded_queries_and_polling() {
    let server = TestServer::start().await;
    for _ in 0..3 {
        server.register_jwt_app(&[rsa_key()], &[]).await;
    }
    let until = enc(&until_soon());
    let filter = enc(r#"eventType eq "app.oauth2.client.lifecycle.create""#);
    let all = wait_for(&server, &format!("?until={until}&filter={filter}"), 3).await;
    assert_eq!(all.len(), 3);

    // Bounded: pages of one, a next link while events remain, none after the last.
    let mut url = server.url(&format!("/api/v1/logs?until={until}&filter={filter}&limit=1"));
    let mut seen = Vec::new();
    for _ in 0..5 {
        let r = server.http.get(&url).header("Authorization", format!("SSWS {ADMIN}")).send().await.unwrap();
        let links: Vec<String> = r.headers().get_all("link").iter().map(|v| v.to_str().unwrap().to_string()).collect();
        assert!(links.iter().any(|l| l.contains("rel=\"self\"")));
        let page: Vec<Value> = r.json().await.unwrap();
        seen.extend(page.iter().map(|e| e["uuid"].as_str().unwrap().to_string()));
        match next_link(&links) {
            Some(next) if !page.is_empty() => url = next,
            _ => break,
        }
    }
    let want: Vec<String> = all.iter().map(|e| e["uuid"].as_str().unwrap().to_string()).collect();
    assert_eq!(seen, want, "pages in order, each event once");

    // Descending reverses the order.
    let (_, _, desc) = logs(&server, &format!("?until={until}&filter={filter}&sortOrder=DESCENDING")).await;
    let desc: Vec<String> = desc.as_array().unwrap().iter().map(|e| e["uuid"].as_str().unwrap().to_string()).collect();
    assert_eq!(desc, want.iter().rev().cloned().collect::<Vec<_>>());

    // Polling (no until): a next link always, even past the end, and following it finds later events.
    tokio::time::sleep(std::time::Duration::from_millis(1700)).await;
    let (status, links, first) = logs(&server, &format!("?filter={filter}")).await;
    assert_eq!(status, 200);
    assert_eq!(first.as_array().unwrap().len(), 3);
    let next = next_link(&links).expect("a polling answer always has a next link");
    let r = server.http.get(&next).header("Authorization", format!("SSWS {ADMIN}")).send().await.unwrap();
    let links: Vec<String> = r.headers().get_all("link").iter().map(|v| v.to_str().unwrap().to_string()).collect();
    assert!(r.json::<Vec<Value>>().await.unwrap().is_empty());
    let again = next_link(&links).expect("an empty poll still has a next link");
    let late = server.register_jwt_app(&[rsa_key()], &[]).await;
    let mut found = Vec::new();
    for _ in 0..40 {
        let r = server.http.get(&again).header("Authorization", format!("SSWS {ADMIN}")).send().await.unwrap();
        found = r.json::<Vec<Value>>().await.unwrap();
        if !found.is_empty() {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    assert_eq!(found.len(), 1, "the poll picks up the event written after it started");
    assert!(found[0]["target"].as_array().unwrap().iter().any(|t| t["id"] == late.as_str()));
    server.stop().await;
}

#[tokio::test]
async fn query_parameters_are_checked() {
    let server = TestServer::start().await;
    for (query, code) in [
        ("?since=yesterday", "E0000001"),
        ("?sortOrder=SIDEWAYS", "E0000001"),
        ("?limit=0", "E0000001"),
        ("?after=garbage", "E0000001"),
        ("?filter=eventType%20gt%20%22x%22", "E0000031"),
        ("?filter=debugContext.debugData.secret%20eq%20%22x%22", "E0000031"),
    ] {
        let (status, _, body) = logs(&server, query).await;
        assert_eq!(status, 400, "{query}: {body}");
        assert_eq!(body["errorCode"], code, "{query}");
    }
    server.stop().await;
}

#[tokio::test]
async fn reading_the_log_needs_okta_logs_read() {
    let server = TestServer::start().await;
    let with = server.register_jwt_app(&[rsa_key()], &["okta.logs.read", "okta.users.read"]).await;
    let token_for = |scope: &'static str, client_id: String| {
        let server = &server;
        async move {
            let assertion = sign(rsa_key(), &assertion_claims(&client_id, &server.issuer_url("/oauth2/v1/token")));
            let (status, body) = server.token_with(&assertion, scope).await;
            assert_eq!(status, 200, "{body}");
            body["access_token"].as_str().unwrap().to_string()
        }
    };
    let reader = token_for("okta.logs.read", with.clone()).await;
    let r = server.http.get(server.url("/api/v1/logs")).bearer_auth(&reader).send().await.unwrap();
    assert_eq!(r.status(), 200);
    let other = token_for("okta.users.read", with).await;
    let r = server.http.get(server.url("/api/v1/logs")).bearer_auth(&other).send().await.unwrap();
    assert_eq!(r.status(), 403);
    assert!(r.headers()["www-authenticate"].to_str().unwrap().contains("okta.logs.read"));
    server.stop().await;
}

#[tokio::test]
async fn buffered_events_are_flushed_on_shutdown() {
    // A long flush period: only the shutdown flush can have written the event.
    let server = TestServer::start_configured(|c| c.log_flush_millis = 600_000).await;
    let client_id = server.register_jwt_app(&[rsa_key()], &[]).await;
    let dir = server.stop().await;
    let server = TestServer::start_in(dir).await;
    let q = format!("?until={}&filter={}", enc(&until_soon()), enc(&format!(r#"target.id eq "{client_id}""#)));
    let (_, _, events) = logs(&server, &q).await;
    assert_eq!(events.as_array().unwrap().len(), 1, "{events}");
    server.stop().await;
}

#[tokio::test]
async fn the_system_log_can_be_turned_off() {
    let server = TestServer::start_configured(|c| c.system_log = false).await;
    server.register_jwt_app(&[rsa_key()], &[]).await;
    tokio::time::sleep(std::time::Duration::from_millis(400)).await;
    let (status, _, events) = logs(&server, &format!("?until={}", enc(&until_soon()))).await;
    assert_eq!(status, 200);
    assert_eq!(events, json!([]));
    server.stop().await;
}

#[tokio::test]
async fn metrics_are_served_on_their_own_listener() {
    let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let server = TestServer::start_configured(|c| c.metrics_listen = Some(format!("127.0.0.1:{port}"))).await;
    let client_id = server.register_jwt_app(&[rsa_key()], &["okta.users.read"]).await;
    let assertion = sign(rsa_key(), &assertion_claims(&client_id, &server.issuer_url("/oauth2/v1/token")));
    assert_eq!(server.token_with(&assertion, "okta.users.read").await.0, 200);
    let r = reqwest::get(format!("http://127.0.0.1:{port}/metrics")).await.unwrap();
    assert_eq!(r.status(), 200);
    let text = r.text().await.unwrap();
    for name in [
        "tollgate_http_request_duration_seconds_bucket{",
        "route=\"/oauth2/v1/clients\"",
        "tollgate_cached_clients 1",
        "# TYPE tollgate_database_errors counter",
        "# TYPE tollgate_system_log_written_events counter",
    ] {
        assert!(text.contains(name), "{name} missing from:\n{text}");
    }
    // The API port does not serve them.
    assert_eq!(server.http.get(server.url("/metrics")).send().await.unwrap().status(), 404);
    server.stop().await;
}

#[tokio::test]
async fn token_grants_and_refusals_are_logged_at_every_server() {
    let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let server = TestServer::start_configured(|c| c.metrics_listen = Some(format!("127.0.0.1:{port}"))).await;
    let client_id = server.register_jwt_app(&[rsa_key()], &["okta.users.read"]).await;
    let claims = assertion_claims(&client_id, &server.issuer_url("/oauth2/v1/token"));
    let jti = claims["jti"].as_str().unwrap().to_string();
    let (status, body) = server.token_with(&sign(rsa_key(), &claims), "okta.users.read okta.apps.read").await;
    assert_eq!(status, 200, "{body}");
    // The same assertion again: refused as a replay.
    let (status, refused) = server.token_with(&sign(rsa_key(), &claims), "okta.users.read").await;
    assert_eq!(status, 401, "{refused}");

    let until = enc(&until_soon());
    let q = format!("?until={until}&filter={}", enc(r#"eventType sw "app.oauth2.token.grant""#));
    let events = wait_for(&server, &q, 2).await;
    let granted = events.iter().find(|e| e["eventType"] == "app.oauth2.token.grant.access_token").unwrap();
    assert_eq!(granted["actor"]["id"], client_id.as_str());
    assert_eq!(granted["actor"]["displayName"], "test service");
    let debug = &granted["debugContext"]["debugData"];
    assert_eq!(debug["grantType"], "client_credentials");
    assert_eq!(debug["requestedScopes"], "okta.users.read okta.apps.read");
    assert_eq!(debug["grantedScopes"], "okta.users.read");
    assert_eq!(debug["clientAuthMethod"], "private_key_jwt");
    assert_eq!(debug["assertionJti"], jti.as_str());
    let token_jti = payload(body["access_token"].as_str().unwrap())["jti"].as_str().unwrap().to_string();
    assert!(
        granted["target"]
            .as_array()
            .unwrap()
            .iter()
            .any(|t| t["id"] == token_jti.as_str() && t["type"] == "access_token")
    );
    let failed = events.iter().find(|e| e["eventType"] == "app.oauth2.token.grant").unwrap();
    assert_eq!(failed["outcome"]["result"], "FAILURE");
    assert_eq!(failed["outcome"]["reason"], refused["error_description"]);
    assert_eq!(failed["actor"]["id"], client_id.as_str(), "a refusal names the client it claimed to be");
    assert!(
        !events.iter().any(|e| e.to_string().contains(body["access_token"].as_str().unwrap())),
        "no token in the log"
    );

    // A custom server's grant has the `.as.` type; revocation is logged.
    let (cid, secret) = server.register_secret_app().await;
    server.create_scope("default", "api.read").await;
    let r = server
        .http
        .post(server.url("/oauth2/default/v1/token"))
        .basic_auth(&cid, Some(&secret))
        .form(&[("grant_type", "client_credentials"), ("scope", "api.read")])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    let token: Value = r.json().await.unwrap();
    let r = server
        .http
        .post(server.url("/oauth2/default/v1/revoke"))
        .basic_auth(&cid, Some(&secret))
        .form(&[("token", token["access_token"].as_str().unwrap())])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    let q = format!("?until={until}&filter={}", enc(&format!(r#"actor.id eq "{cid}""#)));
    let events = wait_for(&server, &q, 2).await;
    let types: Vec<&str> = events.iter().map(|e| e["eventType"].as_str().unwrap()).collect();
    assert!(types.contains(&"app.oauth2.as.token.grant.access_token"), "{types:?}");
    assert!(types.contains(&"app.oauth2.as.token.revoke"), "{types:?}");
    let grant = events.iter().find(|e| e["eventType"] == "app.oauth2.as.token.grant.access_token").unwrap();
    assert_eq!(grant["debugContext"]["debugData"]["clientAuthMethod"], "client_secret_basic");
    assert!(!events.iter().any(|e| e.to_string().contains(&secret)), "no secret in the log");

    // The token outcome counters.
    let text = reqwest::get(format!("http://127.0.0.1:{port}/metrics")).await.unwrap().text().await.unwrap();
    assert!(
        text.contains(
            r#"tollgate_token_requests_total{server="org",auth_method="private_key_jwt",result="success",error=""} 1"#
        ),
        "{text}"
    );
    assert!(text.contains(r#"tollgate_token_requests_total{server="default",auth_method="client_secret_basic",result="success",error=""} 1"#), "{text}");
    assert!(text.contains(r#"tollgate_token_requests_total{server="org",auth_method="private_key_jwt",result="failure",error="invalid_client"} 1"#), "{text}");
    server.stop().await;
}
