//! `score-compose` and `score-k8s`: the tools' command lines over score-gen (issue 23).
//!
//! The commands, flags, defaults and output names are score-compose's and score-k8s's
//! (`init`, `generate`, `provisioners list`, `resources list|get-outputs`), and so is the project
//! folder: `.score-compose/` or `.score-k8s/` holding `state.yaml` in score-go's framework
//! format (`workloads`, `resources`, `shared_state` and each tool's extras) and the
//! `*.provisioners.yaml` files, tried in file-name order. A folder the tools wrote is read as they
//! read it and written back in their format, so the tool can still read it; what score-gen adds
//! lives in a file of its own beside it (`score-gen.yaml`: the seed of its generated values and
//! which outputs are secrets or expressions), see [`state`] and docs/migrating.md.

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{CommandFactory, Parser, Subcommand};
use score_core::host::StateDir;
use score_core::{Code, Diagnostic, Diagnostics};

use crate::commands::{self, ListFormat};
use crate::files::io_diag;
use crate::generate::{self, CommonArgs};
use crate::render::Format;
use crate::row::{self, TargetFlags};

pub mod folder;
pub mod state;

use folder::{store_provisioner_files, Tool, DEFAULT_PROVISIONERS};

/// Flags every command of both tools takes.
#[derive(Debug, clap::Args)]
struct Globals {
    /// Mute any logging output.
    #[arg(long, global = true, help_heading = "Global options")]
    quiet: bool,
    /// Increase log verbosity and detail by specifying this flag one or more times.
    #[arg(short, long, global = true, action = clap::ArgAction::Count, help_heading = "Global options")]
    verbose: u8,
    /// How to print errors: `human` or `json` (score-gen's).
    #[arg(
        long,
        global = true,
        value_enum,
        value_name = "FORMAT",
        help_heading = "Global options"
    )]
    message_format: Option<Format>,
}

/// score-compose's command line.
#[derive(Debug, Parser)]
#[command(
    name = "score-compose",
    version = concat!(env!("CARGO_PKG_VERSION"), " (score-gen)"),
    about = "SCORE to docker-compose translator (score-gen's implementation of score-compose's command line)"
)]
struct ComposeCli {
    #[command(flatten)]
    globals: Globals,
    #[command(subcommand)]
    command: ComposeCommand,
}

/// score-k8s's command line.
#[derive(Debug, Parser)]
#[command(
    name = "score-k8s",
    version = concat!(env!("CARGO_PKG_VERSION"), " (score-gen)"),
    about = "score-k8s converts Score files into Kubernetes manifests (score-gen's implementation of score-k8s's command line)"
)]
struct K8sCli {
    #[command(flatten)]
    globals: Globals,
    #[command(subcommand)]
    command: K8sCommand,
}

#[derive(Debug, Subcommand)]
enum ComposeCommand {
    /// Initialise a new score-compose project with local state directory and score file
    #[command(after_help = COMPOSE_INIT_EXAMPLES)]
    Init(ComposeInit),
    /// Convert one or more Score files into a Docker compose manifest
    #[command(after_help = COMPOSE_GENERATE_EXAMPLES)]
    Generate(ComposeGenerate),
    /// Subcommands related to provisioners
    #[command(subcommand)]
    Provisioners(ProvisionersCommand),
    /// Subcommands related to provisioned resources
    #[command(subcommand)]
    Resources(ResourcesCommand),
    /// Generate the autocompletion script for the specified shell
    Completion {
        /// The shell.
        #[arg(value_enum)]
        shell: clap_complete::Shell,
    },
}

#[derive(Debug, Subcommand)]
enum K8sCommand {
    /// Initialise a new score-k8s project with local state directory and sample score file
    #[command(after_help = K8S_INIT_EXAMPLES)]
    Init(K8sInit),
    /// Convert one or more Score files into a set of Kubernetes manifests
    #[command(after_help = K8S_GENERATE_EXAMPLES)]
    Generate(K8sGenerate),
    /// Subcommands related to provisioners
    #[command(subcommand)]
    Provisioners(ProvisionersCommand),
    /// Subcommands related to provisioned resources
    #[command(subcommand)]
    Resources(ResourcesCommand),
    /// Generate the autocompletion script for the specified shell
    Completion {
        /// The shell.
        #[arg(value_enum)]
        shell: clap_complete::Shell,
    },
}

