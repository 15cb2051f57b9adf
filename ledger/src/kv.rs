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
    /// Record log nodes: level ‖ index → hash of a perfect subtree of
    /// two or more leaves (a leaf is the hash of its log entry).
    LogNodes,
    /// Opaque consensus state (votes), written by the consensus layer.
    Consensus,
    /// Off-chain payloads: commitment → owner, salt, payload. Under no
    /// root; erasure deletes entries (see `crate::payload`).
    Payloads,
    /// State key → canonical `Status`, as of the last write. Written at
    /// every commit, read only by a scan when the ledger opens.
    Statuses,
    /// Record id → location (`keys::RecordLoc`), written in sorted runs
    /// (see `crate::ids`).
    RecordIds,
}

impl Column {
    /// Every column, in a fixed order.
    pub const ALL: [Column; 13] = [
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
        Column::Statuses,
        Column::RecordIds,
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
            Column::Statuses => "statuses",
            Column::RecordIds => "record_ids",
        }
    }

    /// Position in [`Column::ALL`].
    pub fn index(self) -> usize {
        self as usize
    }
}

/// One write in a batch: column, key, and the value to put (`Some`) or
/// `None` to delete.
pub type Op<'a> = (Column, &'a [u8], Option<&'a [u8]>);

/// Where one write's key and value sit in the batch's byte arena.
#[derive(Debug, Clone, Copy)]
struct Slot {
    col: Column,
    key: (u32, u32),
    /// `None`: a delete.
    value: Option<(u32, u32)>,
}

/// Writes applied together or not at all.
///
/// Keys and values are copied into one growing byte arena, so a batch of
/// ten thousand writes makes a handful of allocations, not twenty thousand.
#[derive(Debug, Default, Clone)]
pub struct Batch {
    slots: Vec<Slot>,
    bytes: Vec<u8>,
}

impl Batch {
    /// An empty batch.
    pub fn new() -> Self {
        Batch::default()
    }

    /// An empty batch with room for `writes` writes of `bytes` bytes in all.
    pub fn with_capacity(writes: usize, bytes: usize) -> Self {
        Batch {
            slots: Vec::with_capacity(writes),
            bytes: Vec::with_capacity(bytes),
        }
    }

    fn push_bytes(&mut self, b: &[u8]) -> (u32, u32) {
        let at = self.bytes.len();
        self.bytes.extend_from_slice(b);
        // A batch is bounded by the block limits, far below 4 GiB.
        (at as u32, b.len() as u32)
    }

    /// Sets `key` to `value` in `col`.
    pub fn put(&mut self, col: Column, key: impl AsRef<[u8]>, value: impl AsRef<[u8]>) {
        let key = self.push_bytes(key.as_ref());
        let value = Some(self.push_bytes(value.as_ref()));
        self.slots.push(Slot { col, key, value });
    }

    /// Sets `key` to a value written in place by `fill` (no temporary buffer).
    pub fn put_with(
        &mut self,
        col: Column,
        key: impl AsRef<[u8]>,
        fill: impl FnOnce(&mut Vec<u8>),
    ) {
        let key = self.push_bytes(key.as_ref());
        let at = self.bytes.len();
        fill(&mut self.bytes);
        let value = Some((at as u32, (self.bytes.len() - at) as u32));
        self.slots.push(Slot { col, key, value });
    }

    /// Removes `key` from `col`.
    pub fn delete(&mut self, col: Column, key: impl AsRef<[u8]>) {
        let key = self.push_bytes(key.as_ref());
        self.slots.push(Slot {
            col,
            key,
            value: None,
        });
    }

    /// Number of writes.
    pub fn len(&self) -> usize {
        self.slots.len()
    }

    /// Whether there are no writes.
    pub fn is_empty(&self) -> bool {
        self.slots.is_empty()
    }

    /// Bytes of keys and values in all.
    pub fn byte_len(&self) -> usize {
        self.bytes.len()
    }

    fn op(&self, s: &Slot) -> Op<'_> {
        let at = |(start, len): (u32, u32)| &self.bytes[start as usize..(start + len) as usize];
        (s.col, at(s.key), s.value.map(at))
    }

    /// The writes, in the order they were made (a later write to the same
    /// key wins).
    pub fn ops(&self) -> impl Iterator<Item = Op<'_>> {
        self.slots.iter().map(|s| self.op(s))
    }

    /// The writes ordered by column, then key; writes to one key keep
    /// their order. Skip-list memtables insert keys in this order cheaply.
    pub fn sorted_ops(&self) -> impl Iterator<Item = Op<'_>> {
        // Sort on (column, first 16 key bytes) held inline, so that most
        // comparisons touch no key bytes; equal prefixes fall back to the
        // whole key, then to the write order.
        let mut order: Vec<(u8, u128, u32)> = self
            .slots
            .iter()
            .enumerate()
            .map(|(i, s)| {
                let key = self.op(s).1;
                let mut prefix = [0u8; 16];
                let n = key.len().min(16);
                prefix[..n].copy_from_slice(&key[..n]);
                (s.col.index() as u8, u128::from_be_bytes(prefix), i as u32)
            })
            .collect();
        // A stable sort keeps the order of writes to one key, and merges
        // the ascending runs most of a block's writes come in (record keys,
        // log positions, an id stretch, statuses) instead of sorting them
        // again.
        order.sort_by(|a, b| {
            (a.0, a.1).cmp(&(b.0, b.1)).then_with(|| {
                let ka = self.op(&self.slots[a.2 as usize]).1;
                let kb = self.op(&self.slots[b.2 as usize]).1;
                ka.cmp(kb)
            })
        });
        order
            .into_iter()
            .map(|(_, _, i)| self.op(&self.slots[i as usize]))
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

    /// The values at `keys`, in order. Stores that can answer many point
    /// reads at once (RocksDB's batched `MultiGet`) override this.
    fn multi_get(&self, col: Column, keys: &[Vec<u8>]) -> Result<Vec<Option<Vec<u8>>>> {
        keys.iter().map(|k| self.get(col, k)).collect()
    }

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
