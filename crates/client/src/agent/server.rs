//! The agent itself: one app's credentials, a [`TokenSource`] per cache key (org and authorization
//! server, client, scopes, DPoP key), tokens renewed ahead of expiry in the background while callers keep
//! asking for them, and the Unix socket it serves on (private directory, socket 0600, and every peer's
//! uid checked with `SO_PEERCRED`).
// A refusal here is the protocol's own answer to the caller, built once per request and written to the
// socket at once: boxing it would only add an allocation.
#![allow(clippy::result_large_err)]
use std::collections::HashMap;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicI64, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use tokio::io::{AsyncBufReadExt, AsyncReadExt, AsyncWriteExt, BufReader};
use tokio::net::{UnixListener, UnixStream};

use super::protocol::{
    Envelope, ErrorBody, MAX_LINE_BYTES, ProofFor, ProofQuery, Request, Response, TokenQuery, Upstream, VERSION, code,
};
use crate::cache::{CacheKey, CachedToken, RefreshAhead, Served};
use crate::dpop::{DPOP_NONCE_HEADER, NonceScope};
use crate::local::{current_uid, not_private, private_dir, same_user};
use crate::{ClientAuth, ClientError, Clock, DpopKey, RetryPolicy, SystemClock, TokenEndpoint, TokenSource};

/// Most cache keys (token sources) one agent keeps; past it, the least recently used goes.
const MAX_SOURCES: usize = 256;
/// Longest a background renewal waits between attempts after a failure.
const MAX_RETRY_DELAY: Duration = Duration::from_secs(60);

/// What the agent holds and how it behaves.
#[derive(Debug, Clone)]
pub struct AgentConfig {
    /// The default token endpoint.
    pub endpoint: TokenEndpoint,
    /// The org base URL when `endpoint` is one of an Okta org's (then callers may name any authorization
    /// server of that org); `None` for an Access Gateway or a discovered endpoint.
    pub org: Option<String>,
    pub auth: ClientAuth,
    /// Scopes for callers that name none.
    pub scopes: Vec<String>,
    /// The key DPoP-bound tokens are bound to (a new P-256 key when `None`).
    pub dpop: Option<DpopKey>,
    /// When tokens are renewed; the agent's default renews after 75% of the lifetime.
    pub refresh: RefreshAhead,
    pub retry: RetryPolicy,
    pub http: reqwest::Client,
}

#[derive(Debug, Default)]
struct Counters {
    requests: AtomicU64,
    token_requests: AtomicU64,
    cache_hits: AtomicU64,
    failures: AtomicU64,
    refused_peers: AtomicU64,
    background_refreshes: AtomicU64,
}

struct Entry {
    source: Arc<TokenSource>,
    /// When a caller last asked for this key's token (seconds since the epoch).
    last_requested: AtomicI64,
}

/// The token agent.
pub struct Agent {
    config: AgentConfig,
    dpop: DpopKey,
    clock: Arc<dyn Clock>,
    entries: Mutex<HashMap<CacheKey, Arc<Entry>>>,
    counters: Counters,
    started: Instant,
    socket: Mutex<Option<PathBuf>>,
    stop: tokio::sync::Notify,
}

impl std::fmt::Debug for Agent {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Agent").field("client_id", &self.config.auth.client_id()).finish_non_exhaustive()
    }
}

fn refused(code: &str, message: impl Into<String>) -> Response {
    Response::refused(code, message)
}

impl Agent {
    pub fn new(config: AgentConfig) -> Result<Arc<Self>, ClientError> {
        let dpop = match &config.dpop {
            Some(key) => key.clone(),
            None => DpopKey::generate()?,
        };
        Ok(Arc::new(Agent {
            config,
            dpop,
            clock: Arc::new(SystemClock),
            entries: Mutex::default(),
            counters: Counters::default(),
            started: Instant::now(),
            socket: Mutex::default(),
            stop: tokio::sync::Notify::new(),
        }))
    }

    /// The thumbprint of the agent's DPoP key.
    pub fn dpop_thumbprint(&self) -> &str {
        self.dpop.thumbprint()
    }

    /// How many token requests the agent has sent.
    pub fn token_requests(&self) -> u64 {
        self.counters.token_requests.load(Ordering::Relaxed)
    }

