//! `tollgate-server`: a self-hosted, Okta-compatible OAuth 2.0 authorization server for service apps.
//!
//! * [`oauth`]: token, keys, discovery, introspection, revocation — the org server and custom servers.
//! * `mgmt` (private): the management API, by resource (apps, authorization servers, users, DCR).
//! * [`cache`] and [`signing`]: what the token endpoint reads without touching the database.
//! * [`errors`]: Okta's two error shapes, in one place.
//! * [`console`]: the Admin Console under `/admin` (server-rendered pages over the management API).
//!
//! [`serve`] binds, migrates, bootstraps and runs until shutdown; [`router`] is the bare axum app.

pub mod bootstrap;
pub mod cache;
pub mod catalogue;
pub mod clock;
pub mod cluster;
pub mod config;
pub mod console;
pub mod dev;
pub mod errors;
mod filter_expr;
pub mod ids;
mod last_used;
pub mod listener;
pub mod master_key;
mod metrics;
mod mgmt;
pub mod oauth;
pub mod ratelimit;
pub mod secrets;
pub mod signing;
pub mod state;
mod syslog;
pub mod tls;

pub use config::Config;

use axum::Router;
use axum::http::{HeaderValue, StatusCode};
use axum::response::IntoResponse;
use state::{AppState, Inner};
use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

