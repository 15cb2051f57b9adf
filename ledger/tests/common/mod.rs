//! Shared fixtures for the ledger's tests and benchmarks: a three-agency
//! genesis, record builders, and a block builder driven by the ledger.
#![allow(dead_code, missing_docs, clippy::unwrap_used, clippy::expect_used)]

use chancery_ledger::{Committed, HeaderParams, KvStore, Ledger, NothingVerified, SignatureCheck};
use chancery_types::bounded::{Bytes, List, Text};
use chancery_types::{
    Agency, AgencyId, Block, ChainParams, CommitCertificate, CommitVote, Genesis, Hash, IssuerKey,
    Permission, Policy, Record, RecordKind, SecretKey, SignedRecord, Subject, Timestamp, Validator,
    ValidatorSet,
};

pub const T0: u64 = 1_700_000_000_000;
pub const HOUR: u64 = 3_600_000;
pub const DAY: u64 = 24 * HOUR;

pub fn agency(s: &str) -> AgencyId {
    AgencyId::new(s).unwrap()
}

pub fn subject(s: &str) -> Subject {
    Subject::new(s).unwrap()
}

pub fn label(s: &str) -> chancery_types::Label {
    chancery_types::Label::new(s).unwrap()
}

/// Issuer keys: `transport` has key 1 (always valid) and key 2 (valid only
/// until T0 + 1h); `health` key 3; `police` key 4; `rogue` (not in genesis) key 5.
pub fn key(n: u8) -> SecretKey {
    SecretKey::from_seed(&[n; 32])
}

pub struct Fixture {
    pub genesis: Genesis,
}

pub fn fixture(lag: u64) -> Fixture {
    let ik = |n: u8, until: Option<u64>| IssuerKey {
        public: key(n).public(),
        valid_from: Timestamp(T0 - DAY),
        valid_until: until.map(Timestamp),
    };
    let mk = |id: &str, keys: Vec<IssuerKey>, admin: u8| Agency {
        id: agency(id),
        name: Text::new(format!("Agency {id}")).unwrap(),
        admin_key: key(admin).public(),
        issuer_keys: List::new(keys).unwrap(),
    };
    let agencies = vec![
        mk("transport", vec![ik(1, None), ik(2, Some(T0 + HOUR))], 101),
        mk("health", vec![ik(3, None)], 102),
        mk("police", vec![ik(4, None)], 103),
    ];
    let perm = |id: &str, classes: &[&str], grant: bool, log: bool| Permission {
        agency: agency(id),
        licence_classes: List::new(classes.iter().map(|c| label(c)).collect()).unwrap(),
        may_grant: grant,
        may_log_access: log,
        denied_kinds: Default::default(),
        denied_subjects: Default::default(),
    };
    let validators = ValidatorSet::new(vec![Validator {
        agency: agency("transport"),
        consensus_key: key(201).public(),
        network_key: key(202).public(),
        address: Text::new("/ip4/127.0.0.1/tcp/7001").unwrap(),
    }])
    .unwrap();
    let genesis = Genesis {
        chain_name: Text::new("chancery-test").unwrap(),
        genesis_time: Timestamp(T0),
        agencies: List::new(agencies).unwrap(),
        validators,
        policy: Policy {
            max_body_bytes: 1024,
            permissions: List::new(vec![
                perm("transport", &["driving"], false, false),
                perm("health", &["*"], true, false),
                perm("police", &[], false, true),
            ])
            .unwrap(),
        },
        params: ChainParams { execution_lag: lag },
        governance: Default::default(),
    };
    genesis.validate().unwrap();
    Fixture { genesis }
}

impl Fixture {
    pub fn chain(&self) -> chancery_types::ChainId {
        self.genesis.chain_id()
    }

    /// A record signed with key `key_n`.
    pub fn record(
        &self,
        issuer: &str,
        key_n: u8,
        kind: RecordKind,
        subj: &str,
        ts: u64,
        nonce: u64,
    ) -> SignedRecord {
        self.record_full(issuer, key_n, kind, subj, ts, nonce, vec![], b"{}".to_vec())
    }

    #[allow(clippy::too_many_arguments)]
    pub fn record_full(
        &self,
        issuer: &str,
        key_n: u8,
        kind: RecordKind,
        subj: &str,
        ts: u64,
        nonce: u64,
        references: Vec<chancery_types::RecordId>,
        body: Vec<u8>,
    ) -> SignedRecord {
        let k = key(key_n);
        Record {
            kind,
            issuer: agency(issuer),
            key_id: k.public().key_id(),
            subject: subject(subj),
            body: Bytes::new(body).unwrap(),
            references: List::new(references).unwrap(),
            timestamp: Timestamp(ts),
            nonce,
        }
        .sign(&k, &self.chain())
    }
}

pub fn licence_issue(class: &str, from: u64, until: u64) -> RecordKind {
    RecordKind::LicenceIssue {
        class: label(class),
        valid_from: Timestamp(from),
        valid_until: Timestamp(until),
    }
}

