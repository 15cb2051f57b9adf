//! The node's TOML configuration: serde structs with defaults,
//! human-readable durations and sizes in plain numbers, and `validate()`
//! returning a typed error that names the bad key.
//!
//! ```toml
//! data_dir = "data"              # relative paths are relative to this file
//! genesis = "../genesis.json"
//! consensus_key = "consensus.key"
//! network_key = "network.key"
//!
//! [p2p]
//! listen = "/ip4/127.0.0.1/tcp/27100"
//!
//! [rpc]
//! listen = "127.0.0.1:27200"
//!
//! [mempool]
//! regossip_after = "3s"          # send records still waiting again
//!
//! [block]
//! max_records = 2000
//! max_delay = "20ms"
//! eager = true                   # propose at once when nothing is in flight
//! certify_interval = "100ms"     # empty blocks that certify recent results
//! idle_interval = "250ms"        # empty blocks when there is nothing at all
//!
//! [consensus]
//! base_timeout = "1s"            # first view-change timeout
//! request_timeout = "15s"        # suspect a primary that leaves a record out
//!                                # (longer than 4 × mempool.regossip_after)
//!
//! [runtime]
//! worker_threads = 1             # leave out for one per CPU core (D40)
//!
//! [log]
//! level = "info"
//! format = "text"                # or "json"
//! ```

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::time::Duration;

use serde::{Deserialize, Serialize};

/// Everything a validator node needs to start.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NodeConfig {
    /// Where the ledger and consensus state live.
    pub data_dir: PathBuf,
    /// The genesis file.
    pub genesis: PathBuf,
    /// Secret key signing consensus messages (mode 0600).
    pub consensus_key: PathBuf,
    /// Secret key of the libp2p identity (mode 0600).
    pub network_key: PathBuf,
    /// Peer-to-peer networking.
    #[serde(default)]
    pub p2p: P2pConfig,
    /// The gRPC API.
    #[serde(default)]
    pub rpc: RpcConfig,
    /// Admission of records before consensus.
    #[serde(default)]
    pub mempool: MempoolConfig,
    /// How blocks are cut.
    #[serde(default)]
    pub block: BlockConfig,
    /// Consensus timing.
    #[serde(default)]
    pub consensus: ConsensusConfig,
    /// The async runtime's threads.
    #[serde(default)]
    pub runtime: RuntimeConfig,
    /// Logging.
    #[serde(default)]
    pub log: LogConfig,
}

/// Peer-to-peer settings.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct P2pConfig {
    /// Multiaddr to listen on.
    pub listen: String,
    /// Largest message accepted from a peer, in bytes.
    pub max_message_bytes: usize,
    /// Connections allowed per peer.
    pub max_connections_per_peer: u32,
    /// Delay before redialling a validator that is unreachable.
    #[serde(with = "humantime_serde")]
    pub redial_interval: Duration,
}

impl Default for P2pConfig {
    fn default() -> Self {
        P2pConfig {
            listen: "/ip4/127.0.0.1/tcp/27100".into(),
            max_message_bytes: 64 * 1024 * 1024,
            max_connections_per_peer: 2,
            redial_interval: Duration::from_millis(500),
        }
    }
}

/// gRPC settings.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct RpcConfig {
    /// Address to serve on.
    pub listen: SocketAddr,
    /// Largest request accepted, in bytes. (`PayloadService` always admits
    /// requests carrying the largest payload, `limits::MAX_PAYLOAD`.)
    pub max_message_bytes: usize,
    /// Concurrent streams per connection.
    pub max_concurrent_streams: u32,
    /// How long `SubmitRecord` with `wait_for_commit` waits for the commit.
    #[serde(with = "humantime_serde")]
    pub commit_timeout: Duration,
}

impl Default for RpcConfig {
    fn default() -> Self {
        RpcConfig {
            listen: SocketAddr::from(([127, 0, 0, 1], 27200)),
            max_message_bytes: 16 * 1024 * 1024,
            max_concurrent_streams: 256,
            commit_timeout: Duration::from_secs(30),
        }
    }
}

/// Mempool bounds. Beyond them clients get RESOURCE_EXHAUSTED.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct MempoolConfig {
    /// Records waiting for a block, at most.
    pub max_records: usize,
    /// Bytes of records waiting, at most.
    pub max_bytes: usize,
    /// Client submissions are refused (RESOURCE_EXHAUSTED) while more
    /// records wait than the network's peak commit rate clears in this
    /// long (at least two full blocks; see ARCHITECTURE.md D33).
    #[serde(with = "humantime_serde")]
    pub max_backlog: Duration,
    /// Records a client submitted to this node that still wait this long
    /// after they were admitted (or last sent) are sent to the other
    /// validators again, and records a peer gossiped after four times
    /// this long: a gossip frame lost while a peer was unreachable or
    /// restarting must not leave them waiting for a primary that never
    /// received them (ARCHITECTURE.md D43).
    #[serde(with = "humantime_serde")]
    pub regossip_after: Duration,
}

