//! `chancery payload …`: off-chain payloads at a node, and their erasure.
//!
//! ```text
//!  payload put FILE   ──► PutPayload (random salt, upload signature) ──► commitment, salt
//!  payload get C      ──► GetPayload ──► the payload (checked against C), or who erased it
//!  payload erase C    ──► PayloadErase record, signed and submitted ──► committed;
//!                         the owner's payload is deleted at every node that holds it
//! ```
//!
//! See docs/ERASURE.md for the design and the erasure procedure.

use std::io::{Read, Write};
use std::path::{Path, PathBuf};

use anyhow::{Context, Result, bail};
use chancery_client::{Client, Code};
use chancery_types::crypto::keyfile::read_secret_key;
use chancery_types::{AgencyId, Hash, RecordKind, Subject, limits};
use serde_json::json;

/// `chancery payload …`.
#[derive(Debug, clap::Subcommand)]
pub enum PayloadCommand {
    /// Store a file's contents at the node as an off-chain payload of an
    /// agency; prints the commitment (to put in a record's body) and the salt.
    ///
    /// Example: chancery payload put holder.json --agency transport
    ///   --key .testnet/transport/issuer.key
    Put {
        /// The payload file (`-` reads standard input). At most 4 MiB.
        file: PathBuf,
        #[command(flatten)]
        owner: Owner,
    },
    /// Read a payload by its commitment (checked against it). Prints the
    /// payload (raw bytes) unless -o is given; --json prints it as hex.
    ///
    /// Example: chancery payload get 9c1e…d07a -o holder.json
    Get {
        /// The commitment (64 hex digits).
        commitment: String,
        /// Write the payload to this file and print its owner and salt.
        #[arg(short, long)]
        out: Option<PathBuf>,
    },
    /// Erase a payload: sign and submit a payload_erase record for its
    /// commitment. Once committed, every node holding the payload for this
    /// agency deletes it (payload and salt); the commitment and every proof
    /// stay valid.
    ///
    /// Example: chancery payload erase 9c1e…d07a --agency transport
    ///   --key .testnet/transport/issuer.key --id ERASE-2026-0042
    Erase {
        /// The commitment (64 hex digits).
        commitment: String,
        #[command(flatten)]
        owner: Owner,
        /// The erasure's id (the record's subject; unique per agency).
        /// Default: `erase-<commitment>`.
        #[arg(long)]
        id: Option<String>,
        /// Free-form body (JSON text), e.g. the request reference. No personal data.
        #[arg(long, default_value = "{}")]
        body: String,
        /// Return once admitted, without waiting for the commit.
        #[arg(long)]
        no_wait: bool,
    },
}

/// The owning agency and its issuer key.
#[derive(Debug, clap::Args)]
pub struct Owner {
    /// The owning agency's id.
    #[arg(long, alias = "issuer")]
    agency: String,
    /// One of the agency's issuer keys (secret key file).
    #[arg(long)]
    key: PathBuf,
    /// Sign for the chain of this genesis (else the chain the node reports).
    #[arg(long)]
    genesis: Option<PathBuf>,
}

/// Runs a `payload` subcommand against `node`.
pub async fn run(node: &str, cmd: PayloadCommand, as_json: bool) -> Result<()> {
    match cmd {
        PayloadCommand::Put { file, owner } => put(node, &file, &owner, as_json).await,
        PayloadCommand::Get { commitment, out } => {
            get(
                node,
                &parse_commitment(&commitment)?,
                out.as_deref(),
                as_json,
            )
            .await
        }
        PayloadCommand::Erase {
            commitment,
            owner,
            id,
            body,
            no_wait,
        } => {
            let c = parse_commitment(&commitment)?;
            erase(node, &c, &owner, id, body, !no_wait, as_json).await
        }
    }
}

fn parse_commitment(text: &str) -> Result<Hash> {
    text.parse()
        .map_err(|e| anyhow::anyhow!("`{text}` is not a commitment (64 hex digits): {e}"))
}

fn agency(text: &str) -> Result<AgencyId> {
    AgencyId::new(text).context("--agency")
}

fn read_payload(path: &Path) -> Result<Vec<u8>> {
    let mut data = Vec::new();
    // Read one byte past the limit, to refuse without reading a huge file whole.
    let cap = limits::MAX_PAYLOAD as u64 + 1;
    if path == Path::new("-") {
        std::io::stdin()
            .take(cap)
            .read_to_end(&mut data)
            .context("cannot read standard input")?;
    } else {
        std::fs::File::open(path)
            .and_then(|f| f.take(cap).read_to_end(&mut data))
            .with_context(|| format!("cannot read {}", path.display()))?;
    }
    if data.len() > limits::MAX_PAYLOAD {
        bail!(
            "{} is larger than the payload limit of {} bytes",
            path.display(),
            limits::MAX_PAYLOAD
        );
    }
    Ok(data)
}

