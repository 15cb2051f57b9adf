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
//! Status: in progress. The consensus runtime (persist before send), block
//! sync, the gRPC services and the `chancery-node` binary are not built yet.

pub mod config;
pub mod mempool;
pub mod p2p;
pub mod runtime;
pub mod wire;
