//! Proof bundles built by the ledger verify against the genesis alone, and
//! every tampered part is caught by the check that names it.

mod common;

use chancery_ledger::{BundleLookup, HeaderParams, Ledger, MemKv, NothingVerified};
use chancery_types::bundle::BundleError;
use chancery_types::crypto::signature::Domain;
use chancery_types::*;
use common::*;

/// Seeds of every consensus key a test validator may have: 201 is the
/// genesis validator (`transport`), 211 the one governance adds (`health`).
const CONSENSUS_SEEDS: [u8; 2] = [201, 211];

/// A certificate for `header` by every member of `set`.
fn certificate_by(fx: &Fixture, set: &ValidatorSet, header: &BlockHeader) -> CommitCertificate {
    let vote = CommitVote {
        height: header.height,
        view: 0,
        block_hash: header.hash(),
    };
    let signatures = set
        .validators()
        .iter()
        .enumerate()
        .map(|(i, v)| {
            let seed = CONSENSUS_SEEDS
                .into_iter()
                .find(|s| key(*s).public() == v.consensus_key)
                .expect("a known consensus key");
            CertSignature {
                validator: i as u16,
                signature: key(seed).sign(Domain::Commit, &fx.chain().0, &vote.to_canonical()),
            }
        })
        .collect();
    CommitCertificate {
        vote,
        signatures: List::new(signatures).unwrap(),
    }
}

/// Commits a block certified by the validator set in force at its height.
fn commit_signed(ledger: &Ledger<MemKv>, fx: &Fixture, records: Vec<SignedRecord>, ts: u64) {
    let height = ledger.tip().height + 1;
    let set = ledger.validator_set_at(height).unwrap();
    let header = ledger
        .next_header(
            &HeaderParams {
                view: 0,
                timestamp: Timestamp(ts),
                proposer: 0,
                validator_set_hash: set.hash(),
            },
            &records,
        )
        .unwrap();
    let cert = certificate_by(fx, &set, &header);
    let block = Block {
        header,
        records: List::new(records).unwrap(),
        results: List::default(),
    };
    let committed = ledger.commit(&block, &cert, &NothingVerified).unwrap();
    assert!(
        committed.results.iter().all(|r| *r == ExecResult::Accepted),
        "block {height}: {:?}",
        committed.results
    );
}

fn setup() -> (Fixture, Ledger<MemKv>, RecordId) {
    let fx = fixture(2);
    let ledger = Ledger::in_memory(&fx.genesis).unwrap();
    let rec = fx.record(
        "transport",
        1,
        licence_issue("driving", T0, T0 + DAY),
        "DL-1",
        T0,
        1,
    );
    let id = rec.id();
    commit_signed(&ledger, &fx, vec![rec], T0 + 1000);
    (fx, ledger, id)
}

#[test]
fn bundle_is_pending_until_certified_then_verifies() {
    let (fx, ledger, id) = setup();
    assert_eq!(
        ledger.proof_bundle(&id).unwrap(),
        BundleLookup::Pending {
            height: 1,
            certified_at: 3
        }
    );
    commit_signed(&ledger, &fx, vec![], T0 + 2000);
    assert!(matches!(
        ledger.proof_bundle(&id).unwrap(),
        BundleLookup::Pending { .. }
    ));
    commit_signed(&ledger, &fx, vec![], T0 + 3000);
    let BundleLookup::Ready(bundle) = ledger.proof_bundle(&id).unwrap() else {
        panic!("bundle should be ready at height 3");
    };
    let proven = bundle.verify(&fx.genesis).unwrap();
    assert_eq!(proven.record, id);
    assert_eq!(proven.height, 1);
    assert_eq!(proven.certified_height, 3);
    assert_eq!(proven.result, ExecResult::Accepted);
    assert_eq!(proven.signers, vec![agency("transport")]);
    // The licence's status in the state the header commits to (exec height 1).
    let (exec, status) = proven.status.clone().expect("a status proof");
    assert_eq!(exec, 1);
    match status {
        Some(chancery_types::state_proof::Status::Licence(l)) => {
            assert_eq!(l.state, chancery_types::state_proof::LicenceState::Active)
        }
        other => panic!("expected an active licence, got {other:?}"),
    }
    // Round trip through both forms.
    let bytes = bundle.to_canonical();
    assert_eq!(ProofBundle::from_canonical(&bytes).unwrap(), *bundle);
    let json = serde_json::to_string(&*bundle).unwrap();
    assert_eq!(serde_json::from_str::<ProofBundle>(&json).unwrap(), *bundle);
    assert_eq!(
        ledger
            .proof_bundle(&RecordId(Hash::of(b"nothing")))
            .unwrap(),
        BundleLookup::Unknown
    );
}

