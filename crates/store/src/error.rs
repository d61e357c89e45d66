//! Store errors: the caller needs to tell "already exists" and "limit reached" apart from everything else,
//! and the database's own messages (table and column names) must never reach an API response.

/// What a store operation can fail with.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum StoreError {
    /// A uniqueness rule was broken; `what` says which, never in the database's words.
    #[error("conflict: {what} is already taken")]
    Conflict { what: Unique },
    /// The app already has `max` rows of `what`; nothing was written. Checked in the insert's transaction.
    #[error("an app may have at most {max} {what}")]
    LimitReached { what: crate::AppChild, max: usize },
    /// The database could not be reached or answered with an error.
    #[error("database error: {0}")]
    Database(#[source] sqlx::Error),
    /// Migrating the schema failed.
    #[error("migration failed: {0}")]
    Migration(#[from] sqlx::migrate::MigrateError),
    /// A stored value could not be decoded (e.g. corrupt JSON).
    #[error("corrupt stored value: {0}")]
    Corrupt(String),
    /// The request is outside what this backend does.
    #[error("{0}")]
    Unsupported(String),
}

/// The uniqueness rule a [`StoreError::Conflict`] broke.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum Unique {
    /// An app's `client_id`.
    ClientId,
    /// A user's login.
    Login,
    /// A grant of the same scope and issuer to the same app.
    Grant,
    /// A scope name within one authorization server.
    ScopeName,
    /// The same role type assigned twice to one app.
    Role,
    /// A claim name within one authorization server.
    ClaimName,
    /// A row id (or another key no caller chooses).
    Id,
}

impl Unique {
    /// Which rule a unique violation broke. PostgreSQL names the constraint (`apps_client_id_key`); SQLite
    /// names the columns in its message (`UNIQUE constraint failed: apps.client_id`).
    fn of(db: &dyn sqlx::error::DatabaseError) -> Unique {
        let name = match db.constraint() {
            Some(constraint) => constraint.to_string(),
            None => db.message().rsplit(": ").next().unwrap_or_default().replace('.', "_"),
        };
        const RULES: [(&str, Unique); 7] = [
            ("apps_client_id", Unique::ClientId),
            ("admin_users_login", Unique::Login),
            ("users_login", Unique::Login),
            ("grants_app_id", Unique::Grant),
            ("scopes_server_id", Unique::ScopeName),
            ("app_roles_app_id", Unique::Role),
            ("auth_server_claims_server_id", Unique::ClaimName),
        ];
        RULES.iter().find(|(prefix, _)| name.starts_with(prefix)).map_or(Unique::Id, |(_, rule)| *rule)
    }
}

impl std::fmt::Display for Unique {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Unique::ClientId => "client_id",
            Unique::Login => "login",
            Unique::Grant => "grant",
            Unique::ScopeName => "scope name",
            Unique::Role => "role assignment",
            Unique::ClaimName => "claim name",
            Unique::Id => "id",
        })
    }
}

impl From<sqlx::Error> for StoreError {
    fn from(err: sqlx::Error) -> Self {
        if let sqlx::Error::Database(db) = &err
            && db.is_unique_violation()
        {
            return StoreError::Conflict { what: Unique::of(db.as_ref()) };
        }
        StoreError::Database(err)
    }
}

impl From<serde_json::Error> for StoreError {
    fn from(err: serde_json::Error) -> Self {
        StoreError::Corrupt(err.to_string())
    }
}
