//! The back half of the pipeline: resource graph → provisioning → substitution, for a whole
//! project. [`resolve_project`] is the driver; [`compile`] runs the front half, this and the
//! target's `emit` on inputs held in memory.

use std::cell::RefCell;
use std::collections::{BTreeMap, BTreeSet};

use indexmap::IndexMap;
use serde_json::{Map, Value};

use crate::diag::{Code, Diagnostic, Diagnostics};
use crate::load::yaml::{escape_pointer_segment as escape_pointer, Document};
use crate::load::{load_workload, LoadOptions, LoadedWorkload};
use crate::model::{Container, Workload};
use crate::project::state::{ResourceState, State};
use crate::provision::graph;
use crate::provision::placeholder::split_ref_parts;
use crate::provision::substitute::{
    self, Context, Found, OutputLookup, Outputs, Piece, Resolved, Unescape,
};
use crate::provision::{
    self, Environment, ProvisionInput, ProvisionOptions, ProvisionOutput, ProvisionTarget,
    Provisioner, ProvisionerFile, ProvisionerSet,
};
use crate::secrets::Secrets;
use crate::target::{
    Artefacts, FileContent, ProvisionedResource, ResolvedContainer, ResolvedFile, ResolvedProject,
    ResolvedVolume, ResolvedWorkload, Target, VolumeSource,
};
use crate::uid::ResourceUid;

/// A loaded workload and where it came from.
#[derive(Debug, Clone)]
pub struct WorkloadInput {
    /// The loaded workload.
    pub loaded: LoadedWorkload,
    /// The path as the user gave it (recorded in state).
    pub file: Option<String>,
}

/// The back half: resolves every resource and placeholder of `workloads` for `target`, updating
/// `state` (new resources get their state; `workloads` are recorded in it).
pub fn resolve_project(
    workloads: &[WorkloadInput],
    provisioners: &ProvisionerSet,
    state: State,
    target: &dyn Target,
    provision_options: &ProvisionOptions,
) -> Result<(ResolvedProject, State), Diagnostics> {
    let (run, graph) = ProjectRun::new(workloads, provisioners, target, provision_options)?;
    let mut state = state;
    record_workloads(&mut state, workloads);
    // Several resources without a provisioner or with unsupported params: all reported at once.
    let early = check_all_resources(&graph, &run);
    if early.len() > 1 {
        return Err(Diagnostics(early));
    }
    run.check_programs(&graph, &state)?;
    let mut provisioned: BTreeMap<ResourceUid, ProvisionedResource> = BTreeMap::new();
    for uid in &graph.order {
        // A provisioning error shows no secret output, the ones this run made included
        // (spec/security.md "Secrets in diagnostics").
        let resource = run
            .provision_resource(&graph.nodes[uid], &mut state, &provisioned)
            .map_err(|d| Secrets::of(&state).scrub(d))?;
        provisioned.insert(uid.clone(), resource);
    }

    let env = EnvReading {
        environment: &provision_options.environment,
        deferred: target.interpolates_environment(),
    };
    let resolved = resolve_workloads(workloads, &provisioned, env)
        .map_err(|d| Secrets::of(&state).scrub(d))?;
    Ok((
        ResolvedProject {
            workloads: resolved,
            resources: provisioned,
            shared_state: state.shared_state.clone(),
        },
        state,
    ))
}

/// What [`resolve_project`] checks before it provisions anything, alone: the workloads' names
/// and resource graph, that every resource has a provisioner, and that every program the run
/// would start is allowed by `provision_options.commands` and exists (spec/security.md). A
/// caller that runs several projects at once (`score-gen all`: one per target) checks each
/// before any of them starts a program. Nothing is provisioned and no program runs.
pub fn check_programs(
    workloads: &[WorkloadInput],
    provisioners: &ProvisionerSet,
    state: &State,
    target: &dyn Target,
    provision_options: &ProvisionOptions,
) -> Result<(), Diagnostics> {
    let (run, graph) = ProjectRun::new(workloads, provisioners, target, provision_options)?;
    run.check_programs(&graph, state)
}

/// Records every workload, with the file it came from, in the state.
fn record_workloads(state: &mut State, workloads: &[WorkloadInput]) {
    for w in workloads {
        // Keep what else the caller recorded (the stored document, its directory).
        state
            .workloads
            .entry(w.loaded.workload.name().to_string())
            .or_default()
            .file
            .clone_from(&w.file);
    }
}

/// What provisioning each resource of one project run needs beside the resource itself.
struct ProjectRun<'a> {
    provisioners: &'a ProvisionerSet,
    target: &'a dyn Target,
    options: &'a ProvisionOptions,
    /// `workload_services` for every provisioner.
    services: std::sync::Arc<Value>,
    /// The output keys the workloads reference, per resource.
    requested: BTreeMap<ResourceUid, Vec<String>>,
    /// The target's context (`target` in provisioner inputs).
    target_ctx: Value,
    by_name: BTreeMap<&'a str, &'a WorkloadInput>,
}

impl<'a> ProjectRun<'a> {
    /// The run of `workloads` and their resource graph (names checked unique).
    fn new(
        workloads: &'a [WorkloadInput],
        provisioners: &'a ProvisionerSet,
        target: &'a dyn Target,
        options: &'a ProvisionOptions,
    ) -> Result<(Self, graph::Graph), Diagnostics> {
        check_unique_names(workloads)?;
        let specs: Vec<&Workload> = workloads.iter().map(|w| &w.loaded.workload).collect();
        let graph = graph::build(&specs).map_err(|e| graph_diagnostic(e, workloads))?;
        let run = ProjectRun {
            provisioners,
            target,
            options,
            services: std::sync::Arc::new(workload_services(&specs, target)),
            requested: requested_outputs(&specs),
            target_ctx: target.context(),
            // Names are unique (checked above); a map keeps the per-resource lookup O(log n).
            by_name: workloads
                .iter()
                .map(|w| (w.loaded.workload.name(), w))
                .collect(),
        };
        Ok((run, graph))
    }

