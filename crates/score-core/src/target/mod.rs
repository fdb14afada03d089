//! What the pipeline hands to a target: resolved workloads, provisioned resources, and the
//! [`Target`] trait each backend crate implements.
//!
//! Core knows no target. A target is a name (the key of its sections in provisioner files and the
//! name of its state directory), a default provisioner file, a context map for provisioner
//! templates, and an `emit` function from a [`ResolvedProject`] to files.

mod patch;

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::sync::Arc;

use indexmap::IndexMap;
use serde_json::{Map, Value};

pub use crate::confine::{path_escape, PathEscape};
pub use crate::diag::{describe_type, TargetCode};
use crate::diag::{Diagnostic, Diagnostics};
use crate::load::yaml::Document;
use crate::model::Workload;
/// What a target's [`GoFunction`]s take and return: the Go template engine's parameter types
/// and values (`score-gotemplate`'s).
pub use crate::provision::gotemplate::{GoFunction, Param as GoParam, Value as GoValue};
pub use crate::provision::substitute::{render_go_json, Found, Origin, Outputs, Piece, Resolved};
pub use crate::uid::ResourceUid;
pub use patch::{
    apply_patch_operations, apply_patch_templates, check_patch_template, parse_patch_operations,
    patch_workloads, PatchDialect, PatchOp, PatchOperation, PatchTemplate, MAX_LIST_PADDING,
    PATCH_FUEL,
};

/// Everything a target needs to emit its artefacts.
#[derive(Debug, Clone)]
pub struct ResolvedProject {
    /// Workloads sorted by name.
    pub workloads: Vec<ResolvedWorkload>,
    /// Provisioned resources by uid.
    pub resources: BTreeMap<ResourceUid, ProvisionedResource>,
    /// Shared state after provisioning (e.g. a shared postgres instance's settings).
    pub shared_state: Map<String, Value>,
}

impl ResolvedProject {
    /// The resources in uid order.
    pub fn resources(&self) -> impl Iterator<Item = &ProvisionedResource> {
        self.resources.values()
    }
}

/// A workload whose placeholders are resolved.
#[derive(Debug, Clone)]
pub struct ResolvedWorkload {
    /// `metadata.name`.
    pub name: String,
    /// The workload as written (after overrides and upgrades; file sources embedded).
    pub spec: Workload,
    /// The Score file it came from, as given on the command line.
    pub file: Option<String>,
    /// The Score file's parsed document (after overrides and upgrades) with its spans, so a
    /// target can point a diagnostic at `file:line:column` ([`ResolvedWorkload::locate`]);
    /// `None` for workloads built by hand.
    pub document: Option<Arc<Document>>,
    /// Resolved containers, in the author's order.
    pub containers: IndexMap<String, ResolvedContainer>,
    /// Resource name → uid, for this workload's resources.
    pub resources: IndexMap<String, ResourceUid>,
}

impl ResolvedWorkload {
    /// Places a target's diagnostic in the Score file: when `d` has a JSON pointer into this
    /// workload and no file yet, the file and the span of the pointer (or of its nearest
    /// ancestor) are attached. Anything else is returned unchanged.
    ///
    /// ```
    /// use std::sync::Arc;
    /// use score_core::{Code, Diagnostic};
    /// use score_core::target::ResolvedWorkload;
    /// let doc = score_core::parse_document("score.yaml", "metadata:\n  name: web\ncontainers:\n  main:\n    image: nginx\n").unwrap();
    /// let w = ResolvedWorkload {
    ///     name: "web".into(),
    ///     spec: serde_json::from_value(serde_json::json!({"apiVersion": "score.dev/v1b1",
    ///         "metadata": {"name": "web"}, "containers": {"main": {"image": "nginx"}}})).unwrap(),
    ///     file: Some("score.yaml".into()),
    ///     document: Some(Arc::new(doc)),
    ///     containers: Default::default(),
    ///     resources: Default::default(),
    /// };
    /// let d = w.locate(Diagnostic::new(Code::Internal, "bad image").with_pointer("/containers/main/image"));
    /// assert_eq!(d.location(), "score.yaml:5:12");
    /// ```
    pub fn locate(&self, d: Diagnostic) -> Diagnostic {
        if d.file.is_some() {
            return d;
        }
        let (Some(doc), Some(pointer)) = (&self.document, d.pointer.as_deref()) else {
            return d;
        };
        match doc.spans.locate(pointer) {
            Some(span) => d.with_file(doc.source.clone()).with_span(span),
            None => d.with_file(doc.source.clone()),
        }
    }
}

/// A container whose variables, files and volumes are resolved.
#[derive(Debug, Clone)]
pub struct ResolvedContainer {
    /// Environment variables: text pieces and output values (which may be secret or expressions).
    pub variables: IndexMap<String, Resolved>,
    /// Files by target path.
    pub files: IndexMap<String, ResolvedFile>,
    /// Volumes by mount path.
    pub volumes: IndexMap<String, ResolvedVolume>,
}

