//! Signatures, signing domains and the single-signature verification path.
//!
//! # The acceptance rule
//!
//! A signature `(R, S)` by key `A` on message `M` is accepted exactly when:
//!
//! 1. `S` is a canonical scalar (`S < ℓ`);
//! 2. `A` is a canonical encoding (y < p) of a curve point that is not of
//!    small order;
//! 3. `R` is a canonical encoding of a curve point that is not of small order;
//! 4. the **cofactored** equation holds: `[8]([S]B − R − [k]A) = 𝒪`, where
//!    `k = SHA-512(R ‖ A ‖ M) mod ℓ`.
//!
//! The single path ([`verify`]) and the batch path
//! ([`super::batch::verify_batch`]) both apply exactly these four checks, so
//! they accept the same set of signatures. (ed25519-dalek's own `verify`,
//! `verify_strict` and `verify_batch` disagree with one another on
//! non-canonical `R`, small-order points and mixed-order points, which is why
//! Chancery does not use them for verification.) Every signature that a
//! standard RFC 8032 signer produces is accepted.
//!
//! # Domain separation
//!
//! The signed message `M` is `tag ‖ 0x00 ‖ chain_id ‖ payload`, where `tag` is
//! the ASCII tag of a [`Domain`] and `payload` the canonical encoding of the
//! signed value. No tag is a prefix of another, so a signature made for one
//! purpose or one chain never verifies for another.

use std::fmt;

use bincode::{Decode, Encode};
use curve25519_dalek::edwards::EdwardsPoint;
use curve25519_dalek::scalar::Scalar;
use curve25519_dalek::traits::IsIdentity;
use sha2::{Digest, Sha512};

use crate::encoding::{Canonical, DecodeCtx};
use crate::hash::Hash;

use super::keys::{PublicKey, PublicKeyError, decode_point};

/// What a signature is for. Each domain has its own tag.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Domain {
    /// An issuer's signature on a record.
    Record,
    /// A primary's signature on a block proposal.
    Proposal,
    /// A PBFT prepare vote.
    Prepare,
    /// A PBFT commit vote (collected into commit certificates).
    Commit,
    /// A view-change message.
    ViewChange,
    /// A new-view message.
    NewView,
    /// An agency's approval of a governance proposal.
    GovernanceApproval,
    /// A validator binding its network identity to its consensus key.
    PeerBinding,
    /// An agency's signature on its genesis entry.
    GenesisEntry,
    /// An issuer's signature on the commitment of an off-chain payload it
    /// uploads to a node.
    PayloadUpload,
    /// A backup's suspicion that the primary of a view leaves records out.
    Suspect,
}

impl Domain {
    /// Every domain, for exhaustive tests.
    pub const ALL: [Domain; 11] = [
        Domain::Record,
        Domain::Proposal,
        Domain::Prepare,
        Domain::Commit,
        Domain::ViewChange,
        Domain::NewView,
        Domain::GovernanceApproval,
        Domain::PeerBinding,
        Domain::GenesisEntry,
        Domain::PayloadUpload,
        Domain::Suspect,
    ];

    /// The ASCII tag that prefixes every message signed in this domain.
    pub const fn tag(self) -> &'static [u8] {
        match self {
            Domain::Record => b"chancery/v1/record",
            Domain::Proposal => b"chancery/v1/proposal",
            Domain::Prepare => b"chancery/v1/prepare",
            Domain::Commit => b"chancery/v1/commit",
            Domain::ViewChange => b"chancery/v1/view-change",
            Domain::NewView => b"chancery/v1/new-view",
            Domain::GovernanceApproval => b"chancery/v1/governance-approval",
            Domain::PeerBinding => b"chancery/v1/peer-binding",
            Domain::GenesisEntry => b"chancery/v1/genesis-entry",
            Domain::PayloadUpload => b"chancery/v1/payload-upload",
            Domain::Suspect => b"chancery/v1/suspect",
        }
    }
}

/// The exact bytes signed: `tag ‖ 0x00 ‖ chain ‖ payload`.
pub fn signing_bytes(domain: Domain, chain: &Hash, payload: &[u8]) -> Vec<u8> {
    let tag = domain.tag();
    let mut out = Vec::with_capacity(tag.len() + 1 + 32 + payload.len());
    out.extend_from_slice(tag);
    out.push(0);
    out.extend_from_slice(chain.as_bytes());
    out.extend_from_slice(payload);
    out
}

