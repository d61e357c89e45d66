//! Load benchmark of `POST /oauth2/v1/token` on 127.0.0.1, reported against the crypto ceiling.
//!
//! It starts the real server (release build, temporary SQLite file) on its own runtime, registers a
//! service app, pre-signs unique RS256 assertions (so the client's signing cost is not in the loop), then
//! keeps `--connections` requests in flight for `--seconds`. In the same run it measures `openssl speed
//! rsa2048` and computes the ceiling `cores / (1/sign + 1/verify)`: a token request costs one RSA-2048
//! verification (the assertion) and one RSA-2048 signature (the access token).
//!
//! With `--dpop` the app is DPoP-bound (RFC 9449): the nonce is fetched once and every request also carries
//! a pre-signed ES256 proof (`--dpop-rsa`: RS256 with an RSA-2048 key), so a request costs one more
//! verification; the ceiling then counts it. Compare the two runs to see what DPoP costs.
//!
//! With `--database postgres://...` (an existing, preferably empty database) the server runs on PostgreSQL
//! instead, and the run also reports database work per token from PostgreSQL's statistics views (deltas
//! over the run, read with `psql`): committed transactions (= statements, as the server runs each
//! token-path statement on its own), rows inserted, and table scans (index or sequential) — the aim is
//! one insert (the replay check) and no read.
//!
//! With `--no-rate-limits` the server counts no per-minute limits (compare: the cost of rate limiting).
//!
//! With `--no-system-log` the server keeps no System Log (compare with a run without it: the cost of
//! recording every grant).
//!
//! Run: `cargo bench -p tollgate-server --bench token_endpoint -- --connections 32 --seconds 10
//! [--dpop] [--no-system-log] [--no-rate-limits] [--database postgres://postgres@127.0.0.1/tollgate_bench]`
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use serde_json::{Value, json};
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};
use tollgate_jose::dpop::{ProofRequest, sign_proof};
use tollgate_jose::{Algorithm, Curve, Header, KeySpec, PrivateKey, jws};

const ADMIN: &str = "bench-admin-token";
const JWT_BEARER: &str = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer";

fn arg(name: &str, default: u64) -> u64 {
    let args: Vec<String> = std::env::args().collect();
    args.iter().position(|a| a == name).and_then(|i| args.get(i + 1)).and_then(|v| v.parse().ok()).unwrap_or(default)
}

fn flag(name: &str) -> bool {
    std::env::args().any(|a| a == name)
}

fn str_arg(name: &str) -> Option<String> {
    let args: Vec<String> = std::env::args().collect();
    args.iter().position(|a| a == name).and_then(|i| args.get(i + 1)).cloned()
}

/// PostgreSQL's counters for the bench database: (transactions committed, rows inserted, table scans).
/// Scans of `used_jti` are left out: its `INSERT ... ON CONFLICT DO NOTHING` probes the primary key index
/// itself (counted as an index scan), which is the write, not a read.
fn pg_counters(url: &str) -> Option<(i64, i64, i64)> {
    let sql = "SELECT d.xact_commit, \
               (SELECT coalesce(sum(n_tup_ins), 0) FROM pg_stat_user_tables), \
               (SELECT coalesce(sum(seq_scan + coalesce(idx_scan, 0)), 0) FROM pg_stat_user_tables \
                WHERE relname <> 'used_jti') \
               FROM pg_stat_database d WHERE d.datname = current_database()";
    let out =
        std::process::Command::new("psql").arg(url).args(["-X", "-A", "-t", "-F", " ", "-c", sql]).output().ok()?;
    let text = String::from_utf8_lossy(&out.stdout);
    let nums: Vec<i64> = text.split_whitespace().filter_map(|t| t.parse().ok()).collect();
    (nums.len() == 3).then(|| (nums[0], nums[1], nums[2]))
}

fn openssl_rsa2048() -> Option<(f64, f64)> {
    let out = std::process::Command::new("openssl").args(["speed", "-seconds", "3", "rsa2048"]).output().ok()?;
    let text = String::from_utf8_lossy(&out.stdout);
    // "rsa 2048 bits 0.000650s 0.000019s   1538.5  52631.6"
    let line = text
        .lines()
        .find(|l| l.trim_start().starts_with("rsa 2048 bits") || l.trim_start().starts_with("rsa  2048 bits"))?;
    let nums: Vec<f64> = line.split_whitespace().filter_map(|t| t.parse::<f64>().ok()).collect();
    let n = nums.len();
    (n >= 2).then(|| (nums[n - 2], nums[n - 1]))
}

