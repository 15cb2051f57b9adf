//! Cross-language: `client/examples/python/chancery_record.py`, written from
//! docs/PROOFS.md alone, encodes and signs records byte for byte as the Rust
//! types do.
//!
//! Rust builds records of every kind the example supports (references,
//! unicode subjects, empty and maximal fields), writes them as JSON with a
//! key file written by `write_secret_key`, and runs
//! `python3 chancery_record.py --selftest-json FILE`. Each canonical record,
//! signing message, signed record and record id that Python prints must
//! equal Rust's, and the Rust verifier must accept Python's signature
//! (ed25519 is deterministic, so the signatures are equal too).
//!
//! Needs `python3` on `PATH` with the `cryptography` module; the tests fail
//! (they do not skip) without them. `scripts/setup.sh` installs both.

use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::Command;

use chancery_types::bounded::{Bytes, List, Text};
use chancery_types::crypto::keyfile::write_secret_key;
use chancery_types::*;
use serde_json::{Value, json};

const INSTALL: &str = "install Python 3 and its `cryptography` module: \
    `apt-get install python3 python3-cryptography` (what scripts/setup.sh does), \
    or `python3 -m pip install cryptography`";

/// The script under test.
fn script() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("..")
        .join("client/examples/python/chancery_record.py")
}

/// Panics, naming what to install, unless `python3` (found through `PATH`)
/// can import `cryptography`.
fn require_python() {
    let out = match Command::new("python3")
        .args(["-c", "import cryptography"])
        .output()
    {
        Ok(out) => out,
        Err(e) => panic!("cannot run `python3` from PATH ({e}); {INSTALL}"),
    };
    assert!(
        out.status.success(),
        "python3 cannot import the `cryptography` module ({}); {INSTALL}",
        String::from_utf8_lossy(&out.stderr)
            .lines()
            .last()
            .unwrap_or("no message")
    );
}

