//! `tollgate jwk convert`: PEM ⇄ JWK ⇄ JWKS, for private or public keys. A private key converted `--to
//! jwks` gives its public JWKS (what an app registers); a public key never turns into a private one.
use clap::{Args, Subcommand, ValueEnum};
use serde_json::json;
use tollgate_jose::{Jwk, Jwks, PrivateKey, PublicKey};

use crate::cli::OutputFormat;
use crate::inputs::{parse_private_key_text, read_input, usage};
use crate::output;

#[derive(Debug, Subcommand)]
pub enum JwkCommand {
    /// Convert a key between PEM, JWK and JWKS.
    Convert(ConvertArgs),
}

#[derive(Debug, Args)]
#[command(after_help = "Examples:
  tollgate jwk convert key.pem                 # private PEM -> private JWK
  tollgate jwk convert key.jwk --to pem        # private JWK -> PKCS#8 PEM
  tollgate jwk convert key.pem --to jwks       # the public JWKS to register with an app
  tollgate jwk convert public.pem              # SPKI PEM -> public JWK")]
pub struct ConvertArgs {
    /// The key file (PEM, JWK or a one-key JWKS); `-` for stdin.
    pub input: String,
    /// Target format; default: jwk for PEM input, pem for JWK input.
    #[arg(long, value_enum)]
    pub to: Option<Target>,
    /// Set the `kid` of the output.
    #[arg(long)]
    pub kid: Option<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Target {
    Pem,
    Jwk,
    Jwks,
}

enum Key {
    Private(PrivateKey),
    Public(PublicKey),
}

pub fn run(command: JwkCommand, format: OutputFormat) -> anyhow::Result<()> {
    let JwkCommand::Convert(args) = command;
    let text = read_input(&args.input)?;
    let is_pem = text.trim_start().starts_with("-----BEGIN");
    let key = parse_any_key(&text)?;
    let target = args.to.unwrap_or(if is_pem { Target::Jwk } else { Target::Pem });
    let (kind, converted) = match key {
        Key::Private(mut key) => {
            if let Some(kid) = &args.kid {
                key = key.with_kid(kid.clone());
            }
            let converted = match target {
                Target::Pem => json!(key.to_pkcs8_pem()?.to_string()),
                Target::Jwk => serde_json::to_value(key.to_jwk()?)?,
                Target::Jwks => serde_json::to_value(Jwks { keys: vec![key.public_key().to_jwk()] })?,
            };
            ("private", converted)
        }
        Key::Public(mut key) => {
            if let Some(kid) = &args.kid {
                key = key.with_kid(Some(kid.clone()));
            }
            let converted = match target {
                Target::Pem => json!(key.to_spki_pem()?),
                Target::Jwk => serde_json::to_value(key.to_jwk())?,
                Target::Jwks => serde_json::to_value(Jwks { keys: vec![key.to_jwk()] })?,
            };
            ("public", converted)
        }
    };
    let kind = if target == Target::Jwks { "public" } else { kind };
    let text = match &converted {
        serde_json::Value::String(pem) => pem.trim_end().to_owned(),
        other => serde_json::to_string_pretty(other)?,
    };
    let to = match target {
        Target::Pem => "pem",
        Target::Jwk => "jwk",
        Target::Jwks => "jwks",
    };
    output::result(format, &text, &json!({ "kind": kind, "to": to, "key": converted }))
}

/// Private PEM/JWK first, then public PEM, JWK or a JWKS holding exactly one key.
fn parse_any_key(text: &str) -> anyhow::Result<Key> {
    let private_error = match parse_private_key_text(text) {
        Ok(key) => return Ok(Key::Private(key)),
        Err(e) => e,
    };
    let trimmed = text.trim();
    if trimmed.starts_with("-----BEGIN") {
        if trimmed.contains("PRIVATE KEY") {
            return Err(private_error.context("reading the private key"));
        }
        return Ok(Key::Public(PublicKey::from_pem(trimmed)?));
    }
    let value: serde_json::Value =
        serde_json::from_str(trimmed).map_err(|e| usage(format!("the input is neither PEM nor JSON: {e}")))?;
    if value.get("keys").is_some() {
        let jwks = Jwks::from_json(trimmed)?;
        let [jwk] = jwks.keys.as_slice() else {
            return Err(usage(format!("the JWKS holds {} keys; convert one key at a time", jwks.keys.len())));
        };
        return public_or_private(jwk);
    }
    let jwk = Jwk::from_json(trimmed)?;
    public_or_private(&jwk)
}

fn public_or_private(jwk: &Jwk) -> anyhow::Result<Key> {
    if jwk.private_member().is_some() {
        return Ok(Key::Private(PrivateKey::from_jwk(jwk)?));
    }
    Ok(Key::Public(PublicKey::from_jwk(jwk)?))
}
