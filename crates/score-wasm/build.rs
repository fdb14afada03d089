//! Gives the wasm32 cdylib an 8 MiB stack (the linker's default is 1 MiB). score-core's loader
//! and the YAML parser recurse once per nesting level up to the depth limit (64), and a debug
//! build's frames are large: with 1 MiB, `testdata/bad/deep-nesting-*.yaml` overflowed the stack,
//! which on wasm32 silently corrupts memory instead of stopping the thread.
fn main() {
    if std::env::var("CARGO_CFG_TARGET_ARCH").as_deref() == Ok("wasm32") {
        println!("cargo:rustc-link-arg-cdylib=-zstack-size=8388608");
    }
    println!("cargo:rerun-if-changed=build.rs");
}
