//! The Admin Console's session and request rules, over real HTTP: sign-in (API token, argon2id admin
//! user) and its System Log events, the cookie's attributes, sessions in the database (another node
//! honours them; sign-out ends them), CSRF (synchronizer token and Origin), the strict CSP, and that a
//! read-only admin is offered no change and refused one anyway.
use crate::harness::*;
use reqwest::header::{COOKIE, HeaderMap, LOCATION, ORIGIN, SET_COOKIE};
use serde_json::{Value, json};

fn browser() -> reqwest::Client {
    reqwest::Client::builder().redirect(reqwest::redirect::Policy::none()).build().unwrap()
}

fn session_cookie(headers: &HeaderMap) -> String {
    let set = headers.get(SET_COOKIE).expect("a Set-Cookie").to_str().unwrap();
    set.split(';').next().unwrap().to_string()
}

/// The CSRF token in a console page's forms.
fn csrf_of(html: &str) -> String {
    let at = html.find("name=\"csrf\" value=\"").expect("a CSRF field") + "name=\"csrf\" value=\"".len();
    html[at..].split('"').next().unwrap().to_string()
}

async fn sign_in(server: &TestServer, form: &[(&str, &str)]) -> reqwest::Response {
    browser().post(server.url("/admin/signin")).header(ORIGIN, &server.base).form(form).send().await.unwrap()
}

/// Signs in with an API token; the session cookie and a CSRF token.
async fn signed_in(server: &TestServer, token: &str) -> (String, String) {
    let r = sign_in(server, &[("method", "token"), ("token", token)]).await;
    assert_eq!(r.status(), 303);
    let cookie = session_cookie(r.headers());
    let page = get(server, &cookie, "/admin/apps").await;
    assert_eq!(page.0, 200, "{}", page.1);
    (cookie, csrf_of(&page.1))
}

async fn get(server: &TestServer, cookie: &str, path: &str) -> (u16, String) {
    let r = browser().get(server.url(path)).header(COOKIE, cookie).send().await.unwrap();
    (r.status().as_u16(), r.text().await.unwrap())
}

async fn post(
    server: &TestServer,
    cookie: &str,
    origin: Option<&str>,
    path: &str,
    form: &[(&str, &str)],
) -> reqwest::Response {
    let mut req = browser().post(server.url(path)).header(COOKIE, cookie).form(form);
    if let Some(o) = origin {
        req = req.header(ORIGIN, o);
    }
    req.send().await.unwrap()
}

