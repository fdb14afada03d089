//! The target commands, `init`, and the `provisioners` / `resources` listings.

use std::path::{Path, PathBuf};

use score_core::host::StateDir;
use score_core::unstable::table;
use score_core::{Code, Diagnostic, Diagnostics};

use crate::generate::{self, io_diag, CommonArgs};
use crate::render::Output;
use crate::targets::{self, TargetFlags};
use crate::Format;

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
    #[arg(short, long, value_name = "HOSTPORT:WORKLOAD:PORT")]
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
    #[arg(short, long)]
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
    #[arg(short, long)]
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
    let mut flags = compose_flags(&args.compose);
    flags.env_file = args.env_file.as_ref().map(|e| e.display().to_string());
    flags.allow_outside_paths = args.common.allow_outside_paths;
    let target = (targets::by_name("compose").build)(&flags)?;
    generate::run(target.as_ref(), &args.common, &args.output)
}

/// The compose flags shared by `score-gen compose` and `score-gen all`.
pub fn compose_flags(flags: &ComposeFlags) -> TargetFlags {
    TargetFlags {
        project: flags.project.clone(),
        build: flags.build.clone(),
        publish: flags.publish.clone(),
        ..TargetFlags::default()
    }
}

pub fn k8s(args: &K8sArgs) -> Result<(), Diagnostics> {
    let flags = TargetFlags {
        namespace: args.namespace.clone(),
        generate_namespace: args.generate_namespace,
        ..TargetFlags::default()
    };
    let target = (targets::by_name("k8s").build)(&flags)?;
    generate::run(target.as_ref(), &args.common, &args.output)
}

pub fn terraform(args: &TerraformArgs) -> Result<(), Diagnostics> {
    let flags = TargetFlags {
        namespace: args.namespace.clone(),
        module_source: args.module_source.clone(),
        stdout: args.output == Path::new("-"),
        ..TargetFlags::default()
    };
    let target = (targets::by_name("terraform").build)(&flags)?;
    let output = if args.output.is_dir() || args.output.to_string_lossy().ends_with('/') {
        args.output.join("main.tf")
    } else {
        args.output.clone()
    };
    generate::run(target.as_ref(), &args.common, &output)
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
            Code::UsagePathOutsideProject,
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

#[derive(Debug, clap::Args)]
pub struct InitArgs {
    /// Which target's default provisioners to write.
    #[arg(long, default_value = "compose", value_parser = clap::builder::PossibleValuesParser::new(targets::names()))]
    target: String,
    /// The state directory.
    #[arg(long, value_name = "DIR", default_value = ".score-gen")]
    state_dir: PathBuf,
    /// Path of the sample Score file (written only if it does not exist).
    #[arg(short, long, value_name = "FILE", default_value = "score.yaml")]
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
    let target = targets::default_target(&args.target)?;
    let target = target.as_ref();
    let dir = args.state_dir.join(target.name()).join("provisioners");
    let defaults = dir.join("zz-default.provisioners.yaml");
    let here = PathBuf::from(".");
    let mut files = vec![(
        defaults.clone(),
        target.default_provisioners().as_bytes().to_vec(),
        here.clone(),
    )];
    if !args.no_sample && !args.file.exists() {
        files.push((args.file.clone(), SAMPLE.as_bytes().to_vec(), here));
    }
    generate::prepare_writes(&files, &[])?.commit()?;
    // Open once so the state file exists and the directory layout is complete.
    let sd = StateDir::open_dir(
        &args.state_dir.join(target.name()),
        score_core::unstable::state::DEFAULT_LOCK_TIMEOUT,
    )
    .map_err(|e| io_diag(&args.state_dir.display().to_string(), e))?;
    let st = sd.load()?;
    sd.save(&st)
        .map_err(|e| io_diag(&args.state_dir.display().to_string(), e))?;
    for (p, _, _) in &files {
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
    #[arg(long, default_value = "compose", value_parser = clap::builder::PossibleValuesParser::new(targets::names()))]
    target: String,
    /// Extra provisioner URIs (tried first), as for the target commands.
    #[arg(long = "provisioners", value_name = "URI", value_parser = generate::non_empty_uri)]
    provisioners: Vec<String>,
    /// The state directory.
    #[arg(long, value_name = "DIR", default_value = ".score-gen")]
    state_dir: PathBuf,
}

pub fn provisioners(cmd: &ProvisionersCommand, out: &Output) -> Result<(), Diagnostics> {
    let ProvisionersCommand::List(args) = cmd;
    let target = targets::default_target(&args.target)?;
    let target = target.as_ref();
    let common = CommonArgs {
        files: Vec::new(),
        override_files: Vec::new(),
        override_properties: Vec::new(),
        image: None,
        provisioners: args.provisioners.clone(),
        state_dir: args.state_dir.clone(),
        allow_outside_paths: false,
        allow_remote_commands: false,
        cmd_timeout: 60,
    };
    let set = generate::load_provisioners(target, &common)?;
    // The programs a generate would run (cmd:// entries), and whether they may run without
    // --allow-remote-commands.
    let program = |p: &score_core::Provisioner| p.cmd().map(score_core::CmdSpec::command_line);
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
                        "program": program(p), "trusted": p.source.trusted,
                    })
                })
                .collect();
            println!("{}", table::render_json(&serde_json::Value::Array(list)));
        }
        Format::Human => {
            print!(
                "{}",
                table::render_table(&["Type", "Class", "Id", "Outputs", "Description"], &rows)
            );
            let programs: Vec<Vec<String>> = set
                .iter()
                .filter_map(|p| {
                    let trust = if p.source.trusted {
                        "runs"
                    } else {
                        "needs --allow-remote-commands"
                    };
                    program(p).map(|prog| vec![p.uri.clone(), prog, trust.to_string()])
                })
                .collect();
            if !programs.is_empty() {
                println!("\nPrograms these provisioners run:");
                print!(
                    "{}",
                    table::render_table(&["Uri", "Program", "Permission"], &programs)
                );
            }
        }
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
    #[arg(long, default_value = "compose", value_parser = clap::builder::PossibleValuesParser::new(targets::names()))]
    target: String,
    /// The state directory.
    #[arg(long, value_name = "DIR", default_value = ".score-gen")]
    state_dir: PathBuf,
}

pub fn resources(cmd: &ResourcesCommand, out: &Output) -> Result<(), Diagnostics> {
    let args = match cmd {
        ResourcesCommand::List(a) => a,
        ResourcesCommand::GetOutputs { state, .. } => state,
    };
    let target = targets::default_target(&args.target)?;
    let target = target.as_ref();
    let sd = StateDir::open_dir(
        &args.state_dir.join(target.name()),
        score_core::unstable::state::DEFAULT_LOCK_TIMEOUT,
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
                Code::StateUnknownResource,
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
