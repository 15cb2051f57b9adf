//! Governance: approvals against thresholds, every action's effect and
//! rejection, key rotation and revocation, permissions and deny lists, the
//! validator schedule, and that governance state persists and is
//! deterministic.

mod common;

use std::cell::Cell;

use chancery_ledger::{KvStore, Ledger, MemKv, NothingVerified, Rules};
use chancery_types::bounded::{List, Text};
use chancery_types::governance::{ActionThreshold, Approval, GovAction, Threshold, approve};
use chancery_types::state_proof::{
    KeyStatus, ProposalStatus, Status, ValidatorSchedule, issuer_key_key, proposal_key,
    validators_key,
};
use chancery_types::{
    Agency, Canonical, ChainId, ExecResult, Genesis, IssuerKey, KeyId, Permission, PublicKey,
    RecordKind, RejectCode, SecretKey, SignedRecord, Timestamp, Validator, ValidatorSet,
};
use common::*;

use ExecResult::{Accepted, Rejected};
use RejectCode::*;

// ---------------------------------------------------------------- helpers

/// Admin key seed of each agency (`tax` and `customs` are added by tests;
/// `rogue` is never registered).
fn admin_seed(agency: &str) -> u8 {
    match agency {
        "transport" => 101,
        "health" => 102,
        "police" => 103,
        "tax" => 104,
        "customs" => 106,
        _ => 105,
    }
}

fn admin(agency: &str) -> SecretKey {
    key(admin_seed(agency))
}

fn kid(n: u8) -> KeyId {
    key(n).public().key_id()
}

/// An issuer key from key seed `n`, valid in `[from, until)`.
fn issuer_key(n: u8, from: u64, until: Option<u64>) -> IssuerKey {
    IssuerKey {
        public: key(n).public(),
        valid_from: Timestamp(from),
        valid_until: until.map(Timestamp),
    }
}

fn new_agency(id: &str, keys: Vec<IssuerKey>) -> Agency {
    Agency {
        id: agency(id),
        name: Text::new(format!("Agency {id}")).unwrap(),
        admin_key: admin(id).public(),
        issuer_keys: List::new(keys).unwrap(),
    }
}

fn perm(
    id: &str,
    classes: &[&str],
    grant: bool,
    log: bool,
    denied_kinds: &[&str],
    denied_subjects: &[&str],
) -> Permission {
    Permission {
        agency: agency(id),
        licence_classes: List::new(classes.iter().map(|c| label(c)).collect()).unwrap(),
        may_grant: grant,
        may_log_access: log,
        denied_kinds: List::new(denied_kinds.iter().map(|k| label(k)).collect()).unwrap(),
        denied_subjects: List::new(denied_subjects.iter().map(|s| subject(s)).collect()).unwrap(),
    }
}

/// A harmless action: police may log accesses (as in genesis).
fn police_perm() -> GovAction {
    GovAction::SetPermission {
        permission: perm("police", &[], false, true, &[], &[]),
    }
}

/// A public key from a seed that no fixture key uses.
fn vkey(tag: u8, i: u16) -> PublicKey {
    let mut seed = [0xA5u8; 32];
    seed[0] = tag;
    seed[1..3].copy_from_slice(&i.to_be_bytes());
    SecretKey::from_seed(&seed).public()
}

fn validator(agency_id: &str, i: u16) -> Validator {
    Validator {
        agency: agency(agency_id),
        consensus_key: vkey(1, i),
        network_key: vkey(2, i),
        address: Text::new(format!("/ip4/127.0.0.1/tcp/{}", 8000 + u32::from(i))).unwrap(),
    }
}

fn set(v: Vec<Validator>) -> ValidatorSet {
    ValidatorSet::new(v).unwrap()
}

/// The fixture with its genesis changed by `f`.
fn fixture_with(lag: u64, f: impl FnOnce(&mut Genesis)) -> Fixture {
    let mut fx = fixture(lag);
    f(&mut fx.genesis);
    fx.genesis.validate().unwrap();
    fx
}

/// Every field of two rule sets is equal.
fn assert_same_rules(a: &Rules, b: &Rules) {
    assert_eq!(a.chain_id, b.chain_id);
    assert_eq!(a.agencies, b.agencies);
    assert_eq!(a.permissions, b.permissions);
    assert_eq!(a.max_body_bytes, b.max_body_bytes);
    assert_eq!(a.execution_lag, b.execution_lag);
    assert_eq!(a.governance, b.governance);
    assert_eq!(a.validators, b.validators);
    assert_eq!(a.validators_from, b.validators_from);
    assert_eq!(a.keys, b.keys);
}

/// What admission says about `rec`, in the form of an execution result.
fn admit(rules: &Rules, rec: &SignedRecord) -> ExecResult {
    match rules.check_admission(&rec.record) {
        Ok(()) => Accepted,
        Err(code) => Rejected(code),
    }
}

struct Chain<K: KvStore = MemKv> {
    fx: Fixture,
    l: Ledger<K>,
    ts: u64,
    nonce: Cell<u64>,
}

impl Chain<MemKv> {
    fn new(fx: Fixture) -> Self {
        let l = Ledger::in_memory(&fx.genesis).unwrap();
        Chain::on(fx, l)
    }
}

impl<K: KvStore> Chain<K> {
    fn on(fx: Fixture, l: Ledger<K>) -> Self {
        let ts = l.tip().timestamp.0;
        Chain {
            fx,
            l,
            ts,
            nonce: Cell::new(1),
        }
    }

    fn chain(&self) -> ChainId {
        self.fx.chain()
    }

    fn next_nonce(&self) -> u64 {
        let n = self.nonce.get();
        self.nonce.set(n + 1);
        n
    }

    /// The time of the next block.
    fn next_ts(&self) -> u64 {
        self.ts + 1000
    }

    /// Commits one block of `recs` one second after the previous one.
    fn block(&mut self, recs: Vec<SignedRecord>) -> Vec<ExecResult> {
        self.ts += 1000;
        let c = commit(&self.l, recs, self.ts);
        c.results
    }

    fn one(&mut self, rec: SignedRecord) -> ExecResult {
        self.block(vec![rec])[0]
    }

    fn height(&self) -> u64 {
        self.l.tip().height
    }

