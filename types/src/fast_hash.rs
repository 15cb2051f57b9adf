//! Hash maps and sets for keys that are themselves hashes (record ids,
//! state keys, block hashes), with a seeded fast hasher (D34).
//!
//! The standard library's SipHash costs about as much as a skip-list step
//! for a 32-byte key, and the ledger and the node look such keys up
//! several times per record. These keys are blake3 outputs, which nobody
//! can choose, and [`foldhash`] is seeded at random per map, so a flood of
//! colliding keys needs a blake3 preimage search against a seed the
//! attacker does not know. Iteration order is random as with the standard
//! maps: nothing deterministic may depend on it.

use std::collections::{HashMap, HashSet};

/// The hasher builder: seeded at random for every map.
pub type FastState = foldhash::fast::RandomState;

/// A [`HashMap`] with [`FastState`].
pub type FastMap<K, V> = HashMap<K, V, FastState>;

/// A [`HashSet`] with [`FastState`].
pub type FastSet<K> = HashSet<K, FastState>;

/// An empty [`FastMap`] with room for `n` entries.
pub fn map_with_capacity<K, V>(n: usize) -> FastMap<K, V> {
    HashMap::with_capacity_and_hasher(n, FastState::default())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Hash;

    #[test]
    fn maps_keyed_by_hashes_find_what_they_hold() {
        let keys: Vec<Hash> = (0u32..1000).map(|i| Hash::of(&i.to_be_bytes())).collect();
        let mut m = map_with_capacity(10);
        for (i, k) in keys.iter().enumerate() {
            assert!(m.insert(*k, i).is_none());
        }
        for (i, k) in keys.iter().enumerate() {
            assert_eq!(m.get(k), Some(&i));
        }
        assert!(!m.contains_key(&Hash::of(b"absent")));
        let s: FastSet<Hash> = keys.iter().copied().collect();
        assert_eq!(s.len(), keys.len());
    }
}
