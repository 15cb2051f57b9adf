//! `chancery gov …`: governance proposals from the command line.
//!
//! A proposal travels as a JSON file between the agencies that approve it:
//!
//! 1. Anyone: `chancery gov propose set-permission --agency transport
//!    --classes vehicle --deny-kinds licence_issue --id PROP-7
//!    --genesis genesis.json -o prop-7.json` writes the unsigned proposal
//!    `{chain_id, subject, action, approvals: []}`.
//! 2. Each approving agency, offline: `chancery gov approve prop-7.json
//!    --agency tax --admin-key tax-admin.key` appends its admin key's
//!    approval (over the chain id, the proposal id and the action).
//! 3. Anyone: `chancery gov show prop-7.json --genesis genesis.json` checks
//!    every approval and counts them against the action's threshold.
//! 4. Any registered agency: `chancery gov submit prop-7.json --agency tax
//!    --key tax-issuer.key --wait` signs the governance record with its
//!    issuer key and submits it; the approvals carry the authority.
//!
//! `chancery gov rules` shows the rules in force on a node.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

use anyhow::{Context, Result, bail};
use chancery_client::Client;
use chancery_client::governance::{GetRulesResponse, GovernanceClient, ValidatorSetInfo};
use chancery_types::bounded::{List, Text};
use chancery_types::ceremony::SignedEntry;
use chancery_types::crypto::keyfile::{read_public_key, read_secret_key};
use chancery_types::governance::{Approval, GovAction, Threshold, approve, verify_approval};
use chancery_types::{
    Agency, AgencyId, ChainId, Genesis, IssuerKey, KeyId, Label, Permission, PublicKey, RecordKind,
    Subject, Timestamp, Validator,
};
use serde::{Deserialize, Serialize};
use serde_json::json;

use crate::records::{parse_time, time};

/// `chancery gov …`.
#[derive(Debug, clap::Subcommand)]
pub enum Gov {
    /// Write an unsigned governance proposal file (one action).
    ///
    /// Issuer keys are rotated and revoked by governance too: there is no
    /// separate `chancery key rotate|revoke`; propose `rotate-key` or
    /// `revoke-key`. Times are RFC 3339 (2026-12-01T00:00:00Z), milliseconds
    /// since the Unix epoch, or `now`. The chain id comes from --genesis,
    /// --chain-id, or else the node (--node).
    ///
    /// Example: chancery gov propose set-permission --agency transport --classes driving,vehicle
    ///   --may-grant --may-log-access --deny-kinds licence_issue
    ///   --id PROP-7 --genesis genesis.json -o prop-7.json
    Propose(ProposeArgs),
    /// Append this agency's approval (its admin key's signature) to a proposal file.
    ///
    /// With --genesis, first checks that the proposal is for that chain and
    /// that the admin key is the agency's. Refuses a second approval of the
    /// same agency.
    ///
    /// Example: chancery gov approve prop-7.json --agency tax --admin-key .testnet/tax/admin.key
    Approve {
        /// The proposal file (rewritten in place).
        file: PathBuf,
        /// The approving agency.
        #[arg(long)]
        agency: String,
        /// The agency's admin key (secret).
        #[arg(long)]
        admin_key: PathBuf,
        /// Check the proposal's chain id and the admin key against this genesis.
        #[arg(long)]
        genesis: Option<PathBuf>,
    },
    /// Show a proposal, check each approval, and count them against the threshold.
    ///
    /// Approvals are checked against the admin keys and thresholds of
    /// --genesis, or of the node's current rules with --from-node (which
    /// also knows agencies added by governance). Exits 1 when an approval
    /// does not verify or the chain id differs (the node would refuse the
    /// record), else 0 — also when approvals are still missing.
    ///
    /// Example: chancery gov show prop-7.json --genesis genesis.json
    Show {
        /// The proposal file.
        file: PathBuf,
        /// Check against this genesis.
        #[arg(long, conflicts_with = "from_node")]
        genesis: Option<PathBuf>,
        /// Check against the rules in force on the node (--node).
        #[arg(long)]
        from_node: bool,
    },
    /// Sign the proposal as a governance record with an issuer key and submit it.
    ///
    /// Any registered agency may submit; the approvals carry the authority.
    /// The node refuses a record without enough valid approvals
    /// (FAILED_PRECONDITION). With --wait, prints the result and the height
    /// the change applies from (validator changes: the accepting block's
    /// height + execution_lag + 1; others: the next block).
    ///
    /// Example: chancery gov submit prop-7.json --agency tax --key .testnet/tax/issuer.key --wait
    Submit {
        /// The proposal file.
        file: PathBuf,
        /// The submitting agency.
        #[arg(long)]
        agency: String,
        /// Its issuer key (secret).
        #[arg(long)]
        key: PathBuf,
        /// Check the proposal's chain id against this genesis.
        #[arg(long)]
        genesis: Option<PathBuf>,
        /// Wait for the commit and print the result.
        #[arg(long)]
        wait: bool,
        /// Free-form body (JSON text), e.g. a reference to the decision.
        #[arg(long, default_value = "{}")]
        body: String,
    },
    /// Show the rules in force on the node: agencies, issuer keys,
    /// permissions and deny lists, thresholds, validator sets.
    ///
    /// Example: chancery gov rules --node http://127.0.0.1:27200
    Rules,
}

/// `gov propose` flags (the action is a subcommand).
#[derive(Debug, clap::Args)]
pub struct ProposeArgs {
    /// The proposal id (the governance record's subject; unique on the chain).
    #[arg(long, global = true)]
    pub id: Option<String>,
    /// Where to write the proposal (never overwritten).
    #[arg(short, long, global = true)]
    pub out: Option<PathBuf>,
    /// The chain: this genesis's.
    #[arg(long, global = true)]
    pub genesis: Option<PathBuf>,
    /// The chain: this chain id (64 hex digits).
    #[arg(long, global = true, conflicts_with = "genesis")]
    pub chain_id: Option<String>,
    #[command(subcommand)]
    pub action: ActionArgs,
}

