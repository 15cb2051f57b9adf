//! # chancery-types
//!
//! The vocabulary every other Chancery crate speaks, and everything an
//! auditor's verifier needs: hashes, keys, signatures, the canonical byte
//! encoding, records, blocks, certificates, validator sets and genesis.
//! No networking, no storage, no async (the only I/O is reading and writing
//! key files).
//!
//! ```text
//!            Genesis ──chain_id()──► ChainId ─┐ (covered by every signature)
//!               │                             │
//!   Agency ─ IssuerKey ─ PublicKey ─ KeyId    │
//!               │                             ▼
//!   Record ─sign(SecretKey)─► SignedRecord ──id()──► RecordId
//!               │
//!   Block { BlockHeader, [SignedRecord], [ExecResult] }
//!               │ hash()
//!   CommitCertificate { CommitVote, ≥ quorum × CertSignature } ─verify(ValidatorSet)
//! ```
//!
//! Modules:
//! - [`encoding`]: the canonical bincode configuration, [`Canonical`], strict decoding.
//! - [`bounded`]: length-bounded `Bytes`, `Text`, `List`.
//! - [`fast_hash`]: maps and sets keyed by hashes, with a seeded fast hasher.
//! - [`hash`]: [`Hash`](struct@Hash) (blake3-256).
//! - [`keyed_blocks`]: many keyed hashes of 64-byte blocks at once, in SIMD lanes.
//! - [`crypto`]: keys, key files, domain-separated signatures, the single
//!   acceptance rule for single and batch verification.
//! - [`ids`]: `ChainId`, `AgencyId`, `RecordId`, `Timestamp`, field aliases.
//! - [`record`]: `RecordKind`, `Record`, `SignedRecord`.
//! - [`sorted_ids`]: finding a record id in a sorted slice (interpolation search).
//! - [`block`]: `BlockHeader`, `Block`, `ExecResult`, `RejectCode`.
//! - [`cert`]: `CommitVote`, `CommitCertificate`.
//! - [`validator`]: `Validator`, `ValidatorSet` (n, f, quorum).
//! - [`genesis`]: `Genesis`, `Agency`, `IssuerKey`, `Policy`.
//! - [`governance`]: [`governance::GovAction`], approvals, thresholds.
//! - [`limits`]: the hard bound on every variable-length field.
//! - [`log_proof`]: the record log's Merkle tree (RFC 9162 shape), inclusion
//!   and consistency proofs, `records_root`.
//! - [`payload`]: salted commitments to off-chain payloads, upload signatures.
//! - [`ceremony`]: signed genesis entries and combining them into a genesis.
//! - [`bundle`]: [`ProofBundle`], a record's offline-verifiable proof.
//! - [`state_proof`]: state tree keys, statuses, membership / non-membership proofs.
//! - `testing` (feature `testing`): proptest strategies for every type.
#![cfg_attr(
    not(test),
    deny(clippy::unwrap_used, clippy::expect_used, clippy::panic)
)]

pub mod block;
pub mod bounded;
pub mod bundle;
pub mod ceremony;
pub mod cert;
pub mod crypto;
pub mod encoding;
pub mod fast_hash;
pub mod genesis;
pub mod governance;
pub mod hash;
pub mod ids;
pub mod keyed_blocks;
pub mod limits;
pub mod log_proof;
pub mod payload;
pub mod record;
mod serde_hex;
pub mod sorted_ids;
pub mod state_proof;
#[cfg(any(test, feature = "testing"))]
pub mod testing;
pub mod validator;

pub use block::{Block, BlockHeader, ExecResult, LogEntry, RejectCode};
pub use bounded::{Bytes, List, Text};
pub use bundle::{
    BundleError, Checkpoint, ConsistencyBundle, HeaderError, KeyAt, KeySource, ProofBundle, Proven,
    ProvenConsistency, ProvenKey, SetChange, StatusAt, StepError, ValidatorChain, ValidatorEpochs,
};
pub use cert::{CertSignature, CommitCertificate, CommitVote};
pub use crypto::keys::{KeyId, PublicKey, SecretKey};
pub use crypto::signature::{Domain, Signature, SignatureError};
pub use encoding::{Canonical, DecodeError};
pub use genesis::{Agency, ChainParams, Genesis, IssuerKey, Permission, Policy};
pub use hash::Hash;
pub use ids::{AgencyId, Body, ChainId, Label, RecordId, Subject, Timestamp};
pub use record::{Record, RecordKind, SignedRecord};
pub use validator::{Validator, ValidatorSet};
