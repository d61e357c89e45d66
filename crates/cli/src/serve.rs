//! `tollgate serve`: flags and environment for the authorization server; the server itself is
//! `tollgate-server`. Layering: built-in defaults < `--config` TOML file < `TOLLGATE_*` env < flags.
use anyhow::Context;
use clap::Args;
use std::io::Write;
use std::path::PathBuf;
use tollgate_server::Config;

/// Runs the authorization server.
#[derive(Debug, Args)]
#[command(
    after_help = "Examples:\n  tollgate serve\n  tollgate serve --listen 127.0.0.1:0 --database sqlite:///tmp/tollgate.db\n  TOLLGATE_ADMIN_TOKEN=s3cret tollgate serve --issuer https://auth.example.com"
)]
pub struct ServeArgs {
    /// Address to listen on; port 0 picks a free port [default: 127.0.0.1:8080]
    #[arg(long, env = "TOLLGATE_LISTEN")]
    pub listen: Option<String>,
    /// The org issuer URL [default: http:// + the bound address]
    #[arg(long, env = "TOLLGATE_ISSUER")]
    pub issuer: Option<String>,
    /// Database URL: sqlite://FILE (created if missing) or postgres://USER@HOST/DB [default: sqlite://tollgate.db]
    #[arg(long = "database", env = "TOLLGATE_DATABASE_URL")]
    pub database_url: Option<String>,
    /// TOML configuration file with the same keys as the flags (listen, issuer, database_url, ...)
    #[arg(long, env = "TOLLGATE_CONFIG")]
    pub config: Option<PathBuf>,
    /// Signing-key rotation period in days [default: 90]
    #[arg(long, env = "TOLLGATE_KEY_ROTATION_DAYS")]
    pub key_rotation_days: Option<u32>,
    /// File of master keys sealing the signing keys (base64 of 32 bytes a line, current first); or set
    /// TOLLGATE_MASTER_KEY [SQLite default: DATABASE.master-key, created; PostgreSQL: required]
    #[arg(long, env = "TOLLGATE_MASTER_KEY_FILE")]
    pub master_key_file: Option<PathBuf>,
    /// Development and tests only: let outbound fetches (a client's jwks_uri, federated issuers) use http and reach loopback,
    /// private and link-local addresses (logged as a warning)
    #[arg(long, env = "TOLLGATE_ALLOW_PRIVATE_FETCH")]
    pub allow_private_fetch: bool,
    /// On SIGTERM, seconds requests in flight get to finish before the server exits anyway [default: 10]
    #[arg(long, env = "TOLLGATE_SHUTDOWN_GRACE_SECONDS")]
    pub shutdown_grace_seconds: Option<u64>,
    /// Seconds a client has to send its request head (also a keep-alive connection's wait for the next) [default: 10]
    #[arg(long, env = "TOLLGATE_REQUEST_HEAD_TIMEOUT_SECONDS")]
    pub request_head_timeout_seconds: Option<u64>,
    /// Seconds a whole request may take, body included, before a 503 [default: 30]
    #[arg(long, env = "TOLLGATE_REQUEST_TIMEOUT_SECONDS")]
    pub request_timeout_seconds: Option<u64>,
    /// Seconds a connection may sit with no request before it is closed [default: 60]
    #[arg(long, env = "TOLLGATE_IDLE_TIMEOUT_SECONDS")]
    pub idle_timeout_seconds: Option<u64>,
    /// Connections served at once; more wait in the listen backlog [default: 1000]
    #[arg(long, env = "TOLLGATE_MAX_CONNECTIONS")]
    pub max_connections: Option<usize>,
    /// Serve Prometheus metrics at GET /metrics on this address (e.g. 127.0.0.1:9090) [default: off]
    #[arg(long, env = "TOLLGATE_METRICS_LISTEN", value_name = "ADDR")]
    pub metrics_listen: Option<String>,
    /// Days System Log events are kept [default: 90]
    #[arg(long, env = "TOLLGATE_LOG_RETENTION_DAYS")]
    pub log_retention_days: Option<u32>,
    /// Per-minute rate limits to start from: tollgate (generous), okta (Okta's published defaults) or off
    /// [default: tollgate]
    #[arg(long, env = "TOLLGATE_RATE_LIMITS", value_name = "PRESET")]
    pub rate_limits: Option<tollgate_server::config::RateLimitPreset>,
    /// enforce (429 past a limit) or monitor (headers, System Log events and metrics, never a 429) [default: enforce]
    #[arg(long, env = "TOLLGATE_RATE_LIMIT_MODE", value_name = "MODE")]
    pub rate_limit_mode: Option<tollgate_server::config::LimitMode>,
    /// A bucket's requests per minute, cluster-wide: token, oauth2, dcr, apps, users, logs or api (repeatable;
    /// comma-separated in the variable), e.g. --rate-limit token=600
    #[arg(long, env = "TOLLGATE_RATE_LIMIT", value_name = "BUCKET=N", value_delimiter = ',')]
    pub rate_limit: Vec<String>,
    /// Requests per minute per client IP address in each bucket, for unauthenticated callers
    #[arg(long, env = "TOLLGATE_RATE_LIMIT_PER_IP", value_name = "N")]
    pub rate_limit_per_ip: Option<u32>,
    /// Percentage of each bucket one app or API token may use [default: 50]
    #[arg(long, env = "TOLLGATE_RATE_LIMIT_APP_SHARE", value_name = "PERCENT", value_parser = clap::value_parser!(u8).range(1..=100))]
    pub rate_limit_app_share: Option<u8>,
    /// Tokens one app may get per UTC hour, cluster-wide (apps may set their own) [default: no quota]
    #[arg(long, env = "TOLLGATE_TOKEN_QUOTA_PER_HOUR", value_name = "N")]
    pub token_quota_per_hour: Option<u64>,
    /// Tokens one app may get per UTC day, cluster-wide [default: no quota]
    #[arg(long, env = "TOLLGATE_TOKEN_QUOTA_PER_DAY", value_name = "N")]
    pub token_quota_per_day: Option<u64>,
    /// enforce or monitor for token quotas [default: enforce]
    #[arg(long, env = "TOLLGATE_TOKEN_QUOTA_MODE", value_name = "MODE")]
    pub token_quota_mode: Option<tollgate_server::config::LimitMode>,
    /// Serve HTTPS with this PEM certificate chain (leaf first); needs --tls-key
    #[arg(long, env = "TOLLGATE_TLS_CERT", value_name = "FILE", requires = "tls_key")]
    pub tls_cert: Option<PathBuf>,
    /// The PEM private key of --tls-cert
    #[arg(long, env = "TOLLGATE_TLS_KEY", value_name = "FILE", requires = "tls_cert")]
    pub tls_key: Option<PathBuf>,
    /// Dev mode: seed a demo org (users, a service app whose private key is written to ./tollgate-demo/,
    /// a fresh admin token), print the commands that use it, and run the whole flow once against it
    #[arg(long)]
    pub dev: bool,
    /// With --dev: serve HTTPS with a local CA and a localhost certificate made (or reused) in
    /// ./tollgate-demo/, and print how to trust the CA
    #[arg(long, requires = "dev", conflicts_with_all = ["tls_cert", "tls_key"])]
    pub tls: bool,
}

