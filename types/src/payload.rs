//! Off-chain payloads: personal data stays off the chain; a record carries
//! only a salted commitment to it.
//!
//! ```text
//! commitment = blake3("chancery/v1/payload" 0x00 ‖ salt ‖ payload)    salt: 32 random bytes
//! upload signature = sign(issuer key, Domain::PayloadUpload, chain id, commitment)
//! ```
//!
//! The salt keeps a low-entropy payload (a name, a date of birth) from
//! being guessed from its commitment. Erasing a payload deletes the payload
//! and its salt; the commitment, and every proof that covers it, stays.
//!
//! An agency uploads a payload to its node with its issuer key's signature
//! over the commitment ([`sign_upload`]); the node recomputes the
//! commitment from the salt and the payload and checks the signature
//! ([`verify_upload`]), so only a holder of a current issuer key of the
//! agency can store payloads in its name.

use crate::crypto::keys::{PublicKey, SecretKey};
use crate::crypto::signature::{Domain, Signature, SignatureError, verify};
use crate::hash::Hash;
use crate::ids::ChainId;

/// The commitment to `payload` under `salt`.
pub fn commitment(salt: &[u8; 32], payload: &[u8]) -> Hash {
    Hash::of_parts(&[b"chancery/v1/payload\0", salt, payload])
}

/// The bytes an upload signature covers (after the domain tag and chain
/// id): the 32 bytes of the commitment.
pub fn upload_bytes(commitment: &Hash) -> &[u8] {
    commitment.as_bytes()
}

/// The issuer's signature authorising the upload of the payload with this
/// commitment to a node of `chain`.
pub fn sign_upload(key: &SecretKey, chain: &ChainId, commitment: &Hash) -> Signature {
    key.sign(Domain::PayloadUpload, &chain.0, upload_bytes(commitment))
}

/// Checks an upload signature made with [`sign_upload`].
pub fn verify_upload(
    key: &PublicKey,
    chain: &ChainId,
    commitment: &Hash,
    sig: &Signature,
) -> Result<(), SignatureError> {
    verify(
        key,
        Domain::PayloadUpload,
        &chain.0,
        upload_bytes(commitment),
        sig,
    )
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

    #[test]
    fn an_upload_signature_covers_one_commitment_one_chain_one_key() {
        let key = SecretKey::from_seed(&[7; 32]);
        let chain = ChainId(Hash::of(b"chain a"));
        let c = commitment(&[1; 32], b"alice");
        let sig = sign_upload(&key, &chain, &c);
        assert_eq!(verify_upload(&key.public(), &chain, &c, &sig), Ok(()));
        // Another commitment (other payload, or other salt).
        for other in [commitment(&[1; 32], b"bob"), commitment(&[2; 32], b"alice")] {
            assert_eq!(
                verify_upload(&key.public(), &chain, &other, &sig),
                Err(SignatureError::Mismatch)
            );
        }
        // Another chain.
        let other_chain = ChainId(Hash::of(b"chain b"));
        assert!(verify_upload(&key.public(), &other_chain, &c, &sig).is_err());
        // Another key.
        let other_key = SecretKey::from_seed(&[8; 32]).public();
        assert!(verify_upload(&other_key, &chain, &c, &sig).is_err());
        // A record signature over the same bytes is not an upload signature.
        let record_sig = key.sign(Domain::Record, &chain.0, c.as_bytes());
        assert!(verify_upload(&key.public(), &chain, &c, &record_sig).is_err());
    }
}
