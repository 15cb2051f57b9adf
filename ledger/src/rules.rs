//! Execution rules: agencies, keys, permissions and deny lists, governance
//! thresholds, the validator schedule, limits, and how far a record's
//! timestamp may be from its block's. Set at genesis, changed by governance.

use std::collections::{BTreeMap, BTreeSet, HashSet};

use bincode::{Decode, Encode};
use chancery_types::encoding::DecodeCtx;
use chancery_types::governance::GovernanceRules;
use chancery_types::{
    Agency, AgencyId, Canonical, ChainId, Genesis, IssuerKey, KeyId, Permission, Record, RecordId,
    RejectCode, Timestamp, ValidatorSet,
};

/// A record may be timestamped at most this far (ms) after its block's
/// timestamp: issuer clocks run a little ahead of the proposer's.
pub const MAX_FUTURE_SKEW_MS: u64 = 5 * 60 * 1000;
/// A record may be timestamped at most this far (ms) before its block's
/// timestamp. Bounds how long a signed record stays replayable into a new
/// position and how far back an issuer key window can be reached.
pub const MAX_RECORD_AGE_MS: u64 = 24 * 60 * 60 * 1000;
/// The licence class that permits every class.
pub const ANY_CLASS: &str = "*";

/// Which records already passed signature verification (at admission).
/// Execution batch-verifies every other record. Implementations must only
/// name records whose signature really was verified under the issuer key
/// the record names: a record id covers the signature, so a verified id
/// cannot be paired with another signature.
pub trait SignatureCheck {
    /// Whether `id`'s signature was already verified.
    fn is_verified(&self, id: &RecordId) -> bool;
}

/// Nothing was verified beforehand: execution verifies every signature.
#[derive(Clone, Copy, Debug, Default)]
pub struct NothingVerified;

impl SignatureCheck for NothingVerified {
    fn is_verified(&self, _: &RecordId) -> bool {
        false
    }
}

impl<S: std::hash::BuildHasher> SignatureCheck for HashSet<RecordId, S> {
    fn is_verified(&self, id: &RecordId) -> bool {
        self.contains(id)
    }
}

impl SignatureCheck for BTreeSet<RecordId> {
    fn is_verified(&self, id: &RecordId) -> bool {
        self.contains(id)
    }
}

/// An issuer key with its owner and what governance did to it.
#[derive(Clone, Debug, PartialEq, Eq, Encode, Decode)]
#[bincode(decode_context = "DecodeCtx")]
pub struct KeyEntry {
    /// The owning agency.
    pub agency: AgencyId,
    /// The key and its validity window.
    pub key: IssuerKey,
    /// Revoked from this block time on: every later record is refused.
    pub revoked_at: Option<Timestamp>,
    /// Reported compromise time, if any.
    pub compromised_since: Option<Timestamp>,
}

impl KeyEntry {
    /// Whether a record timestamped `t` may be signed with this key now.
    pub fn usable_at(&self, t: Timestamp) -> bool {
        self.revoked_at.is_none() && self.key.valid_at(t)
    }
}

/// The rules in force: from genesis, then as governance changed them.
/// Governance changes take effect from the block after the one that
/// carries them (validator sets later still, see [`Rules::validators_from`]).
#[derive(Clone, Debug)]
pub struct Rules {
    /// The chain id every signature covers.
    pub chain_id: ChainId,
    /// Registered agencies.
    pub agencies: BTreeMap<AgencyId, Agency>,
    /// Permissions by agency.
    pub permissions: BTreeMap<AgencyId, Permission>,
    /// Largest accepted body.
    pub max_body_bytes: u32,
    /// Header `h` carries the summary of `h − execution_lag`.
    pub execution_lag: u64,
    /// Governance thresholds.
    pub governance: GovernanceRules,
    /// The latest scheduled validator set…
    pub validators: ValidatorSet,
    /// …and the first height it certifies (0 for the genesis set).
    pub validators_from: u64,
    /// Issuer keys by key id (key ids are unique across agencies).
    pub keys: BTreeMap<KeyId, KeyEntry>,
}

/// What of [`Rules`] governance can change, as stored.
#[derive(Clone, Debug, Encode, Decode)]
#[bincode(decode_context = "DecodeCtx")]
pub(crate) struct StoredRules {
    agencies: Vec<Agency>,
    permissions: Vec<Permission>,
    keys: Vec<KeyEntry>,
    validators: ValidatorSet,
    validators_from: u64,
}

impl Canonical for StoredRules {}
impl Canonical for KeyEntry {}

impl Rules {
    /// The rules of a genesis document.
    pub fn from_genesis(g: &Genesis) -> Self {
        Rules {
            chain_id: g.chain_id(),
            agencies: g
                .agencies
                .iter()
                .map(|a| (a.id.clone(), a.clone()))
                .collect(),
            permissions: g
                .policy
                .permissions
                .iter()
                .map(|p| (p.agency.clone(), p.clone()))
                .collect(),
            max_body_bytes: g.policy.max_body_bytes,
            execution_lag: g.params.execution_lag,
            governance: g.governance.clone(),
            validators: g.validators.clone(),
            validators_from: 0,
            keys: g
                .agencies
                .iter()
                .flat_map(|a| {
                    a.issuer_keys.iter().map(|k| {
                        (
                            k.key_id(),
                            KeyEntry {
                                agency: a.id.clone(),
                                key: k.clone(),
                                revoked_at: None,
                                compromised_since: None,
                            },
                        )
                    })
                })
                .collect(),
        }
    }

