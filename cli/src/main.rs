//! `chancery`: the operator, integrator and auditor command line.
//!
//! ```text
//! keys      keygen, key-show
//! records   submit, licence, grant, get, query, watch, status   (a node's gRPC API, --node)
//! payloads  payload put, payload get, payload erase   (off-chain personal data, --node)
//! proofs    proof get (node), proof verify (offline, --genesis)
//! genesis   genesis entry, genesis combine, genesis show (the ceremony)
//! gov       gov propose | approve | show (offline), gov submit | rules (node)
//! access    access who --dataset X, access may --agency Y   (node)
//! audit     replay a node's chain from the genesis, checking everything
//! bench     open-loop load generator: throughput, latency, CPU per record
//! ```
//!
//! Exit codes: 0 success; 1 a proof that does not verify; 2 usage, I/O,
//! or an error reported by the node. Modules: [`records`], [`proof`],
//! [`payload`], [`gov`], [`access`].
#![cfg_attr(
    not(test),
    deny(clippy::unwrap_used, clippy::expect_used, clippy::panic)
)]

mod access;
mod audit;
mod bench;
mod ceremony;
mod gov;
mod helpers;
mod payload;
mod proof;
mod records;

use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

use chancery_types::crypto::keyfile::{read_public_key, write_public_key, write_secret_key};
use chancery_types::crypto::keys::SecretKey;
use clap::{Parser, Subcommand};

/// mimalloc, as in the validator: the load generator (`chancery bench`)
/// shares the machine with the validators it measures.
#[cfg(feature = "mimalloc")]
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

/// Chancery command line.
#[derive(Parser)]
#[command(version, about, long_about = None)]
struct Cli {
    /// Print machine-readable JSON instead of text.
    #[arg(long, global = true)]
    json: bool,
    /// The node's gRPC address.
    #[arg(
        long,
        global = true,
        env = "CHANCERY_NODE",
        default_value = "http://127.0.0.1:27200"
    )]
    node: String,
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
    /// Show the public key, key id and libp2p peer id of a key file (secret or public).
    ///
    /// Example: chancery key-show transport-issuer.key
    KeyShow {
        /// The key file.
        file: PathBuf,
    },
    /// Sign a record from a JSON file with an issuer key and submit it.
    ///
    /// Example: chancery submit licence.json --key .testnet/transport/issuer.key
    Submit {
        /// The record file (see docs/API.md for its fields).
        file: PathBuf,
        /// The issuer's secret key file.
        #[arg(long)]
        key: PathBuf,
        /// Sign for the chain of this genesis (else the chain the node reports).
        #[arg(long)]
        genesis: Option<PathBuf>,
        /// Return once admitted, without waiting for the commit.
        #[arg(long)]
        no_wait: bool,
    },
    /// Issue, suspend, reinstate or revoke a licence (signed and submitted).
    #[command(subcommand)]
    Licence(helpers::Licence),
    /// Create or revoke a data-access grant, or log an access under one.
    #[command(subcommand)]
    Grant(helpers::Grant),
    /// Store, read and erase off-chain payloads (personal data kept at a
    /// node; records carry only its salted commitment). See docs/ERASURE.md.
    ///
    /// Example: chancery payload put holder.json --agency transport --key .testnet/transport/issuer.key
    ///
    /// Example: chancery payload get 9c1e…d07a -o holder.json
    ///
    /// Example: chancery payload erase 9c1e…d07a --agency transport --key .testnet/transport/issuer.key
    #[command(subcommand)]
    Payload(payload::PayloadCommand),
    /// Show a committed record, its result and its subject's current status.
    ///
    /// Example: chancery get 5f918c79…
    Get {
        /// Record id (64 hex digits).
        id: String,
    },
    /// List committed records matching a filter, in commit order.
    ///
    /// Example: chancery query --issuer transport --kind licence_issue --all
    Query {
        #[command(flatten)]
        filter: records::FilterArgs,
        /// Records per page (1 to 1000).
        #[arg(long, default_value_t = 100)]
        limit: u32,
        /// Read every page, not just the first.
        #[arg(long)]
        all: bool,
    },
    /// Follow committed records matching a filter as they commit (Ctrl-C to stop).
    ///
    /// Example: chancery watch --kind access_log
    Watch {
        #[command(flatten)]
        filter: records::FilterArgs,
        /// Start at this record-log position (0: from the first record).
        #[arg(long, default_value_t = 0)]
        from: u64,
    },
    /// Replay the node's whole chain from the genesis, checking every
    /// certificate, record signature, header root and result.
    /// Exits 0 when valid, 1 when not, 2 on usage or I/O errors.
    ///
    /// Example: chancery audit --genesis .testnet/genesis.json
    Audit {
        /// The chain's genesis file (the only thing trusted).
        #[arg(long)]
        genesis: PathBuf,
    },
    /// Measure throughput and latency with an open-loop load (starts a
    /// 4-validator network unless --dir names a running one).
    ///
    /// Example: chancery bench --rate 5000 --duration 30s
    ///          chancery bench --rate 1000 --sweep --json
    Bench(bench::BenchArgs),
    /// Show the node's status.
    Status,
    /// Fetch or verify proofs.
    #[command(subcommand)]
    Proof(ProofCommand),
    /// The genesis ceremony: entries, combining, checking.
    #[command(subcommand)]
    Genesis(GenesisCommand),
    /// Governance: propose a rules change, approve it with admin keys,
    /// check it, submit it; show the rules in force.
    ///
    /// Issuer keys are rotated and revoked here too (there is no
    /// `chancery key rotate|revoke`): `gov propose rotate-key`,
    /// `gov propose revoke-key`.
    ///
    /// Propose: chancery gov propose set-permission --agency transport --classes driving
    ///   --deny-kinds licence_issue --id PROP-7 --genesis genesis.json -o prop-7.json
    ///
    /// Approve (each agency): chancery gov approve prop-7.json --agency tax --admin-key tax-admin.key
    ///
    /// Check: chancery gov show prop-7.json --genesis genesis.json
    ///
    /// Submit: chancery gov submit prop-7.json --agency tax --key tax-issuer.key --wait
    #[command(subcommand)]
    Gov(gov::Gov),
    /// Data-access questions: who accessed a dataset, what an agency may access now.
    ///
    /// Example: chancery access who --dataset vaccination-status
    ///
    /// Example: chancery access may --agency tax
    #[command(subcommand)]
    Access(access::Access),
}

