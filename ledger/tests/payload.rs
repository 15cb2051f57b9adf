//! The off-chain payload store: storing, erasing through a committed
//! `PayloadErase` record, the tombstone, refusals, and that the store
//! touches no root.

mod common;

use chancery_ledger::payload::StoredPayload;
use chancery_ledger::{Ledger, LedgerError};
use chancery_types::payload::commitment;
use chancery_types::state_proof::{Status, erasure_key};
use chancery_types::{ExecResult, Hash, RecordKind, SignedRecord, limits};
use common::*;

const SALT: [u8; 32] = [9; 32];
const PERSONAL: &[u8] = b"{\"name\":\"Alice Example\",\"born\":\"1990-01-01\"}";

fn erase(fx: &Fixture, issuer: &str, key_n: u8, c: Hash, subj: &str, ts: u64) -> SignedRecord {
    fx.record(
        issuer,
        key_n,
        RecordKind::PayloadErase { commitment: c },
        subj,
        ts,
        1,
    )
}

/// A licence whose body names the payload by its commitment.
fn licence(fx: &Fixture, c: Hash, ts: u64) -> SignedRecord {
    fx.record_full(
        "transport",
        1,
        licence_issue("driving", ts - 10, ts + 365 * DAY),
        "DL-PAYLOAD",
        ts,
        0,
        vec![],
        format!("{{\"holder\":\"{c}\"}}").into_bytes(),
    )
}

#[test]
fn an_erasure_by_the_owner_leaves_a_tombstone_and_the_payload_cannot_return() {
    let fx = fixture(1);
    let l = Ledger::in_memory(&fx.genesis).unwrap();
    let owner = agency("transport");
    let c = l.store_payload(&owner, SALT, PERSONAL).unwrap();
    assert_eq!(c, commitment(&SALT, PERSONAL));
    assert_eq!(
        l.payload(&c).unwrap(),
        Some(StoredPayload::Held {
            owner: owner.clone(),
            salt: SALT,
            payload: chancery_types::Bytes::new(PERSONAL.to_vec()).unwrap(),
        })
    );
    // Storing it again for its owner changes nothing.
    assert_eq!(l.store_payload(&owner, SALT, PERSONAL).unwrap(), c);

    let ts = T0 + 1000;
    commit(&l, vec![licence(&fx, c, ts)], ts);
    let ts = ts + 1000;
    let rec = erase(&fx, "transport", 1, c, "ERASE-1", ts);
    let done = commit(&l, vec![rec], ts);
    assert_eq!(done.results, vec![ExecResult::Accepted]);
    let by = done.ids[0];

    // The payload and its salt are gone; the tombstone names the record and height.
    assert_eq!(
        l.payload(&c).unwrap(),
        Some(StoredPayload::Erased {
            owner: owner.clone(),
            by,
            height: done.height,
        })
    );
    // The state tree records the erasure under (issuer, erasure id).
    match l.status(&erasure_key(&owner, &subject("ERASE-1"))).unwrap() {
        Some(Status::Erasure(e)) => {
            assert_eq!(e.commitment, c);
            assert_eq!(e.record, by);
        }
        other => panic!("expected an erasure status, got {other:?}"),
    }
    // Erased data does not come back, whoever stores it.
    for who in ["transport", "health"] {
        match l.store_payload(&agency(who), SALT, PERSONAL) {
            Err(LedgerError::PayloadErased {
                commitment,
                by: b,
                height,
            }) => {
                assert_eq!((commitment, b, height), (c, by, done.height));
            }
            other => panic!("{who}: expected PayloadErased, got {other:?}"),
        }
    }
    let msg = l
        .store_payload(&owner, SALT, PERSONAL)
        .unwrap_err()
        .to_string();
    assert!(msg.contains(&by.to_string()), "{msg}");
    assert!(msg.contains(&format!("height {}", done.height)), "{msg}");
    // A second erasure id for the same payload is accepted and changes nothing.
    let ts = ts + 1000;
    let again = commit(&l, vec![erase(&fx, "transport", 1, c, "ERASE-2", ts)], ts);
    assert_eq!(again.results, vec![ExecResult::Accepted]);
    assert_eq!(
        l.payload(&c).unwrap(),
        Some(StoredPayload::Erased {
            owner,
            by,
            height: done.height,
        })
    );
}

