//! End-to-end: real `chancery-node` processes on loopback.
//!
//! Each test starts its own network in a temporary directory on free
//! ports; the tests run one at a time (`serial()`), since four nodes
//! already fill two cores.

use std::time::Duration;

use anyhow::Result;
use chancery_node::p2p::peers::{PeerSet, keypair};
use chancery_node::p2p::{self, NetConfig};
use chancery_tests::{TestNet, serial, submit_round_robin};
use chancery_types::{Canonical, ExecResult, SecretKey};

const LONG: Duration = Duration::from_secs(180);

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn four_validators_commit_a_thousand_records_submitted_to_any_node() -> Result<()> {
    let _serial = serial().await;
    let net = TestNet::start(4, &[0, 1, 2, 3], &[]).await?;
    let records = net.licences(3, "DL-E2E", 1000)?;
    let ids = submit_round_robin(&net, &[0, 1, 2, 3], &records).await?;
    assert_eq!(ids.len(), 1000);
    for i in 0..4 {
        net.wait_committed(i, &ids, LONG).await?;
    }
    // A record submitted to each node with wait_for_commit comes back committed and accepted.
    let more = net.licences(3, "DL-WAIT", 4)?;
    for (i, r) in more.iter().enumerate() {
        let mut c = net.client(i).await?;
        let done = c.submit(r, true).await?;
        let commitment = done.commitment.expect("a commitment when waiting");
        assert_eq!(commitment.result, "accepted", "via validator {i}");
        assert!(commitment.height >= 1);
        // Built from the commit event, it says what the ledger says.
        let stored = c.record(&done.id).await?.commitment;
        assert_eq!(Some(commitment), stored, "via validator {i}");
    }
    // The same for a batch: each record's own log position, time and result.
    let batch = net.licences(3, "DL-BATCH", 20)?;
    let mut c = net.client(1).await?;
    for r in c.submit_many(&batch, true).await? {
        let id = r.record_id.parse()?;
        let stored = c.record(&id).await?.commitment;
        assert!(r.commitment.is_some(), "{r:?}");
        assert_eq!(r.commitment, stored, "{r:?}");
    }
    let mut tip = u64::MAX;
    for i in 0..4 {
        tip = tip.min(net.height(i).await?);
    }
    net.same_chain(&[0, 1, 2, 3], tip).await?;
    // And every one of the thousand reads back accepted from the last validator.
    let mut c = net.client(3).await?;
    for id in ids.iter().step_by(97) {
        let r = c.record(id).await?;
        assert_eq!(r.commitment.unwrap().result, "accepted");
        assert_eq!(r.status, "active");
    }
    // At INFO a validator logs the blocks that carry records, not the
    // empty ones of the idle and certifying cadence.
    let log = std::fs::read_to_string(net.cluster.log_file(0))?;
    assert!(log.contains("committed height="), "no commit logged");
    let empty: Vec<&str> = log
        .lines()
        .filter(|l| l.contains(" INFO ") && l.contains("records=0"))
        .collect();
    assert!(empty.is_empty(), "empty blocks logged at INFO: {empty:?}");
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_node_killed_while_records_arrive_restarts_and_catches_up() -> Result<()> {
    let _serial = serial().await;
    let mut net = TestNet::start(4, &[0, 1, 2, 3], &[]).await?;
    net.wait_height(0, 2, LONG).await?;
    let records = net.licences(1, "DL-KILL", 400)?;
    let mut clients = Vec::new();
    for i in 0..3 {
        clients.push(net.client(i).await?);
    }
    // The feeder: 10 records every 50 ms to validators 0..3, round robin.
    let feeder = tokio::spawn(async move {
        let mut acked = Vec::new();
        for (k, chunk) in records.chunks(10).enumerate() {
            for r in chunk {
                let c = &mut clients[k % 3];
                if let Ok(done) = c.submit(r, false).await {
                    acked.push(done.id);
                }
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        acked
    });
    tokio::time::sleep(Duration::from_millis(500)).await;
    net.cluster.kill(3)?;
    tokio::time::sleep(Duration::from_millis(1000)).await;
    net.cluster.start(3)?;
    let acked = feeder.await?;
    assert!(
        acked.len() >= 390,
        "only {} of 400 acknowledged",
        acked.len()
    );
    for i in 0..4 {
        net.wait_committed(i, &acked, LONG).await?;
    }
    let tip = net.height(0).await?;
    net.wait_height(3, tip, LONG).await?;
    net.same_chain(&[0, 1, 2, 3], tip).await?;
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_validator_that_cannot_start_is_reported_at_once_with_its_reason() -> Result<()> {
    let _serial = serial().await;
    let mut net = TestNet::start(4, &[], &[]).await?;
    let config = net.cluster.net.node_config(0);
    let text = std::fs::read_to_string(&config)?;
    std::fs::write(&config, format!("{text}\n[bogus]\nmax_recs = 5\n"))?;
    net.cluster.start(0)?;
    let started = std::time::Instant::now();
    let err = match net.cluster.wait_ready(0, LONG).await {
        Ok(_) => anyhow::bail!("a node with an unknown config key started"),
        Err(e) => format!("{e:#}"),
    };
    assert!(err.contains("exited with status 2"), "{err}");
    assert!(err.contains("bogus"), "the node's own reason: {err}");
    assert!(started.elapsed() < Duration::from_secs(60), "{err}");
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_node_started_after_500_blocks_catches_up() -> Result<()> {
    let _serial = serial().await;
    // Empty blocks every 20 ms, so 500 blocks come quickly.
    let mut net = TestNet::start(
        4,
        &[0, 1, 2],
        &[
            (
                r#"certify_interval = "100ms""#,
                r#"certify_interval = "20ms""#,
            ),
            (r#"idle_interval = "250ms""#, r#"idle_interval = "20ms""#),
        ],
    )
    .await?;
    let records = net.licences(0, "DL-LATE", 50)?;
    let ids = submit_round_robin(&net, &[0, 1, 2], &records).await?;
    net.wait_height(0, 500, Duration::from_secs(300)).await?;
    net.cluster.start(3)?;
    net.cluster.wait_ready(3, LONG).await?;
    let tip = net.height(0).await?;
    net.wait_height(3, tip, LONG).await?;
    net.wait_committed(3, &ids, LONG).await?;
    net.same_chain(&[0, 1, 2, 3], tip).await?;
    // It takes part again: a record submitted to it commits.
    let late = net.licences(0, "DL-AFTER", 1)?;
    let done = net.client(3).await?.submit(&late[0], true).await?;
    assert_eq!(done.commitment.unwrap().result, "accepted");
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_peer_outside_the_validator_set_cannot_connect() -> Result<()> {
    let _serial = serial().await;
    let net = TestNet::start(4, &[0, 1, 2, 3], &[]).await?;
    net.wait_height(0, 2, LONG).await?;
    // An outsider with its own key dials every validator and sends frames.
    let peers = PeerSet::from_validators(&net.genesis().validators).unwrap();
    let (_stop_tx, stop) = tokio::sync::watch::channel(false);
    let port = chancery_testnet::genesis::Ports::free(1)?.p2p[0];
    let mut outsider = p2p::spawn(
        keypair(&SecretKey::generate()).unwrap(),
        tokio::sync::watch::channel(peers).1,
        NetConfig {
            listen: format!("/ip4/127.0.0.1/tcp/{port}").parse()?,
            max_frame: 1 << 20,
            max_connections_per_peer: 2,
            redial_interval: Duration::from_millis(100),
        },
        stop,
    )
    .unwrap();
    for _ in 0..30 {
        for to in 0..4 {
            outsider.outbox.send(to, b"let me in".to_vec());
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    // Every validator refused it, and still sees exactly its three peers.
    for i in 0..4 {
        let log = std::fs::read_to_string(net.cluster.log_file(i))?;
        assert!(
            log.contains("refused incoming connection"),
            "validator {i} logged no refusal"
        );
        let s = net.client(i).await?.status().await?;
        assert_eq!(s.connected_peers, 3, "validator {i}");
        assert!(
            s.connections_refused >= 1,
            "validator {i}'s status counts no refused connection"
        );
    }
    assert!(outsider.connected.borrow().is_empty());
    // The network still commits.
    let h = net.height(0).await?;
    net.wait_height(0, h + 2, LONG).await?;
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn with_two_of_four_stopped_nothing_commits_until_one_returns() -> Result<()> {
    let _serial = serial().await;
    let mut net = TestNet::start(4, &[0, 1, 2, 3], &[]).await?;
    let first = net.licences(0, "DL-BEFORE", 5)?;
    let mut c0 = net.client(0).await?;
    for r in &first {
        assert_eq!(
            c0.submit(r, true).await?.commitment.unwrap().result,
            "accepted"
        );
    }
    for i in [2, 3] {
        let t = std::time::Instant::now();
        let clean = net.cluster.stop(i, Duration::from_secs(20))?;
        let log = std::fs::read_to_string(net.cluster.log_file(i))?;
        let tail: Vec<&str> = log.lines().rev().take(15).collect();
        assert!(
            clean,
            "validator {i} stopped uncleanly after {:?}:\n{}",
            t.elapsed(),
            tail.join("\n")
        );
    }
    tokio::time::sleep(Duration::from_secs(1)).await;
    let stuck = net.height(0).await?;
    // Admitted during the outage, but nothing can commit without a quorum.
    let during = net.licences(0, "DL-DURING", 1)?;
    let acked = c0.submit(&during[0], false).await?.id;
    tokio::time::sleep(Duration::from_secs(3)).await;
    assert_eq!(
        net.height(0).await?,
        stuck,
        "validator 0 committed without a quorum"
    );
    assert_eq!(
        net.height(1).await?,
        stuck,
        "validator 1 committed without a quorum"
    );
    assert!(c0.record(&acked).await.is_err());
    // Its status shows the record waiting, and the view moving on without
    // completing (so no suspicion: that needs a running view).
    let s = c0.status().await?;
    assert_eq!(s.records_waiting, 1, "{s:?}");
    // A reading can be up to about 1.5 s old (refreshed every 500 ms, and
    // an idle runtime turn lasts up to 1 s), so the 3 s old record shows
    // at least 1 s.
    assert!(s.oldest_waiting_ms >= 1_000, "{s:?}");
    assert!(s.view > 0, "{s:?}");
    assert_eq!(u64::from(s.primary_index), s.view % 4, "{s:?}");
    assert!(!s.suspects_primary, "{s:?}");
    // One comes back: commits resume, and the record admitted during the outage commits.
    net.cluster.start(2)?;
    net.wait_height(0, stuck + 1, LONG).await?;
    for i in 0..3 {
        net.wait_committed(i, &[acked], LONG).await?;
    }
    let r = net.client(1).await?.record(&acked).await?;
    assert_eq!(r.commitment.unwrap().result, "accepted");
    let tip = net.height(0).await?;
    net.wait_height(2, tip, LONG).await?;
    net.same_chain(&[0, 1, 2], tip).await?;
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_api_names_bad_input() -> Result<()> {
    let _serial = serial().await;
    let net = TestNet::start(4, &[0, 1, 2, 3], &[]).await?;
    let mut c = net.client(0).await?;
    use chancery_client::Code;
    // Not a record at all.
    let e = c
        .submit_bytes(b"garbage".to_vec(), false)
        .await
        .unwrap_err();
    assert_eq!(e.code(), Some(Code::InvalidArgument), "{e}");
    // A bad signature.
    let mut r = net.licences(0, "DL-BAD", 1)?.remove(0);
    r.record.nonce += 1;
    let e = c.submit(&r, false).await.unwrap_err();
    assert_eq!(e.code(), Some(Code::InvalidArgument), "{e}");
    assert!(e.to_string().contains("signature"), "{e}");
    // Twice the same record.
    let ok = net.licences(0, "DL-TWICE", 1)?.remove(0);
    let done = c.submit(&ok, true).await?;
    assert_eq!(done.commitment.unwrap().result, "accepted");
    let e = c.submit(&ok, false).await.unwrap_err();
    assert_eq!(e.code(), Some(Code::AlreadyExists), "{e}");
    // Unknown ids and heights.
    let missing = chancery_types::RecordId(chancery_types::Hash::of(b"nothing"));
    assert_eq!(
        c.record(&missing).await.unwrap_err().code(),
        Some(Code::NotFound)
    );
    assert_eq!(
        c.proof(&missing).await.unwrap_err().code(),
        Some(Code::NotFound)
    );
    assert_eq!(
        c.block(1_000_000).await.unwrap_err().code(),
        Some(Code::NotFound)
    );
    assert_eq!(
        c.block(0).await.unwrap_err().code(),
        Some(Code::InvalidArgument)
    );
    // A rejected record still commits, with its reason, and has a proof.
    let mut again = net.licences(0, "DL-TWICE", 1)?.remove(0);
    again.record.nonce = 99;
    let again = again.record.clone().sign(
        &net.cluster.net.agencies[0].issuer,
        &net.genesis().chain_id(),
    );
    let done = c.submit(&again, true).await?;
    assert_eq!(done.commitment.unwrap().result, "rejected:duplicate");
    let bundle = c.proof_when_ready(&done.id, LONG).await?;
    let proven = bundle.verify(net.genesis())?;
    assert_eq!(
        proven.result,
        ExecResult::Rejected(chancery_types::RejectCode::Duplicate)
    );
    assert_eq!(bundle.record.to_canonical(), again.to_canonical());
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_full_mempool_answers_resource_exhausted() -> Result<()> {
    let _serial = serial().await;
    // Two of four validators: nothing commits, so the mempool only fills.
    let net = TestNet::start(
        4,
        &[0, 1],
        &[("[block]", "[mempool]\nmax_records = 3\n\n[block]")],
    )
    .await?;
    let records = net.licences(0, "DL-FULL", 4)?;
    let mut c = net.client(0).await?;
    for r in &records[..3] {
        c.submit(r, false).await?;
    }
    let e = c.submit(&records[3], false).await.unwrap_err();
    assert_eq!(
        e.code(),
        Some(chancery_client::Code::ResourceExhausted),
        "{e}"
    );
    assert!(e.to_string().contains("mempool full"), "{e}");
    Ok(())
}