/// A file to mount.
#[derive(Debug, Clone)]
pub struct ResolvedFile {
    /// Octal mode, as written (`"0644"`).
    pub mode: Option<String>,
    /// The content.
    pub content: FileContent,
}

/// A file's content.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub enum FileContent {
    /// Text (expanded unless `noExpand`; then a single text piece).
    Text(Resolved),
    /// Bytes (`binaryContent`, or a non-UTF-8 `source`).
    Binary(Vec<u8>),
}

/// A volume mount.
#[derive(Debug, Clone)]
pub struct ResolvedVolume {
    /// What is mounted.
    pub source: VolumeSource,
    /// Sub-path inside the volume.
    pub path: Option<String>,
    /// Read-only mount.
    pub read_only: bool,
}

/// The source of a volume mount.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub enum VolumeSource {
    /// `${resources.<name>}`: a provisioned resource (usually of type `volume`); its outputs and
    /// fragments say what to mount.
    Resource(ResourceUid),
    /// Any other string, resolved.
    Other(Resolved),
}

/// A resource after provisioning.
#[derive(Debug, Clone)]
pub struct ProvisionedResource {
    /// Its uid.
    pub uid: ResourceUid,
    /// The provisioner entry's uri.
    pub provisioner: String,
    /// Where that entry is declared, `file:line` (target errors about what it rendered name it).
    pub provisioner_source: String,
    /// The workload whose definition supplied params.
    pub source_workload: String,
    /// Every (workload, resource name) that uses it.
    pub users: Vec<(String, String)>,
    /// Params after substitution.
    pub params: Map<String, Value>,
    /// Outputs (with secret and expression marks).
    pub outputs: Outputs,
    /// Rendered target sections, by section name (e.g. `services`, `manifests`).
    pub fragments: BTreeMap<String, Value>,
    /// Messages the provisioner left for the user (a Go-template entry's `info_logs`).
    pub info_logs: Vec<String>,
    /// Problems that did not stop the run (a Go-template entry that missed one of its
    /// `expected_outputs`: the tools do not check them).
    pub warnings: Vec<String>,
    /// The entry is written in score-compose's/score-k8s's Go-template dialect: targets apply
    /// the tools' semantics to its sections (compose: a later resource's service, volume,
    /// network or model of the same name replaces an earlier one's, as score-compose does).
    pub tool_dialect: bool,
}

/// Files a target produced, relative to the output location, in a stable order.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Artefacts {
    /// The files, the primary output first.
    pub files: Vec<ArtefactFile>,
    /// Unix permission bits for files that need them (e.g. a Score file's `mode`), by the same
    /// relative path; other files get the writer's default.
    pub modes: BTreeMap<PathBuf, u32>,
    /// Directories to create (empty ones included), relative like `files`: a provisioner's
    /// `directories` for compose bind mounts.
    pub directories: Vec<PathBuf>,
    /// Problems that did not stop the target (e.g. compose: a score-compose-style shared service
    /// whose values a later resource replaced); the CLI prints each as a warning.
    pub warnings: Vec<String>,
    /// Environment variables the output reads when it is deployed, not when it is generated
    /// (compose: the `${VAR}` that `docker compose up` interpolates, from `environment`
    /// resources); the CLI notes each one that is unset at generate time.
    pub deploy_env: std::collections::BTreeSet<String>,
}

/// One file of a target's output.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ArtefactFile {
    /// Where it goes, relative to the output directory (`compose.yaml`, `modules/db/main.tf`).
    pub path: PathBuf,
    /// Its bytes.
    pub content: Vec<u8>,
}

impl ArtefactFile {
    /// A file at `path` with `content`.
    pub fn new(path: impl Into<PathBuf>, content: impl Into<Vec<u8>>) -> Self {
        ArtefactFile {
            path: path.into(),
            content: content.into(),
        }
    }
}

/// A backend: one output format (each lives in its own crate). A target value carries its own
/// typed options, so an unknown option cannot be passed, and declares what it reads of the
/// Score ecosystem's formats (provisioner sections, `cmd://` answer keys, patch templates,
/// annotations) and the diagnostic codes it reports.
pub trait Target {
    /// The target's name: the key of its sections in provisioner files and its state directory.
    fn name(&self) -> &'static str;

    /// The default provisioner file (YAML in the format of `spec/provisioners.md`).
    fn default_provisioners(&self) -> &'static str;

    /// The `target` map handed to provisioner templates (e.g. `{"name": "compose", "project": "demo"}`).
    fn context(&self) -> Value;

    /// Turns a resolved project into files.
    fn emit(&self, project: &ResolvedProject) -> Result<Artefacts, Diagnostics>;

