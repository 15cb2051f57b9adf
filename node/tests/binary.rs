//! The `chancery-node` binary's start-up checks, run as a real process:
//! bad configurations and keys are refused with the key or file named.

use std::path::Path;
use std::process::Command;

use chancery_testnet::genesis;
use chancery_types::Timestamp;
use chancery_types::crypto::keyfile::write_secret_key;

fn node(config: &Path, extra: &[&str]) -> (i32, String, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_chancery-node"))
        .arg("--config")
        .arg(config)
        .args(extra)
        .env_remove("CHANCERY_LOG")
        .output()
        .unwrap();
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

#[test]
fn check_accepts_a_generated_validator() {
    let dir = tempfile::tempdir().unwrap();
    let net = genesis::generate(dir.path(), 4, Timestamp(1_000)).unwrap();
    let (code, out, err) = node(&net.node_config(2), &["--check"]);
    assert_eq!(code, 0, "{err}");
    assert!(out.contains("validator 2 of 4 for agency `tax`"), "{out}");
}

#[test]
fn unknown_config_key_is_named_and_exits_2() {
    let dir = tempfile::tempdir().unwrap();
    let net = genesis::generate(dir.path(), 1, Timestamp(1_000)).unwrap();
    let path = net.node_config(0);
    let text = std::fs::read_to_string(&path).unwrap();
    std::fs::write(&path, text.replace("[block]", "[block]\nmax_recrods = 5")).unwrap();
    let (code, _, err) = node(&path, &["--check"]);
    assert_eq!(code, 2);
    assert!(err.contains("max_recrods"), "{err}");
}

#[test]
fn a_key_outside_the_validator_set_follows_the_chain() {
    let dir = tempfile::tempdir().unwrap();
    let net = genesis::generate(dir.path(), 2, Timestamp(1_000)).unwrap();
    // Replace validator 0's consensus key with a key the genesis does not
    // know: a validator that governance has yet to add.
    let key = net.agencies[0].dir.join("consensus.key");
    std::fs::remove_file(&key).unwrap();
    write_secret_key(&key, &chancery_types::SecretKey::generate()).unwrap();
    let (code, out, err) = node(&net.node_config(0), &["--check"]);
    assert_eq!(code, 0, "{err}");
    assert!(
        out.contains("not a genesis validator") && out.contains("follow the chain"),
        "{out}"
    );
}

#[test]
fn a_validator_with_another_network_key_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let net = genesis::generate(dir.path(), 2, Timestamp(1_000)).unwrap();
    let key = net.agencies[0].dir.join("network.key");
    std::fs::remove_file(&key).unwrap();
    write_secret_key(&key, &chancery_types::SecretKey::generate()).unwrap();
    let (code, _, err) = node(&net.node_config(0), &["--check"]);
    assert_eq!(code, 2);
    assert!(err.contains("network_key"), "{err}");
    // And the real node refuses to start with it (exit 1, nothing served).
    let (code, _, err) = node(&net.node_config(0), &[]);
    assert_eq!(code, 1);
    assert!(err.contains("network_key"), "{err}");
}

#[test]
fn a_missing_genesis_is_named() {
    let dir = tempfile::tempdir().unwrap();
    let net = genesis::generate(dir.path(), 1, Timestamp(1_000)).unwrap();
    std::fs::remove_file(dir.path().join("genesis.json")).unwrap();
    let (code, _, err) = node(&net.node_config(0), &["--check"]);
    assert_eq!(code, 2);
    assert!(
        err.contains("genesis") && err.contains("cannot read"),
        "{err}"
    );
}
