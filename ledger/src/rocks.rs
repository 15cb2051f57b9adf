//! The RocksDB store: one column family per [`Column`], every batch written
//! with `sync = true` (the WAL is fsynced before `write` returns).

use std::path::{Path, PathBuf};

use rocksdb::{
    BlockBasedOptions, ColumnFamilyDescriptor, DB, DBCompressionType, Direction, ErrorKind,
    IteratorMode, MemtableFactory, Options, ReadOptions, WriteBatch, WriteOptions,
};

use crate::error::{LedgerError, Result};
use crate::kv::{Batch, Column, KvStore};

/// A [`KvStore`] on RocksDB.
pub struct RocksKv {
    db: DB,
    path: PathBuf,
}

impl std::fmt::Debug for RocksKv {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RocksKv").field("path", &self.path).finish()
    }
}

fn cf_options(col: Column) -> Options {
    let mut o = Options::default();
    o.set_compression_type(DBCompressionType::Lz4);
    if matches!(col, Column::State | Column::Index | Column::RecordIds) {
        let mut t = BlockBasedOptions::default();
        t.set_bloom_filter(10.0, false);
        o.set_block_based_table_factory(&t);
    }
    if col == Column::RecordIds {
        // Most point reads here ask for a key that is absent (is this record
        // id new?); a memtable bloom filter answers those without a skip-list
        // search. The other columns' point reads (log entries, summaries,
        // rules) find their key, so a filter there would only cost each
        // insert.
        o.set_memtable_whole_key_filtering(true);
        o.set_memtable_prefix_bloom_ratio(0.05);
    }
    if col == Column::Statuses {
        // Never point-read, only scanned on open: an append-only memtable,
        // sorted once when flushed, instead of a skip-list search per key.
        o.set_memtable_factory(MemtableFactory::Vector);
    }
    o
}

impl RocksKv {
    /// Opens the store at `path`, creating it (and any missing column
    /// family) if needed. A store locked by another process gives
    /// [`LedgerError::Locked`]; damaged files give [`LedgerError::Corrupt`].
    pub fn open(path: impl AsRef<Path>) -> Result<Self> {
        let path = path.as_ref().to_path_buf();
        let mut opts = Options::default();
        opts.create_if_missing(true);
        opts.create_missing_column_families(true);
        opts.set_paranoid_checks(true);
        opts.set_compression_type(DBCompressionType::Lz4);
        opts.set_write_buffer_size(64 << 20);
        // The vector memtable (statuses) takes one writer at a time; the
        // ledger has one anyway (commits are serialised).
        opts.set_allow_concurrent_memtable_write(false);
        // Flushes and compactions write their files out a megabyte at a
        // time instead of all at their end: otherwise each commit's WAL
        // sync queued behind tens of megabytes of table data on the device.
        // Their bandwidth is auto-tuned between 16 and 320 MiB/s (RocksDB
        // tunes within a twentieth of the ceiling and the ceiling): a node
        // sits at the floor, which keeps WAL syncs quick (D32), and a
        // sustained burst gets flushes that keep up. With a 64 MiB/s
        // ceiling the floor was 3.2 MiB/s, and a long run of large blocks
        // stopped on full memtables for a minute while it tuned up (D38).
        opts.set_bytes_per_sync(1 << 20);
        opts.set_auto_tuned_ratelimiter(320 << 20, 10_000, 10);
        let cfs = Column::ALL
            .iter()
            .map(|c| ColumnFamilyDescriptor::new(c.name(), cf_options(*c)));
        let db = DB::open_cf_descriptors(&opts, &path, cfs).map_err(|e| open_error(&path, e))?;
        Ok(RocksKv { db, path })
    }

    /// The store's directory.
    pub fn path(&self) -> &Path {
        &self.path
    }

    fn cf(&self, col: Column) -> Result<&rocksdb::ColumnFamily> {
        self.db
            .cf_handle(col.name())
            .ok_or_else(|| LedgerError::Corrupt {
                what: "column families",
                detail: format!("column family `{}` is missing", col.name()),
            })
    }
}

