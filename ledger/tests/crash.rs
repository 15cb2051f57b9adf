//! Crash safety and cross-process determinism, with real processes: the
//! test binary re-invokes itself (`child_writer`, enabled by an
//! environment variable) as a writer that acknowledges each commit on
//! stdout; the parent SIGKILLs it at random moments and checks the store.

mod common;

use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use chancery_ledger::keys::record_key;
use chancery_ledger::kv::{Column, KvStore};
use chancery_ledger::{Ledger, LedgerError, MemKv, RocksKv};
use chancery_types::Canonical;
use chancery_types::log_proof::{entry_hash, root_of_leaf_hashes};
use common::*;
use rand::{Rng, SeedableRng};

const ENV_MODE: &str = "CHANCERY_LEDGER_CHILD";
const ENV_DIR: &str = "CHANCERY_LEDGER_DIR";
const LAG: u64 = 2;
const RECORDS: usize = 24;
const DETERMINISM_BLOCKS: u64 = 20;
const KILLS: usize = 60;
/// Record ids written to their column per run: about every fourth block.
const ID_RUN: usize = 100;

/// Writes a line straight to the process's stdout (libtest captures
/// `println!` even in a child run; direct writes bypass the capture).
fn say(line: String) {
    use std::io::Write;
    let mut out = std::io::stdout().lock();
    let _ = writeln!(out, "{line}");
    let _ = out.flush();
}

/// The child side. A no-op unless the environment variable is set.
#[test]
fn child_writer() {
    let Ok(mode) = std::env::var(ENV_MODE) else {
        return;
    };
    let dir = std::env::var(ENV_DIR).unwrap();
    let fx = fixture(LAG);
    if mode == "hold" {
        let _kv = RocksKv::open(&dir).unwrap();
        say("HOLDING".into());
        std::thread::sleep(Duration::from_secs(60));
        return;
    }
    // Record ids go to their column every few blocks, so kills also land
    // while a run is written (see `chancery_ledger::ids`).
    let l = Ledger::open_rocks(&dir, &fx.genesis)
        .unwrap()
        .with_id_run(ID_RUN);
    let start = l.tip().height + 1;
    let end = if mode == "determinism" {
        DETERMINISM_BLOCKS
    } else {
        start + 10_000
    };
    say(format!("OPEN {}", start - 1));
    for h in start..=end {
        let (recs, ts) = workload_block(&fx, h, RECORDS);
        commit(&l, recs, ts);
        say(format!("ACK {h}"));
    }
}

/// The height in an `ACK h` line.
fn ack(line: &str) -> Option<u64> {
    let at = line.find("ACK ")?;
    line[at + 4..].trim().parse().ok()
}

fn spawn(mode: &str, dir: &Path) -> Child {
    Command::new(std::env::current_exe().unwrap())
        .args(["child_writer", "--exact", "--nocapture", "--test-threads=1"])
        .env(ENV_MODE, mode)
        .env(ENV_DIR, dir)
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap()
}

/// Brings the in-memory reference ledger to `height` with the same blocks.
fn advance(reference: &Ledger<MemKv>, fx: &Fixture, height: u64) {
    for h in reference.tip().height + 1..=height {
        let (recs, ts) = workload_block(fx, h, RECORDS);
        commit(reference, recs, ts);
    }
}