    /// The workload whose definition a resource uses, and the resource's name in it.
    fn source_of(&self, node: &graph::ResourceNode) -> (&'a WorkloadInput, String) {
        let source = self
            .by_name
            .get(node.source_workload.as_str())
            .copied()
            .expect("graph nodes name loaded workloads");
        let res_name = node
            .users
            .iter()
            .find(|(w, _)| *w == node.source_workload)
            .map(|(_, r)| r.clone())
            .unwrap_or_default();
        (source, res_name)
    }

    /// Before any resource is provisioned: every resource has a provisioner, and every program
    /// the run will start exists and is allowed to run (spec/security.md), so a failure on
    /// the tenth resource does not come after the first resource's program ran. Reports every
    /// such problem at once.
    fn check_programs(&self, graph: &graph::Graph, state: &State) -> Result<(), Diagnostics> {
        let mut diags = Diagnostics::default();
        for uid in &graph.order {
            let node = &graph.nodes[uid];
            let (source, res_name) = self.source_of(node);
            match self.provisioner_for(uid, state, source, &res_name) {
                Ok(p) if p.cmd().is_some() => {
                    if let Err(d) = provision::check_command(p, uid.as_str(), self.options) {
                        let res_ptr = format!("/resources/{}", escape_pointer(&res_name));
                        let code = d.code;
                        diags.push(d.with_related(source.loaded.document.diagnostic(
                            code,
                            &res_ptr,
                            format!("while provisioning resource '{uid}' declared here"),
                        )));
                    }
                }
                Ok(_) => {}
                Err(d) => diags.0.extend(d.0),
            }
        }
        diags.into_result()
    }

    /// Provisions one resource (all it depends on is in `provisioned`) and records it in `state`.
    fn provision_resource(
        &self,
        node: &graph::ResourceNode,
        state: &mut State,
        provisioned: &BTreeMap<ResourceUid, ProvisionedResource>,
    ) -> Result<ProvisionedResource, Diagnostics> {
        let uid = &node.uid;
        let (source, res_name) = self.source_of(node);

        let params = resource_params(
            node,
            source,
            &res_name,
            provisioned,
            &self.options.environment,
        )?;
        let provisioner = self.provisioner_for(uid, state, source, &res_name)?;
        let previous = state.resources.get(uid.as_str());
        let input = ProvisionInput {
            uid: uid.clone(),
            kind: node.kind.clone(),
            class: node.class.clone(),
            id: uid.id().to_string(),
            params: params.clone(),
            metadata: node.metadata.clone().unwrap_or_default(),
            source_workload: node.source_workload.clone(),
            workload_metadata: source.loaded.workload.metadata.clone(),
            workload_services: self.services.clone(),
            state: previous.map(|p| p.state.clone()).unwrap_or_default(),
            shared: state.shared_state.clone(),
            target: self.target_ctx.clone(),
            seed: state.seed.clone(),
            requested_outputs: self.requested.get(uid).cloned().unwrap_or_default(),
            stored_guid: previous.and_then(|p| p.guid.clone()),
        };
        let out = provision::provision(
            provisioner,
            &input,
            ProvisionTarget::of(self.target),
            self.options,
        )
        .map_err(|d| {
            let code = d.code;
            let res_ptr = format!("/resources/{}", escape_pointer(&res_name));
            if code == Code::ProvisionUnsupportedParam {
                let keys: Vec<&String> = params.keys().collect();
                return unsupported_param_diagnostic(d, provisioner, source, &res_name, &keys)
                    .into();
            }
            Diagnostics::from(d.with_related(source.loaded.document.diagnostic(
                code,
                &res_ptr,
                format!("while provisioning resource '{uid}' declared here"),
            )))
        })?;
        Ok(record_resource(state, node, provisioner, params, out))
    }

    /// The provisioner for `uid`: the first that matches, and the one that provisioned it
    /// before if the state holds it (switching would lose its state).
    fn provisioner_for(
        &self,
        uid: &ResourceUid,
        state: &State,
        source: &WorkloadInput,
        res_name: &str,
    ) -> Result<&Provisioner, Diagnostics> {
        let provisioner = self
            .provisioners
            .find(uid)
            .ok_or_else(|| no_provisioner(self.provisioners, uid, source, res_name))?;
        if let Some(prev) = state.resources.get(uid.as_str())
            && prev.provisioner != provisioner.uri
        {
            return Err(Diagnostic::new(
                    Code::ProvisionProvisionerChanged,
                    format!(
                        "resource '{uid}' was provisioned by '{}' and would now be provisioned by '{}'",
                        prev.provisioner, provisioner.uri
                    ),
                )
                .with_help(format!(
                    "switching provisioners would lose its state; remove the resource from the state file or keep the provisioner '{}'",
                    prev.provisioner
                ))
                .into());
        }
        Ok(provisioner)
    }
}

