//! A fresh PostgreSQL database per test, dropped afterwards.
//!
//! The admin URL comes from `TOLLGATE_TEST_POSTGRES_URL` (default `postgres://postgres@127.0.0.1:5432/postgres`).
//! When PostgreSQL cannot be reached, the test fails if `CI` is set; otherwise it prints a loud notice and
//! the PostgreSQL half of the test is skipped.
use sqlx::Connection;
use std::io::Write;
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::Duration;

pub const DEFAULT_ADMIN_URL: &str = "postgres://postgres@127.0.0.1:5432/postgres";

pub fn admin_url() -> String {
    std::env::var("TOLLGATE_TEST_POSTGRES_URL").unwrap_or_else(|_| DEFAULT_ADMIN_URL.to_string())
}

/// `url` with its database name replaced by `name` (any `?query` kept).
pub fn with_database(url: &str, name: &str) -> String {
    let (base, query) = match url.find('?') {
        Some(q) => (&url[..q], &url[q..]),
        None => (url, ""),
    };
    let authority_start = base.find("://").map_or(0, |i| i + 3);
    let base = match base[authority_start..].find('/') {
        Some(slash) => &base[..authority_start + slash],
        None => base,
    };
    format!("{base}/{name}{query}")
}

async fn admin_connection() -> Result<sqlx::PgConnection, String> {
    let url = admin_url();
    match tokio::time::timeout(Duration::from_secs(10), sqlx::PgConnection::connect(&url)).await {
        Ok(Ok(conn)) => Ok(conn),
        Ok(Err(e)) => Err(format!("cannot connect to {}: {e}", tollgate_store::redact_url(&url))),
        Err(_) => Err(format!("timed out connecting to {}", tollgate_store::redact_url(&url))),
    }
}

/// A database created for one test; dropped (best effort) when this goes out of scope.
pub struct TestDb {
    pub url: String,
    name: String,
}

impl TestDb {
    /// Creates a fresh database, or `None` (after a loud notice) when PostgreSQL is unreachable outside CI.
    pub async fn create() -> Option<TestDb> {
        let mut conn = match admin_connection().await {
            Ok(conn) => conn,
            Err(e) => {
                if std::env::var_os("CI").is_some() {
                    panic!("PostgreSQL is required in CI (TOLLGATE_TEST_POSTGRES_URL): {e}");
                }
                // Straight to stderr, past the test harness's output capture, so the skip is seen.
                let _ = writeln!(
                    std::io::stderr(),
                    "\n**********************************************************************\n\
                     ** SKIPPING the PostgreSQL half of this test: {e}\n\
                     ** (set TOLLGATE_TEST_POSTGRES_URL; in CI this is a failure)\n\
                     **********************************************************************\n"
                );
                return None;
            }
        };
        static SEQ: AtomicU32 = AtomicU32::new(0);
        let nanos = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().subsec_nanos();
        let name = format!("tollgate_test_{}_{}_{}", std::process::id(), nanos, SEQ.fetch_add(1, Ordering::Relaxed));
        sqlx::raw_sql(sqlx::AssertSqlSafe(format!("CREATE DATABASE {name}"))).execute(&mut conn).await.unwrap();
        let _ = conn.close().await;
        Some(TestDb { url: with_database(&admin_url(), &name), name })
    }
}

impl Drop for TestDb {
    fn drop(&mut self) {
        let name = self.name.clone();
        // Drop may run inside a runtime: do the work on a thread of its own, with its own runtime.
        let dropped = std::thread::spawn(move || {
            let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().ok()?;
            rt.block_on(async move {
                let mut conn = admin_connection().await.ok()?;
                let sql = format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)");
                sqlx::raw_sql(sqlx::AssertSqlSafe(sql)).execute(&mut conn).await.ok()?;
                let _ = conn.close().await;
                Some(())
            })
        })
        .join();
        if !matches!(dropped, Ok(Some(()))) {
            eprintln!("note: could not drop test database {}", self.name);
        }
    }
}
