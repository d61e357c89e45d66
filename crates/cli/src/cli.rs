//! The command line, as clap derive types. Each subcommand's arguments live next to its code in
//! [`crate::commands`]; this file only lists them and holds the options every command shares.
use clap::{Parser, Subcommand, ValueEnum};

use crate::commands::{
    admin, agent, app, assertion, auth_server, call, completions, decode, explain, jwk, keygen, logs, token, verify,
};
use crate::serve;

const EXAMPLES: &str = "\
Examples:
  # the three-command flow, with OKTA_URL and API_KEY in .env
  tollgate keygen --env
  tollgate app create --env --scopes okta.users.read
  tollgate token --env
  tollgate call GET /api/v1/users

  # a local Okta-compatible server
  TOLLGATE_ADMIN_TOKEN=secret tollgate serve --listen 127.0.0.1:8080

Environment:
  TOLLGATE_ORG or OKTA_URL, TOLLGATE_API_TOKEN or API_KEY, CLIENT_ID, CLIENT_SECRET, SCOPES,
  PRIVATE_KEY (PEM or JWK text); SSL_CERT_FILE or TOLLGATE_CA_CERT: CA certificates to trust for https.
  A .env file in the working directory is read first; variables already set in the environment win.";

/// Okta-compatible OAuth 2.0 client credentials: a server and the client tooling.
#[derive(Debug, Parser)]
#[command(name = "tollgate", version, about, after_help = EXAMPLES, propagate_version = true)]
pub struct Cli {
    /// How to print results: text for people, json for scripts (stdout is then one JSON document).
    #[arg(long, global = true, value_enum, default_value_t = OutputFormat::Text)]
    pub output: OutputFormat,
    /// Also trust the CA certificate(s) in this PEM file for https (e.g. tollgate-demo/ca.pem of
    /// `tollgate serve --dev --tls`); SSL_CERT_FILE is honoured as well.
    #[arg(long, global = true, env = "TOLLGATE_CA_CERT", value_name = "FILE")]
    pub ca_cert: Option<std::path::PathBuf>,
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum OutputFormat {
    Text,
    Json,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Run the Okta-compatible authorization server.
    Serve(serve::ServeArgs),
    /// Generate a key pair: private key (PKCS#8 PEM or JWK) and public JWKS.
    Keygen(keygen::KeygenArgs),
    /// JWK tools.
    #[command(subcommand)]
    Jwk(jwk::JwkCommand),
    /// Admin Console users (written to the server's database).
    #[command(subcommand)]
    Admin(admin::AdminCommand),
    /// Service apps (management API).
    #[command(subcommand)]
    App(app::AppCommand),
    /// A custom authorization server's access policies, rules and claims (management API).
    #[command(subcommand)]
    AuthServer(auth_server::AuthServerCommand),
    /// Print a signed client assertion (private_key_jwt) for a token endpoint.
    Assertion(assertion::AssertionArgs),
    /// Get an access token with the client-credentials grant.
    Token(token::TokenArgs),
    /// Call an API with a fresh access token and print the response body.
    Call(call::CallArgs),
    /// Run the local token agent (shares tokens between this user's processes); `agent status`, `agent stop`.
    Agent(agent::AgentArgs),
    /// Read the System Log (GET /api/v1/logs): filter, page, or --follow new events.
    Logs(logs::LogsArgs),
    /// Show a JWT's header and claims without verifying it.
    Decode(decode::DecodeArgs),
    /// Verify an access token against an issuer's keys and claims.
    Verify(verify::VerifyArgs),
    /// Check a client assertion against every rule the token endpoint applies, and say how to fix each.
    Explain(explain::ExplainArgs),
    /// Print a shell completion script.
    Completions(completions::CompletionsArgs),
}