#[test]
fn tampering_is_caught_and_named() {
    let (fx, ledger, id) = setup();
    commit_signed(&ledger, &fx, vec![], T0 + 2000);
    commit_signed(&ledger, &fx, vec![], T0 + 3000);
    let BundleLookup::Ready(good) = ledger.proof_bundle(&id).unwrap() else {
        panic!("bundle should be ready");
    };
    let g = &fx.genesis;
    let check = |f: &dyn Fn(&mut ProofBundle), want: &str| {
        let mut b = (*good).clone();
        f(&mut b);
        let err = b.verify(g).unwrap_err();
        assert!(
            err.to_string().starts_with(want),
            "expected `{want}`, got `{err}`"
        );
    };
    check(&|b| b.version = 9, "bundle version");
    check(&|b| b.chain_id = ChainId(Hash::of(b"x")), "chain");
    check(&|b| b.header.timestamp.0 += 1, "certificate");
    check(&|b| b.header.log_root = Hash::of(b"x"), "certificate");
    check(
        &|b| {
            let mut s = b.certificate.signatures.to_vec();
            s[0].signature = key(9).sign(Domain::Commit, &fx.chain().0, b"other");
            b.certificate.signatures = List::new(s).unwrap();
        },
        "certificate",
    );
    check(
        &|b| b.certificate.signatures = List::default(),
        "certificate",
    );
    check(&|b| b.inclusion.tree_size += 1, "inclusion");
    check(
        &|b| b.entry.result = ExecResult::Rejected(RejectCode::Duplicate),
        "inclusion",
    );
    check(&|b| b.entry.height += 1, "inclusion");
    check(&|b| b.record.record.nonce += 1, "entry");
    check(&|b| b.status.as_mut().unwrap().exec_height += 1, "status");
    check(&|b| b.status.as_mut().unwrap().status = None, "status");
    check(
        &|b| {
            let st = b.status.as_mut().unwrap();
            if let Some(chancery_types::state_proof::Status::Licence(l)) = st.status.as_mut() {
                l.state = chancery_types::state_proof::LicenceState::Revoked;
            }
        },
        "status",
    );
    check(
        &|b| b.record.signature = key(1).sign(Domain::Record, &fx.chain().0, b"x"),
        "entry",
    );
    // A genesis with another validator set is another chain.
    let mut other = g.clone();
    other.chain_name = Text::new("other").unwrap();
    assert!(matches!(
        good.verify(&other),
        Err(BundleError::Chain { .. })
    ));
}

