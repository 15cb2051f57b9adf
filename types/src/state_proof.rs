//! The state tree: subject statuses, their keys, and proofs about them.
//!
//! The state tree is a sparse Merkle tree over 256-bit keys, in its compact
//! form: a subtree holding one entry is represented by that entry's leaf,
//! wherever it sits, and an empty subtree by [`Hash::ZERO`].
//!
//! ```text
//! empty subtree   = 0x00 × 32
//! leaf(k, v)      = blake3_keyed(SMT_LEAF_KEY, k ‖ blake3(v))   k: 32 bytes, v: canonical Status
//! node(l, r)      = blake3_keyed(SMT_NODE_KEY, l ‖ r)           l: bit 0 side, r: bit 1 side
//! ```
//!
//! Bits of a key are read from the most significant bit of byte 0. An
//! internal node exists only where at least two entries share its prefix, so
//! the tree's shape depends only on the set of keys. The root of the empty
//! tree is `Hash::ZERO`.
//!
//! Keys ([`StateKey`]) are domain-separated hashes of what a status is about:
//!
//! ```text
//! licence  blake3("chancery/v1/state/licence" 0x00 ‖ canonical(issuer) ‖ canonical(subject))
//! grant    blake3("chancery/v1/state/grant"   0x00 ‖ canonical(subject))
//! access   blake3("chancery/v1/state/access"  0x00 ‖ canonical(issuer) ‖ canonical(subject))
//! proposal blake3("chancery/v1/state/proposal" 0x00 ‖ canonical(subject))
//! erasure  blake3("chancery/v1/state/erasure" 0x00 ‖ canonical(issuer) ‖ canonical(subject))
//! key      blake3("chancery/v1/state/issuer-key" 0x00 ‖ key id)
//! validators blake3("chancery/v1/state/validators" 0x00)
//! ```
//!
//! An issuer key has a status only once governance changed it (absent: as
//! registered, in genesis or by `AddAgency` / `AddIssuerKey`… which write one).
//! The validators entry holds the latest scheduled set and the height it
//! applies from; it is absent until the first change.
//!
//! Licence numbers are scoped to their issuing agency; grant ids are global
//! (an access log names a grant by id alone).

use bincode::{Decode, Encode};
use serde::{Deserialize, Serialize};

use crate::bounded::List;
use crate::crypto::keys::KeyId;
use crate::encoding::{Canonical, DecodeCtx};
use crate::genesis::IssuerKey;
use crate::hash::Hash;
use crate::ids::{AgencyId, Label, RecordId, Subject, Timestamp};
use crate::validator::ValidatorSet;

/// A 256-bit state tree key.
pub type StateKey = Hash;

/// The key of licence `subject` issued by `issuer`.
pub fn licence_key(issuer: &AgencyId, subject: &Subject) -> StateKey {
    Hash::of_parts(&[
        b"chancery/v1/state/licence\0",
        &issuer.to_canonical_bytes(),
        &subject.to_canonical_bytes(),
    ])
}

/// The key of grant `subject` (grant ids are global).
pub fn grant_key(subject: &Subject) -> StateKey {
    Hash::of_parts(&[b"chancery/v1/state/grant\0", &subject.to_canonical_bytes()])
}

/// The key of access event `subject` logged by `issuer`.
pub fn access_key(issuer: &AgencyId, subject: &Subject) -> StateKey {
    Hash::of_parts(&[
        b"chancery/v1/state/access\0",
        &issuer.to_canonical_bytes(),
        &subject.to_canonical_bytes(),
    ])
}

/// The key of governance proposal `subject` (proposal ids are global).
pub fn proposal_key(subject: &Subject) -> StateKey {
    Hash::of_parts(&[
        b"chancery/v1/state/proposal\0",
        &subject.to_canonical_bytes(),
    ])
}

/// The key of erasure `subject` made by `issuer`.
pub fn erasure_key(issuer: &AgencyId, subject: &Subject) -> StateKey {
    Hash::of_parts(&[
        b"chancery/v1/state/erasure\0",
        &issuer.to_canonical_bytes(),
        &subject.to_canonical_bytes(),
    ])
}

/// The key of issuer key `key`'s status.
pub fn issuer_key_key(key: &KeyId) -> StateKey {
    Hash::of_parts(&[b"chancery/v1/state/issuer-key\0", &key.0])
}

