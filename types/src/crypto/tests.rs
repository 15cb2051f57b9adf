//! The acceptance rule on its edge cases: for every case, the single path
//! and the batch path must give the same answer.

use curve25519_dalek::constants::{ED25519_BASEPOINT_POINT, EIGHT_TORSION};
use curve25519_dalek::edwards::CompressedEdwardsY;
use curve25519_dalek::scalar::Scalar;
use sha2::{Digest, Sha512};

use super::batch::{BatchItem, verify_batch};
use super::keys::{PublicKey, PublicKeyError, SecretKey};
use super::signature::{
    Domain, Signature, SignatureError, signing_bytes, verify, verify_raw, verify_with_key_bytes,
};
use crate::hash::Hash;

const MSG: &[u8] = b"chancery test message";

fn key(n: u8) -> SecretKey {
    SecretKey::from_seed(&[n; 32])
}

/// Single and batch verdicts for one signature under raw key bytes.
fn both(
    key_bytes: &[u8; 32],
    msg: &[u8],
    sig: &Signature,
) -> (Result<(), SignatureError>, Result<(), SignatureError>) {
    let single = verify_with_key_bytes(key_bytes, msg, sig);
    let batch = match PublicKey::from_bytes(key_bytes) {
        Err(e) => Err(SignatureError::BadKey(e)),
        Ok(pk) => {
            // Put the case among honest signatures so the combined equation matters.
            let k1 = key(200);
            let k2 = key(201);
            let (p1, p2) = (k1.public(), k2.public());
            let s1 = k1.sign_raw(b"one");
            let s2 = k2.sign_raw(b"two");
            let items = [
                BatchItem {
                    key: &p1,
                    message: b"one",
                    signature: &s1,
                },
                BatchItem {
                    key: &pk,
                    message: msg,
                    signature: sig,
                },
                BatchItem {
                    key: &p2,
                    message: b"two",
                    signature: &s2,
                },
            ];
            let r = verify_batch(&items);
            assert!(
                r[0].is_ok() && r[2].is_ok(),
                "honest neighbours must pass: {r:?}"
            );
            r[1]
        }
    };
    (single, batch)
}

fn assert_same(
    key_bytes: &[u8; 32],
    msg: &[u8],
    sig: &Signature,
    expect: Result<(), SignatureError>,
) {
    let (single, batch) = both(key_bytes, msg, sig);
    assert_eq!(single, expect, "single path");
    assert_eq!(batch, expect, "batch path");
}

/// `sig` with its R replaced by `r` gives `expect` on both paths.
fn assert_same_with_r(
    k: &SecretKey,
    sig: &Signature,
    r: &[u8; 32],
    expect: Result<(), SignatureError>,
) {
    let mut bad = *sig;
    bad.0[..32].copy_from_slice(r);
    assert_same(k.public().as_bytes(), MSG, &bad, expect);
}

#[test]
fn honest_signature_is_accepted_on_both_paths() {
    let k = key(1);
    let sig = k.sign_raw(MSG);
    assert_same(k.public().as_bytes(), MSG, &sig, Ok(()));
}

#[test]
fn small_order_public_key_is_rejected_on_both_paths() {
    let k = key(2);
    let sig = k.sign_raw(MSG);
    for t in EIGHT_TORSION.iter() {
        let bytes = t.compress().to_bytes();
        let (single, batch) = both(&bytes, MSG, &sig);
        assert!(
            single.is_err() && batch.is_err(),
            "small-order key accepted"
        );
        assert_eq!(single, batch);
    }
    // The identity point as key with a signature that satisfies the equation
    // for it (R = [s]B): dalek's plain `verify` accepts this; we must not.
    let identity = EIGHT_TORSION[0].compress().to_bytes();
    let s = Scalar::from(7u64);
    let r = (ED25519_BASEPOINT_POINT * s).compress().to_bytes();
    let mut forged = [0u8; 64];
    forged[..32].copy_from_slice(&r);
    forged[32..].copy_from_slice(s.as_bytes());
    assert_same(
        &identity,
        MSG,
        &Signature(forged),
        Err(SignatureError::BadKey(PublicKeyError::SmallOrder)),
    );
}

