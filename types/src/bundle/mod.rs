//! Proof bundles: everything an auditor needs to check one record offline,
//! trusting nothing but the genesis file.
//!
//! ```text
//!  genesis ─chain_id()─► ChainId
//!  genesis.validators = set #0
//!  validator_chain[k−1]: header certified by set #(k−1),     (1) the validator sets, from
//!      its state root holds Status::Validators(set #k)          genesis to the header's
//!  certificate ──verify_for(header.hash())── the set in      (2) a quorum signed the header
//!      force at header.height
//!  header.log_root, header.log_size                          (3) the header fixes the log
//!  inclusion.verify(entry_hash(entry), head)                 (4) the entry is in that log
//!  entry.record == record.id()                               (5) the entry names this record
//!  issuer_key.proof.verify(header.state_root, key status)    (6) the key as governance left it
//!  record.verify(that key, or the genesis key)               (7) the issuer signed it
//!  status.proof.verify(header.state_root, key, status)       (8) the subject's status then
//! ```
//!
//! The checks run in this order and the first failure is reported as a
//! [`BundleError`] naming the check (and, in the validator chain, the
//! step). Proof, checkpoint and consistency bundles share one walk of the
//! validator chain, [`ValidatorEpochs::walk`].
//!
//! Files: this one holds the record proof bundle and the checks every
//! bundle shares; `error.rs` the errors, `epochs.rs` the validator-chain
//! walk, `consistency.rs` checkpoints and consistency bundles.

use bincode::{Decode, Encode};
use serde::{Deserialize, Serialize};

use crate::block::{BlockHeader, ExecResult, LogEntry};
use crate::bounded::List;
use crate::cert::CommitCertificate;
use crate::crypto::keys::{KeyId, PublicKey};
use crate::encoding::{Canonical, DecodeCtx};
use crate::genesis::Genesis;
use crate::ids::{AgencyId, ChainId, RecordId, Timestamp};
use crate::limits;
use crate::log_proof::{InclusionProof, LogHead, entry_hash};
use crate::record::SignedRecord;
use crate::state_proof::{
    KeyStatus, StateProof, Status, ValidatorSchedule, issuer_key_key, record_state_key,
};
use crate::validator::ValidatorSet;

mod consistency;
mod epochs;
mod error;

pub use consistency::{Checkpoint, ConsistencyBundle, ProvenConsistency};
pub use epochs::ValidatorEpochs;
pub use error::{BundleError, HeaderError, StepError};

/// Version of the bundle format; bumped on any incompatible change.
/// Version 2 added the validator chain and the issuer key's status.
pub const BUNDLE_VERSION: u16 = 2;

/// The validator-set changes a bundle carries, oldest first.
pub type ValidatorChain = List<SetChange, { limits::MAX_SET_CHANGES }>;

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
    /// Every validator-set change from genesis up to the one in force at
    /// `header.height`, oldest first (empty while the genesis set is).
    #[serde(default)]
    pub validator_chain: ValidatorChain,
    /// The status of the record's issuer key in the state the header
    /// commits to, when governance registered or changed the key; `None`
    /// when the key is as registered in the genesis.
    #[serde(default)]
    pub issuer_key: Option<KeyAt>,
    /// The status of the record's subject in the state the header commits
    /// to (after executing `header.exec_height`), when the node still held
    /// that state.
    pub status: Option<StatusAt>,
}

impl Canonical for ProofBundle {}

/// One validator-set change: the last header certified by the outgoing
/// set, and the proof that its state holds the incoming one.
///
/// A change accepted in block `h` applies from height
/// `H = h + execution_lag + 1`; header `H − 1` is the last one the
/// outgoing set certifies, and its state root (the state after executing
/// `h`) holds the schedule under [`crate::state_proof::validators_key`].
#[derive(Clone, Debug, PartialEq, Eq, Hash, Encode, Decode, Serialize, Deserialize)]
#[bincode(decode_context = "DecodeCtx")]
pub struct SetChange {
    /// The header at height `schedule.from_height − 1`.
    pub header: BlockHeader,
    /// Its commit certificate, by the outgoing set.
    pub certificate: CommitCertificate,
    /// The incoming set and the first height it certifies.
    pub schedule: ValidatorSchedule,
    /// Membership proof of `Status::Validators(schedule)` under
    /// [`crate::state_proof::validators_key`] against `header.state_root`.
    pub proof: StateProof,
}

/// An issuer key's status, with its state proof.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Encode, Decode, Serialize, Deserialize)]
#[bincode(decode_context = "DecodeCtx")]
pub struct KeyAt {
    /// The key as governance left it.
    pub status: KeyStatus,
    /// Membership proof of `Status::IssuerKey(status)` under
    /// [`issuer_key_key`] of the record's key id, against the bundle
    /// header's `state_root`.
    pub proof: StateProof,
}

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
    /// Validator-set changes walked (the length of the validator chain).
    pub validator_changes: usize,
    /// Which set certified the header: 0 for the genesis set, `k` for the
    /// set scheduled by the `k`-th change.
    pub signed_by_set: usize,
    /// Number of validators in that set.
    pub set_size: usize,
    /// The key that signed the record and what governance recorded about it.
    pub key: ProvenKey,
    /// The subject's status at an executed height, when the bundle has one.
    pub status: Option<(u64, Option<Status>)>,
}

