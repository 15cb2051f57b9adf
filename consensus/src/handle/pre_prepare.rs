//! A backup receives PRE-PREPARE: checks it, asks the node to validate the
//! block, and PREPAREs once the block is valid and extends the block below.

use chancery_types::Hash;

use crate::action::Action;
use crate::error::Error;
use crate::evidence::VoteKind;
use crate::message::{Message, PrePrepare, Prepare, PrepareVote};
use crate::replica::{Mode, Replica, SeenVote};

impl Replica {
    pub(crate) fn on_pre_prepare(
        &mut self,
        p: PrePrepare,
        out: &mut Vec<Action>,
    ) -> Result<(), Error> {
        let height = p.block.header.height;
        let primary = self.primary(self.view);
        if p.signer != primary {
            return Err(Error::NotPrimary {
                signer: p.signer,
                view: self.view,
                primary,
            });
        }
        self.check_signature(&Message::PrePrepare(p.clone()))?;
        let certified = self.certified_floor();
        if height <= certified {
            return Err(Error::BelowCertified { height, certified });
        }
        let hash = p.block.header.hash();
        self.note_vote(
            SeenVote {
                kind: VoteKind::Proposal,
                view: p.view,
                height,
                signer: p.signer,
                hash,
                signature: p.signature,
            },
            out,
        )?;
        self.check_fresh_header(&p.block, p.signer)?;
        let slot = self.slots.entry(height).or_default();
        if slot.block.is_some() {
            return Ok(()); // duplicate
        }
        slot.block = Some(p.block.clone());
        slot.hash = Some(hash);
        slot.validating = true;
        out.push(Action::ValidateBlock { block: p.block });
        Ok(())
    }

    pub(crate) fn on_block_validated(
        &mut self,
        hash: Hash,
        valid: bool,
        out: &mut Vec<Action>,
    ) -> Result<(), Error> {
        let Some((&height, slot)) = self
            .slots
            .iter_mut()
            .find(|(_, s)| s.validating && s.hash == Some(hash))
        else {
            return Err(Error::UnknownBlock { hash });
        };
        slot.validating = false;
        if !valid {
            tracing::debug!(replica = self.cfg.me, height, %hash, "node rejected the proposal");
            return Ok(());
        }
        slot.validated = true;
        self.try_prepare(height, out);
        Ok(())
    }

    /// Sends our PREPARE at `height` once the block is valid and its parent
    /// is the block we know at `height - 1`; then tries the height above.
    pub(crate) fn try_prepare(&mut self, height: u64, out: &mut Vec<Action>) {
        if self.mode != Mode::Normal {
            return;
        }
        let parent_known = self.hash_at(height - 1);
        let Some(slot) = self.slots.get(&height) else {
            return;
        };
        let (Some(block), Some(hash)) = (&slot.block, slot.hash) else {
            return;
        };
        if slot.sent_prepare || !slot.validated {
            return;
        }
        if self
            .certified
            .get(&height)
            .is_some_and(|c| c.vote.block_hash != hash)
        {
            tracing::debug!(
                replica = self.cfg.me,
                height,
                "not preparing: another block is certified"
            );
            return;
        }
        match parent_known {
            Some(p) if p == block.header.parent => {}
            Some(p) => {
                tracing::debug!(
                    replica = self.cfg.me,
                    height,
                    expected = %p,
                    found = %block.header.parent,
                    "not preparing: parent does not match"
                );
                return;
            }
            None => return,
        }
        if let Err(e) = self.guard_vote(VoteKind::Prepare, height, hash) {
            tracing::debug!(replica = self.cfg.me, reason = %e, "not preparing");
            return;
        }
        let vote = PrepareVote {
            view: self.view,
            height,
            block_hash: hash,
        };
        let msg = Prepare::new(vote, self.cfg.me, &self.cfg.key, &self.cfg.chain_id);
        if let Some(slot) = self.slots.get_mut(&height) {
            slot.sent_prepare = true;
            slot.prepares
                .entry(hash)
                .or_default()
                .insert(self.cfg.me, msg.signature);
        }
        out.push(Action::Broadcast {
            message: Message::Prepare(msg),
        });
        self.check_prepared(height, out);
        self.try_prepare(height + 1, out);
    }
}
