//! Canonical encoding properties, for every hashed or signed type:
//! `decode(encode(x)) == x`, `canonical_hash(x) == blake3(encode(x))`,
//! `encode(decode(b)) == b` for any `b` that decodes (including mutations of valid encodings), and decoding arbitrary
//! bytes never panics.

use chancery_types::testing as st;
use chancery_types::*;
use proptest::prelude::*;

fn cases() -> ProptestConfig {
    ProptestConfig {
        cases: 1000,
        ..ProptestConfig::default()
    }
}

/// Round trip, then every single-byte mutation class applied to the encoding
/// either fails to decode or re-encodes to exactly the mutated bytes.
fn check<T: Canonical + PartialEq + std::fmt::Debug>(
    x: &T,
    flip_at: usize,
    flip: u8,
    cut: usize,
) -> Result<(), TestCaseError> {
    let bytes = x.to_canonical();
    // Hashing while encoding gives the hash of the encoding.
    prop_assert_eq!(x.canonical_hash(), Hash::of(&bytes));
    let back = T::from_canonical(&bytes).map_err(|e| TestCaseError::fail(format!("{e}")))?;
    prop_assert_eq!(&back, x);
    prop_assert_eq!(back.to_canonical(), bytes.clone());

    let mut mutated = bytes.clone();
    let i = flip_at % mutated.len().max(1);
    if let Some(b) = mutated.get_mut(i) {
        *b ^= flip.max(1);
    }
    if let Ok(y) = T::from_canonical(&mutated) {
        prop_assert_eq!(y.to_canonical(), mutated);
    }

    let cut = cut % (bytes.len() + 1);
    if cut < bytes.len() {
        prop_assert!(T::from_canonical(&bytes[..cut]).is_err(), "prefix decoded");
    }
    let mut longer = bytes.clone();
    longer.push(0);
    prop_assert!(
        matches!(
            T::from_canonical(&longer),
            Err(DecodeError::TrailingBytes { trailing: 1, .. })
        ),
        "trailing byte accepted"
    );
    Ok(())
}

macro_rules! roundtrip {
    ($name:ident, $ty:ty, $strategy:expr) => {
        proptest! {
            #![proptest_config(cases())]
            #[test]
            fn $name(x in $strategy, flip_at in any::<usize>(), flip in any::<u8>(), cut in any::<usize>()) {
                check::<$ty>(&x, flip_at, flip, cut)?;
            }
        }
    };
}

roundtrip!(hash, Hash, st::hash());
roundtrip!(chain_id, ChainId, st::chain_id());
roundtrip!(record_id, RecordId, st::record_id());
roundtrip!(timestamp, Timestamp, st::timestamp());
roundtrip!(key_id, KeyId, st::key_id());
roundtrip!(signature, Signature, st::signature());
roundtrip!(public_key, PublicKey, st::public_key());
roundtrip!(agency_id, AgencyId, st::agency_id());
roundtrip!(record_kind, RecordKind, st::record_kind());
roundtrip!(record, Record, st::record());
roundtrip!(signed_record, SignedRecord, st::signed_record());
roundtrip!(header, BlockHeader, st::header());
roundtrip!(exec_result, ExecResult, st::exec_result());
roundtrip!(log_entry, LogEntry, st::log_entry());
roundtrip!(block, Block, st::block());
roundtrip!(commit_vote, CommitVote, st::commit_vote());
roundtrip!(
    commit_certificate,
    CommitCertificate,
    st::commit_certificate()
);
roundtrip!(validator, Validator, st::validator());
roundtrip!(validator_set, ValidatorSet, st::validator_set());
roundtrip!(issuer_key, IssuerKey, st::issuer_key());
roundtrip!(agency, Agency, st::agency());
roundtrip!(permission, Permission, st::permission());
roundtrip!(policy, Policy, st::policy());
roundtrip!(genesis, Genesis, st::genesis());

macro_rules! never_panics {
    ($name:ident, $($ty:ty),+) => {
        proptest! {
            #![proptest_config(ProptestConfig { cases: 2000, ..ProptestConfig::default() })]
            #[test]
            fn $name(bytes in proptest::collection::vec(any::<u8>(), 0..512)) {
                $(
                    if let Ok(x) = <$ty>::from_canonical(&bytes) {
                        // Whatever decodes is canonical.
                        prop_assert_eq!(x.to_canonical(), bytes.clone());
                    }
                )+
            }
        }
    };
}

never_panics!(
    arbitrary_bytes_never_panic,
    Hash,
    PublicKey,
    AgencyId,
    RecordKind,
    Record,
    SignedRecord,
    BlockHeader,
    Block,
    LogEntry,
    CommitCertificate,
    ValidatorSet,
    Genesis
);

proptest! {
    #![proptest_config(cases())]

    /// Admission takes the signed bytes from the received encoding.
    #[test]
    fn signing_bytes_from_the_encoding_match(r in st::signed_record(), chain in any::<[u8; 32]>()) {
        let chain = ChainId(Hash(chain));
        prop_assert_eq!(
            SignedRecord::signing_bytes_from_canonical(&r.to_canonical(), &chain),
            Some(r.signing_bytes(&chain))
        );
    }
}
