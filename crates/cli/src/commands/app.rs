//! `tollgate app create`: registers a service app with Dynamic Client Registration, then grants it the
//! requested scopes, exactly as one would against Okta with an SSWS API token. `tollgate app keys` lists
//! an app's keys and secrets with their `lastUsed`; `rotate-key` and `rotate-secret` are in
//! [`crate::commands::rotate`].
use std::path::PathBuf;

use anyhow::Context;
use clap::{Args, Subcommand};
use serde_json::json;
use tollgate_client::Secret;
use tollgate_client::management::{AppCredentials, ManagementClient};
use tollgate_jose::{Jwk, Jwks};

use crate::cli::OutputFormat;
use crate::inputs::{KeyArgs, ScopeArgs, SecretMethod, env_var, read_input, usage};
use crate::{dotenv, output};

#[derive(Debug, Subcommand)]
pub enum AppCommand {
    /// Register a service app (client credentials) and grant it scopes.
    Create(CreateArgs),
    /// List the app's public keys and client secrets, with when each last authenticated (lastUsed).
    Keys(KeysArgs),
    /// Replace the app's key: add a new one, prove it with a token, switch the local key, retire the old.
    RotateKey(crate::commands::rotate::RotateArgs),
    /// Replace the app's client secret the same way.
    RotateSecret(crate::commands::rotate::RotateArgs),
}

#[derive(Debug, Args)]
#[command(after_help = "Examples:
  tollgate app keys                          # OKTA_URL, API_KEY and CLIENT_ID from .env
  tollgate app keys --app 0oa1 --output json")]
pub struct KeysArgs {
    /// Okta org or tollgate server URL [env: TOLLGATE_ORG, then OKTA_URL]
    #[arg(long, value_name = "URL")]
    pub org: Option<String>,
    /// Management API token [env: TOLLGATE_API_TOKEN, then API_KEY]
    #[arg(long, value_name = "TOKEN")]
    pub api_token: Option<String>,
    /// The app's id [env: CLIENT_ID]
    #[arg(long, value_name = "ID")]
    pub app: Option<String>,
}

/// The management client for `org` (else `TOLLGATE_ORG`, `OKTA_URL`) with `api_token` (else
/// `TOLLGATE_API_TOKEN`, `API_KEY`).
pub fn management(org: Option<&str>, api_token: Option<&str>) -> anyhow::Result<ManagementClient> {
    let org = org
        .map(str::to_owned)
        .or_else(|| env_var("TOLLGATE_ORG"))
        .or_else(|| env_var("OKTA_URL"))
        .ok_or_else(|| usage("no org URL: pass --org URL or set TOLLGATE_ORG or OKTA_URL"))?;
    let api_token = api_token
        .map(str::to_owned)
        .or_else(|| env_var("TOLLGATE_API_TOKEN"))
        .or_else(|| env_var("API_KEY"))
        .ok_or_else(|| usage("no API token: pass --api-token TOKEN or set TOLLGATE_API_TOKEN or API_KEY"))?;
    ManagementClient::new(&org, Secret::new(api_token)).map_err(|e| usage(e.to_string()))
}

/// `--app`, else `CLIENT_ID` (an app's id is its client id, at Okta and in tollgate).
pub fn app_id(app: Option<&str>) -> anyhow::Result<String> {
    app.map(str::to_owned)
        .or_else(|| env_var("CLIENT_ID"))
        .ok_or_else(|| usage("no app: pass --app ID or set CLIENT_ID"))
}