async fn events(server: &TestServer, filter: &str, n: usize) -> Vec<Value> {
    let until = time::OffsetDateTime::from_unix_timestamp(now() + 60)
        .unwrap()
        .format(&time::format_description::well_known::Rfc3339)
        .unwrap();
    let q: String = form_urlencoded::byte_serialize(filter.as_bytes()).collect();
    for _ in 0..50 {
        let (status, body) = server.admin_get(&format!("/api/v1/logs?until={until}&filter={q}")).await;
        assert_eq!(status, 200, "{body}");
        let list = body.as_array().cloned().unwrap_or_default();
        if list.len() >= n {
            return list;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    panic!("fewer than {n} events for {filter}");
}

async fn app_labels(server: &TestServer) -> Vec<String> {
    let (_, apps) = server.admin_get("/api/v1/apps").await;
    apps.as_array().unwrap().iter().map(|a| a["label"].as_str().unwrap().to_string()).collect()
}

#[tokio::test]
async fn pages_need_a_session_and_carry_a_strict_csp() {
    let server = TestServer::start().await;
    let r = browser().get(server.url("/admin/apps")).send().await.unwrap();
    assert_eq!(r.status(), 303);
    assert_eq!(r.headers()[LOCATION], "/admin/signin");
    // A state change without a session is refused outright, not redirected.
    let r = browser()
        .post(server.url("/admin/apps"))
        .header(ORIGIN, &server.base)
        .form(&[("label", "x")])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 401);
    let r = browser().get(server.url("/admin/signin")).send().await.unwrap();
    assert_eq!(r.status(), 200);
    let csp = r.headers()["content-security-policy"].to_str().unwrap().to_string();
    assert!(csp.starts_with("default-src 'self'"), "{csp}");
    assert!(!csp.contains("unsafe-inline") && !csp.contains("unsafe-eval"), "{csp}");
    assert!(csp.contains("frame-ancestors 'none'"), "{csp}");
    assert_eq!(r.headers()["x-frame-options"], "DENY");
    assert_eq!(r.headers()["cache-control"], "no-store");
    let html = r.text().await.unwrap();
    // No inline script or style for the CSP to forbid.
    assert!(!html.contains("<script>") && !html.contains("style="), "{html}");
    // The assets are compiled in and served from this origin.
    let css = browser().get(server.url("/admin/assets/console.css")).send().await.unwrap();
    assert_eq!(
        (css.status().as_u16(), css.headers()["content-type"].to_str().unwrap()),
        (200, "text/css; charset=utf-8")
    );
    let js = browser().get(server.url("/admin/assets/console.js")).send().await.unwrap();
    assert_eq!(js.status(), 200);
}

#[tokio::test]
async fn token_sign_in_sets_a_strict_cookie_and_is_logged() {
    let server = TestServer::start().await;
    let bad = sign_in(&server, &[("method", "token"), ("token", "not-a-token")]).await;
    assert_eq!(bad.status(), 401);
    assert!(bad.headers().get(SET_COOKIE).is_none());
    let ok = sign_in(&server, &[("method", "token"), ("token", ADMIN)]).await;
    assert_eq!(ok.status(), 303);
    assert_eq!(ok.headers()[LOCATION], "/admin/apps");
    let set = ok.headers()[SET_COOKIE].to_str().unwrap().to_string();
    for attr in ["HttpOnly", "SameSite=Strict", "Path=/admin", "Max-Age=28800"] {
        assert!(set.contains(attr), "{attr} in {set}");
    }
    assert!(!set.contains("Secure"), "plain http: no Secure ({set})");
    // Nothing secret in the URL it sends the browser to.
    assert!(!ok.headers()[LOCATION].to_str().unwrap().contains(ADMIN));
    let cookie = session_cookie(ok.headers());
    let (status, html) = get(&server, &cookie, "/admin/apps").await;
    assert_eq!(status, 200);
    assert!(html.contains("<h1>Applications</h1>") && html.contains("Create App Integration"), "{html}");
    let failed = events(&server, "eventType eq \"user.session.start\" and outcome.result eq \"FAILURE\"", 1).await;
    assert_eq!(failed[0]["outcome"]["reason"], "INVALID_CREDENTIALS");
    let started = events(&server, "eventType eq \"user.session.start\" and outcome.result eq \"SUCCESS\"", 1).await;
    assert_eq!(started[0]["actor"]["type"], "ApiToken");
    // The log holds no credential.
    let (_, all) = server.admin_get("/api/v1/logs?limit=1000").await;
    assert!(!all.to_string().contains(ADMIN));
}

#[tokio::test]
async fn sessions_are_stored_hashed_shared_by_nodes_and_end_at_sign_out() {
    let dir = std::sync::Arc::new(tempfile::tempdir().unwrap());
    let a = TestServer::start_in(dir.clone()).await;
    let b = TestServer::start_in(dir.clone()).await;
    let (cookie, csrf) = signed_in(&a, ADMIN).await;
    // The other node reads the same session from the database.
    assert_eq!(get(&b, &cookie, "/admin/apps").await.0, 200);
    // Only the id's SHA-256 is stored.
    let id = cookie.split_once('=').unwrap().1.to_string();
    let store = tollgate_store::open(&a.database_url()).await.unwrap();
    let digest = aws_lc_rs::digest::digest(&aws_lc_rs::digest::SHA256, id.as_bytes());
    assert!(store.console_session(digest.as_ref(), 0).await.unwrap().is_some());
    assert!(store.console_session(id.as_bytes(), 0).await.unwrap().is_none());
    // Sign out without the CSRF token: refused, still signed in.
    let r = post(&b, &cookie, Some(&b.base), "/admin/signout", &[]).await;
    assert_eq!(r.status(), 403);
    let r = post(&b, &cookie, Some(&b.base), "/admin/signout", &[("csrf", &csrf)]).await;
    assert_eq!(r.status(), 303);
    assert!(r.headers()[SET_COOKIE].to_str().unwrap().contains("Max-Age=0"));
    for node in [&a, &b] {
        let r = browser().get(node.url("/admin/apps")).header(COOKIE, &cookie).send().await.unwrap();
        assert_eq!((r.status().as_u16(), r.headers()[LOCATION].to_str().unwrap()), (303, "/admin/signin"));
    }
    events(&a, "eventType eq \"user.session.end\"", 1).await;
    b.stop().await;
    a.stop().await;
}

#[tokio::test]
async fn every_change_needs_the_session_csrf_token_and_this_origin() {
    let server = TestServer::start().await;
    let (cookie, csrf) = signed_in(&server, ADMIN).await;
    let base = server.base.clone();
    // No token, a wrong one, another session's: refused.
    let (_, other_csrf) = signed_in(&server, ADMIN).await;
    for form in [
        vec![("label", "a")],
        vec![("label", "a"), ("csrf", "forged")],
        vec![("label", "a"), ("csrf", other_csrf.as_str())],
    ] {
        let r = post(&server, &cookie, Some(&base), "/admin/apps", &form).await;
        assert_eq!(r.status(), 403, "{form:?}");
    }
    // The right token from another site, or with no origin at all: refused.
    for origin in [Some("https://evil.example"), Some("null"), None] {
        let r = post(&server, &cookie, origin, "/admin/apps", &[("label", "a"), ("csrf", &csrf)]).await;
        assert_eq!(r.status(), 403, "{origin:?}");
    }
    assert!(app_labels(&server).await.is_empty());
    // Token and origin: done, through the management API (so the System Log names the change).
    let r = post(&server, &cookie, Some(&base), "/admin/apps", &[("label", "From the console"), ("csrf", &csrf)]).await;
    assert_eq!(r.status(), 200);
    let html = r.text().await.unwrap();
    assert!(html.contains("Client secret") && html.contains("not shown again"), "{html}");
    assert_eq!(app_labels(&server).await, vec!["From the console".to_string()]);
    let created = events(&server, "eventType eq \"application.lifecycle.create\"", 1).await;
    assert_eq!(created[0]["actor"]["type"], "ApiToken");
    // A sign-in form posted from another site is refused too.
    let r = browser()
        .post(server.url("/admin/signin"))
        .header(ORIGIN, "https://evil.example")
        .form(&[("method", "token"), ("token", ADMIN)])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 403);
}

