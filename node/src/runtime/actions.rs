//! Carrying out the replica's actions, in the order it gave them.

use std::collections::VecDeque;
use std::sync::Arc;
use std::time::{Duration, Instant};

use chancery_consensus::{Action, Input};
use chancery_ledger::KvStore;
use chancery_types::bounded::{Bytes, List};
use chancery_types::{Block, Canonical, CommitCertificate};
use tracing::{debug, error, info, warn};

use super::{CommitEvent, Runtime};
use crate::wire::{Frame, MAX_GOSSIP_RECORDS, MAX_SYNC_BLOCKS, SyncedBlock};

/// A synced write that takes longer than this is logged as a warning:
/// votes wait for the consensus state's writes and clients for commits,
/// so a slow disk shows as latency everywhere, and the log says where.
const SLOW_WRITE: Duration = Duration::from_millis(200);

/// Logs `what` if it took longer than [`SLOW_WRITE`] since `start`.
fn warn_if_slow(start: Instant, what: &str, height: Option<u64>) {
    let took = start.elapsed();
    if took > SLOW_WRITE {
        warn!(
            ms = took.as_millis() as u64,
            height,
            "runtime: {what} took {} ms; everything behind it waited (a slow disk, or a starved CPU)",
            took.as_millis()
        );
    }
}

impl<K: KvStore + Send + Sync + 'static> Runtime<K> {
    /// Executes queued actions until none are left (actions may feed inputs
    /// back, which queue more actions).
    ///
    /// A `Persist` followed by another in the queue is skipped: the later
    /// state supersedes it, and acknowledging the later token acknowledges
    /// every earlier one. Whatever the replica let out between them did not
    /// wait for the skipped state (held messages stay in the replica until
    /// their token is acknowledged), so one synced write serves them all.
    pub(super) async fn drain(&mut self, queue: &mut VecDeque<Action>) {
        while let Some(action) = queue.pop_front() {
            if superseded(&action, queue) {
                continue;
            }
            self.execute(action, queue).await;
        }
    }

    async fn execute(&mut self, action: Action, queue: &mut VecDeque<Action>) {
        match action {
            Action::Persist { token, state } => {
                let start = Instant::now();
                let saved = self.state_store.save(&self.ledger, &state);
                warn_if_slow(start, "persisting the consensus state", None);
                match saved {
                    // Only a synced write releases the votes held behind it.
                    Ok(()) => self.input(Input::Persisted(token), queue),
                    Err(e) => {
                        error!(error = %e, "runtime: persisting consensus state failed; votes stay held")
                    }
                }
            }
            Action::Send { to, message } => {
                self.send(to as usize, Frame::Consensus(consensus_bytes(&message)))
            }
            Action::Broadcast { message } => {
                let frame = Frame::Consensus(consensus_bytes(&message));
                self.broadcast(&frame);
            }
            Action::ScheduleTimer { timer, at } => {
                self.timer_seq += 1;
                self.timers.insert((at, self.timer_seq), timer);
            }
            Action::BuildProposal {
                height,
                view,
                parent,
            } => {
                self.pending_proposal = Some((height, view, parent, super::now_ms()));
            }
            Action::ValidateBlock { block } => self.validate(block, queue),
            Action::Deliver { block, certificate } => self.deliver(block, certificate, queue),
            Action::RequestBlocks { from, to } => {
                let to = to.min(from + MAX_SYNC_BLOCKS as u64 - 1);
                debug!(from, to, "runtime: requesting blocks");
                self.broadcast(&Frame::SyncRequest { from, to });
            }
            Action::Evidence(e) => warn!(evidence = ?e, "runtime: equivocation evidence"),
        }
    }

    pub(super) fn send(&mut self, to: usize, frame: Frame) {
        if Some(to) == self.me || to >= self.peer_count {
            return;
        }
        self.outbox.send(to, frame.to_canonical());
    }

    pub(super) fn broadcast(&mut self, frame: &Frame) {
        let bytes = frame.to_canonical();
        for to in (0..self.n).filter(|i| Some(*i) != self.me) {
            self.outbox.send(to, bytes.clone());
        }
    }

    /// Sends admitted records to every validator so any primary can propose them.
    pub(super) fn gossip(&mut self, records: Vec<Vec<u8>>) {
        for chunk in records.chunks(MAX_GOSSIP_RECORDS) {
            let list: Vec<_> = chunk
                .iter()
                .filter_map(|r| Bytes::new(r.clone()).ok())
                .collect();
            if let Ok(list) = List::new(list) {
                self.broadcast(&Frame::Records(list));
            }
        }
    }

    /// Records this node proposed at heights up to `height` that the
    /// committed blocks did not include go back to the mempool.
    fn requeue_lost(&mut self, height: u64, committed: &[chancery_types::RecordId]) {
        let later = self.inflight.split_off(&(height + 1));
        let done = std::mem::replace(&mut self.inflight, later);
        let committed: chancery_types::fast_hash::FastSet<_> = committed.iter().collect();
        let (elsewhere, lost): (Vec<_>, Vec<_>) = done
            .into_values()
            .flatten()
            .filter(|a| !committed.contains(&a.id))
            .partition(|a| matches!(self.ledger.record(&a.id), Ok(Some(_))));
        // Committed by an earlier block: no longer held.
        let elsewhere: Vec<_> = elsewhere.iter().map(|a| a.id).collect();
        self.mempool.remove_committed(&elsewhere);
        if !lost.is_empty() {
            info!(
                height,
                records = lost.len(),
                "runtime: requeued records of a proposal that did not commit"
            );
            self.mempool.requeue(lost);
        }
    }

    pub(super) fn serve_sync(&mut self, peer: usize, from: u64, to: u64) {
        let to = to.min(from.saturating_add(MAX_SYNC_BLOCKS as u64 - 1));
        let mut blocks = Vec::new();
        for h in from.max(1)..=to {
            match (self.ledger.block(h), self.ledger.certificate(h)) {
                (Ok(Some(block)), Ok(Some(certificate))) => {
                    blocks.push(SyncedBlock { block, certificate })
                }
                _ => break,
            }
        }
        if blocks.is_empty() {
            return;
        }
        if let Ok(list) = List::new(blocks) {
            self.send(peer, Frame::SyncResponse(list));
        }
    }

    fn deliver(
        &mut self,
        block: Arc<Block>,
        certificate: CommitCertificate,
        queue: &mut VecDeque<Action>,
    ) {
        let height = block.header.height;
        if height <= self.ledger.tip().height {
            return; // already committed (replayed after a restart)
        }
        // Ids computed while proposing or validating this block, if it was.
        let start = Instant::now();
        let committed = match self.block_ids.remove(&certificate.vote.block_hash) {
            Some((_, ids)) => {
                self.ledger
                    .commit_with_ids(&block, &certificate, &self.verified, ids)
            }
            None => self.ledger.commit(&block, &certificate, &self.verified),
        };
        warn_if_slow(start, "committing a block", Some(height));
        match committed {
            Ok(committed) => self.announce(committed, queue),
            Err(e) => error!(height, error = %e, "runtime: commit of a certified block failed"),
        }
    }
}

