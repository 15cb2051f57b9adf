//! Stores written by earlier versions still open: statuses kept under the
//! state column's `s` keys (before the `statuses` column) load, and the
//! column's newer values win over them.

mod common;

use chancery_ledger::kv::{Column, KvStore};
use chancery_ledger::{Batch, Ledger, NothingVerified, RocksKv};
use chancery_types::Hash;
use common::*;

/// Moves every status from the `statuses` column to the state column's
/// `s` keys, as a store written before session 6 holds them.
fn move_statuses_to_legacy_keys(dir: &std::path::Path) -> usize {
    let kv = RocksKv::open(dir).unwrap();
    let rows = kv.scan(Column::Statuses, &[], None, usize::MAX).unwrap();
    let mut b = Batch::new();
    for (k, v) in &rows {
        let mut legacy = vec![b's'];
        legacy.extend_from_slice(k);
        b.put(Column::State, legacy, v);
        b.delete(Column::Statuses, k);
    }
    kv.write(b).unwrap();
    rows.len()
}

#[test]
fn statuses_under_legacy_keys_load_and_newer_ones_win() {
    let fx = fixture(2);
    let dir = tempfile::tempdir().unwrap();
    let reference = Ledger::in_memory(&fx.genesis).unwrap();
    let feed = |l: &Ledger<RocksKv>, heights: std::ops::RangeInclusive<u64>| {
        for h in heights {
            let (recs, ts) = workload_block(&fx, h, 16);
            let (block, cert) = next_block(&reference, recs.clone(), ts);
            reference.commit(&block, &cert, &NothingVerified).unwrap();
            l.commit(&block, &cert, &NothingVerified).unwrap();
        }
    };
    {
        let l = Ledger::open_rocks(dir.path(), &fx.genesis).unwrap();
        feed(&l, 1..=3);
    }
    let moved = move_statuses_to_legacy_keys(dir.path());
    assert!(moved > 10, "only {moved} statuses written");
    {
        // Opening recomputes the state root from the legacy keys and
        // checks it against the stored summary.
        let l = Ledger::open_rocks(dir.path(), &fx.genesis).unwrap();
        assert_eq!(l.tip().height, 3);
        // Later blocks suspend and reinstate licences issued in blocks
        // 1–3: their new statuses go to the column, the old ones stay.
        feed(&l, 4..=6);
    }
    let l = Ledger::open_rocks(dir.path(), &fx.genesis).unwrap();
    assert_eq!(l.tip().height, 6);
    let stale = l
        .store()
        .scan(Column::State, b"s", Some(b"t"), usize::MAX)
        .unwrap();
    let mut overridden = 0;
    for (k, _) in &stale {
        let key = Hash(k[1..].try_into().unwrap());
        let now = l.status(&key).unwrap();
        assert_eq!(now, reference.status(&key).unwrap(), "status of {key:?}");
        if l.store().get(Column::Statuses, &key.0).unwrap().is_some() {
            overridden += 1;
        }
    }
    assert!(
        overridden > 0,
        "no legacy status was overwritten by a later block"
    );
}
