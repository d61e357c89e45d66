//! Rate limits and token quotas (docs/rate-limits.md).
//!
//! * **Per-minute buckets**, Okta's model: every limited route belongs to one `Bucket`; each bucket has
//!   a cluster-wide limit per minute (the org's), and inside it each app or API token may use a share
//!   (Okta's default 50%, per app through the Apps API), while callers not authenticated as either are
//!   limited per client IP address. Windows are 60 s from a bucket's first request, not aligned to the
//!   clock (as Okta's). Every limited answer carries `X-Rate-Limit-Limit`, `-Remaining` and `-Reset`.
//! * **Token quotas** (`quota`): tokens per app per UTC hour and day, `enforce` or `monitor`.
//! * **Several nodes**: each node enforces its share of a limit, the limit divided by the live node count
//!   that `quota::spawn`'s heartbeat learns from the `nodes` table. No database round trip per request.
//!
//! The hot path: `layer` (a middleware on the routed requests) charges the bucket's org-wide counter and
//! the caller's address, each one atomic add (`window`); the point that authenticates the caller (the
//! OAuth client authentication, the management API's `Admin` extractor) charges the app's share through
//! `admit` and hands the address's charge back. Refusals and warnings go to the System Log and metrics.
pub(crate) mod quota;
mod window;

use crate::config::{LimitMode, RateLimitConfig, RateLimitPreset};
use crate::errors::{ApiError, OAuthError};
use crate::state::AppState;
use crate::syslog::{Event, Party, RequestContext};
use axum::extract::{ConnectInfo, MatchedPath, Request, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use dashmap::DashMap;
use std::net::{IpAddr, SocketAddr};
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::{Arc, OnceLock};
use window::{Hit, Window};

pub(crate) const LIMIT: &str = "x-rate-limit-limit";
pub(crate) const REMAINING: &str = "x-rate-limit-remaining";
pub(crate) const RESET: &str = "x-rate-limit-reset";

/// Okta's summary for a 429 (E0000047); also the OAuth body's `error_description`.
pub(crate) const EXCEEDED: &str = "API call exceeded rate limit due to too many requests.";
/// The OAuth `error` code of a 429 at the OAuth endpoints (Okta documents none; see docs/api.md).
pub(crate) const OAUTH_ERROR: &str = "too_many_requests";

/// Client addresses tracked at once; past it, new addresses share one counter until the next prune.
const MAX_ADDRESSES: usize = 100_000;

/// The per-endpoint buckets of Okta's model.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub(crate) enum Bucket {
    /// `/oauth2/v1/token`, `/oauth2/{id}/v1/token`, `/api/v2/oauth/token`.
    Token = 0,
    /// Other `/oauth2` endpoints (introspect, revoke).
    OAuth2,
    /// Dynamic Client Registration, `/oauth2/v1/clients*`.
    Dcr,
    /// `/api/v1/apps*` and `/api/v2/apps*`.
    Apps,
    /// `/api/v1/users*`.
    Users,
    /// `/api/v1/logs`.
    Logs,
    /// Every other `/api/v1` route.
    Api,
}

const BUCKETS: usize = 7;

impl Bucket {
    /// Its name in configuration, metrics and the System Log.
    pub(crate) fn name(self) -> &'static str {
        match self {
            Bucket::Token => "token",
            Bucket::OAuth2 => "oauth2",
            Bucket::Dcr => "dcr",
            Bucket::Apps => "apps",
            Bucket::Users => "users",
            Bucket::Logs => "logs",
            Bucket::Api => "api",
        }
    }

    /// The bucket of a route template; `None` for the unlimited ones (discovery, keys, health).
    pub(crate) fn of_route(template: &str) -> Option<Bucket> {
        if template.ends_with("/keys") || template.contains("/.well-known/") || template.starts_with("/.well-known") {
            return None;
        }
        match template {
            "/oauth2/v1/token" | "/oauth2/{id}/v1/token" | "/api/v2/oauth/token" => Some(Bucket::Token),
            t if t.starts_with("/oauth2/v1/clients") => Some(Bucket::Dcr),
            t if t.starts_with("/oauth2/") => Some(Bucket::OAuth2),
            t if t.starts_with("/api/v1/apps") || t.starts_with("/api/v2/apps") => Some(Bucket::Apps),
            t if t.starts_with("/api/v1/users") => Some(Bucket::Users),
            "/api/v1/logs" => Some(Bucket::Logs),
            t if t.starts_with("/api/") => Some(Bucket::Api),
            _ => None,
        }
    }

    /// Whether its refusals take the OAuth error shape (else Okta's management error object).
    fn is_oauth(self) -> bool {
        matches!(self, Bucket::Token | Bucket::OAuth2)
    }
}

