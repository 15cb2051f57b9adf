//! # chancery-proto
//!
//! The gRPC API of Chancery: the `.proto` files under `proto/chancery/v1/`,
//! compiled at build time with `protox` (pure Rust; no system `protoc`) into
//! tonic/prost code, plus the encoded file descriptor set for server
//! reflection.
//!
//! Modules:
//! - [`v1`]: generated messages, clients and servers of package `chancery.v1`.
//!
//! Services: `NodeService` (node.proto), `RecordService` (records.proto),
//! `LedgerService` (ledger.proto), `GovernanceService` (governance.proto)
//! and `PayloadService` (off-chain payloads, payloads.proto).
#![cfg_attr(
    not(test),
    deny(clippy::unwrap_used, clippy::expect_used, clippy::panic)
)]

/// Generated code for package `chancery.v1`.
#[allow(missing_docs, clippy::all)]
pub mod v1 {
    tonic::include_proto!("chancery.v1");
}

/// The encoded `FileDescriptorSet` of every Chancery `.proto` file, for
/// gRPC server reflection.
pub const FILE_DESCRIPTOR_SET: &[u8] =
    include_bytes!(concat!(env!("OUT_DIR"), "/chancery_descriptor.bin"));
