//! `chancery bench`: an open-loop load generator against a local network.
//!
//! ```text
//!  network: the one in --dir (running), or a fresh 4-validator one in a temp dir
//!  corpus:  licences pre-signed before the clock starts (signing is not timed)
//!  load:    every batch/rate seconds, one SubmitRecords(wait_for_commit) of `batch`
//!           records on the next of `connections` client connections (round robin
//!           over the validators); sends never wait for replies (open loop)
//!  latency: reply time − the batch's scheduled send time (no coordinated
//!           omission), per record, into an HDR histogram; warm-up discarded
//!  cpu:     utime + stime of the validator processes over the measured window,
//!           in all and per validator, and the load generator's own (cpu.rs)
//!  logs:    the WARN and ERROR lines the validators logged in the window (logs.rs)
//!  disk:    `sync` first, so other programs' pending writes do not land in the run
//! ```

mod cpu;
mod logs;

use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::{Context, Result, bail};
use chancery_client::Client;
use chancery_testnet::cluster::{Cluster, node_binary};
use chancery_testnet::genesis::{self, Ports};
use chancery_types::bounded::{Bytes, List, Text};
use chancery_types::{Record, RecordKind, SignedRecord, Timestamp};
use hdrhistogram::Histogram;
use serde_json::json;
use tokio::sync::Mutex;

/// `chancery bench` flags.
#[derive(Debug, clap::Args)]
pub struct BenchArgs {
    /// Offered load, records per second.
    #[arg(long, default_value_t = 2000)]
    pub rate: u64,
    /// Measured duration.
    #[arg(long, default_value = "20s", value_parser = humantime::parse_duration)]
    pub duration: Duration,
    /// Warm-up before measuring (sent, not measured).
    #[arg(long, default_value = "3s", value_parser = humantime::parse_duration)]
    pub warmup: Duration,
    /// Client connections, spread over the validators.
    #[arg(long, default_value_t = 8)]
    pub connections: usize,
    /// Records per SubmitRecords call.
    #[arg(long, default_value_t = 50)]
    pub batch: usize,
    /// A running local network's directory (`.testnet`); default: start a fresh one.
    #[arg(long)]
    pub dir: Option<PathBuf>,
    /// Stop validator 3 (SIGTERM) before measuring: the one-fault case
    /// (only with a network the bench starts itself).
    #[arg(long, conflicts_with = "dir")]
    pub stop_one: bool,
    /// Set a `node.toml` option on every validator before starting it,
    /// e.g. `--node-option block.max_delay=5ms` (repeatable; only with a
    /// network the bench starts itself).
    #[arg(long = "node-option", value_name = "KEY=VALUE", conflicts_with = "dir")]
    pub node_options: Vec<String>,
    /// Sweep: start at --rate and raise it by half each step until p99
    /// latency exceeds 10× the first step's or less than 90 % commits.
    #[arg(long)]
    pub sweep: bool,
}

/// One run's figures.
#[derive(Debug, Clone, serde::Serialize)]
pub struct Report {
    offered_per_s: u64,
    committed_per_s: f64,
    p50_ms: f64,
    p90_ms: f64,
    p99_ms: f64,
    max_ms: f64,
    cpu_us_per_record: Option<f64>,
    /// Cores each validator kept busy over the window (`None`: stopped):
    /// whether one of them (the primary, say) is the one that saturates.
    cpu_cores_by_validator: Vec<Option<f64>>,
    /// Cores the load generator itself kept busy: on a shared machine,
    /// what the validators could not use.
    client_cpu_cores: Option<f64>,
    /// Blocks committed per second over the window (heights of the first
    /// live validator): with `records_per_block`, how the load was cut.
    blocks_per_s: Option<f64>,
    /// Records committed in the window per block committed in it.
    records_per_block: Option<f64>,
    committed: u64,
    rejected: u64,
    failed: u64,
    /// What the validators logged at WARN or ERROR during the window.
    warnings: logs::Warnings,
}

/// Has the node check its configuration (`chancery-node --check`), so a
/// bad `--node-option` is reported as the node words it.
fn check_config(bin: &std::path::Path, config: &std::path::Path) -> Result<()> {
    let out = std::process::Command::new(bin)
        .arg("--config")
        .arg(config)
        .arg("--check")
        .output()?;
    if !out.status.success() {
        bail!(
            "the node refused the configuration with --node-option: {}",
            String::from_utf8_lossy(&out.stderr).trim()
        );
    }
    Ok(())
}

