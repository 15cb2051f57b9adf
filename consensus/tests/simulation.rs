//! Simulator runs: seed sweeps per configuration (network faults, crashes,
//! up to f Byzantine validators or twins), regression seeds, and the test
//! that shows the checker can fail (f+1 twins break safety).
//!
//! Replay one seed of the standard mix:
//! `SIM_N=4 SIM_SEED=123 SIM_TRACE=1 cargo test -p chancery-consensus --test simulation replay -- --nocapture`.
//! Many seeds: see `examples/sim_sweep.rs`.

mod common;
mod sim;

use sim::{Behaviour, Scenario, run, scenario, scenario_with_suspicions, sweep, sweep_of};

fn check(n: usize, start: u64, count: u64) {
    report(n, sweep(n, start, count));
}

fn report(n: usize, failures: Vec<(u64, String)>) {
    for (_, f) in &failures {
        eprintln!("{f}");
    }
    assert!(
        failures.is_empty(),
        "{} failing seeds for n={n}: {:?} (replay with SIM_N={n} SIM_SEED=<seed>)",
        failures.len(),
        failures.iter().map(|(s, _)| *s).collect::<Vec<_>>()
    );
}

#[test]
fn sweep_n1() {
    check(1, 0, 300);
}

#[test]
fn sweep_n4() {
    check(4, 0, 300);
}

// Each configuration runs 300 seeds (split so the test harness can run the
// parts in parallel). `./scripts/test.sh` builds in release mode, where the
// n = 10 runs cost about 0.8 s per seed.
#[test]
fn sweep_n7_a() {
    check(7, 0, 150);
}

#[test]
fn sweep_n7_b() {
    check(7, 150, 150);
}

#[test]
fn sweep_n10_a() {
    check(10, 0, 75);
}

#[test]
fn sweep_n10_b() {
    check(10, 75, 75);
}

#[test]
fn sweep_n10_c() {
    check(10, 150, 75);
}

#[test]
fn sweep_n10_d() {
    check(10, 225, 75);
}

/// The standard mix with bursts of wrong suspicions by random groups of
/// validators (honest ones among them): the bursts of f+1 or more change
/// the view, and neither kind breaks safety or, after the chaos, liveness.
/// Replay a seed with `SIM_SUSPICIONS=1` added to the replay command.
#[test]
fn sweep_with_false_suspicions_n4() {
    report(4, sweep_of(scenario_with_suspicions, 4, 0, 200));
}

#[test]
fn sweep_with_false_suspicions_n7() {
    report(7, sweep_of(scenario_with_suspicions, 7, 0, 100));
}

/// The bursts do move views (else the sweeps above test nothing new),
/// and only where f+1 validators suspect.
#[test]
fn suspicion_bursts_move_views() {
    let moves: usize = (0..20)
        .map(|seed| {
            let mut sc = scenario_with_suspicions(4, seed);
            sc.byzantine.clear();
            sc.twins.clear();
            let o = run(&sc);
            assert!(o.ok(), "seed={seed}: {o:?}");
            o.suspect_moves
        })
        .sum();
    assert!(moves > 0, "no burst of suspicions moved a view in 20 seeds");
}

/// Seeds that failed during development, kept with the configuration they
/// failed in. (Each was a real bug: re-delivery of ledger blocks after a
/// restart, a replica stranded in a higher view after a lone timeout, and a
/// view-change deadlock when the only higher view had fewer than f+1 votes.)
#[test]
fn regression_seeds() {
    for (n, seed) in [
        (4, 1),
        (4, 2),
        (4, 6),
        (4, 15),
        (4, 19),
        (4, 22),
        (4, 25),
        (4, 31),
        (4, 34),
        (4, 37),
        (4, 39),
        (4, 44),
        (4, 47),
        (4, 48),
        (4, 50),
        (4, 65),
        (4, 70),
        (4, 73),
        (4, 84),
        (4, 91),
        (4, 94),
    ] {
        // They failed with a 1.5 s chaos phase and a 25 ms block interval.
        let mut sc = scenario(n, seed);
        sc.chaos_ms = 1_500;
        sc.block_interval_ms = 25;
        let o = run(&sc);
        assert!(o.ok(), "n={n} seed={seed}: {o:?}\n{sc:?}");
        // And they pass in today's standard mix too.
        let o = run(&scenario(n, seed));
        assert!(o.ok(), "n={n} seed={seed} (standard mix): {o:?}");
    }
}

