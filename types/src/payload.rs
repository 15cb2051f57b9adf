//! Off-chain payloads: personal data stays off the chain; a record carries
//! only a salted commitment to it.
//!
//! ```text
//! commitment = blake3("chancery/v1/payload" 0x00 ‖ salt ‖ payload)    salt: 32 random bytes
//! ```
//!
//! The salt keeps a low-entropy payload (a name, a date of birth) from
//! being guessed from its commitment. Erasing a payload deletes the payload
//! and its salt; the commitment, and every proof that covers it, stays.

use crate::hash::Hash;

/// The commitment to `payload` under `salt`.
pub fn commitment(salt: &[u8; 32], payload: &[u8]) -> Hash {
    Hash::of_parts(&[b"chancery/v1/payload\0", salt, payload])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn salt_and_payload_both_bind() {
        let a = commitment(&[1; 32], b"alice");
        assert_ne!(a, commitment(&[2; 32], b"alice"));
        assert_ne!(a, commitment(&[1; 32], b"alicf"));
        assert_eq!(a, commitment(&[1; 32], b"alice"));
    }
}
