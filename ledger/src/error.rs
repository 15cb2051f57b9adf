//! The crate's one error type.

use std::path::PathBuf;

use chancery_types::{ChainId, DecodeError, Hash};

/// Everything that can go wrong in the ledger. Each variant names what
/// failed; commit errors leave the store unchanged.
#[derive(Debug, thiserror::Error)]
pub enum LedgerError {
    /// The storage engine failed (I/O error, out of space, ...).
    #[error("storage error during {op}: {detail}")]
    Storage {
        /// What the ledger was doing.
        op: &'static str,
        /// The engine's message.
        detail: String,
    },
    /// Another process (or another handle in this one) holds the store's lock.
    #[error("store at {path} is locked by another process: {detail}")]
    Locked {
        /// The store directory.
        path: PathBuf,
        /// The engine's message.
        detail: String,
    },
    /// The store's files or contents are damaged.
    #[error("store is corrupt: {what}: {detail}")]
    Corrupt {
        /// What was being read.
        what: &'static str,
        /// Why it is not acceptable.
        detail: String,
    },
    /// The store belongs to another chain.
    #[error("store belongs to chain {stored}, not to chain {expected}")]
    WrongChain {
        /// The chain id written in the store.
        stored: ChainId,
        /// The chain id of the genesis given to `open`.
        expected: ChainId,
    },
    /// The store was written in a format this build does not read.
    #[error("store format not supported: {detail}")]
    UnsupportedFormat {
        /// What differs, and what to do.
        detail: String,
    },
    /// A payload whose commitment was erased cannot be stored again.
    #[error(
        "payload {commitment} was erased by record {by} at height {height}; it cannot be stored again"
    )]
    PayloadErased {
        /// The commitment.
        commitment: Hash,
        /// The erasure record.
        by: chancery_types::RecordId,
        /// The block that carried the erasure record.
        height: u64,
    },
    /// A payload held for another agency cannot be stored again for this one
    /// (only the owner may erase it).
    #[error("payload {commitment} is already held for agency `{owner}`")]
    PayloadOwned {
        /// The commitment.
        commitment: Hash,
        /// The agency that stored it first.
        owner: chancery_types::AgencyId,
    },
    /// A payload over the size limit.
    #[error("payload is {len} bytes; the limit is {max}", max = chancery_types::limits::MAX_PAYLOAD)]
    PayloadTooLarge {
        /// Its size.
        len: usize,
    },
    /// The genesis document is invalid.
    #[error("invalid genesis: {detail}")]
    InvalidGenesis {
        /// Why.
        detail: String,
    },
    /// A stored value does not decode.
    #[error("stored {what} does not decode: {source}")]
    Decode {
        /// Which value.
        what: &'static str,
        /// The decoder's error.
        source: DecodeError,
    },
    /// The block is for another chain.
    #[error("block is for chain {got}, this ledger is chain {expected}")]
    BlockChain {
        /// This ledger's chain.
        expected: ChainId,
        /// The block's chain.
        got: ChainId,
    },
    /// The block is not the next height.
    #[error("block height {got}, expected {expected}")]
    WrongHeight {
        /// Next height.
        expected: u64,
        /// The block's height.
        got: u64,
    },
    /// The block's parent is not the tip.
    #[error("block {height} names parent {got}, the tip is {expected}")]
    WrongParent {
        /// The block's height.
        height: u64,
        /// Hash of the tip header.
        expected: Hash,
        /// The block's parent field.
        got: Hash,
    },
    /// The block's timestamp is earlier than its parent's.
    #[error("block {height} timestamp {got} is before its parent's {parent}")]
    TimestampRegressed {
        /// The block's height.
        height: u64,
        /// Parent timestamp (ms).
        parent: u64,
        /// Block timestamp (ms).
        got: u64,
    },
    /// `exec_height` is not `height − execution_lag`.
    #[error("block {height} has exec_height {got}, expected {expected}")]
    WrongExecHeight {
        /// The block's height.
        height: u64,
        /// `height − lag`, saturating.
        expected: u64,
        /// The header's field.
        got: u64,
    },
    /// A root or size in the header differs from the executed state.
    #[error("block {height}: header {field} does not match execution of height {exec_height}")]
    ExecMismatch {
        /// The block's height.
        height: u64,
        /// `log_root`, `log_size` or `state_root`.
        field: &'static str,
        /// The executed height the header describes.
        exec_height: u64,
    },
    /// `record_count` or `records_root` does not match the records.
    #[error("block {height}: header {field} does not match the block's records")]
    PayloadMismatch {
        /// The block's height.
        height: u64,
        /// `record_count` or `records_root`.
        field: &'static str,
    },
    /// The certificate is for another block.
    #[error("certificate is for height {cert_height} / {cert_hash}, block is {height} / {hash}")]
    CertificateMismatch {
        /// Certificate height.
        cert_height: u64,
        /// Certificate block hash.
        cert_hash: Hash,
        /// Block height.
        height: u64,
        /// Block header hash.
        hash: Hash,
    },
    /// A log position or size beyond the log.
    #[error("log position {requested} is beyond the log (size {size})")]
    BeyondLog {
        /// The index or size asked for.
        requested: u64,
        /// Current log size.
        size: u64,
    },
    /// A proof between sizes given in the wrong order.
    #[error("old size {old} is larger than new size {new}")]
    SizesReversed {
        /// Old size.
        old: u64,
        /// New size.
        new: u64,
    },
    /// The state tree at that executed height is no longer (or not yet) held.
    #[error("state tree at height {height} is not available (held: {oldest}..={newest})")]
    StateVersionUnavailable {
        /// Asked for.
        height: u64,
        /// Oldest held.
        oldest: u64,
        /// Newest held.
        newest: u64,
    },
    /// A query cursor that this ledger did not produce.
    #[error("invalid cursor {cursor:?}")]
    InvalidCursor {
        /// The cursor text.
        cursor: String,
    },
    /// The in-memory state tree could not take an update (nothing was
    /// written).
    #[error(transparent)]
    StateTree(#[from] crate::smt::TreeError),
}

/// Shorthand.
pub type Result<T, E = LedgerError> = std::result::Result<T, E>;

/// Wraps a decode error.
pub(crate) fn decode_err(what: &'static str) -> impl FnOnce(DecodeError) -> LedgerError {
    move |source| LedgerError::Decode { what, source }
}

/// A value that must exist is missing.
pub(crate) fn missing(what: &'static str, detail: impl Into<String>) -> LedgerError {
    LedgerError::Corrupt {
        what,
        detail: detail.into(),
    }
}
