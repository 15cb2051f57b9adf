//! Inputs that must be dropped without effect (and without a panic): bad
//! signatures, non-validators, stale views, late and out-of-window heights,
//! malformed bytes, forged proposals. And equivocation evidence.

mod common;

use chancery_consensus::{Action, Input, Message, Prepare, PrepareVote, VoteKind};
use chancery_types::{Hash, Signature};
use common::*;

fn started(fx: &Fixture, me: u16, window: u64) -> chancery_consensus::Replica {
    let mut r = fx.replica(me, window);
    r.handle(0, Input::Start);
    r
}

#[test]
fn bad_signature_unknown_signer_own_echo_and_malformed_are_dropped() {
    let fx = Fixture::new(4);
    let mut r = started(&fx, 1, 1);
    let b1 = fx.block(1, 0, Hash::ZERO);
    let h1 = accept_proposal(&mut r, &fx, 1, 0, &b1);

    // A PREPARE from 0 with a broken signature, and one claiming index 9.
    let mut forged = fx.prepare(0, 0, 1, h1);
    if let Message::Prepare(p) = &mut forged {
        p.signature = Signature([7; 64]);
    }
    assert_eq!(r.handle(3, Input::Message(forged)), vec![]);
    let vote = PrepareVote {
        view: 0,
        height: 1,
        block_hash: h1,
    };
    let stranger = Message::Prepare(Prepare::new(vote, 9, &fx.key(0), &fx.chain));
    assert_eq!(r.handle(4, Input::Message(stranger)), vec![]);
    // Our own vote echoed back does not count twice.
    assert_eq!(r.handle(5, Input::Message(fx.prepare(1, 0, 1, h1))), vec![]);
    // Garbage bytes.
    assert_eq!(r.handle(6, Input::Bytes(vec![1, 2, 3])), vec![]);
    assert_eq!(r.handle(6, Input::Bytes(Vec::new())), vec![]);
    // Only one valid PREPARE from another validator so far: not prepared.
    assert_eq!(r.handle(7, Input::Message(fx.prepare(2, 0, 1, h1))), vec![]);
    // The genuine one from 0 completes the quorum (as bytes, to cover decoding).
    let bytes = chancery_types::Canonical::to_canonical(&fx.prepare(0, 0, 1, h1));
    let a = r.handle(8, Input::Bytes(bytes));
    assert!(matches!(a.as_slice(), [Action::Persist { .. }]), "{a:?}");
}

#[test]
fn proposals_from_a_non_primary_or_with_a_wrong_header_are_dropped() {
    let fx = Fixture::new(4);
    let mut r = started(&fx, 1, 2);
    let b1 = fx.block(1, 0, Hash::ZERO);
    // Signed by validator 2, who is not primary of view 0.
    let pp = chancery_consensus::PrePrepare::new(
        0,
        std::sync::Arc::new(b1.clone()),
        2,
        &fx.key(2),
        &fx.chain,
    );
    assert_eq!(r.handle(1, Input::Message(Message::PrePrepare(pp))), vec![]);
    // Header names another proposer; header of another chain; header of
    // another view. (Fresh replicas: a second proposal would be evidence.)
    let mut b = b1.clone();
    b.header.proposer = 3;
    assert_eq!(
        started(&fx, 1, 2).handle(2, Input::Message(fx.pre_prepare(0, &b))),
        vec![]
    );
    let mut b = b1.clone();
    b.header.chain_id = chancery_types::ChainId(Hash::of(b"other"));
    assert_eq!(
        started(&fx, 1, 2).handle(3, Input::Message(fx.pre_prepare(0, &b))),
        vec![]
    );
    let mut b = b1.clone();
    b.header.view = 4;
    assert_eq!(
        started(&fx, 1, 2).handle(3, Input::Message(fx.pre_prepare(0, &b))),
        vec![]
    );
    // The node says the block is junk: no PREPARE.
    let junk = fx.junk_block(1, 0, Hash::ZERO);
    let mut r = started(&fx, 1, 2);
    let a = r.handle(4, Input::Message(fx.pre_prepare(0, &junk)));
    assert_eq!(
        a,
        vec![Action::ValidateBlock {
            block: std::sync::Arc::new(junk.clone())
        }]
    );
    let a = r.handle(
        5,
        Input::BlockValidated {
            hash: junk.header.hash(),
            valid: false,
        },
    );
    assert_eq!(a, vec![]);
    // A verdict on a block nobody asked about.
    assert_eq!(
        r.handle(
            6,
            Input::BlockValidated {
                hash: Hash::of(b"x"),
                valid: true
            }
        ),
        vec![]
    );
}

