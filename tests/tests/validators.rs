//! End-to-end: the validator set changes by governance while records keep
//! committing. A fifth agency's node joins (it follows the chain until its
//! first height, then votes), another validator is removed, and each
//! change is proven by liveness: the network keeps committing only
//! because the new set is the one in force.

use std::time::Duration;

use anyhow::{Context, Result, bail};
use chancery_tests::{TestNet, serial, submit_round_robin};
use chancery_types::bounded::{Bytes, List, Text};
use chancery_types::governance::{GovAction, approve};
use chancery_types::*;

const LONG: Duration = Duration::from_secs(120);

/// A governance record by agency `by`, approved by the admins of `approvers`.
fn proposal(
    net: &TestNet,
    by: usize,
    id: &str,
    action: GovAction,
    approvers: &[usize],
) -> Result<SignedRecord> {
    let agencies = &net.cluster.net.agencies;
    let chain = net.genesis().chain_id();
    let subject: Subject = Text::new(id)?;
    let approvals = approvers
        .iter()
        .map(|&i| {
            approve(
                agencies[i].id.clone(),
                &agencies[i].admin,
                &chain,
                &subject,
                &action,
            )
        })
        .collect();
    let a = &agencies[by];
    let now = chancery_tests::now_ms();
    Ok(Record {
        kind: RecordKind::Governance {
            action: Box::new(action),
            approvals: List::new(approvals)?,
        },
        issuer: a.id.clone(),
        key_id: a.issuer.public().key_id(),
        subject,
        body: Bytes::new(Vec::new())?,
        references: List::default(),
        timestamp: Timestamp(now),
        nonce: 0,
    }
    .sign(&a.issuer, &chain))
}

/// Submits `record` to validator `via`, waits for its commit; returns the height.
async fn commit_accepted(net: &TestNet, via: usize, record: &SignedRecord) -> Result<u64> {
    let done = net.client(via).await?.submit(record, true).await?;
    let c = done.commitment.context("no commitment")?;
    if c.result != "accepted" {
        bail!(
            "governance record {} was {}",
            record.record.subject,
            c.result
        );
    }
    Ok(c.height)
}

