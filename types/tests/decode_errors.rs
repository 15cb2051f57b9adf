//! Decoding rejects each kind of bad input with a typed error naming it.

use chancery_types::bounded::{Bytes, List, Text};
use chancery_types::crypto::keys::SecretKey;
use chancery_types::*;

fn sample_record() -> Record {
    Record {
        kind: RecordKind::LicenceSuspend,
        issuer: AgencyId::new("transport").unwrap(),
        key_id: KeyId([1; 16]),
        subject: Text::new("DL-1").unwrap(),
        body: Bytes::new(b"{}".to_vec()).unwrap(),
        references: List::default(),
        timestamp: Timestamp(5),
        nonce: 9,
    }
}

#[test]
fn oversize_body_is_rejected_before_allocation_with_the_field_named() {
    let mut bytes = sample_record().to_canonical();
    // Layout: kind (u32 tag 2) | issuer (u64 len + 9) | key id (16) | subject (u64 + 4) | body len (u64) ...
    let body_len_at = 4 + 8 + 9 + 16 + 8 + 4;
    assert_eq!(&bytes[body_len_at..body_len_at + 8], &2u64.to_le_bytes());
    bytes[body_len_at..body_len_at + 8].copy_from_slice(&(u64::MAX / 2).to_le_bytes());
    match Record::from_canonical(&bytes) {
        Err(DecodeError::Oversize {
            field: "bytes",
            len,
            max,
        }) => {
            assert_eq!(len, u64::MAX / 2);
            assert_eq!(max, limits::MAX_BODY);
        }
        other => panic!("expected Oversize, got {other:?}"),
    }
}

#[test]
fn trailing_bytes_are_rejected() {
    let mut bytes = sample_record().to_canonical();
    let n = bytes.len();
    bytes.extend_from_slice(&[0, 0, 0]);
    assert_eq!(
        Record::from_canonical(&bytes),
        Err(DecodeError::TrailingBytes {
            consumed: n,
            trailing: 3
        })
    );
}

#[test]
fn truncated_input_is_rejected() {
    let bytes = sample_record().to_canonical();
    assert!(matches!(
        Record::from_canonical(&bytes[..bytes.len() - 1]),
        Err(DecodeError::Truncated { .. })
    ));
}

#[test]
fn unknown_enum_tag_is_malformed() {
    let mut bytes = sample_record().to_canonical();
    bytes[0..4].copy_from_slice(&99u32.to_le_bytes());
    assert!(matches!(
        Record::from_canonical(&bytes),
        Err(DecodeError::Malformed { .. })
    ));
}

#[test]
fn invalid_agency_id_is_non_canonical() {
    let mut bytes = sample_record().to_canonical();
    // issuer text starts after the u32 tag and u64 length.
    bytes[12] = b'T';
    assert!(matches!(
        Record::from_canonical(&bytes),
        Err(DecodeError::NonCanonical {
            field: "agency_id",
            ..
        })
    ));
}

#[test]
fn invalid_utf8_is_non_canonical() {
    let t: Text<8> = Text::new("abc").unwrap();
    let mut bytes = bincode_bytes(&t);
    bytes[8] = 0xff;
    let r: Result<Subject, _> = Subject::from_canonical(&bytes);
    assert!(
        matches!(r, Err(DecodeError::NonCanonical { field: "text", .. })),
        "{r:?}"
    );
}

fn bincode_bytes(t: &Text<8>) -> Vec<u8> {
    let mut out = (t.len() as u64).to_le_bytes().to_vec();
    out.extend_from_slice(t.as_bytes());
    out
}

#[test]
fn bad_option_tag_is_rejected() {
    let key = IssuerKey {
        public: SecretKey::from_seed(&[1; 32]).public(),
        valid_from: Timestamp(1),
        valid_until: None,
    };
    let mut bytes = key.to_canonical();
    let last = bytes.len() - 1;
    bytes[last] = 2; // Option tag must be 0 or 1
    assert!(IssuerKey::from_canonical(&bytes).is_err());
}

