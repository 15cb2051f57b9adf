//! One suite, two stores: every test here runs on the in-memory store and
//! on RocksDB (`mem::…` and `rocks::…`).

mod common;

use chancery_ledger::kv::{Batch, Column, KvStore};
use chancery_ledger::{Cursor, Filter, Ledger, LedgerError, MemKv, NothingVerified, RocksKv};
use chancery_types::log_proof::{LogHead, RootedIds, entry_hash, root_of_leaf_hashes};
use chancery_types::state_proof::{Status, licence_key};
use chancery_types::{Canonical, ExecResult, Hash, RecordId, RecordKind, RejectCode, SignedRecord};
use common::*;

/// A store that can be reopened.
trait Backend: Sized {
    type K: KvStore;
    fn fresh() -> Self;
    /// Opens the store (for RocksDB, the previous handle must be dropped).
    fn open(&self) -> Self::K;
}

struct Mem(MemKv);
impl Backend for Mem {
    type K = MemKv;
    fn fresh() -> Self {
        Mem(MemKv::new())
    }
    fn open(&self) -> MemKv {
        self.0.clone()
    }
}

struct Rocks(tempfile::TempDir);
impl Backend for Rocks {
    type K = RocksKv;
    fn fresh() -> Self {
        Rocks(tempfile::tempdir().unwrap())
    }
    fn open(&self) -> RocksKv {
        RocksKv::open(self.0.path().join("db")).unwrap()
    }
}

fn kv_contract<B: Backend>() {
    let b = B::fresh();
    let kv = b.open();
    assert_eq!(kv.get(Column::State, b"a").unwrap(), None);
    let mut w = Batch::new();
    w.put(Column::State, b"b", b"2");
    w.put(Column::State, b"a", b"1");
    w.put(Column::State, b"c", b"3");
    w.put(Column::Index, b"a", b"other column");
    w.put(Column::State, b"d", b"x");
    w.delete(Column::State, b"d");
    w.put(Column::State, b"c", b"3b");
    kv.write(w).unwrap();
    assert_eq!(kv.get(Column::State, b"a").unwrap(), Some(b"1".to_vec()));
    assert_eq!(kv.get(Column::State, b"c").unwrap(), Some(b"3b".to_vec()));
    assert_eq!(kv.get(Column::State, b"d").unwrap(), None);
    assert_eq!(
        kv.get(Column::Index, b"a").unwrap(),
        Some(b"other column".to_vec())
    );
    let all = kv.scan(Column::State, b"", None, 100).unwrap();
    let keys: Vec<&[u8]> = all.iter().map(|(k, _)| k.as_slice()).collect();
    assert_eq!(keys, vec![&b"a"[..], b"b", b"c"]);
    let mid = kv.scan(Column::State, b"a\0", Some(b"c"), 100).unwrap();
    assert_eq!(mid.len(), 1);
    assert_eq!(mid[0].0, b"b");
    assert_eq!(kv.scan(Column::State, b"a", None, 2).unwrap().len(), 2);
    // Many at once: answers in the order asked, whatever that order,
    // repeats and absent keys included (RocksKv sorts them for RocksDB).
    let asked: Vec<Vec<u8>> = [&b"c"[..], b"zz", b"a", b"", b"c", b"ab", b"b", b"d"]
        .iter()
        .map(|k| k.to_vec())
        .collect();
    let got = kv.multi_get(Column::State, &asked).unwrap();
    let one_by_one: Vec<Option<Vec<u8>>> = asked
        .iter()
        .map(|k| kv.get(Column::State, k).unwrap())
        .collect();
    assert_eq!(got, one_by_one);
    assert_eq!(got[0], Some(b"3b".to_vec()));
    assert_eq!(got[2], Some(b"1".to_vec()));
    assert_eq!(got[1], None);
    assert!(kv.multi_get(Column::State, &[]).unwrap().is_empty());
    assert!(
        kv.scan(Column::State, b"c", Some(b"a"), 10)
            .unwrap()
            .is_empty()
    );
    drop(kv);
    // Durable across reopen.
    let kv = b.open();
    assert_eq!(kv.get(Column::State, b"b").unwrap(), Some(b"2".to_vec()));
}