#[tokio::test]
async fn admin_users_sign_in_with_an_argon2id_password() {
    let server = TestServer::start().await;
    let url = server.database_url();
    let made = tollgate_server::console::create_admin_user_at(
        &url,
        "ops@example.com",
        "correct horse battery",
        "SUPER_ADMIN",
        false,
    )
    .await
    .unwrap();
    assert!(made);
    // Again: kept, not replaced; a short password or unknown role is refused.
    assert!(
        !tollgate_server::console::create_admin_user_at(
            &url,
            "ops@example.com",
            "another long one!",
            "SUPER_ADMIN",
            false
        )
        .await
        .unwrap()
    );
    assert!(tollgate_server::console::create_admin_user_at(&url, "x", "short", "SUPER_ADMIN", false).await.is_err());
    assert!(
        tollgate_server::console::create_admin_user_at(&url, "x", "long enough password", "GOD", false).await.is_err()
    );
    let store = tollgate_store::open(&url).await.unwrap();
    let user = store.admin_user("ops@example.com").await.unwrap().unwrap();
    assert!(user.password_hash.starts_with("$argon2id$"), "{}", user.password_hash);
    assert!(!user.password_hash.contains("correct horse"));

    let wrong =
        sign_in(&server, &[("method", "password"), ("login", "ops@example.com"), ("password", "wrong password here")])
            .await;
    assert_eq!(wrong.status(), 401);
    let unknown =
        sign_in(&server, &[("method", "password"), ("login", "nobody"), ("password", "correct horse battery")]).await;
    assert_eq!(unknown.status(), 401);
    let ok = sign_in(
        &server,
        &[("method", "password"), ("login", "ops@example.com"), ("password", "correct horse battery")],
    )
    .await;
    assert_eq!(ok.status(), 303);
    let cookie = session_cookie(ok.headers());
    let (status, html) = get(&server, &cookie, "/admin/apps").await;
    assert_eq!(status, 200);
    assert!(html.contains("ops@example.com") && html.contains("Super Administrator"), "{html}");
    let started = events(&server, "eventType eq \"user.session.start\" and actor.type eq \"User\"", 3).await;
    let outcomes: Vec<&str> = started.iter().map(|e| e["outcome"]["result"].as_str().unwrap()).collect();
    assert_eq!(outcomes.iter().filter(|o| **o == "FAILURE").count(), 2, "{outcomes:?}");
    assert!(outcomes.contains(&"SUCCESS"));
    // A new password signs the old sessions out.
    tollgate_server::console::create_admin_user_at(
        &url,
        "ops@example.com",
        "a brand new password",
        "SUPER_ADMIN",
        true,
    )
    .await
    .unwrap();
    assert_eq!(get(&server, &cookie, "/admin/apps").await.0, 303);
}

