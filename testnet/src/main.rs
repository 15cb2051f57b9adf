//! `chancery-testnet`: start, use and stop a local Chancery network.
//!
//! ```text
//! chancery-testnet up       generate keys + genesis (once), start 4 validators,
//!                           run the demo workload over gRPC
//! chancery-testnet status   each validator's height and peers
//! chancery-testnet down     stop the validators (data stays in .testnet/)
//! ```
#![cfg_attr(
    not(test),
    deny(clippy::unwrap_used, clippy::expect_used, clippy::panic)
)]

use std::path::PathBuf;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use anyhow::{Context, Result, bail};
use chancery_testnet::cluster::{Cluster, node_binary, stop_pid_file};
use chancery_testnet::{demo, genesis};
use chancery_types::*;
use clap::{Parser, Subcommand};

/// Start, use and stop a Chancery network on this machine.
#[derive(Parser)]
#[command(
    version,
    about,
    after_help = "Examples:\n  chancery-testnet up\n  chancery-testnet status\n  chancery-testnet down"
)]
struct Cli {
    /// Where the network's keys, genesis and data live.
    #[arg(long, default_value = ".testnet", global = true)]
    dir: PathBuf,
    /// Number of validators (one agency each) when generating the network.
    #[arg(long, default_value_t = 4, global = true)]
    validators: usize,
    #[command(subcommand)]
    command: Option<Cmd>,
}

#[derive(Subcommand)]
enum Cmd {
    /// Start the validators (generating the network first if needed) and run the demo.
    Up {
        /// Start the network but skip the demo workload.
        #[arg(long)]
        no_demo: bool,
    },
    /// Stop the validators started by `up`; their data stays.
    Down,
    /// Print each validator's status.
    Status,
    /// Print the genesis.
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
    // `chancery-testnet status | head` ends quietly, not with a panic.
    sigpipe::reset();
    let cli = Cli::parse();
    let net = genesis::generate(&cli.dir, cli.validators, now())?;
    let rt = tokio::runtime::Runtime::new()?;
    match cli.command.unwrap_or(Cmd::Up { no_demo: false }) {
        Cmd::Genesis => println!("{}", net.genesis.to_json()),
        Cmd::Up { no_demo } => rt.block_on(up(net, !no_demo))?,
        Cmd::Down => down(&net)?,
        Cmd::Status => rt.block_on(status(Cluster::new(net, PathBuf::new())))?,
    }
    Ok(())
}

async fn up(net: genesis::Network, run_demo: bool) -> Result<()> {
    let bin = node_binary()?;
    let mut cluster = Cluster::new(net, bin);
    let n = cluster.len();
    println!("chancery local network in {}", cluster.net.dir.display());
    println!("  chain id  {}", cluster.net.genesis.chain_id());
    for i in 0..n {
        if let Some(pid) = cluster.running_pid(i) {
            println!("  validator {i} already running (pid {pid})");
            continue;
        }
        cluster.start(i)?;
    }
    // From here on the nodes outlive this command, even if the demo fails.
    let result = show_and_demo(&cluster, run_demo).await;
    cluster.detach();
    println!();
    println!(
        "Stop the network with `./scripts/testnet.sh down` (data stays in {}).",
        cluster.net.dir.display()
    );
    result
}

