//! The ledger: opening a store, its state in memory, accessors. Header
//! checks are in [`crate::header`], commits in [`crate::commit`].

use std::sync::{Arc, Mutex, RwLock};

use bincode::{Decode, Encode};
use chancery_types::bounded::List;
use chancery_types::encoding::DecodeCtx;
use chancery_types::log_proof::{empty_root, entry_hash, root_of_leaf_hashes};
use chancery_types::state_proof::{StateProof, ValidatorSchedule};
use chancery_types::{
    Canonical, ChainId, ExecResult, Genesis, Hash, RecordId, Timestamp, ValidatorSet, limits,
};

use crate::error::{LedgerError, Result, decode_err, missing};
use crate::execute::LatestStatuses;
use crate::ids::RecentIds;
use crate::keys::{self, TipRecord};
use crate::kv::{Batch, Column, KvStore};
use crate::log::{Frontier, NodeSource};
use crate::rules::{Rules, StoredRules};
use crate::smt::{Entry, StateTrees};
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
    /// Log position of the block's first record (the others follow in order).
    pub first_log_index: u64,
    /// The block's timestamp (every record's `committed_at`).
    pub timestamp: Timestamp,
    /// The state after executing it.
    pub summary: ExecSummary,
}

/// What only commits touch, under the commit lock: the record log's
/// right edge, and the latest statuses by key (the same values as the
/// newest state tree's leaves, for lookups during execution).
pub(crate) struct CommitState {
    pub(crate) frontier: Frontier,
    pub(crate) latest: LatestStatuses,
}

pub(crate) struct View {
    pub(crate) tip: TipRecord,
    pub(crate) log_size: u64,
    /// The state trees of the last few executed heights.
    pub(crate) trees: StateTrees,
    /// Record ids not yet written to their column.
    pub(crate) ids: RecentIds,
}

/// A Chancery ledger over a [`KvStore`]. All methods take `&self`; commits
/// are serialised internally, reads run concurrently with them and see
/// whole blocks only.
pub struct Ledger<K: KvStore> {
    pub(crate) kv: K,
    /// The rules in force for the next block (swapped when governance changes them).
    pub(crate) rules: RwLock<Arc<Rules>>,
    pub(crate) chain_id: ChainId,
    pub(crate) execution_lag: u64,
    pub(crate) genesis_validators: ValidatorSet,
    pub(crate) genesis_time: Timestamp,
    pub(crate) commit_lock: Mutex<CommitState>,
    /// Record ids gathered in memory before they are written as one run.
    pub(crate) id_run: usize,
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

/// The lowest level of the record log whose nodes are stored (D37).
pub(crate) const LOG_STORED_FROM_LEVEL: u8 = 4;

/// Nodes below [`LOG_STORED_FROM_LEVEL`] are not stored: a leaf (level
/// 0) is the hash of the log entry stored with its record, and a node of
/// levels 1–3 is computed from the entries under it, at most 8, read in
/// one range (D37).
impl<K: KvStore> NodeSource for StoreNodes<'_, K> {
    fn node(&self, level: u8, index: u64) -> Result<Hash> {
        if level < LOG_STORED_FROM_LEVEL {
            let width = 1u64 << level;
            let first = index << level;
            let rows = self.0.scan(
                Column::Records,
                &keys::record_key(first),
                Some(&keys::record_key(first + width)),
                width as usize,
            )?;
            if rows.len() as u64 != width {
                return Err(missing(
                    "log entry",
                    format!(
                        "{} of entries {first}..{} present",
                        rows.len(),
                        first + width
                    ),
                ));
            }
            let leaves = rows
                .iter()
                .map(|(_, v)| keys::decode_record_value(v).map(|(_, e, _)| entry_hash(&e)))
                .collect::<Result<Vec<Hash>>>()?;
            // A perfect subtree: RFC 9162's tree hash over its leaves.
            return Ok(root_of_leaf_hashes(&leaves));
        }
        let v = self
            .0
            .get(Column::LogNodes, &keys::log_node_key(level, index))?
            .ok_or_else(|| missing("log node", format!("node ({level}, {index}) is missing")))?;
        keys::hash_at(&v, 0, "log node")
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
                check_format(&kv)?;
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
        let keep = (rules.execution_lag + EXTRA_STATE_VERSIONS) as usize;
        let (trees, latest) = load_state(&kv, tip.height, keep)?;
        let ids = crate::ids::load(&kv, tip.height, summary.log_size)?;
        if trees.root() != summary.state_root {
            return Err(missing(
                "state tree",
                "recomputed root differs from the summary",
            ));
        }
        Ok(Ledger {
            kv,
            chain_id: rules.chain_id,
            execution_lag: rules.execution_lag,
            genesis_validators: genesis.validators.clone(),
            rules: RwLock::new(Arc::new(rules)),
            genesis_time: genesis.genesis_time,
            commit_lock: Mutex::new(CommitState { frontier, latest }),
            id_run: crate::ids::DEFAULT_ID_RUN,
            view: RwLock::new(View {
                tip,
                log_size: summary.log_size,
                trees,
                ids,
            }),
        })
    }

