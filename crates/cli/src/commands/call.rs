//! `tollgate call METHOD PATH`: an API request with a token from the client-credentials flow (from a
//! running `tollgate agent`, which then signs the DPoP proofs too, or from the cache on disk), through
//! `tollgate-client`'s `AuthorizedClient` (Bearer header, one retry with a new token on 401; for a DPoP-bound
//! token the DPoP scheme and a proof per request, chosen automatically when the app requires DPoP). The
//! response body goes to stdout; a non-2xx answer is an error (exit 1) naming the status.
use anyhow::Context;
use clap::Args;
use reqwest::Method;
use std::sync::Arc;

use tollgate_client::agent::protocol;
use tollgate_client::{AuthorizedClient, ClientError, DpopKey, DpopRefusal, TokenSource};
use tollgate_jose::dpop::DpopError;

use crate::agent_use::{self, UseAgentArgs};
use crate::cli::OutputFormat;
use crate::commands::token::ConnectionArgs;
use crate::inputs::{read_input, usage};
use crate::output;

#[derive(Debug, Args)]
#[command(after_help = "Examples:
  tollgate call GET /api/v1/users --scopes okta.users.read
  tollgate call --org https://dev-1.okta.com --client-id 0oa1 --private-key key.pem GET '/api/v1/users?limit=2'
  tollgate call POST /api/v1/users --scopes okta.users.manage --data @user.json
  tollgate call --flavor oag --org https://oag.example.com --scopes okta.oag.app.read GET /api/v2/apps
  tollgate call --dpop-key dpop.pem GET /api/v1/users    # DPoP with a kept key (DPOP_KEY works too)")]
pub struct CallArgs {
    #[command(flatten)]
    pub connection: ConnectionArgs,
    /// A JSON request body, or @FILE to read it from a file (@- for stdin).
    #[arg(long, value_name = "JSON|@FILE")]
    pub data: Option<String>,
    /// HTTP method (GET, POST, PUT, DELETE, ...).
    pub method: String,
    /// Path on the org (e.g. /api/v1/users) or an absolute URL on the same host.
    pub path: String,
    #[command(flatten)]
    pub use_agent: UseAgentArgs,
}

pub async fn run(args: CallArgs, format: OutputFormat) -> anyhow::Result<()> {
    let method = Method::from_bytes(args.method.to_ascii_uppercase().as_bytes())
        .map_err(|_| usage(format!("invalid HTTP method {:?}", args.method)))?;
    let (client, issuer, cached) = match agent_client(&args).await? {
        Some((client, issuer)) => (client, issuer, None),
        None => {
            let source = dpop_aware_source(&args.connection, &args.use_agent).await?;
            let issuer = source.endpoint().issuer().to_owned();
            let disk = agent_use::disk_cache(&args.use_agent, &source, args.connection.dpop.key_file().is_some());
            (AuthorizedClient::new(source.clone()), issuer, Some((source, disk)))
        }
    };
    let url = resolve_url(&issuer, &args.path)?;
    let mut request =
        client.http().request(method.clone(), url.clone()).header(reqwest::header::ACCEPT, "application/json");
    if let Some(data) = &args.data {
        let body = match data.strip_prefix('@') {
            Some(path) => read_input(path)?,
            None => data.clone(),
        };
        request = request.header(reqwest::header::CONTENT_TYPE, "application/json").body(body);
    }
    let response = client.send(request).await?;
    // A token renewed after a 401 replaces the one on disk.
    if let Some((source, disk)) = &cached
        && let Some(token) = source.peek()
        && source.last_served() >= token.obtained_at
    {
        agent_use::remember(source, disk.as_ref(), &token);
    }
    let status = response.status();
    let challenge =
        response.headers().get(reqwest::header::WWW_AUTHENTICATE).and_then(|v| v.to_str().ok()).map(str::to_owned);
    let body = tollgate_fetch::read_capped(response, tollgate_client::MAX_RESPONSE_BYTES)
        .await
        .with_context(|| format!("reading the answer of {method} {url}"))?;
    if !status.is_success() {
        let refused = ClientError::from_response("API request", status.as_u16(), &body);
        let mut reason = describe(&refused);
        let refusal = refused.dpop_refusal().or_else(|| challenge.as_deref().and_then(DpopRefusal::from_challenge));
        if let Some(challenge) = challenge {
            reason = format!("{reason} (WWW-Authenticate: {challenge})");
        }
        if let Some(refusal) = refusal {
            reason = format!("{reason} (hint: {})", crate::dpop::advice(&refusal));
        }
        anyhow::bail!("{method} {} answered {status}: {reason}", url.path());
    }
    match format {
        OutputFormat::Text => output::line(String::from_utf8_lossy(&body).trim_end()),
        OutputFormat::Json => {
            let value = serde_json::from_slice(&body)
                .unwrap_or_else(|_| serde_json::Value::String(String::from_utf8_lossy(&body).into_owned()));
            output::json(&value)
        }
    }
}

