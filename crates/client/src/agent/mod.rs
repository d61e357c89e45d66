//! The token agent: a local daemon (`tollgate agent`) that holds one app's credentials and hands tokens
//! to the processes of the same user over a Unix socket, so that every cron job, CLI call and worker on
//! the host shares one cached token per (org, authorization server, client, scopes, DPoP key) instead of
//! fetching its own. [`Agent`] is the daemon, [`AgentSource`] the client, [`protocol`] the wire format
//! (newline-delimited JSON; see docs/agent.md).
mod client;
pub mod protocol;
mod server;

pub use client::{AgentSource, AgentToken};
pub use server::{Agent, AgentConfig, bind};
