//! The replica's persistent state on disk.
//!
//! The replica asks for its state to be persisted before every vote it
//! sends, twice per height. That state carries a prepared proof, with its
//! whole block, for every height prepared but not yet delivered; under
//! load that is one to three blocks of up to thousands of records, which
//! were re-encoded and re-written with every vote. Here the small part
//! (view, votes, certificates) goes under one key and each prepared block
//! under a key of its own, written once while it stays prepared and deleted
//! when it leaves the state. Both in one synced batch, as before, so a
//! crash leaves the previous state or the new one, each complete.

use std::collections::HashSet;
use std::sync::Arc;

use bincode::{Decode, Encode};
use chancery_consensus::message::MAX_PREPARED;
use chancery_consensus::{
    PersistentState, PreparedCertificate, PreparedProof, VoteBound, VoteRecord,
};
use chancery_ledger::{KvStore, Ledger, LedgerError};
use chancery_types::encoding::DecodeCtx;
use chancery_types::{Block, Canonical, CommitCertificate, Hash, List};

use super::RuntimeError;

/// The state without its prepared blocks.
pub(super) const STATE_KEY: &[u8] = b"replica/state/v2";
/// Prefix of a prepared block's key; the block's header hash follows.
const BLOCK_PREFIX: &[u8] = b"replica/prepared/";

/// The fields of [`PersistentState`] stored under [`STATE_KEY`] besides
/// the prepared certificates and vote bounds.
#[derive(Debug, Encode, Decode)]
#[bincode(decode_context = "DecodeCtx")]
struct Head {
    view: u64,
    in_view_change: bool,
    delivered: u64,
    tip_hash: Hash,
    tip_certificate: Option<CommitCertificate>,
    votes: List<VoteRecord, 256>,
}

impl Head {
    fn of(s: &PersistentState) -> Self {
        Head {
            view: s.view,
            in_view_change: s.in_view_change,
            delivered: s.delivered,
            tip_hash: s.tip_hash,
            tip_certificate: s.tip_certificate.clone(),
            votes: s.votes.clone(),
        }
    }

    fn into_state(
        self,
        prepared: List<PreparedProof, MAX_PREPARED>,
        bounds: List<VoteBound, 2>,
    ) -> PersistentState {
        PersistentState {
            view: self.view,
            in_view_change: self.in_view_change,
            delivered: self.delivered,
            tip_hash: self.tip_hash,
            tip_certificate: self.tip_certificate,
            votes: self.votes,
            prepared,
            bounds,
        }
    }
}

/// [`PersistentState`] with each prepared proof's block left out: the
/// block is stored under [`block_key`] of the certificate's hash.
#[derive(Debug, Encode, Decode)]
#[bincode(decode_context = "DecodeCtx")]
struct StoredState {
    head: Head,
    prepared: List<PreparedCertificate, MAX_PREPARED>,
    bounds: List<VoteBound, 2>,
}
impl Canonical for StoredState {}

fn block_key(hash: &Hash) -> Vec<u8> {
    [BLOCK_PREFIX, hash.0.as_slice()].concat()
}

/// Reads and writes the replica's state; remembers which prepared blocks
/// are on disk so that each is written once.
#[derive(Debug, Default)]
pub(super) struct StateStore {
    /// Prepared blocks the last save left on disk.
    on_disk: HashSet<Hash>,
}

impl StateStore {
    /// The stored state, if any, and the store that continues from it.
    pub(super) fn load<K: KvStore>(
        ledger: &Ledger<K>,
    ) -> Result<(Option<PersistentState>, StateStore), RuntimeError> {
        let mut store = StateStore::default();
        let Some(bytes) = ledger.consensus_get(STATE_KEY)? else {
            return Ok((None, store));
        };
        let stored = StoredState::from_canonical(&bytes).map_err(RuntimeError::CorruptState)?;
        let mut prepared = Vec::with_capacity(stored.prepared.len());
        for certificate in stored.prepared.into_vec() {
            let vote = certificate.vote;
            let missing = || RuntimeError::MissingPreparedBlock {
                height: vote.height,
                hash: vote.block_hash,
            };
            let bytes = ledger
                .consensus_get(&block_key(&vote.block_hash))?
                .ok_or_else(missing)?;
            let block = Block::from_canonical(&bytes).map_err(RuntimeError::CorruptState)?;
            if block.header.hash() != vote.block_hash {
                return Err(missing());
            }
            store.on_disk.insert(vote.block_hash);
            prepared.push(PreparedProof {
                certificate,
                block: Arc::new(block),
            });
        }
        // At most as many as the stored list held.
        let prepared = List::new(prepared).unwrap_or_default();
        Ok((Some(stored.head.into_state(prepared, stored.bounds)), store))
    }