fn commit_reopen_continue<B: Backend>() {
    let fx = fixture(2);
    let b = B::fresh();
    let mut blocks = Vec::new();
    {
        let l = Ledger::open(b.open(), &fx.genesis).unwrap();
        assert_eq!(l.tip().height, 0);
        let s0 = l.exec_summary(0).unwrap().unwrap();
        assert_eq!(s0.log_size, 0);
        assert_eq!(s0.state_root, Hash::ZERO);
        for h in 1..=4 {
            let (recs, ts) = workload_block(&fx, h, 16);
            let c = commit(&l, recs, ts);
            assert_eq!(c.height, h);
            blocks.push(l.block(h).unwrap().unwrap());
        }
    }
    let l = Ledger::open(b.open(), &fx.genesis).unwrap();
    assert_eq!(l.tip().height, 4);
    for (i, blk) in blocks.iter().enumerate() {
        let h = i as u64 + 1;
        assert_eq!(
            l.block(h).unwrap().unwrap().to_canonical(),
            blk.to_canonical()
        );
        assert_eq!(blk.results.len(), blk.records.len());
        let cert = l.certificate(h).unwrap().unwrap();
        assert_eq!(cert.vote.block_hash, blk.header.hash());
    }
    let (recs, ts) = workload_block(&fx, 5, 16);
    commit(&l, recs, ts);
    assert_eq!(l.tip().height, 5);
    assert_eq!(l.log_size(), 5 * 16);
}

