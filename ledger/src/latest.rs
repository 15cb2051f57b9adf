//! The latest status of every state key, in memory, for execution to read
//! (a hash lookup instead of a walk down the state tree).
//!
//! One hash map holding every key rehashes all of them each time it
//! doubles: 18 ms at 229,000 keys, 144 ms at 1.8 M, inside a commit and on
//! every validator at the same height (D32). [`LatestStatuses`] splits the
//! keys over [`SHARDS`] maps of unequal shares of the key space, shard `i`
//! taking a share proportional to `2^(i/SHARDS)`. Keys are hashes, so each
//! shard holds its share of the keys, and the shards cross their doubling
//! points at evenly spread moments: each resize moves about a
//! `SHARDS`-th of the keys, and no two come together.

use std::collections::HashMap;
use std::sync::{Arc, LazyLock};

use chancery_types::fast_hash::FastMap;
use chancery_types::state_proof::StateKey;

/// How many maps the keys are split over.
pub const SHARDS: usize = 32;

/// Keys are routed to shards by their first 12 bits.
const PREFIX_BITS: usize = 12;

/// The latest statuses by key (canonical `Status` bytes).
#[derive(Debug)]
pub struct LatestStatuses {
    shards: Vec<FastMap<StateKey, Arc<[u8]>>>,
}

impl Default for LatestStatuses {
    fn default() -> Self {
        LatestStatuses {
            shards: vec![FastMap::default(); SHARDS],
        }
    }
}

/// `ROUTE[p]` is the shard of keys whose first 12 bits are `p`: with `x` the
/// prefix as a fraction of the key space, `⌊SHARDS · log₂(1 + x)⌋`, so that
/// shard `i` spans `2^((i+1)/SHARDS) − 2^(i/SHARDS)` of it.
static ROUTE: LazyLock<[u8; 1 << PREFIX_BITS]> = LazyLock::new(|| {
    let n = 1usize << PREFIX_BITS;
    std::array::from_fn(|p| {
        let x = (p as f64 + 0.5) / n as f64;
        ((SHARDS as f64 * (1.0 + x).log2()) as usize).min(SHARDS - 1) as u8
    })
});

impl LatestStatuses {
    fn shard(&self, key: &StateKey) -> usize {
        let prefix = (usize::from(key.0[0]) << 4) | usize::from(key.0[1] >> 4);
        usize::from(ROUTE[prefix])
    }

    /// The latest status bytes of `key`.
    pub fn get(&self, key: &StateKey) -> Option<&Arc<[u8]>> {
        self.shards[self.shard(key)].get(key)
    }

    /// Sets `key`'s latest status.
    pub fn insert(&mut self, key: StateKey, value: Arc<[u8]>) {
        let s = self.shard(&key);
        self.shards[s].insert(key, value);
    }

    /// How many keys have a status.
    pub fn len(&self) -> usize {
        self.shards.iter().map(HashMap::len).sum()
    }

    /// No key has a status.
    pub fn is_empty(&self) -> bool {
        self.shards.iter().all(HashMap::is_empty)
    }

    /// Every key and its status, in no particular order.
    pub fn iter(&self) -> impl Iterator<Item = (&StateKey, &Arc<[u8]>)> {
        self.shards.iter().flat_map(HashMap::iter)
    }
}

impl Extend<(StateKey, Arc<[u8]>)> for LatestStatuses {
    fn extend<I: IntoIterator<Item = (StateKey, Arc<[u8]>)>>(&mut self, entries: I) {
        for (k, v) in entries {
            self.insert(k, v);
        }
    }
}

impl FromIterator<(StateKey, Arc<[u8]>)> for LatestStatuses {
    fn from_iter<I: IntoIterator<Item = (StateKey, Arc<[u8]>)>>(entries: I) -> Self {
        let mut m = LatestStatuses::default();
        m.extend(entries);
        m
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chancery_types::Hash;

    fn key(i: u64) -> StateKey {
        Hash::of(&i.to_be_bytes())
    }

    #[test]
    fn holds_the_last_value_of_every_key() {
        let mut m = LatestStatuses::default();
        for i in 0..10_000u64 {
            m.insert(key(i), Arc::from(&i.to_be_bytes()[..]));
        }
        for i in (0..10_000u64).step_by(3) {
            m.insert(key(i), Arc::from(&[7u8][..]));
        }
        assert_eq!(m.len(), 10_000);
        assert_eq!(m.iter().count(), 10_000);
        for i in 0..10_000u64 {
            let want: &[u8] = if i % 3 == 0 { &[7] } else { &i.to_be_bytes() };
            assert_eq!(m.get(&key(i)).map(|v| &v[..]), Some(want), "key {i}");
        }
        assert_eq!(m.get(&key(10_000)), None);
    }

    /// Shard `i` holds about `2^(i/SHARDS)` times shard 0's share of the
    /// keys, so the shards reach their doubling points one after another,
    /// spread out: at most three resize while half a percent of the keys
    /// are inserted (equal shards would all resize within a few hundred
    /// inserts, in one commit), and none moves more than about two
    /// `SHARDS`-ths of the keys.
    #[test]
    fn shards_resize_at_spread_moments() {
        let mut m = LatestStatuses::default();
        let caps = |m: &LatestStatuses| m.shards.iter().map(HashMap::capacity).collect::<Vec<_>>();
        let mut before = caps(&m);
        let mut resizes = 0;
        let mut at: Vec<u64> = Vec::new();
        for i in 0..300_000u64 {
            m.insert(key(i), Arc::from(&[0u8][..]));
            let after = caps(&m);
            let grown: Vec<usize> = (0..SHARDS).filter(|&s| after[s] != before[s]).collect();
            if i >= 10_000 && !grown.is_empty() {
                resizes += 1;
                assert_eq!(grown.len(), 1, "insert {i} resized shards {grown:?}");
                at.push(i);
                let close = at.iter().filter(|&&j| j + i / 200 > i).count();
                assert!(
                    close <= 3,
                    "{close} resizes within {} inserts up to {i}",
                    i / 200
                );
                let moved = m.shards[grown[0]].len();
                assert!(
                    moved * SHARDS < 2 * m.len() + 2 * SHARDS,
                    "insert {i}: shard {} moved {moved} of {} keys",
                    grown[0],
                    m.len()
                );
            }
            before = after;
        }
        // Five doublings of the total from 10,000 to 300,000: every shard
        // resized in each.
        assert!(resizes >= 4 * SHARDS, "{resizes} resizes");
        // A single map would have moved every key at once.
        let lens: Vec<usize> = m.shards.iter().map(HashMap::len).collect();
        let (min, max) = (lens.iter().min().unwrap(), lens.iter().max().unwrap());
        let ratio = *max as f64 / *min as f64;
        assert!(ratio > 1.7 && ratio < 2.2, "shard sizes {lens:?}");
    }
}
