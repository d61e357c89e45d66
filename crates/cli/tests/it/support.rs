//! Running the binary in a scratch directory with a clean environment.
use std::path::Path;

use assert_cmd::Command;

/// Variables the CLI reads; removed so the developer's own environment cannot leak into tests.
const CLI_ENV: &[&str] = &[
    "TOLLGATE_ORG",
    "OKTA_URL",
    "TOLLGATE_API_TOKEN",
    "API_KEY",
    "CLIENT_ID",
    "CLIENT_SECRET",
    "SCOPES",
    "PRIVATE_KEY",
    "KEY_ID",
    "RUST_LOG",
    "DPOP_KEY",
    "ACTIONS_ID_TOKEN_REQUEST_URL",
    "ACTIONS_ID_TOKEN_REQUEST_TOKEN",
    "TOLLGATE_AGENT_SOCKET",
];

/// `tollgate` with `dir` as working directory and none of the CLI's variables set. The per-user places
/// (token cache, agent socket) are inside `dir`, so tests share neither with each other nor with the
/// developer's own.
pub fn tollgate(dir: &Path) -> Command {
    let mut cmd = Command::cargo_bin("tollgate").expect("the tollgate binary is built");
    cmd.current_dir(dir);
    for name in CLI_ENV {
        cmd.env_remove(name);
    }
    for (name, value) in user_dirs(dir) {
        cmd.env(name, value);
    }
    cmd
}

/// `XDG_CACHE_HOME` and `XDG_RUNTIME_DIR` for a test working in `dir`.
pub fn user_dirs(dir: &Path) -> [(&'static str, std::path::PathBuf); 2] {
    [("XDG_CACHE_HOME", dir.join(".cache")), ("XDG_RUNTIME_DIR", dir.join(".run"))]
}

/// Runs and returns stdout, asserting success (with stderr in the failure message).
pub fn ok_stdout(cmd: &mut Command) -> String {
    let output = cmd.output().expect("tollgate runs");
    assert!(
        output.status.success(),
        "tollgate failed with {:?}\nstdout: {}\nstderr: {}",
        output.status.code(),
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
    String::from_utf8(output.stdout).expect("utf-8 stdout")
}

/// Runs and parses stdout as one JSON document.
pub fn ok_json(cmd: &mut Command) -> serde_json::Value {
    let stdout = ok_stdout(cmd.args(["--output", "json"]));
    serde_json::from_str(&stdout).unwrap_or_else(|e| panic!("stdout is not one JSON document ({e}): {stdout}"))
}

/// Runs expecting failure with `code`; returns stderr, asserting it is one `error:` line.
pub fn fails_with(cmd: &mut Command, code: i32) -> String {
    let output = cmd.output().expect("tollgate runs");
    let stderr = String::from_utf8_lossy(&output.stderr).into_owned();
    assert_eq!(
        output.status.code(),
        Some(code),
        "stdout: {}\nstderr: {stderr}",
        String::from_utf8_lossy(&output.stdout)
    );
    let error_lines: Vec<&str> = stderr.lines().filter(|l| l.starts_with("error:")).collect();
    assert_eq!(error_lines.len(), 1, "expected one error line, got: {stderr}");
    assert!(!stderr.contains("panicked"), "{stderr}");
    if code == 1 {
        assert_eq!(
            stderr.lines().filter(|l| !l.starts_with("warning:") && !l.starts_with("note:")).count(),
            1,
            "one line only: {stderr}"
        );
    }
    stderr
}

/// Decodes the JSON of a JWT part without verification (through the CLI itself).
pub fn decode(dir: &Path, token: &str) -> serde_json::Value {
    ok_json(tollgate(dir).args(["decode", token]))
}