#[test]
fn invalid_public_key_is_non_canonical() {
    let mut bytes = SecretKey::from_seed(&[2; 32]).public().to_canonical();
    bytes.copy_from_slice(&[0u8; 32]); // y = 0 encodes a point of small order (or none)
    bytes[0] = 1; // y = 1: the identity, small order
    assert!(matches!(
        PublicKey::from_canonical(&bytes),
        Err(DecodeError::NonCanonical {
            field: "public_key",
            ..
        })
    ));
}

#[test]
fn unsorted_certificate_is_non_canonical() {
    let sig = |v| CertSignature {
        validator: v,
        signature: Signature([v as u8; 64]),
    };
    let cert = CommitCertificate {
        vote: CommitVote {
            height: 1,
            view: 0,
            block_hash: Hash::ZERO,
        },
        signatures: List::new(vec![sig(2), sig(1)]).unwrap(),
    };
    assert!(matches!(
        CommitCertificate::from_canonical(&cert.to_canonical()),
        Err(DecodeError::NonCanonical {
            field: "commit_certificate.signatures",
            ..
        })
    ));
    let dup = CommitCertificate {
        signatures: List::new(vec![sig(1), sig(1)]).unwrap(),
        ..cert
    };
    assert!(CommitCertificate::from_canonical(&dup.to_canonical()).is_err());
}

#[test]
fn oversize_list_is_rejected() {
    let refs: Vec<RecordId> = (0..=limits::MAX_REFERENCES as u8)
        .map(|i| RecordId(Hash([i; 32])))
        .collect();
    assert!(List::<RecordId, { limits::MAX_REFERENCES }>::new(refs).is_err());
    let mut bytes = sample_record().to_canonical();
    // references length follows the 2-byte body
    let refs_len_at = 4 + 8 + 9 + 16 + 8 + 4 + 8 + 2;
    bytes[refs_len_at..refs_len_at + 8].copy_from_slice(&17u64.to_le_bytes());
    assert!(matches!(
        Record::from_canonical(&bytes),
        Err(DecodeError::Oversize {
            field: "list",
            len: 17,
            max: 16
        })
    ));
}

#[test]
fn huge_claimed_length_never_allocates_or_panics() {
    // A block claiming u64::MAX records.
    let mut bytes = vec![0u8; 400];
    let header_len = BlockHeader {
        chain_id: ChainId::default(),
        height: 0,
        view: 0,
        parent: Hash::ZERO,
        timestamp: Timestamp(0),
        proposer: 0,
        records_root: Hash::ZERO,
        record_count: 0,
        exec_height: 0,
        log_root: Hash::ZERO,
        log_size: 0,
        state_root: Hash::ZERO,
        validator_set_hash: Hash::ZERO,
    }
    .to_canonical()
    .len();
    bytes[header_len..header_len + 8].copy_from_slice(&u64::MAX.to_le_bytes());
    assert!(matches!(
        Block::from_canonical(&bytes),
        Err(DecodeError::Oversize { .. })
    ));
}

/// The worked example in docs/PROOFS.md §3, byte for byte.
#[test]
fn documented_record_layout_is_exact() {
    let mut want = Vec::new();
    want.extend_from_slice(&2u32.to_le_bytes());
    want.extend_from_slice(&9u64.to_le_bytes());
    want.extend_from_slice(b"transport");
    want.extend_from_slice(&[1u8; 16]);
    want.extend_from_slice(&4u64.to_le_bytes());
    want.extend_from_slice(b"DL-1");
    want.extend_from_slice(&2u64.to_le_bytes());
    want.extend_from_slice(b"{}");
    want.extend_from_slice(&0u64.to_le_bytes());
    want.extend_from_slice(&5u64.to_le_bytes());
    want.extend_from_slice(&9u64.to_le_bytes());
    assert_eq!(sample_record().to_canonical(), want);
}
