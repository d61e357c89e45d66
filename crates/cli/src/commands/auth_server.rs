//! `tollgate auth-server`: a custom authorization server's access policies, their rules and its custom
//! claims, through the management API (`/api/v1/authorizationServers/{id}/...`) with an SSWS API token, as
//! against Okta: `policy list|create`, `rule list|create`, `claim list|create`.
use anyhow::Context;
use clap::{Args, Subcommand};
use reqwest::header::{ACCEPT, AUTHORIZATION};
use serde_json::{Value, json};

use crate::cli::OutputFormat;
use crate::inputs::{env_var, usage};
use crate::output;

#[derive(Debug, Subcommand)]
pub enum AuthServerCommand {
    /// Access policies: which clients a policy applies to, by priority.
    #[command(subcommand)]
    Policy(PolicyCommand),
    /// Rules of a policy: grant types, scopes and the access token lifetime.
    #[command(subcommand)]
    Rule(RuleCommand),
    /// Custom claims of the server's access tokens.
    #[command(subcommand)]
    Claim(ClaimCommand),
}

/// Where and as whom.
#[derive(Debug, Args)]
pub struct Target {
    /// Okta org or tollgate server URL [env: TOLLGATE_ORG, then OKTA_URL]
    #[arg(long, value_name = "URL")]
    pub org: Option<String>,
    /// Management API token, sent as `Authorization: SSWS <token>` [env: TOLLGATE_API_TOKEN, then API_KEY]
    #[arg(long, value_name = "TOKEN")]
    pub api_token: Option<String>,
    /// The custom authorization server's id.
    #[arg(long, value_name = "ID", default_value = "default")]
    pub auth_server: String,
}

#[derive(Debug, Subcommand)]
pub enum PolicyCommand {
    /// List the server's policies in priority order.
    List(Target),
    /// Create a policy.
    #[command(after_help = "Example:
  tollgate auth-server policy create --auth-server default --name \"Reporting\" --clients 0oa1abc --priority 1")]
    Create(PolicyArgs),
}

#[derive(Debug, Args)]
pub struct PolicyArgs {
    #[command(flatten)]
    pub target: Target,
    /// The policy's name.
    #[arg(long)]
    pub name: String,
    #[arg(long, default_value = "")]
    pub description: String,
    /// Client ids the policy applies to, space- or comma-separated (default: ALL_CLIENTS).
    #[arg(long, value_name = "IDS", default_value = "ALL_CLIENTS")]
    pub clients: String,
    /// 1 is evaluated first (default: last).
    #[arg(long)]
    pub priority: Option<i64>,
}

#[derive(Debug, Subcommand)]
pub enum RuleCommand {
    /// List a policy's rules in priority order.
    List(RuleTarget),
    /// Create a rule.
    #[command(after_help = "Example:
  tollgate auth-server rule create --policy 00p1abc --name \"short\" --scopes \"reports.read\" --lifetime-minutes 15")]
    Create(RuleArgs),
}

#[derive(Debug, Args)]
pub struct RuleTarget {
    #[command(flatten)]
    pub target: Target,
    /// The policy's id.
    #[arg(long, value_name = "ID")]
    pub policy: String,
}

#[derive(Debug, Args)]
pub struct RuleArgs {
    #[command(flatten)]
    pub on: RuleTarget,
    #[arg(long)]
    pub name: String,
    /// Scopes the rule allows, space- or comma-separated (`*`: all).
    #[arg(long, value_name = "SCOPES", default_value = "*")]
    pub scopes: String,
    /// Grant types, space- or comma-separated.
    #[arg(long, value_name = "TYPES", default_value = "client_credentials")]
    pub grant_types: String,
    /// The access token lifetime the rule sets (5-1440).
    #[arg(long, value_name = "MINUTES", default_value_t = 60)]
    pub lifetime_minutes: i64,
    /// 1 is evaluated first (default: last).
    #[arg(long)]
    pub priority: Option<i64>,
}

#[derive(Debug, Subcommand)]
pub enum ClaimCommand {
    /// List the server's custom claims.
    List(Target),
    /// Create a claim whose value is an expression.
    #[command(after_help = "Example:
  tollgate auth-server claim create --name tenant --value 'app.profile.tenant' --scopes reports.read")]
    Create(ClaimArgs),
}

#[derive(Debug, Args)]
pub struct ClaimArgs {
    #[command(flatten)]
    pub target: Target,
    #[arg(long)]
    pub name: String,
    /// An Okta expression: literals, app.clientId, app.profile.`<attr>`, +, String.* functions.
    #[arg(long, value_name = "EXPR")]
    pub value: String,
    /// Include the claim only when one of these scopes is granted (default: always).
    #[arg(long, value_name = "SCOPES", default_value = "")]
    pub scopes: String,
}

fn list(text: &str) -> Vec<String> {
    text.split([' ', ',']).filter(|s| !s.is_empty()).map(str::to_string).collect()
}

