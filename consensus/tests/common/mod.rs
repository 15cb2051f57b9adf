//! Test fixtures: deterministic keys, a validator set, blocks and signed
//! messages.
#![allow(dead_code, missing_docs)]

use chancery_consensus::{
    Commit, Config, Message, PrePrepare, Prepare, PrepareVote, Replica, Timeouts,
};
use chancery_types::{
    AgencyId, Block, BlockHeader, ChainId, CommitVote, Hash, List, SecretKey, Text, Timestamp,
    Validator, ValidatorSet,
};

/// Marks a block the simulated node considers invalid.
pub const JUNK_ROOT: Hash = Hash([0xee; 32]);

pub struct Fixture {
    pub chain: ChainId,
    pub keys: Vec<SecretKey>,
    pub set: ValidatorSet,
    pub timeouts: Timeouts,
}

impl Fixture {
    pub fn new(n: usize) -> Self {
        let keys: Vec<SecretKey> = (0..n)
            .map(|i| SecretKey::from_seed(&[i as u8 + 1; 32]))
            .collect();
        let validators = keys
            .iter()
            .enumerate()
            .map(|(i, k)| Validator {
                agency: AgencyId::new(format!("agency-{i}")).unwrap(),
                consensus_key: k.public(),
                network_key: SecretKey::from_seed(&[i as u8 + 101; 32]).public(),
                address: Text::new(format!("/ip4/127.0.0.1/tcp/{}", 7000 + i)).unwrap(),
            })
            .collect();
        Fixture {
            chain: ChainId(Hash::of(b"chancery consensus tests")),
            keys,
            set: ValidatorSet::new(validators).unwrap(),
            timeouts: Timeouts {
                base_ms: 1_000,
                max_ms: 8_000,
            },
        }
    }

    pub fn n(&self) -> usize {
        self.keys.len()
    }

    pub fn key(&self, i: u16) -> SecretKey {
        SecretKey::from_seed(&self.keys[i as usize].seed())
    }

    pub fn config(&self, me: u16, window: u64) -> Config {
        Config {
            chain_id: self.chain,
            validators: self.set.clone(),
            me,
            key: self.key(me),
            window,
            execution_lag: window.max(4),
            timeouts: self.timeouts,
            first_height: 0,
        }
    }

    pub fn replica(&self, me: u16, window: u64) -> Replica {
        Replica::new(self.config(me, window)).unwrap()
    }

    pub fn primary(&self, view: u64) -> u16 {
        (view % self.n() as u64) as u16
    }

    /// The honest block a primary would build.
    pub fn block(&self, height: u64, view: u64, parent: Hash) -> Block {
        self.block_at(height, view, parent, view * 1_000_000 + height)
    }

    pub fn block_at(&self, height: u64, view: u64, parent: Hash, timestamp: u64) -> Block {
        Block {
            header: BlockHeader {
                chain_id: self.chain,
                height,
                view,
                parent,
                timestamp: Timestamp(timestamp),
                proposer: self.primary(view),
                records_root: Hash::ZERO,
                record_count: 0,
                exec_height: height.saturating_sub(4),
                log_root: Hash::ZERO,
                log_size: 0,
                state_root: Hash::ZERO,
                validator_set_hash: self.set.hash(),
            },
            records: List::default(),
            results: List::default(),
        }
    }

    pub fn junk_block(&self, height: u64, view: u64, parent: Hash) -> Block {
        let mut b = self.block(height, view, parent);
        b.header.records_root = JUNK_ROOT;
        b
    }

    pub fn pre_prepare(&self, view: u64, block: &Block) -> Message {
        let p = self.primary(view);
        Message::PrePrepare(PrePrepare::new(
            view,
            std::sync::Arc::new(block.clone()),
            p,
            &self.key(p),
            &self.chain,
        ))
    }

    pub fn prepare(&self, signer: u16, view: u64, height: u64, hash: Hash) -> Message {
        let vote = PrepareVote {
            view,
            height,
            block_hash: hash,
        };
        Message::Prepare(Prepare::new(vote, signer, &self.key(signer), &self.chain))
    }

    pub fn commit(&self, signer: u16, view: u64, height: u64, hash: Hash) -> Message {
        let vote = CommitVote {
            height,
            view,
            block_hash: hash,
        };
        Message::Commit(Commit::new(vote, signer, &self.key(signer), &self.chain))
    }
}

use chancery_consensus::{
    Action, Input, PersistToken, PersistentState, PreparedCertificate, PreparedProof, ViewChange,
    ViewChangeBody, VoteKind, VoteRecord,
};
use chancery_types::{CertSignature, CommitCertificate, Signature};