    /// The endpoint a caller's `token_url` names, if the agent may use its credentials there.
    fn endpoint_for(&self, token_url: Option<&str>) -> Result<TokenEndpoint, Response> {
        let default = &self.config.endpoint;
        let Some(url) = token_url.map(|u| u.trim_end_matches('/')) else { return Ok(default.clone()) };
        if url == default.token_url() {
            return Ok(default.clone());
        }
        let not_held = || {
            refused(code::NOT_HELD, format!("this agent holds credentials for {}, not for {url}", default.token_url()))
        };
        let org = self.config.org.as_deref().ok_or_else(not_held)?;
        let rest = url.strip_prefix(org).and_then(|r| r.strip_prefix("/oauth2/")).ok_or_else(not_held)?;
        let server = match rest {
            "v1/token" => None,
            other => Some(other.strip_suffix("/v1/token").ok_or_else(not_held)?),
        };
        TokenEndpoint::for_org(org, server).map_err(|_| not_held())
    }

    fn entry(&self, key: CacheKey, endpoint: TokenEndpoint, dpop: Option<DpopKey>) -> Result<Arc<Entry>, Response> {
        let mut entries = self.entries.lock().unwrap_or_else(|p| p.into_inner());
        if let Some(entry) = entries.get(&key) {
            return Ok(entry.clone());
        }
        if entries.len() >= MAX_SOURCES {
            let oldest =
                entries.iter().min_by_key(|(_, e)| e.last_requested.load(Ordering::Relaxed)).map(|(k, _)| k.clone());
            if let Some(oldest) = oldest {
                entries.remove(&oldest);
            }
        }
        let mut builder = TokenSource::builder(endpoint, self.config.auth.clone())
            .http_client(self.config.http.clone())
            .scopes(key.scopes.clone())
            .retry_policy(self.config.retry.clone())
            .refresh_ahead(self.config.refresh)
            .clock(self.clock.clone());
        if let Some(key) = dpop {
            builder = builder.dpop(key);
        }
        let source = builder.build().map_err(|e| refused(code::BAD_REQUEST, e.to_string()))?;
        let entry = Arc::new(Entry { source: Arc::new(source), last_requested: AtomicI64::new(0) });
        entries.insert(key, entry.clone());
        Ok(entry)
    }

    /// Answers one request line.
    pub async fn handle_line(self: &Arc<Self>, line: &[u8]) -> Response {
        self.counters.requests.fetch_add(1, Ordering::Relaxed);
        let envelope: Envelope = match serde_json::from_slice(line) {
            Ok(envelope) => envelope,
            Err(e) => return refused(code::BAD_REQUEST, format!("not an agent request: {e}")),
        };
        if envelope.v != VERSION {
            return refused(code::BAD_REQUEST, format!("protocol version {} is not {VERSION}", envelope.v));
        }
        match envelope.request {
            Request::Token(query) => self.token(query).await,
            Request::Proof(query) => self.proof(query),
            Request::Invalidate { access_token } => {
                for entry in self.entries_now() {
                    entry.source.invalidate(&access_token).await;
                }
                Response::ok()
            }
            Request::Status => Response { status: Some(self.status()), ..Response::ok() },
            Request::Shutdown => {
                self.stop.notify_one();
                Response::ok()
            }
        }
    }

    fn entries_now(&self) -> Vec<Arc<Entry>> {
        self.entries.lock().unwrap_or_else(|p| p.into_inner()).values().cloned().collect()
    }

