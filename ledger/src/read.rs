//! Reading committed data: headers, blocks, certificates, records, log
//! entries, proofs, statuses, consensus state.

use chancery_types::bundle::{
    BUNDLE_VERSION, Checkpoint, ConsistencyBundle, KeyAt, ProofBundle, SetChange, StatusAt,
    ValidatorChain,
};
use chancery_types::log_proof::{ConsistencyProof, InclusionProof, LogHead};
use chancery_types::state_proof::{
    StateKey, StateProof, Status, ValidatorSchedule, issuer_key_key, record_state_key,
    validators_key,
};
use chancery_types::{
    Block, BlockHeader, Canonical, CommitCertificate, ExecResult, Hash, LogEntry, RecordId,
    SignedRecord, Timestamp,
};

use crate::error::{LedgerError, Result, decode_err, missing};
use crate::keys::{self, BlockMeta};
use crate::kv::{Batch, Column, KvStore};
use crate::ledger::{Ledger, StoreNodes, StoredResults, StoredSetChange};
use crate::log;
use crate::smt::Proven;

/// What [`Ledger::proof_bundle`] found.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum BundleLookup {
    /// No committed record has this id.
    Unknown,
    /// Committed at `height`; its log entry is certified once block
    /// `certified_at` is committed.
    Pending {
        /// Height of the record's block.
        height: u64,
        /// First height whose header covers the record's log entry.
        certified_at: u64,
    },
    /// The bundle.
    Ready(Box<ProofBundle>),
}

/// A committed record with where and how it was committed.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RecordView {
    /// Its id.
    pub id: RecordId,
    /// The signed record.
    pub record: SignedRecord,
    /// Height of its block.
    pub height: u64,
    /// Position in the block.
    pub index: u32,
    /// Position in the record log.
    pub log_index: u64,
    /// The block's timestamp.
    pub committed_at: Timestamp,
    /// Its execution result.
    pub result: ExecResult,
}

/// A record's log entry and its inclusion proof.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RecordProof {
    /// The log leaf (`leaf hash = blake3(0x00 ‖ canonical(entry))`).
    pub entry: LogEntry,
    /// Inclusion of the leaf in the log of `proof.tree_size` entries.
    pub proof: InclusionProof,
}

/// A status (or its absence) and its proof against a state root.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct StatusProof {
    /// The executed height whose state root the proof is against.
    pub exec_height: u64,
    /// That root.
    pub root: Hash,
    /// Canonical `Status` bytes, or `None` if the key is absent.
    pub value: Option<Vec<u8>>,
    /// The proof.
    pub proof: StateProof,
}

impl<K: KvStore> Ledger<K> {
    /// The header at `height`.
    pub fn header(&self, height: u64) -> Result<Option<BlockHeader>> {
        self.kv
            .get(Column::Headers, &keys::height_key(height))?
            .map(|v| BlockHeader::from_canonical(&v).map_err(decode_err("header")))
            .transpose()
    }

    /// The commit certificate stored with block `height`.
    pub fn certificate(&self, height: u64) -> Result<Option<CommitCertificate>> {
        self.kv
            .get(Column::Certs, &keys::height_key(height))?
            .map(|v| CommitCertificate::from_canonical(&v).map_err(decode_err("certificate")))
            .transpose()
    }

    /// The block at `height`, with its execution results.
    pub fn block(&self, height: u64) -> Result<Option<Block>> {
        let Some(header) = self.header(height)? else {
            return Ok(None);
        };
        let meta = self.block_meta(height)?;
        let from = keys::record_key(meta.first_log_index);
        let to = keys::record_key(meta.first_log_index + u64::from(meta.record_count));
        let rows = self
            .kv
            .scan(Column::Records, &from, Some(&to), usize::MAX)?;
        if rows.len() != meta.record_count as usize {
            return Err(missing(
                "block records",
                format!(
                    "{} of {} records at height {height}",
                    rows.len(),
                    meta.record_count
                ),
            ));
        }
        let records = rows
            .iter()
            .map(|(_, v)| {
                let (_, _, record) = keys::decode_record_value(v)?;
                SignedRecord::from_canonical(record).map_err(decode_err("record"))
            })
            .collect::<Result<Vec<_>>>()?;
        let results = self.results(height)?;
        let block = Block {
            header,
            records: chancery_types::List::new(records)
                .map_err(|e| missing("block records", e.to_string()))?,
            results: chancery_types::List::new(results)
                .map_err(|e| missing("block results", e.to_string()))?,
        };
        block.check().map_err(decode_err("block"))?;
        Ok(Some(block))
    }

