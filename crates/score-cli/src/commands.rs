//! The target commands, `init`, and the `provisioners` / `resources` listings.

use std::path::{Path, PathBuf};

use crate::table;
use score_core::host::StateDir;
use score_core::{Code, Diagnostic, Diagnostics};

use crate::files::{check_inside_project, io_diag};
use crate::generate::{self, CommonArgs};
use crate::render::Format;
use crate::row::{self, TargetCommand, TargetFlags, TargetInfo};

/// The compose settings shared by `score-gen compose` and `score-gen all`.
#[derive(Debug, clap::Args)]
pub struct ComposeFlags {
    /// Compose project name (default: the current directory's name).
    #[arg(long)]
    pub project: Option<String>,
    /// Build a container's image from a context dir instead of pulling: CONTAINER=CONTEXT.
    #[arg(long, value_name = "CONTAINER=CONTEXT")]
    pub build: Vec<String>,
    /// Publish a port on the host: HOSTPORT:WORKLOAD:PORT, HOSTPORT:SERVICE:PORT, or
    /// HOSTPORT:RES_UID.OUTPUT:PORT (the service a resource output names, e.g.
    /// 15432:postgres#my-workload.db.host:5432). Not kept in the state.
    #[arg(short, long, value_name = "HOSTPORT:REF:PORT")]
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
    #[command(flatten)]
    pub legacy: crate::render::LegacyFormat,
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
    /// The manifests' format: `yaml`, or `kyaml` (the Kubernetes dialect of YAML: flow style,
    /// every string double-quoted), as score-k8s. Diagnostics: --message-format.
    #[arg(long, value_enum, default_value_t = ManifestFormat::Yaml)]
    format: ManifestFormat,
    /// Write one file per object plus kustomization.yaml into DIR (instead of -o), for
    /// Kustomize overlays (spec/targets/k8s.md).
    #[arg(long, value_name = "DIR", conflicts_with = "output")]
    kustomize: Option<PathBuf>,
}

/// k8s `--format`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum ManifestFormat {
    /// Block YAML documents.
    Yaml,
    /// KYAML (https://kubernetes.io/docs/reference/encodings/kyaml/).
    Kyaml,
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
    /// Let a resource's `source` param in a Score file choose its Terraform module (the default
    /// provisioners refuse it otherwise: the module is code that terraform downloads and runs).
    #[arg(long)]
    allow_source_params: bool,
    #[command(flatten)]
    pub legacy: crate::render::LegacyFormat,
}

/// A target subcommand's flags.
trait TargetArgs: clap::Args + clap::FromArgMatches {
    fn run(&self, info: &'static TargetInfo) -> Result<(), Diagnostics>;
    fn legacy_format(&self) -> Option<Format>;
    fn output(&self) -> &Path;
}

fn augment<A: TargetArgs>(c: clap::Command) -> clap::Command {
    A::augment_args(c)
}

fn parse<A: TargetArgs>(m: &clap::ArgMatches) -> A {
    // clap has parsed these matches with the same `Args`.
    A::from_arg_matches(m).expect("the subcommand's own flags")
}

fn run<A: TargetArgs>(info: &'static TargetInfo, m: &clap::ArgMatches) -> Result<(), Diagnostics> {
    parse::<A>(m).run(info)
}

fn output<A: TargetArgs>(m: &clap::ArgMatches) -> (Option<Format>, bool) {
    let a = parse::<A>(m);
    (a.legacy_format(), a.output() == Path::new("-"))
}

// The commands the table's rows run (`targets.rs`); the type is the row's (`row.rs`), below
// every command.
impl TargetCommand {
    const fn of<A: TargetArgs>() -> Self {
        TargetCommand {
            args: augment::<A>,
            run: run::<A>,
            output: output::<A>,
        }
    }

