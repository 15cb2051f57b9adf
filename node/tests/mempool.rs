//! Mempool admission: every refusal names its reason, nothing invalid is
//! queued, bounds give `Full`, blocks are cut oldest first.

use chancery_node::mempool::{AdmitError, IssuerKeys, Limits, Mempool};
use chancery_types::bounded::{Bytes, List, Text};
use chancery_types::*;

struct Keys {
    agency: AgencyId,
    key: PublicKey,
}

impl IssuerKeys for Keys {
    fn agency_known(&self, agency: &AgencyId) -> bool {
        agency == &self.agency
    }
    fn key(&self, agency: &AgencyId, key_id: &KeyId, at: Timestamp) -> Option<PublicKey> {
        (agency == &self.agency && key_id == &self.key.key_id() && at.0 >= 100).then_some(self.key)
    }
    fn max_body_bytes(&self) -> usize {
        64
    }
    fn policy(&self, r: &Record) -> Result<(), RejectCode> {
        // A deny list of one subject.
        if r.subject.as_str() == "DL-666" {
            Err(RejectCode::Denied)
        } else {
            Ok(())
        }
    }
}

fn setup() -> (SecretKey, Keys, ChainId) {
    let sk = SecretKey::from_seed(&[7; 32]);
    let keys = Keys {
        agency: AgencyId::new("transport").unwrap(),
        key: sk.public(),
    };
    (sk, keys, ChainId(Hash::of(b"chain")))
}

fn record(sk: &SecretKey, chain: &ChainId, nonce: u64, body: usize, at: u64) -> Vec<u8> {
    Record {
        kind: RecordKind::LicenceRevoke,
        issuer: AgencyId::new("transport").unwrap(),
        key_id: sk.public().key_id(),
        subject: Text::new(format!("DL-{nonce}")).unwrap(),
        body: Bytes::new(vec![b'x'; body]).unwrap(),
        references: List::default(),
        timestamp: Timestamp(at),
        nonce,
    }
    .sign(sk, chain)
    .to_canonical()
}

fn none_committed(ids: &[RecordId]) -> Vec<bool> {
    vec![false; ids.len()]
}

fn all_committed(ids: &[RecordId]) -> Vec<bool> {
    vec![true; ids.len()]
}

fn limits(max_records: usize) -> Limits {
    Limits {
        max_records,
        max_bytes: 1 << 20,
        max_backlog: std::time::Duration::from_secs(1),
        regossip_after: std::time::Duration::from_secs(3),
        request_timeout: std::time::Duration::from_secs(15),
    }
}

#[test]
fn admits_valid_records_and_names_each_refusal() {
    let (sk, keys, chain) = setup();
    let mut pool = Mempool::new(chain, limits(100));
    let good = record(&sk, &chain, 1, 10, 200);
    let mut bad_sig = record(&sk, &chain, 2, 10, 200);
    let last = bad_sig.len() - 1;
    bad_sig[last] ^= 1;
    let other_chain = record(&sk, &ChainId(Hash::ZERO), 3, 10, 200);
    let stranger = SecretKey::from_seed(&[9; 32]);
    let unknown_key = record(&stranger, &chain, 4, 10, 200);
    let too_big = record(&sk, &chain, 5, 65, 200);
    let too_early = record(&sk, &chain, 6, 10, 50);
    let mut trailing = good.clone();
    trailing.push(0);

    let r = pool.admit(
        &[
            good.clone(),
            bad_sig,
            other_chain,
            unknown_key,
            too_big,
            too_early,
            trailing,
            good.clone(),
        ],
        &keys,
        &none_committed,
    );
    assert!(r[0].is_ok());
    assert!(
        matches!(r[1], Err(AdmitError::BadSignature(_))),
        "{:?}",
        r[1]
    );
    assert!(
        matches!(r[2], Err(AdmitError::BadSignature(_))),
        "{:?}",
        r[2]
    );
    assert!(
        matches!(r[3], Err(AdmitError::KeyNotValid { .. })),
        "{:?}",
        r[3]
    );
    assert!(
        matches!(r[4], Err(AdmitError::BodyTooLarge { len: 65, max: 64 })),
        "{:?}",
        r[4]
    );
    assert!(
        matches!(r[5], Err(AdmitError::KeyNotValid { .. })),
        "{:?}",
        r[5]
    );
    assert!(
        matches!(
            r[6],
            Err(AdmitError::Decode(DecodeError::TrailingBytes { .. }))
        ),
        "{:?}",
        r[6]
    );
    assert!(
        matches!(r[7], Err(AdmitError::Duplicate(_))),
        "same batch: {:?}",
        r[7]
    );
    assert_eq!(pool.len(), 1);

    // Resubmission and already-committed records are duplicates.
    assert!(matches!(
        pool.admit(std::slice::from_ref(&good), &keys, &none_committed)[0],
        Err(AdmitError::Duplicate(_))
    ));
    let fresh = record(&sk, &chain, 10, 1, 200);
    assert!(matches!(
        pool.admit(&[fresh], &keys, &all_committed)[0],
        Err(AdmitError::Duplicate(_))
    ));
    assert_eq!(pool.len(), 1);

    // The id the mempool reports is the record id.
    let id = SignedRecord::from_canonical(&good).unwrap().id();
    assert!(pool.contains(&id));
}

