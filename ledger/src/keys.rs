//! Key and small-value layouts of every column (docs/LEDGER.md has the table).
//! Integers in keys are big-endian so that byte order is numeric order.

use chancery_types::{Hash, Timestamp};

use crate::error::{LedgerError, Result};

/// Meta: the chain id (32 bytes).
pub const META_CHAIN_ID: &[u8] = b"chain_id";
/// Meta: the canonical genesis.
pub const META_GENESIS: &[u8] = b"genesis";
/// Meta: the tip (see [`TipRecord`]).
pub const META_TIP: &[u8] = b"tip";
/// Meta: the store's format, [`STORE_FORMAT`] (`u32` big-endian). Stores
/// without it are format 1, made before the state-tree hash and the
/// records layout changed (D35, D36), and are refused.
pub const META_FORMAT: &[u8] = b"format";
/// The store format this build reads and writes.
pub const STORE_FORMAT: u32 = 2;
/// Meta: the last height whose record ids are all in `Column::RecordIds`
/// (big-endian u64; see `crate::ids`).
pub const META_IDS_THROUGH: &[u8] = b"ids_through";

/// State: expiry queue, `e ‖ valid_until ‖ height ‖ index` → state key
/// (see [`expiry_key`]).
pub const STATE_EXPIRY: u8 = b'e';
/// State: `x ‖ height` → `ExecSummary`.
pub const STATE_SUMMARY: u8 = b'x';
/// State: `a ‖ agency id` → canonical `Agency`.
pub const STATE_AGENCY: u8 = b'a';
/// State: `p` → canonical `Policy`.
pub const STATE_POLICY: u8 = b'p';
/// State: `r` → the rules as governance left them (absent: as in genesis).
pub const STATE_RULES: u8 = b'r';
/// State: `v ‖ first height` → canonical `ValidatorSet` (each scheduled change).
pub const STATE_VALSET: u8 = b'v';
/// State: `V ‖ first height` → canonical `StoredSetChange`: the schedule of
/// that change and its proof in the state after the block that carried it.
pub const STATE_VALPROOF: u8 = b'V';

/// Index: `s ‖ len ‖ subject ‖ log index` → empty.
pub const IDX_SUBJECT: u8 = b's';
/// Index: `i ‖ len ‖ issuer ‖ log index` → empty.
pub const IDX_ISSUER: u8 = b'i';
/// Index: `k ‖ len ‖ kind name ‖ log index` → empty.
pub const IDX_KIND: u8 = b'k';

/// `u64` big-endian.
pub fn height_key(h: u64) -> [u8; 8] {
    h.to_be_bytes()
}

/// Records column key: the record's log index (a block's records are
/// contiguous, in block order).
pub fn record_key(log_index: u64) -> [u8; 8] {
    log_index.to_be_bytes()
}

/// Appends a records-column value: the record's index in its block
/// (`u32`), the length of its canonical `LogEntry` (`u32`), the entry,
/// then the canonical `SignedRecord` (D36).
pub fn encode_record_value(
    index: u32,
    entry: &chancery_types::LogEntry,
    record: &chancery_types::SignedRecord,
    v: &mut Vec<u8>,
) {
    use chancery_types::Canonical;
    v.extend_from_slice(&index.to_be_bytes());
    let at = v.len();
    v.extend_from_slice(&[0; 4]);
    entry.to_canonical_into(v);
    let len = (v.len() - at - 4) as u32;
    v[at..at + 4].copy_from_slice(&len.to_be_bytes());
    record.to_canonical_into(v);
}

/// A records-column value's parts: index in block, log entry, and the
/// record's canonical bytes (not decoded: most readers need the entry only).
pub fn decode_record_value(v: &[u8]) -> Result<(u32, chancery_types::LogEntry, &[u8])> {
    use chancery_types::Canonical;
    let index = be_u32(v, 0, "record value")?;
    let len = be_u32(v, 4, "record value")? as usize;
    let entry = v
        .get(8..8 + len)
        .ok_or_else(|| short("record value", v.len()))?;
    let entry = chancery_types::LogEntry::from_canonical(entry)
        .map_err(crate::error::decode_err("log entry"))?;
    Ok((index, entry, &v[8 + len..]))
}

