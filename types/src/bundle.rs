//! Proof bundles: everything an auditor needs to check one record offline,
//! trusting nothing but the genesis file.
//!
//! ```text
//!  genesis ─chain_id()─► ChainId ─┐          genesis.validators
//!                                 ▼                   │
//!  certificate ──verify_for(header.hash())────────────┘   (1) quorum signed the header
//!  header.log_root, header.log_size                       (2) the header fixes the log
//!  inclusion.verify(entry_hash(entry), head)              (3) the entry is in that log
//!  entry.record == record.id()                            (4) the entry names this record
//!  record.verify(issuer key from genesis)                 (5) the issuer signed it
//!  status.proof.verify(header.state_root, key, status)    (6) the subject's status then
//! ```
//!
//! The checks run in this order and the first failure is reported as a
//! [`BundleError`] naming the check. Validator-set changes are not on the
//! chain yet, so the header must be certified by the genesis set.

use bincode::{Decode, Encode};
use serde::{Deserialize, Serialize};

use crate::block::{BlockHeader, ExecResult, LogEntry};
use crate::cert::{CertificateError, CommitCertificate};
use crate::crypto::signature::SignatureError;
use crate::encoding::{Canonical, DecodeCtx};
use crate::genesis::Genesis;
use crate::ids::{AgencyId, ChainId, RecordId, Timestamp};
use crate::log_proof::{InclusionProof, LogHead, LogProofError, entry_hash};
use crate::record::SignedRecord;
use crate::state_proof::{StateProof, StateProofError, Status, record_state_key};

/// Version of the bundle format; bumped on any incompatible change.
pub const BUNDLE_VERSION: u16 = 1;

/// A self-contained proof that a record was committed, and with what result.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Encode, Decode, Serialize, Deserialize)]
#[bincode(decode_context = "DecodeCtx")]
pub struct ProofBundle {
    /// Format version ([`BUNDLE_VERSION`]).
    pub version: u16,
    /// The chain the record belongs to.
    pub chain_id: ChainId,
    /// The signed record.
    pub record: SignedRecord,
    /// Its log leaf: height, commit time and execution result.
    pub entry: LogEntry,
    /// Inclusion of the leaf in the log of size `header.log_size`.
    pub inclusion: InclusionProof,
    /// A header whose log covers the record.
    pub header: BlockHeader,
    /// The header's commit certificate.
    pub certificate: CommitCertificate,
    /// The status of the record's subject in the state the header commits
    /// to (after executing `header.exec_height`), when the node still held
    /// that state.
    pub status: Option<StatusAt>,
}

impl Canonical for ProofBundle {}

/// A subject's status at an executed height, with its state proof.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Encode, Decode, Serialize, Deserialize)]
#[bincode(decode_context = "DecodeCtx")]
pub struct StatusAt {
    /// The executed height (the header's `exec_height`).
    pub exec_height: u64,
    /// The status then; `None` when the subject had none (e.g. a rejected issue).
    pub status: Option<Status>,
    /// Membership (or non-membership) proof against the header's `state_root`.
    pub proof: StateProof,
}

