//! One module per subcommand; [`run`] dispatches.
pub mod admin;
pub mod agent;
pub mod app;
pub mod assertion;
pub mod auth_server;
pub mod call;
pub mod completions;
pub mod decode;
pub mod explain;
pub mod jwk;
pub mod keygen;
pub mod logs;
pub mod rotate;
pub mod token;
pub mod verify;

use crate::cli::{Cli, Command};

/// Runs the parsed command.
pub async fn run(cli: Cli) -> anyhow::Result<()> {
    let format = cli.output;
    if let Some(file) = &cli.ca_cert {
        tollgate_fetch::trust::trust_ca_file(file)?;
    }
    match cli.command {
        Command::Serve(args) => crate::serve::run(args).await,
        Command::Keygen(args) => keygen::run(args, format),
        Command::Jwk(command) => jwk::run(command, format),
        Command::Admin(command) => admin::run(command, format).await,
        Command::App(command) => app::run(command, format).await,
        Command::AuthServer(command) => auth_server::run(command, format).await,
        Command::Assertion(args) => assertion::run(args, format),
        Command::Token(args) => token::run(args, format).await,
        Command::Call(args) => call::run(args, format).await,
        Command::Agent(args) => agent::run(args, format).await,
        Command::Logs(args) => logs::run(args, format).await,
        Command::Decode(args) => decode::run(args, format),
        Command::Verify(args) => verify::run(args, format).await,
        Command::Explain(args) => explain::run(args, format),
        Command::Completions(args) => completions::run(args),
    }
}
