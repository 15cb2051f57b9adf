//! Submits one licence to a node, waits for its commit, reads it back and
//! verifies its proof against the genesis.
//!
//! ```text
//! cargo run -p chancery-client --example submit -- \
//!     http://127.0.0.1:27200 .testnet/genesis.json .testnet/transport/issuer.key transport
//! ```
#![allow(missing_docs)]

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use anyhow::{Context, Result};
use chancery_client::Client;
use chancery_types::bounded::{Bytes, List, Text};
use chancery_types::crypto::keyfile::read_secret_key;
use chancery_types::*;

#[tokio::main]
async fn main() -> Result<()> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let [addr, genesis, key, agency] = args.as_slice() else {
        anyhow::bail!("usage: submit NODE_ADDR GENESIS_JSON ISSUER_KEY AGENCY");
    };
    let genesis = Genesis::from_json(&std::fs::read_to_string(genesis)?)?;
    let key = read_secret_key(key.as_ref())?;
    let now = SystemTime::now().duration_since(UNIX_EPOCH)?.as_millis() as u64;
    let record = Record {
        kind: RecordKind::LicenceIssue {
            class: Text::new("driving")?,
            valid_from: Timestamp(now),
            valid_until: Timestamp(now + 365 * 24 * 3600 * 1000),
        },
        issuer: AgencyId::new(agency.as_str())?,
        key_id: key.public().key_id(),
        subject: Text::new(format!("DL-EXAMPLE-{now}"))?,
        body: Bytes::new(br#"{"holder_ref":"example"}"#.to_vec())?,
        references: List::default(),
        timestamp: Timestamp(now),
        nonce: now,
    }
    .sign(&key, &genesis.chain_id());

    let mut client = Client::connect(addr).await?;
    let submitted = client.submit(&record, true).await?;
    let c = submitted.commitment.context("no commitment")?;
    println!(
        "{} committed at height {}: {}",
        submitted.id, c.height, c.result
    );
    let read = client.record(&submitted.id).await?;
    println!("status: {}", read.status);
    let bundle = client
        .proof_when_ready(&submitted.id, Duration::from_secs(10))
        .await?;
    let proven = bundle.verify(&genesis)?;
    println!(
        "proof verified: certified at height {} by {} validators",
        proven.certified_height,
        proven.signers.len()
    );
    Ok(())
}
