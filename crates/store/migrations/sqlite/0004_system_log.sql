-- The System Log: each event whole (body, Okta's LogEvent JSON) beside the columns its filter language
-- reads. Targets are kept as one text column of space-delimited ids (and one of types), matched with LIKE:
-- no second table, so a batch of events is one multi-row insert, and writing the log costs the token
-- endpoint's single-writer database as little as possible. One index: the time order every query walks.
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
