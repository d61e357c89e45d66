//! `tollgate token`: a client-credentials token, printed: from a running `tollgate agent` when there is
//! one for these credentials, else from the per-user cache on disk while it is fresh, else from one token
//! request. A refusal ends as
//! `error: token request refused (HTTP 401): invalid_client: <Okta's error_description>`.
use std::sync::Arc;

use clap::Args;
use tollgate_client::{ClientAuth, DpopKey, TokenEndpoint, TokenResponse, TokenSource};

use crate::agent_use::{self, AgentAnswer, UseAgentArgs};
use crate::cli::OutputFormat;
use crate::dpop::DpopArgs;
use crate::inputs::{ClientArgs, Flavor, OrgArgs, ScopeArgs, usage};
use crate::{dotenv, output};

#[derive(Debug, Args)]
#[command(after_help = "Examples:
  tollgate token --org https://dev-1.okta.com --client-id 0oa1 --private-key key.pem --scopes okta.users.read
  tollgate token --env                                   # everything from .env; writes ACCESS_TOKEN back
  tollgate token --auth-server default --client-id 0oa2 --client-secret \"$SECRET\" --scopes api.read
  tollgate token --issuer https://dev-1.okta.com/oauth2/default --output json   # endpoint from discovery
  tollgate token --flavor oag --org https://oag.example.com --client-id ID --private-key oag.pem \\
                 --scopes \"okta.oag.app.read okta.oag.idp.read\"          # Okta Access Gateway API
  tollgate token --env --dpop-key dpop.pem               # DPoP-bound; `tollgate call` then uses the same key
  tollgate token --agent --scopes okta.users.read        # from the running `tollgate agent`, or fail
  tollgate token --no-agent --no-cache                   # always a new token request")]
pub struct TokenArgs {
    #[command(flatten)]
    pub connection: ConnectionArgs,
    /// Write ACCESS_TOKEN into ./.env as well (everything else is read from it in any case).
    #[arg(long)]
    pub env: bool,
    #[command(flatten)]
    pub use_agent: UseAgentArgs,
}

/// Everything needed to get a token: server, client, credentials, scopes.
#[derive(Debug, Args)]
pub struct ConnectionArgs {
    #[command(flatten)]
    pub org: OrgArgs,
    /// Find the token endpoint through this issuer's discovery document instead of --org.
    #[arg(long, value_name = "URL", conflicts_with_all = ["org", "auth_server"])]
    pub issuer: Option<String>,
    #[command(flatten)]
    pub client: ClientArgs,
    #[command(flatten)]
    pub scopes: ScopeArgs,
    /// Which token endpoint --org names: Okta's (`/oauth2/...`) or an Okta Access Gateway's
    /// (`/api/v2/oauth/token`, assertion `aud` = the --org URL with a `scope` claim).
    #[arg(long, value_enum, default_value_t = Flavor::Okta)]
    pub flavor: Flavor,
    #[command(flatten)]
    pub dpop: DpopArgs,
}

impl ConnectionArgs {
    /// A token source for these arguments.
    pub async fn token_source(&self) -> anyhow::Result<Arc<TokenSource>> {
        self.token_source_with(self.dpop.key()?).await
    }

    /// A token source for these arguments with this DPoP key (or none).
    pub async fn token_source_with(&self, dpop: Option<DpopKey>) -> anyhow::Result<Arc<TokenSource>> {
        let auth = self.client.auth()?;
        let http = tollgate_client::source::default_http_client()?;
        let scopes = self.scopes.scopes();
        let endpoint = self.endpoint(&http, &auth, dpop.is_some()).await?;
        if scopes.is_empty() && self.org.auth_server.is_none() && self.issuer.is_none() {
            return Err(usage(
                "no scopes: pass --scopes \"okta.users.read ...\" or set SCOPES (the org authorization server requires them)",
            ));
        }
        let mut builder = TokenSource::builder(endpoint, auth).http_client(http).scopes(scopes);
        if let Some(key) = dpop {
            builder = builder.dpop(key);
        }
        Ok(Arc::new(builder.build()?))
    }

