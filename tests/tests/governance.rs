//! End-to-end: policy and keys on a live network. An agency issuing a
//! kind it may not issue is refused at admission; an access log without
//! an active grant is rejected in execution; a rotated key's old records
//! still verify while new records signed with it are refused; a revoked
//! key signs nothing more.

use std::time::Duration;

use anyhow::{Context, Result, bail};
use chancery_client::Code;
use chancery_tests::{TestNet, now_ms, serial};
use chancery_types::bounded::{Bytes, List, Text};
use chancery_types::governance::{GovAction, approve};
use chancery_types::*;

const LONG: Duration = Duration::from_secs(60);

fn record(
    agency: &AgencyId,
    key: &SecretKey,
    chain: &ChainId,
    subject: &str,
    kind: RecordKind,
) -> Result<SignedRecord> {
    Ok(Record {
        kind,
        issuer: agency.clone(),
        key_id: key.public().key_id(),
        subject: Text::new(subject)?,
        body: Bytes::new(b"{}".to_vec())?,
        references: List::default(),
        timestamp: Timestamp(now_ms()),
        nonce: 0,
    }
    .sign(key, chain))
}

fn licence(class: &str) -> Result<RecordKind> {
    let now = now_ms();
    Ok(RecordKind::LicenceIssue {
        class: Text::new(class)?,
        valid_from: Timestamp(now),
        valid_until: Timestamp(now + 3_600_000),
    })
}

/// Submits and waits; returns the commitment's result text.
async fn commit(net: &TestNet, via: usize, r: &SignedRecord) -> Result<(u64, String)> {
    let c = net
        .client(via)
        .await?
        .submit(r, true)
        .await
        .with_context(|| format!("submitting {}", r.record.subject))?
        .commitment
        .context("no commitment")?;
    Ok((c.height, c.result))
}

