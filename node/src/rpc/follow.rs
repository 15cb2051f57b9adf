//! Server streams that follow the chain: `WatchRecords` and `StreamBlocks`.
//!
//! Both read everything from the ledger in order and use commit events
//! only as wake-ups, so a lagging subscriber, a burst of blocks or a
//! reconnect can neither skip nor repeat an item: the stream's position
//! (a log index, a height) is the only state.

use std::pin::Pin;

use chancery_ledger::{Cursor, KvStore, Query};
use chancery_proto::v1::{GetBlockResponse, RecordItem};
use chancery_types::Canonical;
use tokio::sync::broadcast::error::RecvError;
use tokio::sync::mpsc;
use tokio_stream::Stream;
use tokio_stream::wrappers::ReceiverStream;
use tonic::Status;
use tracing::debug;

use super::{Api, errors, filter};

/// A boxed server stream.
pub type Follow<T> = Pin<Box<dyn Stream<Item = Result<T, Status>> + Send + 'static>>;

/// Records per read while catching up.
const BATCH: usize = 256;
/// Candidates examined per read (bounds one read's work).
const SCAN_BUDGET: usize = 10_000;
/// Items buffered per stream before the reader waits for the client.
const BUFFER: usize = 64;

impl<K: KvStore + Send + Sync + 'static> Api<K> {
    /// Committed records matching `query` from log index `from`, then live.
    pub(super) fn watch(&self, query: Query, from: u64) -> Follow<RecordItem> {
        let (tx, rx) = mpsc::channel(BUFFER);
        let ledger = self.ledger.clone();
        let mut events = self.commits.subscribe();
        let mut stop = self.stop.clone();
        tokio::spawn(async move {
            let mut at = Cursor(from);
            loop {
                let page = match ledger.search(&query, Some(at), BATCH, SCAN_BUDGET) {
                    Ok(p) => p,
                    Err(e) => {
                        let _ = tx.send(Err(errors::ledger(e))).await;
                        return;
                    }
                };
                for view in &page.items {
                    if tx.send(Ok(filter::item(view))).await.is_err() {
                        debug!("watch: client gone");
                        return;
                    }
                }
                at = page.resume;
                if page.next.is_some() {
                    continue; // more already committed
                }
                if !next_commit(&mut events, &mut stop).await {
                    let _ = tx.send(Err(errors::stopping())).await;
                    return;
                }
            }
        });
        Box::pin(ReceiverStream::new(rx))
    }

    /// Committed blocks from height `from`, then each new one.
    pub(super) fn follow_blocks(&self, from: u64) -> Follow<GetBlockResponse> {
        let (tx, rx) = mpsc::channel(BUFFER);
        let ledger = self.ledger.clone();
        let mut events = self.commits.subscribe();
        let mut stop = self.stop.clone();
        tokio::spawn(async move {
            let mut next = from.max(1);
            loop {
                while next <= ledger.tip().height {
                    let reply = match (ledger.block(next), ledger.certificate(next)) {
                        (Ok(Some(block)), Ok(Some(cert))) => Ok(GetBlockResponse {
                            block_hash: block.header.hash().to_string(),
                            block: block.to_canonical(),
                            certificate: cert.to_canonical(),
                            height: next,
                        }),
                        (Err(e), _) | (_, Err(e)) => Err(errors::ledger(e)),
                        _ => Err(Status::internal(format!(
                            "block {next} missing below the tip"
                        ))),
                    };
                    let failed = reply.is_err();
                    if tx.send(reply).await.is_err() || failed {
                        return;
                    }
                    next += 1;
                }
                if !next_commit(&mut events, &mut stop).await {
                    let _ = tx.send(Err(errors::stopping())).await;
                    return;
                }
            }
        });
        Box::pin(ReceiverStream::new(rx))
    }
}

/// Waits for the next commit (a lagging receiver counts: the caller reads
/// the ledger anyway). False when the node is stopping: streams end then,
/// so the server can drain.
async fn next_commit(
    events: &mut tokio::sync::broadcast::Receiver<crate::runtime::CommitEvent>,
    stop: &mut tokio::sync::watch::Receiver<bool>,
) -> bool {
    tokio::select! {
        event = events.recv() => !matches!(event, Err(RecvError::Closed)),
        _ = stopped(stop) => false,
    }
}

/// Resolves once the node is stopping (drops the watch guard before
/// returning, so the future stays `Send`).
async fn stopped(stop: &mut tokio::sync::watch::Receiver<bool>) {
    let _ = stop.wait_for(|s| *s).await;
}
