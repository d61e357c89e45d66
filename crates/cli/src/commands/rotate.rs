//! `tollgate app rotate-key` and `rotate-secret`: replace an app's credential without downtime, through
//! the management API only (the JWKS and secrets APIs, so it works against Okta as against tollgate).
//!
//! The order is what makes a failure harmless: (1) add the new credential, (2) prove it by getting a token
//! with it, (3) switch the local credential (the key file, or `.env`), and only then (4) deactivate the old
//! one, at once (`--now`) or after `--grace`. A failure in (2) or (3) removes the new credential again and
//! leaves the old one active and the local files untouched; `--dry-run` prints the plan and changes nothing.
use std::path::PathBuf;
use std::time::Duration;

use anyhow::Context;
use clap::Args;
use serde_json::{Value, json};
use tollgate_client::management::ManagementClient;
use tollgate_client::{ClientAuth, DpopKey, DpopRefusal, Secret, TokenSource};
use tollgate_jose::dpop::DpopError;
use tollgate_jose::{Jwk, PrivateKey, PublicKey};

use crate::cli::OutputFormat;
use crate::commands::app::{app_id, management};
use crate::commands::token::ConnectionArgs;
use crate::inputs::{SecretMethod, usage};
use crate::{dotenv, output};

/// When the old credential goes: at once or after a grace period. One of the two is required.
#[derive(Debug, Clone, Args)]
#[group(required = true, multiple = false)]
pub struct Retire {
    /// Deactivate the old credential this long after the switch (e.g. 30s, 10m, 2h, 1d), waiting for it:
    /// processes still holding it keep working meanwhile.
    #[arg(long, value_name = "DURATION", value_parser = duration)]
    pub grace: Option<Duration>,
    /// Deactivate the old credential as soon as the new one is proven and switched.
    #[arg(long)]
    pub now: bool,
}

fn duration(text: &str) -> Result<Duration, String> {
    let text = text.trim();
    let (number, unit) = text.split_at(text.find(|c: char| !c.is_ascii_digit()).unwrap_or(text.len()));
    let n: u64 = number.parse().map_err(|_| format!("{text:?} is not a duration like 30s, 10m, 2h or 1d"))?;
    let secs = match unit {
        "" | "s" => n,
        "m" => n * 60,
        "h" => n * 3600,
        "d" => n * 86_400,
        _ => return Err(format!("{text:?}: the unit must be s, m, h or d")),
    };
    Ok(Duration::from_secs(secs))
}

/// The arguments of `rotate-key` and `rotate-secret`.
#[derive(Debug, Args)]
#[command(after_help = "Examples:
  tollgate app rotate-key --dry-run --now          # the plan, with OKTA_URL, API_KEY, CLIENT_ID, PRIVATE_KEY from .env
  tollgate app rotate-key --now                     # new key in .env (PRIVATE_KEY, KEY_ID), old key deactivated
  tollgate app rotate-key --private-key key.pem --scopes okta.users.read --grace 10m
  tollgate app rotate-secret --auth-server default --scopes api.read --now   # CLIENT_SECRET in .env replaced")]
pub struct RotateArgs {
    #[command(flatten)]
    pub connection: ConnectionArgs,
    /// Management API token [env: TOLLGATE_API_TOKEN, then API_KEY]
    #[arg(long, value_name = "TOKEN")]
    pub api_token: Option<String>,
    #[command(flatten)]
    pub retire: Retire,
    /// Print what would be done, and do nothing.
    #[arg(long)]
    pub dry_run: bool,
}

/// Where the local credential lives, to be switched.
#[derive(Debug, Clone)]
enum Local {
    /// A key file (rewritten in place, 0600).
    File(PathBuf),
    /// `.env` in the working directory.
    DotEnv,
    /// Nowhere we can write: the new secret is printed.
    Print,
}

impl std::fmt::Display for Local {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Local::File(path) => write!(f, "{}", path.display()),
            Local::DotEnv => f.write_str(dotenv::FILE_NAME),
            Local::Print => f.write_str("stdout (store it yourself)"),
        }
    }
}