    async fn token(self: &Arc<Self>, query: TokenQuery) -> Response {
        let auth = &self.config.auth;
        if let Some(client_id) = query.client_id.as_deref().filter(|c| *c != auth.client_id()) {
            return refused(
                code::NOT_HELD,
                format!("this agent holds the credentials of client {}, not {client_id}", auth.client_id()),
            );
        }
        let endpoint = match self.endpoint_for(query.token_url.as_deref()) {
            Ok(endpoint) => endpoint,
            Err(refusal) => return refusal,
        };
        let dpop = query.dpop || query.jkt.is_some();
        if let Some(jkt) = query.jkt.as_deref().filter(|j| *j != self.dpop.thumbprint()) {
            return refused(
                code::NOT_HELD,
                format!(
                    "the agent's DPoP key is {}, not {jkt}; tokens bound to another key cannot come from it",
                    self.dpop.thumbprint()
                ),
            );
        }
        let scopes = if query.scopes.is_empty() {
            self.config.scopes.clone()
        } else {
            crate::source::split_scopes(&query.scopes)
        };
        let jkt = dpop.then(|| self.dpop.thumbprint());
        let key = CacheKey::new(&endpoint, auth.client_id(), &scopes, jkt);
        let entry = match self.entry(key, endpoint, dpop.then(|| self.dpop.clone())) {
            Ok(entry) => entry,
            Err(refusal) => return refusal,
        };
        entry.last_requested.fetch_max(self.clock.now(), Ordering::Relaxed);
        let (token, served) = match entry.source.cached_token().await {
            Ok(got) => got,
            Err(error) => {
                self.counters.failures.fetch_add(1, Ordering::Relaxed);
                self.counters.token_requests.fetch_add(1, Ordering::Relaxed);
                return self.fetch_refused(&error, dpop);
            }
        };
        match served {
            Served::Fetched => {
                self.counters.token_requests.fetch_add(1, Ordering::Relaxed);
                self.renew_ahead(entry.clone(), token.clone());
            }
            Served::Cached => {
                self.counters.cache_hits.fetch_add(1, Ordering::Relaxed);
            }
        }
        let mut response = Response {
            token: Some((*token.response).clone()),
            obtained_at: Some(token.obtained_at),
            expires_at: Some(token.expires_at()),
            cached: Some(served == Served::Cached),
            ..Response::ok()
        };
        if token.response.is_dpop() {
            response.jkt = Some(self.dpop.thumbprint().to_owned());
            if let Some(request) = &query.proof {
                match self.sign(request, &token.response.access_token) {
                    Ok(proof) => response.dpop_proof = Some(proof),
                    Err(refusal) => return refusal,
                }
            }
        }
        response
    }

    fn fetch_refused(&self, error: &ClientError, dpop: bool) -> Response {
        use crate::dpop::DpopRefusal;
        use tollgate_jose::dpop::DpopError;
        if !dpop && matches!(error.dpop_refusal(), Some(DpopRefusal::InvalidProof(DpopError::Missing))) {
            return refused(
                code::DPOP_REQUIRED,
                "the app requires DPoP-bound tokens and this caller asked for a Bearer token: ask with dpop \
                 (`tollgate token --dpop`, `tollgate call --dpop`); the agent binds the token to its key and signs \
                 the proofs for each API request",
            );
        }
        let upstream = match error {
            ClientError::OAuth { status, error, description, .. } => {
                Some(Upstream { status: *status, error: error.clone(), error_description: description.clone() })
            }
            _ => None,
        };
        Response {
            ok: false,
            error: Some(ErrorBody { code: code::TOKEN_REQUEST_FAILED.into(), message: error.to_string(), upstream }),
            ..Default::default()
        }
    }

    /// A proof for an API request with `access_token`, with the nonce the caller passes remembered first.
    fn sign(&self, request: &ProofFor, access_token: &str) -> Result<String, Response> {
        if let Some(nonce) = &request.nonce {
            let mut headers = reqwest::header::HeaderMap::new();
            if let Ok(value) = reqwest::header::HeaderValue::from_str(nonce) {
                headers.insert(DPOP_NONCE_HEADER, value);
                self.dpop.remember_nonce(NonceScope::Resource, &request.htu, &headers);
            }
        }
        self.dpop
            .proof(NonceScope::Resource, &request.htm, &request.htu, self.clock.now(), Some(access_token))
            .map_err(|e| refused(code::BAD_REQUEST, e.to_string()))
    }

    fn proof(&self, query: ProofQuery) -> Response {
        // Proofs only for DPoP-bound tokens this agent holds: the agent is no signing oracle.
        let held = self.entries_now().iter().any(|e| {
            e.source.peek().is_some_and(|t| t.response.is_dpop() && t.response.access_token == query.access_token)
        });
        if !held {
            return refused(
                code::UNKNOWN_TOKEN,
                "this is not a DPoP-bound token the agent holds; ask the agent for the token with dpop first",
            );
        }
        match self.sign(&query.request, &query.access_token) {
            Ok(proof) => Response { dpop_proof: Some(proof), ..Response::ok() },
            Err(refusal) => refusal,
        }
    }

