//! `tollgate serve` as an operator sees it: the ready line, the first-start admin token, configuration
//! layering, `--dev`, SIGTERM, and one-line errors for bad configuration.
use std::io::{BufRead, BufReader, Read};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::time::Duration;

struct Running {
    child: Child,
    url: String,
    /// Every stdout line after the ready line, as it is printed.
    stdout_lines: mpsc::Receiver<String>,
    stderr: mpsc::Receiver<String>,
}

fn spawn(dir: &Path, args: &[&str], envs: &[(&str, &str)]) -> Running {
    let mut cmd = Command::new(assert_cmd::cargo::cargo_bin("tollgate"));
    cmd.arg("serve").args(args).current_dir(dir).stdin(Stdio::null()).stdout(Stdio::piped()).stderr(Stdio::piped());
    for var in [
        "TOLLGATE_ADMIN_TOKEN",
        "TOLLGATE_ISSUER",
        "TOLLGATE_LISTEN",
        "TOLLGATE_DATABASE_URL",
        "TOLLGATE_CONFIG",
        "TOLLGATE_MASTER_KEY",
        "TOLLGATE_MASTER_KEY_PREVIOUS",
        "TOLLGATE_MASTER_KEY_FILE",
        "TOLLGATE_ALLOW_PRIVATE_FETCH",
        "TOLLGATE_SHUTDOWN_GRACE_SECONDS",
    ] {
        cmd.env_remove(var);
    }
    for (k, v) in envs {
        cmd.env(k, v);
    }
    let mut child = cmd.spawn().unwrap();
    let stdout = child.stdout.take().unwrap();
    let mut stderr = child.stderr.take().unwrap();
    let (ready_tx, ready_rx) = mpsc::channel();
    let (rest_tx, rest_rx) = mpsc::channel();
    std::thread::spawn(move || {
        let mut lines = BufReader::new(stdout).lines();
        if let Some(Ok(first)) = lines.next() {
            let _ = ready_tx.send(first);
        }
        for line in lines.map_while(Result::ok) {
            let _ = rest_tx.send(line);
        }
    });
    let (err_tx, err_rx) = mpsc::channel();
    std::thread::spawn(move || {
        let mut text = String::new();
        let _ = stderr.read_to_string(&mut text);
        let _ = err_tx.send(text);
    });
    let first = ready_rx.recv_timeout(Duration::from_secs(60)).expect("serve printed its ready line");
    let url = first
        .strip_prefix("tollgate listening on ")
        .unwrap_or_else(|| panic!("unexpected first line {first:?}"))
        .to_string();
    assert!(url.starts_with("http://127.0.0.1:") || url.starts_with("https://127.0.0.1:"), "{url}");
    Running { child, url, stdout_lines: rest_rx, stderr: err_rx }
}

/// Sends SIGTERM and returns (exit code, rest of stdout, stderr).
fn terminate(mut r: Running) -> (Option<i32>, String, String) {
    let status = Command::new("kill").args(["-TERM", &r.child.id().to_string()]).status().unwrap();
    assert!(status.success());
    let code = r.child.wait().unwrap().code();
    let rest: Vec<String> = r.stdout_lines.try_iter().collect();
    let rest = rest.join("\n");
    let err = r.stderr.recv_timeout(Duration::from_secs(10)).unwrap_or_default();
    (code, rest, err)
}

fn get(url: &str) -> (u16, String) {
    let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
    rt.block_on(async {
        let r = reqwest::get(url).await.unwrap();
        (r.status().as_u16(), r.text().await.unwrap())
    })
}

#[test]
fn first_start_prints_an_admin_token_once_and_sigterm_exits_zero() {
    let dir = tempfile::tempdir().unwrap();
    let db = format!("sqlite://{}", dir.path().join("t.db").display());
    let r = spawn(dir.path(), &["--listen", "127.0.0.1:0", "--database", &db], &[]);
    assert_eq!(get(&format!("{}/healthz", r.url)).0, 200);
    let (code, _, stderr) = terminate(r);
    assert_eq!(code, Some(0), "SIGTERM is a clean exit: {stderr}");
    let token_lines: Vec<&str> = stderr.lines().filter(|l| l.contains("generated an admin API token")).collect();
    assert_eq!(token_lines.len(), 1, "{stderr}");
    let token = token_lines[0].rsplit(' ').next().unwrap().to_string();
    assert!(token.starts_with("00") && token.len() > 30, "{token}");

    // Second start on the same database: the token works and none is printed again.
    let r = spawn(dir.path(), &["--listen", "127.0.0.1:0", "--database", &db], &[]);
    let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
    let status = rt.block_on(async {
        reqwest::Client::new()
            .get(format!("{}/api/v1/users", r.url))
            .header("authorization", format!("SSWS {token}"))
            .send()
            .await
            .unwrap()
            .status()
    });
    assert_eq!(status, 200);
    let (code, _, stderr) = terminate(r);
    assert_eq!(code, Some(0));
    assert!(!stderr.contains("generated an admin API token"), "{stderr}");
    assert!(!stderr.contains(&token), "the token is never logged: {stderr}");
}

