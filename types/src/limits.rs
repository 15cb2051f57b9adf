//! Hard bounds on every variable-length field. Decoding rejects anything
//! longer before allocating. Policy (in genesis) may set tighter limits,
//! such as the maximum record body size; these are the ceilings.

/// Agency id: characters.
pub const MAX_AGENCY_ID: usize = 32;
/// Record subject: bytes of UTF-8.
pub const MAX_SUBJECT: usize = 128;
/// Labels (licence class, dataset, purpose, scope): bytes of UTF-8.
pub const MAX_LABEL: usize = 64;
/// Record body: bytes. The chain's policy sets the bound in force (default 16 KiB).
pub const MAX_BODY: usize = 64 * 1024;
/// References from one record to earlier records.
pub const MAX_REFERENCES: usize = 16;
/// Records in one block.
pub const MAX_BLOCK_RECORDS: usize = 20_000;
/// Validators in a set.
pub const MAX_VALIDATORS: usize = 256;
/// Agencies in genesis.
pub const MAX_AGENCIES: usize = 1024;
/// Issuer keys of one agency.
pub const MAX_ISSUER_KEYS: usize = 64;
/// Names (agency names, chain names): bytes of UTF-8.
pub const MAX_NAME: usize = 128;
/// Network addresses (multiaddr text): bytes.
pub const MAX_ADDRESS: usize = 256;
/// Permission entries in a policy.
pub const MAX_PERMISSIONS: usize = 4096;
/// Approvals one governance record may carry.
pub const MAX_APPROVALS: usize = 256;
/// Kinds or subjects in one agency's deny list.
pub const MAX_DENIED: usize = 64;
/// Largest off-chain payload, in bytes.
pub const MAX_PAYLOAD: usize = 4 * 1024 * 1024;
/// Validator-set changes one proof bundle may carry (its validator chain).
pub const MAX_SET_CHANGES: usize = 1024;
