//! The k8s target's hand-written tests, in one binary: the emitter on hand-built projects, and
//! the acceptance example looked at closely. The fixture cases run in `cases.rs`.

use score_testkit as kit;
use score_testkit::k8s as common;

mod acceptance;
mod emit;
mod octal;
mod patch;
mod reference;
