//! Commands that need no server: keygen, jwk convert, assertion, decode, completions, and error paths.
use crate::support::{decode, fails_with, ok_json, ok_stdout, tollgate};

const ALGS: &[&str] = &["RS256", "RS384", "RS512", "PS256", "ES256", "ES384", "ES512"];

#[test]
fn keygen_makes_a_key_for_every_algorithm() {
    let dir = tempfile::tempdir().unwrap();
    for alg in ALGS {
        let out = ok_json(tollgate(dir.path()).args(["keygen", "--alg", alg, "--kid", &format!("kid-{alg}")]));
        assert_eq!(out["alg"], *alg);
        assert_eq!(out["kid"], format!("kid-{alg}"));
        let jwk = &out["jwks"]["keys"][0];
        assert_eq!(jwk["alg"], *alg);
        assert_eq!(jwk["kty"], if alg.starts_with('E') { "EC" } else { "RSA" });
        assert!(jwk.get("d").is_none(), "the JWKS must be public");
        assert!(out["private_key"].as_str().unwrap().starts_with("-----BEGIN PRIVATE KEY-----"));
    }
}

#[test]
fn keygen_rsa_sizes() {
    let dir = tempfile::tempdir().unwrap();
    for bits in ["2048", "3072"] {
        let out = ok_json(tollgate(dir.path()).args(["keygen", "--bits", bits, "--format", "jwk"]));
        let n = out["private_key"]["n"].as_str().unwrap();
        let expected_chars = (bits.parse::<usize>().unwrap() / 8 * 4).div_ceil(3);
        assert_eq!(n.len(), expected_chars, "modulus of {bits} bits");
    }
    fails_with(tollgate(dir.path()).args(["keygen", "--bits", "1024"]), 2);
}

#[test]
fn keygen_writes_files_and_refuses_to_overwrite() {
    let dir = tempfile::tempdir().unwrap();
    let out = ok_stdout(tollgate(dir.path()).args([
        "keygen",
        "--alg",
        "ES256",
        "--private-key",
        "k.pem",
        "--jwks",
        "j.json",
    ]));
    assert!(!out.contains("PRIVATE KEY"), "the private key went to the file only");
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(dir.path().join("k.pem")).unwrap().permissions().mode();
        assert_eq!(mode & 0o777, 0o600);
    }
    let stderr = fails_with(tollgate(dir.path()).args(["keygen", "--private-key", "k.pem"]), 1);
    assert!(stderr.contains("already exists"), "{stderr}");
    ok_stdout(tollgate(dir.path()).args(["keygen", "--private-key", "k.pem", "--force"]));
}

#[test]
fn jwk_convert_round_trips_pem_and_jwk() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    for alg in ["RS256", "ES384"] {
        ok_stdout(tollgate(d).args(["keygen", "--alg", alg, "--private-key", "k.pem", "--jwks", "j.json", "--force"]));
        let jwk = ok_stdout(tollgate(d).args(["jwk", "convert", "k.pem"]));
        std::fs::write(d.join("k.jwk"), &jwk).unwrap();
        let pem = ok_stdout(tollgate(d).args(["jwk", "convert", "k.jwk", "--to", "pem"]));
        assert_eq!(
            pem.trim(),
            std::fs::read_to_string(d.join("k.pem")).unwrap().trim(),
            "PEM → JWK → PEM is the identity"
        );
        // private → public JWKS matches what keygen published
        let from_private: serde_json::Value =
            serde_json::from_str(&ok_stdout(tollgate(d).args(["jwk", "convert", "k.jwk", "--to", "jwks"]))).unwrap();
        let published: serde_json::Value =
            serde_json::from_str(&std::fs::read_to_string(d.join("j.json")).unwrap()).unwrap();
        assert_eq!(from_private["keys"][0]["kid"], published["keys"][0]["kid"]);
        assert_eq!(
            from_private["keys"][0].get("x").or(from_private["keys"][0].get("n")),
            published["keys"][0].get("x").or(published["keys"][0].get("n"))
        );
        // public JWKS → SPKI PEM → public JWK
        let spki = ok_stdout(tollgate(d).args(["jwk", "convert", "j.json", "--to", "pem"]));
        assert!(spki.starts_with("-----BEGIN PUBLIC KEY-----"));
        std::fs::write(d.join("pub.pem"), &spki).unwrap();
        let out = ok_json(tollgate(d).args(["jwk", "convert", "pub.pem"]));
        assert_eq!(out["kind"], "public");
        assert!(out["key"].get("d").is_none());
    }
}

