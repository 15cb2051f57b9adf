//! The record log: an append-only Merkle tree (RFC 9162 shape, blake3;
//! hashing and verification live in `chancery_types::log_proof`).
//!
//! Storage: the hash of every *perfect* subtree — `2^level` leaves starting
//! at `index · 2^level` — is written once, when its last leaf is appended,
//! and never changes. Any subtree of the RFC 9162 recursion is either such
//! a perfect subtree or splits into at most `log n` of them, and a proof
//! touches at most one non-perfect subtree per level boundary, so an
//! inclusion or consistency proof costs O(log n) node reads.
//!
//! ```text
//! size 6:            root = node(P(2,0), P(1,2))
//!              P(2,0)                 P(1,2)
//!          P(1,0)   P(1,1)        P(0,4)  P(0,5)
//!        P(0,0) P(0,1) P(0,2) P(0,3)
//! ```
//!
//! [`Frontier`] holds the peaks (the perfect subtrees that make up the
//! current size), so appending never reads the store.

use std::collections::HashMap;

use chancery_types::Hash;
use chancery_types::bounded::List;
use chancery_types::log_proof::{
    ConsistencyProof, InclusionProof, empty_root, largest_power_of_two_below, node_hash,
};

use crate::error::{LedgerError, Result};

/// Reads perfect-subtree hashes.
pub trait NodeSource {
    /// The hash of the perfect subtree of `2^level` leaves starting at
    /// leaf `index << level`. Only asked for subtrees inside the log.
    fn node(&self, level: u8, index: u64) -> Result<Hash>;
}

/// A new perfect subtree produced by an append: `(level, index, hash)`.
pub type NewNode = (u8, u64, Hash);

/// The right edge of the log: enough to append and to compute the root.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Frontier {
    size: u64,
    /// `(level, hash)` of each peak, highest level first.
    peaks: Vec<(u8, Hash)>,
}

impl Frontier {
    /// The frontier of the empty log.
    pub fn new() -> Self {
        Frontier::default()
    }

    /// Loads the frontier of a log of `size` leaves (one read per set bit).
    pub fn load(size: u64, src: &dyn NodeSource) -> Result<Self> {
        let mut peaks = Vec::new();
        let mut start = 0u64;
        for level in (0..64u8).rev() {
            if size & (1u64 << level) != 0 {
                peaks.push((level, src.node(level, start >> level)?));
                start += 1u64 << level;
            }
        }
        Ok(Frontier { size, peaks })
    }

    /// Number of leaves.
    pub fn size(&self) -> u64 {
        self.size
    }

    /// Appends a leaf hash; every perfect subtree it completes (the leaf
    /// itself included) is pushed to `out`.
    pub fn append(&mut self, leaf: Hash, out: &mut Vec<NewNode>) {
        let index = self.size;
        out.push((0, index, leaf));
        let mut cur = leaf;
        let mut level = 0u8;
        while let Some(&(l, h)) = self.peaks.last() {
            if l != level {
                break;
            }
            self.peaks.pop();
            cur = node_hash(&h, &cur);
            level += 1;
            out.push((level, index >> level, cur));
        }
        self.peaks.push((level, cur));
        self.size += 1;
    }

    /// The Merkle tree hash of the log.
    pub fn root(&self) -> Hash {
        let mut iter = self.peaks.iter().rev();
        let Some(&(_, mut acc)) = iter.next() else {
            return empty_root();
        };
        for (_, h) in iter {
            acc = node_hash(h, &acc);
        }
        acc
    }
}

/// `MTH(D[a:b])` for a subtree of the RFC 9162 recursion (`a < b`).
pub fn range_hash(src: &dyn NodeSource, a: u64, b: u64) -> Result<Hash> {
    let n = b - a;
    if n.is_power_of_two() && a.is_multiple_of(n) {
        return src.node(n.trailing_zeros() as u8, a / n);
    }
    let k = largest_power_of_two_below(n);
    Ok(node_hash(
        &range_hash(src, a, a + k)?,
        &range_hash(src, a + k, b)?,
    ))
}

