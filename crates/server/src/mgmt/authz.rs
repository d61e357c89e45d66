//! The permission model: what each management route needs ([`Permission`]), which `okta.*` scopes carry
//! it, and which admin roles ([`Role`], Okta's standard role types) allow it. docs/security.md states the
//! model; docs/api.md has the role table.
//!
//! A Bearer token needs the route's scope, and when its app holds roles, one of them must allow the
//! permission too. An SSWS token has no scopes: its role alone decides. The super-admin-only operations
//! (see [`super::auth::Admin::require_super_admin`]) come on top of this.

/// What a management route needs. Each route names exactly one.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Permission {
    AppsRead,
    AppsManage,
    /// The DCR view of apps (`/oauth2/v1/clients`): the same class as `AppsRead`, other scopes.
    ClientsRead,
    /// See [`Permission::ClientsRead`]: the same class as `AppsManage`.
    ClientsManage,
    /// DCR create only.
    ClientsRegister,
    GrantsRead,
    GrantsManage,
    UsersRead,
    UsersManage,
    ServersRead,
    ServersManage,
    ApiTokensRead,
    ApiTokensManage,
    RolesRead,
    RolesManage,
    /// The Access Gateway's read-only apps view.
    OagRead,
    /// The System Log (`GET /api/v1/logs`).
    LogsRead,
}

impl Permission {
    /// The scopes that carry this permission (a `.manage` scope implies its `.read`). The first one is
    /// named in the insufficient-scope challenge.
    pub(crate) fn scopes(self) -> &'static [&'static str] {
        match self {
            Permission::AppsRead => &["okta.apps.read", "okta.apps.manage"],
            Permission::AppsManage => &["okta.apps.manage"],
            Permission::ClientsRead => &["okta.clients.read", "okta.clients.manage"],
            Permission::ClientsManage => &["okta.clients.manage"],
            Permission::ClientsRegister => &["okta.clients.manage", "okta.clients.register"],
            Permission::GrantsRead => &["okta.appGrants.read", "okta.appGrants.manage"],
            Permission::GrantsManage => &["okta.appGrants.manage"],
            Permission::UsersRead => &["okta.users.read", "okta.users.manage"],
            Permission::UsersManage => &["okta.users.manage"],
            Permission::ServersRead => &["okta.authorizationServers.read", "okta.authorizationServers.manage"],
            Permission::ServersManage => &["okta.authorizationServers.manage"],
            Permission::ApiTokensRead => &["okta.apiTokens.read", "okta.apiTokens.manage"],
            Permission::ApiTokensManage => &["okta.apiTokens.manage"],
            Permission::RolesRead => &["okta.roles.read", "okta.roles.manage"],
            Permission::RolesManage => &["okta.roles.manage"],
            Permission::OagRead => &["okta.oag.app.read", "okta.oag.app.manage"],
            Permission::LogsRead => &["okta.logs.read"],
        }
    }

    /// Whether this is a read (every `*.read` is allowed to READ_ONLY_ADMIN).
    fn is_read(self) -> bool {
        matches!(
            self,
            Permission::AppsRead
                | Permission::ClientsRead
                | Permission::GrantsRead
                | Permission::UsersRead
                | Permission::ServersRead
                | Permission::ApiTokensRead
                | Permission::RolesRead
                | Permission::OagRead
                | Permission::LogsRead
        )
    }
}

/// Okta's standard admin role types tollgate knows (the names mirror Okta's, `..._ADMIN` and all).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[allow(clippy::enum_variant_names)]
pub(crate) enum Role {
    SuperAdmin,
    OrgAdmin,
    AppAdmin,
    UserAdmin,
    ApiAccessManagementAdmin,
    ReadOnlyAdmin,
}

impl Role {
    /// Every role, in the order docs/api.md lists them.
    pub(crate) const ALL: [Role; 6] = [
        Role::SuperAdmin,
        Role::OrgAdmin,
        Role::AppAdmin,
        Role::UserAdmin,
        Role::ApiAccessManagementAdmin,
        Role::ReadOnlyAdmin,
    ];