#[test]
fn non_canonical_s_is_rejected_on_both_paths() {
    let k = key(3);
    let sig = k.sign_raw(MSG);
    // S + ℓ still fits in 32 bytes and is congruent to S.
    let ell: [u8; 32] = [
        0xed, 0xd3, 0xf5, 0x5c, 0x1a, 0x63, 0x12, 0x58, 0xd6, 0x9c, 0xf7, 0xa2, 0xde, 0xf9, 0xde,
        0x14, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x10,
    ];
    let mut s = [0u8; 32];
    let mut carry = 0u16;
    for i in 0..32 {
        let v = sig.0[32 + i] as u16 + ell[i] as u16 + carry;
        s[i] = v as u8;
        carry = v >> 8;
    }
    let mut bad = sig;
    bad.0[32..].copy_from_slice(&s);
    assert_same(
        k.public().as_bytes(),
        MSG,
        &bad,
        Err(SignatureError::NonCanonicalS),
    );
}

/// Encodings with y ≥ p of points that exist and are not of small order.
fn non_canonical_points() -> Vec<[u8; 32]> {
    let mut out = Vec::new();
    for y in 0u8..19 {
        let mut b = [0xffu8; 32];
        b[0] = 0xed + y;
        b[31] = 0x7f;
        if let Some(p) = CompressedEdwardsY(b).decompress()
            && !p.is_small_order()
        {
            out.push(b);
        }
    }
    out
}

#[test]
fn non_canonical_r_is_rejected_on_both_paths() {
    let points = non_canonical_points();
    assert!(
        !points.is_empty(),
        "need at least one non-canonical encoding to test"
    );
    let k = key(4);
    let sig = k.sign_raw(MSG);
    for r in points {
        assert_same_with_r(&k, &sig, &r, Err(SignatureError::NonCanonicalR));
    }
}

#[test]
fn non_canonical_key_encoding_is_rejected_on_both_paths() {
    let k = key(5);
    let sig = k.sign_raw(MSG);
    for a in non_canonical_points() {
        assert_same(
            &a,
            MSG,
            &sig,
            Err(SignatureError::BadKey(PublicKeyError::NonCanonical)),
        );
    }
}

#[test]
fn small_order_r_is_rejected_on_both_paths() {
    let k = key(6);
    let sig = k.sign_raw(MSG);
    for t in EIGHT_TORSION.iter() {
        let r = t.compress().to_bytes();
        assert_same_with_r(&k, &sig, &r, Err(SignatureError::SmallOrderR));
    }
}

/// The byte test for small order agrees with curve25519-dalek's
/// `is_small_order` on every decodable canonical encoding tried: each
/// torsion point with either sign bit (including the identity and
/// (0, −1) with the sign bit set, which decompress to themselves), points
/// of large and of mixed order with either sign bit, and random bytes.
#[test]
fn small_order_by_encoding_agrees_with_dalek() {
    use super::keys::{is_canonical_y, is_small_order_encoding};
    let mut tried = Vec::new();
    for t in EIGHT_TORSION.iter() {
        for n in 1..40u64 {
            let large = ED25519_BASEPOINT_POINT * Scalar::from(n);
            for p in [*t, large, large + t] {
                let bytes = p.compress().to_bytes();
                let mut flipped = bytes;
                flipped[31] ^= 0x80;
                tried.extend([bytes, flipped]);
            }
        }
    }
    let mut seed = blake3::Hasher::new().finalize_xof();
    for _ in 0..2000 {
        let mut b = [0u8; 32];
        seed.fill(&mut b);
        tried.push(b);
    }
    let (mut small, mut checked) = (std::collections::HashSet::new(), 0);
    for bytes in tried {
        let Some(p) = CompressedEdwardsY(bytes).decompress() else {
            continue;
        };
        if !is_canonical_y(&bytes) {
            continue;
        }
        checked += 1;
        assert_eq!(
            is_small_order_encoding(&bytes),
            p.is_small_order(),
            "{bytes:?}"
        );
        if p.is_small_order() {
            small.insert(bytes);
        }
    }
    // Five y coordinates, two signs each.
    assert_eq!(small.len(), 10);
    assert!(checked > 1000);
}

