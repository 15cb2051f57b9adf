//! Deterministic execution: every reject code, the licence and grant
//! lifecycles, expiry, access logs under grants, and that a rejected record
//! never stalls the chain.

mod common;

use std::collections::HashSet;

use chancery_ledger::{Ledger, MemKv};
use chancery_types::state_proof::{GrantState, LicenceState, Status, grant_key, licence_key};
use chancery_types::{ExecResult, RecordId, RecordKind, RejectCode, SignedRecord};
use common::*;

use ExecResult::{Accepted, Rejected};
use RejectCode::*;

struct Chain {
    fx: Fixture,
    l: Ledger<MemKv>,
    ts: u64,
}

impl Chain {
    fn new() -> Self {
        let fx = fixture(1);
        let l = Ledger::in_memory(&fx.genesis).unwrap();
        Chain { fx, l, ts: T0 }
    }

    /// Commits one block of `recs` one second after the previous one.
    fn block(&mut self, recs: Vec<SignedRecord>) -> Vec<ExecResult> {
        self.ts += 1000;
        commit(&self.l, recs, self.ts).results
    }

    fn at(&mut self, ts: u64, recs: Vec<SignedRecord>) -> Vec<ExecResult> {
        self.ts = ts;
        commit(&self.l, recs, ts).results
    }

    fn one(&mut self, rec: SignedRecord) -> ExecResult {
        self.block(vec![rec])[0]
    }

    /// A record by `issuer` with its usual key, timestamped at the next block's time.
    fn rec(&self, issuer: &str, kind: RecordKind, subj: &str, nonce: u64) -> SignedRecord {
        let key = match issuer {
            "transport" => 1,
            "health" => 3,
            "police" => 4,
            _ => 5,
        };
        self.fx
            .record(issuer, key, kind, subj, self.ts + 1000, nonce)
    }

    fn licence(&self, subj: &str) -> Option<LicenceState> {
        match self
            .l
            .status(&licence_key(&agency("transport"), &subject(subj)))
            .unwrap()
        {
            Some(Status::Licence(l)) => Some(l.state),
            None => None,
            other => panic!("not a licence: {other:?}"),
        }
    }

    fn grant(&self, subj: &str) -> Option<GrantState> {
        match self.l.status(&grant_key(&subject(subj))).unwrap() {
            Some(Status::Grant(g)) => Some(g.state),
            None => None,
            other => panic!("not a grant: {other:?}"),
        }
    }

    fn issue(&self, subj: &str, nonce: u64) -> SignedRecord {
        let t = self.ts;
        self.rec(
            "transport",
            licence_issue("driving", t, t + 30 * DAY),
            subj,
            nonce,
        )
    }
}

#[test]
fn licence_lifecycle() {
    let mut c = Chain::new();
    assert_eq!(c.one(c.issue("L1", 1)), Accepted);
    assert_eq!(c.licence("L1"), Some(LicenceState::Active));
    let steps = [
        (RecordKind::LicenceAmend, Accepted, LicenceState::Active),
        (
            RecordKind::LicenceSuspend,
            Accepted,
            LicenceState::Suspended,
        ),
        (
            RecordKind::LicenceSuspend,
            Rejected(InvalidTransition),
            LicenceState::Suspended,
        ),
        (
            RecordKind::LicenceAmend,
            Rejected(InvalidTransition),
            LicenceState::Suspended,
        ),
        (RecordKind::LicenceReinstate, Accepted, LicenceState::Active),
        (
            RecordKind::LicenceReinstate,
            Rejected(InvalidTransition),
            LicenceState::Active,
        ),
        (
            RecordKind::LicenceSuspend,
            Accepted,
            LicenceState::Suspended,
        ),
        (RecordKind::LicenceRevoke, Accepted, LicenceState::Revoked),
        (
            RecordKind::LicenceReinstate,
            Rejected(InvalidTransition),
            LicenceState::Revoked,
        ),
        (
            RecordKind::LicenceAmend,
            Rejected(InvalidTransition),
            LicenceState::Revoked,
        ),
        (
            RecordKind::LicenceRevoke,
            Rejected(InvalidTransition),
            LicenceState::Revoked,
        ),
    ];
    for (n, (kind, result, state)) in steps.into_iter().enumerate() {
        let r = c.rec("transport", kind.clone(), "L1", 100 + n as u64);
        assert_eq!(c.one(r), result, "step {n}: {kind:?}");
        assert_eq!(c.licence("L1"), Some(state), "step {n}");
    }
    // Issuing the same licence number again is a duplicate subject.
    assert_eq!(c.one(c.issue("L1", 2)), Rejected(Duplicate));
    // Lifecycle steps on a licence that was never issued.
    let r = c.rec("transport", RecordKind::LicenceSuspend, "NOPE", 3);
    assert_eq!(c.one(r), Rejected(UnknownReference));
}

