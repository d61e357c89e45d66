//! The access tokens the interop clients were issued (WORKDIR/tokens/*.jwt), verified with the
//! `jsonwebtoken` crate against the JWKS the runner fetched (WORKDIR/jwks/org.json from /oauth2/v1/keys,
//! WORKDIR/jwks/default.json from /oauth2/default/v1/keys). Prints one summary line; exits 1 on the first
//! failure with the reason.
//!
//! Usage: tollgate-interop-jsonwebtoken WORKDIR
use jsonwebtoken::jwk::JwkSet;
use jsonwebtoken::{Algorithm, DecodingKey, Validation};
use serde_json::Value;
use std::path::Path;
use std::process::ExitCode;

fn read_json(path: &Path) -> Result<Value, String> {
    let text = std::fs::read_to_string(path).map_err(|e| format!("{}: {e}", path.display()))?;
    serde_json::from_str(&text).map_err(|e| format!("{}: {e}", path.display()))
}

fn run(work: &Path) -> Result<String, String> {
    let state = read_json(&work.join("state.json"))?;
    let issuer = state["issuer"].as_str().ok_or("state.json has no issuer")?.to_string();
    let default_issuer = format!("{issuer}/oauth2/default");
    let jwks = |name: &str| -> Result<JwkSet, String> {
        serde_json::from_value(read_json(&work.join("jwks").join(name))?).map_err(|e| format!("{name}: {e}"))
    };
    let (org_jwks, default_jwks) = (jwks("org.json")?, jwks("default.json")?);

    let mut names: Vec<_> = std::fs::read_dir(work.join("tokens"))
        .map_err(|e| format!("tokens: {e}"))?
        .filter_map(|e| e.ok().map(|e| e.file_name().to_string_lossy().into_owned()))
        .filter(|n| n.ends_with(".jwt"))
        .collect();
    names.sort();
    let (mut org, mut default) = (0, 0);
    for name in names {
        let token = std::fs::read_to_string(work.join("tokens").join(&name)).map_err(|e| format!("{name}: {e}"))?;
        let token = token.trim();
        let header = jsonwebtoken::decode_header(token).map_err(|e| format!("{name}: header: {e}"))?;
        let kid = header.kid.ok_or_else(|| format!("{name}: no kid"))?;
        // The key set holding the kid names the server; its issuer and audience must then match.
        let servers =
            [(&org_jwks, issuer.as_str(), issuer.as_str()), (&default_jwks, default_issuer.as_str(), "api://default")];
        let mut verified = None;
        let mut last_error = format!("{name}: kid {kid} is in neither JWKS");
        for (set, iss, audience) in servers {
            let Some(jwk) = set.find(&kid) else { continue };
            let key = DecodingKey::from_jwk(jwk).map_err(|e| format!("{name}: JWK: {e}"))?;
            let mut validation = Validation::new(Algorithm::RS256);
            validation.set_issuer(&[iss]);
            validation.set_audience(&[audience]);
            validation.set_required_spec_claims(&["exp", "iat", "iss", "aud", "sub"]);
            match jsonwebtoken::decode::<Value>(token, &key, &validation) {
                Ok(data) => {
                    verified = Some((data, iss == issuer));
                    break;
                }
                Err(e) => last_error = format!("{name}: {e}"),
            }
        }
        let (verified, is_org) = verified.ok_or(last_error)?;
        if is_org {
            org += 1;
        } else {
            default += 1;
        }
        if verified.claims["sub"] != verified.claims["cid"] {
            return Err(format!("{name}: sub is not the client id"));
        }
    }
    if org == 0 || default == 0 {
        return Err(format!("needs at least one org and one default token, had {org} org + {default} default"));
    }
    Ok(format!("{org} org + {default} default access tokens verified with DecodingKey::from_jwk + decode (RS256)"))
}

fn main() -> ExitCode {
    let Some(work) = std::env::args_os().nth(1) else {
        println!("usage: tollgate-interop-jsonwebtoken WORKDIR");
        return ExitCode::FAILURE;
    };
    match run(Path::new(&work)) {
        Ok(summary) => {
            println!("{summary}");
            ExitCode::SUCCESS
        }
        Err(reason) => {
            println!("{reason}");
            ExitCode::FAILURE
        }
    }
}
