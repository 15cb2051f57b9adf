//! Wire messages: PRE-PREPARE, PREPARE, COMMIT, VIEW-CHANGE, NEW-VIEW and
//! SUSPECT.
//!
//! Every message is signed once by its sender over the canonical encoding of
//! its signed part, in its own [`Domain`]. A COMMIT is signed over
//! [`CommitVote`] exactly as a [`CommitCertificate`] expects, so a quorum of
//! COMMIT messages *is* a certificate.

use std::sync::Arc;

use bincode::{Decode, Encode};
use chancery_types::crypto::signature::verify;
use chancery_types::encoding::DecodeCtx;
use chancery_types::{
    Block, Canonical, CertSignature, ChainId, CommitCertificate, CommitVote, Domain, Hash, List,
    PublicKey, SecretKey, Signature, SignatureError,
};

/// Most heights one VIEW-CHANGE may carry prepared proofs for (the largest
/// allowed window).
pub const MAX_PREPARED: usize = 64;

/// What the primary signs for a proposal ([`Domain::Proposal`]).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Encode, Decode)]
#[bincode(decode_context = "DecodeCtx")]
pub struct ProposalVote {
    /// View the proposal is made in.
    pub view: u64,
    /// Height of the block.
    pub height: u64,
    /// Hash of the block header.
    pub block_hash: Hash,
}
impl Canonical for ProposalVote {}

/// What a replica signs when it prepares ([`Domain::Prepare`]).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Encode, Decode)]
#[bincode(decode_context = "DecodeCtx")]
pub struct PrepareVote {
    /// View of the vote.
    pub view: u64,
    /// Height of the block.
    pub height: u64,
    /// Hash of the block header.
    pub block_hash: Hash,
}
impl Canonical for PrepareVote {}

/// PRE-PREPARE: the primary of `view` proposes `block` at its height.
#[derive(Clone, Debug, PartialEq, Eq, Encode, Decode)]
#[bincode(decode_context = "DecodeCtx")]
pub struct PrePrepare {
    /// View of the proposal (for a fresh block, equal to `block.header.view`).
    pub view: u64,
    /// The proposed block (shared: the replica keeps it in its slot and
    /// hands it to the node without copying its records).
    pub block: Arc<Block>,
    /// Index of the signer (must be the primary of `view`).
    pub signer: u16,
    /// Signature over [`PrePrepare::vote`] in [`Domain::Proposal`].
    pub signature: Signature,
}

impl PrePrepare {
    /// Signs a proposal.
    pub fn new(
        view: u64,
        block: Arc<Block>,
        signer: u16,
        key: &SecretKey,
        chain: &ChainId,
    ) -> Self {
        let vote = ProposalVote {
            view,
            height: block.header.height,
            block_hash: block.header.hash(),
        };
        let signature = key.sign(Domain::Proposal, &chain.0, &vote.to_canonical());
        PrePrepare {
            view,
            block,
            signer,
            signature,
        }
    }

    /// The signed content.
    pub fn vote(&self) -> ProposalVote {
        ProposalVote {
            view: self.view,
            height: self.block.header.height,
            block_hash: self.block.header.hash(),
        }
    }

    /// Checks the signature under `key`.
    pub fn verify(&self, key: &PublicKey, chain: &ChainId) -> Result<(), SignatureError> {
        let bytes = self.vote().to_canonical();
        verify(key, Domain::Proposal, &chain.0, &bytes, &self.signature)
    }
}

/// PREPARE: a replica accepted a proposal.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Encode, Decode)]
#[bincode(decode_context = "DecodeCtx")]
pub struct Prepare {
    /// The vote.
    pub vote: PrepareVote,
    /// Index of the signer.
    pub signer: u16,
    /// Signature over `vote` in [`Domain::Prepare`].
    pub signature: Signature,
}

impl Prepare {
    /// Signs a prepare vote.
    pub fn new(vote: PrepareVote, signer: u16, key: &SecretKey, chain: &ChainId) -> Self {
        let signature = key.sign(Domain::Prepare, &chain.0, &vote.to_canonical());
        Prepare {
            vote,
            signer,
            signature,
        }
    }

    /// Checks the signature under `key`.
    pub fn verify(&self, key: &PublicKey, chain: &ChainId) -> Result<(), SignatureError> {
        let bytes = self.vote.to_canonical();
        verify(key, Domain::Prepare, &chain.0, &bytes, &self.signature)
    }
}

