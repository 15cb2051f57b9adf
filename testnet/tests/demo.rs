//! The local network generator and the demo workload.

use chancery_testnet::{demo, genesis};
use chancery_types::*;

#[test]
fn generated_network_is_valid_reloads_identically_and_signs_the_demo() {
    let dir = tempfile::tempdir().unwrap();
    let net = genesis::generate(dir.path(), 4, Timestamp(1_000)).unwrap();
    net.genesis.validate().unwrap();
    assert_eq!(net.genesis.validators.n(), 4);
    assert_eq!(net.genesis.validators.quorum(), 3);

    // A second start reuses keys and genesis: same chain.
    let again = genesis::generate(dir.path(), 4, Timestamp(2_000)).unwrap();
    assert_eq!(again.genesis.chain_id(), net.genesis.chain_id());

    let chain = net.genesis.chain_id();
    let steps = demo::workload(&net, Timestamp(5_000), 7).unwrap();
    assert_eq!(steps.len(), 6);
    for s in &steps {
        let agency = net.genesis.agency(&s.record.record.issuer).unwrap();
        let key = agency
            .issuer_keys
            .iter()
            .find(|k| k.key_id() == s.record.record.key_id)
            .unwrap();
        assert_eq!(s.record.verify(&key.public, &chain), Ok(()), "{}", s.title);
    }
    let kinds: Vec<&str> = steps.iter().map(|s| s.record.record.kind.name()).collect();
    assert_eq!(
        kinds,
        [
            "licence_issue",
            "licence_issue",
            "licence_issue",
            "grant_create",
            "access_log",
            "licence_revoke"
        ]
    );
}

#[test]
fn secret_keys_are_written_0600() {
    use std::os::unix::fs::PermissionsExt;
    let dir = tempfile::tempdir().unwrap();
    let net = genesis::generate(dir.path(), 1, Timestamp(0)).unwrap();
    for name in ["admin.key", "issuer.key", "consensus.key", "network.key"] {
        let mode = std::fs::metadata(net.agencies[0].dir.join(name))
            .unwrap()
            .permissions()
            .mode();
        assert_eq!(mode & 0o777, 0o600, "{name}");
    }
}
