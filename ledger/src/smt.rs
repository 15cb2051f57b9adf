//! The state tree: a compact sparse Merkle tree over 256-bit keys (hashing
//! and proof verification in `chancery_types::state_proof`).
//!
//! The tree is persistent in the functional sense: an update returns a new
//! [`Smt`] sharing every untouched subtree with the old one (`Arc`), so the
//! ledger keeps the trees of the last few executed heights at little cost
//! and can prove against any of their roots. Leaves carry their value
//! bytes, so a proof comes with the value it proves.
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

use std::sync::Arc;

use chancery_types::Hash;
use chancery_types::bounded::List;
use chancery_types::state_proof::{
    SmtLeaf, StateKey, StateProof, key_bit, smt_leaf_hash, smt_node_hash,
};

type Tree = Option<Arc<Node>>;

#[derive(Debug)]
enum Node {
    Leaf {
        key: StateKey,
        value: Arc<[u8]>,
        value_hash: Hash,
        hash: Hash,
    },
    Internal {
        left: Tree,
        right: Tree,
        hash: Hash,
    },
}

impl Node {
    fn hash(&self) -> Hash {
        match self {
            Node::Leaf { hash, .. } | Node::Internal { hash, .. } => *hash,
        }
    }
}

fn tree_hash(t: &Tree) -> Hash {
    t.as_ref().map_or(Hash::ZERO, |n| n.hash())
}

/// One entry to write: key and value bytes (canonical `Status`).
pub type Entry = (StateKey, Arc<[u8]>);

/// A sparse Merkle tree version. Cheap to clone.
#[derive(Clone, Debug, Default)]
pub struct Smt {
    root: Tree,
    len: u64,
}

impl Smt {
    /// The empty tree (root `Hash::ZERO`).
    pub fn new() -> Self {
        Smt::default()
    }

    /// Builds a tree from entries (any order; for a repeated key the last wins).
    pub fn from_entries(entries: Vec<Entry>) -> Self {
        Smt::new().with(entries)
    }

    /// The root hash.
    pub fn root(&self) -> Hash {
        tree_hash(&self.root)
    }

    /// Number of keys.
    pub fn len(&self) -> u64 {
        self.len
    }

    /// Whether the tree is empty.
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// A new version with `entries` inserted or replaced (for a repeated
    /// key the last wins). Each changed node is hashed once.
    pub fn with(&self, mut entries: Vec<Entry>) -> Smt {
        // Stable sort keeps the order of equal keys; keep the last of each.
        entries.sort_by_key(|a| a.0);
        let mut items: Vec<Item> = Vec::with_capacity(entries.len());
        for (key, value) in entries {
            if items.last().is_some_and(|l| *l.key() == key) {
                items.pop();
            }
            items.push(Item::New { key, value });
        }
        let mut added = 0u64;
        let root = update(&self.root, &items, 0, &mut added);
        Smt {
            root,
            len: self.len + added,
        }
    }

    /// The value at `key`, borrowed from the tree.
    pub fn get_bytes(&self, key: &StateKey) -> Option<&[u8]> {
        self.leaf_value(key).map(|v| &v[..])
    }

    /// The value at `key`.
    pub fn get(&self, key: &StateKey) -> Option<Arc<[u8]>> {
        self.leaf_value(key).cloned()
    }

    fn leaf_value(&self, key: &StateKey) -> Option<&Arc<[u8]>> {
        let mut node = self.root.as_ref();
        let mut depth = 0;
        while let Some(n) = node {
            match n.as_ref() {
                Node::Leaf { key: k, value, .. } => {
                    return (k == key).then_some(value);
                }
                Node::Internal { left, right, .. } => {
                    node = (if key_bit(key, depth) { right } else { left }).as_ref();
                    depth += 1;
                }
            }
        }
        None
    }

