//! `lastUsed` of app keys and client secrets: when each last authenticated a request, kept OFF the token
//! endpoint's path. Authentication only [`notes`](LastUsed::note) the use in memory: one short lock and a
//! lookup, and nothing at all when the credential was noted less than `interval` ago (60 s by default,
//! `last_used_interval_seconds`). A background task writes what was noted in one transaction, shortly after
//! the first new note, and the store's conditional upsert skips a row another node wrote within the
//! interval, so each credential costs at most one write a minute across the cluster, however busy it is.
use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use tollgate_store::{CredentialUse, Store};

/// How long after the first new note the batch is written (more notes join it meanwhile).
const FLUSH_DELAY: Duration = Duration::from_millis(200);

/// Credential uses noted and not yet written.
pub(crate) struct LastUsed {
    interval_ms: i64,
    /// app id → credential id → when it was last noted (Unix ms). Two levels so a lookup borrows `&str`.
    noted: Mutex<HashMap<String, HashMap<String, i64>>>,
    pending: Mutex<Vec<CredentialUse>>,
    wake: tokio::sync::Notify,
}

impl LastUsed {
    pub(crate) fn new(interval: Duration) -> Self {
        LastUsed {
            interval_ms: i64::try_from(interval.as_millis()).unwrap_or(i64::MAX),
            noted: Mutex::default(),
            pending: Mutex::default(),
            wake: tokio::sync::Notify::new(),
        }
    }

    /// Notes that `credential_id` of `app_id` authenticated a request at `now` (Unix ms). Returns whether
    /// the use will be written (`false`: one was noted within the interval).
    pub(crate) fn note(&self, app_id: &str, credential_id: &str, now: i64) -> bool {
        {
            let mut noted = self.noted.lock().unwrap_or_else(|p| p.into_inner());
            let recent = noted
                .get(app_id)
                .and_then(|creds| creds.get(credential_id))
                .is_some_and(|at| now.saturating_sub(*at) < self.interval_ms);
            if recent {
                return false;
            }
            noted.entry(app_id.to_owned()).or_default().insert(credential_id.to_owned(), now);
        }
        let use_ = CredentialUse { app_id: app_id.to_owned(), credential_id: credential_id.to_owned(), at: now };
        self.pending.lock().unwrap_or_else(|p| p.into_inner()).push(use_);
        self.wake.notify_one();
        true
    }

    /// Writes what was noted; forgets notes older than the interval (a use after them writes anyway).
    pub(crate) async fn flush(&self, store: &dyn Store, now: i64) -> Result<usize, tollgate_store::StoreError> {
        let batch = std::mem::take(&mut *self.pending.lock().unwrap_or_else(|p| p.into_inner()));
        {
            let mut noted = self.noted.lock().unwrap_or_else(|p| p.into_inner());
            noted.retain(|_, creds| {
                creds.retain(|_, at| now.saturating_sub(*at) < self.interval_ms);
                !creds.is_empty()
            });
        }
        store.record_credentials_used(&batch, self.interval_ms).await?;
        Ok(batch.len())
    }

    /// The writer task: waits for a note, lets a batch gather, writes it.
    pub(crate) fn spawn(self: &Arc<Self>, store: Arc<dyn Store>) {
        let this = Arc::clone(self);
        tokio::spawn(async move {
            loop {
                this.wake.notified().await;
                tokio::time::sleep(FLUSH_DELAY).await;
                if let Err(e) = this.flush(store.as_ref(), crate::clock::now_millis()).await {
                    tracing::warn!(error = %e, "recording when credentials were last used failed");
                }
            }
        });
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_credential_is_noted_at_most_once_per_interval() {
        let last = LastUsed::new(Duration::from_secs(60));
        assert!(last.note("app", "k1", 1_000));
        assert!(!last.note("app", "k1", 1_000 + 59_999));
        assert!(last.note("app", "k2", 1_000 + 59_999), "another credential is its own");
        assert!(last.note("app", "k1", 1_000 + 60_000));
        assert_eq!(last.pending.lock().unwrap().len(), 3);
    }
}