#[test]
fn assertion_claims_follow_okta_sdks() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    ok_stdout(tollgate(d).args(["keygen", "--alg", "ES256", "--kid", "k1", "--private-key", "k.pem"]));
    let assertion = ok_stdout(tollgate(d).args([
        "assertion",
        "--org",
        "https://dev-1.okta.com/",
        "--client-id",
        "0oa1",
        "--private-key",
        "k.pem",
        "--kid",
        "k1",
    ]));
    let decoded = decode(d, assertion.trim());
    let (header, claims) = (&decoded["header"], &decoded["claims"]);
    assert_eq!(header["alg"], "ES256");
    assert_eq!(header["kid"], "k1");
    assert_eq!(claims["iss"], "0oa1");
    assert_eq!(claims["sub"], "0oa1");
    assert_eq!(claims["aud"], "https://dev-1.okta.com/oauth2/v1/token", "no double slash");
    assert_eq!(claims["exp"].as_i64().unwrap() - claims["iat"].as_i64().unwrap(), 300);
    assert_eq!(claims["jti"].as_str().unwrap().len(), 36);

    let out = ok_json(tollgate(d).args([
        "assertion",
        "--org",
        "http://127.0.0.1:1",
        "--auth-server",
        "default",
        "--client-id",
        "c",
        "--private-key",
        "k.pem",
        "--audience",
        "issuer",
        "--lifetime",
        "3000",
        "--no-kid",
    ]));
    assert_eq!(out["claims"]["aud"], "http://127.0.0.1:1/oauth2/default");
    assert_eq!(out["token_url"], "http://127.0.0.1:1/oauth2/default/v1/token");
    assert!(out["header"]["kid"].is_null());
    fails_with(
        tollgate(d).args([
            "assertion",
            "--org",
            "http://x",
            "--client-id",
            "c",
            "--private-key",
            "k.pem",
            "--lifetime",
            "3601",
        ]),
        2,
    );
}

#[test]
fn assertion_reads_the_environment_and_dotenv() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    std::fs::write(d.join(".env"), "# test\nOKTA_URL=https://from-dotenv.example\nCLIENT_ID=from-dotenv\n").unwrap();
    ok_stdout(tollgate(d).args(["keygen", "--env"]));
    let env = std::fs::read_to_string(d.join(".env")).unwrap();
    assert!(env.starts_with("# test\nOKTA_URL=https://from-dotenv.example\n"), "other lines are kept: {env}");
    assert!(env.contains("PRIVATE_KEY='{"), "PRIVATE_KEY is a one-line JWK: {env}");
    let out = ok_json(tollgate(d).args(["assertion"]));
    assert_eq!(out["claims"]["iss"], "from-dotenv");
    assert_eq!(out["claims"]["aud"], "https://from-dotenv.example/oauth2/v1/token");
    // the real environment wins over .env; TOLLGATE_ORG wins over OKTA_URL
    let out = ok_json(
        tollgate(d).env("CLIENT_ID", "from-env").env("TOLLGATE_ORG", "https://tollgate.example").args(["assertion"]),
    );
    assert_eq!(out["claims"]["iss"], "from-env");
    assert_eq!(out["claims"]["aud"], "https://tollgate.example/oauth2/v1/token");
    // a second keygen --env would orphan the registered key
    fails_with(tollgate(d).args(["keygen", "--env"]), 2);
}

