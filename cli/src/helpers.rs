//! Record helpers: licences, grants and access logs from flags, signed
//! with an issuer key and submitted (`chancery licence issue …`).

use std::path::PathBuf;
use std::time::Duration;

use anyhow::{Context, Result};
use chancery_client::Client;
use chancery_types::{AgencyId, Label, RecordKind, Subject, Timestamp};

/// Flags every helper takes.
#[derive(Debug, clap::Args)]
pub struct Signing {
    /// The issuing agency.
    #[arg(long)]
    pub issuer: String,
    /// The issuer's secret key file.
    #[arg(long)]
    pub key: PathBuf,
    /// Sign for the chain of this genesis (else the chain the node reports).
    #[arg(long)]
    pub genesis: Option<PathBuf>,
    /// Free-form body (JSON text); keep personal data off-chain, by hash.
    #[arg(long, default_value = "{}")]
    pub body: String,
    /// Return once admitted, without waiting for the commit.
    #[arg(long)]
    pub no_wait: bool,
}

/// `chancery licence …`.
#[derive(Debug, clap::Subcommand)]
pub enum Licence {
    /// Issue licence SUBJECT of a class, valid from now for a duration.
    ///
    /// Example: chancery licence issue DL-0001 --class driving --valid-for 10y
    ///   --issuer transport --key .testnet/transport/issuer.key
    Issue {
        /// The licence number.
        subject: String,
        /// The licence class.
        #[arg(long)]
        class: String,
        /// How long it is valid (e.g. 365d, 10y).
        #[arg(long, value_parser = humantime::parse_duration)]
        valid_for: Duration,
        #[command(flatten)]
        signing: Signing,
    },
    /// Suspend licence SUBJECT.
    Suspend {
        /// The licence number.
        subject: String,
        #[command(flatten)]
        signing: Signing,
    },
    /// Lift the suspension of licence SUBJECT.
    Reinstate {
        /// The licence number.
        subject: String,
        #[command(flatten)]
        signing: Signing,
    },
    /// Revoke licence SUBJECT, permanently.
    Revoke {
        /// The licence number.
        subject: String,
        #[command(flatten)]
        signing: Signing,
    },
}

/// `chancery grant …`.
#[derive(Debug, clap::Subcommand)]
pub enum Grant {
    /// Grant GRANTEE access to a dataset; SUBJECT names the grant.
    ///
    /// Example: chancery grant create GRANT-7 --grantee tax --dataset vaccination-status
    ///   --purpose benefit-eligibility --scope status-only --valid-for 90d
    ///   --issuer health --key .testnet/health/issuer.key
    Create {
        /// The grant id.
        subject: String,
        /// The agency that may access.
        #[arg(long)]
        grantee: String,
        /// The dataset.
        #[arg(long)]
        dataset: String,
        /// The legal basis or purpose code.
        #[arg(long)]
        purpose: String,
        /// Which part of the dataset.
        #[arg(long)]
        scope: String,
        /// How long it is valid (e.g. 90d).
        #[arg(long, value_parser = humantime::parse_duration)]
        valid_for: Duration,
        #[command(flatten)]
        signing: Signing,
    },
    /// Revoke grant SUBJECT.
    Revoke {
        /// The grant id.
        subject: String,
        #[command(flatten)]
        signing: Signing,
    },
    /// Log one access under grant GRANT; SUBJECT names the access event.
    ///
    /// Example: chancery grant log-access ACCESS-1 --grant GRANT-7 --dataset vaccination-status
    ///   --issuer tax --key .testnet/tax/issuer.key
    LogAccess {
        /// The access-event id.
        subject: String,
        /// The grant it is made under.
        #[arg(long)]
        grant: String,
        /// The dataset accessed.
        #[arg(long)]
        dataset: String,
        #[command(flatten)]
        signing: Signing,
    },
}

fn label(flag: &str, v: &str) -> Result<Label> {
    Label::new(v).with_context(|| format!("--{flag}"))
}

fn window(valid_for: Duration) -> (Timestamp, Timestamp) {
    let now = crate::records::now_ms();
    (
        Timestamp(now),
        Timestamp(now.saturating_add(valid_for.as_millis() as u64)),
    )
}

impl Licence {
    fn parts(self) -> Result<(RecordKind, String, Signing)> {
        Ok(match self {
            Licence::Issue {
                subject,
                class,
                valid_for,
                signing,
            } => {
                let (valid_from, valid_until) = window(valid_for);
                let kind = RecordKind::LicenceIssue {
                    class: label("class", &class)?,
                    valid_from,
                    valid_until,
                };
                (kind, subject, signing)
            }
            Licence::Suspend { subject, signing } => (RecordKind::LicenceSuspend, subject, signing),
            Licence::Reinstate { subject, signing } => {
                (RecordKind::LicenceReinstate, subject, signing)
            }
            Licence::Revoke { subject, signing } => (RecordKind::LicenceRevoke, subject, signing),
        })
    }
}

impl Grant {
    fn parts(self) -> Result<(RecordKind, String, Signing)> {
        Ok(match self {
            Grant::Create {
                subject,
                grantee,
                dataset,
                purpose,
                scope,
                valid_for,
                signing,
            } => {
                let (valid_from, valid_until) = window(valid_for);
                let kind = RecordKind::GrantCreate {
                    grantee: AgencyId::new(grantee.as_str()).context("--grantee")?,
                    dataset: label("dataset", &dataset)?,
                    purpose: label("purpose", &purpose)?,
                    scope: label("scope", &scope)?,
                    valid_from,
                    valid_until,
                };
                (kind, subject, signing)
            }
            Grant::Revoke { subject, signing } => (RecordKind::GrantRevoke, subject, signing),
            Grant::LogAccess {
                subject,
                grant,
                dataset,
                signing,
            } => {
                let kind = RecordKind::AccessLog {
                    grant: Subject::new(grant.as_str()).context("--grant")?,
                    dataset: label("dataset", &dataset)?,
                };
                (kind, subject, signing)
            }
        })
    }
}

/// Signs and submits the record a helper describes.
async fn submit(
    node: &str,
    kind: RecordKind,
    subject: String,
    s: Signing,
    as_json: bool,
) -> Result<()> {
    let mut client = Client::connect(node).await?;
    let chain = crate::records::chain_id(s.genesis.as_deref(), &mut client).await?;
    let record = crate::records::sign_parts(kind, &s.issuer, &subject, s.body, &s.key, &chain)?;
    crate::records::submit(&mut client, &record, !s.no_wait, as_json).await
}

/// `chancery licence …`.
pub async fn licence(node: &str, cmd: Licence, as_json: bool) -> Result<()> {
    let (kind, subject, signing) = cmd.parts()?;
    submit(node, kind, subject, signing, as_json).await
}

/// `chancery grant …`.
pub async fn grant(node: &str, cmd: Grant, as_json: bool) -> Result<()> {
    let (kind, subject, signing) = cmd.parts()?;
    submit(node, kind, subject, signing, as_json).await
}