async fn put(node: &str, file: &Path, owner: &Owner, as_json: bool) -> Result<()> {
    let issuer = agency(&owner.agency)?;
    let key = read_secret_key(&owner.key)?;
    let payload = read_payload(file)?;
    let mut client = Client::connect(node).await?;
    let chain = crate::records::chain_id(owner.genesis.as_deref(), &mut client).await?;
    let (c, salt) = client.put_payload(&issuer, &key, &chain, &payload).await?;
    if as_json {
        println!(
            "{}",
            json!({ "commitment": c.to_string(), "salt": hex::encode(salt),
                    "owner": issuer.to_string(), "bytes": payload.len() })
        );
    } else {
        println!("commitment  {c}");
        println!("salt        {}", hex::encode(salt));
        println!("owner       {issuer}");
        println!("bytes       {}", payload.len());
    }
    Ok(())
}

async fn get(node: &str, c: &Hash, out: Option<&Path>, as_json: bool) -> Result<()> {
    let mut client = Client::connect(node).await?;
    let p = client.payload(c).await?;
    if let Some(path) = out {
        std::fs::write(path, &p.payload)
            .with_context(|| format!("cannot write {}", path.display()))?;
    }
    if as_json {
        let mut v = json!({ "commitment": c.to_string(), "owner": p.owner.to_string(),
                            "salt": hex::encode(p.salt), "bytes": p.payload.len() });
        if out.is_none() {
            v["payload_hex"] = json!(hex::encode(&p.payload));
            if let Ok(text) = std::str::from_utf8(&p.payload) {
                v["payload_text"] = json!(text);
            }
        }
        println!("{v}");
    } else if let Some(path) = out {
        println!("commitment  {c}");
        println!("owner       {}", p.owner);
        println!("salt        {}", hex::encode(p.salt));
        println!(
            "bytes       {} (written to {})",
            p.payload.len(),
            path.display()
        );
    } else {
        let mut stdout = std::io::stdout().lock();
        stdout.write_all(&p.payload)?;
        stdout.flush()?;
    }
    Ok(())
}

async fn erase(
    node: &str,
    c: &Hash,
    owner: &Owner,
    id: Option<String>,
    body: String,
    wait: bool,
    as_json: bool,
) -> Result<()> {
    let issuer = agency(&owner.agency)?;
    let id = id.unwrap_or_else(|| format!("erase-{c}"));
    Subject::new(id.as_str()).context("--id")?;
    let mut client = Client::connect(node).await?;
    let chain = crate::records::chain_id(owner.genesis.as_deref(), &mut client).await?;
    let record = crate::records::sign_parts(
        RecordKind::PayloadErase { commitment: *c },
        issuer.as_str(),
        &id,
        body,
        &owner.key,
        &chain,
    )?;
    let done = client.submit(&record, wait).await?;
    // What this node now says about the payload, once the erasure committed.
    let here = match &done.commitment {
        Some(k) if k.result == "accepted" => Some(match client.payload(c).await {
            Ok(p) if p.owner != issuer => format!(
                "still holds the payload for `{}`: only its owner can erase it",
                p.owner
            ),
            Ok(_) => "still holds the payload".to_owned(),
            Err(chancery_client::ClientError::Status {
                code: Code::NotFound,
                message,
            }) => message,
            Err(e) => format!("cannot tell ({e})"),
        }),
        Some(_) => Some("erasure record rejected; nothing was erased".to_owned()),
        None => None,
    };
    if as_json {
        let commit = done
            .commitment
            .as_ref()
            .map(crate::records::commitment_json);
        println!(
            "{}",
            json!({ "record_id": done.id.to_string(), "erasure_id": id,
                    "commitment": c.to_string(), "commit": commit,
                    "payload_at_node": here })
        );
    } else {
        println!("record id   {}", done.id);
        println!("erasure id  {id}");
        match &done.commitment {
            Some(k) => {
                println!("height      {}", k.height);
                println!("result      {}", k.result);
            }
            None => println!("submitted; not waiting for the commit"),
        }
        if let Some(here) = here {
            println!("this node   {here}");
        }
    }
    Ok(())
}