    /// The generate flags and `-o` (default: the file name of the row's `all_output`).
    pub const COMMON: TargetCommand = TargetCommand::of::<TargetCommonArgs>();
    /// compose's flags.
    pub const COMPOSE: TargetCommand = TargetCommand::of::<ComposeArgs>();
    /// k8s's flags.
    pub const K8S: TargetCommand = TargetCommand::of::<K8sArgs>();
    /// terraform's flags.
    pub const TERRAFORM: TargetCommand = TargetCommand::of::<TerraformArgs>();
}

/// The flags of a target with none of its own.
#[derive(Debug, clap::Args)]
pub struct TargetCommonArgs {
    #[command(flatten)]
    common: CommonArgs,
    /// Output file (`-` for stdout; default: the target's file name).
    #[arg(short, long)]
    output: Option<PathBuf>,
    #[command(flatten)]
    pub legacy: crate::render::LegacyFormat,
}

impl TargetArgs for TargetCommonArgs {
    fn run(&self, info: &'static TargetInfo) -> Result<(), Diagnostics> {
        let flags = TargetFlags {
            state_dir: Some(self.common.state_dir.clone()),
            allow_outside_paths: self.common.allow_outside_paths,
            ..TargetFlags::default()
        };
        let output = self.output.clone().unwrap_or_else(|| {
            let all = Path::new(info.all_output);
            all.file_name()
                .map_or_else(|| all.to_path_buf(), PathBuf::from)
        });
        generate::run(info, &flags, &self.common, &output)
    }
    fn legacy_format(&self) -> Option<Format> {
        self.legacy.format
    }
    fn output(&self) -> &Path {
        self.output.as_deref().unwrap_or(Path::new(""))
    }
}

impl TargetArgs for ComposeArgs {
    fn run(&self, info: &'static TargetInfo) -> Result<(), Diagnostics> {
        let args = self;
        if let (Some(env), false) = (&args.env_file, args.common.allow_outside_paths) {
            check_inside_project(env, "--env-file")?;
        }
        let mut flags = compose_flags(&args.compose);
        flags.env_file = args.env_file.as_ref().map(|e| e.display().to_string());
        flags.allow_outside_paths = args.common.allow_outside_paths;
        flags.state_dir = Some(args.common.state_dir.clone());
        generate::run(info, &flags, &args.common, &args.output)
    }
    fn legacy_format(&self) -> Option<Format> {
        self.legacy.format
    }
    fn output(&self) -> &Path {
        &self.output
    }
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

impl TargetArgs for K8sArgs {
    fn run(&self, info: &'static TargetInfo) -> Result<(), Diagnostics> {
        let args = self;
        let flags = TargetFlags {
            namespace: args.namespace.clone(),
            generate_namespace: args.generate_namespace,
            state_dir: Some(args.common.state_dir.clone()),
            kyaml: args.format == ManifestFormat::Kyaml,
            kustomize: args.kustomize.is_some(),
            ..TargetFlags::default()
        };
        let output = match &args.kustomize {
            Some(dir) => dir.join(crate::kustomize::KUSTOMIZATION),
            None => args.output.clone(),
        };
        generate::run(info, &flags, &args.common, &output)
    }
    fn legacy_format(&self) -> Option<Format> {
        None
    }
    fn output(&self) -> &Path {
        &self.output
    }
}

impl TargetArgs for TerraformArgs {
    fn run(&self, info: &'static TargetInfo) -> Result<(), Diagnostics> {
        let args = self;
        let flags = TargetFlags {
            namespace: args.namespace.clone(),
            module_source: args.module_source.clone(),
            allow_source_params: args.allow_source_params,
            stdout: args.output == Path::new("-"),
            ..TargetFlags::default()
        };
        let output = if args.output.is_dir() || args.output.to_string_lossy().ends_with('/') {
            args.output.join("main.tf")
        } else {
            args.output.clone()
        };
        generate::run(info, &flags, &args.common, &output)
    }
    fn legacy_format(&self) -> Option<Format> {
        self.legacy.format
    }
    fn output(&self) -> &Path {
        &self.output
    }
}

#[derive(Debug, clap::Args)]
pub struct InitArgs {
    /// Which target's default provisioners to write.
    /// (default: the first target of the table)
    #[arg(long, value_parser = clap::builder::PossibleValuesParser::new(row::names()))]
    target: Option<String>,
    /// The state directory.
    #[arg(long, value_name = "DIR", default_value = ".score-gen")]
    state_dir: PathBuf,
    /// Path of the sample Score file (written only if it does not exist).
    #[arg(short, long, value_name = "FILE", default_value = "score.yaml")]
    file: PathBuf,
    /// Do not write a sample Score file.
    #[arg(long)]
    no_sample: bool,
    /// Patch template file to store and apply to every compose/k8s output (repeatable, in
    /// order; replaces the stored list). URI forms as for --provisioners (spec/patching.md).
    #[arg(long = "patch-templates", value_name = "URI", value_parser = generate::non_empty_uri)]
    patch_templates: Vec<String>,
    /// Provisioner file to install into the project (repeatable; later ones are tried first),
    /// stored as score-compose and score-k8s store it. URI forms as for the target commands.
    #[arg(long = "provisioners", value_name = "URI", value_parser = generate::non_empty_uri)]
    provisioners: Vec<String>,
    /// Do not write the default provisioners file.
    #[arg(long)]
    no_default_provisioners: bool,
    /// Install a provisioner file from outside the project (http, git, stdin) that is not pinned
    /// with #sha256= although it runs cmd:// programs (spec/security.md).
    #[arg(long)]
    allow_remote_commands: bool,
    #[command(flatten)]
    pub legacy: crate::render::LegacyFormat,
}

pub const SAMPLE: &str = "\
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
    let target = row::default_target(args.target.as_deref().unwrap_or(row::default_name()))?;
    let target = target.as_ref();
    let dir = args.state_dir.join(target.name()).join("provisioners");
    let defaults = dir.join(crate::tool::folder::DEFAULT_PROVISIONERS);
    let here = PathBuf::from(".");
    let mut files = Vec::new();
    // As score-compose and score-k8s: an existing file is the platform team's, never replaced.
    if args.no_default_provisioners {
    } else if defaults.exists() {
        crate::render::note!("kept {} (it exists)", defaults.display());
    } else {
        files.push((
            defaults.clone(),
            target.default_provisioners().as_bytes().to_vec(),
            here.clone(),
        ));
    }
    let stored = crate::tool::folder::store_provisioner_files(
        &args.provisioners,
        args.allow_remote_commands,
        &dir,
    )?;
    files.extend(stored.files.iter().cloned());
    if let Some((path, bytes)) =
        crate::patches::init_file(&args.patch_templates, &args.state_dir, target)?
    {
        files.push((path, bytes, here.clone()));
    }
    if !args.no_sample && !args.file.exists() {
        files.push((args.file.clone(), SAMPLE.as_bytes().to_vec(), here));
    }
    generate::prepare_writes(files.clone(), &[])?.commit()?;
    stored.remove_stale()?;
    // Open once so the state file exists and the directory layout is complete.
    let sd = StateDir::open_dir(
        &args.state_dir.join(target.name()),
        score_core::host::DEFAULT_LOCK_TIMEOUT,
    )
    .map_err(|e| io_diag(&args.state_dir.display().to_string(), e))?;
    let st = sd.load()?;
    sd.save(&st)
        .map_err(|e| io_diag(&args.state_dir.display().to_string(), e))?;
    for (p, _, _) in &files {
        crate::render::note!("wrote {}", p.display());
    }
    Ok(())
}

#[derive(Debug, clap::Subcommand)]
pub enum ProvisionersCommand {
    /// List the provisioners in the order they are tried.
    List(ListArgs),
}

impl ProvisionersCommand {
    /// `--format json` prints errors as JSON too (unless --message-format says otherwise).
    pub fn message_format(&self) -> Option<Format> {
        let ProvisionersCommand::List(a) = self;
        (a.format == ListFormat::Json).then_some(Format::Json)
    }
}

/// A listing's `--format`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum ListFormat {
    /// A table (`human` is the same).
    #[value(alias = "human")]
    Table,
    /// A JSON array.
    Json,
}

