//! score-gen compose target: turns a resolved Score project into a compose-spec `compose.yaml`
//! plus the files it bind-mounts (under `.score-gen/mounts/`).
//!
//! Behaviour (service per container, `$` escaping, mounts, healthchecks, `depends_on`,
//! resource fragments) is specified in `spec/targets/compose.md`; the peer it follows is
//! score-compose.
//!
//! ```
//! use score_core::Target;
//! use score_target_compose::{ComposeOptions, ComposeTarget};
//! let mut options = ComposeOptions::default();
//! options.project = Some("My.App".into());
//! let target = ComposeTarget::new(options);
//! assert_eq!(target.name(), "compose");
//! let ctx = target.context();
//! assert_eq!(ctx["mounts_dir"], "./.score-gen/mounts");
//! assert_eq!(ctx["project"], "myapp");
//! ```

pub mod codes;
mod convert;
mod escape;
mod fragments;
pub mod publish;

use std::collections::BTreeMap;
use std::path::PathBuf;

use serde_json::{json, Map, Value};

use score_core::target::{ArtefactFile, Artefacts, ResolvedProject};
use score_core::{Diagnostic, Diagnostics, Target};

pub use escape::{escape_command_dollars, escape_dollars, mount_file_name};

/// The default compose provisioners (our minijinja format, see `spec/provisioners.md`).
pub const DEFAULT_PROVISIONERS: &str = include_str!("../provisioners/default.provisioners.yaml");

/// Where mounted files live, relative to the directory of `compose.yaml`.
pub const MOUNTS_DIR: &str = ".score-gen/mounts";

/// What compose keeps of a workload in the project's state (score-go's `WorkloadExtras`, as
/// score-compose keeps `build_configs`), stored in [`score_core::project::WorkloadState::extras`].
///
/// ```
/// use score_target_compose::WorkloadExtras;
/// let mut stored = score_core::project::WorkloadState::default();
/// let mut extras = WorkloadExtras::default();
/// extras.builds.insert("main".into(), "./web".into());
/// stored.extras.set(&extras);
/// assert_eq!(stored.extras.get::<WorkloadExtras>().unwrap(), extras);
/// ```
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(default, deny_unknown_fields)]
#[non_exhaustive]
pub struct WorkloadExtras {
    /// The `--build` of the run that added the workload, by container: a context path, or
    /// compose's `build` object. It becomes [`ComposeOptions::workload_builds`].
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    pub builds: BTreeMap<String, Value>,
}

/// The compose backend, with its options.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ComposeTarget {
    /// What the command line chose.
    pub options: ComposeOptions,
}

impl ComposeTarget {
    /// The compose target with `options`.
    pub fn new(options: ComposeOptions) -> Self {
        Self { options }
    }
}

/// The compose target's options (`score-gen compose` flags).
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Deserialize)]
#[serde(default, deny_unknown_fields)]
#[non_exhaustive]
pub struct ComposeOptions {
    /// Compose project name (`name:`, `--project`); normalised as compose normalises directory
    /// names. `None` leaves naming to compose.
    pub project: Option<String>,
    /// Container name → build (`--build CONTAINER=CONTEXT` or `--build 'CONTAINER={"context":
    /// "./dir","args":{...}}'`): a string is the build context, an object is compose's `build`
    /// as given (context, dockerfile, args, target, ...).
    pub builds: BTreeMap<String, Value>,
    /// Workload → container → build, as in [`Self::builds`] but for one workload's containers
    /// only (the CLI's additive project remembers each workload's `--build`); it wins over
    /// [`Self::builds`].
    pub workload_builds: BTreeMap<String, BTreeMap<String, Value>>,
    /// `HOSTPORT:WORKLOAD:PORT` entries (`--publish`), in the order given.
    pub publish: Vec<String>,
    /// Where the CLI writes the skeleton `.env` (`--env-file`); when set, it is one of the
    /// artefacts.
    pub env_file: Option<String>,
    /// Whether a volume may bind-mount a host path outside the project (absolute, or `..`
    /// climbing above the output's directory): `--allow-outside-paths`. Without it such a
    /// volume is an error, so a Score file cannot mount `/` or the docker socket unasked.
    pub allow_outside_paths: bool,
    /// Patch templates (`init --patch-templates`), applied in order to the compose document
    /// before it is written, as score-compose applies them (`.Compose`, `.Workloads`; see
    /// `spec/patching.md`).
    pub patch_templates: Vec<score_core::target::PatchTemplate>,
}