fn refuses_bad_blocks<B: Backend>() {
    let fx = fixture(1);
    let b = B::fresh();
    let l = Ledger::open(b.open(), &fx.genesis).unwrap();
    let (recs, ts) = workload_block(&fx, 1, 8);
    commit(&l, recs, ts);
    let (recs, ts) = workload_block(&fx, 2, 8);
    let (good, cert) = next_block(&l, recs, ts);
    let sigs = chancery_ledger::NothingVerified;
    let try_with = |f: &dyn Fn(&mut chancery_types::Block)| {
        let mut blk = good.clone();
        f(&mut blk);
        let mut c = cert.clone();
        c.vote.block_hash = blk.header.hash();
        c.vote.height = blk.header.height;
        l.commit(&blk, &c, &sigs).unwrap_err()
    };
    assert!(matches!(
        try_with(&|b| b.header.height = 3),
        LedgerError::WrongHeight {
            expected: 2,
            got: 3
        }
    ));
    assert!(matches!(
        try_with(&|b| b.header.parent = Hash([1; 32])),
        LedgerError::WrongParent { .. }
    ));
    assert!(matches!(
        try_with(&|b| b.header.chain_id = chancery_types::ChainId(Hash([2; 32]))),
        LedgerError::BlockChain { .. }
    ));
    assert!(matches!(
        try_with(&|b| b.header.log_root = Hash([3; 32])),
        LedgerError::ExecMismatch {
            field: "log_root",
            ..
        }
    ));
    assert!(matches!(
        try_with(&|b| b.header.log_size += 1),
        LedgerError::ExecMismatch {
            field: "log_size",
            ..
        }
    ));
    assert!(matches!(
        try_with(&|b| b.header.state_root = Hash([4; 32])),
        LedgerError::ExecMismatch {
            field: "state_root",
            ..
        }
    ));
    assert!(matches!(
        try_with(&|b| b.header.exec_height = 0),
        LedgerError::WrongExecHeight {
            expected: 1,
            got: 0,
            ..
        }
    ));
    assert!(matches!(
        try_with(&|b| b.header.timestamp = chancery_types::Timestamp(T0)),
        LedgerError::TimestampRegressed { .. }
    ));
    assert!(matches!(
        try_with(&|b| b.header.record_count += 1),
        LedgerError::PayloadMismatch {
            field: "record_count",
            ..
        }
    ));
    assert!(matches!(
        try_with(&|b| b.header.records_root = Hash([5; 32])),
        LedgerError::PayloadMismatch {
            field: "records_root",
            ..
        }
    ));
    let mut wrong_cert = cert.clone();
    wrong_cert.vote.block_hash = Hash([6; 32]);
    assert!(matches!(
        l.commit(&good, &wrong_cert, &sigs).unwrap_err(),
        LedgerError::CertificateMismatch { .. }
    ));
    // Ids from the caller that are not the block's: one swapped, one
    // missing, two in the wrong order.
    let ids: Vec<RecordId> = good.records.iter().map(|r| r.id()).collect();
    let mut swapped = ids.clone();
    swapped[3] = RecordId(Hash([7; 32]));
    let mut reordered = ids.clone();
    reordered.swap(0, 1);
    for (wrong, field) in [
        (swapped, "records_root"),
        (ids[1..].to_vec(), "record_count"),
        (reordered, "records_root"),
    ] {
        let err = l
            .commit_with_ids(&good, &cert, &sigs, RootedIds::new(wrong))
            .unwrap_err();
        assert!(
            matches!(err, LedgerError::PayloadMismatch { field: f, .. } if f == field),
            "{err}"
        );
    }
    // Nothing was written: the good block still commits, with its own ids
    // as it would without them.
    assert_eq!(l.tip().height, 1);
    assert_eq!(l.log_size(), 8);
    let with_ids = l
        .commit_with_ids(&good, &cert, &sigs, RootedIds::new(ids))
        .unwrap();
    assert_eq!(l.tip().height, 2);
    let other = B::fresh();
    let m = Ledger::open(other.open(), &fx.genesis).unwrap();
    let first = l.block(1).unwrap().unwrap();
    m.commit(&first, &l.certificate(1).unwrap().unwrap(), &sigs)
        .unwrap();
    let plain = m.commit(&good, &cert, &sigs).unwrap();
    assert_eq!(with_ids.ids, plain.ids);
    assert_eq!(with_ids.results, plain.results);
    assert_eq!(with_ids.summary, plain.summary);
}

fn refuses_other_chain<B: Backend>() {
    let b = B::fresh();
    drop(Ledger::open(b.open(), &fixture(2).genesis).unwrap());
    let other = fixture(3).genesis;
    match Ledger::open(b.open(), &other) {
        Err(LedgerError::WrongChain { expected, .. }) => assert_eq!(expected, other.chain_id()),
        other => panic!("expected WrongChain, got {other:?}"),
    }
}

/// A store made before the state tree's hash and the records layout
/// changed (D35, D36) has no format marker; it is refused with an error
/// that says so, not opened to fail on its first root. Stores of this
/// build reopen.
fn refuses_old_format<B: Backend>() {
    let b = B::fresh();
    let fx = fixture(2);
    drop(Ledger::open(b.open(), &fx.genesis).unwrap());
    drop(Ledger::open(b.open(), &fx.genesis).unwrap());
    let kv = b.open();
    let mut batch = Batch::new();
    batch.delete(Column::Meta, b"format");
    kv.write(batch).unwrap();
    drop(kv);
    match Ledger::open(b.open(), &fx.genesis) {
        Err(e @ LedgerError::UnsupportedFormat { .. }) => {
            let text = e.to_string();
            assert!(
                text.contains("format 1") && text.contains("format 2"),
                "{text}"
            );
        }
        other => panic!("expected UnsupportedFormat, got {other:?}"),
    }
}