#[test]
fn sigkill_during_commits_loses_nothing_acknowledged() {
    let fx = fixture(LAG);
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("db");
    let reference = Ledger::in_memory(&fx.genesis).unwrap();
    let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(0x5eed_c4a5);
    let mut acked = 0u64;
    let mut kills = 0;
    let mut torn_candidates = 0;
    let started = std::time::Instant::now();
    for round in 0..KILLS {
        let mut child = spawn("crash", &path);
        let stdout = child.stdout.take().unwrap();
        let mut lines = BufReader::new(stdout).lines();
        // Wait until the writer has opened the store, then for 0–3 acks,
        // then a random 0–4 ms more, and kill it.
        let wait_acks = rng.gen_range(0..4);
        let delay_us = rng.gen_range(0..4000);
        let mut seen = 0;
        let mut opened = false;
        for line in lines.by_ref() {
            let line = line.unwrap();
            // libtest may put its "test child_writer ... " prefix on the line.
            if line.contains("OPEN ") {
                opened = true;
            } else if let Some(h) = ack(&line) {
                acked = acked.max(h);
                seen += 1;
            }
            if opened && seen >= wait_acks {
                break;
            }
        }
        assert!(opened, "round {round}: writer did not start");
        std::thread::sleep(Duration::from_micros(delay_us));
        child.kill().unwrap();
        // Acks printed before the kill count too.
        for line in lines.map_while(Result::ok) {
            if let Some(h) = ack(&line) {
                acked = acked.max(h);
            }
        }
        child.wait().unwrap();
        kills += 1;

        // Reopening recomputes the log root from stored nodes and the state
        // root from stored statuses, and checks both against the summary.
        let l = Ledger::open_rocks(&path, &fx.genesis).unwrap();
        let tip = l.tip().height;
        if std::env::var_os("CHANCERY_CRASH_VERBOSE").is_some() {
            eprintln!(
                "round {round}: acked {acked}, tip {tip}, {:?}",
                started.elapsed()
            );
        }
        assert!(
            tip >= acked,
            "round {round}: acked {acked}, store has {tip}"
        );
        if tip > acked {
            torn_candidates += 1; // durable but unacknowledged: allowed
        }
        advance(&reference, &fx, tip);
        check_store(&l, &reference, tip, round);
    }
    assert!(kills >= 50);
    eprintln!(
        "{kills} kills, final height {acked}, {torn_candidates} kills after write before ack"
    );
}

fn check_store(l: &Ledger<RocksKv>, reference: &Ledger<MemKv>, tip: u64, round: usize) {
    for h in 1..=tip {
        let got = l.block(h).unwrap().unwrap();
        let want = reference.block(h).unwrap().unwrap();
        assert_eq!(
            got.to_canonical(),
            want.to_canonical(),
            "round {round}, block {h}"
        );
        assert_eq!(
            l.certificate(h).unwrap().unwrap().to_canonical(),
            reference.certificate(h).unwrap().unwrap().to_canonical()
        );
        assert_eq!(
            l.exec_summary(h).unwrap(),
            reference.exec_summary(h).unwrap(),
            "round {round}, summary {h}"
        );
    }
    // Nothing of a later block is visible.
    assert!(l.header(tip + 1).unwrap().is_none());
    assert!(l.exec_summary(tip + 1).unwrap().is_none());
    let kv = l.store();
    let later = record_key(l.log_size());
    assert!(
        kv.scan(Column::Records, &later, None, 1)
            .unwrap()
            .is_empty()
    );
    assert!(
        kv.get(Column::Certs, &(tip + 1).to_be_bytes())
            .unwrap()
            .is_none()
    );
    assert!(
        kv.get(Column::Results, &(tip + 1).to_be_bytes())
            .unwrap()
            .is_none()
    );
    // The log root, recomputed by brute force from every stored entry.
    let size = l.log_size();
    assert_eq!(size, reference.log_size());
    assert!(l.log_entry(size).unwrap().is_none());
    let leaves: Vec<_> = (0..size)
        .map(|i| entry_hash(&l.log_entry(i).unwrap().unwrap()))
        .collect();
    let summary = l.exec_summary(tip).unwrap().unwrap();
    assert_eq!(root_of_leaf_hashes(&leaves), summary.log_root);
    assert_eq!(summary.log_size, size);
    // Every record id resolves to its first occurrence, whether its run
    // was written or it was read back from the log on open, and the id
    // column holds nothing of a later block.
    for i in 0..size {
        let id = l.log_entry(i).unwrap().unwrap().record;
        assert_eq!(
            l.record(&id).unwrap().map(|r| r.log_index),
            reference.record(&id).unwrap().map(|r| r.log_index),
            "round {round}, log index {i}"
        );
    }
    for (_, v) in kv.scan(Column::RecordIds, &[], None, usize::MAX).unwrap() {
        let loc = chancery_ledger::keys::RecordLoc::decode(&v).unwrap();
        assert!(
            loc.height <= tip,
            "round {round}: id of block {}",
            loc.height
        );
    }
}

