//! # chancery-tests
//!
//! End-to-end tests that start real `chancery-node` processes on loopback
//! (`tests/network.rs`), and the harness they share:
//!
//! ```text
//!  TestNet::start(n, tuning) ──► tempdir: keys, genesis, node.toml (free ports)
//!                               └─ Cluster: chancery-node processes
//!  licences(...) ──► signed records      wait_committed(node, ids) ──► GetRecord
//!  same_chain(nodes) ──► GetBlock on each node: equal hashes, certificates verify
//! ```
//!
//! The node binary is found next to the test executable (`cargo test
//! --workspace` builds it) or through `$CHANCERY_NODE_BIN`.

use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use anyhow::{Context, Result, bail};
use chancery_client::{Client, Code};
use chancery_testnet::cluster::{Cluster, node_binary};
use chancery_testnet::genesis::{self, Ports};
use chancery_types::bounded::{Bytes, List, Text};
use chancery_types::*;
use tokio::sync::{Mutex, MutexGuard};

/// Node processes compete for two cores: one network at a time. (An
/// async mutex: each test has its own runtime, and holds the guard across
/// awaits.)
pub async fn serial() -> MutexGuard<'static, ()> {
    static LOCK: Mutex<()> = Mutex::const_new(());
    LOCK.lock().await
}

/// Milliseconds since the Unix epoch.
pub fn now_ms() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_millis() as u64)
        .unwrap_or(0)
}

/// A local network in a temporary directory.
pub struct TestNet {
    /// The processes.
    pub cluster: Cluster,
    _dir: tempfile::TempDir,
}

impl TestNet {
    /// Generates an `n`-validator network on free ports, applies `tuning`
    /// (`(from, to)` text replacements in every `node.toml`), and starts
    /// the validators listed in `running`.
    pub async fn start(n: usize, running: &[usize], tuning: &[(&str, &str)]) -> Result<Self> {
        Self::start_with(n, running, tuning, |_| Ok(())).await
    }

    /// Like [`TestNet::start`], with `edit` applied to the genesis first
    /// (e.g. to leave an agency's node out of the first validator set).
    pub async fn start_with(
        n: usize,
        running: &[usize],
        tuning: &[(&str, &str)],
        edit: impl FnOnce(&mut Genesis) -> Result<()>,
    ) -> Result<Self> {
        let dir = tempfile::tempdir()?;
        let mut net = genesis::generate_on(dir.path(), n, Timestamp(now_ms()), &Ports::free(n)?)?;
        edit(&mut net.genesis)?;
        net.genesis.validate()?;
        std::fs::write(
            dir.path().join("genesis.json"),
            net.genesis.to_json() + "\n",
        )?;
        for i in 0..n {
            let path = net.node_config(i);
            let mut text = std::fs::read_to_string(&path)?;
            for (from, to) in tuning {
                if !text.contains(from) {
                    bail!("node.toml has no `{from}` to tune");
                }
                text = text.replace(from, to);
            }
            std::fs::write(&path, text)?;
        }
        let mut cluster = Cluster::new(net, node_binary()?);
        for &i in running {
            cluster.start(i)?;
        }
        let t = TestNet { cluster, _dir: dir };
        for &i in running {
            t.cluster.wait_ready(i, Duration::from_secs(60)).await?;
        }
        Ok(t)
    }

    /// The genesis.
    pub fn genesis(&self) -> &Genesis {
        &self.cluster.net.genesis
    }

    /// A client of validator `i`.
    pub async fn client(&self, i: usize) -> Result<Client> {
        self.cluster.client(i).await
    }

    /// Validator `i`'s committed height.
    pub async fn height(&self, i: usize) -> Result<u64> {
        Ok(self.client(i).await?.status().await?.height)
    }

    /// `count` new driving licences issued by validator `agency`'s agency,
    /// with subjects `<tag>-<k>`.
    pub fn licences(&self, agency: usize, tag: &str, count: usize) -> Result<Vec<SignedRecord>> {
        let a = &self.cluster.net.agencies[agency];
        let chain = self.genesis().chain_id();
        // A class the agency may issue ("*" allows any).
        let class = self
            .genesis()
            .policy
            .permissions
            .iter()
            .find(|p| p.agency == a.id)
            .and_then(|p| p.licence_classes.first())
            .map(|c| c.as_str().replace('*', "driving"))
            .with_context(|| format!("agency {} may not issue licences", a.id))?;
        let now = now_ms();
        (0..count)
            .map(|k| {
                Ok(Record {
                    kind: RecordKind::LicenceIssue {
                        class: Text::new(class.clone())?,
                        valid_from: Timestamp(now),
                        valid_until: Timestamp(now + 365 * 24 * 3600 * 1000),
                    },
                    issuer: a.id.clone(),
                    key_id: a.issuer.public().key_id(),
                    subject: Text::new(format!("{tag}-{k}"))?,
                    body: Bytes::new(b"{}".to_vec())?,
                    references: List::default(),
                    timestamp: Timestamp(now),
                    nonce: k as u64,
                }
                .sign(&a.issuer, &chain))
            })
            .collect()
    }

