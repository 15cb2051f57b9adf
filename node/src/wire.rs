//! What validators send each other, inside p2p frames. Canonical encoding,
//! bounded, so a peer's bytes are decoded strictly and never panic.

use bincode::{Decode, Encode};
use chancery_types::bounded::{Bytes, List};
use chancery_types::encoding::{Canonical, DecodeCtx};
use chancery_types::{Block, CommitCertificate, limits};

/// Most records in one gossip frame.
pub const MAX_GOSSIP_RECORDS: usize = 4096;
/// Most blocks in one sync response.
pub const MAX_SYNC_BLOCKS: usize = 64;

/// One p2p frame.
#[derive(Debug, Clone, PartialEq, Eq, Encode, Decode)]
#[bincode(decode_context = "DecodeCtx")]
pub enum Frame {
    /// A consensus message (canonical bytes of `chancery_consensus::Message`).
    Consensus(Bytes<{ 64 * 1024 * 1024 }>),
    /// Signed records for every validator's mempool (canonical bytes each).
    Records(List<Bytes<{ limits::MAX_BODY + 4096 }>, MAX_GOSSIP_RECORDS>),
    /// Ask for certified blocks `from..=to`.
    SyncRequest {
        /// First height.
        from: u64,
        /// Last height.
        to: u64,
    },
    /// Certified blocks, in height order.
    SyncResponse(List<SyncedBlock, MAX_SYNC_BLOCKS>),
}

/// A committed block with its certificate.
#[derive(Debug, Clone, PartialEq, Eq, Encode, Decode)]
#[bincode(decode_context = "DecodeCtx")]
pub struct SyncedBlock {
    /// The block.
    pub block: Block,
    /// Its commit certificate.
    pub certificate: CommitCertificate,
}

impl Canonical for Frame {}
impl Canonical for SyncedBlock {}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn frames_round_trip_and_garbage_is_an_error() {
        let f = Frame::SyncRequest { from: 3, to: 9 };
        assert_eq!(Frame::from_canonical(&f.to_canonical()).unwrap(), f);
        let r = Frame::Records(List::new(vec![Bytes::new(vec![1, 2, 3]).unwrap()]).unwrap());
        assert_eq!(Frame::from_canonical(&r.to_canonical()).unwrap(), r);
        assert!(Frame::from_canonical(&[9, 0, 0, 0]).is_err());
        assert!(Frame::from_canonical(&[]).is_err());
    }
}
