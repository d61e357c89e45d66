//! `tollgate assertion`: prints the signed client assertion a token request would carry, for use with
//! curl or another client, or to inspect with `tollgate explain`.
use clap::Args;
use serde_json::json;
use tollgate_client::{Clock, SystemClock, TokenEndpoint};

use crate::cli::OutputFormat;
use crate::inputs::{Flavor, KeyArgs, OrgArgs, ScopeArgs, env_var, usage};
use crate::output;

#[derive(Debug, Args)]
#[command(after_help = "Examples:
  tollgate assertion --org https://dev-1.okta.com --client-id 0oa1 --private-key key.pem
  tollgate assertion --auth-server default --lifetime 60      # org, client and key from the environment
  curl -d grant_type=client_credentials -d scope=okta.users.read \\
       -d client_assertion_type=urn:ietf:params:oauth:client-assertion-type:jwt-bearer \\
       -d client_assertion=$(tollgate assertion) $OKTA_URL/oauth2/v1/token
  tollgate assertion --flavor oag --org https://oag.example.com --scopes okta.oag.app.read   # aud = base URL")]
pub struct AssertionArgs {
    #[command(flatten)]
    pub org: OrgArgs,
    /// The app's client id [env: CLIENT_ID]
    #[arg(long, value_name = "ID")]
    pub client_id: Option<String>,
    #[command(flatten)]
    pub key: KeyArgs,
    /// `oag`: for an Okta Access Gateway's /api/v2/oauth/token (`aud` = the --org URL, and a `scope` claim
    /// holding --scopes).
    #[arg(long, value_enum, default_value_t = Flavor::Okta)]
    pub flavor: Flavor,
    /// With --flavor oag, the scopes of the `scope` claim [env: SCOPES]
    #[command(flatten)]
    pub scopes: ScopeArgs,
}

pub fn run(args: AssertionArgs, format: OutputFormat) -> anyhow::Result<()> {
    let (endpoint, scopes) = match args.flavor {
        Flavor::Okta => {
            if args.scopes.scopes.is_some() {
                return Err(usage("--scopes goes into the assertion only with --flavor oag"));
            }
            (args.org.endpoint()?, Vec::new())
        }
        Flavor::Oag => {
            if args.org.auth_server.is_some() {
                return Err(usage("--flavor oag takes the gateway's base URL as --org; --auth-server does not apply"));
            }
            let scopes = args.scopes.scopes();
            if scopes.is_empty() {
                return Err(usage(
                    "no scopes: pass --scopes \"okta.oag.app.read ...\" or set SCOPES (the Access Gateway's assertion carries them)",
                ));
            }
            (TokenEndpoint::for_gateway(&args.org.org()?).map_err(|e| usage(e.to_string()))?, scopes)
        }
    };
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
    let claims = signer.claims_for(&endpoint, now, &scopes);
    let assertion = tollgate_jose::jws::sign_json(signer.key(), &header, &claims)?;
    let doc = json!({
        "assertion": assertion,
        "token_url": endpoint.token_url(),
        "header": { "alg": header.alg.as_str(), "typ": header.typ, "kid": header.kid },
        "claims": claims,
    });
    output::result(format, &assertion, &doc)
}