    /// Waits until validator `i` has committed height `h`.
    pub async fn wait_height(&self, i: usize, h: u64, timeout: Duration) -> Result<u64> {
        let deadline = Instant::now() + timeout;
        loop {
            if let Ok(now) = self.height(i).await
                && now >= h
            {
                return Ok(now);
            }
            if Instant::now() >= deadline {
                bail!("validator {i} did not reach height {h} within {timeout:?}");
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    /// Waits until validator `i` has committed every record in `ids`.
    pub async fn wait_committed(
        &self,
        i: usize,
        ids: &[RecordId],
        timeout: Duration,
    ) -> Result<()> {
        let deadline = Instant::now() + timeout;
        let mut client = self.client(i).await?;
        let mut k = 0;
        while k < ids.len() {
            match client.record(&ids[k]).await {
                Ok(_) => k += 1,
                Err(e) if e.code() == Some(Code::NotFound) => {
                    if Instant::now() >= deadline {
                        bail!(
                            "validator {i}: record {} ({} of {}) not committed within {timeout:?}",
                            ids[k],
                            k + 1,
                            ids.len()
                        );
                    }
                    tokio::time::sleep(Duration::from_millis(50)).await;
                }
                Err(e) => return Err(e).context(format!("validator {i}: reading {}", ids[k])),
            }
        }
        Ok(())
    }

    /// Checks that `nodes` hold the same certified blocks at heights
    /// `1..=upto`, each certificate valid for the genesis validator set.
    /// Waits (up to 30 s) for a validator that has not committed `upto` yet:
    /// a record's commit at one validator says nothing of the others.
    pub async fn same_chain(&self, nodes: &[usize], upto: u64) -> Result<()> {
        let g = self.genesis();
        let chain = g.chain_id();
        let mut clients = Vec::new();
        for &i in nodes {
            self.wait_height(i, upto, Duration::from_secs(30)).await?;
            clients.push((i, self.client(i).await?));
        }
        for h in 1..=upto {
            let mut first: Option<Hash> = None;
            for (i, c) in clients.iter_mut() {
                let (block, cert) = c
                    .block(h)
                    .await
                    .with_context(|| format!("validator {i}, height {h}"))?;
                let hash = block.header.hash();
                cert.verify_for(&hash, &g.validators, &chain)
                    .with_context(|| format!("validator {i}, height {h}: certificate"))?;
                match first {
                    None => first = Some(hash),
                    Some(f) if f != hash => {
                        bail!("height {h}: validator {i} has block {hash}, others {f}")
                    }
                    Some(_) => {}
                }
            }
        }
        Ok(())
    }
}

/// Submits `records` round-robin to the validators in `via`, without
/// waiting for commits; returns the acknowledged ids.
pub async fn submit_round_robin(
    net: &TestNet,
    via: &[usize],
    records: &[SignedRecord],
) -> Result<Vec<RecordId>> {
    let mut clients = Vec::new();
    for &i in via {
        clients.push(net.client(i).await?);
    }
    let mut ids = Vec::with_capacity(records.len());
    for (k, r) in records.iter().enumerate() {
        let c = &mut clients[k % via.len()];
        ids.push(
            c.submit(r, false)
                .await
                .with_context(|| format!("record {k}"))?
                .id,
        );
    }
    Ok(ids)
}

/// The `chancery` CLI binary, next to the node binary.
pub fn chancery_cli() -> Result<std::path::PathBuf> {
    let path = node_binary()?.with_file_name("chancery");
    if !path.is_file() {
        bail!("{} not built (cargo build -p chancery-cli)", path.display());
    }
    Ok(path)
}

/// Runs `chancery ARGS`: exit code, stdout, stderr.
pub fn run_cli(args: &[&str]) -> Result<(i32, String, String)> {
    let out = std::process::Command::new(chancery_cli()?)
        .args(args)
        .output()
        .context("running chancery")?;
    Ok((
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    ))
}
