//! Token quotas (beyond Okta): how many tokens one app may get per UTC hour and per UTC day, in `enforce`
//! mode (a 429 once used up) or `monitor` mode (counted, logged, never refused), with a warning at a
//! threshold. Defaults come from `[rate_limits]`; an app sets its own through the Apps API.
//!
//! Across nodes: each node counts the tokens it issues in memory (one atomic add on the token path) and,
//! every `node_heartbeat_seconds`, writes its counts of the current windows to `quota_usage` (one row per
//! node, app and window) and reads the sum of the other nodes' rows. A node enforces its own count plus
//! the others' last known sum, so the cluster can overshoot a quota by what the other nodes issued within
//! one heartbeat. Node ids are fresh at each start, so a restarted node's earlier counts stay in the table
//! as "another node's" and still count: a restart does not reset a day's quota. The same task is the
//! heartbeat (`nodes`) whose live count divides the per-minute limits.
use super::window::Window;
use crate::cache::CachedClient;
use crate::config::{LimitMode, RateLimitConfig};
use crate::errors::OAuthError;
use crate::state::AppState;
use crate::syslog::{Event, Party, RequestContext};
use axum::http::{HeaderValue, StatusCode, header};
use dashmap::DashMap;
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::Duration;
use tollgate_store::QuotaUsage;

/// A quota's window.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Period {
    Hour = 0,
    Day = 1,
}

impl Period {
    const ALL: [Period; 2] = [Period::Hour, Period::Day];

    fn seconds(self) -> u64 {
        match self {
            Period::Hour => 3_600,
            Period::Day => 86_400,
        }
    }

    pub(crate) fn name(self) -> &'static str {
        match self {
            Period::Hour => "hour",
            Period::Day => "day",
        }
    }

    fn parse(s: &str) -> Option<Period> {
        match s {
            "hour" => Some(Period::Hour),
            "day" => Some(Period::Day),
            _ => None,
        }
    }

    /// The window index of an instant (epoch seconds).
    fn index(self, now: u64) -> u32 {
        u32::try_from(now / self.seconds()).unwrap_or(u32::MAX)
    }
}

#[derive(Debug, Default)]
struct Counts {
    /// Tokens this node issued in the window.
    local: Window,
    /// The other nodes' sum, as last read.
    others: Window,
    /// The window last warned about / last logged a violation in.
    warned: AtomicU32,
    violated: AtomicU32,
}

#[derive(Debug, Default)]
struct Entry {
    periods: [Counts; 2],
}

/// The quota counters of one node.
pub(crate) struct Quotas {
    node_id: String,
    per_hour: Option<u64>,
    per_day: Option<u64>,
    mode: LimitMode,
    warn_percent: u8,
    /// By app id.
    entries: DashMap<String, Entry>,
}

/// An app's quotas as they apply now.
#[derive(Debug, Clone, Copy)]
struct Applied {
    quotas: [Option<u64>; 2],
    mode: LimitMode,
    warn_percent: u8,
}

impl Quotas {
    pub(crate) fn new(config: &RateLimitConfig) -> Quotas {
        Quotas {
            node_id: uuid::Uuid::new_v4().to_string(),
            per_hour: config.token_quota_per_hour,
            per_day: config.token_quota_per_day,
            mode: config.token_quota_mode,
            warn_percent: config.token_quota_warn_percent,
            entries: DashMap::new(),
        }
    }

    /// This node's id in `nodes` and `quota_usage`.
    pub(crate) fn node_id(&self) -> &str {
        &self.node_id
    }

    fn applied(&self, client: &CachedClient) -> Applied {
        let own = &client.limits;
        Applied {
            quotas: [own.quota_per_hour.or(self.per_hour), own.quota_per_day.or(self.per_day)],
            mode: own.quota_mode.unwrap_or(self.mode),
            warn_percent: own.quota_warn_percent.unwrap_or(self.warn_percent),
        }
    }