/// Why the server could not start or stopped with an error.
#[derive(Debug, thiserror::Error)]
pub enum ServeError {
    #[error("cannot listen on {0}: {1}")]
    Bind(String, #[source] std::io::Error),
    #[error("database {0}: {1}")]
    Database(String, #[source] tollgate_store::StoreError),
    #[error("start-up failed: {0}")]
    Bootstrap(#[from] bootstrap::BootstrapError),
    #[error("invalid issuer {0:?}: it must be an absolute http(s) URL without query or fragment")]
    Issuer(String),
    #[error("server error: {0}")]
    Io(#[from] std::io::Error),
    #[error("seeding the demo org: {0}")]
    Dev(#[from] dev::DevError),
    #[error(transparent)]
    MasterKey(#[from] master_key::MasterKeyError),
    #[error("outbound HTTP client: {0}")]
    Fetch(String),
    #[error("signing keys: {0}")]
    Signing(#[from] signing::SigningError),
    #[error(transparent)]
    Tls(#[from] tls::TlsError),
}

/// What the operator learns once the server is ready.
pub struct Ready {
    /// The bound address.
    pub addr: SocketAddr,
    /// The org issuer.
    pub issuer: String,
    /// An admin API token generated at first start, to be shown once.
    pub generated_admin_token: Option<String>,
    /// In dev mode, the demo org that was seeded.
    pub demo: Option<dev::DemoSeed>,
    /// Whether it serves https.
    pub https: bool,
    /// With `dev_tls`, the local CA's files (the CA certificate is what clients must trust).
    pub local_ca: Option<tls::local_ca::LocalCa>,
}

fn normalize_issuer(issuer: &str) -> Result<String, ServeError> {
    let trimmed = issuer.trim_end_matches('/');
    let url = url::Url::parse(trimmed).map_err(|_| ServeError::Issuer(issuer.into()))?;
    if !matches!(url.scheme(), "http" | "https") || url.query().is_some() || url.fragment().is_some() {
        return Err(ServeError::Issuer(issuer.into()));
    }
    Ok(trimmed.to_string())
}

/// The client for every URL the server fetches, under the outbound policy (see `tollgate-fetch`).
fn outbound_fetcher(config: &Config) -> Result<tollgate_fetch::Fetcher, ServeError> {
    if config.allow_private_fetch {
        tracing::warn!(
            "allow_private_fetch is on: outbound fetches (jwks_uri) may use http and reach loopback, private \
             and link-local addresses; never use this in production"
        );
    }
    let policy = tollgate_fetch::Policy { allow_private: config.allow_private_fetch };
    let limits = tollgate_fetch::Limits {
        max_body_bytes: oauth::remote_jwks::MAX_JWKS_BYTES,
        max_concurrent: config.fetch_max_concurrent,
        failure_ttl: Duration::from_secs(config.jwks_uri_failure_cache_seconds),
        ..Default::default()
    };
    tollgate_fetch::Fetcher::new(policy, limits).map_err(|e| ServeError::Fetch(e.to_string()))
}

/// Builds the shared state: opens the store, bootstraps, fills the caches.
pub async fn build_state(config: Config, issuer: String) -> Result<(AppState, bootstrap::Bootstrapped), ServeError> {
    let redacted = tollgate_store::redact_url(&config.database_url);
    let store =
        tollgate_store::open(&config.database_url).await.map_err(|e| ServeError::Database(redacted.clone(), e))?;
    let master = Arc::new(master_key::MasterKeys::load(&config.master_key_source(), &config.database_url)?);
    let hasher = bootstrap::secret_hasher(store.as_ref()).await?;
    let keys = signing::KeyRings::new(store.clone(), config.key_rotation_days, master);
    keys.reseal_all().await?;
    let boot = bootstrap::run(&store, &keys, &hasher, config.admin_token.as_deref()).await?;
    let clients = cache::ClientCache::new(&issuer);
    clients.reload_all(store.as_ref()).await.map_err(|e| ServeError::Database(redacted.clone(), e))?;
    let servers = cache::ServerCache::default();
    servers.reload_all(store.as_ref()).await.map_err(|e| ServeError::Database(redacted, e))?;
    let remote_jwks = oauth::remote_jwks::RemoteJwks::new(
        outbound_fetcher(&config)?,
        config.jwks_uri_cache_seconds,
        config.jwks_uri_refetch_seconds,
        config.jwks_uri_failure_cache_seconds,
    );
    let dpop_nonces = bootstrap::dpop_nonces(store.as_ref(), config.dpop_nonce_period_seconds).await?;
    let log = syslog::EventLog::new(store.clone(), config.system_log, 100_000);
    let metrics = Arc::new(metrics::Metrics::new(remote_jwks.outcomes()));
    let limiter = ratelimit::Limiter::new(&config.rate_limits);
    let last_used = Arc::new(last_used::LastUsed::new(Duration::from_secs(config.last_used_interval_seconds)));
    let state = AppState(Arc::new(Inner {
        config,
        issuer,
        store,
        keys,
        clients,
        servers,
        hasher,
        remote_jwks,
        log,
        metrics,
        dpop_nonces,
        limiter,
        last_used,
    }));
    Ok((state, boot))
}

async fn healthz(axum::extract::State(state): axum::extract::State<AppState>) -> axum::response::Response {
    match state.store.ping().await {
        Ok(()) => (StatusCode::OK, "ok").into_response(),
        Err(e) => {
            tracing::error!(error = %e, "health check: database unreachable");
            (StatusCode::SERVICE_UNAVAILABLE, "database unreachable").into_response()
        }
    }
}

async fn not_found(uri: axum::http::Uri) -> errors::ApiError {
    errors::ApiError::not_found(uri.path(), "Resource")
}

/// A known path with a method it does not take: 405 with Okta's body, in the shape of the path's API: the
/// OAuth endpoints (`/oauth2/...` but the management API's client roles, `/.well-known/...`, the Access
/// Gateway's token endpoint) answer `{"error","error_description"}`, the rest Okta's E0000022. axum adds
/// the `Allow` header.
async fn method_not_allowed(uri: axum::http::Uri) -> axum::response::Response {
    const TEXT: &str = "The endpoint does not support the provided HTTP method";
    let path = uri.path();
    let oauth = (path.starts_with("/oauth2/") && !path.contains("/roles"))
        || path.starts_with("/.well-known/")
        || path == "/api/v2/oauth/token";
    if oauth {
        errors::OAuthError::new(StatusCode::METHOD_NOT_ALLOWED, "invalid_request", TEXT).into_response()
    } else {
        errors::ApiError::new(StatusCode::METHOD_NOT_ALLOWED, "E0000022", TEXT).into_response()
    }
}

/// Gives every request its id (sent back as `X-Okta-Request-Id`, and the System Log's `transaction.id`)
/// and the context the System Log records: the peer address and the user agent.
async fn request_context(mut req: axum::extract::Request, next: axum::middleware::Next) -> axum::response::Response {
    let request_id = ids::random_token(20);
    let ip = req
        .extensions()
        .get::<axum::extract::ConnectInfo<SocketAddr>>()
        .map(|c| c.0.ip().to_string())
        .unwrap_or_default();
    let user_agent = req
        .headers()
        .get(axum::http::header::USER_AGENT)
        .and_then(|v| v.to_str().ok())
        .map(|ua| ua.chars().take(512).collect())
        .unwrap_or_default();
    req.extensions_mut().insert(syslog::RequestContext { request_id: request_id.clone(), ip, user_agent });
    let mut resp = next.run(req).await;
    if let Ok(v) = HeaderValue::from_str(&request_id) {
        resp.headers_mut().insert("x-okta-request-id", v);
    }
    resp
}

/// Times each routed request for the latency histogram, labelled by its route template.
async fn observe_latency(
    axum::extract::State(state): axum::extract::State<AppState>,
    matched: Option<axum::extract::MatchedPath>,
    req: axum::extract::Request,
    next: axum::middleware::Next,
) -> axum::response::Response {
    let start = std::time::Instant::now();
    let method = req.method().as_str().to_string();
    let resp = next.run(req).await;
    let route = matched.map(|m| m.as_str().to_string()).unwrap_or_else(|| "unmatched".into());
    let status = format!("{}xx", resp.status().as_u16() / 100);
    state
        .metrics
        .requests
        .get_or_create(&metrics::RouteLabels { method, route, status })
        .observe(start.elapsed().as_secs_f64());
    resp
}

/// The whole HTTP application.
pub fn router(state: AppState) -> Router {
    let trace = tower_http::trace::TraceLayer::new_for_http().make_span_with(|req: &axum::http::Request<_>| {
        // The path only: query strings may carry credentials that must never reach a log.
        tracing::info_span!("request", method = %req.method(), path = %req.uri().path())
    });
    Router::new()
        .route("/healthz", axum::routing::get(healthz))
        .merge(oauth::routes())
        .merge(console::routes(&state))
        .merge(mgmt::routes().route_layer(axum::middleware::from_fn_with_state(state.clone(), syslog::audit::audit)))
        .route_layer(axum::middleware::from_fn_with_state(state.clone(), ratelimit::layer))
        .route_layer(axum::middleware::from_fn_with_state(state.clone(), observe_latency))
        .method_not_allowed_fallback(method_not_allowed)
        .fallback(not_found)
        .layer(axum::middleware::from_fn_with_state(
            Duration::from_secs(state.config.request_timeout_seconds.max(1)),
            listener::request_timeout,
        ))
        .layer(axum::middleware::from_fn(request_context))
        .layer(trace)
        .with_state(state)
}

fn spawn_background(state: &AppState) {
    // Key rotation and pruning of expired replay / revocation rows: once a minute (maintenance_seconds).
    let s = state.clone();
    tokio::spawn(async move {
        let mut tick = tokio::time::interval(Duration::from_secs(s.config.maintenance_seconds.max(1)));
        loop {
            tick.tick().await;
            // Servers with `rotationMode: MANUAL` are left out: they rotate only on request (keyRotate).
            let mut lifetimes: HashMap<String, i64> = s
                .servers
                .all()
                .iter()
                .filter(|c| c.server.rotation_mode != "MANUAL")
                .map(|c| (c.server.id.clone(), c.longest_token_lifetime()))
                .collect();
            lifetimes.insert(tollgate_store::ORG_SERVER_ID.into(), oauth::rules::ORG_TOKEN_LIFETIME);
            for r in s.keys.rotate_due(&lifetimes).await {
                let server = if r.server_id == tollgate_store::ORG_SERVER_ID { "org" } else { r.server_id.as_str() };
                s.log.record(
                    syslog::Event::new(
                        "app.oauth2.as.key.rollover",
                        "Authorization server signing key rotated on schedule",
                        syslog::Party::system(),
                    )
                    .target(syslog::Party::new(&r.server_id, "AuthorizationServer", server, server))
                    .debug("previousKid", r.previous_kid)
                    .debug("activeKid", r.active_kid),
                );
            }
            match s.store.prune_expired(clock::now_millis()).await {
                Ok(n) if n > 0 => tracing::debug!(rows = n, "pruned expired jti and revocations"),
                Ok(_) => {}
                Err(e) => tracing::warn!(error = %e, "pruning failed"),
            }
            let retention_ms = i64::from(s.config.log_retention_days) * 86_400_000;
            if s.log.enabled()
                && let Err(e) = s.store.prune_log_events(clock::now_millis() - retention_ms).await
            {
                tracing::warn!(error = %e, "pruning the System Log failed");
            }
        }
    });
    // Changes made by other nodes: their notifications, and a periodic full reload as the safety net.
    cluster::spawn(state);
    // The node heartbeat (live nodes share the rate limits) and the token quota counts of every node.
    ratelimit::quota::spawn(state);
    state.log.spawn(Duration::from_millis(state.config.log_flush_millis.max(10)));
    state.last_used.spawn(state.store.clone());
}

/// Binds, starts and serves until `shutdown` resolves; calls `on_ready` once it accepts connections.
pub async fn serve(
    config: Config,
    on_ready: impl FnOnce(&Ready),
    shutdown: impl std::future::Future<Output = ()> + Send + 'static,
) -> Result<(), ServeError> {
    let listener =
        tokio::net::TcpListener::bind(&config.listen).await.map_err(|e| ServeError::Bind(config.listen.clone(), e))?;
    let addr = listener.local_addr()?;
    let tls = tls::from_config(&config)?;
    let scheme = if tls.is_some() { "https" } else { "http" };
    let issuer = normalize_issuer(&config.issuer.clone().unwrap_or_else(|| format!("{scheme}://{addr}")))?;
    if tls.is_some() && !issuer.starts_with("https://") {
        return Err(tls::TlsError::HttpIssuer(issuer).into());
    }
    let (acceptor, local_ca) = match tls {
        Some((server, ca)) => (Some(tokio_rustls::TlsAcceptor::from(server)), ca),
        None => (None, None),
    };
    let dev_dir = config.dev_dir.clone();
    let (state, boot) = build_state(config, issuer.clone()).await?;
    let demo = match dev_dir {
        Some(dir) => Some(dev::seed(&state, &dir).await?),
        None => None,
    };
    let metrics_listener = match &state.config.metrics_listen {
        Some(at) => Some(tokio::net::TcpListener::bind(at).await.map_err(|e| ServeError::Bind(at.clone(), e))?),
        None => None,
    };
    // Before serving: learn the live nodes and the quota counts of earlier runs and other nodes.
    ratelimit::quota::sync_once(&state).await;
    spawn_background(&state);
    if let Some(listener) = metrics_listener {
        tracing::info!(addr = ?listener.local_addr().ok(), "metrics at /metrics");
        let app = metrics_router(state.clone());
        tokio::spawn(async move {
            if let Err(e) = axum::serve(listener, app).await {
                tracing::error!(error = %e, "metrics listener stopped");
            }
        });
    }
    let https = acceptor.is_some();
    on_ready(&Ready { addr, issuer, generated_admin_token: boot.generated_admin_token, demo, https, local_ca });
    let limits = listener::Limits::from_config(&state.config);
    let served = listener::run(listener, acceptor, router(state.clone()), limits, shutdown).await;
    // Token quota counts are written too, so a restarted node (or the others) still counts them.
    ratelimit::quota::sync_once(&state).await;
    ratelimit::quota::leave(&state).await;
    if let Err(e) = state.last_used.flush(state.store.as_ref(), clock::now_millis()).await {
        tracing::warn!(error = %e, "recording when credentials were last used failed at shutdown");
    }
    // Whatever ended the serving, what the System Log holds in memory is written before the process goes.
    if let Err(e) = state.log.flush().await {
        tracing::error!(error = %e, pending = state.log.pending(), "System Log events lost at shutdown");
    }
    served?;
    Ok(())
}

/// `GET /metrics` (Prometheus text format), for the separate metrics listener.
fn metrics_router(state: AppState) -> Router {
    Router::new()
        .route(
            "/metrics",
            axum::routing::get(|axum::extract::State(state): axum::extract::State<AppState>| async move {
                let m = &state.metrics;
                m.cached_clients.set(state.clients.len() as i64);
                m.cached_servers.set(state.servers.all().len() as i64);
                m.log_pending.set(state.log.pending() as i64);
                m.log_written.inner().store(state.log.written(), std::sync::atomic::Ordering::Relaxed);
                m.log_dropped.inner().store(state.log.dropped(), std::sync::atomic::Ordering::Relaxed);
                (
                    [(axum::http::header::CONTENT_TYPE, "application/openmetrics-text; version=1.0.0; charset=utf-8")],
                    m.encode(),
                )
            }),
        )
        .with_state(state)
}
