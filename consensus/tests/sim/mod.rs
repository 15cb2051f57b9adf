//! Seeded, deterministic multi-replica simulator.
//!
//! Every run is a function of its [`Scenario`] (itself a function of a
//! seed): one event queue in simulated milliseconds, one ChaCha RNG. The
//! network drops, delays (reordering) and duplicates messages, partitions
//! and heals; honest replicas crash and restart from their persisted state;
//! a link that heals and a replica that restarts feed both ends
//! `PeerConnected`, as the node does when its network connects (D46);
//! Byzantine replicas equivocate, double vote, stay silent, vote for junk or
//! run as twins. Checked on every run:
//! - safety: no two honest replicas deliver different blocks at one height,
//!   every delivered certificate passes `CommitCertificate::verify_for`,
//!   each replica's delivered blocks form a chain, no evidence against an
//!   honest validator, all evidence verifies;
//! - liveness: after the network heals (and crashed replicas restart), every
//!   honest replica delivers `liveness_blocks` more blocks within
//!   `liveness_bound_ms` of simulated time.
#![allow(dead_code, missing_docs)]

use std::collections::BTreeMap;

use chancery_consensus::{Action, Config, Input, Message, PersistentState, Replica, Timeouts};
use chancery_types::{Block, CommitCertificate, Hash};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

use crate::common::{Fixture, JUNK_ROOT};

mod byzantine;
mod scenario;
#[allow(unused_imports)]
pub use scenario::{Scenario, scenario, scenario_with_suspicions, sweep, sweep_of};

/// What a faulty validator does.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Behaviour {
    Honest,
    /// Sends nothing.
    Silent,
    /// As primary, sends one block to half the validators and another to the rest.
    EquivocatingPrimary,
    /// Sends each PREPARE and COMMIT for its block to half, and for another hash to the rest.
    DoubleVote,
    /// Proposes invalid blocks and adds votes for random hashes.
    JunkVotes,
    /// Sends every PREPARE and COMMIT twice to everyone: for its block and for another hash.
    DoubleVoteAll,
    /// Suspects the primary of whatever view it runs, every 20 ms.
    Suspecter,
}

/// How often a [`Behaviour::Suspecter`] suspects.
const SUSPECTER_MS: u64 = 20;

#[derive(Debug)]
pub struct Outcome {
    pub safety: Result<(), String>,
    pub liveness: Result<(), String>,
    /// Highest height delivered by an honest replica.
    pub max_height: u64,
    pub evidence: usize,
    /// Times an honest replica left a view on suspicions (f+1 of them).
    pub suspect_moves: usize,
    pub events: u64,
}

impl Outcome {
    pub fn ok(&self) -> bool {
        self.safety.is_ok() && self.liveness.is_ok()
    }
}

struct Node {
    validator: u16,
    side: u8,
    behaviour: Behaviour,
    twin: bool,
    replica: Option<Replica>,
    persisted: Option<PersistentState>,
    /// Token of `persisted` in the current life of the replica. Writes may
    /// complete out of order here (random delays); the disk keeps the
    /// latest one, as the node's sequential synced writes do.
    persisted_token: u64,
    ledger: Vec<(std::sync::Arc<Block>, CommitCertificate)>,
    epoch: u32,
}

impl Node {
    fn honest(&self) -> bool {
        self.behaviour == Behaviour::Honest && !self.twin
    }
}

enum Ev {
    Input {
        node: usize,
        epoch: u32,
        input: Input,
    },
    Persisted {
        node: usize,
        epoch: u32,
        token: chancery_consensus::PersistToken,
        state: PersistentState,
    },
    Msg {
        to: usize,
        msg: Message,
    },
    Crash {
        node: usize,
    },
    Restart {
        node: usize,
    },
    Partition,
    Heal,
}

pub struct Sim {
    sc: Scenario,
    fx: Fixture,
    rng: ChaCha8Rng,
    now: u64,
    seq: u64,
    queue: BTreeMap<(u64, u64), Ev>,
    nodes: Vec<Node>,
    partition: Option<Vec<u8>>,
    healed: bool,
    drop: f64,
    committed: BTreeMap<u64, Hash>,
    safety: Result<(), String>,
    evidence: usize,
    suspect_moves: usize,
    events: u64,
    trace: bool,
}

