//! score-core's integration tests, in one binary (as the target crates have theirs): one module
//! per subject. `alias_bombs.rs` stays its own binary: it installs a capped global allocator,
//! which would cap every other test of a shared process.

// Tests work with real files and programs; the library's purity lint is for `src/`.
#![allow(clippy::disallowed_methods, clippy::disallowed_types)]

mod common;

mod architecture;
mod architecture_doc;
mod conformance_loader_validate;
mod conformance_misc;
mod conformance_misc_fetch_format;
mod conformance_overrides;
mod conformance_schema;
mod conformance_substitution;
mod conformance_upgrade;
mod diagnostic_codes;
mod engine;
mod environment;
mod fetch;
mod graph;
mod hints_fix;
mod load;
mod project;
mod provision;
mod roundtrip;
mod state;
