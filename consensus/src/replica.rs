//! The replica: state, the `handle` entry point, persistence gating and the
//! helpers every handler shares. Message handlers live in `handle/`.

use std::collections::{BTreeMap, BTreeSet, VecDeque};
use std::sync::Arc;

use chancery_types::{
    Block, ChainId, CommitCertificate, Hash, List, PublicKey, Signature, ValidatorSet,
};
use tracing::debug;

use crate::action::{Action, Input, PersistToken, Timer, TimerKind};
use crate::config::Config;
use crate::error::Error;
use crate::evidence::{Equivocation, VoteKind};
use crate::message::{Message, PreparedProof, ViewChange};
use crate::slot::Slot;
use crate::state::{PersistentState, VoteBound, VoteRecord};

/// Most buffered messages for a later view or a height just above the window.
pub(crate) const MAX_BUFFERED: usize = 4096;
/// Messages more than this many views ahead are dropped, not buffered.
pub(crate) const MAX_VIEWS_AHEAD: u64 = 8;
/// Most certified blocks kept from sync ahead of the next height.
pub(crate) const MAX_SYNCED: usize = 1024;

/// A verified vote from a peer, as remembered for evidence.
pub(crate) struct SeenVote {
    pub kind: VoteKind,
    pub view: u64,
    pub height: u64,
    pub signer: u16,
    pub hash: Hash,
    pub signature: Signature,
}

/// Whether the replica runs a view or is changing view.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Mode {
    /// Running `view` normally.
    Normal,
    /// Sent VIEW-CHANGE for `view`, waiting for its NEW-VIEW.
    ViewChange,
}

/// A PBFT replica: a deterministic state machine driven by [`Replica::handle`].
#[derive(Debug)]
pub struct Replica {
    pub(crate) cfg: Config,
    pub(crate) now: u64,
    // --- persisted ---
    pub(crate) view: u64,
    pub(crate) mode: Mode,
    pub(crate) delivered: u64,
    pub(crate) tip_hash: Hash,
    pub(crate) tip_cert: Option<CommitCertificate>,
    /// Latest signed vote per (kind, height): (view, hash).
    pub(crate) votes: BTreeMap<(VoteKind, u64), (u64, Hash)>,
    /// Highest-view prepared proof per height above `delivered`.
    pub(crate) prepared: BTreeMap<u64, PreparedProof>,
    /// Per bounded vote kind, (view, height): votes of that kind up to it
    /// may be signed without a persist each ([`VoteBound`]).
    pub(crate) bounds: BTreeMap<VoteKind, (u64, u64)>,
    /// The bounds this replica was restored with: up to them, in their
    /// view, it may have signed votes it no longer knows.
    pub(crate) restored_bounds: BTreeMap<VoteKind, (u64, u64)>,
    // --- volatile ---
    /// Per-height state in the current view, heights in the window.
    pub(crate) slots: BTreeMap<u64, Slot>,
    /// Certificates learned for heights not yet delivered.
    pub(crate) certified: BTreeMap<u64, CommitCertificate>,
    /// Latest (highest-view) VIEW-CHANGE per signer, views ≥ ours.
    pub(crate) view_changes: BTreeMap<u16, ViewChange>,
    /// View changes whose contents were already verified: (signer, body hash).
    pub(crate) verified_vcs: BTreeSet<(u16, Hash)>,
    /// Validators known to suspect the primary of the current view.
    pub(crate) suspects: BTreeSet<u16>,
    /// The NEW-VIEW we sent as primary of the current view.
    pub(crate) last_new_view: Option<crate::message::NewView>,
    /// First vote seen per (kind, view, height, signer), for evidence.
    pub(crate) seen: BTreeMap<(VoteKind, u64, u64, u16), (Hash, Signature)>,
    /// Messages for a later view or a height just above the window.
    pub(crate) future: VecDeque<Message>,
    /// Certified blocks from sync above the next height.
    pub(crate) synced: BTreeMap<u64, (Arc<Block>, CommitCertificate)>,
    /// Highest out-of-window height each validator signed a message for.
    pub(crate) ahead: BTreeMap<u16, u64>,
    /// The same, per validator, for messages of the view they were signed
    /// in: (view, highest height) of its latest such view (D47).
    pub(crate) ahead_in_view: BTreeMap<u16, (u64, u64)>,
    /// Highest height already requested by `RequestBlocks`.
    pub(crate) requested_to: u64,
    /// Height of the proposal asked for by `BuildProposal`.
    pub(crate) building: Option<u64>,
    pub(crate) timer_seq: u64,
    /// View changes since the last delivered block (drives the backoff).
    pub(crate) attempt: u32,
    pub(crate) last_token: u64,
    pub(crate) acked: u64,
    pub(crate) held: VecDeque<(u64, Action)>,
    /// State changed since the last `Persist`.
    pub(crate) dirty: bool,
    /// The last height this validator set orders (a governance change
    /// hands later heights to another set, and another replica).
    pub(crate) last_height: Option<u64>,
    /// Signatures of per-height messages checked so far.
    pub(crate) signature_checks: u64,
}

