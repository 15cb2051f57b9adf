//! Commit votes and commit certificates.

use bincode::{Decode, Encode};
use serde::{Deserialize, Serialize};

use crate::bounded::List;
use crate::crypto::batch::{BatchItem, verify_batch};
use crate::crypto::signature::{Domain, Signature, SignatureError, signing_bytes};
use crate::encoding::{Canonical, DecodeCtx, DecodeError};
use crate::hash::Hash;
use crate::ids::ChainId;
use crate::limits;
use crate::validator::ValidatorSet;

/// What a validator signs when it commits to a block.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Encode, Decode, Serialize, Deserialize)]
#[bincode(decode_context = "DecodeCtx")]
pub struct CommitVote {
    /// Height of the block.
    pub height: u64,
    /// View in which the commit was cast.
    pub view: u64,
    /// Hash of the block header.
    pub block_hash: Hash,
}

impl Canonical for CommitVote {}

impl CommitVote {
    /// The exact bytes signed for this vote on `chain`.
    pub fn signing_bytes(&self, chain: &ChainId) -> Vec<u8> {
        signing_bytes(Domain::Commit, &chain.0, &self.to_canonical())
    }
}

/// One validator's signature in a certificate.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Encode, Decode, Serialize, Deserialize)]
#[bincode(decode_context = "DecodeCtx")]
pub struct CertSignature {
    /// The validator's index in the set.
    pub validator: u16,
    /// Its signature on the [`CommitVote`].
    pub signature: Signature,
}

/// A quorum of commit signatures over one block header.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Encode, Decode, Serialize, Deserialize)]
#[bincode(decode_context = "DecodeCtx")]
pub struct CommitCertificate {
    /// The vote every signature is over.
    pub vote: CommitVote,
    /// Signatures, sorted by validator index, no index twice.
    pub signatures: List<CertSignature, { limits::MAX_VALIDATORS }>,
}

/// Why a commit certificate does not prove its block.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CertificateError {
    /// Signatures are not strictly sorted by validator index.
    #[error(
        "certificate signatures are not sorted by validator index without repeats (at position {position})"
    )]
    Unsorted {
        /// Position of the first out-of-order entry.
        position: usize,
    },
    /// An index outside the validator set.
    #[error("certificate names validator {validator}, but the set has {n}")]
    UnknownValidator {
        /// The index.
        validator: u16,
        /// Set size.
        n: usize,
    },
    /// A signature that does not verify.
    #[error("signature of validator {validator} is invalid: {error}")]
    BadSignature {
        /// The index.
        validator: u16,
        /// Why.
        error: SignatureError,
    },
    /// Fewer valid signatures than a quorum.
    #[error("certificate has {have} signatures, a quorum is {need}")]
    NoQuorum {
        /// Signatures present.
        have: usize,
        /// Quorum size.
        need: usize,
    },
    /// The certificate is for another block.
    #[error("certificate is for block {found}, expected {expected}")]
    WrongBlock {
        /// Hash certified.
        found: Hash,
        /// Hash expected.
        expected: Hash,
    },
}

impl CommitCertificate {
    fn check_sorted(&self) -> Result<(), CertificateError> {
        for (i, w) in self.signatures.windows(2).enumerate() {
            if w[0].validator >= w[1].validator {
                return Err(CertificateError::Unsorted { position: i + 1 });
            }
        }
        Ok(())
    }

    /// Verifies the certificate: sorted, every signer in `set`, every
    /// signature valid (batch-verified), and at least a quorum of them.
    pub fn verify(&self, set: &ValidatorSet, chain: &ChainId) -> Result<(), CertificateError> {
        self.check_sorted()?;
        let n = set.n();
        let mut keys = Vec::with_capacity(self.signatures.len());
        for s in self.signatures.iter() {
            let v = set
                .get(s.validator as usize)
                .ok_or(CertificateError::UnknownValidator {
                    validator: s.validator,
                    n,
                })?;
            keys.push(&v.consensus_key);
        }
        let message = self.vote.signing_bytes(chain);
        let items: Vec<BatchItem<'_>> = self
            .signatures
            .iter()
            .zip(&keys)
            .map(|(s, key)| BatchItem {
                key,
                message: &message,
                signature: &s.signature,
            })
            .collect();
        for (s, r) in self.signatures.iter().zip(verify_batch(&items)) {
            if let Err(error) = r {
                return Err(CertificateError::BadSignature {
                    validator: s.validator,
                    error,
                });
            }
        }
        if self.signatures.len() < set.quorum() {
            return Err(CertificateError::NoQuorum {
                have: self.signatures.len(),
                need: set.quorum(),
            });
        }
        Ok(())
    }

    /// Verifies the certificate and that it certifies `block_hash`.
    pub fn verify_for(
        &self,
        block_hash: &Hash,
        set: &ValidatorSet,
        chain: &ChainId,
    ) -> Result<(), CertificateError> {
        if &self.vote.block_hash != block_hash {
            return Err(CertificateError::WrongBlock {
                found: self.vote.block_hash,
                expected: *block_hash,
            });
        }
        self.verify(set, chain)
    }
}

impl Canonical for CommitCertificate {
    fn check(&self) -> Result<(), DecodeError> {
        self.check_sorted().map_err(|e| DecodeError::NonCanonical {
            field: "commit_certificate.signatures",
            reason: e.to_string(),
        })
    }
}
