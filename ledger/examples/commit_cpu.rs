//! CPU time per ledger commit over a fixed sequence of blocks, for A/B
//! comparisons on a machine whose speed drifts (docs/PERFORMANCE.md,
//! session 11). Criterion's `commit/` benchmark reports wall time over a
//! number of blocks it picks itself, so the state it measures on differs
//! from run to run; this commits the same blocks every time and reports
//! the committing thread's CPU time (Linux: `/proc/thread-self/schedstat`)
//! next to the wall time.
//!
//! ```sh
//! cargo run --release -p chancery-ledger --example commit_cpu -- [WARM] [BLOCKS] [SIZE]
//! ```
//!
//! Commits `WARM` blocks (default 100) of `SIZE` fresh licences (default
//! 1,000) to a RocksDB ledger in a temporary directory, then measures the
//! next `BLOCKS` (default 300). Run two binaries alternately, several
//! times each, and compare medians.

#![allow(clippy::unwrap_used, clippy::expect_used)]

#[path = "../tests/common/mod.rs"]
mod common;

use std::collections::HashSet;
use std::time::{Duration, Instant};

use chancery_ledger::Ledger;
use chancery_types::RecordId;
use chancery_types::log_proof::RootedIds;
use common::{fixture, fresh_licence_block};

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let arg = |i: usize, name: &str, default: u64| -> u64 {
        match args.get(i) {
            None => default,
            Some(a) => a.parse().unwrap_or_else(|_| {
                eprintln!("commit_cpu: {name} must be a whole number, not {a:?}");
                std::process::exit(2)
            }),
        }
    };
    let warm = arg(0, "WARM", 100);
    let blocks = arg(1, "BLOCKS", 300).max(1);
    let size = arg(2, "SIZE", 1000).max(1) as usize;

    let fx = fixture(4);
    let dir = tempfile::tempdir().expect("a temporary directory");
    let ledger = Ledger::open_rocks(dir.path(), &fx.genesis).expect("a new ledger");
    let (mut wall, mut cpu) = (Duration::ZERO, Duration::ZERO);
    for n in 0..warm + blocks {
        let (block, cert, ids) = fresh_licence_block(&ledger, size);
        let verified: HashSet<RecordId> = ids.iter().copied().collect();
        // As a validator has them: computed while checking the proposal.
        let ids = RootedIds::new(ids);
        let (start, cpu_start) = (Instant::now(), thread_cpu());
        ledger
            .commit_with_ids(&block, &cert, &verified, ids)
            .expect("commit");
        if n >= warm {
            wall += start.elapsed();
            cpu += thread_cpu().saturating_sub(cpu_start);
        }
    }
    let per = |d: Duration| d.as_secs_f64() * 1e6 / blocks as f64;
    println!(
        "{blocks} blocks of {size} after {warm}: wall {:.0} µs, cpu {:.0} µs per commit ({:.1} µs cpu per record)",
        per(wall),
        per(cpu),
        per(cpu) / size as f64
    );
}

/// This thread's CPU time so far; zero where the kernel does not say.
/// The kernel updates it at scheduler events, so one reading can lag by
/// up to a tick: the error averages out over hundreds of commits, not a
/// few dozen.
fn thread_cpu() -> Duration {
    std::fs::read_to_string("/proc/thread-self/schedstat")
        .ok()
        .and_then(|s| s.split_whitespace().next()?.parse::<u64>().ok())
        .map(Duration::from_nanos)
        .unwrap_or_default()
}