/// The action a proposal carries.
#[derive(Debug, clap::Subcommand)]
pub enum ActionArgs {
    /// Register a new agency (its admin and issuer keys).
    ///
    /// The file is an agency as JSON ({"id", "name", "admin_key", "issuer_keys":
    /// [{"public", "valid_from", "valid_until"}]}) or the agency's signed
    /// `chancery genesis entry` (its signature is checked; only the agency
    /// part is used). An agency without a permission entry may issue
    /// nothing: propose set-permission (and add-validator) next.
    ///
    /// Example: chancery gov propose add-agency --agency-file lands.json --id PROP-8 -o prop-8.json
    AddAgency {
        /// The agency file.
        #[arg(long)]
        agency_file: PathBuf,
    },
    /// Add a validator to the set (applies from the accepting block's
    /// height + execution_lag + 1).
    ///
    /// Example: chancery gov propose add-validator --agency lands --consensus-key consensus.pub
    ///   --network-key network.pub --address /ip4/10.0.0.9/tcp/27100 --id PROP-9 -o prop-9.json
    AddValidator {
        /// The agency running it (registered).
        #[arg(long)]
        agency: String,
        /// Consensus key: 64 hex digits or a key file (public or secret).
        #[arg(long)]
        consensus_key: String,
        /// Network key: 64 hex digits or a key file (public or secret).
        #[arg(long)]
        network_key: String,
        /// Its libp2p address, e.g. /ip4/10.0.0.9/tcp/27100.
        #[arg(long)]
        address: String,
    },
    /// Remove the validator with this consensus key.
    ///
    /// Example: chancery gov propose remove-validator --consensus-key 3b6a27bc… --id PROP-10 -o prop-10.json
    RemoveValidator {
        /// Consensus key: 64 hex digits or a key file.
        #[arg(long)]
        consensus_key: String,
    },
    /// Register another issuer key for an agency.
    ///
    /// Example: chancery gov propose add-key --agency tax --key-file tax-issuer-2.pub
    ///   --valid-from 2026-12-01T00:00:00Z --id PROP-11 -o prop-11.json
    AddKey {
        /// The agency.
        #[arg(long)]
        agency: String,
        /// The key file (public or secret).
        #[arg(long, required_unless_present = "public", conflicts_with = "public")]
        key_file: Option<PathBuf>,
        /// The public key, 64 hex digits.
        #[arg(long)]
        public: Option<String>,
        /// Records timestamped before this are refused.
        #[arg(long, value_parser = parse_time)]
        valid_from: Timestamp,
        /// Records timestamped at or after this are refused (default: no end).
        #[arg(long, value_parser = parse_time)]
        valid_until: Option<Timestamp>,
    },
    /// Replace an issuer key: the old key's validity ends when the new one's begins.
    ///
    /// (This is how a key is rotated; there is no `chancery key rotate`.)
    ///
    /// Example: chancery gov propose rotate-key --agency tax --old 9f3c…(key id)
    ///   --new-key-file tax-issuer-2.pub --valid-from 2027-01-01T00:00:00Z --id PROP-12 -o prop-12.json
    RotateKey {
        /// The agency.
        #[arg(long)]
        agency: String,
        /// The retiring key: its key id (32 hex digits), public key, or key file.
        #[arg(long)]
        old: String,
        /// The new key's file (public or secret).
        #[arg(long)]
        new_key_file: PathBuf,
        /// When the new key takes over (after the old key's start).
        #[arg(long, value_parser = parse_time)]
        valid_from: Timestamp,
        /// End of the new key's validity (default: no end).
        #[arg(long, value_parser = parse_time)]
        valid_until: Option<Timestamp>,
    },
    /// Revoke an issuer key: from the next block on, records signed with it are refused.
    ///
    /// (This is how a key is revoked; there is no `chancery key revoke`.)
    /// With --compromised-since, proof verification flags records signed
    /// with it and timestamped at or after that time.
    ///
    /// Example: chancery gov propose revoke-key --agency tax --key 9f3c…(key id)
    ///   --compromised-since 2026-11-30T08:00:00Z --id PROP-13 -o prop-13.json
    RevokeKey {
        /// The agency.
        #[arg(long)]
        agency: String,
        /// The key: its key id (32 hex digits), public key, or key file.
        #[arg(long)]
        key: String,
        /// Since when the key is known compromised.
        #[arg(long, value_parser = parse_time)]
        compromised_since: Option<Timestamp>,
    },
    /// Replace an agency's permission entry: what it may issue and its deny lists.
    ///
    /// The entry is replaced whole: restate every class and flag the agency keeps.
    ///
    /// Example: chancery gov propose set-permission --agency transport --classes driving,vehicle
    ///   --may-grant --may-log-access --deny-kinds licence_issue --id PROP-7 -o prop-7.json
    SetPermission {
        /// The agency.
        #[arg(long)]
        agency: String,
        /// Licence classes it may issue and manage (comma-separated; `*` for any).
        #[arg(long, value_delimiter = ',')]
        classes: Vec<String>,
        /// It may create and revoke data-access grants.
        #[arg(long)]
        may_grant: bool,
        /// It may log accesses under grants made to it.
        #[arg(long)]
        may_log_access: bool,
        /// Record kinds it may not issue (comma-separated, e.g. licence_issue,licence_revoke).
        #[arg(long, value_delimiter = ',')]
        deny_kinds: Vec<String>,
        /// Subjects it may not touch (comma-separated).
        #[arg(long, value_delimiter = ',')]
        deny_subjects: Vec<String>,
    },
}

