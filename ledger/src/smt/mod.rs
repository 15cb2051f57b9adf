//! The state tree: a compact sparse Merkle tree over 256-bit keys (hashing
//! and proof verification in `chancery_types::state_proof`), holding its
//! last few versions so that proofs can be served against recent roots.
//!
//! Nodes live in two slabs (arrays in fixed-size chunks, `slab.rs`),
//! internal nodes and leaves, addressed by `u32`.
//! A version is a root in those slabs. An update copies the paths it
//! changes into free or new slots (path copying), so older versions stay
//! whole; each version lists the nodes of its predecessor that it
//! replaced, and when the version before it is dropped those nodes are
//! unreachable and their slots go on a free list. Nothing is reference
//! counted and no node is allocated or freed on its own (D24).
//!
//! Updating takes two steps so that readers never wait for the hashing:
//! [`StateTrees::plan`] (shared borrow: walks the newest version, lays out
//! the new paths and picks their slots, then hashes the new nodes a depth
//! at a time, side by side in SIMD lanes) and [`StateTrees::apply`] (exclusive
//! borrow: writes the planned nodes, drops the oldest version). Leaves
//! carry their value bytes, so a proof comes with the value it proves.
//!
//! Only leaf values are stored on disk (state column, `s` keys); the tree
//! is rebuilt from them when a ledger opens, and its root checked against
//! the stored execution summary.
//!
//! ```text
//!            node(l, r)                 a subtree with one entry is its leaf,
//!        node(…)     leaf(k3, v3)       an empty subtree is Hash::ZERO
//!   leaf(k1,v1) leaf(k2,v2)
//! ```

mod plan;
mod slab;

use std::collections::{HashMap, VecDeque};
use std::sync::Arc;

use chancery_types::Hash;
use chancery_types::bounded::List;
use chancery_types::state_proof::{SmtLeaf, StateKey, StateProof, key_bit};

use plan::{Item, Planner, Staged};
use slab::Slab;

/// One entry to write: key and value bytes (canonical `Status`).
pub type Entry = (StateKey, Arc<[u8]>);

/// Why an update could not be planned or applied.
#[derive(Clone, Copy, Debug, PartialEq, Eq, thiserror::Error)]
pub enum TreeError {
    /// More than 2³¹ − 1 nodes of one kind would be needed.
    #[error("the state tree is full ({kind} slots exhausted)")]
    Full {
        /// `internal` or `leaf`.
        kind: &'static str,
    },
    /// The update was planned against a version that is no longer the newest.
    #[error("state tree update planned against version {planned}, newest is {newest}")]
    Stale {
        /// The version the plan was made against.
        planned: u64,
        /// The newest version now.
        newest: u64,
    },
}

/// The value under a key in one version (if any), its proof (of the
/// value, or of absence) and that version's root.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Proven {
    /// The version's root.
    pub root: Hash,
    /// The value, if the key is present.
    pub value: Option<Arc<[u8]>>,
    /// Proof of the value or of its absence.
    pub proof: StateProof,
}

/// A node address: the top bit says which slab; all ones is the empty tree.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct Ref(u32);

const LEAF_BIT: u32 = 1 << 31;
/// Slots of each kind (the last leaf index would collide with `EMPTY`).
const MAX_SLOTS: u64 = (LEAF_BIT - 1) as u64;

impl Ref {
    const EMPTY: Ref = Ref(u32::MAX);

    fn is_empty(self) -> bool {
        self == Ref::EMPTY
    }

    /// Leaf slot, if this is a leaf.
    fn leaf(self) -> Option<usize> {
        (!self.is_empty() && self.0 & LEAF_BIT != 0).then_some((self.0 & !LEAF_BIT) as usize)
    }

    /// Internal slot, if this is an internal node.
    fn internal(self) -> Option<usize> {
        (self.0 & LEAF_BIT == 0).then_some(self.0 as usize)
    }
}