    /// A record by `issuer` signed with key `key_n`, timestamped `ts`.
    fn rec_at(
        &self,
        issuer: &str,
        key_n: u8,
        kind: RecordKind,
        subj: &str,
        ts: u64,
    ) -> SignedRecord {
        self.fx
            .record(issuer, key_n, kind, subj, ts, self.next_nonce())
    }

    /// A record by `issuer` with key `key_n`, timestamped at the next block's time.
    fn rec(&self, issuer: &str, key_n: u8, kind: RecordKind, subj: &str) -> SignedRecord {
        self.rec_at(issuer, key_n, kind, subj, self.next_ts())
    }

    /// A driving licence issued by transport with key `key_n`, timestamped `ts`.
    fn licence_at(&self, key_n: u8, subj: &str, ts: u64) -> SignedRecord {
        self.rec_at(
            "transport",
            key_n,
            licence_issue("driving", ts, ts + 30 * DAY),
            subj,
            ts,
        )
    }

    fn approval(&self, by: &str, subj: &str, action: &GovAction) -> Approval {
        approve(
            agency(by),
            &admin(by),
            &self.chain(),
            &subject(subj),
            action,
        )
    }

    /// Governance record `subj` issued by health (key 3) with `approvals`.
    fn gov_with(&self, subj: &str, action: GovAction, approvals: Vec<Approval>) -> SignedRecord {
        self.gov_by("health", 3, subj, action, approvals)
    }

    fn gov_by(
        &self,
        issuer: &str,
        key_n: u8,
        subj: &str,
        action: GovAction,
        approvals: Vec<Approval>,
    ) -> SignedRecord {
        let kind = RecordKind::Governance {
            action: Box::new(action),
            approvals: List::new(approvals).unwrap(),
        };
        self.rec(issuer, key_n, kind, subj)
    }

    /// Governance record `subj` approved by the admin keys of `by`.
    fn gov(&self, subj: &str, action: GovAction, by: &[&str]) -> SignedRecord {
        let approvals = by.iter().map(|a| self.approval(a, subj, &action)).collect();
        self.gov_with(subj, action, approvals)
    }

    /// Governance record approved by all three genesis agencies.
    fn gov_all(&self, subj: &str, action: GovAction) -> SignedRecord {
        self.gov(subj, action, &["transport", "health", "police"])
    }

    fn proposal(&self, subj: &str) -> Option<ProposalStatus> {
        match self.l.status(&proposal_key(&subject(subj))).unwrap() {
            Some(Status::Proposal(p)) => Some(p),
            None => None,
            other => panic!("not a proposal: {other:?}"),
        }
    }

    fn key_status(&self, key_n: u8) -> Option<KeyStatus> {
        match self.l.status(&issuer_key_key(&kid(key_n))).unwrap() {
            Some(Status::IssuerKey(k)) => Some(k),
            None => None,
            other => panic!("not a key status: {other:?}"),
        }
    }

    fn schedule(&self) -> Option<ValidatorSchedule> {
        match self.l.status(&validators_key()).unwrap() {
            Some(Status::Validators(s)) => Some(s),
            None => None,
            other => panic!("not a validator schedule: {other:?}"),
        }
    }

    /// The result a committed record reads back with.
    fn read_back(&self, rec: &SignedRecord) -> ExecResult {
        self.l.record(&rec.id()).unwrap().unwrap().result
    }
}

// ------------------------------------------------------------- approvals

#[test]
fn approvals_must_reach_the_threshold() {
    let mut c = Chain::new(fixture(1));
    let act = police_perm();
    let genesis_rules = c.l.rules();
    // Three agencies, 2/3: two approvals are needed.
    assert_eq!(Threshold::TWO_THIRDS.required(3), 2);

    let two = c.gov("P-two", act.clone(), &["transport", "health"]);
    let three = c.gov_all("P-three", act.clone());
    let one = c.gov("P-one", act.clone(), &["police"]);
    let none = c.gov("P-none", act.clone(), &[]);
    let bad_sig = {
        let mut a = vec![
            c.approval("transport", "P-badsig", &act),
            c.approval("health", "P-badsig", &act),
            c.approval("police", "P-badsig", &act),
        ];
        a[1].signature.0[7] ^= 1;
        c.gov_with("P-badsig", act.clone(), a)
    };
    let unknown = {
        let a = vec![
            c.approval("transport", "P-unknown", &act),
            c.approval("health", "P-unknown", &act),
            c.approval("rogue", "P-unknown", &act),
        ];
        c.gov_with("P-unknown", act.clone(), a)
    };
    // An agency approving twice is refused outright, not counted once.
    let twice = {
        let a = vec![
            c.approval("transport", "P-twice", &act),
            c.approval("transport", "P-twice", &act),
            c.approval("health", "P-twice", &act),
        ];
        c.gov_with("P-twice", act.clone(), a)
    };
    let twice_only = c.gov("P-twice-only", act.clone(), &["police", "police"]);
    // Approvals made for another proposal cannot be moved to this one.
    let moved = {
        let a = vec![
            c.approval("transport", "P-elsewhere", &act),
            c.approval("health", "P-elsewhere", &act),
            c.approval("police", "P-elsewhere", &act),
        ];
        c.gov_with("P-moved", act.clone(), a)
    };
    // Nor to another chain.
    let other_chain = {
        let chain = fixture(5).chain();
        let a = ["transport", "health", "police"]
            .iter()
            .map(|by| approve(agency(by), &admin(by), &chain, &subject("P-chain"), &act))
            .collect();
        c.gov_with("P-chain", act.clone(), a)
    };
    // Nor to another action under the same proposal id.
    let other_action = {
        let a = ["transport", "health", "police"]
            .iter()
            .map(|by| {
                c.approval(
                    by,
                    "P-action",
                    &GovAction::SetPermission {
                        permission: perm("police", &["*"], true, true, &[], &[]),
                    },
                )
            })
            .collect();
        c.gov_with("P-action", act.clone(), a)
    };
    // An approval signed with an issuer key instead of the admin key.
    let wrong_key = {
        let a = vec![
            approve(
                agency("transport"),
                &key(1),
                &c.chain(),
                &subject("P-key"),
                &act,
            ),
            c.approval("health", "P-key", &act),
            c.approval("police", "P-key", &act),
        ];
        c.gov_with("P-key", act.clone(), a)
    };
    // Health's signature presented as police's.
    let relabelled = {
        let mut h = c.approval("health", "P-label", &act);
        h.agency = agency("police");
        let a = vec![c.approval("health", "P-label", &act), h];
        c.gov_with("P-label", act.clone(), a)
    };

    let recs = vec![
        two.clone(),
        three.clone(),
        one,
        none,
        bad_sig,
        unknown,
        twice,
        twice_only,
        moved,
        other_chain,
        other_action,
        wrong_key,
        relabelled,
    ];
    let admission: Vec<ExecResult> = recs.iter().map(|r| admit(&genesis_rules, r)).collect();
    let results = c.block(recs);
    let mut expected = vec![Accepted, Accepted];
    expected.extend([Rejected(NotApproved); 11]);
    assert_eq!(results, expected);
    assert_eq!(admission, expected, "admission agrees with execution");

    // Accepted proposals are recorded; refused ones leave no trace.
    let p = c.proposal("P-two").unwrap();
    assert_eq!(p.action.as_str(), "set_permission");
    assert_eq!(p.record, two.id());
    assert_eq!(p.applies_from, 2);
    assert_eq!(c.proposal("P-three").unwrap().record, three.id());
    for s in [
        "P-one",
        "P-none",
        "P-badsig",
        "P-unknown",
        "P-twice",
        "P-moved",
        "P-chain",
        "P-action",
        "P-key",
        "P-label",
    ] {
        assert_eq!(c.proposal(s), None, "{s}");
    }

    // A refused proposal id is free: with enough approvals it goes through.
    let again = c.gov("P-one", act, &["police", "health"]);
    assert_eq!(c.one(again.clone()), Accepted);
    assert_eq!(c.proposal("P-one").unwrap().record, again.id());
}