#[test]
fn consistency_between_checkpoints_verifies_and_names_tampering() {
    let (fx, ledger, _) = setup();
    for h in 2..=6u64 {
        let rec = fx.record(
            "transport",
            1,
            licence_issue("driving", T0, T0 + DAY),
            &format!("DL-{h}"),
            T0,
            h,
        );
        commit_signed(&ledger, &fx, vec![rec], T0 + h * 1000);
    }
    let good = ledger
        .consistency_bundle(3, 6)
        .unwrap()
        .expect("both committed");
    let p = good.verify(&fx.genesis).unwrap();
    assert_eq!(p.old.0, 3);
    assert_eq!(p.new.0, 6);
    assert!(p.new.1 > p.old.1);
    let bytes = good.to_canonical();
    assert_eq!(ConsistencyBundle::from_canonical(&bytes).unwrap(), good);
    assert!(ledger.consistency_bundle(3, 99).unwrap().is_none());
    let check = |f: &dyn Fn(&mut ConsistencyBundle), want: &str| {
        let mut b = good.clone();
        f(&mut b);
        let err = b.verify(&fx.genesis).unwrap_err();
        assert!(
            err.to_string().starts_with(want),
            "expected `{want}`, got `{err}`"
        );
    };
    check(&|b| b.old.header.log_root = Hash::of(b"x"), "certificate");
    check(
        &|b| b.new.certificate.signatures = List::default(),
        "certificate",
    );
    check(&|b| b.proof.old_size += 1, "consistency");
    check(
        &|b| {
            let mut path = b.proof.path.to_vec();
            if let Some(first) = path.first_mut() {
                *first = Hash::of(b"x");
            }
            b.proof.path = List::new(path).unwrap();
        },
        "consistency",
    );
}

// ---------------------------------------------------------------------------
// Validator-set changes and governance keys.

use chancery_types::bundle::{KeySource, SetChange, StepError};
use chancery_types::governance::{GovAction, approve};
use chancery_types::state_proof::Status;

/// A governance record by `transport` with every agency's approval.
fn governance(
    fx: &Fixture,
    action: GovAction,
    proposal: &str,
    ts: u64,
    nonce: u64,
) -> SignedRecord {
    let subj = subject(proposal);
    let approvals = [("transport", 101), ("health", 102), ("police", 103)]
        .into_iter()
        .map(|(a, k)| approve(agency(a), &key(k), &fx.chain(), &subj, &action))
        .collect();
    fx.record(
        "transport",
        1,
        RecordKind::Governance {
            action: Box::new(action),
            approvals: List::new(approvals).unwrap(),
        },
        proposal,
        ts,
        nonce,
    )
}

fn licence(fx: &Fixture, issuer: &str, key_n: u8, subj: &str, ts: u64) -> SignedRecord {
    fx.record(
        issuer,
        key_n,
        licence_issue("driving", T0, T0 + DAY),
        subj,
        ts,
        ts,
    )
}

fn ready(ledger: &Ledger<MemKv>, id: &RecordId) -> ProofBundle {
    match ledger.proof_bundle(id).unwrap() {
        BundleLookup::Ready(b) => *b,
        other => panic!("bundle not ready: {other:?}"),
    }
}

/// The governed chain, execution lag 2 (a change accepted in block `h`
/// applies from `h + 3`):
///
/// | height | block | certified by |
/// |---|---|---|
/// | 1 | `early`: licence DL-1 (key 1) | set #0: {201} |
/// | 2 | add validator 211 (health) → from 5 | #0 |
/// | 3 | — | #0 |
/// | 4 | remove validator 201 → from 7 | #0 (header 4: the last of #0) |
/// | 5 | add issuer key 6 to `transport` | #1: {201, 211} |
/// | 6 | `new_key`: DL-2 with key 6; `suspect`: DL-3 by health (key 3) | #1 (the last of #1) |
/// | 7 | revoke key 3, compromised since `T0 + 5000` | #2: {211} |
/// | 8 | `late`: DL-4 (key 1) | #2 |
/// | 9, 10 | — | #2 |
struct Governed {
    fx: Fixture,
    ledger: Ledger<MemKv>,
    early: RecordId,
    /// The bundle of `early` at height 3, before any change is in force.
    early_bundle: ProofBundle,
    new_key: RecordId,
    suspect: RecordId,
    /// The bundle of `suspect` at height 8, before the revocation is in
    /// the header's state.
    suspect_before: ProofBundle,
    late: RecordId,
}

