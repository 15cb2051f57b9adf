//! `GovernanceService`: the rules in force, who accessed a dataset, and
//! what an agency may access now.
//!
//! `AccessLog` and `GrantsFor` page through the ledger's kind index
//! (`access_log`, `grant_create`) like `QueryRecords` does, filtering each
//! record by dataset or grantee; one call examines a bounded number of
//! records, so a page can hold fewer items than asked and still have a
//! next cursor. Every item names its record, whose proof `GetProof` gives.

use chancery_ledger::{Cursor, KvStore, Query, RecordView};
use chancery_proto::v1::governance_service_server::GovernanceService;
use chancery_proto::v1::{
    AccessEntry, AccessLogRequest, AccessLogResponse, AgencyInfo, GetRulesRequest,
    GetRulesResponse, GrantEntry, GrantsForRequest, GrantsForResponse, IssuerKeyInfo,
    PermissionInfo, ThresholdInfo, ValidatorInfo, ValidatorSetInfo,
};
use chancery_types::governance::GovAction;
use chancery_types::state_proof::{GrantState, Status as SubjectStatus, grant_key};
use chancery_types::{AgencyId, ExecResult, Label, RecordKind, ValidatorSet};
use tonic::{Request, Response, Status};

use super::{Api, errors, filter};

/// Candidates one `AccessLog` or `GrantsFor` call examines, at most…
const SCAN_BUDGET: usize = 10_000;
/// …in this many ledger searches.
const SEARCHES: usize = 10;
/// Matches one ledger search returns, at most.
const MAX_PAGE: usize = 1000;

#[tonic::async_trait]
impl<K: KvStore + Send + Sync + 'static> GovernanceService for Api<K> {
    async fn get_rules(
        &self,
        _: Request<GetRulesRequest>,
    ) -> Result<Response<GetRulesResponse>, Status> {
        let tip = self.ledger.tip().height;
        let rules = self.ledger.rules();
        let next = tip.saturating_add(1);
        let changes = self.ledger.validator_changes().map_err(errors::ledger)?;
        let current = self.ledger.validator_set_at(next).map_err(errors::ledger)?;
        let current_from = changes
            .iter()
            .rev()
            .find(|(h, _)| *h <= next)
            .map_or(0, |(h, _)| *h);
        let n = rules.agencies.len();
        Ok(Response::new(GetRulesResponse {
            chain_id: rules.chain_id.to_string(),
            height: tip,
            agencies: rules
                .agencies
                .values()
                .map(|a| AgencyInfo {
                    id: a.id.to_string(),
                    name: a.name.to_string(),
                    admin_key: a.admin_key.to_hex(),
                })
                .collect(),
            issuer_keys: rules
                .keys
                .iter()
                .map(|(id, e)| IssuerKeyInfo {
                    agency: e.agency.to_string(),
                    key_id: id.to_string(),
                    public_key: e.key.public.to_hex(),
                    valid_from_ms: e.key.valid_from.0,
                    valid_until_ms: e.key.valid_until.map(|t| t.0),
                    revoked_at_ms: e.revoked_at.map(|t| t.0),
                    compromised_since_ms: e.compromised_since.map(|t| t.0),
                })
                .collect(),
            permissions: rules
                .permissions
                .values()
                .map(|p| PermissionInfo {
                    agency: p.agency.to_string(),
                    licence_classes: p.licence_classes.iter().map(|c| c.to_string()).collect(),
                    may_grant: p.may_grant,
                    may_log_access: p.may_log_access,
                    denied_kinds: p.denied_kinds.iter().map(|k| k.to_string()).collect(),
                    denied_subjects: p.denied_subjects.iter().map(|s| s.to_string()).collect(),
                })
                .collect(),
            thresholds: GovAction::NAMES
                .iter()
                .map(|name| {
                    let t = rules
                        .governance
                        .actions
                        .iter()
                        .find(|a| a.action.as_str() == *name)
                        .map_or(rules.governance.default, |a| a.threshold);
                    ThresholdInfo {
                        action: (*name).to_owned(),
                        numerator: t.numerator,
                        denominator: t.denominator,
                        required: t.required(n) as u32,
                    }
                })
                .collect(),
            validators: Some(set_info(current_from, &current)),
            scheduled: changes
                .iter()
                .filter(|(h, _)| *h > next)
                .map(|(h, set)| set_info(*h, set))
                .collect(),
            execution_lag: rules.execution_lag,
            max_body_bytes: rules.max_body_bytes,
        }))
    }

    async fn access_log(
        &self,
        request: Request<AccessLogRequest>,
    ) -> Result<Response<AccessLogResponse>, Status> {
        let req = request.into_inner();
        let dataset = dataset(&req.dataset)?;
        let agency = match req.agency.as_str() {
            "" => None,
            a => Some(agency_id("agency", a)?),
        };
        let query = Query {
            issuer: agency,
            kind: Some("access_log".to_owned()),
            from_height: (req.from_height != 0).then_some(req.from_height),
            ..Query::default()
        };
        let mut cursor = filter::cursor(&req.cursor)?;
        if cursor.is_none() && req.from_height > 1 {
            // Start the scan at the height's first record, not the log's.
            cursor = self
                .ledger
                .block_log_range(req.from_height)
                .map_err(errors::ledger)?
                .map(|(first, _)| Cursor(first));
        }
        let limit = filter::limit(req.limit)?;
        let (entries, next) = self.scan(&query, cursor, limit, |view| {
            let r = &view.record.record;
            Ok(match &r.kind {
                RecordKind::AccessLog { grant, dataset: d } if *d == dataset => Some(AccessEntry {
                    record_id: view.id.to_string(),
                    agency: r.issuer.to_string(),
                    grant: grant.to_string(),
                    access_id: r.subject.to_string(),
                    dataset: d.to_string(),
                    height: view.height,
                    committed_at_ms: view.committed_at.0,
                    result: errors::result_label(&view.result),
                }),
                _ => None,
            })
        })?;
        Ok(Response::new(AccessLogResponse {
            entries,
            next_cursor: next.map(|c| c.to_string()).unwrap_or_default(),
        }))
    }

    async fn grants_for(
        &self,
        request: Request<GrantsForRequest>,
    ) -> Result<Response<GrantsForResponse>, Status> {
        let req = request.into_inner();
        if req.grantee.is_empty() {
            return Err(Status::invalid_argument(
                "grantee: required (the agency whose grants to list)",
            ));
        }
        let grantee = agency_id("grantee", &req.grantee)?;
        if !self.ledger.rules().agencies.contains_key(&grantee) {
            return Err(Status::not_found(format!(
                "grantee: agency `{grantee}` is not registered"
            )));
        }
        let now = self.ledger.tip().timestamp;
        let query = Query {
            kind: Some("grant_create".to_owned()),
            ..Query::default()
        };
        let cursor = filter::cursor(&req.cursor)?;
        let limit = filter::limit(req.limit)?;
        let ledger = self.ledger.clone();
        let (grants, next) = self.scan(&query, cursor, limit, |view| {
            let r = &view.record.record;
            let RecordKind::GrantCreate {
                grantee: g,
                dataset,
                purpose,
                scope,
                valid_from,
                valid_until,
            } = &r.kind
            else {
                return Ok(None);
            };
            if *g != grantee || view.result != ExecResult::Accepted {
                return Ok(None);
            }
            let status = ledger
                .status(&grant_key(&r.subject))
                .map_err(errors::ledger)?;
            let active = matches!(
                status,
                Some(SubjectStatus::Grant(s))
                    if s.created_by == view.id
                        && s.state == GrantState::Active
                        && s.valid_from <= now
                        && now < s.valid_until
            );
            Ok(active.then(|| GrantEntry {
                record_id: view.id.to_string(),
                grant: r.subject.to_string(),
                grantor: r.issuer.to_string(),
                grantee: g.to_string(),
                dataset: dataset.to_string(),
                purpose: purpose.to_string(),
                scope: scope.to_string(),
                valid_from_ms: valid_from.0,
                valid_until_ms: valid_until.0,
                height: view.height,
            }))
        })?;
        Ok(Response::new(GrantsForResponse {
            grants,
            next_cursor: next.map(|c| c.to_string()).unwrap_or_default(),
            as_of_ms: now.0,
        }))
    }
}

