//! From the node's errors to gRPC statuses, with messages naming the problem.
//!
//! | cause                                      | code               |
//! |--------------------------------------------|--------------------|
//! | undecodable record, bad id, bad signature, |                    |
//! | unknown issuer or key, body too large,     |                    |
//! | bad payload upload (salt, key, signature,  |                    |
//! | size)                                      | INVALID_ARGUMENT   |
//! | record already pending or committed,       |                    |
//! | payload held for another agency            | ALREADY_EXISTS     |
//! | refused by policy, deny list or governance,|                    |
//! | upload of an erased payload                | FAILED_PRECONDITION|
//! | no such record, block or payload; payload  |                    |
//! | erased                                     | NOT_FOUND          |
//! | mempool full, or backlog over its bound    | RESOURCE_EXHAUSTED |
//! | proof not yet certified, node stopping     | UNAVAILABLE        |
//! | commit not seen within the timeout         | DEADLINE_EXCEEDED  |
//! | storage failure                            | INTERNAL           |

use chancery_ledger::LedgerError;
use chancery_types::{ExecResult, RecordId};
use tonic::Status;
use tracing::error;

use crate::mempool::AdmitError;

/// The status for a refused submission.
pub fn admit(e: &AdmitError) -> Status {
    let msg = e.to_string();
    match e {
        AdmitError::Duplicate(_) => Status::already_exists(msg),
        AdmitError::Full { .. } | AdmitError::Busy { .. } => Status::resource_exhausted(msg),
        AdmitError::Policy { .. } => Status::failed_precondition(msg),
        AdmitError::Decode(_)
        | AdmitError::UnknownIssuer(_)
        | AdmitError::KeyNotValid { .. }
        | AdmitError::BodyTooLarge { .. }
        | AdmitError::BadSignature(_) => Status::invalid_argument(msg),
    }
}

/// A storage failure: logged in full, reported without internals.
pub fn ledger(e: LedgerError) -> Status {
    error!(error = %e, "rpc: ledger read failed");
    Status::internal(format!("ledger read failed: {e}"))
}

/// The status for a refused payload upload (`PutPayload`).
pub fn payload(e: LedgerError) -> Status {
    match e {
        LedgerError::PayloadErased { .. } => Status::failed_precondition(e.to_string()),
        LedgerError::PayloadOwned { .. } => Status::already_exists(e.to_string()),
        LedgerError::PayloadTooLarge { .. } => Status::invalid_argument(format!("payload: {e}")),
        other => {
            error!(error = %other, "rpc: payload store failed");
            Status::internal(format!("payload store failed: {other}"))
        }
    }
}

/// The runtime is gone (the node is stopping).
pub fn stopping() -> Status {
    Status::unavailable("the node is shutting down")
}

/// Parses a record id given as 64 hex digits.
pub fn record_id(field: &str, text: &str) -> Result<RecordId, Status> {
    text.parse()
        .map_err(|e| Status::invalid_argument(format!("{field}: `{text}` is not a record id: {e}")))
}

/// `accepted` or `rejected:<code>`.
pub fn result_label(r: &ExecResult) -> String {
    match r {
        ExecResult::Accepted => "accepted".to_owned(),
        ExecResult::Rejected(code) => {
            let code = serde_json::to_value(code)
                .ok()
                .and_then(|v| v.as_str().map(str::to_owned))
                .unwrap_or_else(|| format!("{code:?}"));
            format!("rejected:{code}")
        }
    }
}