#[test]
fn sigterm_exits_zero_within_the_grace_period_with_a_stuck_client_connected() {
    use std::io::Write;
    let dir = tempfile::tempdir().unwrap();
    let db = format!("sqlite://{}", dir.path().join("t.db").display());
    let r = spawn(dir.path(), &["--listen", "127.0.0.1:0", "--database", &db, "--shutdown-grace-seconds", "2"], &[]);
    // One client that never finishes its request head, one stuck in its body.
    let addr = r.url.trim_start_matches("http://").to_string();
    let mut half_head = std::net::TcpStream::connect(&addr).unwrap();
    half_head.write_all(b"GET /healthz HTTP/1.1\r\nHost: x\r\n").unwrap();
    let mut half_body = std::net::TcpStream::connect(&addr).unwrap();
    half_body.write_all(b"POST /api/v1/apps HTTP/1.1\r\nHost: x\r\nContent-Length: 100\r\n\r\n{").unwrap();
    std::thread::sleep(Duration::from_millis(300));
    let start = std::time::Instant::now();
    let (code, _, stderr) = terminate(r);
    assert_eq!(code, Some(0), "{stderr}");
    assert!(start.elapsed() < Duration::from_secs(8), "took {:?}: {stderr}", start.elapsed());
    drop((half_head, half_body));
}

#[test]
fn config_file_and_flags_are_layered() {
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("tollgate.toml");
    std::fs::write(
        &config,
        format!(
            "listen = \"127.0.0.1:1\"\nissuer = \"https://auth.example.test\"\ndatabase_url = \"sqlite://{}\"\n",
            dir.path().join("c.db").display()
        ),
    )
    .unwrap();
    // The flag wins over the file for listen; the file's issuer is used.
    let r = spawn(
        dir.path(),
        &["--config", config.to_str().unwrap(), "--listen", "127.0.0.1:0"],
        &[("TOLLGATE_ADMIN_TOKEN", "x-admin-token")],
    );
    let (status, body) = get(&format!("{}/.well-known/openid-configuration", r.url));
    assert_eq!(status, 200);
    let doc: serde_json::Value = serde_json::from_str(&body).unwrap();
    assert_eq!(doc["issuer"], "https://auth.example.test");
    assert_eq!(doc["token_endpoint"], "https://auth.example.test/oauth2/v1/token");
    assert!(dir.path().join("c.db").exists());
    let (code, _, _) = terminate(r);
    assert_eq!(code, Some(0));
}

#[test]
fn bad_configuration_is_one_error_line_and_exit_1() {
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("bad.toml");
    std::fs::write(&config, "listne = \"127.0.0.1:0\"\n").unwrap();
    let cases: Vec<Vec<String>> = vec![
        vec!["--config".into(), config.display().to_string()],
        vec!["--listen".into(), "not-an-address".into()],
        vec!["--listen".into(), "127.0.0.1:0".into(), "--database".into(), "mysql://nope".into()],
        vec![
            "--listen".into(),
            "127.0.0.1:0".into(),
            "--issuer".into(),
            "ftp://x".into(),
            "--database".into(),
            format!("sqlite://{}", dir.path().join("i.db").display()),
        ],
    ];
    for args in cases {
        let out = Command::new(assert_cmd::cargo::cargo_bin("tollgate"))
            .arg("serve")
            .args(&args)
            .current_dir(dir.path())
            .env_remove("TOLLGATE_CONFIG")
            .stdin(Stdio::null())
            .output()
            .unwrap();
        assert_eq!(out.status.code(), Some(1), "{args:?}");
        let stderr = String::from_utf8_lossy(&out.stderr);
        let errors: Vec<&str> = stderr.lines().filter(|l| l.starts_with("error:")).collect();
        assert_eq!(errors.len(), 1, "{args:?}: {stderr}");
        assert!(!stderr.contains("panicked"), "{stderr}");
    }
}