pub fn sig(m: &Message) -> Signature {
    match m {
        Message::PrePrepare(p) => p.signature,
        Message::Prepare(p) => p.signature,
        Message::Commit(c) => c.signature,
        Message::ViewChange(v) => v.signature,
        Message::NewView(v) => v.signature,
        Message::Suspect(s) => s.signature,
    }
}

pub fn vote(kind: VoteKind, view: u64, height: u64, block_hash: Hash) -> VoteRecord {
    VoteRecord {
        kind,
        view,
        height,
        block_hash,
    }
}

pub fn state(
    view: u64,
    in_view_change: bool,
    votes: Vec<VoteRecord>,
    prepared: Vec<PreparedProof>,
) -> PersistentState {
    PersistentState {
        view,
        in_view_change,
        votes: List::new(votes).unwrap(),
        prepared: List::new(prepared).unwrap(),
        ..PersistentState::genesis()
    }
}

pub fn persist(token: u64, state: PersistentState) -> Action {
    Action::Persist {
        token: PersistToken(token),
        state,
    }
}

pub fn broadcast(message: Message) -> Action {
    Action::Broadcast { message }
}

impl Fixture {
    pub fn prepared_proof(&self, view: u64, block: &Block, signers: &[u16]) -> PreparedProof {
        let hash = block.header.hash();
        let height = block.header.height;
        let signatures = signers
            .iter()
            .map(|&s| CertSignature {
                validator: s,
                signature: sig(&self.prepare(s, view, height, hash)),
            })
            .collect();
        PreparedProof {
            certificate: PreparedCertificate {
                vote: PrepareVote {
                    view,
                    height,
                    block_hash: hash,
                },
                signatures: List::new(signatures).unwrap(),
            },
            block: std::sync::Arc::new(block.clone()),
        }
    }

    pub fn commit_certificate(
        &self,
        view: u64,
        block: &Block,
        signers: &[u16],
    ) -> CommitCertificate {
        let hash = block.header.hash();
        let height = block.header.height;
        let signatures = signers
            .iter()
            .map(|&s| CertSignature {
                validator: s,
                signature: sig(&self.commit(s, view, height, hash)),
            })
            .collect();
        CommitCertificate {
            vote: CommitVote {
                height,
                view,
                block_hash: hash,
            },
            signatures: List::new(signatures).unwrap(),
        }
    }

    pub fn view_change(
        &self,
        signer: u16,
        view: u64,
        committed: Option<CommitCertificate>,
        prepared: Vec<PreparedProof>,
    ) -> ViewChange {
        let body = ViewChangeBody {
            view,
            committed,
            prepared: List::new(prepared).unwrap(),
        };
        ViewChange::new(body, signer, &self.key(signer), &self.chain)
    }
}

/// The progress timer of `view`, number `seq`, firing.
pub fn fire(seq: u64, view: u64) -> Input {
    Input::TimerFired(chancery_consensus::Timer {
        kind: chancery_consensus::TimerKind::Progress { view },
        seq,
    })
}

/// Feeds `input`, then acknowledges every persist it asks for; returns all actions.
pub fn handle_acked(r: &mut Replica, now: u64, input: Input) -> Vec<Action> {
    let mut all = r.handle(now, input);
    let mut i = 0;
    while i < all.len() {
        if let Action::Persist { token, .. } = &all[i] {
            let more = r.handle(now, Input::Persisted(*token));
            all.extend(more);
        }
        i += 1;
    }
    all
}

/// Feeds the PRE-PREPARE of `block` in `view` at `now` and the node's
/// verdict that it is valid at `now + 1`, acknowledging every persist;
/// returns the block's hash.
pub fn accept_proposal(r: &mut Replica, fx: &Fixture, now: u64, view: u64, block: &Block) -> Hash {
    let hash = block.header.hash();
    handle_acked(r, now, Input::Message(fx.pre_prepare(view, block)));
    handle_acked(r, now + 1, Input::BlockValidated { hash, valid: true });
    hash
}

/// `s` with these vote bounds (kind, view, highest height covered).
pub fn with_bounds(mut s: PersistentState, bounds: &[(VoteKind, u64, u64)]) -> PersistentState {
    s.bounds = List::new(
        bounds
            .iter()
            .map(|&(kind, view, height)| chancery_consensus::VoteBound { kind, view, height })
            .collect(),
    )
    .unwrap();
    s
}