fn governed() -> Governed {
    let fx = fixture(2);
    let ledger = Ledger::in_memory(&fx.genesis).unwrap();
    let ts = |h: u64| T0 + h * 1000;
    let early = licence(&fx, "transport", 1, "DL-1", ts(1) - 5);
    let early_id = early.id();
    commit_signed(&ledger, &fx, vec![early], ts(1));
    let added = Validator {
        agency: agency("health"),
        consensus_key: key(211).public(),
        network_key: key(212).public(),
        address: Text::new("/ip4/127.0.0.1/tcp/7002").unwrap(),
    };
    let add = GovAction::AddValidator { validator: added };
    commit_signed(
        &ledger,
        &fx,
        vec![governance(&fx, add, "P-1", ts(2) - 5, 1)],
        ts(2),
    );
    commit_signed(&ledger, &fx, vec![], ts(3));
    let early_bundle = ready(&ledger, &early_id);
    let remove = GovAction::RemoveValidator {
        consensus_key: key(201).public(),
    };
    commit_signed(
        &ledger,
        &fx,
        vec![governance(&fx, remove, "P-2", ts(4) - 5, 2)],
        ts(4),
    );
    let new_key = GovAction::AddIssuerKey {
        agency: agency("transport"),
        key: IssuerKey {
            public: key(6).public(),
            valid_from: Timestamp(T0 - DAY),
            valid_until: None,
        },
    };
    commit_signed(
        &ledger,
        &fx,
        vec![governance(&fx, new_key, "P-3", ts(5) - 5, 3)],
        ts(5),
    );
    let with_new_key = licence(&fx, "transport", 6, "DL-2", ts(6) - 5);
    let suspect = licence(&fx, "health", 3, "DL-3", ts(6) - 5);
    let (new_key_id, suspect_id) = (with_new_key.id(), suspect.id());
    commit_signed(&ledger, &fx, vec![with_new_key, suspect], ts(6));
    let revoke = GovAction::RevokeIssuerKey {
        agency: agency("health"),
        key: key(3).public().key_id(),
        compromised_since: Some(Timestamp(T0 + 5000)),
    };
    commit_signed(
        &ledger,
        &fx,
        vec![governance(&fx, revoke, "P-4", ts(7) - 5, 4)],
        ts(7),
    );
    let late = licence(&fx, "transport", 1, "DL-4", ts(8) - 5);
    let late_id = late.id();
    commit_signed(&ledger, &fx, vec![late], ts(8));
    let suspect_before = ready(&ledger, &suspect_id);
    commit_signed(&ledger, &fx, vec![], ts(9));
    commit_signed(&ledger, &fx, vec![], ts(10));
    let changes: Vec<u64> = ledger
        .validator_changes()
        .unwrap()
        .into_iter()
        .map(|(from, _)| from)
        .collect();
    assert_eq!(changes, vec![5, 7]);
    Governed {
        fx,
        ledger,
        early: early_id,
        early_bundle,
        new_key: new_key_id,
        suspect: suspect_id,
        suspect_before,
        late: late_id,
    }
}

#[test]
fn a_record_before_any_change_verifies_with_an_empty_chain() {
    let g = governed();
    let b = &g.early_bundle;
    assert_eq!(b.header.height, 3);
    assert!(b.validator_chain.is_empty());
    assert!(b.issuer_key.is_none());
    let p = b.verify(&g.fx.genesis).unwrap();
    assert_eq!(p.record, g.early);
    assert_eq!(
        (p.validator_changes, p.signed_by_set, p.set_size),
        (0, 0, 1)
    );
    assert_eq!(p.key.source, KeySource::Genesis);
    assert!(!p.key.signed_after_compromise);
    // The same record, resting on the tip, carries the whole chain.
    let now = ready(&g.ledger, &g.early);
    assert_eq!(now.header.height, 10);
    assert_eq!(now.validator_chain.len(), 2);
    assert_eq!(now.verify(&g.fx.genesis).unwrap().signed_by_set, 2);
}

