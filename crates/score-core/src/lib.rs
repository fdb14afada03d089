//! # score-core
//!
//! The target-agnostic half of score-gen: it turns Score (`score.dev/v1b1`) workload files into
//! validated, typed [`Workload`]s, resolves their resources through provisioners, substitutes
//! `${...}` placeholders, and hands a [`ResolvedProject`] to a [`Target`] plug-in. It never prints;
//! it knows a target only through the [`Target`] trait (what the target declares it reads of the
//! Score ecosystem's formats, and its own diagnostic codes as [`TargetCode`]s).
//!
//! The pipeline has two halves and one plug-in boundary:
//!
//! | part | entry point | in → out |
//! |---|---|---|
//! | front half (per file) | [`load_workload`] | bytes → [`LoadedWorkload`]: parsed, overridden, upgraded, schema- and rule-checked, typed |
//! | back half (per project) | [`resolve_project`] | workloads × [`ProvisionerSet`] × [`State`] → [`ResolvedProject`] + new state |
//! | plug-in boundary | [`Target`] | [`ResolvedProject`] → [`Artefacts`] (compose, k8s, terraform crates) |
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
mod diag;
mod fix;
pub mod model;
pub mod quantity;
mod secrets;
mod uid;

// The pipeline's stages, one folder each, in pipeline order. Public for score-gen's own CLI,
// tests, benchmarks and fuzzers, hidden from the docs and with no stability promise: embedders
// use the crate root, target authors the `target` module.
#[doc(hidden)]
pub mod load;
#[doc(hidden)]
pub mod project;
#[doc(hidden)]
pub mod provision;
pub mod target;
#[doc(hidden)]
pub mod validate;

#[cfg(feature = "host")]
pub mod host;

use load::yaml;

pub use compile::{
    check_programs, check_project, compile, provisioner_set, resolve_project, CompileInputs,
    Compiled, WorkloadInput,
};
pub use diag::{
    escape_controls, is_hidden_format_char, Code, Diagnostic, Diagnostics, SourceFile, Span,
    TargetCode,
};
pub use fix::{apply_edits, apply_fixes, Applicability, Edit, EditError, Fix};
pub use load::{
    load_workload, LoadOptions, LoadedWorkload, MemorySources, SourceError, SourceReader,
};
pub use project::state::{Extras, ResourceState, State, WorkloadState};
pub use project::{NoFiles, Project, Regenerated, WorkloadStore};
/// What a target's [`GoFunction`]s take and return: the Go template engine's parameter types
/// and values (`score-gotemplate`'s).
pub use provision::gotemplate::{GoFunction, Param as GoParam, Value as GoValue};
pub use provision::substitute::{render_go_json, Found, Origin, Outputs, Piece, Resolved};
pub use provision::{
    CmdSpec, CommandPolicy, Dialect, Environment, ProvisionOptions, ProvisionTarget, Provisioner,
    ProvisionerFile, ProvisionerSet, ProvisionerSource,
};
pub use secrets::Secrets;
pub use target::patch::{
    apply_patch_operations, apply_patch_templates, check_patch_template, parse_patch_operations,
    patch_workloads, PatchDialect, PatchOp, PatchOperation, PatchTemplate, MAX_LIST_PADDING,
    PATCH_FUEL,
};
pub use target::{
    json_pointer, Artefacts, FileContent, ProvisionedResource, ProvisionerField, ResolvedContainer,
    ResolvedFile, ResolvedProject, ResolvedVolume, ResolvedWorkload, Target, VolumeSource,
};
pub use uid::ResourceUid;
pub use validate::hints::check_resource_types;
pub use yaml::{Document, Limits, SpanIndex};

pub use model::Workload;

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

/// Parses one YAML document that must be a mapping (a Score file) into a [`Document`] (value and
/// the span of every node) with no schema or rule checks: what an editor reads from a file that
/// does not validate yet. Limits are the defaults; the error is one `score::load::*` diagnostic.
///
/// ```
/// let doc = score_core::parse_document("score.yaml", "metadata: {name: a}\n").unwrap();
/// assert_eq!(doc.value["metadata"]["name"], "a");
/// assert_eq!(doc.spans.value("/metadata/name").unwrap().line, 1);
/// ```
pub fn parse_document(name: &str, text: &str) -> Result<Document, Diagnostics> {
    yaml::parse_str(name, text).map_err(Diagnostics::from)
}
