//! Records: what agencies put on the chain, and their signed form.

use bincode::{Decode, Encode};
use serde::{Deserialize, Serialize};

use crate::bounded::List;
use crate::crypto::keys::{KeyId, PublicKey, SecretKey};
use crate::crypto::signature::{Domain, Signature, SignatureError, signing_bytes, verify_raw};
use crate::encoding::{Canonical, DecodeCtx};
use crate::governance::{Approvals, GovAction};
use crate::hash::Hash;
use crate::ids::{AgencyId, Body, ChainId, Label, RecordId, Subject, Timestamp};
use crate::limits;

/// What a record does. The subject of the record says to what.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Encode, Decode, Serialize, Deserialize)]
#[bincode(decode_context = "DecodeCtx")]
#[serde(rename_all = "snake_case", tag = "type")]
pub enum RecordKind {
    /// Issue licence `subject` of `class`, valid in `[valid_from, valid_until)`.
    LicenceIssue {
        /// Licence class, e.g. `driving` or `pharmacy`.
        class: Label,
        /// Start of validity.
        valid_from: Timestamp,
        /// End of validity; the licence expires then.
        valid_until: Timestamp,
    },
    /// Amend licence `subject` (the new terms are in the body).
    LicenceAmend,
    /// Suspend licence `subject`.
    LicenceSuspend,
    /// Lift a suspension of licence `subject`.
    LicenceReinstate,
    /// Revoke licence `subject`, permanently.
    LicenceRevoke,
    /// Grant `grantee` access to `dataset`; `subject` is the grant id.
    GrantCreate {
        /// The agency that may access.
        grantee: AgencyId,
        /// The dataset it may access.
        dataset: Label,
        /// Why (the legal basis or purpose code).
        purpose: Label,
        /// What part of the dataset (fields, record classes).
        scope: Label,
        /// Start of validity.
        valid_from: Timestamp,
        /// End of validity; the grant expires then.
        valid_until: Timestamp,
    },
    /// Revoke grant `subject`.
    GrantRevoke,
    /// Log one access to `dataset` under grant `grant`; `subject` is the access-event id.
    AccessLog {
        /// The grant id (the subject of its `GrantCreate`).
        grant: Subject,
        /// The dataset accessed.
        dataset: Label,
    },
    /// A governance action with the approvals of the agencies that agreed
    /// to it (see [`crate::governance`]); `subject` is the proposal id.
    Governance {
        /// The change (boxed: it can be large, records are many).
        action: Box<GovAction>,
        /// Admin-key approvals, one per agency.
        approvals: Approvals,
    },
    /// Erase the off-chain payload with this commitment, which the issuer
    /// stored earlier; `subject` is the erasure id. The chain keeps only
    /// the commitment, so every proof stays valid.
    PayloadErase {
        /// The payload commitment (see `crate::payload`).
        commitment: Hash,
    },
}

impl RecordKind {
    /// Every kind's [`RecordKind::name`], in declaration order.
    pub const NAMES: [&'static str; 10] = [
        "licence_issue",
        "licence_amend",
        "licence_suspend",
        "licence_reinstate",
        "licence_revoke",
        "grant_create",
        "grant_revoke",
        "access_log",
        "governance",
        "payload_erase",
    ];

    /// A short name for logs, tables and policies.
    pub fn name(&self) -> &'static str {
        match self {
            RecordKind::LicenceIssue { .. } => "licence_issue",
            RecordKind::LicenceAmend => "licence_amend",
            RecordKind::LicenceSuspend => "licence_suspend",
            RecordKind::LicenceReinstate => "licence_reinstate",
            RecordKind::LicenceRevoke => "licence_revoke",
            RecordKind::GrantCreate { .. } => "grant_create",
            RecordKind::GrantRevoke => "grant_revoke",
            RecordKind::AccessLog { .. } => "access_log",
            RecordKind::Governance { .. } => "governance",
            RecordKind::PayloadErase { .. } => "payload_erase",
        }
    }
}

/// An unsigned record.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Encode, Decode, Serialize, Deserialize)]
#[bincode(decode_context = "DecodeCtx")]
pub struct Record {
    /// What the record does.
    pub kind: RecordKind,
    /// The issuing agency.
    pub issuer: AgencyId,
    /// Which of the issuer's keys signed it.
    pub key_id: KeyId,
    /// What it is about (licence number, grant id, access-event id).
    pub subject: Subject,
    /// Free-form body, bounded; personal data is referenced by hash, never stored.
    pub body: Body,
    /// Earlier records this one refers to.
    pub references: List<RecordId, { limits::MAX_REFERENCES }>,
    /// When the issuer made it.
    pub timestamp: Timestamp,
    /// Makes otherwise identical records distinct.
    pub nonce: u64,
}

impl Canonical for Record {}

impl Record {
    /// Signs the record with `key` for chain `chain`.
    pub fn sign(self, key: &SecretKey, chain: &ChainId) -> SignedRecord {
        let signature = key.sign(Domain::Record, &chain.0, &self.to_canonical());
        SignedRecord {
            record: self,
            signature,
        }
    }
}

/// A record with its issuer's signature.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Encode, Decode, Serialize, Deserialize)]
#[bincode(decode_context = "DecodeCtx")]
pub struct SignedRecord {
    /// The record.
    pub record: Record,
    /// Signature by the issuer key under [`Domain::Record`].
    pub signature: Signature,
}

impl Canonical for SignedRecord {}

impl SignedRecord {
    /// The record id: blake3 of the canonical encoding of the signed record.
    pub fn id(&self) -> RecordId {
        RecordId(self.canonical_hash())
    }

    /// The exact bytes the issuer signed.
    pub fn signing_bytes(&self, chain: &ChainId) -> Vec<u8> {
        signing_bytes(Domain::Record, &chain.0, &self.record.to_canonical())
    }

    /// [`SignedRecord::signing_bytes`] of the record whose canonical
    /// encoding is `canonical`, without encoding the record again: a
    /// signed record's encoding is its record's encoding followed by the
    /// 64 signature bytes. `None` if `canonical` is shorter than that.
    /// For bytes that decoded as a `SignedRecord`.
    pub fn signing_bytes_from_canonical(canonical: &[u8], chain: &ChainId) -> Option<Vec<u8>> {
        let record = canonical.get(..canonical.len().checked_sub(64)?)?;
        Some(signing_bytes(Domain::Record, &chain.0, record))
    }

    /// Checks the signature against `key` (the issuer key named by `key_id`).
    pub fn verify(&self, key: &PublicKey, chain: &ChainId) -> Result<(), SignatureError> {
        verify_raw(key, &self.signing_bytes(chain), &self.signature)
    }
}

impl Canonical for RecordKind {}