/// What a valid bundle proves.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Proven {
    /// The record.
    pub record: RecordId,
    /// Who issued it.
    pub issuer: AgencyId,
    /// The record kind's name.
    pub kind: &'static str,
    /// Height of the block that ordered it.
    pub height: u64,
    /// That block's time.
    pub committed_at: Timestamp,
    /// What execution decided.
    pub result: ExecResult,
    /// Height of the certified header the proof rests on.
    pub certified_height: u64,
    /// Agencies whose validators signed that header.
    pub signers: Vec<AgencyId>,
    /// The subject's status at an executed height, when the bundle has one.
    pub status: Option<(u64, Option<Status>)>,
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
    /// The header is for another chain.
    #[error("header: header is for chain {0}")]
    HeaderChain(ChainId),
    /// The header names a validator set other than the genesis set.
    #[error("header: certified by a validator set other than the genesis set")]
    ValidatorSet,
    /// The certificate does not certify the header.
    #[error("certificate: {0}")]
    Certificate(#[from] CertificateError),
    /// The certificate is for another height than the header.
    #[error("certificate: vote is for height {vote}, header is height {header}")]
    CertificateHeight {
        /// Height in the vote.
        vote: u64,
        /// Height of the header.
        header: u64,
    },
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
    /// The issuer is not an agency of the genesis.
    #[error("record: issuer `{0}` is not an agency in the genesis")]
    UnknownIssuer(AgencyId),
    /// The record names a key its issuer does not have.
    #[error("record: key {0} is not an issuer key of the agency in the genesis")]
    UnknownKey(crate::crypto::keys::KeyId),
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

impl ProofBundle {
    /// Runs every check against `genesis`; see the module docs for the order.
    pub fn verify(&self, genesis: &Genesis) -> Result<Proven, BundleError> {
        let chain = version_and_chain(self.version, self.chain_id, genesis)?;
        let header = &self.header;
        certified(header, &self.certificate, genesis, &chain)?;
        if self.inclusion.tree_size != header.log_size {
            return Err(BundleError::LogSize {
                proof: self.inclusion.tree_size,
                header: header.log_size,
            });
        }
        let head = LogHead {
            size: header.log_size,
            root: header.log_root,
        };
        self.inclusion.verify(&entry_hash(&self.entry), &head)?;
        let id = self.record.id();
        if self.entry.record != id {
            return Err(BundleError::EntryRecord {
                entry: self.entry.record,
                record: id,
            });
        }
        let record = &self.record.record;
        let agency = genesis
            .agency(&record.issuer)
            .ok_or_else(|| BundleError::UnknownIssuer(record.issuer.clone()))?;
        let key = agency
            .issuer_keys
            .iter()
            .find(|k| k.key_id() == record.key_id)
            .ok_or(BundleError::UnknownKey(record.key_id))?;
        self.record
            .verify(&key.public, &chain)
            .map_err(BundleError::Signature)?;
        let status = match &self.status {
            None => None,
            Some(st) => {
                if st.exec_height != header.exec_height {
                    return Err(BundleError::StatusHeight {
                        status: st.exec_height,
                        header: header.exec_height,
                    });
                }
                let value = st.status.as_ref().map(Canonical::to_canonical);
                st.proof.verify(
                    &header.state_root,
                    &record_state_key(record),
                    value.as_deref(),
                )?;
                Some((st.exec_height, st.status.clone()))
            }
        };
        let signers = self
            .certificate
            .signatures
            .iter()
            .filter_map(|s| genesis.validators.get(s.validator as usize))
            .map(|v| v.agency.clone())
            .collect();
        Ok(Proven {
            record: id,
            issuer: record.issuer.clone(),
            kind: record.kind.name(),
            height: self.entry.height,
            committed_at: self.entry.timestamp,
            result: self.entry.result,
            certified_height: header.height,
            signers,
            status,
        })
    }
}

/// A certified header: what an auditor pins.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Encode, Decode, Serialize, Deserialize)]
#[bincode(decode_context = "DecodeCtx")]
pub struct Checkpoint {
    /// The header.
    pub header: BlockHeader,
    /// Its commit certificate.
    pub certificate: CommitCertificate,
}

impl Checkpoint {
    /// Checks the header is for `genesis`'s chain and certified by its validators.
    pub fn verify(&self, genesis: &Genesis) -> Result<(), BundleError> {
        self.verify_on(genesis, &genesis.chain_id())
    }

    fn verify_on(&self, genesis: &Genesis, chain: &ChainId) -> Result<(), BundleError> {
        certified(&self.header, &self.certificate, genesis, chain)
    }
}

/// Steps 1 and 2 of every bundle: a known format, for `genesis`'s chain
/// (whose id is returned).
fn version_and_chain(
    version: u16,
    chain_id: ChainId,
    genesis: &Genesis,
) -> Result<ChainId, BundleError> {
    if version != BUNDLE_VERSION {
        return Err(BundleError::Version(version));
    }
    let chain = genesis.chain_id();
    if chain_id != chain {
        return Err(BundleError::Chain {
            bundle: chain_id,
            genesis: chain,
        });
    }
    Ok(chain)
}

/// Checks that `header` is for `genesis`'s chain, names the genesis
/// validator set, and is certified by `certificate` at its height.
fn certified(
    header: &BlockHeader,
    certificate: &CommitCertificate,
    genesis: &Genesis,
    chain: &ChainId,
) -> Result<(), BundleError> {
    if header.chain_id != *chain {
        return Err(BundleError::HeaderChain(header.chain_id));
    }
    // No on-chain validator changes yet: every header is certified by the genesis set.
    if header.validator_set_hash != genesis.validators.hash() {
        return Err(BundleError::ValidatorSet);
    }
    certificate.verify_for(&header.hash(), &genesis.validators, chain)?;
    if certificate.vote.height != header.height {
        return Err(BundleError::CertificateHeight {
            vote: certificate.vote.height,
            header: header.height,
        });
    }
    Ok(())
}

/// Proof that the record log at a later checkpoint extends the log at an
/// earlier one: nothing committed before `old` was changed or removed.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Encode, Decode, Serialize, Deserialize)]
#[bincode(decode_context = "DecodeCtx")]
pub struct ConsistencyBundle {
    /// Format version ([`BUNDLE_VERSION`]).
    pub version: u16,
    /// The chain.
    pub chain_id: ChainId,
    /// The earlier checkpoint.
    pub old: Checkpoint,
    /// The later checkpoint.
    pub new: Checkpoint,
    /// Consistency of `old.header`'s log with `new.header`'s log.
    pub proof: crate::log_proof::ConsistencyProof,
}

impl Canonical for ConsistencyBundle {}

/// What a valid consistency bundle proves.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct ProvenConsistency {
    /// Height and log size of the earlier checkpoint.
    pub old: (u64, u64),
    /// Height and log size of the later checkpoint.
    pub new: (u64, u64),
}

impl ConsistencyBundle {
    /// Checks both checkpoints against `genesis` and the proof between them.
    pub fn verify(&self, genesis: &Genesis) -> Result<ProvenConsistency, BundleError> {
        let chain = version_and_chain(self.version, self.chain_id, genesis)?;
        self.old.verify_on(genesis, &chain)?;
        self.new.verify_on(genesis, &chain)?;
        let (o, n) = (&self.old.header, &self.new.header);
        let head = |h: &BlockHeader| LogHead {
            size: h.log_size,
            root: h.log_root,
        };
        self.proof
            .verify(&head(o), &head(n))
            .map_err(BundleError::Consistency)?;
        Ok(ProvenConsistency {
            old: (o.height, o.log_size),
            new: (n.height, n.log_size),
        })
    }
}