const COMPOSE_INIT_EXAMPLES: &str = "\
Examples:
  # Define a score file to generate
  score-compose init --file score2.yaml

  # Or override the docker compose project name
  score-compose init --project score-compose2

  # Or disable the default score file generation if you already have a score file
  score-compose init --no-sample

  # Install a provisioner file (kept in .score-compose/, tried before the defaults)
  score-compose init --provisioners ./custom.provisioners.yaml";

const COMPOSE_GENERATE_EXAMPLES: &str = "\
Examples:
  # Specify Score files
  score-compose generate score.yaml *.score.yaml

  # Regenerate without adding new score files
  score-compose generate

  # Provide overrides when one score file is provided
  score-compose generate score.yaml --override-file=./overrides.score.yaml --override-property=metadata.key=value

  # Publish a port exposed by a workload for local testing
  score-compose generate score.yaml --publish 8080:my-workload:80";

const K8S_INIT_EXAMPLES: &str = "\
Examples:
  # Initialise a new score-k8s project
  score-k8s init

  # Or disable the default score file generation if you already have a score file
  score-k8s init --no-sample

  # Install a provisioner file (kept in .score-k8s/, tried before the defaults)
  score-k8s init --provisioners ./custom.provisioners.yaml";

const K8S_GENERATE_EXAMPLES: &str = "\
Examples:
  # Specify Score files
  score-k8s generate score.yaml *.score.yaml

  # Regenerate without adding new score files
  score-k8s generate

  # Provide a namespace and its manifest
  score-k8s generate score.yaml --namespace=test-ns --generate-namespace";

/// `init` flags both tools share.
#[derive(Debug, clap::Args)]
struct InitCommon {
    /// The score file to initialize
    #[arg(short, long, default_value = "./score.yaml")]
    file: PathBuf,
    /// Disable generation of the sample score file
    #[arg(long)]
    no_sample: bool,
    /// Provisioner files to install. May be specified multiple times. Supports URI retrieval.
    #[arg(long, value_name = "URI", value_parser = generate::non_empty_uri)]
    provisioners: Vec<String>,
    /// Patching template files to include. May be specified multiple times. Supports URI retrieval.
    #[arg(long = "patch-templates", value_name = "URI", value_parser = generate::non_empty_uri)]
    patch_templates: Vec<String>,
    /// Disable generation of the default provisioners file
    #[arg(long)]
    no_default_provisioners: bool,
    /// Install a provisioner file from outside the project (http, git, stdin) that is not pinned
    /// with #sha256= although it runs cmd:// programs (score-gen's; spec/security.md).
    #[arg(long)]
    allow_remote_commands: bool,
}

#[derive(Debug, clap::Args)]
struct ComposeInit {
    #[command(flatten)]
    common: InitCommon,
    /// Set the name of the docker compose project (defaults to the current directory name)
    #[arg(short, long)]
    project: Option<String>,
}

#[derive(Debug, clap::Args)]
struct K8sInit {
    #[command(flatten)]
    common: InitCommon,
}

/// `generate` flags both tools share.
#[derive(Debug, clap::Args)]
struct GenerateCommon {
    /// Score files to add to the project (none: regenerate the project).
    #[arg(value_name = "FILE")]
    files: Vec<PathBuf>,
    /// An optional file of Score overrides to merge in
    #[arg(long = "overrides-file", alias = "override-file", value_name = "FILE")]
    overrides_file: Option<PathBuf>,
    /// An optional set of path=key overrides to set or remove
    #[arg(long = "override-property", value_name = "PATH=VALUE")]
    override_property: Vec<String>,
    /// An optional container image to use for any container with image == '.'
    #[arg(short, long)]
    image: Option<String>,
    /// Let provisioner files from outside the project that are not pinned run their cmd://
    /// programs (score-gen's; spec/security.md).
    #[arg(long)]
    allow_remote_commands: bool,
    /// Allow files[].source and bind mounts outside the project (score-gen's).
    #[arg(long)]
    allow_outside_paths: bool,
}

#[derive(Debug, clap::Args)]
struct ComposeGenerate {
    #[command(flatten)]
    common: GenerateCommon,
    /// The output file to write the composed compose file to
    #[arg(short, long, default_value = "compose.yaml")]
    output: PathBuf,
    /// An optional build context to use for the given container --build=container=./dir or --build=container={"context":"./dir"}
    #[arg(long, value_name = "CONTAINER=CONTEXT")]
    build: Vec<String>,
    /// Location to store a skeleton .env file for compose - this will override existing content
    #[arg(long, value_name = "FILE")]
    env_file: Option<PathBuf>,
    /// An optional set of HOST_PORT:<ref>:CONTAINER_PORT to publish on the host system.
    #[arg(short, long, value_name = "HOST_PORT:REF:PORT")]
    publish: Vec<String>,
}

