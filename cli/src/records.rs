//! `submit`, `get` and `status`: records through a node's gRPC API.
//!
//! A record to submit is a JSON file with the unsigned record's fields;
//! `key_id`, `timestamp` and `nonce` are filled in when absent, and `body`
//! is plain text (stored as its UTF-8 bytes):
//!
//! ```json
//! { "kind": { "type": "licence_issue", "class": "driving",
//!             "valid_from": 1795000000000, "valid_until": 1826000000000 },
//!   "issuer": "transport", "subject": "DL-0001",
//!   "body": "{\"holder_ref\":\"3f1c…\"}" }
//! ```

use std::path::Path;
use std::time::{SystemTime, UNIX_EPOCH};

use anyhow::{Context, Result};
use chancery_client::Client;
use chancery_types::bounded::{Bytes, List};
use chancery_types::crypto::keyfile::read_secret_key;
use chancery_types::{
    AgencyId, ChainId, Genesis, KeyId, Record, RecordId, RecordKind, SignedRecord, Subject,
    Timestamp,
};
use serde::Deserialize;
use serde_json::json;

/// The fields of a record file.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RecordFile {
    kind: RecordKind,
    issuer: AgencyId,
    subject: Subject,
    #[serde(default)]
    body: String,
    #[serde(default)]
    references: Vec<RecordId>,
    key_id: Option<KeyId>,
    timestamp: Option<Timestamp>,
    nonce: Option<u64>,
}

pub fn now_ms() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_millis() as u64)
        .unwrap_or(0)
}

/// Milliseconds since the epoch as RFC 3339 UTC.
pub fn time(ms: u64) -> String {
    let t = UNIX_EPOCH + std::time::Duration::from_millis(ms);
    humantime::format_rfc3339_millis(t).to_string()
}

/// Parses a time given as RFC 3339 (`2026-12-01T00:00:00Z`), as
/// milliseconds since the Unix epoch (`1795000000000`), or as `now`.
pub fn parse_time(text: &str) -> Result<Timestamp, String> {
    if text == "now" {
        return Ok(Timestamp(now_ms()));
    }
    if !text.is_empty() && text.bytes().all(|b| b.is_ascii_digit()) {
        return text
            .parse::<u64>()
            .map(Timestamp)
            .map_err(|e| format!("`{text}` is not a number of milliseconds: {e}"));
    }
    let t = humantime::parse_rfc3339_weak(text).map_err(|e| {
        format!(
            "`{text}` is neither an RFC 3339 time (2026-12-01T00:00:00Z) \
             nor milliseconds since the Unix epoch: {e}"
        )
    })?;
    let ms = t
        .duration_since(UNIX_EPOCH)
        .map_err(|_| format!("`{text}` is before 1970"))?
        .as_millis();
    u64::try_from(ms)
        .map(Timestamp)
        .map_err(|_| format!("`{text}` is too far in the future"))
}

/// Reads a record file and signs it with the key in `key_file` for `chain`.
pub fn sign_file(path: &Path, key_file: &Path, chain: &ChainId) -> Result<SignedRecord> {
    let text =
        std::fs::read_to_string(path).with_context(|| format!("cannot read {}", path.display()))?;
    let f: RecordFile = serde_json::from_str(&text)
        .with_context(|| format!("{} is not a record file", path.display()))?;
    sign_record(f, key_file, chain)
}

/// Builds and signs a record from its parts (`key_id`, `timestamp` and
/// `nonce` default to the key's id, now, and now).
pub fn sign_parts(
    kind: RecordKind,
    issuer: &str,
    subject: &str,
    body: String,
    key_file: &Path,
    chain: &ChainId,
) -> Result<SignedRecord> {
    let f = RecordFile {
        kind,
        issuer: AgencyId::new(issuer).context("--issuer")?,
        subject: Subject::new(subject).context("--subject")?,
        body,
        references: Vec::new(),
        key_id: None,
        timestamp: None,
        nonce: None,
    };
    sign_record(f, key_file, chain)
}

fn sign_record(f: RecordFile, key_file: &Path, chain: &ChainId) -> Result<SignedRecord> {
    let key = read_secret_key(key_file)?;
    let now = now_ms();
    let record = Record {
        kind: f.kind,
        issuer: f.issuer,
        key_id: f.key_id.unwrap_or_else(|| key.public().key_id()),
        subject: f.subject,
        body: Bytes::new(f.body.into_bytes()).context("body")?,
        references: List::new(f.references).context("references")?,
        timestamp: f.timestamp.unwrap_or(Timestamp(now)),
        nonce: f.nonce.unwrap_or(now),
    };
    Ok(record.sign(&key, chain))
}