#[test]
fn licences_expire_at_the_end_of_validity() {
    let mut c = Chain::new();
    let t = c.ts;
    let a = c.rec("transport", licence_issue("driving", t, t + 5_000), "E1", 1);
    let b = c.rec("transport", licence_issue("driving", t, t + 5_000), "E2", 2);
    let z = c.rec("transport", licence_issue("driving", t, t + 5_001), "E3", 3);
    assert_eq!(c.block(vec![a, b, z]), vec![Accepted; 3]);
    let s = c.rec("transport", RecordKind::LicenceSuspend, "E2", 4);
    assert_eq!(c.one(s), Accepted);
    // Block at exactly valid_until: E1 and E2 (suspended) expire, E3 not yet.
    c.at(t + 5_000, vec![]);
    assert_eq!(c.licence("E1"), Some(LicenceState::Expired));
    assert_eq!(c.licence("E2"), Some(LicenceState::Expired));
    assert_eq!(c.licence("E3"), Some(LicenceState::Active));
    let r = c.rec("transport", RecordKind::LicenceAmend, "E1", 5);
    assert_eq!(c.one(r), Rejected(InvalidTransition));
    assert_eq!(c.licence("E3"), Some(LicenceState::Expired));
    // A revoked licence stays revoked when its window ends.
    let t = c.ts;
    let r = c.rec("transport", licence_issue("driving", t, t + 3_000), "E4", 6);
    assert_eq!(c.one(r), Accepted);
    let r = c.rec("transport", RecordKind::LicenceRevoke, "E4", 7);
    assert_eq!(c.one(r), Accepted);
    c.at(t + 10_000, vec![]);
    assert_eq!(c.licence("E4"), Some(LicenceState::Revoked));
}