/// R = the identity or (0, −1) with the sign bit set decompresses (x = 0)
/// to a small-order point and is refused as such on both paths.
#[test]
fn small_order_r_with_the_sign_bit_set_is_rejected_on_both_paths() {
    let k = key(6);
    let sig = k.sign_raw(MSG);
    for t in [EIGHT_TORSION[0], EIGHT_TORSION[4]] {
        let mut r = t.compress().to_bytes();
        r[31] ^= 0x80;
        assert_eq!(CompressedEdwardsY(r).decompress(), Some(t));
        assert_same_with_r(&k, &sig, &r, Err(SignatureError::SmallOrderR));
    }
}

#[test]
fn signature_by_another_key_is_rejected_on_both_paths() {
    let sig = key(7).sign_raw(MSG);
    assert_same(
        key(8).public().as_bytes(),
        MSG,
        &sig,
        Err(SignatureError::Mismatch),
    );
}

#[test]
fn every_flipped_bit_is_rejected_on_both_paths() {
    let k = key(9);
    let pk = *k.public().as_bytes();
    let sig = k.sign_raw(MSG);
    for bit in 0..512 {
        let mut bad = sig;
        bad.0[bit / 8] ^= 1 << (bit % 8);
        let (single, batch) = both(&pk, MSG, &bad);
        assert!(single.is_err(), "bit {bit} flip accepted");
        assert_eq!(single, batch, "bit {bit}");
    }
    for bit in 0..MSG.len() * 8 {
        let mut msg = MSG.to_vec();
        msg[bit / 8] ^= 1 << (bit % 8);
        assert_same(&pk, &msg, &sig, Err(SignatureError::Mismatch));
    }
}

/// A signature whose R carries a torsion component: valid under the
/// cofactored equation, invalid under the cofactorless one. ed25519-dalek's
/// `verify_strict` rejects it while its `verify_batch` accepts it for 1 in 8
/// batches; under Chancery's rule both paths accept it, always.
#[test]
fn mixed_order_r_gets_the_same_answer_on_both_paths() {
    let k = key(10);
    let pk = k.public();
    let a = k.scalar();
    for (i, t) in EIGHT_TORSION.iter().enumerate().skip(1) {
        let r = Scalar::from(1000u64 + i as u64);
        let big_r = ED25519_BASEPOINT_POINT * r + t;
        let r_bytes = big_r.compress().to_bytes();
        let mut h = Sha512::new();
        h.update(r_bytes);
        h.update(pk.as_bytes());
        h.update(MSG);
        let c = Scalar::from_hash(h);
        let s = r + c * a;
        let mut sig = [0u8; 64];
        sig[..32].copy_from_slice(&r_bytes);
        sig[32..].copy_from_slice(s.as_bytes());
        let sig = Signature(sig);
        assert_same(pk.as_bytes(), MSG, &sig, Ok(()));
        let dalek = ed25519_dalek::VerifyingKey::from_bytes(pk.as_bytes())
            .unwrap_or_else(|_| unreachable!());
        assert!(
            dalek
                .verify_strict(MSG, &ed25519_dalek::Signature::from_bytes(&sig.0))
                .is_err()
        );
    }
}

#[test]
fn batch_names_exactly_the_bad_signatures() {
    let keys: Vec<SecretKey> = (20..40).map(key).collect();
    let pks: Vec<PublicKey> = keys.iter().map(|k| k.public()).collect();
    let msgs: Vec<Vec<u8>> = (0..20)
        .map(|i| format!("message {i}").into_bytes())
        .collect();
    let mut sigs: Vec<Signature> = keys.iter().zip(&msgs).map(|(k, m)| k.sign_raw(m)).collect();
    sigs[3].0[5] ^= 1;
    sigs[17] = keys[0].sign_raw(&msgs[17]);
    let items: Vec<BatchItem<'_>> = (0..20)
        .map(|i| BatchItem {
            key: &pks[i],
            message: &msgs[i],
            signature: &sigs[i],
        })
        .collect();
    let results = verify_batch(&items);
    for (i, r) in results.iter().enumerate() {
        assert_eq!(r.is_err(), i == 3 || i == 17, "item {i}: {r:?}");
        assert_eq!(
            *r,
            verify_raw(&pks[i], &msgs[i], &sigs[i]),
            "item {i} differs from single path"
        );
    }
}

