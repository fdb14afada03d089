//! The terraform target's hand-written tests, in one binary: target errors, and the acceptance
//! example looked at closely. The fixture cases run in `cases.rs`.

#[path = "../../../testkit.rs"]
mod kit;

#[path = "../common/mod.rs"]
mod common;

mod acceptance;
mod errors;
mod files;
