//! Who is calling the management API: an admin API token (`SSWS <token>`) or an org access token
//! (`Bearer <token>`, or `DPoP <token>` with a proof for a DPoP-bound one: see [`super::dpop_auth`]) whose
//! `scp` must hold the operation's `okta.*` scope, and whose app's admin roles, if any, must allow it
//! (see [`super::authz`]).
//!
//! Okta's answers are kept: no or unknown scheme → 403 E0000005; a bad SSWS token → 401 E0000011; a bad
//! Bearer token → 401 with `WWW-Authenticate: Bearer ... error="invalid_token"` (Okta's SDKs re-authenticate
//! only on 401); a missing scope → 403 with `error="insufficient_scope"` in `WWW-Authenticate` and no body.
use super::authz::{Permission, Role};
use crate::errors::ApiError;
use crate::oauth::access_token;
use crate::state::{AppState, AuthzServer};
use axum::extract::FromRequestParts;
use axum::http::{HeaderValue, header, request::Parts};
use tollgate_store::App;

/// An authenticated management caller.
#[derive(Debug, Clone)]
pub(crate) struct Admin {
    pub(crate) principal: Principal,
    /// The request path, for `resource=` in scope errors.
    path: String,
    /// Whether the token came with the DPoP scheme (scope errors then carry a DPoP challenge).
    dpop: bool,
}

/// The kind of caller, with what bounds it.
#[derive(Debug, Clone)]
pub(crate) enum Principal {
    /// An admin API token, acting with its role (`None`: a stored role tollgate does not know, which
    /// allows nothing).
    ApiToken { id: String, role: Option<Role> },
    /// An Admin Console user (a local account), acting with its role like an API token.
    User { id: String, login: String, role: Option<Role> },
    /// A service app's access token: its scopes, and its app's admin roles as they are now (`None`: the
    /// app holds no role, so the scopes alone decide). The client id is kept for audit.
    Bearer { client_id: String, scopes: Vec<String>, roles: Option<Vec<Role>> },
}

impl Principal {
    /// The caller as a System Log actor.
    pub(crate) fn as_party(&self) -> crate::syslog::Party {
        match self {
            Principal::ApiToken { id, .. } => crate::syslog::Party::new(id, "ApiToken", id, "API token"),
            Principal::User { id, login, .. } => crate::syslog::Party::new(id, "User", login, login),
            Principal::Bearer { client_id, .. } => {
                crate::syslog::Party::new(client_id, "PublicClientApp", client_id, client_id)
            }
        }
    }
}

impl Admin {
    /// Allows the call if the caller holds `permission`: an API token by its role; a Bearer token by one
    /// of the permission's scopes (else today's 403 insufficient_scope challenge) and, when its app holds
    /// roles, by one of them (else 403 E0000006).
    pub(crate) fn require(&self, state: &AppState, permission: Permission) -> Result<(), ApiError> {
        match &self.principal {
            Principal::ApiToken { role, .. } | Principal::User { role, .. } => {
                if role.is_some_and(|r| r.allows(permission)) { Ok(()) } else { Err(ApiError::forbidden()) }
            }
            Principal::Bearer { scopes: held, roles, .. } => {
                if !permission.scopes().iter().any(|s| held.iter().any(|h| h == s)) {
                    return Err(self.insufficient_scope(state, permission.scopes().first().copied().unwrap_or("")));
                }
                match roles {
                    Some(roles) if !roles.iter().any(|r| r.allows(permission)) => Err(ApiError::forbidden()),
                    _ => Ok(()),
                }
            }
        }
    }

    /// Whether the caller is a super-admin credential: an API token with SUPER_ADMIN, or a Bearer token of
    /// an app that holds SUPER_ADMIN now.
    pub(crate) fn is_super_admin(&self) -> bool {
        match &self.principal {
            Principal::ApiToken { role, .. } | Principal::User { role, .. } => *role == Some(Role::SuperAdmin),
            Principal::Bearer { roles, .. } => roles.as_ref().is_some_and(|r| r.contains(&Role::SuperAdmin)),
        }
    }

    /// Refuses (403 E0000006) any caller but a super admin: for the operations only Okta's Super Admin may
    /// do (granting `okta.*` scopes, assigning roles, creating API tokens).
    pub(crate) fn require_super_admin(&self) -> Result<(), ApiError> {
        if self.is_super_admin() { Ok(()) } else { Err(ApiError::forbidden()) }
    }