fn proofs_against_certified_headers<B: Backend>() {
    let lag = 2;
    let fx = fixture(lag);
    let b = B::fresh();
    let l = Ledger::open(b.open(), &fx.genesis).unwrap();
    for h in 1..=8 {
        let (recs, ts) = workload_block(&fx, h, 24);
        commit(&l, recs, ts);
    }
    // Header 8 certifies the execution of block 6.
    let h8 = l.header(8).unwrap().unwrap();
    assert_eq!(h8.exec_height, 6);
    let head = LogHead {
        size: h8.log_size,
        root: h8.log_root,
    };
    assert_eq!(l.log_head(h8.log_size).unwrap(), head);
    let block3 = l.block(3).unwrap().unwrap();
    for rec in block3.records.iter() {
        let id = rec.id();
        let rp = l.record_proof(&id, head.size).unwrap().unwrap();
        assert_eq!(rp.entry.record, id);
        assert_eq!(rp.entry.height, 3);
        rp.proof.verify(&entry_hash(&rp.entry), &head).unwrap();
        let view = l.record(&id).unwrap().unwrap();
        assert_eq!(view.record, *rec);
        assert_eq!(view.result, rp.entry.result);
    }
    // Block 7's records are not in the log of header 8.
    let id7 = l.block(7).unwrap().unwrap().records[0].id();
    assert!(l.record_proof(&id7, head.size).unwrap().is_none());
    // Consistency between two certified heads.
    let h5 = l.header(5).unwrap().unwrap();
    let old = LogHead {
        size: h5.log_size,
        root: h5.log_root,
    };
    l.consistency_proof(old.size, head.size)
        .unwrap()
        .verify(&old, &head)
        .unwrap();
    assert!(matches!(
        l.inclusion_proof(0, l.log_size() + 1),
        Err(LedgerError::BeyondLog { .. })
    ));
    // Status proofs against header 8's state root (state after block 6).
    let key = licence_key(&agency("transport"), &subject("DL-10000"));
    let sp = l.status_proof(&key, h8.exec_height).unwrap();
    assert_eq!(sp.root, h8.state_root);
    let value = sp.value.clone().unwrap();
    sp.proof.verify(&h8.state_root, &key, Some(&value)).unwrap();
    assert!(matches!(
        Status::from_canonical(&value).unwrap(),
        Status::Licence(_)
    ));
    let absent = licence_key(&agency("transport"), &subject("NOPE"));
    let sp = l.status_proof(&absent, 6).unwrap();
    assert!(sp.value.is_none());
    sp.proof.verify(&h8.state_root, &absent, None).unwrap();
}

/// The store keeps log nodes only from level 4 up and computes the lower
/// ones from the entries (D37): at every log size, across blocks of
/// uneven sizes, its root matches a brute-force root of the entries, and
/// every inclusion and consistency proof it gives verifies. Reopened, it
/// agrees again.
fn store_log_matches_brute_force_at_every_size<B: Backend>() {
    let fx = fixture(1);
    let b = B::fresh();
    let l = Ledger::open(b.open(), &fx.genesis).unwrap();
    for (h, n) in (1..).zip([5, 13, 1, 20, 3, 31, 9]) {
        let (recs, ts) = workload_block(&fx, h, n);
        commit(&l, recs, ts);
    }
    let check = |l: &Ledger<B::K>| {
        let size = l.log_size();
        assert_eq!(size, 82);
        let leaves: Vec<Hash> = (0..size)
            .map(|i| entry_hash(&l.log_entry(i).unwrap().unwrap()))
            .collect();
        let heads: Vec<LogHead> = (0..=size)
            .map(|s| {
                let head = l.log_head(s).unwrap();
                assert_eq!(
                    head.root,
                    root_of_leaf_hashes(&leaves[..s as usize]),
                    "size {s}"
                );
                head
            })
            .collect();
        for s in 1..=size {
            for i in 0..s {
                l.inclusion_proof(i, s)
                    .unwrap()
                    .verify(&leaves[i as usize], &heads[s as usize])
                    .unwrap_or_else(|e| panic!("leaf {i} in size {s}: {e}"));
            }
            for old in 1..=s {
                l.consistency_proof(old, s)
                    .unwrap()
                    .verify(&heads[old as usize], &heads[s as usize])
                    .unwrap_or_else(|e| panic!("{old} → {s}: {e}"));
            }
        }
    };
    check(&l);
    drop(l);
    check(&Ledger::open(b.open(), &fx.genesis).unwrap());
}