/// COMMIT: a replica is prepared and commits. Its signature goes straight
/// into the block's [`CommitCertificate`].
#[derive(Clone, Copy, Debug, PartialEq, Eq, Encode, Decode)]
#[bincode(decode_context = "DecodeCtx")]
pub struct Commit {
    /// The vote.
    pub vote: CommitVote,
    /// Index of the signer.
    pub signer: u16,
    /// `SecretKey::sign(Domain::Commit, chain, vote.to_canonical())`.
    pub signature: Signature,
}

impl Commit {
    /// Signs a commit vote.
    pub fn new(vote: CommitVote, signer: u16, key: &SecretKey, chain: &ChainId) -> Self {
        let signature = key.sign(Domain::Commit, &chain.0, &vote.to_canonical());
        Commit {
            vote,
            signer,
            signature,
        }
    }

    /// Checks the signature under `key`.
    pub fn verify(&self, key: &PublicKey, chain: &ChainId) -> Result<(), SignatureError> {
        let bytes = self.vote.to_canonical();
        verify(key, Domain::Commit, &chain.0, &bytes, &self.signature)
    }
}

/// A quorum of PREPARE signatures on one vote.
#[derive(Clone, Debug, PartialEq, Eq, Encode, Decode)]
#[bincode(decode_context = "DecodeCtx")]
pub struct PreparedCertificate {
    /// The vote every signature is over.
    pub vote: PrepareVote,
    /// Signatures, sorted by validator index, no index twice.
    pub signatures: List<CertSignature, { chancery_types::limits::MAX_VALIDATORS }>,
}

/// A prepared certificate and the block it prepares (so that the next
/// primary can re-propose it without a fetch).
#[derive(Clone, Debug, PartialEq, Eq, Encode, Decode)]
#[bincode(decode_context = "DecodeCtx")]
pub struct PreparedProof {
    /// The certificate.
    pub certificate: PreparedCertificate,
    /// The block; `block.header.hash() == certificate.vote.block_hash`.
    pub block: Arc<Block>,
}

/// The signed part of a VIEW-CHANGE.
#[derive(Clone, Debug, PartialEq, Eq, Encode, Decode)]
#[bincode(decode_context = "DecodeCtx")]
pub struct ViewChangeBody {
    /// The view the sender wants to move to.
    pub view: u64,
    /// Certificate of the sender's last delivered block (`None` at genesis).
    pub committed: Option<CommitCertificate>,
    /// The sender's highest-view prepared proof for each height above its
    /// last delivered one, in height order.
    pub prepared: List<PreparedProof, MAX_PREPARED>,
}
impl Canonical for ViewChangeBody {}

/// VIEW-CHANGE: the sender leaves its view and reports what it prepared.
#[derive(Clone, Debug, PartialEq, Eq, Encode, Decode)]
#[bincode(decode_context = "DecodeCtx")]
pub struct ViewChange {
    /// The signed part.
    pub body: ViewChangeBody,
    /// Index of the signer.
    pub signer: u16,
    /// Signature over `body` in [`Domain::ViewChange`].
    pub signature: Signature,
}

impl ViewChange {
    /// Signs a view change.
    pub fn new(body: ViewChangeBody, signer: u16, key: &SecretKey, chain: &ChainId) -> Self {
        let signature = key.sign(Domain::ViewChange, &chain.0, &body.to_canonical());
        ViewChange {
            body,
            signer,
            signature,
        }
    }
}

/// The signed part of a NEW-VIEW.
#[derive(Clone, Debug, PartialEq, Eq, Encode, Decode)]
#[bincode(decode_context = "DecodeCtx")]
pub struct NewViewBody {
    /// The new view.
    pub view: u64,
    /// A quorum of VIEW-CHANGE messages for `view`, sorted by signer. Every
    /// replica derives the re-proposals from them (see `new_view::select`).
    pub view_changes: List<ViewChange, { chancery_types::limits::MAX_VALIDATORS }>,
}
impl Canonical for NewViewBody {}

/// NEW-VIEW: the primary of `body.view` starts the view.
#[derive(Clone, Debug, PartialEq, Eq, Encode, Decode)]
#[bincode(decode_context = "DecodeCtx")]
pub struct NewView {
    /// The signed part.
    pub body: NewViewBody,
    /// Index of the signer (the primary of `body.view`).
    pub signer: u16,
    /// Signature over `body` in [`Domain::NewView`].
    pub signature: Signature,
}