/// Per-minute limits, cluster-wide, by bucket (index: `Bucket as usize`) and per client address.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Limits {
    pub(crate) buckets: [u32; BUCKETS],
    pub(crate) per_ip: u32,
}

impl Limits {
    /// A preset's numbers; `None` for `off`.
    pub(crate) fn preset(preset: RateLimitPreset) -> Option<Limits> {
        match preset {
            // Generous: the token benchmark (~3,500 tokens/s from one app) stays far below an app's 50%.
            RateLimitPreset::Tollgate => {
                Some(Limits { buckets: [1_200_000, 600_000, 6_000, 60_000, 60_000, 6_000, 60_000], per_ip: 6_000 })
            }
            // Okta's published defaults (Enterprise): token 1200, other /oauth2/v1 1200, /oauth2/v1/clients
            // 100, /api/v1/apps* 100, /api/v1/users 600, most other /api/v1 600 (logs included: the
            // reference gives it no number of its own); 60 per client for unauthenticated calls.
            RateLimitPreset::Okta => Some(Limits { buckets: [1_200, 1_200, 100, 100, 600, 600, 600], per_ip: 60 }),
            RateLimitPreset::Off => None,
        }
    }

    /// The preset with the configuration's overrides.
    pub(crate) fn from_config(c: &RateLimitConfig) -> Option<Limits> {
        let mut limits = Limits::preset(c.preset)?;
        let overrides = [c.token, c.oauth2, c.dcr, c.apps, c.users, c.logs, c.api];
        for (slot, value) in limits.buckets.iter_mut().zip(overrides) {
            if let Some(v) = value {
                *slot = v;
            }
        }
        if let Some(v) = c.per_ip {
            limits.per_ip = v;
        }
        Some(limits)
    }
}

/// Whose counter a verdict comes from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Scope {
    /// The bucket's org-wide counter.
    Org,
    /// An app's or API token's share.
    App,
    /// A client address (unauthenticated calls).
    Ip,
}

impl Scope {
    fn name(self) -> &'static str {
        match self {
            Scope::Org => "org",
            Scope::App => "app",
            Scope::Ip => "ip",
        }
    }
}

/// What one counter said about one request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Verdict {
    pub(crate) scope: Scope,
    /// This node's limit for the counter.
    pub(crate) limit: u32,
    pub(crate) remaining: u32,
    /// When the window ends (epoch seconds).
    pub(crate) reset: u64,
    /// Past the limit.
    pub(crate) over: bool,
    /// The first request past the limit in this window (logged once per window).
    first_over: bool,
    /// The request that reached the warning threshold in this window.
    warn: bool,
    window: u32,
}

impl Verdict {
    fn of(scope: Scope, hit: Hit, limit: u32, warn_percent: u8, window: u32) -> Verdict {
        let warn_at = (u64::from(limit) * u64::from(warn_percent)).div_ceil(100).max(1);
        Verdict {
            scope,
            limit,
            remaining: limit.saturating_sub(hit.count),
            reset: u64::from(hit.window) + u64::from(window),
            over: hit.count > limit,
            first_over: hit.count == limit.saturating_add(1),
            warn: warn_percent > 0 && warn_percent < 100 && u64::from(hit.count) == warn_at,
            window: hit.window,
        }
    }

    /// The one of two verdicts that binds sooner (fewer requests remaining); on a tie `other`, the
    /// caller's own counter.
    fn tighter(self, other: Verdict) -> Verdict {
        if other.remaining <= self.remaining || (other.over && !self.over) { other } else { self }
    }

    /// Sets the three headers (replacing any: a response has exactly one of each).
    pub(crate) fn set_headers(&self, headers: &mut HeaderMap) {
        headers.insert(LIMIT, HeaderValue::from(self.limit));
        headers.insert(REMAINING, HeaderValue::from(self.remaining));
        headers.insert(RESET, HeaderValue::from(self.reset));
    }
}

