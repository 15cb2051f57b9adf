//! Executing governance records: checking approvals against the threshold
//! and applying the action to the rules that take effect from the next
//! block (see `chancery_types::governance`).
//!
//! Approvals are checked against the agencies registered when the block
//! starts; every approval must verify, name a registered agency and be
//! that agency's only one (`NotApproved` otherwise, or when too few). The
//! action is then checked against the rules as the block's earlier
//! governance records left them:
//!
//! | action | refused with |
//! |---|---|
//! | add agency | `Duplicate` (agency or key id taken), `InvalidField` (empty key window) |
//! | add validator | `UnknownReference` (agency), `InvalidField` (shared key, too many) |
//! | remove validator | `UnknownReference` (not in the set), `InvalidField` (would empty the set) |
//! | add issuer key | `UnknownReference` (agency), `Duplicate`, `InvalidField` |
//! | rotate issuer key | `UnknownReference` (old key), `InvalidTransition` (old key revoked), `Duplicate`, `InvalidField` |
//! | revoke issuer key | `UnknownReference`, `InvalidTransition` (already revoked) |
//! | set permission | `UnknownReference` (agency) |

use std::collections::BTreeSet;

use chancery_types::governance::{Approval, GovAction, verify_approval};
use chancery_types::state_proof::{
    KeyStatus, ProposalStatus, Status, ValidatorSchedule, issuer_key_key, proposal_key,
    validators_key,
};
use chancery_types::{
    IssuerKey, Label, Record, RecordId, RejectCode, SignedRecord, Timestamp, ValidatorSet,
};

use crate::error::Result;
use crate::execute::Pending;
use crate::rules::{KeyEntry, Rules};

/// The rules a block started with, and those governance is building for the next.
pub(crate) struct GovCtx<'a> {
    /// In force for this block.
    pub rules: &'a Rules,
    /// What the next block will use, once a governance record changed something.
    pub next: Option<Rules>,
    /// This block's height.
    pub height: u64,
}

/// Applies governance record `rec` (whose kind is `Governance`).
pub(crate) fn apply(
    ctx: &mut GovCtx<'_>,
    st: &mut Pending<'_>,
    rec: &SignedRecord,
    id: &RecordId,
    action: &GovAction,
    approvals: &[Approval],
    now: Timestamp,
) -> Result<std::result::Result<(), RejectCode>> {
    let r = &rec.record;
    let key = proposal_key(&r.subject);
    if st.get(&key)?.is_some() {
        return Ok(Err(RejectCode::Duplicate));
    }
    if !approved(ctx.rules, &rec.record, action, approvals) {
        return Ok(Err(RejectCode::NotApproved));
    }
    let next = ctx.next.get_or_insert_with(|| ctx.rules.clone());
    let mut applies_from = ctx.height + 1;
    let changed = change(next, action, now, id)?;
    let keys = match changed {
        Err(code) => return Ok(Err(code)),
        Ok(keys) => keys,
    };
    for k in keys {
        if let Some(e) = next.keys.get(&k) {
            st.put(issuer_key_key(&k), Status::IssuerKey(key_status(e, id)));
        }
    }
    if action.changes_validators() {
        applies_from = ctx.height + next.execution_lag + 1;
        next.validators_from = applies_from;
        st.put(
            validators_key(),
            Status::Validators(ValidatorSchedule {
                set: next.validators.clone(),
                from_height: applies_from,
                changed_by: *id,
            }),
        );
    }
    st.put(
        key,
        Status::Proposal(ProposalStatus {
            action: Label::new(action.name()).unwrap_or_default(),
            record: *id,
            applies_from,
        }),
    );
    Ok(Ok(()))
}

/// Whether `approvals` are all valid, from distinct registered agencies,
/// and at least the action's threshold.
pub fn approved(
    rules: &Rules,
    record: &Record,
    action: &GovAction,
    approvals: &[Approval],
) -> bool {
    let mut agencies = BTreeSet::new();
    for a in approvals {
        let Some(agency) = rules.agencies.get(&a.agency) else {
            return false;
        };
        if !agencies.insert(&a.agency) {
            return false;
        }
        if verify_approval(
            a,
            &agency.admin_key,
            &rules.chain_id,
            &record.subject,
            action,
        )
        .is_err()
        {
            return false;
        }
    }
    let need = rules
        .governance
        .threshold(action)
        .required(rules.agencies.len());
    agencies.len() >= need
}