impl<K: KvStore + Send + Sync + 'static> Runtime<K> {
    /// After a commit: mempool and in-flight bookkeeping, the commit
    /// event, validator-set changes, and proposals that waited for it.
    pub(super) fn announce(
        &mut self,
        committed: chancery_ledger::Committed,
        queue: &mut VecDeque<Action>,
    ) {
        let height = committed.height;
        let ids = committed.ids;
        if !ids.is_empty() {
            self.last_busy_height = self.last_busy_height.max(height);
        }
        self.mempool.remove_committed(&ids);
        // Only live blocks measure the commit rate: a node catching up
        // commits old blocks far faster than the network orders new ones.
        let now = super::now_ms();
        if now.saturating_sub(committed.timestamp.0) < LIVE_BLOCK_MS {
            self.backlog.committed(ids.len(), now);
        }
        self.requeue_lost(height, &ids);
        for id in &ids {
            self.verified.remove(id);
        }
        self.headers.retain(|_, h| h.height > height);
        self.block_ids.retain(|_, (h, _)| *h > height);
        let accepted = committed
            .results
            .iter()
            .filter(|r| matches!(r, chancery_types::ExecResult::Accepted))
            .count();
        // Empty blocks (the idle and certifying cadence, D14 and D39) come
        // several a second on an idle network: at INFO they would bury
        // the blocks that carry records.
        if ids.is_empty() {
            debug!(height, hash = %committed.hash.short(), "committed (empty)");
        } else {
            info!(height, hash = %committed.hash.short(), records = ids.len(), accepted, "committed");
        }
        let _ = self.commits.send(CommitEvent {
            height,
            hash: committed.hash,
            first_log_index: committed.first_log_index,
            timestamp: committed.timestamp,
            records: ids.into_iter().zip(committed.results).collect(),
        });
        self.follow_epochs(queue);
        self.retry_deferred(queue);
    }
}

/// A committed block this recent (by its timestamp) counts towards the
/// measured commit rate.
const LIVE_BLOCK_MS: u64 = 2_000;

/// Whether `action` is a `Persist` that a later one in `queue` replaces.
fn superseded(action: &Action, queue: &VecDeque<Action>) -> bool {
    matches!(action, Action::Persist { .. })
        && queue.iter().any(|a| matches!(a, Action::Persist { .. }))
}

fn consensus_bytes(message: &chancery_consensus::Message) -> Bytes<{ 64 * 1024 * 1024 }> {
    Bytes::new(message.to_canonical()).unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;
    use chancery_consensus::{PersistToken, PersistentState, Timer, TimerKind};

    fn persist(t: u64) -> Action {
        Action::Persist {
            token: PersistToken(t),
            state: PersistentState::genesis(),
        }
    }

    fn timer(seq: u64) -> Action {
        Action::ScheduleTimer {
            timer: Timer {
                kind: TimerKind::Progress { view: 0 },
                seq,
            },
            at: 0,
        }
    }

    /// Runs the drain's selection over `actions`, returning what it executes.
    fn executed(actions: Vec<Action>) -> Vec<Action> {
        let mut queue: VecDeque<Action> = actions.into();
        let mut out = Vec::new();
        while let Some(a) = queue.pop_front() {
            if !superseded(&a, &queue) {
                out.push(a);
            }
        }
        out
    }

    #[test]
    fn only_the_last_of_several_queued_persists_is_written() {
        let out = executed(vec![persist(1), timer(1), persist(2), timer(2), persist(3)]);
        assert_eq!(out, vec![timer(1), timer(2), persist(3)]);
    }

    #[test]
    fn a_lone_persist_and_everything_else_are_kept_in_order() {
        let out = executed(vec![timer(1), persist(4), timer(2)]);
        assert_eq!(out, vec![timer(1), persist(4), timer(2)]);
    }
}