/// The resource's params with their placeholders substituted: they may reference other
/// resources of the source workload (already provisioned: the graph order guarantees it) and the
/// workload's metadata. Environment references are read from `environment` now, whatever the
/// target: params are a provisioner's input, which no deploy-time interpolation reaches (as in
/// score-compose, where they must resolve at generate time).
fn resource_params(
    node: &graph::ResourceNode,
    source: &WorkloadInput,
    res_name: &str,
    provisioned: &BTreeMap<ResourceUid, ProvisionedResource>,
    environment: &Environment,
) -> Result<Map<String, Value>, Diagnostics> {
    let Some(p) = &node.params else {
        return Ok(Map::new());
    };
    let lookups = lookups_for(&source.loaded.workload, provisioned);
    let unset = RefCell::new(Vec::new());
    let env_lookups = EnvLookup::wrap(&lookups, environment, &unset);
    let ctx = Context {
        metadata: &source.loaded.workload.metadata,
        resources: env_lookups
            .iter()
            .map(|(k, v)| (k.clone(), v as &dyn OutputLookup))
            .collect(),
    };
    let params_ptr = format!("/resources/{}/params", escape_pointer(res_name));
    match substitute::substitute_value(&Value::Object(p.clone()), &ctx) {
        Ok(Value::Object(m)) => Ok(m),
        Ok(_) => Ok(Map::new()),
        Err(e) => {
            let doc = &source.loaded.document;
            let first_unset = unset.borrow().first().cloned();
            if let Some((res, var)) = first_unset {
                let needle = format!("${{resources.{res}.{var}");
                let d = match find_string_with(doc, &params_ptr, &needle) {
                    Some(at) => doc
                        .diagnostic(
                            Code::SubstituteEnvironmentUnset,
                            &at,
                            format!("resource '{}': params: {e}", node.uid),
                        )
                        .narrowed_to(&needle),
                    None => doc.diagnostic(
                        Code::SubstituteEnvironmentUnset,
                        &params_ptr,
                        format!("resource '{}': params: {e}", node.uid),
                    ),
                };
                return Err(d
                    .with_label(format!("'{var}' is not set"))
                    .with_help(format!(
                        "set {var} in the environment score-gen runs in: resource params are read when score-gen runs, so an environment reference in them cannot be left for deploy time"
                    ))
                    .into());
            }
            Err(doc
                .diagnostic(
                    Code::ProvisionParamsUnresolved,
                    &params_ptr,
                    format!("resource '{}': params: {e}", node.uid),
                )
                .into())
        }
    }
}

/// Whether `found` (looked up with `keys`) is an environment reference: an expression output
/// whose value is `${K}` for its own single key `K` ([`Environment`]). The variable is `K`, the
/// key the Score file names, never a name the provisioner chose.
fn environment_reference<'k>(found: &Found, keys: &'k [String]) -> Option<&'k str> {
    match keys {
        [k] if found.expression && found.value.as_str() == Some(format!("${{{k}}}").as_str()) => {
            Some(k)
        }
        _ => None,
    }
}

/// The error text of an environment reference whose variable is not set.
fn unset_message(var: &str) -> String {
    format!("environment variable '{var}' is not set")
}

/// A resource's output lookup that answers environment references from the caller's
/// environment, recording each (resource name, variable) that is not set.
struct EnvLookup<'a> {
    name: &'a str,
    outputs: &'a Outputs,
    environment: &'a Environment,
    unset: &'a RefCell<Vec<(String, String)>>,
}

impl<'a> EnvLookup<'a> {
    fn wrap(
        lookups: &'a BTreeMap<String, &'a Outputs>,
        environment: &'a Environment,
        unset: &'a RefCell<Vec<(String, String)>>,
    ) -> BTreeMap<String, EnvLookup<'a>> {
        lookups
            .iter()
            .map(|(name, outputs)| {
                let lookup = EnvLookup {
                    name,
                    outputs,
                    environment,
                    unset,
                };
                (name.clone(), lookup)
            })
            .collect()
    }
}

impl OutputLookup for EnvLookup<'_> {
    fn lookup(&self, keys: &[String]) -> Result<Found, String> {
        let found = self.outputs.lookup(keys)?;
        let Some(var) = environment_reference(&found, keys) else {
            return Ok(found);
        };
        match self.environment.get(var) {
            Some(v) => Ok(Found {
                value: Value::String(v.to_string()),
                expression: false,
                ..found
            }),
            None => {
                self.unset
                    .borrow_mut()
                    .push((self.name.to_string(), var.to_string()));
                Err(unset_message(var))
            }
        }
    }
}

/// Records a provisioning result: merges its shared-state patch and stores the resource's state
/// in `state`, and returns the resource as the targets see it.
fn record_resource(
    state: &mut State,
    node: &graph::ResourceNode,
    provisioner: &Provisioner,
    params: Map<String, Value>,
    out: ProvisionOutput,
) -> ProvisionedResource {
    let uid = &node.uid;
    let mut shared = Value::Object(std::mem::take(&mut state.shared_state));
    provision::merge_patch(&mut shared, &out.shared_patch);
    state.shared_state = match shared {
        Value::Object(m) => m,
        _ => Map::new(),
    };
    let (guid, extras) = state
        .resources
        .get(uid.as_str())
        .map(|r| (r.guid.clone(), r.extras.clone()))
        .unwrap_or_default();
    state.resources.insert(
        uid.as_str().to_string(),
        ResourceState {
            kind: node.kind.clone(),
            class: node.class.clone(),
            id: node.id.clone(),
            guid,
            source_workload: node.source_workload.clone(),
            provisioner: provisioner.uri.clone(),
            params: node.params.clone(),
            metadata: node.metadata.clone(),
            state: out.state.clone(),
            outputs: out.outputs.clone(),
            secret_outputs: out.secret_outputs.clone(),
            expression_outputs: out.expression_outputs.clone(),
            extras,
        },
    );
    ProvisionedResource {
        uid: uid.clone(),
        provisioner: provisioner.uri.clone(),
        provisioner_source: provisioner.source.to_string(),
        source_workload: node.source_workload.clone(),
        users: node.users.clone(),
        params,
        outputs: Outputs {
            values: out.outputs,
            secret: out.secret_outputs,
            expression: out.expression_outputs,
            uid: uid.as_str().to_string(),
        },
        fragments: out.fragments,
        info_logs: out.info_logs,
        warnings: out.warnings,
        tool_dialect: provisioner.dialect() == Some(crate::provision::Dialect::GoTemplate),
    }
}

