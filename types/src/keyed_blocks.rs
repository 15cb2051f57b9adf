//! Many keyed blake3 hashes of one 64-byte block each, computed side by
//! side in SIMD lanes (8 at a time with AVX2, 4 with SSE4.1 or NEON).
//!
//! The state tree hashes thousands of such blocks per block it commits
//! (`smt_leaf_hash`, `smt_node_hash`: a key and two 32-byte halves), and
//! the nodes of one depth do not depend on each other. One at a time,
//! each is a single compression on one lane; side by side, about five
//! times as many fit in the same time on an AVX2 machine (D42).
//!
//! It uses blake3's `platform` module, which the crate exports for its
//! own benchmarks and does not document; the workspace pins blake3's
//! exact version, and the tests here check every lane count against
//! [`blake3::keyed_hash`], so a change in that module fails the build's
//! tests instead of changing a hash.

use std::sync::LazyLock;

use blake3::IncrementCounter;
use blake3::platform::Platform;

use crate::hash::Hash;

/// BLAKE3 domain flags (the specification's, section 2.1).
const CHUNK_START: u8 = 1 << 0;
const CHUNK_END: u8 = 1 << 1;
const ROOT: u8 = 1 << 3;
const KEYED_HASH: u8 = 1 << 4;

/// Inputs handed to blake3 per call: two passes of the widest lanes
/// (AVX-512 would take 16 at once).
const GROUP: usize = 16;

static PLATFORM: LazyLock<Platform> = LazyLock::new(Platform::detect);

/// Appends `blake3::keyed_hash(key, block)` for each of `blocks`, in
/// order, to `out`.
pub fn keyed_hash_blocks(key: &[u8; 32], blocks: &[[u8; 64]], out: &mut Vec<Hash>) {
    let mut key_words = [0u32; 8];
    for (w, bytes) in key_words.iter_mut().zip(key.chunks_exact(4)) {
        *w = u32::from_le_bytes([bytes[0], bytes[1], bytes[2], bytes[3]]);
    }
    out.reserve(blocks.len());
    let mut digests = [0u8; 32 * GROUP];
    for group in blocks.chunks(GROUP) {
        let inputs: [&[u8; 64]; GROUP] = std::array::from_fn(|i| group.get(i).unwrap_or(&group[0]));
        let n = group.len();
        // One single-block chunk per input, which is also the root: the
        // flags of a whole `keyed_hash` of 64 bytes.
        PLATFORM.hash_many(
            &inputs[..n],
            &key_words,
            0,
            IncrementCounter::No,
            KEYED_HASH | ROOT,
            CHUNK_START,
            CHUNK_END,
            &mut digests[..32 * n],
        );
        for d in digests[..32 * n].chunks_exact(32) {
            let mut h = [0u8; 32];
            h.copy_from_slice(d);
            out.push(Hash(h));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn block(i: usize) -> [u8; 64] {
        let mut b = [0u8; 64];
        for (j, x) in b.iter_mut().enumerate() {
            *x = (i * 131 + j * 7) as u8;
        }
        b
    }

    #[test]
    fn every_lane_count_agrees_with_keyed_hash() {
        let key = *b"chancery/v2/state-tree/node/key!";
        // Every remainder of the 16-, 8- and 4-lane passes, and several groups.
        for n in 0..=50 {
            let blocks: Vec<[u8; 64]> = (0..n).map(|i| block(i + 1000 * n)).collect();
            let mut out = vec![Hash::ZERO];
            keyed_hash_blocks(&key, &blocks, &mut out);
            assert_eq!(out.len(), n + 1, "appends one hash per block");
            assert_eq!(out[0], Hash::ZERO, "keeps what was there");
            for (b, h) in blocks.iter().zip(&out[1..]) {
                assert_eq!(h.0, *blake3::keyed_hash(&key, b).as_bytes(), "{n} blocks");
            }
        }
    }

    #[test]
    fn the_key_is_used() {
        let blocks = [block(1), block(2)];
        let (mut a, mut b) = (Vec::new(), Vec::new());
        keyed_hash_blocks(&[1u8; 32], &blocks, &mut a);
        keyed_hash_blocks(&[2u8; 32], &blocks, &mut b);
        assert_ne!(a, b);
        assert_eq!(
            a[1].0,
            *blake3::keyed_hash(&[1u8; 32], &blocks[1]).as_bytes()
        );
    }
}
