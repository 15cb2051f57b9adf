//! Validator-to-validator networking over libp2p.
//!
//! TCP + Noise + Yamux. Only the peers of the current [`PeerSet`] — the
//! validators of the set in force and of any scheduled set, by peer id,
//! which is bound to the network key on the chain — may hold a connection: every other
//! peer is refused when its connection is established, right after the
//! Noise handshake proves its identity. Connection counts per peer are
//! bounded. Messages are opaque frames (see [`codec`]) on long-lived
//! streams, one per peer and direction (see `streams.rs`); the runtime
//! decides what they mean.
//!
//! ```text
//!   runtime ──Outbox::send(to, frame)──► [writer per peer] ──stream──► peer
//!   runtime ◄──Inbound{from, frame}── [reader per stream] ◄──stream── peer
//!                 [swarm task]: connections, allow list, redial, peer-set updates
//! ```

pub mod codec;
pub mod peers;
mod streams;

pub use streams::Outbox;

use std::collections::HashSet;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use futures::StreamExt;
use libp2p::allow_block_list::{self, AllowedPeers};
use libp2p::connection_limits::{self, ConnectionLimits};
use libp2p::swarm::{NetworkBehaviour, SwarmEvent};
use libp2p::{Multiaddr, PeerId, Swarm, identity, noise, tcp, yamux};
use tokio::sync::{mpsc, watch};
use tracing::{debug, info, warn};

use chancery_types::limits;
use codec::PROTOCOL;
use peers::PeerSet;

/// A frame received from a validator.
#[derive(Debug)]
pub struct Inbound {
    /// Validator index of the sender (authenticated by Noise).
    pub from: usize,
    /// The bytes.
    pub frame: Vec<u8>,
}

/// Network settings the swarm needs.
#[derive(Debug, Clone)]
pub struct NetConfig {
    /// Address to listen on.
    pub listen: Multiaddr,
    /// Largest frame accepted.
    pub max_frame: usize,
    /// Connections per peer.
    pub max_connections_per_peer: u32,
    /// How often unreachable validators are redialled.
    pub redial_interval: Duration,
}

/// Why the network could not start.
#[derive(Debug, thiserror::Error)]
pub enum NetError {
    /// Transport set-up failed.
    #[error("p2p transport: {0}")]
    Transport(String),
    /// Could not listen on the configured address.
    #[error("p2p listen on {address}: {reason}")]
    Listen {
        /// The address.
        address: Multiaddr,
        /// Why.
        reason: String,
    },
}

/// Refuses a listen address another socket already listens on.
///
/// libp2p's TCP transport listens with `SO_REUSEPORT` (so that dials can
/// leave from the listening port), which lets a second process bind the
/// same address and silently take a share of its connections. A plain
/// bind without that option fails if anything listens there, so a
/// mistyped or duplicated port is an error at start-up instead.
fn ensure_port_free(listen: &Multiaddr) -> Result<(), NetError> {
    use libp2p::multiaddr::Protocol;
    let mut ip = None;
    let mut port = None;
    for p in listen.iter() {
        match p {
            Protocol::Ip4(a) => ip = Some(std::net::IpAddr::V4(a)),
            Protocol::Ip6(a) => ip = Some(std::net::IpAddr::V6(a)),
            Protocol::Tcp(p) => port = Some(p),
            _ => {}
        }
    }
    match (ip, port) {
        (Some(ip), Some(port)) if port != 0 => std::net::TcpListener::bind((ip, port))
            .map(drop)
            .map_err(|e| NetError::Listen {
                address: listen.clone(),
                reason: format!("address already in use or not available ({e})"),
            }),
        _ => Ok(()),
    }
}

#[derive(NetworkBehaviour)]
struct Behaviour {
    allow: allow_block_list::Behaviour<AllowedPeers>,
    limits: connection_limits::Behaviour,
    streams: libp2p_stream::Behaviour,
}

/// Handle to the running network task.
pub struct Network {
    /// Frames to send.
    pub outbox: Outbox,
    /// Frames received.
    pub inbound: mpsc::Receiver<Inbound>,
    /// The set of validator indexes currently connected.
    pub connected: watch::Receiver<HashSet<usize>>,
    /// This node's peer id.
    pub local_peer_id: PeerId,
    /// Incoming connections refused so far (peers outside the set, limits).
    pub refused: Arc<AtomicU64>,
    /// Outbound frames dropped (peer unreachable, stream broken, queue full).
    pub dropped: Arc<AtomicU64>,
}

