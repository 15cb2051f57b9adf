//! `chancery gov rules`: the rules in force on a node.

use super::*;

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

pub(super) fn print_set(what: &str, s: &ValidatorSetInfo) {
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

pub(super) fn set_json(s: &ValidatorSetInfo) -> serde_json::Value {
    json!({ "from_height": s.from_height, "hash": s.hash, "quorum": s.quorum,
            "validators": s.validators.iter().map(|v| json!({
                "agency": v.agency, "consensus_key": v.consensus_key,
                "network_key": v.network_key, "address": v.address })).collect::<Vec<_>>() })
}

pub(super) fn rules_json(r: &GetRulesResponse) -> serde_json::Value {
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
