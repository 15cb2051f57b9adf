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
        }
    }
}
