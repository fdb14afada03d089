//! Provisioning: provisioner files, the template engine, and the `cmd://` protocol.
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

pub(crate) mod file;
pub mod gotemplate;
pub mod graph;
pub(crate) mod helpers;
pub mod placeholder;
pub mod substitute;
pub(crate) mod template;

use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;
use std::time::Duration;

use serde_json::{Map, Value};
use sha2::{Digest, Sha256};

pub use file::{CmdSpec, Dialect, Provisioner, ProvisionerFile, ProvisionerSet, ProvisionerSource};

use crate::diag::{Code, Diagnostic};
use crate::uid::ResourceUid;
use file::{Engine, GoEntry, GoSection, TemplateEntry};
use template::{ErrorSite, SectionTemplate};

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

#[cfg(feature = "host")]
fn run_command(
    p: &Provisioner,
    spec: &CmdSpec,
    input: &ProvisionInput,
    target: &ProvisionTarget<'_>,
    opts: &ProvisionOptions,
) -> Result<crate::host::cmd::CmdOutput, Diagnostic> {
    let program = check_command(p, input.uid.as_str(), opts)?;
    crate::host::cmd::run(&p.uri, spec, &program, input, target, opts)
}

/// Every check made before entry `p` (a `cmd://` entry) starts its program for resource `uid`:
/// the permission ([`CommandPolicy`]), a relative program of a file that is not on the local disk,
/// and where the program is (a path that must name an executable file, or a bare name looked up
/// on `PATH` as Go's `exec.LookPath` does, refusing a match through a relative entry such as `.`
/// or an empty one). Returns the program to start. `resolve_project` makes these checks for every
/// resource before the first program starts (spec/security.md).
pub(crate) fn check_command(
    p: &Provisioner,
    uid: &str,
    opts: &ProvisionOptions,
) -> Result<std::path::PathBuf, Diagnostic> {
    let Some(spec) = p.cmd() else {
        return Err(command_denied(p, uid));
    };
    // A build without `host` runs no program, whatever its path: that is the one answer (and
    // `Path::is_relative` is true of every path on wasm32-unknown-unknown, `/bin/sh` included).
    if cfg!(not(feature = "host")) {
        return Err(command_denied(p, uid));
    }
    if p.source.dir.is_none() && spec.program.is_relative() && spec.program.components().count() > 1
    {
        // Resolving it against the working directory would run the project's own `./x` on
        // behalf of a file that is not the project's.
        return Err(entry_diag(
            Code::ProvisionCommandRelative,
            p,
            format!(
                "provisioner '{}' names the relative program '{}', but its file is not on the local disk, so there is nothing to resolve it against",
                p.uri,
                spec.program.display()
            ),
        )
        .with_help("use an absolute path or a program name looked up on PATH, or keep the provisioner file in the project"));
    }
    match opts.commands {
        CommandPolicy::Allow => {}
        CommandPolicy::AllowTrusted if p.source.trusted => {}
        CommandPolicy::AllowTrusted => {
            return Err(entry_diag(
                Code::ProvisionCommandUntrusted,
                p,
                format!(
                    "provisioner '{}' for resource '{uid}' comes from outside the project ({}) and would run the program '{}'",
                    p.uri,
                    p.source.file.name,
                    spec.program.display()
                ),
            )
            .with_help(
                "review the file, then pin it (URI#sha256=<hex>) or pass --allow-remote-commands to let remote provisioner files run programs",
            ))
        }
        CommandPolicy::Deny => return Err(command_denied(p, uid)),
    }
    #[cfg(feature = "host")]
    {
        crate::host::cmd::locate(&spec.program).map_err(|why| {
            entry_diag(
                Code::ProvisionCommandFailed,
                p,
                format!(
                    "cmd provisioner '{}' for resource '{uid}': cannot start '{}': {why}",
                    p.uri,
                    spec.program.display()
                ),
            )
            .with_help(PROGRAM_HELP)
        })
    }
    #[cfg(not(feature = "host"))]
    Err(command_denied(p, uid))
}

/// How a `cmd://` program is found (spec/provisioners.md §5).
// Used only by the host code (running programs); a build without `host` has no programs.
#[cfg_attr(not(feature = "host"), allow(dead_code))]
pub(crate) const PROGRAM_HELP: &str = "cmd://./x is relative to the project directory (where score-gen runs; a library caller gives the directory), cmd://~/x to $HOME, cmd:///x is absolute, and cmd://name is looked up on PATH (an entry that is `.`, empty or relative is not used)";

