//! The genesis ceremony: each agency writes a signed entry (its agency
//! record, validator and permissions); anyone combines the entries into
//! the genesis; every agency re-derives the chain id and compares.
//!
//! ```text
//!  agency A: GenesisEntry ─sign(admin key, "genesis-entry", H(chain name))─► SignedEntry
//!  agency B: …                                                              SignedEntry
//!  combine(entries, chain name, time, params) ─► Genesis ─chain_id()─► printed, compared
//! ```
//!
//! Entries are sorted by agency id before combining, so the genesis (and
//! its hash) does not depend on the order the files are given in. Each
//! entry must be signed by the admin key it declares: nobody can enter an
//! agency's keys in its name.

use bincode::{Decode, Encode};
use serde::{Deserialize, Serialize};

use crate::bounded::{List, Text};
use crate::crypto::signature::{Domain, Signature, SignatureError, verify};
use crate::encoding::{Canonical, DecodeCtx};
use crate::genesis::{Agency, ChainParams, Genesis, GenesisError, Permission, Policy};
use crate::hash::Hash;
use crate::ids::{AgencyId, Timestamp};
use crate::limits;
use crate::validator::{Validator, ValidatorSet, ValidatorSetError};

/// What one agency brings to the genesis.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Encode, Decode, Serialize, Deserialize)]
#[bincode(decode_context = "DecodeCtx")]
pub struct GenesisEntry {
    /// The chain this entry is for (binds the signature to it).
    pub chain_name: Text<{ limits::MAX_NAME }>,
    /// The agency: id, name, admin key, issuer keys.
    pub agency: Agency,
    /// Its validator, when it runs one.
    pub validator: Option<Validator>,
    /// What it may issue.
    pub permission: Permission,
}

impl Canonical for GenesisEntry {}

/// An entry signed by the agency's admin key.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Encode, Decode, Serialize, Deserialize)]
#[bincode(decode_context = "DecodeCtx")]
pub struct SignedEntry {
    /// The entry.
    pub entry: GenesisEntry,
    /// Admin-key signature over the canonical entry.
    pub signature: Signature,
}

impl Canonical for SignedEntry {}