#[derive(Debug, clap::Args)]
pub struct ListArgs {
    /// Target whose defaults and state dir to use (default: the project's one target, else
    /// compose).
    #[arg(long, value_parser = clap::builder::PossibleValuesParser::new(row::names()))]
    target: Option<String>,
    /// Extra provisioner URIs (tried first), as for the target commands.
    #[arg(long = "provisioners", value_name = "URI", value_parser = generate::non_empty_uri)]
    provisioners: Vec<String>,
    /// The state directory.
    #[arg(long, value_name = "DIR", default_value = ".score-gen")]
    state_dir: PathBuf,
    /// `table` or `json`.
    #[arg(short, long, value_enum, default_value_t = ListFormat::Table)]
    format: ListFormat,
}

pub fn provisioners(cmd: &ProvisionersCommand) -> Result<(), Diagnostics> {
    let ProvisionersCommand::List(args) = cmd;
    let name = project_target(args.target.as_deref(), &args.state_dir, "provisioners list")?;
    let target = row::default_target(name)?;
    let common = CommonArgs {
        files: Vec::new(),
        remove: Vec::new(),
        override_files: Vec::new(),
        override_properties: Vec::new(),
        image: None,
        provisioners: args.provisioners.clone(),
        state_dir: args.state_dir.clone(),
        allow_outside_paths: false,
        allow_remote_commands: false,
        cmd_timeout: 60,
        tool: None,
        check: false,
        locked: false,
        frozen: false,
        env_prefix: None,
    };
    list_provisioners(target.as_ref(), &common, args.format)
}