#[derive(Debug, clap::Args)]
struct K8sGenerate {
    #[command(flatten)]
    common: GenerateCommon,
    /// The output manifests file to write the manifests to
    #[arg(short, long, default_value = "manifests.yaml")]
    output: PathBuf,
    /// The output format for the manifests: 'yaml' or 'kyaml'
    #[arg(long, value_enum, default_value_t = commands::ManifestFormat::Yaml)]
    format: commands::ManifestFormat,
    /// An optional namespace to set for all generated resources
    #[arg(short, long)]
    namespace: Option<String>,
    /// If true, generate a namespace manifest. Requires --namespace to be set
    #[arg(long, requires = "namespace")]
    generate_namespace: bool,
}

#[derive(Debug, Subcommand)]
enum ProvisionersCommand {
    /// List the provisioners
    List {
        /// Format of the output: table (default), json
        #[arg(short, long, value_enum, default_value_t = ListFormat::Table)]
        format: ListFormat,
    },
}

#[derive(Debug, Subcommand)]
enum ResourcesCommand {
    /// List the resource uids
    List {
        /// Format of the output: table (default), json
        #[arg(short, long, value_enum, default_value_t = ListFormat::Table)]
        format: ListFormat,
    },
    /// Return the resource outputs
    GetOutputs {
        /// The resource uid.
        uid: String,
        /// Format of the output: json, yaml, or a Go template with sprig functions
        #[arg(short, long, default_value = "json")]
        format: String,
    },
    /// Forget a resource: drop it from the state so the provisioner that now matches it takes
    /// over on the next generate (its stored state, e.g. a generated password, is lost).
    /// score-gen's addition.
    Remove {
        /// The resource uid.
        uid: String,
    },
}

/// Runs `tool`'s command line.
pub fn main(tool: Tool) -> ExitCode {
    let (globals, result) = match tool {
        Tool::Compose => {
            let cli = ComposeCli::parse();
            let g = cli.globals;
            setup(&g);
            let out = output(&g);
            let r = match cli.command {
                ComposeCommand::Init(a) => out.finish(init(tool, &a.common, a.project.as_deref())),
                ComposeCommand::Generate(a) => out.finish(generate_compose(&a)),
                ComposeCommand::Provisioners(c) => out.finish(provisioners(tool, &c)),
                ComposeCommand::Resources(c) => out.finish(resources(tool, &c)),
                ComposeCommand::Completion { shell } => {
                    completion::<ComposeCli>(shell, tool);
                    Ok(())
                }
            };
            (g, r)
        }
        Tool::K8s => {
            let cli = K8sCli::parse();
            let g = cli.globals;
            setup(&g);
            let out = output(&g);
            let r = match cli.command {
                K8sCommand::Init(a) => out.finish(init(tool, &a.common, None)),
                K8sCommand::Generate(a) => out.finish(generate_k8s(&a)),
                K8sCommand::Provisioners(c) => out.finish(provisioners(tool, &c)),
                K8sCommand::Resources(c) => out.finish(resources(tool, &c)),
                K8sCommand::Completion { shell } => {
                    completion::<K8sCli>(shell, tool);
                    Ok(())
                }
            };
            (g, r)
        }
    };
    let _ = globals;
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(code) => ExitCode::from(code),
    }
}

fn setup(g: &Globals) {
    crate::render::VERBOSE.store(g.verbose, std::sync::atomic::Ordering::Relaxed);
    crate::render::QUIET.store(g.quiet, std::sync::atomic::Ordering::Relaxed);
}

fn output(g: &Globals) -> crate::render::Output {
    crate::render::Output::new(
        g.message_format.unwrap_or(Format::Human),
        crate::render::Color::Auto,
    )
}

fn completion<C: CommandFactory>(shell: clap_complete::Shell, tool: Tool) {
    clap_complete::generate(
        shell,
        &mut C::command(),
        tool.program(),
        &mut std::io::stdout(),
    );
}

/// The project folder, which must exist (`init` first, as the tools require).
fn folder(tool: Tool) -> Result<PathBuf, Diagnostics> {
    let dir = PathBuf::from(tool.folder());
    if !dir.join(state::STATE_FILE).is_file() {
        return Err(tool.not_initialised());
    }
    Ok(dir)
}

