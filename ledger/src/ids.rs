//! The record-id index (D27, D32): record id → [`RecordLoc`], in its own
//! column, written in large sorted runs.
//!
//! Record ids are hashes, so each one lands at a random place in the
//! store's sorted memtable; written one block at a time that search cost
//! more than any other key of a record. Instead, the ids of recent blocks
//! stay in memory (`RecentIds`) until [`Ledger::with_id_run`] of them
//! have gathered. Then they are sorted into a run, and the following
//! commits each write the next stretch of it in their batch, about two
//! ids for every new one, so that no single commit pays for the whole run
//! (written at once, a 65,536-id run stalled every validator at the same
//! height). The batch with the run's last stretch also moves the meta key
//! `ids_through` to the last height whose ids are all in the column.
//!
//! Nothing is lost in a crash: every committed record's id is also in its
//! log entry, so on open the ids of the blocks above `ids_through` are read
//! back from the log (`load`); the part of an unfinished run already in
//! the column holds the same locations. Lookups ask the memory first (the
//! ids gathering, then the run being written), then the column
//! (`RecentIds::lookup_many`).
//!
//! [`Ledger::with_id_run`]: crate::Ledger::with_id_run

use chancery_types::fast_hash::FastMap;
use chancery_types::{ExecResult, RecordId};

use crate::error::{LedgerError, Result};
use crate::keys::{self, RecordLoc};
use crate::kv::{Batch, Column, KvStore};
use crate::read::read_block_meta;

/// Ids gathered in memory before they are written as one run.
pub const DEFAULT_ID_RUN: usize = 65_536;

/// Ids of a run each commit writes at least, as a fraction of the run
/// size: blocks without new ids still finish a run.
const MIN_STRETCH_DIVISOR: usize = 64;

/// Record ids of the blocks above the `ids_through` marker, not yet
/// written to [`Column::RecordIds`].
#[derive(Debug, Default)]
pub(crate) struct RecentIds {
    /// Ids gathering for the next run.
    map: FastMap<RecordId, RecordLoc>,
    /// The run being written, if any.
    run: Option<Run>,
}

/// A sorted run whose first `written` entries are in the column.
#[derive(Debug)]
struct Run {
    entries: Vec<(RecordId, RecordLoc)>,
    written: usize,
    /// The marker once the whole run is written.
    through: u64,
}

/// What one commit writes of the ids, decided under the commit lock by
/// [`RecentIds::step`] and applied by [`RecentIds::committed`] once its
/// batch is durable.
#[derive(Debug)]
pub(crate) enum IdStep {
    /// Nothing: the new ids join the memory.
    Gather,
    /// The memory and the new ids became this sorted run; its first
    /// `written` entries are in the batch.
    Start {
        entries: Vec<(RecordId, RecordLoc)>,
        written: usize,
        through: u64,
    },
    /// The run's entries up to `to` are in the column with this batch.
    Continue { to: usize },
}

impl RecentIds {
    /// Where each of `ids` was first committed: memory first, then the
    /// column. Callers holding a view must ask in this order: a commit
    /// writes a run to the column before it empties the memory.
    pub(crate) fn lookup_many<K: KvStore>(
        &self,
        kv: &K,
        ids: &[RecordId],
    ) -> Result<Vec<Option<RecordLoc>>> {
        let mut out: Vec<Option<RecordLoc>> = ids.iter().map(|id| self.held(id)).collect();
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
        if let Some(loc) = self.held(id) {
            return Ok(Some(loc));
        }
        kv.get(Column::RecordIds, &id.0.0)?
            .map(|v| RecordLoc::decode(&v))
            .transpose()
    }

    /// `id`'s location if memory holds it (gathering or in the run).
    fn held(&self, id: &RecordId) -> Option<RecordLoc> {
        if let Some(loc) = self.map.get(id) {
            return Some(*loc);
        }
        let run = self.run.as_ref()?;
        let at = chancery_types::sorted_ids::position(&run.entries, id)?;
        Some(run.entries[at].1)
    }

    /// Puts this commit's share of the id writes into `batch`: the next
    /// stretch of the run being written (all of it if the next run is
    /// already due), or, once `id_run` ids have gathered, the first
    /// stretch of a new run. `fresh` are the ids `height` commits for the
    /// first time.
    pub(crate) fn step(
        &self,
        batch: &mut Batch,
        fresh: &[(RecordId, RecordLoc)],
        height: u64,
        id_run: usize,
    ) -> IdStep {
        let due = self.map.len() + fresh.len() >= id_run;
        let stretch = (2 * fresh.len()).max(id_run / MIN_STRETCH_DIVISOR).max(1);
        if let Some(run) = &self.run {
            let to = if due {
                run.entries.len()
            } else {
                (run.written + stretch).min(run.entries.len())
            };
            write_stretch(batch, &run.entries, run.written..to, run.through);
            return IdStep::Continue { to };
        }
        if !due {
            return IdStep::Gather;
        }
        let mut entries: Vec<(RecordId, RecordLoc)> = self
            .map
            .iter()
            .map(|(id, loc)| (*id, *loc))
            .chain(fresh.iter().copied())
            .collect();
        entries.sort_unstable_by_key(|a| a.0);
        let written = stretch.min(entries.len());
        write_stretch(batch, &entries, 0..written, height);
        IdStep::Start {
            entries,
            written,
            through: height,
        }
    }