/// The target a listing or `graph` reads: `--target`, else the one target with a state in the
/// project, else the table's first; when several have one, the choice is named on stderr.
pub fn project_target(
    given: Option<&str>,
    state_dir: &Path,
    command: &str,
) -> Result<&'static str, Diagnostics> {
    if let Some(t) = given {
        return Ok(row::by_name(t).name);
    }
    let present: Vec<&'static str> = row::names()
        .filter(|t| {
            state_dir
                .join(t)
                .join(score_core::host::STATE_FILE)
                .is_file()
        })
        .collect();
    match present.as_slice() {
        [] => Ok(row::default_name()),
        [one] => Ok(one),
        [first, rest @ ..] => {
            crate::render::note!(
                "{command}: using the {first} project ({} has {}); choose with --target {}",
                state_dir.display(),
                present.join(", "),
                rest.join(" or --target ")
            );
            Ok(first)
        }
    }
}

/// `provisioners list` for `target`, with the provisioners a generate would load.
pub fn list_provisioners(
    target: &dyn score_core::Target,
    common: &CommonArgs,
    format: ListFormat,
) -> Result<(), Diagnostics> {
    let set = generate::load_provisioners(target, common)?;
    // The programs a generate would run (cmd:// entries), and whether they may run without
    // --allow-remote-commands.
    let program = |p: &score_core::provision::Provisioner| {
        p.cmd().map(score_core::provision::CmdSpec::command_line)
    };
    // How each entry provisions (spec/provisioners.md, "Dialects").
    let engine = |p: &score_core::provision::Provisioner| match p.dialect() {
        Some(score_core::provision::Dialect::GoTemplate) => "gotemplate",
        Some(score_core::provision::Dialect::Minijinja) => "minijinja",
        _ if p.is_cmd() => "cmd",
        _ => "local-env",
    };
    let params = |p: &score_core::provision::Provisioner| {
        p.supported_params
            .as_ref()
            .map_or_else(|| "(any)".to_string(), |ps| ps.join(", "))
    };
    let rows: Vec<Vec<String>> = set
        .iter()
        .map(|p| {
            vec![
                p.kind.clone(),
                p.class.clone().unwrap_or_else(|| "(any)".into()),
                p.id.clone().unwrap_or_else(|| "(any)".into()),
                params(p),
                p.expected_outputs.join(", "),
                p.description.clone(),
            ]
        })
        .collect();
    match format {
        ListFormat::Json => {
            let list: Vec<_> = set
                .iter()
                .map(|p| {
                    serde_json::json!({
                        "uri": p.uri, "type": p.kind, "class": p.class, "id": p.id,
                        "description": p.description, "supported_params": p.supported_params,
                        "expected_outputs": p.expected_outputs, "secret_outputs": p.secret_outputs,
                        "program": program(p), "trusted": p.source.trusted,
                        "engine": engine(p),
                    })
                })
                .collect();
            println!("{}", table::render_json(&serde_json::Value::Array(list)));
        }
        ListFormat::Table => {
            print!(
                "{}",
                fit_table(
                    &["Type", "Class", "Id", "Params", "Outputs", "Description"],
                    &rows
                )
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
                    fit_table(&["Uri", "Program", "Permission"], &programs)
                );
            }
        }
    }
    Ok(())
}

