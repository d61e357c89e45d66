//! The accept loop, in place of `axum::serve`, so that slow and idle clients are bounded and shutdown has a
//! deadline:
//!
//! * a connection cap (`max_connections`): past it, new connections wait in the kernel's backlog;
//! * a request-head timeout (`request_head_timeout_seconds`, hyper's HTTP/1 `header_read_timeout`), which
//!   hyper also applies while a keep-alive connection waits for its next request;
//! * an idle timeout (`idle_timeout_seconds`): a connection with no request running and none started for
//!   that long is closed — this also catches a client that sends nothing at all (before hyper knows whether
//!   it speaks HTTP/1 or HTTP/2) and idle HTTP/2 connections;
//! * a whole-request timeout (`request_timeout_seconds`, [`request_timeout`]): a 503 in Okta's shape;
//! * on shutdown: stop accepting, let requests in flight finish for `shutdown_grace_seconds`, then return
//!   whatever connections remain;
//! * with TLS ([`crate::tls`]), the handshake must finish within the request-head timeout, so a client that
//!   connects and then stalls (or dribbles its ClientHello) holds a connection slot no longer than a slow
//!   HTTP/1 head would; a handshake still running at shutdown is dropped.
use crate::config::Config;
use axum::Router;
use hyper_util::rt::{TokioExecutor, TokioIo, TokioTimer};
use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::time::{Duration, Instant};
use tokio::net::TcpListener;
use tokio::sync::{Semaphore, mpsc, watch};

/// The timeouts and caps of [`run`], from the configuration.
#[derive(Debug, Clone)]
pub struct Limits {
    pub max_connections: usize,
    pub head_timeout: Duration,
    pub idle_timeout: Duration,
    pub shutdown_grace: Duration,
}

impl Limits {
    /// From the server configuration (zero durations are raised to one second).
    pub fn from_config(c: &Config) -> Limits {
        let secs = |s: u64| Duration::from_secs(s.max(1));
        Limits {
            max_connections: c.max_connections.max(1),
            head_timeout: secs(c.request_head_timeout_seconds),
            idle_timeout: secs(c.idle_timeout_seconds),
            shutdown_grace: Duration::from_secs(c.shutdown_grace_seconds),
        }
    }
}

/// When a connection last started or finished a request, and how many it is running.
struct Activity {
    epoch: Instant,
    last_millis: AtomicU64,
    running: AtomicUsize,
}

impl Activity {
    fn new() -> Arc<Activity> {
        Arc::new(Activity { epoch: Instant::now(), last_millis: AtomicU64::new(0), running: AtomicUsize::new(0) })
    }
    fn touch(&self) {
        let ms = u64::try_from(self.epoch.elapsed().as_millis()).unwrap_or(u64::MAX);
        self.last_millis.store(ms, Ordering::Relaxed);
    }
    fn idle_for(&self) -> Option<Duration> {
        if self.running.load(Ordering::Relaxed) > 0 {
            return None;
        }
        let last = Duration::from_millis(self.last_millis.load(Ordering::Relaxed));
        Some(self.epoch.elapsed().saturating_sub(last))
    }
}

struct Running(Arc<Activity>);

impl Running {
    fn begin(activity: &Arc<Activity>) -> Running {
        activity.running.fetch_add(1, Ordering::Relaxed);
        activity.touch();
        Running(activity.clone())
    }
}

impl Drop for Running {
    fn drop(&mut self) {
        self.0.touch();
        self.0.running.fetch_sub(1, Ordering::Relaxed);
    }
}

type ConnBuilder = hyper_util::server::conn::auto::Builder<TokioExecutor>;