impl Default for MempoolConfig {
    fn default() -> Self {
        MempoolConfig {
            max_records: 200_000,
            max_bytes: 256 * 1024 * 1024,
            max_backlog: Duration::from_millis(500),
            regossip_after: Duration::from_secs(3),
        }
    }
}

/// Block cutting: a block is proposed when it is full or the delay passed.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct BlockConfig {
    /// Records per block, at most.
    pub max_records: usize,
    /// How long a primary waits for records before proposing a partial block.
    #[serde(with = "humantime_serde")]
    pub max_delay: Duration,
    /// Propose waiting records at once when none of this primary's blocks
    /// is in flight, instead of waiting `max_delay` (lower latency below
    /// saturation, for more, smaller blocks; see ARCHITECTURE.md D23).
    pub eager: bool,
    /// With no records waiting but the results of a recent block still to
    /// certify (a block with records among the last `execution_lag`
    /// heights), how often the primary proposes the (empty) blocks whose
    /// headers certify them. A record's proof is ready about
    /// `execution_lag` of these after it commits, so a shorter interval
    /// makes proofs ready sooner, for more blocks at light load (D39).
    /// Between `max_delay` and `idle_interval`.
    #[serde(with = "humantime_serde")]
    pub certify_interval: Duration,
    /// With nothing to order or certify, how often the primary still
    /// proposes an (empty) block, so backups see it is alive. Must be
    /// under half of `consensus.base_timeout`.
    #[serde(with = "humantime_serde")]
    pub idle_interval: Duration,
}

impl Default for BlockConfig {
    fn default() -> Self {
        BlockConfig {
            max_records: 2_000,
            max_delay: Duration::from_millis(20),
            eager: true,
            certify_interval: Duration::from_millis(100),
            idle_interval: Duration::from_millis(250),
        }
    }
}

/// Consensus timing.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct ConsensusConfig {
    /// First view-change timeout.
    #[serde(with = "humantime_serde")]
    pub base_timeout: Duration,
    /// Timeouts double per failed view up to this.
    #[serde(with = "humantime_serde")]
    pub max_timeout: Duration,
    /// PBFT's request timer: a backup holding a record that has waited
    /// this long in one view without the primary proposing it suspects
    /// the primary; f+1 suspicions change the view (ARCHITECTURE.md D44).
    /// Longer than four `mempool.regossip_after`, so that a record whose
    /// first gossip the primary missed has been sent to it again first.
    #[serde(with = "humantime_serde")]
    pub request_timeout: Duration,
}

impl Default for ConsensusConfig {
    fn default() -> Self {
        ConsensusConfig {
            base_timeout: Duration::from_secs(1),
            max_timeout: Duration::from_secs(30),
            request_timeout: Duration::from_secs(15),
        }
    }
}

/// Most worker threads `runtime.worker_threads` may ask for.
pub const MAX_WORKER_THREADS: usize = 256;

/// The async runtime.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct RuntimeConfig {
    /// Threads running the node's tasks (consensus, networking, the API).
    /// Left out: one per CPU core, for a validator with the machine to
    /// itself. Validators sharing a machine do better with the cores
    /// divided between them: every thread that waits for work is woken
    /// and put back to sleep for each message, and on a crowded machine
    /// those switches cost more than the parallelism gives (D40). The
    /// local network sets it that way. One thread runs tokio's
    /// single-threaded scheduler.
    pub worker_threads: Option<usize>,
}

/// Log output format.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "lowercase")]
pub enum LogFormat {
    /// Human-readable lines.
    #[default]
    Text,
    /// One JSON object per line.
    Json,
}

/// Logging.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct LogConfig {
    /// A tracing filter: `info`, `chancery_node=debug,info`, ...
    pub level: String,
    /// Text or JSON.
    pub format: LogFormat,
}

impl Default for LogConfig {
    fn default() -> Self {
        LogConfig {
            level: "info".into(),
            format: LogFormat::Text,
        }
    }
}

