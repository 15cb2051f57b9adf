//! Frame streams: one long-lived outbound stream per peer, written by that
//! peer's writer task, and one reader task per inbound stream.
//!
//! ```text
//!   Outbox::send(to, frame) ─► writer(peer) ─► stream ─► peer
//!                                      (queue; coalesces frames, one flush)
//!   peer ─► stream ─► reader ─► Inbound{from, frame} ─► runtime
//! ```
//!
//! A stream is opened on the first frame for a peer and kept; no frame is
//! written on it before the peer's reader has accepted it (its first byte,
//! see [`super::codec`]). Frames keep their order per peer, except around
//! a resend: if a stream breaks, or the peer drops it unaccepted, the
//! frames in hand go out again on a new stream for a few seconds (D45),
//! so some may arrive twice, and after frames sent later. Consensus
//! messages and gossip are idempotent and need no order. If the peer is
//! unreachable the frames are dropped and the next frame opens a new
//! stream: consensus and gossip already tolerate lost messages (timeouts,
//! view changes, block sync, gossip sent again, and a replica sends the
//! current view's messages again to a peer that connects, D46), and
//! holding frames for a dead peer would only delay the live ones. A writer's queue is bounded; when it is full the
//! frame is dropped and counted, so one slow peer never stalls the others.

use std::collections::HashMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use futures::{AsyncWriteExt, StreamExt};
use libp2p::{PeerId, Stream};
use libp2p_stream::{Control, IncomingStreams};
use tokio::sync::{mpsc, watch};
use tracing::{debug, warn};

use super::Inbound;
use super::codec::{PROTOCOL, accept_stream, await_acceptance, encode_frame, read_frame};
use super::peers::PeerSet;

/// Frames queued per peer before new ones are dropped.
const WRITER_QUEUE: usize = 4096;
/// Most frames written together before one flush.
const COALESCE: usize = 256;
/// How long opening a stream, and its acceptance, may take before the
/// frames are dropped.
const OPEN_TIMEOUT: Duration = Duration::from_secs(5);
/// How long frames whose stream broke, or was not accepted, are sent
/// again on new streams before they are dropped.
const RESEND_FOR: Duration = Duration::from_secs(5);
/// Pause before the first such attempt; it doubles with each.
const RESEND_PAUSE: Duration = Duration::from_millis(10);
/// Longest pause between attempts.
const RESEND_PAUSE_MAX: Duration = Duration::from_millis(500);

/// What the stream tasks share.
#[derive(Clone)]
pub(crate) struct Ctx {
    pub(crate) me: PeerId,
    pub(crate) peers: watch::Receiver<PeerSet>,
    pub(crate) max_frame: usize,
    /// Frames dropped because a writer's queue was full or its stream broke.
    pub(crate) dropped: Arc<AtomicU64>,
}

/// Hands each outbound frame straight to its peer's writer queue,
/// starting writers as needed and retiring those of peers that left the
/// set. Owned by the runtime task: a frame reaches the writer without a
/// task in between (D40).
pub struct Outbox {
    control: Control,
    ctx: Ctx,
    writers: HashMap<PeerId, mpsc::Sender<Vec<u8>>>,
}

impl Outbox {
    pub(crate) fn new(control: Control, ctx: Ctx) -> Self {
        Outbox {
            control,
            ctx,
            writers: HashMap::new(),
        }
    }

    /// Queues `frame` for validator `to`. Never waits: a frame for this
    /// node, for an index outside the set, or for a peer whose queue is
    /// full is dropped (the last two are counted). Must be called within
    /// a tokio runtime (it may start a writer task).
    pub fn send(&mut self, to: usize, frame: Vec<u8>) {
        if self.ctx.peers.has_changed().unwrap_or(false) {
            let set = self.ctx.peers.borrow_and_update();
            self.writers.retain(|p, _| set.index_of(p).is_some());
        }
        let peer = match self.ctx.peers.borrow().peers().get(to) {
            Some(p) if p.id != self.ctx.me => p.id,
            _ => {
                debug!(to, "p2p: dropping frame to self or unknown validator");
                return;
            }
        };
        let (control, ctx) = (&self.control, &self.ctx);
        let tx = self.writers.entry(peer).or_insert_with(|| {
            let (tx, rx) = mpsc::channel(WRITER_QUEUE);
            tokio::spawn(write_frames(peer, control.clone(), rx, ctx.clone()));
            tx
        });
        match tx.try_send(frame) {
            Ok(()) => {}
            Err(mpsc::error::TrySendError::Full(_)) => {
                self.ctx.dropped.fetch_add(1, Ordering::Relaxed);
                debug!(%peer, "p2p: writer queue full, frame dropped");
            }
            Err(mpsc::error::TrySendError::Closed(_)) => {
                // The writer ended (the runtime is shutting down); the next
                // frame starts a new one.
                self.ctx.dropped.fetch_add(1, Ordering::Relaxed);
                self.writers.remove(&peer);
            }
        }
    }
}

impl std::fmt::Debug for Outbox {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Outbox")
            .field("writers", &self.writers.len())
            .finish_non_exhaustive()
    }
}

