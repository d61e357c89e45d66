//! `/api/v1/users` beyond list/get/create: `q`, `search`/`filter`, profile updates, lifecycle, delete.
use crate::harness::*;
use reqwest::Method;
use serde_json::{Value, json};

async fn create(server: &TestServer, first: &str, last: &str, login: &str) -> String {
    let (status, body) = server
        .admin_post(
            "/api/v1/users",
            &json!({"profile": {"firstName": first, "lastName": last, "email": login, "login": login}}),
        )
        .await;
    assert_eq!(status, 200, "{body}");
    body["id"].as_str().unwrap().to_string()
}

fn ids(list: &Value) -> Vec<String> {
    list.as_array().unwrap().iter().map(|u| u["id"].as_str().unwrap().to_string()).collect()
}

#[tokio::test]
async fn search_filter_q_and_paging() {
    let server = TestServer::start().await;
    let mut all = Vec::new();
    for i in 0..7 {
        let (first, last) = if i < 3 { ("Ada", "Lovelace") } else { ("Grace", "Hopper") };
        all.push(create(&server, first, &format!("{last}{i}"), &format!("user{i}@example.com")).await);
    }
    // Paging follows the next link and sees everyone exactly once.
    let mut seen = Vec::new();
    let mut url = "/api/v1/users?limit=3".to_string();
    loop {
        let (status, headers, page) = server.call(Method::GET, &url, None, Auth::Ssws).await;
        assert_eq!(status, 200);
        seen.extend(ids(&page));
        match next_link(&headers) {
            Some(n) => url = n,
            None => break,
        }
    }
    all.sort();
    assert_eq!(seen, all);
    let (_, q) = server.admin_get("/api/v1/users?q=ada").await;
    assert_eq!(q.as_array().unwrap().len(), 3);
    let (_, q) = server.admin_get("/api/v1/users?q=hopper").await;
    assert_eq!(q.as_array().unwrap().len(), 4);
    let (_, s) = server.admin_get("/api/v1/users?search=profile.login%20eq%20%22user4%40example.com%22").await;
    assert_eq!(ids(&s), vec![all.iter().find(|id| s[0]["id"] == id.as_str()).unwrap().clone()]);
    assert_eq!(s[0]["profile"]["login"], "user4@example.com");
    // Deactivate one: the plain list omits it, a status search finds it.
    let victim = s[0]["id"].as_str().unwrap().to_string();
    let (status, _) = server.admin_post(&format!("/api/v1/users/{victim}/lifecycle/deactivate"), &json!({})).await;
    assert_eq!(status, 200);
    let (_, plain) = server.admin_get("/api/v1/users").await;
    assert_eq!(plain.as_array().unwrap().len(), 6);
    let (_, dep) = server.admin_get("/api/v1/users?filter=status%20eq%20%22DEPROVISIONED%22").await;
    assert_eq!(ids(&dep), vec![victim.clone()]);
    let (_, both) = server
        .admin_get("/api/v1/users?search=status%20eq%20%22ACTIVE%22%20and%20profile.email%20sw%20%22user1%22")
        .await;
    assert_eq!(both.as_array().unwrap().len(), 1);
    for bad in [
        "status%20gt%20%22ACTIVE%22",
        "lastUpdated%20eq%20%22x%22",
        "status%20eq%20ACTIVE",
        "status%20eq%20%22A%22%20or%20id%20eq%20%22b%22",
    ] {
        let (status, err) = server.admin_get(&format!("/api/v1/users?search={bad}")).await;
        assert_eq!(status, 400, "{bad}");
        assert_eq!(err["errorCode"], "E0000031");
        assert_eq!(err["errorSummary"], "Invalid search criteria.");
    }
    server.stop().await;
}

