//! The one table of targets. Every command that names or iterates targets (the per-target
//! subcommands with their flags, help and examples, `all`, `init --target`, `graph --target`,
//! `provisioners list --target`, `resources --target`, the drop-in tools) reads the table
//! ([`all`]), so a new target is one row: here, or in a program of its own that runs the CLI
//! with [`DEFAULT_TARGETS`] plus its row (`crate::run_with_targets`).

use std::collections::BTreeMap;
use std::path::Path;

use score_core::target::Artefacts;
use score_core::{Diagnostics, State};

use crate::row::usage;
pub use crate::row::{
    all, by_name, default_name, default_target, lsp_config, names, of_tool, parse_builds, set,
    AfterEmit, AfterProvision, BoxedTarget, TargetCommand, TargetFlags, TargetInfo,
};
use score_target_compose::{ComposeOptions, ComposeTarget};
use score_target_k8s::{K8sOptions, K8sTarget};
use score_target_terraform::{TerraformOptions, TerraformTarget};

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
