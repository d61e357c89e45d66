//! The `okta.*` scopes tollgate knows: what grants may name. The org server mints them all but the
//! `okta.oag.*` ones, which only the Access Gateway endpoint mints (see `oauth::rules`). Shared by the grants
//! API and the token path, so it lives in neither.
pub const OKTA_SCOPES: &[&str] = &[
    "okta.apps.manage",
    "okta.apps.read",
    "okta.appGrants.manage",
    "okta.appGrants.read",
    "okta.authorizationServers.manage",
    "okta.authorizationServers.read",
    "okta.clients.manage",
    "okta.clients.read",
    "okta.clients.register",
    "okta.apiTokens.manage",
    "okta.apiTokens.read",
    "okta.groups.manage",
    "okta.groups.read",
    "okta.logs.read",
    "okta.policies.manage",
    "okta.policies.read",
    "okta.roles.manage",
    "okta.roles.read",
    "okta.users.manage",
    "okta.users.read",
    "okta.oag.app.manage",
    "okta.oag.app.read",
    "okta.oag.app.secrets.manage",
    "okta.oag.app.secrets.read",
    "okta.oag.authenticationService.manage",
    "okta.oag.cert.read",
    "okta.oag.idp.manage",
    "okta.oag.idp.read",
];

/// Whether `scope` is a known Okta API scope.
pub fn is_known(scope: &str) -> bool {
    OKTA_SCOPES.contains(&scope)
}
