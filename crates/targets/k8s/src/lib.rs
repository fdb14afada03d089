//! # score-target-k8s
//!
//! The Kubernetes backend of score-gen: turns a [`ResolvedProject`] into one multi-document
//! `manifests.yaml` (see `spec/targets/k8s.md` for the exact mapping).
//!
//! - a Deployment per workload (a StatefulSet with annotation `k8s.score.dev/kind: StatefulSet`),
//!   a Service for `service.ports`;
//! - files in a per-container ConfigMap (or Secret when the content holds secret outputs),
//!   each mounted by `subPath`;
//! - variables holding secret outputs go to a per-container Secret and are read with
//!   `valueFrom.secretKeyRef`, so no secret value is ever written into a non-Secret object;
//! - every `manifests` fragment of the provisioned resources is appended;
//! - objects are sorted by kind (install order) and name, so the output is deterministic.
//!
//! ```
//! use score_core::Target;
//! use score_target_k8s::{K8sOptions, K8sTarget};
//! let mut options = K8sOptions::default();
//! options.namespace = Some("shop".into());
//! let t = K8sTarget::new(options);
//! assert_eq!(t.name(), "k8s");
//! let ctx = t.context();
//! assert_eq!((ctx["name"].as_str(), ctx["namespace"].as_str()), (Some("k8s"), Some("shop")));
//! ```

use std::borrow::Cow;

use score_core::target::{
    ArtefactFile, Artefacts, ProvisionedResource, ResolvedProject, ResolvedWorkload,
};
use score_core::Target;
use score_core::{Code, Diagnostic, Diagnostics};
use serde_json::{json, Value};

pub mod codes;
pub mod kyaml;
mod objects;
mod secret_refs;
mod workload;

pub use objects::KIND_ORDER;

/// The default provisioners of the k8s target (format: `spec/provisioners.md`). User files come
/// before these, so any entry here can be replaced by a more specific or earlier one.
pub const DEFAULT_PROVISIONERS: &str = include_str!("../provisioners/default.provisioners.yaml");

/// The file name of the primary artefact.
pub const MANIFESTS_FILE: &str = "manifests.yaml";

/// The Kubernetes target, with its options.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct K8sTarget {
    /// What the command line chose.
    pub options: K8sOptions,
}

impl K8sTarget {
    /// The k8s target with `options`.
    pub fn new(options: K8sOptions) -> Self {
        Self { options }
    }
}

/// The k8s target's options (`score-gen k8s` flags).
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Deserialize)]
#[serde(default, deny_unknown_fields)]
#[non_exhaustive]
pub struct K8sOptions {
    /// `--namespace`: set `metadata.namespace` on every namespaced object that has none.
    pub namespace: Option<String>,
    /// `--generate-namespace`: also emit the `Namespace` object (needs `namespace`).
    pub generate_namespace: bool,
    /// Patch templates (`init --patch-templates`), applied in order to the list of objects
    /// before it is written, as score-k8s applies them (`.Manifests`, `.Workloads`,
    /// `.Namespace`; see `spec/patching.md`).
    pub patch_templates: Vec<score_core::target::PatchTemplate>,
    /// `--format kyaml`: write the manifests as KYAML ([`kyaml`]) instead of YAML.
    pub kyaml: bool,
}

impl Target for K8sTarget {
    fn name(&self) -> &'static str {
        "k8s"
    }

    /// The `k8s.score.dev/service-name` annotation, else the workload's name (as score-k8s).
    fn service_name(&self, workload: &score_core::model::Workload) -> String {
        workload::service_name(workload)
    }

    /// The sections score-k8s's provisioner entries write at their top level.
    fn ecosystem_sections(&self) -> &'static [&'static str] {
        &["manifests"]
    }

    /// score-k8s's `cmd://` answer keys, as the sections they fill.
    fn cmd_answer_keys(&self) -> &'static [(&'static str, &'static str)] {
        &[("manifests", "manifests")]
    }

    fn codes(&self) -> &'static [score_core::diag::TargetCode] {
        codes::ALL
    }

    /// score-k8s's `encodeSecretRef`.
    fn go_template_functions(&self) -> &'static [score_core::target::GoFunction] {
        &[secret_refs::ENCODE_SECRET_REF]
    }

    /// score-k8s's patch templates: `.Manifests`, `.Workloads` and `.Namespace`, with
    /// `substituteValue`.
    fn patch_dialect(&self) -> Option<score_core::target::PatchDialect> {
        Some(patch_dialect(&self.options))
    }

    /// score-k8s's namespace.
    fn annotation_prefix(&self) -> Option<&'static str> {
        Some("k8s.score.dev/")
    }

    /// As score-k8s: the workload object's kind, and the Service's name.
    fn annotations(&self) -> &'static [&'static str] {
        &[workload::KIND_ANNOTATION, workload::SERVICE_NAME_ANNOTATION]
    }

    fn default_provisioners(&self) -> &'static str {
        DEFAULT_PROVISIONERS
    }

    /// `{"name": "k8s", "namespace": <namespace or null>}`.
    fn context(&self) -> Value {
        json!({
            "name": "k8s",
            "namespace": self.options.namespace,
        })
    }

    fn emit(&self, project: &ResolvedProject) -> Result<Artefacts, Diagnostics> {
        self.emit_given(Given::Lent(project))
    }

    /// Frees each workload once converted and moves the provisioners' manifests (issue 24).
    fn emit_owned(&self, project: ResolvedProject) -> Result<Artefacts, Diagnostics> {
        self.emit_given(Given::Owned(project))
    }
}

