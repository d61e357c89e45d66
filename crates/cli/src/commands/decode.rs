//! `tollgate decode`: a JWT's header and claims, for reading only. Nothing is verified, and the output
//! says so; `tollgate verify` is the command that checks.
use clap::Args;
use serde_json::{Value, json};
use tollgate_client::{Clock, SystemClock};

use crate::cli::OutputFormat;
use crate::inputs::{token_argument, usage};
use crate::output;

#[derive(Debug, Args)]
#[command(after_help = "Examples:
  tollgate decode eyJraWQiOi...
  tollgate token --env | tollgate decode -
  tollgate decode \"$TOKEN\" --output json | jq .claims.scp")]
pub struct DecodeArgs {
    /// The JWT (an access token or a client assertion); `-` reads it from stdin.
    pub token: String,
}

/// A JWT split into its JSON parts; the signature is left alone.
pub struct DecodedParts {
    pub header: Value,
    pub claims: Value,
    pub signature_len: usize,
}

/// Splits and base64url-decodes a compact JWT without any verification.
pub fn decode_parts(token: &str) -> anyhow::Result<DecodedParts> {
    let parts: Vec<&str> = token.split('.').collect();
    let [header, payload, signature] = parts.as_slice() else {
        return Err(usage(format!("not a JWT: expected three dot-separated parts, found {}", parts.len())));
    };
    let json_part = |name: &str, text: &str| -> anyhow::Result<Value> {
        let bytes =
            tollgate_jose::b64url_decode(text).map_err(|e| usage(format!("the {name} is not base64url: {e}")))?;
        let value: Value = serde_json::from_slice(&bytes).map_err(|e| usage(format!("the {name} is not JSON: {e}")))?;
        if !value.is_object() {
            return Err(usage(format!("the {name} is not a JSON object")));
        }
        Ok(value)
    };
    let signature_len = tollgate_jose::b64url_decode(signature).map(|s| s.len()).unwrap_or(0);
    Ok(DecodedParts { header: json_part("header", header)?, claims: json_part("payload", payload)?, signature_len })
}

pub fn run(args: DecodeArgs, format: OutputFormat) -> anyhow::Result<()> {
    let token = token_argument(&args.token)?;
    let parts = decode_parts(&token)?;
    let now = SystemClock.now();
    match format {
        OutputFormat::Json => output::json(&json!({
            "header": parts.header,
            "claims": parts.claims,
            "signature_bytes": parts.signature_len,
            "verified": false,
        })),
        OutputFormat::Text => {
            let mut text = format!(
                "header:\n{}\nclaims:\n{}",
                serde_json::to_string_pretty(&parts.header)?,
                serde_json::to_string_pretty(&parts.claims)?
            );
            for line in time_notes(&parts.claims, now) {
                text.push('\n');
                text.push_str(&line);
            }
            text.push_str("\n(not verified: use `tollgate verify` to check the signature and claims)");
            output::line(&text)
        }
    }
}

/// Human readings of `iat`, `nbf` and `exp` relative to now.
fn time_notes(claims: &Value, now: i64) -> Vec<String> {
    let mut notes = Vec::new();
    for (claim, label) in [("iat", "issued"), ("nbf", "valid from"), ("exp", "expires")] {
        if let Some(at) = claims.get(claim).and_then(Value::as_i64) {
            let delta = at - now;
            let when = if delta >= 0 { format!("in {}", duration(delta)) } else { format!("{} ago", duration(-delta)) };
            notes.push(format!("{claim}: {label} {when}"));
        }
    }
    notes
}

fn duration(seconds: i64) -> String {
    match seconds {
        s if s < 120 => format!("{s} s"),
        s if s < 7200 => format!("{} min", s / 60),
        s => format!("{} h", s / 3600),
    }
}