/// Runs the self-test mode on `input`; returns the exit status, stdout and stderr.
fn run_python(dir: &Path, input: &Value) -> (bool, String, String) {
    let file = dir.join("input.json");
    std::fs::write(&file, serde_json::to_vec(input).unwrap()).unwrap();
    let out = Command::new("python3")
        .arg(script())
        .arg("--selftest-json")
        .arg(&file)
        .output()
        .unwrap_or_else(|e| panic!("cannot run `python3` from PATH ({e}); {INSTALL}"));
    (
        out.status.success(),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

fn unhex(s: &str) -> Vec<u8> {
    assert!(
        s.len().is_multiple_of(2),
        "odd-length hex from Python: {s:?}"
    );
    (0..s.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&s[i..i + 2], 16).expect("hex from Python"))
        .collect()
}

fn text<const MAX: usize>(s: &str) -> Text<MAX> {
    Text::new(s).unwrap()
}

fn agency(s: &str) -> AgencyId {
    AgencyId::new(s).unwrap()
}

/// The fixed test key, and a chain id.
fn key() -> SecretKey {
    SecretKey::from_seed(&[
        0x9d, 0x61, 0xb1, 0x9d, 0xef, 0xfd, 0x5a, 0x60, 0xba, 0x84, 0x4a, 0xf4, 0x92, 0xec, 0x2c,
        0xc4, 0x44, 0x49, 0xc5, 0x69, 0x7b, 0x32, 0x69, 0x19, 0x70, 0x3b, 0xac, 0x03, 0x1c, 0xae,
        0x7f, 0x60,
    ])
}

fn chain() -> ChainId {
    ChainId(Hash::of(b"chancery python client test chain"))
}

/// Records of every kind the Python example builds, with the edge cases of
/// the encoding: empty and maximal texts, bodies and reference lists,
/// multi-byte UTF-8, the largest integers.
fn records(key: &SecretKey) -> Vec<Record> {
    let key_id = key.public().key_id();
    let base = |kind: RecordKind, subject: &str, body: &[u8], nonce: u64| Record {
        kind,
        issuer: agency("transport"),
        key_id,
        subject: text(subject),
        body: Bytes::new(body.to_vec()).unwrap(),
        references: List::default(),
        timestamp: Timestamp(1_795_000_000_000),
        nonce,
    };
    let first = base(
        RecordKind::LicenceIssue {
            class: text("driving"),
            valid_from: Timestamp(1_795_000_000_000),
            valid_until: Timestamp(1_826_536_000_000),
        },
        "DL-Ünïcødé-✓-🚗",
        br#"{"holder_ref":"b3:5f91"}"#,
        1,
    );
    let first_id = first.clone().sign(key, &chain()).id();
    let refs = |n: usize| -> List<RecordId, { limits::MAX_REFERENCES }> {
        List::new(
            (0..n)
                .map(|i| RecordId(Hash::of(&[i as u8])))
                .collect::<Vec<_>>(),
        )
        .unwrap()
    };
    // 128 bytes of UTF-8: 64 two-byte characters.
    let max_subject = "é".repeat(limits::MAX_SUBJECT / 2);
    // 64 bytes of UTF-8 mixing 1-, 2-, 3- and 4-byte characters.
    let max_label = format!("{}é€🚗", "a".repeat(limits::MAX_LABEL - 9));
    assert_eq!(max_label.len(), limits::MAX_LABEL);
    let max_body: Vec<u8> = (0..limits::MAX_BODY).map(|i| (i * 7 + 3) as u8).collect();

    let mut out = vec![first];
    let mut amend = base(
        RecordKind::LicenceAmend,
        "DL-Ünïcødé-✓-🚗",
        br#"{"class":"heavy"}"#,
        2,
    );
    amend.references = List::new(vec![first_id]).unwrap();
    out.push(amend);
    let mut suspend = base(RecordKind::LicenceSuspend, "DL-1", b"", 3);
    suspend.references = refs(2);
    out.push(suspend);
    let mut reinstate = base(RecordKind::LicenceReinstate, "", b"", 0);
    reinstate.timestamp = Timestamp(0);
    out.push(reinstate);
    let mut revoke = base(RecordKind::LicenceRevoke, &max_subject, &max_body, u64::MAX);
    revoke.references = refs(limits::MAX_REFERENCES);
    revoke.timestamp = Timestamp(u64::MAX);
    out.push(revoke);
    out.push(base(
        RecordKind::GrantCreate {
            grantee: agency("tax-2"),
            dataset: text(&max_label),
            purpose: text("benefit-eligibility"),
            scope: text(""),
            valid_from: Timestamp(0),
            valid_until: Timestamp(u64::MAX),
        },
        "GRANT-9",
        br#"{"legal_basis":"Act 12 s.4"}"#,
        4,
    ));
    out.push(base(RecordKind::GrantRevoke, "GRANT-9", b"\x00\xff", 5));
    out.push(base(
        RecordKind::AccessLog {
            grant: text(&max_subject),
            dataset: text("vaccination-status"),
        },
        "ACCESS-Ω-1",
        b"{}",
        6,
    ));
    out.push(base(
        RecordKind::PayloadErase {
            commitment: Hash::of(b"payload"),
        },
        "ERASE-1",
        b"",
        7,
    ));
    let mut long_issuer = base(
        RecordKind::LicenceIssue {
            class: text(&"c".repeat(limits::MAX_LABEL)),
            valid_from: Timestamp(1),
            valid_until: Timestamp(2),
        },
        "DL-2",
        &max_body[..1025],
        8,
    );
    long_issuer.issuer = agency("a-very-long-agency-id-0123456789");
    assert_eq!(long_issuer.issuer.as_str().len(), limits::MAX_AGENCY_ID);
    out.push(long_issuer);
    out
}

/// The official BLAKE3 test-vector input lengths (input byte `i` is `i % 251`).
const BLAKE3_LENGTHS: [usize; 22] = [
    0, 1, 1023, 1024, 1025, 2048, 2049, 3072, 3073, 4096, 4097, 5120, 5121, 6144, 6145, 7168, 7169,
    8192, 8193, 16384, 31744, 102400,
];

fn str_field<'a>(v: &'a Value, name: &str) -> &'a str {
    v[name]
        .as_str()
        .unwrap_or_else(|| panic!("Python output has no string `{name}`: {v}"))
}

