//! Committing a certified block: execute it, then write everything it
//! changes in one synced atomic batch.

use std::collections::HashMap;
use std::sync::Arc;

use chancery_types::bounded::List;
use chancery_types::log_proof::{RootedIds, entry_hash};
use chancery_types::state_proof::{Status, validators_key};
use chancery_types::{
    Block, Canonical, CommitCertificate, ExecResult, LogEntry, RecordId, Timestamp,
};

use crate::error::{LedgerError, Result};
use crate::execute::{DueExpiry, History, Outcome, execute};
use crate::header::check_header_against;
use crate::ids::RecentIds;
use crate::keys::{self, BlockMeta, RecordLoc, TipRecord};
use crate::kv::{Batch, Column, KvStore};
use crate::ledger::{Committed, Ledger, StoredResults, StoredSetChange};
use crate::log::Frontier;
use crate::rules::SignatureCheck;
use crate::smt::{StateTrees, Update};
use crate::summary::ExecSummary;

struct StoreHistory<'a, K: KvStore> {
    kv: &'a K,
    ids: &'a RecentIds,
}

impl<K: KvStore> History for StoreHistory<'_, K> {
    fn committed(&self, id: &RecordId) -> Result<Option<bool>> {
        Ok(self.ids.lookup(self.kv, id)?.map(|l| l.accepted))
    }

    fn committed_many(&self, ids: &[RecordId]) -> Result<Vec<Option<bool>>> {
        Ok(self
            .ids
            .lookup_many(self.kv, ids)?
            .into_iter()
            .map(|l| l.map(|l| l.accepted))
            .collect())
    }
}

impl<K: KvStore> Ledger<K> {
    /// Executes and stores a certified block: block, certificate, results,
    /// state changes, log nodes and indexes in one synced atomic batch.
    /// When this returns `Ok` the block is durable; on `Err` nothing of it
    /// was written. The certificate is verified by the caller; here it
    /// must only name this block. `results` in `block` are ignored and
    /// recomputed.
    pub fn commit(
        &self,
        block: &Block,
        cert: &CommitCertificate,
        sigs: &dyn SignatureCheck,
    ) -> Result<Committed> {
        let ids = RootedIds::new(block.records.iter().map(|r| r.id()).collect());
        self.commit_with_ids(block, cert, sigs, ids)
    }