fn key_status(e: &KeyEntry, by: &RecordId) -> KeyStatus {
    KeyStatus {
        agency: e.agency.clone(),
        key: e.key.clone(),
        revoked_at: e.revoked_at,
        compromised_since: e.compromised_since,
        changed_by: *by,
    }
}

fn empty_window(k: &IssuerKey) -> bool {
    k.valid_until.is_some_and(|end| end <= k.valid_from)
}

/// Applies `action` to `next`; returns the key ids whose entries changed.
fn change(
    next: &mut Rules,
    action: &GovAction,
    now: Timestamp,
    _by: &RecordId,
) -> Result<std::result::Result<Vec<chancery_types::KeyId>, RejectCode>> {
    use RejectCode::*;
    let new_entry = |agency: &chancery_types::AgencyId, key: &IssuerKey| KeyEntry {
        agency: agency.clone(),
        key: key.clone(),
        revoked_at: None,
        compromised_since: None,
    };
    Ok(match action {
        GovAction::AddAgency { agency } => {
            if next.agencies.contains_key(&agency.id)
                || agency
                    .issuer_keys
                    .iter()
                    .any(|k| next.keys.contains_key(&k.key_id()))
            {
                return Ok(Err(Duplicate));
            }
            let mut ids = BTreeSet::new();
            for k in agency.issuer_keys.iter() {
                if empty_window(k) || !ids.insert(k.key_id()) {
                    return Ok(Err(InvalidField));
                }
            }
            for k in agency.issuer_keys.iter() {
                next.keys.insert(k.key_id(), new_entry(&agency.id, k));
            }
            next.agencies.insert(agency.id.clone(), agency.clone());
            Ok(ids.into_iter().collect())
        }
        GovAction::AddValidator { validator } => {
            if !next.agencies.contains_key(&validator.agency) {
                return Ok(Err(UnknownReference));
            }
            let mut list = next.validators.validators().to_vec();
            list.push(validator.clone());
            match ValidatorSet::new(list) {
                Ok(set) => next.validators = set,
                Err(_) => return Ok(Err(InvalidField)),
            }
            Ok(Vec::new())
        }
        GovAction::RemoveValidator { consensus_key } => {
            let Some(i) = next.validators.index_of(consensus_key) else {
                return Ok(Err(UnknownReference));
            };
            let mut list = next.validators.validators().to_vec();
            list.remove(i);
            match ValidatorSet::new(list) {
                Ok(set) => next.validators = set,
                Err(_) => return Ok(Err(InvalidField)),
            }
            Ok(Vec::new())
        }
        GovAction::AddIssuerKey { agency, key } => {
            if !next.agencies.contains_key(agency) {
                return Ok(Err(UnknownReference));
            }
            if next.keys.contains_key(&key.key_id()) {
                return Ok(Err(Duplicate));
            }
            if empty_window(key) {
                return Ok(Err(InvalidField));
            }
            next.keys.insert(key.key_id(), new_entry(agency, key));
            Ok(vec![key.key_id()])
        }
        GovAction::RotateIssuerKey { agency, old, new } => {
            let Some(entry) = next.keys.get(old).filter(|e| &e.agency == agency) else {
                return Ok(Err(UnknownReference));
            };
            if entry.revoked_at.is_some() {
                return Ok(Err(InvalidTransition));
            }
            if next.keys.contains_key(&new.key_id()) {
                return Ok(Err(Duplicate));
            }
            if empty_window(new) || new.valid_from <= entry.key.valid_from {
                return Ok(Err(InvalidField));
            }
            let mut retired = entry.clone();
            let end = retired
                .key
                .valid_until
                .map_or(new.valid_from, |u| u.min(new.valid_from));
            retired.key.valid_until = Some(end);
            next.keys.insert(*old, retired);
            next.keys.insert(new.key_id(), new_entry(agency, new));
            Ok(vec![*old, new.key_id()])
        }
        GovAction::RevokeIssuerKey {
            agency,
            key,
            compromised_since,
        } => {
            let Some(entry) = next.keys.get_mut(key).filter(|e| &e.agency == agency) else {
                return Ok(Err(UnknownReference));
            };
            if entry.revoked_at.is_some() {
                return Ok(Err(InvalidTransition));
            }
            entry.revoked_at = Some(now);
            entry.compromised_since = *compromised_since;
            Ok(vec![*key])
        }
        GovAction::SetPermission { permission } => {
            if !next.agencies.contains_key(&permission.agency) {
                return Ok(Err(UnknownReference));
            }
            next.permissions
                .insert(permission.agency.clone(), permission.clone());
            Ok(Vec::new())
        }
    })
}
