//! The request timer's suspicions (SUSPECT): one alone changes nothing,
//! f+1 move the view; a primary does not suspect itself; suspicions of
//! another view, forged ones and repeats are not counted.

mod common;

use chancery_consensus::{Action, Input, Message, Mode, Replica, Suspect};
use chancery_types::SecretKey;
use common::*;

/// `signer`'s suspicion of `view`, waiting for height 1.
fn suspect(fx: &Fixture, signer: u16, view: u64) -> Input {
    suspect_at(fx, signer, view, 1)
}

fn suspect_at(fx: &Fixture, signer: u16, view: u64, height: u64) -> Input {
    Input::Message(Message::Suspect(Suspect::new(
        view,
        height,
        signer,
        &fx.key(signer),
        &fx.chain,
    )))
}

/// Whether the actions leave the view (a VIEW-CHANGE, sent after its persist).
fn changes_view(actions: &[Action]) -> bool {
    actions.iter().any(|a| {
        matches!(
            a,
            Action::Broadcast {
                message: Message::ViewChange(_)
            }
        )
    })
}

/// Whether the actions broadcast a suspicion.
fn sends_suspicion(actions: &[Action]) -> bool {
    actions.iter().any(|a| {
        matches!(
            a,
            Action::Broadcast {
                message: Message::Suspect(_)
            }
        )
    })
}

fn started(fx: &Fixture, me: u16) -> Replica {
    let mut r = fx.replica(me, 2);
    r.handle(0, Input::Start);
    r
}

#[test]
fn a_backup_broadcasts_its_suspicion_and_stays_in_its_view() {
    let fx = Fixture::new(4);
    let mut r = started(&fx, 2);
    let out = handle_acked(&mut r, 10, Input::Suspect);
    assert_eq!(
        out,
        vec![broadcast(Message::Suspect(Suspect::new(
            0,
            1,
            2,
            &fx.key(2),
            &fx.chain
        )))]
    );
    assert_eq!((r.view(), r.mode()), (0, Mode::Normal));
    // Repeating it sends it again (a peer may have reached the view late)
    // but still counts one validator.
    assert_eq!(handle_acked(&mut r, 20, Input::Suspect), out);
    assert_eq!((r.view(), r.mode()), (0, Mode::Normal));
}

#[test]
fn f_plus_one_suspicions_move_to_the_next_view() {
    let fx = Fixture::new(4);
    // A peer's suspicion first, then our own.
    let mut r = started(&fx, 2);
    assert!(handle_acked(&mut r, 10, suspect(&fx, 3, 0)).is_empty());
    assert_eq!(r.mode(), Mode::Normal);
    let out = handle_acked(&mut r, 20, Input::Suspect);
    assert!(changes_view(&out), "{out:?}");
    assert_eq!((r.view(), r.mode()), (1, Mode::ViewChange));

    // Two peers' suspicions, none of ours: at least one is correct.
    let mut r = started(&fx, 2);
    assert!(handle_acked(&mut r, 10, suspect(&fx, 1, 0)).is_empty());
    let out = handle_acked(&mut r, 20, suspect(&fx, 3, 0));
    assert!(changes_view(&out), "{out:?}");
    assert_eq!((r.view(), r.mode()), (1, Mode::ViewChange));
}

#[test]
fn the_same_peer_twice_counts_once() {
    let fx = Fixture::new(4);
    let mut r = started(&fx, 2);
    assert!(handle_acked(&mut r, 10, suspect(&fx, 3, 0)).is_empty());
    assert!(handle_acked(&mut r, 20, suspect(&fx, 3, 0)).is_empty());
    assert_eq!((r.view(), r.mode()), (0, Mode::Normal));
}

#[test]
fn the_primary_does_not_suspect_itself() {
    let fx = Fixture::new(4);
    let mut r = started(&fx, 0);
    assert!(!sends_suspicion(&handle_acked(&mut r, 10, Input::Suspect)));
    // Its backups' suspicions still depose it.
    handle_acked(&mut r, 20, suspect(&fx, 1, 0));
    let out = handle_acked(&mut r, 30, suspect(&fx, 2, 0));
    assert!(changes_view(&out), "{out:?}");
    assert_eq!(r.view(), 1);
}

#[test]
fn suspicions_of_other_views_or_badly_signed_are_not_counted() {
    let fx = Fixture::new(4);
    let mut r = started(&fx, 2);
    // Of a later view, and of an earlier one once the view moved.
    handle_acked(&mut r, 10, suspect(&fx, 1, 1));
    handle_acked(&mut r, 11, suspect(&fx, 3, 1));
    assert_eq!((r.view(), r.mode()), (0, Mode::Normal));
    // Signed by a key that is not validator 3's.
    let forged = Suspect::new(0, 1, 3, &SecretKey::from_seed(&[9; 32]), &fx.chain);
    handle_acked(&mut r, 12, Input::Message(Message::Suspect(forged)));
    // Validator 1's genuine one: with the forged one this would be two.
    handle_acked(&mut r, 13, suspect(&fx, 1, 0));
    assert_eq!((r.view(), r.mode()), (0, Mode::Normal));
    // The forged one was not remembered as validator 3's: its real one counts.
    assert!(changes_view(&handle_acked(&mut r, 14, suspect(&fx, 3, 0))));
}

