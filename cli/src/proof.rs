//! `proof get` (from a node) and `proof verify` (offline, against a genesis).

use std::path::Path;
use std::time::Duration;

use anyhow::{Context, Result};
use chancery_client::Client;
use chancery_types::{Canonical, Genesis, ProofBundle, RecordId};
use serde_json::json;

/// `chancery proof get ID -o FILE`: JSON unless the file ends in `.bin`.
pub async fn get(
    client: &mut Client,
    id: &RecordId,
    out: Option<&Path>,
    wait: Duration,
) -> Result<()> {
    let bundle = client.proof_when_ready(id, wait).await?;
    let binary = out.is_some_and(|p| p.extension().is_some_and(|e| e == "bin"));
    let bytes = if binary {
        bundle.to_canonical()
    } else {
        let mut s = serde_json::to_string_pretty(&bundle)?;
        s.push('\n');
        s.into_bytes()
    };
    match out {
        Some(path) => {
            std::fs::write(path, bytes)
                .with_context(|| format!("cannot write {}", path.display()))?;
            eprintln!("proof of {id} written to {}", path.display());
        }
        None => print!("{}", String::from_utf8_lossy(&bytes)),
    }
    Ok(())
}

/// Reads a bundle in either form (JSON, or the canonical binary encoding).
pub fn read_bundle(path: &Path) -> Result<ProofBundle> {
    let bytes = std::fs::read(path).with_context(|| format!("cannot read {}", path.display()))?;
    if bytes.first() == Some(&b'{') {
        return serde_json::from_slice(&bytes)
            .with_context(|| format!("{} is not a proof bundle (JSON)", path.display()));
    }
    ProofBundle::from_canonical(&bytes)
        .with_context(|| format!("{} is not a proof bundle (binary)", path.display()))
}

/// `chancery proof verify`: `Ok(true)` when valid; the report is printed.
pub fn verify(bundle: &ProofBundle, genesis: &Genesis, as_json: bool) -> bool {
    match bundle.verify(genesis) {
        Ok(p) => {
            if as_json {
                println!("{}", json!({ "valid": true, "proven": p }));
            } else {
                let signers: Vec<&str> = p.signers.iter().map(|a| a.as_str()).collect();
                println!("VALID: record {}", p.record);
                println!("  issuer      {}", p.issuer);
                println!("  kind        {}", p.kind);
                println!("  height      {}", p.height);
                println!("  committed   {}", crate::records::time(p.committed_at.0));
                println!(
                    "  result      {}",
                    serde_json::to_string(&p.result).unwrap_or_default()
                );
                println!(
                    "  certified   by the header at height {}",
                    p.certified_height
                );
                println!(
                    "  signed by   {} ({} of {})",
                    signers.join(", "),
                    signers.len(),
                    genesis.validators.n()
                );
            }
            true
        }
        Err(e) => {
            if as_json {
                println!("{}", json!({ "valid": false, "error": e.to_string() }));
            } else {
                println!("INVALID: {e}");
            }
            false
        }
    }
}
