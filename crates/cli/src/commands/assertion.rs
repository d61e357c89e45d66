//! `tollgate assertion`: prints the signed client assertion a token request would carry, for use with
//! curl or another client, or to inspect with `tollgate explain`.
use clap::Args;
use serde_json::json;
use tollgate_client::{Clock, SystemClock};

use crate::cli::OutputFormat;
use crate::inputs::{KeyArgs, OrgArgs, env_var, usage};
use crate::output;

#[derive(Debug, Args)]
#[command(after_help = "Examples:
  tollgate assertion --org https://dev-1.okta.com --client-id 0oa1 --private-key key.pem
  tollgate assertion --auth-server default --lifetime 60      # org, client and key from the environment
  curl -d grant_type=client_credentials -d scope=okta.users.read \\
       -d client_assertion_type=urn:ietf:params:oauth:client-assertion-type:jwt-bearer \\
       -d client_assertion=$(tollgate assertion) $OKTA_URL/oauth2/v1/token")]
pub struct AssertionArgs {
    #[command(flatten)]
    pub org: OrgArgs,
    /// The app's client id [env: CLIENT_ID]
    #[arg(long, value_name = "ID")]
    pub client_id: Option<String>,
    #[command(flatten)]
    pub key: KeyArgs,
}

pub fn run(args: AssertionArgs, format: OutputFormat) -> anyhow::Result<()> {
    let endpoint = args.org.endpoint()?;
    let client_id = args
        .client_id
        .clone()
        .or_else(|| env_var("CLIENT_ID"))
        .ok_or_else(|| usage("no client id: pass --client-id ID or set CLIENT_ID"))?;
    let key =
        args.key.load_key()?.ok_or_else(|| usage("no private key: pass --private-key FILE or set PRIVATE_KEY"))?;
    let signer = args.key.signer(&client_id, key)?;
    let now = SystemClock.now();
    let header = signer.header();
    let claims = signer.claims(&endpoint, now);
    let assertion = tollgate_jose::jws::sign_json(signer.key(), &header, &claims)?;
    let doc = json!({
        "assertion": assertion,
        "token_url": endpoint.token_url(),
        "header": { "alg": header.alg.as_str(), "typ": header.typ, "kid": header.kid },
        "claims": claims,
    });
    output::result(format, &assertion, &doc)
}