impl Sim {
    pub fn new(sc: Scenario) -> Self {
        let fx = Fixture {
            timeouts: Timeouts {
                base_ms: 200,
                max_ms: 3_200,
            },
            ..Fixture::new(sc.n)
        };
        let mut nodes = Vec::new();
        for v in 0..sc.n as u16 {
            let behaviour = sc
                .byzantine
                .iter()
                .find(|(b, _)| *b == v)
                .map_or(Behaviour::Honest, |(_, b)| *b);
            let copies = if sc.twins.contains(&v) { 2 } else { 1 };
            for c in 0..copies {
                nodes.push(Node {
                    validator: v,
                    side: if copies == 2 { c } else { (v % 2) as u8 },
                    behaviour,
                    twin: copies == 2,
                    replica: None,
                    persisted: None,
                    persisted_token: 0,
                    ledger: Vec::new(),
                    epoch: 0,
                });
            }
        }
        let rng = ChaCha8Rng::seed_from_u64(sc.seed);
        let drop = sc.drop;
        Sim {
            sc,
            fx,
            rng,
            now: 0,
            seq: 0,
            queue: BTreeMap::new(),
            nodes,
            partition: None,
            healed: false,
            drop,
            committed: BTreeMap::new(),
            safety: Ok(()),
            evidence: 0,
            suspect_moves: 0,
            events: 0,
            trace: std::env::var("SIM_TRACE").is_ok(),
        }
    }

    fn config(&self, node: usize) -> Config {
        self.fx.config(self.nodes[node].validator, self.sc.window)
    }

    fn push(&mut self, at: u64, ev: Ev) {
        self.seq += 1;
        self.queue.insert((at, self.seq), ev);
    }

    fn fail(&mut self, why: String) {
        if self.safety.is_ok() {
            self.safety = Err(format!("t={}ms: {why}", self.now));
        }
    }

    pub fn run(mut self) -> Outcome {
        for i in 0..self.nodes.len() {
            let r = Replica::new(self.config(i)).expect("config");
            self.nodes[i].replica = Some(r);
            self.apply(i, Input::Start);
        }
        // The chaos schedule.
        if self.sc.partitions {
            let k = self.rng.gen_range(0..3);
            for _ in 0..k {
                let at = self.rng.gen_range(0..self.sc.chaos_ms);
                self.push(at, Ev::Partition);
            }
        }
        if self.sc.crashes {
            let k = self.rng.gen_range(0..4);
            for _ in 0..k {
                let node = self.rng.gen_range(0..self.nodes.len());
                if !self.nodes[node].honest() {
                    continue;
                }
                let at = self.rng.gen_range(0..self.sc.chaos_ms);
                self.push(at, Ev::Crash { node });
            }
        }
        // Wrong suspicions: each burst, a random group suspects within 5 ms.
        for _ in 0..self.sc.suspicion_bursts {
            let at = self.rng.gen_range(0..self.sc.chaos_ms);
            for node in 0..self.nodes.len() {
                if self.rng.gen_bool(0.5) {
                    let epoch = self.nodes[node].epoch;
                    let t = at + self.rng.gen_range(0..5);
                    self.push(
                        t,
                        Ev::Input {
                            node,
                            epoch,
                            input: Input::Suspect,
                        },
                    );
                }
            }
        }
        for node in 0..self.nodes.len() {
            if self.nodes[node].behaviour == Behaviour::Suspecter {
                self.later(node, SUSPECTER_MS, Input::Suspect);
            }
        }
        self.push(self.sc.chaos_ms, Ev::Heal);
        let deadline = self.sc.chaos_ms + self.sc.liveness_bound_ms;
        let mut heal_height: Option<u64> = None;
        let mut liveness = Err("liveness not reached".to_string());
        while let Some(((at, _), ev)) = self.queue.pop_first() {
            if at > deadline {
                break;
            }
            self.now = at;
            self.events += 1;
            self.step(ev);
            if self.safety.is_err() {
                break;
            }
            if self.healed {
                let h0 = *heal_height.get_or_insert_with(|| self.honest_max_height());
                let target = h0 + self.sc.liveness_blocks;
                if self.honest_min_height() >= target {
                    liveness = Ok(());
                    break;
                }
            }
        }
        if !self.sc.check_liveness {
            liveness = Ok(());
        } else if let Err(e) = &mut liveness {
            *e = format!(
                "{e}: honest heights {:?} at t={}ms (healed at {}ms, bound {}ms)",
                self.honest_heights(),
                self.now,
                self.sc.chaos_ms,
                self.sc.liveness_bound_ms
            );
        }
        Outcome {
            max_height: self.honest_max_height(),
            safety: self.safety,
            liveness,
            evidence: self.evidence,
            suspect_moves: self.suspect_moves,
            events: self.events,
        }
    }

