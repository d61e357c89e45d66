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
    /// Development and tests only: let outbound fetches (a client's jwks_uri) use http and reach loopback,
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
    /// Dev mode: seed a demo org (users, a service app whose private key is written to ./tollgate-demo/,
    /// a fresh admin token), print the commands that use it, and run the whole flow once against it
    #[arg(long)]
    pub dev: bool,
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
    if let Ok(token) = std::env::var("TOLLGATE_ADMIN_TOKEN")
        && !token.is_empty()
    {
        config.admin_token = Some(token);
    }
    Ok(config)
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
            let _ = writeln!(out, "tollgate listening on http://{}", ready.addr);
            let _ = writeln!(out, "tollgate Admin Console: {}/admin", ready.issuer);
            if let Some(demo) = &ready.demo {
                let _ = write!(out, "{}", demo_instructions(&ready.issuer, demo));
                tokio::spawn(run_demo(ready.issuer.clone(), demo.clone()));
            }
            let _ = out.flush();
            tracing::info!(issuer = %ready.issuer, "ready");
        },
        shutdown_signal(),
    )
    .await
    .context("tollgate serve")
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

/// Runs the flow once against the fresh server, through the real client library over HTTP.
async fn run_demo(issuer: String, demo: tollgate_server::dev::DemoSeed) {
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
