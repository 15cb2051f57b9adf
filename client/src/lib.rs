//! # chancery-client
//!
//! A typed client for a Chancery node's gRPC API, over the generated
//! tonic clients in `chancery-proto`.
//!
//! ```text
//!  Client::connect("http://127.0.0.1:27200")
//!    ├─ status()                  NodeService.GetStatus
//!    ├─ submit(&record, wait)     RecordService.SubmitRecord
//!    ├─ record(&id)               RecordService.GetRecord
//!    ├─ proof(&id)                RecordService.GetProof  → ProofBundle
//!    ├─ submit_many(&records, wait) RecordService.SubmitRecords
//!    ├─ query(filter, cursor, n)  RecordService.QueryRecords (pages)
//!    ├─ watch(filter, from)       RecordService.WatchRecords (stream)
//!    ├─ block(height)             LedgerService.GetBlock  → Block, certificate
//!    ├─ stream_blocks(from)       LedgerService.StreamBlocks (stream)
//!    ├─ checkpoint()              LedgerService.GetCheckpoint
//!    ├─ validator_set(height)     LedgerService.GetValidatorSet
//!    ├─ consistency(from, to)     LedgerService.GetConsistencyProof → ConsistencyBundle
//!    ├─ put_payload(..)           PayloadService.PutPayload (see [`payloads`])
//!    └─ payload(&commitment)      PayloadService.GetPayload
//! ```
//!
//! Every call returns [`ClientError`]: either the node's gRPC status (its
//! code and message, e.g. `ALREADY_EXISTS`), a transport failure, or a
//! reply that does not decode. See `examples/submit.rs`.
#![cfg_attr(
    not(test),
    deny(clippy::unwrap_used, clippy::expect_used, clippy::panic)
)]

pub mod governance;
pub mod payloads;

use std::time::Duration;

use chancery_proto::v1::ledger_service_client::LedgerServiceClient;
use chancery_proto::v1::node_service_client::NodeServiceClient;
use chancery_proto::v1::payload_service_client::PayloadServiceClient;
use chancery_proto::v1::record_service_client::RecordServiceClient;
use chancery_proto::v1::{
    GetBlockRequest, GetCheckpointRequest, GetConsistencyProofRequest, GetProofRequest,
    GetRecordRequest, GetStatusRequest, GetValidatorSetRequest, QueryRecordsRequest,
    StreamBlocksRequest, SubmitRecordRequest, SubmitRecordsRequest, WatchRecordsRequest,
};
use chancery_types::{
    Block, Canonical, CommitCertificate, ConsistencyBundle, ProofBundle, RecordId, SignedRecord,
};
use tonic::transport::{Channel, Endpoint};

pub use chancery_proto::v1::{
    Commitment, GetBlockResponse, GetCheckpointResponse, GetRecordResponse, GetStatusResponse,
    GetValidatorSetResponse, QueryRecordsResponse, RecordFilter, RecordItem, SubmitResult,
};
pub use tonic::Code;
pub use tonic::Streaming;

/// What went wrong with a call.
#[derive(Debug, thiserror::Error)]
pub enum ClientError {
    /// The address is not a valid endpoint URI.
    #[error("invalid node address `{addr}`: {detail}")]
    Address {
        /// The address given.
        addr: String,
        /// Why.
        detail: String,
    },
    /// No connection to the node.
    #[error("cannot reach node at {addr}: {detail}")]
    Connect {
        /// The address.
        addr: String,
        /// Why.
        detail: String,
    },
    /// The node answered with an error status.
    #[error("{}: {message}", code_name(*.code))]
    Status {
        /// The gRPC code.
        code: Code,
        /// The node's message, naming the problem.
        message: String,
    },
    /// The node's reply does not decode.
    #[error("the node's reply does not decode: {0}")]
    Decode(String),
    /// The operating system's random number generator failed.
    #[error("the operating system's random number generator failed: {0}")]
    Random(String),
}

impl ClientError {
    /// The gRPC code, when the node answered.
    pub fn code(&self) -> Option<Code> {
        match self {
            ClientError::Status { code, .. } => Some(*code),
            _ => None,
        }
    }
}

impl From<tonic::Status> for ClientError {
    fn from(s: tonic::Status) -> Self {
        ClientError::Status {
            code: s.code(),
            message: s.message().to_owned(),
        }
    }
}

