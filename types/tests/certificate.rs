//! Commit certificates: quorum math and verification against a validator set.

use chancery_types::bounded::{List, Text};
use chancery_types::cert::CertificateError;
use chancery_types::crypto::keys::SecretKey;
use chancery_types::*;

fn set_of(n: usize) -> (Vec<SecretKey>, ValidatorSet) {
    let keys: Vec<SecretKey> = (0..n)
        .map(|i| SecretKey::from_seed(&[i as u8 + 1; 32]))
        .collect();
    let validators = keys
        .iter()
        .enumerate()
        .map(|(i, k)| Validator {
            agency: AgencyId::new(format!("agency-{i}")).unwrap(),
            consensus_key: k.public(),
            network_key: SecretKey::from_seed(&[i as u8 + 100; 32]).public(),
            address: Text::new(format!("/ip4/127.0.0.1/tcp/{}", 7000 + i)).unwrap(),
        })
        .collect();
    (keys, ValidatorSet::new(validators).unwrap())
}

fn cert(
    keys: &[SecretKey],
    signers: &[usize],
    vote: CommitVote,
    chain: &ChainId,
) -> CommitCertificate {
    let signatures = signers
        .iter()
        .map(|&i| CertSignature {
            validator: i as u16,
            signature: keys[i].sign(Domain::Commit, &chain.0, &vote.to_canonical()),
        })
        .collect();
    CommitCertificate {
        vote,
        signatures: List::new(signatures).unwrap(),
    }
}

#[test]
fn quorum_sizes() {
    // (n, f, quorum)
    for (n, f, q) in [
        (1, 0, 1),
        (2, 0, 2),
        (3, 0, 2),
        (4, 1, 3),
        (5, 1, 4),
        (6, 1, 4),
        (7, 2, 5),
        (10, 3, 7),
        (16, 5, 11),
    ] {
        let (_, set) = set_of(n);
        assert_eq!((set.n(), set.f(), set.quorum()), (n, f, q), "n = {n}");
        // Any two quorums intersect in at least f + 1 validators.
        assert!(2 * q > n + f, "n = {n}");
    }
}

#[test]
fn certificate_verifies_with_a_quorum_and_names_each_failure() {
    let (keys, set) = set_of(4);
    let chain = ChainId(Hash::of(b"chain"));
    let vote = CommitVote {
        height: 3,
        view: 1,
        block_hash: Hash::of(b"block"),
    };

    assert_eq!(
        cert(&keys, &[0, 1, 3], vote, &chain).verify(&set, &chain),
        Ok(())
    );
    assert_eq!(
        cert(&keys, &[0, 1, 2, 3], vote, &chain).verify_for(&vote.block_hash, &set, &chain),
        Ok(())
    );

    assert_eq!(
        cert(&keys, &[0, 2], vote, &chain).verify(&set, &chain),
        Err(CertificateError::NoQuorum { have: 2, need: 3 })
    );

    let mut bad = cert(&keys, &[0, 1, 2], vote, &chain);
    let mut sigs = bad.signatures.clone().into_vec();
    sigs[1].signature.0[0] ^= 1;
    bad.signatures = List::new(sigs).unwrap();
    assert!(matches!(
        bad.verify(&set, &chain),
        Err(CertificateError::BadSignature { validator: 1, .. })
    ));

    let other_chain = ChainId(Hash::of(b"other"));
    assert!(
        cert(&keys, &[0, 1, 2], vote, &other_chain)
            .verify(&set, &chain)
            .is_err()
    );

    let mut unknown = cert(&keys, &[0, 1, 2], vote, &chain);
    let mut sigs = unknown.signatures.clone().into_vec();
    sigs.push(CertSignature {
        validator: 9,
        signature: sigs[0].signature,
    });
    unknown.signatures = List::new(sigs).unwrap();
    assert_eq!(
        unknown.verify(&set, &chain),
        Err(CertificateError::UnknownValidator { validator: 9, n: 4 })
    );

    let c = cert(&keys, &[0, 1, 2], vote, &chain);
    assert!(matches!(
        c.verify_for(&Hash::ZERO, &set, &chain),
        Err(CertificateError::WrongBlock { .. })
    ));

    // A vote signed under another domain does not count.
    let mut wrong_domain = c.clone();
    let mut sigs = wrong_domain.signatures.clone().into_vec();
    sigs[0].signature = keys[0].sign(Domain::Prepare, &chain.0, &vote.to_canonical());
    wrong_domain.signatures = List::new(sigs).unwrap();
    assert!(matches!(
        wrong_domain.verify(&set, &chain),
        Err(CertificateError::BadSignature { validator: 0, .. })
    ));
}

#[test]
fn duplicate_signer_cannot_make_a_quorum() {
    let (keys, set) = set_of(4);
    let chain = ChainId(Hash::of(b"chain"));
    let vote = CommitVote {
        height: 1,
        view: 0,
        block_hash: Hash::of(b"b"),
    };
    let mut c = cert(&keys, &[0, 1], vote, &chain);
    let mut sigs = c.signatures.clone().into_vec();
    sigs.push(sigs[1]);
    c.signatures = List::new(sigs).unwrap();
    assert!(matches!(
        c.verify(&set, &chain),
        Err(CertificateError::Unsorted { position: 2 })
    ));
}

#[test]
fn validator_set_rejects_duplicate_keys() {
    let (_, set) = set_of(3);
    let mut v = set.validators().to_vec();
    v[2].consensus_key = v[0].consensus_key;
    assert!(ValidatorSet::new(v).is_err());
    assert!(ValidatorSet::new(vec![]).is_err());
}
