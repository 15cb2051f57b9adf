//! Checkpoints (certified headers) and consistency bundles between two
//! of them.

use bincode::{Decode, Encode};
use serde::{Deserialize, Serialize};

use crate::block::BlockHeader;
use crate::cert::CommitCertificate;
use crate::encoding::{Canonical, DecodeCtx};
use crate::genesis::Genesis;
use crate::ids::ChainId;
use crate::log_proof::LogHead;

use super::{
    BundleError, SetChange, ValidatorChain, ValidatorEpochs, certified, version_and_chain,
};

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
    /// Checks the header is for `genesis`'s chain and certified by the
    /// validator set in force at its height, as `validator_chain` (the
    /// changes from genesis on, oldest first; changes after the header's
    /// height may follow and are not applied) proves it. Returns the
    /// number of that set (0: the genesis set).
    pub fn verify(
        &self,
        genesis: &Genesis,
        validator_chain: &[SetChange],
    ) -> Result<usize, BundleError> {
        let chain = genesis.chain_id();
        let epochs = ValidatorEpochs::walk(genesis, &chain, validator_chain)?;
        self.verify_in(&epochs, &chain)
    }

    fn verify_in(
        &self,
        epochs: &ValidatorEpochs<'_>,
        chain: &ChainId,
    ) -> Result<usize, BundleError> {
        let (epoch, set) = epochs.at(self.header.height);
        certified(&self.header, &self.certificate, set, epoch, chain)?;
        Ok(epoch)
    }
}

/// Proof that the record log at a later checkpoint extends the log at an
/// earlier one: nothing committed before `old` was changed or removed.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Encode, Decode, Serialize, Deserialize)]
#[bincode(decode_context = "DecodeCtx")]
pub struct ConsistencyBundle {
    /// Format version ([`super::BUNDLE_VERSION`]).
    pub version: u16,
    /// The chain.
    pub chain_id: ChainId,
    /// The earlier checkpoint.
    pub old: Checkpoint,
    /// The later checkpoint.
    pub new: Checkpoint,
    /// Every validator-set change from genesis up to the one in force at
    /// `new.header.height`, oldest first; `old` is checked against the
    /// set in force at its own height.
    #[serde(default)]
    pub validator_chain: ValidatorChain,
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
    /// Validator-set changes walked.
    pub validator_changes: usize,
    /// Number of the set that certified the earlier checkpoint (0: genesis).
    pub old_set: usize,
    /// Number of the set that certified the later checkpoint.
    pub new_set: usize,
}

impl ConsistencyBundle {
    /// Checks both checkpoints against `genesis` and the proof between them.
    pub fn verify(&self, genesis: &Genesis) -> Result<ProvenConsistency, BundleError> {
        let chain = version_and_chain(self.version, self.chain_id, genesis)?;
        let epochs = ValidatorEpochs::walk(genesis, &chain, &self.validator_chain)?;
        let old_set = self.old.verify_in(&epochs, &chain)?;
        let new_set = self.new.verify_in(&epochs, &chain)?;
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
            validator_changes: epochs.changes(),
            old_set,
            new_set,
        })
    }
}