/// The key of the validator-set schedule.
pub fn validators_key() -> StateKey {
    Hash::of_parts(&[b"chancery/v1/state/validators\0"])
}

/// The state key a record acts on: its licence, its grant, or its access event.
pub fn record_state_key(record: &crate::record::Record) -> StateKey {
    use crate::record::RecordKind as K;
    match record.kind {
        K::LicenceIssue { .. }
        | K::LicenceAmend
        | K::LicenceSuspend
        | K::LicenceReinstate
        | K::LicenceRevoke => licence_key(&record.issuer, &record.subject),
        K::GrantCreate { .. } | K::GrantRevoke => grant_key(&record.subject),
        K::AccessLog { .. } => access_key(&record.issuer, &record.subject),
        K::Governance { .. } => proposal_key(&record.subject),
        K::PayloadErase { .. } => erasure_key(&record.issuer, &record.subject),
    }
}

trait FieldBytes {
    fn to_canonical_bytes(&self) -> Vec<u8>;
}

impl<T: Encode> FieldBytes for T {
    fn to_canonical_bytes(&self) -> Vec<u8> {
        bincode::encode_to_vec(self, crate::encoding::config()).unwrap_or_default()
    }
}

/// Where a licence is in its lifecycle.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Encode, Decode, Serialize, Deserialize)]
#[bincode(decode_context = "DecodeCtx")]
#[serde(rename_all = "snake_case")]
pub enum LicenceState {
    /// Issued (possibly amended) and in force.
    Active,
    /// Suspended; may be reinstated or revoked.
    Suspended,
    /// Revoked; final.
    Revoked,
    /// Its validity ended; final.
    Expired,
}

/// Where a data-access grant is in its lifecycle.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Encode, Decode, Serialize, Deserialize)]
#[bincode(decode_context = "DecodeCtx")]
#[serde(rename_all = "snake_case")]
pub enum GrantState {
    /// In force during its validity window.
    Active,
    /// Revoked by its creator; final.
    Revoked,
    /// Its validity ended; final.
    Expired,
}

/// Current status of a licence.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Encode, Decode, Serialize, Deserialize)]
#[bincode(decode_context = "DecodeCtx")]
pub struct LicenceStatus {
    /// Licence class.
    pub class: Label,
    /// Lifecycle state.
    pub state: LicenceState,
    /// Start of validity.
    pub valid_from: Timestamp,
    /// End of validity.
    pub valid_until: Timestamp,
    /// The issuing record.
    pub issued_by: RecordId,
    /// The last accepted record that changed it (the issue record at first).
    pub last_change: RecordId,
    /// Block time of that change (or of expiry).
    pub changed_at: Timestamp,
}

/// Current status of a data-access grant.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Encode, Decode, Serialize, Deserialize)]
#[bincode(decode_context = "DecodeCtx")]
pub struct GrantStatus {
    /// The agency that created it (the dataset owner).
    pub grantor: AgencyId,
    /// The agency that may access.
    pub grantee: AgencyId,
    /// The dataset.
    pub dataset: Label,
    /// Lifecycle state.
    pub state: GrantState,
    /// Start of validity.
    pub valid_from: Timestamp,
    /// End of validity.
    pub valid_until: Timestamp,
    /// The creating record.
    pub created_by: RecordId,
    /// The last accepted record that changed it.
    pub last_change: RecordId,
    /// Block time of that change (or of expiry).
    pub changed_at: Timestamp,
}

/// A logged access event.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Encode, Decode, Serialize, Deserialize)]
#[bincode(decode_context = "DecodeCtx")]
pub struct AccessStatus {
    /// The grant it was made under.
    pub grant: Subject,
    /// The access-log record.
    pub record: RecordId,
}

/// The value stored under a state key.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Encode, Decode, Serialize, Deserialize)]
#[bincode(decode_context = "DecodeCtx")]
#[serde(rename_all = "snake_case", tag = "type")]
pub enum Status {
    /// A licence.
    Licence(LicenceStatus),
    /// A data-access grant.
    Grant(GrantStatus),
    /// An access event.
    Access(AccessStatus),
    /// An applied governance proposal.
    Proposal(ProposalStatus),
    /// An erased off-chain payload.
    Erasure(ErasureStatus),
    /// An issuer key changed by governance.
    IssuerKey(KeyStatus),
    /// The latest scheduled validator set.
    Validators(ValidatorSchedule),
}