    /// The token endpoint these arguments name (by discovery with --issuer).
    pub async fn endpoint(
        &self,
        http: &reqwest::Client,
        auth: &ClientAuth,
        dpop: bool,
    ) -> anyhow::Result<TokenEndpoint> {
        Ok(match (self.flavor, &self.issuer) {
            (Flavor::Oag, _) => {
                if self.issuer.is_some() || self.org.auth_server.is_some() {
                    return Err(usage(
                        "--flavor oag takes the gateway's base URL as --org; --issuer and --auth-server do not apply",
                    ));
                }
                if !matches!(auth, ClientAuth::PrivateKeyJwt(_)) {
                    return Err(usage(
                        "--flavor oag needs --private-key: the Access Gateway takes signed assertions only",
                    ));
                }
                if dpop {
                    return Err(usage(
                        "--flavor oag does not take --dpop: the Access Gateway issues Bearer tokens only",
                    ));
                }
                if self.scopes.scopes().is_empty() {
                    return Err(usage(
                        "no scopes: pass --scopes \"okta.oag.app.read ...\" or set SCOPES (the Access Gateway requires them)",
                    ));
                }
                TokenEndpoint::for_gateway(&self.org.org()?).map_err(|e| usage(e.to_string()))?
            }
            (Flavor::Okta, Some(issuer)) => TokenEndpoint::discover(http, issuer).await?,
            (Flavor::Okta, None) => self.org.endpoint()?,
        })
    }

    /// The token endpoint URL these arguments name without asking anyone (`None` with --issuer, or when
    /// no org is given): what a request to the agent names.
    pub fn known_token_url(&self) -> Option<String> {
        if self.issuer.is_some() {
            return None;
        }
        let org = self.org.org().ok()?;
        let endpoint = match self.flavor {
            Flavor::Oag => TokenEndpoint::for_gateway(&org).ok()?,
            Flavor::Okta => TokenEndpoint::for_org(&org, self.org.auth_server.as_deref()).ok()?,
        };
        Some(endpoint.token_url().to_owned())
    }
}

pub async fn run(args: TokenArgs, format: OutputFormat) -> anyhow::Result<()> {
    let dpop_file = args.connection.dpop.key_file();
    let wants_dpop = args.connection.dpop.dpop || dpop_file.is_some();
    if let Some(agent) = agent_use::agent_for(&args.use_agent, &args.connection, wants_dpop)?
        && let AgentAnswer::Token(got) = agent_use::ask(&agent, args.use_agent.agent).await?
    {
        if got.token.is_dpop() && dpop_file.is_none() {
            eprintln!(
                "note: this DPoP token is bound to the agent's key (jkt {}); `tollgate call` gets its proofs from the agent",
                got.jkt.as_deref().unwrap_or("?")
            );
        }
        return print(&args, format, &got.token, None);
    }
    let source = args.connection.token_source().await?;
    let disk = agent_use::disk_cache(&args.use_agent, &source, dpop_file.is_some());
    let token = agent_use::cached_or_fetched(&source, disk.as_ref()).await.map_err(crate::dpop::with_advice)?;
    let token = &token.response;
    if source.dpop_key().is_some() && !token.is_dpop() {
        eprintln!("warning: DPoP was asked for, but the server issued a {} token", token.token_type);
    } else if token.is_dpop() && dpop_file.is_none() {
        eprintln!(
            "note: this DPoP token is bound to a key that existed only in this command; pass --dpop-key FILE to keep it"
        );
    }
    print(&args, format, token, dpop_file.filter(|_| token.is_dpop()))
}

/// Prints the token (and with --env writes it to .env, with the DPoP key file it is bound to).
fn print(
    args: &TokenArgs,
    format: OutputFormat,
    token: &TokenResponse,
    dpop_file: Option<std::path::PathBuf>,
) -> anyhow::Result<()> {
    if args.env {
        let mut updates = vec![("ACCESS_TOKEN", token.access_token.clone())];
        if let Some(file) = &dpop_file {
            updates.push(("DPOP_KEY", file.display().to_string()));
        }
        let updates: Vec<(&str, &str)> = updates.iter().map(|(k, v)| (*k, v.as_str())).collect();
        dotenv::write_back(&dotenv::path(), &updates)?;
    }
    output::result(format, &token.access_token, &serde_json::to_value(token)?)
}