/// The canonical upper-case name of a gRPC code (`NOT_FOUND`).
pub fn code_name(code: Code) -> &'static str {
    match code {
        Code::Ok => "OK",
        Code::Cancelled => "CANCELLED",
        Code::Unknown => "UNKNOWN",
        Code::InvalidArgument => "INVALID_ARGUMENT",
        Code::DeadlineExceeded => "DEADLINE_EXCEEDED",
        Code::NotFound => "NOT_FOUND",
        Code::AlreadyExists => "ALREADY_EXISTS",
        Code::PermissionDenied => "PERMISSION_DENIED",
        Code::ResourceExhausted => "RESOURCE_EXHAUSTED",
        Code::FailedPrecondition => "FAILED_PRECONDITION",
        Code::Aborted => "ABORTED",
        Code::OutOfRange => "OUT_OF_RANGE",
        Code::Unimplemented => "UNIMPLEMENTED",
        Code::Internal => "INTERNAL",
        Code::Unavailable => "UNAVAILABLE",
        Code::DataLoss => "DATA_LOSS",
        Code::Unauthenticated => "UNAUTHENTICATED",
    }
}

/// The outcome of a submission.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Submitted {
    /// The record's id.
    pub id: RecordId,
    /// Where it committed, when the submission waited for it.
    pub commitment: Option<Commitment>,
}

/// A connection to one node.
#[derive(Debug, Clone)]
pub struct Client {
    records: RecordServiceClient<Channel>,
    ledger: LedgerServiceClient<Channel>,
    node: NodeServiceClient<Channel>,
    payloads: PayloadServiceClient<Channel>,
}

/// A channel to `addr` (`http://host:port`, or `host:port`).
pub(crate) async fn channel(addr: &str) -> Result<Channel, ClientError> {
    let uri = if addr.contains("://") {
        addr.to_owned()
    } else {
        format!("http://{addr}")
    };
    let endpoint = Endpoint::from_shared(uri).map_err(|e| ClientError::Address {
        addr: addr.to_owned(),
        detail: e.to_string(),
    })?;
    endpoint
        .connect_timeout(Duration::from_secs(5))
        .connect()
        .await
        .map_err(|e| ClientError::Connect {
            addr: addr.to_owned(),
            detail: source_chain(&e),
        })
}

/// Largest reply accepted (proof bundles and blocks).
const MAX_MESSAGE: usize = 64 * 1024 * 1024;

impl Client {
    /// Connects to `addr` (`http://host:port`, or `host:port`).
    pub async fn connect(addr: &str) -> Result<Self, ClientError> {
        let channel = channel(addr).await?;
        Ok(Client {
            records: RecordServiceClient::new(channel.clone())
                .max_decoding_message_size(MAX_MESSAGE),
            ledger: LedgerServiceClient::new(channel.clone())
                .max_decoding_message_size(MAX_MESSAGE),
            payloads: PayloadServiceClient::new(channel.clone())
                .max_decoding_message_size(MAX_MESSAGE)
                .max_encoding_message_size(MAX_MESSAGE),
            node: NodeServiceClient::new(channel),
        })
    }

    /// The node's status.
    pub async fn status(&mut self) -> Result<GetStatusResponse, ClientError> {
        Ok(self
            .node
            .get_status(GetStatusRequest {})
            .await?
            .into_inner())
    }

    /// Submits one signed record; with `wait`, answers once it committed.
    pub async fn submit(
        &mut self,
        record: &SignedRecord,
        wait: bool,
    ) -> Result<Submitted, ClientError> {
        self.submit_bytes(record.to_canonical(), wait).await
    }

    /// Submits one record given as canonical bytes.
    pub async fn submit_bytes(
        &mut self,
        signed_record: Vec<u8>,
        wait: bool,
    ) -> Result<Submitted, ClientError> {
        let reply = self
            .records
            .submit_record(SubmitRecordRequest {
                signed_record,
                wait_for_commit: wait,
            })
            .await?
            .into_inner();
        let id = reply
            .record_id
            .parse()
            .map_err(|e| ClientError::Decode(format!("record_id: {e}")))?;
        Ok(Submitted {
            id,
            commitment: reply.commitment,
        })
    }

    /// A committed record with its commitment and current status.
    pub async fn record(&mut self, id: &RecordId) -> Result<GetRecordResponse, ClientError> {
        Ok(self
            .records
            .get_record(GetRecordRequest {
                record_id: id.to_string(),
            })
            .await?
            .into_inner())
    }

