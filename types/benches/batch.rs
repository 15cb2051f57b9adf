//! Batch signature verification: 1,000 signatures by 4 issuer keys (a
//! block's usual shape: each key's terms merge into one) against 1,000
//! signatures by 1,000 keys (nothing to merge).
//!
//! `cargo bench -p chancery-types --bench batch`
#![allow(missing_docs)] // criterion_group! generates undocumented functions

use chancery_types::crypto::batch::{BatchItem, verify_batch};
use chancery_types::crypto::signature::signing_bytes;
use chancery_types::{Domain, Hash, SecretKey};
use criterion::{Criterion, Throughput, criterion_group, criterion_main};

fn batch(c: &mut Criterion) {
    let mut g = c.benchmark_group("verify_batch");
    g.throughput(Throughput::Elements(1_000));
    for keys in [4usize, 1_000] {
        let secrets: Vec<SecretKey> = (0..keys)
            .map(|i| {
                SecretKey::from_seed(&[
                    (i % 251) as u8 + 1,
                    (i / 251) as u8,
                    7,
                    7,
                    7,
                    7,
                    7,
                    7,
                    7,
                    7,
                    7,
                    7,
                    7,
                    7,
                    7,
                    7,
                    7,
                    7,
                    7,
                    7,
                    7,
                    7,
                    7,
                    7,
                    7,
                    7,
                    7,
                    7,
                    7,
                    7,
                    7,
                    7,
                ])
            })
            .collect();
        let publics: Vec<_> = secrets.iter().map(|k| k.public()).collect();
        let msgs: Vec<Vec<u8>> = (0..1_000)
            .map(|i| {
                signing_bytes(
                    Domain::Record,
                    &Hash::ZERO,
                    format!("record {i}").as_bytes(),
                )
            })
            .collect();
        let sigs: Vec<_> = (0..1_000)
            .map(|i| {
                secrets[i % keys].sign(
                    Domain::Record,
                    &Hash::ZERO,
                    format!("record {i}").as_bytes(),
                )
            })
            .collect();
        let items: Vec<BatchItem<'_>> = (0..1_000)
            .map(|i| BatchItem {
                key: &publics[i % keys],
                message: &msgs[i],
                signature: &sigs[i],
            })
            .collect();
        g.bench_function(format!("1000_signatures_{keys}_keys"), |b| {
            b.iter(|| {
                let r = verify_batch(&items);
                assert!(r.iter().all(Result::is_ok));
            })
        });
        // The same 1,000 in batches of 50, as the load generator's
        // SubmitRecords calls (and the gossip frames they become) arrive.
        g.bench_function(
            format!("1000_signatures_{keys}_keys_in_batches_of_50"),
            |b| {
                b.iter(|| {
                    for chunk in items.chunks(50) {
                        let r = verify_batch(chunk);
                        assert!(r.iter().all(Result::is_ok));
                    }
                })
            },
        );
    }
    g.finish();
}

criterion_group!(benches, batch);
criterion_main!(benches);