/// The chain to sign for: from the genesis file when given (trusting it),
/// else as reported by the node.
pub async fn chain_id(genesis: Option<&Path>, client: &mut Client) -> Result<ChainId> {
    if let Some(path) = genesis {
        return Ok(read_genesis(path)?.chain_id());
    }
    let status = client.status().await?;
    status
        .chain_id
        .parse::<chancery_types::Hash>()
        .map(ChainId)
        .map_err(|e| anyhow::anyhow!("node reported an invalid chain id: {e}"))
}

/// Reads and validates a genesis file.
pub fn read_genesis(path: &Path) -> Result<Genesis> {
    let text =
        std::fs::read_to_string(path).with_context(|| format!("cannot read {}", path.display()))?;
    let g = Genesis::from_json(&text)
        .with_context(|| format!("{} is not a genesis file", path.display()))?;
    g.validate()
        .with_context(|| format!("{} is not a valid genesis", path.display()))?;
    Ok(g)
}

/// `chancery submit`.
pub async fn submit(
    client: &mut Client,
    record: &SignedRecord,
    wait: bool,
    as_json: bool,
) -> Result<()> {
    let done = client.submit(record, wait).await?;
    if as_json {
        let c = done.commitment.as_ref().map(commitment_json);
        println!(
            "{}",
            json!({ "record_id": done.id.to_string(), "commitment": c })
        );
    } else {
        println!("record id   {}", done.id);
        match done.commitment {
            Some(c) => {
                println!("height      {}", c.height);
                println!("result      {}", c.result);
            }
            None => println!("submitted; not waiting for the commit"),
        }
    }
    Ok(())
}

/// A commitment as the CLI's JSON output gives it.
pub(crate) fn commitment_json(c: &chancery_client::Commitment) -> serde_json::Value {
    json!({ "height": c.height, "result": c.result, "log_index": c.log_index,
            "committed_at_ms": c.committed_at_ms })
}

/// `chancery get`.
pub async fn get(client: &mut Client, id: &RecordId, as_json: bool) -> Result<()> {
    let r = client.record(id).await?;
    let record: serde_json::Value = serde_json::from_str(&r.record_json)?;
    let status: serde_json::Value = serde_json::from_str(&r.status_json)?;
    let c = r.commitment.unwrap_or_default();
    if as_json {
        println!(
            "{}",
            json!({ "record_id": id.to_string(), "record": record,
                    "commitment": commitment_json(&c),
                    "status": r.status, "status_detail": status })
        );
    } else {
        let rec = &record["record"];
        println!("record id   {id}");
        println!(
            "kind        {}",
            rec["kind"]["type"].as_str().unwrap_or("?")
        );
        println!("issuer      {}", rec["issuer"].as_str().unwrap_or("?"));
        println!("subject     {}", rec["subject"].as_str().unwrap_or("?"));
        println!("height      {}", c.height);
        println!("committed   {}", time(c.committed_at_ms));
        println!("result      {}", c.result);
        println!("status      {}", r.status);
    }
    Ok(())
}

/// `chancery status`.
pub async fn status(client: &mut Client, as_json: bool) -> Result<()> {
    let s = client.status().await?;
    if as_json {
        println!(
            "{}",
            json!({ "chain_id": s.chain_id, "chain_name": s.chain_name, "height": s.height,
                    "head_hash": s.head_hash, "head_time_ms": s.head_time_ms, "agency": s.agency,
                    "validator_index": s.validator_index, "validators": s.validators,
                    "connected_peers": s.connected_peers, "log_size": s.log_size,
                    "frames_dropped": s.frames_dropped,
                    "connections_refused": s.connections_refused,
                    "view": s.view, "primary_index": s.primary_index,
                    "records_waiting": s.records_waiting,
                    "oldest_waiting_ms": s.oldest_waiting_ms,
                    "suspects_primary": s.suspects_primary,
                    "version": s.version })
        );
    } else {
        println!("chain       {} ({})", s.chain_name, s.chain_id);
        println!(
            "validator   {} of {} ({})",
            s.validator_index, s.validators, s.agency
        );
        println!("height      {}", s.height);
        println!("head        {}", s.head_hash);
        println!("records     {}", s.log_size);
        println!(
            "peers       {}/{}",
            s.connected_peers,
            s.validators.saturating_sub(1)
        );
        println!(
            "network     {} frames dropped, {} connections refused",
            s.frames_dropped, s.connections_refused
        );
        println!(
            "consensus   view {}, primary validator {}{}",
            s.view,
            s.primary_index,
            if s.suspects_primary {
                " (suspected: a record waited past consensus.request_timeout)"
            } else {
                ""
            }
        );
        if s.records_waiting == 0 {
            println!("mempool     no records waiting");
        } else {
            println!(
                "mempool     {} records waiting, the oldest for {} ms",
                s.records_waiting, s.oldest_waiting_ms
            );
        }
        println!("version     {}", s.version);
    }
    Ok(())
}

