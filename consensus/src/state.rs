//! The state a replica persists so that it can rejoin after a crash without
//! contradicting anything it signed.

use bincode::{Decode, Encode};
use chancery_types::encoding::DecodeCtx;
use chancery_types::{Canonical, CommitCertificate, Hash, List};

use crate::evidence::VoteKind;
use crate::message::{MAX_PREPARED, PreparedProof};

/// One vote this replica signed.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Encode, Decode)]
#[bincode(decode_context = "DecodeCtx")]
pub struct VoteRecord {
    /// Which vote.
    pub kind: VoteKind,
    /// Its view.
    pub view: u64,
    /// Its height.
    pub height: u64,
    /// The block hash signed.
    pub block_hash: Hash,
}

/// Votes of one kind this replica may have signed without listing them in
/// [`PersistentState::votes`]: in `view`, at heights up to `height`.
///
/// A replica persists a bound before the first proposal or PREPARE it
/// signs above the last one, covering the window of heights ahead, and
/// then signs those votes without a persist each: one synced write per
/// window of heights instead of one per vote. A restored replica refuses to
/// sign that kind again in that view at those heights, except a vote
/// `votes` lists (signing the same again is harmless), so it never
/// contradicts a vote it forgot. COMMIT votes are not bounded: each is
/// persisted, with the prepared certificate a view change needs.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Encode, Decode)]
#[bincode(decode_context = "DecodeCtx")]
pub struct VoteBound {
    /// Which vote ([`VoteKind::Proposal`] or [`VoteKind::Prepare`]).
    pub kind: VoteKind,
    /// The view.
    pub view: u64,
    /// The highest height covered.
    pub height: u64,
}

/// Durable consensus state, written on [`crate::Action::Persist`] and given
/// back to [`crate::Replica::restore`].
#[derive(Clone, Debug, PartialEq, Eq, Encode, Decode)]
#[bincode(decode_context = "DecodeCtx")]
pub struct PersistentState {
    /// Current view.
    pub view: u64,
    /// Whether the replica had left `view - 1` and was waiting for NEW-VIEW of `view`.
    pub in_view_change: bool,
    /// Last delivered height (the node's ledger may be ahead; feed the
    /// missing blocks back as `SyncedBlock` after restoring).
    pub delivered: u64,
    /// Hash of the last delivered block (`Hash::ZERO` at genesis).
    pub tip_hash: Hash,
    /// Certificate of the last delivered block.
    pub tip_certificate: Option<CommitCertificate>,
    /// Latest vote of each kind per height above `delivered`.
    pub votes: List<VoteRecord, 256>,
    /// Highest-view prepared proof per height above `delivered`.
    pub prepared: List<PreparedProof, MAX_PREPARED>,
    /// Votes signed but not listed in `votes`, per bounded kind.
    pub bounds: List<VoteBound, 2>,
}
impl Canonical for PersistentState {}

impl PersistentState {
    /// The state of a replica that has never run.
    pub fn genesis() -> Self {
        PersistentState {
            view: 0,
            in_view_change: false,
            delivered: 0,
            tip_hash: Hash::ZERO,
            tip_certificate: None,
            votes: List::default(),
            prepared: List::default(),
            bounds: List::default(),
        }
    }
}
