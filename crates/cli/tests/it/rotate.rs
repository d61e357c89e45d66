//! `tollgate app rotate-key` / `rotate-secret` end to end against a real `tollgate serve`: the plan of
//! `--dry-run` changes nothing; a failure midway (the new key cannot get a token) removes the new key and
//! leaves the old one active and `.env` untouched; a rotation switches `.env`, the new key works, the old
//! one is deactivated and refused; `tollgate app keys` shows when each key was last used.
use std::path::Path;

use crate::harness::{ADMIN_TOKEN, Server};
use crate::support::{fails_with, ok_json, ok_stdout, tollgate};

fn env_value(dir: &Path, key: &str) -> Option<String> {
    let text = std::fs::read_to_string(dir.join(".env")).unwrap();
    text.lines().find_map(|l| l.strip_prefix(&format!("{key}="))).map(|v| v.trim_matches('\'').to_owned())
}

fn keys(dir: &Path) -> Vec<serde_json::Value> {
    ok_json(tollgate(dir).args(["app", "keys"]))["keys"].as_array().unwrap().clone()
}

#[test]
fn rotate_key_adds_proves_switches_and_retires_and_a_failure_midway_keeps_the_old_key() {
    let server = Server::start();
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    std::fs::write(d.join(".env"), format!("OKTA_URL={}\nAPI_KEY={ADMIN_TOKEN}\nSCOPES=okta.users.read\n", server.url))
        .unwrap();
    ok_stdout(tollgate(d).args(["keygen", "--env"]));
    ok_stdout(tollgate(d).args(["app", "create", "--env"]));
    ok_stdout(tollgate(d).args(["token", "--no-cache"]));
    let old_private = env_value(d, "PRIVATE_KEY").unwrap();
    let before = keys(d);
    assert_eq!(before.len(), 1);
    let old_id = before[0]["id"].as_str().unwrap().to_owned();

    // The plan only.
    let plan = ok_stdout(tollgate(d).args(["app", "rotate-key", "--dry-run", "--now"]));
    assert!(plan.contains("1. add a new") && plan.contains(&old_id) && plan.contains("at once"), "{plan}");
    assert_eq!(keys(d).len(), 1, "--dry-run changes nothing");

    // A failure midway: the new key is added, but cannot get a token (a scope the app was not granted).
    let err = fails_with(tollgate(d).args(["app", "rotate-key", "--now", "--scopes", "okta.apps.manage"]), 1);
    assert!(err.contains("could not get a token") && err.contains("stays active"), "{err}");
    let after_failure = keys(d);
    assert_eq!(after_failure.len(), 1, "the new key was removed again: {after_failure:?}");
    assert_eq!(
        (after_failure[0]["id"].as_str().unwrap(), after_failure[0]["status"].as_str().unwrap()),
        (old_id.as_str(), "ACTIVE")
    );
    assert_eq!(env_value(d, "PRIVATE_KEY").unwrap(), old_private, ".env untouched");
    ok_stdout(tollgate(d).args(["token", "--no-cache"]));

    // The rotation.
    let done = ok_json(tollgate(d).args(["app", "rotate-key", "--now"]));
    let new_id = done["new_key"]["id"].as_str().unwrap().to_owned();
    let new_kid = done["new_key"]["kid"].as_str().unwrap().to_owned();
    assert_ne!(new_id, old_id);
    assert_ne!(env_value(d, "PRIVATE_KEY").unwrap(), old_private, ".env switched");
    assert_eq!(env_value(d, "KEY_ID").unwrap(), new_kid);
    let listed = keys(d);
    let status_of = |id: &str| listed.iter().find(|k| k["id"] == id).unwrap()["status"].as_str().unwrap().to_owned();
    assert_eq!((status_of(&old_id), status_of(&new_id)), ("INACTIVE".to_owned(), "ACTIVE".to_owned()));
    // The new key (now in .env) gets tokens.
    let token = ok_stdout(tollgate(d).args(["token", "--no-cache"]));
    assert_eq!(token.trim().split('.').count(), 3);
    // The old key is refused now.
    let old_file = d.join("old.jwk");
    std::fs::write(&old_file, &old_private).unwrap();
    let err = fails_with(tollgate(d).args(["token", "--no-cache", "--private-key", old_file.to_str().unwrap()]), 1);
    assert!(err.contains("invalid_client"), "{err}");

    // lastUsed: the new key has authenticated, the old one's last use is from before the rotation.
    let mut new_used = serde_json::Value::Null;
    for _ in 0..50 {
        let listed = keys(d);
        new_used = listed.iter().find(|k| k["id"] == new_id).unwrap()["lastUsed"].clone();
        if new_used.is_string() {
            break;
        }
        std::thread::sleep(std::time::Duration::from_millis(100));
    }
    assert!(new_used.is_string(), "{new_used}");
    let text = ok_stdout(tollgate(d).args(["app", "keys"]));
    assert!(text.contains("LAST USED") && text.contains(&new_id) && text.contains("INACTIVE"), "{text}");
}

#[test]
fn rotate_secret_switches_the_secret_in_dotenv() {
    let server = Server::start();
    let (status, body) =
        server.admin_post("/api/v1/authorizationServers/default/scopes", serde_json::json!({ "name": "api.read" }));
    assert!((200..300).contains(&status), "{body}");
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    std::fs::write(d.join(".env"), format!("OKTA_URL={}\nAPI_KEY={ADMIN_TOKEN}\n", server.url)).unwrap();
    ok_stdout(tollgate(d).args(["app", "create", "--env", "--secret"]));
    let old_secret = env_value(d, "CLIENT_SECRET").unwrap();
    let token = ["token", "--no-cache", "--auth-server", "default", "--scopes", "api.read"];
    ok_stdout(tollgate(d).args(token));

    let plan = ok_stdout(tollgate(d).args([
        "app",
        "rotate-secret",
        "--auth-server",
        "default",
        "--scopes",
        "api.read",
        "--now",
        "--dry-run",
    ]));
    assert!(plan.contains("create a new client secret"), "{plan}");
    let done = ok_json(tollgate(d).args([
        "app",
        "rotate-secret",
        "--auth-server",
        "default",
        "--scopes",
        "api.read",
        "--now",
    ]));
    assert_eq!(done["local"], ".env");
    let new_secret = env_value(d, "CLIENT_SECRET").unwrap();
    assert_ne!(new_secret, old_secret);
    ok_stdout(tollgate(d).args(token));
    let err = fails_with(tollgate(d).args(token).args(["--client-secret", &old_secret]), 1);
    assert!(err.contains("invalid_client"), "{err}");
    let secrets = ok_json(tollgate(d).args(["app", "keys"]))["secrets"].as_array().unwrap().clone();
    let statuses: Vec<&str> = secrets.iter().map(|s| s["status"].as_str().unwrap()).collect();
    assert_eq!(statuses.iter().filter(|s| **s == "ACTIVE").count(), 1, "{secrets:?}");
    assert_eq!(statuses.len(), 2);
}