#[derive(Subcommand)]
enum GenesisCommand {
    /// Write this agency's signed genesis entry.
    ///
    /// Example: chancery genesis entry --agency tax --name "Revenue Office" --chain-name gov
    ///   --admin-key admin.key --issuer-key issuer.pub --consensus-key consensus.pub
    ///   --network-key network.pub --address /ip4/10.0.0.3/tcp/27100 --may-log-access -o tax.json
    Entry(Box<ceremony::EntryArgs>),
    /// Combine every agency's entry into the genesis; prints its chain id.
    ///
    /// Example: chancery genesis combine tax.json health.json transport.json --chain-name gov
    ///   --genesis-time 2026-12-01T00:00:00Z -o genesis.json
    Combine {
        /// The entry files (any order).
        #[arg(required = true)]
        entries: Vec<PathBuf>,
        /// The chain's name (every entry must name it).
        #[arg(long)]
        chain_name: String,
        /// Genesis time, RFC 3339 (e.g. 2026-12-01T00:00:00Z).
        #[arg(long, value_parser = humantime::parse_rfc3339_weak)]
        genesis_time: std::time::SystemTime,
        /// Blocks between ordering and certified execution results.
        #[arg(long, default_value_t = 4)]
        execution_lag: u64,
        /// Largest record body, in bytes.
        #[arg(long, default_value_t = 16 * 1024)]
        max_body_bytes: u32,
        /// Where to write the genesis.
        #[arg(short, long)]
        out: PathBuf,
    },
    /// Validate a genesis file and print its chain id, agencies and validators.
    ///
    /// Example: chancery genesis show genesis.json
    Show {
        /// The genesis file.
        file: PathBuf,
    },
}

