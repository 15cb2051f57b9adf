//! The primary's side of PRE-PREPARE: ask the node for a block at the next
//! free height in the window, then sign and broadcast it.

use std::sync::Arc;

use chancery_types::Block;

use crate::action::Action;
use crate::error::Error;
use crate::evidence::VoteKind;
use crate::message::{Message, PrePrepare};
use crate::replica::{Mode, Replica};

impl Replica {
    /// If primary in a normal view with room in the window, emits
    /// `BuildProposal` for the next height (one outstanding at a time).
    pub(crate) fn maybe_propose(&mut self, out: &mut Vec<Action>) {
        if self.mode != Mode::Normal || !self.is_primary() || self.building.is_some() {
            return;
        }
        let mut height = self.delivered + 1;
        while self.slots.get(&height).is_some_and(|s| s.block.is_some()) {
            height += 1;
        }
        if height > self.delivered + self.cfg.window
            || height <= self.certified_floor()
            || self.check_epoch(height).is_err()
        {
            // Window full, or behind a known certificate (sync first).
            return;
        }
        let Some(parent) = self.hash_at(height - 1) else {
            return;
        };
        if self
            .votes
            .get(&(VoteKind::Proposal, height))
            .is_some_and(|(v, _)| *v == self.view)
        {
            // Proposed before a restart; a second block would equivocate.
            return;
        }
        self.building = Some(height);
        out.push(Action::BuildProposal {
            height,
            view: self.view,
            parent,
        });
    }

    /// The node built the block we asked for.
    pub(crate) fn on_proposal_ready(
        &mut self,
        block: Block,
        out: &mut Vec<Action>,
    ) -> Result<(), Error> {
        let h = &block.header;
        let height = h.height;
        if self.building != Some(height) || self.mode != Mode::Normal || h.view != self.view {
            return Err(Error::UnexpectedProposal {
                height,
                view: h.view,
            });
        }
        self.building = None;
        self.check_fresh_header(&block, self.cfg.me)?;
        let hash = block.header.hash();
        self.guard_vote(VoteKind::Proposal, height, hash)?;
        let block = Arc::new(block);
        let pp = PrePrepare::new(
            self.view,
            block.clone(),
            self.cfg.me,
            &self.cfg.key,
            &self.cfg.chain_id,
        );
        let slot = self.slots.entry(height).or_default();
        slot.block = Some(block);
        slot.hash = Some(hash);
        slot.validated = true;
        out.push(Action::Broadcast {
            message: Message::PrePrepare(pp),
        });
        self.try_prepare(height, out);
        self.maybe_propose(out);
        Ok(())
    }

    /// Header checks for a fresh proposal in the current view by `proposer`.
    pub(crate) fn check_fresh_header(&self, block: &Block, proposer: u16) -> Result<(), Error> {
        let h = &block.header;
        if h.chain_id != self.cfg.chain_id {
            return Err(Error::BadHeader {
                field: "chain_id",
                detail: format!("{} is not this chain", h.chain_id),
            });
        }
        if h.view != self.view {
            return Err(Error::BadHeader {
                field: "view",
                detail: format!("{} in a proposal for view {}", h.view, self.view),
            });
        }
        if h.proposer != proposer {
            return Err(Error::BadHeader {
                field: "proposer",
                detail: format!("{} but signed by {proposer}", h.proposer),
            });
        }
        Ok(())
    }
}
