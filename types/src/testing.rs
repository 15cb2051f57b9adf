//! Proptest strategies for every canonical type (feature `testing`).
//!
//! Other crates use these in their own property tests.

#![allow(missing_docs, clippy::unwrap_used, clippy::expect_used)]

use proptest::collection::vec;
use proptest::prelude::*;

use crate::block::{Block, BlockHeader, ExecResult, RejectCode};
use crate::bounded::{Bytes, List, Text};
use crate::cert::{CertSignature, CommitCertificate, CommitVote};
use crate::crypto::keys::{KeyId, PublicKey, SecretKey};
use crate::crypto::signature::Signature;
use crate::genesis::{Agency, ChainParams, Genesis, IssuerKey, Permission, Policy};
use crate::hash::Hash;
use crate::ids::{AgencyId, ChainId, RecordId, Timestamp};
use crate::record::{Record, RecordKind, SignedRecord};
use crate::validator::{Validator, ValidatorSet};

pub fn hash() -> impl Strategy<Value = Hash> {
    any::<[u8; 32]>().prop_map(Hash)
}

pub fn chain_id() -> impl Strategy<Value = ChainId> {
    hash().prop_map(ChainId)
}

pub fn record_id() -> impl Strategy<Value = RecordId> {
    hash().prop_map(RecordId)
}

pub fn timestamp() -> impl Strategy<Value = Timestamp> {
    any::<u64>().prop_map(Timestamp)
}

pub fn key_id() -> impl Strategy<Value = KeyId> {
    any::<[u8; 16]>().prop_map(KeyId)
}

pub fn signature() -> impl Strategy<Value = Signature> {
    (any::<[u8; 32]>(), any::<[u8; 32]>()).prop_map(|(a, b)| {
        let mut s = [0u8; 64];
        s[..32].copy_from_slice(&a);
        s[32..].copy_from_slice(&b);
        Signature(s)
    })
}

pub fn secret_key() -> impl Strategy<Value = SecretKey> {
    any::<[u8; 32]>().prop_map(|seed| SecretKey::from_seed(&seed))
}

pub fn public_key() -> impl Strategy<Value = PublicKey> {
    secret_key().prop_map(|k| k.public())
}

pub fn text<const MAX: usize>() -> impl Strategy<Value = Text<MAX>> {
    proptest::string::string_regex(&format!("\\PC{{0,{}}}", MAX.min(24)))
        .expect("valid regex")
        .prop_filter_map("fits", |s| Text::new(s).ok())
}

pub fn bytes<const MAX: usize>() -> impl Strategy<Value = Bytes<MAX>> {
    vec(any::<u8>(), 0..MAX.min(96)).prop_filter_map("fits", |v| Bytes::new(v).ok())
}

pub fn list<T: std::fmt::Debug, const MAX: usize>(
    item: impl Strategy<Value = T>,
    max_len: usize,
) -> impl Strategy<Value = List<T, MAX>> {
    vec(item, 0..=max_len.min(MAX)).prop_filter_map("fits", |v| List::new(v).ok())
}

pub fn agency_id() -> impl Strategy<Value = AgencyId> {
    "[a-z][a-z0-9-]{0,31}".prop_filter_map("valid", |s| AgencyId::new(s).ok())
}

pub fn record_kind() -> impl Strategy<Value = RecordKind> {
    prop_oneof![
        (text(), timestamp(), timestamp()).prop_map(|(class, valid_from, valid_until)| {
            RecordKind::LicenceIssue {
                class,
                valid_from,
                valid_until,
            }
        }),
        Just(RecordKind::LicenceAmend),
        Just(RecordKind::LicenceSuspend),
        Just(RecordKind::LicenceReinstate),
        Just(RecordKind::LicenceRevoke),
        (
            agency_id(),
            text(),
            text(),
            text(),
            timestamp(),
            timestamp()
        )
            .prop_map(
                |(grantee, dataset, purpose, scope, valid_from, valid_until)| {
                    RecordKind::GrantCreate {
                        grantee,
                        dataset,
                        purpose,
                        scope,
                        valid_from,
                        valid_until,
                    }
                }
            ),
        Just(RecordKind::GrantRevoke),
        (text(), text()).prop_map(|(grant, dataset)| RecordKind::AccessLog { grant, dataset }),
    ]
}

