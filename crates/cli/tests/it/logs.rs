//! `tollgate logs` against a real `tollgate serve`: a filtered list as JSON, and `--follow` printing an
//! event that happens after it started.
use std::io::{BufRead, BufReader};
use std::process::Stdio;
use std::time::{Duration, Instant};

use crate::harness::{ADMIN_TOKEN, Server};
use crate::support::{fails_with, ok_json, tollgate};

fn register(server: &Server, name: &str) -> String {
    let (status, body) = server.admin_post(
        "/oauth2/v1/clients",
        serde_json::json!({
            "client_name": name,
            "application_type": "service",
            "token_endpoint_auth_method": "client_secret_basic",
        }),
    );
    assert_eq!(status, 201, "{body}");
    body["client_id"].as_str().unwrap().to_string()
}

#[test]
fn logs_lists_filtered_events_as_json() {
    let server = Server::start();
    let dir = tempfile::tempdir().unwrap();
    let client_id = register(&server, "logged");
    let filter = format!(r#"target.id eq "{client_id}""#);
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let events = ok_json(tollgate(dir.path()).args([
            "logs",
            "--org",
            &server.url,
            "--api-token",
            ADMIN_TOKEN,
            "--since",
            "10m",
            "--until",
            "0s",
            "--filter",
            &filter,
        ]));
        let events = events.as_array().unwrap().clone();
        if let Some(e) = events.first() {
            assert_eq!(e["eventType"], "app.oauth2.client.lifecycle.create");
            assert_eq!(events.len(), 1);
            break;
        }
        assert!(Instant::now() < deadline, "no event for {client_id}");
        std::thread::sleep(Duration::from_millis(200));
    }
    // A bad filter is the server's refusal in one line, exit 1.
    let err = fails_with(
        tollgate(dir.path()).args(["logs", "--org", &server.url, "--api-token", ADMIN_TOKEN, "--filter", "nope"]),
        1,
    );
    assert!(err.contains("E0000031"), "{err}");
}

#[test]
fn logs_follow_prints_new_events() {
    let server = Server::start();
    let dir = tempfile::tempdir().unwrap();
    let mut child = std::process::Command::new(assert_cmd::cargo::cargo_bin("tollgate"))
        .current_dir(dir.path())
        .env_remove("API_KEY")
        .env_remove("OKTA_URL")
        .args([
            "logs",
            "--org",
            &server.url,
            "--api-token",
            ADMIN_TOKEN,
            "--follow",
            "--interval",
            "1",
            "--filter",
            r#"eventType eq "app.oauth2.client.lifecycle.create""#,
            "--output",
            "json",
        ])
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    std::thread::sleep(Duration::from_millis(500));
    let client_id = register(&server, "followed");
    let stdout = child.stdout.take().unwrap();
    let (tx, rx) = std::sync::mpsc::channel::<String>();
    std::thread::spawn(move || {
        for line in BufReader::new(stdout).lines().map_while(Result::ok) {
            if tx.send(line).is_err() {
                break;
            }
        }
    });
    let line = rx.recv_timeout(Duration::from_secs(20));
    let _ = child.kill();
    let _ = child.wait();
    let event: serde_json::Value = serde_json::from_str(&line.expect("--follow printed nothing")).unwrap();
    assert!(event["target"].as_array().unwrap().iter().any(|t| t["id"] == client_id.as_str()), "{event}");
}
