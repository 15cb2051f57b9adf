//! Headers: the header a proposer builds, and the checks a header must
//! pass to follow the tip.

use chancery_types::log_proof::RootedIds;
use chancery_types::{BlockHeader, ChainId, Hash, Timestamp};

use crate::error::{LedgerError, Result, missing};
use crate::keys::TipRecord;
use crate::kv::KvStore;
use crate::ledger::{Ledger, read_summary};
use crate::summary::ExecSummary;

/// The fields of a header the proposer chooses; the ledger fills the rest.
#[derive(Clone, Debug)]
pub struct HeaderParams {
    /// Consensus view.
    pub view: u64,
    /// Proposer's clock (must not be before the tip's timestamp).
    pub timestamp: Timestamp,
    /// Proposer index.
    pub proposer: u16,
    /// Hash of the certifying validator set.
    pub validator_set_hash: Hash,
}

impl<K: KvStore> Ledger<K> {
    /// The header the next block must have, given the proposer's choices:
    /// chain id, height, parent, records root and count, exec height and
    /// the roots of that height. Fails if `timestamp` is before the tip's.
    pub fn next_header(
        &self,
        params: &HeaderParams,
        records: &[chancery_types::SignedRecord],
    ) -> Result<BlockHeader> {
        let tip = self.tip();
        let height = tip.height + 1;
        if params.timestamp < tip.timestamp {
            return Err(LedgerError::TimestampRegressed {
                height,
                parent: tip.timestamp.0,
                got: params.timestamp.0,
            });
        }
        let exec_height = height.saturating_sub(self.execution_lag);
        let summary = self
            .exec_summary(exec_height)?
            .ok_or_else(|| missing("exec summary", format!("none at height {exec_height}")))?;
        let ids = RootedIds::new(records.iter().map(|r| r.id()).collect());
        Ok(self.header_on(height, tip.hash, &summary, params, &ids))
    }

    /// The header of a block at `height` over records `ids`, whose parent
    /// is `parent`, carrying `summary` (the roots after executing
    /// `height − execution_lag`). Unlike [`Ledger::next_header`] the parent
    /// need not be committed yet (pipelined proposals); the caller checks
    /// the timestamp against the parent's.
    pub fn header_on(
        &self,
        height: u64,
        parent: Hash,
        summary: &ExecSummary,
        params: &HeaderParams,
        ids: &RootedIds,
    ) -> BlockHeader {
        BlockHeader {
            chain_id: self.chain_id,
            height,
            view: params.view,
            parent,
            timestamp: params.timestamp,
            proposer: params.proposer,
            records_root: ids.root(),
            record_count: ids.ids().len() as u32,
            exec_height: summary.height,
            log_root: summary.log_root,
            log_size: summary.log_size,
            state_root: summary.state_root,
            validator_set_hash: params.validator_set_hash,
        }
    }

    /// Checks that `header` can follow the tip: chain, height, parent,
    /// timestamp, exec height and roots. Validators run this on proposals;
    /// [`Ledger::commit`] runs it again. Does not look at the records.
    pub fn check_header(&self, header: &BlockHeader) -> Result<()> {
        let tip = self.read_view().tip;
        check_header_against(&self.kv, self.chain_id, self.execution_lag, tip, header)
    }
}

pub(crate) fn check_header_against<K: KvStore>(
    kv: &K,
    chain_id: ChainId,
    execution_lag: u64,
    tip: TipRecord,
    h: &BlockHeader,
) -> Result<()> {
    if h.chain_id != chain_id {
        return Err(LedgerError::BlockChain {
            expected: chain_id,
            got: h.chain_id,
        });
    }
    if h.height != tip.height + 1 {
        return Err(LedgerError::WrongHeight {
            expected: tip.height + 1,
            got: h.height,
        });
    }
    if h.parent != tip.hash {
        return Err(LedgerError::WrongParent {
            height: h.height,
            expected: tip.hash,
            got: h.parent,
        });
    }
    if h.timestamp < tip.timestamp {
        return Err(LedgerError::TimestampRegressed {
            height: h.height,
            parent: tip.timestamp.0,
            got: h.timestamp.0,
        });
    }
    let expected = h.height.saturating_sub(execution_lag);
    if h.exec_height != expected {
        return Err(LedgerError::WrongExecHeight {
            height: h.height,
            expected,
            got: h.exec_height,
        });
    }
    let s = read_summary(kv, expected)?
        .ok_or_else(|| missing("exec summary", format!("none at height {expected}")))?;
    let mismatch = |field| LedgerError::ExecMismatch {
        height: h.height,
        field,
        exec_height: expected,
    };
    if h.log_root != s.log_root {
        return Err(mismatch("log_root"));
    }
    if h.log_size != s.log_size {
        return Err(mismatch("log_size"));
    }
    if h.state_root != s.state_root {
        return Err(mismatch("state_root"));
    }
    Ok(())
}
