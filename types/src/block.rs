//! Blocks, headers and per-record execution results.

use bincode::{Decode, Encode};
use serde::{Deserialize, Serialize};

use crate::bounded::List;
use crate::encoding::{Canonical, DecodeCtx, DecodeError};
use crate::hash::Hash;
use crate::ids::{ChainId, RecordId, Timestamp};
use crate::limits;
use crate::record::SignedRecord;

/// A block header. Its hash is what validators vote on and certify.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Encode, Decode, Serialize, Deserialize)]
#[bincode(decode_context = "DecodeCtx")]
pub struct BlockHeader {
    /// The chain.
    pub chain_id: ChainId,
    /// Height; genesis state is height 0, the first block is height 1.
    pub height: u64,
    /// The consensus view in which the block was proposed.
    pub view: u64,
    /// Hash of the previous header (`Hash::ZERO` for height 1).
    pub parent: Hash,
    /// Proposer's clock when proposing.
    pub timestamp: Timestamp,
    /// Index of the proposer in the validator set.
    pub proposer: u16,
    /// Merkle root over the ids of this block's records (binds the payload).
    pub records_root: Hash,
    /// Number of records in this block.
    pub record_count: u32,
    /// The height whose execution the roots below describe:
    /// `height − execution_lag` (0 = genesis state). Blocks are ordered first
    /// and executed after commit, so a header certifies the outcome of an
    /// earlier, already committed block (see docs/ARCHITECTURE.md).
    pub exec_height: u64,
    /// Root of the record log after executing every block up to `exec_height`.
    pub log_root: Hash,
    /// Number of entries in that log.
    pub log_size: u64,
    /// Root of the state tree after executing every block up to `exec_height`.
    pub state_root: Hash,
    /// Hash of the validator set that certifies this block.
    pub validator_set_hash: Hash,
}

impl Canonical for BlockHeader {}

impl BlockHeader {
    /// The header hash: blake3 of its canonical encoding.
    pub fn hash(&self) -> Hash {
        self.canonical_hash()
    }
}

/// Why execution refused a record. The record stays in the block (and the
/// log), marked with this code; the chain moves on.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Encode, Decode, Serialize, Deserialize)]
#[bincode(decode_context = "DecodeCtx")]
#[serde(rename_all = "snake_case")]
pub enum RejectCode {
    /// The issuer agency is not registered.
    UnknownIssuer,
    /// The issuer key is unknown, not yet valid, expired or revoked at the record's time.
    KeyNotValid,
    /// The signature does not verify under the issuer key.
    BadSignature,
    /// The agency may not issue this kind of record.
    KindNotPermitted,
    /// The lifecycle does not allow this step (e.g. amending a revoked licence).
    InvalidTransition,
    /// The same record, or the same subject being created twice.
    Duplicate,
    /// A referenced record or grant does not exist.
    UnknownReference,
    /// The body is larger than the policy allows.
    BodyTooLarge,
    /// An access log cites a grant that is not active for this grantee, dataset and time.
    NoActiveGrant,
    /// A field is out of range (e.g. validity window ends before it starts).
    InvalidField,
    /// The policy's deny list forbids the agency this kind or subject.
    Denied,
    /// A governance record without enough valid approvals.
    NotApproved,
}

/// What execution did with one record.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Encode, Decode, Serialize, Deserialize)]
#[bincode(decode_context = "DecodeCtx")]
#[serde(rename_all = "snake_case", tag = "status", content = "code")]
pub enum ExecResult {
    /// Applied to the state.
    Accepted,
    /// Not applied, with the reason.
    Rejected(RejectCode),
}

/// One leaf of the record log: a committed record and what execution did with it.
/// The log leaf hash is `blake3(0x00 ‖ canonical(LogEntry))`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Encode, Decode, Serialize, Deserialize)]
#[bincode(decode_context = "DecodeCtx")]
pub struct LogEntry {
    /// The record.
    pub record: RecordId,
    /// Height of the block that ordered it.
    pub height: u64,
    /// That block's timestamp: when the record was committed.
    pub timestamp: Timestamp,
    /// Its execution result.
    pub result: ExecResult,
}

impl Canonical for LogEntry {}

/// A block: header, records, and one execution result per record.
///
/// `results` is empty until the block has been executed (after commit); the
/// header hash does not cover it. Results are certified through the record
/// log, whose root a later header carries.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Encode, Decode, Serialize, Deserialize)]
#[bincode(decode_context = "DecodeCtx")]
pub struct Block {
    /// The header.
    pub header: BlockHeader,
    /// The records, in execution order.
    pub records: List<SignedRecord, { limits::MAX_BLOCK_RECORDS }>,
    /// `results[i]` is the outcome of `records[i]`; empty before execution.
    pub results: List<ExecResult, { limits::MAX_BLOCK_RECORDS }>,
}

impl Canonical for Block {
    fn check(&self) -> Result<(), DecodeError> {
        if !self.results.is_empty() && self.records.len() != self.results.len() {
            return Err(DecodeError::NonCanonical {
                field: "block.results",
                reason: format!(
                    "{} results for {} records",
                    self.results.len(),
                    self.records.len()
                ),
            });
        }
        Ok(())
    }
}

impl Canonical for ExecResult {}
impl Canonical for RejectCode {}