/// Where a record's signing key was found.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum KeySource {
    /// In the genesis, and governance never changed it.
    Genesis,
    /// In the header's state: registered or changed by governance.
    Governance,
}

/// The record's signing key, as the bundle proves it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct ProvenKey {
    /// The key id.
    pub id: KeyId,
    /// Where it was found.
    pub source: KeySource,
    /// Block time from which governance revoked it, if it did.
    pub revoked_at: Option<Timestamp>,
    /// Reported compromise time, if any.
    pub compromised_since: Option<Timestamp>,
    /// The record is timestamped at or after `compromised_since`: it was
    /// accepted, but signed when the key was reported compromised.
    pub signed_after_compromise: bool,
}

impl ProofBundle {
    /// Runs every check against `genesis`; see the module docs for the order.
    pub fn verify(&self, genesis: &Genesis) -> Result<Proven, BundleError> {
        let chain = version_and_chain(self.version, self.chain_id, genesis)?;
        let epochs = ValidatorEpochs::walk(genesis, &chain, &self.validator_chain)?;
        let header = &self.header;
        let (epoch, set) = epochs.at(header.height);
        certified(header, &self.certificate, set, epoch, &chain)?;
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
        let (public, key) = self.signing_key(genesis)?;
        self.record
            .verify(public, &chain)
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
            .filter_map(|s| set.get(s.validator as usize))
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
            validator_changes: epochs.changes(),
            signed_by_set: epoch,
            set_size: set.n(),
            key,
            status,
        })
    }

    /// The **key** check, and the key lookup of the **record** check: the
    /// key status proven against the header's state when the bundle has
    /// one, else the issuer's key in the genesis.
    fn signing_key<'a>(
        &'a self,
        genesis: &'a Genesis,
    ) -> Result<(&'a PublicKey, ProvenKey), BundleError> {
        let record = &self.record.record;
        match &self.issuer_key {
            Some(at) => {
                let st = &at.status;
                let value = Status::IssuerKey(st.clone()).to_canonical();
                at.proof
                    .verify(
                        &self.header.state_root,
                        &issuer_key_key(&record.key_id),
                        Some(&value),
                    )
                    .map_err(BundleError::KeyProof)?;
                if st.agency != record.issuer {
                    return Err(BundleError::KeyAgency {
                        owner: st.agency.clone(),
                        issuer: record.issuer.clone(),
                    });
                }
                if st.key.key_id() != record.key_id {
                    return Err(BundleError::KeyId {
                        status: st.key.key_id(),
                        record: record.key_id,
                    });
                }
                let key = ProvenKey {
                    id: record.key_id,
                    source: KeySource::Governance,
                    revoked_at: st.revoked_at,
                    compromised_since: st.compromised_since,
                    signed_after_compromise: st
                        .compromised_since
                        .is_some_and(|since| record.timestamp >= since),
                };
                Ok((&st.key.public, key))
            }
            None => {
                let agency = genesis
                    .agency(&record.issuer)
                    .ok_or_else(|| BundleError::UnknownIssuer(record.issuer.clone()))?;
                let key = agency
                    .issuer_keys
                    .iter()
                    .find(|k| k.key_id() == record.key_id)
                    .ok_or(BundleError::UnknownKey(record.key_id))?;
                let proven = ProvenKey {
                    id: record.key_id,
                    source: KeySource::Genesis,
                    revoked_at: None,
                    compromised_since: None,
                    signed_after_compromise: false,
                };
                Ok((&key.public, proven))
            }
        }
    }
}

/// Steps 1 and 2 of every bundle: a known format, for `genesis`'s chain
/// (whose id is returned).
pub(super) fn version_and_chain(
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

/// Checks that `header` is for `chain`, names `set` (set number `epoch`)
/// and is certified by `certificate` under it at its height.
pub(super) fn certified(
    header: &BlockHeader,
    certificate: &CommitCertificate,
    set: &ValidatorSet,
    epoch: usize,
    chain: &ChainId,
) -> Result<(), HeaderError> {
    if header.chain_id != *chain {
        return Err(HeaderError::Chain(header.chain_id));
    }
    let expected = set.hash();
    if header.validator_set_hash != expected {
        return Err(HeaderError::ValidatorSet {
            height: header.height,
            epoch,
            found: header.validator_set_hash,
            expected,
        });
    }
    certificate.verify_for(&header.hash(), set, chain)?;
    if certificate.vote.height != header.height {
        return Err(HeaderError::Height {
            vote: certificate.vote.height,
            header: header.height,
        });
    }
    Ok(())
}
