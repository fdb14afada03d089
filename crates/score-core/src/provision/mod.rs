//! Provisioning: provisioner entries, their loader, and running one entry for one resource.
//!
//! `loader` reads provisioner files into a [`ProvisionerSet`] of [`Provisioner`] entries
//! (`entry`); each entry is of one kind, and each kind is a module of `kinds` (minijinja, Go
//! template, `cmd://`, `local-env://`) implementing one trait: how the loader reads its keys, and
//! how it provisions a resource. [`provision`] runs an entry and makes the checks every kind shares
//! (params, output marks, expected outputs). Beside them: the resource graph (`graph`), the
//! template engines' glue (`template` + `helpers` for minijinja, `gotemplate` for the Go engine's
//! function sets) and the `${...}` placeholders (`placeholder`, `substitute`).
//!
//! A [`ProvisionerSet`] is loaded once from the user's files and the target's defaults; for each
//! resource (in graph order) the caller asks [`ProvisionerSet::find`] for the entry and runs
//! [`provision`] with a [`ProvisionInput`]. The result is the resource's new state, a merge patch
//! for the shared state, its outputs (with secret / expression flags) and the current target's
//! fragments, which core hands to the target untouched. Format and semantics: `spec/provisioners.md`.
//!
//! ```
//! use score_core::provision::*;
//! use score_core::target::ResourceUid;
//! let text = r#"
//! - uri: template://demo/redis
//!   engine: minijinja
//!   type: redis
//!   expected_outputs: [host, password]
//!   secret_outputs: [password]
//!   state: |
//!     password: {{ state.password | default(rand_alnum(12)) }}
//!   outputs: |
//!     host: {{ id | replace(".", "-") }}
//!     password: {{ state.password | quote }}
//! "#;
//! let set = ProvisionerSet::load(&[score_core::input::ProvisionerFile::new("p.yaml", text)]).unwrap();
//! let uid = ResourceUid::new("web", "cache", "redis", None, None);
//! let input = ProvisionInput::new(uid.clone(), "seed");
//! let p = set.find(&uid).unwrap();
//! let out = provision(p, &input, "demo", &ProvisionOptions::default()).unwrap();
//! assert_eq!(out.outputs["host"], "web-cache");
//! assert_eq!(out.outputs["password"], out.state["password"]);
//! assert!(out.secret_outputs.contains("password"));
//! ```

// `Diagnostic` is the crate-wide error shape (message, help, file, span, related); boxing it
// only here would make provisioning errors differ from every other stage's.
#![allow(clippy::result_large_err)]

mod entry;
pub mod gotemplate;
pub mod graph;
pub(crate) mod helpers;
pub(crate) mod kinds;
mod loader;
pub mod placeholder;
pub mod substitute;
pub(crate) mod template;

use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;
use std::time::Duration;

use serde_json::{Map, Value};
use sha2::{Digest, Sha256};

pub use entry::{Dialect, Provisioner, ProvisionerSet, ProvisionerSource};
pub use kinds::cmd::CmdSpec;
pub use loader::ProvisionerFile;

use crate::diag::{Code, Diagnostic};
use crate::uid::ResourceUid;
pub(crate) use kinds::cmd::check_command;

/// Everything a provisioner may read about one resource.
#[derive(Debug, Clone, PartialEq)]
pub struct ProvisionInput {
    /// The resource's uid.
    pub uid: ResourceUid,
    /// Resource type.
    pub kind: String,
    /// Resource class (`default` when unset).
    pub class: String,
    /// Resource id: the shared id, or `<workload>.<resource>`.
    pub id: String,
    /// Params, placeholders already substituted.
    pub params: Map<String, Value>,
    /// The resource's metadata.
    pub metadata: Map<String, Value>,
    /// The workload that (last) defined the resource.
    pub source_workload: String,
    /// That workload's metadata (score-k8s's `.WorkloadMetadata`).
    pub workload_metadata: Map<String, Value>,
    /// Services of every workload: `{name: {ports: {...}}}`, as the target shapes them.
    /// Shared (`Arc`) because it is the same, and O(workloads) large, for every resource.
    pub workload_services: Arc<Value>,
    /// The resource's state from the previous run (`{}` when new).
    pub state: Map<String, Value>,
    /// The project's current shared state.
    pub shared: Map<String, Value>,
    /// Target-supplied map, e.g. `{"name": "compose", "project": "demo"}`.
    pub target: Value,
    /// Per-project random seed from the state; `guid` and `rand_alnum` derive from it.
    pub seed: String,
    /// The output keys the workloads reference on this resource (`${resources.db.<key>}`),
    /// sorted: lets a provisioner answer keys it cannot know in advance (e.g. `environment`).
    pub requested_outputs: Vec<String>,
    /// The guid the state stores for this resource (one score-compose or score-k8s gave it);
    /// `None`: derived from the seed ([`ProvisionInput::guid`]).
    pub stored_guid: Option<String>,
}

