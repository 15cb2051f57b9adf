//! The record log's Merkle tree: hashing, proofs and their verification.
//!
//! The tree has the shape of RFC 9162 §2.1 (Certificate Transparency v2)
//! with blake3 as `HASH`:
//!
//! ```text
//! MTH({})        = blake3("")
//! MTH({d0})      = blake3(0x00 ‖ d0)                       leaf
//! MTH(D[0:n])    = blake3(0x01 ‖ MTH(D[0:k]) ‖ MTH(D[k:n]))  node,
//!                  k = the largest power of two < n
//! ```
//!
//! Record log leaves are the canonical encoding of a [`LogEntry`]. The same
//! shape, over record ids, gives a block header's `records_root`
//! ([`records_root`]).
//!
//! Proofs are verified against a [`LogHead`] (size and root) taken from a
//! certified block header, never against a size the prover chose.

use bincode::{Decode, Encode};
use serde::{Deserialize, Serialize};

use crate::block::LogEntry;
use crate::bounded::List;
use crate::encoding::{Canonical, DecodeCtx};
use crate::hash::Hash;
use crate::ids::RecordId;

/// Most hashes in a proof: a tree of up to 2^64 leaves needs at most 64
/// for inclusion and 128 for consistency.
pub const MAX_PROOF_HASHES: usize = 128;

const LEAF_PREFIX: u8 = 0x00;
const NODE_PREFIX: u8 = 0x01;

/// The root of the empty log: `blake3("")`.
pub fn empty_root() -> Hash {
    Hash::of(b"")
}

/// `blake3(0x00 ‖ data)`.
pub fn leaf_hash(data: &[u8]) -> Hash {
    Hash::of_parts(&[&[LEAF_PREFIX], data])
}

/// `blake3(0x01 ‖ left ‖ right)`.
pub fn node_hash(left: &Hash, right: &Hash) -> Hash {
    let mut buf = [0u8; 65];
    buf[0] = NODE_PREFIX;
    buf[1..33].copy_from_slice(&left.0);
    buf[33..].copy_from_slice(&right.0);
    Hash::of(&buf)
}

/// The leaf hash of a record log entry: `blake3(0x00 ‖ canonical(entry))`.
pub fn entry_hash(entry: &LogEntry) -> Hash {
    let mut buf = Vec::with_capacity(96);
    buf.push(LEAF_PREFIX);
    entry.to_canonical_into(&mut buf);
    Hash::of(&buf)
}

/// The Merkle tree hash over already hashed leaves (`MTH` above). Linear
/// time; used for `records_root` and as the reference in tests.
pub fn root_of_leaf_hashes(leaves: &[Hash]) -> Hash {
    match leaves.len() {
        0 => empty_root(),
        1 => leaves[0],
        n => {
            let k = largest_power_of_two_below(n as u64) as usize;
            node_hash(
                &root_of_leaf_hashes(&leaves[..k]),
                &root_of_leaf_hashes(&leaves[k..]),
            )
        }
    }
}

/// A block header's `records_root`: the Merkle tree hash whose leaves are
/// `blake3(0x00 ‖ record id)`, in block order.
pub fn records_root(ids: &[RecordId]) -> Hash {
    let leaves: Vec<Hash> = ids.iter().map(|id| leaf_hash(id.0.as_bytes())).collect();
    root_of_leaf_hashes(&leaves)
}

/// A block's record ids, in block order, with the `records_root` they
/// make, computed once: whoever builds or validates a block computes it,
/// and the commit compares it with the header's instead of hashing every
/// id again. The fields are private, so the root always belongs to the ids.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RootedIds {
    ids: Vec<RecordId>,
    root: Hash,
}

impl RootedIds {
    /// `ids` and their [`records_root`].
    pub fn new(ids: Vec<RecordId>) -> Self {
        let root = records_root(&ids);
        RootedIds { ids, root }
    }

    /// The ids, in block order.
    pub fn ids(&self) -> &[RecordId] {
        &self.ids
    }

    /// Their `records_root`.
    pub fn root(&self) -> Hash {
        self.root
    }

    /// The ids, without the root.
    pub fn into_ids(self) -> Vec<RecordId> {
        self.ids
    }
}

/// The largest power of two strictly below `n` (`n ≥ 2`).
pub fn largest_power_of_two_below(n: u64) -> u64 {
    debug_assert!(n >= 2);
    1u64 << (63 - (n - 1).leading_zeros())
}

/// A log's size and root, as a certified block header states them.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Encode, Decode, Serialize, Deserialize)]
#[bincode(decode_context = "DecodeCtx")]
pub struct LogHead {
    /// Number of leaves.
    pub size: u64,
    /// Merkle tree hash of those leaves.
    pub root: Hash,
}

