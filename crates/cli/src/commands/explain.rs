//! `tollgate explain`: runs a client assertion through every rule a token endpoint applies (Okta's, and
//! tollgate's where they differ) and, for each, says pass or fail in plain words, how to fix it, and the
//! exact `error_description` the server would answer. Nothing is sent anywhere.
//!
//! DPoP: a DPoP proof given instead of an assertion (`typ` `dpop+jwt`) is checked like the server checks
//! it (against `--htm` and `--htu`), and `--error TEXT` explains a refusal a server already gave: an
//! `error_description`, `error: description`, or a whole `WWW-Authenticate: DPoP …` value.
use clap::{Args, ValueEnum};
use serde_json::{Value, json};
use tollgate_client::{Clock, DpopRefusal, SystemClock};
use tollgate_jose::dpop::{Expected, PROOF_TYP, verify_proof};
use tollgate_jose::explain::{Check, Verdict, explain, explain_federated, looks_federated};
use tollgate_jose::{Jwk, Jwks};

use crate::cli::OutputFormat;
use crate::commands::decode::decode_parts;
use crate::inputs::{OrgArgs, env_var, read_input, token_argument};
use crate::output;

#[derive(Debug, Args)]
#[command(after_help = "Examples:
  tollgate explain \"$ASSERTION\" --org https://dev-1.okta.com --client-id 0oa1 --jwks jwks.json
  tollgate assertion | tollgate explain - --jwks jwks.json       # org and client from the environment
  tollgate explain \"$ASSERTION\" --auth-server default --output json
  tollgate explain \"$DPOP_PROOF\" --htm GET --htu https://dev-1.okta.com/api/v1/users
  tollgate explain --error \"invalid_dpop_proof: The DPoP proof JWT has already been used.\"")]
