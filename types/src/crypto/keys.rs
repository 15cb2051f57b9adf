//! Secret keys, validated public keys and key ids.

use std::fmt;
use std::str::FromStr;

use bincode::de::Decoder;
use bincode::enc::Encoder;
use bincode::error::{DecodeError as BinDecodeError, EncodeError};
use bincode::{Decode, Encode};
use curve25519_dalek::edwards::{CompressedEdwardsY, EdwardsPoint};
use ed25519_dalek::Signer;

use crate::encoding::{Canonical, DecodeCtx, non_canonical};
use crate::hash::Hash;

use super::signature::{Domain, Signature, signing_bytes};

/// Why 32 bytes are not an acceptable public key.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum PublicKeyError {
    /// The y coordinate is not reduced modulo p (a second encoding of some point).
    #[error("public key encoding is not canonical")]
    NonCanonical,
    /// No curve point has this encoding.
    #[error("public key is not a point on the curve")]
    NotOnCurve,
    /// The point has small order (a "weak" key that many signatures verify under).
    #[error("public key has small order")]
    SmallOrder,
}

/// Returns `true` if `bytes` encodes y < p (sign bit ignored), i.e. the
/// encoding is the canonical one of its point. p = 2^255 - 19.
pub(crate) fn is_canonical_y(bytes: &[u8; 32]) -> bool {
    // y >= p only when y is in [p, 2^255): top byte 0x7f (ignoring the sign
    // bit), bytes 1..=30 all 0xff, and the low byte at least 0xed.
    if bytes[31] & 0x7f != 0x7f {
        return true;
    }
    if bytes[1..31].iter().any(|&b| b != 0xff) {
        return true;
    }
    bytes[0] < 0xed
}

/// Decodes a point under the acceptance rule: canonical, on the curve, not
/// of small order.
pub(crate) fn decode_point(bytes: &[u8; 32]) -> Result<EdwardsPoint, PublicKeyError> {
    if !is_canonical_y(bytes) {
        return Err(PublicKeyError::NonCanonical);
    }
    let point = CompressedEdwardsY(*bytes)
        .decompress()
        .ok_or(PublicKeyError::NotOnCurve)?;
    if is_small_order_encoding(bytes) {
        return Err(PublicKeyError::SmallOrder);
    }
    Ok(point)
}

/// Whether a canonical encoding that decompresses names a point of small
/// order: a byte comparison that gives the same answer as
/// `EdwardsPoint::is_small_order` on the decompressed point (three
/// doublings and a comparison, about 2 % of a batched signature check).
///
/// The eight points of small order have five y coordinates (1, −1, 0 and
/// ±y₈), and every point with one of them has small order; an encoding is
/// y and the sign of x, and both signs of each of those y decompress (for
/// y = ±1, where x = 0, to the same point). So the ten encodings here are
/// exactly the canonical ones of small-order points; a test checks the
/// answer against `is_small_order` on torsion, mixed-order, large-order
/// and random encodings.
pub(crate) fn is_small_order_encoding(bytes: &[u8; 32]) -> bool {
    SMALL_ORDER_ENCODINGS.contains(bytes)
}

/// See [`is_small_order_encoding`]: each torsion point's encoding, and the
/// same with the sign bit flipped.
static SMALL_ORDER_ENCODINGS: std::sync::LazyLock<Vec<[u8; 32]>> = std::sync::LazyLock::new(|| {
    let mut out: Vec<[u8; 32]> = Vec::with_capacity(16);
    for point in curve25519_dalek::constants::EIGHT_TORSION {
        let bytes = point.compress().0;
        let mut flipped = bytes;
        flipped[31] ^= 0x80;
        for b in [bytes, flipped] {
            if !out.contains(&b) {
                out.push(b);
            }
        }
    }
    out
});

/// An ed25519 public key that passed the acceptance rule's key checks.
#[derive(Clone, Copy)]
pub struct PublicKey {
    bytes: [u8; 32],
    point: EdwardsPoint,
}

impl PublicKey {
    /// Validates 32 bytes as a public key.
    pub fn from_bytes(bytes: &[u8; 32]) -> Result<Self, PublicKeyError> {
        let point = decode_point(bytes)?;
        Ok(PublicKey {
            bytes: *bytes,
            point,
        })
    }

    /// The 32-byte encoding.
    pub fn as_bytes(&self) -> &[u8; 32] {
        &self.bytes
    }

    /// The decompressed point.
    pub(crate) fn point(&self) -> &EdwardsPoint {
        &self.point
    }

    /// The key id: the first 16 bytes of `blake3("chancery/v1/key-id" 0x00 || key)`.
    pub fn key_id(&self) -> KeyId {
        let h = Hash::of_parts(&[b"chancery/v1/key-id\0", &self.bytes]);
        let mut id = [0u8; 16];
        id.copy_from_slice(&h.0[..16]);
        KeyId(id)
    }

    /// Lowercase hex of the key.
    pub fn to_hex(&self) -> String {
        hex::encode(self.bytes)
    }
}

