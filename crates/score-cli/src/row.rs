//! The target table's row type ([`TargetInfo`], with the flags it reads and the command it
//! runs) and the table this run uses. The rows themselves are in `targets.rs`, above the
//! commands they run, and `run` installs them ([`install`]); this module is below every
//! command, so a command looks a row up without depending on the rows.

use std::collections::BTreeMap;
use std::path::PathBuf;

use score_core::target::Artefacts;
use score_core::{Code, Diagnostic, Diagnostics, State, Target};

use crate::render::Format;

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

/// A target's subcommand: its flags (a clap `Args` struct's) and how it runs, as a row of the
/// target table holds it ([`crate::targets::TargetInfo::command`]).
#[derive(Clone, Copy)]
pub struct TargetCommand {
    /// Adds the flags to the subcommand.
    pub args: fn(clap::Command) -> clap::Command,
    /// Runs the subcommand of the row from its parsed flags.
    pub run: fn(&'static TargetInfo, &clap::ArgMatches) -> Result<(), Diagnostics>,
    /// The diagnostics format its own flags ask for (the former `--format human|json`), and
    /// whether its output is stdout (`-o -`), so diagnostics must not be.
    pub output: fn(&clap::ArgMatches) -> (Option<Format>, bool),
}

/// The table this run uses, installed by `run` before any command is parsed:
/// [`crate::targets::DEFAULT_TARGETS`] unless a program set its own ([`set`]).
static TABLE: std::sync::OnceLock<&'static [TargetInfo]> = std::sync::OnceLock::new();

/// Uses `rows` as the table for the rest of the process (before any command is parsed); a
/// second call changes nothing.
pub fn set(rows: Vec<TargetInfo>) {
    install(Vec::leak(rows));
}

/// Uses `rows` as the table unless one is set already (`run` installs score-gen's rows after
/// `run_with_targets` has set its own).
pub fn install(rows: &'static [TargetInfo]) {
    let _ = TABLE.set(rows);
}

/// The table's rows, in the order `all` reports them.
pub fn all() -> &'static [TargetInfo] {
    TABLE
        .get()
        .copied()
        .expect("`run` installs the target table before any command runs")
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

/// A usage error (`score::usage`) with its help line.
pub fn usage(message: String, help: &str) -> Diagnostics {
    Diagnostic::new(Code::Usage, message)
        .with_help(help.to_string())
        .into()
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