    /// The value at `key` (if any) and a proof of it, or of its absence.
    pub fn prove(&self, key: &StateKey) -> (Option<Arc<[u8]>>, StateProof) {
        let mut siblings = Vec::new();
        let mut node = self.root.as_ref();
        let mut depth = 0;
        let mut leaf = None;
        let mut value = None;
        while let Some(n) = node {
            match n.as_ref() {
                Node::Leaf {
                    key: k,
                    value: v,
                    value_hash,
                    ..
                } => {
                    leaf = Some(SmtLeaf {
                        key: *k,
                        value_hash: *value_hash,
                    });
                    if k == key {
                        value = Some(v.clone());
                    }
                    break;
                }
                Node::Internal { left, right, .. } => {
                    let (next, other) = if key_bit(key, depth) {
                        (right, left)
                    } else {
                        (left, right)
                    };
                    siblings.push(tree_hash(other));
                    node = next.as_ref();
                    depth += 1;
                }
            }
        }
        // The depth of a compact tree is below 256: two distinct keys
        // differ in some bit.
        let siblings = List::new(siblings).unwrap_or_default();
        (value, StateProof { leaf, siblings })
    }
}

/// A leaf to place: a new value, or a leaf of the old tree that a new key
/// displaced downwards, kept as it is (its hashes are already computed).
#[derive(Clone)]
enum Item {
    New { key: StateKey, value: Arc<[u8]> },
    Kept { key: StateKey, node: Arc<Node> },
}

impl Item {
    fn key(&self) -> &StateKey {
        match self {
            Item::New { key, .. } | Item::Kept { key, .. } => key,
        }
    }

    fn to_tree(&self) -> Tree {
        match self {
            Item::New { key, value } => leaf(*key, value.clone()),
            Item::Kept { node, .. } => Some(node.clone()),
        }
    }
}

fn leaf(key: StateKey, value: Arc<[u8]>) -> Tree {
    let value_hash = Hash::of(&value);
    Some(Arc::new(Node::Leaf {
        key,
        hash: smt_leaf_hash(&key, &value_hash),
        value,
        value_hash,
    }))
}

fn internal(left: Tree, right: Tree) -> Tree {
    match (&left, &right) {
        (None, None) => None,
        (Some(n), None) | (None, Some(n)) if matches!(n.as_ref(), Node::Leaf { .. }) => {
            Some(n.clone())
        }
        _ => {
            let hash = smt_node_hash(&tree_hash(&left), &tree_hash(&right));
            Some(Arc::new(Node::Internal { left, right, hash }))
        }
    }
}

/// Items are sorted by key and distinct. `added` counts new keys.
fn update(tree: &Tree, items: &[Item], depth: usize, added: &mut u64) -> Tree {
    if items.is_empty() {
        return tree.clone();
    }
    let Some(node) = tree else {
        *added += items.len() as u64;
        return build(items, depth);
    };
    match node.as_ref() {
        Node::Leaf { key, .. } => {
            // The old leaf goes in among the items, in key order, unless
            // an item replaces it.
            let kept = || Item::Kept {
                key: *key,
                node: node.clone(),
            };
            let mut merged: Vec<Item> = Vec::with_capacity(items.len() + 1);
            let mut placed = false;
            for it in items {
                if !placed && key < it.key() {
                    merged.push(kept());
                    placed = true;
                }
                if it.key() == key {
                    placed = true;
                }
                merged.push(it.clone());
            }
            if !placed {
                merged.push(kept());
            }
            *added += (merged.len() - 1) as u64;
            build(&merged, depth)
        }
        Node::Internal { left, right, .. } => {
            let split = items.partition_point(|it| !key_bit(it.key(), depth));
            internal(
                update(left, &items[..split], depth + 1, added),
                update(right, &items[split..], depth + 1, added),
            )
        }
    }
}

/// A subtree holding exactly `items` (sorted, distinct).
fn build(items: &[Item], depth: usize) -> Tree {
    match items {
        [] => None,
        [one] => one.to_tree(),
        _ if depth >= 256 => None, // unreachable: distinct keys differ in some bit
        _ => {
            let split = items.partition_point(|it| !key_bit(it.key(), depth));
            internal(
                build(&items[..split], depth + 1),
                build(&items[split..], depth + 1),
            )
        }
    }
}
