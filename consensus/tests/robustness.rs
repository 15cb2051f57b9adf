//! Nothing a peer sends can panic the replica, and the configuration is
//! validated.

mod common;

use chancery_consensus::{Error, Input, Timeouts};
use chancery_types::{Canonical, Hash};
use common::*;
use proptest::prelude::*;

fn valid_messages(fx: &Fixture) -> Vec<Vec<u8>> {
    let b1 = fx.block(1, 0, Hash::ZERO);
    let h1 = b1.header.hash();
    vec![
        fx.pre_prepare(0, &b1).to_canonical(),
        fx.prepare(2, 0, 1, h1).to_canonical(),
        fx.commit(3, 0, 1, h1).to_canonical(),
        chancery_consensus::Message::ViewChange(fx.view_change(
            2,
            1,
            Some(fx.commit_certificate(0, &b1, &[0, 2, 3])),
            vec![fx.prepared_proof(0, &b1, &[0, 2, 3])],
        ))
        .to_canonical(),
    ]
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn corrupted_messages_never_panic(which in 0usize..4, flips in proptest::collection::vec((any::<usize>(), any::<u8>()), 1..8)) {
        let fx = Fixture::new(4);
        let mut r = fx.replica(1, 2);
        r.handle(0, Input::Start);
        let mut bytes = valid_messages(&fx)[which].clone();
        for (pos, x) in flips {
            let i = pos % bytes.len();
            bytes[i] ^= x;
        }
        let _ = r.handle(1, Input::Bytes(bytes));
    }

    #[test]
    fn random_bytes_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..512)) {
        let fx = Fixture::new(4);
        let mut r = fx.replica(1, 2);
        prop_assert_eq!(r.handle(0, Input::Bytes(bytes)), vec![]);
    }
}

#[test]
fn config_is_validated() {
    let fx = Fixture::new(4);
    let bad = |c: chancery_consensus::Config| {
        matches!(
            chancery_consensus::Replica::new(c),
            Err(Error::InvalidConfig { .. })
        )
    };
    let mut c = fx.config(1, 2);
    c.window = 5;
    c.execution_lag = 4;
    assert!(bad(c), "window above execution_lag");
    let mut c = fx.config(1, 2);
    c.window = 0;
    assert!(bad(c), "window 0");
    let mut c = fx.config(1, 2);
    c.me = 4;
    assert!(bad(c), "index outside the set");
    let mut c = fx.config(1, 2);
    c.key = fx.key(2);
    assert!(bad(c), "key of another validator");
    let mut c = fx.config(1, 2);
    c.timeouts = Timeouts {
        base_ms: 0,
        max_ms: 10,
    };
    assert!(bad(c), "zero timeout");
    assert!(chancery_consensus::Replica::new(fx.config(1, 2)).is_ok());
}

#[test]
fn timeouts_back_off_exponentially_up_to_the_cap() {
    let t = Timeouts {
        base_ms: 100,
        max_ms: 1_000,
    };
    let seq: Vec<u64> = (0..6).map(|k| t.after(k)).collect();
    assert_eq!(seq, vec![100, 200, 400, 800, 1_000, 1_000]);
    assert_eq!(t.after(u32::MAX), 1_000);
}
