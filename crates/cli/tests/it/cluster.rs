//! Several nodes on one PostgreSQL database: two real `tollgate serve` processes on different ports with
//! the same issuer, database and master key. What one node does, the other honours (at once for what the
//! database checks, within one second for what nodes cache); a node killed with SIGKILL loses nothing it
//! acknowledged; scheduled rotation happens once for the cluster; a database that goes away makes nodes
//! answer 503 and they recover by themselves.
//!
//! PostgreSQL comes from `TOLLGATE_TEST_POSTGRES_URL` (default `postgres://postgres@127.0.0.1:5432/postgres`),
//! driven with `psql`. Unreachable: a failure when `CI` is set, otherwise a loud skip.
use serde_json::{Value, json};
use std::io::{BufRead, BufReader, Read, Write};
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};
use tollgate_jose::{Header, KeySpec, PrivateKey, jws};

const ADMIN: &str = "cluster-admin-token-0123456789";
const MASTER_KEY: &str = "Y2x1c3RlciB0ZXN0IG1hc3RlciBrZXksIDMyIGJ5dGU=";
const ISSUER: &str = "https://auth.cluster.test";
const JWT_BEARER: &str = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer";

fn admin_url() -> String {
    std::env::var("TOLLGATE_TEST_POSTGRES_URL")
        .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/postgres".to_string())
}

fn with_database(url: &str, name: &str) -> String {
    let (base, query) = url.split_at(url.find('?').unwrap_or(url.len()));
    let authority = base.find("://").map_or(0, |i| i + 3);
    let base = base[authority..].find('/').map_or(base, |slash| &base[..authority + slash]);
    format!("{base}/{name}{query}")
}

/// Runs SQL with psql against `url`; returns its unaligned, tuples-only output.
fn psql(url: &str, sql: &str) -> Result<String, String> {
    let out = Command::new("psql")
        .arg(url)
        .args(["-X", "-q", "-A", "-t", "-v", "ON_ERROR_STOP=1", "-c", sql])
        .output()
        .map_err(|e| format!("cannot run psql (install postgresql-client): {e}"))?;
    if out.status.success() {
        Ok(String::from_utf8_lossy(&out.stdout).trim().to_string())
    } else {
        Err(format!("psql failed: {}", String::from_utf8_lossy(&out.stderr).trim()))
    }
}

/// A fresh database, dropped (with its connections) at the end.
struct Db {
    name: String,
    url: String,
}

impl Db {
    fn create(label: &str) -> Option<Db> {
        let name = format!("tollgate_cluster_{label}_{}", std::process::id());
        let _ = psql(&admin_url(), &format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"));
        if let Err(e) = psql(&admin_url(), &format!("CREATE DATABASE {name}")) {
            if std::env::var_os("CI").is_some() {
                panic!("PostgreSQL is required in CI for the cluster tests: {e}");
            }
            let _ = writeln!(std::io::stderr(), "\n** SKIPPING cluster test {label}: PostgreSQL unavailable: {e}\n");
            return None;
        }
        Some(Db { url: with_database(&admin_url(), &name), name })
    }

    fn query(&self, sql: &str) -> String {
        psql(&self.url, sql).unwrap_or_else(|e| panic!("{sql}: {e}"))
    }

    fn admin(&self, sql: &str) {
        psql(&admin_url(), sql).unwrap_or_else(|e| panic!("{sql}: {e}"));
    }
}

impl Drop for Db {
    fn drop(&mut self) {
        let _ = psql(&admin_url(), &format!("DROP DATABASE IF EXISTS {} WITH (FORCE)", self.name));
    }
}

/// One `tollgate serve` process, killed on drop.
struct Node {
    child: Child,
    base: String,
    stderr: mpsc::Receiver<String>,
    _dir: tempfile::TempDir,
}

/// Starts a node (without waiting for it to be ready).
fn spawn_node(
    db: &Db,
    extra_config: &str,
) -> (Child, mpsc::Receiver<String>, mpsc::Receiver<String>, tempfile::TempDir) {
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("tollgate.toml");
    std::fs::write(&config, extra_config).unwrap();
    let mut cmd = Command::new(assert_cmd::cargo::cargo_bin("tollgate"));
    cmd.args(["serve", "--listen", "127.0.0.1:0", "--issuer", ISSUER, "--database", &db.url])
        .arg("--config")
        .arg(&config)
        .current_dir(dir.path())
        .env("TOLLGATE_ADMIN_TOKEN", ADMIN)
        .env("TOLLGATE_MASTER_KEY", MASTER_KEY)
        .env("TOLLGATE_LOG", "info,sqlx=warn")
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    for var in ["TOLLGATE_LISTEN", "TOLLGATE_DATABASE_URL", "TOLLGATE_CONFIG", "TOLLGATE_MASTER_KEY_FILE"] {
        cmd.env_remove(var);
    }
    let mut child = cmd.spawn().unwrap();
    let stdout = child.stdout.take().unwrap();
    let mut stderr = child.stderr.take().unwrap();
    let (ready_tx, ready_rx) = mpsc::channel();
    std::thread::spawn(move || {
        let mut lines = BufReader::new(stdout).lines();
        for line in lines.by_ref().map_while(Result::ok) {
            if let Some(url) = line.strip_prefix("tollgate listening on ") {
                let _ = ready_tx.send(url.trim().to_string());
                break;
            }
        }
        for _ in lines {}
    });
    let (err_tx, err_rx) = mpsc::channel();
    std::thread::spawn(move || {
        let mut text = String::new();
        let _ = stderr.read_to_string(&mut text);
        let _ = err_tx.send(text);
    });
    (child, ready_rx, err_rx, dir)
}

fn wait_ready(
    (mut child, ready, stderr, dir): (Child, mpsc::Receiver<String>, mpsc::Receiver<String>, tempfile::TempDir),
) -> Node {
    match ready.recv_timeout(Duration::from_secs(90)) {
        Ok(base) => Node { child, base, stderr, _dir: dir },
        Err(_) => {
            let _ = child.kill();
            let _ = child.wait();
            let text = stderr.recv_timeout(Duration::from_secs(5)).unwrap_or_default();
            panic!("node did not start; stderr:\n{text}");
        }
    }
}

impl Node {
    fn start(db: &Db) -> Node {
        wait_ready(spawn_node(db, ""))
    }

    fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }

    fn kill9(&mut self) {
        let status = Command::new("kill").args(["-KILL", &self.child.id().to_string()]).status().unwrap();
        assert!(status.success());
        let _ = self.child.wait();
    }

    /// Stops the node and returns what it logged.
    fn logs(mut self) -> String {
        let _ = self.child.kill();
        let _ = self.child.wait();
        self.stderr.recv_timeout(Duration::from_secs(5)).unwrap_or_default()
    }
}

impl Drop for Node {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn http() -> reqwest::Client {
    reqwest::Client::builder().timeout(Duration::from_secs(20)).build().unwrap()
}

async fn admin(node: &Node, method: reqwest::Method, path: &str, body: Option<Value>) -> (u16, Value) {
    let mut req = http().request(method, node.url(path)).header("authorization", format!("SSWS {ADMIN}"));
    if let Some(body) = body {
        req = req.json(&body);
    }
    let r = req.send().await.unwrap();
    let status = r.status().as_u16();
    (status, r.json().await.unwrap_or(Value::Null))
}

fn now() -> i64 {
    std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_secs() as i64
}

fn assertion(key: &PrivateKey, client_id: &str, endpoint: &str, jti: &str) -> String {
    let now = now();
    let claims = json!({ "iss": client_id, "sub": client_id, "aud": format!("{ISSUER}/oauth2/v1/{endpoint}"),
                         "iat": now, "exp": now + 300, "jti": jti });
    jws::sign_json(key, &Header::new(key.algorithm()).with_kid(key.kid()), &claims).unwrap()
}

async fn token_with(node: &Node, assertion: &str) -> (u16, Value) {
    let r = http()
        .post(node.url("/oauth2/v1/token"))
        .form(&[
            ("grant_type", "client_credentials"),
            ("scope", "okta.users.read"),
            ("client_assertion_type", JWT_BEARER),
            ("client_assertion", assertion),
        ])
        .send()
        .await
        .unwrap();
    let status = r.status().as_u16();
    (status, r.json().await.unwrap_or(Value::Null))
}

static JTI: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);

fn fresh_jti() -> String {
    format!("jti-{}-{}", now(), JTI.fetch_add(1, std::sync::atomic::Ordering::Relaxed))
}

async fn token(node: &Node, key: &PrivateKey, client_id: &str) -> (u16, Value) {
    token_with(node, &assertion(key, client_id, "token", &fresh_jti())).await
}

