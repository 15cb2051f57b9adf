//! PREPARE: collect a quorum for the accepted block, become prepared
//! (persisting the prepared certificate), then COMMIT.
//!
//! Commits go out in height order: we COMMIT at `h` only after committing at
//! `h - 1` in the same view (or delivering it). So a block committed at `h`
//! implies a quorum prepared every height below it down to their tips, and a
//! NEW-VIEW always re-proposes the whole committed chain.

use crate::action::Action;
use crate::error::Error;
use crate::evidence::VoteKind;
use crate::message::{Commit, Message, Prepare, PreparedCertificate, PreparedProof};
use crate::replica::{Mode, Replica, SeenVote};
use crate::slot::cert_signatures;
use chancery_types::CommitVote;

impl Replica {
    pub(crate) fn on_prepare(&mut self, p: Prepare, out: &mut Vec<Action>) -> Result<(), Error> {
        let v = p.vote;
        if self.is_redundant_vote(VoteKind::Prepare, v.view, v.height, p.signer, v.block_hash) {
            return Ok(());
        }
        self.check_signature(&Message::Prepare(p))?;
        self.note_vote(
            SeenVote {
                kind: VoteKind::Prepare,
                view: v.view,
                height: v.height,
                signer: p.signer,
                hash: v.block_hash,
                signature: p.signature,
            },
            out,
        )?;
        self.slots
            .entry(v.height)
            .or_default()
            .prepares
            .entry(v.block_hash)
            .or_default()
            .insert(p.signer, p.signature);
        self.check_prepared(v.height, out);
        Ok(())
    }

    /// Becomes prepared at `height` once we sent our PREPARE and hold a
    /// quorum of PREPAREs for the same block.
    pub(crate) fn check_prepared(&mut self, height: u64, out: &mut Vec<Action>) {
        let quorum = self.quorum();
        let view = self.view;
        let Some(slot) = self.slots.get_mut(&height) else {
            return;
        };
        let (Some(hash), Some(block)) = (slot.hash, &slot.block) else {
            return;
        };
        if !slot.sent_prepare || slot.prepared {
            return;
        }
        let Some(sigs) = slot.prepares.get(&hash) else {
            return;
        };
        if sigs.len() < quorum {
            return;
        }
        slot.prepared = true;
        let proof = PreparedProof {
            certificate: PreparedCertificate {
                vote: crate::message::PrepareVote {
                    view,
                    height,
                    block_hash: hash,
                },
                signatures: cert_signatures(sigs),
            },
            block: block.clone(),
        };
        self.prepared.insert(height, proof);
        self.dirty = true;
        self.try_commit(height, out);
    }

    /// Sends our COMMIT at `height` if prepared and the height below is
    /// committed by us (or delivered); then tries the height above.
    pub(crate) fn try_commit(&mut self, height: u64, out: &mut Vec<Action>) {
        if self.mode != Mode::Normal {
            return;
        }
        let below_done = height == self.delivered + 1
            || self.slots.get(&(height - 1)).is_some_and(|s| s.sent_commit);
        let Some(slot) = self.slots.get(&height) else {
            return;
        };
        let Some(hash) = slot.hash else {
            return;
        };
        if !slot.prepared || slot.sent_commit || !below_done {
            return;
        }
        if let Err(e) = self.guard_vote(VoteKind::Commit, height, hash) {
            tracing::debug!(replica = self.cfg.me, reason = %e, "not committing");
            return;
        }
        let vote = CommitVote {
            height,
            view: self.view,
            block_hash: hash,
        };
        let msg = Commit::new(vote, self.cfg.me, &self.cfg.key, &self.cfg.chain_id);
        if let Some(slot) = self.slots.get_mut(&height) {
            slot.sent_commit = true;
            slot.commits
                .entry(hash)
                .or_default()
                .insert(self.cfg.me, msg.signature);
        }
        out.push(Action::Broadcast {
            message: Message::Commit(msg),
        });
        self.check_decided(height, out);
        self.try_commit(height + 1, out);
    }
}