#[test]
fn a_record_after_both_changes_verifies_through_a_two_step_chain() {
    let g = governed();
    let b = ready(&g.ledger, &g.late);
    let chain = &b.validator_chain;
    assert_eq!(chain.len(), 2);
    // Each step rests on the last header of the outgoing set.
    assert_eq!(
        chain
            .iter()
            .map(|s| (s.header.height, s.schedule.from_height, s.schedule.set.n()))
            .collect::<Vec<_>>(),
        vec![(4, 5, 2), (6, 7, 1)]
    );
    let p = b.verify(&g.fx.genesis).unwrap();
    assert_eq!(p.height, 8);
    assert_eq!(p.certified_height, 10);
    assert_eq!(
        (p.validator_changes, p.signed_by_set, p.set_size),
        (2, 2, 1)
    );
    assert_eq!(p.signers, vec![agency("health")]);
    assert_eq!(p.key.source, KeySource::Genesis);
    // Both forms round-trip.
    assert_eq!(ProofBundle::from_canonical(&b.to_canonical()).unwrap(), b);
    let json = serde_json::to_value(&b).unwrap();
    assert!(json["validator_chain"][0]["schedule"]["from_height"].is_number());
    assert_eq!(serde_json::from_value::<ProofBundle>(json).unwrap(), b);
}

/// Tampering with the bundle `good`: `f` must make it fail with an error
/// starting with `want`.
fn expect_failure(g: &Governed, good: &ProofBundle, f: &dyn Fn(&mut ProofBundle), want: &str) {
    let mut b = good.clone();
    f(&mut b);
    let err = b.verify(&g.fx.genesis).unwrap_err();
    assert!(
        err.to_string().starts_with(want),
        "expected `{want}`, got `{err}`"
    );
}

fn step(b: &mut ProofBundle, i: usize, f: impl FnOnce(&mut SetChange)) {
    let mut steps = b.validator_chain.to_vec();
    f(&mut steps[i]);
    b.validator_chain = List::new(steps).unwrap();
}

#[test]
fn tampering_with_the_validator_chain_names_the_step() {
    let g = governed();
    let good = ready(&g.ledger, &g.late);
    let fail = |f: &dyn Fn(&mut ProofBundle), want: &str| expect_failure(&g, &good, f, want);
    // The header of a step.
    fail(
        &|b| step(b, 0, |s| s.header.timestamp.0 += 1),
        "validator chain step 1: certificate",
    );
    fail(
        &|b| step(b, 1, |s| s.header.state_root = Hash::of(b"x")),
        "validator chain step 2: certificate",
    );
    fail(
        &|b| step(b, 0, |s| s.header.chain_id = ChainId(Hash::of(b"x"))),
        "validator chain step 1: header",
    );
    // One signature of a step's certificate (step 2 is signed by two validators).
    fail(
        &|b| {
            step(b, 1, |s| {
                let mut sigs = s.certificate.signatures.to_vec();
                sigs[1].signature = key(211).sign(Domain::Commit, &g.fx.chain().0, b"other");
                s.certificate.signatures = List::new(sigs).unwrap();
            })
        },
        "validator chain step 2: certificate",
    );
    // Dropping one signature leaves no quorum of two.
    fail(
        &|b| {
            step(b, 1, |s| {
                let mut sigs = s.certificate.signatures.to_vec();
                sigs.pop();
                s.certificate.signatures = List::new(sigs).unwrap();
            })
        },
        "validator chain step 2: certificate",
    );
    // The schedule: its set, its height.
    fail(
        &|b| step(b, 1, |s| s.schedule.set = g.fx.genesis.validators.clone()),
        "validator chain step 2: proof",
    );
    fail(
        &|b| step(b, 0, |s| s.schedule.changed_by = RecordId(Hash::of(b"x"))),
        "validator chain step 1: proof",
    );
    fail(
        &|b| step(b, 0, |s| s.schedule.from_height += 1),
        "validator chain step 1: schedule",
    );
    // The proof.
    fail(
        &|b| {
            step(b, 1, |s| {
                let mut sib = s.proof.siblings.to_vec();
                sib[0] = Hash::of(b"x");
                s.proof.siblings = List::new(sib).unwrap();
            })
        },
        "validator chain step 2: proof",
    );
    fail(
        &|b| step(b, 0, |s| s.proof.leaf = None),
        "validator chain step 1: proof",
    );
    // The order: swapped, or a step repeated.
    fail(
        &|b| {
            let mut steps = b.validator_chain.to_vec();
            steps.swap(0, 1);
            b.validator_chain = List::new(steps).unwrap();
        },
        "validator chain step 1: header",
    );
    fail(
        &|b| {
            let steps = b.validator_chain.to_vec();
            let again = vec![steps[0].clone(), steps[0].clone(), steps[1].clone()];
            b.validator_chain = List::new(again).unwrap();
        },
        "validator chain step 2: header",
    );
    // A missing step: the header is then checked against the wrong set.
    fail(
        &|b| {
            let mut steps = b.validator_chain.to_vec();
            steps.pop();
            b.validator_chain = List::new(steps).unwrap();
        },
        "header",
    );
    fail(&|b| b.validator_chain = List::default(), "header");
    let mut b = good.clone();
    step(&mut b, 1, |s| s.schedule.from_height += 1);
    assert!(matches!(
        b.verify(&g.fx.genesis),
        Err(BundleError::ValidatorChain {
            step: 2,
            error: StepError::FromHeight { .. }
        })
    ));
}

