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
//! Status: not built yet. This crate will own the TOML config, the libp2p
//! transport (TCP + Noise + Yamux, validator-only connections), the mempool
//! with batch signature checks, the runtime that executes consensus actions
//! (persist before send), block sync, and the gRPC services of `chancery-proto`.
