//! Genesis: the chain's founding document. Auditors trust nothing else.
//!
//! The chain id is the hash of the canonical encoding of the genesis, so
//! any change to it — one agency, one key, one policy line — is another chain.

use std::collections::BTreeSet;

use bincode::{Decode, Encode};
use serde::{Deserialize, Serialize};

use crate::bounded::{List, Text};
use crate::crypto::keys::{KeyId, PublicKey};
use crate::encoding::{Canonical, DecodeCtx, DecodeError};
use crate::governance::{GovAction, GovernanceRules};
use crate::hash::Hash;
use crate::ids::{AgencyId, ChainId, Label, Subject, Timestamp};
use crate::limits;
use crate::validator::{ValidatorSet, ValidatorSetError};

/// A key an agency issues records with, and when it may be used.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Encode, Decode, Serialize, Deserialize)]
#[bincode(decode_context = "DecodeCtx")]
pub struct IssuerKey {
    /// The key.
    pub public: PublicKey,
    /// Records timestamped before this are refused.
    pub valid_from: Timestamp,
    /// Records timestamped at or after this are refused; `None` = no end.
    pub valid_until: Option<Timestamp>,
}

impl IssuerKey {
    /// The key's id.
    pub fn key_id(&self) -> KeyId {
        self.public.key_id()
    }

    /// Whether a record timestamped `t` may be signed with this key.
    pub fn valid_at(&self, t: Timestamp) -> bool {
        t >= self.valid_from && self.valid_until.is_none_or(|end| t < end)
    }
}

/// A participating agency.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Encode, Decode, Serialize, Deserialize)]
#[bincode(decode_context = "DecodeCtx")]
pub struct Agency {
    /// Stable id, e.g. `transport`.
    pub id: AgencyId,
    /// Display name, e.g. `Department of Transport`.
    pub name: Text<{ limits::MAX_NAME }>,
    /// Signs governance approvals for the agency.
    pub admin_key: PublicKey,
    /// Keys that sign the agency's records.
    pub issuer_keys: List<IssuerKey, { limits::MAX_ISSUER_KEYS }>,
}

/// What one agency may issue.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Encode, Decode, Serialize, Deserialize)]
#[bincode(decode_context = "DecodeCtx")]
pub struct Permission {
    /// The agency.
    pub agency: AgencyId,
    /// Licence classes it may issue and manage (`*` = any).
    pub licence_classes: List<Label, 64>,
    /// Whether it may create and revoke data-access grants over its datasets.
    pub may_grant: bool,
    /// Whether it may log accesses (under grants made to it).
    pub may_log_access: bool,
    /// The deny list: record kinds (by name, e.g. `licence_revoke`) the
    /// agency may not issue, whatever else it is permitted.
    #[serde(default)]
    pub denied_kinds: List<Label, { limits::MAX_DENIED }>,
    /// The deny list: subjects the agency may not touch.
    #[serde(default)]
    pub denied_subjects: List<Subject, { limits::MAX_DENIED }>,
}

impl Permission {
    /// Whether the deny list forbids `kind` (a record kind name) or `subject`.
    pub fn denies(&self, kind: &str, subject: &Subject) -> bool {
        self.denied_kinds.iter().any(|k| k.as_str() == kind)
            || self.denied_subjects.iter().any(|s| s == subject)
    }
}

/// Rules in force from genesis (changed later only by governance).
#[derive(Clone, Debug, PartialEq, Eq, Hash, Encode, Decode, Serialize, Deserialize)]
#[bincode(decode_context = "DecodeCtx")]
pub struct Policy {
    /// Largest record body accepted, in bytes (at most [`limits::MAX_BODY`]).
    pub max_body_bytes: u32,
    /// Who may issue what. An agency without an entry may issue nothing.
    pub permissions: List<Permission, { limits::MAX_PERMISSIONS }>,
}

/// Protocol parameters fixed at genesis.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Encode, Decode, Serialize, Deserialize)]
#[bincode(decode_context = "DecodeCtx")]
pub struct ChainParams {
    /// Header `h` carries the roots after executing block `h − execution_lag`.
    /// Also the most heights consensus may have in flight at once. At least 1.
    pub execution_lag: u64,
}

impl Default for ChainParams {
    fn default() -> Self {
        ChainParams { execution_lag: 4 }
    }
}

/// The genesis document.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Encode, Decode, Serialize, Deserialize)]
#[bincode(decode_context = "DecodeCtx")]
pub struct Genesis {
    /// Human name of the chain, e.g. `chancery-testnet`.
    pub chain_name: Text<{ limits::MAX_NAME }>,
    /// When the chain starts.
    pub genesis_time: Timestamp,
    /// The founding agencies.
    pub agencies: List<Agency, { limits::MAX_AGENCIES }>,
    /// The first validator set.
    pub validators: ValidatorSet,
    /// The initial policy.
    pub policy: Policy,
    /// Protocol parameters.
    pub params: ChainParams,
    /// Governance thresholds (2/3 of the agencies by default).
    #[serde(default)]
    pub governance: GovernanceRules,
}

