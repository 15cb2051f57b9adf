//! `chancery access who | may`: who accessed a dataset under which grant,
//! and what an agency may access now (`GovernanceService.AccessLog`,
//! `GrantsFor`). Every line names its record; `--proofs DIR` writes each
//! record's proof bundle (verify with `chancery proof verify`).

use std::path::{Path, PathBuf};

use anyhow::{Context, Result};
use chancery_client::Client;
use chancery_client::governance::{AccessQuery, GovernanceClient};
use chancery_types::RecordId;
use serde_json::json;

use crate::records::time;

/// `chancery access …`.
#[derive(Debug, clap::Subcommand)]
pub enum Access {
    /// Who accessed a dataset, under which grant: its access-log records.
    ///
    /// Lists accepted and refused logs alike (result `rejected:no_active_grant`:
    /// an access logged without a grant in force). Prove one with
    /// `chancery proof get RECORD_ID`.
    ///
    /// Example: chancery access who --dataset vaccination-status
    Who {
        /// The dataset.
        #[arg(long)]
        dataset: String,
        /// Only accesses logged by this agency.
        #[arg(long)]
        agency: Option<String>,
        /// Only accesses in blocks at or above this height.
        #[arg(long, default_value_t = 0)]
        from_height: u64,
        /// Also write each answer's proof bundle to DIR/RECORD_ID.json.
        #[arg(long, value_name = "DIR")]
        proofs: Option<PathBuf>,
    },
    /// What an agency may access now: the grants to it in force.
    ///
    /// "Now" is the time of the node's latest block. Prove a grant with
    /// `chancery proof get RECORD_ID` (the bundle includes its status).
    ///
    /// Example: chancery access may --agency tax
    May {
        /// The grantee agency.
        #[arg(long)]
        agency: String,
        /// Also write each grant's proof bundle (with its status) to DIR/RECORD_ID.json.
        #[arg(long, value_name = "DIR")]
        proofs: Option<PathBuf>,
    },
}

/// Writes the proof bundle of each record in `ids` to `dir/<id>.json`,
/// waiting up to 30 s for each to be certified.
async fn write_proofs(node: &str, dir: &Path, ids: &[&str]) -> Result<()> {
    std::fs::create_dir_all(dir).with_context(|| format!("cannot create {}", dir.display()))?;
    let mut client = Client::connect(node).await?;
    for text in ids {
        let id: RecordId = text
            .parse()
            .map_err(|e| anyhow::anyhow!("the node answered a bad record id `{text}`: {e}"))?;
        let bundle = client
            .proof_when_ready(&id, std::time::Duration::from_secs(30))
            .await?;
        let path = dir.join(format!("{id}.json"));
        crate::proof::write_bundle(&bundle, Some(&path), &format!("proof of {id}"))?;
    }
    Ok(())
}

/// Runs an `access` command.
pub async fn run(node: &str, cmd: Access, as_json: bool) -> Result<()> {
    let mut gov = GovernanceClient::connect(node).await?;
    match cmd {
        Access::Who {
            dataset,
            agency,
            from_height,
            proofs,
        } => {
            let query = AccessQuery {
                dataset: dataset.clone(),
                agency: agency.unwrap_or_default(),
                from_height,
            };
            let entries = gov.access_log_all(&query).await?;
            if let Some(dir) = &proofs {
                let ids: Vec<&str> = entries.iter().map(|e| e.record_id.as_str()).collect();
                write_proofs(node, dir, &ids).await?;
            }
            if as_json {
                let items: Vec<_> = entries
                    .iter()
                    .map(|e| {
                        json!({ "record_id": e.record_id, "agency": e.agency, "grant": e.grant,
                                "access_id": e.access_id, "dataset": e.dataset,
                                "height": e.height, "committed_at_ms": e.committed_at_ms,
                                "result": e.result })
                    })
                    .collect();
                println!("{}", json!({ "dataset": dataset, "accesses": items }));
                return Ok(());
            }
            if entries.is_empty() {
                println!("no access to `{dataset}` is logged");
                return Ok(());
            }
            println!(
                "{:>8}  {:<24}  {:<14} {:<20} {:<20} {:<26} record",
                "height", "committed", "agency", "grant", "access", "result"
            );
            for e in &entries {
                println!(
                    "{:>8}  {:<24}  {:<14} {:<20} {:<20} {:<26} {}",
                    e.height,
                    time(e.committed_at_ms),
                    e.agency,
                    e.grant,
                    e.access_id,
                    e.result,
                    e.record_id
                );
            }
            println!("(prove one: chancery proof get RECORD)");
        }
        Access::May { agency, proofs } => {
            let (grants, as_of) = gov.grants_for_all(&agency).await?;
            if let Some(dir) = &proofs {
                let ids: Vec<&str> = grants.iter().map(|g| g.record_id.as_str()).collect();
                write_proofs(node, dir, &ids).await?;
            }
            if as_json {
                let items: Vec<_> = grants
                    .iter()
                    .map(|g| {
                        json!({ "record_id": g.record_id, "grant": g.grant, "grantor": g.grantor,
                                "grantee": g.grantee, "dataset": g.dataset, "purpose": g.purpose,
                                "scope": g.scope, "valid_from": g.valid_from_ms,
                                "valid_until": g.valid_until_ms, "height": g.height })
                    })
                    .collect();
                println!(
                    "{}",
                    json!({ "grantee": agency, "as_of_ms": as_of, "grants": items })
                );
                return Ok(());
            }
            if grants.is_empty() {
                println!(
                    "`{agency}` may access nothing under a grant (as of {})",
                    time(as_of)
                );
                return Ok(());
            }
            println!("`{agency}` may access, as of {}:", time(as_of));
            println!(
                "{:<20} {:<24} {:<14} {:<20} {:<16} {:<24} record",
                "grant", "dataset", "grantor", "purpose", "scope", "until"
            );
            for g in &grants {
                println!(
                    "{:<20} {:<24} {:<14} {:<20} {:<16} {:<24} {}",
                    g.grant,
                    g.dataset,
                    g.grantor,
                    g.purpose,
                    g.scope,
                    time(g.valid_until_ms),
                    g.record_id
                );
            }
            println!("(prove one: chancery proof get RECORD)");
        }
    }
    Ok(())
}