/// One peer's writer: takes every frame queued (up to [`COALESCE`]),
/// writes them with one flush, and keeps the stream for the next ones.
async fn write_frames(
    peer: PeerId,
    mut control: Control,
    mut rx: mpsc::Receiver<Vec<u8>>,
    ctx: Ctx,
) {
    let mut stream: Option<Stream> = None;
    let mut buf = Vec::new();
    let mut frames = Vec::with_capacity(COALESCE);
    loop {
        let n = rx.recv_many(&mut frames, COALESCE).await;
        if n == 0 {
            break;
        }
        let lost = n as u64;
        buf.clear();
        for f in frames.drain(..) {
            if let Err(e) = encode_frame(&f, ctx.max_frame, &mut buf) {
                warn!(%peer, %e, "p2p: frame not sent");
            }
        }
        let mut sent = send(peer, &mut control, &mut stream, &buf).await;
        // A stream breaks when its connection closes, and the peer often
        // holds another (both sides dial); libp2p-stream drops an inbound
        // stream when another arrives before its acceptor took the first
        // (D45). Either way the frames go again on a fresh stream, with a
        // growing pause, for up to RESEND_FOR. A frame that arrives twice
        // is harmless (consensus messages and gossip are idempotent). A
        // peer that cannot be reached costs one attempt.
        let give_up = tokio::time::Instant::now() + RESEND_FOR;
        let mut pause = RESEND_PAUSE;
        while let Err(e @ (Failure::Broke(_) | Failure::Unaccepted(_))) = &sent
            && tokio::time::Instant::now() + pause < give_up
        {
            debug!(%peer, %e, ?pause, "p2p: sending the frames again on a new stream");
            tokio::time::sleep(pause).await;
            pause = (pause * 2).min(RESEND_PAUSE_MAX);
            sent = send(peer, &mut control, &mut stream, &buf).await;
        }
        if let Err(e) = sent {
            debug!(%peer, %e, bytes = buf.len(), "p2p: frames dropped");
            ctx.dropped.fetch_add(lost, Ordering::Relaxed);
        }
    }
}

/// Why frames did not reach their peer.
#[derive(Debug, thiserror::Error)]
enum Failure {
    /// No stream could be opened (no connection, dial failed, timed out).
    #[error("no stream: {0}")]
    Open(String),
    /// The peer dropped the new stream instead of accepting it.
    #[error("stream not accepted: {0}")]
    Unaccepted(std::io::Error),
    /// The stream broke while the frames were written.
    #[error("stream broke: {0}")]
    Broke(std::io::Error),
}

/// Writes `buf` with one flush on the peer's stream, opening one first if
/// there is none (and waiting until the peer accepts it); a stream that
/// breaks is forgotten.
async fn send(
    peer: PeerId,
    control: &mut Control,
    stream: &mut Option<Stream>,
    buf: &[u8],
) -> Result<(), Failure> {
    let s = match stream {
        Some(s) => s,
        None => stream.insert(open(peer, control).await?),
    };
    let written = async {
        s.write_all(buf).await?;
        s.flush().await
    }
    .await;
    written.map_err(|e| {
        *stream = None;
        Failure::Broke(e)
    })
}

/// Opens a stream to `peer` and waits for its acceptance, within
/// [`OPEN_TIMEOUT`].
async fn open(peer: PeerId, control: &mut Control) -> Result<Stream, Failure> {
    let opening = async {
        let mut s = control
            .open_stream(peer, PROTOCOL)
            .await
            .map_err(|e| Failure::Open(e.to_string()))?;
        await_acceptance(&mut s)
            .await
            .map_err(Failure::Unaccepted)?;
        Ok(s)
    };
    tokio::time::timeout(OPEN_TIMEOUT, opening)
        .await
        .map_err(|_| Failure::Open("opening a stream timed out".into()))?
}

/// Accepts inbound streams from peers of the current set and starts a
/// reader for each. Streams from anyone else are dropped (reset).
pub(crate) async fn accept(mut incoming: IncomingStreams, in_tx: mpsc::Sender<Inbound>, ctx: Ctx) {
    while let Some((peer, stream)) = incoming.next().await {
        if ctx.peers.borrow().index_of(&peer).is_none() {
            warn!(%peer, "p2p: stream from a peer outside the validator set");
            continue;
        }
        tokio::spawn(read_frames(peer, stream, in_tx.clone(), ctx.clone()));
    }
}

/// Reads frames until the stream ends, breaks or sends an oversized frame,
/// or the peer leaves the set.
async fn read_frames(peer: PeerId, mut stream: Stream, in_tx: mpsc::Sender<Inbound>, ctx: Ctx) {
    if let Err(e) = accept_stream(&mut stream).await {
        debug!(%peer, %e, "p2p: inbound stream ended before it was accepted");
        return;
    }
    loop {
        let frame = match read_frame(&mut stream, ctx.max_frame).await {
            Ok(Some(f)) => f,
            Ok(None) => return,
            Err(e) => {
                debug!(%peer, %e, "p2p: inbound stream ended");
                return;
            }
        };
        // The index of a peer can change when the set does: look it up per frame.
        let Some(from) = ctx.peers.borrow().index_of(&peer) else {
            warn!(%peer, "p2p: frame from a peer outside the validator set");
            return;
        };
        if in_tx.send(Inbound { from, frame }).await.is_err() {
            debug!("p2p: runtime gone, reader done");
            return;
        }
    }
}