/// A credential as the management API lists it: id, status, and for keys the kid.
fn describe(v: &Value) -> String {
    match v["kid"].as_str() {
        Some(kid) => {
            format!("{} (kid {kid}, {})", v["id"].as_str().unwrap_or("?"), v["status"].as_str().unwrap_or("?"))
        }
        None => format!("{} ({})", v["id"].as_str().unwrap_or("?"), v["status"].as_str().unwrap_or("?")),
    }
}

/// The listed key that is `public` (by thumbprint, else by kid).
fn find_key<'a>(keys: &'a [Value], public: &PublicKey, kid: &str) -> Option<&'a Value> {
    let thumbprint = public.thumbprint();
    let by_thumbprint = keys.iter().find(|k| {
        serde_json::from_value::<Jwk>((*k).clone())
            .ok()
            .and_then(|jwk| PublicKey::from_jwk(&jwk).ok())
            .is_some_and(|p| p.thumbprint() == thumbprint)
    });
    by_thumbprint.or_else(|| keys.iter().find(|k| k["kid"].as_str() == Some(kid)))
}

/// Gets a token with `auth` (and, when the app requires DPoP, a DPoP key for this check): the proof the
/// new credential works.
async fn prove(connection: &ConnectionArgs, auth: ClientAuth) -> Result<(), tollgate_client::ClientError> {
    let http = tollgate_client::source::default_http_client()?;
    let endpoint = connection
        .endpoint(&http, &auth, false)
        .await
        .map_err(|e| tollgate_client::ClientError::Config(format!("{e:#}")))?;
    let build = |dpop: Option<DpopKey>| {
        let mut builder = TokenSource::builder(endpoint.clone(), auth.clone())
            .http_client(http.clone())
            .scopes(connection.scopes.scopes())
            .retry_policy(tollgate_client::RetryPolicy::none());
        if let Some(key) = dpop {
            builder = builder.dpop(key);
        }
        builder.build()
    };
    match build(None)?.fetch().await {
        Err(e) if matches!(e.dpop_refusal(), Some(DpopRefusal::InvalidProof(DpopError::Missing))) => {
            build(Some(DpopKey::generate()?))?.fetch().await.map(|_| ())
        }
        other => other.map(|_| ()),
    }
}

/// Removes a credential added by this run, after a failure: deactivated, then deleted.
async fn roll_back(client: &ManagementClient, app: &str, kind: &str, id: &str) -> String {
    let deactivated = client.set_credential_active(app, kind, id, false).await;
    let deleted = match deactivated {
        Ok(_) => client.delete_credential(app, kind, id).await,
        Err(e) => Err(e),
    };
    match deleted {
        Ok(()) => format!("the new credential {id} was removed again"),
        Err(e) => format!("removing the new credential {id} failed too ({e}); remove it by hand"),
    }
}

/// Deactivates the old credentials, after the grace period if there is one.
async fn retire(
    client: &ManagementClient,
    app: &str,
    kind: &str,
    old: &[Value],
    retire: &Retire,
) -> anyhow::Result<Vec<Value>> {
    if let Some(grace) = retire.grace {
        output::note(&format!("waiting {}s before deactivating the old credential", grace.as_secs()));
        tokio::time::sleep(grace).await;
    }
    let mut done = Vec::new();
    for credential in old {
        let id = credential["id"].as_str().unwrap_or_default();
        let answer = client.set_credential_active(app, kind, id, false).await.with_context(|| {
            format!("the new credential is in use, but deactivating the old one ({id}) failed; deactivate it by hand")
        })?;
        done.push(answer);
    }
    Ok(done)
}

fn plan_text(steps: &[String]) -> String {
    steps.iter().enumerate().map(|(i, s)| format!("{}. {s}", i + 1)).collect::<Vec<_>>().join("\n")
}