/// Why a genesis document is not valid. Each variant names the offending entry.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum GenesisError {
    /// Two agencies with one id.
    #[error("agency `{0}` appears twice")]
    DuplicateAgency(AgencyId),
    /// A validator run by an agency that is not in genesis.
    #[error("validator {index} belongs to unknown agency `{agency}`")]
    ValidatorAgencyUnknown {
        /// Validator index.
        index: usize,
        /// Its agency.
        agency: AgencyId,
    },
    /// A permission for an agency that is not in genesis.
    #[error("policy names unknown agency `{0}`")]
    PermissionAgencyUnknown(AgencyId),
    /// Two permission entries for one agency.
    #[error("policy has two entries for agency `{0}`")]
    DuplicatePermission(AgencyId),
    /// The same issuer key registered twice.
    #[error("issuer key {key} of agency `{agency}` is registered twice")]
    DuplicateIssuerKey {
        /// Agency.
        agency: AgencyId,
        /// Key id.
        key: KeyId,
    },
    /// An issuer key whose validity ends before it starts.
    #[error("issuer key {key} of agency `{agency}` has an empty validity window")]
    EmptyKeyWindow {
        /// Agency.
        agency: AgencyId,
        /// Key id.
        key: KeyId,
    },
    /// Execution lag out of range.
    #[error("params.execution_lag is {0}; it must be between 1 and 64")]
    ExecutionLag(u64),
    /// Body limit out of range.
    #[error("policy.max_body_bytes is {0}; it must be between 1 and {max}", max = limits::MAX_BODY)]
    BodyLimit(u32),
    /// A governance threshold that is not a fraction in (0, 1], or names no action.
    #[error(
        "governance threshold for `{0}` is invalid: it must be a known action with 0 < numerator ≤ denominator"
    )]
    Threshold(String),
    /// The validator set is invalid.
    #[error("validator set: {0}")]
    Validators(#[from] ValidatorSetError),
}

impl Genesis {
    /// The chain id: `blake3("chancery/v1/chain-id" 0x00 ‖ canonical genesis)`.
    pub fn chain_id(&self) -> ChainId {
        ChainId(Hash::of_parts(&[
            b"chancery/v1/chain-id\0",
            &self.to_canonical(),
        ]))
    }

    /// The agency with this id.
    pub fn agency(&self, id: &AgencyId) -> Option<&Agency> {
        self.agencies.iter().find(|a| &a.id == id)
    }

    /// Checks every cross-reference and bound.
    pub fn validate(&self) -> Result<(), GenesisError> {
        self.validators.validate()?;
        let mut ids = BTreeSet::new();
        let mut keys = BTreeSet::new();
        for a in self.agencies.iter() {
            if !ids.insert(&a.id) {
                return Err(GenesisError::DuplicateAgency(a.id.clone()));
            }
            for k in a.issuer_keys.iter() {
                if !keys.insert(k.public) {
                    return Err(GenesisError::DuplicateIssuerKey {
                        agency: a.id.clone(),
                        key: k.key_id(),
                    });
                }
                if k.valid_until.is_some_and(|end| end <= k.valid_from) {
                    return Err(GenesisError::EmptyKeyWindow {
                        agency: a.id.clone(),
                        key: k.key_id(),
                    });
                }
            }
        }
        for (index, v) in self.validators.validators().iter().enumerate() {
            if !ids.contains(&v.agency) {
                return Err(GenesisError::ValidatorAgencyUnknown {
                    index,
                    agency: v.agency.clone(),
                });
            }
        }
        let mut seen = BTreeSet::new();
        for p in self.policy.permissions.iter() {
            if !ids.contains(&p.agency) {
                return Err(GenesisError::PermissionAgencyUnknown(p.agency.clone()));
            }
            if !seen.insert(&p.agency) {
                return Err(GenesisError::DuplicatePermission(p.agency.clone()));
            }
        }
        if !self.governance.default.is_valid() {
            return Err(GenesisError::Threshold("default".into()));
        }
        for a in self.governance.actions.iter() {
            if !a.threshold.is_valid() || !GovAction::NAMES.contains(&a.action.as_str()) {
                return Err(GenesisError::Threshold(a.action.to_string()));
            }
        }
        if !(1..=64).contains(&self.params.execution_lag) {
            return Err(GenesisError::ExecutionLag(self.params.execution_lag));
        }
        let b = self.policy.max_body_bytes;
        if b == 0 || b as usize > limits::MAX_BODY {
            return Err(GenesisError::BodyLimit(b));
        }
        Ok(())
    }

    /// Parses a genesis JSON document and validates it.
    pub fn from_json(text: &str) -> Result<Self, GenesisParseError> {
        let g: Genesis = serde_json::from_str(text).map_err(GenesisParseError::Json)?;
        g.validate()?;
        Ok(g)
    }

    /// Pretty JSON.
    pub fn to_json(&self) -> String {
        serde_json::to_string_pretty(self).unwrap_or_default()
    }
}

/// Why a genesis file could not be loaded.
#[derive(Debug, thiserror::Error)]
pub enum GenesisParseError {
    /// Not valid genesis JSON (the message names the line and field).
    #[error("genesis JSON: {0}")]
    Json(serde_json::Error),
    /// Well-formed but invalid.
    #[error("invalid genesis: {0}")]
    Invalid(#[from] GenesisError),
}

impl Canonical for Genesis {
    fn check(&self) -> Result<(), DecodeError> {
        self.validate().map_err(|e| DecodeError::NonCanonical {
            field: "genesis",
            reason: e.to_string(),
        })
    }
}

impl Canonical for IssuerKey {}
impl Canonical for Agency {}
impl Canonical for Permission {}
impl Canonical for Policy {}
impl Canonical for ChainParams {}
