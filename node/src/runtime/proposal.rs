//! Building this node's proposals and validating everyone else's.

use std::collections::VecDeque;
use std::sync::Arc;

use chancery_consensus::{Action, Input};
use chancery_ledger::{HeaderParams, KvStore, Rules};
use chancery_types::bounded::List;
use chancery_types::crypto::batch::{BatchItem, verify_batch};
use chancery_types::log_proof::RootedIds;
use chancery_types::{AgencyId, Block, KeyId, PublicKey, RecordId, SignedRecord, Timestamp};
use tracing::debug;

use super::{Runtime, now_ms};
use crate::mempool::IssuerKeys;

/// Issuer keys as the ledger's rules know them.
pub(super) struct RulesKeys(pub(super) std::sync::Arc<Rules>);

impl IssuerKeys for RulesKeys {
    fn agency_known(&self, agency: &AgencyId) -> bool {
        self.0.agencies.contains_key(agency)
    }
    fn key(&self, agency: &AgencyId, key_id: &KeyId, at: Timestamp) -> Option<PublicKey> {
        let k = self.0.issuer_key(agency, key_id)?;
        k.usable_at(at).then_some(k.key.public)
    }
    fn max_body_bytes(&self) -> usize {
        self.0.max_body_bytes as usize
    }
    fn policy(&self, r: &chancery_types::Record) -> Result<(), chancery_types::RejectCode> {
        self.0.check_admission(r)
    }
}

/// What decides when the primary's next block goes out.
#[derive(Clone, Copy, Debug)]
struct Ready {
    /// The proposal delay has passed since the replica asked for the block.
    waited: bool,
    /// Records in the mempool.
    queued: usize,
    /// A block's record limit.
    max_records: usize,
    /// `block.eager`: propose at once when nothing is in flight.
    eager: bool,
    /// An earlier height of ours is proposed but not committed yet.
    in_flight: bool,
}

impl Ready {
    /// Propose now when the delay has passed or a block is full, and also
    /// when records wait and nothing is in flight: waiting could only gather
    /// more records for a block that nothing else is ahead of. Under load a
    /// block is in flight almost always, so blocks still fill for the delay
    /// (like Nagle's algorithm: batch only while the pipe is busy).
    fn now(self) -> bool {
        self.waited
            || self.queued >= self.max_records
            || (self.eager && self.queued > 0 && !self.in_flight)
    }
}

