//! Off-chain payloads (`PayloadService`): store personal data at a node
//! under a salted commitment, and read it back.
//!
//! ```text
//!  put_payload(issuer, key, chain, payload)
//!    salt ← 32 bytes from the OS CSPRNG
//!    commitment = blake3("chancery/v1/payload" 0x00 ‖ salt ‖ payload)
//!    signature  = key.sign(PayloadUpload, chain, commitment)
//!    PutPayload { issuer, key_id, salt, payload, signature } ──► (commitment, salt)
//!  payload(&commitment) ──► GetPayload ──► Payload (checked against the commitment)
//! ```
//!
//! Put the commitment (hex) in a record's body; keep the salt only where
//! the payload itself may be kept. An erased payload answers `NOT_FOUND`,
//! naming the erasure record (docs/ERASURE.md).

use chancery_proto::v1::{GetPayloadRequest, PutPayloadRequest};
use chancery_types::payload::{commitment, sign_upload};
use chancery_types::{AgencyId, ChainId, Hash, SecretKey};
use rand_core::RngCore;

use crate::{Client, ClientError};

/// A payload as a node holds it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Payload {
    /// The agency that stored it (the only one that may erase it).
    pub owner: AgencyId,
    /// The commitment's salt.
    pub salt: [u8; 32],
    /// The payload.
    pub payload: Vec<u8>,
}

/// 32 bytes from the operating system's CSPRNG.
pub fn random_salt() -> Result<[u8; 32], ClientError> {
    let mut salt = [0u8; 32];
    rand_core::OsRng
        .try_fill_bytes(&mut salt)
        .map_err(|e| ClientError::Random(e.to_string()))?;
    Ok(salt)
}

impl Client {
    /// Stores `payload` at this node for agency `issuer`, under a fresh
    /// random salt, signed with `key` (one of the agency's issuer keys) for
    /// `chain`. Returns the commitment and the salt.
    pub async fn put_payload(
        &mut self,
        issuer: &AgencyId,
        key: &SecretKey,
        chain: &ChainId,
        payload: &[u8],
    ) -> Result<(Hash, [u8; 32]), ClientError> {
        let salt = random_salt()?;
        let c = self
            .put_payload_with_salt(issuer, key, chain, salt, payload)
            .await?;
        Ok((c, salt))
    }

    /// Like [`Client::put_payload`] with a salt of the caller's choosing
    /// (it must be random and secret: a guessable salt lets anyone test
    /// guesses of the payload against the public commitment).
    pub async fn put_payload_with_salt(
        &mut self,
        issuer: &AgencyId,
        key: &SecretKey,
        chain: &ChainId,
        salt: [u8; 32],
        payload: &[u8],
    ) -> Result<Hash, ClientError> {
        let c = commitment(&salt, payload);
        let signature = sign_upload(key, chain, &c);
        let reply = self
            .payloads
            .put_payload(PutPayloadRequest {
                issuer: issuer.to_string(),
                key_id: key.public().key_id().to_string(),
                salt: salt.to_vec(),
                payload: payload.to_vec(),
                signature: signature.0.to_vec(),
            })
            .await?
            .into_inner();
        let stored: Hash = reply
            .commitment
            .parse()
            .map_err(|e| ClientError::Decode(format!("commitment: {e}")))?;
        if stored != c {
            return Err(ClientError::Decode(format!(
                "the node stored commitment {stored}; the payload's commitment is {c}"
            )));
        }
        Ok(c)
    }

    /// The payload with this commitment, checked against it. `NOT_FOUND`
    /// when this node does not hold it, or when it was erased (the message
    /// names the erasure record and height).
    pub async fn payload(&mut self, c: &Hash) -> Result<Payload, ClientError> {
        let reply = self
            .payloads
            .get_payload(GetPayloadRequest {
                commitment: c.to_string(),
            })
            .await?
            .into_inner();
        let owner = AgencyId::new(reply.owner.as_str())
            .map_err(|e| ClientError::Decode(format!("owner: {e}")))?;
        let salt: [u8; 32] = reply.salt.as_slice().try_into().map_err(|_| {
            ClientError::Decode(format!("salt: {} bytes, not 32", reply.salt.len()))
        })?;
        if commitment(&salt, &reply.payload) != *c {
            return Err(ClientError::Decode(format!(
                "the salt and payload the node returned do not match commitment {c}"
            )));
        }
        Ok(Payload {
            owner,
            salt,
            payload: reply.payload,
        })
    }
}
