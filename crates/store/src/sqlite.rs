//! The embedded default backend: one SQLite file in WAL mode.
//!
//! WAL lets readers run beside the single writer; `synchronous = NORMAL` keeps commits durable across a
//! process crash (the WAL is fsynced at checkpoints) while not fsyncing every `jti` insert. The methods are
//! [`crate::shared`]'s; what is SQLite's own is below.
use sqlx::SqlitePool;
use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePoolOptions, SqliteSynchronous};
use std::str::FromStr;
use std::time::Duration;

static MIGRATOR: sqlx::migrate::Migrator = sqlx::migrate!("./migrations/sqlite");

/// The SQLite store: one pool of connections to a WAL-mode file.
///
/// Measured, not guessed: sending every write through a single-connection pool (so writers queue in sqlx
/// rather than in SQLite's busy handler) halved token-endpoint throughput (619 vs 1189 tokens/s at 32
/// connections), because each `jti` insert then waits for one connection thread. Concurrent connections
/// with WAL and a busy timeout are faster here.
#[derive(Debug, Clone)]
pub struct SqliteStore {
    pool: SqlitePool,
}

impl SqliteStore {
    /// Opens (creating if missing) and migrates the database at `url` (`sqlite://path`, `sqlite::memory:`).
    pub async fn open(url: &str) -> crate::Result<Self> {
        let options = SqliteConnectOptions::from_str(url)?
            .create_if_missing(true)
            .journal_mode(SqliteJournalMode::Wal)
            .synchronous(SqliteSynchronous::Normal)
            .foreign_keys(true)
            .busy_timeout(Duration::from_secs(5))
            // LIKE as PostgreSQL's: case-sensitive (the System Log's target match relies on it).
            .pragma("case_sensitive_like", "ON");
        let file = options.get_filename().to_path_buf();
        let in_memory = url.contains(":memory:") || file.as_os_str().is_empty();
        if !in_memory {
            owner_only(&file, true)?;
        }
        let pool = SqlitePoolOptions::new()
            // An in-memory database exists per connection: keep exactly one.
            .max_connections(if in_memory { 1 } else { 8 })
            .min_connections(1)
            .connect_with(options)
            .await?;
        MIGRATOR.run(&pool).await?;
        if !in_memory {
            // SQLite creates `-wal` and `-shm` with the database file's mode; older installs may have
            // left them (and the file) wider, so set them here whatever the umask.
            for suffix in ["", "-wal", "-shm"] {
                let mut path = file.as_os_str().to_owned();
                path.push(suffix);
                owner_only(std::path::Path::new(&path), suffix.is_empty())?;
            }
        }
        Ok(SqliteStore { pool })
    }
}

/// Makes `path` readable and writable by its owner only (creating it so when `create` and it is missing):
/// the database holds the HMAC key behind every stored secret and the sealed signing keys.
fn owner_only(path: &std::path::Path, create: bool) -> crate::Result<()> {
    #[cfg(unix)]
    {
        use std::os::unix::fs::{OpenOptionsExt, PermissionsExt};
        if create {
            // An existing file makes this fail, and a missing directory is reported by SQLite's own open.
            let _ = std::fs::OpenOptions::new().write(true).create_new(true).mode(0o600).open(path);
        }
        if path.exists() {
            let owner = std::fs::Permissions::from_mode(0o600);
            std::fs::set_permissions(path, owner).map_err(|e| StoreError::Database(sqlx::Error::Io(e)))?;
        }
    }
    #[cfg(not(unix))]
    let _ = (path, create);
    Ok(())
}

/// A transaction that reads and then writes on what it read. `BEGIN IMMEDIATE` takes the one write lock
/// first (waiting in the busy handler), so no other writer commits in between and the reads stay true; a
/// deferred transaction would instead fail with `SQLITE_BUSY` when it tries to upgrade.
async fn begin_write(pool: &SqlitePool) -> crate::Result<Tx> {
    Ok(pool.begin_with("BEGIN IMMEDIATE").await?)
}

/// A read transaction: in WAL mode it reads one snapshot from its first statement on.
async fn begin_snapshot(pool: &SqlitePool) -> crate::Result<Tx> {
    Ok(pool.begin().await?)
}

/// One node, one writer: [`begin_write`] already excludes every other rotation.
async fn lock_rotation(_tx: &mut Tx, _server_id: &str) -> crate::Result<bool> {
    Ok(true)
}

crate::shared::store_impl! {
    store: SqliteStore,
    db: sqlx::Sqlite,
    row_lock: "",
    specific: {
        /// A single file has no other nodes to hear from.
        async fn subscribe_changes(&self) -> Result<Option<crate::ChangeFeed>> {
            Ok(None)
        }
    }
}