#[test]
fn two_processes_agree_byte_for_byte() {
    let a = tempfile::tempdir().unwrap();
    let b = tempfile::tempdir().unwrap();
    for d in [a.path(), b.path()] {
        let status = spawn("determinism", d).wait().unwrap();
        assert!(status.success());
    }
    let ka = RocksKv::open(a.path()).unwrap();
    let kb = RocksKv::open(b.path()).unwrap();
    let mut total = 0;
    for col in Column::ALL {
        let ea = ka.scan(col, &[], None, usize::MAX).unwrap();
        let eb = kb.scan(col, &[], None, usize::MAX).unwrap();
        assert_eq!(ea.len(), eb.len(), "column {}", col.name());
        for (x, y) in ea.iter().zip(&eb) {
            assert_eq!(x, y, "column {}", col.name());
        }
        total += ea.len();
    }
    assert!(total > 1000);
    // And both agree with an in-memory ledger in this process.
    let fx = fixture(LAG);
    let reference = Ledger::in_memory(&fx.genesis).unwrap();
    advance(&reference, &fx, DETERMINISM_BLOCKS);
    let la = Ledger::open(ka, &fx.genesis).unwrap();
    for h in 0..=DETERMINISM_BLOCKS {
        assert_eq!(
            la.exec_summary(h).unwrap(),
            reference.exec_summary(h).unwrap()
        );
    }
}

#[test]
fn locked_by_another_process() {
    let dir = tempfile::tempdir().unwrap();
    let mut child = spawn("hold", dir.path());
    let stdout = child.stdout.take().unwrap();
    let mut lines = BufReader::new(stdout).lines();
    let first = lines.next().unwrap().unwrap();
    // libtest may print its own header line first.
    if !first.contains("HOLDING") {
        assert!(lines.any(|l| l.unwrap().contains("HOLDING")));
    }
    let err = RocksKv::open(dir.path()).unwrap_err();
    child.kill().unwrap();
    child.wait().unwrap();
    assert!(matches!(err, LedgerError::Locked { .. }), "{err:?}");
    assert!(err.to_string().contains("locked"));
    // Once released, it opens.
    RocksKv::open(dir.path()).unwrap();
}

#[test]
fn corrupt_store_gives_an_error() {
    let fx = fixture(LAG);
    // Damaged engine files.
    let dir = tempfile::tempdir().unwrap();
    drop(Ledger::open_rocks(dir.path(), &fx.genesis).unwrap());
    std::fs::write(dir.path().join("CURRENT"), b"garbage").unwrap();
    let err = Ledger::open_rocks(dir.path(), &fx.genesis).unwrap_err();
    assert!(matches!(err, LedgerError::Corrupt { .. }), "{err:?}");

    // Damaged ledger values.
    let dir = tempfile::tempdir().unwrap();
    {
        let l = Ledger::open_rocks(dir.path(), &fx.genesis).unwrap();
        let (recs, ts) = workload_block(&fx, 1, 16);
        commit(&l, recs, ts);
    }
    let damage = |col: Column, key: &[u8], value: &[u8]| {
        let kv = RocksKv::open(dir.path()).unwrap();
        let old = kv.get(col, key).unwrap();
        let mut b = chancery_ledger::Batch::new();
        b.put(col, key, value);
        kv.write(b).unwrap();
        drop(kv);
        let err = Ledger::open_rocks(dir.path(), &fx.genesis).unwrap_err();
        let kv = RocksKv::open(dir.path()).unwrap();
        let mut b = chancery_ledger::Batch::new();
        match old {
            Some(v) => b.put(col, key, v),
            None => b.delete(col, key),
        }
        kv.write(b).unwrap();
        err
    };
    let e = damage(Column::Meta, b"tip", b"short");
    assert!(
        matches!(e, LedgerError::Corrupt { what: "tip", .. }),
        "{e:?}"
    );
    let e = damage(Column::Meta, b"chain_id", b"x");
    assert!(matches!(e, LedgerError::Corrupt { .. }), "{e:?}");
    let e = damage(Column::LogNodes, &[4, 0, 0, 0, 0, 0, 0, 0, 0], &[7; 32]);
    assert!(
        matches!(
            e,
            LedgerError::Corrupt {
                what: "record log",
                ..
            }
        ),
        "{e:?}"
    );
    let e = damage(Column::Meta, b"format", &9u32.to_be_bytes());
    assert!(matches!(e, LedgerError::UnsupportedFormat { .. }), "{e:?}");
    let e = damage(Column::Statuses, &[0x43; 32], b"not a status");
    assert!(
        matches!(e, LedgerError::Decode { what: "status", .. }),
        "{e:?}"
    );
    // Restored, it opens again.
    let l = Ledger::open_rocks(dir.path(), &fx.genesis).unwrap();
    assert_eq!(l.tip().height, 1);
}