/// A proposal file: the unsigned proposal and the approvals gathered so far.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Proposal {
    /// The chain it is for (every approval covers it).
    pub chain_id: ChainId,
    /// The proposal id: the governance record's subject.
    pub subject: Subject,
    /// The change.
    pub action: GovAction,
    /// Approvals, one per agency.
    #[serde(default)]
    pub approvals: Vec<Approval>,
}

/// Reads a proposal file.
pub fn read_proposal(path: &Path) -> Result<Proposal> {
    let text =
        std::fs::read_to_string(path).with_context(|| format!("cannot read {}", path.display()))?;
    serde_json::from_str(&text)
        .with_context(|| format!("{} is not a proposal file", path.display()))
}

/// Writes a proposal file: atomically (a temporary file renamed over it).
fn write_proposal(path: &Path, p: &Proposal) -> Result<()> {
    let text = serde_json::to_string_pretty(p)? + "\n";
    let mut tmp = path.as_os_str().to_owned();
    tmp.push(".tmp");
    let tmp = PathBuf::from(tmp);
    std::fs::write(&tmp, text).with_context(|| format!("cannot write {}", tmp.display()))?;
    std::fs::rename(&tmp, path).with_context(|| format!("cannot write {}", path.display()))
}

fn agency_id(flag: &str, text: &str) -> Result<AgencyId> {
    AgencyId::new(text).with_context(|| format!("--{flag}"))
}

/// A public key given as 64 hex digits or as a key file (public or secret).
fn public_key(flag: &str, text: &str) -> Result<PublicKey> {
    if text.len() == 64 && text.bytes().all(|b| b.is_ascii_hexdigit()) {
        return text
            .parse()
            .with_context(|| format!("--{flag}: `{text}` is not a valid public key"));
    }
    read_public_key(Path::new(text)).with_context(|| {
        format!(
            "--{flag}: `{text}` is neither a public key (64 hex digits) nor a readable key file"
        )
    })
}

/// A key id given as 32 hex digits, or as a public key or key file.
fn key_id(flag: &str, text: &str) -> Result<KeyId> {
    if text.len() == 32 && text.bytes().all(|b| b.is_ascii_hexdigit()) {
        return text
            .parse()
            .with_context(|| format!("--{flag}: `{text}` is not a key id"));
    }
    public_key(flag, text)
        .map(|k| k.key_id())
        .with_context(|| format!("--{flag}: not a key id (32 hex digits) either"))
}

fn labels<const N: usize>(flag: &str, values: &[String]) -> Result<List<Label, N>> {
    let items = values
        .iter()
        .map(|v| Label::new(v.as_str()).with_context(|| format!("--{flag}: `{v}`")))
        .collect::<Result<Vec<_>>>()?;
    List::new(items).with_context(|| format!("--{flag}: at most {N} values"))
}

fn read_agency(path: &Path) -> Result<Agency> {
    let text =
        std::fs::read_to_string(path).with_context(|| format!("cannot read {}", path.display()))?;
    let agency = match serde_json::from_str::<Agency>(&text) {
        Ok(a) => a,
        Err(as_agency) => match serde_json::from_str::<SignedEntry>(&text) {
            Ok(entry) => {
                entry
                    .verify()
                    .with_context(|| format!("--agency-file {}: genesis entry", path.display()))?;
                entry.entry.agency
            }
            Err(as_entry) => bail!(
                "--agency-file {}: neither an agency ({as_agency}) nor a genesis entry ({as_entry})",
                path.display()
            ),
        },
    };
    if agency.issuer_keys.is_empty() {
        bail!(
            "--agency-file {}: agency `{}` has no issuer keys",
            path.display(),
            agency.id
        );
    }
    for k in agency.issuer_keys.iter() {
        if k.valid_until.is_some_and(|end| end <= k.valid_from) {
            bail!(
                "--agency-file {}: issuer key {} ends before it starts",
                path.display(),
                k.key_id()
            );
        }
    }
    Ok(agency)
}

fn window(
    public: PublicKey,
    valid_from: Timestamp,
    valid_until: Option<Timestamp>,
) -> Result<IssuerKey> {
    if valid_until.is_some_and(|end| end <= valid_from) {
        bail!("--valid-until must be after --valid-from");
    }
    Ok(IssuerKey {
        public,
        valid_from,
        valid_until,
    })
}