#[tokio::test]
async fn updates_lifecycle_and_delete() {
    let server = TestServer::start().await;
    let id = create(&server, "Ada", "L", "ada@example.com").await;
    let other = create(&server, "Bob", "B", "bob@example.com").await;
    // Partial update (POST) keeps other fields; full update (PUT) replaces the profile.
    let (status, u) =
        server.admin_post(&format!("/api/v1/users/{id}"), &json!({"profile": {"mobilePhone": "555"}})).await;
    assert_eq!(status, 200, "{u}");
    assert_eq!((u["profile"]["mobilePhone"].as_str(), u["profile"]["firstName"].as_str()), (Some("555"), Some("Ada")));
    let (status, u) = server
        .admin_put(
            &format!("/api/v1/users/{id}"),
            &json!({"profile": {"login": "ada2@example.com", "email": "ada2@example.com"}}),
        )
        .await;
    assert_eq!(status, 200, "{u}");
    assert_eq!(u["profile"]["firstName"], Value::Null);
    assert_eq!(u["profile"]["login"], "ada2@example.com");
    // Validation: duplicate login, bad email, missing login.
    let (status, err) =
        server.admin_post(&format!("/api/v1/users/{id}"), &json!({"profile": {"login": "bob@example.com"}})).await;
    assert_eq!((status, err["errorCode"].as_str().unwrap()), (400, "E0000001"));
    assert_eq!(
        err["errorCauses"][0]["errorSummary"],
        "login: An object with this field already exists in the current organization"
    );
    let (status, err) = server.admin_post(&format!("/api/v1/users/{id}"), &json!({"profile": {"email": "nope"}})).await;
    assert_eq!(status, 400);
    assert_eq!(err["errorCauses"][0]["errorSummary"], "email: Does not match required pattern");
    let (status, err) = server.admin_put(&format!("/api/v1/users/{id}"), &json!({"profile": {"firstName": "x"}})).await;
    assert_eq!(status, 400);
    assert_eq!(err["errorCauses"][0]["errorSummary"], "login: The field cannot be left blank");
    let (status, err) = server.admin_post("/api/v1/users/00unope", &json!({"profile": {}})).await;
    assert_eq!((status, err["errorSummary"].as_str().unwrap()), (404, "Not found: Resource not found: 00unope (User)"));

    // Lifecycle.
    let life = |op: &str| format!("/api/v1/users/{id}/lifecycle/{op}");
    let (status, err) = server.admin_post(&life("activate"), &json!({})).await;
    assert_eq!((status, err["errorCode"].as_str().unwrap()), (403, "E0000016"));
    let (status, err) = server.admin_post(&life("unsuspend"), &json!({})).await;
    assert_eq!((status, err["errorCode"].as_str().unwrap()), (400, "E0000001"));
    assert_eq!(server.admin_post(&life("suspend"), &json!({})).await.0, 200);
    assert_eq!(server.admin_get(&format!("/api/v1/users/{id}")).await.1["status"], "SUSPENDED");
    assert_eq!(server.admin_post(&life("suspend"), &json!({})).await.0, 400);
    assert_eq!(server.admin_post(&life("unsuspend"), &json!({})).await.0, 200);
    assert_eq!(server.admin_get(&format!("/api/v1/users/{id}")).await.1["status"], "ACTIVE");
    assert_eq!(server.admin_post(&life("explode"), &json!({})).await.0, 404);

    // Delete: an active user is deactivated first, a deprovisioned one is removed.
    let (status, _) = server.admin_delete(&format!("/api/v1/users/{other}")).await;
    assert_eq!(status, 204);
    let (status, u) = server.admin_get(&format!("/api/v1/users/{other}")).await;
    assert_eq!((status, u["status"].as_str().unwrap()), (200, "DEPROVISIONED"));
    assert_eq!(server.admin_post(&format!("/api/v1/users/{other}/lifecycle/activate"), &json!({})).await.0, 200);
    assert_eq!(server.admin_get(&format!("/api/v1/users/{other}")).await.1["status"], "ACTIVE");
    server.admin_delete(&format!("/api/v1/users/{other}")).await;
    let (status, _) = server.admin_delete(&format!("/api/v1/users/{other}")).await;
    assert_eq!(status, 204);
    assert_eq!(server.admin_get(&format!("/api/v1/users/{other}")).await.0, 404);

    // Scopes: read cannot change; manage can. State survives a restart.
    let read = server.org_access_token(&["okta.users.read"]).await;
    let manage = server.org_access_token(&["okta.users.manage"]).await;
    let body = json!({"profile": {"nickName": "A"}});
    assert_eq!(
        server.call(Method::POST, &format!("/api/v1/users/{id}"), Some(&body), Auth::Bearer(&read)).await.0,
        403
    );
    assert_eq!(
        server.call(Method::POST, &format!("/api/v1/users/{id}"), Some(&body), Auth::Bearer(&manage)).await.0,
        200
    );
    let dir = server.stop().await;
    let server = TestServer::start_in(dir).await;
    let (_, u) = server.admin_get(&format!("/api/v1/users/{id}")).await;
    assert_eq!(
        (u["profile"]["nickName"].as_str(), u["profile"]["login"].as_str()),
        (Some("A"), Some("ada2@example.com"))
    );
    server.stop().await;
}