/// Builds the configuration from the layers.
pub fn config(args: &ServeArgs) -> anyhow::Result<Config> {
    let mut config = match &args.config {
        Some(path) => Config::from_toml_file(path)?,
        None => Config::default(),
    };
    if let Some(v) = &args.listen {
        config.listen = v.clone();
    }
    if let Some(v) = &args.issuer {
        config.issuer = Some(v.clone());
    }
    if let Some(v) = &args.database_url {
        config.database_url = v.clone();
    }
    if let Some(v) = args.key_rotation_days {
        config.key_rotation_days = v;
    }
    if args.allow_private_fetch {
        config.allow_private_fetch = true;
    }
    if let Some(v) = args.shutdown_grace_seconds {
        config.shutdown_grace_seconds = v;
    }
    if let Some(v) = args.request_head_timeout_seconds {
        config.request_head_timeout_seconds = v;
    }
    if let Some(v) = args.request_timeout_seconds {
        config.request_timeout_seconds = v;
    }
    if let Some(v) = args.idle_timeout_seconds {
        config.idle_timeout_seconds = v;
    }
    if let Some(v) = args.max_connections {
        config.max_connections = v;
    }
    if let Some(v) = &args.metrics_listen {
        config.metrics_listen = Some(v.clone());
    }
    if let Some(v) = args.log_retention_days {
        config.log_retention_days = v;
    }
    if let Some(v) = &args.master_key_file {
        config.master_key_file = Some(v.clone());
    }
    rate_limit_flags(args, &mut config.rate_limits)?;
    if let Some(v) = &args.tls_cert {
        config.tls_cert = Some(v.clone());
    }
    if let Some(v) = &args.tls_key {
        config.tls_key = Some(v.clone());
    }
    // Secrets from the environment only, never from flags (which show in `ps`).
    for (var, slot) in [
        ("TOLLGATE_MASTER_KEY", &mut config.master_key),
        ("TOLLGATE_MASTER_KEY_PREVIOUS", &mut config.master_key_previous),
    ] {
        if let Ok(v) = std::env::var(var)
            && !v.trim().is_empty()
        {
            *slot = Some(tollgate_server::master_key::SecretText(v));
        }
    }
    if args.dev {
        config.dev_dir = Some(PathBuf::from("tollgate-demo"));
    }
    if args.tls {
        config.dev_tls = true;
    }
    if let Ok(token) = std::env::var("TOLLGATE_ADMIN_TOKEN")
        && !token.is_empty()
    {
        config.admin_token = Some(token);
    }
    Ok(config)
}