impl Replica {
    /// A replica that has never run (view 0, nothing delivered).
    pub fn new(config: Config) -> Result<Self, Error> {
        Self::restore(config, PersistentState::genesis())
    }

    /// A replica resuming from the last state it persisted. Feed it
    /// [`Input::SyncedBlock`] for ledger blocks above `state.delivered`,
    /// then [`Input::Start`].
    pub fn restore(config: Config, state: PersistentState) -> Result<Self, Error> {
        config.validate()?;
        let votes = state
            .votes
            .iter()
            .map(|v| ((v.kind, v.height), (v.view, v.block_hash)))
            .collect();
        let prepared = state
            .prepared
            .iter()
            .map(|p| (p.certificate.vote.height, p.clone()))
            .collect();
        let bounds: BTreeMap<VoteKind, (u64, u64)> = state
            .bounds
            .iter()
            .map(|b| (b.kind, (b.view, b.height)))
            .collect();
        Ok(Replica {
            cfg: config,
            now: 0,
            view: state.view,
            mode: if state.in_view_change {
                Mode::ViewChange
            } else {
                Mode::Normal
            },
            delivered: state.delivered,
            tip_hash: state.tip_hash,
            tip_cert: state.tip_certificate,
            votes,
            prepared,
            restored_bounds: bounds.clone(),
            bounds,
            slots: BTreeMap::new(),
            certified: BTreeMap::new(),
            view_changes: BTreeMap::new(),
            verified_vcs: BTreeSet::new(),
            suspects: BTreeSet::new(),
            last_new_view: None,
            seen: BTreeMap::new(),
            future: VecDeque::new(),
            synced: BTreeMap::new(),
            ahead: BTreeMap::new(),
            ahead_in_view: BTreeMap::new(),
            requested_to: state.delivered,
            building: None,
            timer_seq: 0,
            attempt: 0,
            last_token: 0,
            acked: 0,
            held: VecDeque::new(),
            dirty: false,
            last_height: None,
            signature_checks: 0,
        })
    }

    /// Handles one input at time `now` (ms) and returns what the node must do, in order.
    pub fn handle(&mut self, now: u64, input: Input) -> Vec<Action> {
        self.now = self.now.max(now);
        let mut out = Vec::new();
        let result = match input {
            Input::Start => {
                self.on_start(&mut out);
                Ok(())
            }
            Input::Message(m) => self.on_message(m, &mut out),
            Input::Bytes(bytes) => {
                match <Message as chancery_types::Canonical>::from_canonical(&bytes) {
                    Ok(m) => self.on_message(m, &mut out),
                    Err(error) => Err(Error::Malformed { error }),
                }
            }
            Input::TimerFired(t) => self.on_timer(t, &mut out),
            Input::ProposalReady(b) => self.on_proposal_ready(b, &mut out),
            Input::BlockValidated { hash, valid } => self.on_block_validated(hash, valid, &mut out),
            Input::Persisted(token) => {
                // A token never issued acknowledges nothing beyond the last one.
                self.acked = self.acked.max(token.0.min(self.last_token));
                Ok(())
            }
            Input::SyncedBlock { block, certificate } => {
                self.on_synced_block(block, certificate, &mut out)
            }
            Input::Suspect => self.suspect_primary(&mut out),
            Input::PeerConnected(peer) => self.on_peer_connected(peer, &mut out),
        };
        if let Err(e) = result {
            debug!(replica = self.cfg.me, view = self.view, reason = %e, "input dropped");
        }
        self.finish(out)
    }