#[test]
fn python_encodes_and_signs_every_kind_byte_for_byte() {
    require_python();
    let dir = tempfile::tempdir().unwrap();
    let key = key();
    let key_file = dir.path().join("issuer.key");
    write_secret_key(&key_file, &key).unwrap();
    let chain = chain();
    let records = records(&key);
    let input = json!({
        "chain_id": chain.0.to_hex(),
        "key_file": key_file,
        "records": records.iter().map(|r| serde_json::to_value(r).unwrap()).collect::<Vec<_>>(),
        "blake3_lengths": BLAKE3_LENGTHS,
    });
    let (ok, stdout, stderr) = run_python(dir.path(), &input);
    assert!(ok, "chancery_record.py failed:\n{stderr}");
    let out: Value = serde_json::from_str(&stdout)
        .unwrap_or_else(|e| panic!("chancery_record.py printed no JSON ({e}):\n{stdout}"));

    // The key file read by Python: the same key, the same key id.
    assert_eq!(str_field(&out, "public"), key.public().to_hex());
    assert_eq!(str_field(&out, "key_id"), key.public().key_id().to_string());

    // The pure-Python BLAKE3 against the Rust crate, across chunk and tree
    // boundaries (records themselves reach ~66 KiB).
    for n in BLAKE3_LENGTHS {
        let input: Vec<u8> = (0..n).map(|i| (i % 251) as u8).collect();
        assert_eq!(
            out["blake3"][n.to_string()].as_str(),
            Some(Hash::of(&input).to_hex().as_str()),
            "blake3 of {n} bytes"
        );
    }

    let results = out["results"].as_array().expect("results");
    assert_eq!(results.len(), records.len());
    for (k, (record, py)) in records.iter().zip(results).enumerate() {
        let what = format!("record {k} ({})", record.kind.name());
        let signed = record.clone().sign(&key, &chain);
        assert_eq!(
            str_field(py, "record"),
            hex(&record.to_canonical()),
            "{what}: canonical record"
        );
        assert_eq!(
            str_field(py, "signing_bytes"),
            hex(&signed.signing_bytes(&chain)),
            "{what}: signing message"
        );
        let py_bytes = unhex(str_field(py, "signed_record"));
        assert!(
            py_bytes == signed.to_canonical(),
            "{what}: canonical signed record differs:\n python {}\n rust   {}",
            hex(&py_bytes),
            hex(&signed.to_canonical())
        );
        assert_eq!(
            str_field(py, "record_id"),
            signed.id().0.to_hex(),
            "{what}: record id"
        );

        // What a node does with the submitted bytes: decode strictly, verify.
        let decoded = SignedRecord::from_canonical(&py_bytes)
            .unwrap_or_else(|e| panic!("{what}: Python's bytes do not decode: {e}"));
        assert_eq!(decoded, signed, "{what}: decoded");
        decoded
            .verify(&key.public(), &chain)
            .unwrap_or_else(|e| panic!("{what}: Rust rejects Python's signature: {e}"));

        // Negative checks: the comparison and the verifier do notice a wrong field.
        let mut other = record.clone();
        other.nonce = other.nonce.wrapping_add(1);
        let other_signed = other.clone().sign(&key, &chain);
        assert_ne!(
            py_bytes,
            other_signed.to_canonical(),
            "{what}: a record with another nonce compared equal"
        );
        let forged = SignedRecord {
            record: other,
            signature: decoded.signature,
        };
        assert!(
            forged.verify(&key.public(), &chain).is_err(),
            "{what}: Python's signature verified for another nonce"
        );
        assert!(
            decoded
                .verify(&key.public(), &ChainId(Hash::of(b"another chain")))
                .is_err(),
            "{what}: Python's signature verified on another chain"
        );
    }
}