/// One management call: `method` on `path` under the server, with an optional JSON body.
async fn call(target: &Target, method: reqwest::Method, path: &str, body: Option<Value>) -> anyhow::Result<Value> {
    let org = target
        .org
        .clone()
        .or_else(|| env_var("TOLLGATE_ORG"))
        .or_else(|| env_var("OKTA_URL"))
        .ok_or_else(|| usage("no org URL: pass --org URL or set TOLLGATE_ORG or OKTA_URL"))?;
    let token = target
        .api_token
        .clone()
        .or_else(|| env_var("TOLLGATE_API_TOKEN"))
        .or_else(|| env_var("API_KEY"))
        .ok_or_else(|| usage("no API token: pass --api-token TOKEN or set TOLLGATE_API_TOKEN or API_KEY"))?;
    let base =
        url::Url::parse(org.trim_end_matches('/')).map_err(|e| usage(format!("invalid org URL {org:?}: {e}")))?;
    let server: String = url::form_urlencoded::byte_serialize(target.auth_server.as_bytes()).collect();
    let full = format!("/api/v1/authorizationServers/{server}{path}");
    let url = base.join(&full).context("building the URL")?;
    let http = tollgate_client::source::default_http_client()?;
    let mut request = http
        .request(method.clone(), url)
        .header(ACCEPT, "application/json")
        .header(AUTHORIZATION, format!("SSWS {token}"));
    if let Some(body) = body {
        request = request.json(&body);
    }
    let response = request.send().await.with_context(|| format!("{method} {full}"))?;
    let status = response.status();
    let bytes = tollgate_fetch::read_capped(response, tollgate_client::MAX_RESPONSE_BYTES)
        .await
        .with_context(|| format!("reading the answer of {method} {full}"))?;
    if !status.is_success() {
        let refused = tollgate_client::ClientError::from_response("management API", status.as_u16(), &bytes);
        anyhow::bail!("{method} {full} answered {status}: {refused}");
    }
    serde_json::from_slice(&bytes).with_context(|| format!("the answer of {method} {full} is not JSON"))
}

fn text_of(items: &Value, line: impl Fn(&Value) -> String) -> String {
    items.as_array().map(|a| a.iter().map(line).collect::<Vec<_>>().join("\n")).unwrap_or_default()
}

fn policy_line(p: &Value) -> String {
    format!(
        "{}  {}  priority {}  {}  clients: {}",
        p["id"].as_str().unwrap_or(""),
        p["status"].as_str().unwrap_or(""),
        p["priority"],
        p["name"].as_str().unwrap_or(""),
        list_of(&p["conditions"]["clients"]["include"])
    )
}

fn rule_line(r: &Value) -> String {
    format!(
        "{}  {}  priority {}  {}  scopes: {}  grant types: {}  lifetime: {} min",
        r["id"].as_str().unwrap_or(""),
        r["status"].as_str().unwrap_or(""),
        r["priority"],
        r["name"].as_str().unwrap_or(""),
        list_of(&r["conditions"]["scopes"]["include"]),
        list_of(&r["conditions"]["grantTypes"]["include"]),
        r["actions"]["token"]["accessTokenLifetimeMinutes"]
    )
}

fn claim_line(c: &Value) -> String {
    let scopes = list_of(&c["conditions"]["scopes"]);
    format!(
        "{}  {}  {} = {}  scopes: {}",
        c["id"].as_str().unwrap_or(""),
        c["status"].as_str().unwrap_or(""),
        c["name"].as_str().unwrap_or(""),
        c["value"].as_str().unwrap_or(""),
        if scopes.is_empty() { "any".to_string() } else { scopes }
    )
}

fn list_of(v: &Value) -> String {
    v.as_array().map(|a| a.iter().filter_map(Value::as_str).collect::<Vec<_>>().join(" ")).unwrap_or_default()
}

pub async fn run(command: AuthServerCommand, format: OutputFormat) -> anyhow::Result<()> {
    use reqwest::Method;
    match command {
        AuthServerCommand::Policy(PolicyCommand::List(t)) => {
            let v = call(&t, Method::GET, "/policies", None).await?;
            output::result(format, &text_of(&v, policy_line), &v)
        }
        AuthServerCommand::Policy(PolicyCommand::Create(a)) => {
            let mut body = json!({
                "type": "OAUTH_AUTHORIZATION_POLICY", "status": "ACTIVE", "name": a.name,
                "conditions": { "clients": { "include": list(&a.clients) } },
            });
            if !a.description.is_empty() {
                body["description"] = json!(a.description);
            }
            if let Some(p) = a.priority {
                body["priority"] = json!(p);
            }
            let v = call(&a.target, Method::POST, "/policies", Some(body)).await?;
            output::result(format, &policy_line(&v), &v)
        }
        AuthServerCommand::Rule(RuleCommand::List(r)) => {
            let v = call(&r.target, Method::GET, &format!("/policies/{}/rules", r.policy), None).await?;
            output::result(format, &text_of(&v, rule_line), &v)
        }
        AuthServerCommand::Rule(RuleCommand::Create(a)) => {
            let mut body = json!({
                "type": "RESOURCE_ACCESS", "status": "ACTIVE", "name": a.name,
                "conditions": {
                    "people": { "groups": { "include": ["EVERYONE"] } },
                    "grantTypes": { "include": list(&a.grant_types) },
                    "scopes": { "include": list(&a.scopes) },
                },
                "actions": { "token": { "accessTokenLifetimeMinutes": a.lifetime_minutes } },
            });
            if let Some(p) = a.priority {
                body["priority"] = json!(p);
            }
            let path = format!("/policies/{}/rules", a.on.policy);
            let v = call(&a.on.target, Method::POST, &path, Some(body)).await?;
            output::result(format, &rule_line(&v), &v)
        }
        AuthServerCommand::Claim(ClaimCommand::List(t)) => {
            let v = call(&t, Method::GET, "/claims", None).await?;
            output::result(format, &text_of(&v, claim_line), &v)
        }
        AuthServerCommand::Claim(ClaimCommand::Create(a)) => {
            let body = json!({
                "name": a.name, "status": "ACTIVE", "claimType": "RESOURCE", "valueType": "EXPRESSION",
                "value": a.value, "alwaysIncludeInToken": true, "conditions": { "scopes": list(&a.scopes) },
            });
            let v = call(&a.target, Method::POST, "/claims", Some(body)).await?;
            output::result(format, &claim_line(&v), &v)
        }
    }
}
