//! Validator-set changes and following the chain without voting.
//!
//! Each validator set gets its own replica. When the ledger schedules a
//! change from height `H` (governance, `H = h + execution_lag + 1`), the
//! runtime ends the current replica's set at `H − 1`; consensus frames
//! that arrive from then on are also kept for the next set. Once block
//! `H − 1` commits, the runtime builds the next set's replica at the tip
//! (view 0, nothing in flight), replays the kept frames into it, and
//! tells the network the new peers. A node outside the set in force
//! follows the chain instead: it asks the set for blocks every
//! [`FOLLOW_INTERVAL_MS`], checks each certificate against the set for
//! that height, commits, and becomes a replica when a set includes it.

use std::collections::VecDeque;
use std::sync::Arc;

use chancery_consensus::state::PersistentState;
use chancery_consensus::{Action, Config as ReplicaConfig, Input, Replica, Timeouts};
use chancery_ledger::{KvStore, NothingVerified};
use chancery_types::{ChainId, Hash, SecretKey, ValidatorSet};
use tracing::{info, warn};

use super::{Runtime, RuntimeError};
use crate::p2p::peers::PeerSet;
use crate::wire::{Frame, MAX_SYNC_BLOCKS, SyncedBlock};

/// How often a node outside the set asks for blocks.
pub const FOLLOW_INTERVAL_MS: u64 = 500;
/// Most consensus frames kept for the next set's replica.
const MAX_STASH: usize = 4096;

/// What every replica of this node is built from.
pub(super) struct Params {
    chain_id: ChainId,
    key: SecretKey,
    window: u64,
    execution_lag: u64,
    timeouts: Timeouts,
}

impl Params {
    pub(super) fn from_config(c: &ReplicaConfig) -> Self {
        Params {
            chain_id: c.chain_id,
            key: SecretKey::from_seed(&c.key.seed()),
            window: c.window,
            execution_lag: c.execution_lag,
            timeouts: c.timeouts,
        }
    }

    fn config(&self, set: &ValidatorSet, me: usize, first_height: u64) -> ReplicaConfig {
        ReplicaConfig {
            chain_id: self.chain_id,
            validators: set.clone(),
            me: me as u16,
            key: SecretKey::from_seed(&self.key.seed()),
            window: self.window,
            execution_lag: self.execution_lag,
            timeouts: self.timeouts,
            first_height,
        }
    }
}

/// The first height of the set in force at `height`, given every change.
fn epoch_start(changes: &[(u64, ValidatorSet)], height: u64) -> u64 {
    changes
        .iter()
        .rev()
        .find(|(from, _)| *from <= height)
        .map_or(0, |(from, _)| *from)
}