    fn honest_heights(&self) -> Vec<u64> {
        self.nodes
            .iter()
            .filter(|n| n.honest())
            .map(|n| n.ledger.len() as u64)
            .collect()
    }
    fn honest_max_height(&self) -> u64 {
        self.honest_heights().into_iter().max().unwrap_or(0)
    }
    fn honest_min_height(&self) -> u64 {
        self.honest_heights().into_iter().min().unwrap_or(0)
    }

    fn step(&mut self, ev: Ev) {
        match ev {
            Ev::Input { node, epoch, input } => {
                if self.nodes[node].epoch == epoch && self.nodes[node].replica.is_some() {
                    let again = input == Input::Suspect
                        && self.nodes[node].behaviour == Behaviour::Suspecter;
                    self.apply(node, input);
                    if again {
                        self.later(node, SUSPECTER_MS, Input::Suspect);
                    }
                }
            }
            Ev::Persisted {
                node,
                epoch,
                token,
                state,
            } => {
                if self.nodes[node].epoch == epoch && self.nodes[node].replica.is_some() {
                    let n = &mut self.nodes[node];
                    if token.0 > n.persisted_token {
                        n.persisted = Some(state);
                        n.persisted_token = token.0;
                    }
                    self.apply(node, Input::Persisted(token));
                }
            }
            Ev::Msg { to, msg } => {
                if self.nodes[to].replica.is_some() {
                    self.apply(to, Input::Message(msg));
                }
            }
            Ev::Crash { node } => {
                if self.nodes[node].replica.take().is_some() {
                    self.nodes[node].epoch += 1;
                    let back = self.now + self.rng.gen_range(50..500);
                    self.push(back, Ev::Restart { node });
                }
            }
            Ev::Restart { node } => self.restart(node),
            Ev::Partition => {
                let groups = (0..self.nodes.len())
                    .map(|_| self.rng.gen_range(0..2u8))
                    .collect();
                self.partition = Some(groups);
            }
            Ev::Heal => {
                self.healed = true;
                let split = self.partition.take();
                self.drop = 0.0;
                // Links that come back are connections, as in the node (D46).
                if let Some(groups) = split {
                    for i in 0..self.nodes.len() {
                        for j in 0..self.nodes.len() {
                            if groups[i] != groups[j] {
                                self.connected(i, j);
                            }
                        }
                    }
                }
                for i in 0..self.nodes.len() {
                    if self.nodes[i].replica.is_none() {
                        self.restart(i);
                    }
                }
            }
        }
    }

    fn restart(&mut self, node: usize) {
        if self.nodes[node].replica.is_some() {
            return;
        }
        let state = self.nodes[node]
            .persisted
            .clone()
            .unwrap_or_else(PersistentState::genesis);
        let r = Replica::restore(self.config(node), state).expect("restore");
        let from = r.delivered() as usize;
        self.nodes[node].replica = Some(r);
        // The restored replica numbers its persists from 1 again.
        self.nodes[node].persisted_token = 0;
        // The node feeds its own ledger back, then starts the replica.
        let ledger: Vec<_> =
            self.nodes[node].ledger[from.min(self.nodes[node].ledger.len())..].to_vec();
        for (block, certificate) in ledger {
            self.apply(node, Input::SyncedBlock { block, certificate });
        }
        self.apply(node, Input::Start);
        // Its connections come up: each side hears of the other (D46).
        for j in 0..self.nodes.len() {
            if self.reachable(j, node) {
                self.connected(j, node);
                self.connected(node, j);
            }
        }
    }

