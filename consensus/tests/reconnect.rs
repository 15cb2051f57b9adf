//! A peer that (re)connects is sent again what this replica said in the
//! current view (ARCHITECTURE.md D46): its PREPAREs and COMMITs, the
//! primary's PRE-PREPAREs, a VIEW-CHANGE while changing view; byte for
//! byte what was sent first, and never before its persist.

mod common;

use chancery_consensus::{Action, Input, Message, Mode};
use chancery_types::Hash;
use common::*;

fn send(to: u16, message: Message) -> Action {
    Action::Send { to, message }
}

/// A backup that committed height 1 and prepared (but not committed)
/// height 2 sends a reconnecting peer exactly those three votes, in
/// height order, and nothing else.
#[test]
fn a_backup_sends_its_votes_in_the_view_again() {
    let fx = Fixture::new(4);
    let mut r = fx.replica(1, 2);
    r.handle(0, Input::Start);
    let b1 = fx.block(1, 0, Hash::ZERO);
    let h1 = accept_proposal(&mut r, &fx, 10, 0, &b1);
    handle_acked(&mut r, 12, Input::Message(fx.prepare(0, 0, 1, h1)));
    let out = handle_acked(&mut r, 13, Input::Message(fx.prepare(2, 0, 1, h1)));
    assert!(out.contains(&broadcast(fx.commit(1, 0, 1, h1))), "{out:?}");
    let b2 = fx.block(2, 0, h1);
    let h2 = accept_proposal(&mut r, &fx, 20, 0, &b2);

    assert_eq!(
        handle_acked(&mut r, 30, Input::PeerConnected(3)),
        vec![
            send(3, fx.prepare(1, 0, 1, h1)),
            send(3, fx.commit(1, 0, 1, h1)),
            send(3, fx.prepare(1, 0, 2, h2)),
        ]
    );
    // Nothing changed: the same again on the next connection.
    assert_eq!(handle_acked(&mut r, 31, Input::PeerConnected(3)).len(), 3);
    assert_eq!((r.view(), r.mode()), (0, Mode::Normal));
}

/// The primary sends its proposal (with the block) and its PREPARE again.
#[test]
fn the_primary_sends_its_proposals_again() {
    let fx = Fixture::new(4);
    let mut r = fx.replica(0, 1);
    let out = r.handle(0, Input::Start);
    assert!(
        out.iter()
            .any(|a| matches!(a, Action::BuildProposal { height: 1, .. })),
        "{out:?}"
    );
    let b1 = fx.block(1, 0, Hash::ZERO);
    let h1 = b1.header.hash();
    let out = handle_acked(&mut r, 5, Input::ProposalReady(b1.clone()));
    assert!(out.contains(&broadcast(fx.pre_prepare(0, &b1))), "{out:?}");

    assert_eq!(
        handle_acked(&mut r, 10, Input::PeerConnected(2)),
        vec![
            send(2, fx.pre_prepare(0, &b1)),
            send(2, fx.prepare(0, 0, 1, h1)),
        ]
    );
}

/// While changing view, the replica sends its VIEW-CHANGE again.
#[test]
fn a_replica_changing_view_sends_its_view_change_again() {
    let fx = Fixture::new(4);
    let mut r = fx.replica(2, 2);
    r.handle(0, Input::Start);
    let out = handle_acked(&mut r, 1_000, fire(1, 0));
    let vc = out
        .iter()
        .find_map(|a| match a {
            Action::Broadcast {
                message: m @ Message::ViewChange(_),
            } => Some(m.clone()),
            _ => None,
        })
        .expect("a VIEW-CHANGE");
    assert_eq!((r.view(), r.mode()), (1, Mode::ViewChange));
    assert_eq!(
        handle_acked(&mut r, 1_100, Input::PeerConnected(0)),
        vec![send(0, vc)]
    );
}

/// A vote whose state is not yet durable is not sent early: the copy for
/// the reconnecting peer waits behind the same persist as the original.
#[test]
fn a_vote_held_for_its_persist_is_not_sent_early() {
    let fx = Fixture::new(4);
    let mut r = fx.replica(1, 1);
    r.handle(0, Input::Start);
    let b1 = fx.block(1, 0, Hash::ZERO);
    let h1 = b1.header.hash();
    r.handle(10, Input::Message(fx.pre_prepare(0, &b1)));
    let out = r.handle(
        11,
        Input::BlockValidated {
            hash: h1,
            valid: true,
        },
    );
    let Some(Action::Persist { token, .. }) = out.first() else {
        panic!("expected a persist first: {out:?}");
    };
    let token = *token;
    assert_eq!(r.handle(12, Input::PeerConnected(3)), vec![]);
    assert_eq!(
        r.handle(13, Input::Persisted(token)),
        vec![
            broadcast(fx.prepare(1, 0, 1, h1)),
            send(3, fx.prepare(1, 0, 1, h1)),
        ]
    );
}

/// Nothing is sent to this replica itself or to an index outside the
/// set, nor by a replica that has said nothing in the view yet.
#[test]
fn nothing_for_self_strangers_or_before_any_vote() {
    let fx = Fixture::new(4);
    let mut r = fx.replica(1, 2);
    r.handle(0, Input::Start);
    assert_eq!(handle_acked(&mut r, 5, Input::PeerConnected(2)), vec![]);
    let b1 = fx.block(1, 0, Hash::ZERO);
    accept_proposal(&mut r, &fx, 10, 0, &b1);
    assert_eq!(handle_acked(&mut r, 20, Input::PeerConnected(1)), vec![]);
    assert_eq!(handle_acked(&mut r, 20, Input::PeerConnected(9)), vec![]);
    assert_eq!(handle_acked(&mut r, 20, Input::PeerConnected(0)).len(), 1);
}
