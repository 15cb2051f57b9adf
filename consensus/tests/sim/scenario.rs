//! Scenarios: what faults a run has, and the standard seeded mix.

use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

use super::{Behaviour, run};

#[derive(Clone, Debug)]
pub struct Scenario {
    pub seed: u64,
    pub n: usize,
    pub window: u64,
    /// Chaos phase length; the network heals at this time.
    pub chaos_ms: u64,
    pub drop: f64,
    pub dup: f64,
    pub max_delay_ms: u64,
    pub partitions: bool,
    pub crashes: bool,
    /// Faulty validators and what they do.
    pub byzantine: Vec<(u16, Behaviour)>,
    /// Validators run as two copies with the same key.
    pub twins: Vec<u16>,
    pub block_interval_ms: u64,
    pub liveness_blocks: u64,
    pub liveness_bound_ms: u64,
    /// Check liveness (off when more than f validators are faulty).
    pub check_liveness: bool,
    /// Bursts of wrong suspicions during chaos: at a random time, a
    /// random group of validators each suspects the primary of the view
    /// it runs (as honest backups whose records were slow would).
    pub suspicion_bursts: u32,
}

impl Scenario {
    pub fn base(n: usize, seed: u64) -> Self {
        Scenario {
            seed,
            n,
            window: 1 + seed % 4,
            chaos_ms: 1_000,
            drop: 0.05,
            dup: 0.05,
            max_delay_ms: 20,
            partitions: true,
            crashes: true,
            byzantine: Vec::new(),
            twins: Vec::new(),
            block_interval_ms: 30,
            liveness_blocks: 3,
            liveness_bound_ms: 60_000,
            check_liveness: true,
            suspicion_bursts: 0,
        }
    }

    pub fn f(&self) -> usize {
        (self.n - 1) / 3
    }
}

/// The standard scenario mix for `n` replicas and a seed: network faults
/// always; plus, by seed, crashes, and up to f Byzantine validators of one
/// kind (or f twins).
pub fn scenario(n: usize, seed: u64) -> Scenario {
    let mut sc = Scenario::base(n, seed);
    let mut rng = ChaCha8Rng::seed_from_u64(seed ^ 0x5eed_5eed);
    let f = sc.f();
    sc.drop = [0.0, 0.02, 0.1][rng.gen_range(0..3)];
    sc.dup = [0.0, 0.05][rng.gen_range(0..2)];
    sc.max_delay_ms = [5, 20, 60][rng.gen_range(0..3)];
    sc.partitions = rng.gen_bool(0.5);
    sc.crashes = rng.gen_bool(0.5);
    if f > 0 {
        let kind = rng.gen_range(0..6);
        let mut faulty: Vec<u16> = (0..n as u16).collect();
        // Deterministic shuffle.
        for i in (1..faulty.len()).rev() {
            let j = rng.gen_range(0..=i);
            faulty.swap(i, j);
        }
        faulty.truncate(f);
        let behaviour = match kind {
            0 => None,
            1 => Some(Behaviour::Silent),
            2 => Some(Behaviour::EquivocatingPrimary),
            3 => Some(Behaviour::DoubleVote),
            4 => Some(Behaviour::JunkVotes),
            _ => {
                sc.twins = faulty.clone();
                None
            }
        };
        if let Some(b) = behaviour {
            sc.byzantine = faulty.iter().map(|v| (*v, b)).collect();
        }
    }
    sc
}

/// The standard mix plus one to four bursts of wrong suspicions (drawn
/// from their own stream, so the rest of the scenario is the seed's
/// standard one).
pub fn scenario_with_suspicions(n: usize, seed: u64) -> Scenario {
    let mut sc = scenario(n, seed);
    let mut rng = ChaCha8Rng::seed_from_u64(seed ^ 0x5a5b_9ec7);
    sc.suspicion_bursts = rng.gen_range(1..=4);
    sc
}

/// Runs seeds `start..start+count` of [`scenario`] for `n`; returns the failures.
pub fn sweep(n: usize, start: u64, count: u64) -> Vec<(u64, String)> {
    sweep_of(scenario, n, start, count)
}

/// Runs seeds `start..start+count` of a scenario mix for `n`; returns the failures.
pub fn sweep_of(
    mix: fn(usize, u64) -> Scenario,
    n: usize,
    start: u64,
    count: u64,
) -> Vec<(u64, String)> {
    let mut failures = Vec::new();
    for seed in start..start + count {
        let sc = mix(n, seed);
        let o = run(&sc);
        if !o.ok() {
            failures.push((
                seed,
                format!(
                    "n={n} seed={seed}: safety {:?}, liveness {:?}\n  scenario {sc:?}",
                    o.safety, o.liveness
                ),
            ));
        }
    }
    failures
}
