-- The System Log: each event whole (body, Okta's LogEvent JSON) beside the columns its filter language
-- reads, and one row per target. Pruned by age (retention).
CREATE TABLE log_events (
    uuid TEXT PRIMARY KEY,
    published BIGINT NOT NULL,
    event_type TEXT NOT NULL,
    severity TEXT NOT NULL,
    outcome_result TEXT NOT NULL,
    actor_id TEXT NOT NULL,
    actor_type TEXT NOT NULL,
    client_ip TEXT NOT NULL,
    transaction_id TEXT NOT NULL,
    search_text TEXT NOT NULL,
    body TEXT NOT NULL
);
CREATE INDEX log_events_published ON log_events (published, uuid);
CREATE INDEX log_events_type ON log_events (event_type, published);
CREATE TABLE log_event_targets (
    event_uuid TEXT NOT NULL REFERENCES log_events (uuid) ON DELETE CASCADE,
    target_id TEXT NOT NULL,
    target_type TEXT NOT NULL
);
CREATE INDEX log_event_targets_id ON log_event_targets (target_id);
CREATE INDEX log_event_targets_event ON log_event_targets (event_uuid);
