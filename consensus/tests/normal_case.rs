//! Exact actions of the normal case: PRE-PREPARE → PREPARE → COMMIT →
//! deliver, on a backup and on the primary, with the persistence gate.

mod common;

use chancery_consensus::{Action, Input, PersistToken, Timer, TimerKind, VoteKind};
use chancery_types::Hash;
use common::*;

fn timer(kind: TimerKind, seq: u64, at: u64) -> Action {
    Action::ScheduleTimer {
        timer: Timer { kind, seq },
        at,
    }
}

#[test]
fn backup_prepares_commits_and_delivers_with_certificate() {
    let fx = Fixture::new(4);
    let mut r = fx.replica(1, 1);
    assert_eq!(
        r.handle(0, Input::Start),
        vec![timer(TimerKind::Progress { view: 0 }, 1, 1000)]
    );

    let b1 = fx.block(1, 0, Hash::ZERO);
    let h1 = b1.header.hash();
    // PRE-PREPARE: the node is asked to validate the block.
    assert_eq!(
        r.handle(10, Input::Message(fx.pre_prepare(0, &b1))),
        vec![Action::ValidateBlock {
            block: std::sync::Arc::new(b1.clone())
        }]
    );
    // Valid: the PREPARE is signed and persisted, but held back. The first
    // PREPARE of the view also persists the bound of the window ahead
    // (window 1: heights up to 2).
    let s1 = with_bounds(
        state(0, false, vec![vote(VoteKind::Prepare, 0, 1, h1)], vec![]),
        &[(VoteKind::Prepare, 0, 2)],
    );
    assert_eq!(
        r.handle(
            11,
            Input::BlockValidated {
                hash: h1,
                valid: true
            }
        ),
        vec![persist(1, s1)]
    );
    assert_eq!(r.held_actions(), 1);
    // Persisted: the PREPARE leaves.
    assert_eq!(
        r.handle(12, Input::Persisted(PersistToken(1))),
        vec![broadcast(fx.prepare(1, 0, 1, h1))]
    );
    assert_eq!(r.held_actions(), 0);

    // Two more PREPAREs make a quorum of 3: prepared; the certificate and the
    // COMMIT vote are persisted, the COMMIT is held.
    assert_eq!(
        r.handle(13, Input::Message(fx.prepare(0, 0, 1, h1))),
        vec![]
    );
    let proof = fx.prepared_proof(0, &b1, &[0, 1, 2]);
    let s2 = with_bounds(
        state(
            0,
            false,
            vec![
                vote(VoteKind::Prepare, 0, 1, h1),
                vote(VoteKind::Commit, 0, 1, h1),
            ],
            vec![proof],
        ),
        &[(VoteKind::Prepare, 0, 2)],
    );
    assert_eq!(
        r.handle(14, Input::Message(fx.prepare(2, 0, 1, h1))),
        vec![persist(2, s2)]
    );
    assert_eq!(
        r.handle(15, Input::Persisted(PersistToken(2))),
        vec![broadcast(fx.commit(1, 0, 1, h1))]
    );

    // A quorum of COMMITs: deliver with the certificate, re-arm the timer.
    assert_eq!(r.handle(16, Input::Message(fx.commit(2, 0, 1, h1))), vec![]);
    let cert = fx.commit_certificate(0, &b1, &[0, 1, 2]);
    assert_eq!(
        r.handle(17, Input::Message(fx.commit(0, 0, 1, h1))),
        vec![
            Action::Deliver {
                block: std::sync::Arc::new(b1.clone()),
                certificate: cert.clone()
            },
            timer(TimerKind::Progress { view: 0 }, 2, 1017),
        ]
    );
    cert.verify_for(&h1, &fx.set, &fx.chain).unwrap();
    assert_eq!(r.delivered(), 1);
    assert_eq!(r.tip_hash(), h1);
}

#[test]
fn primary_builds_signs_and_sends_after_persisting() {
    let fx = Fixture::new(4);
    let mut r = fx.replica(0, 2);
    assert_eq!(
        r.handle(0, Input::Start),
        vec![
            timer(TimerKind::Progress { view: 0 }, 1, 1000),
            Action::BuildProposal {
                height: 1,
                view: 0,
                parent: Hash::ZERO
            },
        ]
    );
    let b1 = fx.block(1, 0, Hash::ZERO);
    let h1 = b1.header.hash();
    // Window 2: the next height is asked for at once.
    let s1 = with_bounds(
        state(
            0,
            false,
            vec![
                vote(VoteKind::Proposal, 0, 1, h1),
                vote(VoteKind::Prepare, 0, 1, h1),
            ],
            vec![],
        ),
        &[(VoteKind::Proposal, 0, 3), (VoteKind::Prepare, 0, 3)],
    );
    assert_eq!(
        r.handle(5, Input::ProposalReady(b1.clone())),
        vec![
            persist(1, s1),
            Action::BuildProposal {
                height: 2,
                view: 0,
                parent: h1
            },
        ]
    );
    assert_eq!(
        r.handle(6, Input::Persisted(PersistToken(1))),
        vec![
            broadcast(fx.pre_prepare(0, &b1)),
            broadcast(fx.prepare(0, 0, 1, h1)),
        ]
    );
    // A proposal nobody asked for (wrong height) is dropped.
    let stray = fx.block(5, 0, h1);
    assert_eq!(r.handle(7, Input::ProposalReady(stray)), vec![]);
}

#[test]
fn single_validator_decides_alone() {
    let fx = Fixture::new(1);
    let mut r = fx.replica(0, 1);
    let a = handle_acked(&mut r, 0, Input::Start);
    assert!(matches!(a[1], Action::BuildProposal { height: 1, .. }));
    let b1 = fx.block(1, 0, Hash::ZERO);
    let a = handle_acked(&mut r, 1, Input::ProposalReady(b1.clone()));
    let delivered: Vec<_> = a
        .iter()
        .filter_map(|a| match a {
            Action::Deliver { block, certificate } => Some((block, certificate)),
            _ => None,
        })
        .collect();
    assert_eq!(delivered.len(), 1);
    assert_eq!(**delivered[0].0, b1);
    delivered[0]
        .1
        .verify_for(&b1.header.hash(), &fx.set, &fx.chain)
        .unwrap();
    // ... and asks for the next block.
    assert!(a.contains(&Action::BuildProposal {
        height: 2,
        view: 0,
        parent: b1.header.hash()
    }));
}
