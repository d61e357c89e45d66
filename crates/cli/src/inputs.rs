//! Where each input comes from: a flag, else the environment (including `.env`), in the order the
//! contract gives (`--org`, `TOLLGATE_ORG`, `OKTA_URL`; ...). A missing input is a usage error (exit 2).
use std::path::{Path, PathBuf};

use anyhow::Context;
use clap::{Args, ValueEnum};
use tollgate_client::assertion::KidChoice;
use tollgate_client::{AssertionAudience, AssertionSigner, ClientAuth, Secret, TokenEndpoint};
use tollgate_jose::{Algorithm, PrivateKey};

/// Bad usage: a missing or contradictory input. Exits with code 2.
#[derive(Debug)]
pub struct UsageError(pub String);

impl std::fmt::Display for UsageError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for UsageError {}

/// Returns a [`UsageError`] as an `anyhow::Error`.
pub fn usage(message: impl Into<String>) -> anyhow::Error {
    anyhow::Error::new(UsageError(message.into()))
}

/// A non-empty environment variable.
pub fn env_var(name: &str) -> Option<String> {
    std::env::var(name).ok().filter(|v| !v.trim().is_empty())
}

/// The org (or tollgate server) URL and, optionally, a custom authorization server.
#[derive(Debug, Clone, Args)]
pub struct OrgArgs {
    /// Okta org or tollgate server URL, e.g. https://dev-123.okta.com [env: TOLLGATE_ORG, then OKTA_URL]
    #[arg(long, value_name = "URL")]
    pub org: Option<String>,
    /// Custom authorization server id (e.g. `default`); without it, the org authorization server.
    #[arg(long, value_name = "ID")]
    pub auth_server: Option<String>,
}

impl OrgArgs {
    /// `--org`, else `TOLLGATE_ORG`, else `OKTA_URL`.
    pub fn org(&self) -> anyhow::Result<String> {
        self.org
            .clone()
            .or_else(|| env_var("TOLLGATE_ORG"))
            .or_else(|| env_var("OKTA_URL"))
            .ok_or_else(|| usage("no org URL: pass --org URL or set TOLLGATE_ORG or OKTA_URL"))
    }

    pub fn endpoint(&self) -> anyhow::Result<TokenEndpoint> {
        let org = self.org()?;
        TokenEndpoint::for_org(&org, self.auth_server.as_deref()).map_err(|e| usage(e.to_string()))
    }
}

/// `--scopes`, else `SCOPES`; space- or comma-separated.
#[derive(Debug, Clone, Args)]
pub struct ScopeArgs {
    /// Scopes to request, space- or comma-separated, e.g. "okta.users.read okta.apps.read" [env: SCOPES]
    #[arg(long, value_name = "SCOPES")]
    pub scopes: Option<String>,
}

impl ScopeArgs {
    pub fn scopes(&self) -> Vec<String> {
        let text = self.scopes.clone().or_else(|| env_var("SCOPES")).unwrap_or_default();
        tollgate_client::source::split_scopes([text])
    }
}

/// Which kind of token endpoint `--org` names.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, ValueEnum)]
pub enum Flavor {
    /// Okta's: the org authorization server `/oauth2/v1/token`, or a custom one with --auth-server.
    #[default]
    Okta,
    /// The Okta Access Gateway admin API: `/api/v2/oauth/token`; the assertion's `aud` is the --org URL
    /// and a `scope` claim repeats the scopes; tokens last 300 s.
    Oag,
}

/// Where the assertion's `aud` points.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum AudienceChoice {
    /// The token endpoint URL (what Okta requires).
    TokenUrl,
    /// The authorization server's issuer (RFC 7523bis; tollgate accepts it, Okta does not).
    Issuer,
}

/// How to sign client assertions.
#[derive(Debug, Clone, Args)]
pub struct KeyArgs {
    /// Private key file: PEM (PKCS#8, PKCS#1, SEC1) or JWK [env: PRIVATE_KEY holds the key text itself]
    #[arg(long, value_name = "FILE")]
    pub private_key: Option<PathBuf>,
    /// Signing algorithm; default: the JWK's `alg`, else RS256 for RSA, ES256/384/512 for EC keys.
    #[arg(long, value_name = "ALG")]
    pub alg: Option<Algorithm>,
    /// `kid` for the assertion header; default: the JWK's kid, else the key's RFC 7638 thumbprint [env: KEY_ID]
    #[arg(long, value_name = "KID", conflicts_with = "no_kid")]
    pub kid: Option<String>,
    /// Send no `kid` (works only when the app has a single key).
    #[arg(long)]
    pub no_kid: bool,
    /// What the assertion's `aud` names.
    #[arg(long, value_enum, default_value_t = AudienceChoice::TokenUrl)]
    pub audience: AudienceChoice,
    /// Assertion lifetime in seconds (at most 3000).
    #[arg(long, value_name = "SECONDS", default_value_t = tollgate_client::assertion::DEFAULT_LIFETIME_SECS)]
    pub lifetime: u64,
}

