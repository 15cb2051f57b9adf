//! End-to-end: off-chain payloads and their erasure against real node
//! processes — a payload stored at one node under a salted commitment, a
//! licence naming the commitment, the owner's erasure record deleting the
//! payload while every proof stays valid, and the refusals of `PutPayload`;
//! then the same path through the `chancery payload` command line.

use std::time::Duration;

use anyhow::{Context, Result};
use chancery_client::{Client, ClientError, Code};
use chancery_tests::{TestNet, now_ms, serial};
use chancery_types::bounded::{Bytes, List};
use chancery_types::payload::commitment;
use chancery_types::{
    ChainId, ExecResult, Hash, Record, RecordId, RecordKind, SignedRecord, Subject, Timestamp,
    limits,
};

const LONG: Duration = Duration::from_secs(120);
const PERSONAL: &[u8] =
    b"{\"name\":\"Alice Example\",\"born\":\"1990-01-01\",\"address\":\"1 High St\"}";

/// A record of `kind` by validator `agency`'s agency.
fn record(
    net: &TestNet,
    agency: usize,
    kind: RecordKind,
    subject: &str,
    body: &str,
) -> SignedRecord {
    let a = &net.cluster.net.agencies[agency];
    let now = now_ms();
    Record {
        kind,
        issuer: a.id.clone(),
        key_id: a.issuer.public().key_id(),
        subject: Subject::new(subject).unwrap(),
        body: Bytes::new(body.as_bytes().to_vec()).unwrap(),
        references: List::default(),
        timestamp: Timestamp(now),
        nonce: now,
    }
    .sign(&a.issuer, &net.genesis().chain_id())
}

/// The node's status for a refused call: its code and message.
fn refusal<T: std::fmt::Debug>(r: Result<T, ClientError>) -> (Code, String) {
    match r {
        Err(ClientError::Status { code, message }) => (code, message),
        other => panic!("expected a refusal, got {other:?}"),
    }
}

