//! What Byzantine validators send: the honest replica's broadcast, altered.

use chancery_consensus::{Commit, Message, PrePrepare, Prepare};
use chancery_types::Hash;
use rand::Rng;

use super::{Behaviour, Sim};

impl Sim {
    /// Sends `msg` from node `from` to every other validator, as its behaviour dictates.
    pub(super) fn broadcast(&mut self, from: usize, msg: Message) {
        let me = self.nodes[from].validator;
        let n = self.sc.n as u16;
        let behaviour = self.nodes[from].behaviour;
        let key = self.fx.key(me);
        let chain = self.fx.chain;
        for v in (0..n).filter(|v| *v != me) {
            let second_half = v >= n / 2;
            let m = match (behaviour, &msg) {
                (Behaviour::Silent, _) => continue,
                (Behaviour::EquivocatingPrimary, Message::PrePrepare(p)) if second_half => {
                    let mut b = (*p.block).clone();
                    b.header.timestamp.0 += 1;
                    Message::PrePrepare(PrePrepare::new(p.view, b.into(), me, &key, &chain))
                }
                (Behaviour::DoubleVote, Message::Prepare(p)) if second_half => {
                    let mut vote = p.vote;
                    vote.block_hash = Hash::of(&vote.block_hash.0);
                    Message::Prepare(Prepare::new(vote, me, &key, &chain))
                }
                (Behaviour::DoubleVote, Message::Commit(c)) if second_half => {
                    let mut vote = c.vote;
                    vote.block_hash = Hash::of(&vote.block_hash.0);
                    Message::Commit(Commit::new(vote, me, &key, &chain))
                }
                _ => msg.clone(),
            };
            if behaviour == Behaviour::DoubleVoteAll {
                let conflicting = match &msg {
                    Message::Prepare(p) => {
                        let mut vote = p.vote;
                        vote.block_hash = Hash::of(&vote.block_hash.0);
                        Some(Message::Prepare(Prepare::new(vote, me, &key, &chain)))
                    }
                    Message::Commit(c) => {
                        let mut vote = c.vote;
                        vote.block_hash = Hash::of(&vote.block_hash.0);
                        Some(Message::Commit(Commit::new(vote, me, &key, &chain)))
                    }
                    _ => None,
                };
                if let Some(c) = conflicting {
                    self.send(from, v, c);
                }
            }
            self.send(from, v, m);
        }
        if behaviour == Behaviour::JunkVotes {
            // Extra votes for random hashes at the next heights.
            let (view, height) = (msg.view(), msg.height().unwrap_or(0) + 1);
            let junk = Hash(self.rng.r#gen());
            let extra = [
                self.fx.prepare(me, view, height, junk),
                self.fx.commit(me, view, height + 1, junk),
            ];
            for m in extra {
                for v in (0..n).filter(|v| *v != me) {
                    self.send(from, v, m.clone());
                }
            }
        }
    }
}