    fn block_meta(&self, height: u64) -> Result<BlockMeta> {
        read_block_meta(&self.kv, height)
    }

    /// The execution results of block `height`.
    pub fn results(&self, height: u64) -> Result<Vec<ExecResult>> {
        let v = self
            .kv
            .get(Column::Results, &keys::height_key(height))?
            .ok_or_else(|| missing("results", format!("none at height {height}")))?;
        Ok(StoredResults::from_canonical(&v)
            .map_err(decode_err("results"))?
            .0
            .into_vec())
    }

    /// Log index of the first record of block `height` and its record count.
    pub fn block_log_range(&self, height: u64) -> Result<Option<(u64, u32)>> {
        if self
            .kv
            .get(Column::Blocks, &keys::height_key(height))?
            .is_none()
        {
            return Ok(None);
        }
        let m = self.block_meta(height)?;
        Ok(Some((m.first_log_index, m.record_count)))
    }

    /// Whether each of `ids` is committed, in order: one batched lookup
    /// (memory, then one multi-get), without reading the records.
    pub fn committed_many(&self, ids: &[RecordId]) -> Result<Vec<bool>> {
        Ok(self
            .read_view()
            .ids
            .lookup_many(&self.kv, ids)?
            .into_iter()
            .map(|loc| loc.is_some())
            .collect())
    }

    /// The record with id `id` (its first occurrence, if it was committed twice).
    pub fn record(&self, id: &RecordId) -> Result<Option<RecordView>> {
        let Some(loc) = self.read_view().ids.lookup(&self.kv, id)? else {
            return Ok(None);
        };
        self.record_at_log_index(loc.log_index)
    }

    /// The record at log position `log_index`.
    pub fn record_at_log_index(&self, log_index: u64) -> Result<Option<RecordView>> {
        let Some(v) = self.kv.get(Column::Records, &keys::record_key(log_index))? else {
            return Ok(None);
        };
        let (index, entry, record) = keys::decode_record_value(&v)?;
        let record = SignedRecord::from_canonical(record).map_err(decode_err("record"))?;
        Ok(Some(RecordView {
            id: entry.record,
            record,
            height: entry.height,
            index,
            log_index,
            committed_at: entry.timestamp,
            result: entry.result,
        }))
    }

    /// The log entry at `log_index`.
    pub fn log_entry(&self, log_index: u64) -> Result<Option<LogEntry>> {
        let Some(v) = self.kv.get(Column::Records, &keys::record_key(log_index))? else {
            return Ok(None);
        };
        keys::decode_record_value(&v).map(|(_, entry, _)| Some(entry))
    }

    fn check_size(&self, size: u64) -> Result<()> {
        let current = self.log_size();
        if size > current {
            return Err(LedgerError::BeyondLog {
                requested: size,
                size: current,
            });
        }
        Ok(())
    }

    /// The log's size and root after its first `size` entries.
    pub fn log_head(&self, size: u64) -> Result<LogHead> {
        self.check_size(size)?;
        Ok(LogHead {
            size,
            root: log::root_at(&StoreNodes(&self.kv), size)?,
        })
    }

    /// Inclusion proof of entry `log_index` in the log of `tree_size`
    /// entries (e.g. a certified header's `log_size`). O(log n) reads.
    pub fn inclusion_proof(&self, log_index: u64, tree_size: u64) -> Result<InclusionProof> {
        self.check_size(tree_size)?;
        log::inclusion_proof(&StoreNodes(&self.kv), log_index, tree_size)
    }

    /// Consistency proof between log sizes `old ≤ new`. O(log n) reads.
    pub fn consistency_proof(&self, old: u64, new: u64) -> Result<ConsistencyProof> {
        self.check_size(new)?;
        log::consistency_proof(&StoreNodes(&self.kv), old, new)
    }

    /// The log entry of record `id` and its inclusion proof in the log of
    /// `tree_size` entries. `None` if the record is unknown or not inside
    /// the first `tree_size` entries.
    pub fn record_proof(&self, id: &RecordId, tree_size: u64) -> Result<Option<RecordProof>> {
        let Some(loc) = self.read_view().ids.lookup(&self.kv, id)? else {
            return Ok(None);
        };
        if loc.log_index >= tree_size {
            return Ok(None);
        }
        let entry = self
            .log_entry(loc.log_index)?
            .ok_or_else(|| missing("log entry", format!("log index {}", loc.log_index)))?;
        Ok(Some(RecordProof {
            entry,
            proof: self.inclusion_proof(loc.log_index, tree_size)?,
        }))
    }