/// Found by the 20,000-seed sweep (seeds 40000–59999): two persists of one
/// replica completed out of order in the simulated disk, which kept the
/// older state; after a crash the primary lost its proposal vote and
/// proposed a second block at the same height (an honest "equivocation").
/// A simulator bug, not a protocol one — the node writes in order — fixed
/// by keeping the latest write. The seed stays as a regression test.
#[test]
fn persists_completing_out_of_order_keep_the_latest_state() {
    let o = run(&scenario(4, 46359));
    assert!(o.ok(), "n=4 seed=46359: {o:?}");
}

/// Each Byzantine behaviour alone, with no other fault, at n = 4 and 7.
#[test]
fn each_byzantine_behaviour_is_tolerated() {
    for n in [4, 7] {
        for b in [
            Behaviour::Silent,
            Behaviour::EquivocatingPrimary,
            Behaviour::DoubleVote,
            Behaviour::JunkVotes,
            // f validators that suspect every view cannot depose anyone.
            Behaviour::Suspecter,
        ] {
            for seed in 0..3 {
                let mut sc = Scenario::base(n, seed);
                sc.partitions = false;
                sc.crashes = false;
                // Validator 0 is the first primary: it gets to misbehave at once.
                sc.byzantine = (0..sc.f() as u16).map(|v| (v, b)).collect();
                let o = run(&sc);
                assert!(o.ok(), "n={n} {b:?} seed={seed}: {o:?}");
                if b == Behaviour::Suspecter {
                    assert_eq!(o.suspect_moves, 0, "n={n}: f suspecters moved a view");
                }
                assert!(
                    o.max_height >= 3,
                    "n={n} {b:?}: only {} blocks",
                    o.max_height
                );
            }
        }
    }
}

/// A validator that double votes to everyone is reported by honest
/// replicas (evidence that verifies; the simulator also fails a run if
/// evidence ever names an honest validator), and safety holds.
#[test]
fn double_votes_seen_by_all_produce_evidence() {
    let mut evidence = 0;
    for seed in 0..4 {
        let mut sc = Scenario::base(4, seed);
        sc.byzantine = vec![(2, Behaviour::DoubleVoteAll)];
        sc.partitions = false;
        sc.crashes = false;
        let o = run(&sc);
        assert!(o.ok(), "seed={seed}: {o:?}");
        evidence += o.evidence;
    }
    assert!(evidence > 0, "no replica reported the double votes");
}

/// The checker must be able to fail: with f+1 twins (two validators run
/// twice with the same keys, on two sides of the network), quorums no
/// longer intersect in an honest validator and the simulator finds two
/// different blocks committed at one height.
#[test]
fn f_plus_one_twins_break_safety_and_the_checker_sees_it() {
    let mut violations = Vec::new();
    for n in [4, 7] {
        for seed in 0..5 {
            let mut sc = Scenario::base(n, seed);
            let f = sc.f() as u16;
            sc.twins = (0..=f).collect();
            sc.partitions = false;
            sc.crashes = false;
            sc.drop = 0.0;
            sc.check_liveness = false;
            let o = run(&sc);
            if let Err(e) = &o.safety {
                assert!(e.contains("SAFETY"), "unexpected failure kind: {e}");
                violations.push((n, seed));
            }
        }
    }
    assert!(
        !violations.is_empty(),
        "f+1 twins never broke safety: the checker is blind"
    );
    eprintln!("violations found for (n, seed): {violations:?}");
}

#[test]
fn replay() {
    let (Ok(n), Ok(seed)) = (std::env::var("SIM_N"), std::env::var("SIM_SEED")) else {
        return;
    };
    let n: usize = n.parse().expect("SIM_N");
    let seed: u64 = seed.parse().expect("SIM_SEED");
    let sc = if std::env::var("SIM_SUSPICIONS").is_ok() {
        scenario_with_suspicions(n, seed)
    } else {
        scenario(n, seed)
    };
    let o = run(&sc);
    eprintln!("{sc:?}\n{o:?}");
    assert!(o.ok());
}
