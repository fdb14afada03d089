//! The one table of targets. Every command that names or iterates targets (the per-target
//! subcommands with their flags, help and examples, `all`, `init --target`, `graph --target`,
//! `provisioners list --target`, `resources --target`, the drop-in tools) reads the table
//! ([`all`]), so a new target is one row: here, or in a program of its own that runs the CLI
//! with [`DEFAULT_TARGETS`] plus its row (`crate::run_with_targets`).

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use score_core::target::Artefacts;
use score_core::{Code, Diagnostic, Diagnostics, State, Target};

pub use crate::commands::TargetCommand;
use score_target_compose::{ComposeOptions, ComposeTarget};
use score_target_k8s::{K8sOptions, K8sTarget};
use score_target_terraform::{TerraformOptions, TerraformTarget};

/// A target that can be handed to another thread (`score-gen all`).
pub type BoxedTarget = Box<dyn Target + Send + Sync>;

/// Every target-specific flag of every command, parsed; each target reads its own.
#[derive(Debug, Clone, Default)]
pub struct TargetFlags {
    /// compose `--project` (`None`: the current directory's name).
    pub project: Option<String>,
    /// compose `--build CONTAINER=CONTEXT`, for every workload's containers of that name.
    pub build: Vec<String>,
    /// compose: workload → its containers' builds (the project's, from the state).
    pub workload_builds: BTreeMap<String, BTreeMap<String, serde_json::Value>>,
    /// compose `--publish HOSTPORT:WORKLOAD:PORT`.
    pub publish: Vec<String>,
    /// compose `--env-file`.
    pub env_file: Option<String>,
    /// k8s and terraform `--namespace`.
    pub namespace: Option<String>,
    /// k8s `--generate-namespace`.
    pub generate_namespace: bool,
    /// k8s `--format kyaml`: the manifests are written as KYAML.
    pub kyaml: bool,
    /// k8s `--kustomize DIR`: one file per object plus kustomization.yaml (`crate::kustomize`).
    pub kustomize: bool,
    /// terraform `--module-source TYPE=SOURCE`.
    pub module_source: Vec<String>,
    /// terraform `--allow-source-params`.
    pub allow_source_params: bool,
    /// terraform `-o -`: the output must be one file.
    pub stdout: bool,
    /// `--allow-outside-paths`: compose volumes may bind-mount host paths outside the project.
    pub allow_outside_paths: bool,
    /// `--state-dir` of a generate command: compose and k8s load the patch templates stored
    /// there (`None`: no patch templates, e.g. for listings).
    pub state_dir: Option<PathBuf>,
    /// The patch templates of a tool folder's state (`score-compose`/`score-k8s`); when set,
    /// used instead of those stored under `state_dir`.
    pub patch_templates: Option<Vec<score_core::target::PatchTemplate>>,
}

/// A row's rewrite of its flags once the resources are provisioned ([`TargetInfo::after_provision`]).
pub type AfterProvision = fn(&mut TargetFlags, &State) -> Result<bool, Diagnostics>;

/// A row's step after emit ([`TargetInfo::after_emit`]).
pub type AfterEmit = fn(&TargetFlags, &mut Artefacts) -> Result<(), Diagnostics>;

/// One row of the table.
#[derive(Clone, Copy)]
pub struct TargetInfo {
    /// The subcommand, `--target` value and state directory name.
    pub name: &'static str,
    /// Where `score-gen all -o DIR` writes this target's primary output, relative to `DIR`; the
    /// default `-o` of its subcommand is the file name.
    pub all_output: &'static str,
    /// Builds the target with its typed options from the flags.
    pub build: fn(&TargetFlags) -> Result<BoxedTarget, Diagnostics>,
    /// Whether the target reads `--build`: the project's state keeps each workload's builds.
    pub builds: bool,
    /// Rewrites flags that name something through the provisioned resources, once the state
    /// holds them; `true` when a flag changed (the target is then built again).
    pub after_provision: Option<AfterProvision>,
    /// Reshapes the artefacts after emit, as the flags ask (k8s `--kustomize`).
    pub after_emit: Option<AfterEmit>,
    /// The drop-in executable that speaks this target's tool (`score-compose`), if any.
    pub tool: Option<&'static str>,
    /// The subcommand's one-line help.
    pub about: &'static str,
    /// The Examples section of its `--help` (empty: none).
    pub examples: &'static str,
    /// Its flags and how it runs.
    pub command: TargetCommand,
}

