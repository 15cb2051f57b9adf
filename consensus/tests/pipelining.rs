//! Exact actions with several heights in flight: out-of-order arrival,
//! commits in height order, delivery in height order.

mod common;

use chancery_consensus::{Action, Input, PersistToken, Timer, TimerKind, VoteKind};
use chancery_types::Hash;
use common::*;

fn timer(seq: u64, at: u64) -> Action {
    Action::ScheduleTimer {
        timer: Timer {
            kind: TimerKind::Progress { view: 0 },
            seq,
        },
        at,
    }
}

#[test]
fn two_heights_in_flight_are_decided_and_delivered_in_order() {
    let fx = Fixture::new(4);
    let mut r = fx.replica(1, 3);
    r.handle(0, Input::Start);
    let b1 = fx.block(1, 0, Hash::ZERO);
    let h1 = b1.header.hash();
    let b2 = fx.block(2, 0, h1);
    let h2 = b2.header.hash();

    // Height 2 arrives first: validated, but its parent is unknown: no PREPARE.
    assert_eq!(
        r.handle(1, Input::Message(fx.pre_prepare(0, &b2))),
        vec![Action::ValidateBlock {
            block: std::sync::Arc::new(b2.clone())
        }]
    );
    assert_eq!(
        r.handle(
            2,
            Input::BlockValidated {
                hash: h2,
                valid: true
            }
        ),
        vec![]
    );

    // Height 1 arrives and is valid: PREPARE for 1, then for 2, in one persist.
    assert_eq!(
        r.handle(3, Input::Message(fx.pre_prepare(0, &b1))),
        vec![Action::ValidateBlock {
            block: std::sync::Arc::new(b1.clone())
        }]
    );
    let votes = vec![
        vote(VoteKind::Prepare, 0, 1, h1),
        vote(VoteKind::Prepare, 0, 2, h2),
    ];
    // One bound covers both PREPAREs: height 1 plus the window of 3.
    let bound = [(VoteKind::Prepare, 0, 4)];
    assert_eq!(
        r.handle(
            4,
            Input::BlockValidated {
                hash: h1,
                valid: true
            }
        ),
        vec![persist(
            1,
            with_bounds(state(0, false, votes.clone(), vec![]), &bound)
        )]
    );
    assert_eq!(
        r.handle(5, Input::Persisted(PersistToken(1))),
        vec![
            broadcast(fx.prepare(1, 0, 1, h1)),
            broadcast(fx.prepare(1, 0, 2, h2)),
        ]
    );

    // Height 2 prepares first: prepared (persisted) but no COMMIT before height 1's.
    r.handle(6, Input::Message(fx.prepare(0, 0, 2, h2)));
    let p2 = fx.prepared_proof(0, &b2, &[0, 1, 2]);
    assert_eq!(
        r.handle(7, Input::Message(fx.prepare(2, 0, 2, h2))),
        vec![persist(
            2,
            with_bounds(state(0, false, votes.clone(), vec![p2.clone()]), &bound)
        )]
    );
    assert_eq!(r.handle(8, Input::Persisted(PersistToken(2))), vec![]);

    // Height 1 prepares: COMMIT for 1, then for 2.
    r.handle(9, Input::Message(fx.prepare(0, 0, 1, h1)));
    let p1 = fx.prepared_proof(0, &b1, &[0, 1, 2]);
    let mut votes3 = votes.clone();
    votes3.push(vote(VoteKind::Commit, 0, 1, h1));
    votes3.push(vote(VoteKind::Commit, 0, 2, h2));
    votes3.sort_by_key(|v| (v.kind, v.height));
    assert_eq!(
        r.handle(10, Input::Message(fx.prepare(2, 0, 1, h1))),
        vec![persist(
            3,
            with_bounds(state(0, false, votes3, vec![p1, p2]), &bound)
        )]
    );
    assert_eq!(
        r.handle(11, Input::Persisted(PersistToken(3))),
        vec![
            broadcast(fx.commit(1, 0, 1, h1)),
            broadcast(fx.commit(1, 0, 2, h2)),
        ]
    );

    // Height 2 is decided first, but is only delivered after height 1.
    r.handle(12, Input::Message(fx.commit(0, 0, 2, h2)));
    assert_eq!(r.handle(13, Input::Message(fx.commit(2, 0, 2, h2))), vec![]);
    r.handle(14, Input::Message(fx.commit(0, 0, 1, h1)));
    assert_eq!(
        r.handle(15, Input::Message(fx.commit(2, 0, 1, h1))),
        vec![
            Action::Deliver {
                block: std::sync::Arc::new(b1.clone()),
                certificate: fx.commit_certificate(0, &b1, &[0, 1, 2])
            },
            timer(2, 1015),
            Action::Deliver {
                block: std::sync::Arc::new(b2.clone()),
                certificate: fx.commit_certificate(0, &b2, &[0, 1, 2])
            },
            timer(3, 1015),
        ]
    );
    assert_eq!(r.delivered(), 2);
}

#[test]
fn a_height_just_above_the_window_is_buffered_and_replayed() {
    let fx = Fixture::new(4);
    let mut r = fx.replica(1, 1);
    r.handle(0, Input::Start);
    let b1 = fx.block(1, 0, Hash::ZERO);
    let h1 = b1.header.hash();
    let b2 = fx.block(2, 0, h1);
    // Window 1: height 2 is beyond it, so it waits.
    assert_eq!(r.handle(1, Input::Message(fx.pre_prepare(0, &b2))), vec![]);
    handle_acked(&mut r, 2, Input::Message(fx.pre_prepare(0, &b1)));
    handle_acked(
        &mut r,
        3,
        Input::BlockValidated {
            hash: h1,
            valid: true,
        },
    );
    for s in [0, 2] {
        handle_acked(&mut r, 4, Input::Message(fx.prepare(s, 0, 1, h1)));
    }
    handle_acked(&mut r, 5, Input::Message(fx.commit(0, 0, 1, h1)));
    // Delivering height 1 moves the window: height 2's proposal is replayed.
    let a = handle_acked(&mut r, 6, Input::Message(fx.commit(2, 0, 1, h1)));
    assert_eq!(
        a,
        vec![
            Action::Deliver {
                block: std::sync::Arc::new(b1.clone()),
                certificate: fx.commit_certificate(0, &b1, &[0, 1, 2])
            },
            Action::ScheduleTimer {
                timer: Timer {
                    kind: TimerKind::Progress { view: 0 },
                    seq: 2
                },
                at: 1006
            },
            Action::ValidateBlock {
                block: std::sync::Arc::new(b2)
            },
        ]
    );
}