/// An applied governance proposal.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Encode, Decode, Serialize, Deserialize)]
#[bincode(decode_context = "DecodeCtx")]
pub struct ProposalStatus {
    /// The action's name.
    pub action: Label,
    /// The governance record.
    pub record: RecordId,
    /// The first height it applies to.
    pub applies_from: u64,
}

/// An erased payload.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Encode, Decode, Serialize, Deserialize)]
#[bincode(decode_context = "DecodeCtx")]
pub struct ErasureStatus {
    /// The payload commitment.
    pub commitment: Hash,
    /// The erasure record.
    pub record: RecordId,
    /// Block time of the erasure.
    pub erased_at: Timestamp,
}

/// An issuer key as governance left it.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Encode, Decode, Serialize, Deserialize)]
#[bincode(decode_context = "DecodeCtx")]
pub struct KeyStatus {
    /// The owning agency.
    pub agency: AgencyId,
    /// The key's validity window.
    pub key: IssuerKey,
    /// Block time from which every record with this key is refused.
    pub revoked_at: Option<Timestamp>,
    /// Reported compromise time: records timestamped at or after it are suspect.
    pub compromised_since: Option<Timestamp>,
    /// The governance record that last changed it.
    pub changed_by: RecordId,
}

/// The validator set scheduled by the latest validator-set change.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Encode, Decode, Serialize, Deserialize)]
#[bincode(decode_context = "DecodeCtx")]
pub struct ValidatorSchedule {
    /// The set.
    pub set: ValidatorSet,
    /// The first height it certifies.
    pub from_height: u64,
    /// The governance record that made the change.
    pub changed_by: RecordId,
}

impl Canonical for Status {}

/// The key of a leaf's keyed hash: separates leaves from internal nodes
/// (and both from every other hash in Chancery), as a prefix byte would,
/// at one blake3 compression per hash instead of two (D35).
pub const SMT_LEAF_KEY: [u8; 32] = *b"chancery/v2/state-tree/leaf/key!";

/// The key of an internal node's keyed hash (see [`SMT_LEAF_KEY`]).
pub const SMT_NODE_KEY: [u8; 32] = *b"chancery/v2/state-tree/node/key!";

/// `blake3_keyed(SMT_LEAF_KEY, key ‖ value_hash)`: a state tree leaf.
pub fn smt_leaf_hash(key: &StateKey, value_hash: &Hash) -> Hash {
    keyed_pair(&SMT_LEAF_KEY, &key.0, &value_hash.0)
}

/// `blake3_keyed(SMT_NODE_KEY, left ‖ right)`: a state tree internal node.
pub fn smt_node_hash(left: &Hash, right: &Hash) -> Hash {
    keyed_pair(&SMT_NODE_KEY, &left.0, &right.0)
}

/// The keyed hash of two 32-byte halves: 64 bytes, one blake3 block.
fn keyed_pair(key: &[u8; 32], a: &[u8; 32], b: &[u8; 32]) -> Hash {
    let mut buf = [0u8; 64];
    buf[..32].copy_from_slice(a);
    buf[32..].copy_from_slice(b);
    Hash(*blake3::keyed_hash(key, &buf).as_bytes())
}

/// Bit `i` of `key` (0 = most significant bit of byte 0).
pub fn key_bit(key: &StateKey, i: usize) -> bool {
    (key.0[i / 8] >> (7 - (i % 8))) & 1 == 1
}

/// The leaf a proof ends at.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Encode, Decode, Serialize, Deserialize)]
#[bincode(decode_context = "DecodeCtx")]
pub struct SmtLeaf {
    /// Its key.
    pub key: StateKey,
    /// blake3 of its value.
    pub value_hash: Hash,
}

/// A membership or non-membership proof for one key.
///
/// The path from the root follows the key's bits; `siblings[d]` is the hash
/// of the other child at depth `d`. The path ends at `leaf` — the key's own
/// leaf (membership), another key's leaf that alone fills the subtree
/// (non-membership), or nothing (`None`, an empty subtree: non-membership).
#[derive(Clone, Debug, PartialEq, Eq, Hash, Encode, Decode, Serialize, Deserialize)]
#[bincode(decode_context = "DecodeCtx")]
pub struct StateProof {
    /// The leaf the path ends at, if any.
    pub leaf: Option<SmtLeaf>,
    /// Sibling hashes from the root down.
    pub siblings: List<Hash, 256>,
}