    /// A proof bundle for record `id`, resting on the latest committed
    /// header. A record's log entry is certified `execution_lag` blocks
    /// after its own block, so a just-committed record is `Pending`.
    pub fn proof_bundle(&self, id: &RecordId) -> Result<BundleLookup> {
        let Some(view) = self.record(id)? else {
            return Ok(BundleLookup::Unknown);
        };
        let tip = self.tip().height;
        let (Some(header), Some(certificate)) = (self.header(tip)?, self.certificate(tip)?) else {
            return Err(missing("tip header", format!("height {tip}")));
        };
        let Some(proof) = self.record_proof(id, header.log_size)? else {
            return Ok(BundleLookup::Pending {
                height: view.height,
                certified_at: view.height + self.execution_lag(),
            });
        };
        // The key's status, when governance registered or changed it; it
        // must be proven against the header's state, which this node holds
        // again once `execution_lag` blocks were committed since it opened.
        let issuer_key = match self.issuer_key_at(&view.record.record.key_id, header.exec_height) {
            Ok(k) => k,
            Err(LedgerError::StateVersionUnavailable { oldest, .. }) => {
                return Ok(BundleLookup::Pending {
                    height: view.height,
                    certified_at: oldest + self.execution_lag(),
                });
            }
            Err(e) => return Err(e),
        };
        // The subject's status in the state the header commits to, while
        // this node still holds that version of the state tree.
        let key = record_state_key(&view.record.record);
        let status = match self.status_proof(&key, header.exec_height) {
            Ok(p) => Some(StatusAt {
                exec_height: p.exec_height,
                status: match &p.value {
                    Some(bytes) => {
                        Some(Status::from_canonical(bytes).map_err(decode_err("status"))?)
                    }
                    None => None,
                },
                proof: p.proof,
            }),
            Err(LedgerError::StateVersionUnavailable { .. }) => None,
            Err(e) => return Err(e),
        };
        let validator_chain = self.validator_chain(header.height)?;
        Ok(BundleLookup::Ready(Box::new(ProofBundle {
            version: BUNDLE_VERSION,
            chain_id: self.chain_id(),
            record: view.record,
            entry: proof.entry,
            inclusion: proof.proof,
            header,
            certificate,
            validator_chain,
            issuer_key,
            status,
        })))
    }

    /// The status of issuer key `key_id` and its proof against the state
    /// root of executed height `exec_height`, if governance registered or
    /// changed the key (`None`: as in genesis). Fails with
    /// `StateVersionUnavailable` if the key has a status but that version
    /// of the state is no longer (or not yet) held.
    pub fn issuer_key_at(
        &self,
        key_id: &chancery_types::KeyId,
        exec_height: u64,
    ) -> Result<Option<KeyAt>> {
        let key = issuer_key_key(key_id);
        // Statuses of keys are never removed: without one now, it never had one.
        if self.status(&key)?.is_none() {
            return Ok(None);
        }
        let p = self.status_proof(&key, exec_height)?;
        let Some(bytes) = p.value else {
            return Ok(None);
        };
        match Status::from_canonical(&bytes).map_err(decode_err("key status"))? {
            Status::IssuerKey(status) => Ok(Some(KeyAt {
                status,
                proof: p.proof,
            })),
            _ => Err(missing(
                "key status",
                format!("the status under key {key_id} is not an issuer key's"),
            )),
        }
    }

    /// Every validator-set change in force by `height` (first height at or
    /// below it), oldest first, as bundles carry them: header
    /// `from_height − 1`, its certificate, the schedule and its proof.
    pub fn validator_chain(&self, height: u64) -> Result<ValidatorChain> {
        let mut steps = Vec::new();
        for (from, set) in self.validator_changes()? {
            if from > height {
                break;
            }
            let at = from
                .checked_sub(1)
                .ok_or_else(|| missing("validator set change", "scheduled from height 0"))?;
            let (Some(header), Some(certificate)) = (self.header(at)?, self.certificate(at)?)
            else {
                return Err(missing(
                    "validator set change",
                    format!("no certified header at height {at}"),
                ));
            };
            let (schedule, proof) = self.set_change_proof(from, header.exec_height)?;
            if schedule.set != set {
                return Err(missing(
                    "validator set change",
                    format!("the proven set from height {from} differs from the stored one"),
                ));
            }
            steps.push(SetChange {
                header,
                certificate,
                schedule,
                proof,
            });
        }
        ValidatorChain::new(steps).map_err(|e| missing("validator chain", e.to_string()))
    }

