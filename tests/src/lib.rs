//! # chancery-tests
//!
//! End-to-end tests that start real Chancery processes on loopback.
//!
//! Status: the node does not exist yet; the end-to-end suite arrives with it.
//! Process-level tests of what exists today live next to their crates
//! (`cli/tests`, `testnet/tests`, the ledger's crash test).
