//! End-to-end: the integrator API beyond single records — batches,
//! queries with paging, watch streams across reconnects, block streams,
//! checkpoints and validator sets — against real node processes.

use std::collections::HashSet;
use std::time::Duration;

use anyhow::Result;
use chancery_client::{Code, RecordFilter};
use chancery_tests::{TestNet, serial};
use chancery_types::{BlockHeader, Canonical, CommitCertificate, ValidatorSet};
use tokio_stream::StreamExt;

const LONG: Duration = Duration::from_secs(120);

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn batches_queries_and_paging() -> Result<()> {
    let _serial = serial().await;
    let net = TestNet::start(4, &[0, 1, 2, 3], &[]).await?;
    let mut c = net.client(1).await?;
    // A batch with one bad record: that one is refused, the rest commit.
    let mut records = net.licences(0, "DL-BATCH", 30)?;
    records[7].record.nonce += 1; // signature no longer matches
    let results = c.submit_many(&records, true).await?;
    assert_eq!(results.len(), 30);
    assert_eq!(
        results[7].code,
        Code::InvalidArgument as u32,
        "{:?}",
        results[7]
    );
    assert!(
        results[7].error.contains("signature"),
        "{}",
        results[7].error
    );
    for (k, r) in results.iter().enumerate().filter(|(k, _)| *k != 7) {
        assert_eq!(r.code, 0, "record {k}: {}", r.error);
        assert_eq!(r.commitment.as_ref().unwrap().result, "accepted");
    }
    // Other records from another issuer, to filter out.
    c.submit_many(&net.licences(3, "DL-OTHER", 5)?, true)
        .await?;

    // Page through transport's licences, 4 at a time: 29, in commit order, once each.
    let filter = RecordFilter {
        issuer: "transport".into(),
        kind: "licence_issue".into(),
        ..Default::default()
    };
    let mut seen = Vec::new();
    let mut cursor = String::new();
    loop {
        let page = c.query(filter.clone(), &cursor, 4).await?;
        assert!(page.records.len() <= 4);
        for r in &page.records {
            seen.push(r.commitment.as_ref().unwrap().log_index);
        }
        if page.next_cursor.is_empty() {
            break;
        }
        cursor = page.next_cursor;
    }
    assert_eq!(seen.len(), 29);
    assert!(seen.windows(2).all(|w| w[0] < w[1]), "{seen:?}");
    // By subject, exactly one.
    let one = c
        .query(
            RecordFilter {
                subject: "DL-BATCH-3".into(),
                ..Default::default()
            },
            "",
            0,
        )
        .await?;
    assert_eq!(one.records.len(), 1);
    assert_eq!(one.records[0].record_id, results[3].record_id);
    // Bad filters are named.
    for (f, field) in [
        (
            RecordFilter {
                kind: "licence".into(),
                ..Default::default()
            },
            "filter.kind",
        ),
        (
            RecordFilter {
                issuer: "NOT AN ID".into(),
                ..Default::default()
            },
            "filter.issuer",
        ),
        (
            RecordFilter {
                from_height: 9,
                to_height: 3,
                ..Default::default()
            },
            "from_height",
        ),
    ] {
        let e = c.query(f, "", 10).await.unwrap_err();
        assert_eq!(e.code(), Some(Code::InvalidArgument), "{e}");
        assert!(e.to_string().contains(field), "{e}");
    }
    let e = c.query(filter.clone(), "zz", 10).await.unwrap_err();
    assert!(e.to_string().contains("cursor"), "{e}");
    let e = c.query(filter, "", 5000).await.unwrap_err();
    assert!(e.to_string().contains("limit"), "{e}");
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_watch_delivers_each_record_exactly_once_across_reconnects() -> Result<()> {
    let _serial = serial().await;
    let net = TestNet::start(4, &[0, 1, 2, 3], &[]).await?;
    let filter = RecordFilter {
        issuer: "interior".into(),
        ..Default::default()
    };
    let mut submitter = net.client(0).await?;
    let mut wanted = HashSet::new();
    // Some records before the watch starts.
    for r in submitter
        .submit_many(&net.licences(3, "W-A", 20)?, true)
        .await?
    {
        wanted.insert(r.record_id);
    }
    let mut got: Vec<(u64, String)> = Vec::new();
    let mut from = 0;
    // Three connections to different validators; each is dropped after a few
    // records while more are being committed.
    for (round, via) in [2usize, 3, 1].into_iter().enumerate() {
        let mut watcher = net.client(via).await?;
        let mut stream = watcher.watch(filter.clone(), from).await?;
        let batch = net.licences(3, &format!("W-{round}"), 15)?;
        let feed = submitter.submit_many(&batch, false).await?;
        for r in &feed {
            assert_eq!(r.code, 0, "{}", r.error);
            wanted.insert(r.record_id.clone());
        }
        for _ in 0..12 {
            let item = tokio::time::timeout(LONG, stream.next())
                .await?
                .expect("stream ended")?;
            let li = item.commitment.unwrap().log_index;
            from = li + 1;
            got.push((li, item.record_id));
        }
        drop(stream);
    }
    // The last connection reads until everything arrived.
    let mut stream = net.client(0).await?.watch(filter, from).await?;
    while got.len() < wanted.len() {
        let item = tokio::time::timeout(LONG, stream.next())
            .await?
            .expect("stream ended")?;
        got.push((item.commitment.unwrap().log_index, item.record_id));
    }
    let ids: Vec<&String> = got.iter().map(|(_, id)| id).collect();
    let unique: HashSet<&String> = ids.iter().copied().collect();
    assert_eq!(unique.len(), got.len(), "a record was delivered twice");
    assert_eq!(unique.len(), wanted.len());
    assert!(
        wanted.iter().all(|w| unique.contains(w)),
        "a record is missing"
    );
    assert!(got.windows(2).all(|w| w[0].0 < w[1].0), "not in log order");
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn blocks_stream_checkpoints_and_validator_sets() -> Result<()> {
    let _serial = serial().await;
    let net = TestNet::start(4, &[0, 1, 2, 3], &[]).await?;
    let g = net.genesis().clone();
    let chain = g.chain_id();
    let mut c = net.client(2).await?;
    net.wait_height(2, 3, LONG).await?;
    // Blocks 1.. arrive in order, each certified by the genesis validators.
    let mut blocks = c.stream_blocks(1).await?;
    for h in 1..=8u64 {
        let b = tokio::time::timeout(LONG, blocks.next())
            .await?
            .expect("stream ended")?;
        assert_eq!(b.height, h);
        let block = chancery_types::Block::from_canonical(&b.block)?;
        let cert = CommitCertificate::from_canonical(&b.certificate)?;
        assert_eq!(block.header.height, h);
        cert.verify_for(&block.header.hash(), &g.validators, &chain)?;
    }
    // A checkpoint is a certified header.
    let cp = c.checkpoint().await?;
    let header = BlockHeader::from_canonical(&cp.header)?;
    let cert = CommitCertificate::from_canonical(&cp.certificate)?;
    assert_eq!(header.height, cp.height);
    assert_eq!(header.hash().to_string(), cp.block_hash);
    cert.verify_for(&header.hash(), &g.validators, &chain)?;
    // The validator set is the genesis set, and its hash is what headers carry.
    let vs = c.validator_set(0).await?;
    let set = ValidatorSet::from_canonical(&vs.validator_set)?;
    assert_eq!(set, g.validators);
    assert_eq!(vs.hash, header.validator_set_hash.to_string());
    let e = c.validator_set(u64::MAX).await.unwrap_err();
    assert_eq!(e.code(), Some(Code::NotFound));
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_validator_outside_the_commit_quorum_serves_a_proof_that_verifies() -> Result<()> {
    let _serial = serial().await;
    let mut net = TestNet::start(4, &[0, 1, 2, 3], &[]).await?;
    // Validator 3 is away while the record commits: the quorum is 0, 1 and 2.
    assert!(net.cluster.stop(3, Duration::from_secs(20))?);
    let record = net.licences(0, "DL-QUORUM", 1)?.remove(0);
    let done = net.client(0).await?.submit(&record, true).await?;
    let height = done.commitment.unwrap().height;
    net.cluster.start(3)?;
    net.cluster.wait_ready(3, LONG).await?;
    net.wait_committed(3, &[done.id], LONG).await?;
    let mut c3 = net.client(3).await?;
    // The record's block, as validator 3 holds it, was certified without it.
    let (_, cert) = c3.block(height).await?;
    assert!(
        cert.signatures.iter().all(|s| s.validator != 3),
        "validator 3 signed a block committed while it was stopped"
    );
    // Yet its proof verifies against the genesis alone.
    let bundle = c3.proof_when_ready(&done.id, LONG).await?;
    let proven = bundle.verify(net.genesis())?;
    assert_eq!(proven.record, done.id);
    assert_eq!(proven.height, height);
    Ok(())
}