#[test]
fn per_action_threshold_overrides_the_default() {
    let fx = fixture_with(1, |g| {
        g.governance.actions = List::new(vec![ActionThreshold {
            action: label("add_validator"),
            threshold: Threshold {
                numerator: 4,
                denominator: 4,
            },
        }])
        .unwrap();
    });
    let mut c = Chain::new(fx);
    let add = GovAction::AddValidator {
        validator: validator("health", 1),
    };
    let rules = c.l.rules();
    let two = c.gov("V-two", add.clone(), &["transport", "health"]);
    let perm_two = c.gov("S-two", police_perm(), &["transport", "health"]);
    assert_eq!(admit(&rules, &two), Rejected(NotApproved));
    assert_eq!(admit(&rules, &perm_two), Accepted);
    assert_eq!(
        c.block(vec![two, perm_two]),
        vec![Rejected(NotApproved), Accepted]
    );
    assert_eq!(c.l.rules().validators.n(), 1);

    let all = c.gov_all("V-all", add);
    assert_eq!(admit(&c.l.rules(), &all), Accepted);
    assert_eq!(c.one(all), Accepted);
    assert_eq!(c.l.rules().validators.n(), 2);
}

// ------------------------------------------------------- each action

#[test]
fn add_agency_registers_the_agency_and_its_keys() {
    let mut c = Chain::new(fixture(1));
    let tax = GovAction::AddAgency {
        agency: new_agency("tax", vec![issuer_key(6, T0 - DAY, None)]),
    };
    let add = c.gov("A-tax", tax, &["transport", "police"]);
    // In the same block, tax is not yet an issuer, and its approval does not count.
    let early = c.rec("tax", 6, licence_issue("driving", T0, T0 + DAY), "TX-1");
    let early_vote = c.gov("A-early", police_perm(), &["tax", "transport"]);
    assert_eq!(
        c.block(vec![add.clone(), early, early_vote]),
        vec![Accepted, Rejected(UnknownIssuer), Rejected(NotApproved)]
    );
    let h = c.height();
    let p = c.proposal("A-tax").unwrap();
    assert_eq!(
        (p.action.as_str(), p.record, p.applies_from),
        ("add_agency", add.id(), h + 1)
    );
    let rules = c.l.rules();
    assert_eq!(rules.agencies.len(), 4);
    assert_eq!(
        rules.agencies[&agency("tax")].admin_key,
        admin("tax").public()
    );
    assert_eq!(rules.keys[&kid(6)].agency, agency("tax"));
    let ks = c.key_status(6).unwrap();
    assert_eq!(ks.agency, agency("tax"));
    assert_eq!(ks.key, issuer_key(6, T0 - DAY, None));
    assert_eq!((ks.revoked_at, ks.compromised_since), (None, None));
    assert_eq!(ks.changed_by, add.id());

    // Now tax issues with its key, but has no permission entry yet.
    let t = c.next_ts();
    let r = c.rec("tax", 6, licence_issue("driving", t, t + DAY), "TX-2");
    assert_eq!(c.one(r), Rejected(KindNotPermitted));

    // Four agencies: ⌈4·2/3⌉ = 3 approvals, and tax's counts.
    let two = c.gov("A-two", police_perm(), &["transport", "health"]);
    let three = c.gov("A-three", police_perm(), &["transport", "health", "tax"]);
    assert_eq!(
        c.block(vec![two, three]),
        vec![Rejected(NotApproved), Accepted]
    );

    // Refusals.
    let before = c.l.rules();
    let all = |c: &Chain, s: &str, a: GovAction| c.gov(s, a, &["transport", "health", "police"]);
    let taken_id = all(
        &c,
        "A-dup-id",
        GovAction::AddAgency {
            agency: new_agency("health", vec![issuer_key(8, T0 - DAY, None)]),
        },
    );
    let taken_key = all(
        &c,
        "A-dup-key",
        GovAction::AddAgency {
            agency: new_agency("customs", vec![issuer_key(1, T0 - DAY, None)]),
        },
    );
    let empty_window = all(
        &c,
        "A-window",
        GovAction::AddAgency {
            agency: new_agency("customs", vec![issuer_key(8, T0, Some(T0))]),
        },
    );
    let key_twice = all(
        &c,
        "A-twice",
        GovAction::AddAgency {
            agency: new_agency(
                "customs",
                vec![issuer_key(8, T0 - DAY, None), issuer_key(8, T0, None)],
            ),
        },
    );
    assert_eq!(
        c.block(vec![taken_id, taken_key, empty_window, key_twice]),
        vec![
            Rejected(Duplicate),
            Rejected(Duplicate),
            Rejected(InvalidField),
            Rejected(InvalidField)
        ]
    );
    assert_same_rules(&before, &c.l.rules());
    assert_eq!(c.key_status(8), None);
    for s in ["A-dup-id", "A-dup-key", "A-window", "A-twice"] {
        assert_eq!(c.proposal(s), None, "{s}");
    }

    // Two additions of one agency in a block: the second sees the first.
    let customs = || GovAction::AddAgency {
        agency: new_agency("customs", vec![issuer_key(9, T0 - DAY, None)]),
    };
    let a = c.gov("A-customs-1", customs(), &["transport", "health", "police"]);
    let b = c.gov("A-customs-2", customs(), &["transport", "health", "police"]);
    assert_eq!(c.block(vec![a, b]), vec![Accepted, Rejected(Duplicate)]);
}