/// The `CommonArgs` of a run in `tool`'s folder.
fn common_args(tool: Tool, dir: PathBuf, g: Option<&GenerateCommon>) -> CommonArgs {
    CommonArgs {
        files: g.map(|g| g.files.clone()).unwrap_or_default(),
        remove: Vec::new(),
        override_files: g
            .and_then(|g| g.overrides_file.clone())
            .into_iter()
            .collect(),
        override_properties: g.map(|g| g.override_property.clone()).unwrap_or_default(),
        image: g.and_then(|g| g.image.clone()),
        provisioners: Vec::new(),
        state_dir: dir,
        allow_outside_paths: g.is_some_and(|g| g.allow_outside_paths),
        allow_remote_commands: g.is_some_and(|g| g.allow_remote_commands),
        cmd_timeout: 60,
        check: false,
        locked: false,
        frozen: false,
        env_prefix: None,
        tool: Some(tool),
    }
}

fn generate_compose(args: &ComposeGenerate) -> Result<(), Diagnostics> {
    let tool = Tool::Compose;
    let dir = folder(tool)?;
    let mut common = common_args(tool, dir.clone(), Some(&args.common));
    // The tools sort the files they are given.
    common.files.sort();
    if let (Some(env), false) = (&args.env_file, common.allow_outside_paths) {
        crate::files::check_inside_project(env, "--env-file")?;
    }
    let extras = state::Extras::read(&dir)?;
    let flags = TargetFlags {
        project: extras.compose_project.clone(),
        build: args.build.clone(),
        publish: args.publish.clone(),
        env_file: args.env_file.as_ref().map(|e| e.display().to_string()),
        allow_outside_paths: common.allow_outside_paths,
        patch_templates: Some(extras.patch_templates(tool)),
        ..TargetFlags::default()
    };
    generate::run(row::by_name(tool.target()), &flags, &common, &args.output)
}

fn generate_k8s(args: &K8sGenerate) -> Result<(), Diagnostics> {
    let tool = Tool::K8s;
    let dir = folder(tool)?;
    let mut common = common_args(tool, dir.clone(), Some(&args.common));
    common.files.sort();
    let extras = state::Extras::read(&dir)?;
    let flags = TargetFlags {
        namespace: args.namespace.clone(),
        generate_namespace: args.generate_namespace,
        kyaml: args.format == commands::ManifestFormat::Kyaml,
        patch_templates: Some(extras.patch_templates(tool)),
        ..TargetFlags::default()
    };
    generate::run(row::by_name(tool.target()), &flags, &common, &args.output)
}

fn provisioners(tool: Tool, cmd: &ProvisionersCommand) -> Result<(), Diagnostics> {
    let ProvisionersCommand::List { format } = cmd;
    let dir = folder(tool)?;
    let target = row::default_target(tool.target())?;
    commands::list_provisioners(target.as_ref(), &common_args(tool, dir, None), *format)
}

fn resources(tool: Tool, cmd: &ResourcesCommand) -> Result<(), Diagnostics> {
    let dir = folder(tool)?;
    let lock = StateDir::open_dir(&dir, score_core::host::DEFAULT_LOCK_TIMEOUT)
        .map_err(|e| io_diag(&dir.display().to_string(), e))?;
    let (mut st, doc) = state::load(&dir, tool)?;
    match cmd {
        ResourcesCommand::List { format } => commands::list_resources(&st, *format),
        ResourcesCommand::GetOutputs { uid, format } => {
            commands::get_outputs(&st, uid, format, tool.program())
        }
        ResourcesCommand::Remove { uid } => {
            if st.resources.remove(uid).is_none() {
                return Err(commands::unknown_resource(&st, uid, tool.program()));
            }
            state::save(&dir, tool, &doc, &st)?;
            drop(lock);
            crate::render::note!(
                "removed {uid} from {}: the next generate provisions it afresh",
                dir.join(state::STATE_FILE).display()
            );
            Ok(())
        }
    }
}

