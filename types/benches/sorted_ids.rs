//! Finding a record id in a 65,536-id sorted slice (the ledger's recent-id
//! run): `sorted_ids::position` against a binary search, for ids that are
//! there and ids that are not.
//!
//! `cargo bench -p chancery-types --bench sorted_ids`
#![allow(missing_docs)] // criterion_group! generates undocumented functions

use chancery_types::{Hash, RecordId, sorted_ids};
use criterion::{Criterion, Throughput, criterion_group, criterion_main};

const RUN: u64 = 65_536;
const LOOKUPS: u64 = 10_000;

fn lookups(c: &mut Criterion) {
    let mut entries: Vec<(RecordId, u64)> = (0..RUN)
        .map(|i| (RecordId(Hash::of(&i.to_be_bytes())), i))
        .collect();
    entries.sort_unstable_by_key(|e| e.0);
    // Half members, half not, in no particular order.
    let probes: Vec<RecordId> = (0..LOOKUPS)
        .map(|i| RecordId(Hash::of(&(i * 13 % (2 * RUN)).to_be_bytes())))
        .collect();
    let mut g = c.benchmark_group("find_id_in_65536");
    g.throughput(Throughput::Elements(LOOKUPS));
    g.bench_function("interpolation", |b| {
        b.iter(|| {
            probes
                .iter()
                .filter(|p| sorted_ids::position(&entries, p).is_some())
                .count()
        })
    });
    g.bench_function("binary_search", |b| {
        b.iter(|| {
            probes
                .iter()
                .filter(|p| entries.binary_search_by(|(k, _)| k.cmp(p)).is_ok())
                .count()
        })
    });
    g.finish();
}

criterion_group!(benches, lookups);
criterion_main!(benches);