impl<K: KvStore + Send + Sync + 'static> Runtime<K> {
    /// Takes on the set in force after the ledger's tip: this node's
    /// replica in it (restored from `stored` when that state belongs to
    /// the same set, else fresh at the tip), or none.
    pub(super) fn enter_epoch(
        &mut self,
        stored: Option<PersistentState>,
    ) -> Result<(), RuntimeError> {
        let tip = self.ledger.tip();
        let next = tip.height + 1;
        let changes = self.ledger.validator_changes()?;
        let set = self.ledger.validator_set_at(next)?;
        self.epoch_start = epoch_start(&changes, next);
        self.me = set.index_of(&self.params.key.public());
        self.n = set.n();
        self.set = set;
        self.replica = match self.me {
            None => None,
            Some(me) => {
                let config = self.params.config(&self.set, me, self.epoch_start);
                let state = match stored {
                    Some(s) if epoch_start(&changes, s.delivered + 1) == self.epoch_start => s,
                    _ => PersistentState {
                        delivered: tip.height,
                        tip_hash: tip.hash,
                        tip_certificate: self.ledger.certificate(tip.height)?,
                        ..PersistentState::genesis()
                    },
                };
                Some(Replica::restore(config, state)?)
            }
        };
        self.end_before_next_change(&changes, next);
        self.publish_peers();
        Ok(())
    }

    /// Ends the replica's set before the next scheduled change, if any.
    fn end_before_next_change(&mut self, changes: &[(u64, ValidatorSet)], next: u64) {
        let Some((from, _)) = changes.iter().find(|(from, _)| *from > next) else {
            return;
        };
        if let Some(r) = self.replica.as_mut()
            && r.last_height() != Some(from - 1)
        {
            info!(
                last = from - 1,
                "runtime: validator set ends; the next one is scheduled"
            );
            r.end_epoch_at(from - 1);
        }
    }

    /// The network's peers: the set in force, then the latest scheduled set.
    pub(super) fn peer_set(&self) -> Result<PeerSet, crate::p2p::peers::PeerError> {
        let rules = self.ledger.rules();
        let tip = self.ledger.tip().height;
        let scheduled = (rules.validators_from > tip + 1).then_some(&rules.validators);
        PeerSet::for_sets(&self.set, scheduled)
    }

    /// Sends the peers to the network when they changed.
    fn publish_peers(&mut self) {
        let rules = self.ledger.rules();
        let tip = self.ledger.tip().height;
        let key = (
            self.set.hash(),
            (rules.validators_from > tip + 1).then(|| rules.validators.hash()),
        );
        if self.published == Some(key) {
            return;
        }
        match self.peer_set() {
            Ok(peers) => {
                self.peer_count = peers.peers().len();
                if let Some(tx) = &self.peers {
                    tx.send_replace(peers);
                }
                self.published = Some(key);
            }
            Err(e) => {
                warn!(error = %e, "runtime: a validator's network identity is invalid; peers unchanged")
            }
        }
    }

    /// After a commit: end the set before a newly scheduled change, or
    /// move to the next set when the tip reached its first height.
    pub(super) fn follow_epochs(&mut self, queue: &mut VecDeque<Action>) {
        let next = self.ledger.tip().height + 1;
        let changes = match self.ledger.validator_changes() {
            Ok(c) => c,
            Err(e) => {
                warn!(error = %e, "runtime: cannot read validator-set changes");
                return;
            }
        };
        if epoch_start(&changes, next) == self.epoch_start {
            self.end_before_next_change(&changes, next);
            self.publish_peers();
            return;
        }
        let stash = std::mem::take(&mut self.stash);
        if let Err(e) = self.enter_epoch(None) {
            warn!(error = %e, "runtime: cannot start the next validator set's replica");
            self.replica = None;
            return;
        }
        info!(
            from = self.epoch_start,
            validators = self.n,
            me = ?self.me,
            "runtime: validator set changed"
        );
        self.timers.clear();
        self.pending_proposal = None;
        if self.replica.is_some() {
            self.input(Input::Start, queue);
            for bytes in stash {
                self.input(Input::Bytes(bytes), queue);
            }
        }
    }

    /// Keeps a consensus frame for the next set while this one is ending.
    pub(super) fn stash_if_ending(&mut self, bytes: &[u8]) {
        if self
            .replica
            .as_ref()
            .and_then(|r| r.last_height())
            .is_some()
        {
            if self.stash.len() >= MAX_STASH {
                self.stash.pop_front();
            }
            self.stash.push_back(bytes.to_vec());
        }
    }

    /// Outside the set: ask the set's validators for the next blocks.
    pub(super) async fn follow(&mut self) {
        let tip = self.ledger.tip().height;
        let frame = Frame::SyncRequest {
            from: tip + 1,
            to: tip + MAX_SYNC_BLOCKS as u64,
        };
        self.broadcast(&frame);
    }

    /// Outside the set: commits the blocks that follow the tip, each
    /// certified by the set in force at its height.
    pub(super) fn commit_followed(
        &mut self,
        blocks: Vec<SyncedBlock>,
        queue: &mut VecDeque<Action>,
    ) {
        for SyncedBlock { block, certificate } in blocks {
            if self.replica.is_some() {
                // Became a validator part-way: the replica takes the rest.
                self.input(
                    Input::SyncedBlock {
                        block: Arc::new(block),
                        certificate,
                    },
                    queue,
                );
                continue;
            }
            let height = block.header.height;
            if height != self.ledger.tip().height + 1 {
                continue;
            }
            let set = match self.ledger.validator_set_at(height) {
                Ok(s) => s,
                Err(e) => {
                    warn!(height, error = %e, "runtime: cannot read the validator set");
                    return;
                }
            };
            let hash: Hash = block.header.hash();
            if certificate.vote.height != height
                || certificate
                    .verify_for(&hash, &set, &self.params.chain_id)
                    .is_err()
            {
                warn!(
                    height,
                    "runtime: followed block without a valid certificate; dropped"
                );
                return;
            }
            match self.ledger.commit(&block, &certificate, &NothingVerified) {
                Ok(committed) => self.announce(committed, queue),
                Err(e) => {
                    warn!(height, error = %e, "runtime: followed block refused");
                    return;
                }
            }
        }
    }
}
