//! Running validator processes on this machine: start, stop (SIGTERM, then
//! SIGKILL), kill, and the pid files that let `down` find nodes that `up`
//! left running.
//!
//! ```text
//!  Cluster { net, bin } ──start(i)──► chancery-node --config <agency>/node.toml
//!                                     (own process group, log in <agency>/node.log,
//!                                      pid in <agency>/node.pid)
//!         ──client(i)──► chancery_client::Client on the node's rpc.listen
//! ```
//!
//! A `Cluster` owns the processes it started and kills them when dropped
//! (tests), unless [`Cluster::detach`] hands them over to their pid files
//! (`chancery-testnet up`).

use std::fs::{self, OpenOptions};
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use anyhow::{Context, Result, bail};
use chancery_client::Client;

use crate::genesis::Network;
use crate::proc_stat::ProcStat;

/// Finds the `chancery-node` binary: `$CHANCERY_NODE_BIN`, else next to the
/// running executable (or one directory up, for test binaries in `deps/`).
pub fn node_binary() -> Result<PathBuf> {
    if let Some(p) = std::env::var_os("CHANCERY_NODE_BIN") {
        return Ok(PathBuf::from(p));
    }
    let exe = std::env::current_exe().context("locating the running executable")?;
    let mut dir = exe.parent();
    for _ in 0..2 {
        let Some(d) = dir else { break };
        let candidate = d.join("chancery-node");
        if candidate.is_file() {
            return Ok(candidate);
        }
        dir = d.parent();
    }
    bail!(
        "chancery-node binary not found next to {}; build it (`cargo build -p chancery-node`) \
         or set CHANCERY_NODE_BIN",
        exe.display()
    )
}

/// Validator processes of one local network.
pub struct Cluster {
    /// The network's keys, genesis and directories.
    pub net: Network,
    /// The node binary.
    pub bin: PathBuf,
    children: Vec<Option<Child>>,
}

impl Cluster {
    /// A cluster of `net` with no process started yet.
    pub fn new(net: Network, bin: PathBuf) -> Self {
        let n = net.agencies.len();
        Cluster {
            net,
            bin,
            children: (0..n).map(|_| None).collect(),
        }
    }

    /// Validators in the network.
    pub fn len(&self) -> usize {
        self.children.len()
    }

    /// Whether the network has no validators.
    pub fn is_empty(&self) -> bool {
        self.children.is_empty()
    }

    fn pid_file(&self, i: usize) -> PathBuf {
        self.net.agencies[i].dir.join("node.pid")
    }

    /// The node's log file.
    pub fn log_file(&self, i: usize) -> PathBuf {
        self.net.agencies[i].dir.join("node.log")
    }

    /// The pid of validator `i` if a process started by a previous `up`
    /// is still running.
    pub fn running_pid(&self, i: usize) -> Option<u32> {
        self.pid(i).filter(|&pid| is_node_process(pid))
    }

    /// How validator `i`'s process ended, if it has: it is gone, or a
    /// zombie (exited, not yet reaped). `None` while it runs or starts,
    /// and when it was never started.
    fn ended(&self, i: usize) -> Option<String> {
        let pid = self.pid(i)?;
        match ProcStat::of(&pid.to_string()) {
            None => Some("is gone".into()),
            Some(stat) if stat.is_zombie() => {
                Some(stat.exit_description().unwrap_or_else(|| "exited".into()))
            }
            Some(_) => None,
        }
    }

    /// The process id in validator `i`'s pid file, running or not.
    fn pid(&self, i: usize) -> Option<u32> {
        fs::read_to_string(self.pid_file(i))
            .ok()?
            .trim()
            .parse()
            .ok()
    }

    /// Starts validator `i` in its own process group, logging to its
    /// `node.log`.
    pub fn start(&mut self, i: usize) -> Result<()> {
        if self.children[i].is_some() {
            bail!("validator {i} is already running");
        }
        let log = OpenOptions::new()
            .create(true)
            .append(true)
            .open(self.log_file(i))
            .with_context(|| format!("opening {}", self.log_file(i).display()))?;
        let child = Command::new(&self.bin)
            .arg("--config")
            .arg(self.net.node_config(i))
            .env("NO_COLOR", "1")
            .stdin(Stdio::null())
            .stdout(log.try_clone()?)
            .stderr(log)
            .process_group(0)
            .spawn()
            .with_context(|| format!("starting {}", self.bin.display()))?;
        fs::write(self.pid_file(i), format!("{}\n", child.id()))?;
        self.children[i] = Some(child);
        Ok(())
    }