/// The counters of one node.
pub(crate) struct Limiter {
    limits: Option<Limits>,
    mode: LimitMode,
    share_percent: u8,
    warn_percent: u8,
    /// Seconds in a window (60).
    window: u32,
    /// Live nodes, from the heartbeat (at least 1).
    nodes: AtomicU32,
    org: [Window; BUCKETS],
    /// Apps (by client id) and API tokens (by id): their share of each bucket.
    principals: DashMap<String, [Window; BUCKETS]>,
    addresses: DashMap<IpAddr, [Window; BUCKETS]>,
    /// Where new addresses count once `MAX_ADDRESSES` are tracked.
    overflow: [Window; BUCKETS],
    /// Token quotas.
    pub(crate) quotas: quota::Quotas,
}

impl Limiter {
    pub(crate) fn new(config: &RateLimitConfig) -> Limiter {
        Limiter {
            limits: Limits::from_config(config),
            mode: config.mode,
            share_percent: config.app_share_percent.clamp(1, 100),
            warn_percent: config.warn_percent,
            window: config.window_seconds.clamp(1, 3_600),
            nodes: AtomicU32::new(1),
            org: Default::default(),
            principals: DashMap::new(),
            addresses: DashMap::new(),
            overflow: Default::default(),
            quotas: quota::Quotas::new(config),
        }
    }

    /// Whether per-minute limits apply at all.
    pub(crate) fn active(&self) -> bool {
        self.limits.is_some()
    }

    /// Tells the limiter how many nodes share the limits.
    pub(crate) fn set_nodes(&self, n: u64) {
        self.nodes.store(u32::try_from(n).unwrap_or(u32::MAX).max(1), Ordering::Relaxed);
    }

    /// Live nodes as last learnt.
    pub(crate) fn nodes(&self) -> u32 {
        self.nodes.load(Ordering::Relaxed).max(1)
    }

    /// This node's part of a cluster-wide limit (`0` means unlimited).
    fn node_limit(&self, cluster: u64) -> u32 {
        let part = cluster.div_ceil(u64::from(self.nodes())).max(1);
        u32::try_from(part).unwrap_or(u32::MAX)
    }

    fn org_hit(&self, bucket: Bucket, now: u32) -> Option<Verdict> {
        let limit = self.limits?.buckets[bucket as usize];
        if limit == 0 {
            return None;
        }
        let hit = self.org[bucket as usize].hit(now, self.window);
        Some(Verdict::of(Scope::Org, hit, self.node_limit(u64::from(limit)), self.warn_percent, self.window))
    }

    fn ip_hit(&self, bucket: Bucket, ip: IpAddr, now: u32) -> Option<Verdict> {
        let limit = self.limits?.per_ip;
        if limit == 0 {
            return None;
        }
        let i = bucket as usize;
        let hit = match self.addresses.get(&ip) {
            Some(w) => w[i].hit(now, self.window),
            None if self.addresses.len() >= MAX_ADDRESSES => self.overflow[i].hit(now, self.window),
            None => self.addresses.entry(ip).or_default()[i].hit(now, self.window),
        };
        Some(Verdict::of(Scope::Ip, hit, self.node_limit(u64::from(limit)), self.warn_percent, self.window))
    }

    /// Hands back an address's charge (the request turned out authenticated).
    fn ip_undo(&self, bucket: Bucket, ip: IpAddr, window: u32) {
        let i = bucket as usize;
        match self.addresses.get(&ip) {
            Some(w) => w[i].undo(window),
            None => self.overflow[i].undo(window),
        }
    }

    fn principal_hit(&self, bucket: Bucket, id: &str, share: Option<u8>, now: u32) -> Option<Verdict> {
        let limit = self.limits?.buckets[bucket as usize];
        if limit == 0 {
            return None;
        }
        let share = share.unwrap_or(self.share_percent).clamp(1, 100);
        let i = bucket as usize;
        let hit = match self.principals.get(id) {
            Some(w) => w[i].hit(now, self.window),
            None => self.principals.entry(id.to_string()).or_default()[i].hit(now, self.window),
        };
        let cluster = (u64::from(limit) * u64::from(share)).div_ceil(100);
        Some(Verdict::of(Scope::App, hit, self.node_limit(cluster), self.warn_percent, self.window))
    }

    /// Whether a verdict past its limit refuses the request (not in monitor mode).
    fn refuses(&self, v: &Verdict) -> bool {
        v.over && self.mode == LimitMode::Enforce
    }