/// Submits `rec` through `c`, waits for its commit, and returns its id and height.
async fn commit(c: &mut Client, rec: &SignedRecord) -> Result<(RecordId, u64)> {
    let done = c.submit(rec, true).await?;
    let k = done.commitment.context("no commitment")?;
    assert_eq!(k.result, "accepted", "record {}", done.id);
    Ok((done.id, k.height))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_erased_payload_is_gone_and_every_proof_still_verifies() -> Result<()> {
    let _serial = serial().await;
    // A general message limit below MAX_PAYLOAD: the payload service still
    // admits the largest payload.
    let net = TestNet::start(
        4,
        &[0, 1, 2, 3],
        &[("[rpc]", "[rpc]\nmax_message_bytes = 1048576")],
    )
    .await?;
    let g = net.genesis().clone();
    let chain = g.chain_id();
    let owner = &net.cluster.net.agencies[0];
    let other = &net.cluster.net.agencies[1];
    let mut c0 = net.client(0).await?;
    let mut c1 = net.client(1).await?;

    // (a) The owner stores the payload at its node, under a random salt.
    let (c, salt) = c0
        .put_payload(&owner.id, &owner.issuer, &chain, PERSONAL)
        .await?;
    assert_eq!(c, commitment(&salt, PERSONAL));
    let held = c0.payload(&c).await?;
    assert_eq!(
        (&held.owner, held.salt, held.payload.as_slice()),
        (&owner.id, salt, PERSONAL)
    );
    // Storing it again is a no-op for its owner.
    let again = c0
        .put_payload_with_salt(&owner.id, &owner.issuer, &chain, salt, PERSONAL)
        .await?;
    assert_eq!(again, c);
    // Payloads are not replicated: validator 1 never had it.
    let (code, msg) = refusal(c1.payload(&c).await);
    assert_eq!(code, Code::NotFound, "{msg}");
    assert!(msg.contains("not held by this node"), "{msg}");

    // A licence refers to it by its commitment only.
    let mut licence = net.licences(0, "DL-ERASE", 1)?.remove(0);
    licence.record.body = Bytes::new(format!("{{\"holder\":\"{c}\"}}").into_bytes())?;
    let licence = licence.record.sign(&owner.issuer, &chain);
    let (licence_id, _) = commit(&mut c0, &licence).await?;
    let before = c0.proof_when_ready(&licence_id, LONG).await?;
    assert_eq!(before.verify(&g)?.record, licence_id);

    // (e) Another agency can neither take the payload over nor erase it.
    let (code, msg) = refusal(
        c0.put_payload_with_salt(&other.id, &other.issuer, &chain, salt, PERSONAL)
            .await,
    );
    assert_eq!(code, Code::AlreadyExists, "{msg}");
    assert!(msg.contains(owner.id.as_str()), "{msg}");
    let foreign = record(
        &net,
        1,
        RecordKind::PayloadErase { commitment: c },
        "ERASE-FOREIGN",
        "{}",
    );
    commit(&mut c0, &foreign).await?;
    let still = c0.payload(&c).await?;
    assert_eq!(still.owner, owner.id);
    assert_eq!(still.payload, PERSONAL);

    // (b) The owner erases it.
    let erasure = record(
        &net,
        0,
        RecordKind::PayloadErase { commitment: c },
        "ERASE-0001",
        "{\"request\":\"SAR-2026-17\"}",
    );
    let (erasure_id, height) = commit(&mut c0, &erasure).await?;

    // (c) The payload is gone; the answer names the erasure.
    let (code, msg) = refusal(c0.payload(&c).await);
    assert_eq!(code, Code::NotFound, "{msg}");
    assert_eq!(
        msg,
        format!("payload {c} was erased by record {erasure_id} at height {height}")
    );
    // It cannot be stored again, by anyone.
    for a in [owner, other] {
        let (code, msg) = refusal(
            c0.put_payload_with_salt(&a.id, &a.issuer, &chain, salt, PERSONAL)
                .await,
        );
        assert_eq!(code, Code::FailedPrecondition, "{msg}");
        assert!(msg.contains(&erasure_id.to_string()), "{msg}");
    }

    // (d) The licence's proof, fetched after the erasure, still verifies, and
    // still carries the commitment; so does the erasure record's own proof,
    // from another validator.
    let after = c0.proof_when_ready(&licence_id, LONG).await?;
    let proven = after.verify(&g)?;
    assert_eq!(proven.record, licence_id);
    assert_eq!(proven.result, ExecResult::Accepted);
    assert!(String::from_utf8_lossy(after.record.record.body.as_slice()).contains(&c.to_string()));
    net.wait_committed(2, &[erasure_id], LONG).await?;
    let mut c2 = net.client(2).await?;
    let e = c2.proof_when_ready(&erasure_id, LONG).await?;
    let proven = e.verify(&g)?;
    assert_eq!(proven.record, erasure_id);
    assert_eq!(proven.height, height);
    assert_eq!(proven.result, ExecResult::Accepted);
    assert_eq!(
        e.record.record.kind,
        RecordKind::PayloadErase { commitment: c }
    );
    // And the chain itself is unchanged by the erasure at every validator.
    net.same_chain(&[0, 1, 2, 3], height).await?;

    // (f) PutPayload refusals name what was wrong.
    let fresh = b"someone else";
    let salt2 = [5u8; 32];
    let wrong_chain = ChainId(Hash::of(b"another chain"));
    let (code, msg) = refusal(
        c0.put_payload_with_salt(&owner.id, &owner.issuer, &wrong_chain, salt2, fresh)
            .await,
    );
    assert_eq!(code, Code::InvalidArgument, "{msg}");
    assert!(msg.starts_with("signature:"), "{msg}");
    // Another agency's key, claimed for this agency.
    let (code, msg) = refusal(
        c0.put_payload_with_salt(&owner.id, &other.issuer, &chain, salt2, fresh)
            .await,
    );
    assert_eq!(code, Code::InvalidArgument, "{msg}");
    assert!(msg.starts_with("key_id:"), "{msg}");
    // An agency that is not registered.
    let nobody = chancery_types::AgencyId::new("nobody")?;
    let (code, msg) = refusal(
        c0.put_payload_with_salt(&nobody, &owner.issuer, &chain, salt2, fresh)
            .await,
    );
    assert_eq!(code, Code::InvalidArgument, "{msg}");
    assert!(msg.starts_with("issuer:"), "{msg}");
    // Too large.
    let huge = vec![7u8; limits::MAX_PAYLOAD + 1];
    let (code, msg) = refusal(
        c0.put_payload_with_salt(&owner.id, &owner.issuer, &chain, salt2, &huge)
            .await,
    );
    assert_eq!(code, Code::InvalidArgument, "{msg}");
    assert!(msg.starts_with("payload:"), "{msg}");
    // Nothing of these was stored.
    for p in [&fresh[..], &huge[..]] {
        let (code, _) = refusal(c0.payload(&commitment(&salt2, p)).await);
        assert_eq!(code, Code::NotFound);
    }
    // The largest payload goes through although the general limit is 1 MiB.
    let largest = vec![0x5au8; limits::MAX_PAYLOAD];
    let (big, _) = c0
        .put_payload(&owner.id, &owner.issuer, &chain, &largest)
        .await?;
    assert_eq!(c0.payload(&big).await?.payload.len(), limits::MAX_PAYLOAD);
    Ok(())
}

/// Runs `chancery --json ARGS`; exit code, parsed stdout, stderr.
fn run(args: &[&str]) -> Result<(i32, serde_json::Value, String)> {
    let mut all = vec!["--json"];
    all.extend_from_slice(args);
    let (code, stdout, stderr) = chancery_tests::run_cli(&all)?;
    let v = serde_json::from_str(&stdout).unwrap_or(serde_json::Value::String(stdout));
    Ok((code, v, stderr))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn put_get_and_erase_from_the_command_line() -> Result<()> {
    let _serial = serial().await;
    let net = TestNet::start(4, &[0, 1, 2, 3], &[]).await?;
    let dir = tempfile::tempdir()?;
    let node0 = net.cluster.net.rpc_addr(0)?;
    let key = net.cluster.net.agencies[0].dir.join("issuer.key");
    let key = key.to_str().context("key path")?;
    let other_key = net.cluster.net.agencies[1].dir.join("issuer.key");
    let other_key = other_key.to_str().context("key path")?;
    let agency = net.cluster.net.agencies[0].id.to_string();
    let other = net.cluster.net.agencies[1].id.to_string();
    let file = dir.path().join("holder.json");
    std::fs::write(&file, PERSONAL)?;

    let (code, v, err) = run(&[
        "payload",
        "put",
        file.to_str().context("path")?,
        "--agency",
        &agency,
        "--key",
        key,
        "--node",
        &node0,
    ])?;
    assert_eq!(code, 0, "{err}");
    let c = v["commitment"].as_str().context("commitment")?.to_owned();
    let salt = v["salt"].as_str().context("salt")?.to_owned();
    assert_eq!(salt.len(), 64, "{v}");

    let out = dir.path().join("back.json");
    let (code, v, err) = run(&[
        "payload",
        "get",
        &c,
        "-o",
        out.to_str().context("path")?,
        "--node",
        &node0,
    ])?;
    assert_eq!(code, 0, "{err}");
    assert_eq!(v["owner"], agency.as_str());
    assert_eq!(v["salt"], salt.as_str());
    assert_eq!(std::fs::read(&out)?, PERSONAL);

    // Another agency's erasure: committed, but this node keeps the payload.
    let (code, v, err) = run(&[
        "payload", "erase", &c, "--agency", &other, "--key", other_key, "--node", &node0,
    ])?;
    assert_eq!(code, 0, "{err}");
    assert_eq!(v["commit"]["result"], "accepted", "{v}");
    assert!(
        v["payload_at_node"]
            .as_str()
            .is_some_and(|s| s.contains("only its owner")),
        "{v}"
    );

    let (code, v, err) = run(&[
        "payload",
        "erase",
        &c,
        "--agency",
        &agency,
        "--key",
        key,
        "--id",
        "ERASE-CLI-1",
        "--node",
        &node0,
    ])?;
    assert_eq!(code, 0, "{err}");
    assert_eq!(v["commit"]["result"], "accepted", "{v}");
    assert_eq!(v["erasure_id"], "ERASE-CLI-1");
    let record_id = v["record_id"].as_str().context("record_id")?.to_owned();
    let height = v["commit"]["height"].as_u64().context("height")?;
    let expected = format!("payload {c} was erased by record {record_id} at height {height}");
    assert_eq!(v["payload_at_node"], expected.as_str(), "{v}");

    // `get` now fails (exit 2) with the node's message.
    let (code, _, err) = run(&["payload", "get", &c, "--node", &node0])?;
    assert_eq!(code, 2);
    assert!(
        err.contains("NOT_FOUND") && err.contains(&expected),
        "{err}"
    );
    // A bad commitment is named before anything is sent.
    let (code, _, err) = run(&["payload", "get", "xyz", "--node", &node0])?;
    assert_eq!(code, 2);
    assert!(err.contains("`xyz` is not a commitment"), "{err}");
    Ok(())
}
