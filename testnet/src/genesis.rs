//! Generates the keys and genesis of a local N-agency network.

use std::fs;
use std::path::{Path, PathBuf};

use anyhow::{Context, Result, bail};
use chancery_types::bounded::{List, Text};
use chancery_types::crypto::keyfile::{read_secret_key, write_secret_key};
use chancery_types::*;

/// The agencies of the local network, in validator order (more are numbered).
pub const AGENCIES: [(&str, &str); 4] = [
    ("transport", "Department of Transport"),
    ("health", "Department of Health"),
    ("tax", "Revenue Office"),
    ("interior", "Ministry of the Interior"),
];

/// First loopback port used by validator i is `BASE_P2P_PORT + i`.
pub const BASE_P2P_PORT: u16 = 27100;
/// First gRPC port: `BASE_RPC_PORT + i`.
pub const BASE_RPC_PORT: u16 = 27200;

/// One agency's keys on disk.
pub struct AgencyKeys {
    /// Agency id.
    pub id: AgencyId,
    /// Its directory.
    pub dir: PathBuf,
    /// Signs governance approvals.
    pub admin: SecretKey,
    /// Signs records.
    pub issuer: SecretKey,
    /// Signs consensus messages.
    pub consensus: SecretKey,
    /// libp2p identity.
    pub network: SecretKey,
}

/// A generated network: its genesis and every agency's keys.
pub struct Network {
    /// Where it lives.
    pub dir: PathBuf,
    /// The genesis.
    pub genesis: Genesis,
    /// Keys, in validator order.
    pub agencies: Vec<AgencyKeys>,
}

fn agency_id(i: usize) -> (String, String) {
    match AGENCIES.get(i) {
        Some((id, name)) => (id.to_string(), name.to_string()),
        None => (format!("agency-{i}"), format!("Agency {i}")),
    }
}

fn load_or_create_key(path: &Path) -> Result<SecretKey> {
    if path.exists() {
        return read_secret_key(path).with_context(|| format!("reading {}", path.display()));
    }
    let key = SecretKey::generate();
    write_secret_key(path, &key)?;
    Ok(key)
}

/// Creates (or loads, if present) keys and genesis for `n` agencies under `dir`.
/// Reuses an existing network so data survives a restart.
pub fn generate(dir: &Path, n: usize, genesis_time: Timestamp) -> Result<Network> {
    generate_on(dir, n, genesis_time, &Ports::default_for(n))
}

/// The loopback ports of each validator.
#[derive(Debug, Clone)]
pub struct Ports {
    /// libp2p port of validator i.
    pub p2p: Vec<u16>,
    /// gRPC port of validator i.
    pub rpc: Vec<u16>,
}

impl Ports {
    /// `BASE_P2P_PORT + i` and `BASE_RPC_PORT + i`.
    pub fn default_for(n: usize) -> Self {
        Ports {
            p2p: (0..n).map(|i| BASE_P2P_PORT + i as u16).collect(),
            rpc: (0..n).map(|i| BASE_RPC_PORT + i as u16).collect(),
        }
    }

    /// Ports the OS reports free right now (for tests running side by side).
    pub fn free(n: usize) -> Result<Self> {
        let mut hold = Vec::new();
        let mut take = || -> Result<u16> {
            let l = std::net::TcpListener::bind("127.0.0.1:0")?;
            let port = l.local_addr()?.port();
            hold.push(l);
            Ok(port)
        };
        let p2p = (0..n).map(|_| take()).collect::<Result<_>>()?;
        let rpc = (0..n).map(|_| take()).collect::<Result<_>>()?;
        Ok(Ports { p2p, rpc })
    }
}

/// Like [`generate`], on the given ports. Each agency directory also gets a
/// `node.toml` (written once; edit it freely afterwards).
pub fn generate_on(
    dir: &Path,
    n: usize,
    genesis_time: Timestamp,
    ports: &Ports,
) -> Result<Network> {
    if ports.p2p.len() < n || ports.rpc.len() < n {
        bail!("need p2p and rpc ports for {n} validators");
    }
    if n == 0 {
        bail!("a network needs at least one validator");
    }
    fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;
    let mut agencies = Vec::with_capacity(n);
    for i in 0..n {
        let (id, _) = agency_id(i);
        let adir = dir.join(&id);
        fs::create_dir_all(&adir)?;
        agencies.push(AgencyKeys {
            id: AgencyId::new(id)?,
            admin: load_or_create_key(&adir.join("admin.key"))?,
            issuer: load_or_create_key(&adir.join("issuer.key"))?,
            consensus: load_or_create_key(&adir.join("consensus.key"))?,
            network: load_or_create_key(&adir.join("network.key"))?,
            dir: adir,
        });
    }
    let genesis_path = dir.join("genesis.json");
    let genesis = if genesis_path.exists() {
        let text = fs::read_to_string(&genesis_path)?;
        Genesis::from_json(&text).with_context(|| format!("loading {}", genesis_path.display()))?
    } else {
        let g = build_genesis(&agencies, genesis_time, &ports.p2p)?;
        fs::write(&genesis_path, g.to_json() + "\n")?;
        g
    };
    let workers = workers_per_validator(n);
    for (i, a) in agencies.iter().enumerate() {
        let path = a.dir.join("node.toml");
        if !path.exists() {
            fs::write(&path, node_toml(ports.p2p[i], ports.rpc[i], workers))
                .with_context(|| format!("writing {}", path.display()))?;
        }
    }
    Ok(Network {
        dir: dir.to_owned(),
        genesis,
        agencies,
    })
}