impl PartialEq for PublicKey {
    fn eq(&self, other: &Self) -> bool {
        self.bytes == other.bytes
    }
}
impl Eq for PublicKey {}
impl PartialOrd for PublicKey {
    fn partial_cmp(&self, other: &Self) -> Option<std::cmp::Ordering> {
        Some(self.cmp(other))
    }
}
impl Ord for PublicKey {
    fn cmp(&self, other: &Self) -> std::cmp::Ordering {
        self.bytes.cmp(&other.bytes)
    }
}
impl std::hash::Hash for PublicKey {
    fn hash<H: std::hash::Hasher>(&self, state: &mut H) {
        self.bytes.hash(state)
    }
}

impl fmt::Debug for PublicKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "PublicKey({})", &self.to_hex()[..8])
    }
}

impl fmt::Display for PublicKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.to_hex())
    }
}

/// Why a string is not a public key.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ParsePublicKeyError {
    /// Not 64 hex digits.
    #[error("a public key is 64 hex digits")]
    Hex,
    /// Hex, but not an acceptable key.
    #[error(transparent)]
    Key(#[from] PublicKeyError),
}

impl FromStr for PublicKey {
    type Err = ParsePublicKeyError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let mut b = [0u8; 32];
        hex::decode_to_slice(s, &mut b).map_err(|_| ParsePublicKeyError::Hex)?;
        Ok(PublicKey::from_bytes(&b)?)
    }
}

impl Encode for PublicKey {
    fn encode<E: Encoder>(&self, e: &mut E) -> Result<(), EncodeError> {
        self.bytes.encode(e)
    }
}

impl Decode<DecodeCtx> for PublicKey {
    fn decode<D: Decoder<Context = DecodeCtx>>(d: &mut D) -> Result<Self, BinDecodeError> {
        let bytes = <[u8; 32]>::decode(d)?;
        PublicKey::from_bytes(&bytes).map_err(|e| non_canonical(d, "public_key", e.to_string()))
    }
}

impl serde::Serialize for PublicKey {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        if s.is_human_readable() {
            s.serialize_str(&self.to_hex())
        } else {
            s.serialize_bytes(&self.bytes)
        }
    }
}

impl<'de> serde::Deserialize<'de> for PublicKey {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        use serde::de::Error;
        if d.is_human_readable() {
            let s = <std::borrow::Cow<'de, str>>::deserialize(d)?;
            s.parse().map_err(D::Error::custom)
        } else {
            let v = <Vec<u8>>::deserialize(d)?;
            let b: [u8; 32] = v
                .as_slice()
                .try_into()
                .map_err(|_| D::Error::custom("a public key is 32 bytes"))?;
            PublicKey::from_bytes(&b).map_err(D::Error::custom)
        }
    }
}

/// Short identifier of a key: 16 bytes derived from the public key.
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default, Encode, Decode)]
#[bincode(decode_context = "DecodeCtx")]
pub struct KeyId(pub [u8; 16]);

impl fmt::Debug for KeyId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "KeyId({})", hex::encode(self.0))
    }
}

impl fmt::Display for KeyId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&hex::encode(self.0))
    }
}

impl FromStr for KeyId {
    type Err = hex::FromHexError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let mut b = [0u8; 16];
        hex::decode_to_slice(s, &mut b)?;
        Ok(KeyId(b))
    }
}

crate::serde_hex::hex_serde!(KeyId, 16);

/// An ed25519 secret key. Zeroized on drop; never printed.
pub struct SecretKey {
    inner: ed25519_dalek::SigningKey,
}

impl SecretKey {
    /// A fresh key from the operating system's CSPRNG.
    pub fn generate() -> Self {
        let mut rng = rand_core::OsRng;
        SecretKey {
            inner: ed25519_dalek::SigningKey::generate(&mut rng),
        }
    }

    /// A key from its 32-byte seed.
    pub fn from_seed(seed: &[u8; 32]) -> Self {
        SecretKey {
            inner: ed25519_dalek::SigningKey::from_bytes(seed),
        }
    }

    /// The 32-byte seed. Handle with care.
    pub fn seed(&self) -> [u8; 32] {
        self.inner.to_bytes()
    }

    /// The matching public key.
    pub fn public(&self) -> PublicKey {
        let bytes = self.inner.verifying_key().to_bytes();
        // An honestly generated key is canonical and of prime order except
        // with negligible probability; fall back to the raw point if not, so
        // that verification (which re-checks) rejects its signatures.
        match PublicKey::from_bytes(&bytes) {
            Ok(pk) => pk,
            Err(_) => PublicKey {
                bytes,
                point: EdwardsPoint::default(),
            },
        }
    }

    /// Signs `message` for `domain` on chain `chain`.
    pub fn sign(&self, domain: Domain, chain: &Hash, message: &[u8]) -> Signature {
        let bytes = signing_bytes(domain, chain, message);
        Signature(self.inner.sign(&bytes).to_bytes())
    }

    /// Signs already domain-separated bytes (see [`signing_bytes`]).
    #[cfg(test)]
    pub(crate) fn sign_raw(&self, bytes: &[u8]) -> Signature {
        Signature(self.inner.sign(bytes).to_bytes())
    }

    /// The secret scalar (tests construct edge-case signatures with it).
    #[cfg(test)]
    pub(crate) fn scalar(&self) -> curve25519_dalek::Scalar {
        self.inner.to_scalar()
    }
}

impl fmt::Debug for SecretKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "SecretKey(public {:?})", self.public())
    }
}

crate::encoding::borrow_decode_via_decode!(PublicKey);

impl Canonical for KeyId {}
impl Canonical for PublicKey {}
