//! HTTPS: `tls_cert`/`tls_key` and `dev_tls` (the local CA). A client trusting the CA gets tokens; one that
//! does not is refused by its own TLS check; a stalled handshake holds its connection no longer than the
//! head timeout; the local CA's files are created once (keys 0600) and reused.
use crate::harness::{TestServer, assertion_claims, sign};
use std::sync::Arc;
use std::time::Duration;
use tokio::io::AsyncReadExt;
use tollgate_jose::{KeySpec, PrivateKey};
use tollgate_server::tls::local_ca;

/// A CA and a localhost certificate in `dir/certs`, as an operator's own files would be.
fn certificate_files(dir: &std::path::Path) -> local_ca::LocalCa {
    local_ca::ensure(&dir.join("certs")).unwrap()
}

#[tokio::test]
async fn https_serves_a_client_that_trusts_the_ca_and_no_other() {
    let dir = Arc::new(tempfile::tempdir().unwrap());
    let ca = certificate_files(dir.path());
    let (cert, key) = (ca.cert_file.clone(), ca.key_file.clone());
    let server = TestServer::start_in_configured(dir, move |c| {
        c.tls_cert = Some(cert);
        c.tls_key = Some(key);
    })
    .await;
    assert!(server.base.starts_with("https://127.0.0.1:"), "{}", server.base);

    // Discovery names https endpoints under the https issuer.
    let doc: serde_json::Value =
        server.http.get(server.url("/.well-known/openid-configuration")).send().await.unwrap().json().await.unwrap();
    assert_eq!(doc["issuer"], server.base.as_str());
    assert!(doc["token_endpoint"].as_str().unwrap().starts_with("https://127.0.0.1:"), "{doc}");

    // The whole token flow over https, the assertion's `aud` the https token URL.
    let app_key = PrivateKey::generate(KeySpec::Rsa { bits: 2048 }).unwrap();
    let client_id = server.register_jwt_app(&[&app_key], &["okta.users.read"]).await;
    let assertion = sign(&app_key, &assertion_claims(&client_id, &server.issuer_url("/oauth2/v1/token")));
    let (status, body) = server.token_with(&assertion, "okta.users.read").await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["token_type"], "Bearer");

    // A client with only the platform's roots refuses the server's certificate itself.
    let err = reqwest::Client::new().get(server.url("/healthz")).send().await.unwrap_err();
    let chain = format!("{:?}", anyhow_chain(&err));
    assert!(err.is_connect() || chain.contains("certificate"), "{chain}");
    assert!(chain.to_lowercase().contains("certificate") || chain.contains("UnknownIssuer"), "{chain}");

    // Plain http on the https port gets no HTTP answer.
    let plain = server.url("/healthz").replacen("https://", "http://", 1);
    assert!(reqwest::Client::new().get(plain).send().await.is_err(), "http on the TLS port must fail");
    server.stop().await;
}

