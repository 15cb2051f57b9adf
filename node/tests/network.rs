//! Four validators in one process — real libp2p on loopback, in-memory
//! ledgers — commit records submitted to a backup, and agree byte for byte.

mod common;

use std::sync::Arc;
use std::time::Duration;

use chancery_consensus::{Config as ReplicaConfig, Timeouts};
use chancery_ledger::Ledger;
use chancery_node::mempool::{AdmitError, Limits, Mempool};
use chancery_node::p2p::peers::{PeerSet, keypair};
use chancery_node::p2p::{self, NetConfig};
use chancery_node::runtime::{BlockLimits, Command, CommitEvent, Runtime};
use chancery_types::bounded::{Bytes, List, Text};
use chancery_types::*;
use tokio::sync::{broadcast, mpsc, oneshot, watch};

struct Keys {
    issuer: SecretKey,
    consensus: SecretKey,
    network: SecretKey,
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

fn genesis(keys: &[Keys], ports: &[u16]) -> Genesis {
    let ids: Vec<AgencyId> = (0..keys.len())
        .map(|i| AgencyId::new(format!("agency-{i}")).unwrap())
        .collect();
    Genesis {
        chain_name: Text::new("runtime-test").unwrap(),
        genesis_time: Timestamp(1_000),
        agencies: List::new(
            keys.iter()
                .zip(&ids)
                .map(|(k, id)| Agency {
                    id: id.clone(),
                    name: Text::new(id.as_str()).unwrap(),
                    admin_key: k.issuer.public(),
                    issuer_keys: List::new(vec![IssuerKey {
                        public: k.issuer.public(),
                        valid_from: Timestamp(0),
                        valid_until: None,
                    }])
                    .unwrap(),
                })
                .collect(),
        )
        .unwrap(),
        validators: ValidatorSet::new(
            keys.iter()
                .zip(&ids)
                .zip(ports)
                .map(|((k, id), port)| Validator {
                    agency: id.clone(),
                    consensus_key: k.consensus.public(),
                    network_key: k.network.public(),
                    address: Text::new(format!("/ip4/127.0.0.1/tcp/{port}")).unwrap(),
                })
                .collect(),
        )
        .unwrap(),
        policy: Policy {
            max_body_bytes: 1024,
            permissions: List::new(
                ids.iter()
                    .map(|id| Permission {
                        agency: id.clone(),
                        licence_classes: List::new(vec![Text::new("*").unwrap()]).unwrap(),
                        may_grant: true,
                        may_log_access: true,
                        denied_kinds: Default::default(),
                        denied_subjects: Default::default(),
                    })
                    .collect(),
            )
            .unwrap(),
        },
        params: ChainParams { execution_lag: 2 },
        governance: Default::default(),
    }
}

/// One validator's runtime, running in this process.
struct Node {
    ledger: Arc<Ledger<chancery_ledger::MemKv>>,
    commands: mpsc::Sender<Command>,
    events: broadcast::Receiver<CommitEvent>,
    /// The runtime's readings (records waiting), refreshed every 500 ms.
    gauges: Arc<chancery_node::runtime::gauges::Gauges>,
}

/// What the tests vary between validators' settings.
#[derive(Clone, Copy)]
struct Tuning {
    /// The first view-change timeout.
    base_timeout_ms: u64,
    /// `mempool.regossip_after`.
    regossip_after: Duration,
    /// `consensus.request_timeout`.
    request_timeout: Duration,
    /// `mempool.max_bytes`: a validator whose mempool holds less than a
    /// record refuses every record, and as primary proposes none.
    mempool_bytes: usize,
}

const TUNING: Tuning = Tuning {
    base_timeout_ms: 2_000,
    regossip_after: Duration::from_secs(3),
    request_timeout: Duration::from_secs(15),
    mempool_bytes: 64 << 20,
};

/// Starts validator `i` of the network `g` (p2p on `ports[i]`).
fn spawn(
    i: usize,
    keys: &[Keys],
    ports: &[u16],
    g: &Genesis,
    stop: &watch::Receiver<bool>,
    tuning: Tuning,
) -> Node {
    let net = start_p2p(i, keys, ports, g, stop);
    start_runtime(i, keys, g, stop, tuning, net)
}

/// As [`spawn`], with the runtime started only once the network is
/// connected to `peers`. A validator's first consensus frames to a peer
/// it is not connected to yet are dropped (the replica sends them again
/// when the peer connects, D46; `a_primary_that_started_alone_…` tests
/// that); this keeps the gossip test to the path it is about.
async fn spawn_connected(
    i: usize,
    keys: &[Keys],
    ports: &[u16],
    g: &Genesis,
    stop: &watch::Receiver<bool>,
    tuning: Tuning,
    peers: &[usize],
) -> Node {
    let mut net = start_p2p(i, keys, ports, g, stop);
    let connected = net
        .connected
        .wait_for(|c| peers.iter().all(|p| c.contains(p)));
    drop(
        tokio::time::timeout(Duration::from_secs(30), connected)
            .await
            .expect("not connected within 30 s")
            .unwrap(),
    );
    start_runtime(i, keys, g, stop, tuning, net)
}

/// Validator `i`'s network, started.
fn start_p2p(
    i: usize,
    keys: &[Keys],
    ports: &[u16],
    g: &Genesis,
    stop: &watch::Receiver<bool>,
) -> p2p::Network {
    common::logs();
    let peers = PeerSet::from_validators(&g.validators).unwrap();
    let k = &keys[i];
    p2p::spawn(
        keypair(&k.network).unwrap(),
        watch::channel(peers).1,
        NetConfig {
            listen: format!("/ip4/127.0.0.1/tcp/{}", ports[i]).parse().unwrap(),
            max_frame: 64 << 20,
            max_connections_per_peer: 2,
            redial_interval: Duration::from_millis(100),
        },
        stop.clone(),
    )
    .unwrap()
}

/// Validator `i`'s runtime on `net`.
fn start_runtime(
    i: usize,
    keys: &[Keys],
    g: &Genesis,
    stop: &watch::Receiver<bool>,
    tuning: Tuning,
    net: p2p::Network,
) -> Node {
    let chain = g.chain_id();
    let k = &keys[i];
    let ledger = Arc::new(Ledger::in_memory(g).unwrap());
    let config = ReplicaConfig {
        chain_id: chain,
        validators: g.validators.clone(),
        me: i as u16,
        key: SecretKey::from_seed(&k.consensus.seed()),
        window: 2,
        execution_lag: 2,
        timeouts: Timeouts {
            base_ms: tuning.base_timeout_ms,
            max_ms: tuning.base_timeout_ms * 5,
        },
        first_height: 0,
    };
    let mempool = Mempool::new(
        chain,
        Limits {
            max_records: 10_000,
            max_bytes: tuning.mempool_bytes,
            max_backlog: std::time::Duration::from_secs(10),
            regossip_after: tuning.regossip_after,
            request_timeout: tuning.request_timeout,
        },
    );
    let (rt, events) = Runtime::new(
        config,
        ledger.clone(),
        mempool,
        net.outbox,
        BlockLimits {
            max_records: 100,
            max_delay: Duration::from_millis(20),
            eager: true,
            certify_interval: Duration::from_millis(20),
            idle_interval: Duration::from_millis(200),
        },
    )
    .unwrap();
    let (commands, cmd_rx) = mpsc::channel(16);
    let gauges = rt.gauges();
    let rt = rt.with_connections(net.connected);
    tokio::spawn(tracing::Instrument::instrument(
        rt.run(net.inbound, cmd_rx, stop.clone()),
        tracing::info_span!("validator", i),
    ));
    Node {
        ledger,
        commands,
        events,
        gauges,
    }
}

/// Waits until `node`'s mempool holds `count` records; panics after 10 s.
async fn await_waiting(node: &Node, count: u64, who: &str) {
    let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
    loop {
        let waiting = node.gauges.get().waiting;
        if waiting == count {
            return;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "{who} holds {waiting} records, not {count}"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// `count` signed licences from agency `agency`, subjects `<tag>-<i>`.
fn licences(keys: &[Keys], chain: &ChainId, agency: usize, tag: &str, count: u64) -> Vec<Vec<u8>> {
    let issuer = AgencyId::new(format!("agency-{agency}")).unwrap();
    (0..count)
        .map(|i| {
            Record {
                kind: RecordKind::LicenceIssue {
                    class: Text::new("driving").unwrap(),
                    valid_from: Timestamp(0),
                    valid_until: Timestamp(u64::MAX / 2),
                },
                issuer: issuer.clone(),
                key_id: keys[agency].issuer.public().key_id(),
                subject: Text::new(format!("{tag}-{i}")).unwrap(),
                body: Bytes::new(b"{}".to_vec()).unwrap(),
                references: List::default(),
                // Within the ledger's bounds around the block time.
                timestamp: Timestamp(chancery_node::runtime::now_ms()),
                nonce: i,
            }
            .sign(&keys[agency].issuer, chain)
            .to_canonical()
        })
        .collect()
}

/// Waits until `events` has reported every one of `ids` committed and
/// accepted; panics after `within`.
async fn await_commits(
    events: &mut broadcast::Receiver<CommitEvent>,
    ids: &[RecordId],
    within: Duration,
    who: &str,
) {
    let mut seen = std::collections::HashSet::new();
    let deadline = tokio::time::Instant::now() + within;
    while seen.len() < ids.len() {
        let ev = tokio::time::timeout_at(deadline, events.recv())
            .await
            .unwrap_or_else(|_| {
                panic!(
                    "{who} committed only {} of {} records",
                    seen.len(),
                    ids.len()
                )
            })
            .unwrap();
        for &(id, result) in ev.records.iter() {
            assert_eq!(result, ExecResult::Accepted, "{who}: {id}");
            seen.insert(id);
        }
    }
}

/// Submits `records` to `node` and returns their ids, all admitted.
async fn submit(node: &Node, records: Vec<Vec<u8>>) -> Vec<RecordId> {
    let (reply_tx, reply_rx) = oneshot::channel();
    node.commands
        .send(Command::Submit {
            records,
            reply: reply_tx,
        })
        .await
        .unwrap();
    reply_rx
        .await
        .unwrap()
        .into_iter()
        .map(|r| r.unwrap())
        .collect()
}

fn network(n: usize) -> (Vec<Keys>, Vec<u16>, Genesis) {
    let keys: Vec<Keys> = (0..n)
        .map(|_| Keys {
            issuer: SecretKey::generate(),
            consensus: SecretKey::generate(),
            network: SecretKey::generate(),
        })
        .collect();
    let ports: Vec<u16> = (0..n).map(|_| free_port()).collect();
    let g = genesis(&keys, &ports);
    (keys, ports, g)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn four_validators_commit_submitted_records_identically() {
    let (keys, ports, g) = network(4);
    let chain = g.chain_id();
    let (_stop_tx, stop) = watch::channel(false);
    let nodes: Vec<Node> = (0..4)
        .map(|i| spawn(i, &keys, &ports, &g, &stop, TUNING))
        .collect();
    let ledgers: Vec<_> = nodes.iter().map(|n| n.ledger.clone()).collect();
    let commands: Vec<_> = nodes.iter().map(|n| n.commands.clone()).collect();
    let mut events: Vec<_> = nodes.into_iter().map(|n| n.events).collect();

    // 200 licences from agency-1, submitted to validator 1 (a backup in view 0).
    let records = licences(&keys, &chain, 1, "DL", 201);
    let extra = records[200..].to_vec();
    let records = records[..200].to_vec();
    let (reply_tx, reply_rx) = oneshot::channel();
    commands[1]
        .send(Command::Submit {
            records: records.clone(),
            reply: reply_tx,
        })
        .await
        .unwrap();
    // Sent right behind it, before any of the 200 can commit: two full
    // blocks (2 × 100) already wait and no commit rate is measured yet,
    // so the backlog bound refuses it whole (D33).
    let (busy_tx, busy_rx) = oneshot::channel();
    commands[1]
        .send(Command::Submit {
            records: extra,
            reply: busy_tx,
        })
        .await
        .unwrap();
    let busy = busy_rx.await.unwrap();
    assert!(
        matches!(
            busy[..],
            [Err(AdmitError::Busy {
                waiting: 200,
                limit: 200
            })]
        ),
        "{busy:?}"
    );
    let ids: Vec<RecordId> = reply_rx
        .await
        .unwrap()
        .into_iter()
        .map(|r| r.unwrap())
        .collect();
    assert_eq!(ids.len(), 200);

    // Every validator commits every record.
    for (i, rx) in events.iter_mut().enumerate() {
        await_commits(rx, &ids, Duration::from_secs(60), &format!("validator {i}")).await;
    }
    // Same blocks everywhere, byte for byte, up to the lowest common tip.
    let tip = ledgers.iter().map(|l| l.tip().height).min().unwrap();
    assert!(tip >= 1);
    for h in 1..=tip {
        let hashes: Vec<Hash> = ledgers
            .iter()
            .map(|l| l.header(h).unwrap().unwrap().hash())
            .collect();
        assert!(
            hashes.windows(2).all(|w| w[0] == w[1]),
            "height {h}: {hashes:?}"
        );
        let cert = ledgers[0].certificate(h).unwrap().unwrap();
        cert.verify_for(&hashes[0], &g.validators, &chain).unwrap();
    }
    // A resubmission is refused as a duplicate.
    let (reply_tx, reply_rx) = oneshot::channel();
    commands[2]
        .send(Command::Submit {
            records: records[..1].to_vec(),
            reply: reply_tx,
        })
        .await
        .unwrap();
    assert!(reply_rx.await.unwrap()[0].is_err());
}

/// A record whose gossip the primary never received still commits: it
/// is gossiped again once it has waited `regossip_after`. Validator 0,
/// the primary of view 0, starts only after the records were submitted
/// to validator 1 and gossiped (its copy dropped: it was not there), and
/// view changes are too slow to rescue them, so without the second
/// gossip they would wait for a proposer that never hears of them.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn records_whose_gossip_was_lost_are_gossiped_again() {
    let (keys, ports, g) = network(4);
    let chain = g.chain_id();
    let (_stop_tx, stop) = watch::channel(false);
    let tuning = Tuning {
        base_timeout_ms: 120_000,
        regossip_after: Duration::from_millis(500),
        ..TUNING
    };
    let mut backups: Vec<Node> = (1..4)
        .map(|i| spawn(i, &keys, &ports, &g, &stop, tuning))
        .collect();
    // The backups connect to each other before the records go out.
    tokio::time::sleep(Duration::from_millis(500)).await;
    let ids = submit(&backups[0], licences(&keys, &chain, 1, "LOST", 20)).await;
    let mut primary = spawn_connected(0, &keys, &ports, &g, &stop, tuning, &[2, 3]).await;
    await_commits(
        &mut primary.events,
        &ids,
        Duration::from_secs(30),
        "validator 0",
    )
    .await;
    await_commits(
        &mut backups[0].events,
        &ids,
        Duration::from_secs(30),
        "validator 1",
    )
    .await;
}

/// The same, with the validator the records were submitted to stopped
/// right after its first gossip: the validators that got them by gossip
/// send them again, later.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn records_whose_submitter_stopped_are_gossiped_by_the_others() {
    let (keys, ports, g) = network(4);
    let chain = g.chain_id();
    let (_stop_tx, stop) = watch::channel(false);
    let (stop_submitter, submitter_stop) = watch::channel(false);
    let tuning = Tuning {
        base_timeout_ms: 120_000,
        regossip_after: Duration::from_millis(300),
        ..TUNING
    };
    let submitter = spawn(1, &keys, &ports, &g, &submitter_stop, tuning);
    let mut others: Vec<Node> = (2..4)
        .map(|i| spawn(i, &keys, &ports, &g, &stop, tuning))
        .collect();
    tokio::time::sleep(Duration::from_millis(500)).await;
    let ids = submit(&submitter, licences(&keys, &chain, 1, "ORPHAN", 10)).await;
    // The others hold the records (a gossip frame sent before a connection
    // was up is dropped; the submitter sends again every 300 ms). Only
    // then does the submitter stop, before validator 0 starts: only the
    // others can give validator 0 the records.
    for (node, who) in others.iter().zip(["validator 2", "validator 3"]) {
        await_waiting(node, 10, who).await;
    }
    stop_submitter.send(true).unwrap();
    let mut primary = spawn_connected(0, &keys, &ports, &g, &stop, tuning, &[2, 3]).await;
    await_commits(
        &mut primary.events,
        &ids,
        Duration::from_secs(30),
        "validator 0",
    )
    .await;
    await_commits(
        &mut others[0].events,
        &ids,
        Duration::from_secs(30),
        "validator 2",
    )
    .await;
}

/// A primary that receives records and never proposes them is replaced
/// (PBFT's request timer, ARCHITECTURE.md D44). Validator 0, primary of
/// view 0, has a mempool too small for any record, so it refuses every
/// record and keeps proposing empty blocks: the view never times out.
/// The backups hold the records; once they have waited
/// `request_timeout`, each suspects the primary, f+1 suspicions move the
/// view, and validator 1, primary of view 1, proposes them. With
/// `request_timeout` at an hour the records never commit.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_primary_that_leaves_records_out_is_replaced() {
    let (keys, ports, g) = network(4);
    let chain = g.chain_id();
    let (_stop_tx, stop) = watch::channel(false);
    let backups = Tuning {
        base_timeout_ms: 2_000,
        regossip_after: Duration::from_millis(300),
        request_timeout: Duration::from_secs(1),
        ..TUNING
    };
    let censor = Tuning {
        mempool_bytes: 1,
        ..backups
    };
    let mut censor = spawn(0, &keys, &ports, &g, &stop, censor);
    let mut others: Vec<Node> = (1..4)
        .map(|i| spawn(i, &keys, &ports, &g, &stop, backups))
        .collect();
    // The network runs view 0, validator 0 its primary, before the records go out.
    tokio::time::timeout(Duration::from_secs(30), others[0].events.recv())
        .await
        .expect("no block within 30 s")
        .unwrap();
    let ids = submit(&others[1], licences(&keys, &chain, 2, "CENSORED", 10)).await;
    await_commits(
        &mut others[0].events,
        &ids,
        Duration::from_secs(30),
        "validator 1",
    )
    .await;
    // The deposed primary follows the chain: the records are on its copy too.
    await_commits(
        &mut censor.events,
        &ids,
        Duration::from_secs(30),
        "validator 0",
    )
    .await;
}

/// A primary that started alone, and proposed while no one could hear
/// it, sends its proposals and votes again to each validator that
/// connects (ARCHITECTURE.md D46), so the network commits in view 0
/// without waiting for a view change (made slow here: 120 s, and the
/// request timer an hour).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_primary_that_started_alone_sends_its_proposals_to_those_who_join() {
    let (keys, ports, g) = network(4);
    let chain = g.chain_id();
    let (_stop_tx, stop) = watch::channel(false);
    let tuning = Tuning {
        base_timeout_ms: 120_000,
        request_timeout: Duration::from_secs(3600),
        ..TUNING
    };
    let mut primary = spawn(0, &keys, &ports, &g, &stop, tuning);
    // Its first proposals (heights 1 and 2, the window) go to no one.
    tokio::time::sleep(Duration::from_millis(500)).await;
    let others: Vec<Node> = (1..4)
        .map(|i| spawn(i, &keys, &ports, &g, &stop, tuning))
        .collect();
    let ids = submit(&others[0], licences(&keys, &chain, 1, "LATE", 5)).await;
    await_commits(
        &mut primary.events,
        &ids,
        Duration::from_secs(30),
        "validator 0",
    )
    .await;
    let tip = primary.ledger.tip().height;
    for h in 1..=tip {
        let block = primary.ledger.block(h).unwrap().unwrap();
        assert_eq!(
            block.header.view, 0,
            "block {h} was proposed in a later view"
        );
    }
}