#[test]
fn validator_actions_are_refused_when_invalid() {
    let mut c = Chain::new(fixture(1));
    let genesis_v = c.fx.genesis.validators.validators()[0].clone();
    let before = c.l.rules();
    let shared_consensus = Validator {
        consensus_key: genesis_v.consensus_key,
        ..validator("health", 1)
    };
    let shared_network = Validator {
        network_key: genesis_v.network_key,
        ..validator("health", 2)
    };
    let recs = vec![
        c.gov_all(
            "V-agency",
            GovAction::AddValidator {
                validator: validator("nobody", 3),
            },
        ),
        c.gov_all(
            "V-consensus",
            GovAction::AddValidator {
                validator: shared_consensus,
            },
        ),
        c.gov_all(
            "V-network",
            GovAction::AddValidator {
                validator: shared_network,
            },
        ),
        c.gov_all(
            "V-unknown",
            GovAction::RemoveValidator {
                consensus_key: vkey(1, 99),
            },
        ),
        c.gov_all(
            "V-empty",
            GovAction::RemoveValidator {
                consensus_key: genesis_v.consensus_key,
            },
        ),
    ];
    assert_eq!(
        c.block(recs),
        vec![
            Rejected(UnknownReference),
            Rejected(InvalidField),
            Rejected(InvalidField),
            Rejected(UnknownReference),
            Rejected(InvalidField),
        ]
    );
    assert_same_rules(&before, &c.l.rules());
    assert_eq!(c.schedule(), None);
    assert!(c.l.validator_changes().unwrap().is_empty());

    // Too many: the set holds at most 256 validators.
    let max = chancery_types::limits::MAX_VALIDATORS as u16;
    let recs: Vec<SignedRecord> = (1..=max)
        .map(|i| {
            c.gov(
                &format!("V-add-{i}"),
                GovAction::AddValidator {
                    validator: validator("police", i),
                },
                &["transport", "health"],
            )
        })
        .collect();
    let results = c.block(recs);
    assert_eq!(
        results[..usize::from(max) - 1],
        vec![Accepted; usize::from(max) - 1]
    );
    assert_eq!(results[usize::from(max) - 1], Rejected(InvalidField));
    assert_eq!(c.l.rules().validators.n(), usize::from(max));
    assert_eq!(c.proposal(&format!("V-add-{max}")), None);
}

#[test]
fn add_issuer_key_registers_a_key_from_the_next_block() {
    let mut c = Chain::new(fixture(1));
    let add = c.gov(
        "K-add",
        GovAction::AddIssuerKey {
            agency: agency("transport"),
            key: issuer_key(8, T0 - DAY, None),
        },
        &["transport", "health"],
    );
    let t = c.next_ts();
    let early = c.licence_at(8, "K8-1", t);
    assert_eq!(
        c.block(vec![add.clone(), early]),
        vec![Accepted, Rejected(KeyNotValid)]
    );
    let ks = c.key_status(8).unwrap();
    assert_eq!(ks.agency, agency("transport"));
    assert_eq!(ks.key, issuer_key(8, T0 - DAY, None));
    assert_eq!(ks.revoked_at, None);
    assert_eq!(ks.changed_by, add.id());
    assert_eq!(c.l.rules().keys[&kid(8)].agency, agency("transport"));
    let t = c.next_ts();
    assert_eq!(c.one(c.licence_at(8, "K8-2", t)), Accepted);

    // Refusals.
    let before = c.l.rules();
    let add_key = |c: &Chain, s: &str, agency_id: &str, k: IssuerKey| {
        c.gov_all(
            s,
            GovAction::AddIssuerKey {
                agency: agency(agency_id),
                key: k,
            },
        )
    };
    let recs = vec![
        add_key(&c, "K-agency", "nobody", issuer_key(9, T0, None)),
        add_key(&c, "K-taken", "transport", issuer_key(8, T0, None)),
        add_key(&c, "K-other", "transport", issuer_key(3, T0 - DAY, None)),
        add_key(&c, "K-empty", "transport", issuer_key(9, T0, Some(T0))),
        add_key(
            &c,
            "K-reversed",
            "transport",
            issuer_key(9, T0, Some(T0 - 1)),
        ),
    ];
    assert_eq!(
        c.block(recs),
        vec![
            Rejected(UnknownReference),
            Rejected(Duplicate),
            Rejected(Duplicate),
            Rejected(InvalidField),
            Rejected(InvalidField),
        ]
    );
    assert_same_rules(&before, &c.l.rules());
    assert_eq!(c.key_status(9), None);

    // The same key twice in one block.
    let a = add_key(&c, "K-9a", "health", issuer_key(9, T0 - DAY, None));
    let b = add_key(&c, "K-9b", "police", issuer_key(9, T0 - DAY, None));
    assert_eq!(c.block(vec![a, b]), vec![Accepted, Rejected(Duplicate)]);
    assert_eq!(c.key_status(9).unwrap().agency, agency("health"));
}