pub struct ExplainArgs {
    /// The client assertion (a JWT), or a DPoP proof; `-` reads it from stdin.
    #[arg(required_unless_present = "error")]
    pub assertion: Option<String>,
    /// Explain a DPoP refusal instead: the server's error_description, `error: description`, or a
    /// `WWW-Authenticate` challenge.
    #[arg(long, value_name = "TEXT", conflicts_with = "assertion")]
    pub error: Option<String>,
    /// For a DPoP proof: the HTTP method it is for (default POST, the token endpoint).
    #[arg(long, value_name = "METHOD")]
    pub htm: Option<String>,
    /// For a DPoP proof: the URL it is for (default: the token endpoint).
    #[arg(long, value_name = "URL")]
    pub htu: Option<String>,
    #[command(flatten)]
    pub org: OrgArgs,
    /// The client id the assertion should name [env: CLIENT_ID]; default: its own `iss`.
    #[arg(long, value_name = "ID")]
    pub client_id: Option<String>,
    /// The app's public keys (JWKS or one JWK), to check `kid` and the signature.
    #[arg(long, value_name = "FILE")]
    pub jwks: Option<String>,
    /// Which endpoint the assertion is for (its `aud`).
    #[arg(long, value_enum, default_value_t = Endpoint::Token)]
    pub endpoint: Endpoint,
    /// Explain the assertion as a federated one (an external token: GitHub Actions, Kubernetes, SPIFFE)
    /// even if its `iss` could be a client id; implied by --credential, and by an `iss` that is not the
    /// client id.
    #[arg(long)]
    pub federated: bool,
    /// The app's federated credentials (the JSON of `GET /api/v1/apps/{id}/credentials/federated`, or
    /// one of them), to check `iss`, `sub`, `aud`, the claim conditions and the age; with --jwks, the
    /// issuer's keys.
    #[arg(long, value_name = "FILE")]
    pub credential: Option<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Endpoint {
    Token,
    Introspect,
    Revoke,
}

pub fn run(args: ExplainArgs, format: OutputFormat) -> anyhow::Result<()> {
    if let Some(text) = &args.error {
        return explain_error(text, format);
    }
    let assertion = token_argument(args.assertion.as_deref().unwrap_or("-"))?;
    if is_dpop_proof(&assertion) {
        return explain_proof(&assertion, &args, format);
    }
    let endpoint = args.org.endpoint()?;
    let url = match args.endpoint {
        Endpoint::Token => endpoint.token_url().to_owned(),
        Endpoint::Introspect => endpoint.sibling("introspect"),
        Endpoint::Revoke => endpoint.sibling("revoke"),
    };
    let jwks = match &args.jwks {
        Some(path) => Some(read_jwks(path)?),
        None => None,
    };
    let client_id = args.client_id.clone().or_else(|| env_var("CLIENT_ID"));
    let credentials = match &args.credential {
        Some(path) => Some(read_credentials(path)?),
        None => None,
    };
    let federated = args.federated || credentials.is_some() || looks_federated(&assertion, client_id.as_deref());
    let checks = if federated {
        explain_federated(
            &assertion,
            endpoint.issuer(),
            client_id.as_deref(),
            jwks.as_ref(),
            credentials.as_deref(),
            SystemClock.now(),
        )
    } else {
        explain(&assertion, endpoint.issuer(), &url, client_id.as_deref(), jwks.as_ref(), SystemClock.now())
    };
    let failed = checks.iter().filter(|c| c.verdict == Verdict::Fail).count();
    let title = if federated { "Federated assertion (an external token)" } else { "Client assertion" };

    match format {
        OutputFormat::Json => output::json(
            &json!({ "endpoint": url, "federated": federated, "ok": failed == 0, "failed": failed, "checks": checks }),
        )?,
        OutputFormat::Text => output::line(&render(title, &url, &checks, failed))?,
    }
    if failed > 0 {
        anyhow::bail!("the assertion fails {failed} of the token endpoint's rules");
    }
    Ok(())
}

/// Whether `jwt` is a DPoP proof (header `typ` `dpop+jwt`).
fn is_dpop_proof(jwt: &str) -> bool {
    decode_parts(jwt).is_ok_and(|parts| {
        parts.header.get("typ").and_then(Value::as_str).is_some_and(|t| t.eq_ignore_ascii_case(PROOF_TYP))
    })
}

/// `--error`: what a DPoP refusal means and what to do.
fn explain_error(text: &str, format: OutputFormat) -> anyhow::Result<()> {
    let text = text.trim().trim_start_matches("WWW-Authenticate:").trim();
    let refusal = DpopRefusal::from_challenge(text)
        .or_else(|| {
            let (error, description) = text.split_once(": ").unwrap_or(("", text));
            DpopRefusal::classify(error.trim(), description)
        })
        .or_else(|| DpopRefusal::classify(text, ""));
    let Some(refusal) = refusal else {
        anyhow::bail!("not a DPoP refusal tollgate knows: {text:?} (for client assertion errors, pass the assertion)");
    };
    let (error, description) = describe_refusal(&refusal);
    let advice = crate::dpop::advice(&refusal);
    match format {
        OutputFormat::Json => output::json(&json!({ "error": error, "error_description": description, "fix": advice })),
        OutputFormat::Text => output::line(&format!("{error}: {description}\n  fix: {advice}")),
    }
}

/// The `error` code and description of a refusal, as Okta sends them.
fn describe_refusal(refusal: &DpopRefusal) -> (&'static str, String) {
    use tollgate_client::dpop::{NOT_BOUND_TEXT, PROOF_REQUIRED_TEXT, SCHEME_REQUIRED_TEXT};
    match refusal {
        DpopRefusal::UseNonce => ("use_dpop_nonce", "Authorization server requires nonce in DPoP proof.".into()),
        DpopRefusal::InvalidProof(error) => ("invalid_dpop_proof", error.to_string()),
        DpopRefusal::InvalidProofOther(text) => ("invalid_dpop_proof", text.clone()),
        DpopRefusal::ProofRequired => ("invalid_request", PROOF_REQUIRED_TEXT.into()),
        DpopRefusal::SchemeRequired => ("invalid_request", SCHEME_REQUIRED_TEXT.into()),
        DpopRefusal::NotBound => ("invalid_token", NOT_BOUND_TEXT.into()),
    }
}

/// A DPoP proof: every check the server makes that needs no state (not the nonce, not replay).
fn explain_proof(proof: &str, args: &ExplainArgs, format: OutputFormat) -> anyhow::Result<()> {
    let htu = match &args.htu {
        Some(htu) => htu.clone(),
        None => args.org.endpoint()?.token_url().to_owned(),
    };
    let htm = args.htm.clone().unwrap_or_else(|| "POST".to_owned()).to_ascii_uppercase();
    let expected = Expected { htm: &htm, htu: &htu, now: SystemClock.now(), access_token: None };
    let parts = decode_parts(proof)?;
    let result = verify_proof(proof, &expected);
    let has_ath = parts.claims.get("ath").is_some();
    let (ok, detail, fix, answer) = match &result {
        Ok(verified) => (
            true,
            format!(
                "a valid {} proof for {htm} {htu}, key thumbprint (cnf.jkt) {}{}",
                verified.alg,
                verified.jkt,
                verified.nonce.as_deref().map(|n| format!(", nonce {n}")).unwrap_or_default()
            ),
            if has_ath {
                None
            } else {
                Some("on resource calls, add ath = base64url(SHA-256(access token))".to_owned())
            },
            None,
        ),
        Err(error) => (
            false,
            error.to_string(),
            Some(crate::dpop::advice(&DpopRefusal::InvalidProof(error.clone()))),
            Some(format!("400 invalid_dpop_proof \"{error}\"")),
        ),
    };
    match format {
        OutputFormat::Json => output::json(&json!({
            "dpop_proof": true, "htm": htm, "htu": htu, "ok": ok, "detail": detail, "fix": fix, "server_answer": answer,
            "header": parts.header, "claims": parts.claims,
        }))?,
        OutputFormat::Text => {
            let mut text = format!("DPoP proof for {htm} {htu}\n\n  {}  {detail}", if ok { "PASS" } else { "FAIL" });
            if let Some(fix) = &fix {
                text.push_str(&format!("\n        fix: {fix}"));
            }
            if let Some(answer) = &answer {
                text.push_str(&format!("\n        the server answers: {answer}"));
            }
            output::line(&text)?
        }
    }
    if !ok {
        anyhow::bail!("the DPoP proof would be refused");
    }
    Ok(())
}

fn render(title: &str, url: &str, checks: &[Check], failed: usize) -> String {
    let mut text = format!("{title} for {url}\n");
    for c in checks {
        let label = match c.verdict {
            Verdict::Pass => "PASS",
            Verdict::Warn => "WARN",
            Verdict::Fail => "FAIL",
            Verdict::Skip => "SKIP",
        };
        text.push_str(&format!("\n  {label}  {:<10} {}", c.rule, c.detail));
        if let Some(fix) = &c.fix {
            text.push_str(&format!("\n        fix: {fix}"));
        }
        if let (Some(answer), Verdict::Fail | Verdict::Warn) = (&c.server_answer, c.verdict) {
            text.push_str(&format!("\n        the server answers: {answer}"));
        }
    }
    let warned = checks.iter().filter(|c| c.verdict == Verdict::Warn).count();
    text.push_str(&format!("\n\n{failed} failed, {warned} warnings, {} checks.", checks.len()));
    text
}

fn read_credentials(path: &str) -> anyhow::Result<Vec<tollgate_jose::explain::CredentialFile>> {
    let text = read_input(path)?;
    let value: Value = serde_json::from_str(&text).map_err(|e| anyhow::anyhow!("{path} is not JSON: {e}"))?;
    let list = if value.is_array() { value } else { Value::Array(vec![value]) };
    serde_json::from_value(list).map_err(|e| anyhow::anyhow!("{path} is not a federated credential (or a list): {e}"))
}
fn read_jwks(path: &str) -> anyhow::Result<Jwks> {
    let text = read_input(path)?;
    let value: Value = serde_json::from_str(&text).map_err(|e| anyhow::anyhow!("{path} is not JSON: {e}"))?;
    if value.get("keys").is_some() {
        Ok(Jwks::from_json(&text)?)
    } else {
        Ok(Jwks { keys: vec![Jwk::from_json(&text)?] })
    }
}
