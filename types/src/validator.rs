//! Validators and validator sets: who orders blocks, and how many must agree.

use bincode::{Decode, Encode};
use serde::{Deserialize, Serialize};

use crate::bounded::{List, Text};
use crate::crypto::keys::PublicKey;
use crate::encoding::{Canonical, DecodeCtx, DecodeError};
use crate::hash::Hash;
use crate::ids::AgencyId;
use crate::limits;

/// One validator: an agency's node.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Encode, Decode, Serialize, Deserialize)]
#[bincode(decode_context = "DecodeCtx")]
pub struct Validator {
    /// The agency that runs it.
    pub agency: AgencyId,
    /// Signs consensus messages.
    pub consensus_key: PublicKey,
    /// The libp2p identity key; the peer id is derived from it.
    pub network_key: PublicKey,
    /// Where peers reach it (a multiaddr, e.g. `/ip4/127.0.0.1/tcp/7001`).
    pub address: Text<{ limits::MAX_ADDRESS }>,
}

/// An ordered set of validators. A validator's index is its position.
///
/// With `n` validators, `f = ⌊(n−1)/3⌋` may be faulty and a quorum is
/// `⌈(n+f+1)/2⌉`, which is `2f+1` when `n = 3f+1` and keeps any two quorums
/// intersecting in at least `f+1` validators for every `n`.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Encode, Decode, Serialize, Deserialize)]
#[bincode(decode_context = "DecodeCtx")]
#[serde(try_from = "Vec<Validator>", into = "Vec<Validator>")]
pub struct ValidatorSet {
    validators: List<Validator, { limits::MAX_VALIDATORS }>,
}

/// Why a list of validators is not a valid set.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ValidatorSetError {
    /// No validators.
    #[error("a validator set needs at least one validator")]
    Empty,
    /// Too many.
    #[error("{n} validators is over the limit of {max}", max = limits::MAX_VALIDATORS)]
    TooMany {
        /// Given count.
        n: usize,
    },
    /// Two validators share a key.
    #[error("validators {first} and {second} share a {which} key")]
    DuplicateKey {
        /// Which key (consensus or network).
        which: &'static str,
        /// Index of the first.
        first: usize,
        /// Index of the second.
        second: usize,
    },
}

impl ValidatorSet {
    /// Builds a set, checking it.
    pub fn new(validators: Vec<Validator>) -> Result<Self, ValidatorSetError> {
        let n = validators.len();
        let validators = List::new(validators).map_err(|_| ValidatorSetError::TooMany { n })?;
        let set = ValidatorSet { validators };
        set.validate()?;
        Ok(set)
    }

    /// Checks the set's invariants.
    pub fn validate(&self) -> Result<(), ValidatorSetError> {
        if self.validators.is_empty() {
            return Err(ValidatorSetError::Empty);
        }
        for (i, a) in self.validators.iter().enumerate() {
            for (j, b) in self.validators.iter().enumerate().skip(i + 1) {
                if a.consensus_key == b.consensus_key {
                    return Err(ValidatorSetError::DuplicateKey {
                        which: "consensus",
                        first: i,
                        second: j,
                    });
                }
                if a.network_key == b.network_key {
                    return Err(ValidatorSetError::DuplicateKey {
                        which: "network",
                        first: i,
                        second: j,
                    });
                }
            }
        }
        Ok(())
    }

    /// The validators in index order.
    pub fn validators(&self) -> &[Validator] {
        &self.validators
    }

    /// Validator at `index`.
    pub fn get(&self, index: usize) -> Option<&Validator> {
        self.validators.get(index)
    }

    /// Number of validators.
    pub fn n(&self) -> usize {
        self.validators.len()
    }

    /// Faults tolerated: `⌊(n−1)/3⌋`.
    pub fn f(&self) -> usize {
        self.n().saturating_sub(1) / 3
    }

    /// Votes needed for a quorum: `⌈(n+f+1)/2⌉`.
    pub fn quorum(&self) -> usize {
        (self.n() + self.f() + 1).div_ceil(2)
    }

    /// Index of the validator with this consensus key.
    pub fn index_of(&self, key: &PublicKey) -> Option<usize> {
        self.validators.iter().position(|v| &v.consensus_key == key)
    }

    /// Hash of the canonical encoding, carried in headers.
    pub fn hash(&self) -> Hash {
        self.canonical_hash()
    }
}

impl TryFrom<Vec<Validator>> for ValidatorSet {
    type Error = ValidatorSetError;
    fn try_from(v: Vec<Validator>) -> Result<Self, Self::Error> {
        ValidatorSet::new(v)
    }
}

impl From<ValidatorSet> for Vec<Validator> {
    fn from(set: ValidatorSet) -> Self {
        set.validators.into_vec()
    }
}

impl Canonical for ValidatorSet {
    fn check(&self) -> Result<(), DecodeError> {
        self.validate().map_err(|e| DecodeError::NonCanonical {
            field: "validator_set",
            reason: e.to_string(),
        })
    }
}

impl Canonical for Validator {}
