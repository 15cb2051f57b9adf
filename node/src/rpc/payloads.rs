//! `PayloadService`: this node's off-chain payload store.
//!
//! ```text
//!  PutPayload { issuer, key_id, salt, payload, signature }
//!    ├─ payload ≤ MAX_PAYLOAD, salt 32 bytes, signature 64 bytes
//!    ├─ issuer registered; key_id one of its issuer keys, usable now
//!    ├─ commitment = H(salt ‖ payload); signature by that key over it
//!    └─ Ledger::store_payload ──► commitment
//!  GetPayload { commitment } ──► Ledger::payload: held, erased (tombstone) or unknown
//! ```
//!
//! Every refusal names the field or the fact that failed (docs/API.md).

use std::time::{SystemTime, UNIX_EPOCH};

use chancery_ledger::KvStore;
use chancery_ledger::payload::StoredPayload;
use chancery_proto::v1::payload_service_server::PayloadService;
use chancery_proto::v1::{
    GetPayloadRequest, GetPayloadResponse, PutPayloadRequest, PutPayloadResponse,
};
use chancery_types::payload::{commitment, verify_upload};
use chancery_types::{AgencyId, Hash, KeyId, Signature, Timestamp, limits};
use tonic::{Request, Response, Status};

use super::{Api, errors};

#[tonic::async_trait]
impl<K: KvStore + Send + Sync + 'static> PayloadService for Api<K> {
    async fn put_payload(
        &self,
        request: Request<PutPayloadRequest>,
    ) -> Result<Response<PutPayloadResponse>, Status> {
        let req = request.into_inner();
        let checked = self.check_upload(&req)?;
        let ledger = self.ledger.clone();
        let PutPayloadRequest { payload, .. } = req;
        // Up to 4 MiB written synchronously: off the async workers.
        let stored = tokio::task::spawn_blocking(move || {
            ledger.store_payload(&checked.owner, checked.salt, &payload)
        })
        .await
        .map_err(|e| Status::internal(format!("payload store task failed: {e}")))?;
        let c = stored.map_err(errors::payload)?;
        Ok(Response::new(PutPayloadResponse {
            commitment: c.to_string(),
        }))
    }

    async fn get_payload(
        &self,
        request: Request<GetPayloadRequest>,
    ) -> Result<Response<GetPayloadResponse>, Status> {
        let text = request.into_inner().commitment;
        let c: Hash = text.parse().map_err(|e| {
            Status::invalid_argument(format!(
                "commitment: `{text}` is not a commitment (64 hex digits): {e}"
            ))
        })?;
        match self.ledger.payload(&c).map_err(errors::ledger)? {
            None => Err(Status::not_found(format!(
                "payload {c} is not held by this node (payloads stay at the node they were \
                 uploaded to)"
            ))),
            Some(StoredPayload::Erased { by, height, .. }) => Err(Status::not_found(format!(
                "payload {c} was erased by record {by} at height {height}"
            ))),
            Some(StoredPayload::Held {
                owner,
                salt,
                payload,
            }) => Ok(Response::new(GetPayloadResponse {
                owner: owner.to_string(),
                salt: salt.to_vec(),
                payload: payload.into_vec(),
            })),
        }
    }
}

/// An upload that passed every check but the store's own.
struct Upload {
    owner: AgencyId,
    salt: [u8; 32],
}

impl<K: KvStore> Api<K> {
    /// The checks of `PutPayload`, cheapest first; each refusal names its field.
    fn check_upload(&self, req: &PutPayloadRequest) -> Result<Upload, Status> {
        if req.payload.len() > limits::MAX_PAYLOAD {
            return Err(Status::invalid_argument(format!(
                "payload: {} bytes; the limit is {} bytes",
                req.payload.len(),
                limits::MAX_PAYLOAD
            )));
        }
        let salt: [u8; 32] = req.salt.as_slice().try_into().map_err(|_| {
            Status::invalid_argument(format!(
                "salt: {} bytes; it must be exactly 32 random bytes (the client draws it)",
                req.salt.len()
            ))
        })?;
        let signature = Signature(req.signature.as_slice().try_into().map_err(|_| {
            Status::invalid_argument(format!(
                "signature: {} bytes; an ed25519 signature is 64 bytes",
                req.signature.len()
            ))
        })?);
        let owner = AgencyId::new(req.issuer.as_str())
            .map_err(|e| Status::invalid_argument(format!("issuer: {e}")))?;
        let key_id: KeyId = req.key_id.parse().map_err(|e| {
            Status::invalid_argument(format!(
                "key_id: `{}` is not a key id (32 hex digits): {e}",
                req.key_id
            ))
        })?;
        let rules = self.ledger.rules();
        if !rules.agencies.contains_key(&owner) {
            return Err(Status::invalid_argument(format!(
                "issuer: agency `{owner}` is not registered"
            )));
        }
        let key = rules.issuer_key(&owner, &key_id).ok_or_else(|| {
            Status::invalid_argument(format!(
                "key_id: {key_id} is not an issuer key of `{owner}`"
            ))
        })?;
        if !key.usable_at(now()) {
            return Err(Status::invalid_argument(format!(
                "key_id: issuer key {key_id} of `{owner}` is not usable now (outside its \
                 validity window, or revoked)"
            )));
        }
        let c = commitment(&salt, &req.payload);
        verify_upload(&key.key.public, &self.ledger.chain_id(), &c, &signature).map_err(|e| {
            Status::invalid_argument(format!(
                "signature: not a valid upload signature by key {key_id} of `{owner}` over \
                 commitment {c} (the commitment of this salt and payload, on this chain): {e}"
            ))
        })?;
        Ok(Upload { owner, salt })
    }
}

fn now() -> Timestamp {
    Timestamp(
        SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map(|d| d.as_millis() as u64)
            .unwrap_or(0),
    )
}