/// Log node key: level ‖ index.
pub fn log_node_key(level: u8, index: u64) -> [u8; 9] {
    let mut k = [0u8; 9];
    k[0] = level;
    k[1..].copy_from_slice(&index.to_be_bytes());
    k
}

/// A one-byte tag followed by bytes.
pub fn tagged(tag: u8, rest: &[u8]) -> Vec<u8> {
    let mut k = Vec::with_capacity(1 + rest.len());
    k.push(tag);
    k.extend_from_slice(rest);
    k
}

/// Expiry queue key: `e ‖ valid_until ‖ height ‖ record index` (the
/// value is the state key). Entries of one expiry time go in commit
/// order, so most inserts land at the end of their run instead of at a
/// random place in it.
pub fn expiry_key(until: Timestamp, height: u64, index: u32) -> Vec<u8> {
    let mut k = Vec::with_capacity(EXPIRY_KEY_LEN);
    k.push(STATE_EXPIRY);
    k.extend_from_slice(&until.0.to_be_bytes());
    k.extend_from_slice(&height.to_be_bytes());
    k.extend_from_slice(&index.to_be_bytes());
    k
}

/// Length of an [`expiry_key`].
pub const EXPIRY_KEY_LEN: usize = 21;

/// The first expiry queue key with `valid_until ≥ until`.
pub fn expiry_from(until: Timestamp) -> Vec<u8> {
    tagged(STATE_EXPIRY, &until.0.to_be_bytes())
}

/// Summary key.
pub fn summary_key(h: u64) -> Vec<u8> {
    tagged(STATE_SUMMARY, &h.to_be_bytes())
}

/// Prefix of a secondary index: tag ‖ len(value) ‖ value. Values are at
/// most 128 bytes, so the length fits one byte and no prefix of one value
/// is the prefix of another.
pub fn secondary_prefix(tag: u8, value: &[u8]) -> Vec<u8> {
    let mut k = Vec::with_capacity(2 + value.len() + 8);
    k.push(tag);
    k.push(value.len().min(255) as u8);
    k.extend_from_slice(value);
    k
}

/// Full secondary index key.
pub fn secondary_key(tag: u8, value: &[u8], log_index: u64) -> Vec<u8> {
    let mut k = secondary_prefix(tag, value);
    k.extend_from_slice(&log_index.to_be_bytes());
    k
}

/// The value of a secondary index entry: one block's log positions with
/// the same value, keyed by the last of them (`secondary_key(…, last)`).
/// The others are stored as `u32` offsets back from `last`, in ascending
/// position order; an empty value is a run of `last` alone.
pub fn encode_run(positions: &[u64]) -> Vec<u8> {
    let Some((&last, rest)) = positions.split_last() else {
        return Vec::new();
    };
    let mut v = Vec::with_capacity(rest.len() * 4);
    for p in rest {
        // One block's positions are at most MAX_BLOCK_RECORDS apart.
        v.extend_from_slice(&((last - p) as u32).to_be_bytes());
    }
    v
}

/// The log positions of a secondary index entry whose key ends in `last`,
/// ascending.
pub fn decode_run(last: u64, value: &[u8]) -> Result<Vec<u64>> {
    if !value.len().is_multiple_of(4) {
        return Err(short("secondary index run", value.len()));
    }
    let mut out = Vec::with_capacity(value.len() / 4 + 1);
    for chunk in value.chunks_exact(4) {
        let back = u32::from_be_bytes([chunk[0], chunk[1], chunk[2], chunk[3]]);
        let p = last
            .checked_sub(u64::from(back))
            .ok_or_else(|| short("secondary index run", value.len()))?;
        out.push(p);
    }
    out.push(last);
    Ok(out)
}

