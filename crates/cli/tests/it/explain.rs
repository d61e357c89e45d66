//! `tollgate explain`: each rule passes or fails in plain words, quoting Okta's exact answer.
use tollgate_jose::{Audience, Claims, KeySpec, PrivateKey, jws};

use crate::support::{fails_with, ok_json, ok_stdout, tollgate};

const ORG: &str = "https://dev-1.okta.com";
const TOKEN_URL: &str = "https://dev-1.okta.com/oauth2/v1/token";

fn now() -> i64 {
    std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_secs() as i64
}

fn claims(aud: &str, iat: i64, exp: i64) -> Claims {
    Claims {
        iss: Some("0oa1".into()),
        sub: Some("0oa1".into()),
        aud: Some(Audience::One(aud.into())),
        iat: Some(iat),
        exp: Some(exp),
        jti: Some("j-1".into()),
        ..Claims::default()
    }
}

struct Fixture {
    dir: tempfile::TempDir,
    key: PrivateKey,
}

fn fixture() -> Fixture {
    let dir = tempfile::tempdir().unwrap();
    let key = PrivateKey::generate(KeySpec::Rsa { bits: 2048 }).unwrap().with_kid("k1");
    let jwks = serde_json::json!({ "keys": [key.public_key().to_jwk()] });
    std::fs::write(dir.path().join("jwks.json"), jwks.to_string()).unwrap();
    Fixture { dir, key }
}

impl Fixture {
    fn sign(&self, claims: &Claims) -> String {
        jws::sign_json(&self.key, &jws::Header::new(self.key.algorithm()).with_kid("k1"), claims).unwrap()
    }
    fn explain(&self, assertion: &str) -> assert_cmd::Command {
        let mut cmd = tollgate(self.dir.path());
        cmd.args(["explain", assertion, "--org", ORG, "--client-id", "0oa1", "--jwks", "jwks.json"]);
        cmd
    }
}

fn verdict<'a>(report: &'a serde_json::Value, rule: &str) -> &'a serde_json::Value {
    report["checks"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["rule"] == rule)
        .unwrap_or_else(|| panic!("no {rule} check in {report}"))
}

#[test]
fn a_good_assertion_passes_every_rule() {
    let f = fixture();
    let assertion = f.sign(&claims(TOKEN_URL, now(), now() + 300));
    let report = ok_json(&mut f.explain(&assertion));
    assert_eq!(report["ok"], true);
    for check in report["checks"].as_array().unwrap() {
        assert_eq!(check["verdict"], "pass", "{check}");
    }
}

#[test]
fn each_broken_rule_names_okta_answer() {
    let f = fixture();
    let cases = [
        (claims(TOKEN_URL, now() - 1000, now() - 10), "exp", "The client_assertion token is expired."),
        (
            claims(TOKEN_URL, now(), now() + 4000),
            "exp",
            "The client_assertion token has an expiration too far into the future.",
        ),
        (
            claims(TOKEN_URL, now() + 100, now() + 300),
            "iat",
            "The client_assertion token must be issued before the current time.",
        ),
        (
            claims("https://dev-1.okta.com//oauth2/v1/token", now(), now() + 300),
            "aud",
            "The audience claim for client_assertion must be the endpoint invoked for the request.",
        ),
        (
            // An Access Gateway assertion (aud = the org URL, a scope claim) at the org server.
            Claims {
                extra: serde_json::json!({ "scope": "okta.oag.app.read" }).as_object().unwrap().clone(),
                ..claims(ORG, now(), now() + 300)
            },
            "aud",
            "The audience claim for client_assertion must be the endpoint invoked for the request.",
        ),
        (
            Claims { sub: Some("other".into()), ..claims(TOKEN_URL, now(), now() + 300) },
            "sub",
            "The subject claim for client_assertion is not a valid client_id.",
        ),
        (
            Claims { exp: None, ..claims(TOKEN_URL, now(), now() + 300) },
            "exp",
            "The client_assertion must contain the 'exp' claim as seconds since epoch.",
        ),
    ];
    for (claims, rule, description) in cases {
        let assertion = f.sign(&claims);
        let mut cmd = f.explain(&assertion);
        let output = cmd.args(["--output", "json"]).output().unwrap();
        assert_eq!(output.status.code(), Some(1), "{rule}: {}", String::from_utf8_lossy(&output.stdout));
        let report: serde_json::Value = serde_json::from_slice(&output.stdout).unwrap();
        let check = verdict(&report, rule);
        assert_eq!(check["verdict"], "fail", "{check}");
        assert!(check["server_answer"].as_str().unwrap().contains(description), "{check}");
        assert!(check["fix"].is_string(), "{check}");
    }
}

