//! The compose target's hand-written tests, in one binary: the acceptance example looked at
//! closely, and emit errors. The fixture cases run in `cases.rs`.

use score_testkit::compose as common;

mod acceptance;
mod errors;
mod service_port;
