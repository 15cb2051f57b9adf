//! Exact actions of view changes: timeout, VIEW-CHANGE, joining, NEW-VIEW
//! with and without prepared certificates, and the choice of re-proposals.

mod common;

use chancery_consensus::{
    Action, Input, Message, Mode, NewView, NewViewBody, PersistToken, Timer, TimerKind, VoteKind,
    select_reproposals,
};
use chancery_types::{Hash, List};
use common::*;

fn timer(kind: TimerKind, seq: u64, at: u64) -> Action {
    Action::ScheduleTimer {
        timer: Timer { kind, seq },
        at,
    }
}

#[test]
fn timeout_starts_a_view_change_sent_after_persisting() {
    let fx = Fixture::new(4);
    let mut r = fx.replica(2, 1);
    r.handle(0, Input::Start);
    assert_eq!(
        r.handle(1000, fire(1, 0)),
        vec![
            persist(1, state(1, true, vec![], vec![])),
            timer(TimerKind::ViewChange { view: 1 }, 2, 2000),
        ]
    );
    assert_eq!(r.mode(), Mode::ViewChange);
    assert_eq!(
        r.handle(1001, Input::Persisted(PersistToken(1))),
        vec![broadcast(Message::ViewChange(fx.view_change(
            2,
            1,
            None,
            vec![]
        )))]
    );
}

#[test]
fn new_primary_sends_new_view_on_a_quorum_of_view_changes() {
    let fx = Fixture::new(4);
    let mut r = fx.replica(1, 1);
    r.handle(0, Input::Start);
    handle_acked(&mut r, 1000, fire(1, 0));
    let vcs = [1, 2, 3].map(|s| fx.view_change(s, 1, None, vec![]));
    assert_eq!(
        r.handle(1001, Input::Message(Message::ViewChange(vcs[1].clone()))),
        vec![]
    );
    // The third view change (ours counts) completes the quorum.
    assert_eq!(
        r.handle(1002, Input::Message(Message::ViewChange(vcs[2].clone()))),
        vec![
            persist(2, state(1, false, vec![], vec![])),
            // Backoff: one view change since the last delivery doubles the timeout.
            timer(TimerKind::Progress { view: 1 }, 3, 3002),
            Action::BuildProposal {
                height: 1,
                view: 1,
                parent: Hash::ZERO
            },
        ]
    );
    let nv = NewView::new(
        NewViewBody {
            view: 1,
            view_changes: List::new(vcs.to_vec()).unwrap(),
        },
        1,
        &fx.key(1),
        &fx.chain,
    );
    assert_eq!(
        r.handle(1003, Input::Persisted(PersistToken(2))),
        vec![broadcast(Message::NewView(nv.clone()))]
    );
    // A replica that missed the NEW-VIEW and asks again gets it resent.
    let late = fx.view_change(3, 1, None, vec![]);
    assert_eq!(
        r.handle(1004, Input::Message(Message::ViewChange(late))),
        vec![Action::Send {
            to: 3,
            message: Message::NewView(nv)
        }]
    );
}

#[test]
fn a_replica_joins_once_f_plus_one_others_change_view() {
    let fx = Fixture::new(4);
    let mut r = fx.replica(3, 1);
    r.handle(0, Input::Start);
    let vc1 = fx.view_change(1, 1, None, vec![]);
    let vc2 = fx.view_change(2, 1, None, vec![]);
    assert_eq!(
        r.handle(10, Input::Message(Message::ViewChange(vc1))),
        vec![]
    );
    assert_eq!(
        r.handle(11, Input::Message(Message::ViewChange(vc2))),
        vec![
            persist(1, state(1, true, vec![], vec![])),
            timer(TimerKind::ViewChange { view: 1 }, 2, 1011),
        ]
    );
    assert_eq!(r.view(), 1);
}