#[derive(Clone, Debug)]
struct Internal {
    left: Ref,
    right: Ref,
    hash: Hash,
}

#[derive(Clone, Debug)]
struct Leaf {
    key: StateKey,
    value: Arc<[u8]>,
    value_hash: Hash,
    hash: Hash,
}

#[derive(Clone, Debug)]
struct Version {
    height: u64,
    root: Ref,
    len: u64,
    /// Nodes of the previous version that this one does not reach.
    replaced: Vec<Ref>,
}

/// Read access to nodes: the slabs, or the slabs overlaid with a plan.
trait Nodes {
    fn internal(&self, slot: usize) -> &Internal;
    fn leaf(&self, slot: usize) -> &Leaf;
}

/// The state tree's kept versions. The newest is what execution reads;
/// older ones answer proofs against recent roots.
pub struct StateTrees {
    internals: Slab<Internal>,
    leaves: Slab<Leaf>,
    free_internals: Vec<u32>,
    free_leaves: Vec<u32>,
    /// Oldest first; never empty.
    versions: VecDeque<Version>,
    keep: usize,
    /// Versions applied so far (plans name the one they were made against).
    applied: u64,
    /// What freed leaf slots hold instead of a value.
    no_value: Arc<[u8]>,
}

impl std::fmt::Debug for StateTrees {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("StateTrees")
            .field("heights", &(self.oldest_height()..=self.newest_height()))
            .field("keys", &self.len())
            .field("internal_slots", &self.internals.len())
            .field("leaf_slots", &self.leaves.len())
            .finish()
    }
}

/// An update computed by [`StateTrees::plan`]: the new nodes with the
/// slots they will take, and the new root.
#[derive(Debug)]
pub struct Update {
    planned_on: u64,
    internals: Staged<Internal>,
    leaves: Staged<Leaf>,
    root: Ref,
    root_hash: Hash,
    len: u64,
    replaced: Vec<Ref>,
}

impl Update {
    /// The root the tree will have once this is applied.
    pub fn root(&self) -> Hash {
        self.root_hash
    }
}

impl Nodes for StateTrees {
    fn internal(&self, slot: usize) -> &Internal {
        &self.internals[slot]
    }
    fn leaf(&self, slot: usize) -> &Leaf {
        &self.leaves[slot]
    }
}

/// The slabs as a planned update will leave them (for proofs before apply).
struct Overlay<'a> {
    trees: &'a StateTrees,
    internals: HashMap<usize, &'a Internal>,
    leaves: HashMap<usize, &'a Leaf>,
}

impl Nodes for Overlay<'_> {
    fn internal(&self, slot: usize) -> &Internal {
        self.internals
            .get(&slot)
            .copied()
            .unwrap_or_else(|| self.trees.internal(slot))
    }
    fn leaf(&self, slot: usize) -> &Leaf {
        self.leaves
            .get(&slot)
            .copied()
            .unwrap_or_else(|| self.trees.leaf(slot))
    }
}

impl StateTrees {
    /// An empty tree (root `Hash::ZERO`) as the version at `height`,
    /// keeping at most `keep` versions (at least one).
    pub fn new(height: u64, keep: usize) -> Self {
        StateTrees {
            internals: Slab::new(),
            leaves: Slab::new(),
            free_internals: Vec::new(),
            free_leaves: Vec::new(),
            versions: VecDeque::from([Version {
                height,
                root: Ref::EMPTY,
                len: 0,
                replaced: Vec::new(),
            }]),
            keep: keep.max(1),
            applied: 0,
            no_value: Arc::from(Vec::new()),
        }
    }

    /// A tree holding `entries` (any order; for a repeated key the last
    /// wins) as the version at `height`.
    pub fn from_entries(height: u64, keep: usize, entries: Vec<Entry>) -> Result<Self, TreeError> {
        let mut t = StateTrees::new(height, keep);
        let update = t.plan(entries)?;
        t.apply(height, update)?;
        // The empty version it was planned on is not a real one.
        if t.versions.len() > 1 {
            t.versions.pop_front();
        }
        Ok(t)
    }