    /// Forgets counters idle for a whole window (the maintenance task, every minute).
    pub(crate) fn prune(&self, now: u32) {
        let before = now.saturating_sub(self.window);
        self.principals.retain(|_, w| !w.iter().all(|w| w.idle_since(before, self.window)));
        self.addresses.retain(|_, w| !w.iter().all(|w| w.idle_since(before, self.window)));
        self.quotas.prune(now);
    }
}

/// A limited request's slot, where its authenticated caller's verdict is left for `layer`.
#[derive(Clone)]
pub(crate) struct Metered(Arc<Slot>);

struct Slot {
    bucket: Bucket,
    app: OnceLock<Verdict>,
}

/// An authenticated caller, for its share.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Caller<'a> {
    /// A client id or an API token id.
    pub(crate) id: &'a str,
    /// `PublicClientApp` or `ApiToken` (the System Log's actor type).
    pub(crate) kind: &'static str,
    /// The app's own share, when it set one.
    pub(crate) share: Option<u8>,
}

/// Charges an authenticated caller's share of the request's bucket. `Err` with the verdict when it is
/// over its share (and limits are enforced): the caller answers 429 in its endpoint's shape.
pub(crate) fn admit(
    state: &AppState,
    metered: Option<&Metered>,
    caller: Caller<'_>,
    context: Option<&RequestContext>,
) -> Result<(), Verdict> {
    let Some(metered) = metered else { return Ok(()) };
    let limiter = &state.limiter;
    let now = now_u32();
    let Some(v) = limiter.principal_hit(metered.0.bucket, caller.id, caller.share, now) else { return Ok(()) };
    let _ = metered.0.app.set(v);
    note(state, metered.0.bucket, &v, Some(caller), context);
    if limiter.refuses(&v) { Err(v) } else { Ok(()) }
}

/// A 429 at the OAuth endpoints (the middleware adds the headers).
pub(crate) fn oauth_refusal() -> OAuthError {
    OAuthError::new(StatusCode::TOO_MANY_REQUESTS, OAUTH_ERROR, EXCEEDED)
}

/// A 429 on the management API, Okta's E0000047 (the middleware adds the headers).
pub(crate) fn api_refusal() -> ApiError {
    ApiError::new(StatusCode::TOO_MANY_REQUESTS, "E0000047", EXCEEDED)
}

fn refusal(bucket: Bucket, v: &Verdict) -> Response {
    let mut resp = if bucket.is_oauth() { oauth_refusal().into_response() } else { api_refusal().into_response() };
    v.set_headers(resp.headers_mut());
    resp
}

fn now_u32() -> u32 {
    u32::try_from(crate::clock::now_secs()).unwrap_or(u32::MAX)
}

/// Metrics and System Log events for a verdict worth noting: every refusal is counted; the first one past
/// the limit in a window, and the one reaching the warning threshold, are logged.
fn note(state: &AppState, bucket: Bucket, v: &Verdict, caller: Option<Caller<'_>>, context: Option<&RequestContext>) {
    if !(v.over || v.warn) {
        return;
    }
    let monitor = state.limiter.mode == LimitMode::Monitor;
    if v.over {
        let action = if monitor { "monitored" } else { "refused" };
        state
            .metrics
            .rate_limited
            .get_or_create(&crate::metrics::RateLimitLabels {
                bucket: bucket.name().into(),
                scope: v.scope.name().into(),
                action: action.into(),
            })
            .inc();
    } else {
        state
            .metrics
            .rate_limit_warnings
            .get_or_create(&crate::metrics::RateLimitLabels {
                bucket: bucket.name().into(),
                scope: v.scope.name().into(),
                action: "warned".into(),
            })
            .inc();
    }
    if !(v.first_over || v.warn) {
        return;
    }
    let actor = match (caller, v.scope) {
        (Some(c), _) => Party::new(c.id, c.kind, c.id, c.id),
        (None, Scope::Ip) => {
            let ip = context.map(|c| c.ip.as_str()).unwrap_or("");
            Party::new(ip, "IpAddress", ip, ip)
        }
        (None, _) => Party::system(),
    };
    let event = if v.first_over {
        Event::new("system.rate.limit.violation", "Rate limit violation", actor)
            .outcome(if monitor { "ALLOW" } else { "DENY" }, EXCEEDED)
    } else {
        Event::new("system.rate.limit.warning", "Rate limit warning", actor)
    };
    let mut event = event
        .debug("limitType", "rateLimit")
        .debug("bucket", bucket.name())
        .debug("scope", v.scope.name())
        .debug("limit", v.limit)
        .debug("windowEnd", v.reset)
        .debug("mode", if monitor { "monitor" } else { "enforce" })
        .debug("nodes", state.limiter.nodes());
    if v.warn {
        event = event.debug("threshold", state.limiter.warn_percent);
    }
    if let Some(c) = context {
        event = event.context(c);
    }
    tracing::warn!(bucket = bucket.name(), scope = v.scope.name(), limit = v.limit, over = v.over, "rate limit");
    state.log.record(event);
}

