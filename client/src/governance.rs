//! A client of `GovernanceService`: the rules in force, who accessed a
//! dataset, and what an agency may access now.
//!
//! ```text
//!  GovernanceClient::connect("http://127.0.0.1:27200")
//!    ├─ rules()                          GovernanceService.GetRules
//!    ├─ access_log(query, cursor, n)     GovernanceService.AccessLog (one page)
//!    ├─ access_log_all(query)            … every page
//!    ├─ grants_for(grantee, cursor, n)   GovernanceService.GrantsFor (one page)
//!    └─ grants_for_all(grantee)          … every page
//! ```
//!
//! Every item carries the id of the record it comes from; [`Client::proof`]
//! gives that record's proof bundle.
//!
//! [`Client::proof`]: crate::Client::proof

use chancery_proto::v1::governance_service_client::GovernanceServiceClient;
use chancery_proto::v1::{AccessLogRequest, GetRulesRequest, GrantsForRequest};
use tonic::transport::Channel;

use crate::ClientError;

pub use chancery_proto::v1::{
    AccessEntry, AccessLogResponse, AgencyInfo, GetRulesResponse, GrantEntry, GrantsForResponse,
    IssuerKeyInfo, PermissionInfo, ThresholdInfo, ValidatorInfo, ValidatorSetInfo,
};

/// Which accesses to list.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct AccessQuery {
    /// The dataset (required).
    pub dataset: String,
    /// Only accesses logged by this agency (empty: any).
    pub agency: String,
    /// Only accesses in blocks at or above this height (0: any).
    pub from_height: u64,
}

/// Pages read by the `*_all` calls, at most (each bounded by the node).
const MAX_PAGES: usize = 100_000;

/// A connection to one node's `GovernanceService`.
#[derive(Debug, Clone)]
pub struct GovernanceClient {
    inner: GovernanceServiceClient<Channel>,
}

impl GovernanceClient {
    /// Connects to `addr` (`http://host:port`, or `host:port`).
    pub async fn connect(addr: &str) -> Result<Self, ClientError> {
        let channel = crate::channel(addr).await?;
        Ok(GovernanceClient {
            inner: GovernanceServiceClient::new(channel),
        })
    }

    /// The rules in force for the next block.
    pub async fn rules(&mut self) -> Result<GetRulesResponse, ClientError> {
        Ok(self.inner.get_rules(GetRulesRequest {}).await?.into_inner())
    }

    /// One page of the access-log records of `query.dataset`.
    pub async fn access_log(
        &mut self,
        query: &AccessQuery,
        cursor: &str,
        limit: u32,
    ) -> Result<AccessLogResponse, ClientError> {
        Ok(self
            .inner
            .access_log(AccessLogRequest {
                dataset: query.dataset.clone(),
                agency: query.agency.clone(),
                from_height: query.from_height,
                cursor: cursor.to_owned(),
                limit,
            })
            .await?
            .into_inner())
    }

    /// Every access-log record of `query.dataset` committed now.
    pub async fn access_log_all(
        &mut self,
        query: &AccessQuery,
    ) -> Result<Vec<AccessEntry>, ClientError> {
        let mut all = Vec::new();
        let mut cursor = String::new();
        for _ in 0..MAX_PAGES {
            let page = self.access_log(query, &cursor, 1000).await?;
            all.extend(page.entries);
            if page.next_cursor.is_empty() {
                return Ok(all);
            }
            cursor = page.next_cursor;
        }
        Err(too_many_pages("AccessLog"))
    }

    /// One page of the grants to `grantee` active now.
    pub async fn grants_for(
        &mut self,
        grantee: &str,
        cursor: &str,
        limit: u32,
    ) -> Result<GrantsForResponse, ClientError> {
        Ok(self
            .inner
            .grants_for(GrantsForRequest {
                grantee: grantee.to_owned(),
                cursor: cursor.to_owned(),
                limit,
            })
            .await?
            .into_inner())
    }

    /// Every grant to `grantee` active now, and the time "now" meant (ms).
    pub async fn grants_for_all(
        &mut self,
        grantee: &str,
    ) -> Result<(Vec<GrantEntry>, u64), ClientError> {
        let mut all = Vec::new();
        let mut cursor = String::new();
        for _ in 0..MAX_PAGES {
            let page = self.grants_for(grantee, &cursor, 1000).await?;
            all.extend(page.grants);
            if page.next_cursor.is_empty() {
                return Ok((all, page.as_of_ms));
            }
            cursor = page.next_cursor;
        }
        Err(too_many_pages("GrantsFor"))
    }
}

fn too_many_pages(call: &str) -> ClientError {
    ClientError::Decode(format!(
        "{call}: more than {MAX_PAGES} pages; page with a cursor instead"
    ))
}
