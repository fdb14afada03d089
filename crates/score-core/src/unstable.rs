//! Internals with no stability promise: the individual pipeline stages, for score-gen's own
//! CLI, tests, benchmarks and fuzzers. Anything here may change in any release; embedders use
//! the crate root.

#![allow(missing_docs)]

pub use crate::diag::describe_type;

#[path = "graph.rs"]
pub mod graph;
#[path = "overrides.rs"]
pub mod overrides;
#[path = "placeholder.rs"]
pub mod placeholder;
#[path = "provision/mod.rs"]
pub mod provision;
#[path = "schema.rs"]
pub mod schema;
#[path = "state.rs"]
pub mod state;
#[path = "substitute.rs"]
pub mod substitute;
#[path = "table.rs"]
pub mod table;
#[path = "upgrade.rs"]
pub mod upgrade;
#[path = "validate.rs"]
pub mod validate;
#[path = "yaml/mod.rs"]
pub mod yaml;