impl ProvisionInput {
    /// An input with the uid's type/class/id, the given seed and everything else empty.
    pub fn new(uid: ResourceUid, seed: impl Into<String>) -> Self {
        Self {
            kind: uid.kind().to_string(),
            class: uid.class().to_string(),
            id: uid.id().to_string(),
            uid,
            params: Map::new(),
            metadata: Map::new(),
            source_workload: String::new(),
            workload_metadata: Map::new(),
            workload_services: Arc::new(Value::Object(Map::new())),
            state: Map::new(),
            shared: Map::new(),
            target: Value::Object(Map::new()),
            seed: seed.into(),
            requested_outputs: Vec::new(),
            stored_guid: None,
        }
    }

    /// The resource's stable guid: the stored one, else a v4-shaped UUID from SHA-256(seed, uid).
    ///
    /// ```
    /// let i = score_core::provision::ProvisionInput::new(score_core::target::ResourceUid::from_string("a.default#w.r"), "s");
    /// assert_eq!(i.guid(), i.guid());
    /// assert_eq!(i.guid().len(), 36);
    /// ```
    pub fn guid(&self) -> String {
        if let Some(g) = &self.stored_guid {
            return g.clone();
        }
        let d = Sha256::new()
            .chain_update(self.seed.as_bytes())
            .chain_update(b"\0guid\0")
            .chain_update(self.uid.as_str().as_bytes())
            .finalize();
        let mut b = [0u8; 16];
        b.copy_from_slice(&d[..16]);
        b[6] = (b[6] & 0x0f) | 0x40;
        b[8] = (b[8] & 0x3f) | 0x80;
        let h = helpers::hex(&b);
        format!(
            "{}-{}-{}-{}-{}",
            &h[0..8],
            &h[8..12],
            &h[12..16],
            &h[16..20],
            &h[20..32]
        )
    }

    /// The key `rand_alnum` draws from in `section`: SHA-256(seed, uid, section) in hex.
    fn rand_key(&self, section: &str) -> String {
        let d = Sha256::new()
            .chain_update(self.seed.as_bytes())
            .chain_update(b"\0rand\0")
            .chain_update(self.uid.as_str().as_bytes())
            .chain_update(b"\0")
            .chain_update(section.as_bytes())
            .finalize();
        helpers::hex(&d)
    }
}

/// What provisioning one resource produced.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ProvisionOutput {
    /// The resource's new state (persist it).
    pub state: Map<String, Value>,
    /// RFC 7386 merge patch for the shared state (`{}` for none); apply with [`merge_patch`].
    pub shared_patch: Value,
    /// The outputs `${resources.<name>.<key>}` placeholders read.
    pub outputs: Map<String, Value>,
    /// Top-level output keys that are secret.
    pub secret_outputs: BTreeSet<String>,
    /// Top-level output keys that are target expressions rather than literal values.
    pub expression_outputs: BTreeSet<String>,
    /// The current target's sections: section name → rendered YAML value.
    pub fragments: BTreeMap<String, Value>,
    /// Messages for the user (a Go-template entry's `info_logs`, as score-compose prints them).
    pub info_logs: Vec<String>,
    /// Problems that do not stop the run (a Go-template entry that misses one of its
    /// `expected_outputs`: the tools do not check them, score-gen tells).
    pub warnings: Vec<String>,
}

