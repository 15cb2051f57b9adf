//! The record log against a brute-force reference: every size 1..=300,
//! every leaf, every pair of sizes; single-bit flips of proofs fail.

use chancery_ledger::log::{Frontier, MemNodes, consistency_proof, inclusion_proof, root_at};
use chancery_types::Hash;
use chancery_types::bounded::List;
use chancery_types::log_proof::{
    ConsistencyProof, InclusionProof, LogHead, leaf_hash, root_of_leaf_hashes,
};

const N: u64 = 300;

struct Log {
    leaves: Vec<Hash>,
    nodes: MemNodes,
    /// `roots[n]`: brute-force root of the first `n` leaves.
    roots: Vec<Hash>,
}

fn build() -> Log {
    let leaves: Vec<Hash> = (0..N).map(|i| leaf_hash(&i.to_le_bytes())).collect();
    let mut nodes = MemNodes::new();
    let mut frontier = Frontier::new();
    let mut roots = vec![root_of_leaf_hashes(&[])];
    for (i, leaf) in leaves.iter().enumerate() {
        let mut new = Vec::new();
        frontier.append(*leaf, &mut new);
        nodes.extend(new);
        let brute = root_of_leaf_hashes(&leaves[..=i]);
        assert_eq!(frontier.root(), brute, "frontier root at size {}", i + 1);
        roots.push(brute);
    }
    Log {
        leaves,
        nodes,
        roots,
    }
}

fn head(log: &Log, n: u64) -> LogHead {
    LogHead {
        size: n,
        root: log.roots[n as usize],
    }
}

/// Every single-bit flip of the proof's hashes, index and size.
fn inclusion_flips(p: &InclusionProof) -> Vec<InclusionProof> {
    let mut out = Vec::new();
    for bit in 0..64 {
        let mut q = p.clone();
        q.leaf_index ^= 1 << bit;
        out.push(q);
        let mut q = p.clone();
        q.tree_size ^= 1 << bit;
        out.push(q);
    }
    for i in 0..p.path.len() {
        for bit in 0..256 {
            let mut path = p.path.to_vec();
            path[i].0[bit / 8] ^= 1 << (bit % 8);
            out.push(InclusionProof {
                path: List::new(path).unwrap(),
                ..p.clone()
            });
        }
    }
    out
}

fn consistency_flips(p: &ConsistencyProof) -> Vec<ConsistencyProof> {
    let mut out = Vec::new();
    for bit in 0..64 {
        let mut q = p.clone();
        q.old_size ^= 1 << bit;
        out.push(q);
        let mut q = p.clone();
        q.new_size ^= 1 << bit;
        out.push(q);
    }
    for i in 0..p.path.len() {
        for bit in 0..256 {
            let mut path = p.path.to_vec();
            path[i].0[bit / 8] ^= 1 << (bit % 8);
            out.push(ConsistencyProof {
                path: List::new(path).unwrap(),
                ..p.clone()
            });
        }
    }
    out
}

/// Bit flips are checked exhaustively for small logs and on a fixed
/// sample above that, to keep the debug-build run time in seconds.
fn flip_checked(n: u64, m: u64) -> bool {
    n <= 48 || (n.is_multiple_of(23) && m.is_multiple_of(7)) || m == n - 1 || m == 0
}

#[test]
fn inclusion_every_leaf_every_size() {
    let log = build();
    let mut flipped = 0usize;
    for n in 1..=N {
        assert_eq!(root_at(&log.nodes, n).unwrap(), log.roots[n as usize]);
        for m in 0..n {
            let p = inclusion_proof(&log.nodes, m, n).unwrap();
            let leaf = log.leaves[m as usize];
            p.verify(&leaf, &head(&log, n))
                .unwrap_or_else(|e| panic!("leaf {m} size {n}: {e}"));
            // A different leaf at that position fails.
            let other = log.leaves[((m + 1) % N) as usize];
            assert!(p.verify(&other, &head(&log, n)).is_err());
            if flip_checked(n, m) {
                for q in inclusion_flips(&p) {
                    assert!(
                        q.verify(&leaf, &head(&log, n)).is_err(),
                        "flipped proof verified: leaf {m} size {n}: {q:?}"
                    );
                    flipped += 1;
                }
            }
        }
        assert!(inclusion_proof(&log.nodes, n, n).is_err());
    }
    assert!(flipped > 100_000, "only {flipped} flipped proofs checked");
}

#[test]
fn consistency_every_pair_of_sizes() {
    let log = build();
    let mut flipped = 0usize;
    for n in 1..=N {
        for m in 0..=n {
            let p = consistency_proof(&log.nodes, m, n).unwrap();
            p.verify(&head(&log, m), &head(&log, n))
                .unwrap_or_else(|e| panic!("sizes {m} → {n}: {e}"));
            if m > 0 && m < n {
                // A wrong old root fails.
                let wrong = LogHead {
                    size: m,
                    root: log.roots[(m - 1) as usize],
                };
                assert!(p.verify(&wrong, &head(&log, n)).is_err(), "{m} → {n}");
            }
            if flip_checked(n, m) {
                for q in consistency_flips(&p) {
                    assert!(
                        q.verify(&head(&log, m), &head(&log, n)).is_err(),
                        "flipped proof verified: {m} → {n}: {q:?}"
                    );
                    flipped += 1;
                }
            }
        }
        assert!(consistency_proof(&log.nodes, n + 1, n).is_err());
    }
    assert!(flipped > 100_000, "only {flipped} flipped proofs checked");
}

#[test]
fn frontier_reloads_from_nodes() {
    let log = build();
    for n in [0u64, 1, 2, 3, 7, 8, 9, 255, 256, 300] {
        let f = Frontier::load(n, &log.nodes).unwrap();
        assert_eq!(f.size(), n);
        assert_eq!(f.root(), log.roots[n as usize]);
    }
}

/// Proof generation reads O(log n) nodes.
#[test]
fn proofs_read_logarithmically_many_nodes() {
    use chancery_ledger::log::NodeSource;
    use std::cell::Cell;
    struct Counting<'a>(&'a MemNodes, Cell<usize>);
    impl NodeSource for Counting<'_> {
        fn node(&self, level: u8, index: u64) -> chancery_ledger::Result<Hash> {
            self.1.set(self.1.get() + 1);
            self.0.node(level, index)
        }
    }
    let log = build();
    let c = Counting(&log.nodes, Cell::new(0));
    let mut worst = 0;
    for n in 1..=N {
        for m in (0..n).step_by(7) {
            c.1.set(0);
            inclusion_proof(&c, m, n).unwrap();
            worst = worst.max(c.1.get());
            c.1.set(0);
            consistency_proof(&c, m, n).unwrap();
            worst = worst.max(c.1.get());
        }
    }
    // ⌈log2 300⌉ = 9. A proof has at most 9 (inclusion) or 10
    // (consistency) hashes; all but at most two are perfect subtrees (one
    // read each), and a non-perfect one costs at most 9 reads.
    assert!(worst <= 3 * 9, "worst case {worst} node reads");
    assert!(worst >= 9, "worst case {worst} node reads");
}