impl ActionArgs {
    /// The action these flags describe.
    pub fn action(&self) -> Result<GovAction> {
        Ok(match self {
            ActionArgs::AddAgency { agency_file } => GovAction::AddAgency {
                agency: read_agency(agency_file)?,
            },
            ActionArgs::AddValidator {
                agency,
                consensus_key,
                network_key,
                address,
            } => GovAction::AddValidator {
                validator: Validator {
                    agency: agency_id("agency", agency)?,
                    consensus_key: public_key("consensus-key", consensus_key)?,
                    network_key: public_key("network-key", network_key)?,
                    address: Text::new(address.as_str()).context("--address")?,
                },
            },
            ActionArgs::RemoveValidator { consensus_key } => GovAction::RemoveValidator {
                consensus_key: public_key("consensus-key", consensus_key)?,
            },
            ActionArgs::AddKey {
                agency,
                key_file,
                public,
                valid_from,
                valid_until,
            } => {
                let key = match (key_file, public) {
                    (Some(f), _) => {
                        read_public_key(f).with_context(|| format!("--key-file {}", f.display()))?
                    }
                    (None, Some(hex)) => public_key("public", hex)?,
                    (None, None) => bail!("give the key with --key-file or --public"),
                };
                GovAction::AddIssuerKey {
                    agency: agency_id("agency", agency)?,
                    key: window(key, *valid_from, *valid_until)?,
                }
            }
            ActionArgs::RotateKey {
                agency,
                old,
                new_key_file,
                valid_from,
                valid_until,
            } => {
                let new = read_public_key(new_key_file)
                    .with_context(|| format!("--new-key-file {}", new_key_file.display()))?;
                let old = key_id("old", old)?;
                if old == new.key_id() {
                    bail!("--new-key-file holds the old key {old}");
                }
                GovAction::RotateIssuerKey {
                    agency: agency_id("agency", agency)?,
                    old,
                    new: window(new, *valid_from, *valid_until)?,
                }
            }
            ActionArgs::RevokeKey {
                agency,
                key,
                compromised_since,
            } => GovAction::RevokeIssuerKey {
                agency: agency_id("agency", agency)?,
                key: key_id("key", key)?,
                compromised_since: *compromised_since,
            },
            ActionArgs::SetPermission {
                agency,
                classes,
                may_grant,
                may_log_access,
                deny_kinds,
                deny_subjects,
            } => {
                for k in deny_kinds {
                    if !RecordKind::NAMES.contains(&k.as_str()) {
                        bail!(
                            "--deny-kinds: `{k}` is not a record kind (one of {})",
                            RecordKind::NAMES.join(", ")
                        );
                    }
                }
                let subjects = deny_subjects
                    .iter()
                    .map(|s| {
                        Subject::new(s.as_str()).with_context(|| format!("--deny-subjects: `{s}`"))
                    })
                    .collect::<Result<Vec<_>>>()?;
                GovAction::SetPermission {
                    permission: Permission {
                        agency: agency_id("agency", agency)?,
                        licence_classes: labels("classes", classes)?,
                        may_grant: *may_grant,
                        may_log_access: *may_log_access,
                        denied_kinds: labels("deny-kinds", deny_kinds)?,
                        denied_subjects: List::new(subjects)
                            .context("--deny-subjects: too many subjects")?,
                    },
                }
            }
        })
    }
}

fn parse_chain_id(text: &str) -> Result<ChainId> {
    text.parse::<chancery_types::Hash>()
        .map(ChainId)
        .map_err(|e| anyhow::anyhow!("--chain-id: `{text}` is not a chain id (64 hex digits): {e}"))
}

/// `chancery gov propose`.
pub async fn propose(node: &str, args: &ProposeArgs, as_json: bool) -> Result<()> {
    let Some(id) = &args.id else {
        bail!("--id is required: the proposal id (e.g. PROP-7)");
    };
    let Some(out) = &args.out else {
        bail!("-o/--out is required: where to write the proposal");
    };
    let subject = Subject::new(id.as_str()).context("--id")?;
    if subject.as_str().is_empty() {
        bail!("--id must not be empty");
    }
    if out.exists() {
        bail!(
            "{} already exists; choose another file (a proposal is never overwritten)",
            out.display()
        );
    }
    let action = args.action.action()?;
    let chain_id = match (&args.genesis, &args.chain_id) {
        (Some(g), _) => crate::records::read_genesis(g)?.chain_id(),
        (None, Some(c)) => parse_chain_id(c)?,
        (None, None) => {
            let mut client = Client::connect(node).await.context(
                "no --genesis or --chain-id given, so the chain id is asked of the node",
            )?;
            crate::records::chain_id(None, &mut client).await?
        }
    };
    let p = Proposal {
        chain_id,
        subject,
        action,
        approvals: Vec::new(),
    };
    let text = serde_json::to_string_pretty(&p)? + "\n";
    std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .open(out)
        .and_then(|mut f| std::io::Write::write_all(&mut f, text.as_bytes()))
        .with_context(|| format!("cannot write {}", out.display()))?;
    if as_json {
        println!(
            "{}",
            json!({ "file": out, "proposal": p.subject.as_str(), "action": p.action.name(),
                    "chain_id": p.chain_id.to_string() })
        );
    } else {
        println!(
            "proposal `{}` ({}) for chain {} written to {}",
            p.subject,
            p.action.name(),
            p.chain_id,
            out.display()
        );
        println!(
            "next: each approving agency runs `chancery gov approve {}`",
            out.display()
        );
    }
    Ok(())
}

/// `chancery gov approve`.
pub fn approve_file(
    file: &Path,
    agency: &str,
    admin_key: &Path,
    genesis: Option<&Path>,
    as_json: bool,
) -> Result<()> {
    let mut p = read_proposal(file)?;
    let agency = agency_id("agency", agency)?;
    let key = read_secret_key(admin_key)
        .with_context(|| format!("--admin-key {}", admin_key.display()))?;
    if let Some(path) = genesis {
        let g = crate::records::read_genesis(path)?;
        check_chain(
            &p,
            &g.chain_id(),
            &format!("the genesis {}", path.display()),
        )?;
        let Some(a) = g.agency(&agency) else {
            bail!("agency `{agency}` is not in the genesis {}", path.display());
        };
        if a.admin_key != key.public() {
            bail!(
                "--admin-key {} is not the admin key of `{agency}` (the genesis names {})",
                admin_key.display(),
                a.admin_key
            );
        }
    }
    if p.approvals.iter().any(|a| a.agency == agency) {
        bail!(
            "{} already carries an approval of `{agency}`; an agency approves once",
            file.display()
        );
    }
    if p.approvals.len() >= chancery_types::limits::MAX_APPROVALS {
        bail!(
            "{} already carries the most approvals a record may hold",
            file.display()
        );
    }
    let approval = approve(agency.clone(), &key, &p.chain_id, &p.subject, &p.action);
    p.approvals.push(approval);
    write_proposal(file, &p)?;
    if as_json {
        println!(
            "{}",
            json!({ "file": file, "proposal": p.subject.as_str(), "agency": agency.as_str(),
                    "approvals": p.approvals.len() })
        );
    } else {
        println!(
            "`{agency}` approved proposal `{}` ({}); {} approval(s) in {}",
            p.subject,
            describe(&p.action),
            p.approvals.len(),
            file.display()
        );
    }
    Ok(())
}