/// Limits for one provisioning call.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProvisionOptions {
    /// minijinja fuel per section render; exhaustion is an error.
    pub fuel: u64,
    /// Wall-clock limit for a `cmd://` program; it is killed when exceeded.
    pub cmd_timeout: Duration,
    /// Maximum bytes a `cmd://` program may write to stdout.
    pub max_cmd_output: usize,
    /// Whether `cmd://` entries may run their programs. The library's default is
    /// [`CommandPolicy::Deny`]: a provisioner file is data, and running the program it names is
    /// the caller's decision.
    pub commands: CommandPolicy,
    /// The environment variables that environment references read at generate time (see
    /// [`Environment`]). The library never reads the process environment; the default is empty,
    /// so every such reference is an error until the caller passes its environment in.
    pub environment: Environment,
}

/// Environment variables a caller hands to the library (the CLI: the environment it runs in).
///
/// They answer *environment references*: an output that its provisioner marks as an expression
/// and whose value is `${K}` for its own key `K` (what score-compose's `local-env://` provisioner
/// and the default `environment` entries answer for `${resources.<env>.K}`). Such a reference in
/// a resource's params is always read from here at generate time; in workload variables and
/// volume sources it is read from here unless the target interpolates it when deployed
/// ([`crate::Target::interpolates_environment`], compose). The variable read is always the key
/// the Score file names; a provisioner cannot choose another one (spec/security.md).
///
/// `Debug` shows the names only, never the values.
///
/// ```
/// let env: score_core::Environment = [("LOG_LEVEL", "debug")].into_iter().collect();
/// assert_eq!(env.get("LOG_LEVEL"), Some("debug"));
/// assert_eq!(env.get("HOME"), None);
/// assert_eq!(format!("{env:?}"), r#"Environment(["LOG_LEVEL"])"#);
/// ```
#[derive(Clone, Default, PartialEq, Eq)]
pub struct Environment(BTreeMap<String, String>);

impl Environment {
    /// No variables.
    pub fn new() -> Self {
        Self::default()
    }

    /// The value of `name`, if set.
    pub fn get(&self, name: &str) -> Option<&str> {
        self.0.get(name).map(String::as_str)
    }

    /// Sets `name` to `value`.
    pub fn set(&mut self, name: impl Into<String>, value: impl Into<String>) {
        self.0.insert(name.into(), value.into());
    }

    /// Whether no variable is set.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

impl std::fmt::Debug for Environment {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_tuple("Environment")
            .field(&self.0.keys().collect::<Vec<_>>())
            .finish()
    }
}

impl<K: Into<String>, V: Into<String>> FromIterator<(K, V)> for Environment {
    fn from_iter<I: IntoIterator<Item = (K, V)>>(iter: I) -> Self {
        Self(
            iter.into_iter()
                .map(|(k, v)| (k.into(), v.into()))
                .collect(),
        )
    }
}

/// Whether `cmd://` provisioners may run programs.
///
/// ```
/// assert_eq!(score_core::ProvisionOptions::default().commands, score_core::CommandPolicy::Deny);
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[non_exhaustive]
pub enum CommandPolicy {
    /// A `cmd://` entry that matches a resource is an error
    /// .
    #[default]
    Deny,
    /// Run the programs of trusted entries only ([`ProvisionerSource::trusted`]: the project's
    /// own files, and remote files pinned by hash); an untrusted entry is an error naming the
    /// permission. The CLI's default (spec/security.md). Needs the `host` feature.
    AllowTrusted,
    /// Run every entry's program (needs the `host` feature; the CLI's `--allow-remote-commands`).
    Allow,
}

impl Default for ProvisionOptions {
    fn default() -> Self {
        Self {
            fuel: template::DEFAULT_FUEL,
            cmd_timeout: Duration::from_secs(60),
            max_cmd_output: 16 * 1024 * 1024,
            commands: CommandPolicy::Deny,
            environment: Environment::default(),
        }
    }
}

