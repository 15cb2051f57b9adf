//! Why the replica dropped an input or refused a configuration.
//!
//! A dropped input casts no vote and moves no height or view;
//! [`crate::Replica::handle`] logs the reason with `tracing::debug!`. (It
//! may still leave a trace used for evidence or for noticing that the
//! replica is behind, and a second signed vote yields an evidence action.)

use chancery_types::cert::CertificateError;
use chancery_types::{DecodeError, Hash, SignatureError};

use crate::evidence::VoteKind;

/// Everything that can go wrong in this crate.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Error {
    /// The configuration is not usable.
    #[error("invalid consensus configuration: {reason}")]
    InvalidConfig {
        /// What is wrong.
        reason: String,
    },
    /// Bytes that do not decode as a message.
    #[error("malformed message: {error}")]
    Malformed {
        /// The decoder's reason.
        error: DecodeError,
    },
    /// A signer index outside the validator set.
    #[error("message signed by index {index}, but the validator set has {n}")]
    UnknownValidator {
        /// The claimed index.
        index: u16,
        /// Set size.
        n: usize,
    },
    /// A message that claims to be ours (an echo, or a twin).
    #[error("message claims to be signed by this replica ({index})")]
    OwnMessage {
        /// Our index.
        index: u16,
    },
    /// A signature that does not verify.
    #[error("bad {kind} signature from validator {signer}: {error}")]
    BadSignature {
        /// Message kind.
        kind: &'static str,
        /// Claimed signer.
        signer: u16,
        /// Why.
        error: SignatureError,
    },
    /// A message for a view we already left.
    #[error("message for view {msg_view}, current view is {current_view}")]
    StaleView {
        /// View of the message.
        msg_view: u64,
        /// Our view.
        current_view: u64,
    },
    /// A message too far ahead in views to keep.
    #[error("message for view {msg_view} is too far ahead of view {current_view}")]
    FarFutureView {
        /// View of the message.
        msg_view: u64,
        /// Our view.
        current_view: u64,
    },
    /// A height outside `(delivered, delivered + window]` (and not close enough to buffer).
    #[error("height {height} is outside the window ({delivered}, {delivered} + {window}]")]
    OutOfWindow {
        /// Height of the message.
        height: u64,
        /// Our last delivered height.
        delivered: u64,
        /// The window.
        window: u64,
    },
    /// A height after the last height of this replica's validator set.
    #[error("height {height} is after this validator set's last height {last}")]
    BeyondEpoch {
        /// Height of the message or block.
        height: u64,
        /// The set's last height.
        last: u64,
    },
    /// A proposal from someone who is not the primary of its view.
    #[error("validator {signer} is not the primary of view {view} (validator {primary} is)")]
    NotPrimary {
        /// Signer.
        signer: u16,
        /// View.
        view: u64,
        /// The primary.
        primary: u16,
    },
    /// A block header that does not match its proposal.
    #[error("block header field `{field}` is wrong: {detail}")]
    BadHeader {
        /// Which field.
        field: &'static str,
        /// What was expected.
        detail: String,
    },
    /// A commit certificate that does not verify.
    #[error("invalid commit certificate for height {height}: {error}")]
    BadCertificate {
        /// Height certified.
        height: u64,
        /// Why.
        error: CertificateError,
    },
    /// A prepared proof inside a view change that does not verify.
    #[error("invalid prepared proof at height {height} from validator {signer}: {reason}")]
    BadPreparedProof {
        /// Height of the proof.
        height: u64,
        /// Signer of the enclosing view change.
        signer: u16,
        /// What is wrong.
        reason: &'static str,
    },
    /// A NEW-VIEW whose view changes do not justify it.
    #[error("invalid new-view for view {view}: {reason}")]
    BadNewView {
        /// The view.
        view: u64,
        /// What is wrong.
        reason: &'static str,
    },
    /// A second, different signed message from one validator for one slot.
    #[error(
        "validator {validator} equivocated: two {kind:?} votes for view {view}, height {height}"
    )]
    Equivocation {
        /// The culprit.
        validator: u16,
        /// Which vote.
        kind: VoteKind,
        /// View.
        view: u64,
        /// Height.
        height: u64,
    },
    /// Signing would contradict a vote this replica already cast.
    #[error(
        "refusing to sign a second {kind:?} for view {view}, height {height} (already signed {signed})"
    )]
    WouldEquivocate {
        /// Which vote.
        kind: VoteKind,
        /// View.
        view: u64,
        /// Height.
        height: u64,
        /// Hash already signed.
        signed: Hash,
    },
    /// Restored from a state whose [`crate::state::VoteBound`] covers this
    /// vote: the replica may have signed one here before it stopped.
    #[error(
        "refusing to sign a {kind:?} for view {view}, height {height}: before restarting, this replica may have signed one up to height {bound} in this view"
    )]
    MayHaveSigned {
        /// Which vote.
        kind: VoteKind,
        /// View.
        view: u64,
        /// Height.
        height: u64,
        /// The restored bound.
        bound: u64,
    },
    /// A proposal the replica did not ask for, or no longer wants.
    #[error("unexpected proposal for height {height} in view {view}")]
    UnexpectedProposal {
        /// Height of the block.
        height: u64,
        /// Its header view.
        view: u64,
    },
    /// A block whose parent is not the block below it.
    #[error("block at height {height} has parent {found}, expected {expected}")]
    ParentMismatch {
        /// Height.
        height: u64,
        /// Parent in the header.
        found: Hash,
        /// Hash of the block below.
        expected: Hash,
    },
    /// A height that has already been delivered.
    #[error("height {height} is already delivered (up to {delivered})")]
    AlreadyDelivered {
        /// Height.
        height: u64,
        /// Our last delivered height.
        delivered: u64,
    },
    /// A fresh proposal at a height already known to be committed.
    #[error("proposal at height {height}, but height {certified} is already certified")]
    BelowCertified {
        /// Height of the proposal.
        height: u64,
        /// Highest certified height known.
        certified: u64,
    },
    /// A timer that was superseded by a later one.
    #[error("stale timer {seq} (current {current})")]
    StaleTimer {
        /// Its sequence number.
        seq: u64,
        /// The live sequence number.
        current: u64,
    },
    /// A validation result for a block the replica is not waiting on.
    #[error("validation result for unknown block {hash}")]
    UnknownBlock {
        /// The hash.
        hash: Hash,
    },
    /// A suspicion this replica may not raise or count now: it is the
    /// primary it would suspect, or it is changing view, or the suspicion
    /// names a view other than the one it is running.
    #[error("suspicion of view {view} not taken: {reason}")]
    SuspectNotTaken {
        /// The view named.
        view: u64,
        /// Why.
        reason: &'static str,
    },
    /// A message signed under an earlier validator set: views start at 0
    /// with each set, so its view number means another view.
    #[error(
        "{kind} from validator {signer} was signed under an earlier validator set (at height {height}; this set orders from {first})"
    )]
    EarlierValidatorSet {
        /// The message kind.
        kind: &'static str,
        /// The claimed signer.
        signer: u16,
        /// The height it names.
        height: u64,
        /// This set's first height.
        first: u64,
    },
}