/// A project lent to emit, or given up to it.
enum Given<'a> {
    Lent(&'a ResolvedProject),
    Owned(ResolvedProject),
}

impl K8sTarget {
    fn emit_given(&self, given: Given<'_>) -> Result<Artefacts, Diagnostics> {
        let mut yaml = if self.options.patch_templates.is_empty() {
            written_manifests(given, &self.options)?
        } else {
            // Patch templates see every object as a value (`.Manifests`).
            let project = match &given {
                Given::Lent(p) => p,
                Given::Owned(p) => p,
            };
            let docs = manifests(project, &self.options)?;
            let docs = patch(docs, project, &self.options)?;
            render_yaml_owned(docs)?
        };
        if self.options.kyaml {
            yaml = kyaml::from_yaml(&yaml)?;
        }
        Ok(Artefacts {
            files: vec![ArtefactFile::new(MANIFESTS_FILE, yaml)],
            ..Artefacts::default()
        })
    }
}

/// The Kubernetes objects for `project`, in output order.
///
/// Errors (all collected, not just the first) name the workload and the field.
pub fn manifests(project: &ResolvedProject, opts: &K8sOptions) -> Result<Vec<Value>, Diagnostics> {
    let settings = objects::Settings::from_options(opts)?;
    let mut set = objects::ObjectSet::default();
    let mut diags = Diagnostics::default();
    add_workloads(&mut set, project.workloads.iter(), project, &mut diags);
    for res in project.resources() {
        let fragment = res.fragments.get("manifests").map(Cow::Borrowed);
        add_fragment(&mut set, res, fragment, &mut diags);
    }
    diags.into_result()?;
    let docs = set.finish(&settings);
    objects::check_no_clear_secrets(project, &docs)?;
    objects::check_no_secret_references(&docs)?;
    Ok(docs)
}

/// The manifests of [`manifests`] as the YAML text [`render_yaml`] gives, each object written
/// as soon as it is complete; a project given up frees each workload once converted, and its
/// provisioners' manifests are moved, not copied.
fn written_manifests(given: Given<'_>, opts: &K8sOptions) -> Result<String, Diagnostics> {
    let settings = objects::Settings::from_options(opts)?;
    let owned;
    let (project, workloads, mut fragments) = match given {
        Given::Lent(p) => (p, None, None),
        Given::Owned(mut p) => {
            let workloads = std::mem::take(&mut p.workloads);
            let fragments: Vec<Option<Value>> = (p.resources.values_mut())
                .map(|r| r.fragments.remove("manifests"))
                .collect();
            owned = p;
            (&owned, Some(workloads), Some(fragments))
        }
    };
    let secrets = objects::secret_outputs(project);
    let check = objects::ClearCheck::new(&secrets);
    let mut set = objects::Written::new(&settings, (!secrets.is_empty()).then_some(&check));
    let mut diags = Diagnostics::default();
    match workloads {
        Some(ws) => add_workloads(&mut set, ws.into_iter(), project, &mut diags),
        None => add_workloads(&mut set, project.workloads.iter(), project, &mut diags),
    }
    for (i, res) in project.resources().enumerate() {
        let fragment = match &mut fragments {
            Some(taken) => taken[i].take().map(Cow::Owned),
            None => res.fragments.get("manifests").map(Cow::Borrowed),
        };
        add_fragment(&mut set, res, fragment, &mut diags);
    }
    diags.into_result()?;
    set.finish()
}

/// Converts each workload into `set` (dropping it then, when owned).
fn add_workloads<W: std::borrow::Borrow<ResolvedWorkload>>(
    set: &mut impl objects::Sink,
    workloads: impl Iterator<Item = W>,
    project: &ResolvedProject,
    diags: &mut Diagnostics,
) {
    for w in workloads {
        let w = w.borrow();
        match workload::convert(w, project) {
            Ok(objs) => {
                for o in objs {
                    if let Err(d) = set.add(o, &format!("workload '{}'", w.name)) {
                        diags.0.extend(d.0);
                    }
                }
            }
            Err(d) => diags.0.extend(d.0),
        }
    }
}