async fn keys(args: KeysArgs, format: OutputFormat) -> anyhow::Result<()> {
    let client = management(args.org.as_deref(), args.api_token.as_deref())?;
    let app = app_id(args.app.as_deref())?;
    let keys = client.app_keys(&app).await?;
    // An app with keys may have no secrets API to speak of (Okta answers an empty list); any refusal of
    // the secrets list is shown as no secrets rather than failing the key listing.
    let secrets = client.app_secrets(&app).await.unwrap_or_default();
    if format == OutputFormat::Json {
        return output::json(&json!({ "keys": keys, "secrets": secrets }));
    }
    let field = |v: &serde_json::Value, k: &str| v[k].as_str().unwrap_or("-").to_owned();
    let mut lines =
        vec![format!("{:<8} {:<24} {:<44} {:<9} {:<24} LAST USED", "KIND", "ID", "KID", "STATUS", "CREATED")];
    for k in &keys {
        lines.push(format!(
            "{:<8} {:<24} {:<44} {:<9} {:<24} {}",
            "key",
            field(k, "id"),
            field(k, "kid"),
            field(k, "status"),
            field(k, "created"),
            k["lastUsed"].as_str().unwrap_or("never")
        ));
    }
    for s in &secrets {
        lines.push(format!(
            "{:<8} {:<24} {:<44} {:<9} {:<24} {}",
            "secret",
            field(s, "id"),
            "-",
            field(s, "status"),
            field(s, "created"),
            s["lastUsed"].as_str().unwrap_or("never")
        ));
    }
    output::line(&lines.join("\n"))
}

#[derive(Debug, Args)]
#[command(after_help = "Examples:
  tollgate app create --org https://dev-1.okta.com --api-token $API_KEY --name reporter \\
      --jwks jwks.json --scopes \"okta.users.read okta.apps.read\"
  tollgate app create --env                 # OKTA_URL, API_KEY, SCOPES, PRIVATE_KEY from .env; writes CLIENT_ID
  tollgate app create --secret --name batch --output json   # client_secret_basic, for a custom server
  tollgate app create --env --dpop          # tokens only with DPoP (then: tollgate token --env --dpop-key dpop.pem)")]
pub struct CreateArgs {
    /// Okta org or tollgate server URL [env: TOLLGATE_ORG, then OKTA_URL]
    #[arg(long, value_name = "URL")]
    pub org: Option<String>,
    /// Management API token, sent as `Authorization: SSWS <token>` [env: TOLLGATE_API_TOKEN, then API_KEY]
    #[arg(long, value_name = "TOKEN")]
    pub api_token: Option<String>,
    /// The app's name.
    #[arg(long, default_value = "tollgate service app")]
    pub name: String,
    /// Public keys for private_key_jwt: a JWKS (or single JWK) file. Default: derived from the private key.
    #[arg(long, value_name = "FILE", group = "credentials")]
    pub jwks: Option<String>,
    /// Public keys for private_key_jwt, fetched by the server from this URL.
    #[arg(long, value_name = "URL", group = "credentials")]
    pub jwks_uri: Option<String>,
    /// Use a client secret (generated by the server, printed once) instead of keys.
    #[arg(long, group = "credentials")]
    pub secret: bool,
    /// How the secret will be sent (client_secret_basic or client_secret_post).
    #[arg(long, value_enum, default_value_t = SecretMethod::Basic, requires = "secret")]
    pub secret_method: SecretMethod,
    #[command(flatten)]
    pub scopes: ScopeArgs,
    /// Issue the grants for this custom authorization server's issuer instead of the org's.
    #[arg(long, value_name = "ID")]
    pub auth_server: Option<String>,
    /// Private key to derive the public JWKS from [env: PRIVATE_KEY holds the key text]
    #[arg(long, value_name = "FILE")]
    pub private_key: Option<PathBuf>,
    /// Write CLIENT_ID (and CLIENT_SECRET) into ./.env.
    #[arg(long)]
    pub env: bool,
    /// Require DPoP-bound tokens (dpop_bound_access_tokens): `tollgate token` then needs --dpop or --dpop-key.
    #[arg(long)]
    pub dpop: bool,
}

pub async fn run(command: AppCommand, format: OutputFormat) -> anyhow::Result<()> {
    match command {
        AppCommand::Create(args) => create(args, format).await,
        AppCommand::Keys(args) => keys(args, format).await,
        AppCommand::RotateKey(args) => crate::commands::rotate::rotate_key(args, format).await,
        AppCommand::RotateSecret(args) => crate::commands::rotate::rotate_secret(args, format).await,
    }
}