/// A table no wider than the terminal (`COLUMNS`, else 100 columns): long cells are cut
/// with `…` (`--format json` prints everything).
fn fit_table(headers: &[&str], rows: &[Vec<String>]) -> String {
    let width: usize = std::env::var("COLUMNS")
        .ok()
        .and_then(|c| c.parse().ok())
        .filter(|&c: &usize| c >= 40)
        .unwrap_or(100);
    // Each column gets its share of the width, the rest of a short column going to the others.
    let borders = 3 * headers.len() + 1;
    let avail = width.saturating_sub(borders).max(headers.len() * 4);
    let natural: Vec<usize> = (0..headers.len())
        .map(|i| {
            rows.iter()
                .map(|r| r.get(i).map_or(0, |c| c.chars().count()))
                .chain([headers[i].chars().count()])
                .max()
                .unwrap_or(0)
        })
        .collect();
    let mut limits = vec![0usize; headers.len()];
    let mut left = avail;
    let mut open: Vec<usize> = (0..headers.len()).collect();
    loop {
        let share = left / open.len().max(1);
        let (fits, wide): (Vec<usize>, Vec<usize>) =
            open.iter().partition(|&&i| natural[i] <= share);
        if fits.is_empty() {
            for &i in &wide {
                limits[i] = share.max(4);
            }
            break;
        }
        for &i in &fits {
            limits[i] = natural[i];
            left -= natural[i];
        }
        open = wide;
        if open.is_empty() {
            break;
        }
    }
    let cut = |s: &str, n: usize| -> String {
        if s.chars().count() <= n {
            s.to_string()
        } else {
            let mut t: String = s.chars().take(n.saturating_sub(1)).collect();
            t.push('…');
            t
        }
    };
    let rows: Vec<Vec<String>> = rows
        .iter()
        .map(|r| {
            r.iter()
                .enumerate()
                .map(|(i, c)| cut(&c.replace('\n', " "), limits[i]))
                .collect()
        })
        .collect();
    table::render_table(headers, &rows)
}

#[derive(Debug, clap::Subcommand)]
pub enum ResourcesCommand {
    /// List the resources recorded in the state.
    List {
        #[command(flatten)]
        state: StateArgs,
        /// `table` or `json`.
        #[arg(short, long, value_enum, default_value_t = ListFormat::Table)]
        format: ListFormat,
    },
    /// Print a resource's outputs (secrets included: this is your local state).
    GetOutputs {
        /// The resource uid, e.g. postgres.default#hello.db
        uid: String,
        #[command(flatten)]
        state: StateArgs,
        /// `json`, `yaml`, or a Go template over the outputs, e.g. '{{.host}}:{{.port}}' (as
        /// score-compose and score-k8s).
        #[arg(short, long, value_name = "FORMAT", default_value = "json")]
        format: String,
    },
    /// Drop a resource from the state, so the provisioner that now matches it takes over on the
    /// next generate (its stored state, e.g. a generated password, is lost).
    Remove {
        /// The resource uid, e.g. postgres.default#hello.db
        uid: String,
        #[command(flatten)]
        state: StateArgs,
    },
}

impl ResourcesCommand {
    /// `--format json` prints errors as JSON too (unless --message-format says otherwise).
    pub fn message_format(&self) -> Option<Format> {
        let json = match self {
            ResourcesCommand::List { format, .. } => *format == ListFormat::Json,
            ResourcesCommand::GetOutputs { format, .. } => format == "json",
            ResourcesCommand::Remove { .. } => false,
        };
        json.then_some(Format::Json)
    }
}

#[derive(Debug, Clone, clap::Args)]
pub struct StateArgs {
    /// Target whose state to read (default: the project's one target, else compose).
    #[arg(long, value_parser = clap::builder::PossibleValuesParser::new(row::names()))]
    target: Option<String>,
    /// The state directory.
    #[arg(long, value_name = "DIR", default_value = ".score-gen")]
    state_dir: PathBuf,
}

