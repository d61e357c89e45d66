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

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sqlite_limits_hold_under_concurrent_adds() {
    let (_dir, store) = sqlite().await;
    conformance::limit_race(store.clone(), store).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn postgres_limits_hold_under_concurrent_adds_across_nodes() {
    let Some(db) = pg::TestDb::create().await else { return };
    let a = PostgresStore::open(&db.url).await.unwrap();
    let b = PostgresStore::open(&db.url).await.unwrap();
    conformance::limit_race(Arc::new(a.clone()), Arc::new(b.clone())).await;
    a.close().await;
    b.close().await;
}

/// The database and its WAL files hold every secret's HMAC key: owner-only, whatever the umask, and an
/// older install's wider file is narrowed on open.
#[cfg(unix)]
#[tokio::test]
async fn sqlite_files_are_owner_only() {
    use std::os::unix::fs::PermissionsExt;
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("store.db");
    let mode = |suffix: &str| {
        let file = format!("{}{suffix}", path.display());
        std::fs::metadata(&file).unwrap_or_else(|e| panic!("{file}: {e}")).permissions().mode() & 0o777
    };
    let store = SqliteStore::open(&format!("sqlite://{}", path.display())).await.unwrap();
    store.set_setting("k", "v").await.unwrap();
    for suffix in ["", "-wal", "-shm"] {
        assert_eq!(mode(suffix), 0o600, "store.db{suffix}");
    }
    drop(store);
    std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o644)).unwrap();
    let reopened = SqliteStore::open(&format!("sqlite://{}", path.display())).await.unwrap();
    assert_eq!(reopened.setting("k").await.unwrap().as_deref(), Some("v"));
    assert_eq!(mode(""), 0o600, "narrowed on open");
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

/// A database at schema 0001 with data (a node of the previous release) migrates to the current schema
/// when a newer node opens it, keeping the data; afterwards the change feed reports committed changes.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn postgres_an_older_schema_migrates_in_place_and_changes_are_notified() {
    use tollgate_store::Change;
    let Some(db) = pg::TestDb::create().await else { return };
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("migrations/postgres");
    let all = sqlx::migrate::Migrator::new(dir.as_path()).await.unwrap();
    assert!(all.iter().count() >= 2);
    // Apply only 0001, as the older release did, and store something.
    let pool = sqlx::PgPool::connect(&db.url).await.unwrap();
    let mut old = sqlx::migrate::Migrator::new(dir.as_path()).await.unwrap();
    old.migrations = std::borrow::Cow::Owned(all.iter().filter(|m| m.version == 1).cloned().collect());
    old.run(&pool).await.unwrap();
    sqlx::query("INSERT INTO settings (key, value) VALUES ('kept', 'yes')").execute(&pool).await.unwrap();
    sqlx::query("INSERT INTO api_tokens (id, name, token_hash, created) VALUES ('t0', 'old', '\\x0102', 1)")
        .execute(&pool)
        .await
        .unwrap();
    pool.close().await;

    // Two newer nodes open it at once: sqlx's migration lock makes one migrate, both come up.
    let (a, b) = tokio::join!(PostgresStore::open(&db.url), PostgresStore::open(&db.url));
    let (a, b) = (a.unwrap(), b.unwrap());
    assert_eq!(a.setting("kept").await.unwrap().as_deref(), Some("yes"));
    // A token made before roles existed could do everything: it keeps that as SUPER_ADMIN.
    let old = a.api_token_by_hash(&[1, 2]).await.unwrap().expect("the old token is kept");
    assert_eq!(old.role, "SUPER_ADMIN");

    let mut feed = b.subscribe_changes().await.unwrap().expect("PostgreSQL has a change feed");
    let server = conformance_server("feed");
    a.insert_auth_server(&server).await.unwrap();
    let change = tokio::time::timeout(std::time::Duration::from_secs(5), feed.recv()).await.unwrap();
    assert_eq!(change, Some(Change::Servers));
    // Role assignments are part of the client cache.
    let app = conformance_app("feed-app");
    a.insert_app(&app, &[], &[]).await.unwrap();
    let change = tokio::time::timeout(std::time::Duration::from_secs(5), feed.recv()).await.unwrap();
    assert_eq!(change, Some(Change::Clients));
    let assignment = tollgate_store::RoleAssignment {
        id: "irb-feed".into(),
        app_id: app.id.clone(),
        role_type: "APP_ADMIN".into(),
        status: "ACTIVE".into(),
        created: 1,
        last_updated: 1,
    };
    a.insert_role(&assignment).await.unwrap();
    let change = tokio::time::timeout(std::time::Duration::from_secs(5), feed.recv()).await.unwrap();
    assert_eq!(change, Some(Change::Clients), "a role change reloads the client cache");
    // So are federated credentials.
    let credential = tollgate_store::FederatedCredential {
        id: "fc-feed".into(),
        app_id: app.id.clone(),
        name: "k8s".into(),
        issuer: "https://cluster.example".into(),
        subject: "system:serviceaccount:*".into(),
        audiences: vec![],
        claims: serde_json::Map::new(),
        jwks_uri: None,
        max_token_age: 3600,
        status: "ACTIVE".into(),
        created: 1,
        last_updated: 1,
    };
    a.insert_federated_credential(&credential, 10).await.unwrap();
    let change = tokio::time::timeout(std::time::Duration::from_secs(5), feed.recv()).await.unwrap();
    assert_eq!(change, Some(Change::Clients), "a federated credential change reloads the client cache");
    // The hot path's write notifies nobody.
    a.use_jti("c", "j", i64::MAX).await.unwrap();
    a.set_setting("x", "y").await.unwrap();
    let quiet = tokio::time::timeout(std::time::Duration::from_millis(300), feed.recv()).await;
    assert!(quiet.is_err(), "no notification for jti or settings: {quiet:?}");
    a.close().await;
    b.close().await;
}