#[cfg(not(feature = "host"))]
fn run_command(
    p: &Provisioner,
    _spec: &CmdSpec,
    input: &ProvisionInput,
    _target: &ProvisionTarget<'_>,
    _opts: &ProvisionOptions,
) -> Result<CmdOutputStub, Diagnostic> {
    Err(command_denied(p, input.uid.as_str()))
}

/// Without the `host` feature no program can run; the type only keeps `provision` one function.
#[cfg(not(feature = "host"))]
struct CmdOutputStub {
    resource_state: Option<Map<String, Value>>,
    shared_state: Option<Value>,
    resource_outputs: Option<Map<String, Value>>,
    secret_outputs: Option<BTreeSet<String>>,
    expression_outputs: Option<BTreeSet<String>>,
    fragments: Option<BTreeMap<String, Value>>,
}

#[cfg(not(feature = "host"))]
impl CmdOutputStub {
    fn fragments_for(&mut self, _answer_keys: &[(&str, &str)]) -> BTreeMap<String, Value> {
        self.fragments.take().unwrap_or_default()
    }
}

fn command_denied(p: &Provisioner, uid: &str) -> Diagnostic {
    entry_diag(
        Code::ProvisionCommandDenied,
        p,
        format!(
            "provisioner '{}' for resource '{}' would run the program '{}', and running programs is not allowed",
            p.uri,
            uid,
            p.cmd().map_or_else(String::new, |c| c.program.display().to_string())
        ),
    )
    .with_help(if cfg!(feature = "host") {
        "set ProvisionOptions::commands to CommandPolicy::Allow to run cmd:// provisioners"
    } else {
        "this build of score-core has no `host` feature, so it cannot run cmd:// provisioners"
    })
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
    let mut out = match &p.engine {
        Engine::Template(t) => render_all(p, t, input, target.name, opts)?,
        Engine::Go(g) => render_go(p, g, input, &target, opts)?,
        Engine::LocalEnv => local_env(input),
        Engine::Cmd(spec) => {
            let mut r = run_command(p, spec, input, &target, opts)?;
            let fragments = r.fragments_for(target.answer_keys);
            ProvisionOutput {
                state: r.resource_state.unwrap_or_default(),
                shared_patch: r.shared_state.unwrap_or(Value::Object(Map::new())),
                outputs: r.resource_outputs.unwrap_or_default(),
                secret_outputs: r.secret_outputs.unwrap_or_default(),
                expression_outputs: r.expression_outputs.unwrap_or_default(),
                fragments,
                info_logs: Vec::new(),
                warnings: Vec::new(),
            }
        }
    };
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
    if !missing.is_empty() && p.dialect() == Some(file::Dialect::GoTemplate) {
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

fn render_all(
    p: &Provisioner,
    t: &TemplateEntry,
    input: &ProvisionInput,
    target: &str,
    opts: &ProvisionOptions,
) -> Result<ProvisionOutput, Diagnostic> {
    // The template context, each member converted once; a section's result replaces its member.
    let mut ctx = Context::default();
    ctx.set("uid", Value::String(input.uid.to_string()));
    ctx.set("type", Value::String(input.kind.clone()));
    ctx.set("class", Value::String(input.class.clone()));
    ctx.set("id", Value::String(input.id.clone()));
    ctx.set("guid", Value::String(input.guid()));
    ctx.set("params", Value::Object(input.params.clone()));
    ctx.set("metadata", Value::Object(input.metadata.clone()));
    ctx.set(
        "source_workload",
        Value::String(input.source_workload.clone()),
    );
    ctx.set("target", input.target.clone());
    ctx.set(
        "requested_outputs",
        Value::Array(
            input
                .requested_outputs
                .iter()
                .map(|k| Value::String(k.clone()))
                .collect(),
        ),
    );
    ctx.set("init", Value::Object(Map::new()));
    ctx.set("state", Value::Object(input.state.clone()));
    ctx.set("shared", Value::Object(input.shared.clone()));
    ctx.set("outputs", Value::Object(Map::new()));

    let mut out = ProvisionOutput {
        state: input.state.clone(),
        shared_patch: Value::Object(Map::new()),
        ..ProvisionOutput::default()
    };
    for name in file::CORE_SECTIONS {
        let Some(section) = t.core.get(name) else {
            continue;
        };
        let value = render_section(p, t, section, name, &ctx, input, opts)?;
        let map = core_map(value).map_err(|m| section_diag(p, section.first_line, name, m))?;
        match name {
            "init" => {
                ctx.set("init", Value::Object(map));
            }
            "state" => {
                out.state = map.clone();
                ctx.set("state", Value::Object(map));
            }
            "shared" => {
                let patch = Value::Object(map);
                let mut merged = Value::Object(input.shared.clone());
                merge_patch(&mut merged, &patch);
                ctx.set("shared", merged);
                out.shared_patch = patch;
            }
            _ => {
                out.outputs = map.clone();
                ctx.set("outputs", Value::Object(map));
            }
        }
    }
    if let Some(sections) = t.targets.get(target) {
        for (name, section) in sections {
            let label = format!("{target}.{name}");
            let rendered = render_section(p, t, section, &label, &ctx, input, opts)
                .map_err(|d| own_secrets(p, input, &out.outputs).scrub_diagnostic(d))?;
            if let Some(v) = rendered {
                out.fragments.insert(name.clone(), v);
            }
        }
    }
    Ok(out)
}

/// The secret outputs a resource's sections rendered before one of them failed: its error must
/// not show them (the state, which the caller scrubs with, does not hold them yet).
fn own_secrets(
    p: &Provisioner,
    input: &ProvisionInput,
    outputs: &Map<String, Value>,
) -> crate::project::Secrets {
    let mut s = crate::project::Secrets::default();
    s.add_outputs(input.uid.as_str(), outputs, &p.secret_outputs);
    s
}

/// The data a Go-template section sees: score-compose's and score-k8s's `Data` structs in one
/// mapping with their Go field names (spec/provisioners.md, "Go-template entries"), held as the
/// engine's values so each section's render shares them (only `Init`, `State` and `Shared`
/// change between sections).
struct GoData(std::collections::BTreeMap<Arc<str>, gotemplate::Value>);

impl GoData {
    fn new(input: &ProvisionInput, fields: &[crate::target::ProvisionerField]) -> Self {
        let target = |key: &str| {
            input
                .target
                .get(key)
                .and_then(Value::as_str)
                .unwrap_or_default()
                .to_string()
        };
        let string = |s: String| gotemplate::Value::String(s.into());
        let object = |m: &Map<String, Value>| gotemplate::to_value(&Value::Object(m.clone()));
        let mut d = std::collections::BTreeMap::new();
        let mut put = |k: &str, v: gotemplate::Value| {
            d.insert(Arc::<str>::from(k), v);
        };
        put("Guid", string(input.guid()));
        put("Uid", string(input.uid.to_string()));
        put("Type", string(input.kind.clone()));
        put("Class", string(input.class.clone()));
        put("Id", string(input.id.clone()));
        put("Params", object(&input.params));
        put("Metadata", object(&input.metadata));
        put("Init", object(&Map::new()));
        put("State", object(&input.state));
        put("Shared", object(&input.shared));
        put("SourceWorkload", string(input.source_workload.clone()));
        put("WorkloadMetadata", object(&input.workload_metadata));
        put(
            "WorkloadServices",
            go_workload_services(&input.workload_services),
        );
        put("Namespace", string(target("namespace")));
        for f in fields {
            put(f.go_field, string(target(f.context_key)));
        }
        GoData(d)
    }

    fn set(&mut self, key: &str, value: &Value) {
        self.0.insert(Arc::from(key), gotemplate::to_value(value));
    }

    fn value(&self) -> gotemplate::Value {
        gotemplate::Value::Map(Arc::new(self.0.clone()))
    }
}

/// `workload_services` with the Go field names of the tools' `NetworkService` and `ServicePort`,
/// as the engine's value. The map is the same for every resource of a project and O(workloads)
/// large, so the last conversion is kept (per thread) and reused while the caller's `Arc` is the
/// same.
fn go_workload_services(services: &Arc<Value>) -> gotemplate::Value {
    thread_local! {
        static LAST: std::cell::RefCell<Option<(Arc<Value>, gotemplate::Value)>> =
            const { std::cell::RefCell::new(None) };
    }
    if let Some(v) = LAST.with(|l| {
        l.borrow()
            .as_ref()
            .filter(|(k, _)| Arc::ptr_eq(k, services))
            .map(|(_, v)| v.clone())
    }) {
        return v;
    }
    let rename = |v: &Value, names: &[(&str, &str)]| -> Map<String, Value> {
        let mut out = Map::new();
        if let Value::Object(m) = v {
            for (from, to) in names {
                if let Some(x) = m.get(*from) {
                    out.insert((*to).to_string(), x.clone());
                }
            }
        }
        out
    };
    let mut out = Map::new();
    if let Value::Object(m) = services.as_ref() {
        for (name, svc) in m {
            let mut s = rename(svc, &[("service_name", "ServiceName")]);
            let mut ports = Map::new();
            if let Some(Value::Object(ps)) = svc.get("ports") {
                for (pname, p) in ps {
                    let port = rename(
                        p,
                        &[
                            ("name", "Name"),
                            ("port", "Port"),
                            ("target_port", "TargetPort"),
                            ("protocol", "Protocol"),
                        ],
                    );
                    ports.insert(pname.clone(), Value::Object(port));
                }
            }
            s.insert("Ports".into(), Value::Object(ports));
            out.insert(name.clone(), Value::Object(s));
        }
    }
    // Go's typed map: a workload or port it lacks reads as the zero struct (spec/gotemplate.md).
    let v = gotemplate::network_services(&Value::Object(out));
    LAST.with(|l| *l.borrow_mut() = Some((services.clone(), v.clone())));
    v
}

/// Renders a Go-template entry as the ecosystem's tools do: `init`, `state`, `shared`,
/// `outputs`, then the current target's sections; a section without text leaves its result
/// empty (so an entry without `state` stores `{}`, like the tools).
fn render_go(
    p: &Provisioner,
    g: &GoEntry,
    input: &ProvisionInput,
    target: &ProvisionTarget<'_>,
    opts: &ProvisionOptions,
) -> Result<ProvisionOutput, Diagnostic> {
    let ProvisionTarget {
        name: target,
        ecosystem_sections,
        go_functions,
        fields,
        ..
    } = *target;
    let mut data = GoData::new(input, fields);
    let compiled = (go_functions, fields);
    let mut out = ProvisionOutput {
        shared_patch: Value::Object(Map::new()),
        ..ProvisionOutput::default()
    };
    for name in file::CORE_SECTIONS {
        let Some(section) = g.core.get(name) else {
            continue;
        };
        let value = render_go_section(p, section, name, &data, input, (target, compiled), opts)?;
        warn_no_value(p, section, name, input, value.as_ref(), &mut out.warnings);
        let map = core_map(value).map_err(|m| go_section_diag(p, section, name, m))?;
        match name {
            "init" => data.set("Init", &Value::Object(map)),
            "state" => {
                let state = Value::Object(map);
                data.set("State", &state);
                if let Value::Object(m) = state {
                    out.state = m;
                }
            }
            "shared" => {
                let patch = Value::Object(map);
                let mut merged = Value::Object(input.shared.clone());
                merge_patch(&mut merged, &patch);
                data.set("Shared", &merged);
                out.shared_patch = patch;
            }
            _ => out.outputs = map,
        }
    }
    if !g.core.contains_key("state") {
        // score-compose and score-k8s store what the state template gave: nothing.
        data.set("State", &Value::Object(Map::new()));
    }
    // The ecosystem's top-level sections the target reads, then its nested ones.
    let reads = |name: &str| ecosystem_sections.contains(&name);
    let ecosystem = g.ecosystem.iter().filter(|(name, _)| reads(name));
    let nested = g.targets.get(target).into_iter().flatten();
    for (name, section) in ecosystem.chain(nested) {
        let label = format!("{target}.{name}");
        let rendered =
            render_go_section(p, section, &label, &data, input, (target, compiled), opts)
                .map_err(|d| own_secrets(p, input, &out.outputs).scrub_diagnostic(d))?;
        let Some(v) = rendered else {
            continue;
        };
        warn_no_value(p, section, &label, input, Some(&v), &mut out.warnings);
        if name == file::MESSAGES_SECTION && reads(file::MESSAGES_SECTION) {
            out.info_logs = info_logs(p, section, &label, v)
                .map_err(|d| own_secrets(p, input, &out.outputs).scrub_diagnostic(d))?;
        } else {
            out.fragments.insert(name.clone(), v);
        }
    }
    Ok(out)
}

/// What a target adds to Go-template entries: its functions and its data fields.
type GoExtras = (
    &'static [gotemplate::GoFunction],
    &'static [crate::target::ProvisionerField],
);

/// What Go's text/template prints for a missing map key.
const GO_NO_VALUE: &str = "<no value>";

/// A warning for each value a Go-template section rendered as `<no value>` (Go prints it for a
/// key that does not exist, as the tools do; the output is then silently wrong): the file, the
/// entry, the section and the key.
fn warn_no_value(
    p: &Provisioner,
    section: &GoSection,
    label: &str,
    input: &ProvisionInput,
    value: Option<&Value>,
    warnings: &mut Vec<String>,
) {
    fn walk(v: &Value, path: &mut Vec<String>, found: &mut Vec<String>) {
        match v {
            Value::String(s) if s.contains(GO_NO_VALUE) => found.push(if path.is_empty() {
                "(the whole section)".to_string()
            } else {
                path.join(".")
            }),
            Value::Object(m) => {
                for (k, v) in m {
                    path.push(k.clone());
                    walk(v, path, found);
                    path.pop();
                }
            }
            Value::Array(items) => {
                for (i, v) in items.iter().enumerate() {
                    path.push(i.to_string());
                    walk(v, path, found);
                    path.pop();
                }
            }
            _ => {}
        }
    }
    let Some(value) = value else { return };
    if section.text.contains(GO_NO_VALUE) {
        return; // written by the template's author
    }
    let mut found = Vec::new();
    walk(value, &mut Vec::new(), &mut found);
    for key in found {
        warnings.push(format!(
            "{}: provisioner '{}', section '{label}', key '{key}': '{GO_NO_VALUE}' for resource \
             '{}' (the template read a key that does not exist; Go writes '{GO_NO_VALUE}' there, \
             as the Score ecosystem's tools do)",
            p.source, p.uri, input.uid
        ));
    }
}

/// score-compose's `local-env://` provisioner: each requested output key becomes the compose
/// interpolation `${KEY}` of the variable of that name (an expression output).
fn local_env(input: &ProvisionInput) -> ProvisionOutput {
    let outputs = input
        .requested_outputs
        .iter()
        .map(|k| (k.clone(), Value::String(format!("${{{k}}}"))))
        .collect();
    ProvisionOutput {
        state: Map::new(),
        shared_patch: Value::Object(Map::new()),
        outputs,
        ..ProvisionOutput::default()
    }
}

/// An `info_logs` section's value: a list of strings (null = none).
fn info_logs(
    p: &Provisioner,
    section: &GoSection,
    label: &str,
    v: Value,
) -> Result<Vec<String>, Diagnostic> {
    let items = match v {
        Value::Null => return Ok(Vec::new()),
        Value::Array(items) => items,
        other => {
            return Err(go_section_diag(
                p,
                section,
                label,
                format!(
                    "must render to a YAML list of strings, got {}",
                    crate::diag::describe_type(&other)
                ),
            ))
        }
    };
    items
        .into_iter()
        .map(|i| match i {
            Value::String(s) => Ok(s),
            Value::Number(n) => Ok(n.to_string()),
            Value::Bool(b) => Ok(b.to_string()),
            other => Err(go_section_diag(
                p,
                section,
                label,
                format!(
                    "must render to a YAML list of strings, found {}",
                    crate::diag::describe_type(&other)
                ),
            )),
        })
        .collect()
}

fn render_go_section(
    p: &Provisioner,
    section: &GoSection,
    label: &str,
    data: &GoData,
    input: &ProvisionInput,
    (target, (functions, fields)): (&str, GoExtras),
    opts: &ProvisionOptions,
) -> Result<Option<Value>, Diagnostic> {
    let template = section.for_target(functions, fields).map_err(|e| {
        // The text calls a function neither sprig nor this target supplies (another target's,
        // or a misspelt one): Go fails to parse it, as the tool that lacks it does.
        let mut d = go_section_diag(
            p,
            section,
            label,
            format!(
                "Go template syntax error for target '{target}': {}",
                e.message
            ),
        );
        d.code = Code::ProvisionTemplateSyntax;
        if let (Some(l), Some(c)) = (e.line, e.column) {
            let file = &p.source.file;
            if let Some(span) =
                template::template_point_span(file, section.first_line, &section.text, l, c)
            {
                d = d.with_span(span).with_label(e.message.clone());
            }
        }
        d.with_help(format!(
            "the function is neither Go's, sprig's nor one target '{target}' supplies"
        ))
    })?;
    // The seeded random functions' key, for the sections that can call one.
    let key = if template.uses_random() {
        input.rand_key(label)
    } else {
        String::new()
    };
    let ctx = gotemplate::RenderContext {
        random_key: key.as_bytes(),
        fuel: opts.fuel,
    };
    let text = template
        .render_value(&data.value(), &ctx, None)
        .map_err(|e| {
            let mut d = go_section_diag(
                p,
                section,
                label,
                format!("Go template failed: {}", e.message),
            );
            d.code = Code::ProvisionTemplateRender;
            // Where the engine knows the failing action, point at it.
            if let (Some(l), Some(c)) = (e.line, e.column) {
                let file = &p.source.file;
                if let Some(span) =
                    template::template_point_span(file, section.first_line, &section.text, l, c)
                {
                    d = d.with_span(span).with_label(e.message.clone());
                }
            }
            d
        })?;
    if text.trim().is_empty() {
        return Ok(None);
    }
    crate::load::yaml::parse_go_section(&text)
        .map_err(|e| not_yaml(p, section.first_line, label, &e, &text))
}

fn go_section_diag(p: &Provisioner, section: &GoSection, label: &str, msg: String) -> Diagnostic {
    let d = section_diag(p, section.first_line, label, msg);
    if d.span.is_some() {
        d.with_label(format!("section '{label}' starts here"))
    } else {
        d
    }
}

/// A resource's template context: its members as template values, each converted from JSON
/// once (rendering a section used to convert them all again).
#[derive(Default)]
struct Context(Vec<(&'static str, minijinja::Value)>);

impl Context {
    fn set(&mut self, key: &'static str, value: Value) {
        let converted = template::to_template(&value);
        match self.0.iter_mut().find(|(k, _)| *k == key) {
            Some(slot) => slot.1 = converted,
            None => self.0.push((key, converted)),
        }
    }
}

fn render_section(
    p: &Provisioner,
    t: &TemplateEntry,
    section: &SectionTemplate,
    label: &str,
    ctx: &Context,
    input: &ProvisionInput,
    opts: &ProvisionOptions,
) -> Result<Option<Value>, Diagnostic> {
    // `rand_alnum`'s key, for the sections that call it; `workload_services` goes in lazily
    // (see `LazyJsonMap`).
    let rand_key = section
        .uses_rand
        .then(|| minijinja::Value::from(input.rand_key(label)));
    let template_ctx = minijinja::Value::from_pairs(
        ctx.0
            .iter()
            .map(|(k, v)| (*k, v.clone()))
            .chain(rand_key.map(|k| (helpers::RAND_KEY, k)))
            .chain(std::iter::once((
                "workload_services",
                template::LazyJsonMap::into_value(input.workload_services.clone()),
            ))),
    );
    let text = t
        .templates
        .render(section, template_ctx, opts.fuel)
        .map_err(|e| {
            template::template_diagnostic(
                Code::ProvisionTemplateRender,
                &e,
                &ErrorSite {
                    file: &p.source.file,
                    uri: &p.uri,
                    section: label,
                    first_line: section.first_line,
                },
            )
        })?;
    t.templates
        .parse(section, &text)
        .map_err(|e| not_yaml(p, section.first_line, label, &e, &text))
}

/// A section rendered `text`, which is not YAML (`e`).
fn not_yaml(p: &Provisioner, first_line: usize, label: &str, e: &str, text: &str) -> Diagnostic {
    section_diag(
        p,
        first_line,
        label,
        format!("rendered text is not valid YAML: {e}"),
    )
    .with_label("this section renders text that is not YAML")
    .with_help(format!(
        "fix the template so it renders YAML; it rendered:\n{}",
        text.trim_end()
    ))
}

/// A problem with the output of the section `label` whose text starts at `first_line`.
fn section_diag(p: &Provisioner, first_line: usize, label: &str, msg: String) -> Diagnostic {
    let d = Diagnostic::new(
        Code::ProvisionInvalidSectionOutput,
        format!(
            "provisioner '{}' section '{}' ({}:{}): {msg}",
            p.uri, label, p.source.file.name, first_line
        ),
    )
    .with_file(p.source.file.clone());
    match template::line_span(&p.source.file, first_line) {
        Some(s) => d.with_span(s),
        None => d,
    }
}

/// A core section's (`init`, `state`, `shared`, `outputs`) rendered value as a mapping: nothing
/// or `null` is `{}`; anything else is the error's text.
fn core_map(value: Option<Value>) -> Result<Map<String, Value>, String> {
    match value {
        None | Some(Value::Null) => Ok(Map::new()),
        Some(Value::Object(m)) => Ok(m),
        Some(other) => Err(format!(
            "must render to a YAML mapping, got {}",
            crate::diag::describe_type(&other)
        )),
    }
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
