//! End-to-end: the `chancery` CLI against real nodes — submit from a
//! record file, get, query, fetch a proof and verify it offline (valid:
//! exit 0; tampered: exit 1 naming the check).

use anyhow::Result;
use chancery_tests::{TestNet, run_cli as run, serial};

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

    // Status: the consensus and mempool readings, as JSON and as text.
    let (code, out, err) = run(&["--json", "status", "--node", &node2])?;
    assert_eq!(code, 0, "{err}");
    let v: serde_json::Value = serde_json::from_str(&out)?;
    let view = v["view"].as_u64().expect("view");
    assert_eq!(v["primary_index"].as_u64(), Some(view % 4), "{out}");
    assert!(v["records_waiting"].is_u64(), "{out}");
    assert_eq!(v["suspects_primary"], false, "{out}");
    let (code, out, err) = run(&["status", "--node", &node2])?;
    assert_eq!(code, 0, "{err}");
    assert!(out.contains("consensus   view "), "{out}");
    assert!(out.contains("mempool     "), "{out}");

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
    // A consistency proof from height 1 to the latest checkpoint.
    let cons = dir.path().join("consistency.json");
    let (code, _, err) = run(&[
        "proof",
        "consistency",
        "1",
        "0",
        "-o",
        cons.to_str().unwrap(),
        "--node",
        &node0,
    ])?;
    assert_eq!(code, 0, "{err}");
    let (code, out, _) = run(&[
        "proof",
        "verify",
        cons.to_str().unwrap(),
        "--genesis",
        genesis.to_str().unwrap(),
    ])?;
    assert_eq!(code, 0, "{out}");
    assert!(out.starts_with("VALID: the log at height"), "{out}");
    let mut c: serde_json::Value = serde_json::from_str(&std::fs::read_to_string(&cons)?)?;
    c["proof"]["old_size"] = serde_json::json!(c["proof"]["old_size"].as_u64().unwrap() + 1);
    std::fs::write(&cons, c.to_string())?;
    let (code, out, _) = run(&[
        "proof",
        "verify",
        cons.to_str().unwrap(),
        "--genesis",
        genesis.to_str().unwrap(),
    ])?;
    assert_eq!(code, 1, "{out}");
    assert!(out.contains("INVALID: consistency"), "{out}");
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

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn licence_and_grant_helpers_sign_and_submit_from_flags() -> Result<()> {
    let _serial = serial().await;
    let net = TestNet::start(4, &[0, 1, 2, 3], &[]).await?;
    let node = net.cluster.net.rpc_addr(1)?;
    let key = |i: usize| {
        net.cluster.net.agencies[i]
            .dir
            .join("issuer.key")
            .to_str()
            .unwrap()
            .to_owned()
    };
    let submit = |args: Vec<String>| -> Result<serde_json::Value> {
        let mut all = vec!["--json".to_owned(), "--node".to_owned(), node.clone()];
        all.extend(args);
        let refs: Vec<&str> = all.iter().map(String::as_str).collect();
        let (code, out, err) = run(&refs)?;
        anyhow::ensure!(code == 0, "{refs:?}: {err}");
        Ok(serde_json::from_str(out.trim())?)
    };
    let s = |v: &[&str]| v.iter().map(|x| x.to_string()).collect::<Vec<_>>();
    // transport (0) issues and revokes a driving licence.
    let v = submit(s(&[
        "licence",
        "issue",
        "DL-H1",
        "--class",
        "driving",
        "--valid-for",
        "365d",
        "--issuer",
        "transport",
        "--key",
        &key(0),
    ]))?;
    assert_eq!(v["commitment"]["result"], "accepted", "{v}");
    let v = submit(s(&[
        "licence",
        "revoke",
        "DL-H1",
        "--issuer",
        "transport",
        "--key",
        &key(0),
    ]))?;
    assert_eq!(v["commitment"]["result"], "accepted", "{v}");
    let id = v["record_id"].as_str().unwrap().to_owned();
    let (code, out, err) = run(&["--json", "get", &id, "--node", &node])?;
    assert_eq!(code, 0, "{err}");
    assert_eq!(
        serde_json::from_str::<serde_json::Value>(&out)?["status"],
        "revoked"
    );
    // Revoking twice is an invalid transition: committed, and rejected.
    let v = submit(s(&[
        "licence",
        "revoke",
        "DL-H1",
        "--issuer",
        "transport",
        "--key",
        &key(0),
    ]))?;
    assert_eq!(
        v["commitment"]["result"], "rejected:invalid_transition",
        "{v}"
    );
    // health (1) grants tax (2) access; tax logs an access under it.
    let v = submit(s(&[
        "grant",
        "create",
        "GRANT-H1",
        "--grantee",
        "tax",
        "--dataset",
        "vaccination-status",
        "--purpose",
        "benefit-eligibility",
        "--scope",
        "status-only",
        "--valid-for",
        "90d",
        "--issuer",
        "health",
        "--key",
        &key(1),
    ]))?;
    assert_eq!(v["commitment"]["result"], "accepted", "{v}");
    let v = submit(s(&[
        "grant",
        "log-access",
        "ACCESS-H1",
        "--grant",
        "GRANT-H1",
        "--dataset",
        "vaccination-status",
        "--issuer",
        "tax",
        "--key",
        &key(2),
    ]))?;
    assert_eq!(v["commitment"]["result"], "accepted", "{v}");
    // A bad flag is named.
    let (code, _, err) = run(&[
        "licence",
        "issue",
        "DL-H2",
        "--class",
        "driving",
        "--valid-for",
        "soon",
        "--issuer",
        "transport",
        "--key",
        &key(0),
        "--node",
        &node,
    ])?;
    assert_eq!(code, 2);
    assert!(err.contains("valid-for"), "{err}");
    Ok(())
}