    /// Renews `token` of `entry` once it is due, if a caller asked for it during its life; on failure
    /// retries with back-off while the current token is still usable.
    fn renew_ahead(self: &Arc<Self>, entry: Arc<Entry>, token: CachedToken) {
        let agent = Arc::clone(self);
        tokio::spawn(async move {
            let due = token.refresh_at(agent.config.refresh);
            let wait = u64::try_from(due.saturating_sub(agent.clock.now())).unwrap_or(0);
            tokio::time::sleep(Duration::from_secs(wait)).await;
            if entry.last_requested.load(Ordering::Relaxed) < token.obtained_at {
                return; // nobody asked for it since it was fetched: let it lapse
            }
            let mut delay = agent.config.retry.base_delay.max(Duration::from_millis(100));
            loop {
                let still_current = entry.source.peek().is_some_and(|t| t.obtained_at == token.obtained_at);
                if !still_current {
                    return; // renewed (or dropped) meanwhile by a caller
                }
                agent.counters.background_refreshes.fetch_add(1, Ordering::Relaxed);
                match entry.source.cached_token().await {
                    Ok((renewed, Served::Fetched)) => {
                        agent.counters.token_requests.fetch_add(1, Ordering::Relaxed);
                        agent.renew_ahead(entry.clone(), renewed);
                        return;
                    }
                    Ok(_) => return,
                    Err(error) => {
                        agent.counters.token_requests.fetch_add(1, Ordering::Relaxed);
                        agent.counters.failures.fetch_add(1, Ordering::Relaxed);
                        if !token.is_usable(agent.clock.now()) {
                            tracing::warn!(%error, "renewing a token failed; it expires, callers will fetch again");
                            return;
                        }
                        tracing::info!(%error, delay_ms = delay.as_millis() as u64, "renewing a token failed; retrying");
                        tokio::time::sleep(delay).await;
                        delay = (delay * 2).min(MAX_RETRY_DELAY);
                    }
                }
            }
        });
    }

    /// Health and counters, as `tollgate agent status` shows them.
    pub fn status(&self) -> serde_json::Value {
        let now = self.clock.now();
        let c = &self.counters;
        let mut tokens: Vec<serde_json::Value> = self
            .entries
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .iter()
            .map(|(key, entry)| {
                let held = entry.source.peek();
                serde_json::json!({
                    "server": key.server,
                    "scopes": key.scopes,
                    "dpop_jkt": key.dpop_jkt,
                    "token_type": held.as_ref().map(|t| t.response.token_type.clone()),
                    "expires_in": held.as_ref().map(|t| t.expires_at() - now),
                    "refresh_in": held.as_ref().map(|t| t.refresh_at(self.config.refresh) - now),
                })
            })
            .collect();
        tokens.sort_by_key(|t| t.to_string());
        let refresh = match self.config.refresh {
            RefreshAhead::Share(share) => serde_json::json!({ "share": share }),
            RefreshAhead::Margin(secs) => serde_json::json!({ "margin_secs": secs }),
        };
        serde_json::json!({
            "pid": std::process::id(),
            "version": env!("CARGO_PKG_VERSION"),
            "uptime_secs": self.started.elapsed().as_secs(),
            "socket": self.socket.lock().unwrap_or_else(|p| p.into_inner()).as_ref().map(|p| p.display().to_string()),
            "token_url": self.config.endpoint.token_url(),
            "client_id": self.config.auth.client_id(),
            "auth_method": self.config.auth.method_name(),
            "scopes": self.config.scopes,
            "dpop_jkt": self.dpop.thumbprint(),
            "refresh": refresh,
            "requests": c.requests.load(Ordering::Relaxed),
            "token_requests": c.token_requests.load(Ordering::Relaxed),
            "cache_hits": c.cache_hits.load(Ordering::Relaxed),
            "failures": c.failures.load(Ordering::Relaxed),
            "background_refreshes": c.background_refreshes.load(Ordering::Relaxed),
            "refused_peers": c.refused_peers.load(Ordering::Relaxed),
            "tokens": tokens,
        })
    }

