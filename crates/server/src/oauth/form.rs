//! Strict `application/x-www-form-urlencoded` parsing for the OAuth endpoints: size-capped, duplicate
//! parameters refused (RFC 6749 §3.2: "parameters MUST NOT be included more than once"), credentials in
//! the query string refused.
use crate::errors::OAuthError;
use axum::body::Body;
use axum::http::{HeaderMap, StatusCode, Uri, header};
use std::collections::HashMap;

/// The parameters of one OAuth request body.
#[derive(Debug, Default)]
pub struct Form(HashMap<String, String>);

impl Form {
    /// A parameter's value, if sent (an empty value counts as sent).
    pub fn get(&self, name: &str) -> Option<&str> {
        self.0.get(name).map(String::as_str)
    }

    /// A parameter's value if sent and non-empty.
    pub fn non_empty(&self, name: &str) -> Option<&str> {
        self.get(name).filter(|v| !v.is_empty())
    }

    /// Parses already-read bytes.
    pub fn parse(bytes: &[u8]) -> Result<Form, OAuthError> {
        let mut map = HashMap::new();
        for (name, value) in form_urlencoded::parse(bytes) {
            if map.insert(name.to_string(), value.into_owned()).is_some() {
                return Err(OAuthError::invalid_request(format!(
                    "Duplicate parameter provided in request. Duplicated parameters: [{name}]."
                )));
            }
        }
        Ok(Form(map))
    }
}

/// Whether the database can hold `text`: PostgreSQL `text` cannot hold NUL, and a lookup with one fails
/// rather than finding nothing. Checked before any lookup by a client-supplied value.
pub fn storable(text: &str) -> bool {
    !text.contains('\0')
}

/// Reads and parses the body of an OAuth POST, after checking the content type and the query string.
pub async fn read_form(headers: &HeaderMap, uri: &Uri, body: Body, limit: usize) -> Result<Form, OAuthError> {
    if let Some(query) = uri.query() {
        let has_credentials = form_urlencoded::parse(query.as_bytes())
            .any(|(k, _)| matches!(k.as_ref(), "client_secret" | "client_assertion" | "client_assertion_type"));
        if has_credentials {
            return Err(OAuthError::invalid_request("Client credentials cannot be supplied via query parameters."));
        }
    }
    let content_type = headers.get(header::CONTENT_TYPE).and_then(|v| v.to_str().ok()).unwrap_or("");
    let is_form = content_type
        .split(';')
        .next()
        .is_some_and(|t| t.trim().eq_ignore_ascii_case("application/x-www-form-urlencoded"));
    if !is_form {
        return Err(OAuthError::invalid_request(
            "The request must use the application/x-www-form-urlencoded content type.",
        ));
    }
    let bytes = axum::body::to_bytes(body, limit).await.map_err(|_| {
        OAuthError::new(
            StatusCode::PAYLOAD_TOO_LARGE,
            "invalid_request",
            format!("The request body is larger than {limit} bytes."),
        )
    })?;
    Form::parse(&bytes)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn duplicates_are_refused() {
        let err = Form::parse(b"scope=a&grant_type=x&scope=b").unwrap_err();
        assert_eq!(err.error, "invalid_request");
        assert!(err.description.contains("[scope]"));
    }

    #[test]
    fn plus_and_percent_decode_to_space() {
        let f = Form::parse(b"scope=a+b%20c").unwrap();
        assert_eq!(f.get("scope"), Some("a b c"));
    }
}
