//! Genesis: JSON round trip, chain id, and validation errors naming the entry.

use chancery_types::bounded::{List, Text};
use chancery_types::crypto::keys::SecretKey;
use chancery_types::genesis::GenesisError;
use chancery_types::*;

fn genesis() -> Genesis {
    let agencies: Vec<Agency> = ["transport", "health"]
        .iter()
        .enumerate()
        .map(|(i, id)| Agency {
            id: AgencyId::new(*id).unwrap(),
            name: Text::new(format!("Agency {id}")).unwrap(),
            admin_key: SecretKey::from_seed(&[i as u8 + 1; 32]).public(),
            issuer_keys: List::new(vec![IssuerKey {
                public: SecretKey::from_seed(&[i as u8 + 10; 32]).public(),
                valid_from: Timestamp(0),
                valid_until: None,
            }])
            .unwrap(),
        })
        .collect();
    let validators = ValidatorSet::new(
        agencies
            .iter()
            .enumerate()
            .map(|(i, a)| Validator {
                agency: a.id.clone(),
                consensus_key: SecretKey::from_seed(&[i as u8 + 20; 32]).public(),
                network_key: SecretKey::from_seed(&[i as u8 + 30; 32]).public(),
                address: Text::new(format!("/ip4/127.0.0.1/tcp/{}", 7000 + i)).unwrap(),
            })
            .collect(),
    )
    .unwrap();
    Genesis {
        chain_name: Text::new("test").unwrap(),
        genesis_time: Timestamp(1_700_000_000_000),
        agencies: List::new(agencies.clone()).unwrap(),
        validators,
        policy: Policy {
            max_body_bytes: 16 * 1024,
            permissions: List::new(
                agencies
                    .iter()
                    .map(|a| Permission {
                        agency: a.id.clone(),
                        licence_classes: List::new(vec![Text::new("*").unwrap()]).unwrap(),
                        may_grant: true,
                        may_log_access: true,
                        denied_kinds: Default::default(),
                        denied_subjects: Default::default(),
                    })
                    .collect(),
            )
            .unwrap(),
        },
        params: ChainParams::default(),
        governance: Default::default(),
    }
}

#[test]
fn json_round_trip_keeps_the_chain_id() {
    let g = genesis();
    g.validate().unwrap();
    let json = g.to_json();
    let back = Genesis::from_json(&json).unwrap();
    assert_eq!(back, g);
    assert_eq!(back.chain_id(), g.chain_id());
    assert!(json.contains("\"chain_name\": \"test\""));
}

#[test]
fn any_change_changes_the_chain_id() {
    let g = genesis();
    let mut h = g.clone();
    h.policy.max_body_bytes -= 1;
    assert_ne!(g.chain_id(), h.chain_id());
    let mut h = g.clone();
    h.genesis_time = Timestamp(h.genesis_time.0 + 1);
    assert_ne!(g.chain_id(), h.chain_id());
}

#[test]
fn validation_names_the_bad_entry() {
    let mut g = genesis();
    let mut a = g.agencies.clone().into_vec();
    a.push(a[0].clone());
    g.agencies = List::new(a).unwrap();
    assert_eq!(
        g.validate(),
        Err(GenesisError::DuplicateAgency(
            AgencyId::new("transport").unwrap()
        ))
    );

    let mut g = genesis();
    g.agencies = List::new(g.agencies[..1].to_vec()).unwrap();
    g.policy.permissions = List::new(g.policy.permissions[..1].to_vec()).unwrap();
    assert!(matches!(
        g.validate(),
        Err(GenesisError::ValidatorAgencyUnknown { index: 1, .. })
    ));

    let mut g = genesis();
    g.policy.max_body_bytes = 0;
    assert_eq!(g.validate(), Err(GenesisError::BodyLimit(0)));

    let mut g = genesis();
    g.params.execution_lag = 0;
    assert_eq!(g.validate(), Err(GenesisError::ExecutionLag(0)));

    let mut g = genesis();
    let mut a = g.agencies.clone().into_vec();
    let k = a[0].issuer_keys[0].clone();
    a[1].issuer_keys = List::new(vec![k]).unwrap();
    g.agencies = List::new(a).unwrap();
    assert!(matches!(
        g.validate(),
        Err(GenesisError::DuplicateIssuerKey { .. })
    ));
}

#[test]
fn bad_json_names_the_problem() {
    let json = genesis()
        .to_json()
        .replace("\"transport\"", "\"Transport!\"");
    let err = Genesis::from_json(&json).unwrap_err().to_string();
    assert!(err.contains("invalid agency id \"Transport!\""), "{err}");
    let err = Genesis::from_json("{").unwrap_err().to_string();
    assert!(err.contains("genesis JSON"), "{err}");
}

#[test]
fn record_signature_binds_record_and_chain() {
    let g = genesis();
    let chain = g.chain_id();
    let issuer = SecretKey::from_seed(&[10; 32]);
    let record = Record {
        kind: RecordKind::LicenceIssue {
            class: Text::new("driving").unwrap(),
            valid_from: Timestamp(0),
            valid_until: Timestamp(10),
        },
        issuer: AgencyId::new("transport").unwrap(),
        key_id: issuer.public().key_id(),
        subject: Text::new("DL-1").unwrap(),
        body: Bytes::default(),
        references: List::default(),
        timestamp: Timestamp(1),
        nonce: 0,
    };
    let signed = record.clone().sign(&issuer, &chain);
    assert_eq!(signed.verify(&issuer.public(), &chain), Ok(()));
    assert!(
        signed
            .verify(&issuer.public(), &ChainId(Hash::ZERO))
            .is_err()
    );
    let mut tampered = signed.clone();
    tampered.record.nonce = 1;
    assert!(tampered.verify(&issuer.public(), &chain).is_err());
    assert_ne!(tampered.id(), signed.id());
    assert_eq!(
        signed.id(),
        SignedRecord::from_canonical(&signed.to_canonical())
            .unwrap()
            .id()
    );
}