    /// Applies the persistence gate to the actions of one call.
    fn finish(&mut self, out: Vec<Action>) -> Vec<Action> {
        let mut result = Vec::with_capacity(out.len() + 1);
        // Release what an acknowledged persist was holding, in order.
        while self.held.front().is_some_and(|(t, _)| *t <= self.acked) {
            if let Some((_, a)) = self.held.pop_front() {
                result.push(a);
            }
        }
        if self.dirty {
            self.dirty = false;
            self.last_token += 1;
            result.push(Action::Persist {
                token: PersistToken(self.last_token),
                state: self.persistent_state(),
            });
        }
        let gated = self.last_token > self.acked;
        for a in out {
            if gated && a.is_effect() {
                self.held.push_back((self.last_token, a));
            } else {
                result.push(a);
            }
        }
        result
    }

    /// The state to persist now.
    pub fn persistent_state(&self) -> PersistentState {
        let votes: Vec<VoteRecord> = self
            .votes
            .iter()
            .filter(|((_, h), _)| *h > self.delivered)
            .map(|((kind, height), (view, hash))| VoteRecord {
                kind: *kind,
                view: *view,
                height: *height,
                block_hash: *hash,
            })
            .collect();
        let prepared: Vec<PreparedProof> = self
            .prepared
            .range(self.delivered + 1..)
            .map(|(_, p)| p.clone())
            .collect();
        PersistentState {
            view: self.view,
            in_view_change: self.mode == Mode::ViewChange,
            delivered: self.delivered,
            tip_hash: self.tip_hash,
            tip_certificate: self.tip_cert.clone(),
            // Both are bounded by the window (≤ 64 heights, 3 kinds).
            votes: List::new(votes).unwrap_or_default(),
            prepared: List::new(prepared).unwrap_or_default(),
            // At most one per bounded kind (two kinds).
            bounds: List::new(
                self.bounds
                    .iter()
                    .map(|(&kind, &(view, height))| VoteBound { kind, view, height })
                    .collect(),
            )
            .unwrap_or_default(),
        }
    }

    // ----- accessors -----

    /// Current view.
    pub fn view(&self) -> u64 {
        self.view
    }
    /// Normal or changing view.
    pub fn mode(&self) -> Mode {
        self.mode
    }
    /// Last delivered height.
    pub fn delivered(&self) -> u64 {
        self.delivered
    }
    /// Hash of the last delivered block.
    pub fn tip_hash(&self) -> Hash {
        self.tip_hash
    }
    /// This replica's index.
    pub fn me(&self) -> u16 {
        self.cfg.me
    }
    /// The chain id.
    pub fn chain_id(&self) -> &ChainId {
        &self.cfg.chain_id
    }
    /// Whether this replica is fetching certified blocks it is behind on
    /// (asked for by [`Action::RequestBlocks`], not all delivered yet).
    /// Its node still holds records the others have committed, so it
    /// does not suspect the primary meanwhile.
    pub fn catching_up(&self) -> bool {
        self.requested_to > self.delivered
    }
    /// Number of actions held back until a persist is acknowledged.
    pub fn held_actions(&self) -> usize {
        self.held.len()
    }

    /// How many PRE-PREPARE, PREPARE and COMMIT signatures this replica has
    /// checked: each check is a curve operation, the largest part of a
    /// replica's own work per height.
    pub fn signature_checks(&self) -> u64 {
        self.signature_checks
    }

    /// Ends this replica's validator set at `last`: it proposes, accepts
    /// and syncs nothing above it. Once it has delivered `last`
    /// ([`Replica::epoch_done`]), the node hands the next heights to a
    /// replica of the next set. `last` must not be below a height the
    /// replica already has in flight (the node calls this when it commits
    /// the block that schedules the change, `execution_lag` heights
    /// before any in-flight height could reach `last`).
    pub fn end_epoch_at(&mut self, last: u64) {
        self.last_height = Some(last);
        self.slots.retain(|h, _| *h <= last);
    }

    /// The last height of this replica's set, once a change is scheduled.
    pub fn last_height(&self) -> Option<u64> {
        self.last_height
    }