/// Reads a big-endian `u64` at `at`.
pub fn be_u64(bytes: &[u8], at: usize, what: &'static str) -> Result<u64> {
    bytes
        .get(at..at + 8)
        .and_then(|b| b.try_into().ok())
        .map(u64::from_be_bytes)
        .ok_or_else(|| short(what, bytes.len()))
}

/// Reads a big-endian `u32` at `at`.
pub fn be_u32(bytes: &[u8], at: usize, what: &'static str) -> Result<u32> {
    bytes
        .get(at..at + 4)
        .and_then(|b| b.try_into().ok())
        .map(u32::from_be_bytes)
        .ok_or_else(|| short(what, bytes.len()))
}

/// Reads 32 bytes at `at`.
pub fn hash_at(bytes: &[u8], at: usize, what: &'static str) -> Result<Hash> {
    bytes
        .get(at..at + 32)
        .and_then(|b| b.try_into().ok())
        .map(Hash)
        .ok_or_else(|| short(what, bytes.len()))
}

fn short(what: &'static str, len: usize) -> LedgerError {
    LedgerError::Corrupt {
        what,
        detail: format!("value of {len} bytes is too short"),
    }
}

/// Where a record is: `height ‖ index ‖ log index ‖ accepted` (21 bytes).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct RecordLoc {
    /// Block height.
    pub height: u64,
    /// Position in the block.
    pub index: u32,
    /// Position in the record log.
    pub log_index: u64,
    /// Whether execution accepted it.
    pub accepted: bool,
}

impl RecordLoc {
    /// Encodes.
    pub fn encode(&self) -> [u8; 21] {
        let mut v = [0u8; 21];
        v[..8].copy_from_slice(&self.height.to_be_bytes());
        v[8..12].copy_from_slice(&self.index.to_be_bytes());
        v[12..20].copy_from_slice(&self.log_index.to_be_bytes());
        v[20] = u8::from(self.accepted);
        v
    }

    /// Decodes.
    pub fn decode(v: &[u8]) -> Result<Self> {
        if v.len() != 21 || v[20] > 1 {
            return Err(LedgerError::Corrupt {
                what: "record location",
                detail: format!("{} bytes", v.len()),
            });
        }
        Ok(RecordLoc {
            height: be_u64(v, 0, "record location")?,
            index: be_u32(v, 8, "record location")?,
            log_index: be_u64(v, 12, "record location")?,
            accepted: v[20] == 1,
        })
    }
}

/// Block metadata: header hash ‖ record count ‖ first log index (44 bytes).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct BlockMeta {
    /// Header hash.
    pub hash: Hash,
    /// Records in the block.
    pub record_count: u32,
    /// Log index of its first record.
    pub first_log_index: u64,
}

impl BlockMeta {
    /// Encodes.
    pub fn encode(&self) -> [u8; 44] {
        let mut v = [0u8; 44];
        v[..32].copy_from_slice(&self.hash.0);
        v[32..36].copy_from_slice(&self.record_count.to_be_bytes());
        v[36..].copy_from_slice(&self.first_log_index.to_be_bytes());
        v
    }

    /// Decodes.
    pub fn decode(v: &[u8]) -> Result<Self> {
        if v.len() != 44 {
            return Err(LedgerError::Corrupt {
                what: "block meta",
                detail: format!("{} bytes", v.len()),
            });
        }
        Ok(BlockMeta {
            hash: hash_at(v, 0, "block meta")?,
            record_count: be_u32(v, 32, "block meta")?,
            first_log_index: be_u64(v, 36, "block meta")?,
        })
    }
}

/// The committed tip: height ‖ header hash ‖ timestamp (48 bytes).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct TipRecord {
    /// Height (0 = nothing committed).
    pub height: u64,
    /// Header hash (`Hash::ZERO` at 0).
    pub hash: Hash,
    /// Header timestamp (genesis time at 0).
    pub timestamp: Timestamp,
}

impl TipRecord {
    /// Encodes.
    pub fn encode(&self) -> [u8; 48] {
        let mut v = [0u8; 48];
        v[..8].copy_from_slice(&self.height.to_be_bytes());
        v[8..40].copy_from_slice(&self.hash.0);
        v[40..].copy_from_slice(&self.timestamp.0.to_be_bytes());
        v
    }

