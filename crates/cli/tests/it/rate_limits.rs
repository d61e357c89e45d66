//! The CLI against a tollgate with tiny rate limits (two-second windows): `app create`, `call` and `logs`
//! wait out the 429s as `X-Rate-Limit-Reset` says and succeed (issue 16).
use crate::harness::{ADMIN_TOKEN, Server};
use crate::support::{ok_json, ok_stdout, tollgate};
use std::time::{Duration, Instant};

/// Each app or API token may make one call per two seconds to DCR, the users API and the System Log.
const TINY: &str = "[rate_limits]\nwindow_seconds = 2\ndcr = 2\nusers = 2\nlogs = 2\n";

/// How many `system.rate.limit.violation` events the System Log holds (asked without retries: the logs
/// bucket may refuse, so ask until it answers).
fn violations(server: &Server) -> usize {
    let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
    runtime.block_on(async {
        let url =
            format!("{}/api/v1/logs?filter=eventType%20eq%20%22system.rate.limit.violation%22&limit=100", server.url);
        for _ in 0..10 {
            let response = reqwest::Client::new()
                .get(&url)
                .header("Authorization", format!("SSWS {ADMIN_TOKEN}"))
                .send()
                .await
                .unwrap();
            if response.status() == 429 {
                tokio::time::sleep(Duration::from_secs(1)).await;
                continue;
            }
            assert_eq!(response.status(), 200);
            let events: serde_json::Value = response.json().await.unwrap();
            return events.as_array().unwrap().len();
        }
        panic!("the System Log kept answering 429");
    })
}

#[test]
fn app_create_call_and_logs_wait_out_rate_limits() {
    let server = Server::start_with_config(Some(TINY));
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let env = format!("OKTA_URL={}\nAPI_KEY={ADMIN_TOKEN}\nSCOPES=okta.users.read\n", server.url);
    std::fs::write(d.join(".env"), env).unwrap();
    ok_stdout(tollgate(d).args(["keygen", "--env"]));

    // Two registrations in a row: the second meets DCR's limit (one per window for this API token) and
    // is repeated after the reset.
    let start = Instant::now();
    let first = ok_json(tollgate(d).args(["app", "create", "--env"]));
    let second = ok_json(tollgate(d).args(["app", "create", "--env"]));
    assert_ne!(first["registration"]["client_id"], second["registration"]["client_id"]);
    // `app create --env` wrote the second app's client id: calls below use it.

    // Three calls in a row to the users API: one per window for the app, so two of them wait.
    for _ in 0..3 {
        let users = ok_stdout(tollgate(d).args(["call", "GET", "/api/v1/users"]));
        assert!(serde_json::from_str::<serde_json::Value>(&users).unwrap().is_array(), "{users}");
    }
    // `logs` pages through the System Log (at least two GETs): the second waits for the window.
    ok_stdout(tollgate(d).args(["logs", "--org", &server.url, "--api-token", ADMIN_TOKEN]));
    let waited = start.elapsed();
    assert!(waited >= Duration::from_secs(3), "the refused calls were waited out, not skipped: {waited:?}");
    assert!(violations(&server) >= 3, "each bucket's first refusal is in the System Log");
}
