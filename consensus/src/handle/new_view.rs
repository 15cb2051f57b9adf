//! NEW-VIEW: the new primary gathers a quorum of VIEW-CHANGEs; every
//! replica derives the same re-proposals from them and enters the view.
//!
//! Choice of re-proposals ([`select`]): start above the highest commit
//! certificate in the quorum (the anchor); at each next height take the
//! prepared proof of the highest view; stop at the first height with none,
//! or whose block does not extend the previous choice. Re-proposed blocks
//! keep their header (and hash); the primary proposes fresh blocks above.

use chancery_types::crypto::signature::verify;
use chancery_types::{Canonical, CommitCertificate, Domain, Hash, List};

use crate::action::Action;
use crate::error::Error;
use crate::message::{Message, NewView, NewViewBody, PreparedProof, ViewChange};
use crate::replica::{Mode, Replica};
use crate::slot::Slot;

/// The re-proposals a NEW-VIEW implies: the anchor certificate and the
/// chain of blocks to re-propose above it.
pub fn select(view_changes: &[ViewChange]) -> (Option<CommitCertificate>, Vec<PreparedProof>) {
    let anchor = view_changes
        .iter()
        .filter_map(|vc| vc.body.committed.as_ref())
        .max_by_key(|c| (c.vote.height, c.vote.view, c.vote.block_hash))
        .cloned();
    let (mut height, mut prev) = anchor
        .as_ref()
        .map_or((0, Hash::ZERO), |c| (c.vote.height, c.vote.block_hash));
    let mut chain = Vec::new();
    loop {
        height += 1;
        let best = view_changes
            .iter()
            .flat_map(|vc| vc.body.prepared.iter())
            .filter(|p| p.certificate.vote.height == height)
            .max_by_key(|p| (p.certificate.vote.view, p.certificate.vote.block_hash));
        let Some(best) = best else { break };
        if best.block.header.parent != prev {
            break;
        }
        prev = best.certificate.vote.block_hash;
        chain.push(best.clone());
    }
    (anchor, chain)
}

impl Replica {
    /// As primary of a view being changed to, sends NEW-VIEW once a quorum
    /// of VIEW-CHANGEs for it arrived.
    pub(crate) fn try_new_view(&mut self, out: &mut Vec<Action>) {
        if self.mode != Mode::ViewChange || !self.is_primary() {
            return;
        }
        let vcs: Vec<ViewChange> = self
            .view_changes
            .values()
            .filter(|vc| vc.body.view == self.view)
            .take(self.quorum())
            .cloned()
            .collect();
        if vcs.len() < self.quorum() {
            return;
        }
        let body = NewViewBody {
            view: self.view,
            view_changes: List::new(vcs).unwrap_or_default(),
        };
        let nv = NewView::new(body, self.cfg.me, &self.cfg.key, &self.cfg.chain_id);
        out.push(Action::Broadcast {
            message: Message::NewView(nv.clone()),
        });
        self.enter_view(&nv.body, out);
        self.last_new_view = Some(nv);
    }

    pub(crate) fn on_new_view(&mut self, nv: NewView, out: &mut Vec<Action>) -> Result<(), Error> {
        let view = nv.body.view;
        if view < self.view || (view == self.view && self.mode == Mode::Normal) {
            return Err(Error::StaleView {
                msg_view: view,
                current_view: self.view,
            });
        }
        let primary = self.primary(view);
        if nv.signer != primary {
            return Err(Error::NotPrimary {
                signer: nv.signer,
                view,
                primary,
            });
        }
        let key = self.peer_key(nv.signer)?;
        verify(
            &key,
            Domain::NewView,
            &self.cfg.chain_id.0,
            &nv.body.to_canonical(),
            &nv.signature,
        )
        .map_err(|error| Error::BadSignature {
            kind: "new-view",
            signer: nv.signer,
            error,
        })?;
        let bad = |reason| Error::BadNewView { view, reason };
        if nv.body.view_changes.len() < self.quorum() {
            return Err(bad("fewer than a quorum of view changes"));
        }
        let mut prev: Option<u16> = None;
        for vc in nv.body.view_changes.iter() {
            if prev.is_some_and(|p| p >= vc.signer) {
                return Err(bad("view changes not sorted by signer"));
            }
            prev = Some(vc.signer);
            if vc.body.view != view {
                return Err(bad("a view change for another view"));
            }
            self.verify_view_change(vc)?;
        }
        self.enter_view(&nv.body, out);
        Ok(())
    }

    /// Enters `body.view` in normal mode with the re-proposals it implies.
    fn enter_view(&mut self, body: &NewViewBody, out: &mut Vec<Action>) {
        let (anchor, chain) = select(&body.view_changes);
        self.view = body.view;
        self.mode = Mode::Normal;
        self.slots.clear();
        self.building = None;
        self.last_new_view = None;
        self.suspects.clear();
        self.dirty = true;
        let view = self.view;
        self.view_changes.retain(|_, vc| vc.body.view > view);
        tracing::debug!(
            replica = self.cfg.me,
            view,
            reproposed = chain.len(),
            "entered view"
        );
        if let Some(cert) = anchor {
            self.learn_certificate(cert, out);
        }
        let mut heights = Vec::new();
        for p in chain {
            let h = p.certificate.vote.height;
            if h <= self.delivered {
                continue;
            }
            heights.push(h);
            self.slots.insert(
                h,
                Slot {
                    hash: Some(p.certificate.vote.block_hash),
                    block: Some(p.block),
                    validated: true,
                    ..Slot::default()
                },
            );
        }
        self.schedule_timer(out);
        for h in heights {
            self.try_prepare(h, out);
        }
        self.replay_future(out);
        self.maybe_propose(out);
    }
}
