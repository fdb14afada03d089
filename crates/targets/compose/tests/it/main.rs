//! The compose target's hand-written tests, in one binary: the acceptance example looked at
//! closely, and emit errors. The fixture cases run in `cases.rs`.

#[path = "../../../testkit.rs"]
mod kit;

#[path = "../common/mod.rs"]
mod common;

mod acceptance;
mod errors;
mod service_port;