#[test]
fn rotate_issuer_key_refusals() {
    let mut c = Chain::new(fixture(1));
    let rotate = |c: &Chain, s: &str, agency_id: &str, old: u8, new: IssuerKey| {
        c.gov_all(
            s,
            GovAction::RotateIssuerKey {
                agency: agency(agency_id),
                old: kid(old),
                new,
            },
        )
    };
    let revoke = |c: &Chain, s: &str, agency_id: &str, k: u8| {
        c.gov_all(
            s,
            GovAction::RevokeIssuerKey {
                agency: agency(agency_id),
                key: kid(k),
                compromised_since: None,
            },
        )
    };
    // Key 2 of transport is revoked first.
    assert_eq!(c.one(revoke(&c, "R-2", "transport", 2)), Accepted);
    let before = c.l.rules();
    let recs = vec![
        rotate(&c, "R-unknown", "transport", 9, issuer_key(8, T0, None)),
        rotate(&c, "R-foreign", "transport", 3, issuer_key(8, T0, None)),
        rotate(&c, "R-agency", "nobody", 1, issuer_key(8, T0, None)),
        rotate(&c, "R-revoked", "transport", 2, issuer_key(8, T0, None)),
        rotate(&c, "R-taken", "transport", 1, issuer_key(4, T0, None)),
        rotate(&c, "R-self", "transport", 1, issuer_key(1, T0, None)),
        rotate(&c, "R-early", "transport", 1, issuer_key(8, T0 - DAY, None)),
        rotate(&c, "R-empty", "transport", 1, issuer_key(8, T0, Some(T0))),
    ];
    assert_eq!(
        c.block(recs),
        vec![
            Rejected(UnknownReference),
            Rejected(UnknownReference),
            Rejected(UnknownReference),
            Rejected(InvalidTransition),
            Rejected(Duplicate),
            Rejected(Duplicate),
            Rejected(InvalidField),
            Rejected(InvalidField),
        ]
    );
    assert_same_rules(&before, &c.l.rules());
    assert_eq!(c.key_status(8), None);

    // A key revoked earlier in the same block cannot be rotated.
    let recs = vec![
        revoke(&c, "R-4", "police", 4),
        rotate(&c, "R-4-rot", "police", 4, issuer_key(8, T0, None)),
    ];
    assert_eq!(c.block(recs), vec![Accepted, Rejected(InvalidTransition)]);
    assert_eq!(c.key_status(8), None);
}

#[test]
fn revoke_issuer_key_refusals() {
    let mut c = Chain::new(fixture(1));
    let revoke = |c: &Chain, s: &str, agency_id: &str, k: u8| {
        c.gov_all(
            s,
            GovAction::RevokeIssuerKey {
                agency: agency(agency_id),
                key: kid(k),
                compromised_since: None,
            },
        )
    };
    let before = c.l.rules();
    let recs = vec![
        revoke(&c, "X-unknown", "transport", 9),
        revoke(&c, "X-foreign", "transport", 3),
        revoke(&c, "X-agency", "nobody", 1),
    ];
    assert_eq!(c.block(recs), vec![Rejected(UnknownReference); 3]);
    assert_same_rules(&before, &c.l.rules());
    assert_eq!(c.key_status(3), None);

    // Twice in one block, then again later.
    let recs = vec![
        revoke(&c, "X-4a", "police", 4),
        revoke(&c, "X-4b", "police", 4),
    ];
    assert_eq!(c.block(recs), vec![Accepted, Rejected(InvalidTransition)]);
    let first = c.key_status(4).unwrap();
    assert_eq!(
        c.one(revoke(&c, "X-4c", "police", 4)),
        Rejected(InvalidTransition)
    );
    assert_eq!(c.key_status(4), Some(first));
}

#[test]
fn set_permission_for_an_unknown_agency_is_refused() {
    let mut c = Chain::new(fixture(1));
    let before = c.l.rules();
    let r = c.gov_all(
        "S-nobody",
        GovAction::SetPermission {
            permission: perm("nobody", &["*"], true, true, &[], &[]),
        },
    );
    assert_eq!(c.one(r), Rejected(UnknownReference));
    assert_same_rules(&before, &c.l.rules());
    assert!(!c.l.rules().permissions.contains_key(&agency("nobody")));
}

#[test]
fn proposal_ids_are_used_once() {
    let mut c = Chain::new(fixture(1));
    let grant_police = |classes: &[&str]| GovAction::SetPermission {
        permission: perm("police", classes, false, true, &[], &[]),
    };
    let first = c.gov_all("P-1", grant_police(&["firearms"]));
    let same_block = c.gov_all("P-1", grant_police(&["boats"]));
    assert_eq!(
        c.block(vec![first.clone(), same_block]),
        vec![Accepted, Rejected(Duplicate)]
    );
    let later = c.gov_all("P-1", grant_police(&["planes"]));
    assert_eq!(c.one(later), Rejected(Duplicate));
    // Only the first applied.
    assert_eq!(c.proposal("P-1").unwrap().record, first.id());
    let p = &c.l.rules().permissions[&agency("police")];
    assert_eq!(p.licence_classes.as_slice(), &[label("firearms")]);
}

// ----------------------------------------------------- rotation

#[test]
fn key_rotation() {
    let mut c = Chain::new(fixture(1));
    let switch = T0 + 10_000;
    // Before: key 1 works.
    let before = c.licence_at(1, "R-1", c.next_ts());
    assert_eq!(c.one(before.clone()), Accepted);

    // The rotation block: records with the old key still see the old rules,
    // even timestamped after the new key's start.
    let rot = c.gov(
        "ROT",
        GovAction::RotateIssuerKey {
            agency: agency("transport"),
            old: kid(1),
            new: issuer_key(7, switch, None),
        },
        &["transport", "police"],
    );
    let same_block_old = c.licence_at(1, "R-2", switch);
    let same_block_new = c.licence_at(7, "R-3", switch);
    assert_eq!(
        c.block(vec![rot.clone(), same_block_old.clone(), same_block_new]),
        vec![Accepted, Accepted, Rejected(KeyNotValid)]
    );
    let rot_height = c.height();
    assert_eq!(c.proposal("ROT").unwrap().applies_from, rot_height + 1);

    // Both keys' statuses are in the state tree; the old one now ends at the switch.
    let old = c.key_status(1).unwrap();
    assert_eq!(old.key.valid_until, Some(Timestamp(switch)));
    assert_eq!(old.key.valid_from, Timestamp(T0 - DAY));
    assert_eq!((old.revoked_at, old.changed_by), (None, rot.id()));
    let new = c.key_status(7).unwrap();
    assert_eq!(new.agency, agency("transport"));
    assert_eq!(new.key, issuer_key(7, switch, None));
    assert_eq!(new.changed_by, rot.id());
    let rules = c.l.rules();
    assert_eq!(rules.keys[&kid(1)].key.valid_until, Some(Timestamp(switch)));
    assert_eq!(rules.keys[&kid(7)].key.valid_from, Timestamp(switch));

    // After: the new key from its start, the old one only before it.
    let recs = vec![
        c.licence_at(7, "R-4", switch),
        c.licence_at(7, "R-5", switch - 1),
        c.licence_at(1, "R-6", switch - 1),
        c.licence_at(1, "R-7", switch),
        c.licence_at(1, "R-8", switch + 1),
    ];
    assert_eq!(
        c.block(recs),
        vec![
            Accepted,
            Rejected(KeyNotValid),
            Accepted,
            Rejected(KeyNotValid),
            Rejected(KeyNotValid),
        ]
    );
    c.ts = switch + 60_000;
    let t = c.next_ts();
    let recs = vec![c.licence_at(7, "R-9", t), c.licence_at(1, "R-10", t)];
    assert_eq!(c.block(recs), vec![Accepted, Rejected(KeyNotValid)]);

    // What the old key signed stays accepted.
    assert_eq!(c.read_back(&before), Accepted);
    assert_eq!(c.read_back(&same_block_old), Accepted);
    assert_eq!(c.l.results(1).unwrap(), vec![Accepted]);
}

