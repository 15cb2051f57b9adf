//! Planning an update: the walk down the newest version that lays out
//! the new paths and picks a slot for each new node, reading the slabs
//! only; then the hashing of the new nodes, deepest first, each depth's
//! nodes side by side in SIMD lanes (D42).

use std::sync::Arc;

use chancery_types::Hash;
use chancery_types::keyed_blocks::keyed_hash_blocks;
use chancery_types::state_proof::{SMT_LEAF_KEY, SMT_NODE_KEY, StateKey, key_bit};

use super::slab::Slab;
use super::{Internal, LEAF_BIT, Leaf, MAX_SLOTS, Ref, StateTrees};

/// A leaf to place: a new value, or a leaf of the old tree that a new key
/// displaced downwards, kept as it is (its hashes are already computed).
#[derive(Clone)]
pub(super) enum Item {
    New { key: StateKey, value: Arc<[u8]> },
    Kept { key: StateKey, slot: Ref },
}

impl Item {
    pub(super) fn key(&self) -> &StateKey {
        match self {
            Item::New { key, .. } | Item::Kept { key, .. } => key,
        }
    }
}

/// Where a planned subtree's hash comes from: a node of the old tree (or
/// the empty tree), whose hash is known, or a staged node, whose hash is
/// computed once the walk is over (by its index among the staged nodes).
#[derive(Clone, Copy)]
pub(super) enum Pending {
    Known(Hash),
    Leaf(u32),
    Internal(u32),
}

/// A planned subtree: where it is and where its hash comes from.
#[derive(Clone, Copy)]
pub(super) struct Sub {
    pub(super) r: Ref,
    pub(super) hash: Pending,
}

const EMPTY: Sub = Sub {
    r: Ref::EMPTY,
    hash: Pending::Known(Hash::ZERO),
};

pub(super) struct Planner<'a> {
    pub(super) trees: &'a StateTrees,
    pub(super) internals: Staged<Internal>,
    pub(super) leaves: Staged<Leaf>,
    /// The new internal nodes by depth: index among the staged internals
    /// and the sources of its children's hashes.
    pub(super) levels: Vec<Vec<(u32, Pending, Pending)>>,
    pub(super) replaced: Vec<Ref>,
    pub(super) added: u64,
    pub(super) full: Option<&'static str>,
}

/// New nodes of one kind and the slots they will take: from the top of
/// the slab's free list first, then after the slab's end (the free list
/// and slab as they were when planning began).
#[derive(Debug)]
pub(super) struct Staged<T> {
    pub(super) nodes: Vec<(u32, T)>,
    free_used: usize,
}

impl<T> Staged<T> {
    pub(super) fn new() -> Self {
        Staged {
            nodes: Vec::new(),
            free_used: 0,
        }
    }

    /// Stages `node` in the next slot: the slot and the node's index
    /// among the staged ones; `None` if the slab is full.
    fn place(&mut self, free: &[u32], slab_len: usize, node: T) -> Option<(u32, u32)> {
        let slot = if self.free_used < free.len() {
            self.free_used += 1;
            free[free.len() - self.free_used]
        } else {
            let fresh = (slab_len + self.nodes.len() - self.free_used) as u64;
            if fresh >= MAX_SLOTS {
                return None;
            }
            fresh as u32
        };
        let index = self.nodes.len() as u32;
        self.nodes.push((slot, node));
        Some((slot, index))
    }

    /// Writes the staged nodes into `slab`, taking their slots off `free`.
    pub(super) fn write(self, free: &mut Vec<u32>, slab: &mut Slab<T>) {
        free.truncate(free.len() - self.free_used);
        for (slot, node) in self.nodes {
            let slot = slot as usize;
            if slot < slab.len() {
                slab[slot] = node;
            } else {
                // Fresh slots are handed out in order, after the slab's end.
                debug_assert_eq!(slot, slab.len());
                slab.push(node);
            }
        }
    }
}

