//! `LedgerService`: committed blocks with their certificates.

use chancery_ledger::KvStore;
use chancery_proto::v1::ledger_service_server::LedgerService;
use chancery_proto::v1::{GetBlockRequest, GetBlockResponse};
use chancery_types::Canonical;
use tonic::{Request, Response, Status};

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
            })),
            _ => Err(Status::not_found(format!(
                "height: no block {height}; the chain is at height {}",
                self.ledger.tip().height
            ))),
        }
    }
}