    /// The newest version's root hash.
    pub fn root(&self) -> Hash {
        self.hash_of(self.newest().root)
    }

    /// The root hash of the version at `height`, if kept.
    pub fn root_at(&self, height: u64) -> Option<Hash> {
        self.version(height).map(|v| self.hash_of(v.root))
    }

    /// Keys in the newest version.
    pub fn len(&self) -> u64 {
        self.newest().len
    }

    /// Whether the newest version is empty.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// How many versions are kept at most.
    pub fn keep(&self) -> usize {
        self.keep
    }

    /// Height of the oldest kept version.
    pub fn oldest_height(&self) -> u64 {
        self.versions.front().map_or(0, |v| v.height)
    }

    /// Height of the newest version.
    pub fn newest_height(&self) -> u64 {
        self.newest().height
    }

    /// The value at `key` in the newest version, borrowed from the tree.
    pub fn get_bytes(&self, key: &StateKey) -> Option<&[u8]> {
        self.get(key).map(|v| &v[..])
    }

    /// The value at `key` in the newest version.
    pub fn get(&self, key: &StateKey) -> Option<&Arc<[u8]>> {
        let mut r = self.newest().root;
        let mut depth = 0;
        loop {
            if let Some(l) = r.leaf() {
                let leaf = &self.leaves[l];
                return (leaf.key == *key).then_some(&leaf.value);
            }
            let n = &self.internals[r.internal()?];
            r = if key_bit(key, depth) { n.right } else { n.left };
            depth += 1;
        }
    }

    /// The value at `key` (if any) in the newest version, and a proof of
    /// it or of its absence.
    pub fn prove(&self, key: &StateKey) -> (Option<Arc<[u8]>>, StateProof) {
        prove_in(self, self.newest().root, key)
    }

    /// As [`StateTrees::prove`], in the version at `height` (if kept),
    /// with that version's root.
    pub fn prove_at(&self, height: u64, key: &StateKey) -> Option<Proven> {
        let v = self.version(height)?;
        let (value, proof) = prove_in(self, v.root, key);
        Some(Proven {
            root: self.hash_of(v.root),
            value,
            proof,
        })
    }

    /// As [`StateTrees::prove`], in the version `update` will make.
    pub fn prove_planned(
        &self,
        update: &Update,
        key: &StateKey,
    ) -> (Option<Arc<[u8]>>, StateProof) {
        let overlay = Overlay {
            trees: self,
            internals: update
                .internals
                .nodes
                .iter()
                .map(|(s, n)| (*s as usize, n))
                .collect(),
            leaves: update
                .leaves
                .nodes
                .iter()
                .map(|(s, n)| (*s as usize, n))
                .collect(),
        };
        prove_in(&overlay, update.root, key)
    }

    /// Plans a new version of the newest one with `entries` inserted or
    /// replaced (for a repeated key the last wins). Each changed node is
    /// hashed once.
    pub fn plan(&self, mut entries: Vec<Entry>) -> Result<Update, TreeError> {
        // Stable sort keeps the order of equal keys; keep the last of each.
        entries.sort_by_key(|a| a.0);
        let mut items: Vec<Item> = Vec::with_capacity(entries.len());
        for (key, value) in entries {
            if items.last().is_some_and(|l| *l.key() == key) {
                items.pop();
            }
            items.push(Item::New { key, value });
        }
        let base = self.newest();
        let mut p = Planner {
            trees: self,
            internals: Staged::new(),
            leaves: Staged::new(),
            levels: Vec::new(),
            replaced: Vec::new(),
            added: 0,
            full: None,
        };
        let root = p.update(base.root, &items, 0);
        if let Some(kind) = p.full {
            return Err(TreeError::Full { kind });
        }
        let root_hash = p.hash(root);
        Ok(Update {
            planned_on: self.applied,
            internals: p.internals,
            leaves: p.leaves,
            root: root.r,
            root_hash,
            len: base.len + p.added,
            replaced: p.replaced,
        })
    }

