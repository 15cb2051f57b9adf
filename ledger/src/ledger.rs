//! The ledger: opening a store, checking and committing blocks.

use std::collections::{HashMap, VecDeque};
use std::sync::{Arc, Mutex, RwLock};

use bincode::{Decode, Encode};
use chancery_types::bounded::List;
use chancery_types::encoding::DecodeCtx;
use chancery_types::log_proof::{empty_root, entry_hash, records_root};
use chancery_types::state_proof::{StateProof, Status, ValidatorSchedule, validators_key};
use chancery_types::{
    Block, BlockHeader, Canonical, ChainId, CommitCertificate, ExecResult, Genesis, Hash, LogEntry,
    RecordId, Timestamp, ValidatorSet, limits,
};

use crate::error::{LedgerError, Result, decode_err, missing};
use crate::execute::{DueExpiry, History, execute};
use crate::keys::{self, BlockMeta, RecordLoc, TipRecord};
use crate::kv::{Batch, Column, KvStore};
use crate::log::{Frontier, NodeSource};
use crate::rules::{Rules, SignatureCheck, StoredRules};
use crate::smt::Smt;
use crate::summary::ExecSummary;

/// State trees kept beyond the execution lag, for proofs against recent roots.
pub const EXTRA_STATE_VERSIONS: u64 = 8;

/// The execution results of one block, as stored.
#[derive(Clone, Debug, PartialEq, Eq, Encode, Decode)]
#[bincode(decode_context = "DecodeCtx")]
pub(crate) struct StoredResults(pub List<ExecResult, { limits::MAX_BLOCK_RECORDS }>);

impl Canonical for StoredResults {}

/// A validator-set change as bundles need it: the schedule and its proof
/// under `validators_key()` in the state after executing the block that
/// carried the change — the state header `from_height − 1` commits to.
/// State trees are not kept that long, so the proof is stored at commit.
#[derive(Clone, Debug, PartialEq, Eq, Encode, Decode)]
#[bincode(decode_context = "DecodeCtx")]
pub(crate) struct StoredSetChange {
    pub schedule: ValidatorSchedule,
    pub proof: StateProof,
}

impl Canonical for StoredSetChange {}

/// The committed tip.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Tip {
    /// Height of the last committed block (0 = none).
    pub height: u64,
    /// Its header hash (`Hash::ZERO` at 0).
    pub hash: Hash,
    /// Its timestamp (the genesis time at 0).
    pub timestamp: Timestamp,
}

impl From<TipRecord> for Tip {
    fn from(t: TipRecord) -> Self {
        Tip {
            height: t.height,
            hash: t.hash,
            timestamp: t.timestamp,
        }
    }
}

/// What a successful commit did.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Committed {
    /// The block's height.
    pub height: u64,
    /// Its header hash.
    pub hash: Hash,
    /// Each record's id, in block order.
    pub ids: Vec<RecordId>,
    /// One result per record.
    pub results: Vec<ExecResult>,
    /// The state after executing it.
    pub summary: ExecSummary,
}

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

pub(crate) struct View {
    pub(crate) tip: TipRecord,
    pub(crate) log_size: u64,
    /// `(exec height, tree)`, oldest first.
    pub(crate) versions: VecDeque<(u64, Smt)>,
}

/// A Chancery ledger over a [`KvStore`]. All methods take `&self`; commits
/// are serialised internally, reads run concurrently with them and see
/// whole blocks only.
pub struct Ledger<K: KvStore> {
    pub(crate) kv: K,
    /// The rules in force for the next block (swapped when governance changes them).
    rules: RwLock<Arc<Rules>>,
    chain_id: ChainId,
    execution_lag: u64,
    genesis_validators: ValidatorSet,
    genesis_time: Timestamp,
    commit_lock: Mutex<Frontier>,
    pub(crate) view: RwLock<View>,
}

