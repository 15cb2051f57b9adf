//! Ledger benchmarks: commit throughput (1,000-record blocks, one synced
//! RocksDB batch per block), the store's share of it (the synced write of
//! each commit's batch alone), inclusion-proof generation and
//! verification, and state-tree update cost per record.
//!
//! `cargo bench -p chancery-ledger`. Signatures are marked as verified at
//! admission, and the record ids are passed in as a validator passes them
//! (it computed them while checking the proposal, `commit_with_ids`), so
//! the commit figures are for the store and execution alone.

#![allow(missing_docs)] // criterion_group! generates undocumented functions

#[path = "../tests/common/mod.rs"]
mod common;

use std::collections::HashSet;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use chancery_ledger::kv::{Batch, Column};
use chancery_ledger::smt::StateTrees;
use chancery_ledger::{KvStore, Ledger, MemKv, RocksKv};
use chancery_types::log_proof::{LogHead, RootedIds, entry_hash};
use chancery_types::{Hash, RecordId};
use common::*;
use criterion::{BatchSize, Criterion, Throughput, criterion_group, criterion_main};
use rand::{Rng, SeedableRng};

const BLOCK: usize = 1000;
const SMALL_BLOCK: usize = 200;

/// Commits one block of `size` fresh licences; the time spent in `commit`.
fn commit_fresh<K: KvStore>(l: &Ledger<K>, size: usize) -> Duration {
    let (block, cert, ids) = fresh_licence_block(l, size);
    let verified: HashSet<RecordId> = ids.iter().copied().collect();
    // As a validator has them: ids and records root computed while
    // checking the proposal, before it is certified.
    let ids = RootedIds::new(ids);
    let start = Instant::now();
    l.commit_with_ids(&block, &cert, &verified, ids).unwrap();
    start.elapsed()
}

/// Commits `n` blocks of `size` records; the time spent in `commit`.
fn commit_n<K: KvStore>(l: &Ledger<K>, n: u64, size: usize) -> Duration {
    (0..n).map(|_| commit_fresh(l, size)).sum()
}

fn commit_throughput(c: &mut Criterion) {
    let fx = fixture(4);
    let mut g = c.benchmark_group("commit");
    g.throughput(Throughput::Elements(BLOCK as u64));
    // Every committed licence stays in the in-memory state tree; keep the
    // run short enough that the tree stays well under a gigabyte.
    g.sample_size(10);
    g.warm_up_time(Duration::from_secs(1));
    g.measurement_time(Duration::from_secs(6));
    let dir = tempfile::tempdir().unwrap();
    let rocks = Ledger::open_rocks(dir.path(), &fx.genesis).unwrap();
    g.bench_function("rocksdb_1000_records_synced", |b| {
        b.iter_custom(|iters| commit_n(&rocks, iters, BLOCK))
    });
    let mem = Ledger::in_memory(&fx.genesis).unwrap();
    g.bench_function("memory_1000_records", |b| {
        b.iter_custom(|iters| commit_n(&mem, iters, BLOCK))
    });
    // Smaller blocks, as a validator cuts them at 10,000 records/s: with
    // the figure above this splits the cost into per-block and per-record.
    g.throughput(Throughput::Elements(SMALL_BLOCK as u64));
    g.bench_function("rocksdb_200_records_synced", |b| {
        b.iter_custom(|iters| commit_n(&rocks, iters, SMALL_BLOCK))
    });
    g.finish();
}

/// A store that keeps a copy of every batch written to it, so that a
/// ledger's commits can be replayed into another store.
struct Recording {
    inner: MemKv,
    written: Arc<Mutex<Vec<Batch>>>,
}

impl KvStore for Recording {
    fn get(&self, col: Column, key: &[u8]) -> chancery_ledger::Result<Option<Vec<u8>>> {
        self.inner.get(col, key)
    }
    fn write(&self, batch: Batch) -> chancery_ledger::Result<()> {
        self.written.lock().unwrap().push(batch.clone());
        self.inner.write(batch)
    }
    fn scan(
        &self,
        col: Column,
        from: &[u8],
        to: Option<&[u8]>,
        limit: usize,
    ) -> chancery_ledger::Result<Vec<(Vec<u8>, Vec<u8>)>> {
        self.inner.scan(col, from, to, limit)
    }
}