#[test]
fn python_output_differs_when_a_field_differs() {
    // The same records with one field changed in the JSON Python reads:
    // Python's bytes must then differ from Rust's encoding of the originals.
    require_python();
    let dir = tempfile::tempdir().unwrap();
    let key = key();
    let key_file = dir.path().join("issuer.key");
    write_secret_key(&key_file, &key).unwrap();
    let chain = chain();
    let records: Vec<Record> = records(&key).into_iter().take(3).collect();
    let mut values: Vec<Value> = records
        .iter()
        .map(|r| serde_json::to_value(r).unwrap())
        .collect();
    values[0]["nonce"] = json!(records[0].nonce + 1);
    values[1]["subject"] = json!(format!("{}x", records[1].subject.as_str()));
    values[2]["kind"] = json!({ "type": "licence_revoke" });
    let input = json!({ "chain_id": chain.0.to_hex(), "key_file": key_file, "records": values });
    let (ok, stdout, stderr) = run_python(dir.path(), &input);
    assert!(ok, "chancery_record.py failed:\n{stderr}");
    let out: Value = serde_json::from_str(&stdout).unwrap();
    for (k, (record, py)) in records
        .iter()
        .zip(out["results"].as_array().unwrap())
        .enumerate()
    {
        let signed = record.clone().sign(&key, &chain);
        let py_bytes = unhex(str_field(py, "signed_record"));
        assert_ne!(
            py_bytes,
            signed.to_canonical(),
            "record {k}: changed field not seen"
        );
        let decoded = SignedRecord::from_canonical(&py_bytes).unwrap();
        assert_ne!(decoded.record, *record, "record {k}");
        // Python signed what it encoded: valid, but for the changed record.
        decoded.verify(&key.public(), &chain).unwrap();
        assert!(
            SignedRecord {
                record: record.clone(),
                signature: decoded.signature
            }
            .verify(&key.public(), &chain)
            .is_err(),
            "record {k}: signature over the changed record verified for the original"
        );
    }
}

#[test]
fn python_refuses_bad_fields_and_key_files() {
    require_python();
    let dir = tempfile::tempdir().unwrap();
    let key = key();
    let key_file = dir.path().join("issuer.key");
    write_secret_key(&key_file, &key).unwrap();
    let chain = chain();
    let good = serde_json::to_value(&records(&key)[0]).unwrap();
    let refused = |record: Value, key_file: &Path, expect: &str| {
        let input =
            json!({ "chain_id": chain.0.to_hex(), "key_file": key_file, "records": [record] });
        let (ok, stdout, stderr) = run_python(dir.path(), &input);
        assert!(
            !ok,
            "accepted, expected refusal naming {expect:?}: {stdout}"
        );
        assert!(
            stderr.contains(expect),
            "refusal does not name {expect:?}:\n{stderr}"
        );
    };
    let with = |name: &str, value: Value| {
        let mut v = good.clone();
        v[name] = value;
        v
    };
    refused(
        with("body", json!("00".repeat(limits::MAX_BODY + 1))),
        &key_file,
        "body is 65537 bytes",
    );
    refused(
        with("subject", json!("é".repeat(65))),
        &key_file,
        "subject is 130 bytes",
    );
    refused(
        with("issuer", json!("Transport")),
        &key_file,
        "invalid issuer",
    );
    refused(
        with(
            "references",
            json!(vec!["00".repeat(32); limits::MAX_REFERENCES + 1]),
        ),
        &key_file,
        "17 references",
    );
    refused(
        with("key_id", json!("00".repeat(16))),
        &key_file,
        "is not the id of the signing key",
    );
    refused(with("nonce", json!(-1)), &key_file, "is not a u64");

    // A key file that others may read is refused, as the Rust tools refuse it.
    let open = dir.path().join("open.key");
    std::fs::copy(&key_file, &open).unwrap();
    std::fs::set_permissions(&open, std::fs::Permissions::from_mode(0o644)).unwrap();
    refused(good.clone(), &open, "chmod 600");
    // A public key file is not a secret key.
    let public = dir.path().join("public.key");
    chancery_types::crypto::keyfile::write_public_key(&public, &key.public()).unwrap();
    std::fs::set_permissions(&public, std::fs::Permissions::from_mode(0o600)).unwrap();
    refused(good, &public, "chancery-ed25519-public-key");
}