#[test]
fn late_stale_and_out_of_window_messages_are_dropped() {
    let fx = Fixture::new(4);
    let mut r = started(&fx, 1, 1);
    let b1 = fx.block(1, 0, Hash::ZERO);
    let h1 = accept_proposal(&mut r, &fx, 1, 0, &b1);
    for s in [0, 2] {
        handle_acked(&mut r, 3, Input::Message(fx.prepare(s, 0, 1, h1)));
    }
    for s in [0, 2] {
        handle_acked(&mut r, 4, Input::Message(fx.commit(s, 0, 1, h1)));
    }
    assert_eq!(r.delivered(), 1);
    // Late: the fourth COMMIT and PREPARE for a delivered height.
    assert_eq!(r.handle(5, Input::Message(fx.commit(3, 0, 1, h1))), vec![]);
    assert_eq!(r.handle(5, Input::Message(fx.prepare(3, 0, 1, h1))), vec![]);
    // Far beyond the window (window 1, delivered 1: heights > 3), whatever
    // the view: dropped; one validator that far ahead proves nothing...
    let far = Hash::of(b"far");
    assert_eq!(
        r.handle(6, Input::Message(fx.prepare(2, 2, 9, far))),
        vec![]
    );
    // ... but f+1 = 2 of them do: fetch what must be committed already.
    // (They signed in a later view, so the timeout below still changes
    // view; had they signed in this one, it would keep it, D47.)
    assert_eq!(
        r.handle(7, Input::Message(fx.commit(3, 2, 9, far))),
        vec![Action::RequestBlocks { from: 2, to: 8 }]
    );
    // Stale view: move to view 1 by timeout, then a view-0 PREPARE arrives.
    let a = handle_acked(
        &mut r,
        2000,
        Input::TimerFired(chancery_consensus::Timer {
            kind: chancery_consensus::TimerKind::Progress { view: 0 },
            seq: 2,
        }),
    );
    assert!(a.iter().any(|a| matches!(
        a,
        Action::Broadcast {
            message: Message::ViewChange(_)
        }
    )));
    assert_eq!(r.view(), 1);
    let b2 = fx.block(2, 0, h1);
    assert_eq!(
        r.handle(2001, Input::Message(fx.prepare(2, 0, 2, b2.header.hash()))),
        vec![]
    );
    // A superseded timer does nothing.
    let stale = chancery_consensus::Timer {
        kind: chancery_consensus::TimerKind::Progress { view: 0 },
        seq: 1,
    };
    assert_eq!(r.handle(2002, Input::TimerFired(stale)), vec![]);
}

#[test]
fn conflicting_votes_become_evidence() {
    let fx = Fixture::new(4);
    let mut r = started(&fx, 1, 1);
    let a = Hash::of(b"a");
    let b = Hash::of(b"b");
    assert_eq!(r.handle(1, Input::Message(fx.prepare(2, 0, 1, a))), vec![]);
    // The same vote again is a harmless duplicate.
    assert_eq!(r.handle(1, Input::Message(fx.prepare(2, 0, 1, a))), vec![]);
    let out = r.handle(2, Input::Message(fx.prepare(2, 0, 1, b)));
    let [Action::Evidence(e)] = out.as_slice() else {
        panic!("expected evidence, got {out:?}");
    };
    assert_eq!(
        (e.validator, e.kind, e.view, e.height),
        (2, VoteKind::Prepare, 0, 1)
    );
    assert_eq!((e.first_hash, e.second_hash), (a, b));
    assert!(e.verify(&fx.set, &fx.chain));
    // Tampered evidence does not verify.
    let mut bad = e.clone();
    bad.second_hash = Hash::of(b"c");
    assert!(!bad.verify(&fx.set, &fx.chain));

    // Two different proposals from the primary for one height.
    let b1 = fx.block(1, 0, Hash::ZERO);
    let b1x = fx.block_at(1, 0, Hash::ZERO, 999);
    r.handle(3, Input::Message(fx.pre_prepare(0, &b1)));
    let out = r.handle(4, Input::Message(fx.pre_prepare(0, &b1x)));
    assert!(
        matches!(out.as_slice(), [Action::Evidence(e)] if e.kind == VoteKind::Proposal && e.verify(&fx.set, &fx.chain)),
        "{out:?}"
    );
}