/// The chain is asked once per batch, about the ids that decoded and are
/// new to the batch and the pool, and each id it says is committed is a
/// duplicate.
#[test]
fn the_chain_is_asked_once_per_batch_about_new_ids_only() {
    let (sk, keys, chain) = setup();
    let mut pool = Mempool::new(chain, limits(100));
    let batch = vec![
        record(&sk, &chain, 1, 1, 200),
        b"not a record".to_vec(),
        record(&sk, &chain, 2, 1, 200),
        record(&sk, &chain, 1, 1, 200), // repeats the first
        record(&sk, &chain, 3, 1, 200),
    ];
    let id = |i: usize| SignedRecord::from_canonical(&batch[i]).unwrap().id();
    let asked = std::cell::RefCell::new(Vec::new());
    let second_committed = |ids: &[RecordId]| {
        asked.borrow_mut().push(ids.to_vec());
        ids.iter().map(|i| *i == id(2)).collect()
    };
    let r = pool.admit(&batch, &keys, &second_committed);
    assert_eq!(*asked.borrow(), vec![vec![id(0), id(2), id(4)]]);
    assert_eq!(r[0], Ok(id(0)));
    assert!(matches!(r[1], Err(AdmitError::Decode(_))), "{:?}", r[1]);
    assert_eq!(r[2], Err(AdmitError::Duplicate(id(2))));
    assert_eq!(r[3], Err(AdmitError::Duplicate(id(0))));
    assert_eq!(r[4], Ok(id(4)));
    assert_eq!(pool.len(), 2);
}

#[test]
fn a_policy_refusal_names_the_agency_and_is_not_queued() {
    let (sk, keys, chain) = setup();
    let mut pool = Mempool::new(chain, limits(100));
    let r = pool.admit(&[record(&sk, &chain, 666, 10, 200)], &keys, &none_committed);
    match &r[0] {
        Err(e @ AdmitError::Policy { code, .. }) => {
            assert_eq!(*code, RejectCode::Denied);
            let msg = e.to_string();
            assert!(
                msg.contains("`transport`") && msg.contains("DL-666"),
                "{msg}"
            );
        }
        other => panic!("expected a policy refusal, got {other:?}"),
    }
    assert!(pool.is_empty());
}

#[test]
fn unknown_issuer_is_named() {
    let (sk, keys, chain) = setup();
    let mut pool = Mempool::new(chain, limits(10));
    let mut r = Record::from_canonical(&{
        let s = SignedRecord::from_canonical(&record(&sk, &chain, 1, 1, 200)).unwrap();
        s.record.to_canonical()
    })
    .unwrap();
    r.issuer = AgencyId::new("nobody").unwrap();
    let bytes = r.sign(&sk, &chain).to_canonical();
    assert_eq!(
        pool.admit(&[bytes], &keys, &none_committed)[0],
        Err(AdmitError::UnknownIssuer(AgencyId::new("nobody").unwrap()))
    );
}

#[test]
fn bounds_give_full_and_take_is_fifo() {
    let (sk, keys, chain) = setup();
    let mut pool = Mempool::new(chain, limits(3));
    let recs: Vec<Vec<u8>> = (0..5).map(|n| record(&sk, &chain, n, 1, 200)).collect();
    let r = pool.admit(&recs, &keys, &none_committed);
    assert!(r[..3].iter().all(Result::is_ok));
    assert!(matches!(r[3], Err(AdmitError::Full { records: 3, .. })));
    assert!(matches!(r[4], Err(AdmitError::Full { .. })));

    let taken = pool.take(2);
    let ids: Vec<RecordId> = taken.iter().map(|a| a.id).collect();
    assert_eq!(ids, vec![r[0].clone().unwrap(), r[1].clone().unwrap()]);
    assert_eq!(pool.len(), 1);
    assert_eq!(pool.held(), 2);

    // Taken records are held until they commit: still no room, and a
    // resubmission of a held record is a duplicate.
    assert!(matches!(
        pool.admit(&recs[3..4], &keys, &none_committed)[0],
        Err(AdmitError::Full { records: 3, .. })
    ));
    assert!(matches!(
        pool.admit(&recs[0..1], &keys, &none_committed)[0],
        Err(AdmitError::Duplicate(_))
    ));
    // Once they commit there is room again.
    pool.remove_committed(&ids);
    assert_eq!(pool.held(), 0);
    assert!(pool.admit(&recs[3..4], &keys, &none_committed)[0].is_ok());
    pool.remove_committed(&[r[2].clone().unwrap()]);
    assert_eq!(pool.len(), 1);
    assert_eq!(pool.bytes(), recs[3].len());
}

