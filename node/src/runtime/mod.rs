//! The consensus runtime: one task that owns the replica, the mempool and
//! the ledger's write side, and carries out the replica's actions.
//!
//! ```text
//!  p2p inbound ──► Frame ──► Input::Bytes / SyncedBlock ─┐
//!  RPC ──► backlog bound ──► mempool ──► gossip Records   │
//!  timers ─────────────────────────────► Input::TimerFired┤
//!                                                         ▼
//!                                               Replica::handle
//!                                                         │ actions, in order
//!   Persist → ledger.consensus_put (synced) → Input::Persisted
//!   Send/Broadcast → p2p   BuildProposal → mempool + exec summary → ProposalReady
//!   ValidateBlock → header, roots, signatures → BlockValidated
//!   Deliver → ledger.commit (one synced batch) → commit events
//!   RequestBlocks → SyncRequest to peers
//! ```
//!
//! The replica holds back every message produced after a `Persist` until
//! the runtime feeds `Persisted` — and the runtime feeds it only after the
//! synced write returned — so no vote leaves before its state is on disk.
//!
//! Submodules: `actions` (carrying out actions, commits), `backlog` (the
//! commit-rate bound on client submissions, D33), `epoch` (validator-set
//! changes), `gauges` (view, primary and waiting records for the status
//! call), `persist` (the consensus state), `proposal` (building and
//! validating blocks).

mod actions;
mod backlog;
mod epoch;
pub mod gauges;
mod persist;
mod proposal;

use std::collections::{BTreeMap, HashSet, VecDeque};
use std::sync::Arc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use chancery_consensus::{Action, Config as ReplicaConfig, Input, Replica, Timer};
use chancery_ledger::{KvStore, Ledger};
use chancery_types::fast_hash::{FastMap, FastSet};
use chancery_types::log_proof::RootedIds;
use chancery_types::{BlockHeader, Canonical, ExecResult, Hash, RecordId};
use tokio::sync::{broadcast, mpsc, oneshot, watch};
use tracing::{debug, info, warn};

use crate::mempool::{AdmitError, Mempool};
use crate::p2p::{Inbound, Outbox};

/// Most inbound frames handled before their actions are carried out.
const FRAMES_PER_TURN: usize = 64;

/// How often the mempool is asked for records to gossip again.
const REGOSSIP_CHECK: Duration = Duration::from_millis(500);

/// Records gossiped again per check, at most (the oldest waiting).
const MAX_REGOSSIP: usize = 4096;

/// How blocks are cut.
#[derive(Debug, Clone, Copy)]
pub struct BlockLimits {
    /// Records per block, at most.
    pub max_records: usize,
    /// How long the primary waits for a fuller block.
    pub max_delay: Duration,
    /// Propose waiting records at once when no block of ours is in flight.
    pub eager: bool,
    /// With nothing to order but recent results to certify, the interval
    /// between the (empty) proposals that certify them (D39).
    pub certify_interval: Duration,
    /// With nothing to order or certify, the interval between (empty)
    /// proposals; keeps backups' progress timers quiet.
    pub idle_interval: Duration,
}

impl BlockLimits {
    /// How long a primary waits before proposing: `max_delay` when records
    /// wait, `certify_interval` when only the results of a block with
    /// records still wait for a header to certify them, else
    /// `idle_interval`.
    pub fn proposal_delay(&self, records_waiting: bool, uncertified: bool) -> Duration {
        if records_waiting {
            self.max_delay
        } else if uncertified {
            self.certify_interval
        } else {
            self.idle_interval
        }
    }
}

/// Requests from the API.
#[derive(Debug)]
pub enum Command {
    /// Admit encoded signed records; answers one result per record.
    Submit {
        /// Canonical signed records.
        records: Vec<Vec<u8>>,
        /// The answer.
        reply: oneshot::Sender<Vec<Result<RecordId, AdmitError>>>,
    },
}