/// Scheduled rotation on two nodes at once: exactly one applies.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn postgres_conditional_rotation_applies_once() {
    let Some(db) = pg::TestDb::create().await else { return };
    let a = PostgresStore::open(&db.url).await.unwrap();
    let b = PostgresStore::open(&db.url).await.unwrap();
    let key = |kid: &str, status: &str| tollgate_store::SigningKey {
        kid: kid.into(),
        server_id: "org".into(),
        status: status.into(),
        private_key: vec![0x30],
        created: 1,
        activated: Some(1),
        retire_at: None,
    };
    assert!(a.rotate_signing_keys_if_active("org", None, &[], &[key("k1", "ACTIVE")], &[]).await.unwrap());
    assert!(
        !b.rotate_signing_keys_if_active("org", None, &[], &[key("k1b", "ACTIVE")], &[]).await.unwrap(),
        "a second node's first-start keys are not added"
    );
    let expire = [key("k1", "EXPIRED")];
    let (new_a, new_b) = ([key("ka", "ACTIVE")], [key("kb", "ACTIVE")]);
    let (ra, rb) = tokio::join!(
        a.rotate_signing_keys_if_active("org", Some("k1"), &expire, &new_a, &[]),
        b.rotate_signing_keys_if_active("org", Some("k1"), &expire, &new_b, &[]),
    );
    assert_eq!([ra.unwrap(), rb.unwrap()].iter().filter(|done| **done).count(), 1, "exactly one rotation");
    let keys = a.signing_keys("org").await.unwrap();
    assert_eq!(keys.iter().filter(|k| k.status == "ACTIVE").count(), 1, "{keys:?}");
    a.close().await;
    b.close().await;
}

/// Two nodes creating a server's first keys at once: the one that finds the rotation lock taken waits for
/// the holder's commit, so when it returns the holder's keys are there to load (it used to give up at once
/// and could read the keys before they were committed: "no active signing key").
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn postgres_conditional_rotation_waits_for_the_node_holding_the_lock() {
    use sqlx::Connection;
    let Some(db) = pg::TestDb::create().await else { return };
    let b = Arc::new(PostgresStore::open(&db.url).await.unwrap());
    // "Node A", half-way through its first-start keys: lock taken (same keys as the store's), row written,
    // not yet committed.
    let mut a = sqlx::PgConnection::connect(&db.url).await.unwrap();
    sqlx::query("BEGIN").execute(&mut a).await.unwrap();
    sqlx::query("SELECT pg_advisory_xact_lock(1953459308, hashtext('org'))").execute(&mut a).await.unwrap();
    sqlx::query(
        "INSERT INTO signing_keys (kid, server_id, status, private_key, created, activated) \
         VALUES ('ka', 'org', 'ACTIVE', '\\x30', 1, 1)",
    )
    .execute(&mut a)
    .await
    .unwrap();
    let key = tollgate_store::SigningKey {
        kid: "kb".into(),
        server_id: "org".into(),
        status: "ACTIVE".into(),
        private_key: vec![0x30],
        created: 2,
        activated: Some(2),
        retire_at: None,
    };
    let node_b = b.clone();
    let mut attempt =
        tokio::spawn(async move { node_b.rotate_signing_keys_if_active("org", None, &[], &[key], &[]).await });
    let early = tokio::time::timeout(std::time::Duration::from_millis(500), &mut attempt).await;
    assert!(early.is_err(), "returned while the other node held the lock: {early:?}");
    sqlx::query("COMMIT").execute(&mut a).await.unwrap();
    let applied = tokio::time::timeout(std::time::Duration::from_secs(10), attempt).await.unwrap().unwrap().unwrap();
    assert!(!applied, "the other node's keys were made first");
    let keys = b.signing_keys("org").await.unwrap();
    let kids: Vec<(&str, &str)> = keys.iter().map(|k| (k.kid.as_str(), k.status.as_str())).collect();
    assert_eq!(kids, [("ka", "ACTIVE")], "on return the holder's key is committed and the loser added none");
    b.close().await;
}