/// A 64-byte ed25519 signature `R ‖ S`. Not validated until verified.
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Encode, Decode)]
#[bincode(decode_context = "DecodeCtx")]
pub struct Signature(pub [u8; 64]);

impl Default for Signature {
    fn default() -> Self {
        Signature([0u8; 64])
    }
}

impl fmt::Debug for Signature {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Signature({}…)", hex::encode(&self.0[..6]))
    }
}

crate::serde_hex::hex_serde!(Signature, 64);

/// Why a signature was refused; each variant is one rule of the acceptance rule.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum SignatureError {
    /// Rule 1: `S` is not reduced modulo ℓ.
    #[error("signature scalar S is not canonical")]
    NonCanonicalS,
    /// Rule 2: the public key is unacceptable.
    #[error("public key rejected: {0}")]
    BadKey(PublicKeyError),
    /// Rule 3: `R` is not a canonical encoding of a point.
    #[error("signature point R is not canonical")]
    NonCanonicalR,
    /// Rule 3: `R` is not on the curve.
    #[error("signature point R is not on the curve")]
    RNotOnCurve,
    /// Rule 3: `R` has small order.
    #[error("signature point R has small order")]
    SmallOrderR,
    /// Rule 4: the verification equation does not hold.
    #[error("signature does not match the key and message")]
    Mismatch,
}

/// A signature that passed rules 1 and 3, ready for the equation.
pub(crate) struct Prepared {
    pub(crate) s: Scalar,
    pub(crate) r: EdwardsPoint,
    pub(crate) k: Scalar,
}

/// Applies rules 1 and 3 and computes the challenge `k`.
pub(crate) fn prepare(
    key: &PublicKey,
    message: &[u8],
    sig: &Signature,
) -> Result<Prepared, SignatureError> {
    let mut s_bytes = [0u8; 32];
    s_bytes.copy_from_slice(&sig.0[32..]);
    let s = Option::<Scalar>::from(Scalar::from_canonical_bytes(s_bytes))
        .ok_or(SignatureError::NonCanonicalS)?;
    let mut r_bytes = [0u8; 32];
    r_bytes.copy_from_slice(&sig.0[..32]);
    let r = decode_point(&r_bytes).map_err(|e| match e {
        PublicKeyError::NonCanonical => SignatureError::NonCanonicalR,
        PublicKeyError::NotOnCurve => SignatureError::RNotOnCurve,
        PublicKeyError::SmallOrder => SignatureError::SmallOrderR,
    })?;
    let mut h = Sha512::new();
    h.update(r_bytes);
    h.update(key.as_bytes());
    h.update(message);
    let k = Scalar::from_hash(h);
    Ok(Prepared { s, r, k })
}

/// Verifies `sig` by `key` over the already domain-separated `message`.
pub fn verify_raw(key: &PublicKey, message: &[u8], sig: &Signature) -> Result<(), SignatureError> {
    let p = prepare(key, message, sig)?;
    // [S]B − [k]A
    let minus_a = -key.point();
    let sb_minus_ka = EdwardsPoint::vartime_double_scalar_mul_basepoint(&p.k, &minus_a, &p.s);
    if (sb_minus_ka - p.r).mul_by_cofactor().is_identity() {
        Ok(())
    } else {
        Err(SignatureError::Mismatch)
    }
}

/// Verifies a signature made with [`super::keys::SecretKey::sign`].
pub fn verify(
    key: &PublicKey,
    domain: Domain,
    chain: &Hash,
    payload: &[u8],
    sig: &Signature,
) -> Result<(), SignatureError> {
    verify_raw(key, &signing_bytes(domain, chain, payload), sig)
}

/// Verifies with a key given as raw bytes (rule 2 is applied here).
pub fn verify_with_key_bytes(
    key: &[u8; 32],
    message: &[u8],
    sig: &Signature,
) -> Result<(), SignatureError> {
    let key = PublicKey::from_bytes(key).map_err(SignatureError::BadKey)?;
    verify_raw(&key, message, sig)
}

impl Canonical for Signature {}
