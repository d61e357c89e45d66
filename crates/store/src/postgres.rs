//! The server backend: PostgreSQL, for one node or several sharing a database.
//!
//! Same tables and semantics as [`crate::SqliteStore`] (migrations in `migrations/postgres`, applied on
//! open under sqlx's migration advisory lock, so nodes starting together migrate once). Uniqueness rules
//! are the database's: a taken client id, a duplicate grant or a reused `jti` is refused by a constraint,
//! whichever node asks. The pool's `acquire_timeout` is short, so an unreachable database is an error
//! (the server answers 503), never a hang. The methods are [`crate::shared`]'s; PostgreSQL's own are
//! below: the snapshot read, the rotation lock and the change feed (LISTEN/NOTIFY).
use crate::Change;
use sqlx::PgPool;
use sqlx::postgres::{PgConnectOptions, PgListener, PgPoolOptions};
use std::str::FromStr;
use std::time::Duration;

static MIGRATOR: sqlx::migrate::Migrator = sqlx::migrate!("./migrations/postgres");

/// Most connections one node keeps to the database.
const MAX_CONNECTIONS: u32 = 10;
/// How long a query waits for a free (or new) connection before failing.
const ACQUIRE_TIMEOUT: Duration = Duration::from_secs(3);

/// The PostgreSQL store.
#[derive(Debug, Clone)]
pub struct PostgresStore {
    pool: PgPool,
    /// The System Log's statements' pool: the same one (PostgreSQL's writers do not share one lock).
    log_pool: PgPool,
}

impl PostgresStore {
    /// Connects to the database at `url` (`postgres://user[:password]@host[:port]/db[?sslmode=...]`) and
    /// migrates it. The database itself must exist.
    pub async fn open(url: &str) -> crate::Result<Self> {
        let options = PgConnectOptions::from_str(url)?.application_name("tollgate");
        let pool = PgPoolOptions::new()
            .max_connections(MAX_CONNECTIONS)
            .min_connections(1)
            .acquire_timeout(ACQUIRE_TIMEOUT)
            .idle_timeout(Duration::from_secs(600))
            .connect_with(options)
            .await?;
        MIGRATOR.run(&pool).await?;
        Ok(PostgresStore { log_pool: pool.clone(), pool })
    }

    /// Closes every connection of the pool (waiting for those in use to come back).
    pub async fn close(&self) {
        self.pool.close().await;
    }
}

/// A transaction that reads and then writes on what it read; the reads take row locks (`row_lock`).
async fn begin_write(pool: &PgPool) -> crate::Result<Tx> {
    Ok(pool.begin().await?)
}

/// One read-only REPEATABLE READ snapshot, so several tables are seen as of one moment.
async fn begin_snapshot(pool: &PgPool) -> crate::Result<Tx> {
    let mut tx = pool.begin().await?;
    sqlx::query("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY").execute(&mut *tx).await?;
    Ok(tx)
}

/// One rotation per server across the cluster: a node that finds the lock taken waits for the holder to
/// commit, then sees a different ACTIVE key and does nothing. Waiting (not giving up at once) matters: a
/// node that gave up and read the keys straight away could read them before the holder's commit, and a
/// node starting beside another on an empty database then found no ACTIVE key at all. The wait is
/// bounded (`lock_timeout`, also for the row locks that follow), so a stuck holder is an error, not a hang.
async fn lock_rotation(tx: &mut Tx, server_id: &str) -> crate::Result<bool> {
    sqlx::query(ROTATION_LOCK_TIMEOUT).execute(&mut **tx).await?;
    let query = sqlx::query("SELECT pg_advisory_xact_lock($1, hashtext($2))");
    query.bind(ROTATION_LOCK_CLASS).bind(server_id).execute(&mut **tx).await?;
    Ok(true)
}

crate::shared::store_impl! {
    store: PostgresStore,
    db: sqlx::Postgres,
    row_lock: " FOR UPDATE",
    specific: {
        async fn subscribe_changes(&self) -> Result<Option<crate::ChangeFeed>> {
            let listener = listen(&self.pool).await?;
            let (tx, rx) = tokio::sync::mpsc::channel(256);
            tokio::spawn(forward_changes(self.pool.clone(), listener, tx));
            Ok(Some(rx))
        }
    }
}

/// The channel the triggers of migration 0002 notify on.
const CHANGES_CHANNEL: &str = "tollgate_changes";
/// First key of the advisory lock taken while rotating a server's signing keys (second: the server id).
const ROTATION_LOCK_CLASS: i32 = 0x746f_6c6c; // "toll"
/// How long a rotation waits for another node's: its transaction is a few row writes.
const ROTATION_LOCK_TIMEOUT: &str = "SET LOCAL lock_timeout = '10s'";

async fn listen(pool: &PgPool) -> Result<PgListener> {
    let mut listener = PgListener::connect_with(pool).await?;
    listener.listen(CHANGES_CHANNEL).await?;
    Ok(listener)
}

/// Forwards notifications until the receiver goes away. After a lost connection it listens again on a
/// fresh one (retrying each second) and then sends [`Change::Resync`]: whatever was notified meanwhile
/// is lost, so the node must reload everything.
async fn forward_changes(pool: PgPool, mut listener: PgListener, tx: tokio::sync::mpsc::Sender<Change>) {
    loop {
        let received = tokio::select! {
            r = listener.try_recv() => r,
            () = tx.closed() => return,
            // The listener's connection comes from the pool: give it back so `close` can finish.
            () = pool.close_event() => return,
        };
        match received {
            Ok(Some(note)) => {
                if tx.send(Change::from_table(note.payload())).await.is_err() {
                    return;
                }
                continue;
            }
            Ok(None) => tracing::warn!("change feed: connection to PostgreSQL lost; listening again"),
            Err(e) => tracing::warn!(error = %e, "change feed: receive failed; listening again"),
        }
        listener = loop {
            if tx.is_closed() || pool.is_closed() {
                return;
            }
            match listen(&pool).await {
                Ok(l) => break l,
                Err(e) => {
                    tracing::warn!(error = %e, "change feed: cannot listen yet");
                    tokio::time::sleep(std::time::Duration::from_secs(1)).await;
                }
            }
        };
        tracing::info!("change feed: listening again; reloading everything");
        if tx.send(Change::Resync).await.is_err() {
            return;
        }
    }
}
