//! Key files: written 0600, read back, and every bad file gives its own error.

use std::fs;
use std::os::unix::fs::PermissionsExt;

use chancery_types::crypto::keyfile::{
    KeyFileError, read_public_key, read_secret_key, write_public_key, write_secret_key,
};
use chancery_types::crypto::keys::SecretKey;

#[test]
fn secret_key_round_trips_with_mode_0600() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("validator.key");
    let key = SecretKey::generate();
    write_secret_key(&path, &key).unwrap();
    let mode = fs::metadata(&path).unwrap().permissions().mode() & 0o777;
    assert_eq!(mode, 0o600);
    let back = read_secret_key(&path).unwrap();
    assert_eq!(back.public(), key.public());
    assert_eq!(back.seed(), key.seed());
    assert_eq!(read_public_key(&path).unwrap(), key.public());
}

#[test]
fn refuses_to_overwrite_a_key() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("k");
    write_secret_key(&path, &SecretKey::generate()).unwrap();
    let first = fs::read(&path).unwrap();
    assert!(matches!(
        write_secret_key(&path, &SecretKey::generate()),
        Err(KeyFileError::Exists { .. })
    ));
    assert_eq!(fs::read(&path).unwrap(), first, "existing key was modified");
}

#[test]
fn missing_file() {
    let dir = tempfile::tempdir().unwrap();
    let err = read_secret_key(&dir.path().join("nope")).unwrap_err();
    assert!(matches!(err, KeyFileError::Missing { .. }), "{err}");
    assert!(err.to_string().contains("nope"));
}

#[test]
fn world_readable_file_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("k");
    write_secret_key(&path, &SecretKey::generate()).unwrap();
    for mode in [0o644, 0o640, 0o604, 0o660] {
        fs::set_permissions(&path, fs::Permissions::from_mode(mode)).unwrap();
        let err = read_secret_key(&path).unwrap_err();
        assert!(
            matches!(err, KeyFileError::TooOpen { mode: m, .. } if m == mode),
            "{err}"
        );
    }
}

#[test]
fn corrupt_files_are_named_corrupt() {
    let dir = tempfile::tempdir().unwrap();
    let cases = [
        ("not json", "hello"),
        ("binary", "\u{0}\u{1}"),
        (
            "bad secret",
            r#"{"type":"chancery-ed25519-secret-key","public":"00","secret":"zz"}"#,
        ),
        (
            "missing secret",
            r#"{"type":"chancery-ed25519-secret-key","public":"00"}"#,
        ),
        (
            "unknown field",
            r#"{"type":"chancery-ed25519-secret-key","public":"00","secret":"00","x":1}"#,
        ),
    ];
    for (i, (what, text)) in cases.iter().enumerate() {
        let path = dir.path().join(format!("k{i}"));
        fs::write(&path, text).unwrap();
        fs::set_permissions(&path, fs::Permissions::from_mode(0o600)).unwrap();
        let err = read_secret_key(&path).unwrap_err();
        assert!(matches!(err, KeyFileError::Corrupt { .. }), "{what}: {err}");
    }
    // Bytes that are not UTF-8 at all.
    let path = dir.path().join("raw");
    fs::write(&path, [0xff, 0xfe, 0x00]).unwrap();
    fs::set_permissions(&path, fs::Permissions::from_mode(0o600)).unwrap();
    assert!(matches!(
        read_secret_key(&path),
        Err(KeyFileError::Corrupt { .. })
    ));
}

#[test]
fn edited_public_half_is_detected() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("k");
    write_secret_key(&path, &SecretKey::from_seed(&[1; 32])).unwrap();
    let text = fs::read_to_string(&path).unwrap();
    let other = SecretKey::from_seed(&[2; 32]).public().to_hex();
    let public = SecretKey::from_seed(&[1; 32]).public().to_hex();
    fs::write(&path, text.replace(&public, &other)).unwrap();
    let err = read_secret_key(&path).unwrap_err();
    assert!(
        matches!(err, KeyFileError::Corrupt { ref reason, .. } if reason.contains("does not match")),
        "{err}"
    );
}

#[test]
fn public_key_file_is_the_wrong_type_for_a_secret() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("k.pub");
    let key = SecretKey::generate();
    write_public_key(&path, &key.public()).unwrap();
    fs::set_permissions(&path, fs::Permissions::from_mode(0o600)).unwrap();
    let err = read_secret_key(&path).unwrap_err();
    assert!(matches!(err, KeyFileError::WrongType { .. }), "{err}");
    assert_eq!(read_public_key(&path).unwrap(), key.public());
}
