//! `chancery`: the operator, integrator and auditor command line.
//!
//! Today: key generation and inspection. Record submission, queries, proofs
//! and audits arrive with the node (see README "Status").

use std::path::PathBuf;
use std::process::ExitCode;

use chancery_types::crypto::keyfile::{read_public_key, write_public_key, write_secret_key};
use chancery_types::crypto::keys::SecretKey;
use clap::{Parser, Subcommand};

/// Chancery command line.
#[derive(Parser)]
#[command(version, about, long_about = None)]
struct Cli {
    /// Print machine-readable JSON instead of text.
    #[arg(long, global = true)]
    json: bool,
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Generate a new ed25519 key into a file (mode 0600; never overwrites).
    ///
    /// Example: chancery keygen --out transport-issuer.key --public transport-issuer.pub
    Keygen {
        /// Secret key file to create.
        #[arg(long)]
        out: PathBuf,
        /// Also write the public key to this file.
        #[arg(long)]
        public: Option<PathBuf>,
    },
    /// Show the public key and key id of a key file (secret or public).
    ///
    /// Example: chancery key-show transport-issuer.key
    KeyShow {
        /// The key file.
        file: PathBuf,
    },
}

fn run(cli: Cli) -> anyhow::Result<()> {
    match cli.command {
        Command::Keygen { out, public } => {
            let key = SecretKey::generate();
            write_secret_key(&out, &key)?;
            if let Some(p) = public {
                write_public_key(&p, &key.public())?;
            }
            show(cli.json, &out.display().to_string(), &key.public());
        }
        Command::KeyShow { file } => {
            let key = read_public_key(&file)?;
            show(cli.json, &file.display().to_string(), &key);
        }
    }
    Ok(())
}

fn show(json: bool, file: &str, key: &chancery_types::PublicKey) {
    if json {
        println!(
            "{}",
            serde_json::json!({ "file": file, "public_key": key.to_hex(), "key_id": key.key_id().to_string() })
        );
    } else {
        println!("file        {file}");
        println!("public key  {key}");
        println!("key id      {}", key.key_id());
    }
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    match run(cli) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e:#}");
            ExitCode::from(2)
        }
    }
}
