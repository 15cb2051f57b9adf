//! `chancery-testnet`: start a local Chancery network with a demo workload.

use std::path::PathBuf;
use std::time::{SystemTime, UNIX_EPOCH};

use anyhow::Result;
use chancery_testnet::{demo, genesis};
use chancery_types::crypto::batch::{BatchItem, verify_batch};
use chancery_types::*;
use clap::{Parser, Subcommand};

/// Start, use and stop a Chancery network on this machine.
#[derive(Parser)]
#[command(version, about)]
struct Cli {
    /// Where the network's keys, genesis and data live.
    #[arg(long, default_value = ".testnet", global = true)]
    dir: PathBuf,
    /// Number of validators (one agency each).
    #[arg(long, default_value_t = 4, global = true)]
    validators: usize,
    #[command(subcommand)]
    command: Option<Command>,
}

#[derive(Subcommand)]
enum Command {
    /// Generate the network if needed and run the demo workload.
    Up,
    /// Print the generated genesis.
    Genesis,
}

fn now() -> Timestamp {
    Timestamp(
        SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map(|d| d.as_millis() as u64)
            .unwrap_or(0),
    )
}

fn main() -> Result<()> {
    let cli = Cli::parse();
    let net = genesis::generate(&cli.dir, cli.validators, now())?;
    match cli.command.unwrap_or(Command::Up) {
        Command::Genesis => println!("{}", net.genesis.to_json()),
        Command::Up => up(&net)?,
    }
    Ok(())
}

fn up(net: &genesis::Network) -> Result<()> {
    let chain = net.genesis.chain_id();
    println!("chancery local network in {}", net.dir.display());
    println!("  chain id  {chain}");
    for (i, v) in net.genesis.validators.validators().iter().enumerate() {
        println!(
            "  validator {i}  {:<10} p2p {}  grpc 127.0.0.1:{}",
            v.agency.as_str(),
            v.address.as_str(),
            genesis::BASE_RPC_PORT + i as u16
        );
    }
    println!();
    println!("The validator node is not built yet: the demo workload is signed and");
    println!("checked in this process (batch signature verification under genesis keys).");
    println!();
    let steps = demo::workload(net, now(), now().0)?;
    let keys: Vec<PublicKey> = steps
        .iter()
        .map(|s| {
            net.genesis
                .agency(&s.record.record.issuer)
                .and_then(|a| {
                    a.issuer_keys
                        .iter()
                        .find(|k| k.key_id() == s.record.record.key_id)
                })
                .map(|k| k.public)
                .ok_or_else(|| {
                    anyhow::anyhow!("issuer key of {} not in genesis", s.record.record.issuer)
                })
        })
        .collect::<Result<_>>()?;
    let messages: Vec<Vec<u8>> = steps
        .iter()
        .map(|s| s.record.signing_bytes(&chain))
        .collect();
    let items: Vec<BatchItem<'_>> = steps
        .iter()
        .zip(&keys)
        .zip(&messages)
        .map(|((s, key), message)| BatchItem {
            key,
            message,
            signature: &s.record.signature,
        })
        .collect();
    let results = verify_batch(&items);
    for (step, result) in steps.iter().zip(&results) {
        let verdict = match result {
            Ok(()) => "signature ok".to_string(),
            Err(e) => format!("REJECTED: {e}"),
        };
        println!(
            "  {:<64} {}  {}",
            step.title,
            step.record.id().0.short(),
            verdict
        );
    }
    if results.iter().any(Result::is_err) {
        anyhow::bail!("a demo record failed verification");
    }
    Ok(())
}