/// Resolves every workload's placeholders, in name order, reporting the failures of all of them.
fn resolve_workloads(
    workloads: &[WorkloadInput],
    provisioned: &BTreeMap<ResourceUid, ProvisionedResource>,
    env: EnvReading,
) -> Result<Vec<ResolvedWorkload>, Diagnostics> {
    let mut resolved = Vec::new();
    let mut diags = Diagnostics::default();
    let mut sorted: Vec<&WorkloadInput> = workloads.iter().collect();
    sorted.sort_by(|a, b| a.loaded.workload.name().cmp(b.loaded.workload.name()));
    for w in sorted {
        match resolve_workload(w, provisioned, env) {
            Ok(r) => resolved.push(r),
            Err(d) => diags.0.extend(d.0),
        }
    }
    diags.into_result()?;
    Ok(resolved)
}

/// A Score file given as text: the name diagnostics show, and the text.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ScoreFile {
    /// Display name, usually the path as the user gave it.
    pub name: String,
    /// The file's text.
    pub text: String,
}

/// What [`compile`] works on: Score files, provisioner files and `files[].source` contents, all
/// in memory.
#[derive(Debug, Clone, Default)]
pub struct CompileInputs {
    /// The Score files, in order.
    pub score_files: Vec<ScoreFile>,
    /// The user's provisioner files, in priority order; the target's defaults come after them.
    pub provisioner_files: Vec<ProvisionerFile>,
    /// A provisioner set loaded once ([`crate::project::provisioner_set`]) for many compiles:
    /// when set, it is used as it is, and `provisioner_files` and the target's defaults are not
    /// read.
    pub provisioners: Option<ProvisionerSet>,
    /// Options for every Score file (limits, overrides, `files[].source` reader).
    pub load: LoadOptions,
    /// Provisioning limits and the [`crate::CommandPolicy`] (default: programs are not run).
    pub provision: ProvisionOptions,
}

impl CompileInputs {
    /// No inputs, default options.
    pub fn new() -> Self {
        Self::default()
    }

    /// Adds a Score file.
    pub fn score_file(mut self, name: impl Into<String>, text: impl Into<String>) -> Self {
        self.score_files.push(ScoreFile {
            name: name.into(),
            text: text.into(),
        });
        self
    }

    /// Adds a user provisioner file (tried before the target's defaults, in the order added).
    pub fn provisioner_file(mut self, name: impl Into<String>, text: impl Into<String>) -> Self {
        self.provisioner_files
            .push(ProvisionerFile::new(name, text));
        self
    }

    /// Uses a provisioner set loaded beforehand instead of loading the provisioner files on
    /// every call (an embedder compiling many times for one target).
    ///
    /// ```
    /// # use score_core::{compile, CompileInputs, State};
    /// # struct T;
    /// # impl score_core::Target for T {
    /// #     fn name(&self) -> &'static str { "t" }
    /// #     fn default_provisioners(&self) -> &'static str { "[]" }
    /// #     fn context(&self) -> serde_json::Value { serde_json::json!({}) }
    /// #     fn emit(&self, p: &score_core::target::ResolvedProject) -> Result<score_core::target::Artefacts, score_core::Diagnostics> {
    /// #         Ok(score_core::target::Artefacts { files: vec![score_core::target::ArtefactFile::new("n", p.workloads[0].name.clone())], ..Default::default() })
    /// #     }
    /// # }
    /// let set = score_core::project::provisioner_set::<&str, &str>(&T, &[]).unwrap();
    /// for name in ["web", "api"] {
    ///     let score = format!("apiVersion: score.dev/v1b1\nmetadata: {{name: {name}}}\ncontainers: {{main: {{image: x}}}}\n");
    ///     let inputs = CompileInputs::new().score_file("score.yaml", score).provisioners(set.clone());
    ///     let out = compile(&T, &inputs, State::with_seed("00")).unwrap();
    ///     assert_eq!(out.artefacts.files[0].content, name.as_bytes());
    /// }
    /// ```
    pub fn provisioners(mut self, set: ProvisionerSet) -> Self {
        self.provisioners = Some(set);
        self
    }

    /// Where `files[].source` contents come from.
    pub fn sources(mut self, reader: impl crate::input::SourceReader + 'static) -> Self {
        self.load.sources = Some(std::sync::Arc::new(reader));
        self
    }

    /// Provisioning options (limits, command policy).
    pub fn provision_options(mut self, options: ProvisionOptions) -> Self {
        self.provision = options;
        self
    }
}

/// What [`compile`] produces.
#[derive(Debug, Clone)]
pub struct Compiled {
    /// The resolved project the target emitted.
    pub project: ResolvedProject,
    /// The target's files.
    pub artefacts: Artefacts,
    /// The state after this run (persist it to keep generated values stable).
    pub state: State,
}

/// The whole pipeline with no file system: [`load_workload`] on each Score file,
/// [`resolve_project`], then [`Target::emit`].
///
/// Use [`State::with_seed`] for byte-stable output.
pub fn compile(
    target: &dyn Target,
    inputs: &CompileInputs,
    state: State,
) -> Result<Compiled, Diagnostics> {
    let mut workloads = Vec::new();
    let mut diags = Diagnostics::default();
    for f in &inputs.score_files {
        match load_workload(&f.name, f.text.as_bytes(), &inputs.load) {
            Ok(loaded) => workloads.push(WorkloadInput {
                loaded,
                file: Some(f.name.clone()),
            }),
            Err(d) => diags.0.extend(d.0),
        }
    }
    diags.into_result()?;
    let loaded;
    let provisioners = match &inputs.provisioners {
        Some(set) => set,
        None => {
            let mut files = inputs.provisioner_files.clone();
            files.push(default_provisioners(target));
            loaded = ProvisionerSet::load(&files).map_err(Diagnostics::from)?;
            &loaded
        }
    };
    let (project, state) =
        resolve_project(&workloads, provisioners, state, target, &inputs.provision)?;
    let artefacts = target
        .emit(&project)
        .map_err(|d| Secrets::of(&state).scrub(d))?;
    Ok(Compiled {
        project,
        artefacts,
        state,
    })
}

