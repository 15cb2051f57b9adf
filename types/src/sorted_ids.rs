//! Finding a record id in a slice sorted by id, the way hashes allow:
//! [`position`] guesses where an id lies from its leading bytes
//! (interpolation search) instead of halving the range. The ledger's
//! recent-id run (65,536 ids) is searched this way for every record at
//! admission and again at commit.

use crate::ids::RecordId;

/// Guesses [`position`] makes before it searches the rest by halves.
const GUESSES: usize = 6;

/// Where `id` is in `entries` (sorted by id, no repeats), if it is: the
/// index a binary search would give.
///
/// Record ids are hashes, spread evenly over the key space, so each step
/// guesses the position from where the id's first eight bytes fall
/// between those of the range's ends: about five probes on average in a
/// 65,536-id slice, where a binary search makes seventeen, most of them
/// cache misses. After `GUESSES` guesses, or once the range is short,
/// it searches what is left by halves, so ids that are not spread out
/// (someone could grind them) cost at most about as much as a binary
/// search.
pub fn position<T>(entries: &[(RecordId, T)], id: &RecordId) -> Option<usize> {
    let key = prefix(id);
    // `id` can only be in entries[lo..hi].
    let (mut lo, mut hi) = (0, entries.len());
    for _ in 0..GUESSES {
        if hi - lo <= 8 {
            break;
        }
        let (first, last) = (prefix(&entries[lo].0), prefix(&entries[hi - 1].0));
        if key < first || key > last {
            return None;
        }
        // (key − first) ≤ (last − first), so `at` is within lo..hi.
        let spread = u128::from(last - first).max(1);
        let offset = u128::from(key - first) * (hi - 1 - lo) as u128 / spread;
        let at = lo + offset as usize;
        match entries[at].0.cmp(id) {
            std::cmp::Ordering::Equal => return Some(at),
            std::cmp::Ordering::Less => lo = at + 1,
            std::cmp::Ordering::Greater => hi = at,
        }
    }
    entries[lo..hi]
        .binary_search_by(|(k, _)| k.cmp(id))
        .ok()
        .map(|i| lo + i)
}

/// The first eight bytes of an id, as a number that orders like the id.
fn prefix(id: &RecordId) -> u64 {
    let mut b = [0u8; 8];
    b.copy_from_slice(&id.0.0[..8]);
    u64::from_be_bytes(b)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::hash::Hash;
    use proptest::prelude::*;

    /// Sorted, without repeats, as the ledger's run holds them.
    fn sorted(mut ids: Vec<[u8; 32]>) -> Vec<(RecordId, ())> {
        ids.sort_unstable();
        ids.dedup();
        ids.into_iter().map(|id| (RecordId(Hash(id)), ())).collect()
    }

    fn agrees(entries: &[(RecordId, ())], id: &RecordId) -> Result<(), String> {
        let want = entries.binary_search_by(|(k, _)| k.cmp(id)).ok();
        let got = position(entries, id);
        if got == want {
            Ok(())
        } else {
            Err(format!("{id:?}: got {got:?}, binary search says {want:?}"))
        }
    }

    proptest! {
        /// Ids as hashes make them (spread evenly), ids crowded into a few
        /// prefixes (as someone grinding record ids could make them), and
        /// the edges: every member is found where a binary search finds
        /// it, and ids that are not members are not found.
        #[test]
        fn position_finds_what_a_binary_search_finds(
            ids in prop_oneof![
                proptest::collection::vec(any::<[u8; 32]>(), 0..600),
                proptest::collection::vec(
                    (0u8..3, any::<[u8; 4]>()).prop_map(|(p, tail)| {
                        let mut id = [p; 32];
                        id[28..].copy_from_slice(&tail);
                        id
                    }),
                    0..600,
                ),
            ],
            probes in proptest::collection::vec(any::<[u8; 32]>(), 0..20),
        ) {
            let entries = sorted(ids);
            for (id, _) in &entries {
                prop_assert_eq!(agrees(&entries, id), Ok(()));
            }
            for p in probes {
                prop_assert_eq!(agrees(&entries, &RecordId(Hash(p))), Ok(()));
            }
            for edge in [[0u8; 32], [0xff; 32]] {
                prop_assert_eq!(agrees(&entries, &RecordId(Hash(edge))), Ok(()));
            }
        }
    }

    /// 65,536 hashed ids: every member is found, and an id next to a
    /// member is not.
    #[test]
    fn position_in_a_full_run() {
        let entries = sorted(
            (0..65_536u64)
                .map(|i| Hash::of(&i.to_be_bytes()).0)
                .collect(),
        );
        for (i, (id, _)) in entries.iter().enumerate() {
            assert_eq!(position(&entries, id), Some(i));
            let mut next = id.0.0;
            next[31] ^= 1;
            assert_eq!(agrees(&entries, &RecordId(Hash(next))), Ok(()));
        }
    }
}
