//! Canonical encoding: the one byte form of everything that is hashed or signed.
//!
//! Chancery uses bincode 2 with one fixed configuration: little-endian,
//! fixed-width integers (so every integer has exactly one encoding), and a
//! hard limit on the size of any decoded value. Collections are a `u64`
//! length followed by their items; enums are a `u32` variant index followed
//! by their fields; `Option` is one byte (0 or 1) followed by the value.
//!
//! Decoding is strict: trailing bytes, fields over their bound, invalid
//! UTF-8, bools other than 0/1 and values that break a type's own invariants
//! (for example an unsorted list that must be sorted) are all rejected with a
//! [`DecodeError`], so `encode(decode(b)) == b` for every `b` that decodes.
//! `docs/PROOFS.md` writes the format down byte by byte.
//!
//! Every type decodes under the context [`DecodeCtx`]; bounded types record
//! their typed error there before bincode unwinds, so callers get
//! [`DecodeError::Oversize`] naming the field, not a string.

use bincode::config::{Configuration, Fixint, Limit, LittleEndian};
use bincode::de::Decoder;
use bincode::enc::Encoder;
use bincode::error::{DecodeError as BinDecodeError, EncodeError};
use bincode::{Decode, Encode};

/// Largest value (in bytes) the canonical decoder will ever accept: 64 MiB.
pub const MAX_ENCODED_LEN: usize = 64 * 1024 * 1024;

/// The bincode configuration used for every canonical encoding.
pub type CanonicalConfig = Configuration<LittleEndian, Fixint, Limit<MAX_ENCODED_LEN>>;

/// The canonical bincode configuration.
pub const fn config() -> CanonicalConfig {
    bincode::config::standard()
        .with_little_endian()
        .with_fixed_int_encoding()
        .with_limit::<MAX_ENCODED_LEN>()
}

/// Decoding context: holds the first typed error a bounded type reported.
#[derive(Debug, Default)]
pub struct DecodeCtx {
    error: Option<DecodeError>,
}

/// Why a byte string is not the canonical encoding of a value.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DecodeError {
    /// The input ended before the value was complete.
    #[error("input ended early: {additional} more byte(s) needed")]
    Truncated {
        /// Bytes missing.
        additional: usize,
    },
    /// Bytes were left over after a complete value.
    #[error("{trailing} trailing byte(s) after a complete value of {consumed} byte(s)")]
    TrailingBytes {
        /// Bytes consumed by the value.
        consumed: usize,
        /// Bytes left over.
        trailing: usize,
    },
    /// A length-bounded field is longer than its bound.
    #[error("field `{field}` has length {len}, over its bound of {max}")]
    Oversize {
        /// Which field.
        field: &'static str,
        /// Its encoded length.
        len: u64,
        /// The bound.
        max: usize,
    },
    /// The whole value claims more than [`MAX_ENCODED_LEN`] bytes.
    #[error("value exceeds the decoder limit of {MAX_ENCODED_LEN} bytes")]
    LimitExceeded,
    /// The value is well-formed bincode but breaks a rule of its type.
    #[error("non-canonical `{field}`: {reason}")]
    NonCanonical {
        /// Which field or type.
        field: &'static str,
        /// The broken rule.
        reason: String,
    },
    /// Any other malformed input (bad enum tag, bad UTF-8, bad bool, ...).
    #[error("malformed input: {detail}")]
    Malformed {
        /// The decoder's description.
        detail: String,
    },
}

impl DecodeError {
    fn from_bincode(e: BinDecodeError, ctx: DecodeCtx) -> Self {
        if let Some(typed) = ctx.error {
            return typed;
        }
        match e {
            BinDecodeError::UnexpectedEnd { additional } => DecodeError::Truncated { additional },
            BinDecodeError::LimitExceeded => DecodeError::LimitExceeded,
            other => DecodeError::Malformed {
                detail: other.to_string(),
            },
        }
    }
}

/// Feeds encoded bytes into a hasher through a chunk-sized buffer on the
/// stack (bincode writes field by field, in pieces of a few bytes).
struct HashWriter {
    hasher: blake3::Hasher,
    buf: [u8; 1024],
    len: usize,
}

impl HashWriter {
    fn finish(mut self) -> crate::Hash {
        self.hasher.update(&self.buf[..self.len]);
        crate::Hash(*self.hasher.finalize().as_bytes())
    }
}

impl bincode::enc::write::Writer for &mut HashWriter {
    fn write(&mut self, bytes: &[u8]) -> Result<(), EncodeError> {
        if self.len + bytes.len() > self.buf.len() {
            self.hasher.update(&self.buf[..self.len]);
            self.len = 0;
            if bytes.len() > self.buf.len() {
                self.hasher.update(bytes);
                return Ok(());
            }
        }
        self.buf[self.len..self.len + bytes.len()].copy_from_slice(bytes);
        self.len += bytes.len();
        Ok(())
    }
}