#[test]
fn new_view_re_proposes_the_prepared_block_in_the_new_view() {
    let fx = Fixture::new(4);
    let mut r = fx.replica(2, 1);
    r.handle(0, Input::Start);
    // Prepared (and committed) b1 in view 0, but COMMITs from others never came.
    let b1 = fx.block(1, 0, Hash::ZERO);
    let h1 = b1.header.hash();
    handle_acked(&mut r, 1, Input::Message(fx.pre_prepare(0, &b1)));
    handle_acked(
        &mut r,
        2,
        Input::BlockValidated {
            hash: h1,
            valid: true,
        },
    );
    for s in [0, 1] {
        handle_acked(&mut r, 3, Input::Message(fx.prepare(s, 0, 1, h1)));
    }
    let p1 = fx.prepared_proof(0, &b1, &[0, 1, 2]);
    // The VIEW-CHANGE carries the prepared proof.
    let a = handle_acked(&mut r, 1000, fire(1, 0));
    let my_vc = fx.view_change(2, 1, None, vec![p1.clone()]);
    assert_eq!(
        a.last(),
        Some(&broadcast(Message::ViewChange(my_vc.clone())))
    );

    let vcs = vec![
        fx.view_change(1, 1, None, vec![]),
        my_vc,
        fx.view_change(3, 1, None, vec![]),
    ];
    let nv = NewView::new(
        NewViewBody {
            view: 1,
            view_changes: List::new(vcs).unwrap(),
        },
        1,
        &fx.key(1),
        &fx.chain,
    );
    // Entering view 1: b1 (same header, same hash) is re-proposed, and we
    // PREPARE it in view 1 at once.
    assert_eq!(
        r.handle(1001, Input::Message(Message::NewView(nv))),
        vec![
            persist(
                4,
                // The PREPARE in the new view moves the bound to it.
                with_bounds(
                    state(
                        1,
                        false,
                        vec![
                            vote(VoteKind::Prepare, 1, 1, h1),
                            vote(VoteKind::Commit, 0, 1, h1)
                        ],
                        vec![p1],
                    ),
                    &[(VoteKind::Prepare, 1, 2)]
                )
            ),
            timer(TimerKind::Progress { view: 1 }, 3, 3001),
        ]
    );
    assert_eq!(
        r.handle(1002, Input::Persisted(PersistToken(4))),
        vec![broadcast(fx.prepare(2, 1, 1, h1))]
    );
    // It completes in view 1; the certificate is for view 1, the header keeps view 0.
    for s in [1, 3] {
        handle_acked(&mut r, 1003, Input::Message(fx.prepare(s, 1, 1, h1)));
    }
    let mut delivered = Vec::new();
    for s in [1, 3] {
        delivered.extend(handle_acked(
            &mut r,
            1004,
            Input::Message(fx.commit(s, 1, 1, h1)),
        ));
    }
    let cert = fx.commit_certificate(1, &b1, &[1, 2, 3]);
    assert!(delivered.contains(&Action::Deliver {
        block: std::sync::Arc::new(b1.clone()),
        certificate: cert.clone()
    }));
    assert_eq!(cert.vote.view, 1);
    assert_eq!(b1.header.view, 0);
    cert.verify_for(&h1, &fx.set, &fx.chain).unwrap();
}

