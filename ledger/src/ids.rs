//! The record-id index (D27): record id → [`RecordLoc`], in its own
//! column, written in large sorted runs.
//!
//! Record ids are hashes, so each one lands at a random place in the
//! store's sorted memtable; written one block at a time that search cost
//! more than any other key of a record. Instead, the ids of recent blocks
//! stay in memory ([`RecentIds`]) and are written together, in one commit's
//! batch, once [`Ledger::with_id_run`] of them have gathered. The meta key
//! `ids_through` (in that same batch) names the last height whose ids are
//! all in the column.
//!
//! Nothing is lost in a crash: every committed record's id is also in its
//! log entry, so on open the ids of the blocks above `ids_through` are read
//! back from the log ([`load`]). Lookups ask the memory first, then the
//! column ([`RecentIds::lookup_many`]).
//!
//! Stores written before session 7 keep the ids in the index column under
//! `r ‖ id`; [`load`] moves them into the id column on first open.

use std::collections::HashMap;

use chancery_types::{ExecResult, RecordId};

use crate::error::{LedgerError, Result};
use crate::keys::{self, RecordLoc};
use crate::kv::{Batch, Column, KvStore};
use crate::read::read_block_meta;

/// Ids gathered in memory before they are written as one run.
pub const DEFAULT_ID_RUN: usize = 65_536;

/// How many legacy entries one migration batch moves.
const MIGRATE_CHUNK: usize = 16_384;

/// Record ids of the blocks above the `ids_through` marker, not yet
/// written to [`Column::RecordIds`].
#[derive(Debug, Default)]
pub(crate) struct RecentIds {
    map: HashMap<RecordId, RecordLoc>,
}

impl RecentIds {
    /// The ids held in memory.
    pub(crate) fn len(&self) -> usize {
        self.map.len()
    }

    /// Where each of `ids` was first committed: memory first, then the
    /// column. Callers holding a view must ask in this order: a commit
    /// writes a run to the column before it empties the memory.
    pub(crate) fn lookup_many<K: KvStore>(
        &self,
        kv: &K,
        ids: &[RecordId],
    ) -> Result<Vec<Option<RecordLoc>>> {
        let mut out: Vec<Option<RecordLoc>> =
            ids.iter().map(|id| self.map.get(id).copied()).collect();
        let missing: Vec<usize> = (0..ids.len()).filter(|&i| out[i].is_none()).collect();
        if missing.is_empty() {
            return Ok(out);
        }
        let keys: Vec<Vec<u8>> = missing.iter().map(|&i| ids[i].0.0.to_vec()).collect();
        for (&i, v) in missing.iter().zip(kv.multi_get(Column::RecordIds, &keys)?) {
            out[i] = v.map(|v| RecordLoc::decode(&v)).transpose()?;
        }
        Ok(out)
    }

    /// Where `id` was first committed.
    pub(crate) fn lookup<K: KvStore>(&self, kv: &K, id: &RecordId) -> Result<Option<RecordLoc>> {
        if let Some(loc) = self.map.get(id) {
            return Ok(Some(*loc));
        }
        kv.get(Column::RecordIds, &id.0.0)?
            .map(|v| RecordLoc::decode(&v))
            .transpose()
    }

    /// Puts every id held in memory and `fresh` into `batch`, with the
    /// marker that they are written through `height`.
    pub(crate) fn write_run(
        &self,
        batch: &mut Batch,
        fresh: &[(RecordId, RecordLoc)],
        height: u64,
    ) {
        let held = self.map.iter().map(|(id, loc)| (*id, *loc));
        for (id, loc) in held.chain(fresh.iter().copied()) {
            batch.put(Column::RecordIds, id.0.0, loc.encode());
        }
        batch.put(Column::Meta, keys::META_IDS_THROUGH, height.to_be_bytes());
    }

    /// After a commit is stored: the run was written (memory empties), or
    /// `fresh` joins the memory.
    pub(crate) fn committed(&mut self, fresh: Vec<(RecordId, RecordLoc)>, ran: bool) {
        if ran {
            self.map.clear();
        } else {
            self.map.extend(fresh);
        }
    }
}

/// The marker for a new store: no block has ids yet.
pub(crate) fn init_marker(batch: &mut Batch) {
    batch.put(Column::Meta, keys::META_IDS_THROUGH, 0u64.to_be_bytes());
}

/// Loads the recent ids of a store whose tip is `tip_height` and whose
/// log holds `log_size` entries: moves a pre-session-7 store's ids into
/// their column first, then reads the ids of the blocks above the marker
/// back from the record log.
pub(crate) fn load<K: KvStore>(kv: &K, tip_height: u64, log_size: u64) -> Result<RecentIds> {
    let through = match kv.get(Column::Meta, keys::META_IDS_THROUGH)? {
        Some(v) => keys::be_u64(&v, 0, "ids_through marker")?,
        None => migrate_legacy(kv, tip_height)?,
    };
    if through > tip_height {
        return Err(LedgerError::Corrupt {
            what: "ids_through marker",
            detail: format!("{through} is above the tip {tip_height}"),
        });
    }
    let mut recent = RecentIds::default();
    if through == tip_height {
        return Ok(recent);
    }
    let first = read_block_meta(kv, through + 1)?.first_log_index;
    let rows = kv.scan(
        Column::Index,
        &keys::log_index_key(first),
        Some(&keys::log_index_key(log_size)),
        usize::MAX,
    )?;
    let mut entries = Vec::with_capacity(rows.len());
    for (k, v) in &rows {
        let log_index = keys::be_u64(k, 1, "log entry key")?;
        let (index, entry) = keys::decode_log_value(v)?;
        entries.push((log_index, index, entry));
    }
    let ids: Vec<RecordId> = entries.iter().map(|(_, _, e)| e.record).collect();
    let stored = recent.lookup_many(kv, &ids)?;
    for ((log_index, index, entry), stored) in entries.into_iter().zip(stored) {
        // As in execution: the first occurrence of an id is its location.
        if stored.is_none() && !recent.map.contains_key(&entry.record) {
            recent.map.insert(
                entry.record,
                RecordLoc {
                    height: entry.height,
                    index,
                    log_index,
                    accepted: entry.result == ExecResult::Accepted,
                },
            );
        }
    }
    Ok(recent)
}

/// Moves `r ‖ id` entries of the index column into [`Column::RecordIds`],
/// a chunk per atomic batch (a crash part-way leaves the rest to move on
/// the next open), then marks every id through `tip_height` as written.
fn migrate_legacy<K: KvStore>(kv: &K, tip_height: u64) -> Result<u64> {
    let from = [keys::IDX_RECORD];
    let to = [keys::IDX_RECORD + 1];
    let mut moved = 0usize;
    loop {
        let rows = kv.scan(Column::Index, &from, Some(&to), MIGRATE_CHUNK)?;
        if rows.is_empty() {
            break;
        }
        let mut b = Batch::with_capacity(rows.len() * 2, rows.len() * 90);
        for (k, v) in &rows {
            if k.len() != 33 {
                return Err(LedgerError::Corrupt {
                    what: "record id index",
                    detail: format!("a {}-byte key", k.len()),
                });
            }
            b.put(Column::RecordIds, &k[1..], v);
            b.delete(Column::Index, k);
        }
        kv.write(b)?;
        moved += rows.len();
    }
    let mut b = Batch::new();
    b.put(
        Column::Meta,
        keys::META_IDS_THROUGH,
        tip_height.to_be_bytes(),
    );
    kv.write(b)?;
    tracing::info!(moved, "record ids moved to their own column");
    Ok(tip_height)
}