pub fn resources(cmd: &ResourcesCommand) -> Result<(), Diagnostics> {
    let (args, what) = match cmd {
        ResourcesCommand::List { state, .. } => (state, "resources list"),
        ResourcesCommand::GetOutputs { state, .. } => (state, "resources get-outputs"),
        ResourcesCommand::Remove { state, .. } => (state, "resources remove"),
    };
    let name = project_target(args.target.as_deref(), &args.state_dir, what)?;
    let sd = StateDir::open_dir(
        &args.state_dir.join(name),
        score_core::host::DEFAULT_LOCK_TIMEOUT,
    )
    .map_err(|e| io_diag(&args.state_dir.display().to_string(), e))?;
    let mut st = sd.load()?;
    match cmd {
        ResourcesCommand::List { format, .. } => list_resources(&st, *format),
        ResourcesCommand::GetOutputs { uid, format, .. } => {
            get_outputs(&st, uid, format, &format!("the {name}"))
        }
        ResourcesCommand::Remove { uid, .. } => {
            if st.resources.remove(uid).is_none() {
                return Err(unknown_resource(&st, uid, &format!("the {name}")));
            }
            sd.save(&st)
                .map_err(|e| io_diag(&sd.state_path().display().to_string(), e))?;
            crate::render::note!(
                "removed {uid} from {}: the next generate provisions it afresh",
                sd.state_path().display()
            );
            Ok(())
        }
    }
}

/// `resources list`.
pub fn list_resources(st: &score_core::State, format: ListFormat) -> Result<(), Diagnostics> {
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
    match format {
        ListFormat::Json => {
            // `outputs`: the output names, sorted (score-compose and score-k8s list them too).
            let list: Vec<_> = st
                .resources
                .iter()
                .map(|(uid, r)| {
                    let mut keys: Vec<&String> = r.outputs.keys().collect();
                    keys.sort();
                    serde_json::json!({"uid": uid, "provisioner": r.provisioner,
                        "source_workload": r.source_workload, "outputs": keys})
                })
                .collect();
            println!("{}", table::render_json(&serde_json::Value::Array(list)));
        }
        ListFormat::Table => print!(
            "{}",
            fit_table(&["Uid", "Provisioner", "Source workload", "Outputs"], &rows)
        ),
    }
    Ok(())
}

/// `resources get-outputs UID --format F`; `whose` names the state in the error
/// (`the k8s`, `score-k8s`).
pub fn get_outputs(
    st: &score_core::State,
    uid: &str,
    format: &str,
    whose: &str,
) -> Result<(), Diagnostics> {
    match st.resources.get(uid) {
        Some(r) => print_outputs(&r.outputs, format, &st.seed),
        None => Err(unknown_resource(st, uid, whose)),
    }
}

/// No resource `uid` in the state.
pub fn unknown_resource(st: &score_core::State, uid: &str, whose: &str) -> Diagnostics {
    let known = if st.resources.is_empty() {
        "the state has no resources yet: run generate first".to_string()
    } else {
        format!(
            "known resources: {}",
            st.resources.keys().cloned().collect::<Vec<_>>().join(", ")
        )
    };
    Diagnostic::new(
        Code::StateUnknownResource,
        format!("no resource '{uid}' in {whose} state"),
    )
    .with_help(known)
    .into()
}

/// `resources get-outputs --format`: `json`, `yaml`, or a Go template over the outputs map (a
/// newline is added when the template does not end with one, as score-k8s does).
fn print_outputs(
    outputs: &serde_json::Map<String, serde_json::Value>,
    format: &str,
    seed: &str,
) -> Result<(), Diagnostics> {
    use score_core::provision::gotemplate::{functions, GoTemplate, RenderContext};
    let value = serde_json::Value::Object(outputs.clone());
    let text = match format {
        "json" => format!("{}\n", table::render_json(&value)),
        "yaml" => table::render_yaml(&value),
        template => {
            let bad = |what: &str, e: score_core::provision::gotemplate::GoError| {
                let at = match (e.line, e.column) {
                    (Some(l), Some(c)) => format!(" (line {l}, column {c})"),
                    _ => String::new(),
                };
                Diagnostic::new(
                    Code::Usage,
                    format!("--format: cannot {what} the template{at}: {}", e.message),
                )
                .with_help("use json, yaml, or a Go template such as '{{.host}}:{{.port}}'")
            };
            let parsed =
                GoTemplate::parse(template, &functions(&[]), None).map_err(|e| bad("parse", e))?;
            let ctx = RenderContext {
                random_key: seed.as_bytes(),
                fuel: 10_000_000,
            };
            let mut text = parsed.render(&value, &ctx).map_err(|e| bad("render", e))?;
            if !text.ends_with('\n') {
                text.push('\n');
            }
            text
        }
    };
    use std::io::Write;
    std::io::stdout()
        .write_all(text.as_bytes())
        .map_err(|e| io_diag("<stdout>", e).into())
}