/// A block committed by this node.
#[derive(Debug, Clone)]
pub struct CommitEvent {
    /// Height.
    pub height: u64,
    /// Header hash.
    pub hash: Hash,
    /// Log position of the block's first record.
    pub first_log_index: u64,
    /// The block's timestamp.
    pub timestamp: chancery_types::Timestamp,
    /// Each record with its execution result. Shared: the broadcast
    /// clones the event for every subscriber (each waiting
    /// `SubmitRecords` call and follower), and a block holds thousands.
    pub records: std::sync::Arc<[(RecordId, ExecResult)]>,
}

/// Gossiped records gathered over one turn of inbound frames.
#[derive(Default)]
struct GossipTurn {
    /// Encoded records, in arrival order.
    records: Vec<Vec<u8>>,
    /// (sending peer, number of its records), in the same order.
    sources: Vec<(usize, usize)>,
}

/// The runtime's state.
pub struct Runtime<K: KvStore> {
    /// The replica of the current validator set; `None` while this node is
    /// not one of its validators (it follows the chain by block sync).
    replica: Option<Replica>,
    /// This node's index in the current set.
    me: Option<usize>,
    /// Size of the current set (consensus broadcasts go to its members).
    n: usize,
    /// Peers the network knows (the current set, then validators about to join).
    peer_count: usize,
    /// The current validator set and the first height it certifies.
    set: chancery_types::ValidatorSet,
    epoch_start: u64,
    /// What every replica of this node is built from.
    params: epoch::Params,
    /// Where validator-set changes reach the network.
    peers: Option<watch::Sender<crate::p2p::peers::PeerSet>>,
    /// Consensus frames received while the current set is ending, for the
    /// next set's replica.
    stash: VecDeque<Vec<u8>>,
    /// When an observer last asked for blocks.
    last_follow: u64,
    /// The (current, scheduled) set hashes last sent to the network.
    published: Option<(Hash, Option<Hash>)>,
    ledger: Arc<Ledger<K>>,
    mempool: Mempool,
    outbox: Outbox,
    commits: broadcast::Sender<CommitEvent>,
    limits: BlockLimits,
    timers: BTreeMap<(u64, u64), Timer>,
    timer_seq: u64,
    /// A proposal the replica asked for: (height, view, parent, asked at).
    pending_proposal: Option<(u64, u64, Hash, u64)>,
    /// Headers of blocks seen in proposals (parents of later proposals).
    headers: FastMap<Hash, BlockHeader>,
    /// Proposals that wait for this node to execute their exec height.
    deferred: Vec<Arc<chancery_types::Block>>,
    /// Reads and writes the replica's persistent state.
    state_store: persist::StateStore,
    /// Records gossiped during the current turn, admitted at its end.
    gossip: GossipTurn,
    /// Record ids of blocks this node proposed or validated, with their
    /// records root, by header hash, with their height: the commit takes
    /// them instead of hashing every record and id again.
    block_ids: FastMap<Hash, (u64, RootedIds)>,
    /// Records whose signatures this node verified at admission.
    verified: FastSet<RecordId>,
    /// Highest height of a block with records seen (proposed or
    /// committed); until `execution_lag` blocks follow it, its results
    /// are uncertified and blocks are cut at `max_delay`.
    last_busy_height: u64,
    /// Records this node took from its mempool for its own proposals, by
    /// height; those a different block left out go back to the mempool.
    inflight: BTreeMap<u64, Vec<crate::mempool::Admitted>>,
    /// The bound on records client submissions may leave waiting.
    backlog: backlog::Backlog,
    /// When the mempool was last asked for records to gossip again (and
    /// the request timer checked).
    regossip_checked: std::time::Instant,
    /// The request timer's view: ((first height of the validator set,
    /// replica view), since when this node has been in it). A record's
    /// wait counts from the later of its admission and this.
    request_view: ((u64, u64), std::time::Instant),
    /// Readings for the status call.
    gauges: Arc<gauges::Gauges>,
    /// The validator indexes the network is connected to (D46); taken
    /// by [`Runtime::run`].
    connections: Option<watch::Receiver<HashSet<usize>>>,
}

/// The next value of a watched set; pends forever without one, or once
/// its sender is gone.
async fn changed(rx: &mut Option<watch::Receiver<HashSet<usize>>>) -> Option<HashSet<usize>> {
    if let Some(rx) = rx
        && rx.changed().await.is_ok()
    {
        return Some(rx.borrow_and_update().clone());
    }
    std::future::pending().await
}

