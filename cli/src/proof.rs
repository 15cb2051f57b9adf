//! `proof get` (from a node) and `proof verify` (offline, against a genesis).

use std::path::Path;
use std::time::Duration;

use anyhow::{Context, Result};
use chancery_client::Client;
use chancery_types::{
    Canonical, ConsistencyBundle, Genesis, KeySource, ProofBundle, Proven, ProvenKey, RecordId,
};
use serde_json::json;

/// `chancery proof get ID -o FILE`: JSON unless the file ends in `.bin`.
pub async fn get(
    client: &mut Client,
    id: &RecordId,
    out: Option<&Path>,
    wait: Duration,
) -> Result<()> {
    let bundle = client.proof_when_ready(id, wait).await?;
    write_bundle(&bundle, out, &format!("proof of {id}"))
}

/// Writes a bundle to `out` (binary when the name ends in `.bin`, else
/// JSON) or, without `out`, as JSON to stdout.
pub(crate) fn write_bundle<B: Canonical + serde::Serialize>(
    bundle: &B,
    out: Option<&Path>,
    what: &str,
) -> Result<()> {
    let binary = out.is_some_and(|p| p.extension().is_some_and(|e| e == "bin"));
    let bytes = if binary {
        bundle.to_canonical()
    } else {
        (serde_json::to_string_pretty(bundle)? + "\n").into_bytes()
    };
    match out {
        Some(path) => {
            std::fs::write(path, bytes)
                .with_context(|| format!("cannot write {}", path.display()))?;
            eprintln!("{what} written to {}", path.display());
        }
        None => print!("{}", String::from_utf8_lossy(&bytes)),
    }
    Ok(())
}

/// A bundle file: a record's proof, or a consistency proof.
pub enum AnyBundle {
    /// A record's proof bundle.
    Record(Box<ProofBundle>),
    /// A consistency bundle between two checkpoints.
    Consistency(Box<ConsistencyBundle>),
}

/// Reads a bundle of either kind in either form (JSON, or canonical binary).
pub fn read_bundle(path: &Path) -> Result<AnyBundle> {
    let bytes = std::fs::read(path).with_context(|| format!("cannot read {}", path.display()))?;
    let what = || format!("{} is not a proof bundle", path.display());
    if bytes.first() == Some(&b'{') {
        let v: serde_json::Value = serde_json::from_slice(&bytes).with_context(what)?;
        return Ok(if v.get("old").is_some() {
            AnyBundle::Consistency(Box::new(serde_json::from_value(v).with_context(what)?))
        } else {
            AnyBundle::Record(Box::new(serde_json::from_value(v).with_context(what)?))
        });
    }
    if let Ok(b) = ProofBundle::from_canonical(&bytes) {
        return Ok(AnyBundle::Record(Box::new(b)));
    }
    Ok(AnyBundle::Consistency(Box::new(
        ConsistencyBundle::from_canonical(&bytes).with_context(what)?,
    )))
}

/// `chancery proof consistency FROM TO -o FILE`.
pub async fn consistency(
    client: &mut Client,
    from: u64,
    to: u64,
    out: Option<&Path>,
) -> Result<()> {
    let bundle = client.consistency(from, to).await?;
    write_bundle(&bundle, out, "consistency proof")
}

/// Verifies a consistency bundle; prints the report.
pub fn verify_consistency(bundle: &ConsistencyBundle, genesis: &Genesis, as_json: bool) -> bool {
    report(
        bundle.verify(genesis),
        as_json,
        |_| Vec::new(),
        |p| {
            println!(
                "VALID: the log at height {} ({} records) extends the log at height {} ({} records)",
                p.new.0, p.new.1, p.old.0, p.old.1
            );
            println!(
                "  validator set changes: {}; checkpoints certified by set #{} and set #{}",
                p.validator_changes, p.old_set, p.new_set
            );
        },
    )
}

/// What a verifier should tell its reader about the signing key: signed
/// after its reported compromise, and its revocation.
pub fn key_warnings(key: &ProvenKey) -> Vec<String> {
    let time = crate::records::time;
    let mut out = Vec::new();
    if let Some(since) = key.compromised_since {
        if key.signed_after_compromise {
            out.push(format!(
                "signed with key {} at or after it was reported compromised (since {})",
                key.id,
                time(since.0)
            ));
        } else {
            out.push(format!(
                "key {} was reported compromised since {}, after this record was signed",
                key.id,
                time(since.0)
            ));
        }
    }
    if let Some(at) = key.revoked_at {
        out.push(format!("key {} was revoked at {}", key.id, time(at.0)));
    }
    out
}

/// `chancery proof verify`: `Ok(true)` when valid; the report is printed.
pub fn verify(bundle: &ProofBundle, genesis: &Genesis, as_json: bool) -> bool {
    report(
        bundle.verify(genesis),
        as_json,
        |p: &Proven| key_warnings(&p.key),
        |p| {
            let signers: Vec<&str> = p.signers.iter().map(|a| a.as_str()).collect();
            println!("VALID: record {}", p.record);
            println!("  issuer      {}", p.issuer);
            println!("  kind        {}", p.kind);
            println!("  height      {}", p.height);
            println!("  committed   {}", crate::records::time(p.committed_at.0));
            println!("  result      {}", json!(p.result));
            println!(
                "  certified   by the header at height {}",
                p.certified_height
            );
            println!(
                "  validators  validator set changes: {}, record certified by set #{} of {} validators",
                p.validator_changes, p.signed_by_set, p.set_size
            );
            println!(
                "  signed by   {} ({} of {})",
                signers.join(", "),
                signers.len(),
                p.set_size
            );
            let source = match p.key.source {
                KeySource::Genesis => "registered in the genesis",
                KeySource::Governance => "as governance left it, proven in the header's state",
            };
            println!("  key         {} ({source})", p.key.id);
            for w in key_warnings(&p.key) {
                println!("  WARNING     {w}");
            }
            match &p.status {
                Some((h, Some(st))) => println!("  status      {} (after height {h})", json!(st)),
                Some((h, None)) => println!("  status      none (after height {h})"),
                None => println!("  status      not in this bundle"),
            }
        },
    )
}

/// Prints a verification outcome, as JSON or as text (`valid` prints what
/// was proven; `warnings` are what a valid bundle should still flag);
/// returns whether it was valid.
fn report<P: serde::Serialize>(
    outcome: Result<P, chancery_types::BundleError>,
    as_json: bool,
    warnings: impl FnOnce(&P) -> Vec<String>,
    valid: impl FnOnce(&P),
) -> bool {
    match outcome {
        Ok(p) if as_json => println!(
            "{}",
            json!({ "valid": true, "warnings": warnings(&p), "proven": p })
        ),
        Ok(p) => valid(&p),
        Err(e) if as_json => {
            println!("{}", json!({ "valid": false, "error": e.to_string() }));
            return false;
        }
        Err(e) => {
            println!("INVALID: {e}");
            return false;
        }
    }
    true
}
