//! Validation of an Apps-API app body (`POST`/`PUT /api/v1/apps`), kept apart from the handlers so the
//! rules read in one place. Unknown members are ignored; wrong types and missing required members are
//! refused with `E0000001` naming the field, with Okta's texts where they are known.
use crate::errors::ApiError;
use serde_json::{Map, Value, json};
use tollgate_store::AppKey;

const AUTH_METHODS: [&str; 4] = ["client_secret_basic", "client_secret_post", "private_key_jwt", "none"];

/// A validated app body.
#[derive(Debug)]
pub(super) struct AppInput {
    pub(super) label: String,
    pub(super) client_id: Option<String>,
    pub(super) client_secret: Option<String>,
    pub(super) auth_method: String,
    pub(super) grant_types: Vec<String>,
    pub(super) jwks_uri: Option<String>,
    pub(super) keys: Vec<AppKey>,
    pub(super) dpop_bound: bool,
    /// Kept as given: `response_types`, `redirect_uris`, `autoKeyRotation`, `consent_method`, `profile`.
    pub(super) extra: Map<String, Value>,
    /// `settings.tollgate` (rate-limit share, token quotas), normalized: `None` when absent (a PUT keeps
    /// the app's), `Some(Null)` to drop it.
    pub(super) tollgate: Option<Value>,
}

impl AppInput {
    /// Puts `settings.tollgate` into `extra`; when the body had none, what `previous` held is kept (SDKs
    /// that do not know the extension send the app back without it).
    pub(super) fn apply_tollgate(&mut self, previous: Option<&Map<String, Value>>) {
        let key = crate::ratelimit::EXTRA_KEY;
        match &self.tollgate {
            Some(Value::Null) => {}
            Some(v) => {
                self.extra.insert(key.into(), v.clone());
            }
            None => {
                if let Some(kept) = previous.and_then(|p| p.get(key)) {
                    self.extra.insert(key.into(), kept.clone());
                }
            }
        }
    }
}

impl AppInput {
    /// Whether the app authenticates with a client secret.
    pub(super) fn wants_secret(&self) -> bool {
        self.auth_method.starts_with("client_secret")
    }
}

fn invalid(field: &str, cause: impl Into<String>) -> ApiError {
    ApiError::validation(field, vec![cause.into()])
}

fn object<'a>(
    map: &'a Map<String, Value>,
    field: &str,
    path: &str,
) -> Result<Option<&'a Map<String, Value>>, ApiError> {
    match map.get(field) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::Object(o)) => Ok(Some(o)),
        Some(_) => Err(invalid(path, format!("{path}: The field must be an object"))),
    }
}

fn opt_str<'a>(map: &'a Map<String, Value>, field: &str) -> Result<Option<&'a str>, ApiError> {
    match map.get(field) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(s)) => Ok(Some(s)),
        Some(_) => Err(invalid(field, format!("{field}: The field must be a string"))),
    }
}

fn opt_bool(map: &Map<String, Value>, field: &str, default: bool) -> Result<bool, ApiError> {
    match map.get(field) {
        None | Some(Value::Null) => Ok(default),
        Some(Value::Bool(b)) => Ok(*b),
        Some(_) => Err(invalid(field, format!("{field}: The field must be a boolean"))),
    }
}

fn str_list(map: &Map<String, Value>, field: &str, default: &[&str]) -> Result<Vec<String>, ApiError> {
    match map.get(field) {
        None | Some(Value::Null) => Ok(default.iter().map(|s| s.to_string()).collect()),
        Some(Value::Array(items)) => items
            .iter()
            .map(|i| {
                i.as_str()
                    .map(str::to_string)
                    .ok_or_else(|| invalid(field, format!("{field}: must be an array of strings")))
            })
            .collect(),
        Some(_) => Err(invalid(field, format!("{field}: must be an array of strings"))),
    }
}

/// Okta's rule for an explicit `client_id`: 6–100 of alphanumerics and `$-_.+!*'(),`, not `ALL_CLIENTS`.
fn valid_client_id(id: &str) -> bool {
    (6..=100).contains(&id.len())
        && id.chars().all(|c| c.is_ascii_alphanumeric() || "$-_.+!*'(),".contains(c))
        && id != "ALL_CLIENTS"
}