/// The root of the first `size` leaves.
pub fn root_at(src: &dyn NodeSource, size: u64) -> Result<Hash> {
    if size == 0 {
        return Ok(empty_root());
    }
    range_hash(src, 0, size)
}

/// An inclusion proof for leaf `index` in the log of `size` leaves.
/// The caller checks `index < size ≤ log size`.
pub fn inclusion_proof(src: &dyn NodeSource, index: u64, size: u64) -> Result<InclusionProof> {
    if index >= size {
        return Err(LedgerError::BeyondLog {
            requested: index,
            size,
        });
    }
    let mut path = Vec::new();
    inclusion_path(src, index, 0, size, &mut path)?;
    Ok(InclusionProof {
        leaf_index: index,
        tree_size: size,
        path: to_list(path)?,
    })
}

fn inclusion_path(src: &dyn NodeSource, m: u64, a: u64, b: u64, out: &mut Vec<Hash>) -> Result<()> {
    let n = b - a;
    if n <= 1 {
        return Ok(());
    }
    let k = largest_power_of_two_below(n);
    if m < a + k {
        inclusion_path(src, m, a, a + k, out)?;
        out.push(range_hash(src, a + k, b)?);
    } else {
        inclusion_path(src, m, a + k, b, out)?;
        out.push(range_hash(src, a, a + k)?);
    }
    Ok(())
}

/// A consistency proof from `old` to `new` leaves (`old ≤ new`). Empty
/// when `old` is 0 or equal to `new`.
pub fn consistency_proof(src: &dyn NodeSource, old: u64, new: u64) -> Result<ConsistencyProof> {
    if old > new {
        return Err(LedgerError::SizesReversed { old, new });
    }
    let mut path = Vec::new();
    if old > 0 && old < new {
        subproof(src, old, 0, new, true, &mut path)?;
    }
    Ok(ConsistencyProof {
        old_size: old,
        new_size: new,
        path: to_list(path)?,
    })
}

/// RFC 9162 §2.1.4.1 `SUBPROOF(m, D[a:b], flag)`, with `m` absolute.
fn subproof(
    src: &dyn NodeSource,
    m: u64,
    a: u64,
    b: u64,
    flag: bool,
    out: &mut Vec<Hash>,
) -> Result<()> {
    let n = b - a;
    if m - a == n {
        if !flag {
            out.push(range_hash(src, a, b)?);
        }
        return Ok(());
    }
    let k = largest_power_of_two_below(n);
    if m - a <= k {
        subproof(src, m, a, a + k, flag, out)?;
        out.push(range_hash(src, a + k, b)?);
    } else {
        subproof(src, m, a + k, b, false, out)?;
        out.push(range_hash(src, a, a + k)?);
    }
    Ok(())
}

fn to_list<const MAX: usize>(v: Vec<Hash>) -> Result<List<Hash, MAX>> {
    List::new(v).map_err(|e| LedgerError::Corrupt {
        what: "log proof",
        detail: e.to_string(),
    })
}

/// Perfect-subtree hashes held in memory (tests, benchmarks, and the
/// nodes of a block being committed).
#[derive(Clone, Debug, Default)]
pub struct MemNodes {
    nodes: HashMap<(u8, u64), Hash>,
}

impl MemNodes {
    /// Empty.
    pub fn new() -> Self {
        MemNodes::default()
    }

    /// Adds nodes produced by [`Frontier::append`].
    pub fn extend(&mut self, nodes: impl IntoIterator<Item = NewNode>) {
        for (l, i, h) in nodes {
            self.nodes.insert((l, i), h);
        }
    }
}

impl NodeSource for MemNodes {
    fn node(&self, level: u8, index: u64) -> Result<Hash> {
        self.nodes
            .get(&(level, index))
            .copied()
            .ok_or_else(|| LedgerError::Corrupt {
                what: "log node",
                detail: format!("node ({level}, {index}) is missing"),
            })
    }
}
