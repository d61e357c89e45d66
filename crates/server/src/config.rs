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

/// A configuration file that cannot be used.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("cannot read config file {0}: {1}")]
    Read(String, #[source] std::io::Error),
    #[error("invalid config file {0}: {1}")]
    Parse(String, String),
}
