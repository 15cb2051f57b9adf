//! Keys, domain-separated signatures and the one signature acceptance rule.
//!
//! - [`keys`]: secret and public keys, key ids.
//! - [`signature`]: `Signature`, `Domain`, signing and single verification.
//! - [`batch`]: batch verification that accepts exactly what single
//!   verification accepts.
//! - [`keyfile`]: key files on disk (0600, typed errors).

pub mod batch;
pub mod keyfile;
pub mod keys;
pub mod signature;

#[cfg(test)]
mod tests;
