//! Change notifications between nodes that share one database.
//!
//! Each node caches clients, grants, custom servers and signing keys so the token endpoint reads nothing.
//! A change committed by one node reaches the others as a [`Change`]; the node then reloads that cache.
//! When the feed was interrupted (lost connection), notifications may have been missed, so the feed says
//! [`Change::Resync`] and the node reloads everything.

/// One committed change, by what it touched.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Change {
    /// Apps, their keys, secrets, grants, roles or federated credentials: the client cache.
    Clients,
    /// Custom authorization servers or their scopes, policies, rules or claims.
    Servers,
    /// Signing keys of some authorization server.
    SigningKeys,
    /// Notifications may have been lost: reload everything.
    Resync,
}

impl Change {
    /// The change a table name (the notification payload) stands for.
    pub fn from_table(table: &str) -> Change {
        match table {
            "apps" | "app_keys" | "app_secrets" | "grants" | "app_roles" | "federated_credentials" => Change::Clients,
            "auth_servers" | "scopes" | "auth_server_policies" | "auth_server_policy_rules" | "auth_server_claims" => {
                Change::Servers
            }
            "signing_keys" => Change::SigningKeys,
            _ => Change::Resync,
        }
    }
}

/// The receiving end of a node's change feed. It ends only when the store is dropped.
pub type ChangeFeed = tokio::sync::mpsc::Receiver<Change>;
