//! Governance: changes to the rules themselves, approved by a threshold of
//! agencies' admin keys and carried on the chain as a record.
//!
//! A governance record (`RecordKind::Governance`) holds one [`GovAction`]
//! and the [`Approval`]s of the agencies that agreed to it. Each approval
//! is an admin-key signature under [`Domain::GovernanceApproval`] over
//! [`proposal_bytes`] — the chain id, the proposal id (the record's
//! subject) and the action — so an approval cannot be moved to another
//! proposal or another chain. Execution counts distinct, currently
//! registered agencies with a valid approval and accepts the record when
//! the count reaches the action's [`Threshold`].
//!
//! Policy and key changes apply from the next block. A validator-set change
//! accepted in block `h` applies from height `h + execution_lag + 1`, so
//! header `h + execution_lag` — certified by the outgoing set — carries the
//! state root that holds the incoming set (see `Status::Validators`).

use bincode::{Decode, Encode};
use serde::{Deserialize, Serialize};

use crate::bounded::List;
use crate::crypto::keys::{KeyId, PublicKey, SecretKey};
use crate::crypto::signature::{Domain, Signature, SignatureError, signing_bytes, verify_raw};
use crate::encoding::{Canonical, DecodeCtx};
use crate::genesis::{Agency, IssuerKey, Permission};
use crate::ids::{AgencyId, ChainId, Label, Subject, Timestamp};
use crate::limits;
use crate::validator::Validator;

/// One change to the rules.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Encode, Decode, Serialize, Deserialize)]
#[bincode(decode_context = "DecodeCtx")]
#[serde(rename_all = "snake_case", tag = "action")]
pub enum GovAction {
    /// Register a new agency (with its admin and issuer keys).
    AddAgency {
        /// The agency.
        agency: Agency,
    },
    /// Add a validator to the set.
    AddValidator {
        /// The validator; its agency must be registered.
        validator: Validator,
    },
    /// Remove the validator with this consensus key.
    RemoveValidator {
        /// Its consensus key.
        consensus_key: PublicKey,
    },
    /// Register another issuer key for an agency.
    AddIssuerKey {
        /// The agency.
        agency: AgencyId,
        /// The key and its validity window.
        key: IssuerKey,
    },
    /// Replace an issuer key: the new key is registered and the old one's
    /// validity ends when the new one's begins.
    RotateIssuerKey {
        /// The agency.
        agency: AgencyId,
        /// The key being retired.
        old: KeyId,
        /// Its successor.
        new: IssuerKey,
    },
    /// Revoke an issuer key. Records already committed stay valid; from
    /// the next block on, every record signed with it is refused.
    RevokeIssuerKey {
        /// The agency.
        agency: AgencyId,
        /// The key.
        key: KeyId,
        /// If the key was compromised: since when. Proof verification
        /// flags records with a timestamp at or after this.
        compromised_since: Option<Timestamp>,
    },
    /// Replace an agency's permission entry (what it may issue, and its deny lists).
    SetPermission {
        /// The new entry.
        permission: Permission,
    },
}

impl GovAction {
    /// The action's name, as used for per-action thresholds.
    pub fn name(&self) -> &'static str {
        match self {
            GovAction::AddAgency { .. } => "add_agency",
            GovAction::AddValidator { .. } => "add_validator",
            GovAction::RemoveValidator { .. } => "remove_validator",
            GovAction::AddIssuerKey { .. } => "add_issuer_key",
            GovAction::RotateIssuerKey { .. } => "rotate_issuer_key",
            GovAction::RevokeIssuerKey { .. } => "revoke_issuer_key",
            GovAction::SetPermission { .. } => "set_permission",
        }
    }

    /// Every action name.
    pub const NAMES: [&'static str; 7] = [
        "add_agency",
        "add_validator",
        "remove_validator",
        "add_issuer_key",
        "rotate_issuer_key",
        "revoke_issuer_key",
        "set_permission",
    ];

    /// Whether the action changes the validator set.
    pub fn changes_validators(&self) -> bool {
        matches!(
            self,
            GovAction::AddValidator { .. } | GovAction::RemoveValidator { .. }
        )
    }
}