    pub(crate) fn to_stored(&self) -> StoredRules {
        StoredRules {
            agencies: self.agencies.values().cloned().collect(),
            permissions: self.permissions.values().cloned().collect(),
            keys: self.keys.values().cloned().collect(),
            validators: self.validators.clone(),
            validators_from: self.validators_from,
        }
    }

    /// The genesis rules with governance's changes `stored` applied.
    pub(crate) fn with_stored(mut self, stored: StoredRules) -> Self {
        self.agencies = stored
            .agencies
            .into_iter()
            .map(|a| (a.id.clone(), a))
            .collect();
        self.permissions = stored
            .permissions
            .into_iter()
            .map(|p| (p.agency.clone(), p))
            .collect();
        self.keys = stored
            .keys
            .into_iter()
            .map(|k| (k.key.key_id(), k))
            .collect();
        self.validators = stored.validators;
        self.validators_from = stored.validators_from;
        self
    }

    /// The issuer key `key_id` of `agency`.
    pub fn issuer_key(&self, agency: &AgencyId, key_id: &KeyId) -> Option<&KeyEntry> {
        self.keys.get(key_id).filter(|k| &k.agency == agency)
    }

    /// The issuer and key checks of `r`: a registered agency, and a key of
    /// that agency valid at the record's timestamp and not revoked.
    pub fn check_issuer(&self, r: &Record) -> Result<&KeyEntry, RejectCode> {
        if !self.agencies.contains_key(&r.issuer) {
            return Err(RejectCode::UnknownIssuer);
        }
        match self.issuer_key(&r.issuer, &r.key_id) {
            Some(k) if k.usable_at(r.timestamp) => Ok(k),
            _ => Err(RejectCode::KeyNotValid),
        }
    }

    /// The policy checks of `r`: the kind is permitted to its agency and
    /// the deny list does not forbid the kind or the subject.
    pub fn check_policy(&self, r: &Record) -> Result<(), RejectCode> {
        use chancery_types::RecordKind as K;
        let permitted = match &r.kind {
            K::LicenceIssue { class, .. } => self.may_licence(&r.issuer, class),
            K::LicenceAmend | K::LicenceSuspend | K::LicenceReinstate | K::LicenceRevoke => {
                self.may_licence_any(&r.issuer)
            }
            K::GrantCreate { .. } | K::GrantRevoke => self.may_grant(&r.issuer),
            K::AccessLog { .. } => self.may_log_access(&r.issuer),
            // Authority comes from the approvals, or from owning the payload.
            K::Governance { .. } | K::PayloadErase { .. } => true,
        };
        if !permitted {
            return Err(RejectCode::KindNotPermitted);
        }
        let denied = self
            .permissions
            .get(&r.issuer)
            .is_some_and(|p| p.denies(r.kind.name(), &r.subject));
        if denied && !matches!(r.kind, K::Governance { .. }) {
            return Err(RejectCode::Denied);
        }
        Ok(())
    }

    /// The checks a node makes before admitting `r` to its mempool, beyond
    /// issuer, key and signature: [`Rules::check_policy`], and for a
    /// governance record, enough valid approvals (`NotApproved`).
    /// Execution makes the same checks again against the rules of the block.
    pub fn check_admission(&self, r: &Record) -> Result<(), RejectCode> {
        self.check_policy(r)?;
        if let chancery_types::RecordKind::Governance { action, approvals } = &r.kind
            && !crate::governance::approved(self, r, action, approvals)
        {
            return Err(RejectCode::NotApproved);
        }
        Ok(())
    }

    /// Whether `agency` may issue and manage licences of `class`.
    pub fn may_licence(&self, agency: &AgencyId, class: &str) -> bool {
        self.permissions.get(agency).is_some_and(|p| {
            p.licence_classes
                .iter()
                .any(|c| c.as_str() == ANY_CLASS || c.as_str() == class)
        })
    }

    /// Whether `agency` may issue licences of some class.
    pub fn may_licence_any(&self, agency: &AgencyId) -> bool {
        self.permissions
            .get(agency)
            .is_some_and(|p| !p.licence_classes.is_empty())
    }

    /// Whether `agency` may create and revoke grants.
    pub fn may_grant(&self, agency: &AgencyId) -> bool {
        self.permissions.get(agency).is_some_and(|p| p.may_grant)
    }

    /// Whether `agency` may log accesses.
    pub fn may_log_access(&self, agency: &AgencyId) -> bool {
        self.permissions
            .get(agency)
            .is_some_and(|p| p.may_log_access)
    }
}