#[test]
fn wrong_key_fails_the_signature_and_text_output_says_how_to_fix_it() {
    let f = fixture();
    let other = PrivateKey::generate(KeySpec::Rsa { bits: 2048 }).unwrap();
    let assertion = jws::sign_json(
        &other,
        &jws::Header::new(other.algorithm()).with_kid("k1"),
        &claims(TOKEN_URL, now(), now() + 300),
    )
    .unwrap();
    let output = f.explain(&assertion).output().unwrap();
    assert_eq!(output.status.code(), Some(1));
    let text = String::from_utf8_lossy(&output.stdout);
    assert!(text.contains("FAIL  signature"), "{text}");
    assert!(text.contains("401 invalid_client \"The client_assertion signature is invalid.\""), "{text}");
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.starts_with("error: the assertion fails 1"), "{stderr}");

    let unknown_kid = jws::sign_json(
        &f.key,
        &jws::Header::new(f.key.algorithm()).with_kid("nope"),
        &claims(TOKEN_URL, now(), now() + 300),
    )
    .unwrap();
    let report = ok_json_allow_failure(&mut f.explain(&unknown_kid));
    assert!(
        verdict(&report, "kid")["server_answer"].as_str().unwrap().contains("The client_assertion JWT kid is invalid.")
    );
}

#[test]
fn ps256_and_the_issuer_audience_are_warnings_not_failures() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    ok_stdout(tollgate(d).args([
        "keygen",
        "--alg",
        "PS256",
        "--format",
        "jwk",
        "--private-key",
        "k.jwk",
        "--jwks",
        "j.json",
    ]));
    let assertion = ok_stdout(tollgate(d).args([
        "assertion",
        "--org",
        ORG,
        "--client-id",
        "0oa1",
        "--private-key",
        "k.jwk",
        "--audience",
        "issuer",
    ]));
    let report = ok_json(tollgate(d).args([
        "explain",
        assertion.trim(),
        "--org",
        ORG,
        "--client-id",
        "0oa1",
        "--jwks",
        "j.json",
    ]));
    assert_eq!(report["ok"], true);
    assert_eq!(verdict(&report, "alg")["verdict"], "warn");
    assert_eq!(verdict(&report, "aud")["verdict"], "warn");
    assert_eq!(verdict(&report, "signature")["verdict"], "pass");
}

#[test]
fn garbage_is_not_a_jwt() {
    let f = fixture();
    let stderr = fails_with(&mut f.explain("abc.def"), 1);
    assert!(stderr.contains("fails 1"), "{stderr}");
}

fn ok_json_allow_failure(cmd: &mut assert_cmd::Command) -> serde_json::Value {
    let output = cmd.args(["--output", "json"]).output().unwrap();
    serde_json::from_slice(&output.stdout).unwrap()
}