    /// Makes `update` the newest version, at `height`, and drops the
    /// oldest version if more than `keep` are held.
    pub fn apply(&mut self, height: u64, update: Update) -> Result<(), TreeError> {
        if update.planned_on != self.applied {
            return Err(TreeError::Stale {
                planned: update.planned_on,
                newest: self.applied,
            });
        }
        self.applied += 1;
        update
            .internals
            .write(&mut self.free_internals, &mut self.internals);
        update.leaves.write(&mut self.free_leaves, &mut self.leaves);
        self.versions.push_back(Version {
            height,
            root: update.root,
            len: update.len,
            replaced: update.replaced,
        });
        while self.versions.len() > self.keep {
            self.versions.pop_front();
            // What the new oldest replaced is reachable from no kept version.
            let freed = self
                .versions
                .front_mut()
                .map(|v| std::mem::take(&mut v.replaced))
                .unwrap_or_default();
            for r in freed {
                if let Some(l) = r.leaf() {
                    self.leaves[l].value = self.no_value.clone();
                    self.free_leaves.push(l as u32);
                } else if let Some(i) = r.internal() {
                    self.free_internals.push(i as u32);
                }
            }
        }
        Ok(())
    }

    /// Plans and applies in one step (tests, benchmarks, rebuilding).
    pub fn insert(&mut self, height: u64, entries: Vec<Entry>) -> Result<Hash, TreeError> {
        let update = self.plan(entries)?;
        let root = update.root();
        self.apply(height, update)?;
        Ok(root)
    }

    fn newest(&self) -> &Version {
        // `versions` is never empty: `new` makes one and `apply` keeps
        // at least one.
        &self.versions[self.versions.len() - 1]
    }

    fn version(&self, height: u64) -> Option<&Version> {
        self.versions.iter().rev().find(|v| v.height == height)
    }

    fn hash_of(&self, r: Ref) -> Hash {
        hash_of(self, r)
    }

    /// Reads the node at `r` without waiting on the result, so that its
    /// cache lines are on their way by the time it is used (the walk is
    /// bound by cache misses in a large tree; safe code has no prefetch).
    fn touch(&self, r: Ref) {
        if let Some(l) = r.leaf() {
            let leaf = &self.leaves[l];
            std::hint::black_box((leaf.key.0[0], leaf.hash.0[31]));
        } else if let Some(i) = r.internal() {
            let node = &self.internals[i];
            std::hint::black_box((node.hash.0[0], node.left));
        }
    }
}

fn hash_of(nodes: &impl Nodes, r: Ref) -> Hash {
    if let Some(l) = r.leaf() {
        nodes.leaf(l).hash
    } else if let Some(i) = r.internal() {
        nodes.internal(i).hash
    } else {
        Hash::ZERO
    }
}

fn prove_in(nodes: &impl Nodes, root: Ref, key: &StateKey) -> (Option<Arc<[u8]>>, StateProof) {
    let mut siblings = Vec::new();
    let mut r = root;
    let mut depth = 0;
    let mut leaf = None;
    let mut value = None;
    loop {
        if let Some(l) = r.leaf() {
            let n = nodes.leaf(l);
            leaf = Some(SmtLeaf {
                key: n.key,
                value_hash: n.value_hash,
            });
            if n.key == *key {
                value = Some(n.value.clone());
            }
            break;
        }
        let Some(i) = r.internal() else {
            break;
        };
        let n = nodes.internal(i);
        let (next, other) = if key_bit(key, depth) {
            (n.right, n.left)
        } else {
            (n.left, n.right)
        };
        siblings.push(hash_of(nodes, other));
        r = next;
        depth += 1;
    }
    // The depth of a compact tree is below 256: two distinct keys differ
    // in some bit.
    let siblings = List::new(siblings).unwrap_or_default();
    (value, StateProof { leaf, siblings })
}
