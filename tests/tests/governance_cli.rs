//! End-to-end: governance and the data-access questions from the `chancery`
//! CLI against four real nodes. A `set-permission` proposal that puts
//! `licence_issue` on transport's deny list is approved by three of the
//! four agencies' admin keys, submitted and accepted; transport's next
//! licence is then refused at admission (FAILED_PRECONDITION naming the
//! agency), and a proposal with one approval is refused at submission.
//! `access who` / `access may` find a logged access and a grant in force.

use std::path::PathBuf;
use std::process::Command;
use std::time::Duration;

use anyhow::{Context, Result, ensure};
use chancery_client::Code;
use chancery_client::governance::GovernanceClient;
use chancery_tests::{TestNet, serial};
use serde_json::Value;

/// The `chancery` binary next to the node binary.
fn chancery() -> Result<PathBuf> {
    let node = chancery_testnet::cluster::node_binary()?;
    let path = node.with_file_name("chancery");
    ensure!(
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

/// Runs with `--json`, expects exit 0, parses stdout.
fn json(args: &[&str]) -> Result<Value> {
    let mut all = vec!["--json"];
    all.extend_from_slice(args);
    let (code, out, err) = run(&all)?;
    ensure!(code == 0, "{all:?} exited {code}: {err}{out}");
    serde_json::from_str(out.trim()).with_context(|| format!("{all:?}: {out}"))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn governance_and_access_questions_from_the_command_line() -> Result<()> {
    let _serial = serial().await;
    let net = TestNet::start(4, &[0, 1, 2, 3], &[]).await?;
    let dir = tempfile::tempdir()?;
    let node = net.cluster.net.rpc_addr(1)?;
    let genesis = net.cluster.net.dir.join("genesis.json");
    let g = genesis.to_str().context("genesis path")?;
    // The harness keeps each agency's keys in its directory
    // (transport, health, tax, interior: validators 0 to 3).
    let key = |i: usize, name: &str| -> String {
        net.cluster.net.agencies[i]
            .dir
            .join(name)
            .to_string_lossy()
            .into_owned()
    };
    let p1 = dir.path().join("prop-1.json");
    let p1 = p1.to_str().context("path")?;

    // Before: no deny list; 4 agencies at 2/3 need 3 approvals.
    let rules = json(&["gov", "rules", "--node", &node])?;
    let transport = |rules: &Value| -> Value {
        rules["permissions"]
            .as_array()
            .and_then(|ps| ps.iter().find(|p| p["agency"] == "transport"))
            .cloned()
            .unwrap_or(Value::Null)
    };
    assert_eq!(transport(&rules)["denied_kinds"], serde_json::json!([]));
    let threshold = rules["thresholds"]
        .as_array()
        .and_then(|ts| ts.iter().find(|t| t["action"] == "set_permission"))
        .cloned()
        .unwrap_or(Value::Null);
    assert_eq!(threshold["required"], 3, "{rules}");
    assert_eq!(
        rules["validators"]["validators"].as_array().map(Vec::len),
        Some(4)
    );
    assert_eq!(rules["validators"]["from_height"], 0);
    assert_eq!(rules["scheduled"], serde_json::json!([]));

    // Propose: transport keeps its classes and flags, but may not issue licences.
    json(&[
        "gov",
        "propose",
        "set-permission",
        "--agency",
        "transport",
        "--classes",
        "driving,vehicle",
        "--may-grant",
        "--may-log-access",
        "--deny-kinds",
        "licence_issue",
        "--id",
        "PROP-E2E-1",
        "--genesis",
        g,
        "-o",
        p1,
    ])?;
    for (i, agency) in [(1, "health"), (2, "tax"), (3, "interior")] {
        json(&[
            "gov",
            "approve",
            p1,
            "--agency",
            agency,
            "--admin-key",
            &key(i, "admin.key"),
            "--genesis",
            g,
        ])?;
    }
    let v = json(&["gov", "show", p1, "--genesis", g])?;
    assert_eq!(v["ready"], true, "{v}");
    let v = json(&["gov", "show", p1, "--from-node", "--node", &node])?;
    assert_eq!(
        (v["valid"].as_u64(), v["needed"].as_u64()),
        (Some(3), Some(3)),
        "{v}"
    );

    // Submitted by health with its issuer key; accepted.
    let v = json(&[
        "gov",
        "submit",
        p1,
        "--agency",
        "health",
        "--key",
        &key(1, "issuer.key"),
        "--genesis",
        g,
        "--wait",
        "--node",
        &node,
    ])?;
    assert_eq!(v["commitment"]["result"], "accepted", "{v}");
    let height = v["commitment"]["height"].as_u64().context("height")?;
    assert_eq!(v["applies_from"].as_u64(), Some(height + 1), "{v}");
    let rules = json(&["gov", "rules", "--node", &node])?;
    assert_eq!(
        transport(&rules)["denied_kinds"],
        serde_json::json!(["licence_issue"])
    );
    // The same proposal id cannot be applied twice (a new record, same subject).
    let v = json(&[
        "gov",
        "submit",
        p1,
        "--agency",
        "tax",
        "--key",
        &key(2, "issuer.key"),
        "--wait",
        "--node",
        &node,
    ])?;
    assert_eq!(v["commitment"]["result"], "rejected:duplicate", "{v}");

    // Transport's next licence is refused at admission, naming the agency…
    let (code, out, err) = run(&[
        "licence",
        "issue",
        "DL-GOV-1",
        "--class",
        "driving",
        "--valid-for",
        "365d",
        "--issuer",
        "transport",
        "--key",
        &key(0, "issuer.key"),
        "--node",
        &node,
    ])?;
    assert_eq!(code, 2, "{out}{err}");
    assert!(
        err.contains("FAILED_PRECONDITION") && err.contains("`transport`"),
        "{err}"
    );
    // …while interior (class `*`) still issues one.
    let v = json(&[
        "licence",
        "issue",
        "DL-GOV-2",
        "--class",
        "driving",
        "--valid-for",
        "365d",
        "--issuer",
        "interior",
        "--key",
        &key(3, "issuer.key"),
        "--node",
        &node,
    ])?;
    assert_eq!(v["commitment"]["result"], "accepted", "{v}");

    // A proposal with one approval is refused at submission.
    let p2 = dir.path().join("prop-2.json");
    let p2 = p2.to_str().context("path")?;
    json(&[
        "gov",
        "propose",
        "set-permission",
        "--agency",
        "tax",
        "--id",
        "PROP-E2E-2",
        "--genesis",
        g,
        "-o",
        p2,
    ])?;
    json(&[
        "gov",
        "approve",
        p2,
        "--agency",
        "tax",
        "--admin-key",
        &key(2, "admin.key"),
    ])?;
    let v = json(&["gov", "show", p2, "--genesis", g])?;
    assert_eq!(
        (v["valid"].as_u64(), v["ready"].as_bool()),
        (Some(1), Some(false))
    );
    let (code, out, err) = run(&[
        "gov",
        "submit",
        p2,
        "--agency",
        "tax",
        "--key",
        &key(2, "issuer.key"),
        "--wait",
        "--node",
        &node,
    ])?;
    assert_eq!(code, 2, "{out}{err}");
    assert!(
        err.contains("FAILED_PRECONDITION") && err.contains("PROP-E2E-2"),
        "{err}"
    );

    // Who accessed what, and what tax may access now.
    let v = json(&[
        "grant",
        "create",
        "GRANT-E2E-1",
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
        &key(1, "issuer.key"),
        "--node",
        &node,
    ])?;
    assert_eq!(v["commitment"]["result"], "accepted", "{v}");
    let grant_record = v["record_id"].as_str().context("record id")?.to_owned();
    let v = json(&[
        "grant",
        "log-access",
        "ACCESS-E2E-1",
        "--grant",
        "GRANT-E2E-1",
        "--dataset",
        "vaccination-status",
        "--issuer",
        "tax",
        "--key",
        &key(2, "issuer.key"),
        "--node",
        &node,
    ])?;
    assert_eq!(v["commitment"]["result"], "accepted", "{v}");
    let access_record = v["record_id"].as_str().context("record id")?.to_owned();

    let v = json(&[
        "access",
        "who",
        "--dataset",
        "vaccination-status",
        "--node",
        &node,
    ])?;
    let accesses = v["accesses"].as_array().context("accesses")?;
    assert_eq!(accesses.len(), 1, "{v}");
    assert_eq!(accesses[0]["record_id"], access_record.as_str());
    assert_eq!(accesses[0]["agency"], "tax");
    assert_eq!(accesses[0]["grant"], "GRANT-E2E-1");
    assert_eq!(accesses[0]["access_id"], "ACCESS-E2E-1");
    assert_eq!(accesses[0]["result"], "accepted");
    let v = json(&["access", "who", "--dataset", "tax-returns", "--node", &node])?;
    assert_eq!(v["accesses"], serde_json::json!([]));

    let v = json(&["access", "may", "--agency", "tax", "--node", &node])?;
    let grants = v["grants"].as_array().context("grants")?;
    assert_eq!(grants.len(), 1, "{v}");
    assert_eq!(grants[0]["record_id"], grant_record.as_str());
    assert_eq!(grants[0]["grant"], "GRANT-E2E-1");
    assert_eq!(grants[0]["grantor"], "health");
    assert_eq!(grants[0]["dataset"], "vaccination-status");
    let v = json(&["access", "may", "--agency", "transport", "--node", &node])?;
    assert_eq!(v["grants"], serde_json::json!([]));
    let text = {
        let (code, out, err) = run(&["access", "may", "--agency", "tax", "--node", &node])?;
        ensure!(code == 0, "{err}");
        out
    };
    assert!(
        text.contains("GRANT-E2E-1") && text.contains(&grant_record),
        "{text}"
    );

    // Every answer names its record: its proof verifies offline.
    let proof = dir.path().join("access-proof.json");
    let (code, _, err) = run(&[
        "proof",
        "get",
        &access_record,
        "-o",
        proof.to_str().context("path")?,
        "--node",
        &node,
    ])?;
    assert_eq!(code, 0, "{err}");
    let (code, out, _) = run(&[
        "proof",
        "verify",
        proof.to_str().context("path")?,
        "--genesis",
        g,
    ])?;
    assert_eq!(code, 0, "{out}");

    // The API refuses bad questions with the field named.
    let mut gov = GovernanceClient::connect(&node).await?;
    let e = gov
        .grants_for("nobody", "", 0)
        .await
        .err()
        .context("grants of an unregistered agency")?;
    assert_eq!(e.code(), Some(Code::NotFound), "{e}");
    assert!(e.to_string().contains("nobody"), "{e}");
    let e = gov
        .access_log(&Default::default(), "", 0)
        .await
        .err()
        .context("access log without a dataset")?;
    assert_eq!(e.code(), Some(Code::InvalidArgument), "{e}");
    assert!(e.to_string().contains("dataset"), "{e}");

    // No validator change: every height has the genesis set.
    let mut client = net.client(2).await?;
    let set = client.validator_set(height).await?;
    assert_eq!(set.hash, net.genesis().validators.hash().to_string());
    assert_eq!(client.status().await?.validators, 4);
    net.wait_height(2, height + 1, Duration::from_secs(30))
        .await?;
    Ok(())
}
