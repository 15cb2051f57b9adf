//! The off-chain payload store: personal data referred to by a salted
//! commitment (`chancery_types::payload`), kept beside the chain and never
//! under any root, so erasing it leaves every header, proof and root as it
//! was.
//!
//! A payload is stored by its owner agency. An accepted `PayloadErase`
//! record by that agency deletes it, in the same atomic batch as the block
//! that carries the record; a stored tombstone names the erasure record.

use bincode::{Decode, Encode};
use chancery_types::encoding::DecodeCtx;
use chancery_types::{AgencyId, Bytes, Canonical, Hash, RecordId, limits};

use crate::error::{LedgerError, Result, decode_err};
use crate::kv::{Batch, Column, KvStore};
use crate::ledger::Ledger;

/// A payload as stored.
#[derive(Clone, Debug, PartialEq, Eq, Encode, Decode)]
#[bincode(decode_context = "DecodeCtx")]
pub enum StoredPayload {
    /// Present.
    Held {
        /// The agency that stored it (the only one that may erase it).
        owner: AgencyId,
        /// The commitment's salt.
        salt: [u8; 32],
        /// The payload.
        payload: Bytes<{ limits::MAX_PAYLOAD }>,
    },
    /// Erased by record `by` at block `height`.
    Erased {
        /// The agency that erased it.
        owner: AgencyId,
        /// The erasure record.
        by: RecordId,
        /// The block that carried it.
        height: u64,
    },
}

impl Canonical for StoredPayload {}

impl<K: KvStore> Ledger<K> {
    /// Stores `payload` for `owner` and returns its commitment.
    ///
    /// Storing a payload its owner already holds is a no-op. Refused: a
    /// payload over [`limits::MAX_PAYLOAD`] ([`LedgerError::PayloadTooLarge`]),
    /// a commitment that was erased ([`LedgerError::PayloadErased`]: erased
    /// data does not come back), and a commitment held for another agency
    /// ([`LedgerError::PayloadOwned`]: storing it again must not take the
    /// right to erase it away from its owner).
    pub fn store_payload(&self, owner: &AgencyId, salt: [u8; 32], payload: &[u8]) -> Result<Hash> {
        let commitment = chancery_types::payload::commitment(&salt, payload);
        let payload = Bytes::new(payload.to_vec())
            .map_err(|_| LedgerError::PayloadTooLarge { len: payload.len() })?;
        match self.payload(&commitment)? {
            Some(StoredPayload::Erased { by, height, .. }) => {
                return Err(LedgerError::PayloadErased {
                    commitment,
                    by,
                    height,
                });
            }
            Some(StoredPayload::Held { owner: held, .. }) if &held == owner => {
                return Ok(commitment);
            }
            Some(StoredPayload::Held { owner: held, .. }) => {
                return Err(LedgerError::PayloadOwned {
                    commitment,
                    owner: held,
                });
            }
            None => {}
        }
        let stored = StoredPayload::Held {
            owner: owner.clone(),
            salt,
            payload,
        };
        let mut b = Batch::new();
        b.put(Column::Payloads, commitment.0, stored.to_canonical());
        self.kv.write(b)?;
        Ok(commitment)
    }

    /// The payload with this commitment, or its tombstone.
    pub fn payload(&self, commitment: &Hash) -> Result<Option<StoredPayload>> {
        self.kv
            .get(Column::Payloads, &commitment.0)?
            .map(|v| StoredPayload::from_canonical(&v).map_err(decode_err("stored payload")))
            .transpose()
    }
}

/// Adds to `batch` the erasure of each `(commitment, issuer, record)` whose
/// payload is held by `issuer`: the payload is replaced by a tombstone.
/// When one block erases the same payload twice, the tombstone names the
/// first erasure.
pub(crate) fn erase_into<K: KvStore>(
    kv: &K,
    batch: &mut Batch,
    height: u64,
    erasures: &[(Hash, AgencyId, RecordId)],
) -> Result<()> {
    let mut done: Vec<&Hash> = Vec::new();
    for (commitment, issuer, record) in erasures {
        if done.contains(&commitment) {
            continue;
        }
        let Some(v) = kv.get(Column::Payloads, &commitment.0)? else {
            continue;
        };
        let stored = StoredPayload::from_canonical(&v).map_err(decode_err("stored payload"))?;
        if let StoredPayload::Held { owner, .. } = stored
            && &owner == issuer
        {
            let tomb = StoredPayload::Erased {
                owner,
                by: *record,
                height,
            };
            batch.put(Column::Payloads, commitment.0, tomb.to_canonical());
            done.push(commitment);
        }
    }
    Ok(())
}
