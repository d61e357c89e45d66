//! The embedded default backend: one SQLite file in WAL mode, and the System Log in a second file beside it.
//!
//! WAL lets readers run beside the single writer; `synchronous = NORMAL` keeps commits durable across a
//! process crash (the WAL is fsynced at checkpoints) while not fsyncing every `jti` insert. The methods are
//! [`crate::shared`]'s; what is SQLite's own is below.
//!
//! SQLite has one write lock per database file, and a writer that finds it taken sleeps in the busy handler
//! (by 1, 2, 5, 10 ms, ...), not in a queue. With the System Log's batched inserts in the same file, the token
//! endpoint's `jti` inserts slept behind them (measured: 17% fewer tokens/s with the log on). So the log
//! lives in its own file, `<database>.system-log`, with its own small pool, WAL and migrations
//! (`migrations/sqlite-log`): the token path's writes and the log's never take the same lock.
use sqlx::SqlitePool;
use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePoolOptions, SqliteSynchronous};
use std::str::FromStr;
use std::time::Duration;

static MIGRATOR: sqlx::migrate::Migrator = sqlx::migrate!("./migrations/sqlite");
static LOG_MIGRATOR: sqlx::migrate::Migrator = sqlx::migrate!("./migrations/sqlite-log");

/// Connections of the System Log's pool: its one batch writer and `GET /api/v1/logs` readers.
const LOG_CONNECTIONS: u32 = 3;

/// The SQLite store: one pool of connections to a WAL-mode file.
///
/// Measured, not guessed: sending every write through a single-connection pool (so writers queue in sqlx
/// rather than in SQLite's busy handler) halved token-endpoint throughput (619 vs 1189 tokens/s at 32
/// connections), because each `jti` insert then waits for one connection thread. Concurrent connections
/// with WAL and a busy timeout are faster here.
#[derive(Debug, Clone)]
pub struct SqliteStore {
    pool: SqlitePool,
    /// The System Log's own database file (see the module docs).
    log_pool: SqlitePool,
}

impl SqliteStore {
    /// Opens (creating if missing) and migrates the database at `url` (`sqlite://path`, `sqlite::memory:`).
    pub async fn open(url: &str) -> crate::Result<Self> {
        let options = connect_options(url)?;
        let file = options.get_filename().to_path_buf();
        let in_memory = url.contains(":memory:") || file.as_os_str().is_empty();
        let pool = open_pool(options, &file, in_memory, 8, &MIGRATOR).await?;
        // The System Log's file: `<database>.system-log` (in memory beside an in-memory database).
        let (log_options, log_file) = if in_memory {
            (connect_options("sqlite::memory:")?, std::path::PathBuf::new())
        } else {
            let mut name = file.as_os_str().to_owned();
            name.push(".system-log");
            let log_file = std::path::PathBuf::from(name);
            (connect_options(url)?.filename(&log_file), log_file)
        };
        let log_pool = open_pool(log_options, &log_file, in_memory, LOG_CONNECTIONS, &LOG_MIGRATOR).await?;
        let moved = move_log_events(&pool, &log_pool).await?;
        if moved > 0 {
            tracing::info!(events = moved, "moved System Log events into the System Log's own database file");
        }
        Ok(SqliteStore { pool, log_pool })
    }
}

/// The connection settings of both files.
fn connect_options(url: &str) -> crate::Result<SqliteConnectOptions> {
    Ok(SqliteConnectOptions::from_str(url)?
        .create_if_missing(true)
        .journal_mode(SqliteJournalMode::Wal)
        .synchronous(SqliteSynchronous::Normal)
        .foreign_keys(true)
        .busy_timeout(Duration::from_secs(5))
        // LIKE as PostgreSQL's: case-sensitive (the System Log's target match relies on it).
        .pragma("case_sensitive_like", "ON"))
}

/// Opens (creating it owner-only) and migrates one database file.
async fn open_pool(
    options: SqliteConnectOptions,
    file: &std::path::Path,
    in_memory: bool,
    max_connections: u32,
    migrator: &'static sqlx::migrate::Migrator,
) -> crate::Result<SqlitePool> {
    if !in_memory {
        owner_only(file, true)?;
    }
    let pool = SqlitePoolOptions::new()
        // An in-memory database exists per connection: keep exactly one.
        .max_connections(if in_memory { 1 } else { max_connections })
        .min_connections(1)
        .connect_with(options)
        .await?;
    migrator.run(&pool).await?;
    if !in_memory {
        // SQLite creates `-wal` and `-shm` with the database file's mode; older installs may have
        // left them (and the file) wider, so set them here whatever the umask.
        for suffix in ["", "-wal", "-shm"] {
            let mut path = file.as_os_str().to_owned();
            path.push(suffix);
            owner_only(std::path::Path::new(&path), suffix.is_empty())?;
        }
    }
    Ok(pool)
}

/// Moves System Log events an earlier version wrote into the main file (its `log_events` table, migration
/// 0004) into the System Log's own file, a chunk at a time; returns how many moved. Nothing to do after the
/// first start.
async fn move_log_events(main: &SqlitePool, log: &SqlitePool) -> crate::Result<u64> {
    use sqlx::Row;
    const COLUMNS: &str = "uuid, published, event_type, severity, outcome_result, actor_id, actor_type, client_ip, \
                           transaction_id, target_ids, target_types, search_text, body";
    let mut moved = 0;
    loop {
        let rows = sqlx::query(sqlx::AssertSqlSafe(format!(
            "SELECT {COLUMNS} FROM log_events ORDER BY published, uuid LIMIT 256"
        )))
        .fetch_all(main)
        .await?;
        if rows.is_empty() {
            return Ok(moved);
        }
        let mut tx = log.begin().await?;
        for row in &rows {
            let mut q = sqlx::query(sqlx::AssertSqlSafe(format!(
                "INSERT INTO log_events ({COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13) \
                 ON CONFLICT (uuid) DO NOTHING"
            )));
            q = q.bind(row.try_get::<String, _>(0)?).bind(row.try_get::<i64, _>(1)?);
            for i in 2..13 {
                q = q.bind(row.try_get::<String, _>(i)?);
            }
            q.execute(&mut *tx).await?;
        }
        tx.commit().await?;
        let mut tx = main.begin().await?;
        for row in &rows {
            sqlx::query("DELETE FROM log_events WHERE uuid = $1")
                .bind(row.try_get::<String, _>(0)?)
                .execute(&mut *tx)
                .await?;
        }
        tx.commit().await?;
        moved += rows.len() as u64;
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