fn text<const N: usize>(s: impl Into<String>) -> Result<Text<N>> {
    Ok(Text::new(s)?)
}

/// Builds the genesis for these agencies: each runs a validator on loopback.
pub fn build_genesis(
    agencies: &[AgencyKeys],
    genesis_time: Timestamp,
    p2p_ports: &[u16],
) -> Result<Genesis> {
    let mut list = Vec::new();
    let mut validators = Vec::new();
    let mut permissions = Vec::new();
    for (i, a) in agencies.iter().enumerate() {
        let (_, name) = agency_id(i);
        list.push(Agency {
            id: a.id.clone(),
            name: text(name)?,
            admin_key: a.admin.public(),
            issuer_keys: List::new(vec![IssuerKey {
                public: a.issuer.public(),
                valid_from: genesis_time,
                valid_until: None,
            }])?,
        });
        validators.push(Validator {
            agency: a.id.clone(),
            consensus_key: a.consensus.public(),
            network_key: a.network.public(),
            address: text(format!("/ip4/127.0.0.1/tcp/{}", p2p_ports[i]))?,
        });
        let classes: Vec<Label> = match a.id.as_str() {
            "transport" => vec![text("driving")?, text("vehicle")?],
            "health" => vec![text("pharmacy")?, text("medical-practice")?],
            "interior" => vec![text("*")?],
            _ => vec![],
        };
        permissions.push(Permission {
            agency: a.id.clone(),
            licence_classes: List::new(classes)?,
            may_grant: true,
            may_log_access: true,
            denied_kinds: Default::default(),
            denied_subjects: Default::default(),
        });
    }
    let g = Genesis {
        chain_name: text("chancery-local")?,
        genesis_time,
        agencies: List::new(list)?,
        validators: ValidatorSet::new(validators)?,
        policy: Policy {
            max_body_bytes: 16 * 1024,
            permissions: List::new(permissions)?,
        },
        params: ChainParams::default(),
        governance: Default::default(),
    };
    g.validate()?;
    Ok(g)
}

/// The runtime threads each of `n` validators on this machine gets: the
/// CPU cores shared out, at least one each (D40).
pub fn workers_per_validator(n: usize) -> usize {
    let cores = std::thread::available_parallelism().map_or(1, |c| c.get());
    (cores / n.max(1)).max(1)
}

/// A validator's configuration on the local network, with `workers`
/// runtime threads.
pub fn node_toml(p2p_port: u16, rpc_port: u16, workers: usize) -> String {
    format!(
        r#"# chancery-node configuration (paths are relative to this file).
data_dir = "data"
genesis = "../genesis.json"
consensus_key = "consensus.key"
network_key = "network.key"

[p2p]
listen = "/ip4/127.0.0.1/tcp/{p2p_port}"

[rpc]
listen = "127.0.0.1:{rpc_port}"

[block]
max_records = 2000
max_delay = "20ms"
eager = true
certify_interval = "100ms"
idle_interval = "250ms"

[consensus]
base_timeout = "1s"
max_timeout = "10s"
# Suspect a primary that leaves a record out this long (f+1 suspicions
# change the view).
request_timeout = "15s"

# The machine's cores shared among the validators on it (leave it out on a
# machine of its own: one thread per core).
[runtime]
worker_threads = {workers}

[log]
level = "info"
format = "text"
"#
    )
}

impl Network {
    /// The `node.toml` of validator `i`.
    pub fn node_config(&self, i: usize) -> PathBuf {
        self.agencies[i].dir.join("node.toml")
    }

    /// The gRPC address in validator `i`'s `node.toml`.
    pub fn rpc_addr(&self, i: usize) -> Result<String> {
        let path = self.node_config(i);
        let text =
            fs::read_to_string(&path).with_context(|| format!("reading {}", path.display()))?;
        let value: toml::Table =
            toml::from_str(&text).with_context(|| format!("parsing {}", path.display()))?;
        value
            .get("rpc")
            .and_then(|r| r.get("listen"))
            .and_then(|l| l.as_str())
            .map(str::to_owned)
            .ok_or_else(|| anyhow::anyhow!("{}: no rpc.listen", path.display()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn validators_share_the_cores_and_each_gets_one_at_least() {
        let cores = std::thread::available_parallelism().map_or(1, |c| c.get());
        assert_eq!(workers_per_validator(1), cores);
        assert_eq!(workers_per_validator(cores), 1);
        assert_eq!(workers_per_validator(cores * 3 + 1), 1);
        assert_eq!(workers_per_validator(0), cores);
        for n in 1..=8 {
            assert!(workers_per_validator(n) * n <= cores.max(n), "n = {n}");
        }
    }

    #[test]
    fn node_toml_carries_the_worker_threads() {
        let doc: toml::Table = node_toml(27100, 27200, 3).parse().expect("valid TOML");
        assert_eq!(doc["runtime"]["worker_threads"].as_integer(), Some(3));
        assert_eq!(doc["rpc"]["listen"].as_str(), Some("127.0.0.1:27200"));
    }
}
