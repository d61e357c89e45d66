-- Rate limits and token quotas across several nodes (issue 16). `nodes`: each node's heartbeat, written
-- every few seconds off the request path; the number of live nodes divides the per-minute rate limits, so
-- the cluster as a whole holds them without a database round trip per request. `quota_usage`: each node's
-- count of tokens issued per app in each quota window (an hour, a day, starting at the window's UTC start),
-- written with the heartbeat; a node adds the other nodes' counts to its own, so quotas hold cluster-wide
-- and survive restarts. Neither table is cached by the change feed (nodes read them on their own tick).
CREATE TABLE nodes (
    id TEXT PRIMARY KEY,
    started INTEGER NOT NULL,
    last_seen INTEGER NOT NULL
);
CREATE TABLE quota_usage (
    node_id TEXT NOT NULL,
    app_id TEXT NOT NULL,
    period TEXT NOT NULL,
    window_start INTEGER NOT NULL,
    count INTEGER NOT NULL,
    PRIMARY KEY (node_id, app_id, period, window_start)
);
CREATE INDEX quota_usage_window ON quota_usage (window_start);