fn conformance_server(id: &str) -> tollgate_store::AuthServer {
    tollgate_store::AuthServer {
        id: id.into(),
        name: id.into(),
        description: String::new(),
        audiences: vec!["api://x".into()],
        access_token_lifetime: 3600,
        status: "ACTIVE".into(),
        rotation_mode: "AUTO".into(),
        created: 1,
        last_updated: 1,
    }
}

fn conformance_app(id: &str) -> tollgate_store::App {
    tollgate_store::App {
        id: id.into(),
        client_id: id.into(),
        name: id.into(),
        status: "ACTIVE".into(),
        application_type: "service".into(),
        auth_method: "private_key_jwt".into(),
        grant_types: vec!["client_credentials".into()],
        jwks_uri: None,
        dpop_bound: false,
        extra: serde_json::Map::new(),
        created: 1,
        last_updated: 1,
        token_generation: 0,
    }
}

/// The System Log lives in its own SQLite file (`<db>.system-log`, owner-only): a writer holding that file's
/// lock does not hold up the token path's `jti` insert, and events an earlier version wrote into the main
/// file are moved over on open.
#[tokio::test]
async fn sqlite_system_log_has_its_own_file_and_lock() {
    use sqlx::Connection;
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("store.db");
    let url = format!("sqlite://{}", path.display());
    let log_file = dir.path().join("store.db.system-log");
    let store = SqliteStore::open(&url).await.unwrap();
    assert!(log_file.exists(), "the System Log's file beside the database");
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        assert_eq!(std::fs::metadata(&log_file).unwrap().permissions().mode() & 0o777, 0o600);
    }

    // Another writer holds the System Log file's write lock: the `jti` insert does not wait for it.
    let log_url = format!("sqlite://{}", log_file.display());
    let mut holder = sqlx::SqliteConnection::connect(&log_url).await.unwrap();
    sqlx::query("BEGIN IMMEDIATE").execute(&mut holder).await.unwrap();
    let started = std::time::Instant::now();
    assert!(store.use_jti("0oa1", "jti-while-log-locked", i64::MAX).await.unwrap());
    assert!(started.elapsed() < std::time::Duration::from_secs(1), "waited {:?}", started.elapsed());
    sqlx::query("ROLLBACK").execute(&mut holder).await.unwrap();
    holder.close().await.unwrap();

    // An event written into the main file's `log_events` (as before the split) is moved on the next open.
    drop(store);
    let mut main = sqlx::SqliteConnection::connect(&url).await.unwrap();
    sqlx::query(
        "INSERT INTO log_events (uuid, published, event_type, severity, outcome_result, actor_id, actor_type, \
         client_ip, transaction_id, target_ids, target_types, search_text, body) \
         VALUES ('old-1', 5, 'app.oauth2.token.grant', 'WARN', 'FAILURE', 'a', 'PublicClientApp', '', '', ' ', ' ', '', '{}')",
    )
    .execute(&mut main)
    .await
    .unwrap();
    main.close().await.unwrap();
    let store = SqliteStore::open(&url).await.unwrap();
    let query = tollgate_store::log::LogQuery {
        since: 0,
        until: None,
        filter: None,
        q: vec![],
        after: None,
        limit: 10,
        descending: false,
    };
    let found = store.log_events(&query).await.unwrap();
    assert_eq!(found.iter().map(|e| e.uuid.as_str()).collect::<Vec<_>>(), ["old-1"]);
    let mut main = sqlx::SqliteConnection::connect(&url).await.unwrap();
    let left: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM log_events").fetch_one(&mut main).await.unwrap();
    assert_eq!(left, 0, "moved, not copied");
    main.close().await.unwrap();
}