#[test]
fn a_governance_added_key_verifies_through_its_status() {
    let g = governed();
    let good = ready(&g.ledger, &g.new_key);
    let at = good.issuer_key.as_ref().expect("a key status");
    assert_eq!(at.status.agency, agency("transport"));
    assert_eq!(at.status.key.public, key(6).public());
    let p = good.verify(&g.fx.genesis).unwrap();
    assert_eq!(p.key.source, KeySource::Governance);
    assert_eq!(p.key.id, key(6).public().key_id());
    assert_eq!((p.key.revoked_at, p.key.compromised_since), (None, None));
    assert!(!p.key.signed_after_compromise);
    let fail = |f: &dyn Fn(&mut ProofBundle), want: &str| expect_failure(&g, &good, f, want);
    // Without the status the key is not in the genesis.
    fail(&|b| b.issuer_key = None, "record: key");
    fail(
        &|b| b.issuer_key.as_mut().unwrap().status.revoked_at = Some(Timestamp(1)),
        "key: status proof",
    );
    fail(
        &|b| b.issuer_key.as_mut().unwrap().status.key.public = key(1).public(),
        "key: status proof",
    );
    fail(
        &|b| b.issuer_key.as_mut().unwrap().proof.leaf = None,
        "key: status proof",
    );
    // Another key's status (genuine, for another key id) does not fit.
    let other = ready(&g.ledger, &g.suspect).issuer_key;
    fail(&|b| b.issuer_key = other.clone(), "key: status proof");
}

#[test]
fn a_record_signed_after_its_key_was_reported_compromised_is_flagged() {
    let g = governed();
    let b = ready(&g.ledger, &g.suspect);
    // A genesis key that governance revoked has a status too.
    let at = b.issuer_key.as_ref().expect("a key status");
    assert_eq!(at.status.compromised_since, Some(Timestamp(T0 + 5000)));
    let p = b.verify(&g.fx.genesis).unwrap();
    assert_eq!(p.result, ExecResult::Accepted);
    assert_eq!(p.key.source, KeySource::Governance);
    assert_eq!(p.key.compromised_since, Some(Timestamp(T0 + 5000)));
    assert_eq!(p.key.revoked_at, Some(Timestamp(T0 + 7000)));
    assert!(p.key.signed_after_compromise);
    match &p.status {
        Some((8, Some(Status::Licence(_)))) => {}
        other => panic!("expected the licence's status, got {other:?}"),
    }
    let json = serde_json::to_value(&p).unwrap();
    assert_eq!(json["key"]["signed_after_compromise"], true);
    assert_eq!(json["key"]["source"], "governance");
    // Resting on header 8, whose state (after height 6) predates the
    // revocation, the key is as in the genesis: nothing to flag.
    let before = &g.suspect_before;
    assert_eq!(before.header.height, 8);
    assert!(before.issuer_key.is_none());
    let p = before.verify(&g.fx.genesis).unwrap();
    assert_eq!(p.key.source, KeySource::Genesis);
    assert!(!p.key.signed_after_compromise);
}

