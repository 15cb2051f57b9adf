//! Queries by subject, issuer, kind and height range, with cursor paging.
//!
//! Every query walks records in record-log order. A cursor is the log
//! position to resume at; log positions never change and new blocks only
//! add higher ones, so paging is stable while blocks arrive: no record is
//! skipped or repeated, and records committed after the first page appear
//! at the end (for an open-ended query).

use std::fmt;
use std::str::FromStr;

use chancery_types::AgencyId;

use crate::error::{LedgerError, Result};
use crate::keys;
use crate::kv::{Column, KvStore};
use crate::ledger::Ledger;
use crate::read::RecordView;

/// Largest page a query returns.
pub const MAX_PAGE: usize = 1000;

/// What to look for.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Filter {
    /// Records with this subject (from any issuer).
    Subject(String),
    /// Records issued by this agency.
    Issuer(AgencyId),
    /// Records of this kind (`RecordKind::name()`, e.g. `licence_issue`).
    Kind(String),
    /// Records in blocks `from..=to`.
    Heights {
        /// First height.
        from: u64,
        /// Last height.
        to: u64,
    },
}

/// Where the next page starts. Opaque to clients: 16 hex digits.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub struct Cursor(pub u64);

impl fmt::Display for Cursor {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:016x}", self.0)
    }
}

impl FromStr for Cursor {
    type Err = LedgerError;
    fn from_str(s: &str) -> Result<Self> {
        if s.len() != 16 {
            return Err(LedgerError::InvalidCursor { cursor: s.into() });
        }
        u64::from_str_radix(s, 16)
            .map(Cursor)
            .map_err(|_| LedgerError::InvalidCursor { cursor: s.into() })
    }
}

/// One page of results.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Page {
    /// Records, in log order.
    pub items: Vec<RecordView>,
    /// Where the next page starts; `None` when this page reached the end
    /// of what is committed now.
    pub next: Option<Cursor>,
}

impl<K: KvStore> Ledger<K> {
    /// Up to `limit` (at most [`MAX_PAGE`]) records matching `filter`,
    /// starting at `cursor` (or the beginning).
    pub fn query(&self, filter: &Filter, cursor: Option<Cursor>, limit: usize) -> Result<Page> {
        let limit = limit.clamp(1, MAX_PAGE);
        let start = cursor.map_or(0, |c| c.0);
        let positions = match filter {
            Filter::Subject(s) => self.secondary(keys::IDX_SUBJECT, s.as_bytes(), start, limit)?,
            Filter::Issuer(a) => {
                self.secondary(keys::IDX_ISSUER, a.as_str().as_bytes(), start, limit)?
            }
            Filter::Kind(k) => self.secondary(keys::IDX_KIND, k.as_bytes(), start, limit)?,
            Filter::Heights { from, to } => self.height_range(*from, *to, start, limit)?,
        };
        let mut items = Vec::with_capacity(positions.len().min(limit));
        let mut next = None;
        for (n, pos) in positions.into_iter().enumerate() {
            if n == limit {
                next = Some(Cursor(pos));
                break;
            }
            match self.record_at_log_index(pos)? {
                Some(r) => items.push(r),
                None => {
                    return Err(LedgerError::Corrupt {
                        what: "index",
                        detail: format!("indexed log position {pos} has no record"),
                    });
                }
            }
        }
        Ok(Page { items, next })
    }

    /// Up to `limit + 1` log positions from a secondary index.
    fn secondary(&self, tag: u8, value: &[u8], start: u64, limit: usize) -> Result<Vec<u64>> {
        let prefix = keys::secondary_prefix(tag, value);
        let mut from = prefix.clone();
        from.extend_from_slice(&start.to_be_bytes());
        let mut to = prefix.clone();
        to.extend_from_slice(&[0xff; 9]);
        // Each entry is one block's run of positions, keyed by its last:
        // the first entry at or after `start` is the run holding `start`
        // (or the next), and every entry gives at least one position
        // ≥ `start`, so `limit + 1` entries are enough.
        let rows = self.kv.scan(Column::Index, &from, Some(&to), limit + 1)?;
        let mut out = Vec::new();
        for (k, v) in &rows {
            let last = keys::be_u64(k, prefix.len(), "secondary index key")?;
            out.extend(
                keys::decode_run(last, v)?
                    .into_iter()
                    .filter(|p| *p >= start),
            );
            if out.len() > limit {
                break;
            }
        }
        out.truncate(limit + 1);
        Ok(out)
    }

    /// Up to `limit + 1` log positions of blocks `from..=to`.
    fn height_range(&self, from: u64, to: u64, start: u64, limit: usize) -> Result<Vec<u64>> {
        let tip = self.tip().height;
        if from > to || from > tip || to == 0 {
            return Ok(Vec::new());
        }
        let from = from.max(1);
        let first = match self.block_log_range(from)? {
            Some((f, _)) => f,
            None => return Ok(Vec::new()),
        };
        let end = if to >= tip {
            self.log_size_at_tip(tip)?
        } else {
            match self.block_log_range(to)? {
                Some((f, n)) => f + u64::from(n),
                None => return Ok(Vec::new()),
            }
        };
        let lo = first.max(start);
        if lo >= end {
            return Ok(Vec::new());
        }
        let hi = end.min(lo.saturating_add(limit as u64 + 1));
        Ok((lo..hi).collect())
    }

    fn log_size_at_tip(&self, tip: u64) -> Result<u64> {
        match self.block_log_range(tip)? {
            Some((f, n)) => Ok(f + u64::from(n)),
            None => Ok(0),
        }
    }
}
