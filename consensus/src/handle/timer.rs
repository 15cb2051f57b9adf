//! Timeouts. One live timer: in a normal view it fires when no block was
//! delivered in time; while changing view, when NEW-VIEW did not come. Both
//! move to the next view, except that a replica changing view with fewer
//! than a quorum of VIEW-CHANGEs for its target moves to the lowest higher
//! view another validator asked for, or else re-sends its own VIEW-CHANGE. The timeout doubles with each view change since
//! the last delivered block (capped), and resets when a block is delivered.

use crate::action::{Action, Timer};
use crate::error::Error;
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
        let next = self.view.saturating_add(1);
        self.start_view_change(next, out);
        Ok(())
    }
}
