//! # score-core
//!
//! The target-agnostic half of score-gen: it turns Score (`score.dev/v1b1`) workload files into
//! validated, typed [`model::Workload`]s, resolves their resources through provisioners, and
//! substitutes `${...}` placeholders. It never prints and never knows about a target; file and
//! process I/O sit at the edges (`source`, `fsutil`, `provision::cmd`).
//!
//! The stages, one module each:
//!
//! | stage | module | in → out |
//! |---|---|---|
//! | load | [`load`] | bytes → [`load::Document`] (JSON value + span for every node) |
//! | override | [`overrides`] | document + overrides → document |
//! | upgrade | [`upgrade`] | deprecated array forms → map forms |
//! | schema | [`schema`] | document → schema diagnostics |
//! | validate | [`validate`] | document → extra-rule diagnostics |
//! | model | [`model`] | document → [`model::Workload`] |
//! | graph | [`graph`] | workloads → resource graph in provisioning order |
//! | provision | [`provision`] | graph × provisioner files → outputs, fragments, state |
//! | substitute | [`substitute`], [`placeholder`] | workloads × outputs → resolved workloads |
//!
//! Every user-facing error is a [`diag::Diagnostic`]: message, help, file, span and JSON pointer.

pub mod diag;
pub mod engine;
pub mod fetch;
pub mod fsutil;
pub mod graph;
pub mod load;
pub mod model;
pub mod overrides;
pub mod placeholder;
pub mod project;
pub mod provision;
pub mod quantity;
pub mod resolved;
pub mod schema;
pub mod state;
pub mod substitute;
pub mod table;
pub mod uid;
pub mod upgrade;
pub mod validate;

pub use diag::{Diagnostic, Diagnostics, SourceFile, Span};
pub use model::Workload;
pub use uid::ResourceUid;