fn retire_step(retire: &Retire, old: &str) -> String {
    match retire.grace {
        Some(grace) => format!("deactivate the old {old} after {}s", grace.as_secs()),
        None => format!("deactivate the old {old} at once"),
    }
}

pub async fn rotate_key(args: RotateArgs, format: OutputFormat) -> anyhow::Result<()> {
    let connection = &args.connection;
    let client = management(connection.org.org.as_deref(), args.api_token.as_deref())?;
    let app = app_id(connection.client.client_id.as_deref())?;
    let key_args = &connection.client.key;
    let old_key = key_args.load_key()?.ok_or_else(|| {
        usage("rotate-key replaces the app's private key: pass --private-key FILE or set PRIVATE_KEY (in .env)")
    })?;
    let local = match &key_args.private_key {
        Some(path) => Local::File(path.clone()),
        None if dotenv::file_value(&dotenv::path(), "PRIVATE_KEY").is_some() => Local::DotEnv,
        None => {
            return Err(usage(
                "PRIVATE_KEY comes from the environment, not from .env: pass --private-key FILE, or keep the key in .env, so that it can be switched",
            ));
        }
    };
    let keys = client.app_keys(&app).await?;
    let old = find_key(&keys, &old_key.public_key(), old_key.kid()).cloned().ok_or_else(|| {
        anyhow::anyhow!("app {app} has no key matching the local private key (kid {})", old_key.kid())
    })?;
    let new_key = PrivateKey::generate(old_key.spec())?.with_algorithm(old_key.algorithm())?;
    let steps = vec![
        format!("add a new {:?} key (kid {}) to app {app}", old_key.spec(), new_key.kid()),
        "get a token with it, to prove it works (on failure: remove it again, keep the old key)".to_owned(),
        format!("write the new private key to {local}"),
        retire_step(&args.retire, &format!("key {}", describe(&old))),
    ];
    if args.dry_run {
        let doc = json!({ "dry_run": true, "app": app, "old_key": old, "new_kid": new_key.kid(), "plan": steps });
        return output::result(format, &plan_text(&steps), &doc);
    }

    let mut jwk = serde_json::to_value(new_key.public_key().to_jwk())?;
    jwk["status"] = json!("ACTIVE");
    let added = client.add_app_key(&app, &jwk).await.context("adding the new key")?;
    let new_id = added["id"].as_str().unwrap_or_default().to_owned();
    let signer = {
        let mut new_args = key_args.clone();
        (new_args.kid, new_args.no_kid) = (Some(new_key.kid().to_owned()), false);
        // A second copy of the key for the signer (keys are not Clone, on purpose).
        new_args.signer(&app, PrivateKey::from_jwk(&new_key.to_jwk()?)?.with_algorithm(new_key.algorithm())?)?
    };
    if let Err(e) = prove(connection, ClientAuth::PrivateKeyJwt(signer)).await {
        let undone = roll_back(&client, &app, "jwks", &new_id).await;
        anyhow::bail!("the new key could not get a token ({e}); {undone}; the old key {} stays active", describe(&old));
    }
    if let Err(e) = switch_key(&local, &new_key) {
        let undone = roll_back(&client, &app, "jwks", &new_id).await;
        anyhow::bail!("{e:#}; {undone}; the old key {} stays active", describe(&old));
    }
    output::note(&format!("the new key {new_id} (kid {}) works and is in {local}", new_key.kid()));
    let retired = retire(&client, &app, "jwks", std::slice::from_ref(&old), &args.retire).await?;
    let text = format!("new key {new_id} (kid {}) in {local}; old key {} deactivated", new_key.kid(), describe(&old));
    let doc = json!({ "app": app, "new_key": added, "old_keys": retired, "local": local.to_string() });
    output::result(format, &text, &doc)
}

