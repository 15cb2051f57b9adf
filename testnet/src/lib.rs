//! # chancery-testnet
//!
//! Everything needed to stand up a Chancery network on one machine:
//!
//! ```text
//!   genesis::generate(dir, n) ──► dir/genesis.json
//!                                 dir/<agency>/{admin,issuer,consensus,network}.key
//!   demo::workload(net)        ──► signed records: licences, a grant, an access log, a revocation
//! ```
//!
//! Modules:
//! - [`genesis`]: keys and a genesis for N agencies on loopback ports.
//! - [`demo`]: the demo workload the README's first command shows committing.
//!
//! Until the node exists (see README "Status"), the `chancery-testnet up`
//! command generates the network and runs the workload in-process.

pub mod demo;
pub mod genesis;
