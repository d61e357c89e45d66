//! `GET /api/v1/logs`: the System Log in Okta's shape and paging semantics.
//!
//! - `since` (default: 7 days ago) and `until` are ISO-8601 instants; `sortOrder` `ASCENDING` (default) or
//!   `DESCENDING`; `limit` 1–1000 (default 100); `filter` (Okta's expression subset, see
//!   [`crate::filter_expr`]) and `q` (every word must occur in the event's text).
//! - Paging is by `Link` headers with an opaque `after` cursor. A *polling* request — ascending, no
//!   `until` — always gets a `next` link, even on an empty page, so a collector can follow it forever; a
//!   bounded request gets one only while more events remain.
//! - A polling request sees events up to [`VISIBILITY_LAG_MS`] old at the newest: events are written in
//!   batches (and by several nodes), so the newest second is not yet settled; holding it back means a
//!   cursor never moves past an event that is still being written.
use crate::errors::ApiError;
use crate::filter_expr;
use crate::mgmt::auth::Admin;
use crate::state::AppState;
use axum::extract::{Query, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use std::collections::HashMap;
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;
use tollgate_store::log::{LOG_FILTER_ATTRIBUTES, LogCursor, LogQuery};

/// How far behind "now" a polling request reads.
pub(crate) const VISIBILITY_LAG_MS: i64 = 1500;
const DEFAULT_LIMIT: u32 = 100;
const MAX_LIMIT: u32 = 1000;
const DEFAULT_WINDOW_MS: i64 = 7 * 24 * 3600 * 1000;

fn invalid(param: &str, cause: &str) -> ApiError {
    ApiError::validation(param, vec![format!("{param}: {cause}")])
}

fn instant(params: &HashMap<String, String>, name: &str) -> Result<Option<i64>, ApiError> {
    let Some(text) = params.get(name).filter(|t| !t.is_empty()) else { return Ok(None) };
    let t = OffsetDateTime::parse(text, &Rfc3339)
        .map_err(|_| invalid(name, "Dates must be ISO-8601 instants such as 2026-12-01T12:00:00.000Z."))?;
    Ok(Some((t.unix_timestamp_nanos() / 1_000_000) as i64))
}

fn cursor_text(c: &LogCursor) -> String {
    format!("{}_{}", c.published, c.uuid)
}

fn parse_cursor(text: &str) -> Option<LogCursor> {
    let (ms, uuid) = text.split_once('_')?;
    let published = ms.parse().ok()?;
    (!uuid.is_empty() && uuid.len() <= 64 && uuid.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-'))
        .then(|| LogCursor { published, uuid: uuid.to_string() })
}

/// The parsed request.
struct Request {
    query: LogQuery,
    polling: bool,
}

fn parse(params: &HashMap<String, String>, now: i64) -> Result<Request, ApiError> {
    let until = instant(params, "until")?;
    let since = instant(params, "since")?.unwrap_or(until.unwrap_or(now) - DEFAULT_WINDOW_MS);
    if until.is_some_and(|u| u <= since) {
        return Err(invalid("until", "'until' must be later than 'since'."));
    }
    let descending = match params.get("sortOrder").map(String::as_str) {
        None | Some("ASCENDING") => false,
        Some("DESCENDING") => true,
        Some(_) => return Err(invalid("sortOrder", "must be ASCENDING or DESCENDING.")),
    };
    let limit = match params.get("limit") {
        None => DEFAULT_LIMIT,
        Some(l) => {
            l.parse::<u32>().ok().filter(|l| *l >= 1).ok_or_else(|| invalid("limit", "must be a positive number."))?
        }
    }
    .min(MAX_LIMIT);
    let filter = match params.get("filter").filter(|f| !f.trim().is_empty()) {
        None => None,
        Some(text) => {
            let known = |attr: &str| LOG_FILTER_ATTRIBUTES.iter().any(|(name, _)| *name == attr);
            Some(filter_expr::parse(text, &known).map_err(|e| {
                tracing::debug!(error = %e, "System Log filter refused");
                ApiError::new(StatusCode::BAD_REQUEST, "E0000031", "Invalid search criteria.")
            })?)
        }
    };
    let q: Vec<String> =
        params.get("q").map(|q| q.split_whitespace().take(10).map(str::to_string).collect()).unwrap_or_default();
    let after = match params.get("after") {
        None => None,
        Some(a) => Some(parse_cursor(a).ok_or_else(|| invalid("after", "is not a cursor this server gave."))?),
    };
    let polling = until.is_none() && !descending;
    // Polling reads stop short of the newest, unsettled moment (see the module doc).
    let until = until.or(polling.then_some(now - VISIBILITY_LAG_MS));
    Ok(Request { query: LogQuery { since, until, filter, q, after, limit, descending }, polling })
}

/// The request's own query string with `after` replaced.
fn link(state: &AppState, params: &HashMap<String, String>, after: Option<&str>, rel: &str) -> Option<HeaderValue> {
    let mut keys: Vec<&String> = params.keys().filter(|k| k.as_str() != "after").collect();
    keys.sort();
    let mut query = form_urlencoded::Serializer::new(String::new());
    for k in keys {
        if let Some(v) = params.get(k) {
            query.append_pair(k, v);
        }
    }
    if let Some(a) = after {
        query.append_pair("after", a);
    }
    let query = query.finish();
    let sep = if query.is_empty() { "" } else { "?" };
    HeaderValue::from_str(&format!("<{}/api/v1/logs{sep}{query}>; rel=\"{rel}\"", state.issuer)).ok()
}

/// `GET /api/v1/logs`.
pub(crate) async fn list(
    State(state): State<AppState>,
    admin: Admin,
    Query(params): Query<HashMap<String, String>>,
) -> Result<Response, ApiError> {
    admin.require(&state, crate::mgmt::authz::Permission::LogsRead)?;
    let Request { query, polling } = parse(&params, crate::clock::now_millis())?;
    let page = state.store.log_events(&query).await?;
    let mut events = Vec::with_capacity(page.len());
    let mut last = None;
    for row in &page {
        let value: serde_json::Value = serde_json::from_str(&row.body).map_err(ApiError::internal)?;
        last = Some(LogCursor { published: row.published, uuid: row.uuid.clone() });
        events.push(value);
    }
    let full = page.len() == query.limit as usize;
    let next = match (&last, &query.after) {
        (Some(c), _) if full || polling => Some(cursor_text(c)),
        (None, Some(c)) if polling => Some(cursor_text(c)),
        (None, None) if polling => {
            // An empty first poll: continue from its `since`, so the collector misses nothing later.
            Some(cursor_text(&LogCursor { published: query.since - 1, uuid: "0".into() }))
        }
        _ => None,
    };
    let mut resp = axum::Json(events).into_response();
    let self_after = params.get("after").map(String::as_str);
    if let Some(v) = link(&state, &params, self_after, "self") {
        resp.headers_mut().append(header::LINK, v);
    }
    if let Some(v) = next.as_deref().and_then(|n| link(&state, &params, Some(n), "next")) {
        resp.headers_mut().append(header::LINK, v);
    }
    Ok(resp)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn params(pairs: &[(&str, &str)]) -> HashMap<String, String> {
        pairs.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect()
    }

    #[test]
    fn defaults_and_polling() {
        let now = 1_800_000_000_000;
        let r = parse(&params(&[]), now).map_err(|e| e.summary).unwrap_or_else(|e| panic!("{e}"));
        assert!(r.polling);
        assert_eq!(r.query.since, now - DEFAULT_WINDOW_MS);
        assert_eq!(r.query.until, Some(now - VISIBILITY_LAG_MS));
        assert_eq!(r.query.limit, DEFAULT_LIMIT);
        let bounded = parse(&params(&[("until", "2027-01-15T08:00:00.000Z"), ("limit", "5000")]), now)
            .map_err(|e| e.summary)
            .unwrap_or_else(|e| panic!("{e}"));
        assert!(!bounded.polling);
        assert_eq!(bounded.query.until, Some(1_800_000_000_000), "2027-01-15T08:00:00Z, as given");
        assert_eq!(bounded.query.limit, MAX_LIMIT);
    }

    #[test]
    fn refuses_bad_parameters() {
        let now = 1_800_000_000_000;
        for bad in [
            vec![("since", "yesterday")],
            vec![("since", "2026-12-02T00:00:00Z"), ("until", "2026-12-01T00:00:00Z")],
            vec![("sortOrder", "UP")],
            vec![("limit", "0")],
            vec![("filter", "eventType gt \"x\"")],
            vec![("after", "not-a-cursor")],
        ] {
            assert!(parse(&params(&bad), now).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn cursors_round_trip() {
        let c = LogCursor { published: 42, uuid: "0190-abc".into() };
        assert_eq!(parse_cursor(&cursor_text(&c)), Some(c));
        assert_eq!(parse_cursor("42_x'; DROP"), None);
    }
}