    /// Refuses any caller but a super admin when `app` holds an `okta.*` grant: changing such an app's
    /// credentials (keys, secrets, `jwks_uri`, auth method) would let the caller sign as it and get its
    /// scopes. An app without such grants stays open to `okta.apps.manage`.
    pub(crate) async fn require_super_admin_for_app(&self, state: &AppState, app: &App) -> Result<(), ApiError> {
        if self.is_super_admin() {
            return Ok(());
        }
        let grants = state.store.grants(&app.id).await?;
        if grants.iter().any(|g| g.scope_id.starts_with("okta.")) { Err(ApiError::forbidden()) } else { Ok(()) }
    }

    /// The role the caller acts with, for what it may hand on (a new API token): an API token's own
    /// role; for a Bearer token, SUPER_ADMIN if its app holds it (only a super admin creates tokens).
    pub(crate) fn acting_role(&self) -> Option<Role> {
        match &self.principal {
            Principal::ApiToken { role, .. } | Principal::User { role, .. } => *role,
            Principal::Bearer { .. } => self.is_super_admin().then_some(Role::SuperAdmin),
        }
    }

    /// 403 with the insufficient_scope challenge (Bearer or DPoP) and no body, as Okta answers.
    fn insufficient_scope(&self, state: &AppState, scope: &str) -> ApiError {
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
        err
    }
}

/// The app's admin roles as the client cache has them now; `None` when it holds none (or is gone).
async fn app_roles(state: &AppState, client_id: &str) -> Result<Option<Vec<Role>>, ApiError> {
    let Some(client) = state.clients.get_or_load(state.store.as_ref(), client_id).await? else { return Ok(None) };
    if client.roles.is_empty() {
        return Ok(None);
    }
    // A stored role tollgate does not know allows nothing, but still makes the app role-bound.
    Ok(Some(client.roles.iter().filter_map(|r| Role::parse(r)).collect()))
}

impl FromRequestParts<AppState> for Admin {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Self::Rejection> {
        let admin = authenticate(parts, state).await?;
        // The System Log's audit middleware names this caller as the actor of the change.
        if let Some(slot) = parts.extensions.get::<crate::syslog::audit::CallerSlot>() {
            slot.set(admin.principal.as_party());
        }
        // The caller's share of the route's rate-limit bucket (Okta's 50% per app or token by default).
        if let Some(metered) = parts.extensions.get::<crate::ratelimit::Metered>() {
            let caller = match &admin.principal {
                Principal::ApiToken { id, .. } => crate::ratelimit::Caller { id, kind: "ApiToken", share: None },
                Principal::User { id, .. } => crate::ratelimit::Caller { id, kind: "User", share: None },
                Principal::Bearer { client_id, .. } => crate::ratelimit::Caller {
                    id: client_id,
                    kind: "PublicClientApp",
                    share: state.clients.get(client_id).and_then(|c| c.limits.share_percent),
                },
            };
            let context = parts.extensions.get::<crate::syslog::RequestContext>();
            crate::ratelimit::admit(state, Some(metered), caller, context)
                .map_err(|_| crate::ratelimit::api_refusal())?;
        }
        refuse_nul(&parts.uri)?;
        Ok(admin)
    }
}

/// Ids in the path and query values reach the store as text, which cannot hold a NUL character on
/// PostgreSQL: refused here, for every management route, once the caller is known. A NUL id never exists
/// (404 E0000007, as for an unknown route); a NUL query value is 400 E0000001 naming the parameter.
fn refuse_nul(uri: &axum::http::Uri) -> Result<(), ApiError> {
    // A URI can only carry a NUL percent-encoded.
    if uri.path().contains("%00") {
        return Err(ApiError::not_found(uri.path(), "Resource"));
    }
    let query = uri.query().unwrap_or("");
    if let Some((name, _)) =
        url::form_urlencoded::parse(query.as_bytes()).find(|(name, value)| name.contains('\0') || value.contains('\0'))
    {
        let name = name.replace('\0', "\\u0000");
        return Err(ApiError::validation(
            &name,
            vec![format!("{name}: The value must not contain the NUL character (U+0000).")],
        ));
    }
    Ok(())
}