    /// Decodes.
    pub fn decode(v: &[u8]) -> Result<Self> {
        if v.len() != 48 {
            return Err(LedgerError::Corrupt {
                what: "tip",
                detail: format!("{} bytes", v.len()),
            });
        }
        Ok(TipRecord {
            height: be_u64(v, 0, "tip")?,
            hash: hash_at(v, 8, "tip")?,
            timestamp: Timestamp(be_u64(v, 40, "tip")?),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fixed_values_round_trip_and_reject_wrong_lengths() {
        let loc = RecordLoc {
            height: 7,
            index: 3,
            log_index: 99,
            accepted: true,
        };
        assert_eq!(RecordLoc::decode(&loc.encode()).unwrap(), loc);
        assert!(RecordLoc::decode(&loc.encode()[..20]).is_err());
        let mut bad = loc.encode();
        bad[20] = 2;
        assert!(RecordLoc::decode(&bad).is_err());
        let meta = BlockMeta {
            hash: Hash([4; 32]),
            record_count: 5,
            first_log_index: 6,
        };
        assert_eq!(BlockMeta::decode(&meta.encode()).unwrap(), meta);
        assert!(BlockMeta::decode(&[0; 43]).is_err());
        let tip = TipRecord {
            height: 1,
            hash: Hash([1; 32]),
            timestamp: Timestamp(2),
        };
        assert_eq!(TipRecord::decode(&tip.encode()).unwrap(), tip);
        assert!(TipRecord::decode(b"short").is_err());
    }

    #[test]
    fn secondary_runs_round_trip_and_an_empty_value_is_its_key_alone() {
        for positions in [vec![7], vec![3, 5, 9], vec![1000, 1001, 1999]] {
            let last = *positions.last().unwrap();
            assert_eq!(
                decode_run(last, &encode_run(&positions)).unwrap(),
                positions
            );
        }
        assert_eq!(decode_run(42, &[]).unwrap(), vec![42]);
        assert!(
            decode_run(42, &[0, 0, 1]).is_err(),
            "length not a multiple of 4"
        );
        assert!(
            decode_run(2, &5u32.to_be_bytes()).is_err(),
            "offset before position 0"
        );
    }

    proptest::proptest! {
        /// A records-column value splits back into index, entry and the
        /// record's bytes; cut anywhere before the record, it is an error.
        #[test]
        fn record_values_split_back_into_their_parts(
            index in 0u32..,
            record in chancery_types::testing::signed_record(),
            id in chancery_types::testing::record_id(),
            result in chancery_types::testing::exec_result(),
            height in 0u64..,
            ts in chancery_types::testing::timestamp(),
        ) {
            use chancery_types::{Canonical, LogEntry};
            let entry = LogEntry { record: id, height, timestamp: ts, result };
            let mut v = b"prefix".to_vec();
            encode_record_value(index, &entry, &record, &mut v);
            let (i, got, bytes) = decode_record_value(&v[6..]).unwrap();
            proptest::prop_assert_eq!((i, got), (index, entry));
            let canonical = record.to_canonical();
            proptest::prop_assert_eq!(bytes, canonical.as_slice());
            for cut in 0..8 + entry.to_canonical().len() {
                proptest::prop_assert!(decode_record_value(&v[6..6 + cut]).is_err(), "cut at {}", cut);
            }
        }
    }

    #[test]
    fn keys_sort_numerically() {
        assert!(height_key(255) < height_key(256));
        assert!(record_key(255) < record_key(256));
        assert!(secondary_key(IDX_SUBJECT, b"a", 300) < secondary_key(IDX_SUBJECT, b"a", 301));
        // A value is never a prefix-collision with a longer one.
        assert!(
            !secondary_key(IDX_SUBJECT, b"ab", 0).starts_with(&secondary_prefix(IDX_SUBJECT, b"a"))
        );
    }
}
