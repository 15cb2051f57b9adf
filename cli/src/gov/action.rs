//! The actions a proposal can carry: their flags, how they become a
//! [`GovAction`], and how one is described.

use super::*;

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

pub(super) fn agency_id(flag: &str, text: &str) -> Result<AgencyId> {
    AgencyId::new(text).with_context(|| format!("--{flag}"))
}

/// A public key given as 64 hex digits or as a key file (public or secret).
pub(super) fn public_key(flag: &str, text: &str) -> Result<PublicKey> {
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
pub(super) fn key_id(flag: &str, text: &str) -> Result<KeyId> {
    if text.len() == 32 && text.bytes().all(|b| b.is_ascii_hexdigit()) {
        return text
            .parse()
            .with_context(|| format!("--{flag}: `{text}` is not a key id"));
    }
    public_key(flag, text)
        .map(|k| k.key_id())
        .with_context(|| format!("--{flag}: not a key id (32 hex digits) either"))
}

pub(super) fn labels<const N: usize>(flag: &str, values: &[String]) -> Result<List<Label, N>> {
    let items = values
        .iter()
        .map(|v| Label::new(v.as_str()).with_context(|| format!("--{flag}: `{v}`")))
        .collect::<Result<Vec<_>>>()?;
    List::new(items).with_context(|| format!("--{flag}: at most {N} values"))
}

pub(super) fn read_agency(path: &Path) -> Result<Agency> {
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

pub(super) fn window(
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

pub(super) fn key_window(k: &IssuerKey) -> String {
    match k.valid_until {
        Some(end) => format!("valid {} to {}", time(k.valid_from.0), time(end.0)),
        None => format!("valid from {}", time(k.valid_from.0)),
    }
}

pub(super) fn join<T: std::fmt::Display>(items: impl Iterator<Item = T>) -> String {
    items.map(|i| i.to_string()).collect::<Vec<_>>().join(",")
}

pub(super) fn yes_no(b: bool) -> &'static str {
    if b { "yes" } else { "no" }
}
