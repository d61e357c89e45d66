//! Slow and idle clients are bounded: a half-sent request head is cut off after the head timeout, a silent
//! connection after the idle timeout, and a slow request gets a 503 in Okta's shape.
use crate::harness::*;
use std::time::{Duration, Instant};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

/// Reads until the server closes the connection (or `limit` passes); how long that took.
async fn wait_for_close(stream: &mut tokio::net::TcpStream, limit: Duration) -> Option<Duration> {
    let start = Instant::now();
    let mut buf = [0u8; 1024];
    loop {
        match tokio::time::timeout(limit.saturating_sub(start.elapsed()), stream.read(&mut buf)).await {
            Err(_) => return None,
            Ok(Ok(0)) | Ok(Err(_)) => return Some(start.elapsed()),
            Ok(Ok(_)) => {}
        }
    }
}

#[tokio::test]
async fn a_half_sent_request_head_is_disconnected_after_the_head_timeout() {
    let server = TestServer::start_configured(|c| {
        c.request_head_timeout_seconds = 1;
        c.idle_timeout_seconds = 30;
    })
    .await;
    let mut stream = tokio::net::TcpStream::connect(server.base.trim_start_matches("http://")).await.unwrap();
    stream.write_all(b"GET /healthz HTTP/1.1\r\nHost: x\r\n").await.unwrap();
    let closed = wait_for_close(&mut stream, Duration::from_secs(10)).await;
    let closed = closed.expect("the server kept a half-sent head open for 10 s");
    assert!(closed >= Duration::from_millis(900), "closed too early: {closed:?}");
    server.stop().await;
}

#[tokio::test]
async fn a_connection_that_sends_nothing_is_closed_after_the_idle_timeout() {
    let server = TestServer::start_configured(|c| {
        c.request_head_timeout_seconds = 30;
        c.idle_timeout_seconds = 1;
    })
    .await;
    let mut stream = tokio::net::TcpStream::connect(server.base.trim_start_matches("http://")).await.unwrap();
    let closed = wait_for_close(&mut stream, Duration::from_secs(10)).await;
    assert!(closed.is_some(), "a silent connection stayed open for 10 s");
    server.stop().await;
}

#[tokio::test]
async fn a_request_whose_body_never_arrives_gets_a_503_after_the_request_timeout() {
    let server = TestServer::start_configured(|c| c.request_timeout_seconds = 1).await;
    let mut stream = tokio::net::TcpStream::connect(server.base.trim_start_matches("http://")).await.unwrap();
    stream
        .write_all(
            format!(
                "POST /api/v1/apps HTTP/1.1\r\nHost: x\r\nAuthorization: SSWS {ADMIN}\r\nContent-Type: application/json\r\nContent-Length: 100\r\n\r\n{{"
            )
            .as_bytes(),
        )
        .await
        .unwrap();
    let mut buf = vec![0u8; 4096];
    let n = tokio::time::timeout(Duration::from_secs(10), stream.read(&mut buf)).await.unwrap().unwrap();
    let text = String::from_utf8_lossy(&buf[..n]);
    assert!(text.starts_with("HTTP/1.1 503"), "{text}");
    assert!(text.contains("E0000010"), "{text}");
    server.stop().await;
}

#[tokio::test]
async fn stop_returns_within_the_grace_period_with_a_stuck_client_connected() {
    let server = TestServer::start_configured(|c| c.shutdown_grace_seconds = 1).await;
    let mut stuck = tokio::net::TcpStream::connect(server.base.trim_start_matches("http://")).await.unwrap();
    stuck.write_all(b"POST /api/v1/apps HTTP/1.1\r\nHost: x\r\nContent-Length: 100\r\n\r\n").await.unwrap();
    tokio::time::sleep(Duration::from_millis(200)).await;
    let start = Instant::now();
    tokio::time::timeout(Duration::from_secs(5), server.stop()).await.expect("stop hung");
    assert!(start.elapsed() < Duration::from_secs(4));
}