/// Proof that leaf `leaf_index` is in the log of `tree_size` leaves
/// (RFC 9162 §2.1.3).
#[derive(Clone, Debug, PartialEq, Eq, Hash, Encode, Decode, Serialize, Deserialize)]
#[bincode(decode_context = "DecodeCtx")]
pub struct InclusionProof {
    /// Zero-based position of the leaf.
    pub leaf_index: u64,
    /// Size of the log the proof is for.
    pub tree_size: u64,
    /// Sibling hashes, from the leaf up.
    pub path: List<Hash, MAX_PROOF_HASHES>,
}

impl Canonical for InclusionProof {}

/// Proof that the log of `new_size` leaves extends the log of `old_size`
/// leaves (RFC 9162 §2.1.4).
#[derive(Clone, Debug, PartialEq, Eq, Hash, Encode, Decode, Serialize, Deserialize)]
#[bincode(decode_context = "DecodeCtx")]
pub struct ConsistencyProof {
    /// Size of the older log.
    pub old_size: u64,
    /// Size of the newer log.
    pub new_size: u64,
    /// The proof hashes.
    pub path: List<Hash, MAX_PROOF_HASHES>,
}

impl Canonical for ConsistencyProof {}

/// Why a log proof does not verify. Each variant names the failed check.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum LogProofError {
    /// The proof is for a different log size than the trusted head.
    #[error("proof is for log size {proof}, the trusted head has size {head}")]
    SizeMismatch {
        /// Size named by the proof.
        proof: u64,
        /// Size of the trusted head.
        head: u64,
    },
    /// The leaf index is not inside the log.
    #[error("leaf index {index} is outside a log of size {size}")]
    IndexOutOfRange {
        /// The index.
        index: u64,
        /// The log size.
        size: u64,
    },
    /// The old size is larger than the new one.
    #[error("old size {old} is larger than new size {new}")]
    SizesReversed {
        /// Old size.
        old: u64,
        /// New size.
        new: u64,
    },
    /// The proof has the wrong number of hashes for its sizes and index.
    #[error("proof has the wrong number of hashes ({len})")]
    WrongLength {
        /// Hashes given.
        len: usize,
    },
    /// The recomputed root differs from the trusted root.
    #[error("recomputed root does not match the trusted root")]
    RootMismatch,
}

impl InclusionProof {
    /// Checks that the leaf with hash `leaf` (see [`entry_hash`]) is at
    /// `self.leaf_index` in the log described by `head`.
    pub fn verify(&self, leaf: &Hash, head: &LogHead) -> Result<(), LogProofError> {
        if self.tree_size != head.size {
            return Err(LogProofError::SizeMismatch {
                proof: self.tree_size,
                head: head.size,
            });
        }
        if self.leaf_index >= self.tree_size {
            return Err(LogProofError::IndexOutOfRange {
                index: self.leaf_index,
                size: self.tree_size,
            });
        }
        let root = root_from_inclusion(self.leaf_index, self.tree_size, leaf, &self.path)?;
        if root != head.root {
            return Err(LogProofError::RootMismatch);
        }
        Ok(())
    }
}

/// RFC 9162 §2.1.3.2: the root implied by a leaf and its inclusion path.
fn root_from_inclusion(
    index: u64,
    size: u64,
    leaf: &Hash,
    path: &[Hash],
) -> Result<Hash, LogProofError> {
    let mut fnode = index;
    let mut snode = size - 1;
    let mut r = *leaf;
    for p in path {
        if snode == 0 {
            return Err(LogProofError::WrongLength { len: path.len() });
        }
        if fnode & 1 == 1 || fnode == snode {
            r = node_hash(p, &r);
            if fnode & 1 == 0 {
                while fnode & 1 == 0 && fnode != 0 {
                    fnode >>= 1;
                    snode >>= 1;
                }
            }
        } else {
            r = node_hash(&r, p);
        }
        fnode >>= 1;
        snode >>= 1;
    }
    if snode != 0 {
        return Err(LogProofError::WrongLength { len: path.len() });
    }
    Ok(r)
}