    /// The schedule of the change applying from `from` and its proof in
    /// the state after executed height `exec_height`: stored at commit, or
    /// (for changes committed before the proof was stored) from a state
    /// tree still held.
    fn set_change_proof(
        &self,
        from: u64,
        exec_height: u64,
    ) -> Result<(ValidatorSchedule, StateProof)> {
        let stored = self.kv.get(
            Column::State,
            &keys::tagged(keys::STATE_VALPROOF, &from.to_be_bytes()),
        )?;
        if let Some(v) = stored {
            let s = StoredSetChange::from_canonical(&v).map_err(decode_err("set change"))?;
            return Ok((s.schedule, s.proof));
        }
        let p = self.status_proof(&validators_key(), exec_height)?;
        match p.value.as_deref().map(Status::from_canonical) {
            Some(Ok(Status::Validators(s))) if s.from_height == from => Ok((s, p.proof)),
            _ => Err(missing(
                "validator set change",
                format!("no proof of the set applying from height {from}"),
            )),
        }
    }

    /// A consistency bundle between the certified headers at heights
    /// `old < new` (both committed). `None` when either is not committed.
    pub fn consistency_bundle(&self, old: u64, new: u64) -> Result<Option<ConsistencyBundle>> {
        let checkpoint = |h: u64| -> Result<Option<Checkpoint>> {
            Ok(match (self.header(h)?, self.certificate(h)?) {
                (Some(header), Some(certificate)) => Some(Checkpoint {
                    header,
                    certificate,
                }),
                _ => None,
            })
        };
        let (Some(o), Some(n)) = (checkpoint(old)?, checkpoint(new)?) else {
            return Ok(None);
        };
        let proof = self.consistency_proof(o.header.log_size, n.header.log_size)?;
        let validator_chain = self.validator_chain(old.max(new))?;
        Ok(Some(ConsistencyBundle {
            version: BUNDLE_VERSION,
            chain_id: self.chain_id(),
            old: o,
            new: n,
            validator_chain,
            proof,
        }))
    }

    /// The current status at `key` (after the last executed block).
    pub fn status(&self, key: &StateKey) -> Result<Option<Status>> {
        let v = self.read_view();
        match v.trees.get(key) {
            Some(bytes) => Ok(Some(
                Status::from_canonical(bytes).map_err(decode_err("status"))?,
            )),
            None => Ok(None),
        }
    }

    /// The status at `key` and its proof against the state root of
    /// executed height `exec_height`. Trees are held for the last
    /// `execution_lag + 8` heights committed since the ledger opened.
    pub fn status_proof(&self, key: &StateKey, exec_height: u64) -> Result<StatusProof> {
        let v = self.read_view();
        let Some(Proven { root, value, proof }) = v.trees.prove_at(exec_height, key) else {
            return Err(LedgerError::StateVersionUnavailable {
                height: exec_height,
                oldest: v.trees.oldest_height(),
                newest: v.trees.newest_height(),
            });
        };
        Ok(StatusProof {
            exec_height,
            root,
            value: value.map(|b| b.to_vec()),
            proof,
        })
    }

    /// Reads a consensus-state value.
    pub fn consensus_get(&self, key: &[u8]) -> Result<Option<Vec<u8>>> {
        self.kv.get(Column::Consensus, key)
    }

    /// Writes consensus-state values (`None` deletes) in one synced
    /// atomic batch: when this returns, they survive a crash.
    pub fn consensus_put(&self, writes: &[(&[u8], Option<&[u8]>)]) -> Result<()> {
        let mut b = Batch::new();
        for (k, v) in writes {
            match v {
                Some(v) => b.put(Column::Consensus, k, v),
                None => b.delete(Column::Consensus, k),
            }
        }
        self.kv.write(b)
    }
}

/// The metadata of stored block `height` (`Corrupt` if absent).
pub(crate) fn read_block_meta<K: KvStore>(kv: &K, height: u64) -> Result<BlockMeta> {
    let v = kv
        .get(Column::Blocks, &keys::height_key(height))?
        .ok_or_else(|| missing("block meta", format!("none at height {height}")))?;
    BlockMeta::decode(&v)
}