pub fn record() -> impl Strategy<Value = Record> {
    (
        record_kind(),
        agency_id(),
        key_id(),
        text(),
        bytes(),
        list(record_id(), 4),
        timestamp(),
        any::<u64>(),
    )
        .prop_map(
            |(kind, issuer, key_id, subject, body, references, timestamp, nonce)| Record {
                kind,
                issuer,
                key_id,
                subject,
                body,
                references,
                timestamp,
                nonce,
            },
        )
}

pub fn signed_record() -> impl Strategy<Value = SignedRecord> {
    (record(), signature()).prop_map(|(record, signature)| SignedRecord { record, signature })
}

pub fn header() -> impl Strategy<Value = BlockHeader> {
    (
        (
            chain_id(),
            any::<u64>(),
            any::<u64>(),
            hash(),
            timestamp(),
            any::<u16>(),
        ),
        (
            hash(),
            any::<u32>(),
            any::<u64>(),
            hash(),
            any::<u64>(),
            hash(),
            hash(),
        ),
    )
        .prop_map(
            |(
                (chain_id, height, view, parent, timestamp, proposer),
                (
                    records_root,
                    record_count,
                    exec_height,
                    log_root,
                    log_size,
                    state_root,
                    validator_set_hash,
                ),
            )| BlockHeader {
                chain_id,
                height,
                view,
                parent,
                timestamp,
                proposer,
                records_root,
                record_count,
                exec_height,
                log_root,
                log_size,
                state_root,
                validator_set_hash,
            },
        )
}

pub fn reject_code() -> impl Strategy<Value = RejectCode> {
    prop_oneof![
        Just(RejectCode::UnknownIssuer),
        Just(RejectCode::KeyNotValid),
        Just(RejectCode::BadSignature),
        Just(RejectCode::KindNotPermitted),
        Just(RejectCode::InvalidTransition),
        Just(RejectCode::Duplicate),
        Just(RejectCode::UnknownReference),
        Just(RejectCode::BodyTooLarge),
        Just(RejectCode::NoActiveGrant),
        Just(RejectCode::InvalidField),
    ]
}

pub fn exec_result() -> impl Strategy<Value = ExecResult> {
    prop_oneof![
        Just(ExecResult::Accepted),
        reject_code().prop_map(ExecResult::Rejected)
    ]
}

pub fn block() -> impl Strategy<Value = Block> {
    (header(), vec((signed_record(), exec_result()), 0..4)).prop_filter_map(
        "fits",
        |(header, pairs)| {
            let (records, results): (Vec<_>, Vec<_>) = pairs.into_iter().unzip();
            Some(Block {
                header,
                records: List::new(records).ok()?,
                results: List::new(results).ok()?,
            })
        },
    )
}

pub fn commit_vote() -> impl Strategy<Value = CommitVote> {
    (any::<u64>(), any::<u64>(), hash()).prop_map(|(height, view, block_hash)| CommitVote {
        height,
        view,
        block_hash,
    })
}

pub fn commit_certificate() -> impl Strategy<Value = CommitCertificate> {
    (
        commit_vote(),
        proptest::collection::btree_map(any::<u16>(), signature(), 0..6),
    )
        .prop_filter_map("fits", |(vote, sigs)| {
            let signatures = sigs
                .into_iter()
                .map(|(validator, signature)| CertSignature {
                    validator,
                    signature,
                })
                .collect();
            Some(CommitCertificate {
                vote,
                signatures: List::new(signatures).ok()?,
            })
        })
}

pub fn validator() -> impl Strategy<Value = Validator> {
    (agency_id(), public_key(), public_key(), text()).prop_map(
        |(agency, consensus_key, network_key, address)| Validator {
            agency,
            consensus_key,
            network_key,
            address,
        },
    )
}

pub fn validator_set() -> impl Strategy<Value = ValidatorSet> {
    vec(validator(), 1..6).prop_filter_map("distinct keys", |v| ValidatorSet::new(v).ok())
}

