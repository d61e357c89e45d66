//! Store conformance: the same checks against SQLite (a temporary file) and PostgreSQL (a fresh database).
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
mod conformance;
mod pg;

use std::sync::Arc;
use tollgate_store::{PostgresStore, SqliteStore, Store, StoreError};

async fn sqlite() -> (tempfile::TempDir, Arc<dyn Store>) {
    let dir = tempfile::tempdir().unwrap();
    let url = format!("sqlite://{}", dir.path().join("store.db").display());
    let store = tollgate_store::open(&url).await.unwrap();
    (dir, store)
}

#[tokio::test]
async fn sqlite_conformance() {
    let (_dir, store) = sqlite().await;
    conformance::run(store.as_ref()).await;
}

#[tokio::test]
async fn postgres_conformance() {
    let Some(db) = pg::TestDb::create().await else { return };
    let store = PostgresStore::open(&db.url).await.unwrap();
    conformance::run(&store).await;
    store.close().await;
}

#[tokio::test]
async fn sqlite_use_jti_is_atomic_under_concurrency() {
    let (_dir, store) = sqlite().await;
    conformance::jti_race(store.clone(), store).await;
}

/// Two pools on one database stand for two nodes: exactly one of them may accept a `jti`.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn postgres_use_jti_is_atomic_across_nodes() {
    let Some(db) = pg::TestDb::create().await else { return };
    let a = PostgresStore::open(&db.url).await.unwrap();
    let b = PostgresStore::open(&db.url).await.unwrap();
    conformance::jti_race(Arc::new(a.clone()), Arc::new(b.clone())).await;
    a.close().await;
    b.close().await;
}

/// `open` routes both spellings of the scheme, and migrating twice (a restart, or a second node) is a no-op.
#[tokio::test]
async fn postgres_open_routes_urls_and_migrates_once() {
    let Some(db) = pg::TestDb::create().await else { return };
    let first = tollgate_store::open(&db.url).await.unwrap();
    first.set_setting("k", "v").await.unwrap();
    let other_scheme = db.url.replacen("postgres://", "postgresql://", 1);
    let second = tollgate_store::open(&other_scheme).await.unwrap();
    assert_eq!(second.setting("k").await.unwrap().as_deref(), Some("v"));
    second.ping().await.unwrap();
    drop((first, second));
}

/// A database that is not there is an error, quickly, not a hang.
#[tokio::test]
async fn postgres_unreachable_is_an_error_not_a_hang() {
    let started = std::time::Instant::now();
    let result = tokio::time::timeout(
        std::time::Duration::from_secs(20),
        tollgate_store::open("postgres://tollgate:secret@127.0.0.1:1/tollgate"),
    )
    .await
    .expect("open hung");
    match result {
        Err(StoreError::Database(_)) => {}
        Err(other) => panic!("unexpected error {other}"),
        Ok(_) => panic!("opened a database on port 1"),
    }
    assert!(started.elapsed() < std::time::Duration::from_secs(15));
    assert_eq!(tollgate_store::redact_url("postgres://tollgate:secret@db/t"), "postgres://tollgate:***@db/t");
}

#[test]
fn test_database_urls() {
    assert_eq!(
        pg::with_database("postgres://postgres@127.0.0.1:5432/postgres", "x"),
        "postgres://postgres@127.0.0.1:5432/x"
    );
    assert_eq!(pg::with_database("postgres://u@h/db?sslmode=disable", "x"), "postgres://u@h/x?sslmode=disable");
    assert_eq!(pg::with_database("postgres://u@h", "x"), "postgres://u@h/x");
    let _ = SqliteStore::open; // both backends are public
}