/// Milliseconds since the Unix epoch.
pub fn now_ms() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_millis() as u64)
        .unwrap_or(0)
}

/// Why the runtime could not start.
#[derive(Debug, thiserror::Error)]
pub enum RuntimeError {
    /// The validator set in the ledger cannot be turned into peers.
    #[error("validator set: {0}")]
    Peers(#[from] crate::p2p::peers::PeerError),
    /// The consensus configuration or stored state was refused.
    #[error("consensus: {0}")]
    Consensus(#[from] chancery_consensus::Error),
    /// The ledger failed.
    #[error("ledger: {0}")]
    Ledger(#[from] chancery_ledger::LedgerError),
    /// Stored consensus state does not decode.
    #[error("stored consensus state is corrupt: {0}")]
    CorruptState(chancery_types::DecodeError),
    /// The stored consensus state names a prepared block that is not stored.
    #[error(
        "stored consensus state is corrupt: prepared block {hash} at height {height} is missing or does not match its hash"
    )]
    MissingPreparedBlock {
        /// Height of the prepared block.
        height: u64,
        /// The hash its certificate names.
        hash: Hash,
    },
}

impl<K: KvStore + Send + Sync + 'static> Runtime<K> {
    /// Builds the runtime. `config` gives the chain, this node's consensus
    /// key, the window and the timeouts; the validator set (and whether
    /// this node is in it) comes from the ledger: the set in force after
    /// its tip. The replica is restored from the stored consensus state
    /// when that state belongs to the same set.
    pub fn new(
        config: ReplicaConfig,
        ledger: Arc<Ledger<K>>,
        mempool: Mempool,
        outbox: Outbox,
        limits: BlockLimits,
    ) -> Result<(Self, broadcast::Receiver<CommitEvent>), RuntimeError> {
        let params = epoch::Params::from_config(&config);
        let (stored, state_store) = persist::StateStore::load(&ledger)?;
        let (commits, commits_rx) = broadcast::channel(1024);
        let set = config.validators.clone();
        let bounds = mempool.limits();
        let backlog = backlog::Backlog::new(
            bounds.max_backlog,
            limits.max_records.saturating_mul(2),
            bounds.max_records,
        );
        let mut rt = Runtime {
            replica: None,
            me: None,
            n: set.n(),
            peer_count: set.n(),
            set,
            epoch_start: 0,
            params,
            peers: None,
            stash: VecDeque::new(),
            last_follow: 0,
            published: None,
            ledger,
            mempool,
            outbox,
            commits,
            limits,
            timers: BTreeMap::new(),
            timer_seq: 0,
            pending_proposal: None,
            headers: FastMap::default(),
            deferred: Vec::new(),
            state_store,
            gossip: GossipTurn::default(),
            block_ids: FastMap::default(),
            verified: FastSet::default(),
            last_busy_height: 0,
            inflight: BTreeMap::new(),
            backlog,
            regossip_checked: std::time::Instant::now(),
            request_view: ((0, 0), std::time::Instant::now()),
            gauges: Arc::default(),
            connections: None,
        };
        rt.enter_epoch(stored)?;
        Ok((rt, commits_rx))
    }

    /// Sends validator-set changes to the network (the daemon's p2p task).
    pub fn with_peer_updates(mut self, tx: watch::Sender<crate::p2p::peers::PeerSet>) -> Self {
        if let Ok(peers) = self.peer_set() {
            tx.send_replace(peers);
        }
        self.peers = Some(tx);
        self
    }

    /// Follows the network's connections: a validator that (re)connects
    /// is sent again what this replica said in the current view, which
    /// the network dropped while it was not connected (D46).
    pub fn with_connections(mut self, connected: watch::Receiver<HashSet<usize>>) -> Self {
        self.connections = Some(connected);
        self
    }

    /// The readings the runtime publishes for the status call.
    pub fn gauges(&self) -> Arc<gauges::Gauges> {
        self.gauges.clone()
    }