    /// How many record ids are gathered in memory before they are written
    /// to the store as one sorted run (default
    /// [`DEFAULT_ID_RUN`](crate::ids::DEFAULT_ID_RUN); at least 1). Small
    /// values make tests cross run boundaries often.
    pub fn with_id_run(mut self, ids: usize) -> Self {
        self.id_run = ids.max(1);
        self
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
}

pub(crate) fn read_summary<K: KvStore>(kv: &K, height: u64) -> Result<Option<ExecSummary>> {
    kv.get(Column::State, &keys::summary_key(height))?
        .map(|v| ExecSummary::decode(&v))
        .transpose()
}

/// Refuses a store of another format: one whose state roots were hashed
/// another way (D35) could not have its headers checked nor its tree
/// rebuilt to the roots they carry, and its records are laid out
/// differently (D36).
fn check_format<K: KvStore>(kv: &K) -> Result<()> {
    let found = match kv.get(Column::Meta, keys::META_FORMAT)? {
        None => 1,
        Some(v) => keys::be_u32(&v, 0, "store format")?,
    };
    if found == keys::STORE_FORMAT {
        return Ok(());
    }
    Err(LedgerError::UnsupportedFormat {
        detail: format!(
            "the store is format {found}, this build reads format {}; a chain created by \
             a build before session 13 (state-tree hashes D35, records layout D36) must be \
             started again from a new genesis",
            keys::STORE_FORMAT
        ),
    })
}

/// Writes the chain id, genesis, agencies, policy, the genesis summary and tip.
fn init<K: KvStore>(kv: &K, genesis: &Genesis, rules: &Rules) -> Result<()> {
    let mut b = Batch::new();
    b.put(Column::Meta, keys::META_CHAIN_ID, rules.chain_id.0.0);
    b.put(
        Column::Meta,
        keys::META_FORMAT,
        keys::STORE_FORMAT.to_be_bytes(),
    );
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
        state_root: Hash::ZERO,
    };
    b.put(Column::State, keys::summary_key(0), summary.encode());
    crate::ids::init_marker(&mut b);
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

/// Rebuilds the state tree from the stored statuses (the `statuses` column).
fn load_state<K: KvStore>(
    kv: &K,
    height: u64,
    keep: usize,
) -> Result<(StateTrees, LatestStatuses)> {
    let mut entries = Vec::new();
    scan_statuses(kv, &mut entries)?;
    let latest = entries.iter().cloned().collect();
    Ok((StateTrees::from_entries(height, keep, entries)?, latest))
}

/// Appends every stored status to `entries`, a bounded chunk at a time.
fn scan_statuses<K: KvStore>(kv: &K, entries: &mut Vec<Entry>) -> Result<()> {
    let mut from = Vec::new();
    loop {
        let rows = kv.scan(Column::Statuses, &from, None, 65_536)?;
        let Some((last, _)) = rows.last() else {
            return Ok(());
        };
        from = last.clone();
        from.push(0);
        for (k, v) in rows {
            let key = keys::hash_at(&k, 0, "status key")?;
            chancery_types::state_proof::Status::from_canonical(&v)
                .map_err(decode_err("status"))?;
            entries.push((key, Arc::<[u8]>::from(v)));
        }
    }
}

impl<K: KvStore> Ledger<K> {
    /// The genesis time.
    pub fn genesis_time(&self) -> Timestamp {
        self.genesis_time
    }
}
