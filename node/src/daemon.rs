//! Starting and stopping a validator: load the genesis and keys, open the
//! ledger, start libp2p, the consensus runtime and the gRPC server, and
//! stop them in order when asked.
//!
//! ```text
//!  NodeConfig ─► genesis.json, consensus.key, network.key ─► which validator am I?
//!      ├─► Ledger::open_rocks(data_dir/ledger)
//!      ├─► p2p::spawn ──inbound/outbound──► Runtime::run (task)
//!      └─► rpc::serve (task) ──Command──► Runtime
//!  shutdown flips ─► rpc drains, runtime stops, swarm stops, ledger closes
//! ```

use std::path::Path;
use std::sync::Arc;

use anyhow::{Context, Result, bail};
use chancery_consensus::{Config as ReplicaConfig, Timeouts};
use chancery_ledger::Ledger;
use chancery_types::crypto::keyfile::read_secret_key;
use chancery_types::{Genesis, SecretKey, ValidatorSet};
use tokio::net::TcpListener;
use tokio::sync::{mpsc, watch};
use tracing::{info, warn};

use crate::config::NodeConfig;
use crate::mempool::{Limits, Mempool};
use crate::p2p::peers::{PeerSet, keypair};
use crate::p2p::{self, NetConfig};
use crate::rpc::{self, Api, RpcLimits};
use crate::runtime::{BlockLimits, Runtime};

/// Reads and validates a genesis file.
pub fn load_genesis(path: &Path) -> Result<Genesis> {
    let text = std::fs::read_to_string(path)
        .with_context(|| format!("genesis: cannot read {}", path.display()))?;
    let genesis = Genesis::from_json(&text)
        .with_context(|| format!("genesis: {} is not a valid genesis", path.display()))?;
    genesis
        .validate()
        .with_context(|| format!("genesis: {} is not a valid genesis", path.display()))?;
    Ok(genesis)
}

/// This node's keys and its place in a validator set.
struct Identity {
    /// Index in `set`, or `None`: a validator not yet added (it follows
    /// the chain until a validator-set change includes it).
    me: Option<usize>,
    consensus: SecretKey,
    network: SecretKey,
}

/// Finds this node's consensus key in `sets` (first match wins) and checks
/// that the network key is the one that set gives it.
fn identity(config: &NodeConfig, sets: &[(&str, &ValidatorSet)]) -> Result<Identity> {
    let consensus = read_secret_key(&config.consensus_key).context("consensus_key")?;
    let network = read_secret_key(&config.network_key).context("network_key")?;
    let found = sets.iter().find_map(|(name, set)| {
        set.index_of(&consensus.public())
            .map(|i| (*name, i, set.validators()[i].network_key))
    });
    let me = match found {
        None => None,
        Some((name, i, expected)) => {
            if expected != network.public() {
                bail!(
                    "network_key: public key {} is not the network key the {name} validator set gives validator {i} ({})",
                    network.public().to_hex(),
                    expected.to_hex()
                );
            }
            (name != "scheduled").then_some(i)
        }
    };
    Ok(Identity {
        me,
        consensus,
        network,
    })
}

/// Checks the configuration, keys and genesis without starting anything;
/// returns a one-line summary.
pub fn check(config: &NodeConfig) -> Result<String> {
    let genesis = load_genesis(&config.genesis)?;
    let id = identity(config, &[("genesis", &genesis.validators)])?;
    Ok(match id.me {
        Some(me) => format!(
            "ok: chain {} ({}), validator {} of {} for agency `{}`",
            genesis.chain_id(),
            genesis.chain_name,
            me,
            genesis.validators.n(),
            genesis.validators.validators()[me].agency
        ),
        None => format!(
            "ok: chain {} ({}); consensus key {} is not a genesis validator: the node will follow the chain until a validator-set change adds it",
            genesis.chain_id(),
            genesis.chain_name,
            id.consensus.public().to_hex()
        ),
    })
}

