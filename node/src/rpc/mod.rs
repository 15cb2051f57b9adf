//! The gRPC API: the record, ledger and node services, server reflection
//! and `grpc.health.v1`, on one tonic server.
//!
//! ```text
//!  client ──► tonic (message-size and per-connection limits)
//!              ├─ RecordService ─ Submit ──► runtime Command ──► mempool
//!              │                  Get, GetProof ──► Ledger (read side)
//!              ├─ LedgerService ─ GetBlock ──► Ledger
//!              ├─ NodeService ── GetStatus ──► Ledger tip, p2p peers and counters
//!              ├─ PayloadService ─ PutPayload, GetPayload ──► Ledger payload store
//!              ├─ GovernanceService ─ GetRules, AccessLog, GrantsFor ──► Ledger
//!              ├─ grpc.health.v1, grpc.reflection.v1
//! ```
//!
//! Errors: [`errors`] maps every refusal to a gRPC code with a message
//! naming the problem (docs/API.md lists them).

pub mod errors;
mod filter;
mod follow;
mod governance;
mod ledger;
mod node;
mod payloads;
mod records;
mod server;

use std::collections::HashSet;
use std::sync::Arc;
use std::time::Duration;

use chancery_ledger::{KvStore, Ledger};
use tokio::sync::{broadcast, mpsc, watch};

use crate::runtime::{Command, CommitEvent};

pub use server::{RpcLimits, serve};

/// Counters the network keeps, shared with the status call.
#[derive(Clone, Debug, Default)]
pub struct NetCounters {
    /// Outbound frames dropped.
    pub dropped: Arc<std::sync::atomic::AtomicU64>,
    /// Incoming connections refused.
    pub refused: Arc<std::sync::atomic::AtomicU64>,
}

/// What the services share: the ledger's read side, the runtime's command
/// queue and commit events, and facts about this node.
pub struct Api<K: KvStore> {
    /// The ledger (reads only; the runtime writes).
    pub ledger: Arc<Ledger<K>>,
    /// Commands to the runtime.
    pub commands: mpsc::Sender<Command>,
    /// Commit events, to wait for a submitted record.
    pub commits: broadcast::Sender<CommitEvent>,
    /// Validators currently connected.
    pub connected: watch::Receiver<HashSet<usize>>,
    /// The network's counters (frames dropped, connections refused).
    pub net_counters: NetCounters,
    /// The consensus runtime's readings (view, primary, waiting records).
    pub gauges: Arc<crate::runtime::gauges::Gauges>,
    /// This validator's index.
    pub me: usize,
    /// The genesis chain name.
    pub chain_name: String,
    /// The genesis validator set (this node's identity is `me` in it; the
    /// set in force at a height comes from `Ledger::validator_set_at`).
    pub validators: chancery_types::ValidatorSet,
    /// How long `wait_for_commit` waits before DEADLINE_EXCEEDED.
    pub commit_timeout: Duration,
    /// Flips when the node stops; ends open streams.
    pub stop: watch::Receiver<bool>,
}

impl<K: KvStore> Clone for Api<K> {
    fn clone(&self) -> Self {
        Api {
            ledger: self.ledger.clone(),
            commands: self.commands.clone(),
            commits: self.commits.clone(),
            connected: self.connected.clone(),
            net_counters: self.net_counters.clone(),
            gauges: self.gauges.clone(),
            me: self.me,
            chain_name: self.chain_name.clone(),
            validators: self.validators.clone(),
            commit_timeout: self.commit_timeout,
            stop: self.stop.clone(),
        }
    }
}
