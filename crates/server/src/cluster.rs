//! Several nodes on one database: keeping each node's caches in step with changes made by the others.
//!
//! The token endpoint reads clients, grants, custom servers and signing keys from memory. A change made
//! through this node's management API reloads its own caches at once (the handlers do that); changes
//! made through other nodes arrive as [`Change`]s from the store's change feed (PostgreSQL
//! `LISTEN/NOTIFY`, sent by triggers at commit) and reload the affected cache here within milliseconds.
//! Bursts are coalesced: one reload per cache per short window, however many rows changed. After the
//! feed reconnects it asks for a full reload, since notifications sent meanwhile are lost, and a periodic
//! full reload (`cache_refresh_seconds`) remains the safety net. SQLite has no feed (one node only).
use crate::state::AppState;
use std::time::Duration;
use tollgate_store::{Change, ORG_SERVER_ID};

/// How long to gather notifications before reloading, so a burst costs one reload.
const COALESCE: Duration = Duration::from_millis(25);
/// Pause before subscribing again when the feed cannot be opened.
const RETRY: Duration = Duration::from_secs(2);

/// What to reload, gathered from one burst of changes.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct Reload {
    pub clients: bool,
    pub servers: bool,
    pub keys: bool,
}

impl Reload {
    /// Everything.
    pub const ALL: Reload = Reload { clients: true, servers: true, keys: true };

    /// Adds one change.
    pub fn add(&mut self, change: &Change) {
        match change {
            Change::Clients => self.clients = true,
            Change::Servers => {
                // A new or deleted server also means keys to load or forget.
                self.servers = true;
                self.keys = true;
            }
            Change::SigningKeys => self.keys = true,
            Change::Resync => *self = Reload::ALL,
        }
    }
}

/// Reloads what `what` names from the store; failures are logged (the next change or refresh retries).
pub async fn reload(state: &AppState, what: Reload) {
    let store = state.store.as_ref();
    if what.clients
        && let Err(e) = state.clients.reload_all(store).await
    {
        tracing::warn!(error = %e, "client cache reload failed");
    }
    if what.servers
        && let Err(e) = state.servers.reload_all(store).await
    {
        tracing::warn!(error = %e, "server cache reload failed");
    }
    if what.keys {
        reload_keys(state).await;
    }
}

/// Reloads the signing keys of the org server and every custom server, and forgets deleted servers'.
///
/// Which servers exist is read from the store, not from the server cache: a server being created on this node
/// has its keys (and their notification) before it is in the cache, and must not lose its ring meanwhile.
async fn reload_keys(state: &AppState) {
    let mut wanted: Vec<String> = match state.store.auth_servers().await {
        Ok(servers) => servers.into_iter().map(|s| s.id).collect(),
        Err(e) => {
            tracing::warn!(error = %e, "signing key reload skipped: cannot list authorization servers");
            return;
        }
    };
    wanted.push(ORG_SERVER_ID.to_string());
    for id in state.keys.loaded() {
        if !wanted.contains(&id) {
            state.keys.remove(&id);
        }
    }
    for id in wanted {
        if let Err(e) = state.keys.reload(&id).await {
            // A server created elsewhere may not have its keys committed yet: its own notification follows.
            tracing::debug!(server = %id, error = %e, "signing key reload failed");
        }
    }
}

/// Starts the change listener (when the store has a feed) and the periodic full reload.
pub fn spawn(state: &AppState) {
    let s = state.clone();
    tokio::spawn(async move { listen(s).await });
    let s = state.clone();
    let every = Duration::from_secs(state.config.cache_refresh_seconds.max(1));
    tokio::spawn(async move {
        let mut tick = tokio::time::interval(every);
        tick.tick().await;
        loop {
            tick.tick().await;
            reload(&s, Reload::ALL).await;
        }
    });
}

async fn listen(state: AppState) {
    let mut feed = loop {
        match state.store.subscribe_changes().await {
            Ok(Some(feed)) => break feed,
            Ok(None) => return,
            Err(e) => {
                tracing::warn!(error = %e, "cannot subscribe to database changes yet; retrying");
                tokio::time::sleep(RETRY).await;
            }
        }
    };
    // Whatever changed between loading the caches and subscribing.
    reload(&state, Reload::ALL).await;
    while let Some(first) = feed.recv().await {
        let mut what = Reload::default();
        what.add(&first);
        tokio::time::sleep(COALESCE).await;
        while let Ok(more) = feed.try_recv() {
            what.add(&more);
        }
        tracing::debug!(?what, "reloading after changes on the database");
        reload(&state, what).await;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_burst_becomes_one_reload_of_what_it_touched() {
        let mut r = Reload::default();
        r.add(&Change::Clients);
        r.add(&Change::Clients);
        assert_eq!(r, Reload { clients: true, servers: false, keys: false });
        r.add(&Change::Servers);
        assert_eq!(r, Reload::ALL);
        let mut r = Reload::default();
        r.add(&Change::Resync);
        assert_eq!(r, Reload::ALL);
        assert_eq!(Change::from_table("grants"), Change::Clients);
        assert_eq!(Change::from_table("signing_keys"), Change::SigningKeys);
    }
}
