-- The System Log, in its own SQLite file beside the main database (`<database>.system-log`): its batched
-- inserts then take this file's write lock, never the main file's, so the token endpoint's `jti` inserts
-- never wait behind them. The same table as the main schema's migration 0004 (which stays, unused, in the
-- main file; rows an earlier version wrote there are moved here at start). PostgreSQL keeps it in the one
-- database (its row locks do not serialize writers).
CREATE TABLE log_events (
    uuid TEXT PRIMARY KEY,
    published INTEGER NOT NULL,
    event_type TEXT NOT NULL,
    severity TEXT NOT NULL,
    outcome_result TEXT NOT NULL,
    actor_id TEXT NOT NULL,
    actor_type TEXT NOT NULL,
    client_ip TEXT NOT NULL,
    transaction_id TEXT NOT NULL,
    target_ids TEXT NOT NULL,
    target_types TEXT NOT NULL,
    search_text TEXT NOT NULL,
    body TEXT NOT NULL
);
CREATE INDEX log_events_published ON log_events (published, uuid);