impl TargetInfo {
    /// A row with the common subcommand (the generate flags, `-o` defaulting to the file name
    /// of `all_output`) and nothing else: what a target with no flags of its own needs.
    pub const fn new(
        name: &'static str,
        all_output: &'static str,
        about: &'static str,
        build: fn(&TargetFlags) -> Result<BoxedTarget, Diagnostics>,
    ) -> Self {
        TargetInfo {
            name,
            all_output,
            build,
            builds: false,
            after_provision: None,
            after_emit: None,
            tool: None,
            about,
            examples: "",
            command: TargetCommand::COMMON,
        }
    }
}

/// score-gen's targets, in the order `all` reports them.
pub const DEFAULT_TARGETS: &[TargetInfo] = &[
    TargetInfo {
        name: "compose",
        all_output: "compose.yaml",
        build: compose,
        builds: true,
        after_provision: Some(compose_publish),
        after_emit: None,
        tool: Some("score-compose"),
        about: "Compile workloads to a docker-compose project",
        examples: "\
Examples:
  # Add a workload to the project and write compose.yaml
  score-gen compose score.yaml

  # Regenerate every workload of the project; drop one
  score-gen compose
  score-gen compose --remove frontend

  # Publish a workload's port, or a resource's, on the host
  score-gen compose score.yaml --publish 8080:my-workload:80",
        command: TargetCommand::COMPOSE,
    },
    TargetInfo {
        name: "k8s",
        all_output: "manifests.yaml",
        build: k8s,
        builds: false,
        after_provision: None,
        after_emit: Some(k8s_kustomize),
        tool: Some("score-k8s"),
        about: "Compile workloads to Kubernetes manifests (multi-document YAML)",
        examples: "\
Examples:
  # Manifests for a namespace, with the Namespace itself
  score-gen k8s score.yaml --namespace prod --generate-namespace -o manifests.yaml

  # To stdout (an Argo CD plugin), as KYAML
  score-gen k8s score.yaml -o - --format kyaml",
        command: TargetCommand::K8S,
    },
    TargetInfo {
        name: "terraform",
        all_output: "terraform/main.tf",
        build: terraform,
        builds: false,
        after_provision: None,
        after_emit: None,
        tool: None,
        about: "Compile workloads to Terraform HCL",
        examples: "\
Examples:
  # main.tf and the modules it calls, in infra/
  score-gen terraform score.yaml -o infra/",
        command: TargetCommand::TERRAFORM,
    },
];

/// The table this run uses: [`DEFAULT_TARGETS`] unless a program set its own ([`set`]).
static TABLE: std::sync::OnceLock<&'static [TargetInfo]> = std::sync::OnceLock::new();

/// Uses `rows` as the table for the rest of the process (before any command is parsed); a
/// second call changes nothing.
pub fn set(rows: Vec<TargetInfo>) {
    let _ = TABLE.set(Vec::leak(rows));
}

/// The table's rows, in the order `all` reports them.
pub fn all() -> &'static [TargetInfo] {
    TABLE.get().copied().unwrap_or(DEFAULT_TARGETS)
}

/// The target a `--target` flag means when it is not given and no project says otherwise
/// (the first row).
pub fn default_name() -> &'static str {
    all()[0].name
}

/// The row of the drop-in executable `program` (`score-compose`).
pub fn of_tool(program: &str) -> &'static TargetInfo {
    all()
        .iter()
        .find(|t| t.tool == Some(program))
        .expect("each drop-in tool has its row")
}

/// The names, for clap's possible values.
pub fn names() -> impl Iterator<Item = &'static str> {
    all().iter().map(|t| t.name)
}

/// The row named `name` (clap has already checked it is one of [`names`]).
pub fn by_name(name: &str) -> &'static TargetInfo {
    all()
        .iter()
        .find(|t| t.name == name)
        .expect("clap admits only table names")
}

/// The target named `name` with default options (for `init`, listings).
pub fn default_target(name: &str) -> Result<BoxedTarget, Diagnostics> {
    (by_name(name).build)(&TargetFlags::default())
}

/// Every target with its default provisioners, for `score-gen lsp` (the first is the default).
pub fn lsp_config() -> score_lsp::Config {
    let targets = all()
        .iter()
        .filter_map(|t| {
            let target = default_target(t.name).ok()?;
            Some(score_lsp::TargetInfo {
                name: t.name.to_string(),
                default_provisioners: target.default_provisioners().to_string(),
            })
        })
        .collect();
    score_lsp::Config { targets }
}

fn usage(message: String, help: &str) -> Diagnostics {
    Diagnostic::new(Code::Usage, message)
        .with_help(help.to_string())
        .into()
}

fn compose(flags: &TargetFlags) -> Result<BoxedTarget, Diagnostics> {
    let mut o = ComposeOptions::default();
    o.project = Some(flags.project.clone().unwrap_or_else(default_project_name));
    o.builds = parse_builds(&flags.build)?;
    o.workload_builds = flags.workload_builds.clone();
    o.publish = flags.publish.clone();
    o.env_file = flags.env_file.clone();
    o.allow_outside_paths = flags.allow_outside_paths;
    o.patch_templates = stored_patch_templates(flags, "compose")?;
    Ok(Box::new(ComposeTarget::new(o)))
}

