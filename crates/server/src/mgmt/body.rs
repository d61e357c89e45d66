//! Reading JSON bodies of management requests: size-capped (413), must be a JSON object (E0000003).
use crate::errors::ApiError;
use axum::body::Body;
use serde_json::{Map, Value};

/// Reads a JSON object body of at most `limit` bytes.
pub async fn read_object(body: Body, limit: usize) -> Result<Map<String, Value>, ApiError> {
    let bytes = axum::body::to_bytes(body, limit).await.map_err(|_| ApiError::too_large(limit))?;
    match serde_json::from_slice::<Value>(&bytes) {
        Ok(Value::Object(map)) => Ok(map),
        Ok(_) => Err(ApiError::malformed_body("not a JSON object")),
        Err(e) => Err(ApiError::malformed_body(e)),
    }
}

/// A required non-empty string member, or E0000001 naming it.
pub fn required_str<'a>(map: &'a Map<String, Value>, what: &str, field: &str) -> Result<&'a str, ApiError> {
    match map.get(field) {
        Some(Value::String(s)) if !s.trim().is_empty() => Ok(s),
        Some(Value::String(_)) | None | Some(Value::Null) => {
            Err(ApiError::validation(what, vec![format!("{field}: The field cannot be left blank")]))
        }
        Some(_) => Err(ApiError::validation(what, vec![format!("{field}: The field must be a string")])),
    }
}

/// Pagination cursor and page size from a query, with Okta's limits (default and max given).
pub fn page(
    after: Option<&str>,
    limit: Option<&str>,
    default: u32,
    max: u32,
) -> Result<(Option<String>, u32), ApiError> {
    let limit = match limit {
        None => default,
        Some(l) => l
            .parse::<u32>()
            .map_err(|_| ApiError::validation("limit", vec!["limit: must be a positive integer".into()]))?
            .clamp(1, max),
    };
    Ok((after.filter(|a| !a.is_empty()).map(str::to_string), limit))
}

/// Okta's `Link` headers: `rel="self"` always, `rel="next"` when another page exists.
pub fn link_headers(
    base: &str,
    after: Option<&str>,
    limit: u32,
    next: Option<&str>,
) -> Vec<(axum::http::HeaderName, axum::http::HeaderValue)> {
    let mut out = Vec::new();
    let self_url = match after {
        Some(a) => format!("<{base}?after={a}&limit={limit}>; rel=\"self\""),
        None => format!("<{base}?limit={limit}>; rel=\"self\""),
    };
    if let Ok(v) = axum::http::HeaderValue::from_str(&self_url) {
        out.push((axum::http::header::LINK, v));
    }
    if let Some(n) = next
        && let Ok(v) = axum::http::HeaderValue::from_str(&format!("<{base}?after={n}&limit={limit}>; rel=\"next\""))
    {
        out.push((axum::http::header::LINK, v));
    }
    out
}
