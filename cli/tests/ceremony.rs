//! The genesis ceremony through the CLI: three agencies write entries,
//! combining them in any order gives the same chain id, `show` agrees, and
//! an edited entry is refused with its agency named.

use std::path::{Path, PathBuf};
use std::process::Command;

fn chancery(args: &[&str]) -> (i32, String, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_chancery"))
        .args(args)
        .output()
        .unwrap();
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

fn keygen(dir: &Path, name: &str) -> String {
    let path = dir.join(name);
    let (code, _, err) = chancery(&["keygen", "--out", path.to_str().unwrap()]);
    assert_eq!(code, 0, "{err}");
    path.to_str().unwrap().to_owned()
}

fn entry(dir: &Path, agency: &str, port: u16) -> PathBuf {
    let d = dir.join(agency);
    std::fs::create_dir_all(&d).unwrap();
    let out = dir.join(format!("{agency}.entry.json"));
    let (admin, issuer, consensus, network) = (
        keygen(&d, "admin.key"),
        keygen(&d, "issuer.key"),
        keygen(&d, "consensus.key"),
        keygen(&d, "network.key"),
    );
    let address = format!("/ip4/127.0.0.1/tcp/{port}");
    let (code, _, err) = chancery(&[
        "genesis",
        "entry",
        "--agency",
        agency,
        "--name",
        &format!("Agency {agency}"),
        "--chain-name",
        "gov",
        "--admin-key",
        &admin,
        "--issuer-key",
        &issuer,
        "--consensus-key",
        &consensus,
        "--network-key",
        &network,
        "--address",
        &address,
        "--licence-class",
        "driving",
        "--may-grant",
        "-o",
        out.to_str().unwrap(),
    ]);
    assert_eq!(code, 0, "{err}");
    out
}

fn chain_id(stdout: &str) -> String {
    let v: serde_json::Value = serde_json::from_str(stdout.lines().last().unwrap()).unwrap();
    v["chain_id"].as_str().unwrap().to_owned()
}

#[test]
fn entries_combine_to_the_same_chain_in_any_order() {
    let dir = tempfile::tempdir().unwrap();
    let e: Vec<String> = [("tax", 7001), ("health", 7002), ("transport", 7003)]
        .iter()
        .map(|(a, p)| entry(dir.path(), a, *p).to_str().unwrap().to_owned())
        .collect();
    let g1 = dir.path().join("g1.json");
    let g2 = dir.path().join("g2.json");
    let combine = |order: [&String; 3], out: &Path| {
        let (code, stdout, err) = chancery(&[
            "--json",
            "genesis",
            "combine",
            order[0],
            order[1],
            order[2],
            "--chain-name",
            "gov",
            "--genesis-time",
            "2026-12-01T00:00:00Z",
            "-o",
            out.to_str().unwrap(),
        ]);
        assert_eq!(code, 0, "{err}");
        chain_id(&stdout)
    };
    let a = combine([&e[0], &e[1], &e[2]], &g1);
    let b = combine([&e[2], &e[0], &e[1]], &g2);
    assert_eq!(a, b);
    assert_eq!(std::fs::read(&g1).unwrap(), std::fs::read(&g2).unwrap());
    let (code, stdout, err) = chancery(&["--json", "genesis", "show", g1.to_str().unwrap()]);
    assert_eq!(code, 0, "{err}");
    assert_eq!(chain_id(&stdout), a);
    let v: serde_json::Value = serde_json::from_str(&stdout).unwrap();
    assert_eq!(v["validators"], 3);

    // An entry edited after signing (another network key) is refused.
    let mut edited: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&e[1]).unwrap()).unwrap();
    edited["entry"]["validator"]["address"] = serde_json::json!("/ip4/10.9.9.9/tcp/1");
    std::fs::write(&e[1], edited.to_string()).unwrap();
    let (code, _, err) = chancery(&[
        "genesis",
        "combine",
        &e[0],
        &e[1],
        &e[2],
        "--chain-name",
        "gov",
        "--genesis-time",
        "2026-12-01T00:00:00Z",
        "-o",
        dir.path().join("g3.json").to_str().unwrap(),
    ]);
    assert_eq!(code, 2);
    assert!(err.contains("health") && err.contains("admin key"), "{err}");
}
