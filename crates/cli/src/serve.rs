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
    /// Database URL: sqlite://FILE (created if missing) [default: sqlite://tollgate.db]
    #[arg(long = "database", env = "TOLLGATE_DATABASE_URL")]
    pub database_url: Option<String>,
    /// TOML configuration file with the same keys as the flags (listen, issuer, database_url, ...)
    #[arg(long, env = "TOLLGATE_CONFIG")]
    pub config: Option<PathBuf>,
    /// Signing-key rotation period in days [default: 90]
    #[arg(long, env = "TOLLGATE_KEY_ROTATION_DAYS")]
    pub key_rotation_days: Option<u32>,
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
    if let Ok(token) = std::env::var("TOLLGATE_ADMIN_TOKEN") {
        if !token.is_empty() {
            config.admin_token = Some(token);
        }
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
    let _ = tracing_subscriber::fmt().with_env_filter(filter).with_writer(std::io::stderr).try_init();
    let config = config(&args)?;
    tollgate_server::serve(
        config,
        |ready| {
            if let Some(token) = &ready.generated_admin_token {
                eprintln!("tollgate: generated an admin API token (shown once, stored hashed): {token}");
                eprintln!("tollgate: use it as `Authorization: SSWS {token}` or set TOLLGATE_ADMIN_TOKEN next time");
            }
            let mut out = std::io::stdout().lock();
            let _ = writeln!(out, "tollgate listening on http://{}", ready.addr);
            let _ = out.flush();
            tracing::info!(issuer = %ready.issuer, "ready");
        },
        shutdown_signal(),
    )
    .await
    .context("tollgate serve")
}