impl KeyArgs {
    /// The private key from `--private-key FILE`, else from `PRIVATE_KEY`; `None` if neither is there.
    pub fn load_key(&self) -> anyhow::Result<Option<PrivateKey>> {
        let key = match &self.private_key {
            Some(path) => Some(read_private_key_file(path)?),
            None => match env_var("PRIVATE_KEY") {
                Some(text) => Some(parse_private_key_text(&text).context("reading PRIVATE_KEY")?),
                None => None,
            },
        };
        let Some(mut key) = key else { return Ok(None) };
        if let Some(alg) = self.alg {
            key = key.with_algorithm(alg).with_context(|| format!("using {alg} with this key"))?;
        }
        Ok(Some(key))
    }

    /// An assertion signer for `client_id`.
    pub fn signer(&self, client_id: &str, key: PrivateKey) -> anyhow::Result<AssertionSigner> {
        let kid = if self.no_kid {
            KidChoice::Omit
        } else if let Some(kid) =
            self.kid.clone().or_else(|| self.private_key.is_none().then(|| env_var("KEY_ID")).flatten())
        {
            KidChoice::Explicit(kid)
        } else {
            KidChoice::FromKey
        };
        let audience = match self.audience {
            AudienceChoice::TokenUrl => AssertionAudience::TokenEndpoint,
            AudienceChoice::Issuer => AssertionAudience::Issuer,
        };
        AssertionSigner::new(client_id, key)
            .with_kid(kid)
            .with_audience(audience)
            .with_lifetime(self.lifetime)
            .map_err(|e| usage(e.to_string()))
    }
}

/// Largest key file read (a PEM or JWK is a few KiB; `/dev/zero` must not fill the memory).
pub const MAX_KEY_FILE_BYTES: u64 = 1024 * 1024;
/// Largest other input file (a JSON body, a token) read, or stdin.
pub const MAX_INPUT_BYTES: u64 = 16 * 1024 * 1024;

/// Reads at most `max` bytes of UTF-8 text; larger is an error, not a longer wait.
fn read_capped_text(reader: impl std::io::Read, max: u64) -> anyhow::Result<String> {
    let mut bytes = Vec::new();
    std::io::Read::read_to_end(&mut std::io::Read::take(reader, max + 1), &mut bytes)?;
    if bytes.len() as u64 > max {
        anyhow::bail!("larger than {max} bytes");
    }
    String::from_utf8(bytes).map_err(|_| anyhow::anyhow!("not UTF-8 text"))
}

/// [`read_capped_text`] of a file.
pub fn read_capped_file(path: &Path, max: u64) -> anyhow::Result<String> {
    read_capped_text(std::fs::File::open(path)?, max)
}

/// Reads a private key file (PEM or JWK).
pub fn read_private_key_file(path: &Path) -> anyhow::Result<PrivateKey> {
    let text = read_capped_file(path, MAX_KEY_FILE_BYTES)
        .with_context(|| format!("reading the private key {}", path.display()))?;
    parse_private_key_text(&text).with_context(|| format!("reading the private key {}", path.display()))
}

/// Parses PEM or JWK text. A PEM whose line breaks arrived as literal `\n` (a common way of squeezing it
/// into one `.env` line) is accepted too.
pub fn parse_private_key_text(text: &str) -> anyhow::Result<PrivateKey> {
    let text = text.trim();
    let unescaped;
    let text = if text.starts_with("-----BEGIN") && !text.contains('\n') && text.contains("\\n") {
        unescaped = text.replace("\\n", "\n");
        unescaped.as_str()
    } else {
        text
    };
    Ok(PrivateKey::parse(text)?)
}

/// How a client-secret client sends its secret.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum SecretMethod {
    /// `client_secret_basic`: in the Authorization header.
    Basic,
    /// `client_secret_post`: in the form body.
    Post,
}