/// What is wrong with a configuration. Every variant names the key or file.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    /// The file could not be read.
    #[error("config file {path}: {source}")]
    Read {
        /// The file.
        path: PathBuf,
        /// Why.
        source: std::io::Error,
    },
    /// Not valid TOML for this schema (the message names key and line).
    #[error("config file {path}: {message}")]
    Parse {
        /// The file.
        path: PathBuf,
        /// The parser's description, with the key and position.
        message: String,
    },
    /// A value out of range.
    #[error("config key `{key}`: {problem}")]
    Invalid {
        /// Dotted key, e.g. `block.max_records`.
        key: &'static str,
        /// What is wrong.
        problem: String,
    },
}

impl NodeConfig {
    /// Reads, parses, resolves relative paths against the file's directory,
    /// and validates.
    pub fn load(path: &Path) -> Result<Self, ConfigError> {
        let text = std::fs::read_to_string(path).map_err(|source| ConfigError::Read {
            path: path.to_owned(),
            source,
        })?;
        let mut cfg = Self::parse(&text).map_err(|e| match e {
            ConfigError::Parse { message, .. } => ConfigError::Parse {
                path: path.to_owned(),
                message,
            },
            other => other,
        })?;
        let base = path.parent().unwrap_or(Path::new("."));
        for p in [
            &mut cfg.data_dir,
            &mut cfg.genesis,
            &mut cfg.consensus_key,
            &mut cfg.network_key,
        ] {
            if p.is_relative() {
                *p = base.join(&*p);
            }
        }
        Ok(cfg)
    }

    /// Parses and validates TOML text (paths are left as written).
    pub fn parse(text: &str) -> Result<Self, ConfigError> {
        let cfg: NodeConfig = toml::from_str(text).map_err(|e| ConfigError::Parse {
            path: PathBuf::from("<text>"),
            message: e.to_string(),
        })?;
        cfg.validate()?;
        Ok(cfg)
    }

