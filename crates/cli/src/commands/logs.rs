//! `tollgate logs`: reads the System Log (`GET /api/v1/logs`) of tollgate or an Okta org, with an API token
//! (`SSWS`) or, without one, the app's own token (`okta.logs.read`). `--follow` keeps polling the `next`
//! link the server gives — the way SIEM collectors read Okta — and prints events as they arrive.
use anyhow::Context;
use clap::Args;
use reqwest::header::{AUTHORIZATION, HeaderMap, LINK};
use serde_json::Value;
use std::time::Duration;
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;

use crate::cli::OutputFormat;
use crate::commands::token::ConnectionArgs;
use crate::inputs::{env_var, usage};
use crate::output;

#[derive(Debug, Args)]
#[command(after_help = "Examples:
  tollgate logs --since 1h
  tollgate logs --filter 'eventType eq \"app.oauth2.token.grant.access_token\" and outcome.result eq \"FAILURE\"'
  tollgate logs --follow --output json | jq .eventType      # one JSON event per line, until interrupted
  tollgate logs --q okta.users.read --limit 20")]
pub struct LogsArgs {
    /// Management API token, sent as `SSWS <token>` [env: TOLLGATE_API_TOKEN, then API_KEY]; without one, the
    /// app's credentials get a token with `okta.logs.read`.
    #[arg(long, value_name = "TOKEN")]
    pub api_token: Option<String>,
    /// Events from this time on: an ISO-8601 instant, or an age such as 30m, 2h, 7d (server default: 7d).
    #[arg(long, value_name = "TIME")]
    pub since: Option<String>,
    /// Events before this time (same forms as --since; default: when the command started); not with
    /// --follow.
    #[arg(long, value_name = "TIME", conflicts_with = "follow")]
    pub until: Option<String>,
    /// A filter expression: eq, sw, co on eventType, outcome.result, actor.id, target.id, client.ipAddress, ...
    #[arg(long, value_name = "EXPR")]
    pub filter: Option<String>,
    /// Words every event must contain.
    #[arg(long, value_name = "TEXT")]
    pub q: Option<String>,
    /// Events per page (1-1000).
    #[arg(long, value_name = "N")]
    pub limit: Option<u32>,
    /// Newest first (not with --follow).
    #[arg(long, conflicts_with = "follow")]
    pub descending: bool,
    /// Keep polling for new events.
    #[arg(long)]
    pub follow: bool,
    /// Seconds between polls when --follow finds nothing new.
    #[arg(long, value_name = "SECONDS", default_value_t = 5)]
    pub interval: u64,
    #[command(flatten)]
    pub connection: ConnectionArgs,
}

/// `--since 2h` → the instant two hours ago; an ISO-8601 instant stays as it is.
fn instant(text: &str, now: OffsetDateTime) -> anyhow::Result<String> {
    if OffsetDateTime::parse(text, &Rfc3339).is_ok() {
        return Ok(text.to_string());
    }
    let (digits, unit) = text.split_at(text.trim_end_matches(char::is_alphabetic).len());
    let n: i64 =
        digits.parse().map_err(|_| usage(format!("invalid time {text:?}: use 2026-12-01T10:00:00Z or 30m, 2h, 7d")))?;
    let seconds = match unit {
        "s" => n,
        "m" => n * 60,
        "h" => n * 3600,
        "d" => n * 86400,
        _ => return Err(usage(format!("invalid time {text:?}: the unit must be s, m, h or d"))),
    };
    let t = now - time::Duration::seconds(seconds);
    t.format(&Rfc3339).map_err(|e| usage(format!("invalid time {text:?}: {e}")))
}

/// The `rel="next"` URL among `Link` headers.
fn next_link(headers: &HeaderMap) -> Option<String> {
    headers.get_all(LINK).iter().filter_map(|v| v.to_str().ok()).find_map(|v| {
        let (url, params) = v.split_once(';')?;
        params.contains("rel=\"next\"").then(|| url.trim().trim_start_matches('<').trim_end_matches('>').to_string())
    })
}

fn print_event(event: &Value, format: OutputFormat) -> anyhow::Result<()> {
    match format {
        OutputFormat::Json => output::line(&event.to_string()),
        OutputFormat::Text => {
            let s = |v: &Value| v.as_str().unwrap_or("-").to_string();
            let targets: Vec<String> =
                event["target"].as_array().map(|t| t.iter().map(|t| s(&t["id"])).collect()).unwrap_or_default();
            let mut line = format!(
                "{}  {}  {}  {} -> [{}]  {}",
                s(&event["published"]),
                s(&event["eventType"]),
                s(&event["outcome"]["result"]),
                s(&event["actor"]["alternateId"]),
                targets.join(", "),
                s(&event["displayMessage"]),
            );
            if let Some(reason) = event["outcome"]["reason"].as_str() {
                line.push_str(&format!(" ({reason})"));
            }
            output::line(&line)
        }
    }
}

