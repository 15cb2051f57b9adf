//! Deterministic execution of one block: each record is accepted or
//! rejected with a code, statuses change, expired licences and grants are
//! swept. Pure: reads the committed state through [`History`] and the
//! state tree, returns what to write.
//!
//! Execution time is the block header's timestamp `T`. Order of work:
//! 1. sweep the expiry queue: every licence (active or suspended) and
//!    every active grant whose `valid_until ≤ T` becomes expired;
//! 2. batch-verify the signatures not verified at admission;
//! 3. run the checks below for each record, in block order, each record
//!    seeing the effects of the ones before it.
//!
//! Checks, first failure wins: duplicate record id → `Duplicate`; body over
//! the policy bound → `BodyTooLarge`; unknown agency → `UnknownIssuer`;
//! key not the agency's, not valid at the record's timestamp, or revoked
//! → `KeyNotValid`; record timestamp after `T + MAX_FUTURE_SKEW_MS` or before
//! `T − MAX_RECORD_AGE_MS` → `InvalidField`; bad signature →
//! `BadSignature`; kind not permitted → `KindNotPermitted`; kind or
//! subject on the agency's deny list → `Denied`; a reference
//! that is not an accepted committed record → `UnknownReference`; then the
//! lifecycle (see [`crate::lifecycle`]) or governance (see
//! [`crate::governance`]). Governance changes go to [`Outcome::rules`],
//! in force from the next block.

use chancery_types::crypto::batch::{BatchItem, verify_batch};
use chancery_types::fast_hash::{self, FastMap};
use chancery_types::state_proof::{GrantState, LicenceState, StateKey, Status};
use chancery_types::{
    AgencyId, Block, Canonical, ExecResult, Hash, PublicKey, RecordId, RecordKind, RejectCode,
    Timestamp,
};

use crate::error::{Result, decode_err};
use crate::governance::GovCtx;
use crate::lifecycle::{Step, apply};
use crate::rules::{MAX_FUTURE_SKEW_MS, MAX_RECORD_AGE_MS, Rules, SignatureCheck};
use crate::smt::StateTrees;

/// What execution needs from committed history.
pub trait History {
    /// `Some(accepted)` if record `id` was committed before this block.
    fn committed(&self, id: &RecordId) -> Result<Option<bool>>;

    /// [`History::committed`] for many ids at once, in order.
    fn committed_many(&self, ids: &[RecordId]) -> Result<Vec<Option<bool>>> {
        ids.iter().map(|id| self.committed(id)).collect()
    }
}

/// An expiry queue entry that is due: its stored key and the state key.
#[derive(Clone, Debug)]
pub struct DueExpiry {
    /// The queue key (deleted once swept).
    pub queue_key: Vec<u8>,
    /// The status it is for.
    pub state_key: StateKey,
}

/// The result of executing a block.
#[derive(Debug, Default)]
pub struct Outcome {
    /// Record ids, in block order.
    pub ids: Vec<RecordId>,
    /// One result per record.
    pub results: Vec<ExecResult>,
    /// Statuses written (canonical bytes), in key order, each key once.
    pub statuses: Vec<(StateKey, Vec<u8>)>,
    /// Expiry queue entries to add: `(valid_until, record index, key)`.
    pub expiry_added: Vec<(Timestamp, u32, StateKey)>,
    /// Expiry queue keys to delete.
    pub expiry_removed: Vec<Vec<u8>>,
    /// `fresh[i]`: record `i`'s id was not committed before (it is the
    /// first occurrence, and gets the id index entry).
    pub fresh: Vec<bool>,
    /// The rules from the next block on, if governance changed them.
    pub rules: Option<Rules>,
    /// Accepted payload erasures: `(commitment, issuer, record)`.
    pub erasures: Vec<(Hash, AgencyId, RecordId)>,
}

/// The committed statuses execution reads, by key.
pub trait StateRead {
    /// The canonical status bytes at `key`, if any.
    fn status_bytes(&self, key: &StateKey) -> Option<&[u8]>;
}

impl StateRead for StateTrees {
    fn status_bytes(&self, key: &StateKey) -> Option<&[u8]> {
        self.get_bytes(key)
    }
}

pub use crate::latest::LatestStatuses;

impl StateRead for LatestStatuses {
    fn status_bytes(&self, key: &StateKey) -> Option<&[u8]> {
        self.get(key).map(|v| &v[..])
    }
}

/// Working state of one block's execution: pending statuses over the
/// committed ones.
pub(crate) struct Pending<'a> {
    state: &'a dyn StateRead,
    statuses: FastMap<StateKey, Status>,
}

impl Pending<'_> {
    pub(crate) fn get(&self, key: &StateKey) -> Result<Option<Status>> {
        if let Some(s) = self.statuses.get(key) {
            return Ok(Some(s.clone()));
        }
        match self.state.status_bytes(key) {
            Some(bytes) => Status::from_canonical(bytes)
                .map(Some)
                .map_err(decode_err("status")),
            None => Ok(None),
        }
    }

    pub(crate) fn put(&mut self, key: StateKey, status: Status) {
        self.statuses.insert(key, status);
    }
}