    /// Node `i`'s network connects to node `j`: feeds `i` a
    /// `PeerConnected` of `j`'s validator index a moment later.
    fn connected(&mut self, i: usize, j: usize) {
        let peer = self.nodes[j].validator;
        if self.nodes[i].replica.is_none()
            || self.nodes[j].replica.is_none()
            || self.nodes[i].validator == peer
        {
            return;
        }
        let d = self.rng.gen_range(1..=self.sc.max_delay_ms);
        self.later(i, d, Input::PeerConnected(peer));
    }

    fn apply(&mut self, node: usize, input: Input) {
        let now = self.now;
        let honest = self.nodes[node].honest();
        let Some(r) = self.nodes[node].replica.as_mut() else {
            return;
        };
        let suspicion = matches!(input, Input::Suspect | Input::Message(Message::Suspect(_)));
        let before = r.view();
        let actions = r.handle(now, input);
        if suspicion && honest && r.view() > before {
            self.suspect_moves += 1;
        }
        for a in actions {
            self.exec(node, a);
        }
    }

    fn later(&mut self, node: usize, delay: u64, input: Input) {
        let epoch = self.nodes[node].epoch;
        let at = self.now + delay;
        self.push(at, Ev::Input { node, epoch, input });
    }

    fn exec(&mut self, node: usize, a: Action) {
        let me = self.nodes[node].validator;
        if self.trace {
            let r = self.nodes[node].replica.as_ref();
            let (view, mode) = r.map_or((0, None), |r| (r.view(), Some(r.mode())));
            let what = match &a {
                Action::Send { to, message } => format!(
                    "send to {to} {} v{} h{:?}",
                    message.kind(),
                    message.view(),
                    message.height()
                ),
                Action::Broadcast { message } => format!(
                    "broadcast {} v{} h{:?}",
                    message.kind(),
                    message.view(),
                    message.height()
                ),
                Action::Persist { token, .. } => format!("persist {token:?}"),
                Action::ScheduleTimer { timer, at } => format!("timer {timer:?} at {at}"),
                Action::BuildProposal { height, view, .. } => format!("build h{height} v{view}"),
                Action::ValidateBlock { block } => format!("validate h{}", block.header.height),
                Action::Deliver { block, .. } => format!("DELIVER h{}", block.header.height),
                Action::RequestBlocks { from, to } => format!("request {from}..={to}"),
                Action::Evidence(e) => format!("evidence {e:?}"),
            };
            eprintln!("{:>6} n{node}(v{me}) [{view} {mode:?}] {what}", self.now);
        }
        match a {
            Action::Send { to, message } => self.send(node, to, message),
            Action::Broadcast { message } => self.broadcast(node, message),
            Action::Persist { token, state } => {
                let d = self.rng.gen_range(0..3);
                let epoch = self.nodes[node].epoch;
                self.push(
                    self.now + d,
                    Ev::Persisted {
                        node,
                        epoch,
                        token,
                        state,
                    },
                );
            }
            Action::ScheduleTimer { timer, at } => {
                let epoch = self.nodes[node].epoch;
                self.push(
                    at.max(self.now),
                    Ev::Input {
                        node,
                        epoch,
                        input: Input::TimerFired(timer),
                    },
                );
            }
            Action::BuildProposal {
                height,
                view,
                parent,
            } => {
                let ts = self.now * 16 + self.rng.gen_range(0..16);
                let mut block = self.fx.block_at(height, view, parent, ts);
                if self.nodes[node].behaviour == Behaviour::JunkVotes {
                    block.header.records_root = JUNK_ROOT;
                }
                let d = self.sc.block_interval_ms;
                self.later(node, d, Input::ProposalReady(block));
            }
            Action::ValidateBlock { block } => {
                let hash = block.header.hash();
                let valid = block.header.records_root != JUNK_ROOT;
                let d = self.rng.gen_range(0..3);
                self.later(node, d, Input::BlockValidated { hash, valid });
            }
            Action::Deliver { block, certificate } => self.deliver(node, block, certificate),
            Action::RequestBlocks { from, to } => self.request(node, from, to),
            Action::Evidence(e) => {
                self.evidence += 1;
                if !e.verify(&self.fx.set, &self.fx.chain) {
                    self.fail(format!("node {node} reported unverifiable evidence {e:?}"));
                }
                let culprit_honest = self
                    .nodes
                    .iter()
                    .filter(|n| n.validator == e.validator)
                    .all(|n| n.honest());
                if culprit_honest {
                    self.fail(format!(
                        "validator {} is honest but node {node} (validator {me}) has evidence against it: {e:?}",
                        e.validator
                    ));
                }
            }
        }
    }