/// An API client whose tokens (and DPoP proofs) come from a running agent, and the issuer they are for;
/// `None` when no agent is to be used. When the app requires DPoP and none was asked for, the agent is
/// asked again for a DPoP-bound token (it signs the proofs).
async fn agent_client(args: &CallArgs) -> anyhow::Result<Option<(AuthorizedClient, String)>> {
    let connection = &args.connection;
    let wants_dpop = connection.dpop.dpop || connection.dpop.key_file().is_some();
    let Some(mut agent) = agent_use::agent_for(&args.use_agent, connection, wants_dpop)? else { return Ok(None) };
    let required = args.use_agent.agent;
    let token = match agent.token().await {
        Err(ClientError::Agent { code, .. }) if code == protocol::code::DPOP_REQUIRED && !wants_dpop => {
            tracing::info!("the app requires DPoP; asking the agent for a DPoP-bound token");
            let mut query = agent.query().clone();
            query.dpop = true;
            agent = agent.with_query(query);
            agent.token().await
        }
        other => other,
    };
    let token = match token {
        Ok(token) => token,
        Err(error @ ClientError::AgentUnavailable { .. }) if !required => {
            tracing::debug!(%error, "no agent; asking the token endpoint");
            return Ok(None);
        }
        Err(ClientError::Agent { code, .. }) if code == protocol::code::NOT_HELD && !required => return Ok(None),
        Err(error) => return Err(crate::dpop::with_advice(error)),
    };
    // The issuer the agent's token is for: the org of the token URL it was asked for, or its own.
    let status = agent.status().await?;
    let token_url = agent.query().token_url.clone().or_else(|| status["token_url"].as_str().map(str::to_owned));
    let origin = token_url
        .as_deref()
        .and_then(|u| url::Url::parse(u).ok())
        .map(|u| u.origin().ascii_serialization())
        .ok_or_else(|| anyhow::anyhow!("the agent did not say which org its token is for"))?;
    tracing::debug!(cached = token.cached, "token from the agent");
    let http = tollgate_client::source::default_http_client()?;
    Ok(Some((AuthorizedClient::with_agent(Arc::new(agent), http), origin)))
}

/// The token source for the call, with DPoP chosen automatically: the one asked for (`--dpop`,
/// `--dpop-key`, `DPOP_KEY`), else plain, unless the token endpoint answers that the app requires DPoP,
/// in which case a key for this call is generated and the token asked for again. The token is fetched
/// here (or read from the cache on disk), so `AuthorizedClient` finds it cached and sends it with the
/// scheme its `token_type` names.
async fn dpop_aware_source(connection: &ConnectionArgs, use_agent: &UseAgentArgs) -> anyhow::Result<Arc<TokenSource>> {
    let source = connection.token_source().await?;
    let disk = agent_use::disk_cache(use_agent, &source, connection.dpop.key_file().is_some());
    let error = match agent_use::cached_or_fetched(&source, disk.as_ref()).await {
        Ok(token) => {
            if source.dpop_key().is_none()
                && crate::dpop::is_bound(&token.response.token_type, &token.response.access_token)
            {
                anyhow::bail!("the token is DPoP-bound (cnf.jkt) but no DPoP key was given to sign proofs with");
            }
            return Ok(source);
        }
        Err(error) => error,
    };
    let requires_dpop = matches!(error.dpop_refusal(), Some(DpopRefusal::InvalidProof(DpopError::Missing)));
    if !requires_dpop || source.dpop_key().is_some() {
        return Err(crate::dpop::with_advice(error));
    }
    tracing::info!("the app requires DPoP; asking again with a DPoP key for this call");
    let source = connection.token_source_with(Some(DpopKey::generate()?)).await?;
    source.token().await.map_err(crate::dpop::with_advice)?;
    Ok(source)
}

/// The server's own words, without our context prefix.
fn describe(error: &ClientError) -> String {
    match error {
        ClientError::OAuth { error, description, .. } => format!("{error}: {description}"),
        ClientError::Okta { code, summary, causes, .. } if causes.is_empty() => format!("{code}: {summary}"),
        ClientError::Okta { code, summary, causes, .. } => format!("{code}: {summary} ({})", causes.join("; ")),
        ClientError::Status { body, .. } if body.is_empty() => "(empty body)".to_owned(),
        ClientError::Status { body, .. } => body.clone(),
        other => other.to_string(),
    }
}

/// `path` relative to the org: the issuer's scheme, host and port, whatever authorization server it is.
fn resolve_url(issuer: &str, path: &str) -> anyhow::Result<url::Url> {
    let base = url::Url::parse(issuer).with_context(|| format!("invalid URL {issuer}"))?;
    let url = base.join(path).map_err(|e| usage(format!("invalid path {path:?}: {e}")))?;
    if url.origin() != base.origin() {
        return Err(usage(format!(
            "{url} is not on {} (tokens are only sent to the org they came from)",
            base.origin().ascii_serialization()
        )));
    }
    Ok(url)
}