fn open_error(path: &Path, e: rocksdb::Error) -> LedgerError {
    let detail = e.to_string();
    match e.kind() {
        ErrorKind::Corruption => LedgerError::Corrupt {
            what: "store files",
            detail,
        },
        ErrorKind::IOError if detail.to_ascii_lowercase().contains("lock") => LedgerError::Locked {
            path: path.to_path_buf(),
            detail,
        },
        _ => LedgerError::Storage { op: "open", detail },
    }
}

fn storage(op: &'static str) -> impl FnOnce(rocksdb::Error) -> LedgerError {
    move |e| match e.kind() {
        ErrorKind::Corruption => LedgerError::Corrupt {
            what: op,
            detail: e.to_string(),
        },
        _ => LedgerError::Storage {
            op,
            detail: e.to_string(),
        },
    }
}

impl KvStore for RocksKv {
    fn get(&self, col: Column, key: &[u8]) -> Result<Option<Vec<u8>>> {
        let cf = self.cf(col)?;
        self.db.get_cf(cf, key).map_err(storage("get"))
    }

    fn multi_get(&self, col: Column, keys: &[Vec<u8>]) -> Result<Vec<Option<Vec<u8>>>> {
        let cf = self.cf(col)?;
        // RocksDB sorts unsorted keys itself, through its comparator's
        // virtual calls: over half of a 1,000-id lookup (docs/PERFORMANCE.md,
        // session 19). Sorted here with plain byte comparisons (the column's
        // order), asked for in that order, and put back in the caller's.
        let mut order: Vec<usize> = (0..keys.len()).collect();
        order.sort_unstable_by(|&a, &b| keys[a].cmp(&keys[b]));
        let sorted: Vec<&[u8]> = order.iter().map(|&i| keys[i].as_slice()).collect();
        let mut out: Vec<Option<Vec<u8>>> = vec![None; keys.len()];
        for (&i, r) in order
            .iter()
            .zip(self.db.batched_multi_get_cf(cf, &sorted, true))
        {
            out[i] = r.map_err(storage("multi_get"))?.map(|v| v.to_vec());
        }
        Ok(out)
    }

    fn write(&self, batch: Batch) -> Result<()> {
        let mut cfs = Vec::with_capacity(Column::ALL.len());
        for col in Column::ALL {
            cfs.push(self.cf(col)?);
        }
        // Each column's memtable is a skip list; inserting its keys in
        // ascending order lets every insert start from the previous one's
        // position instead of searching from the top.
        // Sized up front: RocksDB's batch is one growing string, and each
        // regrowth copies it into freshly faulted pages. Each op adds a tag,
        // a column id and two lengths (at most 16 bytes) to its key and value.
        let mut wb = WriteBatch::with_capacity_bytes(12 + batch.byte_len() + 16 * batch.len());
        for (col, key, value) in batch.sorted_ops() {
            let cf = cfs[col.index()];
            match value {
                Some(v) => wb.put_cf(cf, key, v),
                None => wb.delete_cf(cf, key),
            }
        }
        let mut wo = WriteOptions::default();
        wo.set_sync(true);
        self.db.write_opt(wb, &wo).map_err(storage("write"))
    }

    fn scan(
        &self,
        col: Column,
        from: &[u8],
        to: Option<&[u8]>,
        limit: usize,
    ) -> Result<Vec<(Vec<u8>, Vec<u8>)>> {
        if to.is_some_and(|t| t <= from) || limit == 0 {
            return Ok(Vec::new());
        }
        let cf = self.cf(col)?;
        let mut ro = ReadOptions::default();
        if let Some(t) = to {
            ro.set_iterate_upper_bound(t.to_vec());
        }
        let mut out = Vec::new();
        for item in self
            .db
            .iterator_cf_opt(cf, ro, IteratorMode::From(from, Direction::Forward))
        {
            let (k, v) = item.map_err(storage("scan"))?;
            out.push((k.into_vec(), v.into_vec()));
            if out.len() >= limit {
                break;
            }
        }
        Ok(out)
    }
}