fn queries_page_stably<B: Backend>() {
    let fx = fixture(1);
    let b = B::fresh();
    let l = Ledger::open(b.open(), &fx.genesis).unwrap();
    let mut ts = T0 + 1000;
    let issue = |l: &Ledger<B::K>, n: u64, ts: u64| {
        let recs = (0..n)
            .map(|i| {
                fx.record(
                    "transport",
                    1,
                    licence_issue("driving", ts - 10, ts + DAY),
                    &format!("Q-{}", i % 2),
                    ts - 1,
                    ts * 100 + i,
                )
            })
            .collect();
        commit(l, recs, ts)
    };
    issue(&l, 5, ts);
    // Page through subject Q-0 three at a time, committing between pages.
    let filter = Filter::Subject("Q-0".into());
    let mut seen = Vec::new();
    let mut cursor: Option<Cursor> = None;
    let mut rounds = 0;
    loop {
        let page = l.query(&filter, cursor, 2).unwrap();
        seen.extend(page.items.iter().map(|r| r.log_index));
        if rounds < 3 {
            ts += 1000;
            issue(&l, 4, ts);
        }
        rounds += 1;
        match page.next {
            Some(c) => {
                // Cursors survive a round trip through text.
                cursor = Some(c.to_string().parse().unwrap());
            }
            None => break,
        }
    }
    let expected: Vec<u64> = (0..l.log_size())
        .filter(|i| {
            l.record_at_log_index(*i)
                .unwrap()
                .unwrap()
                .record
                .record
                .subject
                .as_str()
                == "Q-0"
        })
        .collect();
    assert_eq!(seen, expected);
    assert!(expected.len() >= 3 + 3 * 2);

    let by_issuer = l
        .query(&Filter::Issuer(agency("transport")), None, 1000)
        .unwrap();
    assert_eq!(by_issuer.items.len() as u64, l.log_size());
    assert!(by_issuer.next.is_none());
    // Paging three at a time starts and ends pages inside one block's run
    // of the issuer index, and still yields every position once, in order.
    let mut paged = Vec::new();
    let mut cursor = None;
    loop {
        let page = l
            .query(&Filter::Issuer(agency("transport")), cursor, 3)
            .unwrap();
        paged.extend(page.items.iter().map(|r| r.log_index));
        match page.next {
            Some(c) => cursor = Some(c),
            None => break,
        }
    }
    assert_eq!(paged, (0..l.log_size()).collect::<Vec<_>>());
    assert!(
        l.query(&Filter::Issuer(agency("health")), None, 10)
            .unwrap()
            .items
            .is_empty()
    );
    let by_kind = l
        .query(&Filter::Kind("licence_issue".into()), None, 4)
        .unwrap();
    assert_eq!(by_kind.items.len(), 4);
    assert!(by_kind.next.is_some());
    // Heights 2..=3: the 4 + 4 records of those blocks, in order.
    let hr = l
        .query(&Filter::Heights { from: 2, to: 3 }, None, 1000)
        .unwrap();
    assert_eq!(hr.items.len(), 8);
    assert!(hr.items.iter().all(|r| r.height == 2 || r.height == 3));
    let first = l
        .query(&Filter::Heights { from: 2, to: 3 }, None, 5)
        .unwrap();
    let rest = l
        .query(&Filter::Heights { from: 2, to: 3 }, first.next, 5)
        .unwrap();
    assert_eq!(first.items.len() + rest.items.len(), 8);
    assert!(rest.next.is_none());
    assert!("zz".parse::<Cursor>().is_err());
    // Record by id.
    let r = &hr.items[0];
    assert_eq!(l.record(&r.id).unwrap().unwrap(), *r);
    assert_eq!(r.result, l.results(r.height).unwrap()[r.index as usize]);
}