/// The user's provisioner files (in order) followed by the target's defaults.
pub fn provisioner_set<N: AsRef<str>, T: AsRef<str>>(
    target: &dyn Target,
    user_files: &[(N, T)],
) -> Result<ProvisionerSet, Diagnostics> {
    let mut files: Vec<ProvisionerFile> = user_files
        .iter()
        .map(|(n, t)| ProvisionerFile::new(n.as_ref(), t.as_ref()))
        .collect();
    files.push(default_provisioners(target));
    ProvisionerSet::load(&files).map_err(Diagnostics::from)
}

/// The target's default provisioner file, named as diagnostics show it.
fn default_provisioners(target: &dyn Target) -> ProvisionerFile {
    ProvisionerFile::new(
        format!("<{} default provisioners>", target.name()),
        target.default_provisioners(),
    )
}

/// The checks of a whole project that need no provisioner and no state, as [`resolve_project`]
/// makes them first: every workload name used once, and the resource graph (shared resources
/// declared identically, params that refer to declared resources, no cycles). An editor runs
/// it over the open Score files to report what `generate` would before anything is provisioned.
///
/// ```
/// use score_core::{load_workload, Code, LoadOptions};
/// use score_core::project::{check_project, WorkloadInput};
/// let text = "apiVersion: score.dev/v1b1\nmetadata: {name: ab}\ncontainers: {main: {image: x}}\n";
/// let load = |f: &str| WorkloadInput {
///     loaded: load_workload(f, text.as_bytes(), &LoadOptions::default()).unwrap(),
///     file: Some(f.into()),
/// };
/// let err = check_project(&[load("one.yaml"), load("two.yaml")]).unwrap_err();
/// assert_eq!(err.0[0].code, Code::ProjectDuplicateWorkload);
/// assert_eq!(err.0[0].location(), "two.yaml:2:18");
/// ```
pub fn check_project(workloads: &[WorkloadInput]) -> Result<(), Diagnostics> {
    check_unique_names(workloads)?;
    let specs: Vec<&Workload> = workloads.iter().map(|w| &w.loaded.workload).collect();
    graph::build(&specs).map_err(|e| graph_diagnostic(e, workloads))?;
    Ok(())
}

fn check_unique_names(workloads: &[WorkloadInput]) -> Result<(), Diagnostics> {
    let mut seen: BTreeMap<&str, &WorkloadInput> = BTreeMap::new();
    let mut diags = Diagnostics::default();
    for w in workloads {
        let name = w.loaded.workload.name();
        if let Some(first) = seen.get(name) {
            diags.push(
                w.loaded
                    .document
                    .diagnostic(
                        Code::ProjectDuplicateWorkload,
                        "/metadata/name",
                        format!("workload name '{name}' is used more than once"),
                    )
                    .with_help("every workload in one run needs its own metadata.name")
                    .with_related(first.loaded.document.diagnostic(
                        Code::ProjectDuplicateWorkload,
                        "/metadata/name",
                        "first used here",
                    )),
            );
        } else {
            seen.insert(name, w);
        }
    }
    diags.into_result()
}

/// The resource graph of `workloads` (unique names, shared resources, param dependencies,
/// provisioning order), with the diagnostics `resolve_project` would give; for `score-gen graph`
/// (re-exported as `provision::graph::of_workloads`).
pub(crate) fn resource_graph(workloads: &[WorkloadInput]) -> Result<graph::Graph, Diagnostics> {
    check_unique_names(workloads)?;
    let specs: Vec<&Workload> = workloads.iter().map(|w| &w.loaded.workload).collect();
    graph::build(&specs).map_err(|e| graph_diagnostic(e, workloads))
}

fn graph_diagnostic(e: graph::GraphError, workloads: &[WorkloadInput]) -> Diagnostics {
    let doc_of = |name: &str| -> Option<&Document> {
        workloads
            .iter()
            .find(|w| w.loaded.workload.name() == name)
            .map(|w| &*w.loaded.document)
    };
    // A location's diagnostic, narrowed to its needle (a `${resources.x...}` reference inside
    // the params) when the needle is found.
    let at = |i: usize, doc: &Document, pointer: &str, message: String| -> Diagnostic {
        let needle = e.needles.get(i).and_then(Option::as_deref);
        match needle.and_then(|n| find_string_with(doc, pointer, n).map(|p| (p, n))) {
            Some((inner, n)) => doc.diagnostic(e.code, &inner, message).narrowed_to(n),
            None => doc.diagnostic(e.code, pointer, message),
        }
    };
    let mut locs = e.locations.iter().enumerate();
    let mut d = match locs
        .next()
        .and_then(|(i, (w, p))| doc_of(w).map(|doc| (i, doc, p)))
    {
        Some((i, doc, p)) => at(i, doc, p, e.message.clone()),
        None => Diagnostic::new(e.code, e.message.clone()),
    };
    if let Some(label) = e.labels.first() {
        d = d.with_label(label.clone());
    }
    for (i, (w, p)) in locs {
        if let Some(doc) = doc_of(w) {
            let label = e.labels.get(i).map_or("also defined here", String::as_str);
            d = d.with_related(at(i, doc, p, label.to_string()));
        }
    }
    if let Some(h) = e.help {
        d = d.with_help(h);
    }
    d.into()
}

/// The pointer of the first string at or below `pointer` in `doc` that contains `needle`.
fn find_string_with(doc: &Document, pointer: &str, needle: &str) -> Option<String> {
    fn walk(v: &Value, at: String, needle: &str) -> Option<String> {
        match v {
            Value::String(s) if s.contains(needle) => Some(at),
            Value::Array(items) => items
                .iter()
                .enumerate()
                .find_map(|(i, x)| walk(x, format!("{at}/{i}"), needle)),
            Value::Object(m) => m
                .iter()
                .find_map(|(k, x)| walk(x, format!("{at}/{}", escape_pointer(k)), needle)),
            _ => None,
        }
    }
    walk(doc.value.pointer(pointer)?, pointer.to_string(), needle)
}