/// The rate-limit and quota flags over the file's `[rate_limits]`.
fn rate_limit_flags(args: &ServeArgs, limits: &mut tollgate_server::config::RateLimitConfig) -> anyhow::Result<()> {
    if let Some(v) = args.rate_limits {
        limits.preset = v;
    }
    if let Some(v) = args.rate_limit_mode {
        limits.mode = v;
    }
    for item in args.rate_limit.iter().map(|s| s.trim()).filter(|s| !s.is_empty()) {
        let (bucket, n) = item
            .split_once('=')
            .ok_or_else(|| anyhow::anyhow!("--rate-limit {item:?}: expected BUCKET=N, e.g. token=600"))?;
        let n: u32 =
            n.trim().parse().map_err(|_| anyhow::anyhow!("--rate-limit {item:?}: N must be a whole number"))?;
        let slot = match bucket.trim() {
            "token" => &mut limits.token,
            "oauth2" => &mut limits.oauth2,
            "dcr" => &mut limits.dcr,
            "apps" => &mut limits.apps,
            "users" => &mut limits.users,
            "logs" => &mut limits.logs,
            "api" => &mut limits.api,
            other => anyhow::bail!(
                "--rate-limit {item:?}: unknown bucket {other:?}; expected token, oauth2, dcr, apps, users, logs or api"
            ),
        };
        *slot = Some(n);
    }
    if let Some(v) = args.rate_limit_per_ip {
        limits.per_ip = Some(v);
    }
    if let Some(v) = args.rate_limit_app_share {
        limits.app_share_percent = v;
    }
    if let Some(v) = args.token_quota_per_hour {
        limits.token_quota_per_hour = Some(v);
    }
    if let Some(v) = args.token_quota_per_day {
        limits.token_quota_per_day = Some(v);
    }
    if let Some(v) = args.token_quota_mode {
        limits.token_quota_mode = v;
    }
    Ok(())
}

async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let term = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    tokio::select! {
        _ = ctrl_c => {},
        _ = term => {},
    }
    tracing::info!("shutting down: finishing requests in flight");
}

/// Starts the server and runs it until SIGTERM / Ctrl-C.
pub async fn run(args: ServeArgs) -> anyhow::Result<()> {
    let filter = tracing_subscriber::EnvFilter::try_from_env("TOLLGATE_LOG")
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info,sqlx=warn"));
    let ansi = std::io::IsTerminal::is_terminal(&std::io::stderr());
    let _ = tracing_subscriber::fmt().with_env_filter(filter).with_ansi(ansi).with_writer(std::io::stderr).try_init();
    let config = config(&args)?;
    tollgate_server::serve(
        config,
        |ready| {
            if let (Some(token), None) = (&ready.generated_admin_token, &ready.demo) {
                eprintln!("tollgate: generated an admin API token (shown once, stored hashed): {token}");
                eprintln!("tollgate: use it as `Authorization: SSWS {token}` or set TOLLGATE_ADMIN_TOKEN next time");
            }
            let mut out = std::io::stdout().lock();
            let scheme = if ready.https { "https" } else { "http" };
            let _ = writeln!(out, "tollgate listening on {scheme}://{}", ready.addr);
            if let Some(ca) = &ready.local_ca {
                let _ = write!(out, "{}", trust_instructions(ca));
            }
            let _ = writeln!(out, "tollgate Admin Console: {}/admin", ready.issuer);
            if let Some(demo) = &ready.demo {
                let _ = write!(out, "{}", demo_instructions(&ready.issuer, demo));
                tokio::spawn(run_demo(ready.issuer.clone(), demo.clone(), ready.local_ca.clone()));
            }
            let _ = out.flush();
            tracing::info!(issuer = %ready.issuer, "ready");
        },
        shutdown_signal(),
    )
    .await
    .context("tollgate serve")
}