impl<K: KvStore> std::fmt::Debug for Ledger<K> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Ledger")
            .field("chain_id", &self.chain_id)
            .field("tip", &self.tip())
            .finish()
    }
}

pub(crate) struct StoreNodes<'a, K: KvStore>(pub(crate) &'a K);

/// Leaves (level 0) are not stored as nodes: a leaf is the hash of the
/// log entry stored under its log index, so it is computed from that.
impl<K: KvStore> NodeSource for StoreNodes<'_, K> {
    fn node(&self, level: u8, index: u64) -> Result<Hash> {
        if level == 0 {
            let v = self
                .0
                .get(Column::Index, &keys::log_index_key(index))?
                .ok_or_else(|| missing("log entry", format!("entry {index} is missing")))?;
            let entry = v
                .get(4..)
                .ok_or_else(|| missing("log entry", format!("entry {index} is truncated")))?;
            let entry = LogEntry::from_canonical(entry).map_err(decode_err("log entry"))?;
            return Ok(entry_hash(&entry));
        }
        let v = self
            .0
            .get(Column::LogNodes, &keys::log_node_key(level, index))?
            .ok_or_else(|| missing("log node", format!("node ({level}, {index}) is missing")))?;
        keys::hash_at(&v, 0, "log node")
    }
}

struct StoreHistory<'a, K: KvStore>(&'a K);

impl<K: KvStore> History for StoreHistory<'_, K> {
    fn committed(&self, id: &RecordId) -> Result<Option<bool>> {
        match self.0.get(Column::Index, &keys::record_id_key(id))? {
            Some(v) => Ok(Some(RecordLoc::decode(&v)?.accepted)),
            None => Ok(None),
        }
    }

    fn committed_many(&self, ids: &[RecordId]) -> Result<Vec<Option<bool>>> {
        let keys: Vec<Vec<u8>> = ids.iter().map(keys::record_id_key).collect();
        self.0
            .multi_get(Column::Index, &keys)?
            .into_iter()
            .map(|v| {
                v.map(|v| RecordLoc::decode(&v).map(|l| l.accepted))
                    .transpose()
            })
            .collect()
    }
}

impl<K: KvStore> Ledger<K> {
    /// Opens the ledger in `kv`, initialising it from `genesis` if the
    /// store is empty. Refuses a store of another chain
    /// ([`LedgerError::WrongChain`]) and one whose contents do not add up
    /// ([`LedgerError::Corrupt`]): the log and state roots are recomputed
    /// and checked against the last execution summary.
    pub fn open(kv: K, genesis: &Genesis) -> Result<Self> {
        genesis
            .validate()
            .map_err(|e| LedgerError::InvalidGenesis {
                detail: e.to_string(),
            })?;
        let mut rules = Rules::from_genesis(genesis);
        match kv.get(Column::Meta, keys::META_CHAIN_ID)? {
            None => {
                if !kv.scan(Column::Headers, &[], None, 1)?.is_empty() {
                    return Err(missing("meta", "blocks present but no chain id"));
                }
                init(&kv, genesis, &rules)?;
            }
            Some(stored) => {
                let stored = ChainId(keys::hash_at(&stored, 0, "chain id")?);
                if stored != rules.chain_id {
                    return Err(LedgerError::WrongChain {
                        stored,
                        expected: rules.chain_id,
                    });
                }
            }
        }
        let tip = TipRecord::decode(
            &kv.get(Column::Meta, keys::META_TIP)?
                .ok_or_else(|| missing("tip", "no tip record"))?,
        )?;
        let summary = read_summary(&kv, tip.height)?
            .ok_or_else(|| missing("exec summary", format!("none at tip {}", tip.height)))?;
        let frontier = Frontier::load(summary.log_size, &StoreNodes(&kv))?;
        if frontier.root() != summary.log_root {
            return Err(missing(
                "record log",
                "recomputed root differs from the summary",
            ));
        }
        if let Some(v) = kv.get(Column::State, &[keys::STATE_RULES])? {
            let stored = StoredRules::from_canonical(&v).map_err(decode_err("rules"))?;
            rules = rules.with_stored(stored);
        }
        let smt = load_state(&kv)?;
        if smt.root() != summary.state_root {
            return Err(missing(
                "state tree",
                "recomputed root differs from the summary",
            ));
        }
        let mut versions = VecDeque::new();
        versions.push_back((tip.height, smt));
        Ok(Ledger {
            kv,
            chain_id: rules.chain_id,
            execution_lag: rules.execution_lag,
            genesis_validators: genesis.validators.clone(),
            rules: RwLock::new(Arc::new(rules)),
            genesis_time: genesis.genesis_time,
            commit_lock: Mutex::new(frontier),
            view: RwLock::new(View {
                tip,
                log_size: summary.log_size,
                versions,
            }),
        })
    }