/// Why entries do not combine into a genesis.
#[derive(Debug, thiserror::Error)]
pub enum CeremonyError {
    /// An entry's signature is not by its own admin key.
    #[error("entry of `{agency}`: not signed by its admin key: {error}")]
    Signature {
        /// The agency.
        agency: AgencyId,
        /// Why.
        error: SignatureError,
    },
    /// An entry is for another chain.
    #[error("entry of `{agency}` is for chain `{found}`, not `{expected}`")]
    ChainName {
        /// The agency.
        agency: AgencyId,
        /// Name in the entry.
        found: String,
        /// Name being combined.
        expected: String,
    },
    /// The entry's parts name different agencies.
    #[error("entry of `{0}`: its validator or permission names another agency")]
    Mismatch(AgencyId),
    /// Two entries for one agency.
    #[error("two entries for agency `{0}`")]
    Duplicate(AgencyId),
    /// No validator among the entries, or too many.
    #[error("validators: {0}")]
    Validators(#[from] ValidatorSetError),
    /// The combined genesis is invalid.
    #[error("genesis: {0}")]
    Genesis(#[from] GenesisError),
    /// A list exceeds its bound.
    #[error("too many entries: {0}")]
    TooMany(String),
}

fn ceremony_id(chain_name: &str) -> Hash {
    Hash::of_parts(&[b"chancery/v1/ceremony\0", chain_name.as_bytes()])
}

impl GenesisEntry {
    /// Signs the entry with the agency's admin key.
    pub fn sign(self, admin: &crate::crypto::keys::SecretKey) -> SignedEntry {
        let signature = admin.sign(
            Domain::GenesisEntry,
            &ceremony_id(self.chain_name.as_str()),
            &self.to_canonical(),
        );
        SignedEntry {
            entry: self,
            signature,
        }
    }
}

impl SignedEntry {
    /// Checks the signature against the entry's own admin key, and that the
    /// entry's parts all name its agency.
    pub fn verify(&self) -> Result<(), CeremonyError> {
        let e = &self.entry;
        let id = &e.agency.id;
        verify(
            &e.agency.admin_key,
            Domain::GenesisEntry,
            &ceremony_id(e.chain_name.as_str()),
            &e.to_canonical(),
            &self.signature,
        )
        .map_err(|error| CeremonyError::Signature {
            agency: id.clone(),
            error,
        })?;
        if e.permission.agency != *id || e.validator.as_ref().is_some_and(|v| v.agency != *id) {
            return Err(CeremonyError::Mismatch(id.clone()));
        }
        Ok(())
    }
}

/// Combines verified entries into a validated genesis. The result does
/// not depend on the order of `entries`.
pub fn combine(
    entries: &[SignedEntry],
    chain_name: &str,
    genesis_time: Timestamp,
    params: ChainParams,
    max_body_bytes: u32,
) -> Result<Genesis, CeremonyError> {
    let mut sorted: Vec<&SignedEntry> = entries.iter().collect();
    sorted.sort_by(|a, b| a.entry.agency.id.cmp(&b.entry.agency.id));
    for w in sorted.windows(2) {
        if w[0].entry.agency.id == w[1].entry.agency.id {
            return Err(CeremonyError::Duplicate(w[0].entry.agency.id.clone()));
        }
    }
    for s in &sorted {
        s.verify()?;
        if s.entry.chain_name.as_str() != chain_name {
            return Err(CeremonyError::ChainName {
                agency: s.entry.agency.id.clone(),
                found: s.entry.chain_name.to_string(),
                expected: chain_name.to_owned(),
            });
        }
    }
    let too_many = |e: crate::bounded::TooLong| CeremonyError::TooMany(e.to_string());
    let genesis = Genesis {
        chain_name: Text::new(chain_name).map_err(too_many)?,
        genesis_time,
        agencies: List::new(sorted.iter().map(|s| s.entry.agency.clone()).collect())
            .map_err(too_many)?,
        validators: ValidatorSet::new(
            sorted
                .iter()
                .filter_map(|s| s.entry.validator.clone())
                .collect(),
        )?,
        policy: Policy {
            max_body_bytes,
            permissions: List::new(sorted.iter().map(|s| s.entry.permission.clone()).collect())
                .map_err(too_many)?,
        },
        params,
        governance: Default::default(),
    };
    genesis.validate()?;
    Ok(genesis)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::crypto::keys::SecretKey;
    use crate::genesis::IssuerKey;

    fn entry(id: &str, admin: &SecretKey, chain: &str, port: u16) -> SignedEntry {
        let agency = AgencyId::new(id).unwrap();
        GenesisEntry {
            chain_name: Text::new(chain).unwrap(),
            agency: Agency {
                id: agency.clone(),
                name: Text::new(format!("Agency {id}")).unwrap(),
                admin_key: admin.public(),
                issuer_keys: List::new(vec![IssuerKey {
                    public: SecretKey::generate().public(),
                    valid_from: Timestamp(0),
                    valid_until: None,
                }])
                .unwrap(),
            },
            validator: Some(Validator {
                agency: agency.clone(),
                consensus_key: SecretKey::generate().public(),
                network_key: SecretKey::generate().public(),
                address: Text::new(format!("/ip4/127.0.0.1/tcp/{port}")).unwrap(),
            }),
            permission: Permission {
                agency,
                licence_classes: List::default(),
                may_grant: true,
                may_log_access: true,
                denied_kinds: Default::default(),
                denied_subjects: Default::default(),
            },
        }
        .sign(admin)
    }

    fn combine_all(entries: &[SignedEntry]) -> Result<Genesis, CeremonyError> {
        combine(
            entries,
            "gov",
            Timestamp(5),
            ChainParams { execution_lag: 4 },
            4096,
        )
    }

    #[test]
    fn order_of_entries_does_not_change_the_chain() {
        let keys: Vec<SecretKey> = (0..3).map(|_| SecretKey::generate()).collect();
        let e: Vec<SignedEntry> = ["tax", "health", "transport"]
            .iter()
            .zip(&keys)
            .enumerate()
            .map(|(i, (id, k))| entry(id, k, "gov", 7000 + i as u16))
            .collect();
        let a = combine_all(&e).unwrap();
        let b = combine_all(&[e[2].clone(), e[0].clone(), e[1].clone()]).unwrap();
        assert_eq!(a.chain_id(), b.chain_id());
        assert_eq!(a.validators.n(), 3);
        assert_eq!(a.agencies[0].id.as_str(), "health");
    }

    #[test]
    fn forged_duplicate_and_foreign_entries_are_refused() {
        let k = SecretKey::generate();
        let good = entry("tax", &k, "gov", 7000);
        // Signed by someone else's key.
        let mut forged = entry("health", &SecretKey::generate(), "gov", 7001);
        forged.entry.agency.admin_key = SecretKey::generate().public();
        let err = combine_all(&[good.clone(), forged]).unwrap_err();
        assert!(matches!(err, CeremonyError::Signature { .. }), "{err}");
        // Edited after signing.
        let mut edited = good.clone();
        edited.entry.permission.may_grant = false;
        assert!(matches!(
            combine_all(&[edited]),
            Err(CeremonyError::Signature { .. })
        ));
        // Twice the same agency.
        let twice = entry("tax", &SecretKey::generate(), "gov", 7002);
        assert!(matches!(
            combine_all(&[good.clone(), twice]),
            Err(CeremonyError::Duplicate(_))
        ));
        // For another chain.
        let other = entry("health", &SecretKey::generate(), "other", 7003);
        assert!(matches!(
            combine_all(&[good, other]),
            Err(CeremonyError::ChainName { .. })
        ));
    }
}