/// Types with a canonical byte encoding.
///
/// Implemented for every type that is hashed or signed. `decode` rejects
/// anything `encode` would not have produced.
pub trait Canonical: Encode + Decode<DecodeCtx> + Sized {
    /// Checks invariants that bincode itself cannot express on the whole
    /// value. Called after every top-level decode. The default accepts.
    fn check(&self) -> Result<(), DecodeError> {
        Ok(())
    }

    /// The canonical bytes of `self`.
    fn to_canonical(&self) -> Vec<u8> {
        let mut out = Vec::new();
        self.to_canonical_into(&mut out);
        out
    }

    /// Appends the canonical bytes of `self` to `out`.
    fn to_canonical_into(&self, out: &mut Vec<u8>) {
        // Writing into a Vec cannot fail, and none of our types refuses to
        // encode; the limit applies to decoding only.
        let _ = bincode::encode_into_std_write(self, out, config());
    }

    /// blake3 of the canonical bytes, hashed as they are produced, without
    /// allocating the encoding; equal to `Hash::of(&self.to_canonical())`.
    fn canonical_hash(&self) -> crate::Hash {
        let mut w = HashWriter {
            hasher: blake3::Hasher::new(),
            buf: [0; 1024],
            len: 0,
        };
        // Hashing cannot fail, and none of our types refuses to encode.
        let _ = bincode::encode_into_writer(self, &mut w, config());
        w.finish()
    }

    /// Decodes canonical bytes, rejecting trailing bytes and any
    /// non-canonical form.
    fn from_canonical(bytes: &[u8]) -> Result<Self, DecodeError> {
        let mut decoder =
            bincode::de::DecoderImpl::new(Slice(bytes), config(), DecodeCtx::default());
        let value = match <Self as Decode<DecodeCtx>>::decode(&mut decoder) {
            Ok(v) => v,
            Err(e) => {
                let ctx = std::mem::take(decoder.context());
                return Err(DecodeError::from_bincode(e, ctx));
            }
        };
        let trailing = decoder.reader().0.len();
        if trailing > 0 {
            return Err(DecodeError::TrailingBytes {
                consumed: bytes.len() - trailing,
                trailing,
            });
        }
        value.check()?;
        Ok(value)
    }
}

/// A slice reader that lets us see how much is left after a decode.
struct Slice<'a>(&'a [u8]);

impl bincode::de::read::Reader for Slice<'_> {
    fn read(&mut self, out: &mut [u8]) -> Result<(), BinDecodeError> {
        if out.len() > self.0.len() {
            return Err(BinDecodeError::UnexpectedEnd {
                additional: out.len() - self.0.len(),
            });
        }
        let (head, tail) = self.0.split_at(out.len());
        out.copy_from_slice(head);
        self.0 = tail;
        Ok(())
    }
}

/// Encodes a collection length (as `u64`).
pub(crate) fn encode_len<E: Encoder>(len: usize, encoder: &mut E) -> Result<(), EncodeError> {
    (len as u64).encode(encoder)
}

/// Decodes a collection length and checks it against `max` before any
/// allocation happens.
pub(crate) fn decode_len<D: Decoder<Context = DecodeCtx>>(
    decoder: &mut D,
    field: &'static str,
    max: usize,
) -> Result<usize, BinDecodeError> {
    let len = u64::decode(decoder)?;
    if len > max as u64 {
        return Err(reject(decoder, DecodeError::Oversize { field, len, max }));
    }
    // `len <= max`, and `max` is a `usize`.
    Ok(len as usize)
}

/// Records a typed error in the context and returns bincode's error to
/// unwind with.
pub(crate) fn reject<D: Decoder<Context = DecodeCtx>>(
    decoder: &mut D,
    error: DecodeError,
) -> BinDecodeError {
    let message = error.to_string();
    let ctx = decoder.context();
    if ctx.error.is_none() {
        ctx.error = Some(error);
    }
    BinDecodeError::OtherString(message)
}

/// Records a broken type rule in the context.
pub(crate) fn non_canonical<D: Decoder<Context = DecodeCtx>>(
    decoder: &mut D,
    field: &'static str,
    reason: impl Into<String>,
) -> BinDecodeError {
    reject(
        decoder,
        DecodeError::NonCanonical {
            field,
            reason: reason.into(),
        },
    )
}

/// Implements `BorrowDecode` by delegating to `Decode` (bincode's derive
/// needs it on every field type).
macro_rules! borrow_decode_via_decode {
    ($ty:ty $(, const $p:ident : $pt:ty)* $(; $g:ident : $bound:path)?) => {
        impl<'de $(, const $p: $pt)* $(, $g: $bound)?> bincode::BorrowDecode<'de, $crate::encoding::DecodeCtx> for $ty {
            fn borrow_decode<D: bincode::de::BorrowDecoder<'de, Context = $crate::encoding::DecodeCtx>>(
                d: &mut D,
            ) -> Result<Self, bincode::error::DecodeError> {
                <Self as bincode::Decode<$crate::encoding::DecodeCtx>>::decode(d)
            }
        }
    };
}
pub(crate) use borrow_decode_via_decode;
