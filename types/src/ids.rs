//! Identifiers and scalar newtypes: chain ids, agency ids, record ids,
//! timestamps, and the bounded text/byte aliases used in records.

use std::fmt;
use std::str::FromStr;

use bincode::de::Decoder;
use bincode::enc::Encoder;
use bincode::error::{DecodeError as BinDecodeError, EncodeError};
use bincode::{Decode, Encode};
use serde::{Deserialize, Serialize};

use crate::bounded::{Bytes, Text};
use crate::encoding::{Canonical, DecodeCtx, non_canonical};
use crate::hash::Hash;
use crate::limits;

/// The id of a chain: a hash of its genesis (see `Genesis::chain_id`).
/// Every signature covers it, so nothing signed for one chain is valid on another.
#[derive(
    Clone,
    Copy,
    PartialEq,
    Eq,
    PartialOrd,
    Ord,
    Hash,
    Default,
    Encode,
    Decode,
    Serialize,
    Deserialize,
)]
#[bincode(decode_context = "DecodeCtx")]
#[serde(transparent)]
pub struct ChainId(pub Hash);

impl fmt::Debug for ChainId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "ChainId({})", self.0.short())
    }
}

impl fmt::Display for ChainId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.fmt(f)
    }
}

/// The id of a record: blake3 of the canonical encoding of the signed record.
#[derive(
    Clone,
    Copy,
    PartialEq,
    Eq,
    PartialOrd,
    Ord,
    Hash,
    Default,
    Encode,
    Decode,
    Serialize,
    Deserialize,
)]
#[bincode(decode_context = "DecodeCtx")]
#[serde(transparent)]
pub struct RecordId(pub Hash);

impl fmt::Debug for RecordId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "RecordId({})", self.0.short())
    }
}

impl fmt::Display for RecordId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.fmt(f)
    }
}

impl FromStr for RecordId {
    type Err = crate::hash::ParseHashError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Ok(RecordId(s.parse()?))
    }
}

/// Milliseconds since the Unix epoch (UTC).
#[derive(
    Clone,
    Copy,
    PartialEq,
    Eq,
    PartialOrd,
    Ord,
    Hash,
    Default,
    Debug,
    Encode,
    Decode,
    Serialize,
    Deserialize,
)]
#[bincode(decode_context = "DecodeCtx")]
#[serde(transparent)]
pub struct Timestamp(pub u64);

impl Timestamp {
    /// Milliseconds since the epoch.
    pub fn as_millis(self) -> u64 {
        self.0
    }
}

impl fmt::Display for Timestamp {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}ms", self.0)
    }
}

/// Why a string is not an agency id.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error(
    "invalid agency id {id:?}: use 1 to {max} characters from a-z, 0-9 and '-', starting with a letter",
    max = limits::MAX_AGENCY_ID
)]
pub struct InvalidAgencyId {
    /// The rejected id.
    pub id: String,
}

/// A short, stable agency identifier such as `transport` or `health-dept`:
/// 1–32 characters of `a-z`, `0-9`, `-`, starting with a letter.
#[derive(Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(transparent)]
pub struct AgencyId(String);

impl AgencyId {
    /// Validates and wraps an agency id.
    pub fn new(id: impl Into<String>) -> Result<Self, InvalidAgencyId> {
        let id = id.into();
        if Self::is_valid(&id) {
            Ok(AgencyId(id))
        } else {
            Err(InvalidAgencyId { id })
        }
    }

    fn is_valid(s: &str) -> bool {
        !s.is_empty()
            && s.len() <= limits::MAX_AGENCY_ID
            && s.as_bytes()[0].is_ascii_lowercase()
            && s.bytes()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
    }

    /// The id as a string.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for AgencyId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:?}", self.0)
    }
}

impl fmt::Display for AgencyId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl FromStr for AgencyId {
    type Err = InvalidAgencyId;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        AgencyId::new(s)
    }
}

impl<'de> Deserialize<'de> for AgencyId {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        use serde::de::Error;
        AgencyId::new(String::deserialize(d)?).map_err(D::Error::custom)
    }
}

impl Encode for AgencyId {
    fn encode<E: Encoder>(&self, e: &mut E) -> Result<(), EncodeError> {
        // The bytes of a `Text<MAX_AGENCY_ID>` (an id always fits), without
        // copying the string into one.
        crate::encoding::encode_len(self.0.len(), e)?;
        bincode::enc::write::Writer::write(e.writer(), self.0.as_bytes())
    }
}

impl Decode<DecodeCtx> for AgencyId {
    fn decode<D: Decoder<Context = DecodeCtx>>(d: &mut D) -> Result<Self, BinDecodeError> {
        let t = Text::<{ limits::MAX_AGENCY_ID }>::decode(d)?;
        AgencyId::new(t.into_string()).map_err(|e| non_canonical(d, "agency_id", e.to_string()))
    }
}

/// What a record is about: a licence number, a grant id, an access-event id.
pub type Subject = Text<{ limits::MAX_SUBJECT }>;
/// A short name: a licence class, a dataset, a purpose, a scope.
pub type Label = Text<{ limits::MAX_LABEL }>;
/// A record body (usually JSON; personal data stays off-chain, referenced by hash).
pub type Body = Bytes<{ limits::MAX_BODY }>;

crate::encoding::borrow_decode_via_decode!(AgencyId);

impl Canonical for ChainId {}
impl Canonical for RecordId {}
impl Canonical for Timestamp {}
impl Canonical for AgencyId {}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;
    use crate::encoding::config;

    proptest! {
        /// An agency id is encoded exactly as the bounded text it was
        /// defined as, so ids, keys and hashes stay as they were.
        #[test]
        fn agency_id_encodes_as_its_text(id in crate::testing::agency_id()) {
            let as_id = bincode::encode_to_vec(&id, config()).unwrap();
            let text = Text::<{ limits::MAX_AGENCY_ID }>::new(id.as_str()).unwrap();
            prop_assert_eq!(as_id, bincode::encode_to_vec(&text, config()).unwrap());
        }
    }
}