    /// [`Ledger::commit`], with the ids of the block's records (in block
    /// order) and their records root already computed by the caller, e.g.
    /// while it built or validated the proposal: saves hashing every record
    /// and every id again. Ids that are not this block's do not make its
    /// header's records root and are refused (`PayloadMismatch`) before
    /// anything is executed or written.
    pub fn commit_with_ids(
        &self,
        block: &Block,
        cert: &CommitCertificate,
        sigs: &dyn SignatureCheck,
        ids: RootedIds,
    ) -> Result<Committed> {
        let mut committing = self.commit_lock.lock().unwrap_or_else(|e| e.into_inner());
        let tip = self.read_view().tip;
        let h = &block.header;
        check_header_against(&self.kv, self.chain_id, self.execution_lag, tip, h)?;
        let rules = self.rules();
        let hash = h.hash();
        if cert.vote.height != h.height || cert.vote.block_hash != hash {
            return Err(LedgerError::CertificateMismatch {
                cert_height: cert.vote.height,
                cert_hash: cert.vote.block_hash,
                height: h.height,
                hash,
            });
        }
        if h.record_count as usize != block.records.len() || ids.ids().len() != block.records.len()
        {
            return Err(LedgerError::PayloadMismatch {
                height: h.height,
                field: "record_count",
            });
        }
        if ids.root() != h.records_root {
            return Err(LedgerError::PayloadMismatch {
                height: h.height,
                field: "records_root",
            });
        }
        let due = due_expiries(&self.kv, tip.timestamp, h.timestamp)?;
        let out = {
            // Only commits change the recent ids, and this one holds the
            // commit lock.
            let v = self.read_view();
            let history = StoreHistory {
                kv: &self.kv,
                ids: &v.ids,
            };
            execute(
                &rules,
                &history,
                &committing.latest,
                due,
                block,
                ids.into_ids(),
                sigs,
            )?
        };

        let n = block.records.len();
        let mut batch = Batch::with_capacity(n * 10 + 64, n * 640 + 4096);
        let mut frontier = committing.frontier.clone();
        let first_log_index = frontier.size();
        let fresh = write_records(&mut batch, block, &out, &mut frontier);
        let mut entries = Vec::with_capacity(out.statuses.len());
        for (key, value) in out.statuses {
            batch.put(Column::Statuses, key.0, &value);
            entries.push((key, Arc::<[u8]>::from(value)));
        }
        for qk in out.expiry_removed {
            batch.delete(Column::State, qk);
        }
        for (until, index, key) in &out.expiry_added {
            batch.put(
                Column::State,
                keys::expiry_key(*until, h.height, *index),
                key.0,
            );
        }
        crate::payload::erase_into(&self.kv, &mut batch, h.height, &out.erasures)?;
        if let Some(next) = &out.rules {
            batch.put(
                Column::State,
                vec![keys::STATE_RULES],
                next.to_stored().to_canonical(),
            );
            if next.validators_from > rules.validators_from {
                batch.put(
                    Column::State,
                    keys::tagged(keys::STATE_VALSET, &next.validators_from.to_be_bytes()),
                    next.validators.to_canonical(),
                );
            }
        }
        let changed = entries.clone();
        // Only commits change the trees, and this one holds the commit
        // lock: the plan stays valid until it is applied below.
        let (update, id_step) = {
            let v = self.read_view();
            let id_step = v.ids.step(&mut batch, &fresh, h.height, self.id_run);
            let update = v.trees.plan(entries)?;
            if let Some(next) = &out.rules
                && next.validators_from > rules.validators_from
            {
                set_change_proof(&v.trees, &update, next.validators_from, &mut batch);
            }
            (update, id_step)
        };
        let summary = ExecSummary {
            height: h.height,
            log_root: frontier.root(),
            log_size: frontier.size(),
            state_root: update.root(),
        };
        batch.put(Column::State, keys::summary_key(h.height), summary.encode());
        let hk = keys::height_key(h.height);
        batch.put(Column::Headers, hk, h.to_canonical());
        batch.put(
            Column::Blocks,
            hk,
            BlockMeta {
                hash,
                record_count: h.record_count,
                first_log_index,
            }
            .encode(),
        );
        batch.put(Column::Certs, hk, cert.to_canonical());
        let results = List::new(out.results.clone()).map_err(|_| LedgerError::PayloadMismatch {
            height: h.height,
            field: "record_count",
        })?;
        batch.put(Column::Results, hk, StoredResults(results).to_canonical());
        let new_tip = TipRecord {
            height: h.height,
            hash,
            timestamp: h.timestamp,
        };
        batch.put(Column::Meta, keys::META_TIP, new_tip.encode());

        self.kv.write(batch)?;

        committing.frontier = frontier;
        committing.latest.extend(changed);
        if let Some(next) = out.rules {
            *self.rules.write().unwrap_or_else(|e| e.into_inner()) = Arc::new(next);
        }
        {
            let mut v = self.view.write().unwrap_or_else(|e| e.into_inner());
            v.tip = new_tip;
            v.log_size = summary.log_size;
            v.ids.committed(fresh, id_step);
            // Planned under this commit lock against the newest version,
            // which nothing else changes, so applying does not fail; if it
            // ever did, the tree is rebuilt from the latest statuses (as on
            // open) rather than left behind the store.
            if let Err(e) = v.trees.apply(h.height, update) {
                tracing::error!(height = h.height, error = %e, "state tree update not applied; rebuilding");
                let keep = v.trees.keep();
                let entries = committing
                    .latest
                    .iter()
                    .map(|(k, v)| (*k, v.clone()))
                    .collect();
                match StateTrees::from_entries(h.height, keep, entries) {
                    Ok(t) if t.root() == summary.state_root => v.trees = t,
                    _ => tracing::error!(height = h.height, "state tree could not be rebuilt"),
                }
            }
        }
        tracing::debug!(
            height = h.height,
            records = block.records.len(),
            "committed block"
        );
        Ok(Committed {
            height: h.height,
            hash,
            ids: out.ids,
            results: out.results,
            first_log_index,
            timestamp: h.timestamp,
            summary,
        })
    }
}