#[test]
fn key_show_gives_the_peer_id_libp2p_derives() -> Result<()> {
    let dir = tempfile::tempdir()?;
    let path = dir.path().join("network.key");
    let key = chancery_types::SecretKey::generate();
    chancery_types::crypto::keyfile::write_secret_key(&path, &key)?;
    let (code, out, err) = run(&["--json", "key-show", path.to_str().unwrap()])?;
    assert_eq!(code, 0, "{err}");
    let v: serde_json::Value = serde_json::from_str(&out)?;
    let expected = chancery_node::p2p::peers::peer_id(&key.public()).map_err(anyhow::Error::msg)?;
    assert_eq!(v["peer_id"], expected.to_string());
    Ok(())
}

/// `chancery … | head -1`: output into a pipe whose reader has gone ends
/// the command as it ends any Unix tool (SIGPIPE), not with a panic.
#[test]
fn output_into_a_closed_pipe_is_not_a_panic() -> Result<()> {
    let dir = tempfile::tempdir()?;
    let key = dir.path().join("issuer.key");
    let (code, _, err) = run(&["keygen", "--out", key.to_str().unwrap()])?;
    assert_eq!(code, 0, "{err}");
    let mut child = std::process::Command::new(chancery_tests::chancery_cli()?)
        .args(["key-show", key.to_str().unwrap()])
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()?;
    // The reader goes before the command has started writing.
    drop(child.stdout.take());
    let out = child.wait_with_output()?;
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(!err.contains("panicked"), "{err}");
    assert_ne!(out.status.code(), Some(101), "{err}");
    Ok(())
}

#[test]
fn bench_refuses_a_bad_node_option_before_starting_anything() -> Result<()> {
    let (code, _, err) = run(&["bench", "--node-option", "block.max_delay=soon"])?;
    assert_eq!(code, 2, "{err}");
    assert!(err.contains("--node-option"), "{err}");
    assert!(
        err.contains("soon"),
        "the node's reason names the value: {err}"
    );
    let (code, _, err) = run(&["bench", "--node-option", "max_delay"])?;
    assert_eq!(code, 2, "{err}");
    assert!(err.contains("section.key=value"), "{err}");
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bench_measures_a_short_run_on_its_own_network() -> Result<()> {
    let _serial = serial().await;
    let (code, out, err) = run(&[
        "--json",
        "bench",
        "--rate",
        "400",
        "--duration",
        "4s",
        "--warmup",
        "1s",
        "--batch",
        "20",
        "--connections",
        "2",
    ])?;
    assert_eq!(code, 0, "{err}");
    let v: serde_json::Value = serde_json::from_str(&out)?;
    let run = &v["runs"][0];
    let f = |k: &str| run[k].as_f64().unwrap_or(-1.0);
    assert_eq!(run["failed"], 0, "{out}");
    assert_eq!(run["rejected"], 0, "{out}");
    // Everything offered in the window commits (a slow machine may carry
    // a few batches past its end).
    assert!(f("committed") >= 0.8 * 400.0 * 4.0, "{out}");
    assert!(f("committed_per_s") * 4.0 - f("committed") < 1.0, "{out}");
    assert!(f("p50_ms") > 0.0 && f("p50_ms") <= f("p99_ms"), "{out}");
    assert!(f("cpu_us_per_record") > 0.0, "{out}");
    // Each validator's share adds up to the total; the load generator's own is apart.
    let cores: Vec<f64> = run["cpu_cores_by_validator"]
        .as_array()
        .map(|a| a.iter().map(|c| c.as_f64().unwrap_or(-1.0)).collect())
        .unwrap_or_default();
    assert_eq!(cores.len(), 4, "{out}");
    assert!(cores.iter().all(|c| *c > 0.0), "{out}");
    let total_seconds = f("cpu_us_per_record") * f("committed") / 1e6;
    assert!(
        (cores.iter().sum::<f64>() * 4.0 - total_seconds).abs() < 0.01 * total_seconds + 0.05,
        "{out}"
    );
    assert!(f("client_cpu_cores") > 0.0, "{out}");
    // The validators' WARN / ERROR lines of the window are reported (a
    // healthy run may still log one, so only the shape is checked).
    let total = run["warnings"]["total"].as_u64().expect("warnings.total");
    let first = run["warnings"]["first"].as_array().expect("warnings.first");
    assert!(first.len() as u64 <= total, "{out}");
    // Blocks and their size agree with the records committed.
    let blocks = f("blocks_per_s") * 4.0;
    assert!(blocks >= 1.0, "{out}");
    let per_block = f("records_per_block");
    assert!((per_block * blocks - f("committed")).abs() < 1.0, "{out}");
    Ok(())
}
