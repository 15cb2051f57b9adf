//! `chancery-node`: runs one validator from a TOML configuration.
//!
//! ```text
//! chancery-node --config agency/node.toml
//! ```
//!
//! Exits 0 after a clean stop on SIGINT or SIGTERM, 1 when the node
//! fails, 2 when the configuration is refused.
#![cfg_attr(
    not(test),
    deny(clippy::unwrap_used, clippy::expect_used, clippy::panic)
)]

use std::path::PathBuf;
use std::process::ExitCode;

use chancery_node::config::{LogFormat, NodeConfig};
use clap::Parser;
use tokio::sync::watch;
use tracing::{error, info};
use tracing_subscriber::EnvFilter;

/// mimalloc instead of the system allocator: a validator allocates and
/// frees a few small objects per record (decoded fields, map entries,
/// batch buffers) across threads; see docs/PERFORMANCE.md.
#[cfg(feature = "mimalloc")]
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

/// A Chancery validator node.
#[derive(Debug, Parser)]
#[command(version, about, long_about = None, after_help = "Example:\n  chancery-node --config .testnet/transport/node.toml")]
struct Args {
    /// The node's TOML configuration (paths in it are relative to the file).
    #[arg(long, short, env = "CHANCERY_CONFIG")]
    config: PathBuf,
    /// Check the configuration, keys and genesis, then exit.
    #[arg(long)]
    check: bool,
}

fn main() -> ExitCode {
    let args = Args::parse();
    let config = match NodeConfig::load(&args.config) {
        Ok(c) => c,
        Err(e) => {
            eprintln!("chancery-node: {e}");
            return ExitCode::from(2);
        }
    };
    init_tracing(&config);
    // One thread: tokio's single-threaded scheduler, which has no other
    // worker to wake or steal from (D40).
    let mut builder = match config.runtime.worker_threads {
        Some(1) => tokio::runtime::Builder::new_current_thread(),
        Some(n) => {
            let mut b = tokio::runtime::Builder::new_multi_thread();
            b.worker_threads(n);
            b
        }
        None => tokio::runtime::Builder::new_multi_thread(),
    };
    let runtime = match builder.enable_all().build() {
        Ok(r) => r,
        Err(e) => {
            error!(error = %e, "cannot start the tokio runtime");
            return ExitCode::from(1);
        }
    };
    if args.check {
        return match chancery_node::daemon::check(&config) {
            Ok(summary) => {
                println!("{summary}");
                ExitCode::SUCCESS
            }
            Err(e) => {
                eprintln!("chancery-node: {e:#}");
                ExitCode::from(2)
            }
        };
    }
    info!(
        worker_threads = runtime.metrics().num_workers(),
        "node: async runtime started"
    );
    runtime.block_on(async move {
        let (stop_tx, stop) = watch::channel(false);
        tokio::spawn(async move {
            wait_for_signal().await;
            info!("signal received; shutting down");
            let _ = stop_tx.send(true);
        });
        match chancery_node::daemon::run(config, stop).await {
            Ok(()) => ExitCode::SUCCESS,
            Err(e) => {
                error!("{e:#}");
                eprintln!("chancery-node: {e:#}");
                ExitCode::from(1)
            }
        }
    })
}

fn init_tracing(config: &NodeConfig) {
    let filter = EnvFilter::try_from_env("CHANCERY_LOG")
        .or_else(|_| EnvFilter::try_new(&config.log.level))
        .unwrap_or_else(|_| EnvFilter::new("info"));
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr);
    match config.log.format {
        LogFormat::Json => builder.json().init(),
        LogFormat::Text => builder.init(),
    }
}

async fn wait_for_signal() {
    use tokio::signal::unix::{SignalKind, signal};
    match (
        signal(SignalKind::interrupt()),
        signal(SignalKind::terminate()),
    ) {
        (Ok(mut int), Ok(mut term)) => {
            tokio::select! {
                _ = int.recv() => {}
                _ = term.recv() => {}
            }
        }
        _ => {
            let _ = tokio::signal::ctrl_c().await;
        }
    }
}