/// The middleware on every routed request: see the module doc.
pub(crate) async fn layer(
    State(state): State<AppState>,
    matched: Option<MatchedPath>,
    mut req: Request,
    next: Next,
) -> Response {
    let limiter = &state.limiter;
    let bucket = match matched.as_ref().and_then(|m| Bucket::of_route(m.as_str())) {
        Some(b) if limiter.active() => b,
        _ => return next.run(req).await,
    };
    let now = now_u32();
    let ip = req.extensions().get::<ConnectInfo<SocketAddr>>().map(|c| c.0.ip());
    let org = limiter.org_hit(bucket, now);
    if let Some(v) = &org {
        note(&state, bucket, v, None, req.extensions().get::<RequestContext>());
        if limiter.refuses(v) {
            return refusal(bucket, v);
        }
    }
    let address = ip.and_then(|ip| limiter.ip_hit(bucket, ip, now).map(|v| (ip, v)));
    if let Some((_, v)) = &address {
        note(&state, bucket, v, None, req.extensions().get::<RequestContext>());
        if limiter.refuses(v) {
            return refusal(bucket, &org.map_or(*v, |o| o.tighter(*v)));
        }
    }
    let slot = Metered(Arc::new(Slot { bucket, app: OnceLock::new() }));
    req.extensions_mut().insert(slot.clone());
    let mut resp = next.run(req).await;
    let caller = slot.0.app.get().copied();
    if let (Some(_), Some((ip, v))) = (caller, &address) {
        limiter.ip_undo(bucket, *ip, v.window);
    }
    let own = caller.or(address.map(|(_, v)| v));
    let shown = match (org, own) {
        (Some(o), Some(c)) => Some(o.tighter(c)),
        (o, c) => o.or(c),
    };
    // A refusal that set its own headers (a token quota) keeps them: one X-Rate-Limit-Reset per answer.
    if let Some(v) = shown
        && !resp.headers().contains_key(RESET)
    {
        v.set_headers(resp.headers_mut());
    }
    resp
}

/// The app's own settings of the Apps API extension (`settings.tollgate`), stored in `App::extra` under
/// [`EXTRA_KEY`] in the API's shape and parsed once per cache load.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct AppLimits {
    pub share_percent: Option<u8>,
    pub quota_per_hour: Option<u64>,
    pub quota_per_day: Option<u64>,
    pub quota_mode: Option<LimitMode>,
    pub quota_warn_percent: Option<u8>,
}

/// Where an app's `settings.tollgate` is kept in `App::extra`.
pub const EXTRA_KEY: &str = "tollgate";

impl AppLimits {
    /// From a stored app's `extra` (what the Apps API accepted; anything else is ignored).
    pub fn from_extra(extra: &serde_json::Map<String, serde_json::Value>) -> AppLimits {
        extra.get(EXTRA_KEY).and_then(|v| parse_settings(v).ok()).map(|(limits, _)| limits).unwrap_or_default()
    }
}