/// Who the caller is, from the `Authorization` header.
async fn authenticate(parts: &Parts, state: &AppState) -> Result<Admin, ApiError> {
    let path = parts.uri.path().to_string();
    // The Admin Console calls the management routes in-process for its signed-in credential; only
    // server code can put this extension on a request, never a client.
    if let Some(acting) = parts.extensions.get::<crate::console::Acting>() {
        return Ok(Admin { principal: acting.0.clone(), path, dpop: false });
    }
    let value =
        parts.headers.get(header::AUTHORIZATION).and_then(|v| v.to_str().ok()).ok_or_else(ApiError::invalid_session)?;
    let (scheme, credential) = parse_authorization(value).ok_or_else(ApiError::invalid_session)?;
    match scheme {
        Scheme::Ssws => {
            let hash = state.hasher.hash(credential);
            let token = state.store.api_token_by_hash(&hash).await?.ok_or_else(ApiError::invalid_token)?;
            // The lookup was by keyed hash; compare once more in constant time for good measure.
            if !state.hasher.matches(credential, &token.token_hash) {
                return Err(ApiError::invalid_token());
            }
            let role = Role::parse(&token.role);
            Ok(Admin { principal: Principal::ApiToken { id: token.id, role }, path, dpop: false })
        }
        Scheme::Bearer => match access_token::verify(state, &AuthzServer::Org, credential).await {
            // A DPoP-bound token is useless without its proof.
            Ok(claims) if claims.cnf.is_some() => Err(super::dpop_auth::bearer_refused(state, &path)),
            Ok(claims) => {
                let roles = app_roles(state, &claims.cid).await?;
                Ok(Admin {
                    principal: Principal::Bearer { client_id: claims.cid, scopes: claims.scp, roles },
                    path,
                    dpop: false,
                })
            }
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
        },
        Scheme::Dpop => {
            let claims = super::dpop_auth::authenticate(state, parts, credential).await?;
            let roles = app_roles(state, &claims.cid).await?;
            Ok(Admin {
                principal: Principal::Bearer { client_id: claims.cid, scopes: claims.scp, roles },
                path,
                dpop: true,
            })
        }
    }
}

/// The `Authorization` schemes the management API takes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Scheme {
    Ssws,
    Bearer,
    Dpop,
}

/// Splits an `Authorization` value into scheme and credential the way clients send them: the scheme in
/// any case, then one or more spaces or tabs (RFC 7235 §2.1 with RFC 9110's whitespace), then the
/// credential, surrounding whitespace dropped. `SSWS` may also be followed directly by the token: the Okta
/// Python SDK 3.4.6 sends `SSWS<token>`. `None` for any other scheme, or a scheme alone; an empty
/// credential after a separator is returned as such, so it is refused as a bad token, not a bad scheme.
pub(crate) fn parse_authorization(value: &str) -> Option<(Scheme, &str)> {
    const WS: [char; 2] = [' ', '\t'];
    let value = value.trim_start_matches(WS);
    let (scheme, rest) = value.split_at(value.find(WS).unwrap_or(value.len()));
    let credential = rest.trim_matches(WS);
    let known = if scheme.eq_ignore_ascii_case("SSWS") {
        Scheme::Ssws
    } else if scheme.eq_ignore_ascii_case("Bearer") {
        Scheme::Bearer
    } else if scheme.eq_ignore_ascii_case("DPoP") {
        Scheme::Dpop
    } else {
        // `SSWS<token>`: the token runs on from the scheme.
        return value
            .get(..4)
            .filter(|prefix| prefix.eq_ignore_ascii_case("SSWS"))
            .and_then(|_| value.get(4..))
            .map(|token| (Scheme::Ssws, token.trim_end_matches(WS)));
    };
    (!rest.is_empty()).then_some((known, credential))
}

#[cfg(test)]
mod tests {
    use super::{Scheme, parse_authorization};

    #[test]
    fn schemes_as_clients_send_them() {
        for (value, expected) in [
            ("SSWS abc", Some((Scheme::Ssws, "abc"))),
            ("SSWSabc", Some((Scheme::Ssws, "abc"))),
            ("SSWS  abc ", Some((Scheme::Ssws, "abc"))),
            ("ssws\tabc", Some((Scheme::Ssws, "abc"))),
            ("Bearer a.b.c", Some((Scheme::Bearer, "a.b.c"))),
            ("bearer  a.b.c", Some((Scheme::Bearer, "a.b.c"))),
            ("BEARER\ta.b.c", Some((Scheme::Bearer, "a.b.c"))),
            ("dpop a.b.c", Some((Scheme::Dpop, "a.b.c"))),
            ("DPoP \t a.b.c", Some((Scheme::Dpop, "a.b.c"))),
            ("SSWS ", Some((Scheme::Ssws, ""))),
            ("Bearer ", Some((Scheme::Bearer, ""))),
            ("SSWS", None),
            ("Bearer", None),
            ("Bearera.b.c", None),
            ("DPoPa.b.c", None),
            ("Basic dXNlcjpwYXNz", None),
            ("", None),
            ("SSW\u{e9}x", None),
        ] {
            assert_eq!(parse_authorization(value), expected, "{value:?}");
        }
    }
}
