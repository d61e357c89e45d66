//! Server configuration: one typed struct, read from TOML (`--config`) with flags and `TOLLGATE_*`
//! variables layered on top by the CLI. Unknown keys are an error, so a typo never silently does nothing.
use serde::Deserialize;

/// Everything `tollgate serve` can be told.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Config {
    /// Address to listen on; port 0 picks a free port.
    pub listen: String,
    /// The org authorization server's issuer; `http://` (`https://` when serving TLS) + the bound address
    /// when unset.
    pub issuer: Option<String>,
    /// Serve HTTPS with this PEM certificate chain (leaf first); needs `tls_key`.
    pub tls_cert: Option<std::path::PathBuf>,
    /// The PEM private key (PKCS#8, PKCS#1 or SEC1) of `tls_cert`.
    pub tls_key: Option<std::path::PathBuf>,
    /// `sqlite://path` (created when missing) or `postgres://...`.
    pub database_url: String,
    /// An admin API token to accept as `SSWS <token>`; stored hashed.
    pub admin_token: Option<String>,
    /// How often authorization-server signing keys rotate, in days.
    pub key_rotation_days: u32,
    /// Clock skew tolerated on client assertions' `exp`, `nbf` and `iat`, in seconds.
    pub assertion_leeway_seconds: u64,
    /// How long a client's `jwks_uri` answer is trusted before it is fetched again, in seconds.
    pub jwks_uri_cache_seconds: u64,
    /// The shortest interval between two fetches of a client's `jwks_uri` forced by an unknown `kid`.
    pub jwks_uri_refetch_seconds: u64,
    /// How often each node reloads clients, keys and grants from the database (safety net), in seconds.
    pub cache_refresh_seconds: u64,
    /// How often each node checks whether signing keys are due to rotate (and prunes expired replay and
    /// revocation rows), in seconds. However many nodes check, one rotates.
    pub maintenance_seconds: u64,
    /// Largest request body accepted by the OAuth endpoints and the management API, in bytes.
    pub max_body_bytes: usize,
    /// How often the DPoP nonce (`DPoP-Nonce`) changes, in seconds; a nonce stays accepted for three
    /// further periods. Okta's: renewed daily, the old one still good for three days.
    pub dpop_nonce_period_seconds: u64,
    /// Keep a System Log (`GET /api/v1/logs`) of token grants, refusals and management changes.
    pub system_log: bool,
    /// How long System Log events are kept, in days (pruned by the maintenance task).
    pub log_retention_days: u32,
    /// How often buffered System Log events are written (a batch is also written as soon as it fills),
    /// in milliseconds. A `kill -9` loses at most this much.
    pub log_flush_millis: u64,
    /// How often at most `lastUsed` of an app key or client secret is written, per credential, in seconds
    /// (the token endpoint only notes uses in memory; see `last_used.rs`).
    pub last_used_interval_seconds: u64,
    /// Serve Prometheus metrics at `GET /metrics` on this address (`127.0.0.1:9090`); off when unset.
    pub metrics_listen: Option<String>,
    /// Development and tests only: let outbound fetches (a client's `jwks_uri`) use http and reach
    /// loopback, private and link-local addresses. Logged as a warning at start.
    pub allow_private_fetch: bool,
    /// Outbound fetches running at once, over all URLs.
    pub fetch_max_concurrent: usize,
    /// How long a failed fetch of a `jwks_uri` is remembered (answered again without fetching), in seconds.
    pub jwks_uri_failure_cache_seconds: u64,
    /// Connections served at once; more wait in the listen backlog.
    pub max_connections: usize,
    /// Time a client has to send a request head (HTTP/1), also the longest a keep-alive connection waits
    /// for its next request, in seconds.
    pub request_head_timeout_seconds: u64,
    /// A connection with no request running and none started for this long is closed, in seconds.
    pub idle_timeout_seconds: u64,
    /// Longest a request may take, body upload included; past it the answer is a 503, in seconds.
    pub request_timeout_seconds: u64,
    /// On SIGTERM, how long requests in flight may take to finish before the server exits anyway, in seconds.
    pub shutdown_grace_seconds: u64,
    /// Dev mode: seed a demo org and write the demo app's private key into this folder.
    pub dev_dir: Option<std::path::PathBuf>,
    /// Dev mode only: serve HTTPS with a local CA and a `localhost` certificate created (or reused) in
    /// `dev_dir`.
    pub dev_tls: bool,
    /// A file of master keys (one base64 key a line, current first) sealing the signing keys at rest.
    pub master_key_file: Option<std::path::PathBuf>,
    /// `TOLLGATE_MASTER_KEY`: the current master key (base64, 32 bytes). Never read from a config file.
    #[serde(skip)]
    pub master_key: Option<crate::master_key::SecretText>,
    /// `TOLLGATE_MASTER_KEY_PREVIOUS`: earlier master keys still accepted for opening, comma-separated.
    #[serde(skip)]
    pub master_key_previous: Option<crate::master_key::SecretText>,
    /// `[rate_limits]`: Okta's per-minute buckets and tollgate's token quotas (docs/rate-limits.md).
    pub rate_limits: RateLimitConfig,
}

