//! The state machine alone: n replicas in one thread, an instant in-memory
//! network, persistence acknowledged at once, the node side trivial. Every
//! message's signature is really signed and checked. One iteration decides
//! `BLOCKS` blocks; criterion's throughput is decided blocks per second for
//! the whole cluster on one core, so the CPU per decided block (all n
//! replicas together) is its inverse.
//!
//! `cargo bench -p chancery-consensus --bench replica`
#![allow(missing_docs)]

#[path = "../tests/common/mod.rs"]
mod common;

use std::collections::VecDeque;

use chancery_consensus::{Action, Input, Replica};
use common::Fixture;
use criterion::{BatchSize, Criterion, Throughput, criterion_group, criterion_main};

const BLOCKS: u64 = 20;

struct Cluster {
    fx: Fixture,
    replicas: Vec<Replica>,
    queue: VecDeque<(usize, Input)>,
}

impl Cluster {
    fn new(n: usize, window: u64) -> Self {
        let fx = Fixture::new(n);
        let replicas = (0..n as u16).map(|i| fx.replica(i, window)).collect();
        let queue = (0..n).map(|i| (i, Input::Start)).collect();
        Cluster {
            fx,
            replicas,
            queue,
        }
    }

    /// Runs until replica 0 delivered `blocks` blocks; returns the height.
    fn run(&mut self, blocks: u64) -> u64 {
        let n = self.replicas.len();
        let mut delivered = 0;
        let mut ts = 0;
        while let Some((i, input)) = self.queue.pop_front() {
            for a in self.replicas[i].handle(0, input) {
                match a {
                    Action::Send { to, message } => {
                        self.queue.push_back((to as usize, Input::Message(message)))
                    }
                    Action::Broadcast { message } => {
                        for j in (0..n).filter(|j| *j != i) {
                            self.queue.push_back((j, Input::Message(message.clone())));
                        }
                    }
                    Action::Persist { token, .. } => {
                        self.queue.push_back((i, Input::Persisted(token)))
                    }
                    Action::BuildProposal {
                        height,
                        view,
                        parent,
                    } => {
                        ts += 1;
                        let b = self.fx.block_at(height, view, parent, ts);
                        self.queue.push_back((i, Input::ProposalReady(b)));
                    }
                    Action::ValidateBlock { block } => {
                        let hash = block.header.hash();
                        self.queue
                            .push_back((i, Input::BlockValidated { hash, valid: true }));
                    }
                    Action::Deliver { .. } if i == 0 => {
                        delivered += 1;
                        if delivered >= blocks {
                            return delivered;
                        }
                    }
                    _ => {}
                }
            }
        }
        delivered
    }
}

fn bench(c: &mut Criterion) {
    let mut g = c.benchmark_group("decide");
    g.sample_size(10);
    g.throughput(Throughput::Elements(BLOCKS));
    for n in [4usize, 7, 16] {
        g.bench_function(format!("n={n}/window=4"), |b| {
            b.iter_batched(
                || Cluster::new(n, 4),
                |mut cl| assert_eq!(cl.run(BLOCKS), BLOCKS),
                BatchSize::PerIteration,
            )
        });
    }
    g.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
