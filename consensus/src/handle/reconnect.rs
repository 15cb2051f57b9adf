//! A peer that (re)connects missed what was sent while it was away: the
//! network drops frames for a peer it is not connected to (at start-up,
//! before the connections are up, and while a link is down). So the
//! replica sends that peer again what it has said in the current view:
//! the NEW-VIEW that began the view and each in-flight height's
//! PRE-PREPARE (as primary), its PREPARE and COMMIT at each height, or,
//! while changing view, its VIEW-CHANGE (ARCHITECTURE.md D46).
//!
//! Nothing new is signed: each message is rebuilt from the signature the
//! replica kept when it first sent it, and it leaves through the same
//! persistence gate (a vote whose state is not yet durable stays held).

use std::collections::BTreeMap;

use chancery_types::{CommitVote, Hash, Signature};

use crate::action::Action;
use crate::error::Error;
use crate::evidence::VoteKind;
use crate::message::{Commit, Message, PrePrepare, Prepare, PrepareVote};
use crate::replica::{Mode, Replica};

impl Replica {
    pub(crate) fn on_peer_connected(
        &mut self,
        peer: u16,
        out: &mut Vec<Action>,
    ) -> Result<(), Error> {
        self.peer_key(peer)?;
        let me = self.cfg.me;
        let view = self.view;
        let mut send = |message| out.push(Action::Send { to: peer, message });
        if self.mode == Mode::ViewChange {
            if let Some(vc) = self.view_changes.get(&me).filter(|vc| vc.body.view == view) {
                send(Message::ViewChange(vc.clone()));
            }
            return Ok(());
        }
        if let Some(nv) = self
            .last_new_view
            .as_ref()
            .filter(|nv| nv.body.view == view)
        {
            send(Message::NewView(nv.clone()));
        }
        let primary = self.is_primary();
        for (&height, slot) in &self.slots {
            let Some(hash) = slot.hash else { continue };
            if primary
                && let Some(block) = &slot.block
                && self.votes.get(&(VoteKind::Proposal, height)) == Some(&(view, hash))
            {
                // Signed again: a fresh proposal's signature is not kept,
                // and ed25519 signs the same vote to the same bytes.
                send(Message::PrePrepare(PrePrepare::new(
                    view,
                    block.clone(),
                    me,
                    &self.cfg.key,
                    &self.cfg.chain_id,
                )));
            }
            if slot.sent_prepare
                && let Some(signature) = own_signature(&slot.prepares, &hash, me)
            {
                send(Message::Prepare(Prepare {
                    vote: PrepareVote {
                        view,
                        height,
                        block_hash: hash,
                    },
                    signer: me,
                    signature,
                }));
            }
            if slot.sent_commit
                && let Some(signature) = own_signature(&slot.commits, &hash, me)
            {
                send(Message::Commit(Commit {
                    vote: CommitVote {
                        view,
                        height,
                        block_hash: hash,
                    },
                    signer: me,
                    signature,
                }));
            }
        }
        Ok(())
    }
}

/// The signature `me` gave `hash`, among a slot's votes by block hash.
fn own_signature(
    votes: &BTreeMap<Hash, BTreeMap<u16, Signature>>,
    hash: &Hash,
    me: u16,
) -> Option<Signature> {
    votes.get(hash).and_then(|by| by.get(&me)).copied()
}