#[test]
fn suspicions_are_forgotten_with_the_view() {
    let fx = Fixture::new(4);
    let mut r = fx.replica(2, 2);
    let timer = r
        .handle(0, Input::Start)
        .into_iter()
        .find_map(|a| match a {
            Action::ScheduleTimer { timer, .. } => Some(timer),
            _ => None,
        })
        .unwrap();
    handle_acked(&mut r, 10, suspect(&fx, 3, 0));
    // The progress timer moves the view; the old suspicion is stale.
    handle_acked(&mut r, 1000, Input::TimerFired(timer));
    assert_eq!((r.view(), r.mode()), (1, Mode::ViewChange));
    // While changing view a suspicion does nothing.
    assert!(handle_acked(&mut r, 1001, Input::Suspect).is_empty());
    let vcs: Vec<_> = [1u16, 3]
        .iter()
        .map(|&s| fx.view_change(s, 1, None, vec![]))
        .collect();
    for vc in vcs {
        handle_acked(&mut r, 1002, Input::Message(Message::ViewChange(vc)));
    }
    // View 1's primary (validator 1) sends NEW-VIEW; we are a backup there.
    let nv = chancery_consensus::NewView::new(
        chancery_consensus::NewViewBody {
            view: 1,
            view_changes: chancery_types::List::new(
                [1u16, 2, 3]
                    .iter()
                    .map(|&s| fx.view_change(s, 1, None, vec![]))
                    .collect(),
            )
            .unwrap(),
        },
        1,
        &fx.key(1),
        &fx.chain,
    );
    handle_acked(&mut r, 1003, Input::Message(Message::NewView(nv)));
    assert_eq!((r.view(), r.mode()), (1, Mode::Normal));
    // One fresh suspicion in view 1 is one, not two.
    assert!(!changes_view(&handle_acked(&mut r, 1004, Input::Suspect)));
    assert_eq!((r.view(), r.mode()), (1, Mode::Normal));
}

/// A backup fetching blocks it is behind on does not suspect: its records
/// may be in them. Once they are delivered it may again.
#[test]
fn a_backup_catching_up_does_not_suspect() {
    let fx = Fixture::new(4);
    let mut r = fx.replica(1, 1);
    r.handle(0, Input::Start);
    // f+1 validators sign for height 9: heights 1..8 are committed.
    let far = chancery_types::Hash::of(b"far");
    handle_acked(&mut r, 1, Input::Message(fx.prepare(2, 0, 9, far)));
    let asked = handle_acked(&mut r, 2, Input::Message(fx.commit(3, 0, 9, far)));
    assert_eq!(asked, vec![Action::RequestBlocks { from: 1, to: 8 }]);
    assert!(r.catching_up());
    assert!(handle_acked(&mut r, 3, Input::Suspect).is_empty());
    // The fetched blocks arrive (each with its certificate) and are delivered.
    let mut parent = chancery_types::Hash::ZERO;
    for h in 1..=8 {
        let b = fx.block(h, 0, parent);
        parent = b.header.hash();
        let certificate = fx.commit_certificate(0, &b, &[0, 2, 3]);
        handle_acked(
            &mut r,
            4,
            Input::SyncedBlock {
                block: b.into(),
                certificate,
            },
        );
    }
    assert_eq!(r.delivered(), 8);
    assert!(!r.catching_up());
    let out = handle_acked(&mut r, 5, Input::Suspect);
    assert!(sends_suspicion(&out), "{out:?}");
}

/// Views start at 0 with each validator set: a suspicion signed under an
/// earlier set (for a height before this set's first) is not counted,
/// even for a view of the same number.
#[test]
fn suspicions_from_an_earlier_validator_set_are_not_counted() {
    let fx = Fixture::new(4);
    // A replica of a set that orders from height 11.
    let state = chancery_consensus::PersistentState {
        delivered: 10,
        ..chancery_consensus::PersistentState::genesis()
    };
    let mut config = fx.config(2, 2);
    config.first_height = 11;
    let mut r = chancery_consensus::Replica::restore(config, state).unwrap();
    r.handle(0, Input::Start);
    handle_acked(&mut r, 1, suspect_at(&fx, 1, 0, 9));
    handle_acked(&mut r, 2, suspect_at(&fx, 3, 0, 10));
    assert_eq!((r.view(), r.mode()), (0, Mode::Normal));
    // Its own (for height 11) and one for this set's heights: two.
    let own = handle_acked(&mut r, 3, Input::Suspect);
    assert_eq!(
        own,
        vec![broadcast(Message::Suspect(Suspect::new(
            0,
            11,
            2,
            &fx.key(2),
            &fx.chain
        )))]
    );
    assert!(changes_view(&handle_acked(
        &mut r,
        4,
        suspect_at(&fx, 3, 0, 11)
    )));
}

#[test]
fn a_suspect_message_round_trips_on_the_wire() {
    use chancery_types::Canonical;
    let fx = Fixture::new(4);
    let m = Message::Suspect(Suspect::new(7, 12, 2, &fx.key(2), &fx.chain));
    let bytes = m.to_canonical();
    assert_eq!(Message::from_canonical(&bytes).unwrap(), m);
    assert_eq!(
        (m.view(), m.signer(), m.height(), m.kind()),
        (7, 2, None, "suspect")
    );
}
