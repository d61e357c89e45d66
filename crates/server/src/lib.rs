//! `tollgate-server`: a self-hosted, Okta-compatible OAuth 2.0 authorization server for service apps.
//!
//! * [`oauth`]: token, keys, discovery, introspection, revocation — the org server and custom servers.
//! * `mgmt` (private): the management API, by resource (apps, authorization servers, users, DCR).
//! * [`cache`] and [`signing`]: what the token endpoint reads without touching the database.
//! * [`errors`]: Okta's two error shapes, in one place.
//!
//! [`serve`] binds, migrates, bootstraps and runs until shutdown; [`router`] is the bare axum app.

pub mod bootstrap;
pub mod cache;
pub mod clock;
pub mod cluster;
pub mod config;
pub mod dev;
pub mod errors;
pub mod ids;
pub mod master_key;
mod mgmt;
pub mod oauth;
pub mod secrets;
pub mod signing;
pub mod state;

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
    #[error("signing keys: {0}")]
    Signing(#[from] signing::SigningError),
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
}

fn normalize_issuer(issuer: &str) -> Result<String, ServeError> {
    let trimmed = issuer.trim_end_matches('/');
    let url = url::Url::parse(trimmed).map_err(|_| ServeError::Issuer(issuer.into()))?;
    if !matches!(url.scheme(), "http" | "https") || url.query().is_some() || url.fragment().is_some() {
        return Err(ServeError::Issuer(issuer.into()));
    }
    Ok(trimmed.to_string())
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
    let remote_jwks =
        oauth::remote_jwks::RemoteJwks::new(config.jwks_uri_cache_seconds, config.jwks_uri_refetch_seconds);
    let dpop_nonces = bootstrap::dpop_nonces(store.as_ref(), config.dpop_nonce_period_seconds).await?;
    let state =
        AppState(Arc::new(Inner { config, issuer, store, keys, clients, servers, hasher, remote_jwks, dpop_nonces }));
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

async fn request_id(req: axum::extract::Request, next: axum::middleware::Next) -> axum::response::Response {
    let mut resp = next.run(req).await;
    if let Ok(v) = HeaderValue::from_str(&ids::random_token(20)) {
        resp.headers_mut().insert("x-okta-request-id", v);
    }
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
        .merge(mgmt::routes())
        .fallback(not_found)
        .layer(axum::middleware::from_fn(request_id))
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
            let mut lifetimes: HashMap<String, i64> =
                s.servers.all().iter().map(|c| (c.server.id.clone(), c.server.access_token_lifetime)).collect();
            lifetimes.insert(tollgate_store::ORG_SERVER_ID.into(), state::ORG_TOKEN_LIFETIME);
            s.keys.rotate_due(&lifetimes).await;
            match s.store.prune_expired(clock::now_millis()).await {
                Ok(n) if n > 0 => tracing::debug!(rows = n, "pruned expired jti and revocations"),
                Ok(_) => {}
                Err(e) => tracing::warn!(error = %e, "pruning failed"),
            }
        }
    });
    // Changes made by other nodes: their notifications, and a periodic full reload as the safety net.
    cluster::spawn(state);
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
    let issuer = normalize_issuer(&config.issuer.clone().unwrap_or_else(|| format!("http://{addr}")))?;
    let dev_dir = config.dev_dir.clone();
    let (state, boot) = build_state(config, issuer.clone()).await?;
    let demo = match dev_dir {
        Some(dir) => Some(dev::seed(&state, &dir).await?),
        None => None,
    };
    spawn_background(&state);
    on_ready(&Ready { addr, issuer, generated_admin_token: boot.generated_admin_token, demo });
    axum::serve(listener, router(state)).with_graceful_shutdown(shutdown).await?;
    Ok(())
}