/// Runs the benchmark (or a sweep) and prints the table or JSON. Ctrl-C
/// or SIGTERM stops it, and with it the validators it started (they run
/// in their own process group, out of the terminal's reach): dropping
/// the measurement drops its [`Cluster`] and its temporary directory.
pub async fn bench(args: &BenchArgs, as_json: bool) -> Result<()> {
    tokio::select! {
        done = measure(args, as_json) => done,
        signal = interrupted() => {
            bail!("{signal}: the benchmark and the validators it started are stopped")
        }
    }
}

/// The first SIGINT or SIGTERM, by name.
async fn interrupted() -> &'static str {
    use tokio::signal::unix::{SignalKind, signal};
    match (
        signal(SignalKind::interrupt()),
        signal(SignalKind::terminate()),
    ) {
        (Ok(mut int), Ok(mut term)) => tokio::select! {
            _ = int.recv() => "interrupted",
            _ = term.recv() => "terminated",
        },
        // No handler: the default action (ending the process) stays.
        _ => std::future::pending().await,
    }
}

/// One line of the table on stdout; a closed stdout is an error, so
/// that the validators are stopped on the way out.
fn out(line: std::fmt::Arguments<'_>) -> Result<()> {
    use std::io::Write;
    writeln!(std::io::stdout().lock(), "{line}").context("writing the results to stdout")
}