#[test]
fn dpop_refusals_are_explained_with_a_fix() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let out = ok_json(tollgate(d).args(["explain", "--error", "The DPoP proof JWT header is missing."]));
    assert_eq!(out["error"], "invalid_dpop_proof");
    assert!(out["fix"].as_str().unwrap().contains("--dpop"), "{out}");
    let challenge = "DPoP algs=\"RS256\", error=\"invalid_dpop_proof\", error_description=\"'htu' claim in the DPoP proof JWT is invalid.\"";
    let out = ok_json(tollgate(d).args(["explain", "--error", challenge]));
    assert_eq!(out["error_description"], "'htu' claim in the DPoP proof JWT is invalid.");
    assert!(out["fix"].as_str().unwrap().contains("without query"), "{out}");
    let out = ok_stdout(tollgate(d).args(["explain", "--error", "use_dpop_nonce"]));
    assert!(out.contains("NEW client assertion"), "{out}");
    let out = ok_json(tollgate(d).args([
        "explain",
        "--error",
        "invalid_request: The resource request must use the DPoP authentication scheme when using a DPoP bound token.",
    ]));
    assert!(out["fix"].as_str().unwrap().contains("Authorization: DPoP"), "{out}");
    let stderr = fails_with(
        tollgate(d).args(["explain", "--error", "invalid_client: The client_assertion token is expired."]),
        1,
    );
    assert!(stderr.contains("not a DPoP refusal"), "{stderr}");
}

#[test]
fn a_dpop_proof_is_checked_against_htm_and_htu() {
    use tollgate_jose::dpop::{ProofRequest, sign_proof};
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let key = PrivateKey::generate(KeySpec::Ec(tollgate_jose::Curve::P256)).unwrap();
    let proof =
        sign_proof(&key, &ProofRequest { htm: "POST", htu: TOKEN_URL, iat: now(), nonce: None, access_token: None })
            .unwrap();
    let out = ok_stdout(tollgate(d).args(["explain", &proof, "--org", ORG]));
    assert!(out.contains("PASS") && out.contains(&key.public_key().thumbprint()), "{out}");
    let stderr = fails_with(
        tollgate(d).args([
            "explain",
            &proof,
            "--org",
            ORG,
            "--htm",
            "GET",
            "--htu",
            "https://dev-1.okta.com/api/v1/users",
        ]),
        1,
    );
    assert!(stderr.contains("the DPoP proof would be refused"), "{stderr}");
    let out = tollgate(d)
        .args(["explain", &proof, "--htm", "GET", "--htu", "https://dev-1.okta.com/api/v1/users", "--output", "json"])
        .output()
        .unwrap();
    let doc: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(doc["server_answer"], "400 invalid_dpop_proof \"'htm' claim in the DPoP proof JWT is invalid.\"");
}

/// The server's answer to a token request with `assertion`: `401 invalid_client "..."`, as explain writes it.
fn server_answer(server: &crate::harness::Server, assertion: &str) -> String {
    let url = format!("{}/oauth2/v1/token", server.url);
    let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
    let (status, body): (u16, serde_json::Value) = runtime.block_on(async move {
        let response = reqwest::Client::new()
            .post(&url)
            .form(&[
                ("grant_type", "client_credentials"),
                ("scope", "okta.users.read"),
                ("client_assertion_type", tollgate_jose::assertion::JWT_BEARER),
                ("client_assertion", assertion),
            ])
            .send()
            .await
            .unwrap();
        (response.status().as_u16(), response.json().await.unwrap())
    });
    format!("{status} {} \"{}\"", body["error"].as_str().unwrap(), body["error_description"].as_str().unwrap())
}

/// Sign `header` and `claims` as they are (explain must read what a broken client really sends).
fn sign_raw(key: &PrivateKey, header: serde_json::Value, claims: serde_json::Value) -> String {
    let b64 = |v: &serde_json::Value| tollgate_jose::b64url_encode(v.to_string().as_bytes());
    let input = format!("{}.{}", b64(&header), b64(&claims));
    let signature = key.sign(key.algorithm(), input.as_bytes()).unwrap();
    format!("{input}.{}", tollgate_jose::b64url_encode(&signature))
}

