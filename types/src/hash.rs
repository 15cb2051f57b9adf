//! `Hash`: a blake3-256 digest, shown and parsed as 64 lowercase hex digits.

use std::fmt;
use std::str::FromStr;

use bincode::{Decode, Encode};

use crate::encoding::{Canonical, DecodeCtx};

/// A blake3-256 digest.
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default, Encode, Decode)]
#[bincode(decode_context = "DecodeCtx")]
pub struct Hash(pub [u8; 32]);

impl Hash {
    /// The all-zero hash, used as "no parent" and as the empty root.
    pub const ZERO: Hash = Hash([0u8; 32]);

    /// blake3 of `bytes`.
    pub fn of(bytes: &[u8]) -> Hash {
        Hash(*blake3::hash(bytes).as_bytes())
    }

    /// blake3 of the concatenation of `parts`.
    pub fn of_parts(parts: &[&[u8]]) -> Hash {
        let mut h = blake3::Hasher::new();
        for p in parts {
            h.update(p);
        }
        Hash(*h.finalize().as_bytes())
    }

    /// The raw bytes.
    pub fn as_bytes(&self) -> &[u8; 32] {
        &self.0
    }

    /// Lowercase hex.
    pub fn to_hex(&self) -> String {
        hex::encode(self.0)
    }

    /// The first 8 hex digits, for logs.
    pub fn short(&self) -> String {
        hex::encode(&self.0[..4])
    }
}

/// Why a string is not a hash.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum ParseHashError {
    /// Wrong number of characters.
    #[error("a hash is 64 hex digits, got {len} characters")]
    Length {
        /// Characters given.
        len: usize,
    },
    /// A character that is not a hex digit.
    #[error("a hash is 64 hex digits: {0}")]
    Hex(#[from] hex::FromHexError),
}

impl FromStr for Hash {
    type Err = ParseHashError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        if s.len() != 64 {
            return Err(ParseHashError::Length { len: s.len() });
        }
        let mut out = [0u8; 32];
        hex::decode_to_slice(s, &mut out)?;
        Ok(Hash(out))
    }
}

impl fmt::Display for Hash {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.to_hex())
    }
}

impl fmt::Debug for Hash {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Hash({})", self.short())
    }
}

crate::serde_hex::hex_serde!(Hash, 32);

impl Canonical for Hash {}
