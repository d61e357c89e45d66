//! `tollgate admin user create`: a local admin user for the Admin Console (`/admin`), written straight
//! into the server's database. The password is read from stdin (one line) or `TOLLGATE_ADMIN_PASSWORD`,
//! never from a flag (flags show in `ps`); it is stored as an argon2id hash.
use anyhow::Context;
use clap::{Args, Subcommand};
use std::io::BufRead;

use crate::cli::OutputFormat;
use crate::output;

#[derive(Debug, Subcommand)]
pub enum AdminCommand {
    /// Admin Console users.
    #[command(subcommand)]
    User(UserCommand),
}

#[derive(Debug, Subcommand)]
pub enum UserCommand {
    /// Create an Admin Console user (or, with --replace, set its password and role).
    Create(CreateArgs),
}

#[derive(Debug, Args)]
#[command(after_help = "Examples:
  echo 'a long passphrase here' | tollgate admin user create --login ops@example.com
  TOLLGATE_ADMIN_PASSWORD=... tollgate admin user create --login auditor --role READ_ONLY_ADMIN --database postgres://tollgate@db/tollgate")]
pub struct CreateArgs {
    /// The username to sign in with.
    #[arg(long)]
    pub login: String,
    /// The admin role it acts with: SUPER_ADMIN, ORG_ADMIN, APP_ADMIN, USER_ADMIN,
    /// API_ACCESS_MANAGEMENT_ADMIN or READ_ONLY_ADMIN.
    #[arg(long, default_value = "SUPER_ADMIN")]
    pub role: String,
    /// The server's database URL [default: sqlite://tollgate.db]
    #[arg(long = "database", env = "TOLLGATE_DATABASE_URL")]
    pub database_url: Option<String>,
    /// Set the password and role of an existing user instead of refusing (signs its sessions out).
    #[arg(long)]
    pub replace: bool,
}

fn password() -> anyhow::Result<String> {
    if let Ok(p) = std::env::var("TOLLGATE_ADMIN_PASSWORD")
        && !p.is_empty()
    {
        return Ok(p);
    }
    let mut line = String::new();
    std::io::stdin().lock().read_line(&mut line).context("reading the password from stdin")?;
    let line = line.trim_end_matches(['\r', '\n']).to_string();
    if line.is_empty() {
        anyhow::bail!("no password: pipe it on stdin or set TOLLGATE_ADMIN_PASSWORD");
    }
    Ok(line)
}

pub async fn run(command: AdminCommand, format: OutputFormat) -> anyhow::Result<()> {
    let AdminCommand::User(UserCommand::Create(args)) = command;
    let database = args.database_url.clone().unwrap_or_else(|| tollgate_server::Config::default().database_url);
    let password = password()?;
    let made =
        tollgate_server::console::create_admin_user_at(&database, &args.login, &password, &args.role, args.replace)
            .await?;
    if !made {
        anyhow::bail!("admin user {:?} already exists (use --replace to set its password and role)", args.login);
    }
    match format {
        OutputFormat::Json => output::json(&serde_json::json!({ "login": args.login.trim(), "role": args.role })),
        OutputFormat::Text => output::line(&format!(
            "admin user {} ({}) saved; sign in at the server's /admin",
            args.login.trim(),
            args.role
        )),
    }
}
