//! `NodeService`: what this validator reports about itself.

use chancery_ledger::KvStore;
use chancery_proto::v1::node_service_server::NodeService;
use chancery_proto::v1::{GetStatusRequest, GetStatusResponse};
use tonic::{Request, Response, Status};

use super::Api;

#[tonic::async_trait]
impl<K: KvStore + Send + Sync + 'static> NodeService for Api<K> {
    async fn get_status(
        &self,
        _: Request<GetStatusRequest>,
    ) -> Result<Response<GetStatusResponse>, Status> {
        let tip = self.ledger.tip();
        let rules = self.ledger.rules();
        let set = &self.validators;
        let agency = set
            .get(self.me)
            .map(|v| v.agency.to_string())
            .unwrap_or_default();
        Ok(Response::new(GetStatusResponse {
            chain_id: rules.chain_id.to_string(),
            height: tip.height,
            head_hash: tip.hash.to_string(),
            version: env!("CARGO_PKG_VERSION").to_owned(),
            chain_name: self.chain_name.clone(),
            agency,
            validator_index: self.me as u32,
            validators: set.n() as u32,
            connected_peers: self.connected.borrow().len() as u32,
            log_size: self.ledger.log_size(),
            head_time_ms: tip.timestamp.0,
        }))
    }
}