// ----------------------------------------------------- revocation

#[test]
fn key_revocation_with_compromise_time() {
    let mut c = Chain::new(fixture(1));
    let compromised = T0 + 1_500;
    let a = c.licence_at(1, "V-1", c.next_ts());
    assert_eq!(c.one(a.clone()), Accepted);
    let h1 = c.height();

    // The revocation block: key 1 still works within it, before and after.
    let t = c.next_ts();
    let b = c.licence_at(1, "V-2", t);
    let revoke = c.gov(
        "REV",
        GovAction::RevokeIssuerKey {
            agency: agency("transport"),
            key: kid(1),
            compromised_since: Some(Timestamp(compromised)),
        },
        &["health", "police"],
    );
    let d = c.licence_at(1, "V-3", t);
    assert_eq!(
        c.block(vec![b.clone(), revoke.clone(), d.clone()]),
        vec![Accepted, Accepted, Accepted]
    );
    let h2 = c.height();
    assert_eq!(c.proposal("REV").unwrap().applies_from, h2 + 1);

    // The key's status, with revocation and compromise time, in the state tree.
    let expected = KeyStatus {
        agency: agency("transport"),
        key: issuer_key(1, T0 - DAY, None),
        revoked_at: Some(Timestamp(t)),
        compromised_since: Some(Timestamp(compromised)),
        changed_by: revoke.id(),
    };
    assert_eq!(c.key_status(1), Some(expected.clone()));
    let key = issuer_key_key(&kid(1));
    let proof = c.l.status_proof(&key, h2).unwrap();
    assert_eq!(
        proof.root,
        c.l.exec_summary(h2).unwrap().unwrap().state_root
    );
    let value = proof.value.clone().unwrap();
    assert_eq!(
        Status::from_canonical(&value).unwrap(),
        Status::IssuerKey(expected)
    );
    assert_eq!(proof.proof.verify(&proof.root, &key, Some(&value)), Ok(()));
    // Before the revocation the key had no status.
    let absent = c.l.status_proof(&key, h1).unwrap();
    assert_eq!(absent.value, None);
    assert_eq!(absent.proof.verify(&absent.root, &key, None), Ok(()));
    assert_eq!(c.l.rules().keys[&kid(1)].revoked_at, Some(Timestamp(t)));

    // From the next block, every record with the key is refused, whatever its
    // timestamp; the agency's other key still works.
    let t = c.next_ts();
    let recs = vec![
        c.licence_at(1, "V-4", t),
        c.licence_at(1, "V-5", compromised - 1),
        c.licence_at(2, "V-6", t),
    ];
    let rules = c.l.rules();
    assert_eq!(rules.check_issuer(&recs[0].record).err(), Some(KeyNotValid));
    assert_eq!(
        c.block(recs),
        vec![Rejected(KeyNotValid), Rejected(KeyNotValid), Accepted]
    );
    // Committed records keep their result, including those after the compromise time.
    for r in [&a, &b, &d] {
        assert_eq!(c.read_back(r), Accepted);
    }
}

// ----------------------------------------------------- permissions

