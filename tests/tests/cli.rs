//! End-to-end: the `chancery` CLI against real nodes — submit from a
//! record file, get, query, fetch a proof and verify it offline (valid:
//! exit 0; tampered: exit 1 naming the check).

use std::path::PathBuf;
use std::process::Command;

use anyhow::{Context, Result};
use chancery_tests::{TestNet, serial};

/// The `chancery` binary next to the node binary.
fn chancery() -> Result<PathBuf> {
    let node = chancery_testnet::cluster::node_binary()?;
    let path = node.with_file_name("chancery");
    anyhow::ensure!(
        path.is_file(),
        "{} not built (cargo build -p chancery-cli)",
        path.display()
    );
    Ok(path)
}

fn run(args: &[&str]) -> Result<(i32, String, String)> {
    let out = Command::new(chancery()?)
        .args(args)
        .output()
        .context("running chancery")?;
    Ok((
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    ))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn submit_get_query_and_verify_a_proof_from_the_command_line() -> Result<()> {
    let _serial = serial().await;
    let net = TestNet::start(4, &[0, 1, 2, 3], &[]).await?;
    let dir = tempfile::tempdir()?;
    let node0 = net.cluster.net.rpc_addr(0)?;
    let node2 = net.cluster.net.rpc_addr(2)?;
    let key = net.cluster.net.agencies[0].dir.join("issuer.key");
    let genesis = net.cluster.net.dir.join("genesis.json");
    let file = dir.path().join("licence.json");
    let now = chancery_tests::now_ms();
    std::fs::write(
        &file,
        format!(
            r#"{{ "kind": {{ "type": "licence_issue", "class": "driving", "valid_from": {now}, "valid_until": {} }},
                 "issuer": "transport", "subject": "DL-CLI-1", "body": "{{\"holder_ref\":\"abc\"}}" }}"#,
            now + 86_400_000
        ),
    )?;
    let (code, out, err) = run(&[
        "--json",
        "submit",
        file.to_str().unwrap(),
        "--key",
        key.to_str().unwrap(),
        "--genesis",
        genesis.to_str().unwrap(),
        "--node",
        &node0,
    ])?;
    assert_eq!(code, 0, "{err}");
    let v: serde_json::Value = serde_json::from_str(&out)?;
    assert_eq!(v["commitment"]["result"], "accepted", "{out}");
    let id = v["record_id"].as_str().unwrap().to_owned();

    // Read back from another validator once it has the block.
    net.wait_committed(2, &[id.parse()?], std::time::Duration::from_secs(60))
        .await?;
    let (code, out, err) = run(&["--json", "get", &id, "--node", &node2])?;
    assert_eq!(code, 0, "{err}");
    let v: serde_json::Value = serde_json::from_str(&out)?;
    assert_eq!(v["status"], "active");
    assert_eq!(v["record"]["record"]["subject"], "DL-CLI-1");

    let (code, out, err) = run(&["--json", "query", "--subject", "DL-CLI-1", "--node", &node2])?;
    assert_eq!(code, 0, "{err}");
    assert_eq!(out.lines().count(), 1, "{out}");

    // Proof: fetch, verify offline, then tamper.
    let proof = dir.path().join("proof.json");
    let (code, _, err) = run(&[
        "proof",
        "get",
        &id,
        "-o",
        proof.to_str().unwrap(),
        "--node",
        &node2,
    ])?;
    assert_eq!(code, 0, "{err}");
    let (code, out, _) = run(&[
        "proof",
        "verify",
        proof.to_str().unwrap(),
        "--genesis",
        genesis.to_str().unwrap(),
    ])?;
    assert_eq!(code, 0, "{out}");
    assert!(out.starts_with("VALID"), "{out}");
    let mut bundle: serde_json::Value = serde_json::from_str(&std::fs::read_to_string(&proof)?)?;
    bundle["header"]["timestamp"] = serde_json::json!(1);
    std::fs::write(&proof, serde_json::to_string(&bundle)?)?;
    let (code, out, _) = run(&[
        "proof",
        "verify",
        proof.to_str().unwrap(),
        "--genesis",
        genesis.to_str().unwrap(),
    ])?;
    assert_eq!(code, 1, "{out}");
    assert!(out.contains("INVALID: certificate"), "{out}");
    // An audit replays the whole chain from the genesis and finds it valid.
    let (code, out, err) = run(&[
        "--json",
        "audit",
        "--genesis",
        genesis.to_str().unwrap(),
        "--node",
        &node2,
    ])?;
    assert_eq!(code, 0, "{out}{err}");
    let v: serde_json::Value = serde_json::from_str(out.trim())?;
    assert_eq!(v["valid"], true, "{out}");
    assert!(v["height"].as_u64().unwrap() >= 1);
    assert!(v["records"].as_u64().unwrap() >= 1);
    // Against another chain's genesis, the audit refuses to start.
    let other = tempfile::tempdir()?;
    let other_net =
        chancery_testnet::genesis::generate(other.path(), 1, chancery_types::Timestamp(1))?;
    let other_genesis = other_net.dir.join("genesis.json");
    let (code, _, err) = run(&[
        "audit",
        "--genesis",
        other_genesis.to_str().unwrap(),
        "--node",
        &node2,
    ])?;
    assert_eq!(code, 2, "{err}");
    assert!(err.contains("chain"), "{err}");
    // Usage and I/O errors exit 2.
    let (code, _, err) = run(&[
        "proof",
        "verify",
        "/nonexistent.json",
        "--genesis",
        genesis.to_str().unwrap(),
    ])?;
    assert_eq!(code, 2, "{err}");
    let (code, _, err) = run(&["get", "not-an-id", "--node", &node0])?;
    assert_eq!(code, 2);
    assert!(err.contains("not a record id"), "{err}");
    Ok(())
}