    /// This node's counts of the current windows, for `quota_usage`.
    fn snapshot(&self, now: u64) -> Vec<QuotaUsage> {
        let mut rows = Vec::new();
        for entry in self.entries.iter() {
            for p in Period::ALL {
                let index = p.index(now);
                let hit = entry.periods[p as usize].local.peek(index, 1);
                if hit.count > 0 {
                    rows.push(QuotaUsage {
                        node_id: self.node_id.clone(),
                        app_id: entry.key().clone(),
                        period: p.name().into(),
                        window_start: i64::from(index) * i64::try_from(p.seconds() * 1000).unwrap_or(i64::MAX),
                        count: i64::from(hit.count),
                    });
                }
            }
        }
        rows
    }

    /// Takes in the other nodes' sums.
    fn apply_others(&self, rows: Vec<QuotaUsage>, now: u64) {
        for row in rows {
            let Some(p) = Period::parse(&row.period) else { continue };
            let index = u32::try_from(row.window_start / 1000 / i64::try_from(p.seconds()).unwrap_or(1)).unwrap_or(0);
            if index != p.index(now) {
                continue;
            }
            let count = u32::try_from(row.count).unwrap_or(u32::MAX);
            match self.entries.get(&row.app_id) {
                Some(e) => e.periods[p as usize].others.set(index, count),
                None => self.entries.entry(row.app_id).or_default().periods[p as usize].others.set(index, count),
            }
        }
    }

    /// Forgets apps with nothing counted in the current windows.
    pub(crate) fn prune(&self, now: u32) {
        let now = u64::from(now);
        self.entries.retain(|_, e| {
            Period::ALL.iter().any(|p| {
                let c = &e.periods[*p as usize];
                c.local.peek(p.index(now), 1).count > 0 || c.others.peek(p.index(now), 1).count > 0
            })
        });
    }
}

/// Before a token is issued (and before the assertion's `jti` is spent, so that a client may repeat the
/// request once the window turns): refuses with a 429 when `client` has used up a quota in enforce mode,
/// with `X-Rate-Limit-*` describing the quota and `Retry-After`.
pub(crate) fn check(
    state: &AppState,
    client: &CachedClient,
    context: Option<&RequestContext>,
) -> Result<(), OAuthError> {
    let quotas = &state.limiter.quotas;
    let applied = quotas.applied(client);
    if applied.mode != LimitMode::Enforce || applied.quotas.iter().all(Option::is_none) {
        return Ok(());
    }
    let Some(entry) = quotas.entries.get(client.app.id.as_str()) else { return Ok(()) };
    let now = u64::try_from(crate::clock::now_secs()).unwrap_or(0);
    for p in Period::ALL {
        let Some(quota) = applied.quotas[p as usize] else { continue };
        let index = p.index(now);
        let counts = &entry.periods[p as usize];
        let total = u64::from(counts.local.peek(index, 1).count) + u64::from(counts.others.peek(index, 1).count);
        if total >= quota {
            let first = counts.violated.swap(index, Ordering::Relaxed) != index;
            drop(entry);
            note(state, client, p, quota, None, first, true, context);
            return Err(refusal(p, index, quota));
        }
    }
    Ok(())
}

/// A note to make: period, quota, warning threshold (none for an excess), whether to log it.
type Note = (Period, u64, Option<u8>, bool);

/// After a token was issued to `client`: counts it against its quotas; warns at the threshold and, in
/// monitor mode, notes the excess.
pub(crate) fn record(state: &AppState, client: &CachedClient, context: Option<&RequestContext>) {
    let quotas = &state.limiter.quotas;
    let applied = quotas.applied(client);
    if applied.quotas.iter().all(Option::is_none) {
        return;
    }
    let now = u64::try_from(crate::clock::now_secs()).unwrap_or(0);
    let app_id = client.app.id.as_str();
    if quotas.entries.get(app_id).is_none() {
        quotas.entries.entry(app_id.to_string()).or_default();
    }
    let Some(entry) = quotas.entries.get(app_id) else { return };
    let mut notes: [Option<Note>; 2] = [None, None];
    for p in Period::ALL {
        let Some(quota) = applied.quotas[p as usize] else { continue };
        let index = p.index(now);
        let counts = &entry.periods[p as usize];
        let total = u64::from(counts.local.hit(index, 1).count) + u64::from(counts.others.peek(index, 1).count);
        let warn_at = (quota * u64::from(applied.warn_percent)).div_ceil(100).max(1);
        if total > quota && applied.mode == LimitMode::Monitor {
            let first = counts.violated.swap(index, Ordering::Relaxed) != index;
            notes[p as usize] = Some((p, quota, None, first));
        } else if applied.warn_percent > 0
            && applied.warn_percent < 100
            && total >= warn_at
            && counts.warned.swap(index, Ordering::Relaxed) != index
        {
            notes[p as usize] = Some((p, quota, Some(applied.warn_percent), true));
        }
    }
    drop(entry);
    for (p, quota, warn, log) in notes.into_iter().flatten() {
        note(state, client, p, quota, warn, log, applied.mode == LimitMode::Enforce, context);
    }
}

