//! Timeouts. One live timer: in a normal view it fires when no block was
//! delivered in time; while changing view, when NEW-VIEW did not come.
//! Both move to the next view, with two exceptions. A replica merely
//! behind in a view that runs (f+1 validators signed this view's messages
//! above its window) fetches the blocks it lacks and keeps the view (D47).
//! A replica changing view with fewer than a quorum of VIEW-CHANGEs for
//! its target moves to the lowest higher view another validator asked
//! for, or else re-sends its own VIEW-CHANGE. The timeout doubles with
//! each view change since the last delivered block (capped), and resets
//! when a block is delivered.

use std::collections::BTreeMap;

use crate::action::{Action, Timer};
use crate::error::Error;
use crate::message::Message;
use crate::replica::{MAX_VIEWS_AHEAD, Mode, Replica};

impl Replica {
    pub(crate) fn on_timer(&mut self, t: Timer, out: &mut Vec<Action>) -> Result<(), Error> {
        if t.seq != self.timer_seq {
            return Err(Error::StaleTimer {
                seq: t.seq,
                current: self.timer_seq,
            });
        }
        // Let block sync retry whatever it could not fetch.
        self.requested_to = self.delivered;
        if self.mode == Mode::ViewChange && self.view_change_votes(self.view) < self.quorum() {
            // Fewer than a quorum want this view. Catch up with the lowest
            // view others already moved to; if none, do not climb alone
            // (that only strands us): repeat our VIEW-CHANGE instead.
            let higher = self
                .view_changes
                .values()
                .map(|vc| vc.body.view)
                .filter(|v| *v > self.view && *v <= self.view.saturating_add(MAX_VIEWS_AHEAD))
                .min();
            match higher {
                Some(target) => self.start_view_change(target, out),
                None => {
                    self.attempt = self.attempt.saturating_add(1);
                    self.send_view_change(out);
                }
            }
            return Ok(());
        }
        if self.mode == Mode::Normal
            && let Some(to) = self.behind_in_live_view()
        {
            // The view runs; this replica is behind in it. Leaving it alone
            // would only take this replica out of the voting (it cannot
            // come back to a view it left) until the others next change
            // view: fetch the blocks instead (D47).
            tracing::debug!(
                replica = self.cfg.me,
                view = self.view,
                to,
                "progress timeout while behind in a live view: fetching blocks"
            );
            self.request_blocks(to, out);
            self.schedule_timer(out);
            return Ok(());
        }
        let next = self.view.saturating_add(1);
        self.start_view_change(next, out);
        Ok(())
    }

    /// If f+1 validators signed messages of the current view above this
    /// replica's window (buffered until it gets there, or, further ahead,
    /// checked and noted on arrival), the view runs and at least one
    /// honest validator delivered past `height − window` for the (f+1)-th
    /// highest such height: that height minus the window, to fetch up to.
    /// Checks one buffered signature per validator at most (its highest).
    fn behind_in_live_view(&mut self) -> Option<u64> {
        let top = self.delivered + self.cfg.window;
        let mut highest: BTreeMap<u16, Message> = BTreeMap::new();
        for m in &self.future {
            let Some(height) = m.height() else { continue };
            if m.view() != self.view || height <= top {
                continue;
            }
            let above = highest
                .get(&m.signer())
                .is_none_or(|h| h.height().is_some_and(|h| h < height));
            if above {
                highest.insert(m.signer(), m.clone());
            }
        }
        let mut by_signer: BTreeMap<u16, u64> = BTreeMap::new();
        for m in highest.into_values() {
            if let Some(height) = m.height()
                && self.check_signature(&m).is_ok()
            {
                by_signer.insert(m.signer(), height);
            }
        }
        for (&signer, &(view, height)) in &self.ahead_in_view {
            if view == self.view && height > top {
                let h = by_signer.entry(signer).or_insert(height);
                *h = (*h).max(height);
            }
        }
        let mut heights: Vec<u64> = by_signer.into_values().collect();
        let need = self.f() + 1;
        if heights.len() < need {
            return None;
        }
        heights.sort_unstable_by(|a, b| b.cmp(a));
        Some(heights[need - 1] - self.cfg.window)
    }
}
