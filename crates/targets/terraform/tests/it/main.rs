//! The terraform target's hand-written tests, in one binary: target errors, and the acceptance
//! example looked at closely. The fixture cases run in `cases.rs`.

use score_testkit::terraform as common;

mod acceptance;
mod errors;
mod files;