    /// Kills validator `i` with SIGKILL (no clean shutdown) and reaps it.
    pub fn kill(&mut self, i: usize) -> Result<()> {
        if let Some(mut child) = self.children[i].take() {
            child.kill().ok();
            child.wait()?;
            let _ = fs::remove_file(self.pid_file(i));
        }
        Ok(())
    }

    /// Stops validator `i` with SIGTERM, waiting up to `grace` before SIGKILL.
    /// Returns whether it stopped cleanly (exit status 0).
    pub fn stop(&mut self, i: usize, grace: Duration) -> Result<bool> {
        let Some(mut child) = self.children[i].take() else {
            return Ok(true);
        };
        signal(child.id(), "TERM");
        let deadline = Instant::now() + grace;
        let clean = loop {
            if let Some(status) = child.try_wait()? {
                break status.success();
            }
            if Instant::now() >= deadline {
                child.kill().ok();
                child.wait()?;
                break false;
            }
            std::thread::sleep(Duration::from_millis(20));
        };
        let _ = fs::remove_file(self.pid_file(i));
        Ok(clean)
    }

    /// Whether this cluster holds a live process for validator `i`.
    pub fn is_running(&mut self, i: usize) -> bool {
        match self.children[i].as_mut() {
            Some(c) => matches!(c.try_wait(), Ok(None)),
            None => false,
        }
    }

    /// Lets the started processes outlive this value; `down` finds them
    /// through their pid files.
    pub fn detach(&mut self) {
        for c in &mut self.children {
            c.take();
        }
    }

    /// A client of validator `i`'s gRPC API.
    pub async fn client(&self, i: usize) -> Result<Client> {
        let addr = self.net.rpc_addr(i)?;
        Ok(Client::connect(&addr).await?)
    }

    /// Waits until validator `i` answers `GetStatus`.
    pub async fn wait_ready(&self, i: usize, timeout: Duration) -> Result<Client> {
        let deadline = Instant::now() + timeout;
        loop {
            let attempt = async {
                let mut c = self.client(i).await?;
                c.status().await?;
                anyhow::Ok(c)
            };
            match attempt.await {
                Ok(c) => return Ok(c),
                // A node that refused to start (a bad config, a store it
                // cannot open) says why in its log: say it now, not after
                // the timeout. (Not `running_pid`: right after the spawn
                // the new process may not show its command line yet.)
                Err(_) if let Some(how) = self.ended(i) => {
                    bail!(
                        "validator {i} {how}: {} (log: {})",
                        last_line(&self.log_file(i))
                            .unwrap_or_else(|| "it wrote nothing to its log".into()),
                        self.log_file(i).display()
                    );
                }
                Err(e) if Instant::now() >= deadline => {
                    return Err(e.context(format!(
                        "validator {i} not ready after {timeout:?} (log: {})",
                        self.log_file(i).display()
                    )));
                }
                Err(_) => tokio::time::sleep(Duration::from_millis(100)).await,
            }
        }
    }
}

impl Drop for Cluster {
    fn drop(&mut self) {
        for i in 0..self.children.len() {
            let _ = self.kill(i);
        }
    }
}

/// Stops a node left running by `up`: SIGTERM, then SIGKILL after `grace`.
/// Returns false when there was no such process.
pub fn stop_pid_file(pid_file: &Path, grace: Duration) -> Result<bool> {
    let Ok(text) = fs::read_to_string(pid_file) else {
        return Ok(false);
    };
    let _ = fs::remove_file(pid_file);
    let Ok(pid) = text.trim().parse::<u32>() else {
        return Ok(false);
    };
    if !is_node_process(pid) {
        return Ok(false);
    }
    signal(pid, "TERM");
    let deadline = Instant::now() + grace;
    while is_node_process(pid) {
        if Instant::now() >= deadline {
            signal(pid, "KILL");
            break;
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    Ok(true)
}

/// The last non-empty line of a log file.
fn last_line(path: &Path) -> Option<String> {
    let text = fs::read_to_string(path).ok()?;
    text.lines()
        .rev()
        .find(|l| !l.trim().is_empty())
        .map(str::to_string)
}

/// Whether `pid` is a live `chancery-node` (guards against pid reuse).
fn is_node_process(pid: u32) -> bool {
    let Ok(cmdline) = fs::read(format!("/proc/{pid}/cmdline")) else {
        return false;
    };
    let Some(stat) = ProcStat::of(&pid.to_string()) else {
        return false;
    };
    // A zombie (exited, not yet reaped) counts as stopped.
    !stat.is_zombie() && String::from_utf8_lossy(&cmdline).contains("chancery-node")
}

fn signal(pid: u32, sig: &str) {
    let _ = Command::new("kill")
        .arg(format!("-{sig}"))
        .arg(pid.to_string())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status();
}
