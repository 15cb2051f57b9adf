//! `chancery audit`: replay a node's whole chain from the genesis, checking
//! everything a validator checks, without trusting the node.
//!
//! ```text
//!  genesis.json ─► in-memory Ledger (this process's own execution)
//!  node ─StreamBlocks(1..=checkpoint)─► for each block:
//!      certificate valid for the validator set in force at that height
//!      (genesis, then each governance change as this replay executes it)?
//!      header names that set?
//!      Ledger::commit: chain, height, parent, time, records root,
//!                      every record signature, execution, and the
//!                      header's log and state roots against our own
//!      results the node reports == results we computed?
//!  end: our head == the node's checkpoint
//! ```

use std::path::Path;

use anyhow::{Context, Result, bail};
use chancery_client::Client;
use chancery_ledger::{Ledger, NothingVerified};
use chancery_types::{Block, Canonical, CommitCertificate, ExecResult};
use indicatif::{ProgressBar, ProgressStyle};
use serde_json::json;

/// What the audit found wrong, at which height.
struct Failure {
    height: u64,
    check: String,
}

/// Runs the audit; `Ok(true)` when the chain is valid.
pub async fn audit(node: &str, genesis: &Path, as_json: bool) -> Result<bool> {
    let genesis = crate::records::read_genesis(genesis)?;
    let chain = genesis.chain_id();
    let mut client = Client::connect(node).await?;
    let status = client.status().await?;
    if status.chain_id != chain.to_string() {
        bail!(
            "the node is on chain {}, the genesis defines chain {chain}",
            status.chain_id
        );
    }
    let target = client.checkpoint().await?;
    let ledger = Ledger::in_memory(&genesis).context("opening an in-memory ledger")?;
    let bar = if as_json {
        ProgressBar::hidden()
    } else {
        ProgressBar::new(target.height)
    };
    bar.set_style(
        ProgressStyle::with_template(
            "{spinner} auditing [{bar:40}] {pos}/{len} blocks {per_sec} {msg}",
        )
        .unwrap_or_else(|_| ProgressStyle::default_bar())
        .progress_chars("=> "),
    );
    let mut stream = client.stream_blocks(1).await?;
    let (mut records, mut rejected) = (0u64, 0u64);
    let mut failure = None;
    for h in 1..=target.height {
        let item = stream
            .message()
            .await?
            .with_context(|| format!("the node's block stream ended at height {h}"))?;
        match check_block(&ledger, &chain, h, &item) {
            Ok((n, r)) => {
                records += n;
                rejected += r;
            }
            Err(check) => {
                failure = Some(Failure { height: h, check });
                break;
            }
        }
        bar.inc(1);
    }
    bar.finish_and_clear();
    if failure.is_none() && ledger.tip().hash.to_string() != target.block_hash {
        failure = Some(Failure {
            height: target.height,
            check: "head: the replayed chain does not end at the node's checkpoint".into(),
        });
    }
    let tip = ledger.tip();
    match failure {
        None => {
            if as_json {
                println!(
                    "{}",
                    json!({ "valid": true, "height": tip.height, "head": tip.hash.to_string(),
                            "records": records, "rejected": rejected,
                            "log_size": ledger.log_size() })
                );
            } else {
                println!("VALID: {} blocks replayed from the genesis", tip.height);
                println!("  head        {}", tip.hash);
                println!("  records     {records} ({rejected} rejected by execution)");
                println!("  every certificate, record signature, header root and result checked");
            }
            Ok(true)
        }
        Some(f) => {
            if as_json {
                println!(
                    "{}",
                    json!({ "valid": false, "height": f.height, "error": f.check })
                );
            } else {
                println!("INVALID at height {}: {}", f.height, f.check);
            }
            Ok(false)
        }
    }
}

/// Checks and replays one block; returns (records, rejected) or the failed check.
fn check_block(
    ledger: &Ledger<chancery_ledger::MemKv>,
    chain: &chancery_types::ChainId,
    h: u64,
    item: &chancery_client::GetBlockResponse,
) -> Result<(u64, u64), String> {
    let mut block =
        Block::from_canonical(&item.block).map_err(|e| format!("block: does not decode: {e}"))?;
    let cert = CommitCertificate::from_canonical(&item.certificate)
        .map_err(|e| format!("certificate: does not decode: {e}"))?;
    if block.header.height != h {
        return Err(format!(
            "block: the node sent height {}",
            block.header.height
        ));
    }
    // The set in force at `h`, from genesis and the governance records this
    // replay executed itself: nothing the node says is trusted.
    let set = ledger
        .validator_set_at(h)
        .map_err(|e| format!("validator set: {e}"))?;
    if block.header.validator_set_hash != set.hash() {
        return Err(format!(
            "validator set: the header names a set other than the one in force at height {h} ({} validators)",
            set.n()
        ));
    }
    cert.verify_for(&block.header.hash(), &set, chain)
        .map_err(|e| format!("certificate: {e}"))?;
    let claimed: Vec<ExecResult> = block.results.to_vec();
    block.results = Default::default();
    let committed = ledger
        .commit(&block, &cert, &NothingVerified)
        .map_err(|e| format!("replay: {e}"))?;
    if !claimed.is_empty() && claimed != committed.results {
        return Err("results: the node reports results other than execution gives".into());
    }
    let rejected = committed
        .results
        .iter()
        .filter(|r| !matches!(r, ExecResult::Accepted))
        .count();
    Ok((committed.results.len() as u64, rejected as u64))
}
