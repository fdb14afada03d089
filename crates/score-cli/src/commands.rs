//! The target commands, `init`, and the `provisioners` / `resources` listings.

use std::path::{Path, PathBuf};

use score_core::diag::{Diagnostic, Diagnostics};
use score_core::resolved::{Target, TargetOptions};
use score_core::state::StateDir;
use score_core::table;
use score_target_compose::ComposeTarget;
use score_target_k8s::K8sTarget;
use score_target_terraform::TerraformTarget;

use crate::generate::{self, io_diag, CommonArgs};
use crate::render::Output;
use crate::{Format, TargetName};

fn target_of(name: TargetName) -> &'static dyn Target {
    match name {
        TargetName::Compose => &ComposeTarget,
        TargetName::K8s => &K8sTarget,
        TargetName::Terraform => &TerraformTarget,
    }
}

/// The compose settings shared by `score-gen compose` and `score-gen all`.
#[derive(Debug, clap::Args)]
pub struct ComposeFlags {
    /// Compose project name (default: the current directory's name).
    #[arg(long)]
    pub project: Option<String>,
    /// Build a container's image from a context dir instead of pulling: CONTAINER=CONTEXT.
    #[arg(long, value_name = "CONTAINER=CONTEXT")]
    pub build: Vec<String>,
    /// Publish a workload port on the host: HOSTPORT:WORKLOAD:PORT.
    #[arg(long, value_name = "HOSTPORT:WORKLOAD:PORT")]
    pub publish: Vec<String>,
}

#[derive(Debug, clap::Args)]
pub struct ComposeArgs {
    #[command(flatten)]
    common: CommonArgs,
    /// Output compose file (`-` for stdout). Mounted files go under `.score-gen/mounts/` beside it.
    #[arg(short, long, default_value = "compose.yaml")]
    output: PathBuf,
    #[command(flatten)]
    compose: ComposeFlags,
    /// Also write a skeleton .env with the variables the environment provisioner defers to compose.
    #[arg(long, value_name = "FILE")]
    env_file: Option<PathBuf>,
}

#[derive(Debug, clap::Args)]
pub struct K8sArgs {
    #[command(flatten)]
    common: CommonArgs,
    /// Output manifests file (`-` for stdout, e.g. an Argo CD plugin).
    #[arg(short, long, default_value = "manifests.yaml")]
    output: PathBuf,
    /// Namespace for every namespaced object.
    #[arg(long)]
    namespace: Option<String>,
    /// Also emit the Namespace object (needs --namespace).
    #[arg(long, requires = "namespace")]
    generate_namespace: bool,
}

#[derive(Debug, clap::Args)]
pub struct TerraformArgs {
    #[command(flatten)]
    common: CommonArgs,
    /// Output: a `.tf` file, or a directory (then `main.tf` inside it). `-` for stdout.
    #[arg(short, long, default_value = "main.tf")]
    output: PathBuf,
    /// Kubernetes namespace for the workload resources.
    #[arg(long)]
    namespace: Option<String>,
    /// Module source for a resource type's default provisioner: TYPE=SOURCE
    /// (e.g. postgres=git::https://example.com/modules/pg.git?ref=v1). Default ./modules/<type>.
    #[arg(long, value_name = "TYPE=SOURCE")]
    module_source: Vec<String>,
}

pub fn compose(args: &ComposeArgs) -> Result<(), Diagnostics> {
    if let (Some(env), false) = (&args.env_file, args.common.allow_outside_paths) {
        check_inside_project(env, "--env-file")?;
    }
    let opts = compose_options(&args.compose, args.env_file.as_deref())?;
    generate::run(&ComposeTarget, &args.common, &opts, &args.output)
}

/// The compose target's settings from its flags (`--project`, `--build`, `--publish`, `--env-file`).
pub fn compose_options(
    flags: &ComposeFlags,
    env_file: Option<&Path>,
) -> Result<TargetOptions, Diagnostics> {
    let mut opts = TargetOptions::default();
    let project = match &flags.project {
        Some(p) => p.clone(),
        None => default_project_name(),
    };
    opts.settings.insert("project".into(), project);
    for b in &flags.build {
        let (container, context) = b.split_once('=').ok_or_else(|| {
            Diagnostic::new("score::usage", format!("--build '{b}' is invalid"))
                .with_help("use --build CONTAINER=CONTEXT, e.g. --build web=./web")
        })?;
        opts.settings
            .insert(format!("build.{container}"), context.to_string());
    }
    if !flags.publish.is_empty() {
        opts.settings
            .insert("publish".into(), flags.publish.join(","));
    }
    if let Some(env) = env_file {
        opts.settings
            .insert("env_file".into(), env.display().to_string());
    }
    Ok(opts)
}