/// Runs a validator until `shutdown` flips, then stops every part.
pub async fn run(config: NodeConfig, mut shutdown: watch::Receiver<bool>) -> Result<()> {
    // Every part stops on `stop`: flipped by the caller's shutdown, or here
    // when the API server fails.
    let (stop_tx, stop) = watch::channel(false);
    let stop_tx = Arc::new(stop_tx);
    let forward = stop_tx.clone();
    tokio::spawn(async move {
        let _ = shutdown.wait_for(|s| *s).await;
        let _ = forward.send(true);
    });
    let genesis = load_genesis(&config.genesis)?;
    let chain = genesis.chain_id();
    std::fs::create_dir_all(&config.data_dir)
        .with_context(|| format!("data_dir: cannot create {}", config.data_dir.display()))?;
    let ledger = Arc::new(
        Ledger::open_rocks(config.data_dir.join("ledger"), &genesis).context("data_dir: ledger")?,
    );
    let tip = ledger.tip();
    info!(height = tip.height, hash = %tip.hash.short(), "node: ledger open");
    // The set in force after the tip, then the latest scheduled one.
    let current = ledger
        .validator_set_at(tip.height + 1)
        .context("data_dir: ledger: validator set")?;
    let rules = ledger.rules();
    let scheduled = (rules.validators_from > tip.height + 1).then_some(&rules.validators);
    let mut sets = vec![("current", &current)];
    sets.extend(scheduled.map(|s| ("scheduled", s)));
    let id = identity(&config, &sets)?;
    match id.me {
        Some(me) => {
            info!(chain = %chain, agency = %current.validators()[me].agency, validator = me, "node: starting")
        }
        None => {
            warn!(chain = %chain, "node: starting; not a validator of the current set: following the chain")
        }
    }

    // Bind the API first: a busy port is a start-up error, not a late one.
    let listener = TcpListener::bind(config.rpc.listen)
        .await
        .with_context(|| format!("rpc.listen: cannot listen on {}", config.rpc.listen))?;

    let (peers_tx, peers) = watch::channel(
        PeerSet::for_sets(&current, scheduled).context("validator set: network identities")?,
    );
    let listen = config
        .p2p
        .listen
        .parse()
        .with_context(|| format!("p2p.listen: `{}` is not a multiaddr", config.p2p.listen))?;
    let net = p2p::spawn(
        keypair(&id.network).map_err(anyhow::Error::msg)?,
        peers,
        NetConfig {
            listen,
            max_frame: config.p2p.max_message_bytes,
            max_connections_per_peer: config.p2p.max_connections_per_peer,
            redial_interval: config.p2p.redial_interval,
        },
        stop.clone(),
    )
    .context("p2p")?;
    info!(peer_id = %net.local_peer_id, listen = %config.p2p.listen, "node: p2p up");

    let mempool = Mempool::new(
        chain,
        Limits {
            max_records: config.mempool.max_records,
            max_bytes: config.mempool.max_bytes,
            max_backlog: config.mempool.max_backlog,
            regossip_after: config.mempool.regossip_after,
            request_timeout: config.consensus.request_timeout,
        },
    );
    let replica = ReplicaConfig {
        chain_id: chain,
        validators: current.clone(),
        me: id.me.unwrap_or(0) as u16,
        key: id.consensus,
        window: 4,
        execution_lag: genesis.params.execution_lag,
        timeouts: Timeouts {
            base_ms: config.consensus.base_timeout.as_millis() as u64,
            max_ms: config.consensus.max_timeout.as_millis() as u64,
        },
        // The runtime sets it for the set in force at the ledger's tip.
        first_height: 0,
    };
    let (runtime, _events) = Runtime::new(
        replica,
        ledger.clone(),
        mempool,
        net.outbox,
        BlockLimits {
            max_records: config.block.max_records,
            max_delay: config.block.max_delay,
            eager: config.block.eager,
            certify_interval: config.block.certify_interval,
            idle_interval: config.block.idle_interval,
        },
    )
    .context("consensus runtime")?;
    let runtime = runtime
        .with_peer_updates(peers_tx)
        .with_connections(net.connected.clone());
    let gauges = runtime.gauges();
    let commits = runtime.commit_sender();
    let (commands, command_rx) = mpsc::channel(1024);
    let runtime_task = tokio::spawn(runtime.run(net.inbound, command_rx, stop.clone()));

    let api = Api {
        ledger: ledger.clone(),
        commands,
        commits,
        connected: net.connected.clone(),
        net_counters: rpc::NetCounters {
            dropped: net.dropped.clone(),
            refused: net.refused.clone(),
        },
        gauges,
        me: id.me.unwrap_or(usize::MAX),
        chain_name: genesis.chain_name.to_string(),
        validators: current.clone(),
        commit_timeout: config.rpc.commit_timeout,
        stop: stop.clone(),
    };
    info!(addr = %config.rpc.listen, "node: gRPC up");
    let served = rpc::serve(
        api,
        listener,
        RpcLimits {
            max_message_bytes: config.rpc.max_message_bytes,
            max_concurrent_streams: config.rpc.max_concurrent_streams,
        },
        stop.clone(),
    )
    .await;
    if let Err(e) = &served {
        warn!(error = %e, "node: gRPC server failed; stopping");
        let _ = stop_tx.send(true);
    }
    // The server returns once shutdown flipped (or on error); wait for the
    // runtime to finish its current step so the ledger closes cleanly.
    if runtime_task.await.is_err() {
        warn!("node: runtime task panicked");
    }
    drop(ledger);
    info!("node: stopped");
    served
}