#[derive(Subcommand)]
enum ProofCommand {
    /// Fetch a record's proof bundle from the node.
    ///
    /// Example: chancery proof get 5f918c79… -o proof.json
    Get {
        /// Record id (64 hex digits).
        id: String,
        /// Write here (JSON; binary when the name ends in .bin) instead of stdout.
        #[arg(short, long)]
        out: Option<PathBuf>,
        /// How long to wait for a just-committed record's proof.
        #[arg(long, default_value = "30s", value_parser = humantime::parse_duration)]
        wait: Duration,
    },
    /// Fetch proof that the record log at TO extends the log at FROM.
    ///
    /// Example: chancery proof consistency 100 0 -o consistency.json
    Consistency {
        /// The earlier checkpoint's height.
        from: u64,
        /// The later checkpoint's height (0: the latest).
        to: u64,
        /// Write here (JSON; binary when the name ends in .bin) instead of stdout.
        #[arg(short, long)]
        out: Option<PathBuf>,
    },
    /// Verify a proof bundle (a record's, or a consistency proof) offline,
    /// trusting only the genesis file.
    /// Exits 0 when valid, 1 when invalid, 2 on usage or I/O errors.
    ///
    /// Example: chancery proof verify proof.json --genesis genesis.json
    Verify {
        /// The bundle (JSON or binary).
        file: PathBuf,
        /// The chain's genesis file.
        #[arg(long)]
        genesis: PathBuf,
    },
}

fn run(cli: Cli) -> anyhow::Result<ExitCode> {
    let json = cli.json;
    let node = cli.node.clone();
    let online =
        || -> anyhow::Result<tokio::runtime::Runtime> { Ok(tokio::runtime::Runtime::new()?) };
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
        Command::Submit {
            file,
            key,
            genesis,
            no_wait,
        } => online()?.block_on(async {
            let mut client = chancery_client::Client::connect(&node).await?;
            let chain = records::chain_id(genesis.as_deref(), &mut client).await?;
            let record = records::sign_file(&file, &key, &chain)?;
            records::submit(&mut client, &record, !no_wait, json).await
        })?,
        Command::Get { id } => online()?.block_on(async {
            let id = parse_id(&id)?;
            let mut client = chancery_client::Client::connect(&node).await?;
            records::get(&mut client, &id, json).await
        })?,
        Command::Query { filter, limit, all } => online()?.block_on(async {
            let mut client = chancery_client::Client::connect(&node).await?;
            records::query(&mut client, &filter, limit, all, json).await
        })?,
        Command::Watch { filter, from } => {
            online()?.block_on(records::watch(&node, &filter, from, json))?
        }
        Command::Licence(cmd) => online()?.block_on(helpers::licence(&node, cmd, json))?,
        Command::Grant(cmd) => online()?.block_on(helpers::grant(&node, cmd, json))?,
        Command::Payload(cmd) => online()?.block_on(payload::run(&node, cmd, json))?,
        Command::Audit { genesis } => {
            if !online()?.block_on(audit::audit(&node, &genesis, json))? {
                return Ok(ExitCode::from(1));
            }
        }
        Command::Bench(args) => online()?.block_on(bench::bench(&args, json))?,
        Command::Status => online()?.block_on(async {
            let mut client = chancery_client::Client::connect(&node).await?;
            records::status(&mut client, json).await
        })?,
        Command::Proof(ProofCommand::Get { id, out, wait }) => online()?.block_on(async {
            let id = parse_id(&id)?;
            let mut client = chancery_client::Client::connect(&node).await?;
            proof::get(&mut client, &id, out.as_deref(), wait).await
        })?,
        Command::Genesis(GenesisCommand::Entry(args)) => ceremony::entry(&args, json)?,
        Command::Genesis(GenesisCommand::Combine {
            entries,
            chain_name,
            genesis_time,
            execution_lag,
            max_body_bytes,
            out,
        }) => {
            let ms = genesis_time
                .duration_since(std::time::UNIX_EPOCH)
                .map_err(|_| anyhow::anyhow!("--genesis-time is before 1970"))?
                .as_millis() as u64;
            ceremony::combine_files(
                &entries,
                &chain_name,
                chancery_types::Timestamp(ms),
                execution_lag,
                max_body_bytes,
                &out,
                json,
            )?
        }
        Command::Genesis(GenesisCommand::Show { file }) => {
            ceremony::show_genesis(&records::read_genesis(&file)?, json)
        }
        Command::Proof(ProofCommand::Consistency { from, to, out }) => {
            online()?.block_on(async {
                let mut client = chancery_client::Client::connect(&node).await?;
                proof::consistency(&mut client, from, to, out.as_deref()).await
            })?
        }
        Command::Gov(gov::Gov::Propose(args)) => {
            online()?.block_on(gov::propose(&node, &args, json))?
        }
        Command::Gov(gov::Gov::Approve {
            file,
            agency,
            admin_key,
            genesis,
        }) => gov::approve_file(&file, &agency, &admin_key, genesis.as_deref(), json)?,
        Command::Gov(gov::Gov::Show {
            file,
            genesis,
            from_node,
        }) => {
            // Offline unless --from-node: only then is the node contacted.
            let valid =
                online()?.block_on(gov::show(&node, &file, genesis.as_deref(), from_node, json))?;
            if !valid {
                return Ok(ExitCode::from(1));
            }
        }
        Command::Gov(gov::Gov::Submit {
            file,
            agency,
            key,
            genesis,
            wait,
            body,
        }) => online()?.block_on(gov::submit(
            &node,
            &gov::SubmitArgs {
                file: &file,
                agency: &agency,
                key: &key,
                genesis: genesis.as_deref(),
                wait,
                body: &body,
            },
            json,
        ))?,
        Command::Gov(gov::Gov::Rules) => online()?.block_on(gov::rules(&node, json))?,
        Command::Access(cmd) => online()?.block_on(access::run(&node, cmd, json))?,
        Command::Proof(ProofCommand::Verify { file, genesis }) => {
            let genesis = records::read_genesis(&genesis)?;
            let valid = match proof::read_bundle(&file)? {
                proof::AnyBundle::Record(b) => proof::verify(&b, &genesis, json),
                proof::AnyBundle::Consistency(b) => proof::verify_consistency(&b, &genesis, json),
            };
            if !valid {
                return Ok(ExitCode::from(1));
            }
        }
    }
    Ok(ExitCode::SUCCESS)
}

