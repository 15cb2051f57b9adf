//! The state tree against a plain map model: same contents, order-free
//! roots, proofs of membership and non-membership that verify, and proofs
//! that fail once any bit is flipped.

use std::collections::BTreeMap;
use std::sync::Arc;

use chancery_ledger::smt::{Proven, StateTrees, TreeError};
use chancery_types::Hash;
use chancery_types::bounded::List;
use chancery_types::state_proof::{SmtLeaf, StateProof};
use proptest::prelude::*;

/// Keys from a small alphabet of prefixes, so that long shared prefixes
/// (deep trees) happen often, plus fully random ones.
fn key() -> impl Strategy<Value = Hash> {
    prop_oneof![
        any::<[u8; 32]>().prop_map(Hash),
        (0u8..4, any::<u8>()).prop_map(|(a, b)| {
            let mut k = [0u8; 32];
            k[0] = a;
            k[31] = b;
            Hash(k)
        }),
    ]
}

fn value() -> impl Strategy<Value = Vec<u8>> {
    proptest::collection::vec(any::<u8>(), 0..8)
}

/// Batches of writes (each batch one block).
fn batches() -> impl Strategy<Value = Vec<Vec<(Hash, Vec<u8>)>>> {
    proptest::collection::vec(proptest::collection::vec((key(), value()), 0..12), 1..6)
}

fn entries(v: &[(Hash, Vec<u8>)]) -> Vec<(Hash, Arc<[u8]>)> {
    v.iter().map(|(k, v)| (*k, Arc::from(v.clone()))).collect()
}

type Model = BTreeMap<Hash, Vec<u8>>;

/// Checks the version at `height` against `m`: size, root from scratch,
/// values and proofs of every key, absence proofs for the probes.
fn check_version(
    t: &StateTrees,
    height: u64,
    m: &Model,
    probes: &[Hash],
) -> Result<(), TestCaseError> {
    let root = t.root_at(height).expect("version kept");
    // The root depends only on the contents, not on history or order.
    let mut all: Vec<(Hash, Vec<u8>)> = m.iter().map(|(k, v)| (*k, v.clone())).collect();
    all.reverse();
    let scratch = StateTrees::from_entries(0, 1, entries(&all)).unwrap();
    prop_assert_eq!(scratch.root(), root);
    prop_assert_eq!(scratch.len(), m.len() as u64);
    for (k, v) in m {
        let Proven {
            root: r,
            value: val,
            proof,
        } = t.prove_at(height, k).unwrap();
        prop_assert_eq!(r, root);
        prop_assert_eq!(val.as_deref(), Some(v.as_slice()));
        prop_assert!(proof.verify(&root, k, Some(v)).is_ok());
        prop_assert!(proof.verify(&root, k, None).is_err());
        let mut other = v.clone();
        other.push(1);
        prop_assert!(proof.verify(&root, k, Some(&other)).is_err());
    }
    for k in probes {
        let Proven {
            value: val, proof, ..
        } = t.prove_at(height, k).unwrap();
        match m.get(k) {
            Some(v) => prop_assert_eq!(val.as_deref(), Some(v.as_slice())),
            None => {
                prop_assert!(val.is_none());
                prop_assert!(proof.verify(&root, k, None).is_ok());
                prop_assert!(proof.verify(&root, k, Some(b"x")).is_err());
            }
        }
    }
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(200))]

    #[test]
    fn matches_map_model(batches in batches(), probes in proptest::collection::vec(key(), 0..8)) {
        let mut tree = StateTrees::new(0, 16);
        let mut model = Model::new();
        let mut versions = vec![(0u64, model.clone())];
        for (i, b) in batches.iter().enumerate() {
            let height = i as u64 + 1;
            let before_root = tree.root();
            let update = tree.plan(entries(b)).unwrap();
            // Planning changes nothing; the plan's proofs are the new tree's.
            prop_assert_eq!(tree.root(), before_root);
            let planned: Vec<_> = b.iter().map(|(k, _)| tree.prove_planned(&update, k)).collect();
            let planned_root = update.root();
            tree.apply(height, update).unwrap();
            prop_assert_eq!(tree.root(), planned_root);
            for ((k, _), p) in b.iter().zip(planned) {
                prop_assert_eq!(tree.prove(k), p);
            }
            for (k, v) in b {
                model.insert(*k, v.clone());
            }
            for (k, v) in &model {
                prop_assert_eq!(tree.get_bytes(k), Some(v.as_slice()));
            }
            for k in &probes {
                prop_assert_eq!(tree.get(k).is_some(), model.contains_key(k));
            }
            prop_assert_eq!(tree.len(), model.len() as u64);
            versions.push((height, model.clone()));
        }
        // Every version is still whole after the later ones were made.
        for (h, m) in &versions {
            check_version(&tree, *h, m, &probes)?;
        }
    }

    /// With few versions kept, slots freed by dropped versions are reused
    /// while the kept ones must stay intact.
    #[test]
    fn reused_slots_leave_kept_versions_intact(
        keep in 1usize..4,
        batches in proptest::collection::vec(proptest::collection::vec((key(), value()), 0..12), 1..24),
        probes in proptest::collection::vec(key(), 0..6),
    ) {
        let mut tree = StateTrees::new(0, keep);
        let mut model = Model::new();
        let mut versions = vec![(0u64, model.clone())];
        for (i, b) in batches.iter().enumerate() {
            let height = i as u64 + 1;
            tree.insert(height, entries(b)).unwrap();
            for (k, v) in b {
                model.insert(*k, v.clone());
            }
            versions.push((height, model.clone()));
            let kept = &versions[versions.len().saturating_sub(keep)..];
            prop_assert_eq!(tree.oldest_height(), kept[0].0);
            prop_assert_eq!(tree.newest_height(), height);
            for (h, m) in kept {
                check_version(&tree, *h, m, &probes)?;
            }
            for (h, _) in &versions[..versions.len() - kept.len()] {
                prop_assert!(tree.root_at(*h).is_none());
            }
        }
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]

    #[test]
    fn flipped_proofs_fail(batch in proptest::collection::vec((key(), value()), 1..20), probe in key()) {
        let t = StateTrees::from_entries(1, 1, entries(&batch)).unwrap();
        let model: BTreeMap<Hash, Vec<u8>> = batch.iter().cloned().collect();
        let root = t.root();
        let mut cases: Vec<(Hash, Option<Vec<u8>>)> =
            model.iter().map(|(k, v)| (*k, Some(v.clone()))).collect();
        if !model.contains_key(&probe) {
            cases.push((probe, None));
        }
        for (k, v) in cases {
            let (_, proof) = t.prove(&k);
            prop_assert!(proof.verify(&root, &k, v.as_deref()).is_ok());
            for q in flips(&proof) {
                prop_assert!(q.verify(&root, &k, v.as_deref()).is_err(), "flipped proof verified: {:?}", q);
            }
        }
    }
}

