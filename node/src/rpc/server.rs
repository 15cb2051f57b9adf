//! The tonic server: the four Chancery services, `grpc.health.v1` and
//! server reflection, with message-size and per-connection limits.

use std::net::SocketAddr;

use chancery_ledger::KvStore;
use chancery_proto::FILE_DESCRIPTOR_SET;
use chancery_proto::v1::governance_service_server::GovernanceServiceServer;
use chancery_proto::v1::ledger_service_server::LedgerServiceServer;
use chancery_proto::v1::node_service_server::NodeServiceServer;
use chancery_proto::v1::payload_service_server::PayloadServiceServer;
use chancery_proto::v1::record_service_server::RecordServiceServer;
use tokio::net::TcpListener;
use tokio::sync::watch;
use tonic::transport::Server;
use tonic::transport::server::TcpIncoming;
use tracing::info;

use super::Api;

/// Room for a `PutPayload` request or `GetPayload` reply around the largest
/// payload (salt, signature, ids, framing).
const PAYLOAD_MESSAGE_BYTES: usize = chancery_types::limits::MAX_PAYLOAD + 64 * 1024;

/// Limits on what one client may ask of the server.
#[derive(Debug, Clone, Copy)]
pub struct RpcLimits {
    /// Largest request or response message, in bytes.
    pub max_message_bytes: usize,
    /// Requests in flight per connection.
    pub max_concurrent_streams: u32,
}

/// Serves the API on `listener` until `shutdown` flips, then lets calls in
/// flight finish.
pub async fn serve<K: KvStore + Send + Sync + 'static>(
    api: Api<K>,
    listener: TcpListener,
    limits: RpcLimits,
    mut shutdown: watch::Receiver<bool>,
) -> anyhow::Result<()> {
    let addr: Option<SocketAddr> = listener.local_addr().ok();
    let (health, health_service) = tonic_health::server::health_reporter();
    health.set_serving::<RecordServiceServer<Api<K>>>().await;
    health.set_serving::<LedgerServiceServer<Api<K>>>().await;
    health.set_serving::<NodeServiceServer<Api<K>>>().await;
    health.set_serving::<PayloadServiceServer<Api<K>>>().await;
    health
        .set_serving::<GovernanceServiceServer<Api<K>>>()
        .await;
    let reflection = tonic_reflection::server::Builder::configure()
        .register_encoded_file_descriptor_set(FILE_DESCRIPTOR_SET)
        .register_encoded_file_descriptor_set(tonic_health::pb::FILE_DESCRIPTOR_SET)
        .build_v1()?;
    let max = limits.max_message_bytes;
    // The payload service always admits the largest payload, whatever the
    // general limit.
    let payload_max = max.max(PAYLOAD_MESSAGE_BYTES);
    // Without TCP_NODELAY, a reply's header, data and trailer writes meet
    // the client's delayed ACK: 40 ms added to every call.
    let incoming = TcpIncoming::from(listener)
        .with_nodelay(Some(true))
        .with_keepalive(Some(std::time::Duration::from_secs(60)));
    info!(addr = ?addr, "rpc: serving");
    Server::builder()
        .concurrency_limit_per_connection(limits.max_concurrent_streams as usize)
        .max_concurrent_streams(limits.max_concurrent_streams)
        .add_service(health_service)
        .add_service(reflection)
        .add_service(
            RecordServiceServer::new(api.clone())
                .max_decoding_message_size(max)
                .max_encoding_message_size(max),
        )
        .add_service(
            LedgerServiceServer::new(api.clone())
                .max_decoding_message_size(max)
                .max_encoding_message_size(max),
        )
        .add_service(
            PayloadServiceServer::new(api.clone())
                .max_decoding_message_size(payload_max)
                .max_encoding_message_size(payload_max),
        )
        .add_service(
            GovernanceServiceServer::new(api.clone())
                .max_decoding_message_size(max)
                .max_encoding_message_size(max),
        )
        .add_service(
            NodeServiceServer::new(api)
                .max_decoding_message_size(max)
                .max_encoding_message_size(max),
        )
        .serve_with_incoming_shutdown(incoming, async move {
            let _ = shutdown.wait_for(|stop| *stop).await;
        })
        .await?;
    info!("rpc: stopped");
    Ok(())
}
