//! # chancery-ledger
//!
//! Everything a node keeps on disk and everything it computes from
//! committed blocks: deterministic execution of records, the RocksDB
//! store, the record log (a Merkle log with inclusion and consistency
//! proofs), the state tree (a sparse Merkle tree of subject statuses with
//! membership and non-membership proofs), and indexes with paged queries.
//! Certificates are verified by the caller; proofs are verified by
//! `chancery_types::{log_proof, state_proof}`.
//!
//! ```text
//!  (Block, CommitCertificate) ──► Ledger::commit
//!        │ check header: chain, height, parent, time, exec_height + roots
//!        │ execute (rules, lifecycle) ──► results, status changes
//!        │ record log append (Frontier) ──► log nodes, log root
//!        │ state tree plan + apply      ──► state root
//!        ▼ one synced atomic Batch: header, block, cert, records, results,
//!   KvStore (MemKv | RocksKv)    state, summary, log nodes, indexes, tip
//!        ▲
//!  reads: header / block / record / query (cursor pages) /
//!         inclusion + consistency proofs / status proofs / exec summary
//! ```
//!
//! Modules:
//! - [`ledger`]: [`Ledger`]: open, state in memory, accessors;
//!   [`header`]: building and checking headers; [`commit`]: executing and
//!   storing a certified block.
//! - [`read`]: headers, blocks, records, log entries, proofs, statuses.
//! - [`query`]: filters, cursors, pages; [`search`]: several conditions at once.
//! - [`execute`]: executing one block; [`lifecycle`]: licence, grant and
//!   access-log transitions; [`rules`]: genesis rules, timestamp bounds,
//!   [`SignatureCheck`].
//! - [`governance`]: approvals, thresholds and governance actions.
//! - [`latest`]: the latest status of every key, for execution, in
//!   shards that resize one at a time.
//! - [`ids`]: the record-id index, gathered in memory and written in
//!   sorted runs.
//! - [`log`]: the record log's frontier, stored nodes, proof construction.
//! - [`payload`]: the off-chain payload store and erasure.
//! - [`smt`]: the sparse Merkle state tree and its last few versions, in
//!   slabs (`plan.rs`: computing an update without blocking readers).
//! - [`summary`]: [`ExecSummary`], the roots a later header carries.
//! - [`kv`]: the storage contract ([`KvStore`], [`Column`], [`Batch`]);
//!   [`mem`]: in-memory store; [`rocks`]: RocksDB store.
//! - [`keys`]: key and value layouts of every column.
//! - [`error`] holds [`LedgerError`].
#![cfg_attr(
    not(test),
    deny(clippy::unwrap_used, clippy::expect_used, clippy::panic)
)]

pub mod commit;
pub mod error;
pub mod execute;
pub mod governance;
pub mod header;
pub mod ids;
pub mod keys;
pub mod kv;
pub mod latest;
pub mod ledger;
pub mod lifecycle;
pub mod log;
pub mod mem;
pub mod payload;
pub mod query;
pub mod read;
pub mod rocks;
pub mod rules;
pub mod search;
pub mod smt;
pub mod summary;

pub use error::{LedgerError, Result};
pub use header::HeaderParams;
pub use kv::{Batch, Column, KvStore};
pub use ledger::{Committed, Ledger, Tip};
pub use mem::MemKv;
pub use query::{Cursor, Filter, Page};
pub use read::{BundleLookup, RecordProof, RecordView, StatusProof};
pub use rocks::RocksKv;
pub use rules::{NothingVerified, Rules, SignatureCheck};
pub use search::{Query, SearchPage};
pub use summary::ExecSummary;

impl Ledger<RocksKv> {
    /// Opens (or creates) the RocksDB ledger at `path` for `genesis`.
    pub fn open_rocks(
        path: impl AsRef<std::path::Path>,
        genesis: &chancery_types::Genesis,
    ) -> Result<Self> {
        Ledger::open(RocksKv::open(path)?, genesis)
    }
}

impl Ledger<MemKv> {
    /// A fresh in-memory ledger for `genesis`.
    pub fn in_memory(genesis: &chancery_types::Genesis) -> Result<Self> {
        Ledger::open(MemKv::new(), genesis)
    }
}
