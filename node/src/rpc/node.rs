//! `NodeService`: what this validator reports about itself.

use std::sync::atomic::Ordering;

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
        // This node's identity is its entry in the genesis set; the count and
        // its index come from the set deciding the next block.
        let genesis_entry = self.validators.get(self.me);
        let agency = genesis_entry
            .map(|v| v.agency.to_string())
            .unwrap_or_default();
        let set = self
            .ledger
            .validator_set_at(tip.height.saturating_add(1))
            .map_err(super::errors::ledger)?;
        let index = genesis_entry
            .and_then(|v| set.index_of(&v.consensus_key))
            .unwrap_or(self.me);
        let g = self.gauges.get();
        Ok(Response::new(GetStatusResponse {
            chain_id: rules.chain_id.to_string(),
            height: tip.height,
            head_hash: tip.hash.to_string(),
            version: env!("CARGO_PKG_VERSION").to_owned(),
            chain_name: self.chain_name.clone(),
            agency,
            validator_index: index as u32,
            validators: set.n() as u32,
            connected_peers: self.connected.borrow().len() as u32,
            log_size: self.ledger.log_size(),
            head_time_ms: tip.timestamp.0,
            frames_dropped: self.net_counters.dropped.load(Ordering::Relaxed),
            connections_refused: self.net_counters.refused.load(Ordering::Relaxed),
            view: g.view,
            primary_index: g.primary,
            records_waiting: g.waiting,
            oldest_waiting_ms: g.oldest_waiting_ms,
            suspects_primary: g.suspecting,
        }))
    }
}