impl<K: KvStore + Send + Sync + 'static> Api<K> {
    /// Up to `limit` items that `keep` makes of records matching `query`,
    /// from `cursor`, examining at most [`SCAN_BUDGET`] records. Returns
    /// the items and where the next page starts (`None`: nothing more is
    /// committed now).
    fn scan<T>(
        &self,
        query: &Query,
        cursor: Option<Cursor>,
        limit: usize,
        mut keep: impl FnMut(&RecordView) -> Result<Option<T>, Status>,
    ) -> Result<(Vec<T>, Option<Cursor>), Status> {
        let mut items = Vec::new();
        let mut at = cursor;
        for _ in 0..SEARCHES {
            let page = self
                .ledger
                .search(query, at, MAX_PAGE, SCAN_BUDGET / SEARCHES)
                .map_err(errors::ledger)?;
            for view in &page.items {
                if let Some(item) = keep(view)? {
                    items.push(item);
                    if items.len() == limit {
                        return Ok((items, Some(Cursor(view.log_index.saturating_add(1)))));
                    }
                }
            }
            match page.next {
                None => return Ok((items, None)),
                Some(next) => at = Some(next),
            }
        }
        Ok((items, at))
    }
}

fn set_info(from_height: u64, set: &ValidatorSet) -> ValidatorSetInfo {
    ValidatorSetInfo {
        from_height,
        hash: set.hash().to_string(),
        quorum: set.quorum() as u32,
        validators: set
            .validators()
            .iter()
            .map(|v| ValidatorInfo {
                agency: v.agency.to_string(),
                consensus_key: v.consensus_key.to_hex(),
                network_key: v.network_key.to_hex(),
                address: v.address.to_string(),
            })
            .collect(),
    }
}

fn agency_id(field: &str, text: &str) -> Result<AgencyId, Status> {
    AgencyId::new(text).map_err(|e| {
        Status::invalid_argument(format!("{field}: `{text}` is not an agency id: {e}"))
    })
}

fn dataset(text: &str) -> Result<Label, Status> {
    if text.is_empty() {
        return Err(Status::invalid_argument(
            "dataset: required (the dataset whose accesses to list)",
        ));
    }
    Label::new(text)
        .map_err(|e| Status::invalid_argument(format!("dataset: `{text}` is not a dataset: {e}")))
}