impl Canonical for StateProof {}

/// Why a state proof does not verify.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum StateProofError {
    /// A membership proof whose leaf is for another key, or absent.
    #[error("the proof's leaf is not the key's leaf")]
    WrongLeaf,
    /// The leaf's value hash is not the hash of the claimed value.
    #[error("the proof's leaf holds a different value")]
    WrongValue,
    /// A non-membership proof that ends at the key's own leaf.
    #[error("the key is present, the proof claims it is absent")]
    KeyPresent,
    /// A non-membership leaf that could not sit at the end of this path.
    #[error("the proof's leaf does not share the key's path")]
    LeafOffPath,
    /// The recomputed root differs from the trusted root.
    #[error("recomputed root does not match the trusted state root")]
    RootMismatch,
}

impl StateProof {
    /// Checks that `key` holds `value` (canonical bytes of a [`Status`]) in
    /// the tree with root `root`, or is absent when `value` is `None`.
    pub fn verify(
        &self,
        root: &Hash,
        key: &StateKey,
        value: Option<&[u8]>,
    ) -> Result<(), StateProofError> {
        let depth = self.siblings.len();
        match (value, &self.leaf) {
            (Some(v), Some(leaf)) => {
                if leaf.key != *key {
                    return Err(StateProofError::WrongLeaf);
                }
                if leaf.value_hash != Hash::of(v) {
                    return Err(StateProofError::WrongValue);
                }
            }
            (Some(_), None) => return Err(StateProofError::WrongLeaf),
            (None, Some(leaf)) => {
                if leaf.key == *key {
                    return Err(StateProofError::KeyPresent);
                }
                if (0..depth).any(|i| key_bit(&leaf.key, i) != key_bit(key, i)) {
                    return Err(StateProofError::LeafOffPath);
                }
            }
            (None, None) => {}
        }
        let mut cur = match &self.leaf {
            Some(l) => smt_leaf_hash(&l.key, &l.value_hash),
            None => Hash::ZERO,
        };
        for d in (0..depth).rev() {
            let sib = &self.siblings[d];
            cur = if key_bit(key, d) {
                smt_node_hash(sib, &cur)
            } else {
                smt_node_hash(&cur, sib)
            };
        }
        if cur != *root {
            return Err(StateProofError::RootMismatch);
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn empty_tree_proves_absence() {
        let p = StateProof {
            leaf: None,
            siblings: List::default(),
        };
        assert_eq!(p.verify(&Hash::ZERO, &Hash([7; 32]), None), Ok(()));
        assert_eq!(
            p.verify(&Hash::ZERO, &Hash([7; 32]), Some(b"x")),
            Err(StateProofError::WrongLeaf)
        );
    }

    #[test]
    fn single_leaf_tree() {
        let k = Hash([0x80; 32]);
        let v = b"value";
        let leaf = SmtLeaf {
            key: k,
            value_hash: Hash::of(v),
        };
        let root = smt_leaf_hash(&k, &leaf.value_hash);
        let p = StateProof {
            leaf: Some(leaf),
            siblings: List::default(),
        };
        assert_eq!(p.verify(&root, &k, Some(v)), Ok(()));
        assert_eq!(
            p.verify(&root, &k, Some(b"other")),
            Err(StateProofError::WrongValue)
        );
        assert_eq!(p.verify(&root, &k, None), Err(StateProofError::KeyPresent));
        // Any other key is absent: the one leaf fills the whole tree.
        assert_eq!(p.verify(&root, &Hash([1; 32]), None), Ok(()));
    }

    #[test]
    fn key_bits_are_msb_first() {
        let mut k = Hash::ZERO;
        k.0[0] = 0b1000_0000;
        k.0[1] = 0b0000_0001;
        assert!(key_bit(&k, 0));
        assert!(!key_bit(&k, 1));
        assert!(key_bit(&k, 15));
    }

    #[test]
    fn keys_are_domain_separated() {
        let a = AgencyId::new("transport").unwrap_or_else(|e| panic!("{e}"));
        let s = Subject::new("X-1").unwrap_or_else(|e| panic!("{e}"));
        assert_ne!(licence_key(&a, &s), access_key(&a, &s));
        assert_ne!(licence_key(&a, &s), grant_key(&s));
    }
}