#[tokio::test]
async fn a_read_only_admin_is_offered_no_change_and_refused_one() {
    let server = TestServer::start().await;
    let client_id = server.register_jwt_app(&[rsa_key()], &["okta.users.read"]).await;
    let (status, body) =
        server.admin_post("/api/v1/api-tokens", &json!({ "name": "auditor", "role": "READ_ONLY_ADMIN" })).await;
    assert_eq!(status, 201, "{body}");
    let token = body["token"].as_str().unwrap().to_string();
    let (cookie, csrf) = signed_in(&server, &token).await;
    let (_, list) = get(&server, &cookie, "/admin/apps").await;
    assert!(list.contains(&client_id) && !list.contains("Create App Integration"), "{list}");
    let (_, app) = get(&server, &cookie, &format!("/admin/apps/{client_id}")).await;
    for button in ["Edit", "Add key", "Deactivate", "Delete", "Generate new secret"] {
        assert!(!app.contains(&format!(">{button}<")), "{button} offered to a read-only admin: {app}");
    }
    let (_, scopes) = get(&server, &cookie, &format!("/admin/apps/{client_id}/scopes")).await;
    assert!(scopes.contains("okta.users.read") && !scopes.contains(">Grant<") && !scopes.contains(">Revoke<"));
    // The server refuses anyway, with the API's answer.
    let r = post(&server, &cookie, Some(&server.base), "/admin/apps", &[("label", "sneaky"), ("csrf", &csrf)]).await;
    assert_eq!(r.status(), 400);
    assert!(r.text().await.unwrap().contains("You do not have permission"));
    let r = post(
        &server,
        &cookie,
        Some(&server.base),
        &format!("/admin/apps/{client_id}/scopes/grant"),
        &[("scope", "okta.apps.read"), ("csrf", &csrf)],
    )
    .await;
    assert_eq!(r.status(), 303);
    assert!(r.headers()[LOCATION].to_str().unwrap().contains("error="));
    assert_eq!(app_labels(&server).await.len(), 1);
    let (_, grants) = server.admin_get(&format!("/api/v1/apps/{client_id}/grants")).await;
    assert_eq!(grants.as_array().unwrap().len(), 1);
    let denied = events(&server, "outcome.result eq \"DENY\"", 2).await;
    assert!(denied.iter().all(|e| e["actor"]["type"] == "ApiToken"));
}
