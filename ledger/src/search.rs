//! Queries on several fields at once: the most selective index drives the
//! scan (subject, then issuer, then kind, then the height range) and the
//! other conditions filter its records.
//!
//! Like [`Ledger::query`], results come in record-log order and a cursor is
//! a log position, so paging is stable while blocks arrive. A page stops at
//! `limit` matches or after `scan_budget` candidates, whichever comes
//! first, so one call's work stays bounded even when few candidates match.

use chancery_types::AgencyId;

use crate::error::Result;
use crate::kv::KvStore;
use crate::ledger::Ledger;
use crate::query::{Cursor, Filter, MAX_PAGE};
use crate::read::RecordView;

/// Conditions on records; every one given must hold.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Query {
    /// The record's subject.
    pub subject: Option<String>,
    /// The issuing agency.
    pub issuer: Option<AgencyId>,
    /// The kind's name (`licence_issue`, `grant_create`, ...).
    pub kind: Option<String>,
    /// Lowest block height (inclusive).
    pub from_height: Option<u64>,
    /// Highest block height (inclusive).
    pub to_height: Option<u64>,
}

impl Query {
    /// Whether `r` satisfies every condition.
    pub fn matches(&self, r: &RecordView) -> bool {
        let rec = &r.record.record;
        self.subject
            .as_deref()
            .is_none_or(|s| rec.subject.as_str() == s)
            && self.issuer.as_ref().is_none_or(|a| rec.issuer == *a)
            && self.kind.as_deref().is_none_or(|k| rec.kind.name() == k)
            && self.from_height.is_none_or(|h| r.height >= h)
            && self.to_height.is_none_or(|h| r.height <= h)
    }

    /// The index that drives the scan.
    fn driver(&self) -> Filter {
        if let Some(s) = &self.subject {
            Filter::Subject(s.clone())
        } else if let Some(a) = &self.issuer {
            Filter::Issuer(a.clone())
        } else if let Some(k) = &self.kind {
            Filter::Kind(k.clone())
        } else {
            Filter::Heights {
                from: self.from_height.unwrap_or(0),
                to: self.to_height.unwrap_or(u64::MAX),
            }
        }
    }
}

/// One page of a [`Query`].
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SearchPage {
    /// Matching records, in log order.
    pub items: Vec<RecordView>,
    /// Where the next page starts; `None` when the scan reached the end of
    /// what is committed now.
    pub next: Option<Cursor>,
    /// The log position to resume from to see only records committed
    /// after this page (for following the chain; never repeats an item).
    pub resume: Cursor,
}

impl<K: KvStore> Ledger<K> {
    /// Up to `limit` (at most [`MAX_PAGE`]) records matching every condition
    /// of `query`, from `cursor`, examining at most `scan_budget` candidates.
    pub fn search(
        &self,
        query: &Query,
        cursor: Option<Cursor>,
        limit: usize,
        scan_budget: usize,
    ) -> Result<SearchPage> {
        let limit = limit.clamp(1, MAX_PAGE);
        // Everything below this size was committed before the scan began.
        let size_before = self.log_size();
        let driver = query.driver();
        let mut at = cursor.unwrap_or(Cursor(0));
        let mut items = Vec::new();
        let mut scanned = 0;
        loop {
            let page = self.query(&driver, Some(at), MAX_PAGE.min(scan_budget.max(1)))?;
            let mut stopped_early = None;
            for r in page.items {
                if items.len() == limit || scanned >= scan_budget {
                    stopped_early = Some(Cursor(r.log_index));
                    break;
                }
                scanned += 1;
                at = Cursor(r.log_index + 1);
                if query.matches(&r) {
                    items.push(r);
                }
            }
            if let Some(next) = stopped_early {
                return Ok(SearchPage {
                    items,
                    next: Some(next),
                    resume: next,
                });
            }
            match page.next {
                Some(next) if items.len() < limit && scanned < scan_budget => at = next,
                Some(next) => {
                    return Ok(SearchPage {
                        items,
                        next: Some(next),
                        resume: next,
                    });
                }
                None => {
                    let resume = Cursor(at.0.max(size_before));
                    return Ok(SearchPage {
                        items,
                        next: None,
                        resume,
                    });
                }
            }
        }
    }
}