fn consensus_state<B: Backend>() {
    let fx = fixture(1);
    let b = B::fresh();
    {
        let l = Ledger::open(b.open(), &fx.genesis).unwrap();
        l.consensus_put(&[(b"vote/1", Some(b"a")), (b"vote/2", Some(b"b"))])
            .unwrap();
        l.consensus_put(&[(b"vote/1", None)]).unwrap();
    }
    let l = Ledger::open(b.open(), &fx.genesis).unwrap();
    assert_eq!(l.consensus_get(b"vote/1").unwrap(), None);
    assert_eq!(l.consensus_get(b"vote/2").unwrap(), Some(b"b".to_vec()));
}

/// `committed_many` answers for ids in memory, in the column (after
/// runs are written and the store reopened) and absent, in order.
fn committed_many_answers_in_order<B: Backend>() {
    let fx = fixture(2);
    let b = B::fresh();
    let mut ids = Vec::new();
    {
        let l = Ledger::open(b.open(), &fx.genesis).unwrap().with_id_run(5);
        for h in 1..=4 {
            let (recs, ts) = workload_block(&fx, h, 8);
            ids.extend(recs.iter().map(|r| r.id()));
            commit(&l, recs, ts);
        }
    }
    let l = Ledger::open(b.open(), &fx.genesis).unwrap().with_id_run(5);
    let (recs, ts) = workload_block(&fx, 5, 8);
    ids.extend(recs.iter().map(|r| r.id()));
    commit(&l, recs, ts);
    let absent = RecordId(Hash::of(b"never committed"));
    let mut asked = vec![absent];
    asked.extend(ids.iter().copied());
    asked.push(absent);
    let got = l.committed_many(&asked).unwrap();
    let mut want = vec![false];
    want.extend(ids.iter().map(|_| true));
    want.push(false);
    assert_eq!(got, want);
}

fn duplicate_and_rejected_are_logged<B: Backend>() {
    let fx = fixture(1);
    let b = B::fresh();
    let l = Ledger::open(b.open(), &fx.genesis).unwrap();
    let ts = T0 + 1000;
    let r = fx.record(
        "transport",
        1,
        licence_issue("driving", ts, ts + DAY),
        "D-1",
        ts,
        1,
    );
    let c = commit(&l, vec![r.clone(), r.clone()], ts);
    assert_eq!(
        c.results,
        vec![
            ExecResult::Accepted,
            ExecResult::Rejected(RejectCode::Duplicate)
        ]
    );
    assert_eq!(l.log_size(), 2);
    // The id points at the first occurrence.
    assert_eq!(l.record(&r.id()).unwrap().unwrap().log_index, 0);
    let c = commit(&l, vec![r.clone()], ts + 1000);
    assert_eq!(c.results, vec![ExecResult::Rejected(RejectCode::Duplicate)]);
    assert_eq!(
        l.query(&Filter::Subject("D-1".into()), None, 10)
            .unwrap()
            .items
            .len(),
        3
    );
    let _ = RecordKind::LicenceAmend;
}