/// The 429 of a used-up quota: headers for the quota's window.
fn refusal(p: Period, index: u32, quota: u64) -> OAuthError {
    let reset = (u64::from(index) + 1) * p.seconds();
    let wait = reset.saturating_sub(u64::try_from(crate::clock::now_secs()).unwrap_or(0)).max(1);
    let mut e = OAuthError::new(
        StatusCode::TOO_MANY_REQUESTS,
        super::OAUTH_ERROR,
        format!("The client has used its token quota for this {}.", p.name()),
    );
    e.headers.push((header::HeaderName::from_static(super::LIMIT), HeaderValue::from(quota)));
    e.headers.push((header::HeaderName::from_static(super::REMAINING), HeaderValue::from(0u32)));
    e.headers.push((header::HeaderName::from_static(super::RESET), HeaderValue::from(reset)));
    e.headers.push((header::RETRY_AFTER, HeaderValue::from(wait)));
    e
}

/// Metrics for every quota refusal and warning; a System Log event for the first of each per window.
#[allow(clippy::too_many_arguments)]
fn note(
    state: &AppState,
    client: &CachedClient,
    p: Period,
    quota: u64,
    warn: Option<u8>,
    log: bool,
    enforce: bool,
    context: Option<&RequestContext>,
) {
    let labels = crate::metrics::QuotaLabels {
        period: p.name().into(),
        action: match (warn, enforce) {
            (Some(_), _) => "warned",
            (None, true) => "refused",
            (None, false) => "monitored",
        }
        .into(),
    };
    state.metrics.token_quota.get_or_create(&labels).inc();
    if !log {
        return;
    }
    let app = &client.app;
    let actor = Party::new(&app.client_id, "PublicClientApp", &app.client_id, &app.name);
    let event = match warn {
        None => Event::new("system.rate.limit.violation", "Token quota exceeded", actor)
            .outcome(if enforce { "DENY" } else { "ALLOW" }, format!("Token quota per {} used up", p.name())),
        Some(threshold) => {
            Event::new("system.rate.limit.warning", "Token quota warning", actor).debug("threshold", threshold)
        }
    };
    let mut event = event
        .target(Party::new(&app.id, "AppInstance", &app.client_id, &app.name))
        .debug("limitType", "tokenQuota")
        .debug("period", p.name())
        .debug("limit", quota)
        .debug("mode", if enforce { "enforce" } else { "monitor" });
    if let Some(c) = context {
        event = event.context(c);
    }
    tracing::warn!(client_id = %app.client_id, period = p.name(), quota, warning = warn.is_some(), "token quota");
    state.log.record(event);
}