/// What provisioning reads of the target it provisions for: its name (the key of its nested
/// sections) and which parts of the Score ecosystem's formats it reads. Built from a target with
/// [`ProvisionTarget::of`]; a bare name (`"demo".into()`) reads only nested sections.
#[derive(Debug, Clone, Copy)]
pub struct ProvisionTarget<'a> {
    /// The target's name ([`crate::Target::name`]).
    pub name: &'a str,
    /// The ecosystem's top-level sections of Go-template entries it reads
    /// ([`crate::Target::ecosystem_sections`]).
    pub ecosystem_sections: &'a [&'a str],
    /// The ecosystem's `cmd://` answer keys it reads, each with the section it fills
    /// ([`crate::Target::cmd_answer_keys`]).
    pub answer_keys: &'a [(&'a str, &'a str)],
    /// The functions it adds to Go-template entries ([`crate::Target::go_template_functions`]).
    pub go_functions: &'static [gotemplate::GoFunction],
    /// The values it gives Go-template entries and `cmd://` programs
    /// ([`crate::Target::provisioner_fields`]).
    pub fields: &'static [crate::target::ProvisionerField],
}

impl<'a> ProvisionTarget<'a> {
    /// What `target` reads.
    pub fn of(target: &'a (impl crate::Target + ?Sized)) -> Self {
        Self {
            name: target.name(),
            ecosystem_sections: target.ecosystem_sections(),
            answer_keys: target.cmd_answer_keys(),
            go_functions: target.go_template_functions(),
            fields: target.provisioner_fields(),
        }
    }
}

impl<'a> From<&'a str> for ProvisionTarget<'a> {
    fn from(name: &'a str) -> Self {
        Self {
            name,
            ecosystem_sections: &[],
            answer_keys: &[],
            go_functions: &[],
            fields: &[],
        }
    }
}

/// Provisions one resource with entry `p` for `target` (whose name selects nested target
/// sections and which reads the ecosystem sections and answer keys it names).
///
/// Checks `supported_params` first and `expected_outputs` last; every failure is a
/// `score::provision::*` diagnostic naming the provisioner and the resource.
///
/// The error shows none of the resource's own secrets (spec/security.md "Secrets in
/// diagnostics"): not the secret outputs it rendered before failing, nor any random string its
/// templates generated (a password, often, not yet known as an output).
pub fn provision<'a>(
    p: &Provisioner,
    input: &ProvisionInput,
    target: impl Into<ProvisionTarget<'a>>,
    opts: &ProvisionOptions,
) -> Result<ProvisionOutput, Diagnostic> {
    let target = target.into();
    let (result, generated) =
        helpers::collect_generated(|| provision_unscrubbed(p, input, target, opts));
    result.map_err(|d| {
        let mut secrets = crate::project::Secrets::default();
        secrets.add_generated(input.uid.as_str(), &generated);
        secrets.scrub_diagnostic(d)
    })
}