    /// The underlying store.
    pub fn store(&self) -> &K {
        &self.kv
    }

    /// The chain id.
    pub fn chain_id(&self) -> ChainId {
        self.chain_id
    }

    /// `ChainParams::execution_lag`.
    pub fn execution_lag(&self) -> u64 {
        self.execution_lag
    }

    /// The rules in force for the next block.
    pub fn rules(&self) -> Arc<Rules> {
        self.rules.read().unwrap_or_else(|e| e.into_inner()).clone()
    }

    /// The validator set that certifies block `height`: the genesis set,
    /// or the latest change scheduled from `height` or before.
    pub fn validator_set_at(&self, height: u64) -> Result<ValidatorSet> {
        let from = vec![keys::STATE_VALSET];
        let mut to = vec![keys::STATE_VALSET];
        to.extend_from_slice(&height.saturating_add(1).to_be_bytes());
        if height == u64::MAX {
            to = vec![keys::STATE_VALSET + 1];
        }
        // Changes are few; scan them all and keep the last at or below `height`.
        let rows = self.kv.scan(Column::State, &from, Some(&to), usize::MAX)?;
        match rows.last() {
            Some((_, v)) => ValidatorSet::from_canonical(v).map_err(decode_err("validator set")),
            None => Ok(self.genesis_validators.clone()),
        }
    }

    /// Every validator-set change: `(first height, set)`, oldest first.
    pub fn validator_changes(&self) -> Result<Vec<(u64, ValidatorSet)>> {
        let rows = self.kv.scan(
            Column::State,
            &[keys::STATE_VALSET],
            Some(&[keys::STATE_VALSET + 1]),
            usize::MAX,
        )?;
        rows.into_iter()
            .map(|(k, v)| {
                let h = keys::be_u64(&k, 1, "validator set key")?;
                let set = ValidatorSet::from_canonical(&v).map_err(decode_err("validator set"))?;
                Ok((h, set))
            })
            .collect()
    }