async fn show_and_demo(cluster: &Cluster, run_demo: bool) -> Result<()> {
    let n = cluster.len();
    let mut clients = Vec::new();
    for i in 0..n {
        clients.push(cluster.wait_ready(i, Duration::from_secs(60)).await?);
    }
    println!();
    for (i, v) in cluster
        .net
        .genesis
        .validators
        .validators()
        .iter()
        .enumerate()
    {
        println!(
            "  validator {i}  {:<10} grpc {:<16} p2p {}  log {}",
            v.agency.as_str(),
            cluster.net.rpc_addr(i)?,
            v.address.as_str(),
            cluster.log_file(i).display()
        );
    }
    // Wait for the validators to find each other and commit a new block.
    let start = clients[0].status().await?.height;
    let deadline = std::time::Instant::now() + Duration::from_secs(60);
    loop {
        let s = clients[0].status().await?;
        if s.height > start && s.connected_peers as usize + 1 == n {
            println!(
                "\n  network is up: height {}, {} validators connected",
                s.height, n
            );
            break;
        }
        if std::time::Instant::now() >= deadline {
            bail!("the validators did not start committing within 60 s; see the node logs");
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    if !run_demo {
        return Ok(());
    }
    println!(
        "\nDemo workload (each record submitted to a different validator, waiting for its commit):"
    );
    let t = now();
    let steps = demo::workload(&cluster.net, t, t.0)?;
    let mut ids = Vec::new();
    for (k, step) in steps.iter().enumerate() {
        let via = k % n;
        let done = clients[via]
            .submit(&step.record, true)
            .await
            .with_context(|| format!("submitting `{}`", step.title))?;
        let c = done.commitment.context("no commitment in the reply")?;
        println!(
            "  height {:>5}  {:<9} via {:<10} {}  {}",
            c.height,
            c.result,
            cluster.net.genesis.validators.validators()[via]
                .agency
                .as_str(),
            done.id.0.short(),
            step.title
        );
        ids.push(done.id);
    }
    // Read back the revoked licence, and prove the access log offline.
    let revoked = ids[ids.len() - 1];
    // Another validator may commit the block a moment later than the one
    // that answered the submission.
    let deadline = std::time::Instant::now() + Duration::from_secs(10);
    let r = loop {
        match clients[n - 1].record(&revoked).await {
            Err(e)
                if e.code() == Some(chancery_client::Code::NotFound)
                    && std::time::Instant::now() < deadline =>
            {
                tokio::time::sleep(Duration::from_millis(20)).await
            }
            other => break other?,
        }
    };
    println!(
        "\n  licence status after the revocation (read from validator {}): {}",
        n - 1,
        r.status
    );
    // The proof comes from the validator just read, which holds the record.
    let bundle = clients[n - 1]
        .proof_when_ready(&revoked, Duration::from_secs(30))
        .await?;
    let proven = bundle.verify(&cluster.net.genesis)?;
    let state = match &proven.status {
        Some((h, Some(chancery_types::state_proof::Status::Licence(l)))) => {
            format!("licence {:?} as of height {h}", l.state).to_lowercase()
        }
        _ => "no status in the bundle".to_owned(),
    };
    println!(
        "  proof of the revocation verified offline against genesis.json: committed at height {}, \
         certified at {} by {}; {state}",
        proven.height,
        proven.certified_height,
        proven
            .signers
            .iter()
            .map(|a| a.as_str())
            .collect::<Vec<_>>()
            .join(", ")
    );
    Ok(())
}

async fn status(cluster: Cluster) -> Result<()> {
    for i in 0..cluster.len() {
        let addr = cluster.net.rpc_addr(i)?;
        let line = match cluster.client(i).await {
            Ok(mut c) => match c.status().await {
                Ok(s) => format!(
                    "height {:>6}  head {}  peers {}/{}  records {}  view {} (primary {}{})  waiting {}",
                    s.height,
                    &s.head_hash[..12.min(s.head_hash.len())],
                    s.connected_peers,
                    s.validators.saturating_sub(1),
                    s.log_size,
                    s.view,
                    s.primary_index,
                    if s.suspects_primary {
                        ", suspected"
                    } else {
                        ""
                    },
                    s.records_waiting
                ),
                Err(e) => format!("error: {e}"),
            },
            Err(_) => "not running".to_owned(),
        };
        println!("  validator {i}  {addr:<16} {line}");
    }
    Ok(())
}

fn down(net: &genesis::Network) -> Result<()> {
    for (i, a) in net.agencies.iter().enumerate() {
        let stopped = stop_pid_file(&a.dir.join("node.pid"), Duration::from_secs(20))?;
        println!(
            "  validator {i} {:<10} {}",
            a.id.as_str(),
            if stopped {
                "stopped"
            } else {
                "was not running"
            }
        );
    }
    Ok(())
}