    /// The role type as Okta spells it.
    pub(crate) fn as_str(self) -> &'static str {
        match self {
            Role::SuperAdmin => "SUPER_ADMIN",
            Role::OrgAdmin => "ORG_ADMIN",
            Role::AppAdmin => "APP_ADMIN",
            Role::UserAdmin => "USER_ADMIN",
            Role::ApiAccessManagementAdmin => "API_ACCESS_MANAGEMENT_ADMIN",
            Role::ReadOnlyAdmin => "READ_ONLY_ADMIN",
        }
    }

    /// Okta's label for the role (USER_ADMIN is "Group Administrator" in Okta).
    pub(crate) fn label(self) -> &'static str {
        match self {
            Role::SuperAdmin => "Super Administrator",
            Role::OrgAdmin => "Organizational Administrator",
            Role::AppAdmin => "Application Administrator",
            Role::UserAdmin => "Group Administrator",
            Role::ApiAccessManagementAdmin => "API Access Management Administrator",
            Role::ReadOnlyAdmin => "Read-only Administrator",
        }
    }

    /// The role with this type, if tollgate knows it.
    pub(crate) fn parse(s: &str) -> Option<Role> {
        Role::ALL.into_iter().find(|r| r.as_str() == s)
    }

    /// Whether the role allows `p` (the table in docs/api.md).
    pub(crate) fn allows(self, p: Permission) -> bool {
        use Permission as P;
        let apps = matches!(p, P::AppsRead | P::AppsManage | P::ClientsRead | P::ClientsManage | P::ClientsRegister);
        match self {
            Role::SuperAdmin => true,
            Role::OrgAdmin => {
                apps || matches!(
                    p,
                    P::GrantsRead
                        | P::UsersRead
                        | P::UsersManage
                        | P::ServersRead
                        | P::ServersManage
                        | P::ApiTokensRead
                        | P::RolesRead
                        | P::LogsRead
                )
            }
            Role::AppAdmin => apps || matches!(p, P::GrantsRead | P::UsersRead | P::ServersRead | P::LogsRead),
            Role::UserAdmin => matches!(p, P::UsersRead | P::UsersManage | P::LogsRead),
            Role::ApiAccessManagementAdmin => matches!(
                p,
                P::ServersRead | P::ServersManage | P::AppsRead | P::ClientsRead | P::GrantsRead | P::LogsRead
            ),
            Role::ReadOnlyAdmin => p.is_read(),
        }
    }

    /// Whether everything `other` allows, this role allows too (a token's creator may hand out no more
    /// than it has).
    pub(crate) fn covers(self, other: Role) -> bool {
        self == Role::SuperAdmin
            || (other != Role::SuperAdmin && ALL_PERMISSIONS.iter().all(|p| !other.allows(*p) || self.allows(*p)))
    }
}

/// Every permission, for [`Role::covers`] and the tests.
pub(crate) const ALL_PERMISSIONS: [Permission; 17] = [
    Permission::AppsRead,
    Permission::AppsManage,
    Permission::ClientsRead,
    Permission::ClientsManage,
    Permission::ClientsRegister,
    Permission::GrantsRead,
    Permission::GrantsManage,
    Permission::UsersRead,
    Permission::UsersManage,
    Permission::ServersRead,
    Permission::ServersManage,
    Permission::ApiTokensRead,
    Permission::ApiTokensManage,
    Permission::RolesRead,
    Permission::RolesManage,
    Permission::OagRead,
    Permission::LogsRead,
];

#[cfg(test)]
mod tests {
    use super::{ALL_PERMISSIONS, Permission, Role};

    #[test]
    fn role_types_round_trip() {
        for role in Role::ALL {
            assert_eq!(Role::parse(role.as_str()), Some(role));
        }
        assert_eq!(Role::parse("super_admin"), None);
        assert_eq!(Role::parse("CUSTOM"), None);
    }

    #[test]
    fn only_super_admin_manages_grants_roles_and_api_tokens() {
        for role in Role::ALL {
            for p in [Permission::GrantsManage, Permission::RolesManage, Permission::ApiTokensManage] {
                assert_eq!(role.allows(p), role == Role::SuperAdmin, "{role:?} {p:?}");
            }
        }
    }

    #[test]
    fn read_only_reads_everything_and_changes_nothing() {
        for p in ALL_PERMISSIONS {
            assert_eq!(Role::ReadOnlyAdmin.allows(p), p.is_read(), "{p:?}");
        }
    }

    #[test]
    fn covers_is_inclusion() {
        assert!(Role::SuperAdmin.covers(Role::SuperAdmin));
        assert!(Role::OrgAdmin.covers(Role::AppAdmin));
        assert!(Role::OrgAdmin.covers(Role::UserAdmin));
        assert!(!Role::OrgAdmin.covers(Role::SuperAdmin));
        assert!(!Role::AppAdmin.covers(Role::UserAdmin));
        assert!(!Role::ReadOnlyAdmin.covers(Role::OrgAdmin));
        // ORG_ADMIN reads all but OAG; READ_ONLY_ADMIN reads that too.
        assert!(!Role::OrgAdmin.covers(Role::ReadOnlyAdmin));
    }
}
