//! How many records client submissions may leave waiting: about
//! `mempool.max_backlog` of what the network has shown it can commit.
//!
//! Past its ceiling the network commits no faster however many records
//! wait, so every record admitted beyond a backlog only waits longer,
//! and costs its signature check now. Once the mempool (queued and held)
//! holds the bound, a submission is refused whole, before it is decoded
//! or verified, with RESOURCE_EXHAUSTED. The bound follows the highest
//! commit rate this node has measured over one-second spans; it is
//! never below two full blocks (the bound before any load was seen) and
//! never above `mempool.max_records`. Records gossiped by peers are not
//! held to it: another validator's bound admitted them, and every
//! primary must have them.

use std::time::Duration;

use crate::mempool::AdmitError;

/// The commit-rate bound on client submissions.
#[derive(Debug, Clone)]
pub(crate) struct Backlog {
    window_ms: u64,
    floor: usize,
    cap: usize,
    /// Start of the span being counted (ms), and the records committed
    /// in it so far.
    span_start: Option<u64>,
    span_records: usize,
    /// Highest records per second of a finished span.
    peak_per_s: u64,
}

impl Backlog {
    /// `window` of the peak commit rate, at least `floor` and at most
    /// `cap` records.
    pub(crate) fn new(window: Duration, floor: usize, cap: usize) -> Self {
        Backlog {
            window_ms: window.as_millis().min(u128::from(u64::MAX)) as u64,
            floor: floor.min(cap),
            cap,
            span_start: None,
            span_records: 0,
            peak_per_s: 0,
        }
    }

    /// `records` were committed at `now_ms`.
    pub(crate) fn committed(&mut self, records: usize, now_ms: u64) {
        let Some(start) = self.span_start else {
            // The first commit seen opens the first span; its own
            // records arrived before it, over an unknown time.
            self.span_start = Some(now_ms);
            return;
        };
        let elapsed = now_ms.saturating_sub(start);
        if elapsed >= 1000 {
            let rate = self.span_records as u64 * 1000 / elapsed;
            self.peak_per_s = self.peak_per_s.max(rate);
            self.span_start = Some(now_ms);
            self.span_records = 0;
        }
        self.span_records += records;
    }

    /// Why a client submission is refused while `waiting` records
    /// (`bytes` of them) are queued and held, if it is: past the bound the
    /// node is busy, or full when the bound is the mempool's own.
    pub(crate) fn refusal(&self, waiting: usize, bytes: usize) -> Option<AdmitError> {
        let limit = self.limit();
        if waiting < limit {
            None
        } else if limit >= self.cap {
            Some(AdmitError::Full {
                records: waiting,
                bytes,
            })
        } else {
            Some(AdmitError::Busy { waiting, limit })
        }
    }

    /// Records client submissions may leave waiting.
    pub(crate) fn limit(&self) -> usize {
        let by_rate = u128::from(self.peak_per_s) * u128::from(self.window_ms) / 1000;
        (by_rate.min(self.cap as u128) as usize).clamp(self.floor, self.cap)
    }

    /// The highest commit rate measured, records per second.
    #[cfg(test)]
    pub(crate) fn peak_per_s(&self) -> u64 {
        self.peak_per_s
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn backlog() -> Backlog {
        Backlog::new(Duration::from_millis(500), 4_000, 200_000)
    }

    #[test]
    fn two_blocks_before_any_load() {
        let mut b = backlog();
        assert_eq!(b.limit(), 4_000);
        // One commit opens a span but measures nothing.
        b.committed(50_000, 0);
        assert_eq!(b.limit(), 4_000);
    }

    #[test]
    fn follows_the_peak_commit_rate() {
        let mut b = backlog();
        // 10,000 records/s for three seconds: 100 records every 10 ms.
        for t in (0..=3_000).step_by(10) {
            b.committed(100, t);
        }
        assert_eq!(b.peak_per_s(), 10_000);
        assert_eq!(b.limit(), 5_000, "half a second of 10,000/s");
        // A slower spell does not lower it: the network showed it can.
        for t in (3_010..=6_000).step_by(100) {
            b.committed(100, t);
        }
        assert_eq!(b.limit(), 5_000);
        // A faster one raises it.
        for t in (6_010..=8_000).step_by(10) {
            b.committed(300, t);
        }
        assert_eq!(b.peak_per_s(), 30_000);
        assert_eq!(b.limit(), 15_000);
    }

    #[test]
    fn a_pause_counts_as_time_without_commits() {
        let mut b = backlog();
        b.committed(0, 0);
        b.committed(10_000, 500);
        // The span closes 10 s later: 10,000 records over 10 s.
        b.committed(0, 10_000);
        assert_eq!(b.peak_per_s(), 1_000);
        assert_eq!(b.limit(), 4_000, "the floor");
    }

    #[test]
    fn never_above_the_mempool_bound() {
        let mut b = Backlog::new(Duration::from_secs(60), 4_000, 200_000);
        for t in (0..=2_000).step_by(10) {
            b.committed(200, t);
        }
        assert_eq!(b.limit(), 200_000);
        let tiny = Backlog::new(Duration::from_secs(1), 4_000, 1_000);
        assert_eq!(tiny.limit(), 1_000, "a floor above the bound yields to it");
    }
}
