//! Proof bundles built by the ledger verify against the genesis alone, and
//! every tampered part is caught by the check that names it.

mod common;

use chancery_ledger::{BundleLookup, HeaderParams, Ledger, MemKv, NothingVerified};
use chancery_types::bundle::BundleError;
use chancery_types::crypto::signature::Domain;
use chancery_types::*;
use common::*;

/// Commits a block certified by the fixture's one validator (key 201).
fn commit_signed(ledger: &Ledger<MemKv>, fx: &Fixture, records: Vec<SignedRecord>, ts: u64) {
    let header = ledger
        .next_header(
            &HeaderParams {
                view: 0,
                timestamp: Timestamp(ts),
                proposer: 0,
                validator_set_hash: fx.genesis.validators.hash(),
            },
            &records,
        )
        .unwrap();
    let vote = CommitVote {
        height: header.height,
        view: 0,
        block_hash: header.hash(),
    };
    let signature = key(201).sign(Domain::Commit, &fx.chain().0, &vote.to_canonical());
    let cert = CommitCertificate {
        vote,
        signatures: List::new(vec![CertSignature {
            validator: 0,
            signature,
        }])
        .unwrap(),
    };
    let block = Block {
        header,
        records: List::new(records).unwrap(),
        results: List::default(),
    };
    ledger.commit(&block, &cert, &NothingVerified).unwrap();
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