    /// Writes `state` in one synced batch: the small part, blocks newly
    /// prepared, and deletions of blocks no longer in it.
    pub(super) fn save<K: KvStore>(
        &mut self,
        ledger: &Ledger<K>,
        state: &PersistentState,
    ) -> Result<(), LedgerError> {
        let stored = StoredState {
            head: Head::of(state),
            prepared: List::new(
                state
                    .prepared
                    .iter()
                    .map(|p| p.certificate.clone())
                    .collect(),
            )
            .unwrap_or_default(),
            bounds: state.bounds.clone(),
        };
        let now: HashSet<Hash> = state
            .prepared
            .iter()
            .map(|p| p.certificate.vote.block_hash)
            .collect();
        let mut owned: Vec<(Vec<u8>, Option<Vec<u8>>)> =
            vec![(STATE_KEY.to_vec(), Some(stored.to_canonical()))];
        for p in state.prepared.iter() {
            let hash = p.certificate.vote.block_hash;
            if !self.on_disk.contains(&hash) {
                owned.push((block_key(&hash), Some(p.block.to_canonical())));
            }
        }
        for hash in self.on_disk.difference(&now) {
            owned.push((block_key(hash), None));
        }
        let writes: Vec<(&[u8], Option<&[u8]>)> = owned
            .iter()
            .map(|(k, v)| (k.as_slice(), v.as_deref()))
            .collect();
        ledger.consensus_put(&writes)?;
        self.on_disk = now;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use chancery_consensus::PrepareVote;
    use chancery_ledger::MemKv;
    use chancery_types::testing;
    use proptest::collection::vec;
    use proptest::prelude::*;
    use proptest::strategy::ValueTree;

    use super::*;

    fn proof(block: &Block, view: u64) -> PreparedProof {
        PreparedProof {
            certificate: PreparedCertificate {
                vote: PrepareVote {
                    view,
                    height: block.header.height,
                    block_hash: block.header.hash(),
                },
                signatures: List::default(),
            },
            block: Arc::new(block.clone()),
        }
    }

    fn state(view: u64, blocks: &[&Block]) -> PersistentState {
        let mut s = PersistentState::genesis();
        s.view = view;
        s.delivered = view / 2;
        s.votes = List::new(vec![VoteRecord {
            kind: chancery_consensus::VoteKind::Prepare,
            view,
            height: view + 1,
            block_hash: Hash::of(&view.to_be_bytes()),
        }])
        .unwrap();
        s.prepared = List::new(blocks.iter().map(|b| proof(b, view)).collect()).unwrap();
        s.bounds = List::new(vec![VoteBound {
            kind: chancery_consensus::VoteKind::Prepare,
            view,
            height: view + 4,
        }])
        .unwrap();
        s
    }

    fn on_disk(ledger: &Ledger<MemKv>, block: &Block) -> bool {
        ledger
            .consensus_get(&block_key(&block.header.hash()))
            .unwrap()
            .is_some()
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(24))]

        /// After every save, a fresh load gives back exactly the saved
        /// state, and the blocks on disk are exactly its prepared ones.
        #[test]
        fn saves_load_back_and_keep_only_prepared_blocks(
            genesis in testing::genesis(),
            blocks in vec(testing::block(), 1..5),
            rounds in vec(vec(any::<prop::sample::Index>(), 0..4), 1..6),
        ) {
            let ledger = Ledger::in_memory(&genesis).unwrap();
            let (loaded, mut store) = StateStore::load(&ledger).unwrap();
            prop_assert!(loaded.is_none());
            for (view, picks) in rounds.iter().enumerate() {
                let mut chosen: Vec<&Block> = picks.iter().map(|i| i.get(&blocks)).collect();
                chosen.dedup_by_key(|b| b.header.hash());
                let s = state(view as u64, &chosen);
                store.save(&ledger, &s).unwrap();
                let (back, reloaded) = StateStore::load(&ledger).unwrap();
                prop_assert_eq!(back.as_ref(), Some(&s));
                prop_assert_eq!(&reloaded.on_disk, &store.on_disk);
                for b in &blocks {
                    let wanted = chosen.iter().any(|c| c.header.hash() == b.header.hash());
                    prop_assert_eq!(on_disk(&ledger, b), wanted);
                }
            }
        }
    }

    fn sample<T: std::fmt::Debug>(s: impl Strategy<Value = T>) -> T {
        let mut runner = proptest::test_runner::TestRunner::deterministic();
        s.new_tree(&mut runner).unwrap().current()
    }

    #[test]
    fn a_missing_or_wrong_prepared_block_is_named() {
        let ledger = Ledger::in_memory(&sample(testing::genesis())).unwrap();
        let block = sample(testing::block());
        let (_, mut store) = StateStore::load(&ledger).unwrap();
        store.save(&ledger, &state(1, &[&block])).unwrap();
        let key = block_key(&block.header.hash());
        let mut other = block.clone();
        other.header.height += 1;
        ledger
            .consensus_put(&[(&key, Some(&other.to_canonical()))])
            .unwrap();
        let err = StateStore::load(&ledger).unwrap_err();
        assert!(
            matches!(err, RuntimeError::MissingPreparedBlock { hash, .. } if hash == block.header.hash()),
            "{err}"
        );
        ledger.consensus_put(&[(&key, None)]).unwrap();
        let err = StateStore::load(&ledger).unwrap_err();
        assert!(err.to_string().contains("missing"), "{err}");
        ledger
            .consensus_put(&[(STATE_KEY, Some(b"garbage".as_slice()))])
            .unwrap();
        assert!(matches!(
            StateStore::load(&ledger).unwrap_err(),
            RuntimeError::CorruptState(_)
        ));
    }
}