    /// Whether the replica has delivered its set's last height.
    pub fn epoch_done(&self) -> bool {
        self.last_height.is_some_and(|l| self.delivered >= l)
    }

    /// `Err(BeyondEpoch)` for heights after this set's last height.
    pub(crate) fn check_epoch(&self, height: u64) -> Result<(), Error> {
        match self.last_height {
            Some(last) if height > last => Err(Error::BeyondEpoch { height, last }),
            _ => Ok(()),
        }
    }

    /// The validator set of this replica. (Each replica serves one set;
    /// the node runs a new replica when the set changes.)
    pub fn validators(&self, _height: u64) -> &ValidatorSet {
        &self.cfg.validators
    }
    pub(crate) fn set(&self) -> &ValidatorSet {
        self.validators(self.delivered + 1)
    }
    pub(crate) fn n(&self) -> usize {
        self.set().n()
    }
    pub(crate) fn f(&self) -> usize {
        self.set().f()
    }
    pub(crate) fn quorum(&self) -> usize {
        self.set().quorum()
    }
    /// Primary of `view`.
    pub fn primary(&self, view: u64) -> u16 {
        (view % self.n() as u64) as u16
    }
    pub(crate) fn is_primary(&self) -> bool {
        self.primary(self.view) == self.cfg.me
    }

    /// The key of another validator; refuses unknown indices and ourselves.
    pub(crate) fn peer_key(&self, index: u16) -> Result<PublicKey, Error> {
        if index == self.cfg.me {
            return Err(Error::OwnMessage { index });
        }
        self.set()
            .get(index as usize)
            .map(|v| v.consensus_key)
            .ok_or(Error::UnknownValidator { index, n: self.n() })
    }

    /// Hash of the block at `height` if known: the tip, a certified
    /// height, or the block accepted in the current view.
    pub(crate) fn hash_at(&self, height: u64) -> Option<Hash> {
        if height == self.delivered {
            return Some(self.tip_hash);
        }
        if height < self.delivered {
            return None;
        }
        if let Some(c) = self.certified.get(&height) {
            return Some(c.vote.block_hash);
        }
        self.slots.get(&height).and_then(|s| s.hash)
    }

    /// Highest height known to be committed (delivered, or certified).
    /// No fresh block may be proposed or prepared at or below it: those
    /// heights are fetched by block sync.
    pub(crate) fn certified_floor(&self) -> u64 {
        self.certified
            .last_key_value()
            .map_or(self.delivered, |(h, _)| (*h).max(self.delivered))
    }

    /// Records that we sign `kind` for `(view, height, hash)`; refuses a
    /// second, different one for the same view and height, and, after a
    /// restart, any one this replica may have signed and forgotten.
    ///
    /// A COMMIT always makes the state dirty (persisted before it leaves).
    /// A proposal or PREPARE does only when it is above the kind's
    /// [`VoteBound`], which then moves a window ahead (see state.rs).
    pub(crate) fn guard_vote(
        &mut self,
        kind: VoteKind,
        height: u64,
        hash: Hash,
    ) -> Result<(), Error> {
        let view = self.view;
        match self.votes.get(&(kind, height)) {
            Some(&(v, signed)) if v == view && signed != hash => {
                return Err(Error::WouldEquivocate {
                    kind,
                    view,
                    height,
                    signed,
                });
            }
            Some(&(v, _)) if v == view => {}
            _ => {
                if let Some(&(v, bound)) = self.restored_bounds.get(&kind)
                    && v == view
                    && height <= bound
                {
                    return Err(Error::MayHaveSigned {
                        kind,
                        view,
                        height,
                        bound,
                    });
                }
            }
        }
        if self.votes.insert((kind, height), (view, hash)) == Some((view, hash)) {
            return Ok(()); // the same vote again
        }
        if kind == VoteKind::Commit {
            self.dirty = true;
            return Ok(());
        }
        let covered = self
            .bounds
            .get(&kind)
            .is_some_and(|&(v, bound)| v == view && height <= bound);
        if !covered {
            self.bounds
                .insert(kind, (view, height.saturating_add(self.cfg.window)));
            self.dirty = true;
        }
        Ok(())
    }