/// One heartbeat: this node is alive (and learns how many are), its quota counts written, the others'
/// read. Failures are logged; the node keeps its last known numbers.
pub(crate) async fn sync_once(state: &AppState) {
    let limiter = &state.limiter;
    let quotas = &limiter.quotas;
    let period = state.config.rate_limits.node_heartbeat_seconds.max(1);
    let now_ms = crate::clock::now_millis();
    let now = u64::try_from(now_ms / 1000).unwrap_or(0);
    let live_since = now_ms - i64::try_from(period * 3 * 1000).unwrap_or(i64::MAX);
    match state.store.node_heartbeat(quotas.node_id(), now_ms, live_since).await {
        Ok(n) => {
            limiter.set_nodes(n);
            state.metrics.cluster_nodes.set(i64::from(limiter.nodes()));
        }
        Err(e) => tracing::warn!(error = %e, "node heartbeat failed"),
    }
    if let Err(e) = state.store.save_quota_usage(&quotas.snapshot(now)).await {
        tracing::warn!(error = %e, "saving token quota counts failed");
    }
    let day_start = i64::from(Period::Day.index(now)) * 86_400_000;
    match state.store.quota_usage(quotas.node_id(), day_start).await {
        Ok(rows) => quotas.apply_others(rows, now),
        Err(e) => tracing::warn!(error = %e, "reading token quota counts failed"),
    }
}

/// At shutdown, after a last [`sync_once`]: this node's heartbeat row is marked as long gone, so the other
/// nodes stop counting it at their next heartbeat instead of three periods later.
pub(crate) async fn leave(state: &AppState) {
    // "Seen at time 0": never live again; forgotten by the next heartbeat's clean-up.
    if let Err(e) = state.store.node_heartbeat(state.limiter.quotas.node_id(), 0, i64::MAX).await {
        tracing::warn!(error = %e, "leaving the node list failed");
    }
}

/// The heartbeat task (see the module doc); also prunes idle counters every minute and stored counts of
/// windows over for two days.
pub(crate) fn spawn(state: &AppState) {
    let s = state.clone();
    tokio::spawn(async move {
        let period = Duration::from_secs(s.config.rate_limits.node_heartbeat_seconds.max(1));
        let mut tick = tokio::time::interval(period);
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        let mut last_prune = std::time::Instant::now();
        loop {
            tick.tick().await;
            sync_once(&s).await;
            if last_prune.elapsed() >= Duration::from_secs(60) {
                last_prune = std::time::Instant::now();
                let now = u32::try_from(crate::clock::now_secs()).unwrap_or(u32::MAX);
                s.limiter.prune(now);
                if let Err(e) = s.store.prune_quota_usage(crate::clock::now_millis() - 2 * 86_400_000).await {
                    tracing::warn!(error = %e, "pruning token quota counts failed");
                }
            }
        }
    });
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn snapshots_carry_current_windows_and_others_add_up() {
        let q = Quotas::new(&RateLimitConfig::default());
        let now = 10 * 86_400 + 5 * 3_600 + 7;
        let e = q.entries.entry("app1".into()).or_default();
        e.periods[0].local.hit(Period::Hour.index(now), 1);
        e.periods[0].local.hit(Period::Hour.index(now), 1);
        e.periods[1].local.hit(Period::Day.index(now), 1);
        drop(e);
        let mut rows = q.snapshot(now);
        rows.sort_by(|a, b| a.period.cmp(&b.period));
        assert_eq!(rows.len(), 2);
        assert_eq!((rows[0].period.as_str(), rows[0].window_start, rows[0].count), ("day", 10 * 86_400_000, 1));
        assert_eq!(
            (rows[1].period.as_str(), rows[1].window_start, rows[1].count),
            ("hour", (10 * 24 + 5) * 3_600_000, 2)
        );
        q.apply_others(
            vec![
                QuotaUsage {
                    node_id: String::new(),
                    app_id: "app2".into(),
                    period: "hour".into(),
                    window_start: (10 * 24 + 5) * 3_600_000,
                    count: 9,
                },
                // An earlier hour: ignored.
                QuotaUsage {
                    node_id: String::new(),
                    app_id: "app2".into(),
                    period: "hour".into(),
                    window_start: (10 * 24 + 4) * 3_600_000,
                    count: 50,
                },
            ],
            now,
        );
        let e = q.entries.get("app2").unwrap();
        assert_eq!(e.periods[0].others.peek(Period::Hour.index(now), 1).count, 9);
        drop(e);
        // The next hour: app2's others are history, app1 still has its day.
        q.prune(u32::try_from(now + 3_600).unwrap());
        assert!(q.entries.get("app1").is_some());
        assert!(q.entries.get("app2").is_none());
    }
}
