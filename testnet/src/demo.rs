//! The demo workload: issue licences, grant data access, log an access under
//! the grant, revoke a licence.

use anyhow::{Result, anyhow};
use chancery_types::bounded::{Bytes, List, Text};
use chancery_types::*;

use crate::genesis::Network;

/// One step of the demo, for display.
pub struct Step {
    /// What the step does, in words.
    pub title: String,
    /// The signed record.
    pub record: SignedRecord,
}

fn agency<'a>(net: &'a Network, id: &str) -> Result<&'a crate::genesis::AgencyKeys> {
    net.agencies
        .iter()
        .find(|a| a.id.as_str() == id)
        .ok_or_else(|| anyhow!("the demo needs agency `{id}` (run with at least 3 validators)"))
}

/// Builds the demo records, signed by the agencies' issuer keys. `now` is the
/// issuer timestamp; `nonce` makes each run's records distinct.
pub fn workload(net: &Network, now: Timestamp, nonce: u64) -> Result<Vec<Step>> {
    let chain = net.genesis.chain_id();
    let transport = agency(net, "transport")?;
    let health = agency(net, "health")?;
    let tax = agency(net, "tax")?;
    let year = 365 * 24 * 3600 * 1000;
    let mut steps = Vec::new();
    let mut add = |title: String,
                   a: &crate::genesis::AgencyKeys,
                   kind: RecordKind,
                   subject: String,
                   body: &str|
     -> Result<()> {
        let record = Record {
            kind,
            issuer: a.id.clone(),
            key_id: a.issuer.public().key_id(),
            subject: Text::new(subject)?,
            body: Bytes::new(body.as_bytes().to_vec())?,
            references: List::default(),
            timestamp: now,
            nonce,
        };
        steps.push(Step {
            title,
            record: record.sign(&a.issuer, &chain),
        });
        Ok(())
    };
    for n in 1..=3 {
        let subject = format!("DL-{nonce}-{n:04}");
        add(
            format!("transport issues driving licence {subject}"),
            transport,
            RecordKind::LicenceIssue {
                class: Text::new("driving")?,
                valid_from: now,
                valid_until: Timestamp(now.0 + 10 * year),
            },
            subject,
            // Personal data stays off-chain: only a hash of the holder record.
            &format!(
                r#"{{"holder_ref":"{}"}}"#,
                Hash::of(format!("holder {n}").as_bytes())
            ),
        )?;
    }
    let grant = format!("GRANT-{nonce}-1");
    add(
        format!("health grants tax access to dataset `vaccination-status` ({grant})"),
        health,
        RecordKind::GrantCreate {
            grantee: tax.id.clone(),
            dataset: Text::new("vaccination-status")?,
            purpose: Text::new("benefit-eligibility")?,
            scope: Text::new("status-only")?,
            valid_from: now,
            valid_until: Timestamp(now.0 + year),
        },
        grant.clone(),
        r#"{"legal_basis":"Act 12 s.4"}"#,
    )?;
    add(
        format!("tax logs an access under {grant}"),
        tax,
        RecordKind::AccessLog {
            grant: Text::new(grant)?,
            dataset: Text::new("vaccination-status")?,
        },
        format!("ACCESS-{nonce}-1"),
        &format!(r#"{{"case_ref":"{}"}}"#, Hash::of(b"case 1")),
    )?;
    let revoked = format!("DL-{nonce}-0002");
    add(
        format!("transport revokes licence {revoked}"),
        transport,
        RecordKind::LicenceRevoke,
        revoked,
        r#"{"reason":"medical"}"#,
    )?;
    Ok(steps)
}
