//! Lifecycles of licences, grants and access events.
//!
//! ```text
//! licence:  (none) ─issue─► active ─suspend─► suspended ─reinstate─► active
//!                            │  ▲amend            │
//!                            └──┘                 │
//!           active | suspended ─revoke─► revoked        (final)
//!           active | suspended ─valid_until ≤ T─► expired (final, swept)
//! grant:    (none) ─create─► active ─revoke─► revoked    (final)
//!                            active ─valid_until ≤ T─► expired (final)
//! access:   (none) ─log─► logged, only under a grant that is active now,
//!           made to the logging agency, for that dataset, and whose
//!           window contains the access record's timestamp.
//! ```
//!
//! Amending is allowed only while active. A licence is addressed by
//! (issuer, subject), so only its issuing agency can change it; another
//! agency naming the same number addresses a licence that does not exist
//! (`UnknownReference`). A grant is addressed by its id alone; only its
//! grantor may revoke it (`KindNotPermitted` otherwise). Creating a licence
//! or grant whose window is empty, or already over at block time, is
//! `InvalidField`; creating one that exists is `Duplicate`. A grant to an
//! agency that is not registered is `UnknownReference`.
//!
//! Governance records are applied by [`crate::governance`]. A payload
//! erasure is accepted once per (issuer, erasure id); the node deletes the
//! payload only if the issuer is the agency that stored it.

use chancery_types::state_proof::{
    AccessStatus, ErasureStatus, GrantState, GrantStatus, LicenceState, LicenceStatus, StateKey,
    Status, access_key, erasure_key, grant_key, licence_key,
};
use chancery_types::{RecordId, RecordKind, RejectCode, SignedRecord, Timestamp};

use crate::error::Result;
use crate::execute::Pending;
use crate::governance::GovCtx;

/// What the lifecycle decided.
pub(crate) enum Step {
    /// Applied; possibly with an expiry to schedule.
    Accept {
        /// `(valid_until, key)` to put on the expiry queue.
        expires: Option<(Timestamp, StateKey)>,
    },
    /// Refused.
    Reject(RejectCode),
}

use Step::Reject;

fn accept() -> Result<Step> {
    Ok(Step::Accept { expires: None })
}

pub(crate) fn apply(
    gov: &mut GovCtx<'_>,
    st: &mut Pending<'_>,
    rec: &SignedRecord,
    id: &RecordId,
    now: Timestamp,
) -> Result<Step> {
    let rules = gov.rules;
    let r = &rec.record;
    match &r.kind {
        RecordKind::Governance { action, approvals } => {
            match crate::governance::apply(gov, st, rec, id, action, approvals, now)? {
                Ok(()) => accept(),
                Err(code) => Ok(Reject(code)),
            }
        }
        RecordKind::PayloadErase { commitment } => {
            let key = erasure_key(&r.issuer, &r.subject);
            if st.get(&key)?.is_some() {
                return Ok(Reject(RejectCode::Duplicate));
            }
            st.put(
                key,
                Status::Erasure(ErasureStatus {
                    commitment: *commitment,
                    record: *id,
                    erased_at: now,
                }),
            );
            accept()
        }
        RecordKind::LicenceIssue {
            class,
            valid_from,
            valid_until,
        } => {
            let key = licence_key(&r.issuer, &r.subject);
            if st.get(&key)?.is_some() {
                return Ok(Reject(RejectCode::Duplicate));
            }
            if valid_from >= valid_until || *valid_until <= now {
                return Ok(Reject(RejectCode::InvalidField));
            }
            st.put(
                key,
                Status::Licence(LicenceStatus {
                    class: class.clone(),
                    state: LicenceState::Active,
                    valid_from: *valid_from,
                    valid_until: *valid_until,
                    issued_by: *id,
                    last_change: *id,
                    changed_at: now,
                }),
            );
            Ok(Step::Accept {
                expires: Some((*valid_until, key)),
            })
        }
        RecordKind::LicenceAmend
        | RecordKind::LicenceSuspend
        | RecordKind::LicenceReinstate
        | RecordKind::LicenceRevoke => {
            let key = licence_key(&r.issuer, &r.subject);
            let Some(Status::Licence(mut l)) = st.get(&key)? else {
                return Ok(Reject(RejectCode::UnknownReference));
            };
            if !rules.may_licence(&r.issuer, &l.class) {
                return Ok(Reject(RejectCode::KindNotPermitted));
            }
            use LicenceState::*;
            let next = match (&r.kind, l.state) {
                (RecordKind::LicenceAmend, Active) => Active,
                (RecordKind::LicenceSuspend, Active) => Suspended,
                (RecordKind::LicenceReinstate, Suspended) => Active,
                (RecordKind::LicenceRevoke, Active | Suspended) => Revoked,
                _ => return Ok(Reject(RejectCode::InvalidTransition)),
            };
            l.state = next;
            l.last_change = *id;
            l.changed_at = now;
            st.put(key, Status::Licence(l));
            accept()
        }
        RecordKind::GrantCreate {
            grantee,
            dataset,
            valid_from,
            valid_until,
            ..
        } => {
            let key = grant_key(&r.subject);
            if st.get(&key)?.is_some() {
                return Ok(Reject(RejectCode::Duplicate));
            }
            if !rules.agencies.contains_key(grantee) {
                return Ok(Reject(RejectCode::UnknownReference));
            }
            if valid_from >= valid_until || *valid_until <= now {
                return Ok(Reject(RejectCode::InvalidField));
            }
            st.put(
                key,
                Status::Grant(GrantStatus {
                    grantor: r.issuer.clone(),
                    grantee: grantee.clone(),
                    dataset: dataset.clone(),
                    state: GrantState::Active,
                    valid_from: *valid_from,
                    valid_until: *valid_until,
                    created_by: *id,
                    last_change: *id,
                    changed_at: now,
                }),
            );
            Ok(Step::Accept {
                expires: Some((*valid_until, key)),
            })
        }
        RecordKind::GrantRevoke => {
            let key = grant_key(&r.subject);
            let Some(Status::Grant(mut g)) = st.get(&key)? else {
                return Ok(Reject(RejectCode::UnknownReference));
            };
            if g.grantor != r.issuer {
                return Ok(Reject(RejectCode::KindNotPermitted));
            }
            if g.state != GrantState::Active {
                return Ok(Reject(RejectCode::InvalidTransition));
            }
            g.state = GrantState::Revoked;
            g.last_change = *id;
            g.changed_at = now;
            st.put(key, Status::Grant(g));
            accept()
        }
        RecordKind::AccessLog { grant, dataset } => {
            let key = access_key(&r.issuer, &r.subject);
            if st.get(&key)?.is_some() {
                return Ok(Reject(RejectCode::Duplicate));
            }
            let Some(Status::Grant(g)) = st.get(&grant_key(grant))? else {
                return Ok(Reject(RejectCode::UnknownReference));
            };
            let active = g.state == GrantState::Active
                && g.grantee == r.issuer
                && g.dataset == *dataset
                && g.valid_from <= r.timestamp
                && r.timestamp < g.valid_until;
            if !active {
                return Ok(Reject(RejectCode::NoActiveGrant));
            }
            st.put(
                key,
                Status::Access(AccessStatus {
                    grant: grant.clone(),
                    record: *id,
                }),
            );
            accept()
        }
    }
}