fn check_chain(p: &Proposal, chain: &ChainId, source: &str) -> Result<()> {
    if p.chain_id != *chain {
        bail!(
            "the proposal is for chain {}, but {source} is chain {chain}",
            p.chain_id
        );
    }
    Ok(())
}

/// Who may approve, and how many must: from a genesis or a node's rules.
#[derive(Debug, Clone)]
pub struct Authority {
    /// The chain.
    pub chain: ChainId,
    /// Admin keys of the registered agencies.
    pub admin_keys: BTreeMap<AgencyId, PublicKey>,
    /// Approvals needed for the proposal's action.
    pub needed: usize,
    /// Where this came from (for messages).
    pub source: String,
}

impl Authority {
    /// From a genesis, for `action`.
    pub fn from_genesis(g: &Genesis, action: &GovAction, source: String) -> Self {
        Authority {
            chain: g.chain_id(),
            admin_keys: g
                .agencies
                .iter()
                .map(|a| (a.id.clone(), a.admin_key))
                .collect(),
            needed: g.governance.threshold(action).required(g.agencies.len()),
            source,
        }
    }

    /// From a node's rules, for `action`.
    pub fn from_rules(r: &GetRulesResponse, action: &GovAction, source: String) -> Result<Self> {
        let chain = r
            .chain_id
            .parse::<chancery_types::Hash>()
            .map(ChainId)
            .map_err(|e| anyhow::anyhow!("node reported an invalid chain id: {e}"))?;
        let mut admin_keys = BTreeMap::new();
        for a in &r.agencies {
            let id = AgencyId::new(a.id.as_str())
                .map_err(|e| anyhow::anyhow!("node reported an invalid agency id: {e}"))?;
            let key = a.admin_key.parse::<PublicKey>().map_err(|e| {
                anyhow::anyhow!("node reported an invalid admin key for `{}`: {e}", a.id)
            })?;
            admin_keys.insert(id, key);
        }
        let needed = r
            .thresholds
            .iter()
            .find(|t| t.action == action.name())
            .map(|t| t.required as usize)
            .unwrap_or_else(|| Threshold::TWO_THIRDS.required(admin_keys.len()));
        Ok(Authority {
            chain,
            admin_keys,
            needed,
            source,
        })
    }
}

/// What checking one approval found.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Verdict {
    /// Signed by the agency's admin key over this proposal.
    Valid,
    /// The agency is not registered.
    UnknownAgency,
    /// A second approval of the same agency.
    Duplicate,
    /// The signature does not verify (the file was changed after approval,
    /// or the approval is for another proposal or chain).
    BadSignature,
}

impl Verdict {
    fn label(self) -> &'static str {
        match self {
            Verdict::Valid => "valid",
            Verdict::UnknownAgency => "unknown agency",
            Verdict::Duplicate => "duplicate",
            Verdict::BadSignature => "signature does not verify",
        }
    }
}

/// The approvals of a proposal checked against an [`Authority`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Tally {
    /// Whether the proposal's chain id is the authority's.
    pub chain_matches: bool,
    /// Each approval's agency and verdict, in file order.
    pub verdicts: Vec<(AgencyId, Verdict)>,
    /// Valid approvals.
    pub valid: usize,
    /// Approvals needed.
    pub needed: usize,
}

impl Tally {
    /// Whether every approval verifies (else the node refuses the record).
    pub fn all_valid(&self) -> bool {
        self.chain_matches && self.verdicts.iter().all(|(_, v)| *v == Verdict::Valid)
    }

    /// Whether the node would accept the approvals now.
    pub fn ready(&self) -> bool {
        self.all_valid() && self.valid >= self.needed
    }
}

/// Checks every approval of `p` as execution does.
pub fn tally(p: &Proposal, auth: &Authority) -> Tally {
    let mut seen = BTreeSet::new();
    let verdicts: Vec<(AgencyId, Verdict)> = p
        .approvals
        .iter()
        .map(|a| {
            let verdict = match auth.admin_keys.get(&a.agency) {
                None => Verdict::UnknownAgency,
                Some(_) if !seen.insert(a.agency.clone()) => Verdict::Duplicate,
                Some(key) => match verify_approval(a, key, &auth.chain, &p.subject, &p.action) {
                    Ok(()) => Verdict::Valid,
                    Err(_) => Verdict::BadSignature,
                },
            };
            (a.agency.clone(), verdict)
        })
        .collect();
    let chain_matches = p.chain_id == auth.chain;
    let valid = if chain_matches {
        verdicts
            .iter()
            .filter(|(_, v)| *v == Verdict::Valid)
            .count()
    } else {
        0
    };
    Tally {
        chain_matches,
        verdicts,
        valid,
        needed: auth.needed,
    }
}

