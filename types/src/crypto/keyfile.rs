//! Key files: JSON documents written with mode 0600 and read back with a
//! typed error for every way they can be wrong.
//!
//! ```json
//! { "type": "chancery-ed25519-secret-key", "public": "<64 hex>", "secret": "<64 hex>" }
//! { "type": "chancery-ed25519-public-key", "public": "<64 hex>" }
//! ```

use std::fs;
use std::io::{self, Write};
use std::os::unix::fs::{OpenOptionsExt, PermissionsExt};
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};
use zeroize::Zeroize;

use super::keys::{PublicKey, SecretKey};

/// The `type` of a secret key file.
pub const SECRET_KEY_TYPE: &str = "chancery-ed25519-secret-key";
/// The `type` of a public key file.
pub const PUBLIC_KEY_TYPE: &str = "chancery-ed25519-public-key";

/// What went wrong with a key file. Every variant names the file.
#[derive(Debug, thiserror::Error)]
pub enum KeyFileError {
    /// No file at that path.
    #[error("key file {path} does not exist")]
    Missing {
        /// The path.
        path: PathBuf,
    },
    /// Refusing to overwrite an existing key.
    #[error("key file {path} already exists; refusing to overwrite a key")]
    Exists {
        /// The path.
        path: PathBuf,
    },
    /// A secret key file that group or others may read or write.
    #[error(
        "key file {path} has permissions {mode:o}; a secret key file must not be accessible to group or others (chmod 600 {path})"
    )]
    TooOpen {
        /// The path.
        path: PathBuf,
        /// The file's permission bits.
        mode: u32,
    },
    /// Not a key file at all, or damaged.
    #[error("key file {path} is corrupt: {reason}")]
    Corrupt {
        /// The path.
        path: PathBuf,
        /// What is wrong.
        reason: String,
    },
    /// A key file of another type (for example a public key where a secret one is needed).
    #[error("key file {path} holds a {found:?}, expected a {expected:?}")]
    WrongType {
        /// The path.
        path: PathBuf,
        /// The `type` found.
        found: String,
        /// The `type` needed.
        expected: &'static str,
    },
    /// Any other I/O failure.
    #[error("key file {path}: {source}")]
    Io {
        /// The path.
        path: PathBuf,
        /// The underlying error.
        source: io::Error,
    },
}

#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct KeyFileDoc {
    #[serde(rename = "type")]
    kind: String,
    public: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    secret: Option<String>,
}

impl Drop for KeyFileDoc {
    fn drop(&mut self) {
        if let Some(s) = self.secret.as_mut() {
            s.zeroize();
        }
    }
}

fn io_err(path: &Path, source: io::Error) -> KeyFileError {
    match source.kind() {
        io::ErrorKind::NotFound => KeyFileError::Missing {
            path: path.to_owned(),
        },
        io::ErrorKind::AlreadyExists => KeyFileError::Exists {
            path: path.to_owned(),
        },
        _ => KeyFileError::Io {
            path: path.to_owned(),
            source,
        },
    }
}

fn write_new(path: &Path, mode: u32, text: &str) -> Result<(), KeyFileError> {
    let mut f = fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(mode)
        .open(path)
        .map_err(|e| io_err(path, e))?;
    // The umask may have removed bits but never adds any; set exactly.
    f.set_permissions(fs::Permissions::from_mode(mode))
        .map_err(|e| io_err(path, e))?;
    f.write_all(text.as_bytes()).map_err(|e| io_err(path, e))?;
    f.sync_all().map_err(|e| io_err(path, e))
}

/// Writes a new secret key file with mode 0600. Never overwrites.
pub fn write_secret_key(path: &Path, key: &SecretKey) -> Result<(), KeyFileError> {
    let doc = KeyFileDoc {
        kind: SECRET_KEY_TYPE.to_string(),
        public: key.public().to_hex(),
        secret: Some(hex::encode(key.seed())),
    };
    let mut text = serde_json::to_string_pretty(&doc).map_err(|e| KeyFileError::Corrupt {
        path: path.to_owned(),
        reason: e.to_string(),
    })?;
    text.push('\n');
    let r = write_new(path, 0o600, &text);
    text.zeroize();
    r
}

/// Writes a new public key file with mode 0644. Never overwrites.
pub fn write_public_key(path: &Path, key: &PublicKey) -> Result<(), KeyFileError> {
    let doc = KeyFileDoc {
        kind: PUBLIC_KEY_TYPE.to_string(),
        public: key.to_hex(),
        secret: None,
    };
    let text = serde_json::to_string_pretty(&doc).unwrap_or_default() + "\n";
    write_new(path, 0o644, &text)
}

fn read_doc(path: &Path) -> Result<KeyFileDoc, KeyFileError> {
    let text = fs::read_to_string(path).map_err(|e| match e.kind() {
        io::ErrorKind::InvalidData => KeyFileError::Corrupt {
            path: path.to_owned(),
            reason: "not UTF-8 text".into(),
        },
        _ => io_err(path, e),
    })?;
    serde_json::from_str(&text).map_err(|e| KeyFileError::Corrupt {
        path: path.to_owned(),
        reason: e.to_string(),
    })
}

fn parse_public(path: &Path, hex_key: &str) -> Result<PublicKey, KeyFileError> {
    hex_key.parse().map_err(|e| KeyFileError::Corrupt {
        path: path.to_owned(),
        reason: format!("field `public`: {e}"),
    })
}

/// Reads a secret key file, checking permissions, type and consistency.
pub fn read_secret_key(path: &Path) -> Result<SecretKey, KeyFileError> {
    let meta = fs::metadata(path).map_err(|e| io_err(path, e))?;
    let mode = meta.permissions().mode() & 0o777;
    if mode & 0o077 != 0 {
        return Err(KeyFileError::TooOpen {
            path: path.to_owned(),
            mode,
        });
    }
    let doc = read_doc(path)?;
    if doc.kind != SECRET_KEY_TYPE {
        return Err(KeyFileError::WrongType {
            path: path.to_owned(),
            found: doc.kind.clone(),
            expected: SECRET_KEY_TYPE,
        });
    }
    let corrupt = |reason: &str| KeyFileError::Corrupt {
        path: path.to_owned(),
        reason: reason.to_string(),
    };
    let secret_hex = doc
        .secret
        .as_deref()
        .ok_or_else(|| corrupt("missing field `secret`"))?;
    let mut seed = [0u8; 32];
    hex::decode_to_slice(secret_hex, &mut seed)
        .map_err(|_| corrupt("field `secret` is not 64 hex digits"))?;
    let key = SecretKey::from_seed(&seed);
    seed.zeroize();
    let public = parse_public(path, &doc.public)?;
    if key.public() != public {
        return Err(corrupt(
            "field `public` does not match the secret key (the file was edited or damaged)",
        ));
    }
    Ok(key)
}

/// Reads a public key file (or the public half of a secret key file).
pub fn read_public_key(path: &Path) -> Result<PublicKey, KeyFileError> {
    let doc = read_doc(path)?;
    if doc.kind != PUBLIC_KEY_TYPE && doc.kind != SECRET_KEY_TYPE {
        return Err(KeyFileError::WrongType {
            path: path.to_owned(),
            found: doc.kind.clone(),
            expected: PUBLIC_KEY_TYPE,
        });
    }
    parse_public(path, &doc.public)
}