    /// Checks ranges and cross-field rules.
    pub fn validate(&self) -> Result<(), ConfigError> {
        let invalid = |key, problem: &str| ConfigError::Invalid {
            key,
            problem: problem.to_string(),
        };
        if !self.p2p.listen.starts_with('/') {
            return Err(invalid(
                "p2p.listen",
                "must be a multiaddr such as /ip4/127.0.0.1/tcp/27100",
            ));
        }
        if self.p2p.max_message_bytes < 1024 {
            return Err(invalid("p2p.max_message_bytes", "must be at least 1024"));
        }
        if self.p2p.max_connections_per_peer == 0 {
            return Err(invalid(
                "p2p.max_connections_per_peer",
                "must be at least 1",
            ));
        }
        if self.rpc.max_message_bytes < 1024 {
            return Err(invalid("rpc.max_message_bytes", "must be at least 1024"));
        }
        if self.mempool.max_records == 0 {
            return Err(invalid("mempool.max_records", "must be at least 1"));
        }
        if self.mempool.max_backlog.is_zero() {
            return Err(invalid("mempool.max_backlog", "must be more than zero"));
        }
        if self.mempool.regossip_after < Duration::from_millis(100) {
            return Err(invalid("mempool.regossip_after", "must be at least 100ms"));
        }
        if self.block.max_records == 0
            || self.block.max_records > chancery_types::limits::MAX_BLOCK_RECORDS
        {
            return Err(ConfigError::Invalid {
                key: "block.max_records",
                problem: format!(
                    "must be between 1 and {}",
                    chancery_types::limits::MAX_BLOCK_RECORDS
                ),
            });
        }
        if self.block.max_delay.is_zero() {
            return Err(invalid("block.max_delay", "must be more than zero"));
        }
        if self.block.idle_interval < self.block.max_delay
            || self.block.idle_interval * 2 >= self.consensus.base_timeout
        {
            return Err(invalid(
                "block.idle_interval",
                "must be at least block.max_delay and under half of consensus.base_timeout",
            ));
        }
        if self.block.certify_interval < self.block.max_delay
            || self.block.certify_interval > self.block.idle_interval
        {
            return Err(invalid(
                "block.certify_interval",
                "must be at least block.max_delay and at most block.idle_interval",
            ));
        }
        if self.rpc.commit_timeout.is_zero() {
            return Err(invalid("rpc.commit_timeout", "must be more than zero"));
        }
        if self.consensus.base_timeout.is_zero() {
            return Err(invalid("consensus.base_timeout", "must be more than zero"));
        }
        if self.consensus.request_timeout < Duration::from_secs(1) {
            return Err(invalid("consensus.request_timeout", "must be at least 1s"));
        }
        let regossiped = self.mempool.regossip_after * 4;
        if self.consensus.request_timeout <= regossiped {
            // A record a peer gossiped is sent again after four
            // `regossip_after`; suspecting before then deposes a primary
            // that only missed the first gossip of a stopped submitter (D44).
            return Err(ConfigError::Invalid {
                key: "consensus.request_timeout",
                problem: format!(
                    "must be longer than 4 × mempool.regossip_after ({}), so that a record \
                     reaches the primary again before the backups suspect it; \
                     lower mempool.regossip_after too",
                    humantime::format_duration(regossiped)
                ),
            });
        }
        if self.consensus.max_timeout < self.consensus.base_timeout {
            return Err(invalid(
                "consensus.max_timeout",
                "must be at least consensus.base_timeout",
            ));
        }
        if let Some(n) = self.runtime.worker_threads
            && !(1..=MAX_WORKER_THREADS).contains(&n)
        {
            return Err(ConfigError::Invalid {
                key: "runtime.worker_threads",
                problem: format!(
                    "must be between 1 and {MAX_WORKER_THREADS} (leave it out for one per CPU core)"
                ),
            });
        }
        if tracing_subscriber::EnvFilter::try_new(&self.log.level).is_err() {
            return Err(invalid(
                "log.level",
                "not a tracing filter (try `info` or `chancery_node=debug,info`)",
            ));
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const MINIMAL: &str = r#"
data_dir = "data"
genesis = "genesis.json"
consensus_key = "consensus.key"
network_key = "network.key"
"#;

    #[test]
    fn minimal_config_gets_defaults() {
        let c = NodeConfig::parse(MINIMAL).unwrap();
        assert_eq!(c.block.max_delay, Duration::from_millis(20));
        assert!(c.block.eager);
        assert_eq!(c.log.format, LogFormat::Text);
        assert_eq!(c.rpc.listen.port(), 27200);
    }

    #[test]
    fn durations_are_human_readable() {
        let c = NodeConfig::parse(&format!(
            "{MINIMAL}\n[block]\nmax_delay = \"5ms\"\n[consensus]\nbase_timeout = \"1s 500ms\"\n"
        ))
        .unwrap();
        assert_eq!(c.block.max_delay, Duration::from_millis(5));
        assert_eq!(c.consensus.base_timeout, Duration::from_millis(1500));
        let c =
            NodeConfig::parse(&format!("{MINIMAL}\n[mempool]\nmax_backlog = \"2s\"\n")).unwrap();
        assert_eq!(c.mempool.max_backlog, Duration::from_secs(2));
        assert_eq!(
            NodeConfig::parse(MINIMAL).unwrap().mempool.max_backlog,
            Duration::from_millis(500)
        );
        let c = NodeConfig::parse(&format!(
            "{MINIMAL}\n[consensus]\nrequest_timeout = \"1m\"\n"
        ))
        .unwrap();
        assert_eq!(c.consensus.request_timeout, Duration::from_secs(60));
        assert_eq!(
            NodeConfig::parse(MINIMAL)
                .unwrap()
                .consensus
                .request_timeout,
            Duration::from_secs(15)
        );
        let c =
            NodeConfig::parse(&format!("{MINIMAL}\n[mempool]\nregossip_after = \"1s\"\n")).unwrap();
        assert_eq!(c.mempool.regossip_after, Duration::from_secs(1));
        // A shorter request timer needs a shorter regossip interval.
        let c = NodeConfig::parse(&format!(
            "{MINIMAL}\n[mempool]\nregossip_after = \"400ms\"\n[consensus]\nrequest_timeout = \"2s\"\n"
        ))
        .unwrap();
        assert_eq!(c.consensus.request_timeout, Duration::from_secs(2));
        let err = NodeConfig::parse(&format!(
            "{MINIMAL}\n[mempool]\nregossip_after = \"1s\"\n[consensus]\nrequest_timeout = \"4s\"\n"
        ))
        .unwrap_err()
        .to_string();
        assert!(err.contains("4 × mempool.regossip_after (4s)"), "{err}");
        assert_eq!(
            NodeConfig::parse(MINIMAL).unwrap().mempool.regossip_after,
            Duration::from_secs(3)
        );
    }

    #[test]
    fn eager_proposals_can_be_turned_off() {
        let c = NodeConfig::parse(&format!("{MINIMAL}\n[block]\neager = false\n")).unwrap();
        assert!(!c.block.eager);
        let err = NodeConfig::parse(&format!("{MINIMAL}\n[block]\neager = \"no\"\n")).unwrap_err();
        assert!(err.to_string().contains("eager"), "{err}");
    }

    /// Certifying blocks default to every 100 ms, and the interval must
    /// lie between `max_delay` and `idle_interval`.
    #[test]
    fn certify_interval_defaults_and_is_bounded() {
        let c = NodeConfig::parse(MINIMAL).unwrap();
        assert_eq!(c.block.certify_interval, Duration::from_millis(100));
        let c = NodeConfig::parse(&format!(
            "{MINIMAL}\n[block]\ncertify_interval = \"40ms\"\n"
        ))
        .unwrap();
        assert_eq!(c.block.certify_interval, Duration::from_millis(40));
        for bad in ["5ms", "300ms"] {
            let err = NodeConfig::parse(&format!(
                "{MINIMAL}\n[block]\ncertify_interval = \"{bad}\"\n"
            ))
            .unwrap_err()
            .to_string();
            assert!(err.contains("block.certify_interval"), "{bad}: {err}");
        }
        // Lowering idle_interval below it needs certify_interval lowered too.
        let err = NodeConfig::parse(&format!("{MINIMAL}\n[block]\nidle_interval = \"50ms\"\n"))
            .unwrap_err()
            .to_string();
        assert!(err.contains("block.certify_interval"), "{err}");
    }

    #[test]
    fn worker_threads_default_to_the_cores_and_are_bounded() {
        assert_eq!(
            NodeConfig::parse(MINIMAL).unwrap().runtime.worker_threads,
            None
        );
        let c = NodeConfig::parse(&format!("{MINIMAL}\n[runtime]\nworker_threads = 1\n")).unwrap();
        assert_eq!(c.runtime.worker_threads, Some(1));
        for bad in ["0", "257"] {
            let err = NodeConfig::parse(&format!("{MINIMAL}\n[runtime]\nworker_threads = {bad}\n"))
                .unwrap_err()
                .to_string();
            assert!(err.contains("runtime.worker_threads"), "{bad}: {err}");
        }
        let err = NodeConfig::parse(&format!("{MINIMAL}\n[runtime]\nworker_threads = -1\n"))
            .unwrap_err()
            .to_string();
        assert!(err.contains("worker_threads"), "{err}");
    }

    #[test]
    fn unknown_key_is_named() {
        let err = NodeConfig::parse(&format!("{MINIMAL}\n[block]\nmax_recs = 5\n")).unwrap_err();
        let msg = err.to_string();
        assert!(msg.contains("max_recs"), "{msg}");
    }

    #[test]
    fn missing_key_is_named() {
        let err = NodeConfig::parse("data_dir = \"x\"")
            .unwrap_err()
            .to_string();
        assert!(err.contains("genesis"), "{err}");
    }

    #[test]
    fn out_of_range_values_are_named() {
        for (extra, key) in [
            ("[block]\nmax_records = 0", "block.max_records"),
            ("[mempool]\nmax_backlog = \"0s\"", "mempool.max_backlog"),
            (
                "[mempool]\nregossip_after = \"10ms\"",
                "mempool.regossip_after",
            ),
            ("[block]\nmax_records = 1000000", "block.max_records"),
            (
                "[consensus]\nrequest_timeout = \"500ms\"",
                "consensus.request_timeout",
            ),
            (
                "[consensus]\nrequest_timeout = \"12s\"",
                "consensus.request_timeout",
            ),
            (
                "[consensus]\nbase_timeout = \"2s\"\nmax_timeout = \"1s\"",
                "consensus.max_timeout",
            ),
            ("[p2p]\nlisten = \"127.0.0.1:5\"", "p2p.listen"),
            ("[log]\nlevel = \"[[[\"", "log.level"),
        ] {
            match NodeConfig::parse(&format!("{MINIMAL}\n{extra}\n")) {
                Err(ConfigError::Invalid { key: k, .. }) => assert_eq!(k, key, "{extra}"),
                other => panic!("{extra}: expected Invalid({key}), got {other:?}"),
            }
        }
        let err = NodeConfig::parse(&format!("{MINIMAL}\n[block]\nmax_delay = \"soon\"\n"))
            .unwrap_err()
            .to_string();
        assert!(err.contains("max_delay"), "{err}");
    }

    #[test]
    fn load_resolves_paths_relative_to_the_file() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("node.toml");
        std::fs::write(&path, MINIMAL).unwrap();
        let c = NodeConfig::load(&path).unwrap();
        assert_eq!(c.genesis, dir.path().join("genesis.json"));
        let err = NodeConfig::load(&dir.path().join("missing.toml")).unwrap_err();
        assert!(err.to_string().contains("missing.toml"));
    }
}