/// [`provision`] before its error is scrubbed of generated values.
fn provision_unscrubbed(
    p: &Provisioner,
    input: &ProvisionInput,
    target: ProvisionTarget<'_>,
    opts: &ProvisionOptions,
) -> Result<ProvisionOutput, Diagnostic> {
    check_params(p, input)?;
    let mut out = p.how.provision(p, input, &target, opts)?;
    out.secret_outputs.extend(p.secret_outputs.iter().cloned());
    out.expression_outputs
        .extend(p.expression_outputs.iter().cloned());
    // `*` marks every output key, for provisioners whose keys are only known at render time
    // (e.g. `environment`, which answers whatever keys the workloads request).
    for marks in [&mut out.secret_outputs, &mut out.expression_outputs] {
        if marks.remove("*") {
            marks.extend(out.outputs.keys().cloned());
        }
    }
    let missing: Vec<&str> = p
        .expected_outputs
        .iter()
        .filter(|k| !out.outputs.contains_key(k.as_str()))
        .map(String::as_str)
        .collect();
    if !missing.is_empty() && p.dialect() == Some(Dialect::GoTemplate) {
        // score-compose and score-k8s only list expected_outputs; a file written for them may
        // declare one it never produces (a reference to it still fails at substitution).
        out.warnings.push(format!(
            "provisioner '{}' ({}) did not produce expected output(s) {} for resource '{}'",
            p.uri,
            p.source,
            quoted_list(&missing),
            input.uid
        ));
        return Ok(out);
    }
    if !missing.is_empty() {
        let mut d = entry_diag(
            Code::ProvisionMissingOutput,
            p,
            format!(
                "provisioner '{}' did not produce expected output(s) {} for resource '{}'",
                p.uri,
                quoted_list(&missing),
                input.uid
            ),
        );
        let listed = p.expected_outputs.iter().position(|k| k == missing[0]);
        if let Some(span) = listed.and_then(|i| p.expected_output_spans.get(i).copied().flatten()) {
            d = d
                .with_span(span)
                .with_label(format!("'{}' is expected but not produced", missing[0]));
        }
        return Err(d.with_help(format!(
            "produced outputs: {}",
            if out.outputs.is_empty() {
                "none".to_string()
            } else {
                quoted_list(&out.outputs.keys().map(String::as_str).collect::<Vec<_>>())
            }
        )));
    }
    Ok(out)
}

fn quoted_list(items: &[&str]) -> String {
    items
        .iter()
        .map(|s| format!("'{s}'"))
        .collect::<Vec<_>>()
        .join(", ")
}

fn entry_diag(code: Code, p: &Provisioner, msg: String) -> Diagnostic {
    let d = Diagnostic::new(code, msg).with_file(p.source.file.clone());
    match template::line_span(&p.source.file, p.source.line) {
        Some(s) => d.with_span(s),
        None => d,
    }
}

fn check_params(p: &Provisioner, input: &ProvisionInput) -> Result<(), Diagnostic> {
    match unsupported_params(p, &input.uid, input.params.keys().map(String::as_str)) {
        Some(d) => Err(d),
        None => Ok(()),
    }
}

/// The [`Code::ProvisionUnsupportedParam`] diagnostic (at the provisioner entry) for the params
/// of `uid` that `p` does not list in `supported_params`, if any.
pub(crate) fn unsupported_params<'a>(
    p: &Provisioner,
    uid: &crate::target::ResourceUid,
    params: impl Iterator<Item = &'a str>,
) -> Option<Diagnostic> {
    let supported = p.supported_params.as_ref()?;
    let bad: Vec<&str> = params
        .filter(|k| !supported.iter().any(|s| s == *k))
        .collect();
    if bad.is_empty() {
        return None;
    }
    Some(
        entry_diag(
            Code::ProvisionUnsupportedParam,
            p,
            format!(
                "resource '{}': provisioner '{}' does not support param(s) {}",
                uid,
                p.uri,
                quoted_list(&bad)
            ),
        )
        .with_help(if supported.is_empty() {
            "this provisioner takes no params".to_string()
        } else {
            format!(
                "supported params: {}",
                supported
                    .iter()
                    .map(String::as_str)
                    .collect::<Vec<_>>()
                    .join(", ")
            )
        }),
    )
}

/// Applies an RFC 7386 JSON merge patch: objects merge key by key, `null` deletes, anything else
/// replaces.
///
/// ```
/// use serde_json::json;
/// let mut doc = json!({"a": {"b": 1, "c": 2}, "d": [1]});
/// score_core::provision::merge_patch(&mut doc, &json!({"a": {"b": null, "e": 3}, "d": 4}));
/// assert_eq!(doc, json!({"a": {"c": 2, "e": 3}, "d": 4}));
/// ```
pub fn merge_patch(target: &mut Value, patch: &Value) {
    let Value::Object(patch_map) = patch else {
        *target = patch.clone();
        return;
    };
    if !target.is_object() {
        *target = Value::Object(Map::new());
    }
    if let Value::Object(t) = target {
        for (k, v) in patch_map {
            if v.is_null() {
                t.shift_remove(k);
            } else {
                merge_patch(t.entry(k.clone()).or_insert(Value::Null), v);
            }
        }
    }
}
