//! The validator-chain walk shared by proof, checkpoint and consistency
//! bundles, on a synthetic chain: each step's header is certified by the
//! set before it, its one-entry state holds the next schedule, and a
//! change applies from its first height, not before.

use chancery_types::bounded::{List, Text};
use chancery_types::bundle::{BundleError, SetChange, StepError, ValidatorEpochs};
use chancery_types::crypto::keys::SecretKey;
use chancery_types::state_proof::{
    SmtLeaf, StateProof, Status, ValidatorSchedule, smt_leaf_hash, validators_key,
};
use chancery_types::*;

fn key(seed: u8) -> SecretKey {
    SecretKey::from_seed(&[seed; 32])
}

fn set(seeds: &[u8]) -> ValidatorSet {
    ValidatorSet::new(
        seeds
            .iter()
            .map(|&s| Validator {
                agency: AgencyId::new("alpha").unwrap(),
                consensus_key: key(s).public(),
                network_key: key(s + 100).public(),
                address: Text::new(format!("/ip4/127.0.0.1/tcp/{}", 7000 + u16::from(s))).unwrap(),
            })
            .collect(),
    )
    .unwrap()
}

fn genesis() -> Genesis {
    let g = Genesis {
        chain_name: Text::new("walk").unwrap(),
        genesis_time: Timestamp(1),
        agencies: List::new(vec![Agency {
            id: AgencyId::new("alpha").unwrap(),
            name: Text::new("Alpha").unwrap(),
            admin_key: key(90).public(),
            issuer_keys: List::default(),
        }])
        .unwrap(),
        validators: set(&[1]),
        policy: Policy {
            max_body_bytes: 1024,
            permissions: List::default(),
        },
        params: ChainParams { execution_lag: 2 },
        governance: Default::default(),
    };
    g.validate().unwrap();
    g
}

/// A header at `height` naming `signers`' set, whose state holds `state`
/// alone (or nothing).
fn header(g: &Genesis, height: u64, signers: &ValidatorSet, state: Option<&Status>) -> BlockHeader {
    let state_root = state.map_or(Hash::ZERO, |st| {
        smt_leaf_hash(&validators_key(), &Hash::of(&st.to_canonical()))
    });
    BlockHeader {
        chain_id: g.chain_id(),
        height,
        view: 0,
        parent: Hash::ZERO,
        timestamp: Timestamp(height),
        proposer: 0,
        records_root: Hash::ZERO,
        record_count: 0,
        exec_height: height - 2,
        log_root: Hash::ZERO,
        log_size: 0,
        state_root,
        validator_set_hash: signers.hash(),
    }
}

fn certify(g: &Genesis, h: &BlockHeader, signers: &[u8]) -> CommitCertificate {
    let vote = CommitVote {
        height: h.height,
        view: 0,
        block_hash: h.hash(),
    };
    let signatures = signers
        .iter()
        .enumerate()
        .map(|(i, &s)| CertSignature {
            validator: i as u16,
            signature: key(s).sign(Domain::Commit, &g.chain_id().0, &vote.to_canonical()),
        })
        .collect();
    CommitCertificate {
        vote,
        signatures: List::new(signatures).unwrap(),
    }
}

/// The step scheduling `to` from `at + 1`, certified at `at` by `from`.
fn change(g: &Genesis, at: u64, from: &[u8], to: &[u8]) -> SetChange {
    let schedule = ValidatorSchedule {
        set: set(to),
        from_height: at + 1,
        changed_by: RecordId(Hash::of(&at.to_le_bytes())),
    };
    let status = Status::Validators(schedule.clone());
    let header = header(g, at, &set(from), Some(&status));
    SetChange {
        certificate: certify(g, &header, from),
        proof: StateProof {
            leaf: Some(SmtLeaf {
                key: validators_key(),
                value_hash: Hash::of(&status.to_canonical()),
            }),
            siblings: List::default(),
        },
        header,
        schedule,
    }
}

