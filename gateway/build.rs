//! Generates the v1beta2 data plane's protobuf types, their proto3 JSON (serde) form and
//! the tonic server traits from the descriptor set in `proto/`, without `protoc`.

use std::path::PathBuf;

use prost::Message;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let descriptors = PathBuf::from(std::env::var("CARGO_MANIFEST_DIR")?)
        .join("proto/coreweave_sandbox_v1beta2.fds.pb");
    println!("cargo:rerun-if-changed={}", descriptors.display());
    let bytes = std::fs::read(&descriptors)?;

    tonic_prost_build::configure()
        .build_server(true)
        .build_client(false)
        // Timestamps with serde, from pbjson's well-known types.
        .compile_well_known_types(true)
        .extern_path(".google.protobuf", "::pbjson_types")
        .compile_fds(tonic_prost_build::FileDescriptorSet::decode(
            bytes.as_slice(),
        )?)?;

    pbjson_build::Builder::new()
        .register_descriptors(&bytes)?
        // The domain's JSON carries local fields the schema lacks (`unisolated`, …).
        .ignore_unknown_fields()
        .build(&[".coreweave.sandbox.v1beta2"])?;
    Ok(())
}
