//! Reports > System Log: the newest events first, filtered by event type, app (actor or target id),
//! outcome and time range; the query is `GET /api/v1/logs`'s own (`filter`, `since`, `until`).
use crate::console::mgmt::{Mgmt, q};
use crate::console::session::Signed;
use crate::console::view::{Chrome, render, when_iso};
use axum::extract::Query;
use axum::response::Response;
use axum::routing::get;
use axum::{Extension, Router};
use serde_json::Value;

struct EventRow {
    published: String,
    event_type: String,
    message: String,
    actor: String,
    targets: String,
    outcome: String,
    reason: String,
    ip: String,
}

#[derive(askama::Template)]
#[template(path = "console/logs.html")]
struct LogsPage {
    chrome: Chrome,
    filters: Filters,
    events: Vec<EventRow>,
    outcomes: [&'static str; 4],
}

/// The form's fields, as given (datetimes are `YYYY-MM-DDTHH:MM`, UTC).
#[derive(serde::Deserialize, Default)]
struct Filters {
    #[serde(default)]
    event_type: String,
    #[serde(default)]
    app: String,
    #[serde(default)]
    outcome: String,
    #[serde(default)]
    since: String,
    #[serde(default)]
    until: String,
}

fn quoted(v: &str) -> String {
    format!("\"{}\"", v.replace('\\', "\\\\").replace('"', "\\\""))
}

/// A `datetime-local` value (UTC) as an ISO-8601 instant.
fn instant(v: &str) -> Option<String> {
    let v = v.trim();
    if v.is_empty() {
        return None;
    }
    Some(match v.len() {
        16 => format!("{v}:00Z"),
        19 => format!("{v}Z"),
        _ => v.to_string(),
    })
}

async fn list(Extension(api): Extension<Mgmt>, who: Signed, Query(f): Query<Filters>) -> Response {
    let mut clauses = Vec::new();
    if !f.event_type.trim().is_empty() {
        clauses.push(format!("eventType eq {}", quoted(f.event_type.trim())));
    }
    if !f.app.trim().is_empty() {
        let app = quoted(f.app.trim());
        clauses.push(format!("(actor.id eq {app} or target.id eq {app})"));
    }
    if !f.outcome.trim().is_empty() {
        clauses.push(format!("outcome.result eq {}", quoted(f.outcome.trim())));
    }
    let mut path = "/api/v1/logs?sortOrder=DESCENDING&limit=200".to_string();
    if !clauses.is_empty() {
        path.push_str(&format!("&filter={}", q(&clauses.join(" and "))));
    }
    if let Some(since) = instant(&f.since) {
        path.push_str(&format!("&since={}", q(&since)));
    }
    if let Some(until) = instant(&f.until) {
        path.push_str(&format!("&until={}", q(&until)));
    }
    let answer = api.get(&who, &path).await;
    let (events, error) = match answer.into_result() {
        Ok(Value::Array(a)) => (
            a.iter()
                .map(|e| {
                    let s = |p: &str| e.pointer(p).and_then(Value::as_str).unwrap_or("").to_string();
                    let targets = e
                        .get("target")
                        .and_then(Value::as_array)
                        .map(|t| {
                            t.iter()
                                .map(|t| {
                                    let id = t.get("displayName").and_then(Value::as_str).unwrap_or("");
                                    let kind = t.get("type").and_then(Value::as_str).unwrap_or("");
                                    format!("{id} ({kind})")
                                })
                                .collect::<Vec<_>>()
                                .join(", ")
                        })
                        .unwrap_or_default();
                    EventRow {
                        published: when_iso(&s("/published")),
                        event_type: s("/eventType"),
                        message: s("/displayMessage"),
                        actor: format!("{} ({})", s("/actor/alternateId"), s("/actor/type")),
                        targets,
                        outcome: s("/outcome/result"),
                        reason: s("/outcome/reason"),
                        ip: s("/client/ipAddress"),
                    }
                })
                .collect(),
            None,
        ),
        Ok(_) => (Vec::new(), None),
        Err(e) => (Vec::new(), Some(e)),
    };
    render(&LogsPage {
        chrome: Chrome::new(&who, "logs").error(error),
        filters: f,
        events,
        outcomes: ["SUCCESS", "FAILURE", "DENY", "CHALLENGE"],
    })
}

pub(super) fn routes() -> Router<AppState> {
    Router::new().route("/admin/logs", get(list))
}

use crate::state::AppState;