#[test]
fn after_a_restart_old_changes_are_still_proven() {
    let g = governed();
    // Reopened, the ledger holds only the tip's state tree: the changes'
    // proofs come from the store.
    let ledger = Ledger::open(g.ledger.store().clone(), &g.fx.genesis).unwrap();
    let b = ready(&ledger, &g.late);
    assert_eq!(b.validator_chain.len(), 2);
    assert!(
        b.status.is_none(),
        "the header's state is not held after a restart"
    );
    assert_eq!(b.verify(&g.fx.genesis).unwrap().signed_by_set, 2);
    // A key with a status needs the header's state: pending until held again.
    assert_eq!(
        ledger.proof_bundle(&g.new_key).unwrap(),
        BundleLookup::Pending {
            height: 6,
            certified_at: 12
        }
    );
    commit_signed(&ledger, &g.fx, vec![], T0 + 11_000);
    commit_signed(&ledger, &g.fx, vec![], T0 + 12_000);
    let b = ready(&ledger, &g.new_key);
    assert!(b.issuer_key.is_some());
    let p = b.verify(&g.fx.genesis).unwrap();
    assert_eq!(
        (p.certified_height, p.key.source),
        (12, KeySource::Governance)
    );
}

#[test]
fn checkpoints_and_consistency_across_the_changes_verify() {
    let g = governed();
    let chain = g.ledger.validator_chain(10).unwrap();
    let checkpoint = |h: u64| Checkpoint {
        header: g.ledger.header(h).unwrap().unwrap(),
        certificate: g.ledger.certificate(h).unwrap().unwrap(),
    };
    // A change applies from its first height, not before.
    for (h, set) in [(3, 0), (4, 0), (5, 1), (6, 1), (7, 2), (10, 2)] {
        assert_eq!(
            checkpoint(h).verify(&g.fx.genesis, &chain).unwrap(),
            set,
            "height {h}"
        );
    }
    assert!(checkpoint(4).verify(&g.fx.genesis, &[]).is_ok());
    let err = checkpoint(7)
        .verify(&g.fx.genesis, &chain[..1])
        .unwrap_err();
    assert!(err.to_string().starts_with("header"), "{err}");

    let across = g.ledger.consistency_bundle(3, 10).unwrap().unwrap();
    assert_eq!(across.validator_chain.len(), 2);
    let p = across.verify(&g.fx.genesis).unwrap();
    assert_eq!((p.validator_changes, p.old_set, p.new_set), (2, 0, 2));
    assert_eq!(
        ConsistencyBundle::from_canonical(&across.to_canonical()).unwrap(),
        across
    );
    let within = g.ledger.consistency_bundle(5, 6).unwrap().unwrap();
    assert_eq!(within.validator_chain.len(), 1);
    let p = within.verify(&g.fx.genesis).unwrap();
    assert_eq!((p.validator_changes, p.old_set, p.new_set), (1, 1, 1));
    let check = |f: &dyn Fn(&mut ConsistencyBundle), want: &str| {
        let mut b = across.clone();
        f(&mut b);
        let err = b.verify(&g.fx.genesis).unwrap_err();
        assert!(
            err.to_string().starts_with(want),
            "expected `{want}`, got `{err}`"
        );
    };
    check(
        &|b| {
            let mut steps = b.validator_chain.to_vec();
            steps[1].header.timestamp.0 += 1;
            b.validator_chain = List::new(steps).unwrap();
        },
        "validator chain step 2: certificate",
    );
    check(
        &|b| {
            let mut steps = b.validator_chain.to_vec();
            steps.pop();
            b.validator_chain = List::new(steps).unwrap();
        },
        "header",
    );
    check(&|b| b.version = 1, "bundle version");
}
