//! `tollgate agent` and the token sharing of `tollgate token` / `tollgate call`, against a real
//! `tollgate serve`, counting the token requests the server saw in its System Log: 20 concurrent
//! `tollgate token` processes and one agent make one request; without an agent, two calls in a row make
//! one (the cache on disk); the agent renews a token before it expires; its socket serves this user only.
use std::io::{BufRead, BufReader};
use std::os::unix::fs::{MetadataExt, PermissionsExt};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use crate::harness::{ADMIN_TOKEN, Server};
use crate::support::{fails_with, ok_json, ok_stdout, tollgate, user_dirs};

/// A scratch directory whose `.env` points at the server, with a registered private_key_jwt app.
fn app_workspace(server: &Server, scopes: &str) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join(".env"),
        format!("OKTA_URL={}\nAPI_KEY={ADMIN_TOKEN}\nSCOPES=\"{scopes}\"\n", server.url),
    )
    .unwrap();
    ok_stdout(tollgate(dir.path()).args(["keygen", "--env"]));
    ok_stdout(tollgate(dir.path()).args(["app", "create", "--env"]));
    dir
}

/// A running `tollgate agent`, stopped on drop.
struct RunningAgent {
    child: Child,
    socket: PathBuf,
}

impl RunningAgent {
    fn start(dir: &Path, args: &[&str]) -> RunningAgent {
        let mut cmd = Command::new(assert_cmd::cargo::cargo_bin("tollgate"));
        cmd.current_dir(dir).arg("agent").args(args).stdin(Stdio::null()).stdout(Stdio::piped()).stderr(Stdio::null());
        for name in ["TOLLGATE_AGENT_SOCKET", "CLIENT_ID", "PRIVATE_KEY", "OKTA_URL", "SCOPES", "KEY_ID"] {
            cmd.env_remove(name);
        }
        for (name, value) in user_dirs(dir) {
            cmd.env(name, value);
        }
        let mut child = cmd.spawn().unwrap();
        let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
        let line = lines.next().expect("the agent prints its socket").unwrap();
        let socket = PathBuf::from(line.strip_prefix("tollgate agent listening on ").expect(&line));
        std::thread::spawn(move || for _ in lines {});
        RunningAgent { child, socket }
    }
}

