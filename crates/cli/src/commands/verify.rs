//! `tollgate verify`: checks an access token the way a resource server would, with `tollgate-verify`
//! (issuer discovery, JWKS, signature, `iss`, `aud`, `exp`/`nbf`, scopes).
use std::sync::Arc;

use clap::Args;
use serde_json::json;
use tollgate_verify::{Verifier, VerifierConfig};

use crate::cli::OutputFormat;
use crate::inputs::token_argument;
use crate::output;

#[derive(Debug, Args)]
#[command(after_help = "Examples:
  tollgate verify \"$TOKEN\" --issuer https://dev-1.okta.com/oauth2/default --audience api://default --scope api.read
  tollgate token --env | tollgate verify - --issuer \"$OKTA_URL\"")]
pub struct VerifyArgs {
    /// The access token; `-` reads it from stdin.
    pub token: String,
    /// The expected issuer (exact `iss`); its discovery document names the keys.
    #[arg(long, value_name = "URL")]
    pub issuer: String,
    /// An accepted audience (repeatable); without it `aud` is not checked.
    #[arg(long, value_name = "AUD")]
    pub audience: Vec<String>,
    /// A scope the token must carry (repeatable, or space-separated).
    #[arg(long, value_name = "SCOPE")]
    pub scope: Vec<String>,
    /// Fetch keys from this URL instead of discovering it.
    #[arg(long, value_name = "URL")]
    pub jwks_uri: Option<String>,
    /// Clock skew tolerated on exp/nbf/iat, in seconds.
    #[arg(long, value_name = "SECONDS", default_value_t = 60)]
    pub leeway: u64,
}

pub async fn run(args: VerifyArgs, format: OutputFormat) -> anyhow::Result<()> {
    let token = token_argument(&args.token)?;
    let mut config = VerifierConfig::new(args.issuer.clone()).leeway_secs(args.leeway);
    for audience in &args.audience {
        config = config.audience(audience.clone());
    }
    for scope in tollgate_client::source::split_scopes(&args.scope) {
        config = config.require_scope(scope);
    }
    if let Some(uri) = &args.jwks_uri {
        config = config.jwks_uri(uri.clone());
    }
    if args.audience.is_empty() {
        output::note("note: no --audience given, so the token's aud was not checked");
    }
    let verifier = Arc::new(Verifier::new(config)?);
    // The token's binding is reported, not enforced: there is no request here to carry a DPoP proof.
    let verified = verifier.verify_unbound(&token).await.map_err(|e| anyhow::anyhow!("the token is not valid: {e}"))?;
    let claims = &verified.claims;
    let text = format!(
        "valid: {} token for {} from {} (kid {}), scopes: {}",
        verified.alg,
        claims.sub.as_deref().unwrap_or("?"),
        claims.iss.as_deref().unwrap_or("?"),
        verified.kid.as_deref().unwrap_or("none"),
        if verified.scopes.is_empty() { "none".to_owned() } else { verified.scopes.join(" ") },
    );
    let text = match &verified.jkt {
        Some(jkt) => format!("{text}; DPoP-bound to key {jkt}"),
        None => text,
    };
    let doc = json!({
        "valid": true,
        "header": { "alg": verified.alg.as_str(), "kid": verified.kid },
        "claims": claims,
        "scopes": verified.scopes,
        "dpop_jkt": verified.jkt,
    });
    output::result(format, &text, &doc)
}