pub fn k8s(args: &K8sArgs) -> Result<(), Diagnostics> {
    let mut opts = TargetOptions::default();
    if let Some(ns) = &args.namespace {
        opts.settings.insert("namespace".into(), ns.clone());
    }
    if args.generate_namespace {
        opts.settings
            .insert("generate_namespace".into(), "true".into());
    }
    generate::run(&K8sTarget, &args.common, &opts, &args.output)
}

pub fn terraform(args: &TerraformArgs) -> Result<(), Diagnostics> {
    let mut opts = TargetOptions::default();
    if let Some(ns) = &args.namespace {
        opts.settings.insert("namespace".into(), ns.clone());
    }
    for m in &args.module_source {
        let (kind, source) = m.split_once('=').ok_or_else(|| {
            Diagnostic::new("score::usage", format!("--module-source '{m}' is invalid")).with_help(
                "use --module-source TYPE=SOURCE, e.g. --module-source postgres=./modules/pg",
            )
        })?;
        opts.settings
            .insert(format!("module_source.{kind}"), source.to_string());
    }
    let output = if args.output.is_dir() || args.output.to_string_lossy().ends_with('/') {
        args.output.join("main.tf")
    } else {
        args.output.clone()
    };
    generate::run(&TerraformTarget, &args.common, &opts, &output)
}

/// Refuses an output path outside the current (project) directory, lexically or through a
/// symlinked parent, unless `--allow-outside-paths` is given.
fn check_inside_project(path: &Path, flag: &str) -> Result<(), Diagnostics> {
    let cwd = std::env::current_dir().map_err(|e| io_diag(".", e))?;
    let joined = cwd.join(path);
    let lexical_escape = path.is_absolute() && !joined.starts_with(&cwd)
        || path
            .components()
            .try_fold(0i32, |depth, c| match c {
                std::path::Component::ParentDir if depth == 0 => None,
                std::path::Component::ParentDir => Some(depth - 1),
                std::path::Component::Normal(_) => Some(depth + 1),
                _ => Some(depth),
            })
            .is_none();
    let link_escape = match (joined.parent().map(Path::canonicalize), cwd.canonicalize()) {
        (Some(Ok(dir)), Ok(root)) => !dir.starts_with(root),
        _ => false,
    };
    if lexical_escape || link_escape {
        return Err(Diagnostic::new(
            "score::usage",
            format!(
                "{flag} {} is outside the project directory {}",
                path.display(),
                cwd.display()
            ),
        )
        .with_help("write it inside the project directory, or pass --allow-outside-paths")
        .into());
    }
    Ok(())
}

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

#[derive(Debug, clap::Args)]
pub struct InitArgs {
    /// Which target's default provisioners to write.
    #[arg(long, value_enum, default_value_t = TargetName::Compose)]
    target: TargetName,
    /// The state directory.
    #[arg(long, value_name = "DIR", default_value = ".score-gen")]
    state_dir: PathBuf,
    /// Path of the sample Score file (written only if it does not exist).
    #[arg(long, value_name = "FILE", default_value = "score.yaml")]
    file: PathBuf,
    /// Do not write a sample Score file.
    #[arg(long)]
    no_sample: bool,
}

const SAMPLE: &str = "\
apiVersion: score.dev/v1b1
metadata:
  name: example
containers:
  main:
    image: nginx:1.27
    variables:
      GREETING: Hello from ${metadata.name}
service:
  ports:
    web:
      port: 8080
      targetPort: 80
";

pub fn init(args: &InitArgs) -> Result<(), Diagnostics> {
    let target = target_of(args.target);
    let dir = args.state_dir.join(target.name()).join("provisioners");
    std::fs::create_dir_all(&dir).map_err(|e| io_diag(&dir.display().to_string(), e))?;
    let defaults = dir.join("zz-default.provisioners.yaml");
    let mut files = vec![(
        defaults.clone(),
        target.default_provisioners().as_bytes().to_vec(),
    )];
    if !args.no_sample && !args.file.exists() {
        files.push((args.file.clone(), SAMPLE.as_bytes().to_vec()));
    }
    score_core::fsutil::atomic_write_all(&files)
        .map_err(|e| io_diag(&defaults.display().to_string(), e))?;
    // Open once so the state file exists and the directory layout is complete.
    let sd = StateDir::open_dir(
        &args.state_dir.join(target.name()),
        score_core::state::DEFAULT_LOCK_TIMEOUT,
    )
    .map_err(|e| io_diag(&args.state_dir.display().to_string(), e))?;
    let st = sd.load()?;
    sd.save(&st)
        .map_err(|e| io_diag(&args.state_dir.display().to_string(), e))?;
    for (p, _) in &files {
        eprintln!("wrote {}", p.display());
    }
    Ok(())
}

#[derive(Debug, clap::Subcommand)]
pub enum ProvisionersCommand {
    /// List the provisioners in the order they are tried.
    List(ListArgs),
}

