//! The DPoP proof `jti` replay cache: in memory, per process, bounded. An entry lives as long as its
//! proof could still be accepted (its `iat` plus the proof max age plus leeway), after which the `iat`
//! check refuses the proof anyway. When the cache is full the oldest entry is dropped (logged): a replay
//! of that one proof would then pass, which beats refusing every new client. Several replicas of a
//! resource server do not share this cache; put the check in a shared store if that matters.
use std::collections::{HashSet, VecDeque};
use std::sync::Mutex;

/// Default number of remembered proofs.
pub const DEFAULT_CAPACITY: usize = 100_000;

#[derive(Debug)]
pub struct ReplayCache {
    capacity: usize,
    inner: Mutex<Inner>,
}

#[derive(Debug, Default)]
struct Inner {
    seen: HashSet<String>,
    /// (expiry, key), in insertion order.
    order: VecDeque<(i64, String)>,
}

impl ReplayCache {
    pub fn new(capacity: usize) -> Self {
        ReplayCache { capacity: capacity.max(1), inner: Mutex::new(Inner::default()) }
    }

    /// Records `key` until `expires_at`; `false` if it was already there (a replay).
    pub fn insert(&self, key: String, expires_at: i64, now: i64) -> bool {
        let mut inner = self.inner.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
        let Inner { seen, order } = &mut *inner;
        // Expired entries go first; entries arrive roughly in expiry order, so popping from the front
        // while expired is enough most of the time, and the capacity bounds the rest.
        while order.front().is_some_and(|(expiry, _)| *expiry < now) {
            if let Some((_, old)) = order.pop_front() {
                seen.remove(&old);
            }
        }
        if seen.contains(&key) {
            return false;
        }
        while order.len() >= self.capacity {
            if let Some((_, old)) = order.pop_front() {
                tracing::warn!("the DPoP replay cache is full; forgetting the oldest proof");
                seen.remove(&old);
            }
        }
        seen.insert(key.clone());
        order.push_back((expires_at, key));
        true
    }

    pub fn len(&self) -> usize {
        self.inner.lock().map(|inner| inner.order.len()).unwrap_or(0)
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_second_use_is_a_replay_until_expiry() {
        let cache = ReplayCache::new(10);
        assert!(cache.insert("a".into(), 100, 0));
        assert!(!cache.insert("a".into(), 100, 50));
        assert!(cache.insert("a".into(), 300, 101), "expired entries are forgotten");
    }

    #[test]
    fn the_size_is_bounded() {
        let cache = ReplayCache::new(3);
        for i in 0..10 {
            assert!(cache.insert(format!("k{i}"), 1000, 0));
        }
        assert_eq!(cache.len(), 3);
        assert!(!cache.insert("k9".into(), 1000, 0));
    }
}
