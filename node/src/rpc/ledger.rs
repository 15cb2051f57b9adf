//! `LedgerService`: committed blocks with their certificates.

use chancery_ledger::KvStore;
use chancery_proto::v1::ledger_service_server::LedgerService;
use chancery_proto::v1::{
    GetBlockRequest, GetBlockResponse, GetCheckpointRequest, GetCheckpointResponse,
    GetConsistencyProofRequest, GetConsistencyProofResponse, GetValidatorSetRequest,
    GetValidatorSetResponse, StreamBlocksRequest,
};
use chancery_types::Canonical;
use tonic::{Request, Response, Status};

use super::follow::Follow;
use super::{Api, errors};

#[tonic::async_trait]
impl<K: KvStore + Send + Sync + 'static> LedgerService for Api<K> {
    async fn get_block(
        &self,
        request: Request<GetBlockRequest>,
    ) -> Result<Response<GetBlockResponse>, Status> {
        let height = request.into_inner().height;
        if height == 0 {
            return Err(Status::invalid_argument(
                "height: blocks are numbered from 1 (0 is the genesis)",
            ));
        }
        let block = self.ledger.block(height).map_err(errors::ledger)?;
        let cert = self.ledger.certificate(height).map_err(errors::ledger)?;
        match (block, cert) {
            (Some(block), Some(cert)) => Ok(Response::new(GetBlockResponse {
                block_hash: block.header.hash().to_string(),
                block: block.to_canonical(),
                certificate: cert.to_canonical(),
                height,
            })),
            _ => Err(Status::not_found(format!(
                "height: no block {height}; the chain is at height {}",
                self.ledger.tip().height
            ))),
        }
    }

    type StreamBlocksStream = Follow<GetBlockResponse>;

    async fn stream_blocks(
        &self,
        request: Request<StreamBlocksRequest>,
    ) -> Result<Response<Self::StreamBlocksStream>, Status> {
        Ok(Response::new(
            self.follow_blocks(request.into_inner().from_height),
        ))
    }

    async fn get_checkpoint(
        &self,
        _: Request<GetCheckpointRequest>,
    ) -> Result<Response<GetCheckpointResponse>, Status> {
        let tip = self.ledger.tip().height;
        let header = self.ledger.header(tip).map_err(errors::ledger)?;
        let cert = self.ledger.certificate(tip).map_err(errors::ledger)?;
        match (header, cert) {
            (Some(header), Some(cert)) => Ok(Response::new(GetCheckpointResponse {
                height: tip,
                block_hash: header.hash().to_string(),
                log_size: header.log_size,
                log_root: header.log_root.to_string(),
                header: header.to_canonical(),
                certificate: cert.to_canonical(),
            })),
            _ => Err(Status::not_found("no block has been committed yet")),
        }
    }

    async fn get_validator_set(
        &self,
        request: Request<GetValidatorSetRequest>,
    ) -> Result<Response<GetValidatorSetResponse>, Status> {
        let tip = self.ledger.tip().height;
        let height = match request.into_inner().height {
            0 => tip,
            h if h > tip => {
                return Err(Status::not_found(format!(
                    "height: {h} is beyond the chain (at height {tip})"
                )));
            }
            h => h,
        };
        // The genesis set, or the latest change scheduled from `height` or before.
        let set = self
            .ledger
            .validator_set_at(height)
            .map_err(errors::ledger)?;
        Ok(Response::new(GetValidatorSetResponse {
            height,
            validator_set: set.to_canonical(),
            validators_json: serde_json::to_string(&set).unwrap_or_default(),
            hash: set.hash().to_string(),
        }))
    }

    async fn get_consistency_proof(
        &self,
        request: Request<GetConsistencyProofRequest>,
    ) -> Result<Response<GetConsistencyProofResponse>, Status> {
        let req = request.into_inner();
        let tip = self.ledger.tip().height;
        let to = if req.to_height == 0 {
            tip
        } else {
            req.to_height
        };
        if req.from_height == 0 || req.from_height > to {
            return Err(Status::invalid_argument(format!(
                "from_height: must be between 1 and to_height ({to})"
            )));
        }
        match self
            .ledger
            .consistency_bundle(req.from_height, to)
            .map_err(errors::ledger)?
        {
            Some(b) => Ok(Response::new(GetConsistencyProofResponse {
                bundle_json: serde_json::to_string_pretty(&b).unwrap_or_default(),
                bundle: b.to_canonical(),
            })),
            None => Err(Status::not_found(format!(
                "to_height: {to} is beyond the chain (at height {tip})"
            ))),
        }
    }
}