impl Default for Config {
    fn default() -> Self {
        Config {
            listen: "127.0.0.1:8080".into(),
            issuer: None,
            tls_cert: None,
            tls_key: None,
            database_url: "sqlite://tollgate.db".into(),
            admin_token: None,
            key_rotation_days: 90,
            assertion_leeway_seconds: 5,
            jwks_uri_cache_seconds: 300,
            jwks_uri_refetch_seconds: 60,
            cache_refresh_seconds: 30,
            maintenance_seconds: 60,
            max_body_bytes: 64 * 1024,
            dpop_nonce_period_seconds: 86_400,
            system_log: true,
            log_retention_days: 90,
            log_flush_millis: 250,
            last_used_interval_seconds: 60,
            metrics_listen: None,
            allow_private_fetch: false,
            fetch_max_concurrent: 16,
            jwks_uri_failure_cache_seconds: 30,
            max_connections: 1000,
            request_head_timeout_seconds: 10,
            idle_timeout_seconds: 60,
            request_timeout_seconds: 30,
            shutdown_grace_seconds: 10,
            dev_dir: None,
            dev_tls: false,
            master_key_file: None,
            master_key: None,
            master_key_previous: None,
            rate_limits: RateLimitConfig::default(),
        }
    }
}

impl Config {
    /// Where the master key comes from.
    pub fn master_key_source(&self) -> crate::master_key::MasterKeySource {
        crate::master_key::MasterKeySource {
            key: self.master_key.clone(),
            previous: self.master_key_previous.clone(),
            file: self.master_key_file.clone(),
        }
    }

    /// Reads a TOML file with the same keys as [`Config`].
    pub fn from_toml_file(path: &std::path::Path) -> Result<Config, ConfigError> {
        let text = std::fs::read_to_string(path).map_err(|e| ConfigError::Read(path.display().to_string(), e))?;
        toml::from_str(&text).map_err(|e| ConfigError::Parse(path.display().to_string(), e.message().to_string()))
    }
}

/// Which per-minute limits apply (docs/rate-limits.md has the numbers).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum RateLimitPreset {
    /// tollgate's own: generous enough that the token benchmark never reaches them.
    #[default]
    Tollgate,
    /// Okta's published defaults (the Enterprise column).
    Okta,
    /// No per-minute limits (quotas still apply when set).
    Off,
}

impl std::str::FromStr for RateLimitPreset {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        match s {
            "tollgate" => Ok(RateLimitPreset::Tollgate),
            "okta" => Ok(RateLimitPreset::Okta),
            "off" => Ok(RateLimitPreset::Off),
            other => Err(format!("unknown rate limit preset {other:?}: expected tollgate, okta or off")),
        }
    }
}