/// Validates an app body; key rows are made for `app_id`.
pub(super) fn parse_app(map: &Map<String, Value>, app_id: &str, now: i64) -> Result<AppInput, ApiError> {
    match opt_str(map, "name")? {
        Some("oidc_client") => {}
        None => return Err(invalid("name", "name: The field cannot be left blank")),
        Some(other) => {
            return Err(invalid("name", format!("name: '{other}' is not supported; only 'oidc_client' apps are")));
        }
    }
    let label = crate::mgmt::body::required_str(map, "label", "label")?.to_string();
    match opt_str(map, "signOnMode")? {
        Some("OPENID_CONNECT") => {}
        None => return Err(invalid("signOnMode", "signOnMode: The field cannot be left blank")),
        Some(other) => {
            return Err(invalid("signOnMode", format!("signOnMode: '{other}' is not supported; use OPENID_CONNECT")));
        }
    }
    let empty = Map::new();
    let tollgate = match object(map, "settings", "settings")?.and_then(|s| s.get(crate::ratelimit::EXTRA_KEY)) {
        None => None,
        Some(Value::Null) => Some(Value::Null),
        Some(v) => Some(
            crate::ratelimit::parse_settings(v).map_err(|causes| ApiError::validation("settings.tollgate", causes))?.1,
        ),
    };
    let credentials = object(map, "credentials", "credentials")?.unwrap_or(&empty);
    let creds = object(credentials, "oauthClient", "credentials.oauthClient")?.unwrap_or(&empty);
    let settings = object(map, "settings", "settings")?
        .and_then(|s| s.get("oauthClient"))
        .ok_or_else(|| invalid("settings", "settings.oauthClient: The field cannot be left blank"))?
        .as_object()
        .ok_or_else(|| invalid("settings", "settings.oauthClient: The field must be an object"))?;

    let auth_method = match opt_str(creds, "token_endpoint_auth_method")? {
        None => "client_secret_basic".to_string(),
        Some(m) if AUTH_METHODS.contains(&m) => m.to_string(),
        Some(other) => {
            return Err(invalid(
                "token_endpoint_auth_method",
                format!("token_endpoint_auth_method: '{other}' is not one of {}", AUTH_METHODS.join(", ")),
            ));
        }
    };
    // Every app here is a service app, which gets tokens only by authenticating.
    if auth_method == "none" {
        return Err(invalid(
            "token_endpoint_auth_method",
            "token_endpoint_auth_method: 'none' can't be used by a service application, which must authenticate to \
             get tokens; use private_key_jwt, client_secret_basic or client_secret_post",
        ));
    }
    let client_id = opt_str(creds, "client_id")?.map(str::to_string);
    if let Some(id) = &client_id
        && !valid_client_id(id)
    {
        return Err(invalid(
            "client_id",
            "client_id: must be 6 to 100 characters of letters, digits and $-_.+!*'(), and not ALL_CLIENTS",
        ));
    }
    let client_secret = opt_str(creds, "client_secret")?.map(str::to_string);
    if let Some(secret) = &client_secret {
        if !auth_method.starts_with("client_secret") {
            return Err(invalid(
                "client_secret",
                format!("'client_secret' can't be used when 'token_endpoint_auth_method' is '{auth_method}'."),
            ));
        }
        if secret.len() < 14 {
            return Err(invalid(
                "client_secret",
                "client_secret: 'client_secret' must be at least '14' characters long.",
            ));
        }
        if secret.len() > 100 {
            return Err(invalid(
                "client_secret",
                "client_secret: 'client_secret' must be at most '100' characters long.",
            ));
        }
    }
    let auto_rotation = opt_bool(creds, "autoKeyRotation", true)?;

    match opt_str(settings, "application_type")? {
        None | Some("service") => {}
        Some(other) => {
            return Err(invalid(
                "application_type",
                format!("application_type: '{other}' is not supported; tollgate serves service apps only"),
            ));
        }
    }
    let grant_types = str_list(settings, "grant_types", &["client_credentials"])?;
    if grant_types.is_empty() || grant_types.iter().any(|g| g != "client_credentials") {
        return Err(invalid("grant_types", "grant_types: service applications may only use client_credentials"));
    }
    let response_types = str_list(settings, "response_types", &["token"])?;
    let redirect_uris = str_list(settings, "redirect_uris", &[])?;
    let jwks_uri = match opt_str(settings, "jwks_uri")? {
        None => None,
        Some(u) => match url::Url::parse(u) {
            Ok(parsed) if matches!(parsed.scheme(), "https" | "http") => Some(u.to_string()),
            _ => return Err(invalid("jwks_uri", "jwks_uri: must be an absolute http(s) URL")),
        },
    };
    let keys = match settings.get("jwks") {
        None | Some(Value::Null) => Vec::new(),
        Some(jwks) => crate::mgmt::jwks::app_keys_from_jwks(jwks, app_id, now).map_err(|c| invalid("JsonWebKey", c))?,
    };
    if jwks_uri.is_some() && !keys.is_empty() {
        return Err(invalid("jwks", "jwks: 'jwks' and 'jwks_uri' cannot both be set"));
    }
    if auth_method == "private_key_jwt" && jwks_uri.is_none() && keys.is_empty() {
        return Err(invalid("jwks", "jwks: a private_key_jwt client needs 'jwks' or 'jwks_uri'"));
    }
    let dpop_bound = opt_bool(settings, "dpop_bound_access_tokens", false)?;
    // The app's `profile` (free-form attributes, as Okta's app profile): custom claims read it.
    let profile = object(map, "profile", "profile")?.cloned();
    let mut extra = Map::new();
    if let Some(profile) = profile {
        extra.insert("profile".into(), Value::Object(profile));
    }
    extra.insert("label".into(), json!(label));
    extra.insert("response_types".into(), json!(response_types));
    extra.insert("redirect_uris".into(), json!(redirect_uris));
    extra.insert("autoKeyRotation".into(), json!(auto_rotation));
    extra.insert("consent_method".into(), json!("TRUSTED"));
    Ok(AppInput {
        label,
        client_id,
        client_secret,
        auth_method,
        grant_types,
        jwks_uri,
        keys,
        dpop_bound,
        extra,
        tollgate,
    })
}
