//! SUSPECT: PBFT's request timer. The node tells its replica when a record
//! it holds has waited too long in the current view ([`Input::Suspect`]);
//! a backup then signs and broadcasts a suspicion of that view's primary.
//! Once f+1 validators (this one included) suspect the view it is
//! running, the replica leaves it for the next, exactly as when its
//! progress timer fires.
//!
//! A backup that is fetching blocks it is behind on does not suspect: the
//! record it holds may be in them.
//!
//! One suspicion alone changes nothing: the suspecting backup keeps
//! voting in its view, so a backup that is wrong (or lying) can neither
//! stall the network by leaving the view alone nor depose a primary that
//! the others are content with. f+1 suspicions include a correct one.
//!
//! Suspicions are volatile: they count only for the view they name, only
//! while the replica runs that view normally, and are forgotten when it
//! leaves it. Each names the height its sender waits for; one below the
//! first height of this replica's validator set comes from an earlier set
//! (views start at 0 with each set) and is not counted. The node repeats
//! its suspicion while the record waits, so a peer that reached the view
//! late still hears it.
//!
//! [`Input::Suspect`]: crate::action::Input::Suspect

use crate::action::Action;
use crate::error::Error;
use crate::message::{Message, Suspect};
use crate::replica::{Mode, Replica};

impl Replica {
    /// The node's request timer fired: suspect the primary of the current
    /// view, and count that.
    pub(crate) fn suspect_primary(&mut self, out: &mut Vec<Action>) -> Result<(), Error> {
        let view = self.view;
        if let Some(reason) = self.why_not_suspect() {
            return Err(Error::SuspectNotTaken { view, reason });
        }
        if self.suspects.insert(self.cfg.me) {
            tracing::warn!(
                replica = self.cfg.me,
                view,
                primary = self.primary(view),
                "suspecting the primary: a record waited past the request timeout"
            );
        }
        let s = Suspect::new(
            view,
            self.delivered.saturating_add(1),
            self.cfg.me,
            &self.cfg.key,
            &self.cfg.chain_id,
        );
        out.push(Action::Broadcast {
            message: Message::Suspect(s),
        });
        self.count_suspicions(out);
        Ok(())
    }

    /// Whether this replica may suspect the primary of its view now: a
    /// backup in a normal view, not fetching blocks it is behind on. The
    /// node asks before it feeds [`crate::Input::Suspect`].
    pub fn may_suspect(&self) -> bool {
        self.why_not_suspect().is_none()
    }

    /// Why this replica may not suspect its primary now, if it may not.
    fn why_not_suspect(&self) -> Option<&'static str> {
        if self.mode != Mode::Normal {
            Some("this replica is changing view")
        } else if self.is_primary() {
            Some("this replica is the primary of the view")
        } else if self.catching_up() {
            // The records may be in the blocks it is fetching.
            Some("this replica is fetching blocks it is behind on")
        } else {
            None
        }
    }

    /// A peer's suspicion.
    pub(crate) fn on_suspect(&mut self, s: Suspect, out: &mut Vec<Action>) -> Result<(), Error> {
        self.peer_key(s.signer)?;
        self.may_count_suspicion(s.view)?;
        if s.height < self.cfg.first_height {
            return Err(Error::EarlierValidatorSet {
                kind: "suspect",
                signer: s.signer,
                height: s.height,
                first: self.cfg.first_height,
            });
        }
        if self.suspects.contains(&s.signer) {
            return Ok(()); // a repeat: already counted
        }
        self.check_signature(&Message::Suspect(s))?;
        self.suspects.insert(s.signer);
        self.count_suspicions(out);
        Ok(())
    }

    /// Suspicions count only for the view this replica runs normally.
    fn may_count_suspicion(&self, view: u64) -> Result<(), Error> {
        if self.mode != Mode::Normal {
            return Err(Error::SuspectNotTaken {
                view,
                reason: "this replica is changing view",
            });
        }
        if view != self.view {
            return Err(Error::SuspectNotTaken {
                view,
                reason: "not the view this replica runs",
            });
        }
        Ok(())
    }

    /// f+1 suspicions of the current view: move to the next one.
    fn count_suspicions(&mut self, out: &mut Vec<Action>) {
        if self.suspects.len() > self.f() {
            tracing::warn!(
                replica = self.cfg.me,
                view = self.view,
                suspects = self.suspects.len(),
                "f+1 validators suspect the primary: changing view"
            );
            let next = self.view.saturating_add(1);
            self.start_view_change(next, out);
        }
    }
}
