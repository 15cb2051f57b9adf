//! Stores written by earlier versions still open: statuses kept under the
//! state column's `s` keys (before the `statuses` column) load, and the
//! column's newer values win over them; expiry entries of both layouts are
//! swept; record ids under the index column's `r` keys (before the
//! `record_ids` column) move to their column.

mod common;

use chancery_ledger::kv::{Column, KvStore};
use chancery_ledger::{Batch, Ledger, NothingVerified, RocksKv};
use chancery_types::Hash;
use common::*;

/// Moves every entry of `col` in `[from, to)` to column `dest`, under the
/// key and value `legacy` makes of it: the layout of a store written by an
/// earlier version. Returns how many entries moved.
fn rewrite_to_legacy(
    dir: &std::path::Path,
    (col, dest): (Column, Column),
    (from, to): (&[u8], Option<&[u8]>),
    legacy: impl Fn(&[u8], &[u8]) -> (Vec<u8>, Vec<u8>),
) -> usize {
    let kv = RocksKv::open(dir).unwrap();
    let rows = kv.scan(col, from, to, usize::MAX).unwrap();
    let mut b = Batch::new();
    for (k, v) in &rows {
        let (key, value) = legacy(k, v);
        b.delete(col, k);
        b.put(dest, key, value);
    }
    kv.write(b).unwrap();
    rows.len()
}

/// Moves every status from the `statuses` column to the state column's
/// `s` keys.
fn move_statuses_to_legacy_keys(dir: &std::path::Path) -> usize {
    rewrite_to_legacy(
        dir,
        (Column::Statuses, Column::State),
        (&[], None),
        |k, v| ([b"s".as_slice(), k].concat(), v.to_vec()),
    )
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

/// Rewrites every expiry queue entry as `e ‖ valid_until ‖ state key`
/// with an empty value.
fn move_expiries_to_legacy_keys(dir: &std::path::Path) -> usize {
    rewrite_to_legacy(
        dir,
        (Column::State, Column::State),
        (b"e", Some(b"f")),
        |k, v| {
            assert_eq!((k.len(), v.len()), (21, 32), "a new-layout entry");
            ([&k[..9], v].concat(), Vec::new())
        },
    )
}

#[test]
fn expiry_entries_of_both_layouts_are_swept() {
    let fx = fixture(2);
    let dir = tempfile::tempdir().unwrap();
    let reference = Ledger::in_memory(&fx.genesis).unwrap();
    let feed = |l: &Ledger<RocksKv>, h: u64, recs: Vec<_>, ts: u64| {
        let (block, cert) = next_block(&reference, recs, ts);
        reference.commit(&block, &cert, &NothingVerified).unwrap();
        l.commit(&block, &cert, &NothingVerified).unwrap();
        assert_eq!(l.tip().height, h);
    };
    {
        let l = Ledger::open_rocks(dir.path(), &fx.genesis).unwrap();
        for h in 1..=2 {
            let (recs, ts) = workload_block(&fx, h, 16);
            feed(&l, h, recs, ts);
        }
    }
    let legacy = move_expiries_to_legacy_keys(dir.path());
    assert!(legacy > 4, "only {legacy} expiry entries");
    let l = Ledger::open_rocks(dir.path(), &fx.genesis).unwrap();
    // Block 3 adds new-layout entries next to the legacy ones.
    let (recs, ts) = workload_block(&fx, 3, 16);
    feed(&l, 3, recs, ts);
    let queued = |l: &Ledger<RocksKv>| {
        l.store()
            .scan(Column::State, b"e", Some(b"f"), usize::MAX)
            .unwrap()
    };
    let before = queued(&l);
    assert!(before.iter().any(|(k, _)| k.len() == 41));
    assert!(before.iter().any(|(k, _)| k.len() == 21));
    // Empty blocks far enough ahead that every licence has expired.
    for h in 4..=6 {
        feed(&l, h, Vec::new(), T0 + 200_000 + h * 1000);
    }
    assert!(queued(&l).is_empty(), "entries left: {:?}", queued(&l));
    let mut expired = 0;
    for (k, v) in &before {
        let key = if k.len() == 41 {
            Hash(k[9..].try_into().unwrap())
        } else {
            Hash(v[..].try_into().unwrap())
        };
        let status = l.status(&key).unwrap();
        assert_eq!(status, reference.status(&key).unwrap(), "status of {key:?}");
        if format!("{status:?}").contains("Expired") {
            expired += 1;
        }
    }
    assert!(expired > 4, "only {expired} statuses expired");
    assert_eq!(
        l.exec_summary(6).unwrap(),
        reference.exec_summary(6).unwrap()
    );
}

/// Moves every record id from its column to the index column's `r` keys
/// and removes the `ids_through` marker: a store written before session 7.
fn move_record_ids_to_legacy_keys(dir: &std::path::Path) -> usize {
    let moved = rewrite_to_legacy(
        dir,
        (Column::RecordIds, Column::Index),
        (&[], None),
        |k, v| ([b"r".as_slice(), k].concat(), v.to_vec()),
    );
    let kv = RocksKv::open(dir).unwrap();
    let mut b = Batch::new();
    b.delete(Column::Meta, b"ids_through");
    kv.write(b).unwrap();
    moved
}

#[test]
fn record_ids_under_legacy_keys_move_to_their_column() {
    let fx = fixture(2);
    let dir = tempfile::tempdir().unwrap();
    let reference = Ledger::in_memory(&fx.genesis).unwrap();
    let mut all = Vec::new();
    let feed = |l: &Ledger<RocksKv>, h: u64, all: &mut Vec<_>| {
        let (mut recs, ts) = workload_block(&fx, h, 16);
        if let Some(old) = all.first().cloned() {
            recs.push(old);
        }
        let (block, cert) = next_block(&reference, recs.clone(), ts);
        let want = reference.commit(&block, &cert, &NothingVerified).unwrap();
        let got = l.commit(&block, &cert, &NothingVerified).unwrap();
        assert_eq!(got.results, want.results, "results at height {h}");
        all.extend(recs);
    };
    {
        // Runs of one id: every id goes to the column at its block.
        let l = Ledger::open_rocks(dir.path(), &fx.genesis)
            .unwrap()
            .with_id_run(1);
        for h in 1..=3 {
            feed(&l, h, &mut all);
        }
    }
    let moved = move_record_ids_to_legacy_keys(dir.path());
    assert_eq!(moved, 48, "each fresh id of three 16-record blocks");
    let l = Ledger::open_rocks(dir.path(), &fx.genesis).unwrap();
    let kv = l.store();
    assert!(
        kv.scan(Column::Index, b"r", Some(b"s"), 1)
            .unwrap()
            .is_empty()
    );
    assert_eq!(
        kv.scan(Column::RecordIds, &[], None, usize::MAX)
            .unwrap()
            .len(),
        moved
    );
    assert_eq!(
        kv.get(Column::Meta, b"ids_through").unwrap(),
        Some(3u64.to_be_bytes().to_vec())
    );
    for r in &all {
        let id = r.id();
        assert_eq!(l.record(&id).unwrap(), reference.record(&id).unwrap());
    }
    // The moved ids still catch repeats.
    feed(&l, 4, &mut all);
    assert_eq!(
        reference.results(4).unwrap().last(),
        Some(&chancery_types::ExecResult::Rejected(
            chancery_types::RejectCode::Duplicate
        ))
    );
}
