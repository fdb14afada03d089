//! # score-core
//!
//! The target-agnostic half of score-gen: it turns Score (`score.dev/v1b1`) workload files into
//! validated, typed [`Workload`]s, resolves their resources through provisioners, substitutes
//! `${...}` placeholders, and hands a [`ResolvedProject`] to a [`Target`] plug-in. It never prints
//! and never names a target.
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
//! ```
//! use score_core::{compile, CompileInputs, MemorySources, State, Target,
//!     ResolvedProject, Artefacts, Diagnostics};
//!
//! /// A toy target: one line per workload and its resolved variables.
//! struct Env;
//! impl Target for Env {
//!     fn name(&self) -> &'static str { "env" }
//!     fn default_provisioners(&self) -> &'static str { "[]" }
//!     fn context(&self) -> serde_json::Value { serde_json::json!({"name": "env"}) }
//!     fn emit(&self, p: &ResolvedProject) -> Result<Artefacts, Diagnostics> {
//!         let mut out = String::new();
//!         for w in &p.workloads {
//!             for (name, c) in &w.containers {
//!                 for (k, v) in &c.variables {
//!                     out.push_str(&format!("{}.{name}.{k}={}\n", w.name, v.to_plain()));
//!                 }
//!             }
//!         }
//!         Ok(Artefacts { files: vec![("env.txt".into(), out.into_bytes())], ..Default::default() })
//!     }
//! }
//!
//! let score = r#"
//! apiVersion: score.dev/v1b1
//! metadata: {name: web}
//! containers:
//!   main:
//!     image: nginx
//!     variables: {DB_HOST: "${resources.db.host}"}
//!     files: {/etc/motd: {source: motd.txt}}
//! resources: {db: {type: postgres}}
//! "#;
//! let provisioners = r#"
//! - uri: template://demo/postgres
//!   type: postgres
//!   outputs: |
//!     host: pg-{{ id | replace(".", "-") }}
//! "#;
//! let mut sources = MemorySources::default();
//! sources.insert("motd.txt", "hello");
//! let inputs = CompileInputs::new()
//!     .score_file("score.yaml", score)
//!     .provisioner_file("mine.yaml", provisioners)
//!     .sources(sources);
//! let compiled = compile(&Env, &inputs, State::with_seed("00")).unwrap();
//! assert_eq!(compiled.artefacts.files[0].1, b"web.main.DB_HOST=pg-web-db\n");
//! ```

#![warn(missing_docs)]

mod back;
mod diag;
mod front;
pub mod model;
pub mod quantity;
mod target;
mod uid;

#[cfg(feature = "host")]
pub mod host;

// The stages behind the front and back halves live in `unstable`; these aliases keep their
// `crate::<stage>` paths short inside the crate.
use unstable::{
    graph, overrides, placeholder, provision, schema, state, substitute, upgrade, validate, yaml,
};

pub use back::{compile, provisioner_set, resolve_project, CompileInputs, Compiled, WorkloadInput};
pub use diag::{Code, Diagnostic, Diagnostics, SourceFile, Span};
pub use front::{
    load_workload, LoadOptions, LoadedWorkload, MemorySources, SourceError, SourceReader,
};
pub use provision::{
    CmdSpec, CommandPolicy, ProvisionOptions, Provisioner, ProvisionerFile, ProvisionerSet,
    ProvisionerSource,
};
pub use state::{ResourceState, State, WorkloadState};
pub use substitute::{render_go_json, Found, Origin, Outputs, Piece, Resolved};
pub use target::{
    Artefacts, FileContent, ProvisionedResource, ResolvedContainer, ResolvedFile, ResolvedProject,
    ResolvedVolume, ResolvedWorkload, Target, VolumeSource,
};
pub use uid::ResourceUid;
pub use yaml::{Document, Limits, SpanIndex};

pub use model::Workload;

/// Internals with no stability promise (the individual stages), for score-gen's own CLI, tests,
/// benchmarks and fuzzers. Embedders use the crate root.
#[doc(hidden)]
pub mod unstable;