/// The validator whose agency is `i`.
fn validator(net: &TestNet, i: usize) -> Validator {
    let a = &net.cluster.net.agencies[i];
    let address = net
        .cluster
        .net
        .genesis
        .validators
        .validators()
        .iter()
        .find(|v| v.agency == a.id)
        .map(|v| v.address.clone());
    Validator {
        agency: a.id.clone(),
        consensus_key: a.consensus.public(),
        network_key: a.network.public(),
        address: address.unwrap_or_default(),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_validator_joins_and_another_leaves_while_records_commit() -> Result<()> {
    let _serial = serial().await;
    // Five agencies; the genesis set is the first four. The fifth agency's
    // node address must be in its validator entry: take it from its node.toml.
    let mut fifth_address = String::new();
    let mut net = TestNet::start_with(5, &[0, 1, 2, 3], &[], |g| {
        let all = g.validators.validators().to_vec();
        fifth_address = all[4].address.to_string();
        g.validators = ValidatorSet::new(all[..4].to_vec())?;
        Ok(())
    })
    .await?;
    let lag = net.genesis().params.execution_lag;
    let mut joining = validator(&net, 4);
    joining.address = Text::new(fifth_address)?;

    // Load in the background while the set changes.
    let load = net.licences(0, "DL-CHURN", 300)?;
    let mut acknowledged = submit_round_robin(&net, &[0, 1, 2, 3], &load[..100]).await?;

    // 1. Add the fifth validator: 4 of 5 agencies approve (⌈2/3 · 5⌉ = 4).
    let add = proposal(
        &net,
        0,
        "add-validator-5",
        GovAction::AddValidator {
            validator: joining.clone(),
        },
        &[0, 1, 2, 3],
    )?;
    let h = commit_accepted(&net, 0, &add).await?;
    let from = h + lag + 1;
    net.cluster.start(4)?;
    net.cluster.wait_ready(4, LONG).await?;
    acknowledged.extend(submit_round_robin(&net, &[1, 2, 3], &load[100..200]).await?);
    // The newcomer catches up from genesis and passes its first height.
    net.wait_height(4, from + 3, LONG).await?;

    // Only the five-validator set can commit with validator 3 stopped
    // (4 of 5 is its quorum): the newcomer must be voting.
    net.cluster.stop(3, Duration::from_secs(10))?;
    let before = net.height(0).await?;
    net.wait_height(0, before + 5, LONG)
        .await
        .context("no commits with validator 3 stopped: the new validator is not voting")?;

    // 2. Remove validator 3 (approved by 4 of 5, without agency 3).
    let remove = proposal(
        &net,
        1,
        "remove-validator-4",
        GovAction::RemoveValidator {
            consensus_key: net.cluster.net.agencies[3].consensus.public(),
        },
        &[0, 1, 2, 4],
    )?;
    let h2 = commit_accepted(&net, 1, &remove).await?;
    let from2 = h2 + lag + 1;
    net.wait_height(0, from2 + 2, LONG).await?;
    // With validator 1 stopped too, only {0, 2, 4} run: a quorum of the
    // four-validator set {0, 1, 2, 4}, not of the five-validator one.
    net.cluster.stop(1, Duration::from_secs(10))?;
    let before = net.height(0).await?;
    net.wait_height(0, before + 5, LONG)
        .await
        .context("no commits after the removal: the set without validator 3 is not in force")?;
    acknowledged.extend(submit_round_robin(&net, &[0, 2, 4], &load[200..]).await?);

    // Nothing acknowledged is lost, and 0, 2 and 4 hold the same chain,
    // each block certified by the set in force at its height.
    net.wait_committed(4, &acknowledged, LONG).await?;
    let set4 = ValidatorSet::new(vec![
        validator(&net, 0),
        validator(&net, 1),
        validator(&net, 2),
        validator(&net, 3),
    ])?;
    let mut five = set4.validators().to_vec();
    five.push(joining);
    let set5 = ValidatorSet::new(five.clone())?;
    five.remove(3);
    let set_final = ValidatorSet::new(five)?;
    assert_eq!(set4, net.genesis().validators);
    let chain = net.genesis().chain_id();
    let top = net.height(0).await?;
    let mut clients = Vec::new();
    for i in [0, 2, 4] {
        clients.push((i, net.client(i).await?));
    }
    for height in 1..=top {
        let set = if height < from {
            &set4
        } else if height < from2 {
            &set5
        } else {
            &set_final
        };
        let mut first = None;
        for (i, c) in clients.iter_mut() {
            let (block, cert) = c
                .block(height)
                .await
                .with_context(|| format!("validator {i}, height {height}"))?;
            let hash = block.header.hash();
            assert_eq!(
                block.header.validator_set_hash,
                set.hash(),
                "height {height}: header names another set"
            );
            cert.verify_for(&hash, set, &chain)
                .with_context(|| format!("validator {i}, height {height}: certificate"))?;
            match first {
                None => first = Some(hash),
                Some(f) => assert_eq!(f, hash, "height {height}: validator {i} differs"),
            }
        }
    }

    // A record committed after both changes has a proof that verifies
    // against the genesis alone: it walks both changes to the set that
    // certified it. One committed before them walks none.
    let last = acknowledged.last().context("no records")?;
    let mut c4 = net.client(4).await?;
    let proven = c4
        .proof_when_ready(last, LONG)
        .await?
        .verify(net.genesis())
        .map_err(|e| anyhow::anyhow!("{e}"))?;
    assert_eq!(proven.validator_changes, 2, "{proven:?}");
    assert_eq!(proven.signed_by_set, 2, "{proven:?}");
    assert_eq!(proven.set_size, 4);
    let early = c4
        .proof_when_ready(&acknowledged[0], LONG)
        .await?
        .verify(net.genesis())
        .map_err(|e| anyhow::anyhow!("{e}"))?;
    assert!(early.certified_height >= early.height);

    // An auditor replaying the chain from genesis follows both changes.
    let genesis = net.cluster.net.dir.join("genesis.json");
    let node4 = net.cluster.net.rpc_addr(4)?;
    let (code, text, err) = chancery_tests::run_cli(&[
        "--json",
        "audit",
        "--genesis",
        genesis.to_str().context("genesis path")?,
        "--node",
        &node4,
    ])?;
    assert_eq!(code, 0, "{text}{err}");
    let v: serde_json::Value = serde_json::from_str(text.trim())?;
    assert_eq!(v["valid"], true, "{text}");
    Ok(())
}