pub fn grant_create(grantee: &str, dataset: &str, from: u64, until: u64) -> RecordKind {
    RecordKind::GrantCreate {
        grantee: agency(grantee),
        dataset: label(dataset),
        purpose: label("audit"),
        scope: label("all"),
        valid_from: Timestamp(from),
        valid_until: Timestamp(until),
    }
}

pub fn access_log(grant: &str, dataset: &str) -> RecordKind {
    RecordKind::AccessLog {
        grant: subject(grant),
        dataset: label(dataset),
    }
}

/// The next block over `records` at time `ts`, and a certificate naming it.
pub fn next_block<K: KvStore>(
    ledger: &Ledger<K>,
    records: Vec<SignedRecord>,
    ts: u64,
) -> (Block, CommitCertificate) {
    let header = ledger
        .next_header(
            &HeaderParams {
                view: 0,
                timestamp: Timestamp(ts),
                proposer: 0,
                validator_set_hash: Hash::ZERO,
            },
            &records,
        )
        .unwrap();
    let cert = CommitCertificate {
        vote: CommitVote {
            height: header.height,
            view: 0,
            block_hash: header.hash(),
        },
        signatures: List::default(),
    };
    let block = Block {
        header,
        records: List::new(records).unwrap(),
        results: List::default(),
    };
    (block, cert)
}

/// Builds and commits the next block.
pub fn commit<K: KvStore>(ledger: &Ledger<K>, records: Vec<SignedRecord>, ts: u64) -> Committed {
    commit_with(ledger, records, ts, &NothingVerified)
}

pub fn commit_with<K: KvStore>(
    ledger: &Ledger<K>,
    records: Vec<SignedRecord>,
    ts: u64,
    sigs: &dyn SignatureCheck,
) -> Committed {
    let (block, cert) = next_block(ledger, records, ts);
    ledger.commit(&block, &cert, sigs).unwrap()
}

/// A deterministic workload: block `h` (1-based) of `n` records at time
/// `T0 + h·1000`: new licences, and lifecycle steps, grants and access logs
/// on earlier subjects, including some that are rejected.
pub fn workload_block(fx: &Fixture, h: u64, n: usize) -> (Vec<SignedRecord>, u64) {
    let ts = T0 + h * 1000;
    let mut out = Vec::with_capacity(n);
    for i in 0..n as u64 {
        let seq = h * 10_000 + i;
        let rec = match i % 8 {
            0..=2 => fx.record(
                "transport",
                1,
                licence_issue("driving", ts - 10, ts + 50_000 + (seq % 7) * 1000),
                &format!("DL-{seq}"),
                ts - 5,
                seq,
            ),
            3 => fx.record(
                "transport",
                1,
                RecordKind::LicenceSuspend,
                &format!("DL-{}", seq.saturating_sub(10_000 + 3)),
                ts - 5,
                seq,
            ),
            4 => fx.record(
                "transport",
                1,
                RecordKind::LicenceReinstate,
                &format!("DL-{}", seq.saturating_sub(20_000 + 4)),
                ts - 5,
                seq,
            ),
            5 => fx.record(
                "health",
                3,
                grant_create("police", "patients", ts - 10, ts + 30_000),
                &format!("G-{seq}"),
                ts - 5,
                seq,
            ),
            6 => fx.record(
                "police",
                4,
                access_log(&format!("G-{}", seq.saturating_sub(10_000 + 1)), "patients"),
                &format!("A-{seq}"),
                ts - 5,
                seq,
            ),
            _ => fx.record(
                "transport",
                1,
                RecordKind::LicenceRevoke,
                &format!("DL-{}", seq.saturating_sub(30_000 + 7)),
                ts - 5,
                seq,
            ),
        };
        out.push(rec);
    }
    (out, ts)
}

/// The ledger's next block (at `T0` + one second per height) of `n` fresh
/// driving licences, unsigned, its certificate, and the records' ids in
/// block order: what a validator has after checking the proposal, and
/// (as a set) the "verified at admission" ids its mempool hands to the
/// commit. For benchmarks.
pub fn fresh_licence_block<K: KvStore>(
    ledger: &Ledger<K>,
    n: usize,
) -> (Block, CommitCertificate, Vec<chancery_types::RecordId>) {
    let h = ledger.tip().height + 1;
    let ts = T0 + h * 1000;
    let key_id = key(1).public().key_id();
    let recs: Vec<SignedRecord> = (0..n as u64)
        .map(|i| SignedRecord {
            record: Record {
                kind: licence_issue("driving", ts, ts + 365 * DAY),
                issuer: agency("transport"),
                key_id,
                subject: subject(&format!("DL-{h}-{i}")),
                body: Bytes::new(br#"{"holder":"b3:5f1c0e","class":"B"}"#.to_vec()).unwrap(),
                references: List::default(),
                timestamp: Timestamp(ts),
                nonce: h * 1_000_000 + i,
            },
            signature: chancery_types::Signature([0; 64]),
        })
        .collect();
    let ids = recs.iter().map(|r| r.id()).collect();
    let (block, cert) = next_block(ledger, recs, ts);
    (block, cert, ids)
}