#[test]
fn records_of_a_lost_proposal_go_back_to_the_front() {
    let (sk, keys, chain) = setup();
    let mut pool = Mempool::new(chain, limits(10));
    let recs: Vec<Vec<u8>> = (0..4).map(|n| record(&sk, &chain, n, 1, 200)).collect();
    let r: Vec<RecordId> = pool
        .admit(&recs, &keys, &none_committed)
        .into_iter()
        .map(Result::unwrap)
        .collect();
    let bytes = pool.bytes();
    let taken = pool.take(2);
    pool.requeue(taken);
    assert_eq!(pool.held(), 0);
    assert_eq!(pool.len(), 4);
    assert_eq!(pool.bytes(), bytes);
    let order: Vec<RecordId> = pool.take(4).iter().map(|a| a.id).collect();
    assert_eq!(order, r);
}

#[test]
fn submitted_records_waiting_too_long_are_handed_back_once_per_interval() {
    use std::time::{Duration, Instant};
    let (sk, keys, chain) = setup();
    let mut pool = Mempool::new(chain, limits(100)); // regossip_after: 3 s
    let start = Instant::now();
    let recs: Vec<Vec<u8>> = (0..5).map(|i| record(&sk, &chain, i, 10, 200)).collect();
    assert!(
        pool.submit(&recs, &keys, &none_committed)
            .iter()
            .all(Result::is_ok)
    );
    // Gossiped from a peer: the peer that a client gave it to sends it
    // again first; this node waits four intervals.
    let gossiped = record(&sk, &chain, 99, 10, 200);
    assert!(pool.admit(std::slice::from_ref(&gossiped), &keys, &none_committed)[0].is_ok());
    // Not yet: none has waited 3 s.
    assert!(pool.stale(start, 100).is_empty());
    assert!(pool.stale(start + Duration::from_secs(2), 100).is_empty());
    // Taken for a proposal: no longer queued, so not handed back.
    let taken = pool.take(1);
    assert_eq!(taken[0].record.to_canonical(), recs[0]);
    let later = Instant::now() + Duration::from_secs(3);
    // The oldest first, at most `max`, exactly the bytes admitted.
    assert_eq!(pool.stale(later, 3), recs[1..4].to_vec());
    assert_eq!(pool.stale(later, 100), recs[4..].to_vec());
    // Each waits a full interval again.
    assert!(pool.stale(later + Duration::from_secs(2), 100).is_empty());
    assert_eq!(
        pool.stale(later + Duration::from_secs(3), 100),
        recs[1..].to_vec()
    );
    // The gossiped one comes back too, four intervals after it arrived
    // (with the submitted ones, due again), in queue order.
    let mut due = recs[1..].to_vec();
    due.push(gossiped.clone());
    assert_eq!(pool.stale(later + Duration::from_secs(9), 100), due);
    // Nothing stays queued once committed.
    let ids: Vec<RecordId> = recs
        .iter()
        .chain([&gossiped])
        .map(|r| RecordId(Hash::of(r)))
        .collect();
    pool.remove_committed(&ids);
    assert!(pool.stale(later + Duration::from_secs(60), 100).is_empty());
}

/// The request timer reads the admission time of the longest-waiting
/// queued record: gossiping it again does not restart it, a proposal that
/// takes it stops it, and a proposal that fails hands it back unchanged.
#[test]
fn the_oldest_queued_record_keeps_its_admission_time() {
    use std::time::{Duration, Instant};
    let (sk, keys, chain) = setup();
    let mut pool = Mempool::new(chain, limits(100));
    assert_eq!(pool.oldest_queued(), None);
    let before = Instant::now();
    let first = record(&sk, &chain, 1, 10, 200);
    assert!(pool.submit(std::slice::from_ref(&first), &keys, &none_committed)[0].is_ok());
    let admitted = pool.oldest_queued().unwrap();
    assert!(admitted >= before && admitted <= Instant::now());
    std::thread::sleep(Duration::from_millis(5));
    let second = record(&sk, &chain, 2, 10, 200);
    assert!(pool.admit(std::slice::from_ref(&second), &keys, &none_committed)[0].is_ok());
    assert_eq!(pool.oldest_queued(), Some(admitted));
    // Sent again: still the same wait.
    assert_eq!(
        pool.stale(admitted + Duration::from_secs(3), 100),
        vec![first]
    );
    assert_eq!(pool.oldest_queued(), Some(admitted));
    // Taken for a proposal: the next one is the oldest queued.
    let taken = pool.take(1);
    let second_admitted = pool.oldest_queued().unwrap();
    assert!(second_admitted > admitted);
    // The proposal failed: back at the front, with its own time.
    pool.requeue(taken);
    assert_eq!(pool.oldest_queued(), Some(admitted));
    pool.remove_committed(&[RecordId(Hash::of(&record(&sk, &chain, 1, 10, 200)))]);
    assert_eq!(pool.oldest_queued(), Some(second_admitted));
}
