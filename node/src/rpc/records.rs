//! `RecordService`: submit, read and prove records.

use std::collections::{HashMap, HashSet};

use chancery_ledger::{BundleLookup, KvStore, RecordView};
use chancery_proto::v1::record_service_server::RecordService;
use chancery_proto::v1::{
    Commitment, GetProofRequest, GetProofResponse, GetRecordRequest, GetRecordResponse,
    QueryRecordsRequest, QueryRecordsResponse, RecordItem, SubmitRecordRequest,
    SubmitRecordResponse, SubmitRecordsRequest, SubmitRecordsResponse, SubmitResult,
    WatchRecordsRequest,
};
use chancery_types::state_proof::{Status as SubjectStatus, record_state_key};
use chancery_types::{Canonical, RecordId};
use tokio::sync::broadcast::{self, error::RecvError};
use tokio::sync::oneshot;
use tonic::{Request, Response, Status};

use super::follow::Follow;
use super::{Api, errors, filter};
use crate::mempool::AdmitError;
use crate::runtime::{Command, CommitEvent};

#[tonic::async_trait]
impl<K: KvStore + Send + Sync + 'static> RecordService for Api<K> {
    async fn submit_record(
        &self,
        request: Request<SubmitRecordRequest>,
    ) -> Result<Response<SubmitRecordResponse>, Status> {
        let req = request.into_inner();
        // Subscribe before submitting, so the commit cannot slip past.
        let events = req.wait_for_commit.then(|| self.commits.subscribe());
        let (reply, answer) = oneshot::channel();
        self.commands
            .send(Command::Submit {
                records: vec![req.signed_record],
                reply,
            })
            .await
            .map_err(|_| errors::stopping())?;
        let id = answer
            .await
            .map_err(|_| errors::stopping())?
            .into_iter()
            .next()
            .ok_or_else(|| Status::internal("the runtime gave no answer for the record"))?
            .map_err(|e| errors::admit(&e))?;
        let commitment = match events {
            Some(events) => self.wait_for_all(&[id], events).await?.remove(&id),
            None => None,
        };
        Ok(Response::new(SubmitRecordResponse {
            record_id: id.to_string(),
            commitment,
        }))
    }

    async fn submit_records(
        &self,
        request: Request<SubmitRecordsRequest>,
    ) -> Result<Response<SubmitRecordsResponse>, Status> {
        let req = request.into_inner();
        if req.signed_records.len() > MAX_BATCH {
            return Err(Status::invalid_argument(format!(
                "signed_records: {} records; at most {MAX_BATCH} per call",
                req.signed_records.len()
            )));
        }
        let events = req.wait_for_commit.then(|| self.commits.subscribe());
        // Ids for refusals too (the id hashes the bytes); the runtime
        // decodes each record once, and one that does not decode has none.
        let ids: Vec<RecordId> = req
            .signed_records
            .iter()
            .map(|b| RecordId(chancery_types::Hash::of(b)))
            .collect();
        let (reply, answer) = oneshot::channel();
        self.commands
            .send(Command::Submit {
                records: req.signed_records,
                reply,
            })
            .await
            .map_err(|_| errors::stopping())?;
        let admitted = answer.await.map_err(|_| errors::stopping())?;
        let mut results: Vec<SubmitResult> = admitted
            .iter()
            .zip(ids)
            .map(|(r, record_id)| match r {
                Ok(id) => SubmitResult {
                    record_id: id.to_string(),
                    ..Default::default()
                },
                Err(e) => {
                    let status = errors::admit(e);
                    let record_id = match e {
                        AdmitError::Decode(_) => String::new(),
                        _ => record_id.to_string(),
                    };
                    SubmitResult {
                        record_id,
                        code: status.code() as u32,
                        error: status.message().to_owned(),
                        commitment: None,
                    }
                }
            })
            .collect();
        if let Some(events) = events {
            let waiting: Vec<RecordId> = admitted.iter().flatten().copied().collect();
            let mut done = self.wait_for_all(&waiting, events).await?;
            for (result, r) in results.iter_mut().zip(&admitted) {
                if let Ok(id) = r {
                    result.commitment = done.remove(id);
                }
            }
        }
        Ok(Response::new(SubmitRecordsResponse { results }))
    }

    async fn query_records(
        &self,
        request: Request<QueryRecordsRequest>,
    ) -> Result<Response<QueryRecordsResponse>, Status> {
        let req = request.into_inner();
        let query = filter::query(req.filter)?;
        let cursor = filter::cursor(&req.cursor)?;
        let limit = filter::limit(req.limit)?;
        let page = self
            .ledger
            .search(&query, cursor, limit, 10 * limit.max(1000))
            .map_err(errors::ledger)?;
        Ok(Response::new(QueryRecordsResponse {
            records: page.items.iter().map(filter::item).collect(),
            next_cursor: page.next.map(|c| c.to_string()).unwrap_or_default(),
        }))
    }

    type WatchRecordsStream = Follow<RecordItem>;

    async fn watch_records(
        &self,
        request: Request<WatchRecordsRequest>,
    ) -> Result<Response<Self::WatchRecordsStream>, Status> {
        let req = request.into_inner();
        let query = filter::query(req.filter)?;
        Ok(Response::new(self.watch(query, req.from_log_index)))
    }

    async fn get_record(
        &self,
        request: Request<GetRecordRequest>,
    ) -> Result<Response<GetRecordResponse>, Status> {
        let id = errors::record_id("record_id", &request.into_inner().record_id)?;
        let view = self.committed(&id)?;
        let status = self
            .ledger
            .status(&record_state_key(&view.record.record))
            .map_err(errors::ledger)?;
        Ok(Response::new(GetRecordResponse {
            signed_record: view.record.to_canonical(),
            record_json: serde_json::to_string(&view.record).unwrap_or_default(),
            commitment: Some(commitment(&view)),
            status: status_label(status.as_ref()).to_owned(),
            status_json: serde_json::to_string(&status).unwrap_or_default(),
        }))
    }

    async fn get_proof(
        &self,
        request: Request<GetProofRequest>,
    ) -> Result<Response<GetProofResponse>, Status> {
        let id = errors::record_id("record_id", &request.into_inner().record_id)?;
        match self.ledger.proof_bundle(&id).map_err(errors::ledger)? {
            BundleLookup::Unknown => Err(not_committed(&id)),
            BundleLookup::Pending {
                height,
                certified_at,
            } => Err(Status::unavailable(format!(
                "record {id} was committed at height {height}; its proof is ready once \
                 height {certified_at} is committed (now {}); retry shortly",
                self.ledger.tip().height
            ))),
            BundleLookup::Ready(bundle) => Ok(Response::new(GetProofResponse {
                bundle_json: serde_json::to_string_pretty(&*bundle).unwrap_or_default(),
                bundle: bundle.to_canonical(),
            })),
        }
    }
}

