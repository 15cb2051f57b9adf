//! The state tree against a plain map model: same contents, order-free
//! roots, proofs of membership and non-membership that verify, and proofs
//! that fail once any bit is flipped.

use std::collections::BTreeMap;
use std::sync::Arc;

use chancery_ledger::smt::Smt;
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

proptest! {
    #![proptest_config(ProptestConfig::with_cases(200))]

    #[test]
    fn matches_map_model(batches in batches(), probes in proptest::collection::vec(key(), 0..8)) {
        let mut tree = Smt::new();
        let mut model: BTreeMap<Hash, Vec<u8>> = BTreeMap::new();
        let mut versions = Vec::new();
        for b in &batches {
            let before = tree.clone();
            let before_root = before.root();
            tree = tree.with(entries(b));
            for (k, v) in b {
                model.insert(*k, v.clone());
            }
            // The old version is untouched.
            prop_assert_eq!(before.root(), before_root);
            versions.push((tree.clone(), model.clone()));
        }
        for (t, m) in &versions {
            prop_assert_eq!(t.len(), m.len() as u64);
            // The root depends only on the contents, not on history or order.
            let mut all: Vec<(Hash, Vec<u8>)> = m.iter().map(|(k, v)| (*k, v.clone())).collect();
            all.reverse();
            prop_assert_eq!(Smt::from_entries(entries(&all)).root(), t.root());
            for (k, v) in m {
                let got = t.get(k);
                prop_assert_eq!(got.as_deref(), Some(v.as_slice()));
                let (val, proof) = t.prove(k);
                prop_assert_eq!(val.as_deref(), Some(v.as_slice()));
                prop_assert!(proof.verify(&t.root(), k, Some(v)).is_ok());
                prop_assert!(proof.verify(&t.root(), k, None).is_err());
                let mut other = v.clone();
                other.push(1);
                prop_assert!(proof.verify(&t.root(), k, Some(&other)).is_err());
            }
            for k in &probes {
                let (val, proof) = t.prove(k);
                match m.get(k) {
                    Some(v) => {
                        prop_assert_eq!(val.as_deref(), Some(v.as_slice()));
                    }
                    None => {
                        prop_assert!(val.is_none());
                        prop_assert!(t.get(k).is_none());
                        prop_assert!(proof.verify(&t.root(), k, None).is_ok());
                        prop_assert!(proof.verify(&t.root(), k, Some(b"x")).is_err());
                    }
                }
            }
        }
    }

}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]

    #[test]
    fn flipped_proofs_fail(batch in proptest::collection::vec((key(), value()), 1..20), probe in key()) {
        let t = Smt::new().with(entries(&batch));
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
    assert_eq!(Smt::new().root(), Hash::ZERO);
    let (v, p) = Smt::new().prove(&Hash([5; 32]));
    assert!(v.is_none());
    assert!(p.verify(&Hash::ZERO, &Hash([5; 32]), None).is_ok());
}

#[test]
fn keys_differing_only_in_last_bit() {
    let a = Hash([0; 32]);
    let mut b = a;
    b.0[31] = 1;
    let t = Smt::new().with(entries(&[(a, vec![1]), (b, vec![2])]));
    let (_, pa) = t.prove(&a);
    assert_eq!(pa.siblings.len(), 256);
    assert!(pa.verify(&t.root(), &a, Some(&[1])).is_ok());
    assert!(t.prove(&b).1.verify(&t.root(), &b, Some(&[2])).is_ok());
}