/// Serves `app` on `listener` (over TLS with `tls`) until `shutdown` resolves, then drains (see the module
/// docs).
pub async fn run(
    listener: TcpListener,
    tls: Option<tokio_rustls::TlsAcceptor>,
    app: Router,
    limits: Limits,
    shutdown: impl std::future::Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    let mut builder = hyper_util::server::conn::auto::Builder::new(TokioExecutor::new());
    builder.http1().timer(TokioTimer::new()).header_read_timeout(limits.head_timeout);
    builder
        .http2()
        .timer(TokioTimer::new())
        .keep_alive_interval(limits.idle_timeout)
        .keep_alive_timeout(limits.head_timeout);
    let builder = Arc::new(builder);
    let permits = Arc::new(Semaphore::new(limits.max_connections));
    let (stop_tx, stop_rx) = watch::channel(false);
    // Every connection task holds a sender; when all are dropped, `recv` answers None: drained.
    let (alive_tx, mut alive_rx) = mpsc::channel::<()>(1);
    tokio::pin!(shutdown);
    loop {
        let permit = tokio::select! {
            _ = &mut shutdown => break,
            p = permits.clone().acquire_owned() => match p { Ok(p) => p, Err(_) => break },
        };
        let (stream, peer) = tokio::select! {
            _ = &mut shutdown => break,
            accepted = listener.accept() => match accepted {
                Ok(s) => s,
                Err(e) => {
                    // Out of file descriptors and the like: pause instead of spinning.
                    tracing::warn!(error = %e, "accept failed");
                    tokio::time::sleep(Duration::from_millis(50)).await;
                    continue;
                }
            },
        };
        let (builder, app, limits, mut stop_rx, alive, tls) =
            (builder.clone(), app.clone(), limits.clone(), stop_rx.clone(), alive_tx.clone(), tls.clone());
        tokio::spawn(async move {
            let _permit = permit;
            let _alive = alive;
            let Some(acceptor) = tls else {
                return serve_connection(stream, peer, &builder, app, &limits, stop_rx).await;
            };
            let handshake = tokio::time::timeout(limits.head_timeout, acceptor.accept(stream));
            let stream = tokio::select! {
                done = handshake => match done {
                    Ok(Ok(stream)) => stream,
                    Ok(Err(e)) => {
                        tracing::debug!(peer = %peer, error = %e, "TLS handshake failed");
                        return;
                    }
                    Err(_) => {
                        tracing::debug!(peer = %peer, "TLS handshake timed out");
                        return;
                    }
                },
                _ = stop_rx.changed() => return,
            };
            serve_connection(stream, peer, &builder, app, &limits, stop_rx).await;
        });
    }
    drop(listener);
    let _ = stop_tx.send(true);
    drop(alive_tx);
    let in_flight = limits.max_connections - permits.available_permits();
    tracing::info!(connections = in_flight, grace_seconds = limits.shutdown_grace.as_secs(), "draining connections");
    if tokio::time::timeout(limits.shutdown_grace, alive_rx.recv()).await.is_err() {
        tracing::warn!("shutdown deadline reached; closing the remaining connections");
    }
    Ok(())
}

/// Serves one connection (plain or TLS) until it closes, goes idle, or the server's shutdown deadline passes.
async fn serve_connection<I>(
    io: I,
    peer: SocketAddr,
    builder: &ConnBuilder,
    app: Router,
    limits: &Limits,
    mut stop_rx: watch::Receiver<bool>,
) where
    I: tokio::io::AsyncRead + tokio::io::AsyncWrite + Unpin + Send + 'static,
{
    let activity = Activity::new();
    activity.touch();
    let seen = activity.clone();
    let service = hyper::service::service_fn(move |req: hyper::Request<hyper::body::Incoming>| {
        let running = Running::begin(&seen);
        let app = app.clone();
        let mut req = req.map(axum::body::Body::new);
        // The peer's address, for the System Log's `client.ipAddress`.
        req.extensions_mut().insert(axum::extract::ConnectInfo(peer));
        async move {
            let resp = tower::ServiceExt::oneshot(app, req).await;
            drop(running);
            resp
        }
    });
    let conn = builder.serve_connection_with_upgrades(TokioIo::new(io), service);
    tokio::pin!(conn);
    let mut tick = tokio::time::interval(limits.idle_timeout / 4);
    // Once asked to close, a connection gets this long before it is dropped.
    let mut hard_deadline: Option<tokio::time::Instant> = None;
    loop {
        tokio::select! {
            _ = conn.as_mut() => break,
            _ = tick.tick() => {
                if let Some(at) = hard_deadline {
                    if tokio::time::Instant::now() >= at { break; }
                } else if activity.idle_for().is_some_and(|idle| idle >= limits.idle_timeout) {
                    conn.as_mut().graceful_shutdown();
                    hard_deadline = Some(tokio::time::Instant::now() + limits.head_timeout);
                }
            }
            changed = stop_rx.changed(), if hard_deadline.is_none() => {
                let _ = changed;
                conn.as_mut().graceful_shutdown();
                // The server's own deadline ends the wait; a connection with nothing running goes at once.
                hard_deadline = Some(tokio::time::Instant::now() + limits.shutdown_grace);
                if activity.idle_for().is_some() { break; }
            }
        }
    }
}

/// Answers a request that takes longer than `request_timeout_seconds` (a slow upload or a stuck handler)
/// with 503, in the OAuth shape under the OAuth paths and the management API's shape elsewhere.
pub async fn request_timeout(
    axum::extract::State(limit): axum::extract::State<Duration>,
    req: axum::extract::Request,
    next: axum::middleware::Next,
) -> axum::response::Response {
    use axum::response::IntoResponse;
    let oauth = {
        let p = req.uri().path();
        p.starts_with("/oauth2/") || p.starts_with("/api/v2/oauth/")
    };
    match tokio::time::timeout(limit, next.run(req)).await {
        Ok(resp) => resp,
        Err(_) if oauth => crate::errors::OAuthError::unavailable("request timed out").into_response(),
        Err(_) => crate::errors::ApiError::unavailable("request timed out").into_response(),
    }
}
