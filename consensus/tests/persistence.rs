//! Crash and restart from persisted state: nothing signed leaves before it
//! is durable, and a restored replica never signs a conflicting vote.

mod common;

use chancery_consensus::{Action, Input, Message, PersistentState, Replica, VoteKind};
use chancery_types::{Canonical, Hash};
use common::*;

#[test]
fn votes_are_held_until_persisted_and_a_restored_replica_does_not_equivocate() {
    let fx = Fixture::new(4);
    let mut r = fx.replica(1, 1);
    r.handle(0, Input::Start);
    let b1 = fx.block(1, 0, Hash::ZERO);
    let h1 = b1.header.hash();
    r.handle(1, Input::Message(fx.pre_prepare(0, &b1)));
    let a = r.handle(
        2,
        Input::BlockValidated {
            hash: h1,
            valid: true,
        },
    );
    let [Action::Persist { state, .. }] = a.as_slice() else {
        panic!("{a:?}");
    };
    // The PREPARE is held: crash now and nothing was sent.
    assert_eq!(r.held_actions(), 1);
    // Say the write completed just before the crash.
    let saved = PersistentState::from_canonical(&state.to_canonical()).unwrap();
    assert_eq!(&saved, state);
    drop(r);

    let mut r = Replica::restore(fx.config(1, 1), saved).unwrap();
    r.handle(10, Input::Start);
    // The (equivocating) primary now offers another block at height 1, view 0.
    let other = fx.block_at(1, 0, Hash::ZERO, 42);
    let ho = other.header.hash();
    assert_eq!(
        r.handle(11, Input::Message(fx.pre_prepare(0, &other))),
        vec![Action::ValidateBlock {
            block: std::sync::Arc::new(other)
        }]
    );
    // Valid as far as the node can tell, but we prepared b1 in this view: no vote.
    assert_eq!(
        r.handle(
            12,
            Input::BlockValidated {
                hash: ho,
                valid: true
            }
        ),
        vec![]
    );
    // The original proposal again: evidence against the primary.
    let a = r.handle(13, Input::Message(fx.pre_prepare(0, &b1)));
    assert!(
        matches!(a.as_slice(), [Action::Evidence(e)] if e.kind == VoteKind::Proposal),
        "{a:?}"
    );
}

#[test]
fn a_replica_restored_mid_view_change_resends_its_view_change() {
    let fx = Fixture::new(4);
    let mut r = fx.replica(3, 1);
    r.handle(0, Input::Start);
    let a = r.handle(
        1000,
        Input::TimerFired(chancery_consensus::Timer {
            kind: chancery_consensus::TimerKind::Progress { view: 0 },
            seq: 1,
        }),
    );
    let Some(Action::Persist { state, .. }) = a.first() else {
        panic!("{a:?}");
    };
    assert!(state.in_view_change);
    let mut r = Replica::restore(fx.config(3, 1), state.clone()).unwrap();
    let a = handle_acked(&mut r, 5000, Input::Start);
    let vc = fx.view_change(3, 1, None, vec![]);
    assert!(a.contains(&broadcast(Message::ViewChange(vc))), "{a:?}");
    assert_eq!(r.view(), 1);
}

#[test]
fn a_restarted_replica_catches_up_from_its_ledger() {
    let fx = Fixture::new(4);
    // Build a certified chain of 3 blocks.
    let mut parent = Hash::ZERO;
    let mut chain = Vec::new();
    for h in 1..=3 {
        let b = fx.block(h, 0, parent);
        parent = b.header.hash();
        let c = fx.commit_certificate(0, &b, &[0, 2, 3]);
        chain.push((b, c));
    }
    let mut r = Replica::restore(fx.config(1, 2), PersistentState::genesis()).unwrap();
    // Out of order: height 2 waits for height 1.
    let (b2, c2) = chain[1].clone();
    assert_eq!(
        r.handle(
            0,
            Input::SyncedBlock {
                block: std::sync::Arc::new(b2),
                certificate: c2
            }
        ),
        vec![]
    );
    let (b1, c1) = chain[0].clone();
    let a = r.handle(
        0,
        Input::SyncedBlock {
            block: std::sync::Arc::new(b1),
            certificate: c1,
        },
    );
    let delivered: Vec<u64> = a
        .iter()
        .filter_map(|a| match a {
            Action::Deliver { block, .. } => Some(block.header.height),
            _ => None,
        })
        .collect();
    assert_eq!(delivered, vec![1, 2]);
    // A forged certificate is refused.
    let (b3, mut c3) = chain[2].clone();
    c3.signatures = chancery_types::List::new(c3.signatures[..2].to_vec()).unwrap();
    assert_eq!(
        r.handle(
            0,
            Input::SyncedBlock {
                block: std::sync::Arc::new(b3),
                certificate: c3
            }
        ),
        vec![]
    );
    assert_eq!(r.delivered(), 2);
}

#[test]
fn prepares_within_the_bound_leave_at_once_and_are_not_signed_again_after_a_restart() {
    let fx = Fixture::new(4);
    let mut r = fx.replica(1, 3);
    r.handle(0, Input::Start);
    let b1 = fx.block(1, 0, Hash::ZERO);
    let h1 = b1.header.hash();
    r.handle(1, Input::Message(fx.pre_prepare(0, &b1)));
    let validated = |hash| Input::BlockValidated { hash, valid: true };
    // The first PREPARE persists the bound (height 1 + window 3) and waits.
    let a = r.handle(2, validated(h1));
    let [Action::Persist { state, .. }] = a.as_slice() else {
        panic!("{a:?}");
    };
    assert_eq!(
        state.bounds.as_slice(),
        &[chancery_consensus::VoteBound {
            kind: VoteKind::Prepare,
            view: 0,
            height: 4
        }]
    );
    let saved = state.clone();
    assert_eq!(
        r.handle(3, Input::Persisted(chancery_consensus::PersistToken(1))),
        vec![broadcast(fx.prepare(1, 0, 1, h1))]
    );
    // Height 2 is under the bound: its PREPARE leaves with no persist.
    let b2 = fx.block(2, 0, h1);
    let h2 = b2.header.hash();
    r.handle(4, Input::Message(fx.pre_prepare(0, &b2)));
    assert_eq!(
        r.handle(5, validated(h2)),
        vec![broadcast(fx.prepare(1, 0, 2, h2))]
    );

    // Crash. The last persisted state does not list the PREPARE at height 2.
    drop(r);
    let mut r = Replica::restore(fx.config(1, 3), saved).unwrap();
    r.handle(10, Input::Start);
    // The PREPARE it listed, at height 1, may be sent again (the same vote).
    r.handle(11, Input::Message(fx.pre_prepare(0, &b1)));
    assert_eq!(
        r.handle(12, validated(h1)),
        vec![broadcast(fx.prepare(1, 0, 1, h1))]
    );
    // Another block at height 2 in view 0: it may have prepared b2 there,
    // so it signs nothing (a second PREPARE would be equivocation).
    let other = fx.block_at(2, 0, h1, 42);
    let ho = other.header.hash();
    r.handle(13, Input::Message(fx.pre_prepare(0, &other)));
    assert_eq!(r.handle(14, validated(ho)), vec![]);
}
