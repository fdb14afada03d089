//! The k8s target's hand-written tests, in one binary: the emitter on hand-built projects, and
//! the acceptance example looked at closely. The fixture cases run in `cases.rs`.

#[path = "../../../testkit.rs"]
mod kit;

#[path = "../common/mod.rs"]
mod common;

mod acceptance;
mod emit;
mod octal;
mod patch;
mod reference;