fn switch_key(local: &Local, key: &PrivateKey) -> anyhow::Result<()> {
    match local {
        Local::File(path) => {
            let text = if std::fs::read_to_string(path).is_ok_and(|t| t.trim_start().starts_with('{')) {
                serde_json::to_string_pretty(&key.to_jwk()?)?
            } else {
                key.to_pkcs8_pem()?.to_string()
            };
            crate::commands::keygen::write_new_file(path, &text, true, true)
                .with_context(|| format!("writing the new key to {}", path.display()))
        }
        Local::DotEnv | Local::Print => {
            let jwk = serde_json::to_string(&key.to_jwk()?)?;
            dotenv::write_back(&dotenv::path(), &[("PRIVATE_KEY", &jwk), ("KEY_ID", key.kid())])
                .context("writing the new key to .env")
        }
    }
}

pub async fn rotate_secret(args: RotateArgs, format: OutputFormat) -> anyhow::Result<()> {
    let connection = &args.connection;
    let client = management(connection.org.org.as_deref(), args.api_token.as_deref())?;
    let app = app_id(connection.client.client_id.as_deref())?;
    let local =
        if dotenv::file_value(&dotenv::path(), "CLIENT_SECRET").is_some() { Local::DotEnv } else { Local::Print };
    let secrets = client.app_secrets(&app).await?;
    if secrets.len() >= 2 {
        anyhow::bail!(
            "app {app} already has {} client secrets (Okta allows two): delete the inactive one first",
            secrets.len()
        );
    }
    let old: Vec<Value> = secrets.into_iter().filter(|s| s["status"] == "ACTIVE").collect();
    let old_text = old.iter().map(describe).collect::<Vec<_>>().join(", ");
    let steps = vec![
        format!("create a new client secret for app {app}"),
        "get a token with it, to prove it works (on failure: remove it again, keep the old secret)".to_owned(),
        format!("write the new secret to {local}"),
        retire_step(&args.retire, &format!("secret {}", if old_text.is_empty() { "(none)" } else { &old_text })),
    ];
    if args.dry_run {
        let doc = json!({ "dry_run": true, "app": app, "old_secrets": old, "plan": steps });
        return output::result(format, &plan_text(&steps), &doc);
    }
    let created = client.create_app_secret(&app).await.context("creating the new client secret")?;
    let new_id = created["id"].as_str().unwrap_or_default().to_owned();
    let plain = created["client_secret"].as_str().unwrap_or_default().to_owned();
    let secret = Secret::new(plain.clone());
    let auth = match connection.client.secret_method {
        SecretMethod::Basic => ClientAuth::SecretBasic { client_id: app.clone(), secret },
        SecretMethod::Post => ClientAuth::SecretPost { client_id: app.clone(), secret },
    };
    if let Err(e) = prove(connection, auth).await {
        let undone = roll_back(&client, &app, "secrets", &new_id).await;
        anyhow::bail!("the new secret could not get a token ({e}); {undone}; the old secret stays active");
    }
    if let Local::DotEnv = local
        && let Err(e) = dotenv::write_back(&dotenv::path(), &[("CLIENT_SECRET", &plain)])
    {
        let undone = roll_back(&client, &app, "secrets", &new_id).await;
        anyhow::bail!("writing the new secret to .env failed ({e:#}); {undone}; the old secret stays active");
    }
    let retired = retire(&client, &app, "secrets", &old, &args.retire).await?;
    let mut doc =
        json!({ "app": app, "new_secret": { "id": new_id }, "old_secrets": retired, "local": local.to_string() });
    let text = match local {
        Local::Print => {
            doc["client_secret"] = json!(plain);
            output::note("note: the new client secret is shown only this once; store it now");
            format!("client_secret: {plain}")
        }
        _ => format!("new secret {new_id} in {local}; old secret {old_text} deactivated"),
    };
    output::result(format, &text, &doc)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations() {
        assert_eq!(duration("30"), Ok(Duration::from_secs(30)));
        assert_eq!(duration("10m"), Ok(Duration::from_secs(600)));
        assert_eq!(duration("2h"), Ok(Duration::from_secs(7200)));
        assert!(duration("1w").is_err());
        assert!(duration("m").is_err());
    }
}