#[derive(Debug, clap::Args)]
pub struct ListArgs {
    /// Target whose defaults and state dir to use.
    #[arg(long, value_enum, default_value_t = TargetName::Compose)]
    target: TargetName,
    /// Extra provisioner URIs (tried first), as for the target commands.
    #[arg(long = "provisioners", value_name = "URI")]
    provisioners: Vec<String>,
    /// The state directory.
    #[arg(long, value_name = "DIR", default_value = ".score-gen")]
    state_dir: PathBuf,
}

pub fn provisioners(cmd: &ProvisionersCommand, out: &Output) -> Result<(), Diagnostics> {
    let ProvisionersCommand::List(args) = cmd;
    let target = target_of(args.target);
    let common = CommonArgs {
        files: Vec::new(),
        override_files: Vec::new(),
        override_properties: Vec::new(),
        image: None,
        provisioners: args.provisioners.clone(),
        state_dir: args.state_dir.clone(),
        allow_outside_paths: false,
        cmd_timeout: 60,
    };
    let set = generate::load_provisioners(target, &common)?;
    let rows: Vec<Vec<String>> = set
        .iter()
        .map(|p| {
            vec![
                p.kind.clone(),
                p.class.clone().unwrap_or_else(|| "(any)".into()),
                p.id.clone().unwrap_or_else(|| "(any)".into()),
                p.expected_outputs.join(", "),
                p.description.clone(),
            ]
        })
        .collect();
    match out.format {
        Format::Json => {
            let list: Vec<_> = set
                .iter()
                .map(|p| {
                    serde_json::json!({
                        "uri": p.uri, "type": p.kind, "class": p.class, "id": p.id,
                        "description": p.description, "supported_params": p.supported_params,
                        "expected_outputs": p.expected_outputs, "secret_outputs": p.secret_outputs,
                    })
                })
                .collect();
            println!("{}", table::render_json(&serde_json::Value::Array(list)));
        }
        Format::Human => print!(
            "{}",
            table::render_table(&["Type", "Class", "Id", "Outputs", "Description"], &rows)
        ),
    }
    Ok(())
}

#[derive(Debug, clap::Subcommand)]
pub enum ResourcesCommand {
    /// List the resources recorded in the state.
    List(StateArgs),
    /// Print a resource's outputs as JSON (secrets included: this is your local state).
    GetOutputs {
        /// The resource uid, e.g. postgres.default#hello.db
        uid: String,
        #[command(flatten)]
        state: StateArgs,
    },
}

#[derive(Debug, Clone, clap::Args)]
pub struct StateArgs {
    /// Target whose state to read.
    #[arg(long, value_enum, default_value_t = TargetName::Compose)]
    target: TargetName,
    /// The state directory.
    #[arg(long, value_name = "DIR", default_value = ".score-gen")]
    state_dir: PathBuf,
}

pub fn resources(cmd: &ResourcesCommand, out: &Output) -> Result<(), Diagnostics> {
    let args = match cmd {
        ResourcesCommand::List(a) => a,
        ResourcesCommand::GetOutputs { state, .. } => state,
    };
    let target = target_of(args.target);
    let sd = StateDir::open_dir(
        &args.state_dir.join(target.name()),
        score_core::state::DEFAULT_LOCK_TIMEOUT,
    )
    .map_err(|e| io_diag(&args.state_dir.display().to_string(), e))?;
    let st = sd.load()?;
    match cmd {
        ResourcesCommand::List(_) => {
            let rows: Vec<Vec<String>> = st
                .resources
                .iter()
                .map(|(uid, r)| {
                    let mut keys: Vec<&String> = r.outputs.keys().collect();
                    keys.sort();
                    vec![
                        uid.clone(),
                        r.provisioner.clone(),
                        r.source_workload.clone(),
                        keys.into_iter().cloned().collect::<Vec<_>>().join(", "),
                    ]
                })
                .collect();
            match out.format {
                Format::Json => {
                    let list: Vec<_> = rows
                        .iter()
                        .map(|r| serde_json::json!({"uid": r[0], "provisioner": r[1], "source_workload": r[2]}))
                        .collect();
                    println!("{}", table::render_json(&serde_json::Value::Array(list)));
                }
                Format::Human => print!(
                    "{}",
                    table::render_table(
                        &["Uid", "Provisioner", "Source workload", "Outputs"],
                        &rows
                    )
                ),
            }
            Ok(())
        }
        ResourcesCommand::GetOutputs { uid, .. } => match st.resources.get(uid) {
            Some(r) => {
                println!(
                    "{}",
                    table::render_json(&serde_json::Value::Object(r.outputs.clone()))
                );
                Ok(())
            }
            None => Err(Diagnostic::new(
                "score::state",
                format!("no resource '{uid}' in the {} state", target.name()),
            )
            .with_help(format!(
                "known resources: {}",
                st.resources.keys().cloned().collect::<Vec<_>>().join(", ")
            ))
            .into()),
        },
    }
}