#[test]
fn dev_mode_seeds_a_demo_org_and_runs_the_flow() {
    let dir = tempfile::tempdir().unwrap();
    let db = format!("sqlite://{}", dir.path().join("dev.db").display());
    let r = spawn(dir.path(), &["--dev", "--listen", "127.0.0.1:0", "--database", &db], &[]);
    // The demo flow line comes once the in-process client has called the API.
    let mut seen = Vec::new();
    while let Ok(line) = r.stdout_lines.recv_timeout(Duration::from_secs(60)) {
        let done = line.starts_with("demo flow");
        seen.push(line);
        if done {
            break;
        }
    }
    let (code, _, stderr) = terminate(r);
    assert_eq!(code, Some(0));
    let out = seen.join("\n");
    assert!(out.contains("tollgate dev mode"), "{out}");
    assert!(out.contains("GET /api/v1/users -> 200 with 3 users"), "{out}\n{stderr}");
    assert!(dir.path().join("tollgate-demo/demo-service.pem").exists());
}

#[test]
fn dev_tls_runs_the_flow_over_https_and_clients_trust_the_local_ca_without_a_switch() {
    let dir = tempfile::tempdir().unwrap();
    let db = format!("sqlite://{}", dir.path().join("dev.db").display());
    let args = ["--dev", "--tls", "--listen", "127.0.0.1:0", "--database", db.as_str()];
    let r = spawn(dir.path(), &args, &[]);
    assert!(r.url.starts_with("https://127.0.0.1:"), "{}", r.url);
    let mut seen = Vec::new();
    while let Ok(line) = r.stdout_lines.recv_timeout(Duration::from_secs(60)) {
        let done = line.starts_with("demo flow");
        seen.push(line);
        if done {
            break;
        }
    }
    let out = seen.join("\n");
    let demo = dir.path().join("tollgate-demo");
    let ca = demo.join("ca.pem");
    assert!(out.contains("local development CA (created)"), "{out}");
    assert!(out.contains(&format!("SSL_CERT_FILE={}", ca.display())), "{out}");
    assert!(out.contains("REQUESTS_CA_BUNDLE=") && out.contains("NODE_EXTRA_CA_CERTS="), "{out}");
    assert!(out.contains(&format!("OKTA_URL={}", r.url)), "the issuer is https: {out}");
    assert!(out.contains("GET /api/v1/users -> 200 with 3 users"), "the demo flow ran over https: {out}");
    let client_id = out.split("client_id ").nth(1).and_then(|s| s.split(',').next()).unwrap().to_string();
    let key = demo.join("demo-service.pem");
    let token = |extra: &[&str], env: Option<&std::path::Path>| {
        let mut cmd = crate::support::tollgate(dir.path());
        cmd.env_remove("SSL_CERT_FILE").env_remove("TOLLGATE_CA_CERT");
        if let Some(file) = env {
            cmd.env("SSL_CERT_FILE", file);
        }
        cmd.args(extra).args([
            "token",
            "--no-cache",
            "--org",
            &r.url,
            "--client-id",
            &client_id,
            "--scopes",
            "okta.users.read",
        ]);
        cmd.arg("--private-key").arg(&key);
        cmd.output().unwrap()
    };
    // Trusted through SSL_CERT_FILE, or through --ca-cert: a token.
    let by_env = token(&[], Some(&ca));
    assert!(by_env.status.success(), "{}", String::from_utf8_lossy(&by_env.stderr));
    let ca_arg = ca.display().to_string();
    let by_flag = token(&["--ca-cert", &ca_arg], None);
    assert!(by_flag.status.success(), "{}", String::from_utf8_lossy(&by_flag.stderr));
    // Not trusted: refused by the client's own certificate check, in one line.
    let untrusted = token(&[], None);
    assert_eq!(untrusted.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&untrusted.stderr);
    assert_eq!(stderr.lines().count(), 1, "{stderr}");
    assert!(stderr.starts_with("error: "), "{stderr}");

    let (code, _, _) = terminate(r);
    assert_eq!(code, Some(0));
    // A restart reuses the CA that clients were told to trust.
    let ca_pem = std::fs::read(&ca).unwrap();
    let r = spawn(dir.path(), &args, &[]);
    let line = r.stdout_lines.recv_timeout(Duration::from_secs(60)).unwrap_or_default();
    let mut text = line;
    // Until the demo flow has run: a SIGTERM in the middle of it would end the server with its error.
    while let Ok(line) = r.stdout_lines.recv_timeout(Duration::from_secs(60)) {
        let done = line.starts_with("demo flow");
        text.push_str(&line);
        if done {
            break;
        }
    }
    assert!(text.contains("local development CA (reused)"), "{text}");
    assert_eq!(std::fs::read(&ca).unwrap(), ca_pem);
    let (code, _, _) = terminate(r);
    assert_eq!(code, Some(0));
}
