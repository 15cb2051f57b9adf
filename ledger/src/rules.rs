//! Execution rules fixed at genesis: agencies, keys, permissions, limits,
//! and how far a record's timestamp may be from its block's.

use std::collections::{BTreeMap, BTreeSet, HashSet};

use chancery_types::{Agency, AgencyId, ChainId, Genesis, IssuerKey, KeyId, Permission, RecordId};

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

impl SignatureCheck for HashSet<RecordId> {
    fn is_verified(&self, id: &RecordId) -> bool {
        self.contains(id)
    }
}

impl SignatureCheck for BTreeSet<RecordId> {
    fn is_verified(&self, id: &RecordId) -> bool {
        self.contains(id)
    }
}

/// The rules in force (from genesis; governance may change them later).
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
    /// Issuer keys by key id, with their agency (genesis keys are distinct).
    keys: BTreeMap<KeyId, (AgencyId, IssuerKey)>,
}

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
            keys: g
                .agencies
                .iter()
                .flat_map(|a| {
                    a.issuer_keys
                        .iter()
                        .map(|k| (k.key_id(), (a.id.clone(), k.clone())))
                })
                .collect(),
        }
    }

    /// The issuer key `key_id` of `agency`.
    pub fn issuer_key(&self, agency: &Agency, key_id: &KeyId) -> Option<&IssuerKey> {
        self.keys
            .get(key_id)
            .filter(|(owner, _)| *owner == agency.id)
            .map(|(_, k)| k)
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