    fn deliver(&mut self, node: usize, block: std::sync::Arc<Block>, cert: CommitCertificate) {
        let hash = block.header.hash();
        let height = block.header.height;
        if let Err(e) = cert.verify_for(&hash, &self.fx.set, &self.fx.chain) {
            self.fail(format!(
                "node {node} delivered height {height} with a bad certificate: {e}"
            ));
        }
        if cert.vote.height != height {
            self.fail(format!(
                "node {node}: certificate height {} for block {height}",
                cert.vote.height
            ));
        }
        let n = &self.nodes[node];
        if height >= 1 && height <= n.ledger.len() as u64 {
            // A restarted replica re-delivers what the ledger already holds.
            let have = n.ledger[height as usize - 1].0.header.hash();
            if have != hash {
                self.fail(format!(
                    "node {node} re-delivered height {height} with another block"
                ));
            }
            return;
        }
        let expected_parent = n.ledger.last().map_or(Hash::ZERO, |(b, _)| b.header.hash());
        if height != n.ledger.len() as u64 + 1 || block.header.parent != expected_parent {
            self.fail(format!(
                "node {node} delivered height {height} (parent {}) on a ledger of {} (tip {})",
                block.header.parent.short(),
                n.ledger.len(),
                expected_parent.short()
            ));
            return;
        }
        if n.honest() {
            match self.committed.get(&height) {
                Some(h) if *h != hash => {
                    let msg = format!(
                        "SAFETY: height {height}: node {node} delivered {} but {} was delivered before",
                        hash.short(),
                        h.short()
                    );
                    self.fail(msg);
                }
                Some(_) => {}
                None => {
                    self.committed.insert(height, hash);
                }
            }
        }
        self.nodes[node].ledger.push((block, cert));
    }

    fn request(&mut self, node: usize, from: u64, to: u64) {
        let to = to.min(from + 64);
        for h in from..=to {
            let source = (0..self.nodes.len()).find(|&j| {
                j != node
                    && self.nodes[j].replica.is_some()
                    && self.reachable(j, node)
                    && self.nodes[j].ledger.len() as u64 >= h
            });
            let Some(j) = source else { break };
            let (block, certificate) = self.nodes[j].ledger[h as usize - 1].clone();
            let d = self.rng.gen_range(1..=self.sc.max_delay_ms);
            self.later(node, d, Input::SyncedBlock { block, certificate });
        }
    }

    fn reachable(&self, from: usize, to: usize) -> bool {
        self.partition.as_ref().is_none_or(|g| g[from] == g[to])
    }

    /// Nodes that receive a message from `from` addressed to validator `to`.
    fn recipients(&self, from: usize, to: u16) -> Vec<usize> {
        let s = &self.nodes[from];
        (0..self.nodes.len())
            .filter(|&j| {
                let r = &self.nodes[j];
                if r.validator != to || j == from {
                    return false;
                }
                // Twins split the network: a twin copy talks to its side only,
                // and a node reaches the copy of a twin on its own side.
                if s.twin && !r.twin && r.side != s.side {
                    return false;
                }
                if r.twin && r.side != s.side {
                    return false;
                }
                true
            })
            .collect()
    }

    fn send(&mut self, from: usize, to: u16, msg: Message) {
        for j in self.recipients(from, to) {
            self.transmit(from, j, msg.clone());
        }
    }

    fn transmit(&mut self, from: usize, to: usize, msg: Message) {
        if !self.reachable(from, to) {
            return;
        }
        if self.drop > 0.0 && self.rng.gen_bool(self.drop) {
            return;
        }
        let copies = if self.sc.dup > 0.0 && self.rng.gen_bool(self.sc.dup) {
            2
        } else {
            1
        };
        for _ in 0..copies {
            let d = self.rng.gen_range(1..=self.sc.max_delay_ms);
            self.push(
                self.now + d,
                Ev::Msg {
                    to,
                    msg: msg.clone(),
                },
            );
        }
    }
}

/// Runs one scenario.
pub fn run(sc: &Scenario) -> Outcome {
    Sim::new(sc.clone()).run()
}