/// Starts the swarm on the current tokio runtime with the peers in
/// `peers`: it allows, dials and addresses exactly those, and follows
/// every update (a validator-set change). This node's own entry, if any,
/// is never dialled.
pub fn spawn(
    keypair: identity::Keypair,
    peers: watch::Receiver<PeerSet>,
    cfg: NetConfig,
    shutdown: watch::Receiver<bool>,
) -> Result<Network, NetError> {
    let initial = peers.borrow().clone();
    let local_peer_id = keypair.public().to_peer_id();
    let mut allow = allow_block_list::Behaviour::<AllowedPeers>::default();
    for p in initial.peers() {
        allow.allow_peer(p.id);
    }
    let limits = connection_limits::Behaviour::new(
        ConnectionLimits::default()
            .with_max_established_per_peer(Some(cfg.max_connections_per_peer))
            .with_max_established(Some(4 * limits::MAX_VALIDATORS as u32 + 4))
            .with_max_pending_incoming(Some(64)),
    );
    let streams = libp2p_stream::Behaviour::new();
    let mut control = streams.new_control();
    let incoming = control
        .accept(PROTOCOL)
        .map_err(|e| NetError::Transport(e.to_string()))?;
    let mut swarm = libp2p::SwarmBuilder::with_existing_identity(keypair)
        .with_tokio()
        .with_tcp(
            tcp::Config::default().nodelay(true),
            noise::Config::new,
            yamux::Config::default,
        )
        .map_err(|e| NetError::Transport(e.to_string()))?
        .with_behaviour(|_| Behaviour {
            allow,
            limits,
            streams,
        })
        .map_err(|e| NetError::Transport(e.to_string()))?
        .with_swarm_config(|c| c.with_idle_connection_timeout(Duration::from_secs(24 * 3600)))
        .build();
    ensure_port_free(&cfg.listen)?;
    swarm
        .listen_on(cfg.listen.clone())
        .map_err(|e| NetError::Listen {
            address: cfg.listen.clone(),
            reason: e.to_string(),
        })?;

    let (in_tx, in_rx) = mpsc::channel(4096);
    let (conn_tx, conn_rx) = watch::channel(HashSet::new());
    let refused = Arc::new(AtomicU64::new(0));
    let dropped = Arc::new(AtomicU64::new(0));
    let ctx = streams::Ctx {
        me: local_peer_id,
        peers: peers.clone(),
        max_frame: cfg.max_frame,
        dropped: dropped.clone(),
    };
    tokio::spawn(streams::accept(incoming, in_tx, ctx.clone()));
    let outbox = Outbox::new(control, ctx);
    let state = Shared {
        conn_tx,
        refused: refused.clone(),
    };
    tokio::spawn(run(swarm, state, peers, cfg, shutdown));
    Ok(Network {
        outbox,
        inbound: in_rx,
        connected: conn_rx,
        local_peer_id,
        refused,
        dropped,
    })
}

/// What the swarm task shares with the event handler.
struct Shared {
    conn_tx: watch::Sender<HashSet<usize>>,
    refused: Arc<AtomicU64>,
}

async fn run(
    mut swarm: Swarm<Behaviour>,
    state: Shared,
    mut updates: watch::Receiver<PeerSet>,
    cfg: NetConfig,
    mut shutdown: watch::Receiver<bool>,
) {
    let me = *swarm.local_peer_id();
    let mut peers = updates.borrow_and_update().clone();
    let mut redial = tokio::time::interval(cfg.redial_interval);
    redial.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        tokio::select! {
            _ = shutdown.changed() => {
                debug!("p2p: shutting down");
                return;
            }
            Ok(()) = updates.changed() => {
                let next = updates.borrow_and_update().clone();
                for p in peers.peers() {
                    if next.index_of(&p.id).is_none() {
                        swarm.behaviour_mut().allow.disallow_peer(p.id);
                    }
                }
                for p in next.peers() {
                    swarm.behaviour_mut().allow.allow_peer(p.id);
                }
                info!(peers = next.peers().len(), "p2p: peer set changed");
                peers = next;
                state.conn_tx.send_modify(|s| {
                    s.clear();
                    for (i, p) in peers.peers().iter().enumerate() {
                        if swarm.is_connected(&p.id) {
                            s.insert(i);
                        }
                    }
                });
            }
            _ = redial.tick() => {
                for p in peers.peers() {
                    if p.id != me && !swarm.is_connected(&p.id) {
                        let _ = swarm.dial(
                            libp2p::swarm::dial_opts::DialOpts::peer_id(p.id)
                                .addresses(vec![p.address.clone()])
                                .condition(libp2p::swarm::dial_opts::PeerCondition::DisconnectedAndNotDialing)
                                .build(),
                        );
                    }
                }
            }
            event = swarm.select_next_some() => {
                handle_event(&state, &peers, event);
            }
        }
    }
}

fn handle_event(state: &Shared, peers: &PeerSet, event: SwarmEvent<BehaviourEvent>) {
    let conn_tx = &state.conn_tx;
    match event {
        SwarmEvent::NewListenAddr { address, .. } => info!(%address, "p2p: listening"),
        SwarmEvent::ConnectionEstablished { peer_id, .. } => {
            if let Some(i) = peers.index_of(&peer_id) {
                debug!(validator = i, %peer_id, "p2p: connected");
                conn_tx.send_modify(|s| {
                    s.insert(i);
                });
            }
        }
        SwarmEvent::ConnectionClosed {
            peer_id,
            num_established,
            cause,
            endpoint,
            ..
        } => {
            debug!(
                %peer_id,
                remaining = num_established,
                dialer = endpoint.is_dialer(),
                cause = cause.as_ref().map(|c| c.to_string()),
                "p2p: connection closed"
            );
            if num_established == 0
                && let Some(i) = peers.index_of(&peer_id)
            {
                debug!(validator = i, "p2p: disconnected");
                conn_tx.send_modify(|s| {
                    s.remove(&i);
                });
            }
        }
        SwarmEvent::IncomingConnectionError {
            error,
            send_back_addr,
            ..
        } => {
            // Includes peers refused by the allow list.
            state.refused.fetch_add(1, Ordering::Relaxed);
            warn!(%send_back_addr, %error, "p2p: refused incoming connection");
        }
        _ => {}
    }
}