impl ComposeOptions {
    /// The project name as written into `compose.yaml`.
    fn project_name(&self) -> Option<String> {
        self.project.as_deref().and_then(normalise_project)
    }
}

/// Compose project names must match `^[a-z0-9][a-z0-9_-]*$`; like `docker compose` does for
/// directory names, lower-case and drop everything else rather than fail.
fn normalise_project(raw: &str) -> Option<String> {
    let s: String = raw
        .to_lowercase()
        .chars()
        .filter(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || *c == '-' || *c == '_')
        .collect();
    let s = s.trim_start_matches(['-', '_']).to_string();
    (!s.is_empty()).then_some(s)
}

/// score-compose's patch template data: `.Compose` (the compose project) and `.Workloads`.
fn patch_dialect() -> score_core::target::PatchDialect {
    score_core::target::PatchDialect::new("Compose", &["Compose", "Workloads"])
}

impl Target for ComposeTarget {
    fn name(&self) -> &'static str {
        "compose"
    }

    /// The sections score-compose's provisioner entries write at their top level.
    fn ecosystem_sections(&self) -> &'static [&'static str] {
        &[
            "services",
            "volumes",
            "networks",
            "models",
            "directories",
            "files",
            "info_logs",
        ]
    }

    /// score-compose's `cmd://` answer keys, as the sections they fill.
    fn cmd_answer_keys(&self) -> &'static [(&'static str, &'static str)] {
        &[
            ("relative_directories", "directories"),
            ("relative_file_contents", "files"),
            ("compose_networks", "networks"),
            ("compose_volumes", "volumes"),
            ("compose_services", "services"),
            ("compose_models", "models"),
        ]
    }

    fn codes(&self) -> &'static [score_core::diag::TargetCode] {
        codes::ALL
    }

    /// score-compose's patch templates: `.Compose` and `.Workloads`.
    fn patch_dialect(&self) -> Option<score_core::target::PatchDialect> {
        Some(patch_dialect())
    }

    /// score-compose's `.ComposeProjectName` / `compose_project_name` (the project name) and
    /// `.MountsDirectory` / `mount_directory_path` (`./.score-gen/mounts`), from [`Self::context`].
    fn provisioner_fields(&self) -> &'static [score_core::target::ProvisionerField] {
        &[
            score_core::target::ProvisionerField {
                go_field: "ComposeProjectName",
                cmd_field: "compose_project_name",
                context_key: "project",
            },
            score_core::target::ProvisionerField {
                go_field: "MountsDirectory",
                cmd_field: "mount_directory_path",
                context_key: "mounts_dir",
            },
        ]
    }

    /// score-compose's namespace; it acts on none of its workload annotations (it writes
    /// `compose.score.dev/workload-name` on each service).
    fn annotation_prefix(&self) -> Option<&'static str> {
        Some("compose.score.dev/")
    }

    fn default_provisioners(&self) -> &'static str {
        DEFAULT_PROVISIONERS
    }

    /// `{"name": "compose", "project": <normalised project or "">, "mounts_dir": "./.score-gen/mounts"}`.
    fn context(&self) -> Value {
        json!({
            "name": "compose",
            "project": self.options.project_name().unwrap_or_default(),
            "mounts_dir": format!("./{MOUNTS_DIR}"),
        })
    }

    /// `docker compose up` interpolates `${K}` in a service's `environment` and volume sources
    /// from the shell and `.env`, so environment references stay there (spec/targets/compose.md).
    fn interpolates_environment(&self) -> bool {
        true
    }

    fn emit(&self, project: &ResolvedProject) -> Result<Artefacts, Diagnostics> {
        self.emit_from(project, None)
    }

    /// Frees each workload once converted (issue 24), unless `--publish` or patch templates
    /// need the whole project after the conversion.
    fn emit_owned(&self, mut project: ResolvedProject) -> Result<Artefacts, Diagnostics> {
        if !self.options.publish.is_empty() || !self.options.patch_templates.is_empty() {
            return self.emit(&project);
        }
        let workloads = std::mem::take(&mut project.workloads);
        self.emit_from(&project, Some(workloads))
    }
}

