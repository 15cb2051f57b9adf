//! Validators connect to each other over loopback and exchange frames; a
//! peer whose key is not in the validator set is refused.

mod common;

use std::time::Duration;

use chancery_node::p2p::peers::{PeerSet, keypair};
use chancery_node::p2p::{self, NetConfig, Network};
use chancery_types::bounded::Text;
use chancery_types::{AgencyId, SecretKey, Validator, ValidatorSet};
use tokio::sync::watch;

/// A free port on `ip`, and its multiaddr.
///
/// Each test node gets its own loopback address (`127.0.<test>.<node>`):
/// libp2p listens with `SO_REUSEPORT`, so two nodes of tests running side
/// by side that were handed the same free port would otherwise share it,
/// and the kernel would steer a peer's dials to the wrong one for good.
fn listen_addr(ip: [u8; 4]) -> String {
    let port = std::net::TcpListener::bind((std::net::Ipv4Addr::from(ip), 0))
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let [a, b, c, d] = ip;
    format!("/ip4/{a}.{b}.{c}.{d}/tcp/{port}")
}

fn cfg(addr: &str) -> NetConfig {
    common::logs();
    NetConfig {
        listen: addr.parse().unwrap(),
        max_frame: 1 << 20,
        max_connections_per_peer: 2,
        redial_interval: Duration::from_millis(100),
    }
}

