//! `tollgate completions SHELL`: completion scripts from the clap definition itself.
use clap::{Args, CommandFactory};
use clap_complete::Shell;

use crate::cli::Cli;

#[derive(Debug, Args)]
#[command(
    after_help = "Examples:\n  tollgate completions bash > /etc/bash_completion.d/tollgate\n  tollgate completions zsh > \"${fpath[1]}/_tollgate\""
)]
pub struct CompletionsArgs {
    /// The shell to generate for.
    #[arg(value_enum)]
    pub shell: Shell,
}

pub fn run(args: CompletionsArgs) -> anyhow::Result<()> {
    let mut command = Cli::command();
    let mut script = Vec::new();
    clap_complete::generate(args.shell, &mut command, "tollgate", &mut script);
    crate::output::line(String::from_utf8_lossy(&script).trim_end())
}