/// An unsupported-param error as the user needs it: at the Score file's first param the
/// provisioner does not list, with the provisioner entry (`entry`, as provisioning reported it)
/// as the note.
fn unsupported_param_diagnostic(
    entry: Diagnostic,
    provisioner: &provision::Provisioner,
    source: &WorkloadInput,
    res_name: &str,
    params: &[&String],
) -> Diagnostic {
    let code = entry.code;
    let res_ptr = format!("/resources/{}", escape_pointer(res_name));
    let doc = &source.loaded.document;
    let bad = provisioner.supported_params.as_ref().and_then(|ok| {
        params
            .iter()
            .find(|k| !ok.iter().any(|s| s == **k))
            .cloned()
    });
    let ptr = match &bad {
        Some(k) => format!("{res_ptr}/params/{}", escape_pointer(k)),
        None => format!("{res_ptr}/params"),
    };
    let mut primary = doc.diagnostic(code, &ptr, entry.message.clone());
    if let Some(span) = doc.spans.key(&ptr) {
        primary.span = Some(span);
    }
    primary.help = entry.help.clone();
    let mut note = entry;
    note.message = format!("provisioner '{}' is declared here", provisioner.uri);
    note.label = None;
    note.help = None;
    primary.with_related(note)
}

/// Every resource's provisioner match and params, checked before anything is provisioned, so
/// that one run reports the problems of all resources, in file order. Only used when there is
/// more than one (a single problem is reported by provisioning itself, with the same text).
fn check_all_resources(graph: &graph::Graph, run: &ProjectRun<'_>) -> Vec<Diagnostic> {
    let mut out: Vec<Diagnostic> = Vec::new();
    for uid in &graph.order {
        let node = &graph.nodes[uid];
        let Some(source) = run.by_name.get(node.source_workload.as_str()).copied() else {
            continue;
        };
        let res_name = node
            .users
            .iter()
            .find(|(w, _)| *w == node.source_workload)
            .map(|(_, r)| r.clone())
            .unwrap_or_default();
        match run.provisioners.find(uid) {
            None => out.extend(no_provisioner(run.provisioners, uid, source, &res_name)),
            Some(p) => {
                let params_ptr = format!("/resources/{}/params", escape_pointer(&res_name));
                let keys: Vec<&String> = source
                    .loaded
                    .document
                    .value
                    .pointer(&params_ptr)
                    .and_then(Value::as_object)
                    .map(|m| m.keys().collect())
                    .unwrap_or_default();
                if let Some(d) =
                    provision::unsupported_params(p, uid, keys.iter().map(|k| k.as_str()))
                {
                    out.push(unsupported_param_diagnostic(d, p, source, &res_name, &keys));
                }
            }
        }
    }
    out.sort_by_key(|d| {
        (
            d.file.as_ref().map(|f| f.name.clone()),
            d.span.map_or(usize::MAX, |s| s.offset),
        )
    });
    out
}

fn no_provisioner(
    set: &ProvisionerSet,
    uid: &ResourceUid,
    source: &WorkloadInput,
    res_name: &str,
) -> Diagnostics {
    let base = set.no_match_error(uid);
    let doc = &source.loaded.document;
    let res_ptr = format!("/resources/{}", escape_pointer(res_name));
    let mut d = doc.diagnostic(
        base.code,
        &format!("{res_ptr}/type"),
        format!("resource '{res_name}' ({uid}) is not supported by any provisioner"),
    );
    d.help = base.help;
    // An unknown type: its older name or a near miss of a type the provisioners know.
    let known: Vec<String> = set
        .iter()
        .map(|p| p.kind.clone())
        .collect::<std::collections::BTreeSet<_>>()
        .into_iter()
        .collect();
    if !known.iter().any(|k| k == uid.kind())
        && let Some((candidate, fix)) =
            crate::validate::hints::resource_type_fix(doc, &res_ptr, uid.kind(), &known)
    {
        let old = crate::validate::hints::OLD_RESOURCE_TYPES
            .iter()
            .any(|(o, n)| *o == uid.kind() && *n == candidate);
        let why = if old {
            format!(
                "`{}` is an older or other tool's name of `{candidate}`",
                uid.kind()
            )
        } else {
            format!("did you mean `{candidate}`?")
        };
        d.help = Some(match d.help.take() {
            Some(h) => format!("{why} ({h})"),
            None => why,
        });
        if let Some(f) = fix {
            d = d.with_fix(f);
        }
    }
    d.into()
}

/// `workload_services` for provisioner templates: workload → {service name, ports}.
fn workload_services(workloads: &[&Workload], target: &dyn Target) -> Value {
    let mut out = Map::new();
    for w in workloads {
        let mut ports = Map::new();
        if let Some(service) = &w.service {
            for (name, p) in &service.ports {
                let port = serde_json::json!({
                    "name": name,
                    "port": p.port,
                    "target_port": p.effective_target_port(),
                    "protocol": p.effective_protocol().as_str(),
                });
                ports.insert(name.clone(), port.clone());
            }
            // Like score-compose: every port is also reachable by its number when that name is free.
            for p in service.ports.values() {
                let key = p.port.to_string();
                if !ports.contains_key(&key) {
                    let named = service
                        .ports
                        .iter()
                        .find(|(_, q)| q.port == p.port)
                        .map(|(n, _)| n.clone())
                        .unwrap_or_default();
                    ports.insert(key, ports[&named].clone());
                }
            }
        }
        out.insert(
            w.name().to_string(),
            // `ServiceName` is the same value under the name score-compose's and score-k8s's
            // cmd:// programs read (their NetworkService struct).
            serde_json::json!({"service_name": target.service_name(w), "ServiceName": target.service_name(w), "ports": ports}),
        );
    }
    Value::Object(out)
}