    /// Whether a `kind` vote by `signer` for `hash` at `(view, height)` can
    /// change nothing: this replica already holds the certificate that kind
    /// of vote builds for that block at that height (prepared for a
    /// PREPARE, decided for a COMMIT), and the signer cast no other vote
    /// there, so the vote is neither needed nor evidence. Such a vote is
    /// dropped before its signature is checked, as a COMMIT for a
    /// delivered height already is (D41).
    pub(crate) fn is_redundant_vote(
        &self,
        kind: VoteKind,
        view: u64,
        height: u64,
        signer: u16,
        hash: Hash,
    ) -> bool {
        let Some(slot) = self.slots.get(&height) else {
            return false;
        };
        let certified = match kind {
            VoteKind::Prepare => slot.prepared && slot.hash == Some(hash),
            VoteKind::Commit => slot.decided == Some(hash),
            VoteKind::Proposal => false,
        };
        certified
            && self
                .seen
                .get(&(kind, view, height, signer))
                .is_none_or(|(first, _)| *first == hash)
    }

    /// Remembers the first vote of each signer per slot; a different second
    /// one becomes evidence (and is dropped).
    pub(crate) fn note_vote(&mut self, v: SeenVote, out: &mut Vec<Action>) -> Result<(), Error> {
        let SeenVote {
            kind,
            view,
            height,
            signer,
            hash,
            signature,
        } = v;
        match self.seen.entry((kind, view, height, signer)) {
            std::collections::btree_map::Entry::Vacant(e) => {
                e.insert((hash, signature));
                Ok(())
            }
            std::collections::btree_map::Entry::Occupied(e) => {
                let (first_hash, first_signature) = *e.get();
                if first_hash == hash {
                    return Ok(());
                }
                out.push(Action::Evidence(Equivocation {
                    validator: signer,
                    kind,
                    view,
                    height,
                    first_hash,
                    first_signature,
                    second_hash: hash,
                    second_signature: signature,
                }));
                Err(Error::Equivocation {
                    validator: signer,
                    kind,
                    view,
                    height,
                })
            }
        }
    }

    /// Schedules the (single live) timer for the current mode.
    pub(crate) fn schedule_timer(&mut self, out: &mut Vec<Action>) {
        self.timer_seq += 1;
        let kind = match self.mode {
            Mode::Normal => TimerKind::Progress { view: self.view },
            Mode::ViewChange => TimerKind::ViewChange { view: self.view },
        };
        out.push(Action::ScheduleTimer {
            timer: Timer {
                kind,
                seq: self.timer_seq,
            },
            at: self.now + self.cfg.timeouts.after(self.attempt),
        });
    }

    /// Asks the node for certified blocks up to `to`, once per range.
    pub(crate) fn request_blocks(&mut self, to: u64, out: &mut Vec<Action>) {
        let to = self.last_height.map_or(to, |last| to.min(last));
        if to > self.delivered && to > self.requested_to {
            out.push(Action::RequestBlocks {
                from: self.delivered + 1,
                to,
            });
            self.requested_to = to;
        }
    }

    fn on_start(&mut self, out: &mut Vec<Action>) {
        self.schedule_timer(out);
        match self.mode {
            Mode::Normal => self.maybe_propose(out),
            Mode::ViewChange => self.send_view_change(out),
        }
    }

    fn on_message(&mut self, m: Message, out: &mut Vec<Action>) -> Result<(), Error> {
        let Some(m) = self.admit(m, out)? else {
            return Ok(());
        };
        match m {
            Message::PrePrepare(p) => self.on_pre_prepare(p, out),
            Message::Prepare(p) => self.on_prepare(p, out),
            Message::Commit(c) => self.on_commit(c, out),
            Message::ViewChange(v) => self.on_view_change(v, out),
            Message::NewView(v) => self.on_new_view(v, out),
            Message::Suspect(s) => self.on_suspect(s, out),
        }
    }

    /// Re-runs buffered messages (after the window moved or the view changed).
    pub(crate) fn replay_future(&mut self, out: &mut Vec<Action>) {
        let pending = std::mem::take(&mut self.future);
        for m in pending {
            if let Err(e) = self.on_message(m, out) {
                debug!(replica = self.cfg.me, reason = %e, "buffered message dropped");
            }
        }
    }
}
