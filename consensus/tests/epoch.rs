//! The end of a validator set's epoch: a replica told its set's last
//! height proposes, accepts and syncs nothing above it, and says when it
//! has delivered that height so the node can hand over to the next set.

mod common;

use chancery_consensus::{Action, Input};
use chancery_types::Hash;
use common::*;

fn builds(actions: &[Action]) -> Vec<u64> {
    actions
        .iter()
        .filter_map(|a| match a {
            Action::BuildProposal { height, .. } => Some(*height),
            _ => None,
        })
        .collect()
}

#[test]
fn the_primary_proposes_up_to_the_last_height_only() {
    let fx = Fixture::new(4);
    let run = |last: Option<u64>| {
        let mut r = fx.replica(0, 3);
        if let Some(l) = last {
            r.end_epoch_at(l);
        }
        let mut asked = builds(&handle_acked(&mut r, 0, Input::Start));
        let mut parent = Hash::ZERO;
        while let Some(&h) = asked.last() {
            if h > 10 {
                break;
            }
            let b = fx.block(h, 0, parent);
            parent = b.header.hash();
            let next = builds(&handle_acked(&mut r, h, Input::ProposalReady(b)));
            if next.is_empty() {
                break;
            }
            asked.extend(next);
        }
        asked
    };
    assert_eq!(run(None), vec![1, 2, 3], "the whole window without an end");
    assert_eq!(run(Some(2)), vec![1, 2], "nothing past the last height");
}

#[test]
fn a_backup_ignores_proposals_past_the_last_height() {
    let fx = Fixture::new(4);
    let b1 = fx.block(1, 0, Hash::ZERO);
    let b2 = fx.block(2, 0, b1.header.hash());
    let mut open = fx.replica(1, 3);
    open.handle(0, Input::Start);
    let got = open.handle(1, Input::Message(fx.pre_prepare(0, &b2)));
    assert_eq!(
        got,
        vec![Action::ValidateBlock {
            block: std::sync::Arc::new(b2.clone())
        }]
    );

    let mut ending = fx.replica(1, 3);
    ending.end_epoch_at(1);
    ending.handle(0, Input::Start);
    assert_eq!(
        ending.handle(1, Input::Message(fx.pre_prepare(0, &b2))),
        vec![]
    );
    assert_eq!(
        ending.handle(2, Input::Message(fx.pre_prepare(0, &b1))),
        vec![Action::ValidateBlock {
            block: std::sync::Arc::new(b1)
        }]
    );
}

#[test]
fn synced_blocks_deliver_to_the_last_height_and_no_further() {
    let fx = Fixture::new(4);
    let mut r = fx.replica(2, 3);
    r.end_epoch_at(2);
    r.handle(0, Input::Start);
    let mut parent = Hash::ZERO;
    let mut delivered = Vec::new();
    for h in 1..=3 {
        let block = fx.block(h, 0, parent);
        parent = block.header.hash();
        let certificate = fx.commit_certificate(0, &block, &[0, 1, 3]);
        for a in handle_acked(
            &mut r,
            h,
            Input::SyncedBlock {
                block: std::sync::Arc::new(block),
                certificate,
            },
        ) {
            if let Action::Deliver { block, .. } = a {
                delivered.push(block.header.height);
            }
        }
        assert_eq!(r.epoch_done(), h >= 2, "after height {h}");
    }
    assert_eq!(delivered, vec![1, 2]);
    assert_eq!(r.delivered(), 2);
}
