//! The storage contract: column families, atomic batches, ordered scans.
//!
//! Everything above this module is written once against [`KvStore`]; the
//! in-memory store ([`crate::mem::MemKv`]) and the RocksDB store
//! ([`crate::rocks::RocksKv`]) are its two implementations, and
//! `tests/store_suite.rs` runs the same suite on both.

use crate::error::Result;

/// A column family. Each holds one kind of data (see docs/LEDGER.md for
/// every key layout).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Column {
    /// Chain id, genesis, tip.
    Meta,
    /// height → canonical `BlockHeader`.
    Headers,
    /// height → block metadata (header hash, record count, first log index).
    Blocks,
    /// height → canonical `CommitCertificate`.
    Certs,
    /// height ‖ index → canonical `SignedRecord`.
    Records,
    /// height → canonical list of `ExecResult`.
    Results,
    /// Execution state: statuses, expiry queue, agencies, policy, exec summaries.
    State,
    /// Record id, log position, subject, issuer and kind indexes.
    Index,
    /// Record log nodes: level ‖ index → hash of a perfect subtree.
    LogNodes,
    /// Opaque consensus state (votes), written by the consensus layer.
    Consensus,
    /// Off-chain payloads: commitment → owner, salt, payload. Under no
    /// root; erasure deletes entries (see `crate::payload`).
    Payloads,
}

impl Column {
    /// Every column, in a fixed order.
    pub const ALL: [Column; 11] = [
        Column::Meta,
        Column::Headers,
        Column::Blocks,
        Column::Certs,
        Column::Records,
        Column::Results,
        Column::State,
        Column::Index,
        Column::LogNodes,
        Column::Consensus,
        Column::Payloads,
    ];

    /// The column family's name on disk.
    pub fn name(self) -> &'static str {
        match self {
            Column::Meta => "meta",
            Column::Headers => "headers",
            Column::Blocks => "blocks",
            Column::Certs => "certs",
            Column::Records => "records",
            Column::Results => "results",
            Column::State => "state",
            Column::Index => "index",
            Column::LogNodes => "log_nodes",
            Column::Consensus => "consensus",
            Column::Payloads => "payloads",
        }
    }

    /// Position in [`Column::ALL`].
    pub fn index(self) -> usize {
        self as usize
    }
}

/// One write in a batch: a put (`Some`) or a delete (`None`).
pub type Op = (Column, Vec<u8>, Option<Vec<u8>>);

/// Writes applied together or not at all.
#[derive(Debug, Default, Clone)]
pub struct Batch {
    ops: Vec<Op>,
}

impl Batch {
    /// An empty batch.
    pub fn new() -> Self {
        Batch::default()
    }

    /// Sets `key` to `value` in `col`.
    pub fn put(&mut self, col: Column, key: impl Into<Vec<u8>>, value: impl Into<Vec<u8>>) {
        self.ops.push((col, key.into(), Some(value.into())));
    }

    /// Removes `key` from `col`.
    pub fn delete(&mut self, col: Column, key: impl Into<Vec<u8>>) {
        self.ops.push((col, key.into(), None));
    }

    /// Number of writes.
    pub fn len(&self) -> usize {
        self.ops.len()
    }

    /// Whether there are no writes.
    pub fn is_empty(&self) -> bool {
        self.ops.is_empty()
    }

    /// The writes, in order (a later write to the same key wins).
    pub fn ops(&self) -> &[Op] {
        &self.ops
    }
}

/// An ordered key-value store with column families.
///
/// Contract, for every implementation:
/// - [`KvStore::write`] is atomic: after it returns `Ok`, every write of
///   the batch is visible and durable (survives a process kill and, for a
///   disk store, a power loss the disk honours `fsync` for); after it
///   returns `Err` or the process dies during it, either all of the batch
///   is there or none of it. Readers never see part of a batch.
/// - Keys are ordered bytewise; [`KvStore::scan`] returns keys in
///   ascending order.
/// - An `Err` means the store could not answer; it never means "absent"
///   (that is `Ok(None)` / an empty scan).
pub trait KvStore: Send + Sync {
    /// The value at `key`, if any.
    fn get(&self, col: Column, key: &[u8]) -> Result<Option<Vec<u8>>>;

    /// Applies `batch` atomically and durably (see the trait contract).
    fn write(&self, batch: Batch) -> Result<()>;

    /// Up to `limit` entries with `from ≤ key < to` (no upper bound when
    /// `to` is `None`), in ascending key order.
    fn scan(
        &self,
        col: Column,
        from: &[u8],
        to: Option<&[u8]>,
        limit: usize,
    ) -> Result<Vec<(Vec<u8>, Vec<u8>)>>;
}
