//! Compiles the .proto files with protox (pure Rust, no system `protoc`) and
//! generates tonic/prost code from the descriptor set.

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let protos = [
        "proto/chancery/v1/node.proto",
        "proto/chancery/v1/records.proto",
        "proto/chancery/v1/ledger.proto",
        "proto/chancery/v1/payloads.proto",
        "proto/chancery/v1/governance.proto",
    ];
    for p in &protos {
        println!("cargo:rerun-if-changed={p}");
    }
    let fds = protox::compile(protos, ["proto"])?;
    let out = std::path::PathBuf::from(std::env::var("OUT_DIR")?);
    std::fs::write(
        out.join("chancery_descriptor.bin"),
        prost::Message::encode_to_vec(&fds),
    )?;
    tonic_prost_build::configure().compile_fds(fds)?;
    Ok(())
}