/// For each uid, the first output keys the workloads reference on it, sorted.
fn requested_outputs(workloads: &[&Workload]) -> BTreeMap<ResourceUid, Vec<String>> {
    let mut req: BTreeMap<ResourceUid, BTreeSet<String>> = BTreeMap::new();
    for w in workloads {
        // Keys by resource name first: each resource's uid is then built once.
        let mut by_name: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
        let mut note = |s: &str| {
            for r in crate::provision::placeholder::references(s) {
                if !r.starts_with("resources.") {
                    continue;
                }
                let mut parts = split_ref_parts(r).into_iter().skip(1);
                if let (Some(name), Some(key)) = (parts.next(), parts.next()) {
                    by_name.entry(name).or_default().insert(key);
                }
            }
        };
        for c in w.containers.values() {
            c.variables.values().for_each(|v| note(v));
            for f in c.files.values() {
                if f.expands()
                    && let Some(t) = &f.content
                {
                    note(t);
                }
            }
            c.volumes.values().for_each(|v| note(&v.source));
        }
        for r in w.resources.values() {
            if let Some(p) = &r.params {
                p.values().for_each(|v| visit_strings(v, &mut note));
            }
        }
        for (name, keys) in by_name {
            if let Some(uid) = graph::uid_of(w, &name) {
                req.entry(uid).or_default().extend(keys);
            }
        }
    }
    req.into_iter()
        .map(|(k, v)| (k, v.into_iter().collect()))
        .collect()
}

fn visit_strings(v: &Value, f: &mut impl FnMut(&str)) {
    match v {
        Value::String(s) => f(s),
        Value::Array(a) => a.iter().for_each(|x| visit_strings(x, f)),
        Value::Object(m) => m.values().for_each(|x| visit_strings(x, f)),
        _ => {}
    }
}

/// The output lookups of `w`'s resources that are already provisioned, by resource name.
fn lookups_for<'a>(
    w: &Workload,
    provisioned: &'a BTreeMap<ResourceUid, ProvisionedResource>,
) -> BTreeMap<String, &'a Outputs> {
    w.resources
        .keys()
        .filter_map(|name| {
            let uid = graph::uid_of(w, name)?;
            provisioned.get(&uid).map(|p| (name.clone(), &p.outputs))
        })
        .collect()
}

/// Where workload text reads environment references ([`Environment`]).
#[derive(Clone, Copy)]
struct EnvReading<'a> {
    /// The caller's environment.
    environment: &'a Environment,
    /// The target interpolates them itself in variables and volume sources (compose): there
    /// they stay expressions. File contents, which no target interpolates, always read them.
    deferred: bool,
}

/// Resolves the placeholders of one workload's containers (variables, files, volumes), reporting
/// every failure.
fn resolve_workload(
    w: &WorkloadInput,
    provisioned: &BTreeMap<ResourceUid, ProvisionedResource>,
    env: EnvReading,
) -> Result<ResolvedWorkload, Diagnostics> {
    let spec = &w.loaded.workload;
    let lookups = lookups_for(spec, provisioned);
    let unset = RefCell::new(Vec::new());
    let env_lookups = EnvLookup::wrap(&lookups, env.environment, &unset);
    let reading: BTreeMap<String, &dyn OutputLookup> = env_lookups
        .iter()
        .map(|(k, v)| (k.clone(), v as &dyn OutputLookup))
        .collect();
    let deferring: BTreeMap<String, &dyn OutputLookup> = lookups
        .iter()
        .map(|(k, v)| (k.clone(), *v as &dyn OutputLookup))
        .collect();
    let mut cx = WorkloadCx {
        spec,
        doc: &w.loaded.document,
        ctx: Context {
            metadata: &spec.metadata,
            resources: if env.deferred {
                deferring
            } else {
                reading.clone()
            },
        },
        files_ctx: Context {
            metadata: &spec.metadata,
            resources: reading,
        },
        lookups: &lookups,
        unset: &unset,
        diags: Diagnostics::default(),
    };

    let mut containers = IndexMap::new();
    for (cname, c) in &spec.containers {
        let base = format!("/containers/{}", escape_pointer(cname));
        containers.insert(
            cname.clone(),
            ResolvedContainer {
                variables: cx.variables(&base, c),
                files: cx.files(&base, c),
                volumes: cx.volumes(&base, c),
            },
        );
    }
    cx.diags.into_result()?;
    Ok(ResolvedWorkload {
        name: spec.name().to_string(),
        spec: spec.clone(),
        file: w.file.clone(),
        document: Some(w.loaded.document.clone()),
        containers,
        resources: spec
            .resources
            .keys()
            .filter_map(|n| graph::uid_of(spec, n).map(|u| (n.clone(), u)))
            .collect(),
    })
}

/// One workload's placeholder context and the failures found so far.
struct WorkloadCx<'a> {
    spec: &'a Workload,
    doc: &'a Document,
    /// Variables and volume sources.
    ctx: Context<'a>,
    /// File contents: environment references are read whatever the target.
    files_ctx: Context<'a>,
    lookups: &'a BTreeMap<String, &'a Outputs>,
    /// Environment references whose variable is not set: (resource name, variable).
    unset: &'a RefCell<Vec<(String, String)>>,
    diags: Diagnostics,
}

