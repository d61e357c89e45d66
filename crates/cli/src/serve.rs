//! `tollgate serve`: flags and environment for the authorization server; the server itself is
//! `tollgate-server`. (Owned by the server work; the rest of the CLI only dispatches here.)
use clap::Args;

/// Runs the authorization server.
#[derive(Debug, Args)]
pub struct ServeArgs {
    /// Address to listen on; port 0 picks a free port.
    #[arg(long, env = "TOLLGATE_LISTEN", default_value = "127.0.0.1:8080")]
    pub listen: String,
}

/// Starts the server and runs it until SIGTERM / Ctrl-C.
pub async fn run(_args: ServeArgs) -> anyhow::Result<()> {
    anyhow::bail!("tollgate serve is not built yet")
}