#[test]
fn permissions_and_deny_lists() {
    let mut c = Chain::new(fixture(1));
    let set_transport = |c: &Chain, s: &str, p: Permission| {
        c.gov(
            s,
            GovAction::SetPermission { permission: p },
            &["health", "police"],
        )
    };
    let issue = |c: &Chain, class: &str, subj: &str| {
        let t = c.next_ts();
        c.rec("transport", 1, licence_issue(class, t, t + DAY), subj)
    };

    // Granting a class: from the next block.
    let grant = set_transport(
        &c,
        "S-grant",
        perm(
            "transport",
            &["driving", "pharmacy"],
            false,
            false,
            &[],
            &[],
        ),
    );
    let early = issue(&c, "pharmacy", "PH-1");
    let rules = c.l.rules();
    assert_eq!(admit(&rules, &early), Rejected(KindNotPermitted));
    assert_eq!(
        c.block(vec![grant, early]),
        vec![Accepted, Rejected(KindNotPermitted)]
    );
    let ok = issue(&c, "pharmacy", "PH-2");
    assert_eq!(admit(&c.l.rules(), &ok), Accepted);
    assert_eq!(c.one(ok), Accepted);

    // Removing one class: it can be neither issued nor managed any more
    // (managing is checked against the licence's class at execution).
    let narrow = set_transport(
        &c,
        "S-narrow",
        perm("transport", &["driving"], false, false, &[], &[]),
    );
    let still = c.rec("transport", 1, RecordKind::LicenceAmend, "PH-2");
    assert_eq!(c.block(vec![narrow, still]), vec![Accepted, Accepted]);
    let recs = vec![
        issue(&c, "pharmacy", "PH-4"),
        c.rec("transport", 1, RecordKind::LicenceSuspend, "PH-2"),
        issue(&c, "driving", "DL-0"),
    ];
    assert_eq!(admit(&c.l.rules(), &recs[0]), Rejected(KindNotPermitted));
    assert_eq!(
        c.block(recs),
        vec![
            Rejected(KindNotPermitted),
            Rejected(KindNotPermitted),
            Accepted
        ]
    );

    // Removing every class: from the next block, no issuing nor managing.
    let remove = set_transport(
        &c,
        "S-remove",
        perm("transport", &[], false, false, &[], &[]),
    );
    let last = issue(&c, "driving", "DL-1");
    assert_eq!(c.block(vec![remove, last]), vec![Accepted, Accepted]);
    let recs = vec![
        issue(&c, "driving", "DL-2"),
        issue(&c, "pharmacy", "PH-3"),
        c.rec("transport", 1, RecordKind::LicenceSuspend, "DL-1"),
    ];
    let rules = c.l.rules();
    let admission: Vec<ExecResult> = recs.iter().map(|r| admit(&rules, r)).collect();
    let results = c.block(recs);
    assert_eq!(results, vec![Rejected(KindNotPermitted); 3]);
    assert_eq!(admission, results);

    // A deny list: kinds and subjects.
    let deny = set_transport(
        &c,
        "S-deny",
        perm(
            "transport",
            &["driving"],
            false,
            false,
            &["licence_revoke", "governance"],
            &["DL-VIP", "GOV-VIP"],
        ),
    );
    assert_eq!(c.one(deny), Accepted);
    let vote = |c: &Chain, s: &str| {
        let approvals = ["health", "police"]
            .iter()
            .map(|a| c.approval(a, s, &police_perm()))
            .collect();
        c.gov_by("transport", 1, s, police_perm(), approvals)
    };
    let recs = vec![
        issue(&c, "driving", "DL-VIP"),
        issue(&c, "driving", "DL-3"),
        c.rec("transport", 1, RecordKind::LicenceSuspend, "DL-VIP"),
        c.rec("transport", 1, RecordKind::LicenceRevoke, "DL-1"),
        c.rec("transport", 1, RecordKind::LicenceSuspend, "DL-1"),
        // Governance records are exempt, both by kind and by subject.
        vote(&c, "GOV-VIP"),
        // A kind not permitted at all stays KindNotPermitted.
        issue(&c, "pharmacy", "DL-VIP"),
    ];
    let rules = c.l.rules();
    let admission: Vec<ExecResult> = recs.iter().map(|r| admit(&rules, r)).collect();
    let results = c.block(recs);
    assert_eq!(
        results,
        vec![
            Rejected(Denied),
            Accepted,
            Rejected(Denied),
            Rejected(Denied),
            Accepted,
            Accepted,
            Rejected(KindNotPermitted),
        ]
    );
    assert_eq!(admission, results, "admission agrees with execution");

    // Lifting the deny list lets the revocation through.
    let lift = set_transport(
        &c,
        "S-lift",
        perm("transport", &["driving"], false, false, &[], &[]),
    );
    assert_eq!(c.one(lift), Accepted);
    let r = c.rec("transport", 1, RecordKind::LicenceRevoke, "DL-1");
    assert_eq!(c.one(r), Accepted);
}

#[test]
fn deny_lists_from_genesis_apply_to_grants_and_access_logs() {
    let fx = fixture_with(1, |g| {
        let mut perms = g.policy.permissions.clone().into_vec();
        perms[1] = perm("health", &["*"], true, false, &[], &["G-SECRET"]);
        perms[2] = perm("police", &[], false, true, &["access_log"], &[]);
        g.policy.permissions = List::new(perms).unwrap();
    });
    let mut c = Chain::new(fx);
    let t = c.next_ts();
    let recs = vec![
        c.rec(
            "health",
            3,
            grant_create("police", "patients", t, t + DAY),
            "G-SECRET",
        ),
        c.rec(
            "health",
            3,
            grant_create("police", "patients", t, t + DAY),
            "G-1",
        ),
    ];
    assert_eq!(c.block(recs), vec![Rejected(Denied), Accepted]);
    let r = c.rec("police", 4, access_log("G-1", "patients"), "A-1");
    assert_eq!(admit(&c.l.rules(), &r), Rejected(Denied));
    assert_eq!(c.one(r), Rejected(Denied));
}

// ----------------------------------------------------- validator schedule

#[test]
fn validator_schedule() {
    let lag = 2;
    let mut c = Chain::new(fixture(lag));
    let v1 = c.fx.genesis.validators.validators()[0].clone();
    let genesis_set = c.fx.genesis.validators.clone();
    c.block(vec![]);
    assert_eq!(c.schedule(), None);

    let add = c.gov_all(
        "V-add",
        GovAction::AddValidator {
            validator: validator("health", 1),
        },
    );
    assert_eq!(c.one(add.clone()), Accepted);
    let h = c.height();
    let s1 = set(vec![v1.clone(), validator("health", 1)]);
    assert_eq!(c.l.validator_set_at(h).unwrap(), genesis_set);
    assert_eq!(c.l.validator_set_at(h + lag).unwrap(), genesis_set);
    assert_eq!(c.l.validator_set_at(h + lag + 1).unwrap(), s1);
    assert_eq!(c.l.validator_set_at(h + 100).unwrap(), s1);
    assert_eq!(
        c.l.validator_changes().unwrap(),
        vec![(h + lag + 1, s1.clone())]
    );
    assert_eq!(
        c.schedule(),
        Some(ValidatorSchedule {
            set: s1.clone(),
            from_height: h + lag + 1,
            changed_by: add.id(),
        })
    );
    assert_eq!(c.proposal("V-add").unwrap().applies_from, h + lag + 1);
    let rules = c.l.rules();
    assert_eq!(
        (rules.validators.clone(), rules.validators_from),
        (s1.clone(), h + lag + 1)
    );

    // Two changes in one block: only the final set is scheduled.
    let add2 = c.gov_all(
        "V-add-2",
        GovAction::AddValidator {
            validator: validator("police", 2),
        },
    );
    let remove = c.gov_all(
        "V-remove-1",
        GovAction::RemoveValidator {
            consensus_key: v1.consensus_key,
        },
    );
    assert_eq!(
        c.block(vec![add2, remove.clone()]),
        vec![Accepted, Accepted]
    );
    let h2 = c.height();
    let s2 = set(vec![validator("health", 1), validator("police", 2)]);
    assert_eq!(
        c.l.validator_changes().unwrap(),
        vec![(h + lag + 1, s1.clone()), (h2 + lag + 1, s2.clone())]
    );
    assert_eq!(c.l.validator_set_at(h2 + lag).unwrap(), s1);
    assert_eq!(c.l.validator_set_at(h2 + lag + 1).unwrap(), s2);
    assert_eq!(c.l.validator_set_at(h + lag).unwrap(), genesis_set);
    let sched = c.schedule().unwrap();
    assert_eq!(sched.set, s2);
    assert_eq!(sched.from_height, h2 + lag + 1);
    assert_eq!(sched.changed_by, remove.id());
    // The schedule is proven against the state root of that height.
    let proof = c.l.status_proof(&validators_key(), h2).unwrap();
    let value = proof.value.clone().unwrap();
    assert_eq!(
        Status::from_canonical(&value).unwrap(),
        Status::Validators(sched)
    );
    assert_eq!(
        proof
            .proof
            .verify(&proof.root, &validators_key(), Some(&value)),
        Ok(())
    );

    // A governance change that is not about validators leaves the schedule alone.
    assert_eq!(c.one(c.gov_all("V-other", police_perm())), Accepted);
    assert_eq!(c.l.validator_changes().unwrap().len(), 2);
    assert_eq!(c.l.rules().validators_from, h2 + lag + 1);
}

