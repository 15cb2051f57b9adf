//! Admission of per-height messages (PRE-PREPARE, PREPARE, COMMIT).
//!
//! A message is processed only for the current view, in normal mode, at a
//! height in `(delivered, delivered + window]`. Messages a little ahead (a
//! later view, or up to one more window) are buffered and replayed when the
//! replica gets there; messages further ahead are signature-checked and
//! counted as a sign that this replica is behind; the rest are dropped.

use tracing::debug;

use crate::action::Action;
use crate::error::Error;
use crate::message::Message;
use crate::replica::{MAX_BUFFERED, MAX_VIEWS_AHEAD, Mode, Replica};

impl Replica {
    /// `Some(m)` to process now, `None` if buffered.
    pub(crate) fn admit(
        &mut self,
        m: Message,
        out: &mut Vec<Action>,
    ) -> Result<Option<Message>, Error> {
        let Some(height) = m.height() else {
            return Ok(Some(m));
        };
        let view = m.view();
        self.check_epoch(height)?;
        self.peer_key(m.signer())?;
        let window = self.cfg.window;
        // Far above the window, whatever the view: a sign we are behind.
        if height > self.delivered + 2 * window {
            self.check_signature(&m)?;
            self.note_ahead(m.signer(), view, height, out);
            return Err(Error::OutOfWindow {
                height,
                delivered: self.delivered,
                window,
            });
        }
        if view < self.view {
            return Err(Error::StaleView {
                msg_view: view,
                current_view: self.view,
            });
        }
        if height <= self.delivered {
            return Err(Error::OutOfWindow {
                height,
                delivered: self.delivered,
                window,
            });
        }
        if view > self.view.saturating_add(MAX_VIEWS_AHEAD) {
            return Err(Error::FarFutureView {
                msg_view: view,
                current_view: self.view,
            });
        }
        if view > self.view || self.mode == Mode::ViewChange || height > self.delivered + window {
            debug!(
                replica = self.cfg.me,
                kind = m.kind(),
                view,
                height,
                "buffered until view or window catches up"
            );
            if self.future.len() >= MAX_BUFFERED {
                self.future.pop_front();
            }
            self.future.push_back(m);
            return Ok(None);
        }
        Ok(Some(m))
    }

    /// Checks the signature of a per-height message.
    pub(crate) fn check_signature(&mut self, m: &Message) -> Result<(), Error> {
        let signer = m.signer();
        let key = self.peer_key(signer)?;
        if !matches!(
            m,
            Message::ViewChange(_) | Message::NewView(_) | Message::Suspect(_)
        ) {
            self.signature_checks += 1;
        }
        let chain = &self.cfg.chain_id;
        let r = match m {
            Message::PrePrepare(p) => p.verify(&key, chain),
            Message::Prepare(p) => p.verify(&key, chain),
            Message::Commit(c) => c.verify(&key, chain),
            Message::Suspect(s) => s.verify(&key, chain),
            Message::ViewChange(_) | Message::NewView(_) => Ok(()),
        };
        r.map_err(|error| Error::BadSignature {
            kind: m.kind(),
            signer,
            error,
        })
    }
}
