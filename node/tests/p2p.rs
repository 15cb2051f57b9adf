//! Validators connect to each other over loopback and exchange frames; a
//! peer whose key is not in the validator set is refused.

use std::time::Duration;

use chancery_node::p2p::peers::{PeerSet, keypair};
use chancery_node::p2p::{self, NetConfig, Network, Outbound};
use chancery_types::bounded::Text;
use chancery_types::{AgencyId, SecretKey, Validator, ValidatorSet};
use tokio::sync::watch;

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

fn cfg(port: u16) -> NetConfig {
    NetConfig {
        listen: format!("/ip4/127.0.0.1/tcp/{port}").parse().unwrap(),
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
    let net_keys: Vec<SecretKey> = (0..n).map(|_| SecretKey::generate()).collect();
    let ports: Vec<u16> = (0..n).map(|_| free_port()).collect();
    let set = ValidatorSet::new(
        (0..n)
            .map(|i| Validator {
                agency: AgencyId::new(format!("a{i}")).unwrap(),
                consensus_key: SecretKey::generate().public(),
                network_key: net_keys[i].public(),
                address: Text::new(format!("/ip4/127.0.0.1/tcp/{}", ports[i])).unwrap(),
            })
            .collect(),
    )
    .unwrap();
    let peers = PeerSet::from_validators(&set).unwrap();
    let (_stop_tx, stop) = watch::channel(false);
    let mut nets: Vec<Network> = (0..n)
        .map(|i| {
            p2p::spawn(
                keypair(&net_keys[i]).unwrap(),
                watch::channel(peers.clone()).1,
                cfg(ports[i]),
                stop.clone(),
            )
            .unwrap()
        })
        .collect();
    for net in nets.iter_mut() {
        wait_connected(net, n - 1).await;
    }

    nets[0]
        .outbound
        .send(Outbound {
            to: 1,
            frame: b"hello 1".to_vec(),
        })
        .await
        .unwrap();
    nets[0]
        .outbound
        .send(Outbound {
            to: 2,
            frame: b"hello 2".to_vec(),
        })
        .await
        .unwrap();
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
        cfg(free_port()),
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
        let _ = outsider.outbound.try_send(Outbound {
            to: 0,
            frame: b"let me in".to_vec(),
        });
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    // Nothing from the outsider reached validator 0, and the validators stay connected.
    while let Ok(f) = nets[0].inbound.try_recv() {
        assert_ne!(f.frame, b"let me in".to_vec(), "outsider frame delivered");
    }
    assert!(outsider.inbound.try_recv().is_err());
    assert_eq!(nets[0].connected.borrow().len(), n - 1);
}