/// Executes `block` (its `results` field is ignored); `ids` are its
/// records' ids, in block order.
pub fn execute(
    rules: &Rules,
    history: &dyn History,
    state: &dyn StateRead,
    due: Vec<DueExpiry>,
    block: &Block,
    ids: Vec<RecordId>,
    sigs: &dyn SignatureCheck,
) -> Result<Outcome> {
    let now = block.header.timestamp;
    let mut out = Outcome::default();
    let mut pending = Pending {
        state,
        statuses: fast_hash::map_with_capacity(block.records.len()),
    };
    sweep_expired(&mut pending, due, now, &mut out)?;

    let sig_ok = check_signatures(rules, block, &ids, sigs);
    let mut seen: FastMap<RecordId, bool> = fast_hash::map_with_capacity(ids.len());
    let mut gov = GovCtx {
        rules,
        next: None,
        height: block.header.height,
    };

    let before = history.committed_many(&ids)?;
    for (i, rec) in block.records.iter().enumerate() {
        let id = ids[i];
        let fresh = !seen.contains_key(&id) && before[i].is_none();
        out.fresh.push(fresh);
        let result = match precheck(rules, history, &seen, rec, !fresh, now, sig_ok[i])? {
            Err(code) => ExecResult::Rejected(code),
            Ok(()) => match apply(&mut gov, &mut pending, rec, &id, now)? {
                Step::Accept { expires } => {
                    if let Some((until, key)) = expires {
                        out.expiry_added.push((until, i as u32, key));
                    }
                    if let RecordKind::PayloadErase { commitment } = &rec.record.kind {
                        out.erasures
                            .push((*commitment, rec.record.issuer.clone(), id));
                    }
                    ExecResult::Accepted
                }
                Step::Reject(code) => ExecResult::Rejected(code),
            },
        };
        seen.entry(id)
            .or_insert(matches!(result, ExecResult::Accepted));
        out.results.push(result);
    }
    out.ids = ids;
    out.rules = gov.next;
    let mut statuses: Vec<(StateKey, Status)> = pending.statuses.into_iter().collect();
    statuses.sort_unstable_by_key(|a| a.0);
    out.statuses = statuses
        .into_iter()
        .map(|(k, s)| (k, s.to_canonical()))
        .collect();
    Ok(out)
}

fn sweep_expired(
    pending: &mut Pending<'_>,
    due: Vec<DueExpiry>,
    now: Timestamp,
    out: &mut Outcome,
) -> Result<()> {
    for d in due {
        out.expiry_removed.push(d.queue_key);
        match pending.get(&d.state_key)? {
            Some(Status::Licence(mut l))
                if matches!(l.state, LicenceState::Active | LicenceState::Suspended)
                    && l.valid_until <= now =>
            {
                l.state = LicenceState::Expired;
                l.changed_at = l.valid_until;
                pending.put(d.state_key, Status::Licence(l));
            }
            Some(Status::Grant(mut g)) if g.state == GrantState::Active && g.valid_until <= now => {
                g.state = GrantState::Expired;
                g.changed_at = g.valid_until;
                pending.put(d.state_key, Status::Grant(g));
            }
            _ => {}
        }
    }
    Ok(())
}

/// Whether each record's signature is good (verified at admission, or
/// now, in one batch). Records whose key cannot be found are `false`;
/// `precheck` rejects them before the signature matters.
fn check_signatures(
    rules: &Rules,
    block: &Block,
    ids: &[RecordId],
    sigs: &dyn SignatureCheck,
) -> Vec<bool> {
    let mut ok = vec![false; block.records.len()];
    let mut todo: Vec<(usize, PublicKey, Vec<u8>)> = Vec::new();
    for (i, rec) in block.records.iter().enumerate() {
        if sigs.is_verified(&ids[i]) {
            ok[i] = true;
            continue;
        }
        let r = &rec.record;
        if let Some(k) = rules.issuer_key(&r.issuer, &r.key_id) {
            todo.push((i, k.key.public, rec.signing_bytes(&rules.chain_id)));
        }
    }
    let items: Vec<BatchItem<'_>> = todo
        .iter()
        .map(|(i, key, msg)| BatchItem {
            key,
            message: msg,
            signature: &block.records[*i].signature,
        })
        .collect();
    for ((i, _, _), res) in todo.iter().zip(verify_batch(&items)) {
        ok[*i] = res.is_ok();
    }
    ok
}

/// The checks before the lifecycle. `Ok(Err(code))` is a rejection.
fn precheck(
    rules: &Rules,
    history: &dyn History,
    seen: &FastMap<RecordId, bool>,
    rec: &chancery_types::SignedRecord,
    duplicate: bool,
    now: Timestamp,
    sig_ok: bool,
) -> Result<std::result::Result<(), RejectCode>> {
    let r = &rec.record;
    if duplicate {
        return Ok(Err(RejectCode::Duplicate));
    }
    if r.body.len() > rules.max_body_bytes as usize {
        return Ok(Err(RejectCode::BodyTooLarge));
    }
    if let Err(code) = rules.check_issuer(r) {
        return Ok(Err(code));
    }
    if r.timestamp.0 > now.0.saturating_add(MAX_FUTURE_SKEW_MS)
        || r.timestamp.0 < now.0.saturating_sub(MAX_RECORD_AGE_MS)
    {
        return Ok(Err(RejectCode::InvalidField));
    }
    if !sig_ok {
        return Ok(Err(RejectCode::BadSignature));
    }
    if let Err(code) = rules.check_policy(r) {
        return Ok(Err(code));
    }
    for reference in r.references.iter() {
        let accepted = match seen.get(reference) {
            Some(a) => Some(*a),
            None => history.committed(reference)?,
        };
        if accepted != Some(true) {
            return Ok(Err(RejectCode::UnknownReference));
        }
    }
    Ok(Ok(()))
}