    pub(crate) fn read_view(&self) -> std::sync::RwLockReadGuard<'_, View> {
        self.view.read().unwrap_or_else(|e| e.into_inner())
    }

    /// The committed tip.
    pub fn tip(&self) -> Tip {
        self.read_view().tip.into()
    }

    /// Number of entries in the record log (every committed record).
    pub fn log_size(&self) -> u64 {
        self.read_view().log_size
    }

    /// The execution summary of `height` (0 = genesis), if executed.
    pub fn exec_summary(&self, height: u64) -> Result<Option<ExecSummary>> {
        read_summary(&self.kv, height)
    }

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
        let ids: Vec<RecordId> = records.iter().map(|r| r.id()).collect();
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
        ids: &[RecordId],
    ) -> BlockHeader {
        BlockHeader {
            chain_id: self.chain_id,
            height,
            view: params.view,
            parent,
            timestamp: params.timestamp,
            proposer: params.proposer,
            records_root: records_root(ids),
            record_count: ids.len() as u32,
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

    /// Executes and stores a certified block: block, certificate, results,
    /// state changes, log nodes and indexes in one synced atomic batch.
    /// When this returns `Ok` the block is durable; on `Err` nothing of it
    /// was written. The certificate is verified by the caller; here it
    /// must only name this block. `results` in `block` are ignored and
    /// recomputed.
    pub fn commit(
        &self,
        block: &Block,
        cert: &CommitCertificate,
        sigs: &dyn SignatureCheck,
    ) -> Result<Committed> {
        let mut frontier_guard = self.commit_lock.lock().unwrap_or_else(|e| e.into_inner());
        let (tip, smt) = {
            let v = self.read_view();
            let smt = v
                .versions
                .back()
                .map(|(_, s)| s.clone())
                .unwrap_or_default();
            (v.tip, smt)
        };
        let h = &block.header;
        check_header_against(&self.kv, self.chain_id, self.execution_lag, tip, h)?;
        let rules = self.rules();
        let hash = h.hash();
        if cert.vote.height != h.height || cert.vote.block_hash != hash {
            return Err(LedgerError::CertificateMismatch {
                cert_height: cert.vote.height,
                cert_hash: cert.vote.block_hash,
                height: h.height,
                hash,
            });
        }
        if h.record_count as usize != block.records.len() {
            return Err(LedgerError::PayloadMismatch {
                height: h.height,
                field: "record_count",
            });
        }
        let due = due_expiries(&self.kv, tip.timestamp, h.timestamp)?;
        let out = execute(&rules, &StoreHistory(&self.kv), &smt, due, block, sigs)?;
        if records_root(&out.ids) != h.records_root {
            return Err(LedgerError::PayloadMismatch {
                height: h.height,
                field: "records_root",
            });
        }

        let n = block.records.len();
        let mut batch = Batch::with_capacity(n * 10 + 64, n * 640 + 4096);
        let mut frontier = frontier_guard.clone();
        let first_log_index = frontier.size();
        let mut nodes = Vec::with_capacity(block.records.len() * 2 + 64);
        let mut runs: HashMap<(u8, &[u8]), Vec<u64>> = HashMap::new();
        for (i, rec) in block.records.iter().enumerate() {
            let id = out.ids[i];
            let result = out.results[i];
            let log_index = first_log_index + i as u64;
            let entry = LogEntry {
                record: id,
                height: h.height,
                timestamp: h.timestamp,
                result,
            };
            frontier.append(entry_hash(&entry), &mut nodes);
            batch.put_with(Column::Index, keys::log_index_key(log_index), |v| {
                v.extend_from_slice(&(i as u32).to_be_bytes());
                entry.to_canonical_into(v);
            });
            if out.fresh[i] {
                let loc = RecordLoc {
                    height: h.height,
                    index: i as u32,
                    log_index,
                    accepted: result == ExecResult::Accepted,
                };
                batch.put(Column::Index, keys::record_id_key(&id), loc.encode());
            }
            let r = &rec.record;
            for (tag, value) in [
                (keys::IDX_SUBJECT, r.subject.as_bytes()),
                (keys::IDX_ISSUER, r.issuer.as_str().as_bytes()),
                (keys::IDX_KIND, r.kind.name().as_bytes()),
            ] {
                runs.entry((tag, value)).or_default().push(log_index);
            }
            batch.put_with(Column::Records, keys::record_key(h.height, i as u32), |v| {
                rec.to_canonical_into(v)
            });
        }
        // One index entry per block and value: a block's records mostly
        // share a few issuers and kinds.
        for ((tag, value), positions) in &runs {
            if let Some(&last) = positions.last() {
                batch.put(
                    Column::Index,
                    keys::secondary_key(*tag, value, last),
                    keys::encode_run(positions),
                );
            }
        }
        // Leaves are recomputed from the log entries (see `StoreNodes`).
        for (level, index, node) in nodes.iter().filter(|(level, ..)| *level > 0) {
            batch.put(Column::LogNodes, keys::log_node_key(*level, *index), node.0);
        }
        let mut entries = Vec::with_capacity(out.statuses.len());
        for (key, value) in out.statuses {
            batch.put(Column::State, keys::status_key(&key), &value);
            entries.push((key, Arc::<[u8]>::from(value)));
        }
        for qk in out.expiry_removed {
            batch.delete(Column::State, qk);
        }
        for (until, key) in &out.expiry_added {
            batch.put(Column::State, keys::expiry_key(*until, key), []);
        }
        crate::payload::erase_into(&self.kv, &mut batch, h.height, &out.erasures)?;
        if let Some(next) = &out.rules {
            batch.put(
                Column::State,
                vec![keys::STATE_RULES],
                next.to_stored().to_canonical(),
            );
            if next.validators_from > rules.validators_from {
                batch.put(
                    Column::State,
                    keys::tagged(keys::STATE_VALSET, &next.validators_from.to_be_bytes()),
                    next.validators.to_canonical(),
                );
            }
        }
        let new_smt = smt.with(entries);
        if let Some(next) = &out.rules
            && next.validators_from > rules.validators_from
        {
            set_change_proof(&new_smt, next.validators_from, &mut batch);
        }
        let summary = ExecSummary {
            height: h.height,
            log_root: frontier.root(),
            log_size: frontier.size(),
            state_root: new_smt.root(),
        };
        batch.put(Column::State, keys::summary_key(h.height), summary.encode());
        let hk = keys::height_key(h.height);
        batch.put(Column::Headers, hk, h.to_canonical());
        batch.put(
            Column::Blocks,
            hk,
            BlockMeta {
                hash,
                record_count: h.record_count,
                first_log_index,
            }
            .encode(),
        );
        batch.put(Column::Certs, hk, cert.to_canonical());
        let results = List::new(out.results.clone()).map_err(|_| LedgerError::PayloadMismatch {
            height: h.height,
            field: "record_count",
        })?;
        batch.put(Column::Results, hk, StoredResults(results).to_canonical());
        let new_tip = TipRecord {
            height: h.height,
            hash,
            timestamp: h.timestamp,
        };
        batch.put(Column::Meta, keys::META_TIP, new_tip.encode());

        self.kv.write(batch)?;

        *frontier_guard = frontier;
        if let Some(next) = out.rules {
            *self.rules.write().unwrap_or_else(|e| e.into_inner()) = Arc::new(next);
        }
        {
            let mut v = self.view.write().unwrap_or_else(|e| e.into_inner());
            v.tip = new_tip;
            v.log_size = summary.log_size;
            v.versions.push_back((h.height, new_smt));
            let keep = (self.execution_lag + EXTRA_STATE_VERSIONS) as usize;
            while v.versions.len() > keep {
                v.versions.pop_front();
            }
        }
        tracing::debug!(
            height = h.height,
            records = block.records.len(),
            "committed block"
        );
        Ok(Committed {
            height: h.height,
            hash,
            ids: out.ids,
            results: out.results,
            summary,
        })
    }
}

fn check_header_against<K: KvStore>(
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

fn read_summary<K: KvStore>(kv: &K, height: u64) -> Result<Option<ExecSummary>> {
    kv.get(Column::State, &keys::summary_key(height))?
        .map(|v| ExecSummary::decode(&v))
        .transpose()
}

/// Writes the chain id, genesis, agencies, policy, the genesis summary and tip.
fn init<K: KvStore>(kv: &K, genesis: &Genesis, rules: &Rules) -> Result<()> {
    let mut b = Batch::new();
    b.put(Column::Meta, keys::META_CHAIN_ID, rules.chain_id.0.0);
    b.put(Column::Meta, keys::META_GENESIS, genesis.to_canonical());
    for a in genesis.agencies.iter() {
        b.put(
            Column::State,
            keys::tagged(keys::STATE_AGENCY, a.id.as_str().as_bytes()),
            bincode::encode_to_vec(a, chancery_types::encoding::config()).unwrap_or_default(),
        );
    }
    b.put(
        Column::State,
        vec![keys::STATE_POLICY],
        bincode::encode_to_vec(&genesis.policy, chancery_types::encoding::config())
            .unwrap_or_default(),
    );
    let summary = ExecSummary {
        height: 0,
        log_root: empty_root(),
        log_size: 0,
        state_root: Smt::new().root(),
    };
    b.put(Column::State, keys::summary_key(0), summary.encode());
    b.put(
        Column::Meta,
        keys::META_TIP,
        TipRecord {
            height: 0,
            hash: Hash::ZERO,
            timestamp: genesis.genesis_time,
        }
        .encode(),
    );
    kv.write(b)
}

/// Expiry queue entries with `after < valid_until ≤ now`, in queue order.
///
/// `after` is the previous block's timestamp: everything due by then was
/// swept (and deleted) by that block, and entries added since have
/// `valid_until` later than their block's time, so the scan starts past
/// the deleted entries instead of walking over their tombstones.
fn due_expiries<K: KvStore>(kv: &K, after: Timestamp, now: Timestamp) -> Result<Vec<DueExpiry>> {
    if now <= after {
        return Ok(Vec::new());
    }
    let from = keys::expiry_key(Timestamp(after.0 + 1), &Hash::ZERO);
    let mut to = vec![keys::STATE_EXPIRY];
    match now.0.checked_add(1) {
        Some(n) => to.extend_from_slice(&n.to_be_bytes()),
        None => to = vec![keys::STATE_EXPIRY + 1],
    }
    let rows = kv.scan(Column::State, &from, Some(&to), usize::MAX)?;
    rows.into_iter()
        .map(|(k, _)| {
            let state_key = keys::hash_at(&k, 9, "expiry queue key")?;
            Ok(DueExpiry {
                queue_key: k,
                state_key,
            })
        })
        .collect()
}

/// Stores the proof of the validator schedule applying from `from` in
/// `tree` (the state after the block that scheduled it). Execution always
/// writes that schedule; if it is somehow absent nothing is stored, and
/// bundles resting on that change report it missing.
fn set_change_proof(tree: &Smt, from: u64, batch: &mut Batch) {
    let (value, proof) = tree.prove(&validators_key());
    let schedule = match value.as_deref().map(Status::from_canonical) {
        Some(Ok(Status::Validators(s))) if s.from_height == from => s,
        _ => {
            tracing::warn!(from, "no validator schedule in the state to prove");
            return;
        }
    };
    batch.put(
        Column::State,
        keys::tagged(keys::STATE_VALPROOF, &from.to_be_bytes()),
        StoredSetChange { schedule, proof }.to_canonical(),
    );
}

/// Rebuilds the state tree from the stored statuses.
fn load_state<K: KvStore>(kv: &K) -> Result<Smt> {
    let mut entries = Vec::new();
    let mut from = vec![keys::STATE_STATUS];
    let to = [keys::STATE_STATUS + 1];
    loop {
        let rows = kv.scan(Column::State, &from, Some(&to), 65_536)?;
        let Some((last, _)) = rows.last() else {
            break;
        };
        from = last.clone();
        from.push(0);
        for (k, v) in rows {
            let key = keys::hash_at(&k, 1, "status key")?;
            chancery_types::state_proof::Status::from_canonical(&v)
                .map_err(decode_err("status"))?;
            entries.push((key, Arc::<[u8]>::from(v)));
        }
    }
    Ok(Smt::from_entries(entries))
}

impl<K: KvStore> Ledger<K> {
    /// The genesis time.
    pub fn genesis_time(&self) -> Timestamp {
        self.genesis_time
    }
}