    /// After a commit is stored: applies its [`IdStep`]. The memory lets go
    /// of a run only once all of it is in the column.
    pub(crate) fn committed(&mut self, fresh: Vec<(RecordId, RecordLoc)>, step: IdStep) {
        match step {
            IdStep::Gather => self.map.extend(fresh),
            IdStep::Start {
                entries,
                written,
                through,
            } => {
                // `fresh` is in the run.
                self.map.clear();
                self.run = (written < entries.len()).then_some(Run {
                    entries,
                    written,
                    through,
                });
            }
            IdStep::Continue { to } => {
                self.map.extend(fresh);
                if let Some(run) = &mut self.run {
                    run.written = to;
                    if to >= run.entries.len() {
                        self.run = None;
                    }
                }
            }
        }
    }
}

/// Puts `stretch` of the run `entries` into `batch`, and the marker
/// `through` if that stretch finishes the run.
fn write_stretch(
    batch: &mut Batch,
    entries: &[(RecordId, RecordLoc)],
    stretch: std::ops::Range<usize>,
    through: u64,
) {
    let finishes = stretch.end == entries.len();
    for (id, loc) in &entries[stretch] {
        batch.put(Column::RecordIds, id.0.0, loc.encode());
    }
    if finishes {
        batch.put(Column::Meta, keys::META_IDS_THROUGH, through.to_be_bytes());
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
        None => {
            return Err(LedgerError::Corrupt {
                what: "ids_through marker",
                detail: "missing".into(),
            });
        }
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
        Column::Records,
        &keys::record_key(first),
        Some(&keys::record_key(log_size)),
        usize::MAX,
    )?;
    let mut entries = Vec::with_capacity(rows.len());
    for (k, v) in &rows {
        let log_index = keys::be_u64(k, 0, "record key")?;
        let (index, entry, _) = keys::decode_record_value(v)?;
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::mem::MemKv;
    use chancery_types::Hash;

    const RUN: usize = 64;
    const PER_BLOCK: usize = 4;

    fn fresh(height: u64) -> Vec<(RecordId, RecordLoc)> {
        (0..PER_BLOCK as u32)
            .map(|index| {
                let id = RecordId(Hash::of_parts(&[
                    &height.to_be_bytes(),
                    &index.to_be_bytes(),
                ]));
                let loc = RecordLoc {
                    height,
                    index,
                    log_index: height * PER_BLOCK as u64 + index as u64,
                    accepted: true,
                };
                (id, loc)
            })
            .collect()
    }

    fn marker(kv: &MemKv) -> Option<u64> {
        kv.get(Column::Meta, keys::META_IDS_THROUGH)
            .unwrap()
            .map(|v| u64::from_be_bytes(v.try_into().unwrap()))
    }

    /// A run is written a stretch per commit (about two ids per new one),
    /// every id stays findable throughout, and the marker moves only with
    /// the run's last stretch, to the height the run was cut at.
    #[test]
    fn runs_are_written_in_stretches_and_ids_stay_findable() {
        let kv = MemKv::new();
        let mut ids = RecentIds::default();
        let mut all = Vec::new();
        let mut cut_at = Vec::new();
        for height in 1..=100u64 {
            let new = fresh(height);
            let mut batch = Batch::new();
            let step = ids.step(&mut batch, &new, height, RUN);
            if matches!(step, IdStep::Start { .. }) {
                cut_at.push(height);
            }
            let id_writes = batch
                .ops()
                .filter(|(col, _, _)| *col == Column::RecordIds)
                .count();
            assert!(
                id_writes <= 2 * PER_BLOCK,
                "height {height} wrote {id_writes} ids at once"
            );
            kv.write(batch).unwrap();
            ids.committed(new.clone(), step);
            all.extend(new);
            for (id, loc) in &all {
                assert_eq!(ids.lookup(&kv, id).unwrap(), Some(*loc), "height {height}");
            }
            let found = ids
                .lookup_many(&kv, &all.iter().map(|(id, _)| *id).collect::<Vec<_>>())
                .unwrap();
            assert!(found.iter().all(Option::is_some), "height {height}");
        }
        // 64 ids gather in 16 blocks; the run then takes 8 more commits.
        assert_eq!(cut_at, vec![16, 32, 48, 64, 80, 96]);
        assert_eq!(marker(&kv), Some(80), "the run cut at 96 is not finished");
        let in_column = kv
            .scan(Column::RecordIds, &[], None, usize::MAX)
            .unwrap()
            .len();
        assert!(in_column > 5 * RUN && in_column < 6 * RUN, "{in_column}");
    }
}