    /// The sender of commit events, for subscribing later (the API).
    pub fn commit_sender(&self) -> broadcast::Sender<CommitEvent> {
        self.commits.clone()
    }

    /// A new subscriber to commit events.
    pub fn subscribe(&self) -> broadcast::Receiver<CommitEvent> {
        self.commits.subscribe()
    }

    /// Runs until `shutdown` flips.
    pub async fn run(
        mut self,
        mut inbound: mpsc::Receiver<Inbound>,
        mut commands: mpsc::Receiver<Command>,
        mut shutdown: watch::Receiver<bool>,
    ) {
        let mut queue = VecDeque::new();
        self.boot(&mut queue);
        let mut connections = self.connections.take();
        let mut connected = HashSet::new();
        loop {
            self.drain(&mut queue).await;
            self.maybe_propose(&mut queue);
            self.drain(&mut queue).await;
            if self.maybe_regossip() {
                self.maybe_suspect(&mut queue);
                self.drain(&mut queue).await;
            }
            let deadline = self.next_deadline();
            let sleep = tokio::time::sleep(Duration::from_millis(
                deadline.saturating_sub(now_ms()).min(1000),
            ));
            tokio::select! {
                _ = shutdown.changed() => {
                    info!("runtime: shutting down");
                    return;
                }
                Some(frame) = inbound.recv() => {
                    // Take what else has arrived too, so the actions of
                    // several frames drain together (one persist for all).
                    self.on_frame(frame, &mut queue).await;
                    for _ in 1..FRAMES_PER_TURN {
                        let Ok(frame) = inbound.try_recv() else { break };
                        self.on_frame(frame, &mut queue).await;
                    }
                    self.admit_gossip();
                }
                Some(cmd) = commands.recv() => self.on_command(cmd).await,
                Some(now) = changed(&mut connections) => {
                    for peer in now.difference(&connected) {
                        self.peer_connected(*peer, &mut queue);
                    }
                    connected = now;
                }
                _ = sleep => self.fire_timers(&mut queue).await,
            }
        }
    }

    /// Validator `peer` connected (again): the replica sends it what it
    /// said in the current view, which the network dropped meanwhile (D46).
    fn peer_connected(&mut self, peer: usize, queue: &mut VecDeque<Action>) {
        if peer < self.n && Some(peer) != self.me {
            debug!(
                peer,
                "runtime: validator connected; sending it this view's messages again"
            );
            self.input(Input::PeerConnected(peer as u16), queue);
        }
    }

    fn boot(&mut self, queue: &mut VecDeque<Action>) {
        // Blocks the ledger holds beyond what the replica delivered (the
        // ledger commits before the replica's next persist) go back in.
        let tip = self.ledger.tip().height;
        let Some(delivered) = self.replica.as_ref().map(|r| r.delivered()) else {
            info!(
                tip,
                "runtime: started; not a validator of the current set, following the chain"
            );
            return;
        };
        for h in delivered + 1..=tip {
            match (self.ledger.block(h), self.ledger.certificate(h)) {
                (Ok(Some(block)), Ok(Some(certificate))) => self.input(
                    Input::SyncedBlock {
                        block: Arc::new(block),
                        certificate,
                    },
                    queue,
                ),
                _ => {
                    warn!(height = h, "runtime: ledger block missing at boot");
                    break;
                }
            }
        }
        self.input(Input::Start, queue);
        info!(me = self.me, n = self.n, tip, "runtime: started");
    }

    fn input(&mut self, input: Input, queue: &mut VecDeque<Action>) {
        if let Some(r) = self.replica.as_mut() {
            queue.extend(r.handle(now_ms(), input));
        }
    }

    fn next_deadline(&self) -> u64 {
        let timer = self.timers.keys().next().map(|(at, _)| *at);
        let proposal = self
            .pending_proposal
            .map(|(height, .., asked)| asked + self.proposal_delay(height).as_millis() as u64);
        match (timer, proposal) {
            (Some(a), Some(b)) => a.min(b),
            (Some(a), None) | (None, Some(a)) => a,
            (None, None) => now_ms() + epoch::FOLLOW_INTERVAL_MS,
        }
        .min(if self.replica.is_none() {
            self.last_follow + epoch::FOLLOW_INTERVAL_MS
        } else {
            u64::MAX
        })
    }

