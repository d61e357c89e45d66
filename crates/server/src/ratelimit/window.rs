//! One counter over a window of time, in one `AtomicU64`: the window's start (seconds since the epoch, or
//! an hour/day index) in the high 32 bits and the count in the low 32. A hit in the current window is one
//! `fetch_add`; the first hit of a new window one compare-and-swap. No lock, no allocation.
use std::sync::atomic::{AtomicU64, Ordering};

const LOW: u64 = 0xffff_ffff;

/// A counter that starts again at every window.
#[derive(Debug, Default)]
pub(crate) struct Window(AtomicU64);

/// What one hit saw.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Hit {
    /// The window it was counted in (its start or index).
    pub(crate) window: u32,
    /// The count after the hit, this hit included.
    pub(crate) count: u32,
}

fn unpack(v: u64) -> (u32, u32) {
    ((v >> 32) as u32, (v & LOW) as u32)
}

fn pack(window: u32, count: u32) -> u64 {
    (u64::from(window) << 32) | u64::from(count)
}

impl Window {
    /// Counts one hit in `window`; a counter still on an older window starts again at 1. `length` is how
    /// many units a window lasts from its start (60 for a minute of seconds; 1 for hour or day indices):
    /// a window that started at `s` is current while `now < s + length`.
    pub(crate) fn hit(&self, now: u32, length: u32) -> Hit {
        let mut current = self.0.load(Ordering::Relaxed);
        loop {
            let (start, count) = unpack(current);
            if start != 0 && now >= start && now < start.saturating_add(length) && count < u32::MAX {
                let before = self.0.fetch_add(1, Ordering::Relaxed);
                let (window, count) = unpack(before.wrapping_add(1));
                return Hit { window, count };
            }
            match self.0.compare_exchange_weak(current, pack(now, 1), Ordering::Relaxed, Ordering::Relaxed) {
                Ok(_) => return Hit { window: now, count: 1 },
                Err(seen) => current = seen,
            }
        }
    }

    /// Takes back one hit counted in `window` (a refused request that must not count); nothing if the
    /// counter has moved on.
    pub(crate) fn undo(&self, window: u32) {
        let _ = self.0.fetch_update(Ordering::Relaxed, Ordering::Relaxed, |v| {
            let (start, count) = unpack(v);
            (start == window && count > 0).then(|| pack(start, count - 1))
        });
    }

    /// The count in the window current at `now`, without counting (0 when the window is over).
    pub(crate) fn peek(&self, now: u32, length: u32) -> Hit {
        let (start, count) = unpack(self.0.load(Ordering::Relaxed));
        if start != 0 && now >= start && now < start.saturating_add(length) {
            Hit { window: start, count }
        } else {
            Hit { window: now, count: 0 }
        }
    }

    /// Whether the counter has seen nothing since `before` (for pruning idle entries).
    pub(crate) fn idle_since(&self, before: u32, length: u32) -> bool {
        let (start, _) = unpack(self.0.load(Ordering::Relaxed));
        start.saturating_add(length) <= before
    }

    /// Sets the counter to `count` in `window` (used for hour/day indices).
    pub(crate) fn set(&self, window: u32, count: u32) {
        self.0.store(pack(window, count), Ordering::Relaxed);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_within_a_window_and_starts_again_after_it() {
        let w = Window::default();
        assert_eq!(w.hit(1000, 60), Hit { window: 1000, count: 1 });
        assert_eq!(w.hit(1030, 60), Hit { window: 1000, count: 2 });
        assert_eq!(w.hit(1059, 60), Hit { window: 1000, count: 3 });
        assert_eq!(w.peek(1059, 60).count, 3);
        assert_eq!(w.hit(1060, 60), Hit { window: 1060, count: 1 });
        assert_eq!(w.peek(1200, 60).count, 0);
        assert!(w.idle_since(1120, 60));
        assert!(!w.idle_since(1119, 60));
    }

    #[test]
    fn undo_takes_back_only_within_the_same_window() {
        let w = Window::default();
        w.hit(7, 1);
        w.hit(7, 1);
        w.undo(7);
        assert_eq!(w.peek(7, 1).count, 1);
        w.undo(6);
        assert_eq!(w.peek(7, 1).count, 1);
        assert_eq!(w.hit(8, 1), Hit { window: 8, count: 1 });
    }

    #[test]
    fn concurrent_hits_are_all_counted() {
        let w = std::sync::Arc::new(Window::default());
        let threads: Vec<_> = (0..8)
            .map(|_| {
                let w = w.clone();
                std::thread::spawn(move || {
                    for _ in 0..1000 {
                        w.hit(500, 60);
                    }
                })
            })
            .collect();
        for t in threads {
            t.join().unwrap();
        }
        assert_eq!(w.peek(500, 60).count, 8000);
    }
}