#[test]
fn private_key_may_be_an_escaped_pem_in_the_environment() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let pem = ok_json(tollgate(d).args(["keygen"]))["private_key"].as_str().unwrap().to_owned();
    let one_line = pem.trim().replace('\n', "\\n");
    let out =
        ok_json(tollgate(d).env("PRIVATE_KEY", one_line).args(["assertion", "--org", "http://x", "--client-id", "c"]));
    assert_eq!(out["header"]["alg"], "RS256");
}

#[test]
fn decode_shows_header_and_claims() {
    let dir = tempfile::tempdir().unwrap();
    // {"alg":"RS256","kid":"k"} . {"sub":"x","scp":["a"]} . sig
    let token = "eyJhbGciOiJSUzI1NiIsImtpZCI6ImsifQ.eyJzdWIiOiJ4Iiwic2NwIjpbImEiXX0.c2ln";
    let out = decode(dir.path(), token);
    assert_eq!(out["header"]["kid"], "k");
    assert_eq!(out["claims"]["scp"][0], "a");
    assert_eq!(out["verified"], false);
    let text = ok_stdout(tollgate(dir.path()).args(["decode", token]));
    assert!(text.contains("\"sub\": \"x\"") && text.contains("not verified"), "{text}");
    fails_with(tollgate(dir.path()).args(["decode", "not-a-jwt"]), 2);
}

#[test]
fn errors_are_one_line_with_the_right_exit_code() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    std::fs::write(d.join("bad.pem"), "-----BEGIN PRIVATE KEY-----\nnope\n-----END PRIVATE KEY-----\n").unwrap();
    let stderr = fails_with(
        tollgate(d).args(["assertion", "--org", "http://x", "--client-id", "c", "--private-key", "bad.pem"]),
        1,
    );
    assert!(stderr.starts_with("error: reading the private key bad.pem"), "{stderr}");
    fails_with(
        tollgate(d).args(["assertion", "--org", "http://x", "--client-id", "c", "--private-key", "missing.pem"]),
        1,
    );
    fails_with(tollgate(d).args(["keygen", "--no-such-flag"]), 2);
    fails_with(tollgate(d).args(["keygen", "--alg", "HS256"]), 2);
    fails_with(tollgate(d).args(["token", "--client-id", "c", "--client-secret", "s"]), 2); // no org
    fails_with(tollgate(d).args(["assertion", "--org", "not a url", "--client-id", "c"]), 2);
    // nothing listens on port 1: a failed operation, exit 1
    let stderr = fails_with(
        tollgate(d).args([
            "token",
            "--org",
            "http://127.0.0.1:1",
            "--auth-server",
            "default",
            "--client-id",
            "c",
            "--client-secret",
            "s",
        ]),
        1,
    );
    assert!(stderr.contains("token request"), "{stderr}");
}

#[test]
fn every_command_has_help_with_examples() {
    let dir = tempfile::tempdir().unwrap();
    for command in [
        &["keygen"][..],
        &["jwk", "convert"],
        &["app", "create"],
        &["assertion"],
        &["token"],
        &["call"],
        &["decode"],
        &["verify"],
        &["explain"],
        &["completions"],
    ] {
        let help = ok_stdout(tollgate(dir.path()).args(command).arg("--help"));
        assert!(help.contains("Examples:"), "{command:?} --help has examples");
    }
    let script = ok_stdout(tollgate(dir.path()).args(["completions", "bash"]));
    assert!(script.contains("tollgate"));
}

#[test]
fn an_endless_key_file_is_one_error_line_not_a_memory_blow_up() {
    let dir = tempfile::tempdir().unwrap();
    for cmd in ["token", "assertion"] {
        let stderr = fails_with(
            tollgate(dir.path()).env("OKTA_URL", "https://org.example").env("CLIENT_ID", "c").args([
                cmd,
                "--private-key",
                "/dev/zero",
            ]),
            1,
        );
        assert!(stderr.contains("larger than 1048576 bytes"), "{stderr}");
    }
}