impl NewView {
    /// Signs a new view.
    pub fn new(body: NewViewBody, signer: u16, key: &SecretKey, chain: &ChainId) -> Self {
        let signature = key.sign(Domain::NewView, &chain.0, &body.to_canonical());
        NewView {
            body,
            signer,
            signature,
        }
    }
}

/// What a backup signs when it suspects a primary ([`Domain::Suspect`]).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Encode, Decode)]
#[bincode(decode_context = "DecodeCtx")]
pub struct SuspectVote {
    /// The view whose primary is suspected.
    pub view: u64,
    /// The height the sender waits for (its last delivered + 1). Views
    /// start again at 0 with each validator set; the height ties the
    /// suspicion to this set's heights, so one signed under an earlier
    /// set cannot be replayed in a later set's view of the same number.
    pub height: u64,
}
impl Canonical for SuspectVote {}

/// SUSPECT: the sender, a backup in `view`, holds a record that has waited
/// longer than its request timeout without the primary of `view`
/// proposing it (PBFT's request timer). Once f+1 validators suspect the
/// same view, every replica in it moves to the next view: at least one of
/// them is correct, and no f of them can depose a primary alone.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Encode, Decode)]
#[bincode(decode_context = "DecodeCtx")]
pub struct Suspect {
    /// The view whose primary is suspected.
    pub view: u64,
    /// The height the sender waits for ([`SuspectVote::height`]).
    pub height: u64,
    /// Index of the signer.
    pub signer: u16,
    /// Signature over [`SuspectVote`] in [`Domain::Suspect`].
    pub signature: Signature,
}

impl Suspect {
    /// Signs a suspicion of the primary of `view`, waiting for `height`.
    pub fn new(view: u64, height: u64, signer: u16, key: &SecretKey, chain: &ChainId) -> Self {
        let signature = key.sign(
            Domain::Suspect,
            &chain.0,
            &SuspectVote { view, height }.to_canonical(),
        );
        Suspect {
            view,
            height,
            signer,
            signature,
        }
    }

    /// Checks the signature under `key`.
    pub fn verify(&self, key: &PublicKey, chain: &ChainId) -> Result<(), SignatureError> {
        let bytes = SuspectVote {
            view: self.view,
            height: self.height,
        }
        .to_canonical();
        verify(key, Domain::Suspect, &chain.0, &bytes, &self.signature)
    }
}

/// Any consensus message.
#[derive(Clone, Debug, PartialEq, Eq, Encode, Decode)]
#[bincode(decode_context = "DecodeCtx")]
pub enum Message {
    /// A proposal.
    PrePrepare(PrePrepare),
    /// A prepare vote.
    Prepare(Prepare),
    /// A commit vote.
    Commit(Commit),
    /// A view change.
    ViewChange(ViewChange),
    /// A new view.
    NewView(NewView),
    /// A suspicion of the primary.
    Suspect(Suspect),
}
impl Canonical for Message {}

impl Message {
    /// The claimed signer.
    pub fn signer(&self) -> u16 {
        match self {
            Message::PrePrepare(m) => m.signer,
            Message::Prepare(m) => m.signer,
            Message::Commit(m) => m.signer,
            Message::ViewChange(m) => m.signer,
            Message::NewView(m) => m.signer,
            Message::Suspect(m) => m.signer,
        }
    }

    /// The view the message belongs to.
    pub fn view(&self) -> u64 {
        match self {
            Message::PrePrepare(m) => m.view,
            Message::Prepare(m) => m.vote.view,
            Message::Commit(m) => m.vote.view,
            Message::ViewChange(m) => m.body.view,
            Message::NewView(m) => m.body.view,
            Message::Suspect(m) => m.view,
        }
    }

    /// The height, for per-height messages.
    pub fn height(&self) -> Option<u64> {
        match self {
            Message::PrePrepare(m) => Some(m.block.header.height),
            Message::Prepare(m) => Some(m.vote.height),
            Message::Commit(m) => Some(m.vote.height),
            Message::ViewChange(_) | Message::NewView(_) | Message::Suspect(_) => None,
        }
    }

    /// A short name for logs.
    pub fn kind(&self) -> &'static str {
        match self {
            Message::PrePrepare(_) => "pre-prepare",
            Message::Prepare(_) => "prepare",
            Message::Commit(_) => "commit",
            Message::ViewChange(_) => "view-change",
            Message::NewView(_) => "new-view",
            Message::Suspect(_) => "suspect",
        }
    }
}