fn percentile(sorted: &[Duration], p: f64) -> Duration {
    if sorted.is_empty() {
        return Duration::ZERO;
    }
    let idx = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[idx]
}

fn main() {
    let connections = arg("--connections", 32) as usize;
    let seconds = arg("--seconds", 10);
    let cores = std::thread::available_parallelism().map(|n| n.get()).unwrap_or(1);
    let dpop_rsa = flag("--dpop-rsa");
    let dpop = flag("--dpop") || dpop_rsa;

    // The server, on a runtime of its own.
    let dir = tempfile::tempdir().unwrap();
    let database = str_arg("--database");
    let postgres = database.clone().filter(|d| d.starts_with("postgres"));
    let config = tollgate_server::Config {
        listen: "127.0.0.1:0".into(),
        database_url: database.unwrap_or_else(|| format!("sqlite://{}", dir.path().join("bench.db").display())),
        admin_token: Some(ADMIN.into()),
        // A fixed throwaway key (PostgreSQL requires one).
        master_key: Some(tollgate_server::master_key::SecretText(
            "YmVuY2ggbWFzdGVyIGtleSwgbm90IGEgc2VjcmV0ISE=".into(),
        )),
        // `--no-system-log`: the same run without the System Log, to see what recording every grant costs.
        system_log: !flag("--no-system-log"),
        // `--no-rate-limits`: no per-minute limits, to see what counting every request costs (the default
        // preset's limits are far above what this benchmark sends, so they never refuse).
        rate_limits: tollgate_server::config::RateLimitConfig {
            preset: if flag("--no-rate-limits") {
                tollgate_server::config::RateLimitPreset::Off
            } else {
                tollgate_server::config::RateLimitPreset::Tollgate
            },
            ..Default::default()
        },
        ..Default::default()
    };
    println!("database: {}", tollgate_store::redact_url(&config.database_url));
    println!("system log: {}", if config.system_log { "on" } else { "off" });
    println!("rate limits: {:?}", config.rate_limits.preset);
    let (addr_tx, addr_rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let rt = tokio::runtime::Builder::new_multi_thread().enable_all().build().unwrap();
        rt.block_on(async move {
            tollgate_server::serve(config, move |r| addr_tx.send(r.addr).unwrap(), std::future::pending())
                .await
                .unwrap();
        });
    });
    let addr = addr_rx.recv().unwrap();
    let base = format!("http://{addr}");
    let token_url = format!("{base}/oauth2/v1/token");

    let rt = tokio::runtime::Builder::new_multi_thread().enable_all().build().unwrap();
    let key = PrivateKey::generate(KeySpec::Rsa { bits: 2048 }).unwrap();
    let http = reqwest::Client::builder().pool_max_idle_per_host(connections).build().unwrap();
    let client_id: String = rt.block_on(async {
        let jwk = serde_json::to_value(key.public_key().to_jwk()).unwrap();
        let body: Value = http
            .post(format!("{base}/oauth2/v1/clients"))
            .header("authorization", format!("SSWS {ADMIN}"))
            .json(&json!({"client_name": "bench", "application_type": "service", "token_endpoint_auth_method": "private_key_jwt", "dpop_bound_access_tokens": dpop, "jwks": {"keys": [jwk]}}))
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        let id = body["client_id"].as_str().unwrap().to_string();
        let r = http
            .post(format!("{base}/api/v1/apps/{id}/grants"))
            .header("authorization", format!("SSWS {ADMIN}"))
            .json(&json!({"scopeId": "okta.users.read", "issuer": base}))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 201);
        id
    });

    // Raw RSA-2048 rates through our own crypto path, and openssl's, in this run.
    let msg = b"eyJhbGciOiJSUzI1NiJ9.eyJpc3MiOiJiZW5jaCJ9";
    let t = Instant::now();
    let mut n_sign = 0u32;
    let mut sig = Vec::new();
    while t.elapsed() < Duration::from_secs(2) {
        sig = key.sign(Algorithm::Rs256, msg).unwrap();
        n_sign += 1;
    }
    let our_sign = f64::from(n_sign) / t.elapsed().as_secs_f64();
    let public = key.public_key();
    let t = Instant::now();
    let mut n_verify = 0u32;
    while t.elapsed() < Duration::from_secs(2) {
        public.verify(Algorithm::Rs256, msg, &sig).unwrap();
        n_verify += 1;
    }
    let our_verify = f64::from(n_verify) / t.elapsed().as_secs_f64();
    let openssl = openssl_rsa2048();

    // DPoP: the proof key, its verification rate, and the server's nonce (fetched once, good for days).
    let proof_key = if dpop_rsa {
        PrivateKey::generate(KeySpec::Rsa { bits: 2048 }).unwrap()
    } else {
        PrivateKey::generate(KeySpec::Ec(Curve::P256)).unwrap()
    };
    let proof_verify = {
        let alg = proof_key.algorithm();
        let sig = proof_key.sign(alg, msg).unwrap();
        let public = proof_key.public_key();
        let t = Instant::now();
        let mut n = 0u32;
        while dpop && t.elapsed() < Duration::from_secs(2) {
            public.verify(alg, msg, &sig).unwrap();
            n += 1;
        }
        f64::from(n) / t.elapsed().as_secs_f64()
    };
    let nonce: Option<String> = dpop.then(|| {
        rt.block_on(async {
            let now = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_secs() as i64;
            let header = Header::new(Algorithm::Rs256).with_kid(key.kid());
            let claims = json!({"iss": client_id, "sub": client_id, "aud": token_url, "iat": now, "exp": now + 300, "jti": uuid::Uuid::new_v4().to_string()});
            let assertion = jws::sign_json(&key, &header, &claims).unwrap();
            let proof = sign_proof(&proof_key, &ProofRequest { htm: "POST", htu: &token_url, iat: now, nonce: None, access_token: None }).unwrap();
            let r = http
                .post(&token_url)
                .header("DPoP", proof)
                .form(&[("grant_type", "client_credentials"), ("scope", "okta.users.read"), ("client_assertion_type", JWT_BEARER), ("client_assertion", assertion.as_str())])
                .send()
                .await
                .unwrap();
            assert_eq!(r.status(), 400, "expected use_dpop_nonce");
            r.headers()["dpop-nonce"].to_str().unwrap().to_string()
        })
    });

    // Pre-sign assertions on every core.
    let budget = (seconds as usize * 6000).max(5000);
    eprintln!("pre-signing {budget} RS256 assertions{}...", if dpop { " and DPoP proofs" } else { "" });
    let key = Arc::new(key);
    let assertions: Vec<(String, Option<String>)> = std::thread::scope(|s| {
        let per = budget / cores + 1;
        let handles: Vec<_> = (0..cores)
            .map(|_| {
                let key = key.clone();
                let client_id = client_id.clone();
                let token_url = token_url.clone();
                let (proof_key, nonce) = (&proof_key, nonce.as_deref());
                s.spawn(move || {
                    let now = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_secs() as i64;
                    let header = Header::new(Algorithm::Rs256).with_kid(key.kid());
                    (0..per)
                        .map(|_| {
                            let claims = json!({"iss": client_id, "sub": client_id, "aud": token_url, "iat": now, "exp": now + 3000, "jti": uuid::Uuid::new_v4().to_string()});
                            let assertion = jws::sign_json(&key, &header, &claims).unwrap();
                            let proof = nonce.map(|nonce| {
                                let request = ProofRequest { htm: "POST", htu: &token_url, iat: now, nonce: Some(nonce), access_token: None };
                                sign_proof(proof_key, &request).unwrap()
                            });
                            (assertion, proof)
                        })
                        .collect::<Vec<_>>()
                })
            })
            .collect();
        handles.into_iter().flat_map(|h| h.join().unwrap()).collect()
    });
    let assertions = Arc::new(assertions);
    let next = Arc::new(AtomicUsize::new(0));

    let before = postgres.as_deref().and_then(pg_counters);
    let (done, errors, mut latencies, elapsed) = rt.block_on(async {
        // Warm-up: open the connections.
        let deadline = Instant::now() + Duration::from_secs(seconds);
        let start = Instant::now();
        let tasks: Vec<_> = (0..connections)
            .map(|_| {
                let http = http.clone();
                let assertions = assertions.clone();
                let next = next.clone();
                let url = token_url.clone();
                tokio::spawn(async move {
                    let mut lat = Vec::new();
                    let mut errors = 0usize;
                    while Instant::now() < deadline {
                        let i = next.fetch_add(1, Ordering::Relaxed);
                        let Some((a, proof)) = assertions.get(i) else { break };
                        let body = format!("grant_type=client_credentials&scope=okta.users.read&client_assertion_type={}&client_assertion={a}", JWT_BEARER.replace(':', "%3A"));
                        let t = Instant::now();
                        let mut req = http.post(&url).header("content-type", "application/x-www-form-urlencoded").body(body);
                        if let Some(proof) = proof {
                            req = req.header("DPoP", proof);
                        }
                        let r = req.send().await;
                        match r {
                            Ok(r) if r.status() == 200 => {
                                let _ = r.bytes().await;
                                lat.push(t.elapsed());
                            }
                            _ => errors += 1,
                        }
                    }
                    (lat, errors)
                })
            })
            .collect();
        let mut all = Vec::new();
        let mut errors = 0;
        for t in tasks {
            let (l, e) = t.await.unwrap();
            all.extend(l);
            errors += e;
        }
        (all.len(), errors, all, start.elapsed())
    });
    latencies.sort();
    if let (Some(url), Some(before)) = (postgres.as_deref(), before) {
        // An idle PostgreSQL backend publishes its statistics within 10 s (PGSTAT_IDLE_INTERVAL).
        std::thread::sleep(Duration::from_secs(11));
        match pg_counters(url) {
            Some(after) if done > 0 => {
                let per = |a: i64, b: i64| (a - b) as f64 / done as f64;
                println!(
                    "database per token: {:.2} statements (transactions), {:.2} rows inserted, {:.2} reads of other tables",
                    per(after.0, before.0),
                    per(after.1, before.1),
                    per(after.2, before.2)
                );
            }
            _ => println!("database per token: statistics unavailable (is psql installed?)"),
        }
    }
    let rps = done as f64 / elapsed.as_secs_f64();
    println!(
        "token endpoint{}: {done} tokens in {:.2} s over {connections} connections: {rps:.0} req/s, {errors} errors",
        if dpop { " (DPoP)" } else { "" },
        elapsed.as_secs_f64()
    );
    println!(
        "latency: p50 {:.2} ms, p90 {:.2} ms, p99 {:.2} ms, max {:.2} ms",
        percentile(&latencies, 0.5).as_secs_f64() * 1e3,
        percentile(&latencies, 0.9).as_secs_f64() * 1e3,
        percentile(&latencies, 0.99).as_secs_f64() * 1e3,
        latencies.last().copied().unwrap_or_default().as_secs_f64() * 1e3
    );
    println!("tollgate-jose RSA-2048 (1 core): sign {our_sign:.0}/s, verify {our_verify:.0}/s");
    // A DPoP request adds one proof verification.
    let proof_cost = if dpop { 1.0 / proof_verify } else { 0.0 };
    if dpop {
        println!("tollgate-jose {} proof verify (1 core): {proof_verify:.0}/s", proof_key.algorithm().as_str());
    }
    let ceiling_ours = cores as f64 / (1.0 / our_sign + 1.0 / our_verify + proof_cost);
    match openssl {
        Some((sign, verify)) => {
            let ceiling = cores as f64 / (1.0 / sign + 1.0 / verify + proof_cost);
            println!("openssl speed rsa2048 (1 core): sign {sign:.0}/s, verify {verify:.0}/s");
            println!(
                "crypto ceiling ({cores} cores, openssl): {ceiling:.0} tokens/s -> token endpoint at {:.1}% of it",
                100.0 * rps / ceiling
            );
        }
        None => println!("openssl speed unavailable"),
    }
    println!(
        "crypto ceiling ({cores} cores, tollgate-jose): {ceiling_ours:.0} tokens/s -> token endpoint at {:.1}% of it",
        100.0 * rps / ceiling_ours
    );
}