/// The error and its sources, as text.
fn anyhow_chain(err: &(dyn std::error::Error + 'static)) -> Vec<String> {
    let mut out = vec![err.to_string()];
    let mut source = err.source();
    while let Some(e) = source {
        out.push(format!("{e} / {e:?}"));
        source = e.source();
    }
    out
}

#[tokio::test]
async fn a_stalled_tls_handshake_is_closed_after_the_head_timeout() {
    let dir = Arc::new(tempfile::tempdir().unwrap());
    let ca = certificate_files(dir.path());
    let (cert, key) = (ca.cert_file.clone(), ca.key_file.clone());
    let server = TestServer::start_in_configured(dir, move |c| {
        c.tls_cert = Some(cert);
        c.tls_key = Some(key);
        c.request_head_timeout_seconds = 1;
        c.idle_timeout_seconds = 60;
    })
    .await;
    let addr = server.base.trim_start_matches("https://").to_string();
    let mut stream = tokio::net::TcpStream::connect(&addr).await.unwrap();
    // No ClientHello: the server must close well before the 60 s idle timeout.
    let started = std::time::Instant::now();
    let mut buf = [0u8; 16];
    let read = tokio::time::timeout(Duration::from_secs(10), stream.read(&mut buf)).await;
    assert!(matches!(read, Ok(Ok(0)) | Ok(Err(_))), "the connection was not closed: {read:?}");
    assert!(started.elapsed() < Duration::from_secs(5), "closed after {:?}", started.elapsed());
    // The slot is free again: the server still answers.
    let r = server.http.get(server.url("/healthz")).send().await.unwrap();
    assert_eq!(r.status(), 200);
    server.stop().await;
}

#[cfg(unix)]
fn mode(path: &std::path::Path) -> u32 {
    use std::os::unix::fs::PermissionsExt;
    std::fs::metadata(path).unwrap().permissions().mode() & 0o777
}

#[test]
fn the_local_ca_is_created_once_and_reused_while_valid() {
    let dir = tempfile::tempdir().unwrap();
    let demo = dir.path().join("demo");
    let first = local_ca::ensure(&demo).unwrap();
    assert!(first.ca_created && first.cert_created);
    let [ca_file, ca_key, cert_file, key_file] = local_ca::files(&demo);
    #[cfg(unix)]
    {
        assert_eq!(mode(&ca_key), 0o600, "the CA key is the owner's only");
        assert_eq!(mode(&key_file), 0o600, "the server key is the owner's only");
    }
    let read = |p: &std::path::Path| std::fs::read(p).unwrap();
    let (ca_pem, cert_pem) = (read(&ca_file), read(&cert_file));

    // A second start reuses everything.
    let second = local_ca::ensure(&demo).unwrap();
    assert!(!second.ca_created && !second.cert_created);
    assert_eq!(read(&ca_file), ca_pem);
    assert_eq!(read(&cert_file), cert_pem);

    // A lost server certificate is issued anew by the same CA: nothing to trust again.
    std::fs::remove_file(&cert_file).unwrap();
    let third = local_ca::ensure(&demo).unwrap();
    assert!(!third.ca_created && third.cert_created);
    assert_eq!(read(&ca_file), ca_pem);
    assert_ne!(read(&cert_file), cert_pem);

    // A server certificate from another CA is not kept.
    let other = local_ca::ensure(&dir.path().join("other")).unwrap();
    std::fs::copy(&other.cert_file, &cert_file).unwrap();
    std::fs::copy(&other.key_file, &key_file).unwrap();
    let fourth = local_ca::ensure(&demo).unwrap();
    assert!(!fourth.ca_created && fourth.cert_created);

    // A CA key that does not match the CA certificate: a new CA.
    std::fs::copy(local_ca::files(&dir.path().join("other"))[1].clone(), &ca_key).unwrap();
    let fifth = local_ca::ensure(&demo).unwrap();
    assert!(fifth.ca_created && fifth.cert_created);
    assert_ne!(read(&ca_file), ca_pem);
}

#[tokio::test]
async fn dev_tls_serves_https_with_the_local_ca_of_the_demo_folder() {
    let dir = Arc::new(tempfile::tempdir().unwrap());
    let demo = dir.path().join("demo");
    let demo_dir = demo.clone();
    let server = TestServer::start_in_configured(dir, move |c| {
        c.dev_dir = Some(demo_dir);
        c.dev_tls = true;
    })
    .await;
    assert!(server.base.starts_with("https://"), "{}", server.base);
    for f in local_ca::files(&demo) {
        assert!(f.exists(), "{} was created", f.display());
    }
    // The harness's client trusts demo/ca.pem and nothing else.
    let r = server.http.get(server.url("/healthz")).send().await.unwrap();
    assert_eq!(r.status(), 200);
    let ca_pem = std::fs::read(demo.join("ca.pem")).unwrap();
    let dir = server.stop().await;
    // A restart on the same folder keeps the CA clients already trust.
    let demo_dir = demo.clone();
    let again = TestServer::start_in_configured(dir, move |c| {
        c.dev_dir = Some(demo_dir);
        c.dev_tls = true;
    })
    .await;
    assert_eq!(std::fs::read(demo.join("ca.pem")).unwrap(), ca_pem);
    let r = again.http.get(again.url("/healthz")).send().await.unwrap();
    assert_eq!(r.status(), 200);
    again.stop().await;
}