// ----------------------------------------------------- persistence and determinism

/// A chain of governance changes and ordinary records, block by block.
fn scenario<K: KvStore>(c: &Chain<K>, step: usize) -> Vec<SignedRecord> {
    let t = c.next_ts();
    match step {
        0 => vec![
            c.gov_all(
                "G-tax",
                GovAction::AddAgency {
                    agency: new_agency("tax", vec![issuer_key(6, T0 - DAY, None)]),
                },
            ),
            c.licence_at(1, "D-1", t),
        ],
        1 => vec![
            c.gov(
                "G-tax-perm",
                GovAction::SetPermission {
                    permission: perm("tax", &["business"], false, false, &[], &["B-NO"]),
                },
                &["transport", "health", "tax"],
            ),
            c.gov(
                "G-key",
                GovAction::AddIssuerKey {
                    agency: agency("health"),
                    key: issuer_key(8, T0 - DAY, None),
                },
                &["transport", "health", "tax"],
            ),
            c.gov(
                "G-val",
                GovAction::AddValidator {
                    validator: validator("tax", 1),
                },
                &["transport", "police", "tax"],
            ),
        ],
        2 => vec![
            c.rec("tax", 6, licence_issue("business", t, t + DAY), "B-1"),
            c.rec("tax", 6, licence_issue("business", t, t + DAY), "B-NO"),
            c.gov(
                "G-rot",
                GovAction::RotateIssuerKey {
                    agency: agency("transport"),
                    old: kid(1),
                    new: issuer_key(7, t, None),
                },
                &["transport", "health", "police"],
            ),
            c.gov(
                "G-rev",
                GovAction::RevokeIssuerKey {
                    agency: agency("police"),
                    key: kid(4),
                    compromised_since: Some(Timestamp(T0)),
                },
                &["transport", "health", "police"],
            ),
        ],
        _ => vec![
            c.licence_at(7, &format!("D-{step}"), t),
            c.licence_at(1, &format!("D-old-{step}"), t),
            c.rec("police", 4, access_log("G-x", "d"), &format!("A-{step}")),
            c.rec(
                "health",
                8,
                licence_issue("x", t, t + DAY),
                &format!("H-{step}"),
            ),
        ],
    }
}

#[test]
fn governance_survives_reopen_and_is_deterministic() {
    let fx = fixture(2);
    let dir = tempfile::tempdir().unwrap();
    let rocks = Ledger::open_rocks(dir.path(), &fx.genesis).unwrap();
    let mem = Ledger::in_memory(&fx.genesis).unwrap();
    let mut c = Chain::on(fx, rocks);
    let genesis_rules = c.l.rules();

    // Every block goes to both ledgers; headers carry roots, so a divergence
    // would also fail the second commit.
    let feed = |c: &mut Chain<chancery_ledger::RocksKv>, recs: Vec<SignedRecord>| {
        c.ts += 1000;
        let (block, cert) = next_block(&c.l, recs, c.ts);
        let a = c.l.commit(&block, &cert, &NothingVerified).unwrap();
        let b = mem.commit(&block, &cert, &NothingVerified).unwrap();
        assert_eq!(a, b);
        a.results
    };
    let mut all = Vec::new();
    for step in 0..4 {
        let recs = scenario(&c, step);
        all.push(feed(&mut c, recs));
    }
    assert_eq!(
        all,
        vec![
            vec![Accepted, Accepted],
            vec![Accepted, Accepted, Accepted],
            vec![Accepted, Rejected(Denied), Accepted, Accepted],
            vec![
                Accepted,
                Rejected(KeyNotValid),
                Rejected(KeyNotValid),
                Accepted
            ],
        ]
    );
    for h in 0..=c.height() {
        assert_eq!(
            c.l.exec_summary(h).unwrap(),
            mem.exec_summary(h).unwrap(),
            "height {h}"
        );
    }
    assert_same_rules(&c.l.rules(), &mem.rules());

    // Close and reopen.
    let before = c.l.rules();
    let changes = c.l.validator_changes().unwrap();
    assert_eq!(changes.len(), 1);
    let statuses: Vec<_> = [1u8, 4, 6, 7, 8].iter().map(|k| c.key_status(*k)).collect();
    let schedule = c.schedule();
    let tip = c.l.tip();
    // The changes are real: the rules differ from genesis.
    assert_ne!(before.agencies, genesis_rules.agencies);
    assert_ne!(before.keys, genesis_rules.keys);
    assert_ne!(before.validators, genesis_rules.validators);
    let Chain { fx, l, ts, nonce } = c;
    drop(l);
    let l = Ledger::open_rocks(dir.path(), &fx.genesis).unwrap();
    let mut c = Chain { fx, l, ts, nonce };
    assert_eq!(c.l.tip(), tip);
    assert_same_rules(&before, &c.l.rules());
    assert_eq!(c.l.validator_changes().unwrap(), changes);
    assert_eq!(c.l.validator_set_at(changes[0].0).unwrap(), changes[0].1);
    let reread: Vec<_> = [1u8, 4, 6, 7, 8].iter().map(|k| c.key_status(*k)).collect();
    assert_eq!(reread, statuses);
    assert_eq!(c.schedule(), schedule);

    // And they still apply after reopening, identically on both ledgers.
    let recs = scenario(&c, 4);
    assert_eq!(
        feed(&mut c, recs),
        vec![
            Accepted,
            Rejected(KeyNotValid),
            Rejected(KeyNotValid),
            Accepted
        ]
    );
}
