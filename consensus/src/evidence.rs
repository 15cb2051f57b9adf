//! Evidence of equivocation: two different signed votes from one validator
//! for the same slot. The node puts it on the chain; anyone can verify it.

use bincode::{Decode, Encode};
use chancery_types::crypto::signature::verify;
use chancery_types::encoding::DecodeCtx;
use chancery_types::{Canonical, ChainId, CommitVote, Domain, Hash, Signature, ValidatorSet};

use crate::message::{PrepareVote, ProposalVote};

/// Which signed vote.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Encode, Decode)]
#[bincode(decode_context = "DecodeCtx")]
pub enum VoteKind {
    /// A primary's PRE-PREPARE ([`Domain::Proposal`]).
    Proposal,
    /// A PREPARE ([`Domain::Prepare`]).
    Prepare,
    /// A COMMIT ([`Domain::Commit`]).
    Commit,
}

impl VoteKind {
    /// The exact payload and domain signed for `(view, height, block_hash)`.
    pub fn signed_payload(self, view: u64, height: u64, block_hash: Hash) -> (Domain, Vec<u8>) {
        match self {
            VoteKind::Proposal => (
                Domain::Proposal,
                ProposalVote {
                    view,
                    height,
                    block_hash,
                }
                .to_canonical(),
            ),
            VoteKind::Prepare => (
                Domain::Prepare,
                PrepareVote {
                    view,
                    height,
                    block_hash,
                }
                .to_canonical(),
            ),
            VoteKind::Commit => (
                Domain::Commit,
                CommitVote {
                    height,
                    view,
                    block_hash,
                }
                .to_canonical(),
            ),
        }
    }
}

/// Two conflicting signed votes by one validator for one `(kind, view, height)`.
#[derive(Clone, Debug, PartialEq, Eq, Encode, Decode)]
#[bincode(decode_context = "DecodeCtx")]
pub struct Equivocation {
    /// The culprit's index.
    pub validator: u16,
    /// Which vote.
    pub kind: VoteKind,
    /// View of both votes.
    pub view: u64,
    /// Height of both votes.
    pub height: u64,
    /// First block hash signed.
    pub first_hash: Hash,
    /// Its signature.
    pub first_signature: Signature,
    /// Second, different block hash signed.
    pub second_hash: Hash,
    /// Its signature.
    pub second_signature: Signature,
}
impl Canonical for Equivocation {}

impl Equivocation {
    /// `true` if the hashes differ and both signatures verify under the
    /// validator's key in `set`.
    pub fn verify(&self, set: &ValidatorSet, chain: &ChainId) -> bool {
        let Some(v) = set.get(self.validator as usize) else {
            return false;
        };
        if self.first_hash == self.second_hash {
            return false;
        }
        [
            (self.first_hash, &self.first_signature),
            (self.second_hash, &self.second_signature),
        ]
        .iter()
        .all(|(hash, sig)| {
            let (domain, payload) = self.kind.signed_payload(self.view, self.height, *hash);
            verify(&v.consensus_key, domain, &chain.0, &payload, sig).is_ok()
        })
    }
}
