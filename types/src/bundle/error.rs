//! Why a bundle does not verify: the first failing check, by name.

use crate::cert::CertificateError;
use crate::crypto::keys::KeyId;
use crate::crypto::signature::SignatureError;
use crate::hash::Hash;
use crate::ids::{AgencyId, ChainId, RecordId};
use crate::log_proof::LogProofError;
use crate::state_proof::StateProofError;

use super::BUNDLE_VERSION;

/// Why a header is not certified by the validator set in force at its height.
#[derive(Debug, thiserror::Error)]
pub enum HeaderError {
    /// The header is for another chain.
    #[error("header: header is for chain {0}")]
    Chain(ChainId),
    /// The header names another validator set than the one in force.
    #[error(
        "header: names validator set {found}, but set #{epoch} (hash {expected}) certifies height {height}"
    )]
    ValidatorSet {
        /// The header's height.
        height: u64,
        /// Number of the set in force.
        epoch: usize,
        /// The header's `validator_set_hash`.
        found: Hash,
        /// Hash of the set in force.
        expected: Hash,
    },
    /// The certificate does not certify the header.
    #[error("certificate: {0}")]
    Certificate(#[from] CertificateError),
    /// The certificate is for another height than the header.
    #[error("certificate: vote is for height {vote}, header is height {header}")]
    Height {
        /// Height in the vote.
        vote: u64,
        /// Height of the header.
        header: u64,
    },
}

/// Why one step of a validator chain does not hold.
#[derive(Debug, thiserror::Error)]
pub enum StepError {
    /// The step's header is not certified by the outgoing set.
    #[error(transparent)]
    Header(#[from] HeaderError),
    /// The schedule does not apply right after the step's header.
    #[error(
        "schedule: applies from height {from}, the header is height {header}; it must be {header} + 1"
    )]
    FromHeight {
        /// The schedule's `from_height`.
        from: u64,
        /// The step's header height.
        header: u64,
    },
    /// The change does not come after the previous one.
    #[error(
        "schedule: applies from height {from}, not after the previous change (from height {previous})"
    )]
    Order {
        /// The schedule's `from_height`.
        from: u64,
        /// The previous change's `from_height` (0 for the genesis set).
        previous: u64,
    },
    /// The state proof does not show the schedule in the header's state.
    #[error("proof: {0}")]
    Proof(StateProofError),
}

/// The first check a bundle failed.
#[derive(Debug, thiserror::Error)]
pub enum BundleError {
    /// The bundle was written in a format this verifier does not know.
    #[error("bundle version {0} is not supported (this verifier knows version {BUNDLE_VERSION})")]
    Version(u16),
    /// The bundle is for another chain than the genesis given.
    #[error("chain: bundle is for chain {bundle}, the genesis defines chain {genesis}")]
    Chain {
        /// Chain named by the bundle.
        bundle: ChainId,
        /// Chain of the genesis.
        genesis: ChainId,
    },
    /// A validator-set change does not hold; `step` counts from 1.
    #[error("validator chain step {step}: {error}")]
    ValidatorChain {
        /// The failing step (1 = the first change).
        step: usize,
        /// What failed.
        error: StepError,
    },
    /// The bundle's (or a checkpoint's) header is not certified.
    #[error(transparent)]
    Header(#[from] HeaderError),
    /// The inclusion proof is for another log size than the header's.
    #[error("inclusion: proof is for log size {proof}, the header's log has {header} entries")]
    LogSize {
        /// Tree size in the proof.
        proof: u64,
        /// Log size in the header.
        header: u64,
    },
    /// The inclusion proof does not lead to the header's log root.
    #[error("inclusion: {0}")]
    Inclusion(#[from] LogProofError),
    /// The later checkpoint's log does not extend the earlier one's.
    #[error("consistency: {0}")]
    Consistency(LogProofError),
    /// The log entry names another record.
    #[error("entry: log entry is for record {entry}, the bundle's record is {record}")]
    EntryRecord {
        /// Record named by the entry.
        entry: RecordId,
        /// Id of the bundled record.
        record: RecordId,
    },
    /// The key status proof does not lead to the header's state root.
    #[error("key: status proof: {0}")]
    KeyProof(StateProofError),
    /// The key status belongs to another agency than the record's issuer.
    #[error("key: key belongs to agency `{owner}`, the record's issuer is `{issuer}`")]
    KeyAgency {
        /// The agency in the key status.
        owner: AgencyId,
        /// The record's issuer.
        issuer: AgencyId,
    },
    /// The key status is for another key than the record names.
    #[error("key: status is for key {status}, the record names key {record}")]
    KeyId {
        /// Id of the key in the status.
        status: KeyId,
        /// Key id in the record.
        record: KeyId,
    },
    /// The issuer is not an agency of the genesis.
    #[error(
        "record: issuer `{0}` is not an agency in the genesis (and the bundle has no key status)"
    )]
    UnknownIssuer(AgencyId),
    /// The record names a key its issuer does not have.
    #[error(
        "record: key {0} is not an issuer key of the agency in the genesis (and the bundle has no key status)"
    )]
    UnknownKey(KeyId),
    /// The record's signature does not verify.
    #[error("record: signature invalid: {0}")]
    Signature(SignatureError),
    /// The status is for another height than the header's executed height.
    #[error("status: proof is for executed height {status}, the header's is {header}")]
    StatusHeight {
        /// Height in the bundle's status.
        status: u64,
        /// The header's `exec_height`.
        header: u64,
    },
    /// The status proof does not lead to the header's state root.
    #[error("status: {0}")]
    Status(#[from] StateProofError),
}
