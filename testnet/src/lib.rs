//! # chancery-testnet
//!
//! Everything needed to stand up a Chancery network on one machine, for
//! the README's first command and for the end-to-end tests:
//!
//! ```text
//!   genesis::generate(dir, n) ──► dir/genesis.json
//!                                 dir/<agency>/{admin,issuer,consensus,network}.key, node.toml
//!   cluster::Cluster           ──► chancery-node processes: start, stop, kill, clients
//!   demo::workload(net)        ──► signed records: licences, a grant, an access log, a revocation
//! ```
//!
//! Modules:
//! - [`genesis`]: keys, a genesis and node configurations for N agencies on loopback ports.
//! - [`cluster`]: validator processes, pid files, readiness, gRPC clients.
//! - [`demo`]: the demo workload the README's first command shows committing.
//! - [`options`]: setting `node.toml` options by dotted key.
//! - [`proc_stat`]: a process's state, CPU time and exit code from `/proc`.
#![cfg_attr(
    not(test),
    deny(clippy::unwrap_used, clippy::expect_used, clippy::panic)
)]

pub mod cluster;
pub mod demo;
pub mod genesis;
pub mod options;
pub mod proc_stat;
