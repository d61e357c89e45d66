//! Who is calling the management API: an admin API token (`SSWS <token>`) or an org access token
//! (`Bearer <token>`, or `DPoP <token>` with a proof for a DPoP-bound one: see [`super::dpop_auth`]) whose
//! `scp` must hold the operation's `okta.*` scope.
//!
//! Okta's answers are kept: no or unknown scheme → 403 E0000005; a bad SSWS token → 401 E0000011; a bad
//! Bearer token → 401 with `WWW-Authenticate: Bearer ... error="invalid_token"` (Okta's SDKs re-authenticate
//! only on 401); a missing scope → 403 with `error="insufficient_scope"` in `WWW-Authenticate` and no body.
use crate::errors::ApiError;
use crate::oauth::access_token;
use crate::state::{AppState, AuthzServer};
use axum::extract::FromRequestParts;
use axum::http::{HeaderValue, header, request::Parts};

/// An authenticated management caller.
#[derive(Debug, Clone)]
pub(crate) struct Admin {
    pub(crate) principal: Principal,
    /// The request path, for `resource=` in scope errors.
    path: String,
    /// Whether the token came with the DPoP scheme (scope errors then carry a DPoP challenge).
    dpop: bool,
}

/// The kind of caller. Who it is (the token id, the app's client id) is not read yet: it is kept for
/// per-app roles and for audit.
#[derive(Debug, Clone)]
#[allow(dead_code)]
pub(crate) enum Principal {
    /// An admin API token: may do everything.
    ApiToken { id: String },
    /// A service app's access token: may do what its scopes allow.
    Bearer { client_id: String, scopes: Vec<String> },
}

impl Admin {
    /// Allows the call if the caller is an API token, or a Bearer token holding any of `scopes`.
    pub(crate) fn require(&self, state: &AppState, scopes: &[&str]) -> Result<(), ApiError> {
        match &self.principal {
            Principal::ApiToken { .. } => Ok(()),
            Principal::Bearer { scopes: held, .. } if scopes.iter().any(|s| held.iter().any(|h| h == s)) => Ok(()),
            Principal::Bearer { .. } => {
                let scope = scopes.first().copied().unwrap_or("");
                let challenge = if self.dpop {
                    super::dpop_auth::challenge(
                        state,
                        &self.path,
                        Some(scope),
                        "insufficient_scope",
                        "The access token provided does not contain the required scopes.",
                    )
                } else {
                    format!(
                        "Bearer authorization_uri=\"{iss}/oauth2/v1/authorize\", realm=\"{iss}\", scope=\"{scope}\", \
                     error=\"insufficient_scope\", error_description=\"The access token provided does not contain \
                     the required scopes.\", resource=\"{path}\"",
                        iss = state.issuer,
                        path = self.path,
                    )
                };
                let mut err = ApiError::forbidden();
                err.empty_body = true;
                if let Ok(v) = HeaderValue::from_str(&challenge) {
                    err.headers.push((header::WWW_AUTHENTICATE, v));
                }
                Err(err)
            }
        }
    }
}

impl FromRequestParts<AppState> for Admin {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Self::Rejection> {
        let path = parts.uri.path().to_string();
        let value = parts
            .headers
            .get(header::AUTHORIZATION)
            .and_then(|v| v.to_str().ok())
            .ok_or_else(ApiError::invalid_session)?;
        let (scheme, credential) = value.split_once(' ').ok_or_else(ApiError::invalid_session)?;
        let credential = credential.trim();
        if scheme.eq_ignore_ascii_case("SSWS") {
            let hash = state.hasher.hash(credential);
            let token = state.store.api_token_by_hash(&hash).await?.ok_or_else(ApiError::invalid_token)?;
            // The lookup was by keyed hash; compare once more in constant time for good measure.
            if !state.hasher.matches(credential, &token.token_hash) {
                return Err(ApiError::invalid_token());
            }
            return Ok(Admin { principal: Principal::ApiToken { id: token.id }, path, dpop: false });
        }
        if scheme.eq_ignore_ascii_case("Bearer") {
            return match access_token::verify(state, &AuthzServer::Org, credential).await {
                // A DPoP-bound token is useless without its proof.
                Ok(claims) if claims.cnf.is_some() => Err(super::dpop_auth::bearer_refused(state, &path)),
                Ok(claims) => Ok(Admin {
                    principal: Principal::Bearer { client_id: claims.cid, scopes: claims.scp },
                    path,
                    dpop: false,
                }),
                Err(rejection) => {
                    let mut err = ApiError::invalid_token();
                    let challenge = format!(
                        "Bearer authorization_uri=\"{iss}/oauth2/v1/authorize\", realm=\"{iss}\", \
                         error=\"invalid_token\", error_description=\"{desc}\", resource=\"{path}\"",
                        iss = state.issuer,
                        desc = rejection.description(),
                    );
                    if let Ok(v) = HeaderValue::from_str(&challenge) {
                        err.headers.push((header::WWW_AUTHENTICATE, v));
                    }
                    Err(err)
                }
            };
        }
        if scheme.eq_ignore_ascii_case("DPoP") {
            let claims = super::dpop_auth::authenticate(state, parts, credential).await?;
            return Ok(Admin {
                principal: Principal::Bearer { client_id: claims.cid, scopes: claims.scp },
                path,
                dpop: true,
            });
        }
        Err(ApiError::invalid_session())
    }
}
