//! Wall-clock helpers. The server reads the clock here only, so every rule sees the same notion of time.
use std::time::{SystemTime, UNIX_EPOCH};

/// Seconds since the Unix epoch.
pub fn now_secs() -> i64 {
    now_millis() / 1000
}

/// Milliseconds since the Unix epoch.
pub fn now_millis() -> i64 {
    SystemTime::now().duration_since(UNIX_EPOCH).map(|d| d.as_millis() as i64).unwrap_or(0)
}

/// Okta's timestamp format: ISO-8601 UTC with milliseconds, `2023-02-21T16:54:00.000Z`.
pub fn iso8601(millis: i64) -> String {
    let nanos = i128::from(millis) * 1_000_000;
    match time::OffsetDateTime::from_unix_timestamp_nanos(nanos) {
        Ok(t) => format!(
            "{:04}-{:02}-{:02}T{:02}:{:02}:{:02}.{:03}Z",
            t.year(),
            u8::from(t.month()),
            t.day(),
            t.hour(),
            t.minute(),
            t.second(),
            t.millisecond()
        ),
        Err(_) => "1970-01-01T00:00:00.000Z".into(),
    }
}

/// [`iso8601`] for optional timestamps (`null` when never set).
pub fn iso8601_opt(millis: Option<i64>) -> serde_json::Value {
    millis.map(iso8601).map(serde_json::Value::String).unwrap_or(serde_json::Value::Null)
}