async fn create(args: CreateArgs, format: OutputFormat) -> anyhow::Result<()> {
    let client = management(args.org.as_deref(), args.api_token.as_deref())?;
    let credentials = credentials(&args)?;
    let scopes = args.scopes.scopes();

    let registration = client.register_app(&args.name, &credentials, args.dpop).await?;
    let client_id = registration.client_id.clone();
    let grant_issuer = match &args.auth_server {
        Some(id) => format!("{}/oauth2/{id}", client.org()),
        None => client.org().to_owned(),
    };
    for scope in &scopes {
        client
            .grant_scope(&client_id, scope, &grant_issuer)
            .await
            .with_context(|| format!("app {client_id} was created, but granting {scope} failed"))?;
    }

    if args.env {
        let mut updates = vec![("CLIENT_ID", client_id.as_str())];
        if let Some(secret) = &registration.client_secret {
            updates.push(("CLIENT_SECRET", secret.as_str()));
        }
        dotenv::write_back(&dotenv::path(), &updates)?;
        output::note(&format!(
            "wrote {} to {}",
            updates.iter().map(|(k, _)| *k).collect::<Vec<_>>().join(" and "),
            dotenv::FILE_NAME
        ));
    }

    let method = registration.token_endpoint_auth_method.clone().unwrap_or_default();
    let mut text = format!("client_id: {client_id}");
    if let Some(secret) = &registration.client_secret {
        text.push_str(&format!("\nclient_secret: {secret}"));
        output::note("note: the client secret is shown only this once; store it now");
    }
    if !scopes.is_empty() {
        text.push_str(&format!("\ngranted: {}", scopes.join(" ")));
    }
    let doc = json!({
        "client_id": client_id,
        "client_secret": registration.client_secret,
        "token_endpoint_auth_method": method,
        "granted_scopes": scopes,
        "registration": registration,
    });
    output::result(format, &text, &doc)
}

fn credentials(args: &CreateArgs) -> anyhow::Result<AppCredentials> {
    if args.secret {
        let method = match args.secret_method {
            SecretMethod::Basic => "client_secret_basic",
            SecretMethod::Post => "client_secret_post",
        };
        return Ok(AppCredentials::Secret { method });
    }
    if let Some(uri) = &args.jwks_uri {
        return Ok(AppCredentials::JwksUri(uri.clone()));
    }
    if let Some(path) = &args.jwks {
        return Ok(AppCredentials::Jwks(read_public_jwks(path)?));
    }
    let key_args = KeyArgs {
        private_key: args.private_key.clone(),
        alg: None,
        kid: None,
        no_kid: false,
        audience: crate::inputs::AudienceChoice::TokenUrl,
        lifetime: tollgate_client::assertion::DEFAULT_LIFETIME_SECS,
    };
    match key_args.load_key()? {
        Some(key) => Ok(AppCredentials::Jwks(serde_json::to_value(Jwks { keys: vec![key.public_key().to_jwk()] })?)),
        None => Err(usage(
            "no credentials for the app: pass --jwks FILE, --jwks-uri URL or --secret, or set PRIVATE_KEY (tollgate keygen --env)",
        )),
    }
}

/// Reads a JWKS (or a single JWK) and checks every key is a usable public key: a private JWK passed by
/// mistake is refused here instead of being sent to the server.
fn read_public_jwks(path: &str) -> anyhow::Result<serde_json::Value> {
    let text = read_input(path)?;
    let value: serde_json::Value = serde_json::from_str(&text).with_context(|| format!("{path} is not JSON"))?;
    let jwks =
        if value.get("keys").is_some() { Jwks::from_json(&text)? } else { Jwks { keys: vec![Jwk::from_json(&text)?] } };
    jwks.public_keys().with_context(|| format!("checking the keys in {path}"))?;
    Ok(serde_json::to_value(jwks)?)
}
