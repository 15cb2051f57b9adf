//! Per-height state within the current view.

use std::collections::BTreeMap;
use std::sync::Arc;

use chancery_types::{Block, CertSignature, Hash, List, Signature};

/// What a replica knows about one height in the current view. Reset on
/// every view change.
#[derive(Debug, Default)]
pub(crate) struct Slot {
    /// The accepted proposal.
    pub block: Option<Arc<Block>>,
    /// Its header hash.
    pub hash: Option<Hash>,
    /// The node said the block is valid (or it is our own / a re-proposal).
    pub validated: bool,
    /// A `ValidateBlock` is outstanding.
    pub validating: bool,
    /// PREPARE signatures per block hash.
    pub prepares: BTreeMap<Hash, BTreeMap<u16, Signature>>,
    /// COMMIT signatures per block hash.
    pub commits: BTreeMap<Hash, BTreeMap<u16, Signature>>,
    /// We sent our PREPARE.
    pub sent_prepare: bool,
    /// We hold a prepared certificate.
    pub prepared: bool,
    /// We sent our COMMIT.
    pub sent_commit: bool,
    /// A quorum committed this hash.
    pub decided: Option<Hash>,
    /// We asked for the decided block already.
    pub requested: bool,
}

/// Sorted certificate signatures from a signer → signature map.
pub(crate) fn cert_signatures(
    sigs: &BTreeMap<u16, Signature>,
) -> List<CertSignature, { chancery_types::limits::MAX_VALIDATORS }> {
    let v: Vec<CertSignature> = sigs
        .iter()
        .map(|(validator, signature)| CertSignature {
            validator: *validator,
            signature: *signature,
        })
        .collect();
    // At most one entry per validator index, and indices are below the set size.
    List::new(v).unwrap_or_default()
}