fn parse_id(text: &str) -> anyhow::Result<chancery_types::RecordId> {
    text.parse()
        .map_err(|e| anyhow::anyhow!("`{text}` is not a record id (64 hex digits): {e}"))
}

fn show(json: bool, file: &str, key: &chancery_types::PublicKey) {
    let peer = peer_id(key);
    if json {
        println!(
            "{}",
            serde_json::json!({ "file": file, "public_key": key.to_hex(),
                                "key_id": key.key_id().to_string(), "peer_id": peer })
        );
    } else {
        println!("file        {file}");
        println!("public key  {key}");
        println!("key id      {}", key.key_id());
        println!("peer id     {peer}   (when used as a validator's network key)");
    }
}

/// The libp2p peer id of an ed25519 key: base58 of the identity multihash
/// (0x00, length 36) of the protobuf-encoded public key (type 1 = Ed25519,
/// 32 data bytes).
fn peer_id(key: &chancery_types::PublicKey) -> String {
    let mut bytes = vec![0x00, 0x24, 0x08, 0x01, 0x12, 0x20];
    bytes.extend_from_slice(key.as_bytes());
    bs58::encode(bytes).into_string()
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    // Output into a closed pipe (`chancery query … | head`) ends the
    // command, as it does any Unix tool, instead of panicking. Not the
    // bench: it owns validator processes and a directory, so it sees the
    // closed pipe as an error and cleans up before it exits.
    if !matches!(cli.command, Command::Bench(_)) {
        sigpipe::reset();
    }
    match run(cli) {
        Ok(code) => code,
        Err(e) => {
            eprintln!("error: {e:#}");
            ExitCode::from(2)
        }
    }
}
