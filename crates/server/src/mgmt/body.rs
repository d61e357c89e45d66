//! JSON bodies of management requests, read by the [`JsonObject`] extractor: size-capped (413), and a
//! JSON object (else E0000003 "The request body was not well-formed.").
//!
//! The body is read when the handler is called, but an error in it is only reported when the handler
//! asks for it ([`JsonObject::object`]), so the caller's scope and the resource in the path are checked
//! first, as they always were.
use crate::errors::ApiError;
use crate::state::AppState;
use axum::extract::{FromRequest, Request};
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
                Ok(Value::Object(map)) => Ok(Some(map)),
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
