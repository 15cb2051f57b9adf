//! The CLI's key commands, run as a real process.

use std::process::Command;

fn chancery() -> Command {
    Command::new(env!("CARGO_BIN_EXE_chancery"))
}

#[test]
fn keygen_then_show_prints_the_same_key() {
    let dir = tempfile::tempdir().unwrap();
    let key = dir.path().join("a.key");
    let out = chancery()
        .args(["--json", "keygen", "--out"])
        .arg(&key)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let made: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let out = chancery()
        .args(["--json", "key-show"])
        .arg(&key)
        .output()
        .unwrap();
    assert!(out.status.success());
    let shown: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(made["public_key"], shown["public_key"]);
    assert_eq!(made["public_key"].as_str().unwrap().len(), 64);
}

#[test]
fn keygen_refuses_to_overwrite_and_exits_2() {
    let dir = tempfile::tempdir().unwrap();
    let key = dir.path().join("a.key");
    assert!(
        chancery()
            .args(["keygen", "--out"])
            .arg(&key)
            .status()
            .unwrap()
            .success()
    );
    let out = chancery()
        .args(["keygen", "--out"])
        .arg(&key)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("already exists"));
}

#[test]
fn key_show_on_a_missing_file_names_it() {
    let out = chancery()
        .args(["key-show", "/nonexistent/k.key"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("/nonexistent/k.key"));
}
