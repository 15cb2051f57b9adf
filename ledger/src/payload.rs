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
    /// Stores `payload` for `owner` and returns its commitment. Storing the
    /// same payload again is a no-op; a commitment that was erased cannot
    /// be stored again.
    pub fn store_payload(&self, owner: &AgencyId, salt: [u8; 32], payload: &[u8]) -> Result<Hash> {
        let commitment = chancery_types::payload::commitment(&salt, payload);
        if let Some(StoredPayload::Erased { by, .. }) = self.payload(&commitment)? {
            return Err(LedgerError::PayloadErased { commitment, by });
        }
        let payload = Bytes::new(payload.to_vec())
            .map_err(|_| LedgerError::PayloadTooLarge { len: payload.len() })?;
        let stored = StoredPayload::Held {
            owner: owner.clone(),
            salt,
            payload,
        };
        let mut b = Batch::new();
        b.put(
            Column::Payloads,
            commitment.0.to_vec(),
            stored.to_canonical(),
        );
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
pub(crate) fn erase_into<K: KvStore>(
    kv: &K,
    batch: &mut Batch,
    height: u64,
    erasures: &[(Hash, AgencyId, RecordId)],
) -> Result<()> {
    for (commitment, issuer, record) in erasures {
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
            batch.put(Column::Payloads, commitment.0.to_vec(), tomb.to_canonical());
        }
    }
    Ok(())
}