    /// The proof bundle of a committed record (decoded from its binary form).
    pub async fn proof(&mut self, id: &RecordId) -> Result<ProofBundle, ClientError> {
        let reply = self
            .records
            .get_proof(GetProofRequest {
                record_id: id.to_string(),
            })
            .await?
            .into_inner();
        ProofBundle::from_canonical(&reply.bundle).map_err(|e| ClientError::Decode(e.to_string()))
    }

    /// Like [`Client::proof`], retrying while the node answers UNAVAILABLE
    /// (the record's log entry is not certified yet), up to `patience`.
    pub async fn proof_when_ready(
        &mut self,
        id: &RecordId,
        patience: Duration,
    ) -> Result<ProofBundle, ClientError> {
        let deadline = std::time::Instant::now() + patience;
        loop {
            match self.proof(id).await {
                Err(e)
                    if e.code() == Some(Code::Unavailable)
                        && std::time::Instant::now() < deadline =>
                {
                    tokio::time::sleep(Duration::from_millis(50)).await
                }
                other => return other,
            }
        }
    }

    /// Submits many records in one call; one result per record, in order.
    pub async fn submit_many(
        &mut self,
        records: &[SignedRecord],
        wait: bool,
    ) -> Result<Vec<SubmitResult>, ClientError> {
        let reply = self
            .records
            .submit_records(SubmitRecordsRequest {
                signed_records: records.iter().map(|r| r.to_canonical()).collect(),
                wait_for_commit: wait,
            })
            .await?
            .into_inner();
        Ok(reply.results)
    }

    /// One page of committed records matching `filter`.
    pub async fn query(
        &mut self,
        filter: RecordFilter,
        cursor: &str,
        limit: u32,
    ) -> Result<QueryRecordsResponse, ClientError> {
        Ok(self
            .records
            .query_records(QueryRecordsRequest {
                filter: Some(filter),
                cursor: cursor.to_owned(),
                limit,
            })
            .await?
            .into_inner())
    }

    /// Follows committed records matching `filter` from log index `from`.
    pub async fn watch(
        &mut self,
        filter: RecordFilter,
        from: u64,
    ) -> Result<Streaming<RecordItem>, ClientError> {
        Ok(self
            .records
            .watch_records(WatchRecordsRequest {
                filter: Some(filter),
                from_log_index: from,
            })
            .await?
            .into_inner())
    }

    /// Follows committed blocks from `from`.
    pub async fn stream_blocks(
        &mut self,
        from: u64,
    ) -> Result<Streaming<GetBlockResponse>, ClientError> {
        Ok(self
            .ledger
            .stream_blocks(StreamBlocksRequest { from_height: from })
            .await?
            .into_inner())
    }

    /// The latest committed header and its certificate.
    pub async fn checkpoint(&mut self) -> Result<GetCheckpointResponse, ClientError> {
        Ok(self
            .ledger
            .get_checkpoint(GetCheckpointRequest {})
            .await?
            .into_inner())
    }

    /// The validator set at `height` (0: latest).
    pub async fn validator_set(
        &mut self,
        height: u64,
    ) -> Result<GetValidatorSetResponse, ClientError> {
        Ok(self
            .ledger
            .get_validator_set(GetValidatorSetRequest { height })
            .await?
            .into_inner())
    }

    /// Proof that the log at `to` (0: latest) extends the log at `from`.
    pub async fn consistency(
        &mut self,
        from: u64,
        to: u64,
    ) -> Result<ConsistencyBundle, ClientError> {
        let reply = self
            .ledger
            .get_consistency_proof(GetConsistencyProofRequest {
                from_height: from,
                to_height: to,
            })
            .await?
            .into_inner();
        ConsistencyBundle::from_canonical(&reply.bundle)
            .map_err(|e| ClientError::Decode(e.to_string()))
    }

    /// A committed block and its certificate.
    pub async fn block(&mut self, height: u64) -> Result<(Block, CommitCertificate), ClientError> {
        let reply = self
            .ledger
            .get_block(GetBlockRequest { height })
            .await?
            .into_inner();
        let block =
            Block::from_canonical(&reply.block).map_err(|e| ClientError::Decode(e.to_string()))?;
        let cert = CommitCertificate::from_canonical(&reply.certificate)
            .map_err(|e| ClientError::Decode(e.to_string()))?;
        Ok((block, cert))
    }
}

fn source_chain(e: &dyn std::error::Error) -> String {
    let mut s = e.to_string();
    let mut cur = e.source();
    while let Some(inner) = cur {
        s.push_str(": ");
        s.push_str(&inner.to_string());
        cur = inner.source();
    }
    s
}
