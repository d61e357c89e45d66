//! The System Log's writer: events are pushed into an in-memory buffer (a mutex-guarded `Vec`, no I/O on
//! the request path) and written in batches, one transaction each, by a background task — every
//! `flush_millis`, or sooner when a batch fills. On shutdown the buffer is flushed; a `kill -9` loses at
//! most what was buffered (one period's events). A failed write keeps the batch for the next try; past
//! `max_pending` events new ones are dropped and counted rather than growing without bound.
use super::event::Event;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::sync::Notify;
use tollgate_store::log::LogEventRow;
use tollgate_store::{Store, StoreError};

/// A batch is written as soon as this many events wait.
const BATCH: usize = 512;

/// The handle handlers record events through. Cheap to clone.
#[derive(Clone)]
pub(crate) struct EventLog(Arc<Inner>);

struct Inner {
    store: Arc<dyn Store>,
    enabled: bool,
    max_pending: usize,
    pending: Mutex<Vec<Event>>,
    wake: Notify,
    dropped: AtomicU64,
    written: AtomicU64,
}

impl EventLog {
    pub(crate) fn new(store: Arc<dyn Store>, enabled: bool, max_pending: usize) -> Self {
        EventLog(Arc::new(Inner {
            store,
            enabled,
            max_pending,
            pending: Mutex::new(Vec::new()),
            wake: Notify::new(),
            dropped: AtomicU64::new(0),
            written: AtomicU64::new(0),
        }))
    }

    /// Whether events are kept at all (`system_log = false` turns the System Log off).
    pub(crate) fn enabled(&self) -> bool {
        self.0.enabled
    }

    /// Queues `event`; never waits for the database.
    pub(crate) fn record(&self, event: Event) {
        if !self.0.enabled {
            return;
        }
        let len = {
            let Ok(mut pending) = self.0.pending.lock() else { return };
            if pending.len() >= self.0.max_pending {
                drop(pending);
                if self.0.dropped.fetch_add(1, Ordering::Relaxed).is_multiple_of(1000) {
                    tracing::warn!(max_pending = self.0.max_pending, "System Log buffer full: events dropped");
                }
                return;
            }
            pending.push(event);
            pending.len()
        };
        if len >= BATCH {
            self.0.wake.notify_one();
        }
    }

    /// Events dropped because the buffer was full (for metrics).
    pub(crate) fn dropped(&self) -> u64 {
        self.0.dropped.load(Ordering::Relaxed)
    }

    /// Events written so far (for metrics).
    pub(crate) fn written(&self) -> u64 {
        self.0.written.load(Ordering::Relaxed)
    }

    /// Events waiting to be written.
    pub(crate) fn pending(&self) -> usize {
        self.0.pending.lock().map(|p| p.len()).unwrap_or(0)
    }

    /// Writes everything buffered now, in batches; on a failed write the unwritten events go back to the
    /// front of the buffer and the error is returned.
    pub(crate) async fn flush(&self) -> Result<usize, StoreError> {
        let mut total = 0;
        loop {
            let batch: Vec<Event> = {
                let Ok(mut pending) = self.0.pending.lock() else { return Ok(total) };
                let n = pending.len().min(BATCH * 4);
                pending.drain(..n).collect()
            };
            if batch.is_empty() {
                return Ok(total);
            }
            let rows: Vec<LogEventRow> = batch.iter().map(row).collect();
            if let Err(e) = self.0.store.insert_log_events(&rows).await {
                if let Ok(mut pending) = self.0.pending.lock() {
                    let later = std::mem::take(&mut *pending);
                    *pending = batch;
                    pending.extend(later);
                }
                return Err(e);
            }
            total += rows.len();
            self.0.written.fetch_add(rows.len() as u64, Ordering::Relaxed);
        }
    }

    /// Runs the writer until the process ends: a flush every `period`, or when a batch fills.
    pub(crate) fn spawn(&self, period: Duration) {
        if !self.0.enabled {
            return;
        }
        let log = self.clone();
        tokio::spawn(async move {
            let mut backoff = period;
            loop {
                tokio::select! {
                    _ = tokio::time::sleep(backoff) => {}
                    _ = log.0.wake.notified() => {}
                }
                match log.flush().await {
                    Ok(_) => backoff = period,
                    Err(e) => {
                        tracing::warn!(error = %e, pending = log.pending(), "System Log write failed; retrying");
                        backoff = (backoff * 2).min(Duration::from_secs(10));
                    }
                }
            }
        });
    }
}

/// A column value PostgreSQL's TEXT can hold: events may quote what a caller sent (a claimed client id),
/// and one NUL byte would fail the whole batch forever. (The JSON body escapes it as `\u0000`.)
fn clean(text: &str) -> String {
    text.replace('\0', "\u{FFFD}")
}

/// The stored form: the indexed columns the query language filters on, and the whole JSON.
fn row(event: &Event) -> LogEventRow {
    let mut search = format!(
        "{} {} {} {} {}",
        event.event_type, event.display_message, event.actor.id, event.actor.alternate_id, event.actor.display_name
    );
    for t in &event.targets {
        search.push(' ');
        search.push_str(&t.id);
        search.push(' ');
        search.push_str(&t.display_name);
    }
    if let Some(reason) = &event.reason {
        search.push(' ');
        search.push_str(reason);
    }
    LogEventRow {
        uuid: event.uuid.clone(),
        published: event.published,
        event_type: event.event_type.to_string(),
        severity: event.severity.as_str().to_string(),
        outcome_result: event.result.to_string(),
        actor_id: clean(&event.actor.id),
        actor_type: event.actor.kind.to_string(),
        client_ip: clean(&event.context.ip),
        transaction_id: clean(&event.context.request_id),
        targets: event.targets.iter().map(|t| (clean(&t.id), t.kind.to_string())).collect(),
        search_text: clean(&search.to_lowercase()),
        body: event.to_json().to_string(),
    }
}