impl Drop for RunningAgent {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn agent_status(dir: &Path) -> serde_json::Value {
    ok_json(tollgate(dir).args(["agent", "status"]))
}

#[test]
fn twenty_concurrent_token_processes_and_an_agent_make_one_token_request() {
    let server = Server::start();
    let dir = app_workspace(&server, "okta.users.read");
    let d = dir.path();
    let agent = RunningAgent::start(d, &[]);
    assert_eq!(agent.socket, d.join(".run/tollgate/agent.sock"), "the per-user runtime dir");
    assert_eq!(server.tokens_granted(), 0);

    let children: Vec<_> = (0..20)
        .map(|_| {
            let mut cmd = Command::new(assert_cmd::cargo::cargo_bin("tollgate"));
            cmd.current_dir(d).args(["token", "--agent"]).stdout(Stdio::piped()).stderr(Stdio::piped());
            for (name, value) in user_dirs(d) {
                cmd.env(name, value);
            }
            cmd.spawn().unwrap()
        })
        .collect();
    let tokens: Vec<String> = children
        .into_iter()
        .map(|child| {
            let out = child.wait_with_output().unwrap();
            assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
            String::from_utf8(out.stdout).unwrap().trim().to_owned()
        })
        .collect();
    assert!(tokens.iter().all(|t| t == &tokens[0] && t.split('.').count() == 3), "one token for all");
    assert_eq!(server.tokens_granted(), 1, "exactly one token request at the server");
    let s = agent_status(d);
    assert_eq!(s["token_requests"], 1, "{s}");
    assert_eq!(s["requests"].as_u64().unwrap(), 21, "20 token requests and this status request: {s}");
    assert_eq!(s["cache_hits"], 19, "{s}");

    // `call` goes through the agent too (no new token request), and the agent is used without --agent.
    let users = ok_stdout(tollgate(d).args(["call", "GET", "/api/v1/users"]));
    assert!(users.trim_start().starts_with('['), "{users}");
    assert_eq!(ok_stdout(tollgate(d).args(["token"])).trim(), tokens[0]);
    assert_eq!(server.tokens_granted(), 1);
    // Another client id than the agent holds: not served by it (falls back to the token endpoint, which
    // does not know that client), and required, a clear refusal.
    let err = fails_with(tollgate(d).args(["token", "--agent", "--client-id", "0oaSomeoneElse"]), 1);
    assert!(err.contains("not_held"), "{err}");

    let text = ok_stdout(tollgate(d).args(["agent", "status"]));
    assert!(text.contains("agent running") && text.contains("token requests 1"), "{text}");
    ok_stdout(tollgate(d).args(["agent", "stop"]));
    for _ in 0..50 {
        if !agent.socket.exists() {
            break;
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    assert!(!agent.socket.exists(), "the socket goes with the agent");
    let err = fails_with(tollgate(d).args(["agent", "status"]), 1);
    assert!(err.contains("no usable tollgate agent"), "{err}");
}

#[test]
fn without_an_agent_two_calls_in_a_row_make_one_token_request() {
    let server = Server::start();
    let dir = app_workspace(&server, "okta.users.read");
    let d = dir.path();
    let first = ok_stdout(tollgate(d).args(["token"]));
    let second = ok_stdout(tollgate(d).args(["token"]));
    assert_eq!(first, second, "the second from the cache on disk");
    assert_eq!(server.tokens_granted(), 1);
    // `call` reads the same cache.
    ok_stdout(tollgate(d).args(["call", "GET", "/api/v1/users"]));
    assert_eq!(server.tokens_granted(), 1);
    // The cache is private to the user: a 0700 directory of 0600 files.
    let cache = d.join(".cache/tollgate/tokens");
    assert_eq!(std::fs::metadata(&cache).unwrap().permissions().mode() & 0o777, 0o700);
    let files: Vec<_> = std::fs::read_dir(&cache).unwrap().map(|e| e.unwrap().path()).collect();
    assert_eq!(files.len(), 1, "{files:?}");
    assert_eq!(std::fs::metadata(&files[0]).unwrap().permissions().mode() & 0o777, 0o600);
    // Other scopes are another key; --no-cache asks again.
    let third = ok_stdout(tollgate(d).args(["token", "--no-cache"]));
    assert_ne!(third, first);
    assert_eq!(server.tokens_granted(), 2);
    // A cache file others could read is not trusted.
    std::fs::set_permissions(&files[0], std::fs::Permissions::from_mode(0o644)).unwrap();
    let fourth = ok_stdout(tollgate(d).args(["token"]));
    assert_ne!(fourth, first);
    assert_eq!(server.tokens_granted(), 3);
    // An ephemeral DPoP key (--dpop) is never cached: its token would be useless without the key.
    ok_stdout(tollgate(d).args(["token", "--dpop"]));
    ok_stdout(tollgate(d).args(["token", "--dpop"]));
    assert_eq!(server.tokens_granted(), 5);
}

#[test]
fn the_agent_renews_a_token_before_it_expires() {
    let server = Server::start();
    // A custom server with 300-second tokens; renewed after 1% of that: 3 s.
    let (status, created) = server.admin_post(
        "/api/v1/authorizationServers",
        serde_json::json!({ "name": "short", "audiences": ["api://short"], "accessTokenLifetimeSeconds": 300 }),
    );
    assert_eq!(status, 201, "{created}");
    let id = created["id"].as_str().unwrap().to_owned();
    let (status, scope) = server
        .admin_post(&format!("/api/v1/authorizationServers/{id}/scopes"), serde_json::json!({ "name": "api.read" }));
    assert!((200..300).contains(&status), "{scope}");
    let dir = app_workspace(&server, "");
    let d = dir.path();
    let agent = RunningAgent::start(d, &["--auth-server", &id, "--scopes", "api.read", "--refresh-at", "0.01"]);
    let first = ok_json(tollgate(d).args(["token", "--agent", "--auth-server", &id, "--scopes", "api.read"]));
    assert_eq!(first["expires_in"], 300);
    std::thread::sleep(Duration::from_secs(5));
    let s = agent_status(d);
    assert!(s["background_refreshes"].as_u64().unwrap() >= 1, "{s}");
    assert_eq!(s["token_requests"], 2, "renewed once in the background: {s}");
    let second = ok_json(tollgate(d).args(["token", "--agent", "--auth-server", &id, "--scopes", "api.read"]));
    assert_ne!(first["access_token"], second["access_token"], "a new token, long before the first expired");
    // (The agent goes on renewing every 3 s while the token is asked for; stop it before counting.)
    drop(agent);
    assert!(server.tokens_granted() >= 2);
}

#[test]
fn the_socket_serves_its_own_user_only() {
    let server = Server::start();
    let dir = app_workspace(&server, "okta.users.read");
    let d = dir.path();
    let agent = RunningAgent::start(d, &[]);
    let meta = std::fs::metadata(&agent.socket).unwrap();
    let me = {
        let probe = d.join("uid-probe");
        std::fs::write(&probe, "").unwrap();
        std::fs::metadata(&probe).unwrap().uid()
    };
    assert_eq!(meta.permissions().mode() & 0o777, 0o600, "socket mode");
    assert_eq!(meta.uid(), me, "socket owner");
    let run_dir = agent.socket.parent().unwrap();
    assert_eq!(std::fs::metadata(run_dir).unwrap().permissions().mode() & 0o777, 0o700, "its directory");

    if me != 0 {
        // Another user cannot be impersonated without root: the mode bits above and the peer-uid check's
        // unit tests (tollgate-client local::tests) are what is checked here.
        eprintln!("not root: the connection as another user is not tried");
        return;
    }
    // As root, a client process can run as `nobody` (65534). Let it reach the socket file (the
    // directories along the way become traversable); the socket's own mode 0600 still keeps it out.
    for p in [d, d.join(".run").as_path(), run_dir] {
        std::fs::set_permissions(p, std::fs::Permissions::from_mode(0o711)).unwrap();
    }
    let connect = r#"
import socket, sys
s = socket.socket(socket.AF_UNIX)
try:
    s.connect(sys.argv[1])
except OSError as e:
    print("refused:", e.strerror); sys.exit(0)
try:
    s.sendall(b'{"op":"token"}\n')
except BrokenPipeError:
    pass
print(s.recv(65536).decode().strip())
"#;
    let as_nobody = || {
        use std::os::unix::process::CommandExt;
        let out =
            Command::new("python3").args(["-c", connect]).arg(&agent.socket).uid(65534).gid(65534).output().unwrap();
        assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
        String::from_utf8(out.stdout).unwrap()
    };
    let forbidden = |answer: &str| {
        let answer: serde_json::Value = serde_json::from_str(answer).unwrap_or_else(|_| panic!("{answer}"));
        assert_eq!(answer["ok"], false);
        assert_eq!(answer["error"]["code"], "forbidden", "{answer}");
        assert!(answer.get("token").is_none());
    };
    // The socket's mode 0600 keeps others out where the kernel enforces it for this process; where it
    // does not (a sandbox that leaves the switched process its capabilities), the uid check answers.
    let answer = as_nobody();
    let refused_by_mode = answer.contains("refused: Permission denied");
    if !refused_by_mode {
        eprintln!("note: the file mode did not stop uid 65534 here; the peer-uid check did");
        forbidden(&answer);
    }
    // Even through a socket whose mode was opened up by mistake, the agent checks the peer's uid
    // (SO_PEERCRED) and answers another user with a refusal, never a token.
    std::fs::set_permissions(&agent.socket, std::fs::Permissions::from_mode(0o666)).unwrap();
    forbidden(&as_nobody());
    let refused = if refused_by_mode { 1 } else { 2 };
    assert_eq!(agent_status(d)["refused_peers"], refused);
    assert_eq!(server.tokens_granted(), 0, "nothing was fetched for the other user");
}

#[test]
fn dpop_bound_tokens_come_with_the_agents_proofs_or_a_clear_refusal() {
    let server = Server::start();
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    std::fs::write(d.join(".env"), format!("OKTA_URL={}\nAPI_KEY={ADMIN_TOKEN}\nSCOPES=okta.users.read\n", server.url))
        .unwrap();
    ok_stdout(tollgate(d).args(["keygen", "--env"]));
    ok_stdout(tollgate(d).args(["app", "create", "--env", "--dpop"]));
    let _agent = RunningAgent::start(d, &[]);
    // A caller asking for a Bearer token of a DPoP app: refused, saying what to do.
    let err = fails_with(tollgate(d).args(["token", "--agent"]), 1);
    assert!(err.contains("dpop_required") && err.contains("--dpop"), "{err}");
    // `call` asks for a bound token and the agent signs each request's proof.
    let users = ok_stdout(tollgate(d).args(["call", "--agent", "GET", "/api/v1/users"]));
    assert!(users.trim_start().starts_with('['), "{users}");
    let token = ok_json(tollgate(d).args(["token", "--agent", "--dpop"]));
    assert_eq!(token["token_type"], "DPoP");
    assert_eq!(server.tokens_granted(), 1, "the same bound token for both");
}