#[test]
fn only_the_owner_can_erase_a_payload_or_take_it_over() {
    let fx = fixture(1);
    let l = Ledger::in_memory(&fx.genesis).unwrap();
    let owner = agency("transport");
    let c = l.store_payload(&owner, SALT, PERSONAL).unwrap();
    // Another agency cannot re-store it as its own…
    match l.store_payload(&agency("health"), SALT, PERSONAL) {
        Err(LedgerError::PayloadOwned {
            commitment,
            owner: o,
        }) => assert_eq!((commitment, &o), (c, &owner)),
        other => panic!("expected PayloadOwned, got {other:?}"),
    }
    // …and its erasure record is accepted on the chain but does not delete it.
    let ts = T0 + 1000;
    let done = commit(&l, vec![erase(&fx, "health", 3, c, "ERASE-H", ts)], ts);
    assert_eq!(done.results, vec![ExecResult::Accepted]);
    assert!(matches!(
        l.payload(&c).unwrap(),
        Some(StoredPayload::Held { owner: o, .. }) if o == owner
    ));
    // An erasure of a commitment this store never held changes nothing.
    let unknown = commitment(&[1; 32], b"elsewhere");
    let ts = ts + 1000;
    let done = commit(
        &l,
        vec![erase(&fx, "transport", 1, unknown, "ERASE-U", ts)],
        ts,
    );
    assert_eq!(done.results, vec![ExecResult::Accepted]);
    assert_eq!(l.payload(&unknown).unwrap(), None);
}

#[test]
fn two_erasures_in_one_block_leave_the_first_in_the_tombstone() {
    let fx = fixture(1);
    let l = Ledger::in_memory(&fx.genesis).unwrap();
    let owner = agency("transport");
    let c = l.store_payload(&owner, SALT, PERSONAL).unwrap();
    let ts = T0 + 1000;
    let first = erase(&fx, "transport", 1, c, "ERASE-A", ts);
    let second = erase(&fx, "transport", 1, c, "ERASE-B", ts);
    let done = commit(&l, vec![first, second], ts);
    assert_eq!(
        done.results,
        vec![ExecResult::Accepted, ExecResult::Accepted]
    );
    assert_eq!(
        l.payload(&c).unwrap(),
        Some(StoredPayload::Erased {
            owner,
            by: done.ids[0],
            height: done.height,
        })
    );
}

#[test]
fn a_payload_over_the_limit_is_refused() {
    let fx = fixture(1);
    let l = Ledger::in_memory(&fx.genesis).unwrap();
    let big = vec![0u8; limits::MAX_PAYLOAD + 1];
    match l.store_payload(&agency("transport"), SALT, &big) {
        Err(LedgerError::PayloadTooLarge { len }) => assert_eq!(len, big.len()),
        other => panic!("expected PayloadTooLarge, got {other:?}"),
    }
    assert_eq!(l.payload(&commitment(&SALT, &big)).unwrap(), None);
    // The limit itself is fine.
    let max = vec![0u8; limits::MAX_PAYLOAD];
    l.store_payload(&agency("transport"), SALT, &max).unwrap();
}

#[test]
fn storing_and_erasing_payloads_touches_no_header_root_or_summary() {
    let fx = fixture(1);
    let with = Ledger::in_memory(&fx.genesis).unwrap();
    let without = Ledger::in_memory(&fx.genesis).unwrap();
    let c = with
        .store_payload(&agency("transport"), SALT, PERSONAL)
        .unwrap();
    with.store_payload(&agency("health"), [3; 32], b"another person")
        .unwrap();
    let mut blocks = vec![
        vec![licence(&fx, c, T0 + 1000)],
        vec![erase(&fx, "transport", 1, c, "ERASE-1", T0 + 2000)],
        vec![erase(&fx, "health", 3, c, "ERASE-H", T0 + 3000)],
    ];
    blocks.extend((4..8).map(|h| workload_block(&fx, h, 16).0));
    for (k, records) in blocks.into_iter().enumerate() {
        let ts = T0 + (k as u64 + 1) * 1000;
        // Both ledgers commit the very same block (built once).
        let (block, cert) = next_block(&with, records, ts);
        let a = with
            .commit(&block, &cert, &chancery_ledger::NothingVerified)
            .unwrap();
        let b = without
            .commit(&block, &cert, &chancery_ledger::NothingVerified)
            .unwrap();
        assert_eq!(a.hash, b.hash);
        assert_eq!(a.results, b.results);
        assert_eq!(a.summary, b.summary, "height {}", a.height);
        // And each would propose the same next header.
        let params = chancery_ledger::HeaderParams {
            view: 0,
            timestamp: chancery_types::Timestamp(ts + 500),
            proposer: 0,
            validator_set_hash: Hash::ZERO,
        };
        assert_eq!(
            with.next_header(&params, &[]).unwrap(),
            without.next_header(&params, &[]).unwrap()
        );
    }
    assert!(matches!(
        with.payload(&c).unwrap(),
        Some(StoredPayload::Erased { .. })
    ));
    assert_eq!(without.payload(&c).unwrap(), None);
    let tip = with.tip();
    assert_eq!(tip, without.tip());
    for h in 1..=tip.height {
        assert_eq!(with.header(h).unwrap(), without.header(h).unwrap());
        assert_eq!(
            with.exec_summary(h).unwrap(),
            without.exec_summary(h).unwrap()
        );
    }
}