/// The filter flags shared by `query` and `watch`.
#[derive(Debug, Clone, clap::Args)]
pub struct FilterArgs {
    /// Only records with this subject.
    #[arg(long)]
    pub subject: Option<String>,
    /// Only records issued by this agency.
    #[arg(long)]
    pub issuer: Option<String>,
    /// Only records of this kind (licence_issue, grant_create, access_log, ...).
    #[arg(long)]
    pub kind: Option<String>,
    /// Only records in blocks at or above this height.
    #[arg(long)]
    pub from_height: Option<u64>,
    /// Only records in blocks at or below this height.
    #[arg(long)]
    pub to_height: Option<u64>,
}

impl FilterArgs {
    fn filter(&self) -> chancery_client::RecordFilter {
        chancery_client::RecordFilter {
            subject: self.subject.clone().unwrap_or_default(),
            issuer: self.issuer.clone().unwrap_or_default(),
            kind: self.kind.clone().unwrap_or_default(),
            from_height: self.from_height.unwrap_or(0),
            to_height: self.to_height.unwrap_or(0),
        }
    }
}

fn print_item(item: &chancery_client::RecordItem, as_json: bool) -> Result<()> {
    let record: serde_json::Value = serde_json::from_str(&item.record_json)?;
    let c = item.commitment.clone().unwrap_or_default();
    if as_json {
        println!(
            "{}",
            json!({ "record_id": item.record_id, "record": record,
                    "commitment": commitment_json(&c) })
        );
    } else {
        let rec = &record["record"];
        println!(
            "{:>8}  {:<24}  {:<16} {:<12} {:<24} {}",
            c.height,
            time(c.committed_at_ms),
            rec["kind"]["type"].as_str().unwrap_or("?"),
            rec["issuer"].as_str().unwrap_or("?"),
            rec["subject"].as_str().unwrap_or("?"),
            c.result
        );
    }
    Ok(())
}

fn print_header(as_json: bool) {
    if !as_json {
        println!(
            "{:>8}  {:<24}  {:<16} {:<12} {:<24} result",
            "height", "committed", "kind", "issuer", "subject"
        );
    }
}

/// `chancery query`: one page, or every page with `all`.
pub async fn query(
    client: &mut Client,
    args: &FilterArgs,
    limit: u32,
    all: bool,
    as_json: bool,
) -> Result<()> {
    print_header(as_json);
    let mut cursor = String::new();
    loop {
        let page = client.query(args.filter(), &cursor, limit).await?;
        for item in &page.records {
            print_item(item, as_json)?;
        }
        if page.next_cursor.is_empty() {
            return Ok(());
        }
        if !all {
            if !as_json {
                println!("(more records: pass --all to read every page)");
            }
            return Ok(());
        }
        cursor = page.next_cursor;
    }
}

/// `chancery watch`: follows matching records until interrupted,
/// reconnecting (and resuming where it stopped) when the stream breaks.
pub async fn watch(node: &str, args: &FilterArgs, from: u64, as_json: bool) -> Result<()> {
    print_header(as_json);
    let mut next = from;
    loop {
        let mut client = Client::connect(node).await?;
        let mut stream = client.watch(args.filter(), next).await?;
        loop {
            match stream.message().await {
                Ok(Some(item)) => {
                    next = item.commitment.as_ref().map_or(next, |c| c.log_index + 1);
                    print_item(&item, as_json)?;
                }
                Ok(None) => break,
                Err(e) => {
                    eprintln!(
                        "stream interrupted ({}); resuming at log index {next}",
                        e.message()
                    );
                    break;
                }
            }
        }
        tokio::time::sleep(std::time::Duration::from_secs(1)).await;
    }
}