/// `chancery gov show`; returns whether every approval verifies (true
/// when nothing to check against was given).
pub async fn show(
    node: &str,
    file: &Path,
    genesis: Option<&Path>,
    from_node: bool,
    as_json: bool,
) -> Result<bool> {
    let p = read_proposal(file)?;
    let auth = match (genesis, from_node) {
        (Some(path), _) => Some(Authority::from_genesis(
            &crate::records::read_genesis(path)?,
            &p.action,
            format!("genesis {}", path.display()),
        )),
        (None, true) => {
            let mut gov = GovernanceClient::connect(node).await?;
            let rules = gov.rules().await?;
            Some(Authority::from_rules(
                &rules,
                &p.action,
                format!("the rules on {node} at height {}", rules.height),
            )?)
        }
        (None, false) => None,
    };
    let t = auth.as_ref().map(|a| tally(&p, a));
    if as_json {
        let approvals: Vec<_> = p
            .approvals
            .iter()
            .enumerate()
            .map(|(i, a)| {
                let verdict = t
                    .as_ref()
                    .and_then(|t| t.verdicts.get(i))
                    .map(|(_, v)| v.label());
                json!({ "agency": a.agency.as_str(), "check": verdict })
            })
            .collect();
        println!(
            "{}",
            json!({ "proposal": p.subject.as_str(), "chain_id": p.chain_id.to_string(),
                    "action": p.action, "approvals": approvals,
                    "checked_against": auth.as_ref().map(|a| a.source.clone()),
                    "chain_matches": t.as_ref().map(|t| t.chain_matches),
                    "valid": t.as_ref().map(|t| t.valid), "needed": t.as_ref().map(|t| t.needed),
                    "ready": t.as_ref().map(Tally::ready) })
        );
    } else {
        println!("proposal    {}", p.subject);
        println!("chain       {}", p.chain_id);
        println!("action      {}", describe(&p.action));
        match (&auth, &t) {
            (Some(auth), Some(t)) => {
                println!("checked     against {}", auth.source);
                if !t.chain_matches {
                    println!(
                        "            CHAIN MISMATCH: the proposal is for chain {}, {} is chain {}",
                        p.chain_id, auth.source, auth.chain
                    );
                }
                println!("approvals   {}", p.approvals.len());
                for (agency, v) in &t.verdicts {
                    println!("  {:<16} {}", agency.as_str(), v.label());
                }
                println!("valid       {} of {} needed", t.valid, t.needed);
                if t.ready() {
                    println!("ready       yes: submit with `chancery gov submit`");
                } else if !t.all_valid() {
                    println!(
                        "ready       NO: the node refuses a record with an approval that does not verify"
                    );
                } else {
                    println!(
                        "ready       no: {} more approval(s) needed",
                        t.needed.saturating_sub(t.valid)
                    );
                }
            }
            _ => {
                println!(
                    "approvals   {} (not checked: pass --genesis or --from-node)",
                    p.approvals.len()
                );
                for a in &p.approvals {
                    println!("  {}", a.agency.as_str());
                }
            }
        }
    }
    Ok(t.as_ref().is_none_or(Tally::all_valid))
}

/// A one-line description of an action.
pub fn describe(action: &GovAction) -> String {
    match action {
        GovAction::AddAgency { agency } => format!(
            "add agency `{}` ({}), admin key {}, {} issuer key(s)",
            agency.id,
            agency.name,
            agency.admin_key,
            agency.issuer_keys.len()
        ),
        GovAction::AddValidator { validator } => format!(
            "add validator of `{}`, consensus key {}, at {}",
            validator.agency, validator.consensus_key, validator.address
        ),
        GovAction::RemoveValidator { consensus_key } => {
            format!("remove the validator with consensus key {consensus_key}")
        }
        GovAction::AddIssuerKey { agency, key } => format!(
            "add issuer key {} to `{agency}`, {}",
            key.key_id(),
            key_window(key)
        ),
        GovAction::RotateIssuerKey { agency, old, new } => format!(
            "rotate issuer key {old} of `{agency}` to {}, {}",
            new.key_id(),
            key_window(new)
        ),
        GovAction::RevokeIssuerKey {
            agency,
            key,
            compromised_since,
        } => match compromised_since {
            Some(t) => format!(
                "revoke issuer key {key} of `{agency}`, compromised since {}",
                time(t.0)
            ),
            None => format!("revoke issuer key {key} of `{agency}`"),
        },
        GovAction::SetPermission { permission: p } => format!(
            "set the permissions of `{}`: classes [{}], grant {}, log access {}, deny kinds [{}], deny subjects [{}]",
            p.agency,
            join(p.licence_classes.iter()),
            yes_no(p.may_grant),
            yes_no(p.may_log_access),
            join(p.denied_kinds.iter()),
            join(p.denied_subjects.iter())
        ),
    }
}

fn key_window(k: &IssuerKey) -> String {
    match k.valid_until {
        Some(end) => format!("valid {} to {}", time(k.valid_from.0), time(end.0)),
        None => format!("valid from {}", time(k.valid_from.0)),
    }
}

fn join<T: std::fmt::Display>(items: impl Iterator<Item = T>) -> String {
    items.map(|i| i.to_string()).collect::<Vec<_>>().join(",")
}

fn yes_no(b: bool) -> &'static str {
    if b { "yes" } else { "no" }
}

/// `gov submit` flags.
#[derive(Debug)]
pub struct SubmitArgs<'a> {
    /// The proposal file.
    pub file: &'a Path,
    /// The submitting agency.
    pub agency: &'a str,
    /// Its issuer key file.
    pub key: &'a Path,
    /// A genesis to check the chain against.
    pub genesis: Option<&'a Path>,
    /// Wait for the commit.
    pub wait: bool,
    /// The record body.
    pub body: &'a str,
}