    /// How long the primary waits before proposing at `height`: briefly
    /// when records wait, `certify_interval` when only recent results wait
    /// for a header to certify them, else `idle_interval`.
    fn proposal_delay(&self, height: u64) -> Duration {
        let uncertified = height <= self.last_busy_height + self.ledger.execution_lag();
        self.limits
            .proposal_delay(!self.mempool.is_empty(), uncertified)
    }

    async fn fire_timers(&mut self, queue: &mut VecDeque<Action>) {
        let now = now_ms();
        if self.replica.is_none() && now >= self.last_follow + epoch::FOLLOW_INTERVAL_MS {
            self.last_follow = now;
            self.follow().await;
        }
        while let Some((&(at, seq), _)) = self.timers.iter().next() {
            if at > now {
                break;
            }
            if let Some(timer) = self.timers.remove(&(at, seq)) {
                self.input(Input::TimerFired(timer), queue);
            }
        }
    }

    async fn on_command(&mut self, cmd: Command) {
        match cmd {
            Command::Submit { records, reply } => {
                let waiting = self.mempool.len() + self.mempool.held();
                if let Some(refused) = self.backlog.refusal(waiting, self.mempool.bytes()) {
                    // Refused before any decoding or signature check: past
                    // the bound, more waiting records only wait longer.
                    let _ = reply.send(records.iter().map(|_| Err(refused.clone())).collect());
                    return;
                }
                let results = self.admit(&records, true);
                let admitted: Vec<Vec<u8>> = records
                    .into_iter()
                    .zip(&results)
                    .filter(|(_, r)| r.is_ok())
                    .map(|(b, _)| b)
                    .collect();
                self.gossip(admitted);
                let _ = reply.send(results);
            }
        }
    }

    /// Gossips again the records that have waited in the mempool for
    /// `mempool.regossip_after` (clients submitted them here) or four times
    /// that (a peer gossiped them; see [`Mempool::stale`]): the frames that
    /// carried them may have been lost (gossip is sent once, and dropped
    /// while a peer is unreachable), and a primary that never received
    /// them would never propose them. Peers that hold them refuse the
    /// copies as duplicates (ARCHITECTURE.md D43).
    ///
    /// [`Mempool::stale`]: crate::mempool::Mempool::stale
    /// Returns whether it checked (every [`REGOSSIP_CHECK`]).
    fn maybe_regossip(&mut self) -> bool {
        let now = std::time::Instant::now();
        if now.duration_since(self.regossip_checked) < REGOSSIP_CHECK {
            return false;
        }
        self.regossip_checked = now;
        let stale = self.mempool.stale(now, MAX_REGOSSIP);
        if !stale.is_empty() {
            info!(
                records = stale.len(),
                "runtime: gossiping again records still waiting for a block"
            );
            self.gossip(stale);
        }
        true
    }

    /// PBFT's request timer (ARCHITECTURE.md D44): when this node is a
    /// backup in a normal view, not fetching blocks it is behind on, and
    /// the longest-waiting record in its
    /// mempool has waited `consensus.request_timeout` since the later of
    /// its admission and the start of the view, the primary is leaving it
    /// out: tell the replica, which sends a suspicion (repeated at every
    /// check while the record waits); f+1 of them change the view. Also
    /// publishes the status call's readings.
    fn maybe_suspect(&mut self, queue: &mut VecDeque<Action>) {
        let now = std::time::Instant::now();
        let oldest = self.mempool.oldest_queued();
        let mut reading = gauges::Reading {
            waiting: (self.mempool.len() + self.mempool.held()) as u64,
            oldest_waiting_ms: oldest
                .map_or(0, |t| now.saturating_duration_since(t).as_millis() as u64),
            ..gauges::Reading::default()
        };
        let Some(r) = self.replica.as_ref() else {
            self.gauges.set(reading);
            return;
        };
        let view = r.view();
        reading.view = view;
        reading.primary = u32::from(r.primary(view));
        if self.request_view.0 != (self.epoch_start, view) {
            self.request_view = ((self.epoch_start, view), now);
        }
        let waited = oldest.map(|t| now.saturating_duration_since(t.max(self.request_view.1)));
        let suspect =
            r.may_suspect() && waited.is_some_and(|w| w >= self.mempool.limits().request_timeout);
        reading.suspecting = suspect;
        self.gauges.set(reading);
        if suspect {
            debug!(
                view,
                waited_ms = reading.oldest_waiting_ms,
                "runtime: a record waits past the request timeout"
            );
            self.input(Input::Suspect, queue);
        }
    }

