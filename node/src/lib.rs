//! # chancery-node
//!
//! The validator daemon: the only crate that wires tokio, libp2p, tonic and
//! RocksDB together around the pure consensus and ledger crates.
//!
//! ```text
//!   gRPC (tonic) ──► mempool ──► consensus runtime ──► ledger (RocksDB)
//!                       ▲              │   ▲
//!                       └── libp2p ◄───┘   └── block sync
//! ```
//!
//! Modules:
//! - [`daemon`]: start-up (genesis, keys, identity) and ordered shutdown;
//!   the `chancery-node` binary is a thin `main` around it.
//! - [`rpc`]: the gRPC services, health and reflection.
//! - [`config`]: the TOML configuration, validated, with typed errors.
//! - [`mempool`]: admission (decode, bounds, issuer keys, batch signature
//!   check, duplicates) and the bounded queue blocks are cut from.
//! - [`runtime`]: the task that drives the consensus replica and carries
//!   out its actions (persist before send, proposals, validation, commits,
//!   block sync).
//! - [`wire`]: the frames validators exchange.
//! - [`p2p`]: libp2p transport between validators (validator-only
//!   connections, connection limits, length-prefixed frames).
//!
#![cfg_attr(
    not(test),
    deny(clippy::unwrap_used, clippy::expect_used, clippy::panic)
)]

pub mod config;
pub mod daemon;
pub mod mempool;
pub mod p2p;
pub mod rpc;
pub mod runtime;
pub mod wire;