#[test]
fn grants_and_access_logs() {
    let mut c = Chain::new();
    let t = c.ts;
    let g = c.rec(
        "health",
        grant_create("police", "patients", t, t + 10_000),
        "G1",
        1,
    );
    assert_eq!(c.one(g), Accepted);
    assert_eq!(c.grant("G1"), Some(GrantState::Active));
    let ok = c.rec("police", access_log("G1", "patients"), "A1", 2);
    assert_eq!(c.one(ok), Accepted);
    // Same access event id again.
    let dup = c.rec("police", access_log("G1", "patients"), "A1", 3);
    assert_eq!(c.one(dup), Rejected(Duplicate));
    // Wrong dataset.
    let r = c.rec("police", access_log("G1", "prescriptions"), "A2", 4);
    assert_eq!(c.one(r), Rejected(NoActiveGrant));
    // Unknown grant.
    let r = c.rec("police", access_log("G-none", "patients"), "A3", 5);
    assert_eq!(c.one(r), Rejected(UnknownReference));
    // An access timestamped before the grant's window.
    let r =
        c.fx.record("police", 4, access_log("G1", "patients"), "A4", t - 1, 6);
    assert_eq!(c.one(r), Rejected(NoActiveGrant));
    // Only the grantor may revoke.
    let r = c.rec("police", RecordKind::GrantRevoke, "G1", 7);
    assert_eq!(c.one(r), Rejected(KindNotPermitted));
    let r = c.rec("health", RecordKind::GrantRevoke, "G1", 8);
    assert_eq!(c.one(r), Accepted);
    assert_eq!(c.grant("G1"), Some(GrantState::Revoked));
    let r = c.rec("health", RecordKind::GrantRevoke, "G1", 9);
    assert_eq!(c.one(r), Rejected(InvalidTransition));
    let r = c.rec("police", access_log("G1", "patients"), "A5", 10);
    assert_eq!(c.one(r), Rejected(NoActiveGrant));

    // A grant made to another agency does not cover the police.
    let t = c.ts;
    let g = c.rec(
        "health",
        grant_create("transport", "patients", t, t + DAY),
        "G2",
        11,
    );
    assert_eq!(c.one(g), Accepted);
    let r = c.rec("police", access_log("G2", "patients"), "A6", 12);
    assert_eq!(c.one(r), Rejected(NoActiveGrant));

    // Expiry.
    let t = c.ts;
    let g = c.rec(
        "health",
        grant_create("police", "patients", t, t + 4_000),
        "G3",
        13,
    );
    assert_eq!(c.one(g), Accepted);
    let r = c.rec("police", access_log("G3", "patients"), "A7", 14);
    assert_eq!(c.one(r), Accepted);
    c.at(t + 4_000, vec![]);
    assert_eq!(c.grant("G3"), Some(GrantState::Expired));
    let r = c.rec("police", access_log("G3", "patients"), "A8", 15);
    assert_eq!(c.one(r), Rejected(NoActiveGrant));
    let r = c.rec("health", RecordKind::GrantRevoke, "G3", 16);
    assert_eq!(c.one(r), Rejected(InvalidTransition));

    // Grant ids are global; a grant to an unregistered agency is refused.
    let t = c.ts;
    let r = c.rec("health", grant_create("police", "x", t, t + DAY), "G1", 17);
    assert_eq!(c.one(r), Rejected(Duplicate));
    let r = c.rec("health", grant_create("nobody", "x", t, t + DAY), "G9", 18);
    assert_eq!(c.one(r), Rejected(UnknownReference));
}

#[test]
fn every_reject_code() {
    let mut c = Chain::new();
    let t = c.ts + 1000;
    let fx = &c.fx;
    // Unknown issuer (an agency not in genesis).
    let unknown_issuer = fx.record("rogue", 5, licence_issue("driving", t, t + DAY), "X1", t, 1);
    // A key the agency does not have.
    let foreign_key = fx.record(
        "transport",
        5,
        licence_issue("driving", t, t + DAY),
        "X2",
        t,
        2,
    );
    // Key 2 of transport is valid only until T0 + 1h.
    let late = T0 + 2 * HOUR;
    let expired_key = fx.record(
        "transport",
        2,
        licence_issue("driving", late, late + DAY),
        "X3",
        late,
        3,
    );
    let mut bad_sig = fx.record(
        "transport",
        1,
        licence_issue("driving", t, t + DAY),
        "X4",
        t,
        4,
    );
    bad_sig.signature.0[5] ^= 1;
    let wrong_class = fx.record(
        "transport",
        1,
        licence_issue("pharmacy", t, t + DAY),
        "X5",
        t,
        5,
    );
    let police_grant = fx.record(
        "police",
        4,
        grant_create("health", "d", t, t + DAY),
        "X6",
        t,
        6,
    );
    let transport_logs = fx.record("transport", 1, access_log("G", "d"), "X7", t, 7);
    let body = fx.record_full(
        "transport",
        1,
        licence_issue("driving", t, t + DAY),
        "X8",
        t,
        8,
        vec![],
        vec![b'x'; 1025],
    );
    let dangling = fx.record_full(
        "transport",
        1,
        licence_issue("driving", t, t + DAY),
        "X9",
        t,
        9,
        vec![RecordId(chancery_types::Hash([9; 32]))],
        b"{}".to_vec(),
    );
    let empty_window = fx.record("transport", 1, licence_issue("driving", t, t), "X10", t, 10);
    let future = fx.record(
        "transport",
        1,
        licence_issue("driving", t, t + DAY),
        "X11",
        t + 5 * 60_000 + 1,
        11,
    );
    let stale = fx.record(
        "transport",
        1,
        licence_issue("driving", t - DAY - 1, t + DAY),
        "X12",
        t - DAY - 1,
        12,
    );
    let good = fx.record(
        "transport",
        1,
        licence_issue("driving", t, t + DAY),
        "X13",
        t,
        13,
    );
    let other_chain = {
        let other = fixture(5);
        other.record(
            "transport",
            1,
            licence_issue("driving", t, t + DAY),
            "X14",
            t,
            14,
        )
    };
    let results = c.at(
        t,
        vec![
            unknown_issuer,
            foreign_key,
            expired_key,
            bad_sig,
            wrong_class,
            police_grant,
            transport_logs,
            body,
            dangling,
            empty_window,
            future,
            stale,
            good.clone(),
            other_chain,
        ],
    );
    assert_eq!(
        results,
        vec![
            Rejected(UnknownIssuer),
            Rejected(KeyNotValid),
            Rejected(KeyNotValid),
            Rejected(BadSignature),
            Rejected(KindNotPermitted),
            Rejected(KindNotPermitted),
            Rejected(KindNotPermitted),
            Rejected(BodyTooLarge),
            Rejected(UnknownReference),
            Rejected(InvalidField),
            Rejected(InvalidField),
            Rejected(InvalidField),
            Accepted,
            Rejected(BadSignature),
        ]
    );
    // The chain moves on, and references to accepted records work.
    let t = c.ts + 1000;
    let referring = c.fx.record_full(
        "transport",
        1,
        RecordKind::LicenceAmend,
        "X13",
        t,
        20,
        vec![good.id()],
        b"{}".to_vec(),
    );
    // A reference to a rejected record is unknown.
    let rejected_ref = c.fx.record_full(
        "transport",
        1,
        RecordKind::LicenceAmend,
        "X13",
        t,
        21,
        vec![results_id(&c.l, 1, 0)],
        b"{}".to_vec(),
    );
    assert_eq!(
        c.at(t, vec![referring, rejected_ref]),
        vec![Accepted, Rejected(UnknownReference)]
    );
    assert_eq!(c.l.tip().height, 2);
}

