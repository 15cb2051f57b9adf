//! End-to-end: governance and the data-access questions from the `chancery`
//! CLI against four real nodes. A `set-permission` proposal that puts
//! `licence_issue` on transport's deny list is approved by three of the
//! four agencies' admin keys, submitted and accepted; transport's next
//! licence is then refused at admission (FAILED_PRECONDITION naming the
//! agency), and a proposal with one approval is refused at submission.
//! Tax adds, uses and revokes an issuer key; `access who` / `access may`
//! find a logged access and a grant in force; removing a validator takes
//! effect at the height `gov submit` prints.

use std::time::Duration;

use anyhow::{Context, Result, ensure};
use chancery_client::Code;
use chancery_client::governance::GovernanceClient;
use chancery_tests::{TestNet, run_cli as run, serial};
use chancery_types::{Canonical, ValidatorSet};
use serde_json::Value;

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

    // Key changes: tax gets a second issuer key, uses it, and revokes it as
    // compromised; the rules show each step.
    let approved = |file: &str, action: &[&str], id: &str| -> Result<Value> {
        let mut args = vec!["gov", "propose", "--id", id, "--genesis", g, "-o", file];
        args.extend_from_slice(action);
        json(&args)?;
        for (i, agency) in [(0, "transport"), (2, "tax"), (3, "interior")] {
            let admin = key(i, "admin.key");
            json(&[
                "gov",
                "approve",
                file,
                "--agency",
                agency,
                "--admin-key",
                &admin,
            ])?;
        }
        let issuer = key(2, "issuer.key");
        json(&[
            "gov", "submit", file, "--agency", "tax", "--key", &issuer, "--wait", "--node", &node,
        ])
    };
    let new_key = dir.path().join("tax-issuer-2.key");
    let new_key = new_key.to_str().context("path")?;
    let made = json(&["keygen", "--out", new_key])?;
    let new_id = made["key_id"].as_str().context("key id")?.to_owned();
    let p3 = dir.path().join("prop-3.json");
    let v = approved(
        p3.to_str().context("path")?,
        &[
            "add-key",
            "--agency",
            "tax",
            "--key-file",
            new_key,
            "--valid-from",
            "now",
        ],
        "PROP-E2E-3",
    )?;
    assert_eq!(v["commitment"]["result"], "accepted", "{v}");
    let v = json(&[
        "grant",
        "create",
        "GRANT-E2E-KEY",
        "--grantee",
        "health",
        "--dataset",
        "tax-returns",
        "--purpose",
        "audit",
        "--scope",
        "totals",
        "--valid-for",
        "1d",
        "--issuer",
        "tax",
        "--key",
        new_key,
        "--node",
        &node,
    ])?;
    assert_eq!(v["commitment"]["result"], "accepted", "{v}");
    let p4 = dir.path().join("prop-4.json");
    let v = approved(
        p4.to_str().context("path")?,
        &[
            "revoke-key",
            "--agency",
            "tax",
            "--key",
            &new_id,
            "--compromised-since",
            "2026-01-01T00:00:00Z",
        ],
        "PROP-E2E-4",
    )?;
    assert_eq!(v["commitment"]["result"], "accepted", "{v}");
    let rules = json(&["gov", "rules", "--node", &node])?;
    let entry = rules["issuer_keys"]
        .as_array()
        .and_then(|ks| ks.iter().find(|k| k["key_id"] == new_id.as_str()))
        .cloned()
        .context("the new key in the rules")?;
    assert_eq!(entry["agency"], "tax");
    assert!(entry["revoked_at"].as_u64().is_some(), "{entry}");
    assert_eq!(entry["compromised_since"], 1_767_225_600_000u64);
    let (code, _, err) = run(&[
        "grant",
        "revoke",
        "GRANT-E2E-KEY",
        "--issuer",
        "tax",
        "--key",
        new_key,
        "--node",
        &node,
    ])?;
    assert_eq!(code, 2);
    assert!(
        err.contains("INVALID_ARGUMENT") && err.contains("`tax`"),
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
    // `--proofs DIR` writes each answer's bundle; the grant's verifies.
    let proofs = dir.path().join("grant-proofs");
    let (code, _, err) = run(&[
        "access",
        "may",
        "--agency",
        "tax",
        "--proofs",
        proofs.to_str().context("path")?,
        "--node",
        &node,
    ])?;
    assert_eq!(code, 0, "{err}");
    let grant_proof = proofs.join(format!("{grant_record}.json"));
    let (code, out, _) = run(&[
        "proof",
        "verify",
        grant_proof.to_str().context("path")?,
        "--genesis",
        g,
    ])?;
    assert_eq!(code, 0, "{out}");
    assert!(
        out.contains("active"),
        "the grant's status is proven: {out}"
    );

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

    // A validator change applies from the height `gov submit` prints:
    // accepting height + execution_lag + 1.
    let p5 = dir.path().join("prop-5.json");
    let interior = key(3, "consensus.key");
    let v = approved(
        p5.to_str().context("path")?,
        &["remove-validator", "--consensus-key", &interior],
        "PROP-E2E-5",
    )?;
    assert_eq!(v["commitment"]["result"], "accepted", "{v}");
    let accepted_at = v["commitment"]["height"].as_u64().context("height")?;
    let from = v["applies_from"].as_u64().context("applies_from")?;
    assert_eq!(from, accepted_at + net.genesis().params.execution_lag + 1);
    net.wait_height(1, from, Duration::from_secs(60)).await?;
    let mut c = net.client(1).await?;
    let before = c.validator_set(from - 1).await?;
    assert_eq!(before.hash, net.genesis().validators.hash().to_string());
    let after = c.validator_set(from).await?;
    let set = ValidatorSet::from_canonical(&after.validator_set)?;
    assert_eq!(set.n(), 3);
    assert!(
        set.index_of(&net.cluster.net.agencies[3].consensus.public())
            .is_none()
    );
    // (Headers from `from` on should carry `after.hash` once consensus
    // switches sets by height; `Replica::validators` ignores the height so
    // far, so they still carry the genesis set's hash.)
    assert_eq!(c.status().await?.validators, 3);
    let rules = json(&["gov", "rules", "--node", &node])?;
    assert_eq!(rules["validators"]["from_height"], from, "{rules}");
    assert_eq!(rules["validators"]["hash"], after.hash.as_str());
    assert_eq!(rules["scheduled"], serde_json::json!([]));
    Ok(())
}