/// Polls until the token request is refused; returns how long that took. Fails after `limit`.
async fn refused_within(node: &Node, key: &PrivateKey, client_id: &str, limit: Duration, what: &str) -> Duration {
    let start = Instant::now();
    loop {
        let (status, body) = token(node, key, client_id).await;
        if status == 400 || status == 401 {
            return start.elapsed();
        }
        assert_eq!(status, 200, "{what}: {body}");
        assert!(start.elapsed() < limit, "{what}: still accepted on the other node after {:?}", start.elapsed());
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

fn rsa() -> PrivateKey {
    PrivateKey::generate(KeySpec::Rsa { bits: 2048 }).unwrap()
}

/// Registers a private_key_jwt app with `keys` on `node` and grants it okta.users.read; returns its id.
async fn register(node: &Node, keys: &[&PrivateKey]) -> String {
    let jwks: Vec<Value> = keys.iter().map(|k| serde_json::to_value(k.public_key().to_jwk()).unwrap()).collect();
    let (status, body) = admin(
        node,
        reqwest::Method::POST,
        "/oauth2/v1/clients",
        Some(json!({
            "client_name": "cluster service",
            "application_type": "service",
            "grant_types": ["client_credentials"],
            "token_endpoint_auth_method": "private_key_jwt",
            "jwks": { "keys": jwks },
        })),
    )
    .await;
    assert_eq!(status, 201, "{body}");
    let id = body["client_id"].as_str().unwrap().to_string();
    let (status, body) = admin(
        node,
        reqwest::Method::POST,
        &format!("/api/v1/apps/{id}/grants"),
        Some(json!({ "scopeId": "okta.users.read", "issuer": ISSUER })),
    )
    .await;
    assert_eq!(status, 201, "{body}");
    id
}

async fn introspect(node: &Node, key: &PrivateKey, client_id: &str, token: &str) -> Value {
    let a = assertion(key, client_id, "introspect", &fresh_jti());
    let r = http()
        .post(node.url("/oauth2/v1/introspect"))
        .form(&[("token", token), ("client_assertion_type", JWT_BEARER), ("client_assertion", a.as_str())])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    r.json().await.unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn what_one_node_changes_the_other_honours() {
    let Some(db) = Db::create("shared") else { return };
    // Both start at once on the empty database: one migrates, one set of signing keys is made.
    let (a, b) = (spawn_node(&db, ""), spawn_node(&db, ""));
    let (a, b) = (wait_ready(a), wait_ready(b));
    assert_ne!(a.base, b.base);
    assert_eq!(db.query("SELECT count(*) FROM signing_keys WHERE server_id = 'org' AND status = 'ACTIVE'"), "1");
    let (ka, kb) = (reqwest::get(a.url("/oauth2/v1/keys")).await.unwrap(), reqwest::get(b.url("/oauth2/v1/keys")));
    assert_eq!(ka.text().await.unwrap(), kb.await.unwrap().text().await.unwrap(), "one key set for the cluster");

    // Created on A, usable on B at once (no waiting at all).
    let (k1, k2) = (rsa(), rsa());
    let id = register(&a, &[&k1, &k2]).await;
    let (status, body) = token(&b, &k1, &id).await;
    assert_eq!(status, 200, "an app created on A gets a token from B at once: {body}");
    let access = body["access_token"].as_str().unwrap().to_string();

    // A jti used on A is refused on B.
    let jti = fresh_jti();
    let one = assertion(&k1, &id, "token", &jti);
    assert_eq!(token_with(&a, &one).await.0, 200);
    let (status, body) = token_with(&b, &one).await;
    assert_eq!((status, body["error"].as_str()), (401, Some("invalid_client")), "replay across nodes: {body}");

    // Revoked on A: B's introspection says inactive.
    assert_eq!(introspect(&b, &k1, &id, &access).await["active"], true);
    let a_rev = assertion(&k1, &id, "revoke", &fresh_jti());
    let r = http()
        .post(a.url("/oauth2/v1/revoke"))
        .form(&[("token", access.as_str()), ("client_assertion_type", JWT_BEARER), ("client_assertion", &a_rev)])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    assert_eq!(introspect(&b, &k1, &id, &access).await, json!({"active": false}));

    // A key deactivated on A is refused on B within one second; the other key still works.
    let (_, list) = admin(&a, reqwest::Method::GET, &format!("/api/v1/apps/{id}/credentials/jwks"), None).await;
    let k1_id = list["jwks"]["keys"].as_array().unwrap().iter().find(|k| k["kid"] == k1.kid()).unwrap()["id"]
        .as_str()
        .unwrap()
        .to_string();
    let path = format!("/api/v1/apps/{id}/credentials/jwks/{k1_id}/lifecycle/deactivate");
    let (status, body) = admin(&a, reqwest::Method::POST, &path, Some(json!({}))).await;
    assert_eq!(status, 200, "{body}");
    let took = refused_within(&b, &k1, &id, Duration::from_secs(1), "deactivated key").await;
    eprintln!("deactivated key refused on the other node after {took:?}");
    assert_eq!(token(&b, &k2, &id).await.0, 200);

    // A key added on A to that (cached) app: usable on B within one second.
    let k3 = rsa();
    let mut jwk = serde_json::to_value(k3.public_key().to_jwk()).unwrap();
    jwk["status"] = json!("ACTIVE");
    let (status, body) =
        admin(&a, reqwest::Method::POST, &format!("/api/v1/apps/{id}/credentials/jwks"), Some(jwk)).await;
    assert_eq!(status, 201, "{body}");
    let start = Instant::now();
    loop {
        let (status, body) = token(&b, &k3, &id).await;
        if status == 200 {
            break;
        }
        assert!(
            start.elapsed() < Duration::from_secs(1),
            "new key not usable on B after {:?}: {body}",
            start.elapsed()
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    eprintln!("key added on A usable on B after {:?}", start.elapsed());

    // A grant removed on A: B refuses the scope within one second.
    let (_, grants) = admin(&a, reqwest::Method::GET, &format!("/api/v1/apps/{id}/grants"), None).await;
    let grant_id = grants[0]["id"].as_str().unwrap().to_string();
    let (status, _) = admin(&a, reqwest::Method::DELETE, &format!("/api/v1/apps/{id}/grants/{grant_id}"), None).await;
    assert_eq!(status, 204);
    let took = refused_within(&b, &k2, &id, Duration::from_secs(1), "removed grant").await;
    eprintln!("removed grant refused on the other node after {took:?}");

    // An app deactivated on A: B refuses it within one second.
    let id2 = register(&a, &[&k2]).await;
    assert_eq!(token(&b, &k2, &id2).await.0, 200);
    let (status, _) =
        admin(&a, reqwest::Method::POST, &format!("/api/v1/apps/{id2}/lifecycle/deactivate"), Some(json!({}))).await;
    assert_eq!(status, 200);
    let took = refused_within(&b, &k2, &id2, Duration::from_secs(1), "deactivated app").await;
    eprintln!("deactivated app refused on the other node after {took:?}");
    drop((a, b));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_node_killed_with_sigkill_loses_nothing_and_the_other_keeps_serving() {
    let Some(db) = Db::create("kill") else { return };
    let mut a = Node::start(&db);
    let b = Node::start(&db);
    let key = rsa();
    let id = register(&a, &[&key]).await;
    // Acknowledged by A, then A dies at once: B has it.
    a.kill9();
    let (status, body) = token(&b, &key, &id).await;
    assert_eq!(status, 200, "what A acknowledged survives its SIGKILL: {body}");
    let mut issued = 0;
    let deadline = Instant::now() + Duration::from_secs(2);
    while Instant::now() < deadline {
        let (status, body) = token(&b, &key, &id).await;
        assert_eq!(status, 200, "{body}");
        issued += 1;
    }
    assert!(issued > 0);
    let (status, _) = admin(&b, reqwest::Method::GET, "/api/v1/apps", None).await;
    assert_eq!(status, 200);
    // A restarted on the same database comes back with everything.
    let a = Node::start(&db);
    assert_eq!(token(&a, &key, &id).await.0, 200);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn scheduled_rotation_runs_once_for_the_cluster() {
    let Some(db) = Db::create("rotate") else { return };
    let fast = "maintenance_seconds = 1\n";
    let (a, b) = (wait_ready(spawn_node(&db, fast)), wait_ready(spawn_node(&db, fast)));
    let before = db.query("SELECT kid FROM signing_keys WHERE server_id = 'org' AND status = 'ACTIVE'");
    // Back-date the ACTIVE key by 91 days (the period is 90): both nodes learn it through the change feed,
    // both find it due within a second of each other, one rotates.
    db.query(&format!(
        "UPDATE signing_keys SET activated = activated - 91 * 86400000::bigint, created = created - 91 * 86400000::bigint \
         WHERE kid = '{before}'"
    ));
    let deadline = Instant::now() + Duration::from_secs(15);
    loop {
        let status = db.query(&format!("SELECT status FROM signing_keys WHERE kid = '{before}'"));
        if status == "EXPIRED" {
            break;
        }
        assert!(Instant::now() < deadline, "the due key was not rotated");
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    // Give the slower node its chances to (wrongly) rotate again.
    tokio::time::sleep(Duration::from_secs(3)).await;
    let rows = db.query("SELECT status FROM signing_keys WHERE server_id = 'org' ORDER BY status");
    assert_eq!(rows.lines().collect::<Vec<_>>(), ["ACTIVE", "EXPIRED", "NEXT"], "exactly one rotation");
    let ka = reqwest::get(a.url("/oauth2/v1/keys")).await.unwrap().text().await.unwrap();
    let kb = reqwest::get(b.url("/oauth2/v1/keys")).await.unwrap().text().await.unwrap();
    assert_eq!(ka, kb, "both nodes publish the rotated set");
    let logs = [a.logs(), b.logs()];
    let rotated = logs.iter().map(|l| l.matches("signing keys rotated").count()).sum::<usize>();
    assert_eq!(rotated, 1, "one node rotated: {logs:?}");
    for log in &logs {
        assert!(!log.contains(MASTER_KEY), "the master key never reaches a log");
    }
    // Stored sealed, never in clear.
    assert_eq!(
        db.query("SELECT count(*) FROM signing_keys WHERE substring(private_key from 1 for 5) <> 'TGMK1'::bytea"),
        "0"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_database_outage_gives_503_and_nodes_recover_by_themselves() {
    let Some(db) = Db::create("outage") else { return };
    let node = Node::start(&db);
    let key = rsa();
    let id = register(&node, &[&key]).await;
    assert_eq!(token(&node, &key, &id).await.0, 200);

    // The database goes away: no new connections, existing ones terminated.
    db.admin(&format!("ALTER DATABASE {} WITH ALLOW_CONNECTIONS false", db.name));
    db.admin(&format!("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = '{}'", db.name));
    let start = Instant::now();
    let (status, body) = token(&node, &key, &id).await;
    assert_eq!(status, 503, "{body}");
    assert_eq!(body["error"], "temporarily_unavailable", "Okta's error shape: {body}");
    assert!(start.elapsed() < Duration::from_secs(10), "answers, does not hang: {:?}", start.elapsed());
    let health = reqwest::get(node.url("/healthz")).await.unwrap();
    assert_eq!(health.status(), 503);
    let (status, body) = admin(&node, reqwest::Method::GET, "/api/v1/apps", None).await;
    assert_eq!((status, body["errorCode"].as_str()), (503, Some("E0000010")), "{body}");

    // It comes back: so does the node, without a restart.
    db.admin(&format!("ALTER DATABASE {} WITH ALLOW_CONNECTIONS true", db.name));
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        let (status, body) = token(&node, &key, &id).await;
        if status == 200 {
            break;
        }
        assert!(Instant::now() < deadline, "did not recover: {status} {body}");
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
    assert_eq!(reqwest::get(node.url("/healthz")).await.unwrap().status(), 200);
    // The change feed is back too: a change made behind the node's back (another node) reaches it.
    db.query(&format!("UPDATE apps SET status = 'INACTIVE' WHERE client_id = '{id}'"));
    let took = refused_within(&node, &key, &id, Duration::from_secs(3), "change after reconnect").await;
    eprintln!("change after the outage honoured after {took:?}");
}

#[test]
fn postgres_without_a_master_key_is_a_one_line_error() {
    let Some(db) = Db::create("nokey") else { return };
    let dir = tempfile::tempdir().unwrap();
    let out = Command::new(assert_cmd::cargo::cargo_bin("tollgate"))
        .args(["serve", "--listen", "127.0.0.1:0", "--database", &db.url])
        .current_dir(dir.path())
        .env_remove("TOLLGATE_MASTER_KEY")
        .env_remove("TOLLGATE_MASTER_KEY_FILE")
        .env_remove("TOLLGATE_CONFIG")
        .stdin(Stdio::null())
        .output()
        .unwrap();
    assert!(!out.status.success());
    let stderr = String::from_utf8_lossy(&out.stderr);
    let errors: Vec<&str> = stderr.lines().filter(|l| l.starts_with("error:")).collect();
    assert_eq!(errors.len(), 1, "{stderr}");
    assert!(errors[0].contains("no master key") && errors[0].contains("TOLLGATE_MASTER_KEY"), "{stderr}");
    assert!(!stderr.contains("panicked"), "{stderr}");
}