pub fn issuer_key() -> impl Strategy<Value = IssuerKey> {
    (public_key(), timestamp(), proptest::option::of(timestamp())).prop_map(
        |(public, valid_from, valid_until)| IssuerKey {
            public,
            valid_from,
            valid_until,
        },
    )
}

pub fn agency() -> impl Strategy<Value = Agency> {
    (agency_id(), text(), public_key(), list(issuer_key(), 3)).prop_map(
        |(id, name, admin_key, issuer_keys)| Agency {
            id,
            name,
            admin_key,
            issuer_keys,
        },
    )
}

pub fn permission() -> impl Strategy<Value = Permission> {
    (
        agency_id(),
        list(text(), 3),
        any::<bool>(),
        any::<bool>(),
        list(text(), 2),
        list(text(), 2),
    )
        .prop_map(
            |(
                agency,
                licence_classes,
                may_grant,
                may_log_access,
                denied_kinds,
                denied_subjects,
            )| {
                Permission {
                    agency,
                    licence_classes,
                    may_grant,
                    may_log_access,
                    denied_kinds,
                    denied_subjects,
                }
            },
        )
}

pub fn policy() -> impl Strategy<Value = Policy> {
    (any::<u32>(), list(permission(), 3)).prop_map(|(max_body_bytes, permissions)| Policy {
        max_body_bytes,
        permissions,
    })
}

/// Any genesis, valid or not as a chain (structure only).
pub fn genesis_any() -> impl Strategy<Value = Genesis> {
    (
        text(),
        timestamp(),
        list(agency(), 3),
        validator_set(),
        policy(),
        1u64..=64,
    )
        .prop_map(
            |(chain_name, genesis_time, agencies, validators, policy, execution_lag)| Genesis {
                chain_name,
                genesis_time,
                agencies,
                validators,
                policy,
                params: ChainParams { execution_lag },
                governance: Default::default(),
            },
        )
}

/// A genesis that passes `validate()`: every validator's and permission's
/// agency exists, keys are distinct.
pub fn genesis() -> impl Strategy<Value = Genesis> {
    (
        text(),
        timestamp(),
        validator_set(),
        vec(agency(), 0..3),
        1u32..=crate::limits::MAX_BODY as u32,
        any::<bool>(),
    )
        .prop_filter_map(
            "valid",
            |(chain_name, genesis_time, validators, extra, max_body_bytes, grant)| {
                let mut agencies: Vec<Agency> = Vec::new();
                let mut ids = std::collections::BTreeSet::new();
                for (i, v) in validators.validators().iter().enumerate() {
                    if ids.insert(v.agency.clone()) {
                        agencies.push(Agency {
                            id: v.agency.clone(),
                            name: Text::new(format!("Agency {i}")).ok()?,
                            admin_key: SecretKey::from_seed(&[i as u8 + 1; 32]).public(),
                            issuer_keys: List::default(),
                        });
                    }
                }
                for a in extra {
                    if ids.insert(a.id.clone()) {
                        agencies.push(a);
                    }
                }
                let permissions = agencies
                    .iter()
                    .map(|a| Permission {
                        agency: a.id.clone(),
                        licence_classes: List::default(),
                        may_grant: grant,
                        may_log_access: !grant,
                        denied_kinds: Default::default(),
                        denied_subjects: Default::default(),
                    })
                    .collect();
                let g = Genesis {
                    chain_name,
                    genesis_time,
                    agencies: List::new(agencies).ok()?,
                    validators,
                    policy: Policy {
                        max_body_bytes,
                        permissions: List::new(permissions).ok()?,
                    },
                    params: ChainParams::default(),
                    governance: Default::default(),
                };
                g.validate().ok()?;
                Some(g)
            },
        )
}

pub fn log_entry() -> impl Strategy<Value = crate::block::LogEntry> {
    (record_id(), any::<u64>(), timestamp(), exec_result()).prop_map(
        |(record, height, timestamp, result)| crate::block::LogEntry {
            record,
            height,
            timestamp,
            result,
        },
    )
}