/// Records per `SubmitRecords` call, at most.
const MAX_BATCH: usize = 10_000;

impl<K: KvStore + Send + Sync + 'static> Api<K> {
    /// Waits until every record in `ids` committed and gives each one's
    /// commitment: from the commit events (the first block that holds the
    /// record, as a ledger lookup would find it), or from the ledger
    /// whenever events were missed (a lagging subscriber), so no commit
    /// goes unseen.
    async fn wait_for_all(
        &self,
        ids: &[RecordId],
        mut events: broadcast::Receiver<CommitEvent>,
    ) -> Result<HashMap<RecordId, Commitment>, Status> {
        let mut pending: HashSet<RecordId> = ids.iter().copied().collect();
        let mut done = HashMap::with_capacity(ids.len());
        let deadline = tokio::time::Instant::now() + self.commit_timeout;
        while !pending.is_empty() {
            match tokio::time::timeout_at(deadline, events.recv()).await {
                Err(_) => {
                    return Err(Status::deadline_exceeded(format!(
                        "{} of {} admitted records did not commit within {:?}; \
                         they may still commit: look them up with GetRecord",
                        pending.len(),
                        ids.len(),
                        self.commit_timeout
                    )));
                }
                Ok(Ok(event)) => {
                    for (i, (id, result)) in event.records.iter().enumerate() {
                        if pending.remove(id) {
                            let c = Commitment {
                                height: event.height,
                                result: errors::result_label(result),
                                log_index: event.first_log_index + i as u64,
                                committed_at_ms: event.timestamp.0,
                            };
                            done.insert(*id, c);
                        }
                    }
                }
                Ok(Err(RecvError::Lagged(_))) => {
                    pending.retain(|id| match self.ledger.record(id) {
                        Ok(Some(view)) => {
                            done.insert(*id, commitment(&view));
                            false
                        }
                        _ => true,
                    });
                }
                Ok(Err(RecvError::Closed)) => return Err(errors::stopping()),
            }
        }
        Ok(done)
    }

    fn committed(&self, id: &RecordId) -> Result<RecordView, Status> {
        self.ledger
            .record(id)
            .map_err(errors::ledger)?
            .ok_or_else(|| not_committed(id))
    }
}

fn not_committed(id: &RecordId) -> Status {
    Status::not_found(format!("record_id: no committed record {id}"))
}

pub(super) fn commitment(view: &RecordView) -> Commitment {
    Commitment {
        height: view.height,
        result: errors::result_label(&view.result),
        log_index: view.log_index,
        committed_at_ms: view.committed_at.0,
    }
}

/// The one-word state of a subject.
fn status_label(status: Option<&SubjectStatus>) -> &'static str {
    use chancery_types::state_proof::{GrantState as G, LicenceState as L};
    match status {
        None => "none",
        Some(SubjectStatus::Licence(l)) => match l.state {
            L::Active => "active",
            L::Suspended => "suspended",
            L::Revoked => "revoked",
            L::Expired => "expired",
        },
        Some(SubjectStatus::Grant(g)) => match g.state {
            G::Active => "active",
            G::Revoked => "revoked",
            G::Expired => "expired",
        },
        Some(SubjectStatus::Access(_)) => "logged",
        Some(SubjectStatus::Proposal(_)) => "applied",
        Some(SubjectStatus::Erasure(_)) => "erased",
        Some(SubjectStatus::IssuerKey(k)) if k.revoked_at.is_some() => "revoked",
        Some(SubjectStatus::IssuerKey(_)) => "active",
        Some(SubjectStatus::Validators(_)) => "scheduled",
    }
}