    /// Serves on `listener` until a `shutdown` request (or `stop` resolves); removes the socket file then.
    pub async fn serve(self: &Arc<Self>, listener: UnixListener, stop: impl std::future::Future<Output = ()>) {
        let socket = listener.local_addr().ok().and_then(|a| a.as_pathname().map(Path::to_path_buf));
        *self.socket.lock().unwrap_or_else(|p| p.into_inner()) = socket.clone();
        let uid = current_uid();
        tokio::pin!(stop);
        loop {
            tokio::select! {
                accepted = listener.accept() => match accepted {
                    Ok((stream, _)) => {
                        let agent = Arc::clone(self);
                        tokio::spawn(async move { agent.connection(stream, uid).await });
                    }
                    Err(e) => {
                        tracing::warn!(error = %e, "accepting a connection failed");
                        tokio::time::sleep(Duration::from_millis(50)).await;
                    }
                },
                () = self.stop.notified() => break,
                () = &mut stop => break,
            }
        }
        if let Some(path) = socket {
            let _ = std::fs::remove_file(path);
        }
    }

    async fn connection(self: Arc<Self>, stream: UnixStream, uid: u32) {
        let peer = stream.peer_cred().map(|c| c.uid());
        let (read, mut write) = stream.into_split();
        match peer {
            Ok(peer) if same_user(peer, uid) => {}
            other => {
                self.counters.refused_peers.fetch_add(1, Ordering::Relaxed);
                let who = other.map(|u| format!("uid {u}")).unwrap_or_else(|e| format!("an unknown peer ({e})"));
                tracing::warn!(peer = who, "refused a connection from another user");
                let answer = refused(code::FORBIDDEN, format!("this agent serves uid {uid} only, not {who}"));
                let _ = write_line(&mut write, &answer).await;
                return;
            }
        }
        let mut reader = BufReader::new(read);
        let mut line = Vec::new();
        loop {
            line.clear();
            let read = (&mut reader).take(MAX_LINE_BYTES).read_until(b'\n', &mut line).await;
            match read {
                Ok(0) | Err(_) => return,
                Ok(_) if !line.ends_with(b"\n") && line.len() as u64 >= MAX_LINE_BYTES => {
                    let _ = write_line(&mut write, &refused(code::BAD_REQUEST, "request line too long")).await;
                    return;
                }
                Ok(_) => {}
            }
            if line.iter().all(u8::is_ascii_whitespace) {
                continue;
            }
            let answer = self.handle_line(&line).await;
            if write_line(&mut write, &answer).await.is_err() {
                return;
            }
        }
    }
}

async fn write_line(write: &mut (impl AsyncWriteExt + Unpin), answer: &Response) -> std::io::Result<()> {
    let mut bytes = serde_json::to_vec(answer).map_err(std::io::Error::other)?;
    bytes.push(b'\n');
    write.write_all(&bytes).await?;
    write.flush().await
}

/// Binds the agent's socket at `path`: its directory created private (0700) or checked to be, a stale
/// socket from a dead agent replaced, a live one refused, and the new socket set to 0600.
pub async fn bind(path: &Path) -> Result<UnixListener, ClientError> {
    let fail = |what: String| ClientError::Config(format!("agent socket {}: {what}", path.display()));
    let dir = path.parent().filter(|d| !d.as_os_str().is_empty()).unwrap_or(Path::new("."));
    private_dir(dir)?;
    if std::fs::symlink_metadata(path).is_ok() {
        if UnixStream::connect(path).await.is_ok() {
            return Err(fail("an agent is already listening there (`tollgate agent status`)".into()));
        }
        std::fs::remove_file(path).map_err(|e| fail(format!("removing the stale socket: {e}")))?;
    }
    let listener = UnixListener::bind(path).map_err(|e| fail(e.to_string()))?;
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o600)).map_err(|e| fail(e.to_string()))?;
    let meta = std::fs::symlink_metadata(path).map_err(|e| fail(e.to_string()))?;
    if let Some(why) = not_private(&meta, current_uid()) {
        return Err(fail(why));
    }
    Ok(listener)
}