/// Who the client is and how it authenticates.
#[derive(Debug, Clone, Args)]
pub struct ClientArgs {
    /// The app's client id [env: CLIENT_ID]
    #[arg(long, value_name = "ID")]
    pub client_id: Option<String>,
    /// Client secret (client_secret_basic/post; custom authorization servers only) [env: CLIENT_SECRET]
    #[arg(long, value_name = "SECRET", conflicts_with = "private_key")]
    pub client_secret: Option<String>,
    /// How to send the client secret.
    #[arg(long, value_enum, default_value_t = SecretMethod::Basic)]
    pub secret_method: SecretMethod,
    #[command(flatten)]
    pub key: KeyArgs,
    /// Authenticate with a token the platform gives this workload (workload identity federation): read
    /// from this file before every token request (a Kubernetes projected service-account token, a SPIFFE
    /// JWT-SVID). The app needs a federated credential for its issuer.
    #[arg(long, value_name = "PATH", conflicts_with_all = ["client_secret", "private_key", "federated_token_env", "github_actions"])]
    pub federated_token_file: Option<std::path::PathBuf>,
    /// Like --federated-token-file, from this environment variable.
    #[arg(long, value_name = "VAR", conflicts_with_all = ["client_secret", "private_key", "github_actions"])]
    pub federated_token_env: Option<String>,
    /// Authenticate with the GitHub Actions OIDC token of this job (needs `permissions: id-token: write`):
    /// asked from ACTIONS_ID_TOKEN_REQUEST_URL with ACTIONS_ID_TOKEN_REQUEST_TOKEN for every token request.
    #[arg(long, conflicts_with_all = ["client_secret", "private_key"])]
    pub github_actions: bool,
    /// With --github-actions: the `aud` to ask GitHub for (default: the token endpoint's issuer, which a
    /// federated credential accepts by default).
    #[arg(long, value_name = "AUD", requires = "github_actions")]
    pub github_audience: Option<String>,
    /// Send the federated token as a SPIFFE JWT-SVID (client_assertion_type ...:jwt-spiffe).
    #[arg(long)]
    pub spiffe: bool,
}

impl ClientArgs {
    pub fn client_id(&self) -> anyhow::Result<String> {
        self.client_id
            .clone()
            .or_else(|| env_var("CLIENT_ID"))
            .ok_or_else(|| usage("no client id: pass --client-id ID or set CLIENT_ID"))
    }

    /// The client authentication: `--private-key`, else `--client-secret`, else `PRIVATE_KEY`, else
    /// `CLIENT_SECRET`.
    pub fn auth(&self) -> anyhow::Result<ClientAuth> {
        let client_id = self.client_id()?;
        if let Some(token) = self.external_token() {
            let auth = tollgate_client::FederatedAuth::new(client_id, token).spiffe(self.spiffe);
            return Ok(ClientAuth::Federated(auth));
        }
        if self.spiffe {
            return Err(usage("--spiffe needs --federated-token-file or --federated-token-env (the JWT-SVID)"));
        }
        // clap keeps --client-secret and --private-key apart, so a given secret is the only flag.
        if let Some(secret) = &self.client_secret {
            return Ok(self.secret_auth(client_id, secret));
        }
        if let Some(key) = self.key.load_key()? {
            return Ok(ClientAuth::PrivateKeyJwt(self.key.signer(&client_id, key)?));
        }
        if let Some(secret) = env_var("CLIENT_SECRET") {
            return Ok(self.secret_auth(client_id, &secret));
        }
        Err(usage(
            "no client credentials: pass --private-key FILE or --client-secret SECRET, or set PRIVATE_KEY or CLIENT_SECRET",
        ))
    }

    /// Where a federated token comes from, if one of the federated flags was given.
    fn external_token(&self) -> Option<tollgate_client::ExternalToken> {
        use tollgate_client::ExternalToken;
        if let Some(path) = &self.federated_token_file {
            return Some(ExternalToken::File(path.clone()));
        }
        if let Some(name) = &self.federated_token_env {
            return Some(ExternalToken::Env(name.clone()));
        }
        self.github_actions.then(|| ExternalToken::GithubActions { audience: self.github_audience.clone() })
    }

    fn secret_auth(&self, client_id: String, secret: &str) -> ClientAuth {
        let secret = Secret::new(secret);
        match self.secret_method {
            SecretMethod::Basic => ClientAuth::SecretBasic { client_id, secret },
            SecretMethod::Post => ClientAuth::SecretPost { client_id, secret },
        }
    }
}

/// Reads a file argument, or stdin for `-`.
pub fn read_input(path: &str) -> anyhow::Result<String> {
    if path == "-" {
        return read_capped_text(std::io::stdin(), MAX_INPUT_BYTES).context("reading stdin");
    }
    read_capped_file(Path::new(path), MAX_INPUT_BYTES).with_context(|| format!("reading {path}"))
}

/// A token given on the command line, or `-` for stdin; surrounding whitespace removed.
pub fn token_argument(value: &str) -> anyhow::Result<String> {
    let text = if value == "-" { read_input("-")? } else { value.to_owned() };
    let text = text.trim();
    let text = text.strip_prefix("Bearer ").unwrap_or(text);
    if text.is_empty() {
        return Err(usage("the token is empty"));
    }
    Ok(text.to_owned())
}