/// How to make clients trust the local CA of `--dev --tls`.
fn trust_instructions(ca: &tollgate_server::tls::local_ca::LocalCa) -> String {
    let file = std::path::absolute(&ca.ca_file).unwrap_or_else(|_| ca.ca_file.clone());
    let file = file.display();
    let made = if ca.ca_created { "created" } else { "reused" };
    format!(
        "\nhttps with a local development CA ({made}): {file}\n  \
         (certificate for localhost, 127.0.0.1 and ::1: {cert})\n  \
         trust it in the shell where clients run (tollgate, curl, Python requests/aiohttp, Node):\n  \
         export SSL_CERT_FILE={file} REQUESTS_CA_BUNDLE={file} NODE_EXTRA_CA_CERTS={file}\n  \
         (SSL_CERT_FILE then replaces the system CA bundle for OpenSSL-based tools in that shell; for one\n  \
         command: curl --cacert {file} ..., tollgate --ca-cert {file} ...)\n",
        cert = ca.cert_file.display(),
    )
}

/// The three commands that get a token and call the API with the demo app.
fn demo_instructions(issuer: &str, demo: &tollgate_server::dev::DemoSeed) -> String {
    let key = demo.private_key_file.display();
    let scopes = demo.scopes.join(" ");
    format!(
        "\ntollgate dev mode: a demo org is seeded\n  \
         admin API token (SSWS, shown once): {token}\n  \
         Admin Console: {issuer}/admin  (user {login}, password {password}; shown once)\n  \
         service app: client_id {id}, private key {key}, granted {scopes}\n\n\
         Try the flow from another terminal:\n  \
         export OKTA_URL={issuer} CLIENT_ID={id} SCOPES=\"{scopes}\"\n  \
         tollgate token --private-key {key}\n  \
         tollgate call --private-key {key} GET /api/v1/users\n  \
         curl -s -H \"Authorization: SSWS {token}\" {issuer}/api/v1/users\n\n",
        token = demo.admin_token,
        id = demo.client_id,
        login = demo.console_login,
        password = demo.console_password,
    )
}

/// Runs the flow once against the fresh server, through the real client library over HTTP(S): with a local
/// CA, trusted the way any client would trust it, not by turning certificate checks off.
async fn run_demo(
    issuer: String,
    demo: tollgate_server::dev::DemoSeed,
    ca: Option<tollgate_server::tls::local_ca::LocalCa>,
) {
    if let Some(ca) = ca
        && let Err(e) = tollgate_fetch::trust::trust_ca_file(&ca.ca_file)
    {
        eprintln!("demo flow failed: {e}");
        return;
    }
    match demo_flow(&issuer, &demo).await {
        Ok(report) => println!("{report}"),
        Err(e) => eprintln!("demo flow failed: {e:#}"),
    }
}

async fn demo_flow(issuer: &str, demo: &tollgate_server::dev::DemoSeed) -> anyhow::Result<String> {
    use tollgate_client::{AssertionSigner, AuthorizedClient, ClientAuth, TokenEndpoint, TokenSource};
    let pem = std::fs::read_to_string(&demo.private_key_file)?;
    let key = tollgate_jose::PrivateKey::parse(&pem)?;
    let endpoint = TokenEndpoint::for_org(issuer, None)?;
    let auth = ClientAuth::PrivateKeyJwt(AssertionSigner::new(demo.client_id.clone(), key));
    let source = std::sync::Arc::new(TokenSource::builder(endpoint, auth).scopes(demo.scopes.clone()).build()?);
    let token = source.token().await?;
    let client = AuthorizedClient::new(source.clone());
    let resp = client.send(client.http().get(format!("{issuer}/api/v1/users"))).await?;
    let status = resp.status();
    let users: serde_json::Value = resp.json().await?;
    let logins: Vec<&str> =
        users.as_array().map(|a| a.iter().filter_map(|u| u["profile"]["login"].as_str()).collect()).unwrap_or_default();
    Ok(format!(
        "demo flow: signed an RS256 client assertion, got a {} token (scope \"{}\", {} s), GET /api/v1/users -> {} with {} users: {}",
        token.token_type,
        token.scope.as_deref().unwrap_or(""),
        token.lifetime_secs(),
        status.as_u16(),
        logins.len(),
        logins.join(", ")
    ))
}