impl Canonical for GovAction {}

/// One agency's approval of a proposal: its admin key's signature over
/// [`proposal_bytes`].
#[derive(Clone, Debug, PartialEq, Eq, Hash, Encode, Decode, Serialize, Deserialize)]
#[bincode(decode_context = "DecodeCtx")]
pub struct Approval {
    /// The approving agency.
    pub agency: AgencyId,
    /// Its admin key's signature.
    pub signature: Signature,
}

impl Canonical for Approval {}

/// The approvals a governance record may carry.
pub type Approvals = List<Approval, { limits::MAX_APPROVALS }>;

/// The message an approval signs: `canonical(subject) ‖ canonical(action)`
/// (the domain tag and chain id are prefixed by the signature scheme).
pub fn proposal_bytes(subject: &Subject, action: &GovAction) -> Vec<u8> {
    let mut out = bincode::encode_to_vec(subject, crate::encoding::config()).unwrap_or_default();
    action.to_canonical_into(&mut out);
    out
}

/// Signs an approval of proposal `subject` with `admin_key`.
pub fn approve(
    agency: AgencyId,
    admin_key: &SecretKey,
    chain: &ChainId,
    subject: &Subject,
    action: &GovAction,
) -> Approval {
    Approval {
        agency,
        signature: admin_key.sign(
            Domain::GovernanceApproval,
            &chain.0,
            &proposal_bytes(subject, action),
        ),
    }
}

/// Checks one approval against the agency's admin key.
pub fn verify_approval(
    approval: &Approval,
    admin_key: &PublicKey,
    chain: &ChainId,
    subject: &Subject,
    action: &GovAction,
) -> Result<(), SignatureError> {
    let msg = signing_bytes(
        Domain::GovernanceApproval,
        &chain.0,
        &proposal_bytes(subject, action),
    );
    verify_raw(admin_key, &msg, &approval.signature)
}

/// A fraction of the registered agencies, `numerator / denominator`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Encode, Decode, Serialize, Deserialize)]
#[bincode(decode_context = "DecodeCtx")]
pub struct Threshold {
    /// Numerator.
    pub numerator: u32,
    /// Denominator (positive, at least the numerator).
    pub denominator: u32,
}

impl Threshold {
    /// Two thirds, the default.
    pub const TWO_THIRDS: Threshold = Threshold {
        numerator: 2,
        denominator: 3,
    };

    /// Approvals needed out of `agencies`: `⌈agencies · n / d⌉`, at least 1.
    pub fn required(&self, agencies: usize) -> usize {
        let d = u64::from(self.denominator.max(1));
        let need = (agencies as u64 * u64::from(self.numerator)).div_ceil(d);
        (need as usize).max(1)
    }

    /// Whether the fraction is in `(0, 1]`.
    pub fn is_valid(&self) -> bool {
        self.denominator > 0 && self.numerator > 0 && self.numerator <= self.denominator
    }
}

impl Default for Threshold {
    fn default() -> Self {
        Threshold::TWO_THIRDS
    }
}

/// A threshold for one action, overriding the default.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Encode, Decode, Serialize, Deserialize)]
#[bincode(decode_context = "DecodeCtx")]
pub struct ActionThreshold {
    /// The action's name (see [`GovAction::name`]).
    pub action: Label,
    /// Its threshold.
    pub threshold: Threshold,
}

/// Governance thresholds, fixed at genesis.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Default, Encode, Decode, Serialize, Deserialize)]
#[bincode(decode_context = "DecodeCtx")]
#[serde(default)]
pub struct GovernanceRules {
    /// The threshold of every action without an override (2/3 by default).
    pub default: Threshold,
    /// Per-action overrides.
    pub actions: List<ActionThreshold, 16>,
}

impl GovernanceRules {
    /// The threshold for `action`.
    pub fn threshold(&self, action: &GovAction) -> Threshold {
        self.actions
            .iter()
            .find(|a| a.action.as_str() == action.name())
            .map(|a| a.threshold)
            .unwrap_or(self.default)
    }
}

impl Canonical for GovernanceRules {}