impl ComposeTarget {
    /// The files of `project`; with `owned`, the project's workloads (taken out of it), each
    /// freed once converted.
    fn emit_from(
        &self,
        project: &ResolvedProject,
        owned: Option<Vec<score_core::target::ResolvedWorkload>>,
    ) -> Result<Artefacts, Diagnostics> {
        let settings = &self.options;
        let mut diags = Diagnostics::default();
        let mut out = fragments::Project::default();

        for res in project.resources() {
            if let Err(d) = out.add_resource(res) {
                diags.0.extend(d.0);
            }
        }
        let mut add = |w: &score_core::target::ResolvedWorkload| {
            if let Err(d) = convert::add_workload(&mut out, w, project, settings) {
                // Errors carrying a pointer into the workload get its file:line:column.
                diags.0.extend(d.0.into_iter().map(|d| w.locate(d)));
            }
        };
        match owned {
            Some(workloads) => workloads.into_iter().for_each(|w| add(&w)),
            None => project.workloads.iter().for_each(add),
        }
        diags.into_result()?;
        convert::apply_publish(&mut out, project, &settings.publish)?;
        convert::declare_named_volumes(&mut out);

        let mut doc = Map::new();
        if let Some(p) = settings.project_name() {
            doc.insert("name".into(), Value::String(p));
        }
        // Moved, not copied: a large project's services are held once.
        let services: Map<String, Value> = std::mem::take(&mut out.services)
            .into_iter()
            .map(|(k, v)| (k, v.value))
            .collect();
        doc.insert("services".into(), Value::Object(services));
        for (key, section) in [
            ("volumes", std::mem::take(&mut out.volumes)),
            ("networks", std::mem::take(&mut out.networks)),
            ("models", std::mem::take(&mut out.models)),
        ] {
            if !section.is_empty() {
                doc.insert(key.into(), Value::Object(section.into_iter().collect()));
            }
        }
        // Long single-line strings (URLs, shell commands) stay on one line: folding them into
        // `>-` blocks is correct YAML but hard to read and to grep.
        let mut yaml_options = serde_saphyr::SerializerOptions::default();
        yaml_options.folded_wrap_chars = usize::MAX;
        let mut doc = Value::Object(doc);
        score_core::target::apply_patch_templates(
            &settings.patch_templates,
            &patch_dialect(),
            project,
            &mut doc,
        )?;
        let yaml = serde_saphyr::to_string_with_options(&doc, yaml_options).map_err(|e| {
            Diagnostic::new(codes::EMIT, format!("cannot serialise compose.yaml: {e}"))
        })?;

        let mut files = vec![ArtefactFile::new("compose.yaml", yaml)];
        let mut modes = BTreeMap::new();
        for (rel, bytes) in std::mem::take(&mut out.files) {
            let path = PathBuf::from(MOUNTS_DIR).join(&rel);
            if let Some(bits) = out.file_modes.get(&rel) {
                modes.insert(path.clone(), *bits);
            }
            files.push(ArtefactFile::new(path, bytes));
        }
        if let Some(env_file) = &settings.env_file {
            files.push(ArtefactFile::new(
                env_file,
                convert::env_skeleton(&out.env_vars),
            ));
        }
        let directories = out
            .directories
            .iter()
            .map(|d| PathBuf::from(MOUNTS_DIR).join(d))
            .collect();
        Ok(Artefacts {
            files,
            modes,
            directories,
            warnings: out.warnings,
            deploy_env: out.env_vars,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn project_names_are_normalised_like_compose() {
        assert_eq!(normalise_project("My.App"), Some("myapp".into()));
        assert_eq!(normalise_project("_x-1"), Some("x-1".into()));
        assert_eq!(normalise_project("..."), None);
    }
}