/// Record ids are gathered in memory and written to their column in runs
/// (`chancery_ledger::ids`). With runs of a few ids, blocks cross run
/// boundaries, and the store reopens with ids both in the column and only
/// in the record log. Every id still resolves to its first occurrence, and
/// every repeat is a duplicate, exactly as on a ledger that has every id
/// in memory.
fn record_ids_in_runs_across_reopens<B: Backend>() {
    let fx = fixture(2);
    let b = B::fresh();
    // The default run is far more ids than this test commits.
    let reference = Ledger::in_memory(&fx.genesis).unwrap();
    let mut seen: Vec<SignedRecord> = Vec::new();
    let check_all = |l: &Ledger<B::K>, seen: &[SignedRecord]| {
        let size = l.log_size();
        for r in seen {
            let id = r.id();
            assert_eq!(l.record(&id).unwrap(), reference.record(&id).unwrap());
            assert_eq!(
                l.record_proof(&id, size).unwrap(),
                reference.record_proof(&id, size).unwrap()
            );
        }
    };
    // 40: a run longer than one commit writes, so reopens land mid-run.
    for run in [5usize, 1, 40, 7, 1000, 3] {
        let l = Ledger::open(b.open(), &fx.genesis)
            .unwrap()
            .with_id_run(run);
        check_all(&l, &seen);
        for _ in 0..3 {
            let h = l.tip().height + 1;
            let (mut recs, ts) = workload_block(&fx, h, 6);
            // A repeat of an earlier block's record (in the column or only
            // in memory), and of one in this block.
            if !seen.is_empty() {
                recs.push(seen[(h as usize * 7) % seen.len()].clone());
            }
            recs.push(recs[0].clone());
            let (block, cert) = next_block(&reference, recs.clone(), ts);
            let want = reference.commit(&block, &cert, &NothingVerified).unwrap();
            let got = l.commit(&block, &cert, &NothingVerified).unwrap();
            assert_eq!(got.results, want.results, "results at height {h}");
            assert_eq!(got.summary, want.summary, "roots at height {h}");
            let repeats = if seen.is_empty() { 1 } else { 2 };
            for r in &got.results[got.results.len() - repeats..] {
                assert_eq!(
                    *r,
                    ExecResult::Rejected(RejectCode::Duplicate),
                    "height {h}"
                );
            }
            seen.extend(recs);
        }
        check_all(&l, &seen);
    }
    // Runs were written: the column holds ids and the marker moved on.
    let kv = b.open();
    let marker = kv.get(Column::Meta, b"ids_through").unwrap().unwrap();
    assert!(u64::from_be_bytes(marker.try_into().unwrap()) > 0);
    assert!(!kv.scan(Column::RecordIds, &[], None, 1).unwrap().is_empty());
}

macro_rules! suite {
    ($module:ident, $backend:ty) => {
        mod $module {
            use super::*;
            #[test]
            fn kv_contract() {
                super::kv_contract::<$backend>();
            }
            #[test]
            fn commit_reopen_continue() {
                super::commit_reopen_continue::<$backend>();
            }
            #[test]
            fn refuses_bad_blocks() {
                super::refuses_bad_blocks::<$backend>();
            }
            #[test]
            fn refuses_other_chain() {
                super::refuses_other_chain::<$backend>();
            }
            #[test]
            fn refuses_old_format() {
                super::refuses_old_format::<$backend>();
            }
            #[test]
            fn proofs_against_certified_headers() {
                super::proofs_against_certified_headers::<$backend>();
            }
            #[test]
            fn store_log_matches_brute_force_at_every_size() {
                super::store_log_matches_brute_force_at_every_size::<$backend>();
            }
            #[test]
            fn queries_page_stably() {
                super::queries_page_stably::<$backend>();
            }
            #[test]
            fn consensus_state() {
                super::consensus_state::<$backend>();
            }
            #[test]
            fn record_ids_in_runs_across_reopens() {
                super::record_ids_in_runs_across_reopens::<$backend>();
            }
            #[test]
            fn committed_many_answers_in_order() {
                super::committed_many_answers_in_order::<$backend>();
            }
            #[test]
            fn duplicate_and_rejected_are_logged() {
                super::duplicate_and_rejected_are_logged::<$backend>();
            }
        }
    };
}

suite!(mem, Mem);
suite!(rocks, Rocks);

#[test]
fn ledgers_can_be_shared_between_threads() {
    fn check<T: Send + Sync>() {}
    check::<Ledger<RocksKv>>();
    check::<Ledger<MemKv>>();
}