fn flips(p: &StateProof) -> Vec<StateProof> {
    let mut out = Vec::new();
    // Every bit of the first and last sibling; four bits of the others
    // (deep proofs have up to 256 siblings).
    let n = p.siblings.len();
    for i in 0..n {
        let bits: Vec<usize> = if i == 0 || i + 1 == n {
            (0..256).collect()
        } else {
            vec![0, 7, 128, 255]
        };
        for bit in bits {
            let mut s = p.siblings.to_vec();
            s[i].0[bit / 8] ^= 1 << (bit % 8);
            out.push(StateProof {
                leaf: p.leaf,
                siblings: List::new(s).unwrap(),
            });
        }
    }
    if let Some(l) = p.leaf {
        for bit in 0..256 {
            let mut a = l;
            a.key.0[bit / 8] ^= 1 << (bit % 8);
            out.push(StateProof {
                leaf: Some(a),
                siblings: p.siblings.clone(),
            });
            let mut b = l;
            b.value_hash.0[bit / 8] ^= 1 << (bit % 8);
            out.push(StateProof {
                leaf: Some(b),
                siblings: p.siblings.clone(),
            });
        }
    } else {
        // Claiming a leaf where the path ends in an empty subtree.
        out.push(StateProof {
            leaf: Some(SmtLeaf {
                key: Hash([0xab; 32]),
                value_hash: Hash::ZERO,
            }),
            siblings: p.siblings.clone(),
        });
    }
    out
}

#[test]
fn empty_tree_root_is_zero() {
    let t = StateTrees::new(0, 1);
    assert_eq!(t.root(), Hash::ZERO);
    let (v, p) = t.prove(&Hash([5; 32]));
    assert!(v.is_none());
    assert!(p.verify(&Hash::ZERO, &Hash([5; 32]), None).is_ok());
}

#[test]
fn keys_differing_only_in_last_bit() {
    let a = Hash([0; 32]);
    let mut b = a;
    b.0[31] = 1;
    let t = StateTrees::from_entries(1, 1, entries(&[(a, vec![1]), (b, vec![2])])).unwrap();
    let (_, pa) = t.prove(&a);
    assert_eq!(pa.siblings.len(), 256);
    assert!(pa.verify(&t.root(), &a, Some(&[1])).is_ok());
    assert!(t.prove(&b).1.verify(&t.root(), &b, Some(&[2])).is_ok());
}

#[test]
fn a_plan_made_before_another_update_is_refused() {
    let mut t = StateTrees::new(0, 4);
    let first = t.plan(entries(&[(Hash([1; 32]), vec![1])])).unwrap();
    let second = t.plan(entries(&[(Hash([2; 32]), vec![2])])).unwrap();
    t.apply(1, first).unwrap();
    let root = t.root();
    assert_eq!(
        t.apply(2, second).unwrap_err(),
        TreeError::Stale {
            planned: 0,
            newest: 1
        }
    );
    assert_eq!(t.root(), root);
    assert_eq!(t.newest_height(), 1);
    assert!(t.get(&Hash([2; 32])).is_none());
}
