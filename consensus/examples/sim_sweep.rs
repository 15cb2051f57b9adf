//! Runs many simulator seeds. Driven by environment variables:
//!
//! - `SIM_SEEDS` (default 1000): seeds per configuration;
//! - `SIM_START` (default 0): first seed;
//! - `SIM_N` (default `1,4,7,10`): replica counts;
//! - `SIM_THREADS` (default 2): worker threads;
//! - `SIM_SUSPICIONS` (set to anything): the mix with bursts of wrong
//!   suspicions (`sim::scenario_with_suspicions`).
//!
//! ```sh
//! SIM_SEEDS=100000 cargo run --release -p chancery-consensus --example sim_sweep
//! ```
//!
//! Prints every failing seed with its scenario and exits non-zero if any
//! failed. Replay one with
//! `SIM_N=<n> SIM_SEED=<seed> cargo test -p chancery-consensus --test simulation replay -- --nocapture`.
#![allow(missing_docs)]

#[path = "../tests/common/mod.rs"]
mod common;
#[path = "../tests/sim/mod.rs"]
mod sim;

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

fn env(name: &str, default: u64) -> u64 {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

fn main() {
    let seeds = env("SIM_SEEDS", 1000);
    let start = env("SIM_START", 0);
    let threads = env("SIM_THREADS", 2).max(1);
    let ns: Vec<usize> = std::env::var("SIM_N")
        .unwrap_or_else(|_| "1,4,7,10".into())
        .split(',')
        .filter_map(|s| s.trim().parse().ok())
        .collect();
    let mix: fn(usize, u64) -> sim::Scenario = if std::env::var("SIM_SUSPICIONS").is_ok() {
        sim::scenario_with_suspicions
    } else {
        sim::scenario
    };
    let failures = Arc::new(Mutex::new(Vec::new()));
    let t0 = std::time::Instant::now();
    for &n in &ns {
        let next = Arc::new(AtomicU64::new(start));
        let workers: Vec<_> = (0..threads)
            .map(|_| {
                let next = next.clone();
                let failures = failures.clone();
                std::thread::spawn(move || {
                    loop {
                        let seed = next.fetch_add(1, Ordering::Relaxed);
                        if seed >= start + seeds {
                            break;
                        }
                        let fails = sim::sweep_of(mix, n, seed, 1);
                        if !fails.is_empty() {
                            for (_, f) in &fails {
                                eprintln!("FAIL {f}");
                            }
                            failures
                                .lock()
                                .unwrap()
                                .extend(fails.into_iter().map(|(s, _)| (n, s)));
                        }
                        if (seed - start + 1).is_multiple_of(1000) {
                            eprintln!(
                                "n={n}: {} seeds done ({:?})",
                                seed - start + 1,
                                t0.elapsed()
                            );
                        }
                    }
                })
            })
            .collect();
        for w in workers {
            w.join().unwrap();
        }
        println!(
            "n={n}: seeds {start}..{} done in {:?}",
            start + seeds,
            t0.elapsed()
        );
    }
    let failures = failures.lock().unwrap();
    if failures.is_empty() {
        println!("all {} runs passed", seeds * ns.len() as u64);
    } else {
        println!("{} failing runs: {:?}", failures.len(), *failures);
        std::process::exit(1);
    }
}