/// compose `--publish HOSTPORT:RES_UID.OUTPUT:PORT` names a service through a resource output,
/// known once the resources are provisioned.
fn compose_publish(flags: &mut TargetFlags, state: &State) -> Result<bool, Diagnostics> {
    if !flags.publish.iter().any(|p| p.contains('#')) {
        return Ok(false);
    }
    flags.publish = score_target_compose::publish::resolve(&flags.publish, state)?;
    Ok(true)
}

/// `--build CONTAINER=CONTEXT` and `--build 'CONTAINER={...}'` values, by container.
pub fn parse_builds(flags: &[String]) -> Result<BTreeMap<String, serde_json::Value>, Diagnostics> {
    let mut builds = BTreeMap::new();
    for b in flags {
        let (container, context) = b.split_once('=').ok_or_else(|| {
            usage(
                format!("--build '{b}' is invalid"),
                "use --build CONTAINER=CONTEXT, e.g. --build web=./web",
            )
        })?;
        let build = if context.trim_start().starts_with('{') {
            match serde_json::from_str::<serde_json::Value>(context) {
                Ok(v @ serde_json::Value::Object(_)) => v,
                _ => {
                    return Err(usage(
                        format!("--build '{b}': the value after '=' is not a JSON object"),
                        "use --build CONTAINER=CONTEXT or --build 'CONTAINER={\"context\":\"./dir\",\"args\":{\"K\":\"V\"}}'",
                    ))
                }
            }
        } else {
            serde_json::Value::String(context.to_string())
        };
        builds.insert(container.to_string(), build);
    }
    Ok(builds)
}

/// k8s `--kustomize DIR`: one file per object plus kustomization.yaml.
fn k8s_kustomize(flags: &TargetFlags, artefacts: &mut Artefacts) -> Result<(), Diagnostics> {
    if flags.kustomize {
        crate::kustomize::split(artefacts)?;
    }
    Ok(())
}

/// The patch templates a generate applies for target `name`: the tool folder's, else those
/// stored under `--state-dir` by `init --patch-templates`, else none.
pub fn stored_patch_templates(
    flags: &TargetFlags,
    name: &str,
) -> Result<Vec<score_core::target::PatchTemplate>, Diagnostics> {
    match (&flags.patch_templates, &flags.state_dir) {
        (Some(t), _) => Ok(t.clone()),
        (None, Some(dir)) => crate::patches::load(dir, name),
        (None, None) => Ok(Vec::new()),
    }
}

fn k8s(flags: &TargetFlags) -> Result<BoxedTarget, Diagnostics> {
    let mut o = K8sOptions::default();
    o.namespace = flags.namespace.clone();
    o.generate_namespace = flags.generate_namespace;
    o.kyaml = flags.kyaml;
    o.patch_templates = stored_patch_templates(flags, "k8s")?;
    Ok(Box::new(K8sTarget::new(o)))
}

fn terraform(flags: &TargetFlags) -> Result<BoxedTarget, Diagnostics> {
    let mut o = TerraformOptions::default();
    o.namespace = flags.namespace.clone();
    let mut sources = BTreeMap::new();
    for m in &flags.module_source {
        let (kind, source) = m.split_once('=').ok_or_else(|| {
            usage(
                format!("--module-source '{m}' is invalid"),
                "use --module-source TYPE=SOURCE, e.g. --module-source postgres=./modules/pg",
            )
        })?;
        sources.insert(kind.to_string(), source.to_string());
    }
    o.module_sources = sources;
    o.single_file = flags.stdout;
    o.allow_source_params = flags.allow_source_params;
    Ok(Box::new(TerraformTarget::new(o)))
}

/// Like score-compose, the project defaults to the current directory's name, cleaned.
fn default_project_name() -> String {
    let dir = std::env::current_dir().ok();
    let raw = dir
        .as_deref()
        .and_then(Path::file_name)
        .map(|s| s.to_string_lossy().into_owned())
        .unwrap_or_else(|| "score".into());
    // compose project names: lower-case letters, digits, dashes, underscores; start alphanumeric.
    let cleaned: String = raw
        .to_lowercase()
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '-' || c == '_' {
                c
            } else {
                '-'
            }
        })
        .collect();
    let trimmed = cleaned.trim_matches(|c: char| !c.is_ascii_alphanumeric());
    if trimmed.is_empty() {
        "score".into()
    } else {
        trimmed.to_string()
    }
}
