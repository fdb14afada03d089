//! The one table of targets. Every command that names or iterates targets (`compose`, `k8s`,
//! `terraform`, `all`, `init --target`, `provisioners list --target`, `resources --target`)
//! reads [`TARGETS`], so a new target is one row here.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use score_core::{Code, Diagnostic, Diagnostics, State, Target};
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
    pub patch_templates: Option<Vec<score_core::PatchTemplate>>,
}

/// A row's rewrite of its flags once the resources are provisioned ([`TargetInfo::after_provision`]).
pub type AfterProvision = fn(&mut TargetFlags, &State) -> Result<bool, Diagnostics>;

/// One row of the table.
pub struct TargetInfo {
    /// The subcommand, `--target` value and state directory name.
    pub name: &'static str,
    /// Where `score-gen all -o DIR` writes this target's primary output, relative to `DIR`.
    pub all_output: &'static str,
    /// Builds the target with its typed options from the flags.
    pub build: fn(&TargetFlags) -> Result<BoxedTarget, Diagnostics>,
    /// Whether the target reads `--build`: the project's state keeps each workload's builds.
    pub builds: bool,
    /// Rewrites flags that name something through the provisioned resources, once the state
    /// holds them; `true` when a flag changed (the target is then built again).
    pub after_provision: Option<AfterProvision>,
}

/// The targets, in the order `all` reports them.
pub const TARGETS: &[TargetInfo] = &[
    TargetInfo {
        name: "compose",
        all_output: "compose.yaml",
        build: compose,
        builds: true,
        after_provision: Some(compose_publish),
    },
    TargetInfo {
        name: "k8s",
        all_output: "manifests.yaml",
        build: k8s,
        builds: false,
        after_provision: None,
    },
    TargetInfo {
        name: "terraform",
        all_output: "terraform/main.tf",
        build: terraform,
        builds: false,
        after_provision: None,
    },
];

/// The target a `--target` flag means when it is not given (the first row).
pub const DEFAULT: &str = TARGETS[0].name;

/// The names, for clap's possible values.
pub fn names() -> impl Iterator<Item = &'static str> {
    TARGETS.iter().map(|t| t.name)
}

/// The row named `name` (clap has already checked it is one of [`names`]).
pub fn by_name(name: &str) -> &'static TargetInfo {
    TARGETS
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
    let targets = TARGETS
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
    if let Some(t) = &flags.patch_templates {
        o.patch_templates = t.clone();
    } else if let Some(dir) = &flags.state_dir {
        o.patch_templates = crate::patches::load(dir, "compose")?;
    }
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

fn k8s(flags: &TargetFlags) -> Result<BoxedTarget, Diagnostics> {
    let mut o = K8sOptions::default();
    o.namespace = flags.namespace.clone();
    o.generate_namespace = flags.generate_namespace;
    o.kyaml = flags.kyaml;
    if let Some(t) = &flags.patch_templates {
        o.patch_templates = t.clone();
    } else if let Some(dir) = &flags.state_dir {
        o.patch_templates = crate::patches::load(dir, "k8s")?;
    }
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
