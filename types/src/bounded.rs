//! Length-bounded containers. Their bound is part of the type and is checked
//! when decoding (before any allocation), when deserializing, and on
//! construction, so an oversize field can never enter the system.

use std::fmt;
use std::ops::Deref;

use bincode::de::Decoder;
use bincode::enc::Encoder;
use bincode::error::{DecodeError as BinDecodeError, EncodeError};
use bincode::{Decode, Encode};
use serde::{Deserialize, Serialize};

use crate::encoding::{DecodeCtx, decode_len, encode_len, non_canonical};

/// A value was too long for its bound.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("length {len} is over the bound of {max}")]
pub struct TooLong {
    /// Given length.
    pub len: usize,
    /// The bound.
    pub max: usize,
}

/// Bytes, at most `MAX` of them. Hex in JSON.
#[derive(Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub struct Bytes<const MAX: usize>(Vec<u8>);

impl<const MAX: usize> Bytes<MAX> {
    /// Wraps `v` if it fits.
    pub fn new(v: Vec<u8>) -> Result<Self, TooLong> {
        if v.len() > MAX {
            return Err(TooLong {
                len: v.len(),
                max: MAX,
            });
        }
        Ok(Bytes(v))
    }

    /// The bytes.
    pub fn as_slice(&self) -> &[u8] {
        &self.0
    }

    /// Unwraps into the inner vector.
    pub fn into_vec(self) -> Vec<u8> {
        self.0
    }
}

impl<const MAX: usize> Deref for Bytes<MAX> {
    type Target = [u8];
    fn deref(&self) -> &[u8] {
        &self.0
    }
}

impl<const MAX: usize> fmt::Debug for Bytes<MAX> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match std::str::from_utf8(&self.0) {
            Ok(s) if self.0.len() <= 64 => write!(f, "{s:?}"),
            _ => write!(f, "<{} bytes>", self.0.len()),
        }
    }
}

impl<const MAX: usize> Encode for Bytes<MAX> {
    fn encode<E: Encoder>(&self, e: &mut E) -> Result<(), EncodeError> {
        encode_len(self.0.len(), e)?;
        bincode::enc::write::Writer::write(e.writer(), &self.0)
    }
}

impl<const MAX: usize> Decode<DecodeCtx> for Bytes<MAX> {
    fn decode<D: Decoder<Context = DecodeCtx>>(d: &mut D) -> Result<Self, BinDecodeError> {
        let len = decode_len(d, "bytes", MAX)?;
        d.claim_bytes_read(len)?;
        let mut v = vec![0u8; len];
        bincode::de::read::Reader::read(d.reader(), &mut v)?;
        Ok(Bytes(v))
    }
}

impl<const MAX: usize> Serialize for Bytes<MAX> {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        if s.is_human_readable() {
            s.serialize_str(&hex::encode(&self.0))
        } else {
            s.serialize_bytes(&self.0)
        }
    }
}

impl<'de, const MAX: usize> Deserialize<'de> for Bytes<MAX> {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        use serde::de::Error;
        let v = if d.is_human_readable() {
            let s = <std::borrow::Cow<'de, str>>::deserialize(d)?;
            hex::decode(s.as_bytes()).map_err(|e| D::Error::custom(format!("expected hex: {e}")))?
        } else {
            <Vec<u8>>::deserialize(d)?
        };
        Bytes::new(v).map_err(D::Error::custom)
    }
}

/// A UTF-8 string of at most `MAX` bytes.
#[derive(Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Default, Serialize)]
#[serde(transparent)]
pub struct Text<const MAX: usize>(String);

impl<const MAX: usize> Text<MAX> {
    /// Wraps `s` if it fits.
    pub fn new(s: impl Into<String>) -> Result<Self, TooLong> {
        let s = s.into();
        if s.len() > MAX {
            return Err(TooLong {
                len: s.len(),
                max: MAX,
            });
        }
        Ok(Text(s))
    }

    /// The string.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The string, without copying it.
    pub fn into_string(self) -> String {
        self.0
    }
}

impl<const MAX: usize> Deref for Text<MAX> {
    type Target = str;
    fn deref(&self) -> &str {
        &self.0
    }
}