/// `chancery gov submit`.
pub async fn submit(node: &str, a: &SubmitArgs<'_>, as_json: bool) -> Result<()> {
    let p = read_proposal(a.file)?;
    let agency = agency_id("agency", a.agency)?;
    let genesis = a.genesis.map(crate::records::read_genesis).transpose()?;
    if let (Some(g), Some(path)) = (&genesis, a.genesis) {
        check_chain(
            &p,
            &g.chain_id(),
            &format!("the genesis {}", path.display()),
        )?;
    }
    let mut client = Client::connect(node).await?;
    let node_chain = crate::records::chain_id(None, &mut client).await?;
    check_chain(&p, &node_chain, &format!("the node at {node}"))?;
    let approvals = List::new(p.approvals.clone()).with_context(|| {
        format!(
            "{}: at most {} approvals fit in a record",
            a.file.display(),
            chancery_types::limits::MAX_APPROVALS
        )
    })?;
    let kind = RecordKind::Governance {
        action: Box::new(p.action.clone()),
        approvals,
    };
    let record = crate::records::sign_parts(
        kind,
        agency.as_str(),
        p.subject.as_str(),
        a.body.to_owned(),
        a.key,
        &p.chain_id,
    )?;
    let done = client.submit(&record, a.wait).await?;
    let applies_from = match &done.commitment {
        Some(c) if c.result == "accepted" => {
            if p.action.changes_validators() {
                let lag = match &genesis {
                    Some(g) => g.params.execution_lag,
                    None => {
                        GovernanceClient::connect(node)
                            .await?
                            .rules()
                            .await?
                            .execution_lag
                    }
                };
                Some(c.height.saturating_add(lag).saturating_add(1))
            } else {
                Some(c.height.saturating_add(1))
            }
        }
        _ => None,
    };
    if as_json {
        let c = done.commitment.as_ref().map(|c| {
            json!({ "height": c.height, "result": c.result, "log_index": c.log_index,
                    "committed_at_ms": c.committed_at_ms })
        });
        println!(
            "{}",
            json!({ "record_id": done.id.to_string(), "proposal": p.subject.as_str(),
                    "action": p.action.name(), "commitment": c, "applies_from": applies_from })
        );
    } else {
        println!("record id   {}", done.id);
        println!("proposal    {} ({})", p.subject, p.action.name());
        match &done.commitment {
            Some(c) => {
                println!("height      {}", c.height);
                println!("result      {}", c.result);
                if let Some(h) = applies_from {
                    if p.action.changes_validators() {
                        println!("applies     from height {h} (the validator set changes there)");
                    } else {
                        println!("applies     from height {h} (the next block)");
                    }
                }
            }
            None => println!("submitted; not waiting for the commit (pass --wait)"),
        }
    }
    Ok(())
}

/// `chancery gov rules`.
pub async fn rules(node: &str, as_json: bool) -> Result<()> {
    let r = GovernanceClient::connect(node).await?.rules().await?;
    if as_json {
        println!("{}", rules_json(&r));
        return Ok(());
    }
    println!(
        "chain       {} (height {}, execution lag {}, bodies up to {} bytes)",
        r.chain_id, r.height, r.execution_lag, r.max_body_bytes
    );
    println!("agencies");
    for a in &r.agencies {
        println!("  {:<14} {:<32} admin {}", a.id, a.name, a.admin_key);
    }
    println!("issuer keys");
    for k in &r.issuer_keys {
        let mut line = format!(
            "  {}  {:<14} from {}",
            k.key_id,
            k.agency,
            time(k.valid_from_ms)
        );
        if let Some(t) = k.valid_until_ms {
            line.push_str(&format!(" until {}", time(t)));
        }
        if let Some(t) = k.revoked_at_ms {
            line.push_str(&format!("  REVOKED at {}", time(t)));
        }
        if let Some(t) = k.compromised_since_ms {
            line.push_str(&format!("  COMPROMISED since {}", time(t)));
        }
        println!("{line}");
    }
    println!("permissions");
    for p in &r.permissions {
        println!(
            "  {:<14} classes [{}]  grant {}  log access {}  deny kinds [{}]  deny subjects [{}]",
            p.agency,
            p.licence_classes.join(","),
            yes_no(p.may_grant),
            yes_no(p.may_log_access),
            p.denied_kinds.join(","),
            p.denied_subjects.join(",")
        );
    }
    println!(
        "thresholds  (approvals needed of {} agencies)",
        r.agencies.len()
    );
    for t in &r.thresholds {
        println!(
            "  {:<18} {}/{} → {}",
            t.action, t.numerator, t.denominator, t.required
        );
    }
    if let Some(v) = &r.validators {
        print_set("validators", v);
    }
    for s in &r.scheduled {
        print_set("scheduled", s);
    }
    Ok(())
}

fn print_set(what: &str, s: &ValidatorSetInfo) {
    println!(
        "{what:<11} from height {} ({} validators, quorum {}, hash {})",
        s.from_height,
        s.validators.len(),
        s.quorum,
        s.hash
    );
    for (i, v) in s.validators.iter().enumerate() {
        println!(
            "  {i:>3} {:<14} consensus {}  {}",
            v.agency, v.consensus_key, v.address
        );
    }
}

fn set_json(s: &ValidatorSetInfo) -> serde_json::Value {
    json!({ "from_height": s.from_height, "hash": s.hash, "quorum": s.quorum,
            "validators": s.validators.iter().map(|v| json!({
                "agency": v.agency, "consensus_key": v.consensus_key,
                "network_key": v.network_key, "address": v.address })).collect::<Vec<_>>() })
}

