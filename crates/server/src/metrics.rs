//! Prometheus metrics (`prometheus-client`, text exposition format), served on their own listener
//! (`--metrics-listen`), off by default: the numbers say how busy the server is, which is not for every
//! caller of the API port. Labels are bounded sets: servers, auth methods, OAuth error codes (never an
//! error description, which can quote input), route templates (never raw paths).
use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::histogram::Histogram;
use prometheus_client::registry::Registry;
use std::sync::atomic::AtomicU64;

/// A token request's outcome.
#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub(crate) struct TokenLabels {
    /// `org`, `oag`, or a custom server's id.
    pub(crate) server: String,
    /// `private_key_jwt`, `client_secret_basic`, `client_secret_post`, or `none` when refused before.
    pub(crate) auth_method: String,
    /// `success` or `failure`.
    pub(crate) result: String,
    /// The OAuth `error` code of a refusal; empty on success.
    pub(crate) error: String,
}

/// One HTTP request.
#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub(crate) struct RouteLabels {
    pub(crate) method: String,
    /// The route template (`/api/v1/apps/{id}`), or `unmatched`.
    pub(crate) route: String,
    /// `2xx`, `4xx`, `5xx`, ...
    pub(crate) status: String,
}

/// One outbound fetch (a client's `jwks_uri`).
#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub(crate) struct FetchLabels {
    /// `ok`, `refused` (by the outbound policy), `failed`, `cached_failure`.
    pub(crate) result: String,
}

/// A request past a rate limit (`tollgate_rate_limited_total`) or reaching its warning threshold.
#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub(crate) struct RateLimitLabels {
    /// `token`, `oauth2`, `dcr`, `apps`, `users`, `logs`, `api`.
    pub(crate) bucket: String,
    /// `org` (the bucket), `app` (an app's or API token's share), `ip` (unauthenticated calls).
    pub(crate) scope: String,
    /// `refused`, `monitored` (monitor mode: let through), `warned`.
    pub(crate) action: String,
}

/// A token quota refusal or warning.
#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub(crate) struct QuotaLabels {
    /// `hour` or `day`.
    pub(crate) period: String,
    /// `refused`, `monitored`, `warned`.
    pub(crate) action: String,
}

/// Store operations that failed (the database unreachable or erroring), counted where a store error
/// becomes a 503 — one place for every route, hence process-wide rather than per state.
pub(crate) static DATABASE_ERRORS: std::sync::LazyLock<Counter> = std::sync::LazyLock::new(Counter::default);

/// Every metric the server keeps.
pub(crate) struct Metrics {
    registry: Registry,
    pub(crate) tokens: Family<TokenLabels, Counter>,
    pub(crate) requests: Family<RouteLabels, Histogram, fn() -> Histogram>,
    pub(crate) cached_clients: Gauge,
    pub(crate) cached_servers: Gauge,
    pub(crate) log_pending: Gauge,
    pub(crate) log_written: Counter<u64, AtomicU64>,
    pub(crate) log_dropped: Counter<u64, AtomicU64>,
    pub(crate) rate_limited: Family<RateLimitLabels, Counter>,
    pub(crate) rate_limit_warnings: Family<RateLimitLabels, Counter>,
    pub(crate) token_quota: Family<QuotaLabels, Counter>,
    pub(crate) cluster_nodes: Gauge,
}

fn latency_histogram() -> Histogram {
    // 0.5 ms to ~4 s: a token request takes about a millisecond of CPU; anything near seconds is a fault.
    Histogram::new([0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0])
}

impl Metrics {
    /// The registry, with `outbound_fetches` counted where the fetches happen (the remote JWKS cache).
    pub(crate) fn new(outbound_fetches: Family<FetchLabels, Counter>) -> Self {
        let mut registry = Registry::with_prefix("tollgate");
        let tokens = Family::<TokenLabels, Counter>::default();
        registry.register("token_requests", "Token requests by server, client auth method and outcome", tokens.clone());
        let requests = Family::<RouteLabels, Histogram, fn() -> Histogram>::new_with_constructor(latency_histogram);
        registry.register("http_request_duration_seconds", "HTTP request latency by route", requests.clone());
        registry.register("database_errors", "Store operations that failed", DATABASE_ERRORS.clone());
        registry.register("outbound_fetches", "Outbound fetches (jwks_uri) by result", outbound_fetches);
        let cached_clients = Gauge::default();
        registry.register("cached_clients", "Clients in the token endpoint's cache", cached_clients.clone());
        let cached_servers = Gauge::default();
        registry.register(
            "cached_authorization_servers",
            "Custom authorization servers cached",
            cached_servers.clone(),
        );
        let log_pending = Gauge::default();
        registry.register("system_log_pending_events", "System Log events waiting to be written", log_pending.clone());
        let log_written = Counter::<u64, AtomicU64>::default();
        registry.register("system_log_written_events", "System Log events written", log_written.clone());
        let log_dropped = Counter::<u64, AtomicU64>::default();
        registry.register("system_log_dropped_events", "System Log events dropped (buffer full)", log_dropped.clone());
        let rate_limited = Family::<RateLimitLabels, Counter>::default();
        registry.register(
            "rate_limited",
            "Requests past a rate limit, by bucket, scope and action",
            rate_limited.clone(),
        );
        let rate_limit_warnings = Family::<RateLimitLabels, Counter>::default();
        registry.register(
            "rate_limit_warnings",
            "Rate limit counters reaching their warning threshold",
            rate_limit_warnings.clone(),
        );
        let token_quota = Family::<QuotaLabels, Counter>::default();
        registry.register(
            "token_quota_events",
            "Token quota refusals, monitored excesses and warnings",
            token_quota.clone(),
        );
        let cluster_nodes = Gauge::default();
        registry.register("cluster_nodes", "Live nodes sharing the rate limits", cluster_nodes.clone());
        Metrics {
            registry,
            tokens,
            requests,
            cached_clients,
            cached_servers,
            log_pending,
            log_written,
            log_dropped,
            rate_limited,
            rate_limit_warnings,
            token_quota,
            cluster_nodes,
        }
    }

    /// The text exposition of every metric.
    pub(crate) fn encode(&self) -> String {
        let mut out = String::new();
        if prometheus_client::encoding::text::encode(&mut out, &self.registry).is_err() {
            tracing::warn!("encoding metrics failed");
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn exposes_named_metrics_in_text_format() {
        let m = Metrics::new(Family::default());
        m.tokens
            .get_or_create(&TokenLabels {
                server: "org".into(),
                auth_method: "private_key_jwt".into(),
                result: "success".into(),
                error: String::new(),
            })
            .inc();
        m.requests
            .get_or_create(&RouteLabels {
                method: "POST".into(),
                route: "/oauth2/v1/token".into(),
                status: "2xx".into(),
            })
            .observe(0.002);
        let text = m.encode();
        assert!(
            text.contains(
                "tollgate_token_requests_total{server=\"org\",auth_method=\"private_key_jwt\",result=\"success\",error=\"\"} 1"
            ),
            "{text}"
        );
        assert!(text.contains("tollgate_http_request_duration_seconds_bucket{le=\"0.0025\",method=\"POST\",route=\"/oauth2/v1/token\",status=\"2xx\"} 1"), "{text}");
        assert!(text.contains("# TYPE tollgate_database_errors counter"));
        assert!(text.ends_with("# EOF\n"));
    }
}