    /// Admits the records gossiped during this turn, all in one batch
    /// (larger batches verify faster per signature).
    fn admit_gossip(&mut self) {
        if self.gossip.records.is_empty() {
            return;
        }
        let records = std::mem::take(&mut self.gossip.records);
        let results = self.admit(&records, false);
        let mut results = results.iter();
        for (from, n) in std::mem::take(&mut self.gossip.sources) {
            let refused = results.by_ref().take(n).filter(|r| r.is_err()).count();
            if refused > 0 {
                debug!(from, refused, "runtime: gossiped records refused");
            }
        }
    }

    /// Admits `records`, from a client (`submitted`) or gossiped by a peer.
    fn admit(&mut self, records: &[Vec<u8>], submitted: bool) -> Vec<Result<RecordId, AdmitError>> {
        let keys = proposal::RulesKeys(self.ledger.rules());
        let ledger = &self.ledger;
        let committed = |ids: &[RecordId]| {
            ledger.committed_many(ids).unwrap_or_else(|e| {
                warn!(error = %e, "runtime: cannot look up record ids; admitting, execution refuses duplicates");
                vec![false; ids.len()]
            })
        };
        let results = if submitted {
            self.mempool.submit(records, &keys, &committed)
        } else {
            self.mempool.admit(records, &keys, &committed)
        };
        for id in results.iter().flatten() {
            self.verified.insert(*id);
        }
        results
    }

    async fn on_frame(&mut self, inbound: Inbound, queue: &mut VecDeque<Action>) {
        use crate::wire::Frame;
        let frame = match Frame::from_canonical(&inbound.frame) {
            Ok(f) => f,
            Err(e) => {
                debug!(from = inbound.from, error = %e, "runtime: undecodable frame dropped");
                return;
            }
        };
        match frame {
            Frame::Consensus(bytes) => {
                let bytes = bytes.into_vec();
                self.stash_if_ending(&bytes);
                self.input(Input::Bytes(bytes), queue)
            }
            Frame::Records(list) => {
                // Admitted with the rest of this turn's gossip, in one
                // signature batch, before the turn's actions run.
                let records = list.into_vec();
                self.gossip.sources.push((inbound.from, records.len()));
                self.gossip
                    .records
                    .extend(records.into_iter().map(|b| b.into_vec()));
            }
            Frame::SyncRequest { from, to } => self.serve_sync(inbound.from, from, to),
            Frame::SyncResponse(blocks) if self.replica.is_none() => {
                self.commit_followed(blocks.into_vec(), queue);
            }
            Frame::SyncResponse(blocks) => {
                for synced in blocks.into_vec() {
                    self.input(
                        Input::SyncedBlock {
                            block: Arc::new(synced.block),
                            certificate: synced.certificate,
                        },
                        queue,
                    );
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn limits() -> BlockLimits {
        BlockLimits {
            max_records: 100,
            max_delay: Duration::from_millis(20),
            eager: true,
            certify_interval: Duration::from_millis(100),
            idle_interval: Duration::from_millis(250),
        }
    }

    /// Waiting records go out after `max_delay` whatever else is pending;
    /// blocks that only certify recent results wait `certify_interval`;
    /// with nothing at all, `idle_interval`.
    #[test]
    fn the_proposal_delay_follows_what_is_waiting() {
        let l = limits();
        assert_eq!(l.proposal_delay(true, true), l.max_delay);
        assert_eq!(l.proposal_delay(true, false), l.max_delay);
        assert_eq!(l.proposal_delay(false, true), l.certify_interval);
        assert_eq!(l.proposal_delay(false, false), l.idle_interval);
    }
}