#[test]
fn select_takes_the_highest_view_and_stops_at_a_gap_or_a_broken_link() {
    let fx = Fixture::new(4);
    let x = fx.block(1, 0, Hash::ZERO);
    let y = fx.block(1, 1, Hash::ZERO);
    let y2 = fx.block(2, 1, y.header.hash());
    let x2 = fx.block(2, 0, x.header.hash()); // extends x, not y
    let vc_a = fx.view_change(0, 2, None, vec![fx.prepared_proof(0, &x, &[0, 1, 2])]);
    let vc_b = fx.view_change(
        1,
        2,
        None,
        vec![
            fx.prepared_proof(1, &y, &[1, 2, 3]),
            fx.prepared_proof(1, &y2, &[1, 2, 3]),
        ],
    );
    let vc_c = fx.view_change(
        2,
        2,
        None,
        vec![
            fx.prepared_proof(0, &x, &[0, 1, 2]),
            fx.prepared_proof(0, &x2, &[0, 1, 2]),
        ],
    );
    let (anchor, chain) = select_reproposals(&[vc_a.clone(), vc_b.clone(), vc_c.clone()]);
    assert!(anchor.is_none());
    let picked: Vec<Hash> = chain.iter().map(|p| p.block.header.hash()).collect();
    assert_eq!(picked, vec![y.header.hash(), y2.header.hash()]);

    // Without vc_b, x wins at 1 and x2 at 2.
    let (_, chain) = select_reproposals(&[vc_a.clone(), vc_c.clone()]);
    assert_eq!(chain.len(), 2);
    assert_eq!(*chain[1].block, x2);

    // With a commit certificate for height 1 = x, selection starts above
    // it: x2 extends x and is kept.
    let cert = fx.commit_certificate(0, &x, &[0, 1, 2]);
    let vc_d = fx.view_change(3, 2, Some(cert.clone()), vec![]);
    let (anchor, chain) = select_reproposals(&[vc_c, vc_d]);
    assert_eq!(anchor, Some(cert));
    assert_eq!(
        chain.iter().map(|p| (*p.block).clone()).collect::<Vec<_>>(),
        vec![x2]
    );
}

#[test]
fn invalid_new_views_are_dropped() {
    let fx = Fixture::new(4);
    let mut r = fx.replica(2, 1);
    r.handle(0, Input::Start);
    let nv = |signer: u16, vcs: Vec<chancery_consensus::ViewChange>| {
        Message::NewView(NewView::new(
            NewViewBody {
                view: 1,
                view_changes: List::new(vcs).unwrap(),
            },
            signer,
            &fx.key(signer),
            &fx.chain,
        ))
    };
    let vcs = |signers: &[u16]| {
        signers
            .iter()
            .map(|s| fx.view_change(*s, 1, None, vec![]))
            .collect::<Vec<_>>()
    };
    // Too few view changes.
    assert_eq!(r.handle(1, Input::Message(nv(1, vcs(&[1, 3])))), vec![]);
    // Not from the primary of view 1.
    assert_eq!(r.handle(2, Input::Message(nv(3, vcs(&[0, 1, 3])))), vec![]);
    // Unsorted / repeated signers.
    assert_eq!(r.handle(3, Input::Message(nv(1, vcs(&[3, 1, 0])))), vec![]);
    assert_eq!(r.handle(3, Input::Message(nv(1, vcs(&[1, 1, 3])))), vec![]);
    // A view change whose prepared certificate lacks a quorum.
    let b1 = fx.block(1, 0, Hash::ZERO);
    let weak = fx.view_change(3, 1, None, vec![fx.prepared_proof(0, &b1, &[0, 3])]);
    let mut v = vcs(&[0, 1]);
    v.push(weak);
    assert_eq!(r.handle(4, Input::Message(nv(1, v))), vec![]);
    // A view change for another view.
    let mut v = vcs(&[0, 1]);
    v.push(fx.view_change(3, 2, None, vec![]));
    assert_eq!(r.handle(5, Input::Message(nv(1, v))), vec![]);
    assert_eq!(r.view(), 0);
    assert_eq!(r.mode(), Mode::Normal);
    // A good one is accepted.
    let a = r.handle(6, Input::Message(nv(1, vcs(&[0, 1, 3]))));
    assert!(matches!(a.first(), Some(Action::Persist { .. })), "{a:?}");
    assert_eq!(r.view(), 1);
}

