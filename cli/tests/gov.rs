//! Governance proposals through the CLI, offline: propose, approve with
//! admin keys, show. Approvals verify against the genesis; a second
//! approval of one agency, a foreign admin key and another chain are
//! refused; a file edited after approval is reported (exit 1).

use std::path::{Path, PathBuf};
use std::process::Command;

use serde_json::Value;

fn chancery(args: &[&str]) -> (i32, String, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_chancery"))
        .args(args)
        // Nothing here may reach a node.
        .env("CHANCERY_NODE", "http://127.0.0.1:1")
        .output()
        .unwrap();
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

fn ok(args: &[&str]) -> String {
    let (code, out, err) = chancery(args);
    assert_eq!(code, 0, "{args:?}: {err}{out}");
    out
}

fn json(args: &[&str]) -> Value {
    let mut all = vec!["--json"];
    all.extend_from_slice(args);
    serde_json::from_str(ok(&all).trim()).unwrap()
}

fn keygen(dir: &Path, name: &str) -> String {
    let path = dir.join(name);
    ok(&["keygen", "--out", path.to_str().unwrap()]);
    path.to_str().unwrap().to_owned()
}

struct Agency {
    admin: String,
    issuer: String,
    consensus: String,
    network: String,
    entry: String,
}

fn agency(dir: &Path, chain: &str, id: &str, port: u16) -> Agency {
    let d = dir.join(chain).join(id);
    std::fs::create_dir_all(&d).unwrap();
    let a = Agency {
        admin: keygen(&d, "admin.key"),
        issuer: keygen(&d, "issuer.key"),
        consensus: keygen(&d, "consensus.key"),
        network: keygen(&d, "network.key"),
        entry: d.join("entry.json").to_str().unwrap().to_owned(),
    };
    ok(&[
        "genesis",
        "entry",
        "--agency",
        id,
        "--name",
        &format!("Agency {id}"),
        "--chain-name",
        chain,
        "--admin-key",
        &a.admin,
        "--issuer-key",
        &a.issuer,
        "--consensus-key",
        &a.consensus,
        "--network-key",
        &a.network,
        "--address",
        &format!("/ip4/127.0.0.1/tcp/{port}"),
        "--licence-class",
        "driving",
        "--may-grant",
        "-o",
        &a.entry,
    ]);
    a
}

/// A genesis of `ids` for chain `chain`; its path and chain id.
fn genesis(dir: &Path, chain: &str, ids: &[&str]) -> (Vec<Agency>, String, String) {
    let agencies: Vec<Agency> = ids
        .iter()
        .enumerate()
        .map(|(i, id)| agency(dir, chain, id, 7000 + i as u16))
        .collect();
    let out = dir.join(format!("{chain}.genesis.json"));
    let mut args = vec!["--json", "genesis", "combine"];
    args.extend(agencies.iter().map(|a| a.entry.as_str()));
    args.extend([
        "--chain-name",
        chain,
        "--genesis-time",
        "2026-12-01T00:00:00Z",
        "-o",
        out.to_str().unwrap(),
    ]);
    let stdout = ok(&args);
    let v: Value = serde_json::from_str(stdout.lines().last().unwrap()).unwrap();
    let id = v["chain_id"].as_str().unwrap().to_owned();
    (agencies, out.to_str().unwrap().to_owned(), id)
}

fn read(path: &Path) -> Value {
    serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap()
}

#[test]
fn approvals_verify_duplicates_and_foreign_keys_are_refused_and_tampering_is_reported() {
    let dir = tempfile::tempdir().unwrap();
    let ids = ["tax", "health", "transport", "lands"];
    let (a, g, chain_id) = genesis(dir.path(), "gov", &ids);
    let file: PathBuf = dir.path().join("prop-1.json");
    let f = file.to_str().unwrap();
    ok(&[
        "gov",
        "propose",
        "set-permission",
        "--agency",
        "transport",
        "--classes",
        "driving,vehicle",
        "--may-grant",
        "--deny-kinds",
        "licence_issue",
        "--id",
        "PROP-1",
        "--genesis",
        &g,
        "-o",
        f,
    ]);
    let p = read(&file);
    assert_eq!(p["chain_id"], chain_id.as_str());
    assert_eq!(p["subject"], "PROP-1");
    assert_eq!(p["action"]["action"], "set_permission");
    assert_eq!(
        p["action"]["permission"]["denied_kinds"],
        serde_json::json!(["licence_issue"])
    );
    assert_eq!(p["approvals"], serde_json::json!([]));
    // A proposal file is never overwritten.
    let (code, _, err) = chancery(&[
        "gov",
        "propose",
        "--id",
        "PROP-1",
        "-o",
        f,
        "--genesis",
        &g,
        "remove-validator",
        "--consensus-key",
        &a[0].consensus,
    ]);
    assert_eq!(code, 2);
    assert!(err.contains("already exists"), "{err}");

    // 4 agencies, 2/3: three approvals needed.
    let v = json(&["gov", "show", f, "--genesis", &g]);
    assert_eq!(
        (v["valid"].as_u64(), v["needed"].as_u64()),
        (Some(0), Some(3))
    );
    assert_eq!(v["ready"], false);
    let approve = |i: usize, id: &str| {
        chancery(&[
            "gov",
            "approve",
            f,
            "--agency",
            id,
            "--admin-key",
            &a[i].admin,
            "--genesis",
            &g,
        ])
    };
    assert_eq!(approve(0, "tax").0, 0);
    assert_eq!(approve(1, "health").0, 0);
    let v = json(&["gov", "show", f, "--genesis", &g]);
    assert_eq!(v["valid"], 2);
    assert_eq!(v["ready"], false);
    // A second approval of one agency is refused, naming it.
    let (code, _, err) = approve(0, "tax");
    assert_eq!(code, 2);
    assert!(
        err.contains("already carries an approval of `tax`"),
        "{err}"
    );
    // So is an admin key that is not the agency's.
    let (code, _, err) = approve(1, "transport");
    assert_eq!(code, 2);
    assert!(err.contains("not the admin key of `transport`"), "{err}");
    assert_eq!(read(&file)["approvals"].as_array().unwrap().len(), 2);
    // Without --genesis the approval is signed all the same (checked later).
    ok(&[
        "gov",
        "approve",
        f,
        "--agency",
        "transport",
        "--admin-key",
        &a[2].admin,
    ]);
    let v = json(&["gov", "show", f, "--genesis", &g]);
    assert_eq!(
        (v["valid"].as_u64(), v["ready"].as_bool()),
        (Some(3), Some(true))
    );
    let checks: Vec<&str> = v["approvals"]
        .as_array()
        .unwrap()
        .iter()
        .map(|x| x["check"].as_str().unwrap())
        .collect();
    assert_eq!(checks, ["valid", "valid", "valid"]);
    let text = ok(&["gov", "show", f, "--genesis", &g]);
    assert!(text.contains("valid       3 of 3 needed"), "{text}");
    assert!(text.contains("ready       yes"), "{text}");
    // Without anything to check against, show lists the approvals unchecked.
    let text = ok(&["gov", "show", f]);
    assert!(text.contains("not checked"), "{text}");

    // Another chain: approve refuses, show reports the mismatch (exit 1).
    let (_, other, _) = genesis(dir.path(), "other", &["tax"]);
    let (code, _, err) = chancery(&[
        "gov",
        "approve",
        f,
        "--agency",
        "tax",
        "--admin-key",
        &a[3].admin,
        "--genesis",
        &other,
    ]);
    assert_eq!(code, 2);
    assert!(err.contains("is for chain"), "{err}");
    let (code, out, _) = chancery(&["--json", "gov", "show", f, "--genesis", &other]);
    assert_eq!(code, 1, "{out}");
    let v: Value = serde_json::from_str(out.trim()).unwrap();
    assert_eq!(v["chain_matches"], false);

    // Tampering: the deny list is dropped after the approvals were made.
    let mut p = read(&file);
    p["action"]["permission"]["denied_kinds"] = serde_json::json!([]);
    std::fs::write(&file, p.to_string()).unwrap();
    let (code, out, _) = chancery(&["gov", "show", f, "--genesis", &g]);
    assert_eq!(code, 1, "{out}");
    assert!(out.contains("signature does not verify"), "{out}");
    assert!(out.contains("ready       NO"), "{out}");
    let (code, out, _) = chancery(&["--json", "gov", "show", f, "--genesis", &g]);
    assert_eq!(code, 1);
    let v: Value = serde_json::from_str(out.trim()).unwrap();
    assert_eq!(v["valid"], 0);
    // An approval moved to another agency's name does not verify either.
    let mut p = read(&file);
    p["action"]["permission"]["denied_kinds"] = serde_json::json!(["licence_issue"]);
    p["approvals"][2]["agency"] = serde_json::json!("lands");
    std::fs::write(&file, p.to_string()).unwrap();
    let v = {
        let (code, out, _) = chancery(&["--json", "gov", "show", f, "--genesis", &g]);
        assert_eq!(code, 1, "{out}");
        serde_json::from_str::<Value>(out.trim()).unwrap()
    };
    assert_eq!(v["valid"], 2);
    assert_eq!(v["approvals"][2]["check"], "signature does not verify");
    // Not a proposal at all: named.
    std::fs::write(&file, "{ not json").unwrap();
    let (code, _, err) = chancery(&["gov", "show", f]);
    assert_eq!(code, 2);
    assert!(err.contains("is not a proposal file"), "{err}");
}

#[test]
fn every_action_is_built_from_flags() {
    let dir = tempfile::tempdir().unwrap();
    let (a, g, _) = genesis(dir.path(), "gov", &["tax", "health"]);
    let out = |name: &str| dir.path().join(name).to_str().unwrap().to_owned();
    let propose = |name: &str, action: &[&str]| -> Value {
        let file = out(name);
        let mut args = vec!["gov", "propose", "--id", name, "--genesis", &g, "-o", &file];
        args.extend_from_slice(action);
        ok(&args);
        read(Path::new(&file))["action"].clone()
    };
    let new_key = keygen(dir.path(), "new-issuer.key");
    let new_pub = json(&["key-show", &new_key])["public_key"]
        .as_str()
        .unwrap()
        .to_owned();
    let old = json(&["key-show", &a[0].issuer])["key_id"]
        .as_str()
        .unwrap()
        .to_owned();

    let v = propose(
        "P-add-key",
        &[
            "add-key",
            "--agency",
            "tax",
            "--public",
            &new_pub,
            "--valid-from",
            "1796083200000",
            "--valid-until",
            "2027-12-01T00:00:00Z",
        ],
    );
    assert_eq!(v["action"], "add_issuer_key");
    assert_eq!(v["key"]["valid_from"], 1_796_083_200_000u64);
    assert_eq!(v["key"]["valid_until"], 1_827_619_200_000u64);

    let v = propose(
        "P-rotate",
        &[
            "rotate-key",
            "--agency",
            "tax",
            "--old",
            &old,
            "--new-key-file",
            &new_key,
            "--valid-from",
            "2027-01-01T00:00:00Z",
        ],
    );
    assert_eq!(v["action"], "rotate_issuer_key");
    assert_eq!(v["old"], old.as_str());
    assert_eq!(v["new"]["public"], new_pub.as_str());

    // The key may be named by its key file too.
    let v = propose(
        "P-revoke",
        &[
            "revoke-key",
            "--agency",
            "tax",
            "--key",
            &a[0].issuer,
            "--compromised-since",
            "2026-12-02T08:00:00Z",
        ],
    );
    assert_eq!(v["action"], "revoke_issuer_key");
    assert_eq!(v["key"], old.as_str());
    assert_eq!(v["compromised_since"], 1_796_198_400_000u64);

    let v = propose(
        "P-add-validator",
        &[
            "add-validator",
            "--agency",
            "health",
            "--consensus-key",
            &new_key,
            "--network-key",
            &new_pub,
            "--address",
            "/ip4/10.0.0.9/tcp/27100",
        ],
    );
    assert_eq!(v["action"], "add_validator");
    assert_eq!(v["validator"]["consensus_key"], new_pub.as_str());

    let v = propose(
        "P-remove-validator",
        &["remove-validator", "--consensus-key", &a[1].consensus],
    );
    assert_eq!(v["action"], "remove_validator");

    // A new agency from its signed genesis entry (of another ceremony).
    let (lands, _, _) = genesis(dir.path(), "lands-chain", &["lands"]);
    let v = propose(
        "P-add-agency",
        &["add-agency", "--agency-file", &lands[0].entry],
    );
    assert_eq!(v["action"], "add_agency");
    assert_eq!(v["agency"]["id"], "lands");
    // An entry edited after signing is refused.
    let mut e = read(Path::new(&lands[0].entry));
    e["entry"]["agency"]["name"] = serde_json::json!("Someone Else");
    std::fs::write(&lands[0].entry, e.to_string()).unwrap();
    let (code, _, err) = chancery(&[
        "gov",
        "propose",
        "--id",
        "P-x",
        "--genesis",
        &g,
        "-o",
        &out("P-x"),
        "add-agency",
        "--agency-file",
        &lands[0].entry,
    ]);
    assert_eq!(code, 2);
    assert!(err.contains("admin key"), "{err}");

    // Bad input is named: a time, a kind, a missing id.
    let (code, _, err) = chancery(&[
        "gov",
        "propose",
        "--id",
        "P-y",
        "-o",
        &out("P-y"),
        "--genesis",
        &g,
        "revoke-key",
        "--agency",
        "tax",
        "--key",
        &old,
        "--compromised-since",
        "yesterday",
    ]);
    assert_eq!(code, 2);
    assert!(
        err.contains("--compromised-since") && err.contains("yesterday"),
        "{err}"
    );
    let (code, _, err) = chancery(&[
        "gov",
        "propose",
        "--id",
        "P-z",
        "-o",
        &out("P-z"),
        "--genesis",
        &g,
        "set-permission",
        "--agency",
        "tax",
        "--deny-kinds",
        "licence_isue",
    ]);
    assert_eq!(code, 2);
    assert!(err.contains("`licence_isue` is not a record kind"), "{err}");
    let (code, _, err) = chancery(&[
        "gov",
        "propose",
        "-o",
        &out("P-w"),
        "--genesis",
        &g,
        "remove-validator",
        "--consensus-key",
        &a[1].consensus,
    ]);
    assert_eq!(code, 2);
    assert!(err.contains("--id is required"), "{err}");
}
