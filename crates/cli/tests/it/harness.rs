//! A real `tollgate serve` for tests: the built binary on 127.0.0.1:0 with a temporary SQLite database
//! and a known admin token, ready when it prints its listening line, killed on drop.
use std::io::{BufRead, BufReader, Read};
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::time::Duration;

pub const ADMIN_TOKEN: &str = "test-admin-token-0123456789";
const READY_PREFIX: &str = "tollgate listening on ";
const START_TIMEOUT: Duration = Duration::from_secs(60);

pub struct Server {
    child: Child,
    pub url: String,
    _dir: tempfile::TempDir,
}

impl Server {
    /// Starts the server or panics with what it printed: these tests fail loudly, never skip, when the
    /// server cannot be started.
    pub fn start() -> Server {
        Self::start_with(None, &[])
    }

    /// Starts the server with `toml` as its `--config` file (when given).
    pub fn start_with_config(toml: Option<&str>) -> Server {
        Self::start_with(toml, &[])
    }

    /// Starts the server with `toml` as its `--config` file (when given) and more `serve` arguments (e.g.
    /// `--allow-private-fetch`).
    pub fn start_with(toml: Option<&str>, extra: &[&str]) -> Server {
        let dir = tempfile::tempdir().unwrap();
        let database = format!("sqlite://{}", dir.path().join("tollgate.db").display());
        let binary = assert_cmd::cargo::cargo_bin("tollgate");
        let mut args =
            vec!["serve".to_string(), "--listen".into(), "127.0.0.1:0".into(), "--database".into(), database];
        if let Some(toml) = toml {
            let path = dir.path().join("tollgate.toml");
            std::fs::write(&path, toml).unwrap();
            args.extend(["--config".to_string(), path.display().to_string()]);
        }
        let mut child = Command::new(&binary)
            .args(&args)
            .args(extra)
            .current_dir(dir.path())
            .env("TOLLGATE_ADMIN_TOKEN", ADMIN_TOKEN)
            .env_remove("TOLLGATE_ISSUER")
            .env_remove("TOLLGATE_LISTEN")
            .env_remove("TOLLGATE_DATABASE_URL")
            .env_remove("TOLLGATE_CONFIG")
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap_or_else(|e| panic!("cannot spawn {}: {e}", binary.display()));
        let stdout = child.stdout.take().unwrap();
        let mut stderr = child.stderr.take().unwrap();
        let (ready_tx, ready_rx) = mpsc::channel();
        std::thread::spawn(move || {
            let mut lines = BufReader::new(stdout).lines();
            for line in lines.by_ref() {
                let Ok(line) = line else { break };
                if let Some(url) = line.strip_prefix(READY_PREFIX) {
                    let _ = ready_tx.send(url.trim().to_owned());
                    break;
                }
            }
            // keep draining so the server never blocks on a full pipe
            for _ in lines {}
        });
        let (stderr_tx, stderr_rx) = mpsc::channel();
        std::thread::spawn(move || {
            let mut text = String::new();
            let _ = stderr.read_to_string(&mut text);
            let _ = stderr_tx.send(text);
        });
        match ready_rx.recv_timeout(START_TIMEOUT) {
            Ok(url) => Server { child, url, _dir: dir },
            Err(_) => {
                let _ = child.kill();
                let status = child.wait().ok();
                let stderr = stderr_rx.recv_timeout(Duration::from_secs(5)).unwrap_or_default();
                panic!(
                    "`tollgate serve` did not print \"{READY_PREFIX}...\" within {START_TIMEOUT:?} (exit: {status:?}).\n\
                     These tests need the real server (crates/server); its stderr was:\n{stderr}"
                );
            }
        }
    }

    /// POSTs JSON to the management API with the admin token; returns (status, body).
    pub fn admin_post(&self, path: &str, body: serde_json::Value) -> (u16, serde_json::Value) {
        let url = format!("{}{path}", self.url);
        let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
        runtime.block_on(async move {
            let response = reqwest::Client::new()
                .post(&url)
                .header("Authorization", format!("SSWS {ADMIN_TOKEN}"))
                .json(&body)
                .send()
                .await
                .unwrap();
            let status = response.status().as_u16();
            let body = response.json().await.unwrap_or(serde_json::Value::Null);
            (status, body)
        })
    }
}

impl Server {
    /// GETs a management API path with the admin token; returns (status, body).
    pub fn admin_get(&self, path: &str) -> (u16, serde_json::Value) {
        let url = format!("{}{path}", self.url);
        let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
        runtime.block_on(async move {
            let response = reqwest::Client::new()
                .get(&url)
                .header("Authorization", format!("SSWS {ADMIN_TOKEN}"))
                .send()
                .await
                .unwrap();
            let status = response.status().as_u16();
            (status, response.json().await.unwrap_or(serde_json::Value::Null))
        })
    }

    /// How many access tokens the server has granted, by its System Log: read until it stops changing
    /// (its writer flushes in batches, a little later under load).
    pub fn tokens_granted(&self) -> usize {
        let count = || {
            let (status, events) = self.admin_get("/api/v1/logs?since=2020-01-01T00:00:00.000Z&limit=1000");
            assert_eq!(status, 200, "{events}");
            let events = events.as_array().unwrap().clone();
            let granted = events
                .iter()
                .filter(|e| e["eventType"].as_str().is_some_and(|t| t.ends_with("token.grant.access_token")))
                .count();
            // Our own reads are logged too: their count tells us the writer has caught up to this read.
            (granted, events.len())
        };
        let mut last = count();
        for _ in 0..20 {
            std::thread::sleep(Duration::from_millis(500));
            let now = count();
            if now.0 == last.0 && now.1 > last.1 {
                return now.0;
            }
            last = now;
        }
        last.0
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