impl WorkloadCx<'_> {
    /// Substitutes the placeholders of `text` (at `pointer`); a failure is recorded and what
    /// could be resolved is returned.
    fn sub(&mut self, text: &str, pointer: String) -> Resolved {
        let r = substitute::substitute(text, |r| self.ctx.resolve(r), Unescape::DropFirst);
        self.report(r, pointer)
    }

    /// [`Self::sub`] for file contents.
    fn sub_file(&mut self, text: &str, pointer: String) -> Resolved {
        let r = substitute::substitute(text, |r| self.files_ctx.resolve(r), Unescape::DropFirst);
        self.report(r, pointer)
    }

    /// The substituted text, or what could be resolved with each failure recorded.
    fn report(
        &mut self,
        r: Result<Resolved, substitute::SubstitutionError>,
        pointer: String,
    ) -> Resolved {
        match r {
            Ok(r) => r,
            Err(e) => {
                for m in &e.messages {
                    let unset = self
                        .unset
                        .borrow()
                        .iter()
                        .find(|(_, var)| m.ends_with(&unset_message(var)))
                        .cloned();
                    let d = match unset {
                        Some((res, var)) => {
                            let needle = format!("${{resources.{res}.{var}");
                            self.doc
                                .diagnostic(Code::SubstituteEnvironmentUnset, &pointer, m.clone())
                                .narrowed_to(&needle)
                                .with_label(format!("'{var}' is not set"))
                                .with_help(format!(
                                    "set {var} in the environment score-gen runs in: here the reference is read when score-gen runs, not when the output is deployed"
                                ))
                        }
                        None => self
                            .doc
                            .diagnostic(Code::SubstituteUnresolved, &pointer, m.clone())
                            .with_help(substitution_help(m, self.lookups)),
                    };
                    self.diags.push(d);
                }
                e.partial
            }
        }
    }

    /// The container's `variables`, substituted.
    fn variables(&mut self, base: &str, c: &Container) -> IndexMap<String, Resolved> {
        let mut variables = IndexMap::new();
        for (k, v) in &c.variables {
            let resolved = self.sub(v, format!("{base}/variables/{}", escape_pointer(k)));
            variables.insert(k.clone(), resolved);
        }
        variables
    }

    /// The container's `files`: binary content decoded, text content substituted unless the
    /// file asks for it verbatim. A file whose base64 does not decode is left out.
    fn files(&mut self, base: &str, c: &Container) -> IndexMap<String, ResolvedFile> {
        let mut files = IndexMap::new();
        for (target, f) in &c.files {
            let pointer = format!("{base}/files/{}", escape_pointer(target));
            let content = if let Some(b64) = &f.binary_content {
                use base64::Engine as _;
                match base64::engine::general_purpose::STANDARD.decode(b64) {
                    Ok(bytes) => FileContent::Binary(bytes),
                    Err(e) => {
                        self.diags.push(
                            self.doc
                                .diagnostic(
                                    Code::FilesInvalidBase64,
                                    &format!("{pointer}/binaryContent"),
                                    format!("binaryContent of '{target}' is not valid base64: {e}"),
                                )
                                .with_help(
                                    "binaryContent takes standard base64 (RFC 4648 with padding)",
                                ),
                        );
                        continue;
                    }
                }
            } else {
                let text = f.content.clone().unwrap_or_default();
                if f.expands() {
                    FileContent::Text(self.sub_file(&text, format!("{pointer}/content")))
                } else {
                    FileContent::Text(Resolved {
                        pieces: vec![Piece::Text(text)],
                    })
                }
            };
            files.insert(
                target.clone(),
                ResolvedFile {
                    mode: f.mode.clone(),
                    content,
                },
            );
        }
        files
    }

    /// The container's `volumes`: a source naming a resource mounts it; any other is substituted.
    fn volumes(&mut self, base: &str, c: &Container) -> IndexMap<String, ResolvedVolume> {
        let mut volumes = IndexMap::new();
        for (target, v) in &c.volumes {
            let pointer = format!("{base}/volumes/{}/source", escape_pointer(target));
            let source = match volume_resource(&v.source, self.spec) {
                Some(uid) => VolumeSource::Resource(uid),
                None => VolumeSource::Other(self.sub(&v.source, pointer)),
            };
            volumes.insert(
                target.clone(),
                ResolvedVolume {
                    source,
                    path: v.path.clone(),
                    read_only: v.read_only.unwrap_or(false),
                },
            );
        }
        volumes
    }
}

/// `${resources.<name>}` exactly (two parts) names a resource to mount.
fn volume_resource(source: &str, w: &Workload) -> Option<ResourceUid> {
    let mut toks = crate::provision::placeholder::tokenize(source);
    let first = toks.next()?;
    if toks.next().is_some() {
        return None;
    }
    let crate::provision::placeholder::Token::Reference { reference, .. } = first else {
        return None;
    };
    let parts = split_ref_parts(reference);
    if parts.len() == 2 && parts[0] == "resources" {
        graph::uid_of(w, &parts[1])
    } else {
        None
    }
}

/// Help for a failed placeholder: for a missing resource output, the resource's uid and the
/// outputs it does have.
fn substitution_help(message: &str, lookups: &BTreeMap<String, &Outputs>) -> String {
    let reference = message
        .strip_prefix("invalid ref '")
        .and_then(|rest| rest.split_once("': "))
        .map(|(r, _)| r);
    if let Some(reference) = reference {
        let parts = split_ref_parts(reference);
        if parts.len() >= 2
            && parts[0] == "resources"
            && let Some(outputs) = lookups.get(&parts[1])
        {
            let mut keys: Vec<&str> = outputs.values.keys().map(String::as_str).collect();
            keys.sort_unstable();
            let have = if keys.is_empty() {
                "no outputs".to_string()
            } else {
                format!("outputs: {}", keys.join(", "))
            };
            let near = parts
                .get(2)
                .filter(|k| !keys.contains(&k.as_str()))
                .and_then(|k| crate::validate::schema::closest(k, keys.iter().copied()))
                .map(|c| format!("did you mean `{c}`? "))
                .unwrap_or_default();
            return format!("{near}resource '{}' ({}) has {have}", parts[1], outputs.uid);
        }
    }
    "placeholders are ${metadata.<key>} or ${resources.<name>.<output>}; write $$ for a literal $"
        .into()
}