/// Validates `settings.tollgate` of an Apps-API body: the settings and their normalized JSON, or the
/// causes of a refusal (Okta's E0000001).
pub(crate) fn parse_settings(value: &serde_json::Value) -> Result<(AppLimits, serde_json::Value), Vec<String>> {
    use serde_json::{Map, Value, json};
    let Some(map) = value.as_object() else {
        return Err(vec!["settings.tollgate: The field must be an object".into()]);
    };
    let mut causes = Vec::new();
    let mut limits = AppLimits::default();
    for key in map.keys() {
        if !matches!(key.as_str(), "rateLimitSharePercent" | "tokenQuota") {
            causes.push(format!("settings.tollgate.{key}: unknown field; expected rateLimitSharePercent, tokenQuota"));
        }
    }
    let percent = |v: &Value, field: &str, min: u64, causes: &mut Vec<String>| -> Option<u8> {
        match v {
            Value::Null => None,
            v => match v.as_u64().filter(|n| (min..=100).contains(n)) {
                Some(n) => u8::try_from(n).ok(),
                None => {
                    causes.push(format!("{field}: must be an integer from {min} to 100"));
                    None
                }
            },
        }
    };
    if let Some(v) = map.get("rateLimitSharePercent") {
        limits.share_percent = percent(v, "settings.tollgate.rateLimitSharePercent", 1, &mut causes);
    }
    let mut quota_out = Map::new();
    match map.get("tokenQuota") {
        None | Some(Value::Null) => {}
        Some(Value::Object(q)) => {
            for key in q.keys() {
                if !matches!(key.as_str(), "perHour" | "perDay" | "mode" | "warnAtPercent") {
                    causes.push(format!(
                        "settings.tollgate.tokenQuota.{key}: unknown field; expected perHour, perDay, mode, warnAtPercent"
                    ));
                }
            }
            for (field, slot) in [("perHour", &mut limits.quota_per_hour), ("perDay", &mut limits.quota_per_day)] {
                match q.get(field) {
                    None | Some(Value::Null) => {}
                    Some(v) => match v.as_u64().filter(|n| *n > 0 && *n <= u64::from(u32::MAX)) {
                        Some(n) => {
                            *slot = Some(n);
                            quota_out.insert(field.into(), json!(n));
                        }
                        None => {
                            causes.push(format!("settings.tollgate.tokenQuota.{field}: must be a positive integer"))
                        }
                    },
                }
            }
            match q.get("mode") {
                None | Some(Value::Null) => {}
                Some(Value::String(s)) => match s.parse::<LimitMode>() {
                    Ok(m) => {
                        limits.quota_mode = Some(m);
                        quota_out
                            .insert("mode".into(), json!(if m == LimitMode::Enforce { "ENFORCE" } else { "MONITOR" }));
                    }
                    Err(_) => causes.push("settings.tollgate.tokenQuota.mode: must be ENFORCE or MONITOR".into()),
                },
                Some(_) => causes.push("settings.tollgate.tokenQuota.mode: must be ENFORCE or MONITOR".into()),
            }
            if let Some(v) = q.get("warnAtPercent") {
                limits.quota_warn_percent = percent(v, "settings.tollgate.tokenQuota.warnAtPercent", 0, &mut causes);
                if let Some(p) = limits.quota_warn_percent {
                    quota_out.insert("warnAtPercent".into(), json!(p));
                }
            }
        }
        Some(_) => causes.push("settings.tollgate.tokenQuota: The field must be an object".into()),
    }
    if !causes.is_empty() {
        return Err(causes);
    }
    let mut out = Map::new();
    if let Some(p) = limits.share_percent {
        out.insert("rateLimitSharePercent".into(), json!(p));
    }
    if !quota_out.is_empty() {
        out.insert("tokenQuota".into(), Value::Object(quota_out));
    }
    Ok((limits, Value::Object(out)))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn routes_fall_in_okta_buckets() {
        for (route, bucket) in [
            ("/oauth2/v1/token", Some(Bucket::Token)),
            ("/oauth2/{id}/v1/token", Some(Bucket::Token)),
            ("/api/v2/oauth/token", Some(Bucket::Token)),
            ("/oauth2/v1/introspect", Some(Bucket::OAuth2)),
            ("/oauth2/{id}/v1/revoke", Some(Bucket::OAuth2)),
            ("/oauth2/v1/clients", Some(Bucket::Dcr)),
            ("/oauth2/v1/clients/{client_id}/roles", Some(Bucket::Dcr)),
            ("/api/v1/apps", Some(Bucket::Apps)),
            ("/api/v1/apps/{id}/grants", Some(Bucket::Apps)),
            ("/api/v2/apps", Some(Bucket::Apps)),
            ("/api/v1/users/{id}", Some(Bucket::Users)),
            ("/api/v1/logs", Some(Bucket::Logs)),
            ("/api/v1/authorizationServers/{id}", Some(Bucket::Api)),
            ("/api/v1/api-tokens", Some(Bucket::Api)),
            ("/oauth2/v1/keys", None),
            ("/oauth2/{id}/v1/keys", None),
            ("/.well-known/openid-configuration", None),
            ("/oauth2/{id}/.well-known/oauth-authorization-server", None),
            ("/.well-known/oauth-authorization-server/oauth2/{id}", None),
            ("/healthz", None),
        ] {
            assert_eq!(Bucket::of_route(route), bucket, "{route}");
        }
    }

    #[test]
    fn limits_are_shared_by_the_live_nodes() {
        let config = RateLimitConfig { token: Some(21), ..Default::default() };
        let limiter = Limiter::new(&config);
        assert_eq!(limiter.org_hit(Bucket::Token, 1000).map(|v| v.limit), Some(21));
        limiter.set_nodes(2);
        assert_eq!(limiter.org_hit(Bucket::Token, 1000).map(|v| v.limit), Some(11));
        // An app's share: 50% of 21 → 11 cluster-wide → 6 on each of two nodes.
        assert_eq!(limiter.principal_hit(Bucket::Token, "app", None, 1000).map(|v| v.limit), Some(6));
        assert_eq!(limiter.principal_hit(Bucket::Token, "app", Some(100), 1000).map(|v| v.limit), Some(11));
        limiter.set_nodes(0);
        assert_eq!(limiter.nodes(), 1);
    }

    #[test]
    fn verdicts_count_down_and_flag_the_first_refusal_and_the_warning() {
        let config = RateLimitConfig { apps: Some(4), warn_percent: 50, ..Default::default() };
        let limiter = Limiter::new(&config);
        let verdicts: Vec<Verdict> = (0..6).filter_map(|_| limiter.org_hit(Bucket::Apps, 5000)).collect();
        let remaining: Vec<u32> = verdicts.iter().map(|v| v.remaining).collect();
        assert_eq!(remaining, [3, 2, 1, 0, 0, 0]);
        let over: Vec<bool> = verdicts.iter().map(|v| v.over).collect();
        assert_eq!(over, [false, false, false, false, true, true]);
        assert_eq!(verdicts.iter().filter(|v| v.first_over).count(), 1);
        assert!(verdicts[1].warn && verdicts.iter().filter(|v| v.warn).count() == 1);
        assert!(verdicts.iter().all(|v| v.reset == 5060));
        // The next window starts afresh.
        assert_eq!(limiter.org_hit(Bucket::Apps, 5060).map(|v| v.remaining), Some(3));
    }

    #[test]
    fn off_limits_nothing_and_zero_unlimits_a_bucket() {
        let off = Limiter::new(&RateLimitConfig { preset: RateLimitPreset::Off, ..Default::default() });
        assert!(!off.active() && off.org_hit(Bucket::Token, 1).is_none());
        let zero = Limiter::new(&RateLimitConfig { token: Some(0), ..Default::default() });
        assert!(zero.org_hit(Bucket::Token, 1).is_none() && zero.org_hit(Bucket::Apps, 1).is_some());
        let okta = Limits::from_config(&RateLimitConfig { preset: RateLimitPreset::Okta, ..Default::default() });
        assert_eq!(okta.map(|l| (l.buckets[0], l.buckets[2], l.per_ip)), Some((1200, 100, 60)));
    }

    #[test]
    fn app_settings_are_validated_and_normalized() {
        let (limits, out) = parse_settings(&json!({
            "rateLimitSharePercent": 25,
            "tokenQuota": { "perHour": 10, "perDay": null, "mode": "monitor", "warnAtPercent": 75 }
        }))
        .unwrap();
        assert_eq!(
            limits,
            AppLimits {
                share_percent: Some(25),
                quota_per_hour: Some(10),
                quota_per_day: None,
                quota_mode: Some(LimitMode::Monitor),
                quota_warn_percent: Some(75),
            }
        );
        assert_eq!(
            out,
            json!({ "rateLimitSharePercent": 25, "tokenQuota": { "perHour": 10, "mode": "MONITOR", "warnAtPercent": 75 } })
        );
        let causes = parse_settings(
            &json!({ "rateLimitSharePercent": 0, "tokenQuota": { "perHour": -1, "mode": "x" }, "other": 1 }),
        )
        .unwrap_err();
        assert_eq!(causes.len(), 4, "{causes:?}");
        assert!(parse_settings(&json!("50")).is_err());
        let mut extra = serde_json::Map::new();
        extra.insert(EXTRA_KEY.into(), json!({ "rateLimitSharePercent": 80 }));
        assert_eq!(AppLimits::from_extra(&extra).share_percent, Some(80));
        assert_eq!(AppLimits::from_extra(&serde_json::Map::new()), AppLimits::default());
    }
}