/// Signatures by one key share one term of the combined equation; the
/// batch must still accept and refuse exactly what the single path does.
#[test]
fn batch_with_repeated_keys_matches_the_single_path() {
    let keys: Vec<SecretKey> = (40..43).map(key).collect();
    let pks: Vec<PublicKey> = keys.iter().map(|k| k.public()).collect();
    let msgs: Vec<Vec<u8>> = (0..30)
        .map(|i| format!("record {i}").into_bytes())
        .collect();
    let mut sigs: Vec<Signature> = (0..30).map(|i| keys[i % 3].sign_raw(&msgs[i])).collect();
    let check = |sigs: &[Signature], bad: &[usize]| {
        let items: Vec<BatchItem<'_>> = (0..30)
            .map(|i| BatchItem {
                key: &pks[i % 3],
                message: &msgs[i],
                signature: &sigs[i],
            })
            .collect();
        for (i, r) in verify_batch(&items).iter().enumerate() {
            assert_eq!(r.is_err(), bad.contains(&i), "item {i}: {r:?}");
            assert_eq!(*r, verify_raw(&pks[i % 3], &msgs[i], &sigs[i]), "item {i}");
        }
    };
    check(&sigs, &[]);
    // A valid signature by the right key over another message of the same key.
    sigs[4] = keys[1].sign_raw(&msgs[7]);
    // A signature by another key in the batch.
    sigs[9] = keys[1].sign_raw(&msgs[9]);
    check(&sigs, &[4, 9]);
}

#[test]
fn signatures_do_not_cross_domains_or_chains() {
    let k = key(11);
    let pk = k.public();
    let chain = Hash::of(b"chain a");
    let other_chain = Hash::of(b"chain b");
    for d in Domain::ALL {
        let sig = k.sign(d, &chain, MSG);
        assert_eq!(verify(&pk, d, &chain, MSG, &sig), Ok(()));
        assert!(
            verify(&pk, d, &other_chain, MSG, &sig).is_err(),
            "{d:?} crossed chains"
        );
        for other in Domain::ALL.into_iter().filter(|o| *o != d) {
            assert!(
                verify(&pk, other, &chain, MSG, &sig).is_err(),
                "{d:?} verified as {other:?}"
            );
        }
    }
    // No tag is a prefix of another (with the 0x00 separator, none can collide).
    for a in Domain::ALL {
        for b in Domain::ALL.into_iter().filter(|b| *b != a) {
            assert!(
                !signing_bytes(b, &chain, b"")
                    .starts_with(&signing_bytes(a, &chain, b"")[..a.tag().len() + 1])
            );
        }
    }
}

/// A batch of one gives the single path's verdict, good or bad.
#[test]
fn a_batch_of_one_matches_the_single_path() {
    let k = key(9);
    let public = k.public();
    let good = k.sign_raw(MSG);
    let mut bad = good;
    bad.0[40] ^= 1;
    for sig in [&good, &bad] {
        let item = BatchItem {
            key: &public,
            message: MSG,
            signature: sig,
        };
        assert_eq!(
            verify_batch(&[item]),
            vec![verify_raw(&public, MSG, sig)],
            "{sig:?}"
        );
    }
    assert!(
        verify_batch(&[BatchItem {
            key: &public,
            message: MSG,
            signature: &good
        }])[0]
            .is_ok()
    );
    assert!(
        verify_batch(&[BatchItem {
            key: &public,
            message: MSG,
            signature: &bad
        }])[0]
            .is_err()
    );
}