/// The store alone: a ledger on an in-memory store commits each block
/// (not timed), and the batch that commit wrote is then written, synced,
/// to a RocksDB store that has received every earlier batch (timed).
fn store_write(c: &mut Criterion) {
    let fx = fixture(4);
    let mut g = c.benchmark_group("store");
    g.throughput(Throughput::Elements(BLOCK as u64));
    g.sample_size(10);
    g.warm_up_time(Duration::from_secs(1));
    g.measurement_time(Duration::from_secs(6));
    let written = Arc::new(Mutex::new(Vec::new()));
    let source = Ledger::open(
        Recording {
            inner: MemKv::new(),
            written: written.clone(),
        },
        &fx.genesis,
    )
    .unwrap();
    let take = || std::mem::take(&mut *written.lock().unwrap());
    let dir = tempfile::tempdir().unwrap();
    let rocks = RocksKv::open(dir.path()).unwrap();
    let replay = |rocks: &RocksKv, batches: Vec<Batch>| -> Duration {
        let start = Instant::now();
        for b in batches {
            rocks.write(b).unwrap();
        }
        start.elapsed()
    };
    replay(&rocks, take());
    g.bench_function("rocksdb_write_1000_record_commits_synced", |b| {
        b.iter_custom(|iters| {
            let mut total = Duration::ZERO;
            for _ in 0..iters {
                commit_fresh(&source, BLOCK);
                total += replay(&rocks, take());
            }
            total
        })
    });
    g.finish();
}

fn proofs(c: &mut Criterion) {
    let fx = fixture(4);
    let dir = tempfile::tempdir().unwrap();
    let l = Ledger::open_rocks(dir.path(), &fx.genesis).unwrap();
    // 200 blocks × 1,000 = 200,000 log entries.
    commit_n(&l, 200, BLOCK);
    let size = l.log_size();
    let head = l.log_head(size).unwrap();
    let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(7);
    let mut g = c.benchmark_group("inclusion_proof");
    g.bench_function(format!("generate_rocksdb_log_{size}"), |b| {
        b.iter_batched(
            || rng.gen_range(0..size),
            |i| l.inclusion_proof(i, size).unwrap(),
            BatchSize::SmallInput,
        )
    });
    let cases: Vec<_> = (0..256)
        .map(|_| {
            let i = rng.gen_range(0..size);
            let e = l.log_entry(i).unwrap().unwrap();
            (entry_hash(&e), l.inclusion_proof(i, size).unwrap())
        })
        .collect();
    let mut k = 0;
    g.bench_function(format!("verify_log_{size}"), |b| {
        b.iter(|| {
            k = (k + 1) % cases.len();
            let (leaf, p) = &cases[k];
            p.verify(leaf, &head).unwrap()
        })
    });
    g.bench_function("record_proof_with_entry", |b| {
        let ids: Vec<RecordId> = (0..64)
            .map(|_| l.log_entry(rng.gen_range(0..size)).unwrap().unwrap().record)
            .collect();
        let mut j = 0;
        b.iter(|| {
            j = (j + 1) % ids.len();
            l.record_proof(&ids[j], size).unwrap().unwrap()
        })
    });
    let _ = LogHead {
        size: 0,
        root: Hash::ZERO,
    };
    g.finish();
}

fn state_tree(c: &mut Criterion) {
    let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(9);
    let mut g = c.benchmark_group("state_tree");
    g.throughput(Throughput::Elements(BLOCK as u64));
    let value: Arc<[u8]> = Arc::from(vec![7u8; 150]);
    for existing in [10_000u64, 1_000_000] {
        let keys: Vec<Hash> = (0..existing).map(|_| Hash(rng.r#gen())).collect();
        // As the ledger keeps them: the last few versions, the oldest
        // dropped (and its slots reused) as each new one is applied.
        let mut trees =
            StateTrees::from_entries(0, 10, keys.iter().map(|k| (*k, value.clone())).collect())
                .unwrap();
        // 1,000 new keys, planned (hashed, slots chosen) but not applied,
        // so the tree stays at its size.
        g.bench_function(format!("plan_1000_new_into_{existing}"), |b| {
            b.iter_batched(
                || {
                    (0..BLOCK)
                        .map(|_| (Hash(rng.r#gen()), value.clone()))
                        .collect::<Vec<_>>()
                },
                |batch| trees.plan(batch).unwrap(),
                BatchSize::SmallInput,
            )
        });
        // 1,000 existing keys changed, planned and applied: the steady
        // state of a ledger, with a version dropped at each step.
        let mut height = 0;
        g.bench_function(format!("apply_1000_changes_into_{existing}"), |b| {
            b.iter_batched(
                || {
                    let v: Arc<[u8]> = Arc::from(rng.r#gen::<[u8; 32]>().to_vec());
                    (0..BLOCK)
                        .map(|_| (keys[rng.gen_range(0..keys.len())], v.clone()))
                        .collect::<Vec<_>>()
                },
                |batch| {
                    height += 1;
                    trees.insert(height, batch).unwrap()
                },
                BatchSize::SmallInput,
            )
        });
    }
    g.finish();
}

criterion_group!(benches, commit_throughput, store_write, proofs, state_tree);
criterion_main!(benches);