/// What happens past a limit or quota.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum LimitMode {
    /// Refuse with 429.
    #[default]
    Enforce,
    /// Count, log (System Log, metrics) and send the headers, but never refuse.
    Monitor,
}

impl std::str::FromStr for LimitMode {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        match s.to_ascii_lowercase().as_str() {
            "enforce" => Ok(LimitMode::Enforce),
            "monitor" => Ok(LimitMode::Monitor),
            _ => Err(format!("unknown limit mode {s:?}: expected enforce or monitor")),
        }
    }
}

/// `[rate_limits]` of the configuration file.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct RateLimitConfig {
    /// The per-minute limits to start from: `tollgate` (default), `okta` or `off`.
    pub preset: RateLimitPreset,
    /// `enforce` (429 past a limit) or `monitor` (never refuse).
    pub mode: LimitMode,
    /// Requests per minute to the token endpoints (org, custom servers, Access Gateway), cluster-wide;
    /// unset: the preset's. The same for the buckets below.
    pub token: Option<u32>,
    /// Other `/oauth2` endpoints (introspect, revoke).
    pub oauth2: Option<u32>,
    /// Dynamic Client Registration (`/oauth2/v1/clients*`).
    pub dcr: Option<u32>,
    /// `/api/v1/apps*` (and the Access Gateway's `/api/v2/apps*`).
    pub apps: Option<u32>,
    /// `/api/v1/users*`.
    pub users: Option<u32>,
    /// `/api/v1/logs`.
    pub logs: Option<u32>,
    /// Every other `/api/v1` route.
    pub api: Option<u32>,
    /// Requests per minute per client IP address, in each bucket, by callers not authenticated as an app
    /// or API token (a refused or absent credential); unset: the preset's.
    pub per_ip: Option<u32>,
    /// The share of each bucket one app or API token may use, in percent (Okta's default: 50); an app can
    /// set its own through the Apps API (`settings.tollgate.rateLimitSharePercent`).
    pub app_share_percent: u8,
    /// A `system.rate.limit.warning` event when a bucket reaches this percentage within a window (0: never).
    pub warn_percent: u8,
    /// Tokens one app may get per hour (UTC hours), cluster-wide; unset: no quota. Per app through the
    /// Apps API (`settings.tollgate.tokenQuota`).
    pub token_quota_per_hour: Option<u64>,
    /// Tokens one app may get per day (UTC days).
    pub token_quota_per_day: Option<u64>,
    /// `enforce` or `monitor` for token quotas.
    pub token_quota_mode: LimitMode,
    /// A `system.rate.limit.warning` event when an app reaches this percentage of a quota (0: never).
    pub token_quota_warn_percent: u8,
    /// The length of a rate-limit window in seconds: 60, as Okta's (shorter only for tests and trials).
    pub window_seconds: u32,
    /// How often each node writes its heartbeat and its quota counts, and reads the others', in seconds.
    /// A node silent for three periods no longer counts as live.
    pub node_heartbeat_seconds: u64,
}

impl Default for RateLimitConfig {
    fn default() -> Self {
        RateLimitConfig {
            preset: RateLimitPreset::Tollgate,
            mode: LimitMode::Enforce,
            token: None,
            oauth2: None,
            dcr: None,
            apps: None,
            users: None,
            logs: None,
            api: None,
            per_ip: None,
            app_share_percent: 50,
            warn_percent: 90,
            token_quota_per_hour: None,
            token_quota_per_day: None,
            token_quota_mode: LimitMode::Enforce,
            token_quota_warn_percent: 80,
            window_seconds: 60,
            node_heartbeat_seconds: 5,
        }
    }
}

/// A configuration file that cannot be used.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("cannot read config file {0}: {1}")]
    Read(String, #[source] std::io::Error),
    #[error("invalid config file {0}: {1}")]
    Parse(String, String),
}