impl<K: KvStore + Send + Sync + 'static> Runtime<K> {
    fn parent_timestamp(&self, parent: &chancery_types::Hash) -> Timestamp {
        let tip = self.ledger.tip();
        if &tip.hash == parent {
            return tip.timestamp;
        }
        self.headers
            .get(parent)
            .map(|h| h.timestamp)
            .unwrap_or(tip.timestamp)
    }

    /// Builds the proposal the replica asked for once the block is full or
    /// the delay has passed, and the height it certifies has been executed.
    pub(super) fn maybe_propose(&mut self, queue: &mut VecDeque<Action>) {
        let Some((height, view, parent, asked)) = self.pending_proposal else {
            return;
        };
        let waited =
            now_ms().saturating_sub(asked) >= self.proposal_delay(height).as_millis() as u64;
        let ready = Ready {
            waited,
            queued: self.mempool.len(),
            max_records: self.limits.max_records,
            eager: self.limits.eager,
            in_flight: height > self.ledger.tip().height + 1,
        };
        if !ready.now() {
            return;
        }
        let rules = self.ledger.rules();
        let exec_height = height.saturating_sub(rules.execution_lag);
        let summary = match self.ledger.exec_summary(exec_height) {
            Ok(Some(s)) => s,
            _ => return, // not executed here yet; try again after the next commit
        };
        self.pending_proposal = None;
        let taken = self.mempool.take(self.limits.max_records);
        let records: Vec<SignedRecord> = taken.iter().map(|a| a.record.clone()).collect();
        let ids = RootedIds::new(taken.iter().map(|a| a.id).collect());
        // Kept until this height commits: if another block wins it, these
        // go back to the mempool.
        self.inflight.entry(height).or_default().extend(taken);
        if !ids.ids().is_empty() {
            self.last_busy_height = self.last_busy_height.max(height);
        }
        let params = HeaderParams {
            view,
            timestamp: Timestamp(now_ms().max(self.parent_timestamp(&parent).0)),
            proposer: self.me.unwrap_or(0) as u16,
            validator_set_hash: self.set.hash(),
        };
        let header = self
            .ledger
            .header_on(height, parent, &summary, &params, &ids);
        let Ok(records) = List::new(records) else {
            return;
        };
        let hash = header.hash();
        self.headers.insert(hash, header.clone());
        self.block_ids.insert(hash, (height, ids));
        let block = Block {
            header,
            records,
            results: List::default(),
        };
        debug!(
            height,
            view,
            records = block.records.len(),
            "runtime: proposing"
        );
        self.input(Input::ProposalReady(block), queue);
    }

    /// Stateless checks of a proposal: header fields and roots against this
    /// node's execution of `exec_height`, the records root, and every
    /// signature this node has not verified yet (in one batch).
    pub(super) fn validate(&mut self, block: Arc<Block>, queue: &mut VecDeque<Action>) {
        let h = &block.header;
        let rules = self.ledger.rules();
        let exec_height = h.height.saturating_sub(rules.execution_lag);
        let summary = match self.ledger.exec_summary(exec_height) {
            Ok(Some(s)) => s,
            _ => {
                self.deferred.push(block);
                return;
            }
        };
        let ids = RootedIds::new(block.records.iter().map(|r| r.id()).collect());
        if !ids.ids().is_empty() {
            self.last_busy_height = self.last_busy_height.max(h.height);
        }
        let mut valid = h.chain_id == rules.chain_id
            && h.exec_height == exec_height
            && h.log_root == summary.log_root
            && h.log_size == summary.log_size
            && h.state_root == summary.state_root
            && h.record_count as usize == block.records.len()
            && h.records_root == ids.root()
            && h.validator_set_hash == self.set.hash()
            && h.timestamp >= self.parent_timestamp(&h.parent);
        if valid {
            valid = self.signatures_ok(&block.records, ids.ids());
        }
        if !valid {
            debug!(height = h.height, "runtime: proposal failed validation");
        }
        let hash = h.hash();
        self.headers.insert(hash, h.clone());
        if valid {
            self.block_ids.insert(hash, (h.height, ids));
        }
        self.input(Input::BlockValidated { hash, valid }, queue);
    }

    fn signatures_ok(&mut self, records: &[SignedRecord], ids: &[RecordId]) -> bool {
        let keys = RulesKeys(self.ledger.rules());
        let chain = self.ledger.rules().chain_id;
        let mut todo = Vec::new();
        for (r, id) in records.iter().zip(ids) {
            if self.verified.contains(id) {
                continue;
            }
            // Records whose key is unknown are rejected by execution, with a code.
            if let Some(key) = keys.key(&r.record.issuer, &r.record.key_id, r.record.timestamp) {
                todo.push((key, r.signing_bytes(&chain), r, *id));
            }
        }
        let items: Vec<BatchItem<'_>> = todo
            .iter()
            .map(|(key, message, r, _)| BatchItem {
                key,
                message,
                signature: &r.signature,
            })
            .collect();
        let ok = verify_batch(&items).iter().all(Result::is_ok);
        if ok {
            self.verified.extend(todo.iter().map(|(.., id)| *id));
        }
        ok
    }

    pub(super) fn retry_deferred(&mut self, queue: &mut VecDeque<Action>) {
        for block in std::mem::take(&mut self.deferred) {
            self.validate(block, queue);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::Ready;

    fn ready(waited: bool, queued: usize, in_flight: bool) -> bool {
        Ready {
            waited,
            queued,
            max_records: 100,
            eager: true,
            in_flight,
        }
        .now()
    }

    #[test]
    fn an_idle_pipeline_proposes_waiting_records_at_once() {
        assert!(ready(false, 1, false));
        // Nothing to order: wait for the delay (an empty block then keeps
        // the chain moving).
        assert!(!ready(false, 0, false));
        assert!(ready(true, 0, false));
    }

    #[test]
    fn a_busy_pipeline_batches_until_the_delay_or_a_full_block() {
        assert!(!ready(false, 1, true));
        assert!(!ready(false, 99, true));
        assert!(ready(false, 100, true));
        assert!(ready(true, 1, true));
    }

    #[test]
    fn with_eager_off_an_idle_pipeline_waits_too() {
        let r = |waited, queued| {
            Ready {
                waited,
                queued,
                max_records: 100,
                eager: false,
                in_flight: false,
            }
            .now()
        };
        assert!(!r(false, 1));
        assert!(r(false, 100));
        assert!(r(true, 1));
    }
}
