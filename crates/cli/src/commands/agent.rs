//! `tollgate agent`: the local token agent (a foreground daemon; run it under systemd, launchd or `&`),
//! and `tollgate agent status` / `tollgate agent stop` to ask a running one. The agent holds the
//! credentials given as for `tollgate token` (flags, environment, `.env`) and serves tokens on a Unix
//! socket to this user's processes only; the token logic is `tollgate_client::agent`.
use std::path::PathBuf;

use anyhow::Context;
use clap::{Args, Subcommand};
use tollgate_client::agent::{Agent, AgentConfig};
use tollgate_client::cache::RefreshAhead;
use tollgate_client::{AgentSource, RetryPolicy};

use crate::cli::OutputFormat;
use crate::commands::token::ConnectionArgs;
use crate::inputs::Flavor;
use crate::output;

#[derive(Debug, Args)]
#[command(
    args_conflicts_with_subcommands = true,
    after_help = "Examples:
  tollgate agent &                                  # credentials and SCOPES from .env, as for `tollgate token`
  tollgate agent --client-id 0oa1 --private-key key.pem --scopes okta.users.read --refresh-at 0.5
  tollgate agent status                             # running? counters, cached tokens
  tollgate token                                    # now served by the agent
  tollgate agent stop"
)]
pub struct AgentArgs {
    #[command(subcommand)]
    pub command: Option<AgentCommand>,
    #[command(flatten)]
    pub run: RunArgs,
}

#[derive(Debug, Subcommand)]
pub enum AgentCommand {
    /// Whether an agent is running, what it holds and its counters (exit 1 when none answers).
    Status(SocketArgs),
    /// Stop the running agent.
    Stop(SocketArgs),
}

#[derive(Debug, Clone, Args)]
pub struct SocketArgs {
    /// The agent's socket [env: TOLLGATE_AGENT_SOCKET; default: $XDG_RUNTIME_DIR/tollgate/agent.sock]
    #[arg(long, value_name = "PATH")]
    pub socket: Option<PathBuf>,
}

impl SocketArgs {
    fn agent(&self) -> AgentSource {
        match &self.socket {
            Some(path) => AgentSource::new(path),
            None => AgentSource::at_default_socket(),
        }
    }
}

#[derive(Debug, Args)]
pub struct RunArgs {
    #[command(flatten)]
    pub connection: ConnectionArgs,
    #[command(flatten)]
    pub socket: SocketArgs,
    /// Renew a token once this share of its lifetime has passed (0.75: a one-hour token after 45 minutes),
    /// in the background, for tokens asked for during their life.
    #[arg(long, value_name = "SHARE", default_value_t = 0.75, value_parser = share)]
    pub refresh_at: f64,
    /// Retries of a token request that failed with 429, 5xx or no answer (with back-off).
    #[arg(long, value_name = "N", default_value_t = 3)]
    pub retries: u32,
}

fn share(text: &str) -> Result<f64, String> {
    let value: f64 = text.parse().map_err(|_| format!("{text:?} is not a number"))?;
    if value > 0.0 && value < 1.0 { Ok(value) } else { Err("the share must be between 0 and 1 (exclusive)".into()) }
}

pub async fn run(args: AgentArgs, format: OutputFormat) -> anyhow::Result<()> {
    match args.command {
        Some(AgentCommand::Status(socket)) => status(&socket.agent(), format).await,
        Some(AgentCommand::Stop(socket)) => {
            let agent = socket.agent();
            agent.shutdown().await?;
            output::result(format, "stopped", &serde_json::json!({ "stopped": agent.socket() }))
        }
        None => serve(args.run).await,
    }
}

async fn serve(args: RunArgs) -> anyhow::Result<()> {
    let connection = &args.connection;
    let auth = connection.client.auth()?;
    let http = tollgate_client::source::default_http_client()?;
    let endpoint = connection.endpoint(&http, &auth, false).await?;
    let org = match (connection.flavor, &connection.issuer) {
        (Flavor::Okta, None) => Some(tollgate_client::endpoint::normalize_base_url(&connection.org.org()?)?),
        _ => None,
    };
    let dpop = match connection.dpop.key_file() {
        Some(path) => Some(crate::dpop::load_or_create(&path)?),
        None => None,
    };
    let retry = RetryPolicy { max_retries: args.retries, ..RetryPolicy::default() };
    let config = AgentConfig {
        endpoint,
        org,
        auth,
        scopes: connection.scopes.scopes(),
        dpop,
        refresh: RefreshAhead::Share(args.refresh_at),
        retry,
        http,
    };
    let agent = Agent::new(config)?;
    let path = args.socket.agent().socket().to_path_buf();
    let listener = tollgate_client::agent::bind(&path).await?;
    // The one line a supervisor (or a test) waits for; everything else goes to stderr.
    output::line(&format!("tollgate agent listening on {}", path.display()))?;
    let stop = async {
        let mut term = match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(term) => term,
            Err(_) => return std::future::pending().await,
        };
        tokio::select! {
            _ = tokio::signal::ctrl_c() => {}
            _ = term.recv() => {}
        }
    };
    agent.serve(listener, stop).await;
    tracing::info!(token_requests = agent.token_requests(), "agent stopped");
    Ok(())
}

async fn status(agent: &AgentSource, format: OutputFormat) -> anyhow::Result<()> {
    let status = agent.status().await.with_context(|| "asking the agent for its status".to_string())?;
    if format == OutputFormat::Json {
        return output::json(&status);
    }
    let s = |key: &str| status[key].as_str().unwrap_or("?").to_owned();
    let n = |key: &str| status[key].as_u64().unwrap_or(0);
    let mut text = format!(
        "agent running: pid {}, up {}s, socket {}\nclient {} ({}) at {}\nDPoP key {}\nrequests {}, token requests {}, \
         cache hits {}, failures {}, background renewals {}, refused peers {}",
        n("pid"),
        n("uptime_secs"),
        s("socket"),
        s("client_id"),
        s("auth_method"),
        s("token_url"),
        s("dpop_jkt"),
        n("requests"),
        n("token_requests"),
        n("cache_hits"),
        n("failures"),
        n("background_refreshes"),
        n("refused_peers"),
    );
    for token in status["tokens"].as_array().into_iter().flatten() {
        let scopes: Vec<&str> = token["scopes"].as_array().into_iter().flatten().filter_map(|s| s.as_str()).collect();
        text.push_str(&format!(
            "\n  {} [{}]{}: {} expires in {}s, renewed in {}s",
            token["server"].as_str().unwrap_or("?"),
            scopes.join(" "),
            if token["dpop_jkt"].is_string() { " DPoP" } else { "" },
            token["token_type"].as_str().unwrap_or("no token"),
            token["expires_in"].as_i64().unwrap_or(0),
            token["refresh_in"].as_i64().unwrap_or(0),
        ));
    }
    if status["tokens"].as_array().is_none_or(|t| t.is_empty()) {
        text.push_str("\n  no tokens yet");
    }
    output::line(&text)
}