impl Planner<'_> {
    /// Items are sorted by key and distinct.
    pub(super) fn update(&mut self, tree: Ref, items: &[Item], depth: usize) -> Sub {
        if items.is_empty() {
            return Sub {
                r: tree,
                hash: Pending::Known(self.trees.hash_of(tree)),
            };
        }
        if tree.is_empty() {
            self.added += items.len() as u64;
            return self.build(items, depth);
        }
        if let Some(l) = tree.leaf() {
            // The old leaf goes in among the items, in key order, unless
            // an item replaces it.
            let key = self.trees.leaves[l].key;
            let kept = Item::Kept { key, slot: tree };
            let mut merged: Vec<Item> = Vec::with_capacity(items.len() + 1);
            let mut placed = false;
            for it in items {
                if !placed && key < *it.key() {
                    merged.push(kept.clone());
                    placed = true;
                }
                if *it.key() == key {
                    placed = true;
                    self.replaced.push(tree);
                }
                merged.push(it.clone());
            }
            if !placed {
                merged.push(kept);
            }
            self.added += (merged.len() - 1) as u64;
            return self.build(&merged, depth);
        }
        let Some(i) = tree.internal() else {
            return EMPTY;
        };
        self.replaced.push(tree);
        let (left, right) = {
            let n = &self.trees.internals[i];
            (n.left, n.right)
        };
        // Both children are read below, one right after the other (a new
        // path goes on through one, the other's hash is its sibling), and
        // in a large tree each is a cache miss: start both loads now.
        self.trees.touch(left);
        self.trees.touch(right);
        let split = items.partition_point(|it| !key_bit(it.key(), depth));
        let l = self.update(left, &items[..split], depth + 1);
        let r = self.update(right, &items[split..], depth + 1);
        self.internal(l, r, depth)
    }

    /// A subtree holding exactly `items` (sorted, distinct).
    fn build(&mut self, items: &[Item], depth: usize) -> Sub {
        match items {
            [] => EMPTY,
            [Item::Kept { slot, .. }] => Sub {
                r: *slot,
                hash: Pending::Known(self.trees.hash_of(*slot)),
            },
            [Item::New { key, value }] => self.leaf(*key, value.clone()),
            _ if depth >= 256 => EMPTY, // unreachable: distinct keys differ in some bit
            _ => {
                let split = items.partition_point(|it| !key_bit(it.key(), depth));
                let l = self.build(&items[..split], depth + 1);
                let r = self.build(&items[split..], depth + 1);
                self.internal(l, r, depth)
            }
        }
    }

    fn leaf(&mut self, key: StateKey, value: Arc<[u8]>) -> Sub {
        let leaf = Leaf {
            key,
            value_hash: Hash::of(&value),
            value,
            hash: Hash::ZERO, // see `hash`
        };
        let trees = self.trees;
        let Some((slot, index)) = self
            .leaves
            .place(&trees.free_leaves, trees.leaves.len(), leaf)
        else {
            self.full = Some("leaf");
            return EMPTY;
        };
        Sub {
            r: Ref(slot | LEAF_BIT),
            hash: Pending::Leaf(index),
        }
    }

    /// The node at `depth` over `left` and `right` (each at `depth + 1`).
    fn internal(&mut self, left: Sub, right: Sub, depth: usize) -> Sub {
        match (left.r.is_empty(), right.r.is_empty()) {
            (true, true) => return EMPTY,
            (false, true) if left.r.leaf().is_some() => return left,
            (true, false) if right.r.leaf().is_some() => return right,
            _ => {}
        }
        let node = Internal {
            left: left.r,
            right: right.r,
            hash: Hash::ZERO, // see `hash`
        };
        let trees = self.trees;
        let Some((slot, index)) =
            self.internals
                .place(&trees.free_internals, trees.internals.len(), node)
        else {
            self.full = Some("internal");
            return EMPTY;
        };
        if self.levels.len() <= depth {
            self.levels.resize_with(depth + 1, Vec::new);
        }
        self.levels[depth].push((index, left.hash, right.hash));
        Sub {
            r: Ref(slot),
            hash: Pending::Internal(index),
        }
    }

    /// Hashes the staged nodes, leaves first and then the internal nodes
    /// deepest first: a new internal node's new children are exactly one
    /// level deeper, or leaves. Returns the hash of `root`.
    pub(super) fn hash(&mut self, root: Sub) -> Hash {
        let mut blocks: Vec<[u8; 64]> = self
            .leaves
            .nodes
            .iter()
            .map(|(_, l)| block(&l.key, &l.value_hash))
            .collect();
        let mut hashes = Vec::with_capacity(blocks.len());
        keyed_hash_blocks(&SMT_LEAF_KEY, &blocks, &mut hashes);
        for ((_, leaf), h) in self.leaves.nodes.iter_mut().zip(&hashes) {
            leaf.hash = *h;
        }
        let levels = std::mem::take(&mut self.levels);
        for level in levels.iter().rev() {
            blocks.clear();
            hashes.clear();
            blocks.extend(
                level
                    .iter()
                    .map(|(_, l, r)| block(&self.resolve(*l), &self.resolve(*r))),
            );
            keyed_hash_blocks(&SMT_NODE_KEY, &blocks, &mut hashes);
            for ((index, _, _), h) in level.iter().zip(&hashes) {
                self.internals.nodes[*index as usize].1.hash = *h;
            }
        }
        self.resolve(root.hash)
    }

    fn resolve(&self, p: Pending) -> Hash {
        match p {
            Pending::Known(h) => h,
            Pending::Leaf(i) => self.leaves.nodes[i as usize].1.hash,
            Pending::Internal(i) => self.internals.nodes[i as usize].1.hash,
        }
    }
}

/// The 64 bytes a state-tree hash covers: two 32-byte halves.
fn block(a: &Hash, b: &Hash) -> [u8; 64] {
    let mut buf = [0u8; 64];
    buf[..32].copy_from_slice(&a.0);
    buf[32..].copy_from_slice(&b.0);
    buf
}