impl ConsistencyProof {
    /// Checks that the log described by `new` extends the log described by
    /// `old`. An empty old log is consistent with every log (the proof is
    /// empty); equal sizes need equal roots and an empty proof.
    pub fn verify(&self, old: &LogHead, new: &LogHead) -> Result<(), LogProofError> {
        if self.old_size != old.size {
            return Err(LogProofError::SizeMismatch {
                proof: self.old_size,
                head: old.size,
            });
        }
        if self.new_size != new.size {
            return Err(LogProofError::SizeMismatch {
                proof: self.new_size,
                head: new.size,
            });
        }
        if old.size > new.size {
            return Err(LogProofError::SizesReversed {
                old: old.size,
                new: new.size,
            });
        }
        let path = self.path.as_slice();
        if old.size == 0 || old.size == new.size {
            if !path.is_empty() {
                return Err(LogProofError::WrongLength { len: path.len() });
            }
            if old.size == new.size && old.root != new.root {
                return Err(LogProofError::RootMismatch);
            }
            if old.size == 0 && old.root != empty_root() {
                return Err(LogProofError::RootMismatch);
            }
            return Ok(());
        }
        // RFC 9162 §2.1.4.2.
        let (seed, rest) = if old.size.is_power_of_two() {
            (old.root, path)
        } else {
            match path.split_first() {
                Some((first, rest)) => (*first, rest),
                None => return Err(LogProofError::WrongLength { len: 0 }),
            }
        };
        let mut fnode = old.size - 1;
        let mut snode = new.size - 1;
        while fnode & 1 == 1 {
            fnode >>= 1;
            snode >>= 1;
        }
        let mut fr = seed;
        let mut sr = seed;
        for c in rest {
            if snode == 0 {
                return Err(LogProofError::WrongLength { len: path.len() });
            }
            if fnode & 1 == 1 || fnode == snode {
                fr = node_hash(c, &fr);
                sr = node_hash(c, &sr);
                if fnode & 1 == 0 {
                    while fnode & 1 == 0 && fnode != 0 {
                        fnode >>= 1;
                        snode >>= 1;
                    }
                }
            } else {
                sr = node_hash(&sr, c);
            }
            fnode >>= 1;
            snode >>= 1;
        }
        if snode != 0 {
            return Err(LogProofError::WrongLength { len: path.len() });
        }
        if fr != old.root || sr != new.root {
            return Err(LogProofError::RootMismatch);
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn leaves(n: u64) -> Vec<Hash> {
        (0..n).map(|i| leaf_hash(&i.to_le_bytes())).collect()
    }

    #[test]
    fn rooted_ids_carry_their_own_records_root() {
        let ids: Vec<RecordId> = (0..5u8).map(|i| RecordId(Hash([i; 32]))).collect();
        let rooted = RootedIds::new(ids.clone());
        assert_eq!(rooted.root(), records_root(&ids));
        assert_eq!(rooted.ids(), ids.as_slice());
        let mut swapped = ids.clone();
        swapped.swap(0, 1);
        assert_ne!(RootedIds::new(swapped).root(), rooted.root());
        assert_eq!(RootedIds::new(Vec::new()).root(), empty_root());
        assert_eq!(rooted.into_ids(), ids);
    }

    #[test]
    fn empty_root_is_hash_of_nothing() {
        assert_eq!(empty_root(), Hash(*blake3::hash(b"").as_bytes()));
        assert_eq!(root_of_leaf_hashes(&[]), empty_root());
        assert_eq!(records_root(&[]), empty_root());
    }

    #[test]
    fn small_tree_shapes() {
        let l = leaves(3);
        assert_eq!(root_of_leaf_hashes(&l[..1]), l[0]);
        assert_eq!(root_of_leaf_hashes(&l[..2]), node_hash(&l[0], &l[1]));
        assert_eq!(
            root_of_leaf_hashes(&l),
            node_hash(&node_hash(&l[0], &l[1]), &l[2])
        );
    }

    #[test]
    fn prefixes_separate_leaves_from_nodes() {
        let a = Hash([1; 32]);
        let b = Hash([2; 32]);
        let mut data = Vec::new();
        data.extend_from_slice(&a.0);
        data.extend_from_slice(&b.0);
        assert_ne!(leaf_hash(&data), node_hash(&a, &b));
    }

    #[test]
    fn largest_power_of_two() {
        assert_eq!(largest_power_of_two_below(2), 1);
        assert_eq!(largest_power_of_two_below(3), 2);
        assert_eq!(largest_power_of_two_below(4), 2);
        assert_eq!(largest_power_of_two_below(5), 4);
        assert_eq!(largest_power_of_two_below(1 << 40), 1 << 39);
    }

    #[test]
    fn single_leaf_proof_is_empty_path() {
        let l = leaves(1);
        let p = InclusionProof {
            leaf_index: 0,
            tree_size: 1,
            path: List::default(),
        };
        let head = LogHead {
            size: 1,
            root: l[0],
        };
        assert_eq!(p.verify(&l[0], &head), Ok(()));
        assert_eq!(
            p.verify(&Hash([9; 32]), &head),
            Err(LogProofError::RootMismatch)
        );
    }

    #[test]
    fn consistency_from_empty_and_equal_sizes() {
        let l = leaves(5);
        let head = LogHead {
            size: 5,
            root: root_of_leaf_hashes(&l),
        };
        let empty = LogHead {
            size: 0,
            root: empty_root(),
        };
        let p = ConsistencyProof {
            old_size: 0,
            new_size: 5,
            path: List::default(),
        };
        assert_eq!(p.verify(&empty, &head), Ok(()));
        let same = ConsistencyProof {
            old_size: 5,
            new_size: 5,
            path: List::default(),
        };
        assert_eq!(same.verify(&head, &head), Ok(()));
        let other = LogHead {
            size: 5,
            root: Hash([3; 32]),
        };
        assert_eq!(same.verify(&head, &other), Err(LogProofError::RootMismatch));
    }
}