fn results_id(l: &Ledger<MemKv>, height: u64, index: usize) -> RecordId {
    l.block(height).unwrap().unwrap().records[index].id()
}

#[test]
fn health_may_issue_any_class() {
    let mut c = Chain::new();
    let t = c.ts;
    let r = c.rec("health", licence_issue("pharmacy", t, t + DAY), "P1", 1);
    assert_eq!(c.one(r), Accepted);
    let r = c.rec("health", licence_issue("anything", t, t + DAY), "P2", 2);
    assert_eq!(c.one(r), Accepted);
    // Police has no licence classes: may not even suspend.
    let r = c.rec("police", RecordKind::LicenceSuspend, "P1", 3);
    assert_eq!(c.one(r), Rejected(KindNotPermitted));
    // Transport cannot touch health's licence P1: licences are per issuer.
    let r = c.rec("transport", RecordKind::LicenceSuspend, "P1", 4);
    assert_eq!(c.one(r), Rejected(UnknownReference));
}

#[test]
fn admission_verified_signatures_are_reused() {
    // Two identical chains; one verifies every signature at execution, the
    // other is told all of them were verified at admission. Well-signed
    // records give the same results and roots either way.
    let fx = fixture(1);
    let a = Ledger::in_memory(&fx.genesis).unwrap();
    let b = Ledger::in_memory(&fx.genesis).unwrap();
    for h in 1..=5 {
        let (recs, ts) = workload_block(&fx, h, 40);
        let ids: HashSet<RecordId> = recs.iter().map(|r| r.id()).collect();
        let ra = commit(&a, recs.clone(), ts);
        let rb = commit_with(&b, recs, ts, &ids);
        assert_eq!(ra, rb);
    }
}

#[test]
fn workload_mixes_accepts_and_rejects() {
    let fx = fixture(2);
    let l = Ledger::in_memory(&fx.genesis).unwrap();
    let mut accepted = 0;
    let mut rejected = 0;
    for h in 1..=6 {
        let (recs, ts) = workload_block(&fx, h, 40);
        for r in commit(&l, recs, ts).results {
            match r {
                Accepted => accepted += 1,
                Rejected(_) => rejected += 1,
            }
        }
    }
    assert!(accepted > 100 && rejected > 10, "{accepted} / {rejected}");
}
