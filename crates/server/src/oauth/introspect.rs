//! `POST .../v1/introspect` (RFC 7662) and `POST .../v1/revoke` (RFC 7009), with the same client
//! authentication as the token endpoint (an assertion's `aud` is then the introspect or revoke URL).
use super::client_auth;
use super::form::{Form, storable};
use crate::errors::OAuthError;
use crate::state::{AppState, AuthzServer};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};

/// The `token` parameter, required; a `token` or `token_type_hint` the database could not hold is refused
/// before anything else is done with it.
fn token_param(form: &Form) -> Result<&str, OAuthError> {
    if !form.get("token_type_hint").is_none_or(storable) {
        return Err(OAuthError::invalid_request("The 'token_type_hint' parameter is invalid."));
    }
    let token =
        form.non_empty("token").ok_or_else(|| OAuthError::invalid_request("The 'token' parameter is required."))?;
    if !storable(token) {
        return Err(OAuthError::invalid_request("The 'token' parameter is invalid."));
    }
    Ok(token)
}

fn no_store(mut resp: Response) -> Response {
    resp.headers_mut().insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    resp.headers_mut().insert(header::PRAGMA, HeaderValue::from_static("no-cache"));
    resp
}

/// Introspection: `{"active":false}` for anything not valid, else the token's facts.
pub async fn introspect(
    state: &AppState,
    server: &AuthzServer,
    headers: &HeaderMap,
    form: &Form,
    admission: super::Admission<'_>,
) -> Result<Response, OAuthError> {
    let (auth, pending_jti) = client_auth::authenticate(state, server, "introspect", headers, form).await?;
    admission.admit(state, &auth.client)?;
    let _spent = pending_jti.consume(state).await?;
    let token = token_param(form)?;
    let body = match super::access_token::verify(state, server, token).await {
        Ok(c) => {
            let mut body = serde_json::json!({
            "active": true,
            "token_type": if c.cnf.is_some() { "DPoP" } else { "Bearer" },
            "scope": c.scp.join(" "),
            "client_id": c.cid,
            "sub": c.sub,
            "aud": c.aud,
            "iss": c.iss,
            "exp": c.exp,
            "iat": c.iat,
            "jti": c.jti,
            });
            if let Some(map) = body.as_object_mut() {
                // RFC 9449 §6.2: a bound token's confirmation is part of its introspection.
                if let Some(cnf) = c.cnf {
                    map.insert("cnf".into(), cnf);
                }
                // Custom claims, as Okta's introspection shows them (never over a standard member).
                for (name, value) in c.custom {
                    map.entry(name).or_insert(value);
                }
            }
            body
        }
        Err(_) => serde_json::json!({ "active": false }),
    };
    Ok(no_store((StatusCode::OK, axum::Json(body)).into_response()))
}

/// Revocation: always 200 with an empty body (RFC 7009 §2.2); a client may revoke only its own tokens.
pub async fn revoke(
    state: &AppState,
    server: &AuthzServer,
    headers: &HeaderMap,
    form: &Form,
    admission: super::Admission<'_>,
) -> Result<Response, OAuthError> {
    let (auth, pending_jti) = client_auth::authenticate(state, server, "revoke", headers, form).await?;
    admission.admit(state, &auth.client)?;
    let _spent = pending_jti.consume(state).await?;
    let token = token_param(form)?;
    if let Ok(claims) = super::access_token::verify(state, server, token).await
        && claims.cid == auth.client.app.client_id
    {
        state.store.revoke_token(&claims.jti, claims.exp * 1000).await?;
        tracing::info!(client_id = %claims.cid, "access token revoked");
    }
    Ok(no_store(StatusCode::OK.into_response()))
}
