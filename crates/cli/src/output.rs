//! Writing results. stdout carries only the result (one JSON document with `--output json`); notes for
//! people go to stderr. A closed stdout (`tollgate token | head -c 10`) is not an error worth a panic.
use std::io::Write;

use crate::cli::OutputFormat;

/// Writes `text` and a newline to stdout.
pub fn line(text: &str) -> anyhow::Result<()> {
    let mut out = std::io::stdout().lock();
    match writeln!(out, "{text}").and_then(|()| out.flush()) {
        Err(e) if e.kind() != std::io::ErrorKind::BrokenPipe => Err(anyhow::Error::new(e).context("writing to stdout")),
        _ => Ok(()),
    }
}

/// Writes a JSON value, pretty printed, to stdout.
pub fn json(value: &serde_json::Value) -> anyhow::Result<()> {
    line(&serde_json::to_string_pretty(value)?)
}

/// A note for the person at the terminal (stderr), never part of the result.
pub fn note(text: &str) {
    eprintln!("{text}");
}

/// Prints `text` or `value` depending on the format.
pub fn result(format: OutputFormat, text: &str, value: &serde_json::Value) -> anyhow::Result<()> {
    match format {
        OutputFormat::Text => line(text),
        OutputFormat::Json => json(value),
    }
}