/// Adds the objects of a resource's `manifests` section (copied when lent, moved when owned).
fn add_fragment(
    set: &mut impl objects::Sink,
    res: &ProvisionedResource,
    fragment: Option<Cow<'_, Value>>,
    diags: &mut Diagnostics,
) {
    let Some(fragment) = fragment else {
        return;
    };
    let origin = format!("{}{}'", objects::RESOURCE_ORIGIN, res.uid);
    let items: Vec<Cow<'_, Value>> = match fragment {
        Cow::Borrowed(Value::Array(items)) => items.iter().map(Cow::Borrowed).collect(),
        Cow::Owned(Value::Array(items)) => items.into_iter().map(Cow::Owned).collect(),
        Cow::Borrowed(Value::Null) | Cow::Owned(Value::Null) => Vec::new(),
        // An empty render is an empty map: nothing to add.
        Cow::Borrowed(Value::Object(m)) if m.is_empty() => Vec::new(),
        Cow::Owned(Value::Object(m)) if m.is_empty() => Vec::new(),
        other => {
            diags.push(
                Diagnostic::new(
                    codes::INVALID_MANIFESTS,
                    format!(
                        "{origin}: section 'manifests' must render to a list of Kubernetes objects, got {}",
                        score_core::target::describe_type(&other)
                    ),
                )
                .with_help(format!("check the provisioner '{}'", res.provisioner)),
            );
            return;
        }
    };
    for (i, item) in items.into_iter().enumerate() {
        if let Err(m) = objects::check_object(&item) {
            diags.push(
                Diagnostic::new(
                    codes::INVALID_MANIFESTS,
                    format!("{origin}: manifests[{i}]: {m}"),
                )
                .with_help(format!("check the provisioner '{}'", res.provisioner)),
            );
        } else if let Err(d) = set.add_from_resource(item.into_owned(), &origin) {
            diags.0.extend(d.0);
        }
    }
}

/// score-k8s's patch template data and functions (`internal/patching/patching.go`).
fn patch_dialect(opts: &K8sOptions) -> score_core::target::PatchDialect {
    score_core::target::PatchDialect::new("Manifests", &["Manifests", "Workloads", "Namespace"])
        .with_field("Namespace", opts.namespace.clone().unwrap_or_default())
        .with_substitute_function("substituteValue")
}

/// `docs` after the patch templates of `opts`; each patched document must still be an object.
fn patch(
    docs: Vec<Value>,
    project: &ResolvedProject,
    opts: &K8sOptions,
) -> Result<Vec<Value>, Diagnostics> {
    if opts.patch_templates.is_empty() {
        return Ok(docs);
    }
    let dialect = patch_dialect(opts);
    let mut list = Value::Array(docs);
    score_core::target::apply_patch_templates(&opts.patch_templates, &dialect, project, &mut list)?;
    // A path names something inside the list, never the list itself.
    let Value::Array(docs) = list else {
        return Err(
            Diagnostic::new(Code::Internal, "a patch replaced the list of manifests").into(),
        );
    };
    if let Some((i, bad)) = docs.iter().enumerate().find(|(_, d)| !d.is_object()) {
        return Err(Diagnostic::new(
            Code::PatchApplyFailed,
            format!(
                "after the patch templates, manifest {i} is {}, not a Kubernetes object",
                score_core::target::describe_type(bad)
            ),
        )
        .with_help("a patch that replaces or adds a manifest must give it an object; delete a manifest with `op: delete`, `path: <index>`")
        .into());
    }
    Ok(docs)
}

/// Multi-document YAML (`---` between documents) from the serde-saphyr emitter, which quotes
/// strings a YAML 1.1 reader would take for something else (`"no"`, `"0755"`, `"1.10"`).
pub fn render_yaml(docs: &[Value]) -> Result<String, Diagnostics> {
    serde_saphyr::to_string_multiple(docs).map_err(emit_error)
}

/// [`render_yaml`] (the same bytes), freeing each document once it is written: a large
/// project's manifests are not held twice, as values and as text.
fn render_yaml_owned(docs: Vec<Value>) -> Result<String, Diagnostics> {
    let mut out = String::new();
    for (i, doc) in docs.into_iter().enumerate() {
        if i > 0 {
            out.push_str("---\n");
        }
        serde_saphyr::to_fmt_writer_with_options(
            &mut out,
            &doc,
            serde_saphyr::SerializerOptions::default(),
        )
        .map_err(emit_error)?;
    }
    Ok(out)
}

pub(crate) fn emit_error(e: serde_saphyr::SerializeError) -> Diagnostics {
    Diagnostic::new(
        codes::EMIT,
        format!("cannot write the manifests as YAML: {e}"),
    )
    .into()
}
