//! The in-memory store: one ordered map per column behind one lock, so a
//! batch is applied atomically. Cloning shares the data (a "reopen" in
//! tests is a new ledger over a clone).

use std::collections::BTreeMap;
use std::ops::Bound;
use std::sync::{Arc, RwLock};

use crate::error::Result;
use crate::kv::{Batch, Column, KvStore};

type Maps = Vec<BTreeMap<Vec<u8>, Vec<u8>>>;

/// An in-memory [`KvStore`].
#[derive(Clone, Debug)]
pub struct MemKv {
    maps: Arc<RwLock<Maps>>,
}

impl Default for MemKv {
    fn default() -> Self {
        MemKv {
            maps: Arc::new(RwLock::new(vec![BTreeMap::new(); Column::ALL.len()])),
        }
    }
}

impl MemKv {
    /// An empty store.
    pub fn new() -> Self {
        MemKv::default()
    }
}

impl KvStore for MemKv {
    fn get(&self, col: Column, key: &[u8]) -> Result<Option<Vec<u8>>> {
        let maps = self.maps.read().unwrap_or_else(|e| e.into_inner());
        Ok(maps[col.index()].get(key).cloned())
    }

    fn write(&self, batch: Batch) -> Result<()> {
        let mut maps = self.maps.write().unwrap_or_else(|e| e.into_inner());
        for (col, key, value) in batch.ops() {
            let map = &mut maps[col.index()];
            match value {
                Some(v) => {
                    map.insert(key.to_vec(), v.to_vec());
                }
                None => {
                    map.remove(key);
                }
            }
        }
        Ok(())
    }

    fn scan(
        &self,
        col: Column,
        from: &[u8],
        to: Option<&[u8]>,
        limit: usize,
    ) -> Result<Vec<(Vec<u8>, Vec<u8>)>> {
        let maps = self.maps.read().unwrap_or_else(|e| e.into_inner());
        let upper = match to {
            Some(t) => Bound::Excluded(t),
            None => Bound::Unbounded,
        };
        if to.is_some_and(|t| t <= from) {
            return Ok(Vec::new());
        }
        Ok(maps[col.index()]
            .range::<[u8], _>((Bound::Included(from), upper))
            .take(limit)
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect())
    }
}