/// The writes for a block's records — records with their log entries, secondary
/// indexes, log nodes — appending each to `frontier`. Returns the
/// locations of the ids committed for the first time, for [`RecentIds`].
fn write_records(
    batch: &mut Batch,
    block: &Block,
    out: &Outcome,
    frontier: &mut Frontier,
) -> Vec<(RecordId, RecordLoc)> {
    let h = &block.header;
    let first_log_index = frontier.size();
    let mut nodes = Vec::with_capacity(block.records.len() * 2 + 64);
    // Keyed by subject, issuer and kind text, which record authors choose:
    // the standard (SipHash) map, not a `FastMap` (D34).
    let mut runs: HashMap<(u8, &[u8]), Vec<u64>> = HashMap::new();
    let mut fresh = Vec::with_capacity(block.records.len());
    for (i, rec) in block.records.iter().enumerate() {
        let id = out.ids[i];
        let result = out.results[i];
        let log_index = first_log_index + i as u64;
        let entry = LogEntry {
            record: id,
            height: h.height,
            timestamp: h.timestamp,
            result,
        };
        frontier.append(entry_hash(&entry), &mut nodes);
        // One key per record, holding its log entry and the record (D36).
        batch.put_with(Column::Records, keys::record_key(log_index), |v| {
            keys::encode_record_value(i as u32, &entry, rec, v)
        });
        if out.fresh[i] {
            let loc = RecordLoc {
                height: h.height,
                index: i as u32,
                log_index,
                accepted: result == ExecResult::Accepted,
            };
            fresh.push((id, loc));
        }
        let r = &rec.record;
        for (tag, value) in [
            (keys::IDX_SUBJECT, r.subject.as_bytes()),
            (keys::IDX_ISSUER, r.issuer.as_str().as_bytes()),
            (keys::IDX_KIND, r.kind.name().as_bytes()),
        ] {
            runs.entry((tag, value)).or_default().push(log_index);
        }
    }
    // One index entry per block and value: a block's records mostly
    // share a few issuers and kinds.
    for ((tag, value), positions) in &runs {
        if let Some(&last) = positions.last() {
            batch.put(
                Column::Index,
                keys::secondary_key(*tag, value, last),
                keys::encode_run(positions),
            );
        }
    }
    // The lowest levels are recomputed from the log entries (see `StoreNodes`).
    for (level, index, node) in nodes
        .iter()
        .filter(|(level, ..)| *level >= crate::ledger::LOG_STORED_FROM_LEVEL)
    {
        batch.put(Column::LogNodes, keys::log_node_key(*level, *index), node.0);
    }
    fresh
}

/// Expiry queue entries with `after < valid_until ≤ now`, in queue order.
///
/// `after` is the previous block's timestamp: everything due by then was
/// swept (and deleted) by that block, and entries added since have
/// `valid_until` later than their block's time, so the scan starts past
/// the deleted entries instead of walking over their tombstones.
fn due_expiries<K: KvStore>(kv: &K, after: Timestamp, now: Timestamp) -> Result<Vec<DueExpiry>> {
    if now <= after {
        return Ok(Vec::new());
    }
    let from = keys::expiry_from(Timestamp(after.0 + 1));
    let mut to = vec![keys::STATE_EXPIRY];
    match now.0.checked_add(1) {
        Some(n) => to.extend_from_slice(&n.to_be_bytes()),
        None => to = vec![keys::STATE_EXPIRY + 1],
    }
    let rows = kv.scan(Column::State, &from, Some(&to), usize::MAX)?;
    rows.into_iter()
        .map(|(k, v)| {
            let state_key = match (k.len(), v.len()) {
                (keys::EXPIRY_KEY_LEN, 32) => keys::hash_at(&v, 0, "expiry queue entry")?,
                (klen, vlen) => {
                    return Err(LedgerError::Corrupt {
                        what: "expiry queue",
                        detail: format!("entry with a {klen}-byte key and a {vlen}-byte value"),
                    });
                }
            };
            Ok(DueExpiry {
                queue_key: k,
                state_key,
            })
        })
        .collect()
}

/// Stores the proof of the validator schedule applying from `from` in
/// `tree` (the state after the block that scheduled it). Execution always
/// writes that schedule; if it is somehow absent nothing is stored, and
/// bundles resting on that change report it missing.
fn set_change_proof(trees: &StateTrees, update: &Update, from: u64, batch: &mut Batch) {
    let (value, proof) = trees.prove_planned(update, &validators_key());
    let schedule = match value.as_deref().map(Status::from_canonical) {
        Some(Ok(Status::Validators(s))) if s.from_height == from => s,
        _ => {
            tracing::warn!(from, "no validator schedule in the state to prove");
            return;
        }
    };
    batch.put(
        Column::State,
        keys::tagged(keys::STATE_VALPROOF, &from.to_be_bytes()),
        StoredSetChange { schedule, proof }.to_canonical(),
    );
}