pub async fn run(args: LogsArgs, format: OutputFormat) -> anyhow::Result<()> {
    let org = args.connection.org.org()?;
    let base =
        url::Url::parse(org.trim_end_matches('/')).map_err(|e| usage(format!("invalid org URL {org:?}: {e}")))?;
    let mut url = base.join("/api/v1/logs").context("building the System Log URL")?;
    {
        let now = OffsetDateTime::now_utc();
        let mut q = url.query_pairs_mut();
        if let Some(since) = &args.since {
            q.append_pair("since", &instant(since, now)?);
        }
        match &args.until {
            Some(until) => q.append_pair("until", &instant(until, now)?),
            // Without --follow the listing ends at the moment it started: events recorded while it pages
            // (its own rate-limit events among them) would otherwise keep the last page from ever being
            // empty.
            None if !args.follow => q.append_pair("until", &now.format(&Rfc3339).context("formatting now")?),
            None => &mut q,
        };
        if let Some(f) = &args.filter {
            q.append_pair("filter", f);
        }
        if let Some(text) = &args.q {
            q.append_pair("q", text);
        }
        if let Some(limit) = args.limit {
            q.append_pair("limit", &limit.to_string());
        }
        if args.descending {
            q.append_pair("sortOrder", "DESCENDING");
        }
    }
    let api_token = args.api_token.clone().or_else(|| env_var("TOLLGATE_API_TOKEN")).or_else(|| env_var("API_KEY"));
    let http = tollgate_client::source::default_http_client()?;
    let source = match api_token {
        Some(_) => None,
        None => Some(args.connection.token_source().await?),
    };
    let mut collected = Vec::new();
    loop {
        if url.origin() != base.origin() {
            anyhow::bail!(
                "the server's next link {url} leaves {}; not following it",
                base.origin().ascii_serialization()
            );
        }
        let mut request = http.get(url.clone()).header(reqwest::header::ACCEPT, "application/json");
        request = match (&api_token, &source) {
            (Some(token), _) => request.header(AUTHORIZATION, format!("SSWS {token}")),
            (None, Some(source)) => {
                let token = source.token().await?;
                request.bearer_auth(&token.access_token)
            }
            (None, None) => request,
        };
        // 429, 503 and 504 are waited out and repeated, as the server's X-Rate-Limit-Reset says (bounded).
        let request = request.build().with_context(|| format!("GET {}", url.path()))?;
        let response = tollgate_client::retry::send_api(&http, request, &tollgate_client::RetryPolicy::default())
            .await
            .with_context(|| format!("GET {}", url.path()))?;
        let status = response.status();
        let next = next_link(response.headers());
        let body = tollgate_fetch::read_capped(response, tollgate_client::MAX_RESPONSE_BYTES)
            .await
            .with_context(|| format!("reading the answer of GET {}", url.path()))?;
        if !status.is_success() {
            let refused = tollgate_client::ClientError::from_response("System Log", status.as_u16(), &body);
            anyhow::bail!("GET /api/v1/logs answered {status}: {refused}");
        }
        let events: Vec<Value> = serde_json::from_slice(&body).context("the System Log answer is not a JSON array")?;
        let empty = events.is_empty();
        for event in events {
            if args.follow || format == OutputFormat::Text {
                print_event(&event, format)?;
            } else {
                collected.push(event);
            }
        }
        match next {
            Some(n) if args.follow || !empty => {
                let n = url::Url::parse(&n).with_context(|| format!("the server's next link {n:?} is not a URL"))?;
                if args.follow && (empty || n == url) {
                    tokio::time::sleep(Duration::from_secs(args.interval.max(1))).await;
                }
                if !args.follow && n == url {
                    break;
                }
                url = n;
            }
            _ => break,
        }
        if !args.follow && empty {
            break;
        }
    }
    if format == OutputFormat::Json && !args.follow {
        output::json(&Value::Array(collected))?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ages_become_instants() {
        let now = OffsetDateTime::from_unix_timestamp(1_800_000_000).unwrap();
        assert_eq!(instant("2h", now).unwrap(), "2027-01-15T06:00:00Z");
        assert_eq!(instant("2026-12-01T10:00:00Z", now).unwrap(), "2026-12-01T10:00:00Z");
        assert!(instant("2 weeks", now).is_err());
        assert!(instant("5y", now).is_err());
    }

    #[test]
    fn finds_the_next_link() {
        let mut h = HeaderMap::new();
        h.append(LINK, "<http://a/api/v1/logs?limit=2>; rel=\"self\"".parse().unwrap());
        h.append(LINK, "<http://a/api/v1/logs?after=1_x&limit=2>; rel=\"next\"".parse().unwrap());
        assert_eq!(next_link(&h).as_deref(), Some("http://a/api/v1/logs?after=1_x&limit=2"));
    }
}
