//! `chancery genesis entry | combine | show`: the genesis ceremony.
//!
//! 1. Each agency: `chancery genesis entry --agency tax --name "Revenue Office"
//!    --admin-key admin.key --issuer-key issuer.pub --consensus-key consensus.pub
//!    --network-key network.pub --address /ip4/10.0.0.3/tcp/27100 -o tax.entry.json`
//!    (secret key files work too; only the admin key must be secret: it signs).
//! 2. Anyone: `chancery genesis combine *.entry.json --chain-name gov-records
//!    --genesis-time 2026-12-01T00:00:00Z -o genesis.json` (prints the chain id).
//! 3. Every agency: `chancery genesis show genesis.json` and compares the chain id.

use std::path::{Path, PathBuf};

use anyhow::{Context, Result};
use chancery_types::bounded::{List, Text};
use chancery_types::ceremony::{GenesisEntry, SignedEntry, combine};
use chancery_types::crypto::keyfile::{read_public_key, read_secret_key};
use chancery_types::{
    Agency, AgencyId, ChainParams, Genesis, IssuerKey, Permission, Timestamp, Validator,
};
use serde_json::json;

/// `genesis entry` flags.
#[derive(Debug, clap::Args)]
pub struct EntryArgs {
    /// The agency's id (lowercase, e.g. `tax`).
    #[arg(long)]
    pub agency: String,
    /// The agency's name.
    #[arg(long)]
    pub name: String,
    /// The chain the entry is for.
    #[arg(long)]
    pub chain_name: String,
    /// The admin key (secret: it signs the entry).
    #[arg(long)]
    pub admin_key: PathBuf,
    /// Issuer key files (public or secret), one or more.
    #[arg(long, required = true)]
    pub issuer_key: Vec<PathBuf>,
    /// The validator's consensus key (public or secret); omit for an agency without a validator.
    #[arg(long, requires_all = ["network_key", "address"])]
    pub consensus_key: Option<PathBuf>,
    /// The validator's network key.
    #[arg(long)]
    pub network_key: Option<PathBuf>,
    /// The validator's libp2p address, e.g. /ip4/10.0.0.3/tcp/27100.
    #[arg(long)]
    pub address: Option<String>,
    /// Licence classes the agency may issue (repeat; `*` for any).
    #[arg(long = "licence-class")]
    pub licence_classes: Vec<String>,
    /// The agency may create data-access grants.
    #[arg(long)]
    pub may_grant: bool,
    /// The agency may log accesses under grants.
    #[arg(long)]
    pub may_log_access: bool,
    /// Where to write the entry.
    #[arg(short, long)]
    pub out: PathBuf,
}

/// `chancery genesis entry`.
pub fn entry(a: &EntryArgs, as_json: bool) -> Result<()> {
    let admin = read_secret_key(&a.admin_key).context("--admin-key")?;
    let id = AgencyId::new(a.agency.as_str()).context("--agency")?;
    let issuer_keys = a
        .issuer_key
        .iter()
        .map(|p| {
            Ok(IssuerKey {
                public: read_public_key(p)
                    .with_context(|| format!("--issuer-key {}", p.display()))?,
                valid_from: Timestamp(0),
                valid_until: None,
            })
        })
        .collect::<Result<Vec<_>>>()?;
    let validator = match (&a.consensus_key, &a.network_key, &a.address) {
        (Some(c), Some(n), Some(addr)) => Some(Validator {
            agency: id.clone(),
            consensus_key: read_public_key(c).context("--consensus-key")?,
            network_key: read_public_key(n).context("--network-key")?,
            address: Text::new(addr.as_str()).context("--address")?,
        }),
        _ => None,
    };
    let classes = a
        .licence_classes
        .iter()
        .map(|c| Text::new(c.as_str()).context("--licence-class"))
        .collect::<Result<Vec<_>>>()?;
    let signed = GenesisEntry {
        chain_name: Text::new(a.chain_name.as_str()).context("--chain-name")?,
        agency: Agency {
            id: id.clone(),
            name: Text::new(a.name.as_str()).context("--name")?,
            admin_key: admin.public(),
            issuer_keys: List::new(issuer_keys).context("--issuer-key")?,
        },
        validator,
        permission: Permission {
            agency: id,
            licence_classes: List::new(classes).context("--licence-class")?,
            may_grant: a.may_grant,
            may_log_access: a.may_log_access,
            denied_kinds: Default::default(),
            denied_subjects: Default::default(),
        },
    }
    .sign(&admin);
    std::fs::write(&a.out, serde_json::to_string_pretty(&signed)? + "\n")
        .with_context(|| format!("cannot write {}", a.out.display()))?;
    if as_json {
        println!("{}", json!({ "entry": a.out, "agency": a.agency }));
    } else {
        println!("entry for `{}` written to {}", a.agency, a.out.display());
    }
    Ok(())
}

fn read_entry(path: &Path) -> Result<SignedEntry> {
    let text =
        std::fs::read_to_string(path).with_context(|| format!("cannot read {}", path.display()))?;
    serde_json::from_str(&text)
        .with_context(|| format!("{} is not a genesis entry", path.display()))
}

/// `chancery genesis combine`.
pub fn combine_files(
    entries: &[PathBuf],
    chain_name: &str,
    genesis_time: Timestamp,
    execution_lag: u64,
    max_body_bytes: u32,
    out: &Path,
    as_json: bool,
) -> Result<()> {
    let entries = entries
        .iter()
        .map(|p| read_entry(p))
        .collect::<Result<Vec<_>>>()?;
    let g = combine(
        &entries,
        chain_name,
        genesis_time,
        ChainParams { execution_lag },
        max_body_bytes,
    )?;
    std::fs::write(out, g.to_json() + "\n")
        .with_context(|| format!("cannot write {}", out.display()))?;
    if !as_json {
        println!("genesis written to {}", out.display());
    }
    show_genesis(&g, as_json);
    Ok(())
}

/// `chancery genesis show`: what every agency checks before starting.
pub fn show_genesis(g: &Genesis, as_json: bool) {
    if as_json {
        println!(
            "{}",
            json!({ "chain_id": g.chain_id().to_string(), "chain_name": g.chain_name.as_str(),
                    "genesis_time": g.genesis_time.0,
                    "agencies": g.agencies.iter().map(|a| a.id.as_str()).collect::<Vec<_>>(),
                    "validators": g.validators.n(), "quorum": g.validators.quorum() })
        );
        return;
    }
    println!("chain id    {}", g.chain_id());
    println!("chain name  {}", g.chain_name);
    println!("time        {}", crate::records::time(g.genesis_time.0));
    println!(
        "validators  {} (quorum {}, tolerates {} faulty)",
        g.validators.n(),
        g.validators.quorum(),
        g.validators.f()
    );
    for a in g.agencies.iter() {
        let v = g
            .validators
            .validators()
            .iter()
            .position(|v| v.agency == a.id)
            .map_or("no validator".to_owned(), |i| format!("validator {i}"));
        println!("  {:<12} {:<32} {}", a.id.as_str(), a.name.as_str(), v);
    }
}
