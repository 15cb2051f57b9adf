//! From the API's `RecordFilter`, cursors and records to the ledger's
//! types, refusing bad input with the field named.

use chancery_ledger::{Cursor, Query, RecordView};
use chancery_proto::v1::{RecordFilter, RecordItem};
use chancery_types::{AgencyId, Canonical, RecordKind};
use tonic::Status;

/// A filter as a ledger query.
pub fn query(filter: Option<RecordFilter>) -> Result<Query, Status> {
    let f = filter.unwrap_or_default();
    let issuer = match f.issuer.as_str() {
        "" => None,
        s => Some(AgencyId::new(s).map_err(|e| {
            Status::invalid_argument(format!("filter.issuer: `{s}` is not an agency id: {e}"))
        })?),
    };
    let kind = match f.kind.as_str() {
        "" => None,
        k if RecordKind::NAMES.contains(&k) => Some(k.to_owned()),
        k => {
            return Err(Status::invalid_argument(format!(
                "filter.kind: `{k}` is not a record kind (one of {})",
                RecordKind::NAMES.join(", ")
            )));
        }
    };
    let to_height = (f.to_height != 0).then_some(f.to_height);
    if let Some(to) = to_height
        && f.from_height > to
    {
        return Err(Status::invalid_argument(format!(
            "filter: from_height {} is above to_height {to}",
            f.from_height
        )));
    }
    Ok(Query {
        subject: (!f.subject.is_empty()).then_some(f.subject),
        issuer,
        kind,
        from_height: (f.from_height != 0).then_some(f.from_height),
        to_height,
    })
}

/// A page cursor (empty: from the start).
pub fn cursor(text: &str) -> Result<Option<Cursor>, Status> {
    if text.is_empty() {
        return Ok(None);
    }
    text.parse().map(Some).map_err(|_| {
        Status::invalid_argument(format!(
            "cursor: `{text}` is not a cursor from a previous page"
        ))
    })
}

/// A committed record as the API returns it.
pub fn item(view: &RecordView) -> RecordItem {
    RecordItem {
        record_id: view.id.to_string(),
        signed_record: view.record.to_canonical(),
        record_json: serde_json::to_string(&view.record).unwrap_or_default(),
        commitment: Some(super::records::commitment(view)),
    }
}

/// `limit` of a page request: 0 means 100; above 1000 is refused.
pub fn limit(limit: u32) -> Result<usize, Status> {
    match limit {
        0 => Ok(100),
        1..=1000 => Ok(limit as usize),
        n => Err(Status::invalid_argument(format!(
            "limit: {n} is above the largest page (1000)"
        ))),
    }
}