#[test]
fn explain_predicts_the_server_answer_for_every_refusal() {
    use crate::harness::{ADMIN_TOKEN, Server};
    let server = Server::start();
    let f = fixture();
    let created = ok_json(crate::support::tollgate(f.dir.path()).args([
        "app",
        "create",
        "--org",
        &server.url,
        "--api-token",
        ADMIN_TOKEN,
        "--name",
        "explain agrees",
        "--jwks",
        "jwks.json",
        "--scopes",
        "okta.users.read",
    ]));
    let id = created["client_id"].as_str().unwrap().to_owned();
    let token_url = format!("{}/oauth2/v1/token", server.url);
    let t = now();
    let good = serde_json::json!({ "iss": id, "sub": id, "aud": token_url, "iat": t, "exp": t + 300, "jti": "x" });
    let with = |changes: serde_json::Value| {
        let mut claims = good.clone();
        for (k, v) in changes.as_object().unwrap() {
            if v.is_null() {
                claims.as_object_mut().unwrap().remove(k);
            } else {
                claims[k] = v.clone();
            }
        }
        claims["jti"] = uuid_like().into();
        claims
    };
    let rs256 = serde_json::json!({ "alg": "RS256", "kid": "k1" });
    let other = PrivateKey::generate(KeySpec::Rsa { bits: 2048 }).unwrap();
    let cases: Vec<(&str, String)> = vec![
        ("garbage", "abc.def".to_owned()),
        ("HS256", {
            let header = tollgate_jose::b64url_encode(br#"{"alg":"HS256","kid":"k1"}"#);
            let claims = tollgate_jose::b64url_encode(with(serde_json::json!({})).to_string().as_bytes());
            format!("{header}.{claims}.c2ln")
        }),
        ("unknown iss", sign_raw(&f.key, rs256.clone(), with(serde_json::json!({ "iss": "0oanobody" })))),
        ("wrong sub", sign_raw(&f.key, rs256.clone(), with(serde_json::json!({ "sub": "0oanobody" })))),
        (
            "unknown kid",
            sign_raw(&f.key, serde_json::json!({ "alg": "RS256", "kid": "nope" }), with(serde_json::json!({}))),
        ),
        ("wrong key", sign_raw(&other, rs256.clone(), with(serde_json::json!({})))),
        ("double slash", {
            let aud = format!("{}//oauth2/v1/token", server.url);
            sign_raw(&f.key, rs256.clone(), with(serde_json::json!({ "aud": aud })))
        }),
        (
            "gateway assertion",
            sign_raw(
                &f.key,
                rs256.clone(),
                with(serde_json::json!({ "aud": server.url, "scope": "okta.oag.app.read" })),
            ),
        ),
        ("no exp", sign_raw(&f.key, rs256.clone(), with(serde_json::json!({ "exp": null })))),
        ("expired", sign_raw(&f.key, rs256.clone(), with(serde_json::json!({ "iat": t - 1000, "exp": t - 100 })))),
        ("exp too far", sign_raw(&f.key, rs256.clone(), with(serde_json::json!({ "exp": t + 4000 })))),
        ("iat ahead", sign_raw(&f.key, rs256.clone(), with(serde_json::json!({ "iat": t + 100 })))),
        ("nbf ahead", sign_raw(&f.key, rs256.clone(), with(serde_json::json!({ "nbf": t + 100 })))),
    ];
    for (name, assertion) in cases {
        let answer = server_answer(&server, &assertion);
        let output = crate::support::tollgate(f.dir.path())
            .args(["explain", &assertion, "--org", &server.url, "--client-id", &id, "--jwks", "jwks.json"])
            .args(["--output", "json"])
            .output()
            .unwrap();
        let report: serde_json::Value = serde_json::from_slice(&output.stdout).unwrap();
        let first_failure =
            report["checks"].as_array().unwrap().iter().find(|c| c["verdict"] == "fail").unwrap_or_else(|| {
                panic!("{name}: explain finds nothing wrong, the server answers {answer}: {report}")
            });
        assert_eq!(first_failure["server_answer"].as_str(), Some(answer.as_str()), "{name}: {first_failure}");
    }
}

fn uuid_like() -> String {
    use std::sync::atomic::{AtomicU64, Ordering};
    static N: AtomicU64 = AtomicU64::new(0);
    format!("jti-{}-{}", now(), N.fetch_add(1, Ordering::Relaxed))
}