    /// [`Target::emit`] for a caller that gives the project up (score-gen's CLI): the same
    /// files, but a target may free each workload once it is converted and move the
    /// provisioners' sections into its output instead of copying them, so a large project is
    /// not held twice (issue 24). The default borrows the project and calls `emit`.
    fn emit_owned(&self, project: ResolvedProject) -> Result<Artefacts, Diagnostics> {
        self.emit(&project)
    }

    /// The name other workloads reach `workload` by: `workload_services[name].service_name` in
    /// provisioner templates (e.g. the `service-port` hostname). The workload's name unless the
    /// target names its service otherwise (k8s: the `k8s.score.dev/service-name` annotation, as
    /// score-k8s reads it).
    fn service_name(&self, workload: &Workload) -> String {
        workload.name().to_string()
    }

    /// The Score ecosystem's top-level sections of Go-template provisioner entries this target
    /// reads as its fragments (from the entry format's `services`, `volumes`, `networks`,
    /// `models`, `directories`, `files`, `info_logs` and `manifests`; `info_logs` becomes
    /// messages for the user). Sections no target reads are ignored.
    fn ecosystem_sections(&self) -> &'static [&'static str] {
        &[]
    }

    /// The Score ecosystem's `cmd://` answer keys this target reads, each with the fragment
    /// section it fills (`("manifests", "manifests")`).
    fn cmd_answer_keys(&self) -> &'static [(&'static str, &'static str)] {
        &[]
    }

    /// The functions this target adds to the Go templates of the provisioner entries it renders
    /// (score-k8s's `encodeSecretRef`): an entry that calls a function neither sprig nor its
    /// target supplies fails with Go's `function "NAME" not defined`, as in the tool that lacks it.
    fn go_template_functions(&self) -> &'static [crate::target::GoFunction] {
        &[]
    }

    /// The values this target gives the Score ecosystem's provisioners besides core's data: each
    /// a field of Go-template entries' data and of a `cmd://` program's input, read from a key of
    /// [`Target::context`] (score-compose's `.ComposeProjectName` / `compose_project_name`).
    fn provisioner_fields(&self) -> &'static [ProvisionerField] {
        &[]
    }

    /// The diagnostic codes this target reports besides core's (`score::<target>::<problem>`),
    /// for listings such as the CLI's; each is reported as [`crate::Code::Target`].
    fn codes(&self) -> &'static [TargetCode] {
        &[]
    }

    /// The data and functions this target's patch templates get (`init --patch-templates`,
    /// `spec/patching.md`); `None` (the default) when the target takes no patch templates.
    fn patch_dialect(&self) -> Option<crate::target::PatchDialect> {
        None
    }

    /// The workload annotation namespace this target owns (e.g. `"acme.example/"`), if any:
    /// an annotation there that is not in [`Target::annotations`] is reported as ignored.
    fn annotation_prefix(&self) -> Option<&'static str> {
        None
    }

    /// The annotations of [`Target::annotation_prefix`]'s namespace this target acts on.
    fn annotations(&self) -> &'static [&'static str] {
        &[]
    }

    /// Whether the target's output interpolates environment references (`${K}` from an
    /// `environment` resource) itself when it is deployed, in workload variables and volume
    /// sources: compose does (`docker compose up` reads the shell and `.env`). When `false`
    /// (the default) core reads them from [`crate::ProvisionOptions::environment`] at generate
    /// time, and an unset variable is an error. Resource params are read at generate time
    /// whatever this says: they are a provisioner's input, not deployed text.
    fn interpolates_environment(&self) -> bool {
        false
    }
}

/// A value a target gives the Score ecosystem's provisioners ([`Target::provisioner_fields`]):
/// the string at `context_key` of the target's [`Target::context`] (`""` when absent), as the
/// field `go_field` of a Go-template entry's data and the member `cmd_field` of a `cmd://`
/// program's input.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ProvisionerField {
    /// The field of the Go templates' data (`.ComposeProjectName`).
    pub go_field: &'static str,
    /// The member of the `cmd://` program's input (`compose_project_name`).
    pub cmd_field: &'static str,
    /// The key of the target's context map the value is read from (`project`).
    pub context_key: &'static str,
}

/// The JSON pointer of a field of a Score document, each segment escaped (`~0`, `~1`), for
/// [`ResolvedWorkload::locate`].
///
/// ```
/// assert_eq!(
///     score_core::target::json_pointer(&["containers", "web", "files", "/etc/app.conf"]),
///     "/containers/web/files/~1etc~1app.conf"
/// );
/// ```
pub fn json_pointer(segments: &[&str]) -> String {
    let mut out = String::with_capacity(segments.iter().map(|s| s.len() + 1).sum());
    for s in segments {
        out.push('/');
        out.push_str(&crate::load::yaml::escape_pointer_segment(s));
    }
    out
}
