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
//!
//! Modules: `action` (the actions' flags, parsing and descriptions),
//! `tally` (approvals against an authority's keys and threshold), `rules`
//! (`gov rules`). Proposal files, `propose`, `approve`, `show` and `submit`
//! are here.

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

mod action;
mod rules;
mod tally;

pub use action::*;
pub use rules::*;
pub use tally::*;

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
        let c = done
            .commitment
            .as_ref()
            .map(crate::records::commitment_json);
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