/// {1} until 10, {1, 2} from 11 to 20, {2, 3, 4} from 21.
fn two_changes(g: &Genesis) -> Vec<SetChange> {
    vec![
        change(g, 10, &[1], &[1, 2]),
        change(g, 20, &[1, 2], &[2, 3, 4]),
    ]
}

#[test]
fn a_change_applies_from_its_first_height_and_not_before() {
    let g = genesis();
    let steps = two_changes(&g);
    let epochs = ValidatorEpochs::walk(&g, &g.chain_id(), &steps).unwrap();
    assert_eq!(epochs.changes(), 2);
    for (h, want, n) in [
        (1, 0, 1),
        (10, 0, 1),
        (11, 1, 2),
        (20, 1, 2),
        (21, 2, 3),
        (99, 2, 3),
    ] {
        let (i, s) = epochs.at(h);
        assert_eq!((i, s.n()), (want, n), "height {h}");
    }
    // A checkpoint below a change is certified by the set before it, even
    // when the chain goes on past its height.
    let cp = |h: u64, signers: &[u8]| {
        let header = header(&g, h, &set(signers), None);
        Checkpoint {
            certificate: certify(&g, &header, signers),
            header,
        }
    };
    assert_eq!(cp(10, &[1]).verify(&g, &steps).unwrap(), 0);
    assert_eq!(cp(15, &[1, 2]).verify(&g, &steps).unwrap(), 1);
    assert_eq!(cp(25, &[2, 3, 4]).verify(&g, &steps).unwrap(), 2);
    assert_eq!(cp(5, &[1]).verify(&g, &[]).unwrap(), 0);
    // Signed by the incoming set before its first height: refused.
    let err = cp(10, &[1, 2]).verify(&g, &steps).unwrap_err();
    assert!(
        err.to_string().starts_with("header: names validator set"),
        "{err}"
    );
    // Without the chain, a later set's checkpoint is not certified.
    let err = cp(25, &[2, 3, 4]).verify(&g, &steps[..1]).unwrap_err();
    assert!(err.to_string().starts_with("header"), "{err}");
}

fn walk_err(g: &Genesis, steps: &[SetChange]) -> BundleError {
    match ValidatorEpochs::walk(g, &g.chain_id(), steps) {
        Ok(_) => panic!("the walk should fail"),
        Err(e) => e,
    }
}

#[test]
fn every_step_check_names_its_step() {
    let g = genesis();
    let good = two_changes(&g);
    let with = |f: &dyn Fn(&mut Vec<SetChange>)| {
        let mut steps = good.clone();
        f(&mut steps);
        walk_err(&g, &steps)
    };
    let e = with(&|s| s[1].header.log_size = 7);
    assert!(
        e.to_string()
            .starts_with("validator chain step 2: certificate"),
        "{e}"
    );
    let e = with(&|s| s[0].certificate.vote.height = 11);
    assert!(
        e.to_string()
            .starts_with("validator chain step 1: certificate"),
        "{e}"
    );
    let e = with(&|s| s[0].header.chain_id = ChainId(Hash::of(b"other")));
    assert!(
        e.to_string().starts_with("validator chain step 1: header"),
        "{e}"
    );
    let e = with(&|s| s[1].schedule.from_height = 22);
    assert!(matches!(
        e,
        BundleError::ValidatorChain {
            step: 2,
            error: StepError::FromHeight {
                from: 22,
                header: 20
            }
        }
    ));
    let e = with(&|s| s[1].schedule.set = set(&[9]));
    assert!(matches!(
        e,
        BundleError::ValidatorChain {
            step: 2,
            error: StepError::Proof(_)
        }
    ));
    // A step certified by the right set but going back in height.
    let e = with(&|s| s[1] = change(&g, 5, &[1, 2], &[2, 3, 4]));
    assert!(matches!(
        e,
        BundleError::ValidatorChain {
            step: 2,
            error: StepError::Order {
                from: 6,
                previous: 11
            }
        }
    ));
    assert!(
        e.to_string().contains("not after the previous change"),
        "{e}"
    );
    let e = with(&|s| s.swap(0, 1));
    assert!(
        e.to_string().starts_with("validator chain step 1: header"),
        "{e}"
    );
}
