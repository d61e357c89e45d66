//! JSON bodies of management requests, read by the [`JsonObject`] extractor: size-capped (413), a JSON
//! object (else E0000003 "The request body was not well-formed."), and no NUL character in any string or
//! member name (E0000001: PostgreSQL's TEXT and JSONB cannot hold one, so it is refused before the store).
//! And [`no_store`], for the answers that carry a plain secret or API token.
//!
//! The body is read when the handler is called, but an error in it is only reported when the handler
//! asks for it ([`JsonObject::object`]), so the caller's scope and the resource in the path are checked
//! first, as they always were.
use crate::errors::ApiError;
use crate::state::AppState;
use axum::extract::{FromRequest, Request};
use axum::http::{HeaderValue, header};
use axum::response::{IntoResponse, Response};
use serde_json::{Map, Value};

/// A management request's JSON object body, or why it is not one.
pub(crate) struct JsonObject(Result<Option<Map<String, Value>>, ApiError>);

impl JsonObject {
    /// The object; a missing or blank body is not well-formed.
    pub(crate) fn object(self) -> Result<Map<String, Value>, ApiError> {
        self.0?.ok_or_else(|| ApiError::malformed_body("the body is empty"))
    }

    /// The object, or an empty one for a missing or blank body (for operations whose members are all optional).
    pub(crate) fn object_or_empty(self) -> Result<Map<String, Value>, ApiError> {
        Ok(self.0?.unwrap_or_default())
    }
}

impl FromRequest<AppState> for JsonObject {
    type Rejection = std::convert::Infallible;

    async fn from_request(req: Request, state: &AppState) -> Result<Self, Self::Rejection> {
        let limit = state.config.max_body_bytes;
        let parsed = match axum::body::to_bytes(req.into_body(), limit).await {
            Err(_) => Err(ApiError::too_large(limit)),
            Ok(bytes) if bytes.iter().all(u8::is_ascii_whitespace) => Ok(None),
            Ok(bytes) => match serde_json::from_slice::<Value>(&bytes) {
                Ok(Value::Object(map)) => match nul_at(&map) {
                    None => Ok(Some(map)),
                    Some(at) => Err(ApiError::validation(
                        &at,
                        vec![format!("{at}: The value must not contain the NUL character (U+0000).")],
                    )),
                },
                Ok(_) => Err(ApiError::malformed_body("not a JSON object")),
                Err(e) => Err(ApiError::malformed_body(e)),
            },
        };
        Ok(JsonObject(parsed))
    }
}

/// A required non-empty string member, or E0000001 naming it.
pub(crate) fn required_str<'a>(map: &'a Map<String, Value>, what: &str, field: &str) -> Result<&'a str, ApiError> {
    match map.get(field) {
        Some(Value::String(s)) if !s.trim().is_empty() => Ok(s),
        Some(Value::String(_)) | None | Some(Value::Null) => {
            Err(ApiError::validation(what, vec![format!("{field}: The field cannot be left blank")]))
        }
        Some(_) => Err(ApiError::validation(what, vec![format!("{field}: The field must be a string")])),
    }
}

/// Where in `map` a member name or string holds a NUL character, as a dotted path (`profile.firstName`,
/// `redirect_uris[0]`), if anywhere.
fn nul_at(map: &Map<String, Value>) -> Option<String> {
    fn walk(value: &Value, at: &str) -> Option<String> {
        match value {
            Value::String(s) if s.contains('\0') => Some(at.to_string()),
            Value::Array(items) => items.iter().enumerate().find_map(|(i, v)| walk(v, &format!("{at}[{i}]"))),
            Value::Object(map) => members(map, &format!("{at}.")),
            _ => None,
        }
    }
    fn members(map: &Map<String, Value>, prefix: &str) -> Option<String> {
        map.iter().find_map(|(name, v)| {
            let at = format!("{prefix}{}", name.replace('\0', "\\u0000"));
            if name.contains('\0') { Some(at) } else { walk(v, &at) }
        })
    }
    members(map, "")
}

/// An answer that carries a plain secret or API token: no cache may keep it (`Cache-Control: no-store`,
/// and `Pragma: no-cache` for HTTP/1.0 caches), as RFC 6749 §5.1 asks of token responses.
pub(crate) fn no_store(answer: impl IntoResponse) -> Response {
    let mut resp = answer.into_response();
    let headers = resp.headers_mut();
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    headers.insert(header::PRAGMA, HeaderValue::from_static("no-cache"));
    resp
}
