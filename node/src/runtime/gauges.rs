//! What the runtime reports about consensus and its mempool to the status
//! call: written every `REGOSSIP_CHECK` (500 ms) by the runtime, read by
//! `GetStatus`. Relaxed atomics: each value is a reading, not a snapshot
//! consistent with the others.

use std::sync::atomic::{AtomicBool, AtomicU32, AtomicU64, Ordering};

/// The runtime's latest readings.
#[derive(Debug, Default)]
pub struct Gauges {
    view: AtomicU64,
    primary: AtomicU32,
    waiting: AtomicU64,
    oldest_waiting_ms: AtomicU64,
    suspecting: AtomicBool,
}

/// One reading of [`Gauges`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Reading {
    /// The consensus view this validator runs (or is changing to).
    pub view: u64,
    /// Index of that view's primary in the current validator set.
    pub primary: u32,
    /// Records in the mempool: waiting for a block, or in a proposal not
    /// yet committed.
    pub waiting: u64,
    /// How long the longest-waiting queued record has waited, ms.
    pub oldest_waiting_ms: u64,
    /// Whether this validator suspects the primary of its view (a record
    /// waited past `consensus.request_timeout`).
    pub suspecting: bool,
}

impl Gauges {
    /// Stores a reading.
    pub fn set(&self, r: Reading) {
        self.view.store(r.view, Ordering::Relaxed);
        self.primary.store(r.primary, Ordering::Relaxed);
        self.waiting.store(r.waiting, Ordering::Relaxed);
        self.oldest_waiting_ms
            .store(r.oldest_waiting_ms, Ordering::Relaxed);
        self.suspecting.store(r.suspecting, Ordering::Relaxed);
    }

    /// The latest reading.
    pub fn get(&self) -> Reading {
        Reading {
            view: self.view.load(Ordering::Relaxed),
            primary: self.primary.load(Ordering::Relaxed),
            waiting: self.waiting.load(Ordering::Relaxed),
            oldest_waiting_ms: self.oldest_waiting_ms.load(Ordering::Relaxed),
            suspecting: self.suspecting.load(Ordering::Relaxed),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_reading_comes_back_as_stored() {
        let g = Gauges::default();
        assert_eq!(g.get(), Reading::default());
        let r = Reading {
            view: 7,
            primary: 3,
            waiting: 12,
            oldest_waiting_ms: 1_500,
            suspecting: true,
        };
        g.set(r);
        assert_eq!(g.get(), r);
    }
}
