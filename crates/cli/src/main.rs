//! `tollgate`: one binary for the authorization server (`tollgate serve`) and the client tooling that
//! works against it or, unchanged, against a real Okta org.
//!
//! The binary is thin on purpose: arguments are parsed here, each command turns them into one validated
//! request for `tollgate-client`, `tollgate-verify` or `tollgate-jose`, and every failure ends as one
//! `error:` line on stderr with exit code 1 (a refused or failed operation) or 2 (bad usage).
// The arguments' doc comments are clap's `--help` text, read in a terminal: a bare URL there is right.
#![allow(rustdoc::bare_urls)]
mod agent_use;
mod cli;
mod commands;
mod dotenv;
mod dpop;
mod inputs;
mod output;
mod serve;

use std::process::ExitCode;

use clap::Parser;

use crate::cli::{Cli, Command};
use crate::inputs::UsageError;

fn main() -> ExitCode {
    let dotenv_warning = dotenv::load_from_working_directory().err();
    let cli = Cli::parse();
    let is_serve = matches!(cli.command, Command::Serve(_));
    if !is_serve {
        init_client_logging();
        if let Some(warning) = dotenv_warning {
            eprintln!("warning: ignoring .env: {warning}");
        }
    }
    let runtime = match tokio::runtime::Builder::new_multi_thread().enable_all().build() {
        Ok(runtime) => runtime,
        Err(e) => return report(&anyhow::Error::new(e).context("starting the async runtime")),
    };
    match runtime.block_on(commands::run(cli)) {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => report(&error),
    }
}

/// Prints the error as one line and picks the exit code.
fn report(error: &anyhow::Error) -> ExitCode {
    let line = format!("{error:#}").replace(['\n', '\r'], " ");
    eprintln!("error: {line}");
    if error.is::<UsageError>() { ExitCode::from(2) } else { ExitCode::from(1) }
}

/// Client commands log to stderr, quietly unless `RUST_LOG` says otherwise. (`serve` sets up its own.)
fn init_client_logging() {
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        // rustls' certificate verifier logs each refusal as an ERROR; the command's own one-line error
        // already says it, so that log is left out unless RUST_LOG asks for it.
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("warn,rustls_platform_verifier=off"));
    let _ = tracing_subscriber::fmt().with_env_filter(filter).with_writer(std::io::stderr).try_init();
}