/// A governance record submitted by agency 1 (whose key is never
/// rotated here), approved by every agency's admin.
fn governance(net: &TestNet, id: &str, action: GovAction) -> Result<SignedRecord> {
    let agencies = &net.cluster.net.agencies;
    let chain = net.genesis().chain_id();
    let subject: Subject = Text::new(id)?;
    let approvals = agencies
        .iter()
        .map(|a| approve(a.id.clone(), &a.admin, &chain, &subject, &action))
        .collect();
    record(
        &agencies[1].id,
        &agencies[1].issuer,
        &chain,
        id,
        RecordKind::Governance {
            action: Box::new(action),
            approvals: List::new(approvals)?,
        },
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn policy_grants_and_key_rotation_on_a_live_network() -> Result<()> {
    let _serial = serial().await;
    let net = TestNet::start(4, &[0, 1, 2, 3], &[]).await?;
    let chain = net.genesis().chain_id();
    let agencies = &net.cluster.net.agencies;
    let (transport, health) = (&agencies[0], &agencies[1]);

    // Health may not issue driving licences: refused at admission.
    let wrong = record(
        &health.id,
        &health.issuer,
        &chain,
        "DL-H-1",
        licence("driving")?,
    )?;
    let err = net
        .client(1)
        .await?
        .submit(&wrong, false)
        .await
        .unwrap_err();
    assert_eq!(err.code(), Some(Code::FailedPrecondition), "{err}");
    assert!(
        err.to_string().contains("`health`") && err.to_string().contains("licence_issue"),
        "{err}"
    );

    // An access log citing no grant is rejected in execution, with its code.
    let access = record(
        &health.id,
        &health.issuer,
        &chain,
        "ACCESS-1",
        RecordKind::AccessLog {
            grant: Text::new("GRANT-NONE")?,
            dataset: Text::new("vehicle-register")?,
        },
    )?;
    let (_, result) = commit(&net, 2, &access).await?;
    assert_eq!(result, "rejected:unknown_reference");
    // Under a grant that exists but was made to another agency: no active grant.
    let now = now_ms();
    let grant = record(
        &transport.id,
        &transport.issuer,
        &chain,
        "GRANT-1",
        RecordKind::GrantCreate {
            grantee: agencies[2].id.clone(),
            dataset: Text::new("vehicle-register")?,
            purpose: Text::new("audit")?,
            scope: Text::new("all")?,
            valid_from: Timestamp(now),
            valid_until: Timestamp(now + 3_600_000),
        },
    )?;
    assert_eq!(commit(&net, 0, &grant).await?.1, "accepted");
    let access = record(
        &health.id,
        &health.issuer,
        &chain,
        "ACCESS-2",
        RecordKind::AccessLog {
            grant: Text::new("GRANT-1")?,
            dataset: Text::new("vehicle-register")?,
        },
    )?;
    assert_eq!(
        commit(&net, 1, &access).await?.1,
        "rejected:no_active_grant"
    );

    // A licence signed with transport's genesis key, before rotation.
    let old = record(
        &transport.id,
        &transport.issuer,
        &chain,
        "DL-OLD",
        licence("driving")?,
    )?;
    assert_eq!(commit(&net, 0, &old).await?.1, "accepted");

    // Rotate transport's issuer key.
    let new_key = SecretKey::generate();
    let rotate = governance(
        &net,
        "rotate-transport-1",
        GovAction::RotateIssuerKey {
            agency: transport.id.clone(),
            old: transport.issuer.public().key_id(),
            new: IssuerKey {
                public: new_key.public(),
                valid_from: Timestamp(now_ms()),
                valid_until: None,
            },
        },
    )?;
    let (h, result) = commit(&net, 3, &rotate).await?;
    assert_eq!(result, "accepted");
    net.wait_height(0, h + 1, LONG).await?;

    // New records with the old key are refused; with the new key accepted.
    let stale = record(
        &transport.id,
        &transport.issuer,
        &chain,
        "DL-STALE",
        licence("driving")?,
    )?;
    let err = net
        .client(0)
        .await?
        .submit(&stale, false)
        .await
        .unwrap_err();
    assert_eq!(err.code(), Some(Code::InvalidArgument), "{err}");
    assert!(err.to_string().contains("not revoked"), "{err}");
    let fresh = record(
        &transport.id,
        &new_key,
        &chain,
        "DL-NEW",
        licence("driving")?,
    )?;
    assert_eq!(commit(&net, 0, &fresh).await?.1, "accepted");

    // The old record still verifies offline against genesis alone, as
    // validator 2 serves it once it has caught up with the commit.
    net.wait_committed(2, &[old.id()], LONG).await?;
    let bundle = net
        .client(2)
        .await?
        .proof_when_ready(&old.id(), LONG)
        .await?;
    let proven = bundle
        .verify(net.genesis())
        .map_err(|e| anyhow::anyhow!("{e}"))?;
    assert_eq!(proven.record, old.id());

    // Revoke the new key as compromised: it signs nothing more.
    let revoke = governance(
        &net,
        "revoke-transport-2",
        GovAction::RevokeIssuerKey {
            agency: transport.id.clone(),
            key: new_key.public().key_id(),
            compromised_since: Some(Timestamp(now_ms() - 60_000)),
        },
    )?;
    let (h, result) = commit(&net, 1, &revoke).await?;
    assert_eq!(result, "accepted");
    net.wait_height(0, h + 1, LONG).await?;
    let after = record(
        &transport.id,
        &new_key,
        &chain,
        "DL-AFTER",
        licence("driving")?,
    )?;
    match net.client(0).await?.submit(&after, false).await {
        Err(e) if e.code() == Some(Code::InvalidArgument) => {}
        other => bail!("a record signed with a revoked key was not refused: {other:?}"),
    }

    // DL-NEW was signed after the reported compromise time: its proof
    // still verifies (it is on the chain) and says so. A bundle proves the
    // key's status in the state its tip header commits to, the state
    // `execution_lag` blocks back: validator 3, which may trail the quorum,
    // must have committed that far past the revocation.
    net.wait_height(3, h + net.genesis().params.execution_lag, LONG)
        .await?;
    let proven = net
        .client(3)
        .await?
        .proof_when_ready(&fresh.id(), LONG)
        .await?
        .verify(net.genesis())
        .map_err(|e| anyhow::anyhow!("{e}"))?;
    assert!(proven.key.signed_after_compromise, "{:?}", proven.key);
    assert!(proven.key.revoked_at.is_some(), "{:?}", proven.key);
    Ok(())
}