#[test]
fn no_fresh_proposal_is_accepted_at_a_height_known_to_be_certified() {
    let fx = Fixture::new(4);
    let mut r = started(&fx, 1, 2);
    // A certified block at height 1 arrives by sync but does not extend our
    // tip (we have nothing yet, so it is applied) ...
    let b1 = fx.block(1, 0, Hash::ZERO);
    let h1 = b1.header.hash();
    // ... instead, learn a certificate for height 2 only (ahead of the tip).
    let b2 = fx.block(2, 0, h1);
    let c2 = fx.commit_certificate(0, &b2, &[0, 2, 3]);
    assert_eq!(
        r.handle(
            1,
            Input::SyncedBlock {
                block: std::sync::Arc::new(b2.clone()),
                certificate: c2
            }
        ),
        vec![]
    );
    // A fresh proposal at height 1 or 2 in view 0 is refused: those heights
    // are committed and must come from sync.
    assert_eq!(r.handle(2, Input::Message(fx.pre_prepare(0, &b1))), vec![]);
    let other2 = fx.block_at(2, 0, h1, 77);
    assert_eq!(
        r.handle(3, Input::Message(fx.pre_prepare(0, &other2))),
        vec![]
    );
    // Height 1 by sync delivers 1 and then 2.
    let c1 = fx.commit_certificate(0, &b1, &[0, 2, 3]);
    let a = r.handle(
        4,
        Input::SyncedBlock {
            block: std::sync::Arc::new(b1),
            certificate: c1,
        },
    );
    let heights: Vec<u64> = a
        .iter()
        .filter_map(|a| match a {
            Action::Deliver { block, .. } => Some(block.header.height),
            _ => None,
        })
        .collect();
    assert_eq!(heights, vec![1, 2]);
}

#[test]
fn a_vote_that_can_change_nothing_is_not_checked_but_a_conflicting_one_still_is() {
    let fx = Fixture::new(4);
    let mut r = started(&fx, 1, 2);
    let b1 = fx.block(1, 0, Hash::ZERO);
    let h1 = accept_proposal(&mut r, &fx, 1, 0, &b1);
    let checks = r.signature_checks();
    // Two PREPAREs besides our own: prepared (each one checked).
    handle_acked(&mut r, 3, Input::Message(fx.prepare(0, 0, 1, h1)));
    handle_acked(&mut r, 4, Input::Message(fx.prepare(2, 0, 1, h1)));
    assert_eq!(r.signature_checks(), checks + 2);
    // The third PREPARE for the prepared block, and a repeat of one
    // already counted, can change nothing: dropped unchecked.
    assert_eq!(r.handle(5, Input::Message(fx.prepare(3, 0, 1, h1))), vec![]);
    assert_eq!(r.handle(5, Input::Message(fx.prepare(0, 0, 1, h1))), vec![]);
    assert_eq!(r.signature_checks(), checks + 2);
    // A PREPARE for another block by a validator that prepared this one
    // is checked, and is evidence.
    let other = Hash::of(b"other");
    let out = r.handle(6, Input::Message(fx.prepare(2, 0, 1, other)));
    assert_eq!(r.signature_checks(), checks + 3);
    assert!(
        matches!(out.as_slice(), [Action::Evidence(e)] if e.kind == VoteKind::Prepare && e.validator == 2),
        "{out:?}"
    );
    // COMMITs: a height decided while an earlier one is not yet (so it is
    // not delivered either) still takes COMMITs in; one for its decided
    // block is dropped unchecked. (Once delivered, a height's COMMITs fall
    // below the window and are dropped anyway.)
    let b2 = fx.block(2, 0, h1);
    let h2 = accept_proposal(&mut r, &fx, 7, 0, &b2);
    handle_acked(&mut r, 9, Input::Message(fx.prepare(0, 0, 2, h2)));
    handle_acked(&mut r, 9, Input::Message(fx.prepare(2, 0, 2, h2)));
    // Height 2 collects its COMMIT quorum before height 1 does.
    handle_acked(&mut r, 10, Input::Message(fx.commit(0, 0, 2, h2)));
    handle_acked(&mut r, 10, Input::Message(fx.commit(2, 0, 2, h2)));
    let before = r.signature_checks();
    assert_eq!(r.delivered(), 0, "height 1 is not decided yet");
    assert_eq!(r.handle(11, Input::Message(fx.commit(3, 0, 2, h2))), vec![]);
    assert_eq!(r.signature_checks(), before, "a COMMIT for a decided block");
}
