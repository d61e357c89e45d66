//! `tollgate keygen`: a new signing key pair. The private key is printed (or written to a file, or to
//! `.env` as a one-line JWK) only because the user asked for it; the public half is a JWKS ready for
//! `app create --jwks`.
use std::path::{Path, PathBuf};

use anyhow::Context;
use clap::{Args, ValueEnum};
use serde_json::json;
use tollgate_jose::{Algorithm, Jwks, KeySpec, PrivateKey};

use crate::cli::OutputFormat;
use crate::{dotenv, output};

#[derive(Debug, Args)]
#[command(after_help = "Examples:
  tollgate keygen                                  # RS256 2048-bit, PEM and JWKS on stdout
  tollgate keygen --alg ES256 --kid k1 --private-key key.pem --jwks jwks.json
  tollgate keygen --env                            # PRIVATE_KEY (a one-line JWK), KEY_ID, JWKS into .env")]
pub struct KeygenArgs {
    /// Signing algorithm the key is for (RS256, RS384, RS512, PS256, PS384, PS512, ES256, ES384, ES512).
    #[arg(long, default_value = "RS256")]
    pub alg: Algorithm,
    /// RSA modulus size (2048, 3072, 4096); ignored for EC keys.
    #[arg(long, default_value_t = 2048, value_parser = rsa_bits)]
    pub bits: u32,
    /// Key id; default: the RFC 7638 thumbprint.
    #[arg(long)]
    pub kid: Option<String>,
    /// Format of the private key.
    #[arg(long, value_enum, default_value_t = KeyFormat::Pem)]
    pub format: KeyFormat,
    /// Write the private key to FILE (mode 0600) instead of stdout.
    #[arg(long, value_name = "FILE")]
    pub private_key: Option<PathBuf>,
    /// Write the public JWKS to FILE instead of stdout.
    #[arg(long, value_name = "FILE")]
    pub jwks: Option<PathBuf>,
    /// Write PRIVATE_KEY (the private JWK on one line), KEY_ID and JWKS into ./.env.
    #[arg(long)]
    pub env: bool,
    /// Replace existing files, or an existing PRIVATE_KEY in .env.
    #[arg(long)]
    pub force: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum KeyFormat {
    /// PKCS#8 PEM.
    Pem,
    /// JWK (JSON).
    Jwk,
}

fn rsa_bits(text: &str) -> Result<u32, String> {
    match text.parse::<u32>() {
        Ok(bits @ (2048 | 3072 | 4096)) => Ok(bits),
        _ => Err("RSA keys are 2048, 3072 or 4096 bits".into()),
    }
}

pub fn run(args: KeygenArgs, format: OutputFormat) -> anyhow::Result<()> {
    let spec = KeySpec::for_algorithm(args.alg, args.bits);
    let mut key = PrivateKey::generate(spec).context("generating the key")?.with_algorithm(args.alg)?;
    if let Some(kid) = &args.kid {
        key = key.with_kid(kid.clone());
    }
    let jwks = Jwks { keys: vec![key.public_key().to_jwk()] };
    let jwks_value = serde_json::to_value(&jwks)?;
    let private_text = match args.format {
        KeyFormat::Pem => key.to_pkcs8_pem()?.to_string(),
        KeyFormat::Jwk => serde_json::to_string_pretty(&key.to_jwk()?)?,
    };
    if args.format == KeyFormat::Pem && (args.private_key.is_some() || !args.env) {
        let mut flags = Vec::new();
        if args.alg != spec.default_algorithm() {
            flags.push(format!("--alg {}", args.alg));
        }
        if let Some(kid) = &args.kid {
            flags.push(format!("--kid {kid}"));
        }
        if !flags.is_empty() {
            output::note(&format!(
                "note: a PEM file records neither kid nor algorithm; pass {} when signing with it (or use --format jwk)",
                flags.join(" ")
            ));
        }
    }
    let mut written = serde_json::Map::new();
    if let Some(path) = &args.private_key {
        write_new_file(path, &private_text, true, args.force)?;
        written.insert("private_key_file".into(), json!(path));
    }
    if let Some(path) = &args.jwks {
        write_new_file(path, &serde_json::to_string_pretty(&jwks)?, false, args.force)?;
        written.insert("jwks_file".into(), json!(path));
    }
    if args.env {
        let env_path = dotenv::path();
        if !args.force && dotenv::file_value(&env_path, "PRIVATE_KEY").is_some() {
            return Err(crate::inputs::usage(
                ".env already holds a PRIVATE_KEY; pass --force to replace it (the app registered with it would stop working)",
            ));
        }
        let private_jwk = serde_json::to_string(&key.to_jwk()?)?;
        let jwks_line = serde_json::to_string(&jwks)?;
        dotenv::write_back(&env_path, &[("PRIVATE_KEY", &private_jwk), ("KEY_ID", key.kid()), ("JWKS", &jwks_line)])?;
        written.insert("env_file".into(), json!(env_path));
        output::note(&format!("wrote PRIVATE_KEY, KEY_ID and JWKS to {}", env_path.display()));
    }

    let print_private = args.private_key.is_none() && !args.env;
    let print_jwks = args.jwks.is_none();
    match format {
        OutputFormat::Json => {
            let mut doc = json!({ "alg": args.alg.as_str(), "kid": key.kid() });
            if let Some(map) = doc.as_object_mut() {
                if print_private {
                    let private = match args.format {
                        KeyFormat::Pem => json!(private_text),
                        KeyFormat::Jwk => serde_json::to_value(key.to_jwk()?)?,
                    };
                    map.insert("private_key".into(), private);
                }
                map.insert("jwks".into(), jwks_value);
                map.extend(written);
            }
            output::json(&doc)
        }
        OutputFormat::Text => {
            if print_private {
                output::line(private_text.trim_end())?;
            }
            if print_jwks {
                output::line(&serde_json::to_string_pretty(&jwks)?)?;
            }
            if !print_private && !print_jwks {
                output::line(key.kid())?;
            }
            Ok(())
        }
    }
}

/// Writes a new file; refuses to replace one unless `force`. Private files get mode 0600.
pub(crate) fn write_new_file(path: &Path, text: &str, private: bool, force: bool) -> anyhow::Result<()> {
    let mut options = std::fs::OpenOptions::new();
    options.write(true);
    if force {
        options.create(true).truncate(true);
    } else {
        options.create_new(true);
    }
    #[cfg(unix)]
    if private {
        std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    }
    #[cfg(not(unix))]
    let _ = private;
    let mut file = options.open(path).with_context(|| {
        if path.exists() {
            format!("{} already exists (pass --force to replace it)", path.display())
        } else {
            format!("writing {}", path.display())
        }
    })?;
    let mut content = text.trim_end().to_owned();
    content.push('\n');
    std::io::Write::write_all(&mut file, content.as_bytes()).with_context(|| format!("writing {}", path.display()))
}