/// `init`: as the tools do it. A new folder gets a fresh state and (unless
/// `--no-default-provisioners`) the default provisioners file; an existing one keeps everything,
/// taking only a new `--project` and `--patch-templates`; an existing provisioners file is never
/// replaced; `--provisioners` files are stored under the name the tools give them, newest first.
fn init(tool: Tool, args: &InitCommon, project: Option<&str>) -> Result<(), Diagnostics> {
    if let Some(p) = project
        && clean_project_name(p) != p
    {
        return Err(Diagnostic::new(
            Code::Usage,
            "invalid value for --project, it must match ^[a-z0-9][a-z0-9_-]*$",
        )
        .with_help("lower-case letters, digits, '_' and '-', starting with a letter or digit")
        .into());
    }
    let templates = if args.patch_templates.is_empty() {
        None
    } else {
        Some(crate::patches::fetch_checked(
            &args.patch_templates,
            tool.target(),
        )?)
    };
    let dir = PathBuf::from(tool.folder());
    let here = PathBuf::from(".");
    let mut files: Vec<(PathBuf, Vec<u8>, PathBuf)> = Vec::new();
    let mut notes = Vec::new();
    let existing = dir.join(state::STATE_FILE).is_file();
    // Lock the folder (created here when new) for the rest of the command.
    let lock = StateDir::open_dir(&dir, score_core::host::DEFAULT_LOCK_TIMEOUT)
        .map_err(|e| io_diag(&dir.display().to_string(), e))?;
    let (st, mut doc) = if existing {
        notes.push(format!(
            "found existing state directory '{}'",
            dir.display()
        ));
        state::load(&dir, tool)?
    } else {
        let cwd = std::env::current_dir().map_err(|e| io_diag(".", e))?;
        let name = cwd
            .file_name()
            .map(|n| clean_project_name(&n.to_string_lossy()))
            .unwrap_or_default();
        (state::fresh_state(), state::fresh_doc(tool, &name))
    };
    let mut changed = !existing;
    if let (Some(p), Tool::Compose) = (project, tool)
        && doc.get("compose_project").and_then(|v| v.as_str()) != Some(p)
    {
        doc.insert("compose_project".into(), p.into());
        changed = true;
    }
    if let Some(t) = templates {
        let texts: Vec<serde_json::Value> = t.into_iter().map(|t| t.text.into()).collect();
        doc.insert("patching_templates".into(), texts.into());
        changed = true;
    }
    if !existing {
        let defaults = dir.join(DEFAULT_PROVISIONERS);
        if args.no_default_provisioners {
            notes.push("skipping the default provisioners file (--no-default-provisioners)".into());
        } else if defaults.exists() {
            notes.push(format!(
                "default provisioners file '{}' already exists, keeping it",
                defaults.display()
            ));
        } else {
            let target = row::default_target(tool.target())?;
            files.push((
                defaults,
                target.default_provisioners().as_bytes().to_vec(),
                here.clone(),
            ));
        }
    }
    if !args.file.exists() {
        if args.no_sample {
            notes.push(format!(
                "initial Score file '{}' does not exist - and sample generation is disabled",
                args.file.display()
            ));
        } else {
            files.push((
                args.file.clone(),
                commands::SAMPLE.as_bytes().to_vec(),
                here.clone(),
            ));
        }
    }
    let stored = store_provisioner_files(&args.provisioners, args.allow_remote_commands, &dir)?;
    files.extend(stored.files.iter().cloned());
    if changed {
        files.push((
            dir.join(state::STATE_FILE),
            state::render(&dir, tool, &doc, &st)?,
            here.clone(),
        ));
    }
    let writes = generate::prepare_writes(files.clone(), &[])?;
    if changed {
        state::save_extras(&dir, &st)?;
    }
    writes.commit()?;
    stored.remove_stale()?;
    drop(lock);
    for n in notes {
        crate::render::note!("{n}");
    }
    for (p, _, _) in &files {
        crate::render::note!("wrote {}", p.display());
    }
    Ok(())
}

/// score-compose's project name rule: lower case; letters and digits kept, `_` and `-` kept
/// after the first character, everything else dropped.
pub fn clean_project_name(input: &str) -> String {
    let mut first = true;
    input
        .to_lowercase()
        .chars()
        .filter(|&c| {
            let keep =
                c.is_ascii_lowercase() || c.is_ascii_digit() || (!first && (c == '_' || c == '-'));
            first = false;
            keep
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn project_names_are_cleaned_as_score_compose_cleans_them() {
        assert_eq!(clean_project_name("My Project_1"), "myproject_1");
        assert_eq!(clean_project_name("-abc"), "abc");
        assert_eq!(clean_project_name("_a-b"), "a-b");
        assert_eq!(clean_project_name("score-compose2"), "score-compose2");
    }
}