impl<const MAX: usize> fmt::Debug for Text<MAX> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:?}", self.0)
    }
}

impl<const MAX: usize> fmt::Display for Text<MAX> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl<const MAX: usize> Encode for Text<MAX> {
    fn encode<E: Encoder>(&self, e: &mut E) -> Result<(), EncodeError> {
        encode_len(self.0.len(), e)?;
        bincode::enc::write::Writer::write(e.writer(), self.0.as_bytes())
    }
}

impl<const MAX: usize> Decode<DecodeCtx> for Text<MAX> {
    fn decode<D: Decoder<Context = DecodeCtx>>(d: &mut D) -> Result<Self, BinDecodeError> {
        let len = decode_len(d, "text", MAX)?;
        d.claim_bytes_read(len)?;
        let mut v = vec![0u8; len];
        bincode::de::read::Reader::read(d.reader(), &mut v)?;
        match String::from_utf8(v) {
            Ok(s) => Ok(Text(s)),
            Err(e) => Err(non_canonical(d, "text", format!("invalid UTF-8: {e}"))),
        }
    }
}

impl<'de, const MAX: usize> Deserialize<'de> for Text<MAX> {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        use serde::de::Error;
        let s = String::deserialize(d)?;
        Text::new(s).map_err(D::Error::custom)
    }
}

/// A list of at most `MAX` items.
#[derive(Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(transparent)]
pub struct List<T, const MAX: usize>(Vec<T>);

impl<T, const MAX: usize> Default for List<T, MAX> {
    fn default() -> Self {
        List(Vec::new())
    }
}

impl<T, const MAX: usize> List<T, MAX> {
    /// Wraps `v` if it fits.
    pub fn new(v: Vec<T>) -> Result<Self, TooLong> {
        if v.len() > MAX {
            return Err(TooLong {
                len: v.len(),
                max: MAX,
            });
        }
        Ok(List(v))
    }

    /// The items.
    pub fn as_slice(&self) -> &[T] {
        &self.0
    }

    /// Unwraps into the inner vector.
    pub fn into_vec(self) -> Vec<T> {
        self.0
    }
}

impl<T, const MAX: usize> Deref for List<T, MAX> {
    type Target = [T];
    fn deref(&self) -> &[T] {
        &self.0
    }
}

impl<T: fmt::Debug, const MAX: usize> fmt::Debug for List<T, MAX> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_list().entries(self.0.iter()).finish()
    }
}

impl<T: Encode, const MAX: usize> Encode for List<T, MAX> {
    fn encode<E: Encoder>(&self, e: &mut E) -> Result<(), EncodeError> {
        encode_len(self.0.len(), e)?;
        for item in &self.0 {
            item.encode(e)?;
        }
        Ok(())
    }
}

impl<T: Decode<DecodeCtx>, const MAX: usize> Decode<DecodeCtx> for List<T, MAX> {
    fn decode<D: Decoder<Context = DecodeCtx>>(d: &mut D) -> Result<Self, BinDecodeError> {
        let len = decode_len(d, "list", MAX)?;
        d.claim_container_read::<T>(len)?;
        let mut v = Vec::with_capacity(len);
        for _ in 0..len {
            d.unclaim_bytes_read(std::mem::size_of::<T>());
            v.push(T::decode(d)?);
        }
        Ok(List(v))
    }
}

impl<'de, T: Deserialize<'de>, const MAX: usize> Deserialize<'de> for List<T, MAX> {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        use serde::de::Error;
        let v = Vec::<T>::deserialize(d)?;
        List::new(v).map_err(D::Error::custom)
    }
}

crate::encoding::borrow_decode_via_decode!(Bytes<MAX>, const MAX: usize);
crate::encoding::borrow_decode_via_decode!(Text<MAX>, const MAX: usize);
crate::encoding::borrow_decode_via_decode!(List<T, MAX>, const MAX: usize; T: Decode<DecodeCtx>);

impl<const MAX: usize> crate::encoding::Canonical for Bytes<MAX> {}
impl<const MAX: usize> crate::encoding::Canonical for Text<MAX> {}
impl<T: Encode + Decode<DecodeCtx>, const MAX: usize> crate::encoding::Canonical for List<T, MAX> {}