/// Starts (or finds) the network, runs the load, prints the results.
async fn measure(args: &BenchArgs, as_json: bool) -> Result<()> {
    flush_pending_writes();
    let temp;
    let (mut cluster, started) = match &args.dir {
        Some(dir) => {
            let net = genesis::generate(dir, 4, Timestamp(crate::records::now_ms()))?;
            let c = Cluster::new(net, PathBuf::new());
            if (0..c.len()).any(|i| c.running_pid(i).is_none()) {
                bail!(
                    "the network in {} is not running (./scripts/testnet.sh)",
                    dir.display()
                );
            }
            (c, false)
        }
        None => {
            temp = tempfile::tempdir()?;
            let net = genesis::generate_on(
                temp.path(),
                4,
                Timestamp(crate::records::now_ms()),
                &Ports::free(4)?,
            )?;
            let bin = node_binary()?;
            for i in 0..net.agencies.len() {
                for option in &args.node_options {
                    chancery_testnet::options::set_option(&net.node_config(i), option)?;
                }
            }
            if !args.node_options.is_empty() {
                check_config(&bin, &net.node_config(0))?;
            }
            let mut c = Cluster::new(net, bin);
            for i in 0..c.len() {
                c.start(i)?;
            }
            (c, true)
        }
    };
    for i in 0..cluster.len() {
        cluster.wait_ready(i, Duration::from_secs(60)).await?;
    }
    if started {
        eprintln!("started 4 validators in a temporary directory");
    }
    if args.stop_one {
        cluster.stop(3, Duration::from_secs(20))?;
        // Let the others notice and settle into a view with a live primary.
        let mut c = cluster.client(0).await?;
        let h = c.status().await?.height;
        let deadline = Instant::now() + Duration::from_secs(60);
        while c.status().await?.height < h + 3 {
            anyhow::ensure!(
                Instant::now() < deadline,
                "no progress with validator 3 stopped"
            );
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        eprintln!("validator 3 stopped; measuring with 3 of 4");
    }
    let mut rate = args.rate;
    let mut reports: Vec<Report> = Vec::new();
    loop {
        let r = run_once(&cluster, args, rate).await?;
        if !as_json {
            if reports.is_empty() {
                out(format_args!(
                    "{:>9} {:>11} {:>8} {:>8} {:>8} {:>8} {:>10} {:>9} {:>7} {:>8} {:>9}",
                    "offered/s",
                    "committed/s",
                    "p50 ms",
                    "p90 ms",
                    "p99 ms",
                    "max ms",
                    "cpu µs/rec",
                    "rejected",
                    "failed",
                    "blocks/s",
                    "rec/block"
                ))?;
            }
            let or_dash = |v: Option<f64>| v.map_or("-".into(), |v| format!("{v:.0}"));
            out(format_args!(
                "{:>9} {:>11.0} {:>8.1} {:>8.1} {:>8.1} {:>8.1} {:>10} {:>9} {:>7} {:>8} {:>9}",
                r.offered_per_s,
                r.committed_per_s,
                r.p50_ms,
                r.p90_ms,
                r.p99_ms,
                r.max_ms,
                or_dash(r.cpu_us_per_record),
                r.rejected,
                r.failed,
                or_dash(r.blocks_per_s),
                or_dash(r.records_per_block),
            ))?;
            let cores = |v: Option<f64>| v.map_or("-".into(), |v| format!("{v:.2}"));
            let each: Vec<String> = r.cpu_cores_by_validator.iter().map(|v| cores(*v)).collect();
            out(format_args!(
                "{:>9} cores busy: validators {} (in validator order), load generator {}",
                "",
                each.join(" "),
                cores(r.client_cpu_cores)
            ))?;
            const SHOWN: usize = 5;
            for w in r.warnings.first.iter().take(SHOWN) {
                out(format_args!(
                    "{:>9} validator {} logged: {}",
                    "", w.validator, w.line
                ))?;
            }
            if r.warnings.total > SHOWN as u64 {
                out(format_args!(
                    "{:>9} … and {} more WARN/ERROR lines in the window (--json lists the first 20)",
                    "",
                    r.warnings.total - SHOWN as u64
                ))?;
            }
        }
        let knee = reports
            .first()
            .is_some_and(|first| r.p99_ms > 10.0 * first.p99_ms.max(1.0))
            || r.committed_per_s < 0.9 * r.offered_per_s as f64;
        reports.push(r);
        if !args.sweep || knee {
            break;
        }
        rate += rate / 2;
    }
    if as_json {
        out(format_args!(
            "{}",
            json!({ "machine_cores": std::thread::available_parallelism().map(|n| n.get()).unwrap_or(0), "runs": reports })
        ))?;
    }
    drop(cluster);
    Ok(())
}

/// Has the kernel write out every dirty page before the validators start
/// (`sync`). Otherwise what other programs wrote just before — a release
/// build writes hundreds of megabytes — is written back some 30 s later,
/// in the middle of the run, and the validators' synced writes queue
/// behind it: one forced write-back of 1.5 GB during a run at 100/s
/// stalled commits for 730 ms (docs/PERFORMANCE.md, session 16). Without
/// a `sync` command the run goes on as it is.
fn flush_pending_writes() {
    let start = Instant::now();
    let done = std::process::Command::new("sync").status();
    let took = start.elapsed();
    match done {
        Ok(s) if s.success() => {
            if took > Duration::from_millis(500) {
                eprintln!(
                    "flushed the machine's pending disk writes first ({:.1} s), so that they do not stall the run",
                    took.as_secs_f64()
                );
            }
        }
        _ => eprintln!(
            "could not flush pending disk writes (`sync`); a write-back during the run may stall commits"
        ),
    }
}

fn corpus(cluster: &Cluster, n: usize, tag: u64) -> Result<Vec<SignedRecord>> {
    let chain = cluster.net.genesis.chain_id();
    // Agencies allowed to issue driving licences in the generated genesis.
    let issuers: Vec<_> = cluster
        .net
        .agencies
        .iter()
        .filter(|a| matches!(a.id.as_str(), "transport" | "interior"))
        .collect();
    anyhow::ensure!(!issuers.is_empty(), "no agency may issue driving licences");
    let now = crate::records::now_ms();
    (0..n)
        .map(|k| {
            let a = issuers[k % issuers.len()];
            Ok(Record {
                kind: RecordKind::LicenceIssue {
                    class: Text::new("driving")?,
                    valid_from: Timestamp(now),
                    valid_until: Timestamp(now + 365 * 24 * 3600 * 1000),
                },
                issuer: a.id.clone(),
                key_id: a.issuer.public().key_id(),
                subject: Text::new(format!("BENCH-{tag}-{k}"))?,
                body: Bytes::new(br#"{"holder_ref":"0000"}"#.to_vec())?,
                references: List::default(),
                timestamp: Timestamp(now),
                nonce: k as u64,
            }
            .sign(&a.issuer, &chain))
        })
        .collect()
}

struct Tally {
    hist: Histogram<u64>,
    committed_in_window: u64,
    rejected: u64,
    failed: u64,
}

async fn run_once(cluster: &Cluster, args: &BenchArgs, rate: u64) -> Result<Report> {
    anyhow::ensure!(
        rate > 0 && args.batch > 0 && args.connections > 0,
        "rate, batch and connections must be positive"
    );
    let total_time = args.warmup + args.duration;
    let n = (rate as f64 * total_time.as_secs_f64()) as usize;
    let records = corpus(cluster, n, crate::records::now_ms())?;
    let batches: Vec<Vec<SignedRecord>> = records.chunks(args.batch).map(<[_]>::to_vec).collect();
    let mut clients = Vec::new();
    let live: Vec<usize> = (0..cluster.len())
        .filter(|&i| !(args.stop_one && i == 3))
        .collect();
    for k in 0..args.connections {
        clients.push(cluster.client(live[k % live.len()]).await?);
    }
    let tally = Arc::new(Mutex::new(Tally {
        hist: Histogram::new_with_bounds(1, 600_000_000, 3)?, // µs
        committed_in_window: 0,
        rejected: 0,
        failed: 0,
    }));
    let interval = Duration::from_secs_f64(args.batch as f64 / rate as f64);
    let start = Instant::now() + Duration::from_millis(100);
    let measure_from = start + args.warmup;
    let measure_to = measure_from + args.duration;
    let mut measuring = false;
    let mut cpu_start = None;
    let mut height_start = None;
    let mut log_marks = None;
    let mut tasks = Vec::with_capacity(batches.len());
    for (k, batch) in batches.into_iter().enumerate() {
        let due = start + interval * k as u32;
        tokio::time::sleep_until(due.into()).await;
        if !measuring && Instant::now() >= measure_from {
            measuring = true;
            cpu_start = Some(cpu::Snapshot::take(cluster));
            height_start = height(&clients[0]).await;
            log_marks = Some(logs::Marks::take(
                (0..cluster.len()).map(|i| cluster.log_file(i)).collect(),
            ));
        }
        let mut client: Client = clients[k % clients.len()].clone();
        let tally = tally.clone();
        tasks.push(tokio::spawn(async move {
            let reply = client.submit_many(&batch, true).await;
            let done = Instant::now();
            let mut t = tally.lock().await;
            match reply {
                Ok(results) => {
                    for r in results {
                        if r.code != 0 {
                            t.failed += 1;
                            continue;
                        }
                        if r.commitment
                            .as_ref()
                            .is_some_and(|c| c.result != "accepted")
                        {
                            t.rejected += 1;
                        }
                        if due >= measure_from && due < measure_to {
                            let us = done.saturating_duration_since(due).as_micros() as u64;
                            let _ = t.hist.record(us.max(1));
                        }
                        if done >= measure_from && done < measure_to {
                            t.committed_in_window += 1;
                        }
                    }
                }
                Err(_) => t.failed += batch.len() as u64,
            }
        }));
    }
    let cpu_end_at = measure_to;
    tokio::time::sleep_until(cpu_end_at.into()).await;
    let cpu_end = cpu::Snapshot::take(cluster);
    let height_end = height(&clients[0]).await;
    let warnings = log_marks.map(|m| m.since()).unwrap_or_default();
    for t in tasks {
        let _ = tokio::time::timeout(Duration::from_secs(60), t).await;
    }
    let t = tally.lock().await;
    let secs = args.duration.as_secs_f64();
    let ms = |q: f64| t.hist.value_at_quantile(q) as f64 / 1000.0;
    let cpu = cpu_start.map(|start| cpu::Usage::between(&start, &cpu_end, secs));
    Ok(Report {
        offered_per_s: rate,
        committed_per_s: t.committed_in_window as f64 / secs,
        p50_ms: ms(0.5),
        p90_ms: ms(0.9),
        p99_ms: ms(0.99),
        max_ms: t.hist.max() as f64 / 1000.0,
        cpu_us_per_record: cpu
            .as_ref()
            .and_then(|c| c.validators_seconds)
            .filter(|_| t.committed_in_window > 0)
            .map(|s| s * 1e6 / t.committed_in_window as f64),
        cpu_cores_by_validator: cpu
            .as_ref()
            .map(|c| c.cores_by_validator.clone())
            .unwrap_or_default(),
        client_cpu_cores: cpu.as_ref().and_then(|c| c.client_cores),
        blocks_per_s: match (height_start, height_end) {
            (Some(a), Some(b)) => Some(b.saturating_sub(a) as f64 / secs),
            _ => None,
        },
        records_per_block: match (height_start, height_end) {
            (Some(a), Some(b)) if b > a => Some(t.committed_in_window as f64 / (b - a) as f64),
            _ => None,
        },
        committed: t.committed_in_window,
        rejected: t.rejected,
        failed: t.failed,
        warnings,
    })
}

/// The chain height as `client`'s validator reports it (`None` if it
/// does not answer: the figure is left out, the run goes on).
async fn height(client: &Client) -> Option<u64> {
    client.clone().status().await.ok().map(|s| s.height)
}