fn rules_json(r: &GetRulesResponse) -> serde_json::Value {
    json!({
        "chain_id": r.chain_id, "height": r.height, "execution_lag": r.execution_lag,
        "max_body_bytes": r.max_body_bytes,
        "agencies": r.agencies.iter().map(|a| json!({
            "id": a.id, "name": a.name, "admin_key": a.admin_key })).collect::<Vec<_>>(),
        "issuer_keys": r.issuer_keys.iter().map(|k| json!({
            "agency": k.agency, "key_id": k.key_id, "public_key": k.public_key,
            "valid_from": k.valid_from_ms, "valid_until": k.valid_until_ms,
            "revoked_at": k.revoked_at_ms, "compromised_since": k.compromised_since_ms }))
            .collect::<Vec<_>>(),
        "permissions": r.permissions.iter().map(|p| json!({
            "agency": p.agency, "licence_classes": p.licence_classes, "may_grant": p.may_grant,
            "may_log_access": p.may_log_access, "denied_kinds": p.denied_kinds,
            "denied_subjects": p.denied_subjects })).collect::<Vec<_>>(),
        "thresholds": r.thresholds.iter().map(|t| json!({
            "action": t.action, "numerator": t.numerator, "denominator": t.denominator,
            "required": t.required })).collect::<Vec<_>>(),
        "validators": r.validators.as_ref().map(set_json),
        "scheduled": r.scheduled.iter().map(set_json).collect::<Vec<_>>(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use chancery_types::SecretKey;
    use chancery_types::governance::GovernanceRules;

    fn set_permission(agency: &str, deny: &[&str]) -> ActionArgs {
        ActionArgs::SetPermission {
            agency: agency.to_owned(),
            classes: vec!["driving".to_owned()],
            may_grant: true,
            may_log_access: false,
            deny_kinds: deny.iter().map(|s| s.to_string()).collect(),
            deny_subjects: vec!["DL-9".to_owned()],
        }
    }

    fn authority(n: usize) -> (Vec<(AgencyId, SecretKey)>, Authority) {
        let keys: Vec<_> = (0..n)
            .map(|i| {
                (
                    AgencyId::new(format!("a{i}")).unwrap(),
                    SecretKey::generate(),
                )
            })
            .collect();
        let admin_keys = keys.iter().map(|(a, k)| (a.clone(), k.public())).collect();
        let chain = ChainId(chancery_types::Hash::of(b"test chain"));
        let action = set_permission("a0", &[]).action().unwrap();
        let needed = GovernanceRules::default().threshold(&action).required(n);
        (
            keys,
            Authority {
                chain,
                admin_keys,
                needed,
                source: "test".into(),
            },
        )
    }

    #[test]
    fn set_permission_builds_deny_lists_and_refuses_unknown_kinds() {
        let a = set_permission("transport", &["licence_issue"])
            .action()
            .unwrap();
        let GovAction::SetPermission { permission } = &a else {
            panic!("{a:?}");
        };
        assert_eq!(permission.denied_kinds.len(), 1);
        assert!(permission.denies("licence_issue", &Subject::new("X").unwrap()));
        assert!(permission.denies("licence_revoke", &Subject::new("DL-9").unwrap()));
        let err = set_permission("transport", &["licence_isue"])
            .action()
            .unwrap_err();
        assert!(err.to_string().contains("licence_isue"), "{err}");
        let err = set_permission("Bad Agency", &[]).action().unwrap_err();
        assert!(format!("{err:#}").contains("--agency"), "{err:#}");
    }

    #[test]
    fn times_parse_as_rfc3339_or_milliseconds() {
        assert_eq!(
            parse_time("1795000000000").unwrap(),
            Timestamp(1_795_000_000_000)
        );
        assert_eq!(
            parse_time("2026-12-01T00:00:00Z").unwrap(),
            Timestamp(1_796_083_200_000)
        );
        assert!(parse_time("now").unwrap().0 > 1_700_000_000_000);
        let err = parse_time("tomorrow").unwrap_err();
        assert!(
            err.contains("tomorrow") && err.contains("RFC 3339"),
            "{err}"
        );
    }

    #[test]
    fn key_ids_are_taken_from_hex_or_a_public_key() {
        let k = SecretKey::generate().public();
        assert_eq!(key_id("key", &k.key_id().to_string()).unwrap(), k.key_id());
        assert_eq!(key_id("key", &k.to_hex()).unwrap(), k.key_id());
        let err = key_id("key", "/nonexistent/key.pub").unwrap_err();
        assert!(format!("{err:#}").contains("--key"), "{err:#}");
    }

    #[test]
    fn tally_counts_valid_distinct_approvals_and_flags_the_rest() {
        let (keys, auth) = authority(4);
        assert_eq!(auth.needed, 3);
        let mut p = Proposal {
            chain_id: auth.chain,
            subject: Subject::new("PROP-1").unwrap(),
            action: set_permission("a0", &["licence_issue"]).action().unwrap(),
            approvals: Vec::new(),
        };
        for (a, k) in &keys[..2] {
            p.approvals
                .push(approve(a.clone(), k, &p.chain_id, &p.subject, &p.action));
        }
        let t = tally(&p, &auth);
        assert_eq!(
            (t.valid, t.needed, t.all_valid(), t.ready()),
            (2, 3, true, false)
        );
        let (a, k) = &keys[2];
        p.approvals
            .push(approve(a.clone(), k, &p.chain_id, &p.subject, &p.action));
        assert!(tally(&p, &auth).ready());
        // A duplicate, and an approval by an unregistered agency.
        p.approvals.push(p.approvals[0].clone());
        let stranger = SecretKey::generate();
        p.approvals.push(approve(
            AgencyId::new("stranger").unwrap(),
            &stranger,
            &p.chain_id,
            &p.subject,
            &p.action,
        ));
        let t = tally(&p, &auth);
        assert_eq!(t.verdicts[3].1, Verdict::Duplicate);
        assert_eq!(t.verdicts[4].1, Verdict::UnknownAgency);
        assert!(!t.ready());
        // The action changed after approval: no signature verifies.
        p.approvals.truncate(3);
        p.action = set_permission("a0", &[]).action().unwrap();
        let t = tally(&p, &auth);
        assert!(t.verdicts.iter().all(|(_, v)| *v == Verdict::BadSignature));
        assert_eq!(t.valid, 0);
        // Another chain.
        let mut other = auth.clone();
        other.chain = ChainId(chancery_types::Hash::of(b"other"));
        assert!(!tally(&p, &other).chain_matches);
    }
}