/// Views start at 0 with each validator set. A VIEW-CHANGE signed under
/// an earlier set (its certificate below the height the set started
/// from) is refused, so a validator cannot replay others' old requests
/// for "view 1" to move the next set's replicas.
#[test]
fn view_changes_from_an_earlier_validator_set_are_refused() {
    let fx = Fixture::new(4);
    let b10 = fx.block(10, 0, Hash::ZERO);
    let cert10 = fx.commit_certificate(0, &b10, &[0, 1, 2]);
    let state = chancery_consensus::PersistentState {
        delivered: 10,
        tip_hash: b10.header.hash(),
        tip_certificate: Some(cert10.clone()),
        ..chancery_consensus::PersistentState::genesis()
    };
    let mut config = fx.config(2, 1);
    config.first_height = 11;
    let mut r = chancery_consensus::Replica::restore(config, state).unwrap();
    r.handle(0, Input::Start);
    // f+1 = 2 others ask for view 1, with no certificate: from before height 11.
    for s in [1, 3] {
        let vc = fx.view_change(s, 1, None, vec![]);
        handle_acked(&mut r, 10, Input::Message(Message::ViewChange(vc)));
    }
    assert_eq!((r.view(), r.mode()), (0, Mode::Normal));
    // The same requests sent under this set: joined.
    for s in [1, 3] {
        let vc = fx.view_change(s, 1, Some(cert10.clone()), vec![]);
        handle_acked(&mut r, 20, Input::Message(Message::ViewChange(vc)));
    }
    assert_eq!((r.view(), r.mode()), (1, Mode::ViewChange));
}

/// A backup that is merely behind in a view that runs does not leave it
/// when its progress timer fires (ARCHITECTURE.md D47): f+1 validators
/// signed this view's messages above its window, so it fetches the blocks
/// below them and keeps the view. With one such validator, or a forged
/// second one, it changes view as before.
#[test]
fn a_replica_behind_in_a_live_view_fetches_blocks_instead_of_leaving_it() {
    let fx = Fixture::new(4);
    let behind = |signers: &[(u16, bool)]| {
        let mut r = fx.replica(2, 2);
        r.handle(0, Input::Start);
        // Height 4 is above the window (0, 2] and within the next one:
        // buffered until this replica gets there.
        for &(signer, honest) in signers {
            let mut m = fx.prepare(signer, 0, 4, Hash::of(b"block 4"));
            if !honest && let Message::Prepare(p) = &mut m {
                p.signature = chancery_types::Signature([7; 64]);
            }
            assert_eq!(r.handle(10, Input::Message(m)), vec![]);
        }
        let out = handle_acked(&mut r, 1_000, fire(1, 0));
        (r, out)
    };

    let (r, out) = behind(&[(0, true), (3, true)]);
    assert_eq!(
        out,
        vec![
            Action::RequestBlocks { from: 1, to: 2 },
            timer(TimerKind::Progress { view: 0 }, 2, 2_000),
        ]
    );
    assert_eq!((r.view(), r.mode()), (0, Mode::Normal));

    for signers in [&[(0, true)][..], &[(0, true), (3, false)][..]] {
        let (r, out) = behind(signers);
        assert_eq!((r.view(), r.mode()), (1, Mode::ViewChange), "{signers:?}");
        assert!(
            out.iter().any(|a| matches!(
                a,
                Action::Broadcast {
                    message: Message::ViewChange(_)
                }
            )),
            "{signers:?}: {out:?}"
        );
    }
}

/// The same when the validators are further ahead (more than two windows:
/// their messages are checked and noted on arrival, not buffered): the
/// replica asks for the blocks at once, and again at its timeout, and
/// keeps the view.
#[test]
fn a_replica_far_behind_in_a_live_view_keeps_it_at_its_timeout() {
    let fx = Fixture::new(4);
    let mut r = fx.replica(2, 2);
    r.handle(0, Input::Start);
    let mut out = Vec::new();
    for signer in [0, 3] {
        out.extend(r.handle(
            10,
            Input::Message(fx.prepare(signer, 0, 9, Hash::of(b"block 9"))),
        ));
    }
    assert_eq!(out, vec![Action::RequestBlocks { from: 1, to: 7 }]);
    assert_eq!(
        handle_acked(&mut r, 1_000, fire(1, 0)),
        vec![
            Action::RequestBlocks { from: 1, to: 7 },
            timer(TimerKind::Progress { view: 0 }, 2, 2_000),
        ]
    );
    assert_eq!((r.view(), r.mode()), (0, Mode::Normal));
}
