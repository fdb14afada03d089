//! The CLI's end-to-end tests, in one binary (as the target crates have theirs): one module per
//! subject, each running the built `score-gen` through `common`. Two test binaries stay apart:
//! `ecosystem.rs` (one libtest-mimic trial per community provisioner file) and `scale.rs` (the
//! release-only scale tests, which CI builds with `--release`: in this binary they would make CI
//! build every CLI test in release).

mod common;

mod all;
mod architecture;
mod bad_inputs;
mod ci_recipes;
mod docs;
mod dollar_contract;
mod dropin;
mod environment;
mod formats;
mod generate;
mod gitops;
mod graph;
mod hardening;
mod hardening2;
mod mistakes;
mod patch_templates;
mod project;
mod readme_flow;
mod reliability;
mod security;
mod terraform;
mod validate;
mod writes;
