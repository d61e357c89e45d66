//! How `tollgate token` and `tollgate call` share tokens with other processes: through a running
//! `tollgate agent` (used automatically when its socket is there, required with `--agent`, skipped with
//! `--no-agent`), and otherwise through the per-user token cache on disk (skipped with `--no-cache`), so
//! two commands in a row make one token request.
use std::path::PathBuf;

use clap::Args;
use tollgate_client::agent::protocol::{TokenQuery, code};
use tollgate_client::cache::{CachedToken, Served};
use tollgate_client::disk_cache::DiskCache;
use tollgate_client::{AgentSource, AgentToken, ClientError, TokenSource};

use crate::commands::token::ConnectionArgs;
use crate::inputs::usage;

#[derive(Debug, Clone, Args)]
pub struct UseAgentArgs {
    /// Get the token from a running `tollgate agent`, and fail if there is none (default: use one when
    /// its socket is there, else ask the token endpoint)
    #[arg(long, conflicts_with = "no_agent")]
    pub agent: bool,
    /// Never ask an agent.
    #[arg(long)]
    pub no_agent: bool,
    /// The agent's socket [env: TOLLGATE_AGENT_SOCKET; default: $XDG_RUNTIME_DIR/tollgate/agent.sock]
    #[arg(long, value_name = "PATH")]
    pub agent_socket: Option<PathBuf>,
    /// Neither read nor write the token cache on disk (always ask the token endpoint, or the agent).
    #[arg(long)]
    pub no_cache: bool,
}

impl UseAgentArgs {
    fn socket(&self) -> PathBuf {
        self.agent_socket.clone().unwrap_or_else(tollgate_client::local::default_agent_socket)
    }
}

/// The agent to ask, with what these arguments name; `None` when no agent is to be asked.
pub fn agent_for(args: &UseAgentArgs, connection: &ConnectionArgs, dpop: bool) -> anyhow::Result<Option<AgentSource>> {
    if args.no_agent {
        return Ok(None);
    }
    if connection.issuer.is_some() {
        if args.agent {
            return Err(usage("--agent does not go with --issuer: name the org (and --auth-server) instead"));
        }
        return Ok(None);
    }
    let agent = AgentSource::new(args.socket());
    if !args.agent && !agent.socket_exists() {
        return Ok(None);
    }
    // A DPoP key file of the caller's own: only the agent's key can sign proofs for the agent's tokens.
    let jkt = match connection.dpop.key_file().filter(|p| p.exists()) {
        Some(path) => Some(crate::dpop::load_or_create(&path)?.thumbprint().to_owned()),
        None => None,
    };
    let query = TokenQuery {
        token_url: connection.known_token_url(),
        client_id: connection.client.client_id().ok(),
        scopes: connection.scopes.scopes(),
        dpop: dpop || jkt.is_some(),
        jkt,
        proof: None,
    };
    Ok(Some(agent.with_query(query)))
}

/// What asking the agent came to.
pub enum AgentAnswer {
    Token(AgentToken),
    /// Ask the token endpoint instead (the agent is not there, or holds other credentials).
    FallBack,
}

/// Asks `agent` for a token; when it was not required, an absent agent or one holding other credentials
/// means falling back, while a refusal of the token endpoint itself is the answer.
pub async fn ask(agent: &AgentSource, required: bool) -> anyhow::Result<AgentAnswer> {
    match agent.token().await {
        Ok(token) => Ok(AgentAnswer::Token(token)),
        Err(error @ ClientError::AgentUnavailable { .. }) if !required => {
            tracing::debug!(%error, "no agent; asking the token endpoint");
            Ok(AgentAnswer::FallBack)
        }
        Err(ClientError::Agent { code: c, message }) if c == code::NOT_HELD && !required => {
            tracing::debug!(message, "the agent holds other credentials; asking the token endpoint");
            Ok(AgentAnswer::FallBack)
        }
        Err(error) => Err(crate::dpop::with_advice(error)),
    }
}

/// The on-disk cache for `source`'s tokens, unless switched off or the token would be bound to a key that
/// dies with this process (a DPoP key not kept in a file).
pub fn disk_cache(args: &UseAgentArgs, source: &TokenSource, dpop_key_file: bool) -> Option<DiskCache> {
    if args.no_cache || (source.dpop_key().is_some() && !dpop_key_file) {
        return None;
    }
    DiskCache::for_user()
}

/// A token for `source`: from the disk cache while fresh, else fetched (and then cached).
pub async fn cached_or_fetched(source: &TokenSource, disk: Option<&DiskCache>) -> Result<CachedToken, ClientError> {
    let key = source.cache_key();
    if let Some(disk) = disk
        && let Some(token) = disk.load(&key, source.clock().now(), source.refresh_policy())
    {
        tracing::debug!(dir = %disk.dir().display(), "token from the cache on disk");
        source.preload(token);
    }
    let (token, served) = source.cached_token().await?;
    if served == Served::Fetched {
        remember(source, disk, &token);
    }
    Ok(token)
}

/// Writes `token` to the disk cache (a failure is a warning: the token itself is fine).
pub fn remember(source: &TokenSource, disk: Option<&DiskCache>, token: &CachedToken) {
    if let Some(disk) = disk
        && let Err(error) = disk.store(&source.cache_key(), token)
    {
        tracing::warn!(%error, "could not cache the token on disk");
    }
}
