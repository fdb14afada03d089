//! # score-core
//!
//! The target-agnostic half of score-gen: it turns Score (`score.dev/v1b1`) workload files into
//! validated, typed [`Workload`]s, resolves their resources through provisioners, substitutes
//! `${...}` placeholders, and hands a [`target::ResolvedProject`] to a [`Target`] plug-in. It
//! never prints; it knows a target only through the [`Target`] trait (what the target declares
//! it reads of the Score ecosystem's formats, and its own diagnostic codes as
//! [`diag::TargetCode`]s).
//!
//! ## Two doors
//! - **The crate root, for embedders** (a portal, an editor, a GitOps plugin): [`compile`] with
//!   [`CompileInputs`] → [`Compiled`]; [`load_workload`] with [`LoadOptions`] →
//!   [`LoadedWorkload`]; the additive [`Project`] over a [`State`]; [`ProvisionerSet`],
//!   [`ProvisionOptions`], [`CommandPolicy`], [`Environment`]; [`Diagnostic`]s with a stable
//!   [`Code`]; [`parse_document`], [`score_schema`]. The types these carry live in [`input`]
//!   (named input files, `files[].source` readers, the parsed document), [`diag`] (spans, fixes), [`model`] (the workload), [`project`] (the state's parts, the back half
//!   for a caller that drives it itself) and, with the `host` feature, [`host`].
//! - **[`target`], for target authors**: the [`Target`] trait, the resolved workload it
//!   receives, [`target::Artefacts`], patch templates, Go-template functions, `describe_type`.
//!
//! The pipeline's stages are the folders of `src/` in order (`load` → `validate` →
//! `provision` → `target`, then the caller writes); `load`, `validate` and `provision` are public
//! for score-gen's own CLI, language server, wasm package, fuzzers and tests only (what they
//! do not use is crate-private), hidden from these docs and with no stability promise.
//!
//! | part | entry point | in → out |
//! |---|---|---|
//! | front half (per file) | [`load_workload`] | bytes → [`LoadedWorkload`]: parsed, overridden, upgraded, schema- and rule-checked, typed |
//! | back half (per project) | [`project::resolve_project`] (or [`Project::resolve`]) | workloads × [`ProvisionerSet`] × [`State`] → [`target::ResolvedProject`] + new state |
//! | plug-in boundary | [`Target`] | [`target::ResolvedProject`] → [`target::Artefacts`] (compose, k8s, terraform crates) |
//! | all three, in memory | [`compile`] | strings → project, artefacts, state |
//!
//! Every error is a [`Diagnostic`] with a stable, problem-level [`Code`] (`score::provision::no-match`),
//! a message, a help line and, where known, the file, line, column and JSON pointer.
//!
//! ## Pure by default, host access by feature
//! The default-on `host` feature adds [`host`]: the file system (atomic writes, the state
//! directory, `files[].source` from disk), processes (`cmd://` provisioners) and the network
//! (`http(s)://` and git provisioner URIs). Without it, nothing here reads a file, starts a program
//! or opens a socket. Even with it, `cmd://` provisioners run only when the caller says so
//! ([`CommandPolicy::Allow`]).
//!
//! ## Example
//! A toy target that writes one `KEY=value` line per variable, compiled from strings
//! (`examples/end_to_end.rs`; `cargo run -p score-core --example end_to_end`):
//! ```
#![doc = include_str!("../examples/end_to_end.rs")]
//! ```

mod compile;
pub mod diag;
mod fix;
pub mod input;
pub mod model;
pub mod quantity;
mod secrets;
mod uid;

// The pipeline, one folder per step. `load`, `validate` and `provision` are public for
// score-gen's own CLI, language server, wasm package, fuzzers and tests only (their other
// items are `pub(crate)`; ARCHITECTURE.md lists the users): hidden from the docs, with no
// stability promise.
#[doc(hidden)]
pub mod load;
pub mod project;
#[doc(hidden)]
pub mod provision;
pub mod target;
#[doc(hidden)]
pub mod validate;

#[cfg(feature = "host")]
pub mod host;

use load::yaml;

// The front door, for embedders. `tests/architecture.rs` lists these items: a new one is a
// decision, not an accident.
pub use compile::{compile, CompileInputs, Compiled};
pub use diag::{Code, Diagnostic, Diagnostics};
pub use load::{load_workload, LoadOptions, LoadedWorkload};
pub use model::Workload;
pub use project::{Project, State};
pub use provision::{CommandPolicy, Environment, ProvisionOptions, ProvisionerSet};
pub use target::Target;

/// The embedded Score `score.dev/v1b1` JSON Schema as a value, for tools that explain a Score
/// file to a person (an editor's completion and hover read its `properties` and `description`s).
///
/// ```
/// let schema = score_core::score_schema();
/// assert!(schema["properties"]["containers"]["description"].is_string());
/// ```
pub fn score_schema() -> &'static serde_json::Value {
    validate::schema::schema()
}

/// Parses one YAML document that must be a mapping (a Score file) into an [`input::Document`] (value and
/// the span of every node) with no schema or rule checks: what an editor reads from a file that
/// does not validate yet. Limits are the defaults; the error is one `score::load::*` diagnostic.
///
/// ```
/// let doc = score_core::parse_document("score.yaml", "metadata: {name: a}\n").unwrap();
/// assert_eq!(doc.value["metadata"]["name"], "a");
/// assert_eq!(doc.spans.value("/metadata/name").unwrap().line, 1);
/// ```
pub fn parse_document(name: &str, text: &str) -> Result<input::Document, Diagnostics> {
    yaml::parse_str(name, text).map_err(Diagnostics::from)
}
