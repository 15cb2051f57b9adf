//! COMMIT: collect a quorum, decide, and deliver decided blocks in height
//! order with their commit certificates.

use std::sync::Arc;

use chancery_types::{Block, CommitCertificate, CommitVote};

use crate::action::Action;
use crate::error::Error;
use crate::evidence::VoteKind;
use crate::message::{Commit, Message};
use crate::replica::{Mode, Replica, SeenVote};
use crate::slot::cert_signatures;

impl Replica {
    pub(crate) fn on_commit(&mut self, c: Commit, out: &mut Vec<Action>) -> Result<(), Error> {
        let v = c.vote;
        if self.is_redundant_vote(VoteKind::Commit, v.view, v.height, c.signer, v.block_hash) {
            return Ok(());
        }
        self.check_signature(&Message::Commit(c))?;
        self.note_vote(
            SeenVote {
                kind: VoteKind::Commit,
                view: v.view,
                height: v.height,
                signer: c.signer,
                hash: v.block_hash,
                signature: c.signature,
            },
            out,
        )?;
        self.slots
            .entry(v.height)
            .or_default()
            .commits
            .entry(v.block_hash)
            .or_default()
            .insert(c.signer, c.signature);
        self.check_decided(v.height, out);
        Ok(())
    }

    /// Marks `height` decided once a quorum committed one block.
    pub(crate) fn check_decided(&mut self, height: u64, out: &mut Vec<Action>) {
        let quorum = self.quorum();
        let Some(slot) = self.slots.get_mut(&height) else {
            return;
        };
        if slot.decided.is_none()
            && let Some((hash, _)) = slot.commits.iter().find(|(_, s)| s.len() >= quorum)
        {
            slot.decided = Some(*hash);
        }
        self.try_deliver(out);
    }

    /// Delivers every decided (or synced) height directly above the tip.
    pub(crate) fn try_deliver(&mut self, out: &mut Vec<Action>) {
        loop {
            let height = self.delivered + 1;
            if let Some((block, cert)) = self.synced.remove(&height) {
                if block.header.parent == self.tip_hash {
                    self.advance(block, cert, out);
                    continue;
                }
                tracing::debug!(
                    replica = self.cfg.me,
                    height,
                    "synced block does not extend the tip"
                );
            }
            let view = self.view;
            let Some(slot) = self.slots.get_mut(&height) else {
                return;
            };
            let Some(decided) = slot.decided else {
                return;
            };
            if slot.hash != Some(decided) {
                // Decided by a quorum, but we hold no (or another) block.
                if !slot.requested {
                    slot.requested = true;
                    out.push(Action::RequestBlocks {
                        from: height,
                        to: height,
                    });
                }
                return;
            }
            let (Some(block), Some(sigs)) = (slot.block.take(), slot.commits.get(&decided)) else {
                return;
            };
            let cert = CommitCertificate {
                vote: CommitVote {
                    height,
                    view,
                    block_hash: decided,
                },
                signatures: cert_signatures(sigs),
            };
            self.advance(block, cert, out);
        }
    }

    /// Moves the tip to `block` and emits `Deliver`.
    pub(crate) fn advance(
        &mut self,
        block: Arc<Block>,
        cert: CommitCertificate,
        out: &mut Vec<Action>,
    ) {
        let height = block.header.height;
        self.delivered = height;
        self.tip_hash = cert.vote.block_hash;
        self.tip_cert = Some(cert.clone());
        self.slots = self.slots.split_off(&(height + 1));
        self.prepared = self.prepared.split_off(&(height + 1));
        self.certified = self.certified.split_off(&(height + 1));
        self.synced = self.synced.split_off(&(height + 1));
        self.votes.retain(|(_, h), _| *h > height);
        self.seen.retain(|(_, _, h, _), _| *h > height);
        self.attempt = 0;
        out.push(Action::Deliver {
            block,
            certificate: cert,
        });
        if self.mode == Mode::Normal {
            self.schedule_timer(out);
        }
        self.try_prepare(height + 1, out);
        self.try_commit(height + 1, out);
        self.maybe_propose(out);
        self.replay_future(out);
    }
}