async fn wait_connected(net: &mut Network, n: usize) {
    let deadline = tokio::time::Instant::now() + Duration::from_secs(30);
    while net.connected.borrow().len() < n {
        assert!(
            tokio::time::Instant::now() < deadline,
            "peers did not connect: {:?}",
            net.connected.borrow()
        );
        let _ = tokio::time::timeout(Duration::from_millis(200), net.connected.changed()).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn validators_exchange_frames_and_outsiders_are_refused() {
    let n = 3;
    let (net_keys, addrs, peers) = validators(1, n);
    let (_stop_tx, stop) = watch::channel(false);
    let mut nets: Vec<Network> = (0..n)
        .map(|i| {
            p2p::spawn(
                keypair(&net_keys[i]).unwrap(),
                watch::channel(peers.clone()).1,
                cfg(&addrs[i]),
                stop.clone(),
            )
            .unwrap()
        })
        .collect();
    for net in nets.iter_mut() {
        wait_connected(net, n - 1).await;
    }

    nets[0].outbox.send(1, b"hello 1".to_vec());
    nets[0].outbox.send(2, b"hello 2".to_vec());
    for (i, want) in [(1, b"hello 1"), (2, b"hello 2")] {
        let got = tokio::time::timeout(Duration::from_secs(10), nets[i].inbound.recv())
            .await
            .unwrap()
            .unwrap();
        assert_eq!(got.from, 0);
        assert_eq!(&got.frame, want);
    }

    // An outsider with a key not in the set dials every validator and sends a frame.
    let outsider_key = SecretKey::generate();
    let mut outsider = p2p::spawn(
        keypair(&outsider_key).unwrap(),
        watch::channel(peers.clone()).1,
        cfg(&listen_addr([127, 0, 1, 200])),
        stop.clone(),
    )
    .unwrap();
    let deadline = tokio::time::Instant::now() + Duration::from_secs(30);
    while nets
        .iter()
        .any(|net| net.refused.load(std::sync::atomic::Ordering::Relaxed) == 0)
    {
        assert!(
            tokio::time::Instant::now() < deadline,
            "outsider was never refused"
        );
        outsider.outbox.send(0, b"let me in".to_vec());
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    // Nothing from the outsider reached validator 0, and the validators stay connected.
    while let Ok(f) = nets[0].inbound.try_recv() {
        assert_ne!(f.frame, b"let me in".to_vec(), "outsider frame delivered");
    }
    assert!(outsider.inbound.try_recv().is_err());
    assert_eq!(nets[0].connected.borrow().len(), n - 1);
}

/// `n` validators on loopback addresses `127.0.<test>.1..=n`: network
/// keys, listen multiaddrs, peer set.
fn validators(test: u8, n: usize) -> (Vec<SecretKey>, Vec<String>, PeerSet) {
    let keys: Vec<SecretKey> = (0..n).map(|_| SecretKey::generate()).collect();
    let addrs: Vec<String> = (0..n)
        .map(|i| listen_addr([127, 0, test, i as u8 + 1]))
        .collect();
    let set = ValidatorSet::new(
        (0..n)
            .map(|i| Validator {
                agency: AgencyId::new(format!("a{i}")).unwrap(),
                consensus_key: SecretKey::generate().public(),
                network_key: keys[i].public(),
                address: Text::new(addrs[i].clone()).unwrap(),
            })
            .collect(),
    )
    .unwrap();
    let peers = PeerSet::from_validators(&set).unwrap();
    (keys, addrs, peers)
}

fn numbered(i: u32) -> Vec<u8> {
    // Sizes vary so frames straddle the writer's coalesced writes.
    let mut f = i.to_be_bytes().to_vec();
    f.resize(4 + (i as usize * 37) % 3000, (i % 251) as u8);
    f
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn frames_arrive_in_order_and_a_restarted_peer_gets_new_ones() {
    let (keys, addrs, peers) = validators(2, 2);
    let spawn = |i: usize, stop: watch::Receiver<bool>| {
        p2p::spawn(
            keypair(&keys[i]).unwrap(),
            watch::channel(peers.clone()).1,
            cfg(&addrs[i]),
            stop,
        )
        .unwrap()
    };
    let (_stop_a, stop) = watch::channel(false);
    let mut a = spawn(0, stop);
    let (stop_b_tx, stop_b) = watch::channel(false);
    let mut b = spawn(1, stop_b);
    wait_connected(&mut a, 1).await;
    wait_connected(&mut b, 1).await;

    // 3,000 frames sent back to back come out whole and in order; one
    // over the size limit is left out without disturbing the rest.
    for i in 0..3000u32 {
        let frame = if i == 1500 {
            vec![0; (1 << 20) + 1]
        } else {
            numbered(i)
        };
        a.outbox.send(1, frame);
    }
    for i in (0..3000u32).filter(|i| *i != 1500) {
        let got = tokio::time::timeout(Duration::from_secs(20), b.inbound.recv())
            .await
            .expect("frame did not arrive")
            .unwrap();
        assert_eq!(got.from, 0);
        assert_eq!(got.frame, numbered(i), "frame {i}");
    }

    // B restarts on the same key and port: A's broken stream is replaced
    // by a new one and frames flow again.
    stop_b_tx.send(true).unwrap();
    drop(b);
    tokio::time::sleep(Duration::from_millis(300)).await;
    let (_stop_b2, stop_b2) = watch::channel(false);
    let mut b = spawn(1, stop_b2);
    wait_connected(&mut b, 1).await;
    let deadline = tokio::time::Instant::now() + Duration::from_secs(30);
    let mut n = 10_000u32;
    loop {
        assert!(
            tokio::time::Instant::now() < deadline,
            "no frame reached the restarted peer"
        );
        a.outbox.send(1, numbered(n));
        n += 1;
        if let Ok(Some(got)) =
            tokio::time::timeout(Duration::from_millis(200), b.inbound.recv()).await
        {
            assert_eq!(got.from, 0);
            break;
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_listen_address_in_use_is_refused_at_start() {
    let (keys, addrs, peers) = validators(3, 2);
    let (_stop_tx, stop) = watch::channel(false);
    let first = p2p::spawn(
        keypair(&keys[0]).unwrap(),
        watch::channel(peers.clone()).1,
        cfg(&addrs[0]),
        stop.clone(),
    )
    .unwrap();
    // A second node configured with the same address.
    let err = p2p::spawn(
        keypair(&keys[1]).unwrap(),
        watch::channel(peers.clone()).1,
        cfg(&addrs[0]),
        stop,
    )
    .err()
    .expect("a second listener on the same address");
    let text = err.to_string();
    assert!(
        text.contains(&addrs[0]) && text.contains("already in use"),
        "{text}"
    );
    drop(first);
}

/// Streams opened to one node at the same moment all carry their first
/// frames. libp2p-stream drops an inbound stream its acceptor is not
/// ready for (a second arriving before the first was taken), so a sender
/// writes nothing before the receiver has accepted its stream, and opens
/// another if the stream was dropped (ARCHITECTURE.md D45). The receiver
/// runs on a single-threaded runtime of its own that a busy task holds
/// 30 ms at a time: the streams arriving meanwhile are handled in one
/// batch, before its acceptor can take the first. Three networks of eight.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn first_frames_from_many_peers_at_once_all_arrive() {
    let n = 8;
    for round in 0..3u8 {
        let (keys, addrs, peers) = validators(3 + round, n);
        let (stop_tx, stop) = watch::channel(false);
        let spawn = |i: usize| {
            p2p::spawn(
                keypair(&keys[i]).unwrap(),
                watch::channel(peers.clone()).1,
                cfg(&addrs[i]),
                stop.clone(),
            )
            .unwrap()
        };
        let (receiver_tx, receiver_rx) = tokio::sync::oneshot::channel();
        let (key, set, config, mut stopped) = (
            keypair(&keys[0]).unwrap(),
            watch::channel(peers.clone()).1,
            cfg(&addrs[0]),
            stop.clone(),
        );
        let busy = std::thread::spawn(move || {
            let rt = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .unwrap();
            rt.block_on(async move {
                let net = p2p::spawn(key, set, config, stopped.clone()).unwrap();
                assert!(receiver_tx.send(net).is_ok(), "the test ended early");
                tokio::spawn(async {
                    loop {
                        std::thread::sleep(Duration::from_millis(30));
                        tokio::task::yield_now().await;
                    }
                });
                let _ = stopped.wait_for(|s| *s).await;
            });
        });
        let mut receiver = receiver_rx.await.unwrap();
        let mut senders: Vec<Network> = (1..n).map(spawn).collect();
        wait_connected(&mut receiver, n - 1).await;
        for net in senders.iter_mut() {
            wait_connected(net, n - 1).await;
        }
        for (i, net) in senders.iter_mut().enumerate() {
            net.outbox
                .send(0, format!("first from {}", i + 1).into_bytes());
        }
        let mut from = std::collections::BTreeSet::new();
        while from.len() < n - 1 {
            let got = tokio::time::timeout(Duration::from_secs(10), receiver.inbound.recv())
                .await
                .unwrap_or_else(|_| {
                    panic!("round {round}: only the frames of {from:?} arrived in 10 s")
                })
                .unwrap();
            assert_eq!(got.frame, format!("first from {}", got.from).into_bytes());
            from.insert(got.from);
        }
        stop_tx.send(true).unwrap();
        busy.join().unwrap();
    }
}
