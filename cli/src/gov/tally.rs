//! Counting a proposal's approvals against the admin keys and threshold
//! of an [`Authority`] (the genesis, or the rules on a node).

use super::*;

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
    pub(super) fn label(self) -> &'static str {
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
