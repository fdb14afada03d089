//! `score-gen compose|k8s|terraform FILE...`: the shared generate flow.
//!
//! read Score files → load (overrides, --image) → state dir (locked) → provisioners (user URIs
//! first, then the target's defaults) → engine → target emit → write outputs + state atomically.

use std::path::{Path, PathBuf};
use std::time::Duration;

use score_core::host::fetch::{self, FetchOptions};
use score_core::host::fsutil;
use score_core::host::{FsSources, StateDir};
use score_core::input::Limits;
use score_core::input::ProvisionerFile;
use score_core::load::yaml;
use score_core::project::{WorkloadInput, WorkloadStore};
use score_core::target::Artefacts;
use score_core::Target;
use score_core::{load_workload, LoadOptions, Project};
use score_target_compose::WorkloadExtras;

use crate::files::{io_diag, linked_out_of_project, parent_dir, read_input};
use crate::row::{TargetFlags, TargetInfo};
use score_core::{Code, Diagnostic, Diagnostics};
use score_core::{CommandPolicy, Environment, ProvisionOptions, ProvisionerSet, State};
use std::collections::BTreeMap;

/// Flags every target shares.
#[derive(Debug, Clone, clap::Args)]
pub struct CommonArgs {
    /// Score files, one workload each. They join the target's project (a workload of the same
    /// name is replaced); the output covers every workload of the project. Without files, the
    /// project's workloads are regenerated from the state.
    #[arg(value_name = "FILE")]
    pub files: Vec<PathBuf>,
    /// Drop a workload from the project before generating (repeatable); its resources stay in
    /// the state.
    #[arg(long = "remove", value_name = "WORKLOAD")]
    pub remove: Vec<String>,
    /// Deep-merge this YAML file over the workload before validation (one Score file only).
    #[arg(long = "override-file", alias = "overrides-file", value_name = "FILE")]
    pub override_files: Vec<PathBuf>,
    /// Set or delete (empty VALUE) one property: PATH=VALUE, e.g. containers.web.image=nginx:1.27.
    #[arg(long = "override-property", value_name = "PATH=VALUE")]
    pub override_properties: Vec<String>,
    /// Image for containers whose image is `.` (one Score file only).
    #[arg(short, long, value_name = "IMAGE")]
    pub image: Option<String>,
    /// Extra provisioner file or directory URI, tried before the defaults (repeatable; first wins).
    /// Schemes: path, file://, http(s)://, git-https://, git-ssh://, git-file://; pin with #sha256=HEX.
    #[arg(long = "provisioners", value_name = "URI", value_parser = non_empty_uri)]
    pub provisioners: Vec<String>,
    /// The state directory (created on first use).
    #[arg(long, value_name = "DIR", default_value = ".score-gen")]
    pub state_dir: PathBuf,
    /// Allow `files[].source` paths outside the Score file's directory, and compose volumes
    /// that bind-mount host paths outside the project.
    #[arg(long)]
    pub allow_outside_paths: bool,
    /// Let provisioner files from outside the project (http, git, stdin) that are not pinned with
    /// #sha256= run their cmd:// programs. Without it only the project's own files and pinned
    /// files may run programs (spec/security.md).
    #[arg(long)]
    pub allow_remote_commands: bool,
    /// Seconds a `cmd://` provisioner may run (1 to 86400).
    #[arg(long, value_name = "SECONDS", default_value_t = 60,
          value_parser = clap::value_parser!(u64).range(1..=86_400))]
    pub cmd_timeout: u64,
    /// `score-compose`/`score-k8s`: `state_dir` is that tool's folder, in its format
    /// (`crate::tool`); `None`: score-gen's `<state-dir>/<target>/`.
    #[arg(skip)]
    pub tool: Option<crate::tool::folder::Tool>,
    /// Compute everything and write nothing: exit 0 when every output on disk equals what this
    /// run would write, 3 with a unified diff per file on stderr when not (spec/cli.md).
    #[arg(long)]
    pub check: bool,
    /// Fail (exit 1, nothing written) when the run would change the state's resources: a new
    /// resource, a new generated value, a changed provisioner. Edited workloads are fine.
    #[arg(long)]
    pub locked: bool,
    /// --locked, and the state directory is only read: no lock file, no state written (a
    /// read-only checkout, e.g. the Argo CD plugin). The state file must exist.
    #[arg(long)]
    pub frozen: bool,
    /// Environment references (`${resources.<env>.K}`) read PREFIX + K, and see no other
    /// variable: `--env-prefix ARGOCD_ENV_` reads an Argo CD application's `env` entries.
    #[arg(long, value_name = "PREFIX")]
    pub env_prefix: Option<String>,
}

impl CommonArgs {
    /// Whether the state directory is only read (--check, --frozen).
    pub fn read_only_state(&self) -> bool {
        self.check || self.frozen
    }
}

/// Runs the whole flow for one target and writes its artefacts under `output`
/// (a file for the primary artefact; extra artefacts go beside it). `-` writes the primary to stdout.
pub fn run(
    target: &TargetInfo,
    flags: &TargetFlags,
    common: &CommonArgs,
    output: &Path,
) -> Result<(), Diagnostics> {
    check_override_usage(common)?;
    check_build_usage(common, flags)?;
    check_check_usage(common, output)?;
    // Flag errors before any file is read.
    (target.build)(flags)?;
    let workloads = load_all(common)?;
    // The workloads move into the project: one copy of each.
    let mut compiled = compile_target(target, flags, common, workloads)?;
    let mut read = inputs(common);
    read.extend(compiled.inputs.iter().cloned());
    if common.check {
        let base = parent_dir(output);
        let planned = crate::drift::Planned {
            files: plan(output, &compiled.artefacts),
            modes: modes(&base, &compiled.artefacts),
            directories: (compiled.artefacts.directories.iter())
                .map(|d| base.join(d))
                .collect(),
            secrets: &compiled.secrets,
        };
        return crate::drift::check(&[planned], &read);
    }
    let writes = prepare_outputs(output, &mut compiled.artefacts, &read)?;
    // The state first: a crash between the two leaves outputs from the previous state, never
    // outputs holding values (passwords) that the next run would replace.
    compiled.save_state()?;
    let result = writes.commit_after_state();
    compiled.release();
    result
}

/// `--check` compares files: `-o -` names none.
pub fn check_check_usage(common: &CommonArgs, output: &Path) -> Result<(), Diagnostics> {
    if common.check && output == Path::new("-") {
        return Err(Diagnostic::new(
            Code::Usage,
            "--check compares the outputs on disk, and -o - names no file",
        )
        .with_help("give the output path the files were generated to (-o FILE)")
        .into());
    }
    Ok(())
}

/// Overrides and `--image` name one workload, so they need exactly one Score file.
pub fn check_override_usage(common: &CommonArgs) -> Result<(), Diagnostics> {
    if common.files.len() != 1
        && (!common.override_files.is_empty()
            || !common.override_properties.is_empty()
            || common.image.is_some())
    {
        return Err(Diagnostic::new(
            Code::Usage,
            "--override-file, --override-property and --image apply to exactly one Score file",
        )
        .with_help(
            "give the one Score file they apply to (the project keeps the overrides a workload was \
             added with); run score-gen once per workload that needs overrides",
        )
        .into());
    }
    Ok(())
}

/// `--build` belongs to one workload (the project remembers it with the workload), so it needs
/// exactly one Score file, as in score-compose.
pub fn check_build_usage(common: &CommonArgs, flags: &TargetFlags) -> Result<(), Diagnostics> {
    if !flags.build.is_empty() && common.files.len() != 1 {
        return Err(Diagnostic::new(
            Code::Usage,
            "--build applies to exactly one Score file",
        )
        .with_help(
            "give the one Score file whose containers it builds (the project keeps a workload's \
             builds from the run that added it); run score-gen once per workload that needs one",
        )
        .into());
    }
    Ok(())
}

/// One target's result, not yet written: its artefacts, and its locked state directory with the
/// state to save once the artefacts are on disk.
pub struct Compiled {
    /// What the target emitted.
    pub artefacts: Artefacts,
    /// `None` when the state is only read (--check, --frozen).
    state_dir: Option<StateDir>,
    /// The new state, for a tool folder (saved in the tool's format) or a read-only run.
    state: Option<State>,
    /// The new state's text, for score-gen's own state directory.
    state_text: Option<String>,
    /// A tool folder's state file as read, to write back in its format.
    tool: Option<(crate::tool::folder::Tool, crate::tool::state::Doc)>,
    /// Values a --check diff must not print.
    pub secrets: crate::drift::Secrets,
    /// The files the run read besides the Score and override files (state, lock, recorded
    /// Score files, provisioner and patch files): no output may replace them.
    pub inputs: Vec<PathBuf>,
}

impl Compiled {
    /// Unlocks the state directory, leaving the rest to the end of the process (not freed
    /// allocation by allocation: the CLI exits right after a run).
    pub fn release(self) {
        let Compiled {
            artefacts,
            state_dir,
            state,
            state_text,
            tool,
            secrets,
            inputs,
        } = self;
        drop(state_dir);
        std::mem::forget((artefacts, state, state_text, tool, secrets, inputs));
    }

    /// Writes the new state (atomically) into the target's state directory.
    pub fn save_state(&self) -> Result<(), Diagnostics> {
        let Some(state_dir) = &self.state_dir else {
            return Ok(());
        };
        let io = |e: std::io::Error| -> Diagnostics {
            Diagnostic::new(Code::StateIo, format!("cannot write state: {e}")).into()
        };
        match (&self.state, &self.state_text, &self.tool) {
            (Some(state), _, Some((tool, doc))) => {
                crate::tool::state::save(state_dir.dir(), *tool, doc, state)
            }
            (Some(state), _, None) => state_dir.save(state).map_err(io),
            (None, Some(text), _) => state_dir.save_text(text).map_err(io),
            (None, None, _) => Ok(()),
        }
    }
}

/// Provisions, substitutes and emits already-loaded `workloads` for `target`, with the target's
/// own state directory (`<state-dir>/<target>`, locked until the result is dropped) and
/// provisioners.
pub fn compile_target(
    info: &TargetInfo,
    flags: &TargetFlags,
    common: &CommonArgs,
    given: Vec<WorkloadInput>,
) -> Result<Compiled, Diagnostics> {
    let state_dir = open_state(info, common, &given)?;
    compile_in(info, flags, common, given, state_dir)
}

/// The target's state directory (`<state-dir>/<target>`), created and locked (until the
/// returned value is dropped). A run of several targets (`all`) opens them one after the other
/// in one fixed order (`TARGETS`) before compiling any, so concurrent runs cannot each hold a
/// lock the other waits for.
pub fn open_state(
    info: &TargetInfo,
    common: &CommonArgs,
    given: &[WorkloadInput],
) -> Result<Option<StateDir>, Diagnostics> {
    let dir = state_dir_of(common, info.name);
    let state_file = dir.join(score_core::host::STATE_FILE);
    if given.is_empty() && !state_file.exists() {
        // Nothing to regenerate: say so without creating the state directory.
        return Err(no_workloads(info.name));
    }
    if common.locked && !common.check && !state_file.exists() {
        // Checked before the state directory is created.
        return Err(crate::drift::missing_state(&state_file));
    }
    if common.read_only_state() {
        // --check, --frozen: the state is only read, without the lock (compile_in).
        return Ok(None);
    }
    StateDir::open_dir(&dir, score_core::host::DEFAULT_LOCK_TIMEOUT)
        .map(Some)
        .map_err(|e| {
            Diagnostic::new(
                Code::StateIo,
                format!("cannot open state directory {}: {e}", dir.display()),
            )
            .into()
        })
}

/// [`compile_target`] with its state directory already open and locked ([`open_state`]), or
/// `None` when the state is only read (--check, --frozen).
pub fn compile_in(
    info: &TargetInfo,
    flags: &TargetFlags,
    common: &CommonArgs,
    given: Vec<WorkloadInput>,
    state_dir: Option<StateDir>,
) -> Result<Compiled, Diagnostics> {
    let provisioners = target_provisioners(info, flags, common)?;
    prepare(info, flags, common, given, state_dir, provisioners)?.finish()
}

/// A target's provisioners ([`load_provisioners`]) and the local files they were read from (no
/// output may replace them).
pub struct Provisioners {
    set: ProvisionerSet,
    files: Vec<PathBuf>,
}

impl Provisioners {
    /// Whether any entry runs a program (`cmd://`).
    pub fn run_programs(&self) -> bool {
        self.set.iter().any(|p| p.cmd().is_some())
    }
}

/// Loads the provisioners of `info`'s target as `flags` build it: user URIs, the state
/// directory's files, the target's defaults.
pub fn target_provisioners(
    info: &TargetInfo,
    flags: &TargetFlags,
    common: &CommonArgs,
) -> Result<Provisioners, Diagnostics> {
    let target = (info.build)(flags)?;
    let mut files = Vec::new();
    let set = load_provisioners_noting(target.as_ref(), common, &mut files)?;
    Ok(Provisioners { set, files })
}

/// One target loaded and checked, not yet provisioned: its project (the given workloads and the
/// ones its state remembers), its target and provisioners ([`prepare`]).
pub struct Prepared<'a> {
    info: &'a TargetInfo,
    common: &'a CommonArgs,
    /// The names of the workloads of this run's Score files (the workloads are in `project`).
    given: Vec<String>,
    flags: TargetFlags,
    target: crate::row::BoxedTarget,
    project: Project,
    state_dir: Option<StateDir>,
    state_file: PathBuf,
    tool: Option<(crate::tool::folder::Tool, crate::tool::state::Doc)>,
    inputs: Vec<PathBuf>,
    locked: Option<crate::drift::Locked>,
    old_resources: Option<BTreeMap<String, score_core::project::ResourceState>>,
    provisioners: ProvisionerSet,
    options: ProvisionOptions,
    secrets: score_core::project::Secrets,
}

/// Loads `info`'s state and project (the given workloads and the stored ones) and builds its
/// target, with its state directory already open and locked ([`open_state`]), or `None` when
/// the state is only read (--check, --frozen). Nothing is provisioned yet ([`Prepared::finish`]).
pub fn prepare<'a>(
    info: &'a TargetInfo,
    flags: &TargetFlags,
    common: &'a CommonArgs,
    given: Vec<WorkloadInput>,
    state_dir: Option<StateDir>,
    provisioners: Provisioners,
) -> Result<Prepared<'a>, Diagnostics> {
    let dir = state_dir_of(common, info.name);
    let state_file = dir.join(score_core::host::STATE_FILE);
    let (state, tool) = match (common.tool, &state_dir) {
        // A tool folder's state.yaml is in that tool's format (read only: written by save_state).
        (Some(tool), _) => {
            if state_dir.is_none() && common.frozen && !state_file.exists() {
                return Err(crate::drift::missing_state(&state_file));
            }
            let (state, doc) = crate::tool::state::load(&dir, tool)?;
            (state, Some((tool, doc)))
        }
        (None, Some(d)) => (d.load()?, None),
        (None, None) => (crate::drift::read_state(&state_file, common.frozen)?, None),
    };
    // What this run reads besides its Score and override files, which no output may replace:
    // the state, its lock, the Score files the state records, the patch templates, and the
    // provisioner files.
    let mut inputs = vec![
        state_file.clone(),
        dir.join(".lock"),
        crate::patches::store_path(&common.state_dir, info.name),
    ];
    inputs.extend(
        state
            .workloads
            .values()
            .filter_map(|w| w.file.clone().map(PathBuf::from)),
    );
    if tool.is_some() {
        inputs.push(dir.join(crate::tool::state::EXTRAS_FILE));
    }
    let locked = (common.locked || common.frozen).then(|| crate::drift::Locked::before(&state));
    let old_resources = common.check.then(|| state.resources.clone());
    let given_names: Vec<String> = (given.iter())
        .map(|w| w.loaded.workload.name().to_string())
        .collect();
    let mut project = project_of(info.name, common, given, state, &state_file)?;
    // The target, with each workload's builds (a target that reads --build): this run's
    // --build for its one Score file (check_build_usage), the state's for the others.
    let mut flags = flags.clone();
    if !info.builds {
        flags.build.clear();
    }
    if let ([name], false) = (&given_names[..], flags.build.is_empty()) {
        let builds = crate::row::parse_builds(&flags.build)?;
        let mut all = project.workloads().iter();
        if let Some(w) = all.find(|w| w.loaded.workload.name() == name) {
            check_build_containers(w, &builds)?;
        }
        if let Some(stored) = project.state_mut().workloads.get_mut(name) {
            let mut extras = WorkloadExtras::default();
            extras.builds = builds;
            stored.extras.set(&extras);
        }
        flags.build.clear();
    }
    flags.workload_builds = BTreeMap::new();
    if info.builds {
        for (name, w) in &project.state().workloads {
            let extras: WorkloadExtras = w.extras.get()?;
            if !extras.builds.is_empty() {
                flags.workload_builds.insert(name.clone(), extras.builds);
            }
        }
    }
    let target = (info.build)(&flags)?;
    for warning in crate::annotations::warnings(target.as_ref(), project.workloads()) {
        crate::render::note!("score-gen {}: {warning}", info.name);
    }
    inputs.extend(provisioners.files);
    // Secret outputs never reach a diagnostic (spec/security.md): the ones the state already
    // holds for errors of provisioning, and with this run's for errors after it.
    let secrets = score_core::project::Secrets::of(project.state());
    // The CLI runs the cmd:// programs of the project's own (and pinned) provisioner files, as
    // score-compose and score-k8s do; remote unpinned files only with --allow-remote-commands.
    let options = ProvisionOptions {
        cmd_timeout: Duration::from_secs(common.cmd_timeout),
        commands: if common.allow_remote_commands {
            CommandPolicy::Allow
        } else {
            CommandPolicy::AllowTrusted
        },
        environment: process_environment(common.env_prefix.as_deref()),
        ..ProvisionOptions::default()
    };
    Ok(Prepared {
        info,
        common,
        given: given_names,
        flags,
        target,
        project,
        state_dir,
        state_file,
        tool,
        inputs,
        locked,
        old_resources,
        provisioners: provisioners.set,
        options,
        secrets,
    })
}

impl Prepared<'_> {
    /// Checks every program and permission the target would start, and that every resource has
    /// a provisioner, without provisioning anything: `score-gen all` checks every target before
    /// any starts a program (spec/security.md).
    pub fn check_programs(&self) -> Result<(), Diagnostics> {
        score_core::project::check_programs(
            self.project.workloads(),
            &self.provisioners,
            self.project.state(),
            self.target.as_ref(),
            &self.options,
        )
        .map_err(|d| {
            self.secrets
                .scrub(point_at_user_files(&self.project, d, &self.given))
        })
    }

    /// Provisions, substitutes and emits. The project's workloads are freed once resolved, and
    /// the resolved project as the target emits it ([`Target::emit_owned`]).
    pub fn finish(self) -> Result<Compiled, Diagnostics> {
        let Prepared {
            info,
            common,
            given,
            mut flags,
            target,
            mut project,
            state_dir,
            state_file,
            tool,
            inputs,
            locked,
            old_resources,
            provisioners,
            options,
            mut secrets,
        } = self;
        let resolved = project.resolve(&provisioners, target.as_ref(), &options);
        let resolved = resolved.map_err(|d| {
            let d = point_at_user_files(&project, d, &given);
            secrets.scrub(provisioner_changed_help(d, common, info.name))
        })?;
        // The project's workloads are freed here (the resolved project has its own copy).
        let state = project.into_state();
        secrets.add(&state);
        if let Some(locked) = &locked {
            locked.verify(info.name, &state_file, &state)?;
        }
        if crate::render::VERBOSE.load(std::sync::atomic::Ordering::Relaxed) > 0 {
            report_programs(target.name(), &resolved, &provisioners);
        }
        // Flags that name something through the provisioned resources (compose --publish
        // HOSTPORT:RES_UID.OUTPUT:PORT): the row rewrites them and the target is built again.
        let rebuilt;
        let target = match info.after_provision {
            Some(rewrite) if rewrite(&mut flags, &state).map_err(|d| secrets.scrub(d))? => {
                rebuilt = (info.build)(&flags).map_err(|d| secrets.scrub(d))?;
                rebuilt.as_ref()
            }
            _ => target.as_ref(),
        };
        let check_secrets = match old_resources {
            Some(old) => crate::drift::Secrets::of([&old, &state.resources]),
            None => crate::drift::Secrets::default(),
        };
        // The state as text from here on (it is written as is): a fraction of its size as
        // values, which a large project would otherwise hold through emit, its peak.
        let (state, state_text) = match (&tool, &state_dir) {
            (None, Some(_)) => (None, Some(state.into_yaml())),
            _ => (Some(state), None),
        };
        // What provisioners left for the user (score-compose's `info_logs`), as the tools log
        // them once the target has emitted.
        let mut notes = Vec::new();
        for res in resolved.resources() {
            notes.extend(res.info_logs.iter().map(|l| format!("info: {l}")));
            notes.extend(res.warnings.iter().map(|l| format!("warning: {l}")));
        }
        // The target may free each workload once converted (the project's peak).
        let mut artefacts = (target.emit_owned(resolved)).map_err(|d| secrets.scrub(d))?;
        if let Some(after_emit) = info.after_emit {
            after_emit(&flags, &mut artefacts)?;
        }
        for line in &notes {
            crate::render::note!("{line}");
        }
        for line in &artefacts.warnings {
            crate::render::note!("warning: {line}");
        }
        note_unset_deploy_env(&artefacts.deploy_env);
        Ok(Compiled {
            artefacts,
            state_dir,
            state,
            state_text,
            tool,
            secrets: check_secrets,
            inputs,
        })
    }
}

/// The directory holding `target`'s state: the tool's folder, or `<state-dir>/<target>`.
pub fn state_dir_of(common: &CommonArgs, target: &str) -> PathBuf {
    match common.tool {
        Some(_) => common.state_dir.clone(),
        None => common.state_dir.join(target),
    }
}

/// A changed provisioner: the help names the command that drops the resource from the state.
fn provisioner_changed_help(mut d: Diagnostics, common: &CommonArgs, target: &str) -> Diagnostics {
    for x in &mut d.0 {
        if x.code != Code::ProvisionProvisionerChanged {
            continue;
        }
        let Some(uid) = x.message.split('\'').nth(1).map(str::to_string) else {
            continue;
        };
        let command = match common.tool {
            Some(tool) => format!("{} resources remove '{uid}'", tool.program()),
            None => format!(
                "score-gen resources remove '{uid}' --target {target}{}",
                if common.state_dir == Path::new(score_core::host::STATE_ROOT) {
                    String::new()
                } else {
                    format!(" --state-dir {}", common.state_dir.display())
                }
            ),
        };
        x.help = Some(format!(
            "to let the new provisioner take over, run `{command}` (its stored state, e.g. a \
             generated password, is dropped), then generate again; or keep the provisioner that \
             provisioned it"
        ));
    }
    d
}

/// The target's project: the workloads of `given` (the Score files of this run) and every other
/// workload the state remembers, less `--remove`d ones, all loaded. Records each given
/// workload's document in the state, so a later run can regenerate it without its file.
fn project_of(
    target: &str,
    common: &CommonArgs,
    given: Vec<WorkloadInput>,
    state: State,
    state_file: &Path,
) -> Result<Project, Diagnostics> {
    let mut project = Project::new(state);
    let given_names: std::collections::BTreeSet<&str> =
        given.iter().map(|w| w.loaded.workload.name()).collect();
    for name in &common.remove {
        if given_names.contains(name.as_str()) {
            return Err(Diagnostic::new(
                Code::Usage,
                format!("--remove {name}: the workload is also given as a Score file"),
            )
            .with_help("either add the workload (its Score file) or remove it, not both")
            .into());
        }
        if project.remove(name).is_none() {
            return Err(Diagnostic::new(
                Code::Usage,
                format!("--remove {name}: there is no workload '{name}' in the {target} project"),
            )
            .with_help(known_workloads(project.state()))
            .into());
        }
    }
    if given_names.len() != given.len() {
        // Two files of one name: the project's duplicate-name error, at the second file.
        score_core::project::check_project(&given)?;
    }
    for w in given {
        project.add(w);
    }
    project.load(&CliStore { common, state_file })?;
    // A run that removed the last workload writes an empty project; a run that was given
    // nothing to generate is a mistake.
    if project.workloads().is_empty() && common.remove.is_empty() {
        return Err(no_workloads(target));
    }
    Ok(project)
}

/// `--build CONTAINER=...` must name a container of the workload, as in score-compose.
fn check_build_containers(
    w: &WorkloadInput,
    builds: &BTreeMap<String, serde_json::Value>,
) -> Result<(), Diagnostics> {
    let spec = &w.loaded.workload;
    for container in builds.keys() {
        if !spec.containers.contains_key(container) {
            let names: Vec<&str> = spec.containers.keys().map(String::as_str).collect();
            return Err(Diagnostic::new(
                Code::Usage,
                format!(
                    "--build {container}=...: workload '{}' has no container '{container}'",
                    spec.name()
                ),
            )
            .with_help(format!("its containers: {}", names.join(", ")))
            .into());
        }
    }
    Ok(())
}

/// A run without files on a project without workloads.
fn no_workloads(target: &str) -> Diagnostics {
    Diagnostic::new(
        Code::Usage,
        format!("no workloads in the {target} project: there is nothing to generate"),
    )
    .with_help(format!(
        "give one or more Score files, e.g. score-gen {target} score.yaml"
    ))
    .into()
}

/// The help line naming the project's workloads.
fn known_workloads(state: &State) -> String {
    if state.workloads.is_empty() {
        "the project has no workloads".into()
    } else {
        let names: Vec<&str> = state.workloads.keys().map(String::as_str).collect();
        format!("the project's workloads: {}", names.join(", "))
    }
}

/// How the CLI loads a workload the state remembers: `files[].source` from the directory it was
/// added from, the file of a version 1 entry, and never from outside the project unless the
/// user says so (spec/security.md).
struct CliStore<'a> {
    common: &'a CommonArgs,
    state_file: &'a Path,
}

impl CliStore<'_> {
    fn again(name: &str) -> String {
        format!(
            "workload '{name}' is in the project from an earlier run: give its Score file again to \
             replace it, or --remove {name} to drop it"
        )
    }
}

impl WorkloadStore for CliStore<'_> {
    fn load_options(
        &self,
        name: &str,
        stored: &score_core::project::WorkloadState,
    ) -> Result<LoadOptions, Diagnostics> {
        let file = stored.file.as_deref().map(Path::new);
        let dir = match (&stored.dir, file) {
            (Some(d), _) => PathBuf::from(d),
            (None, Some(f)) => parent_dir(f),
            (None, None) => PathBuf::from("."),
        };
        // The state is data: it may not widen what the run reads (spec/security.md). A stored
        // workload reads its file sources from a directory inside the project, and a version 1
        // entry its Score file, unless the user says otherwise: --allow-outside-paths, or the
        // file again.
        let reads = match (&stored.spec, file) {
            (None, Some(f)) => Some(("its Score file", f.to_path_buf())),
            _ if has_file_sources(stored) => Some(("its files[].source from", dir.join("f"))),
            _ => None,
        };
        if let (Some((what, path)), false) = (reads, self.common.allow_outside_paths) {
            let cwd = std::env::current_dir().map_err(|e| io_diag(".", e))?;
            if score_core::host::confine::project_escape(&cwd, &path).is_some() {
                let shown = if stored.spec.is_none() {
                    path
                } else {
                    dir.clone()
                };
                return Err(Diagnostic::new(
                    Code::UsagePathOutsideProject,
                    format!(
                        "workload '{name}' (stored in {}) reads {what} {}, outside the project directory {}",
                        self.state_file.display(),
                        shown.display(),
                        cwd.display()
                    ),
                )
                .with_help(format!(
                    "give its Score file again, pass --allow-outside-paths, or --remove {name}"
                ))
                .into());
            }
        }
        Ok(LoadOptions {
            sources: Some(std::sync::Arc::new(
                FsSources::new(dir).allow_outside(self.common.allow_outside_paths),
            )),
            contents_hidden: file.is_some_and(linked_out_of_project),
            ..LoadOptions::default()
        })
    }

    fn label(&self, name: &str, stored: &score_core::project::WorkloadState) -> String {
        match &stored.file {
            Some(f) => format!("{f} (as stored in {})", self.state_file.display()),
            None => format!(
                "<workload '{name}' stored in {}>",
                self.state_file.display()
            ),
        }
    }

    fn read_file(&self, name: &str, file: &str) -> Result<Vec<u8>, Diagnostics> {
        read_input(Path::new(file)).map_err(|d| d.with_help(Self::again(name)).into())
    }

    fn help(&self, name: &str) -> String {
        Self::again(name)
    }
}

/// Whether a stored workload has a `files[].source` (a version 1 entry, without a stored
/// document, is read from its file and counts as having one).
fn has_file_sources(stored: &score_core::project::WorkloadState) -> bool {
    let Some(spec) = &stored.spec else {
        return true;
    };
    let containers = spec
        .get("containers")
        .and_then(serde_json::Value::as_object);
    containers.into_iter().flatten().any(|(_, c)| {
        let files = c.get("files").and_then(serde_json::Value::as_object);
        files
            .into_iter()
            .flatten()
            .any(|(_, f)| f.get("source").is_some())
    })
}

/// `-v`: every program a cmd:// provisioner ran for this target, on stderr.
fn report_programs(
    target: &str,
    project: &score_core::target::ResolvedProject,
    provisioners: &ProvisionerSet,
) {
    for res in project.resources() {
        let Some(p) = provisioners.iter().find(|p| p.uri == res.provisioner) else {
            continue;
        };
        if let Some(cmd) = p.cmd() {
            let line = format!(
                "score-gen {target}: ran `{}` for {} ({}, {})",
                cmd.command_line(),
                res.uid,
                p.uri,
                p.source
            );
            eprintln!("{}", crate::render::terminal_safe(&line));
        }
    }
}

/// Reads and loads every Score file of `common` (overrides and `--image` applied), reporting
/// every file's problems together.
pub fn load_all(common: &CommonArgs) -> Result<Vec<WorkloadInput>, Diagnostics> {
    let mut override_files = Vec::new();
    for f in &common.override_files {
        let name = f.display().to_string();
        let bytes = read_input(f)?;
        let text = String::from_utf8_lossy(&bytes).into_owned();
        let mut file = score_core::diag::SourceFile::new(name, text);
        if linked_out_of_project(f) {
            file = file.with_contents_hidden();
        }
        // Any YAML value here: load_workload says what an override file must be.
        override_files.push(yaml::parse_any(
            std::sync::Arc::new(file),
            &bytes,
            &Limits::default(),
        )?);
    }
    let mut out = Vec::new();
    let mut diags = Diagnostics::default();
    for path in &common.files {
        let name = path.display().to_string();
        let bytes = match read_input(path) {
            Ok(b) => b,
            Err(d) => {
                diags.push(d);
                continue;
            }
        };
        let opts = LoadOptions {
            override_files: override_files.clone(),
            override_properties: common.override_properties.clone(),
            image: common.image.clone(),
            sources: Some(std::sync::Arc::new(
                FsSources::new(parent_dir(path)).allow_outside(common.allow_outside_paths),
            )),
            contents_hidden: linked_out_of_project(path),
            ..LoadOptions::default()
        };
        match load_workload(&name, &bytes, &opts) {
            Ok(loaded) => out.push(WorkloadInput {
                loaded,
                file: Some(name),
            }),
            Err(d) => diags.0.extend(d.0),
        }
    }
    diags.into_result()?;
    Ok(out)
}

/// A provisioner URI for clap: an empty one would name the working directory and load every
/// YAML file in it, so it is a usage error.
pub fn non_empty_uri(s: &str) -> Result<String, String> {
    if s.trim().is_empty() {
        Err("a provisioner URI must not be empty".into())
    } else {
        Ok(s.to_string())
    }
}

/// User URIs in the order given, then every file in `<state>/<target>/provisioners/` (by name),
/// then the target's defaults.
pub fn load_provisioners(
    target: &dyn Target,
    common: &CommonArgs,
) -> Result<ProvisionerSet, Diagnostics> {
    load_provisioners_noting(target, common, &mut Vec::new())
}

/// [`load_provisioners`], adding the local files it read to `read` (no output may replace them).
fn load_provisioners_noting(
    target: &dyn Target,
    common: &CommonArgs,
    read: &mut Vec<PathBuf>,
) -> Result<ProvisionerSet, Diagnostics> {
    let cwd = PathBuf::from(".");
    let mut fetched = Vec::new();
    for uri in &common.provisioners {
        fetched.extend(fetch::fetch(uri, &cwd, &FetchOptions::default())?);
    }
    let mut folder_has_defaults = false;
    if common.tool.is_some() {
        // The tool's folder: its `*.provisioners.yaml` files, by name, as the tools load them.
        for path in crate::tool::folder::folder_provisioner_files(&common.state_dir)? {
            folder_has_defaults |= path.ends_with(crate::tool::folder::DEFAULT_PROVISIONERS);
            let uri = path.display().to_string();
            fetched.extend(fetch::fetch(&uri, &cwd, &FetchOptions::default())?);
        }
    }
    let local = common.state_dir.join(target.name()).join("provisioners");
    if common.tool.is_none() && local.is_dir() {
        let uri = local.display().to_string();
        fetched.extend(fetch::fetch(&uri, &cwd, &FetchOptions::default())?);
    }
    read.extend(
        fetched
            .iter()
            .filter(|f| !f.remote)
            .filter_map(|f| Some(f.dir.as_ref()?.join(&f.name))),
    );
    let mut set = ProvisionerSet::default();
    for f in fetched {
        let trusted = f.trusted();
        // A local file linked out of the project (a planted `provisioners/00.yaml ->
        // /proc/self/environ`) is read, but no diagnostic shows its text (spec/security.md).
        let hidden = f
            .dir
            .as_ref()
            .is_some_and(|d| linked_out_of_project(&d.join(&f.name)));
        // As in score-compose and score-k8s, `cmd://./x` in a local file is `./x` of the project
        // (the working directory), wherever the file is; a file not on the local disk has no
        // directory, so its relative programs cannot run (spec/security.md).
        let dir = f.dir.map(|_| cwd.clone());
        let mut file = score_core::diag::SourceFile::new(f.name, f.text);
        if hidden {
            file = file.with_contents_hidden();
        }
        set.extend(ProvisionerSet::load_source(
            std::sync::Arc::new(file),
            dir.as_deref(),
            trusted,
        )?);
    }
    // A tool folder with its default provisioners file has its defaults; otherwise (e.g.
    // `init --no-default-provisioners`) score-gen's come last (spec/deviations.md).
    if !folder_has_defaults {
        set.extend(ProvisionerSet::load(&[ProvisionerFile::new(
            format!("<{} default provisioners>", target.name()),
            target.default_provisioners(),
        )])?);
    }
    Ok(set)
}

/// The writes of one target's artefacts under `output` (`-`: the primary to stdout, the rest
/// beside the working directory), checked but not yet made.
fn prepare_outputs(
    output: &Path,
    artefacts: &mut Artefacts,
    inputs: &[PathBuf],
) -> Result<Writes, Diagnostics> {
    let mut planned = take_plan(output, artefacts);
    // `-o -`: the primary goes to stdout; the rest, as always, beside it (here: `.`).
    let stdout = (output == Path::new("-") && !planned.is_empty()).then(|| planned.remove(0).1);
    let mut writes = prepare_writes(planned, inputs)?;
    writes.stdout = stdout;
    writes.modes = modes(&parent_dir(output), artefacts);
    create_directories(&parent_dir(output), artefacts)?;
    Ok(writes)
}

/// Creates the (possibly empty) directories a target asked for under `base`, confined like the
/// directories of its files (a provisioner's compose `directories`).
pub fn create_directories(base: &Path, artefacts: &Artefacts) -> Result<(), Diagnostics> {
    if artefacts.directories.is_empty() {
        return Ok(());
    }
    let root = std::env::current_dir().map_err(|e| io_diag(".", e))?;
    for rel in &artefacts.directories {
        let dir = base.join(rel);
        fsutil::create_dirs_confined(&root, &dir)
            .map_err(|e| io_diag(&dir.display().to_string(), e))?;
    }
    Ok(())
}

/// Where each artefact goes: the primary at `primary`, the rest relative to its directory
/// (compose mounts, `.env`), each with the directory it must stay inside.
pub fn plan(primary: &Path, artefacts: &Artefacts) -> Vec<(PathBuf, Vec<u8>, PathBuf)> {
    plan_files(
        primary,
        artefacts
            .files
            .iter()
            .map(|f| (f.path.as_path(), f.content.clone())),
    )
}

/// [`plan`], moving the bytes out of `artefacts` (their files keep their paths, with no bytes)
/// instead of copying them: a large project's outputs are held once, not three times.
pub fn take_plan(primary: &Path, artefacts: &mut Artefacts) -> Vec<(PathBuf, Vec<u8>, PathBuf)> {
    plan_files(
        primary,
        artefacts
            .files
            .iter_mut()
            .map(|f| (f.path.as_path(), std::mem::take(&mut f.content))),
    )
}

/// The destinations of [`plan`] and [`take_plan`], for the artefacts' paths in order.
fn plan_files<'a>(
    primary: &Path,
    files: impl Iterator<Item = (&'a Path, Vec<u8>)>,
) -> Vec<(PathBuf, Vec<u8>, PathBuf)> {
    let base = parent_dir(primary);
    files
        .enumerate()
        .map(|(i, (rel, bytes))| {
            let path = if i == 0 {
                primary.to_path_buf()
            } else {
                base.join(rel)
            };
            (path, bytes, base.clone())
        })
        .collect()
}

/// The permission bits targets asked for (a Score file's `mode`), by path under `base`.
pub fn modes(base: &Path, artefacts: &Artefacts) -> Vec<(PathBuf, u32)> {
    artefacts
        .modes
        .iter()
        .map(|(rel, bits)| (base.join(rel), *bits))
        .collect()
}

/// Writes that passed every check ([`prepare_writes`]) and wait for [`Writes::commit`], so the
/// caller can save the state in between: the state is committed first, and no output ever holds
/// a generated value the state does not (spec/reliability.md).
#[derive(Default)]
pub struct Writes {
    batch: Vec<(PathBuf, Vec<u8>)>,
    /// Files already written to temp files ([`Stager`]), committed after `batch`.
    staged: fsutil::Staged,
    /// Printed to stdout on commit (`-o -`).
    pub stdout: Option<Vec<u8>>,
    /// Permission bits set after the batch is written.
    pub modes: Vec<(PathBuf, u32)>,
}

impl Writes {
    /// Prints the stdout part, writes the batch atomically, then sets the modes.
    pub fn commit(self) -> Result<(), Diagnostics> {
        if let Some(bytes) = &self.stdout {
            use std::io::Write;
            std::io::stdout()
                .write_all(bytes)
                .map_err(|e| io_diag("<stdout>", e))?;
        }
        let io = |e: std::io::Error| {
            // The error names the file it is about.
            if e.get_ref().is_some_and(|i| i.is::<fsutil::UnsafeWrite>()) {
                io_diag("", e)
            } else {
                Diagnostic::new(Code::Io, e.to_string())
            }
        };
        fsutil::atomic_write_all(&self.batch).map_err(io)?;
        self.staged.commit().map_err(io)?;
        #[cfg(unix)]
        for (path, bits) in &self.modes {
            use std::os::unix::fs::PermissionsExt;
            // Unchanged bits are left alone: an unchanged regenerate changes nothing on disk.
            if std::fs::metadata(path).is_ok_and(|m| m.permissions().mode() & 0o7777 == *bits) {
                continue;
            }
            std::fs::set_permissions(path, std::fs::Permissions::from_mode(*bits))
                .map_err(|e| io_diag(&path.display().to_string(), e))?;
        }
        Ok(())
    }
}

impl Writes {
    /// [`Writes::commit`] for a run whose state is already saved (the crash-safe order): a
    /// failure says so, and that running the command again completes the outputs.
    pub fn commit_after_state(self) -> Result<(), Diagnostics> {
        self.commit().map_err(|d| {
            Diagnostics(
                d.0.into_iter()
                    .map(|mut x| {
                        x.message = format!(
                            "{}; the new state was saved but the outputs were not all written",
                            x.message
                        );
                        x.help = Some(
                            "the outputs on disk may still be those of the previous run; fix the \
                             cause and run the same command again: it reuses the saved state \
                             (its generated values) and writes every output"
                                .into(),
                        );
                        x
                    })
                    .collect(),
            )
        })
    }
}

/// Checks `files` for one atomic batch, confined (spec/security.md): no output may be one of
/// `inputs`, pass through a symbolic link below the project directory (the working directory)
/// or below its own base directory, or replace anything but a regular file. Creates the missing
/// directories (confined) and removes temp files that killed runs left in them.
pub fn prepare_writes(
    files: Vec<(PathBuf, Vec<u8>, PathBuf)>,
    inputs: &[PathBuf],
) -> Result<Writes, Diagnostics> {
    let mut checks = WriteChecks::new()?;
    let inputs = fsutil::FileSet::new(inputs.iter().cloned());
    let mut batch = Vec::with_capacity(files.len());
    for (path, bytes, base) in files {
        checks.check(&path, &base, Some(&inputs))?;
        batch.push((path, bytes));
    }
    Ok(Writes {
        batch,
        ..Writes::default()
    })
}

/// What [`prepare_writes`] checks of each output, over one run's outputs.
struct WriteChecks {
    /// The project directory (the working directory).
    root: PathBuf,
    /// Directories created (confined) and cleared of stale temp files.
    dirs: std::collections::BTreeSet<PathBuf>,
    /// The outputs so far: two outputs of one run naming one file (`-o compose.yaml --env-file
    /// compose.yaml`) would have the later silently replace the earlier.
    written: fsutil::FileSet,
    /// The directories created, parents first.
    created: Vec<PathBuf>,
}

impl WriteChecks {
    fn new() -> Result<Self, Diagnostics> {
        Ok(WriteChecks {
            root: std::env::current_dir().map_err(|e| io_diag(".", e))?,
            dirs: std::collections::BTreeSet::new(),
            written: fsutil::FileSet::default(),
            created: Vec::new(),
        })
    }

    /// Creates `dir` (confined), remembering the directories that did not exist.
    fn create_dir(&mut self, dir: &Path) -> std::io::Result<()> {
        let missing = dir
            .ancestors()
            .take_while(|d| !d.as_os_str().is_empty() && std::fs::symlink_metadata(d).is_err())
            .count();
        let mut new: Vec<PathBuf> = dir
            .ancestors()
            .take(missing)
            .map(Path::to_path_buf)
            .collect();
        fsutil::create_dirs_confined(&self.root, dir)?;
        new.reverse();
        self.created.extend(new);
        Ok(())
    }

    /// Checks one output (against `inputs` when given, see [`input_check`]) and creates its
    /// directory.
    fn check(
        &mut self,
        path: &Path,
        base: &Path,
        inputs: Option<&fsutil::FileSet>,
    ) -> Result<(), Diagnostics> {
        let name = path.display().to_string();
        if let Some(earlier) = self.written.find(path) {
            return Err(Diagnostic::new(
                Code::Usage,
                format!(
                    "refusing to write {name}: this run also writes {} there",
                    earlier.display()
                ),
            )
            .with_help("give each output its own path (-o, --env-file)")
            .into());
        }
        self.written.insert(path.to_path_buf());
        if let Some(inputs) = inputs {
            input_check(path, inputs)?;
        }
        let dir = parent_dir(path);
        if self.dirs.insert(dir.clone()) {
            self.create_dir(&dir).map_err(|e| io_diag(&name, e))?;
            fsutil::remove_stale_temp_files(&dir).map_err(|e| io_diag(&name, e))?;
        }
        fsutil::check_confined(&self.root, path).map_err(|e| io_diag(&name, e))?;
        fsutil::check_confined(base, path).map_err(|e| io_diag(&name, e))?;
        Ok(())
    }
}

/// No output may replace one of the run's inputs.
fn input_check(path: &Path, inputs: &fsutil::FileSet) -> Result<(), Diagnostics> {
    match inputs.find(path) {
        Some(input) => Err(Diagnostic::new(
            Code::UsageOutputIsInput,
            format!(
                "refusing to write {}: it is the input {}",
                path.display(),
                input.display()
            ),
        )
        .with_help("choose another output path (-o); score-gen never overwrites its inputs")
        .into()),
        None => Ok(()),
    }
}

/// The outputs of a run of several parts (`score-gen all`), each part's files checked as
/// [`prepare_writes`] checks them and written to temp files ([`fsutil::stage_all`]) as soon as
/// the part is done, so no part's bytes are held until the end. Nothing is renamed before
/// [`Writes::commit`]; dropping it unfinished deletes the temp files and the directories it
/// created: a failed run leaves nothing behind.
pub struct Stager {
    checks: WriteChecks,
    /// Every output, for the check against the inputs (known once every part is loaded).
    paths: Vec<PathBuf>,
    writes: Writes,
}

impl Stager {
    /// Nothing staged yet.
    pub fn new() -> Result<Self, Diagnostics> {
        Ok(Stager {
            checks: WriteChecks::new()?,
            paths: Vec::new(),
            writes: Writes::default(),
        })
    }

    /// Checks `files` (but against the inputs: [`Stager::finish`]), creates their directories
    /// and writes them to temp files, freeing their bytes.
    pub fn stage(&mut self, files: Vec<(PathBuf, Vec<u8>, PathBuf)>) -> Result<(), Diagnostics> {
        for (path, _, base) in &files {
            self.checks.check(path, base, None)?;
            self.paths.push(path.clone());
        }
        let staged = fsutil::stage_all(files.into_iter().map(|(path, bytes, _)| (path, bytes)))
            .map_err(|e| Diagnostic::new(Code::Io, e.to_string()))?;
        self.writes.staged.append(staged);
        Ok(())
    }

    /// Permission bits to set once the files are in place.
    pub fn modes(&mut self, modes: Vec<(PathBuf, u32)>) {
        self.writes.modes.extend(modes);
    }

    /// The (possibly empty) directories a target asked for under `base`, as
    /// [`create_directories`] creates them.
    pub fn create_directories(
        &mut self,
        base: &Path,
        artefacts: &Artefacts,
    ) -> Result<(), Diagnostics> {
        for rel in &artefacts.directories {
            let dir = base.join(rel);
            self.checks
                .create_dir(&dir)
                .map_err(|e| io_diag(&dir.display().to_string(), e))?;
        }
        Ok(())
    }

    /// Checks that no output is one of `inputs`; the writes to commit after the state.
    pub fn finish(mut self, inputs: &[PathBuf]) -> Result<Writes, Diagnostics> {
        let inputs = fsutil::FileSet::new(inputs.iter().cloned());
        for path in &self.paths {
            input_check(path, &inputs)?;
        }
        self.checks.created.clear();
        Ok(std::mem::take(&mut self.writes))
    }
}

impl Drop for Stager {
    fn drop(&mut self) {
        // The temp files first, then the directories that held them (an empty one only).
        self.writes.staged = fsutil::Staged::default();
        for dir in self.checks.created.iter().rev() {
            let _ = std::fs::remove_dir(dir);
        }
    }
}

/// The files a run reads, which no output may replace.
pub fn inputs(common: &CommonArgs) -> Vec<PathBuf> {
    common
        .files
        .iter()
        .chain(&common.override_files)
        .cloned()
        .collect()
}

/// The environment score-gen runs in, for environment references read at generate time
/// (`${resources.<env>.K}` in resource params; in every value for k8s). The user's own: they
/// ran this command in it (spec/security.md). Variables whose name or value is not UTF-8 are
/// left out, so a reference to one is reported as unset. With `--env-prefix P` only the variables
/// named `P...` are read, without `P`.
fn process_environment(prefix: Option<&str>) -> Environment {
    std::env::vars_os()
        .filter_map(|(k, v)| Some((k.into_string().ok()?, v.into_string().ok()?)))
        .filter_map(|(k, v)| match prefix {
            Some(p) => Some((k.strip_prefix(p)?.to_string(), v)),
            None => Some((k, v)),
        })
        .filter(|(k, _)| !k.is_empty())
        .collect()
}

/// A note for each variable the output leaves to deploy time (compose: `${VAR}` read by
/// `docker compose up`) that is set neither in score-gen's environment nor in `./.env` now:
/// compose would substitute an empty string. A note, not an error: it may be set when compose runs.
fn note_unset_deploy_env(vars: &std::collections::BTreeSet<String>) {
    if vars.is_empty() {
        return;
    }
    let dotenv = std::fs::read_to_string(".env").unwrap_or_default();
    let in_dotenv = |var: &str| {
        dotenv.lines().any(|l| {
            let l = l.trim_start();
            let l = l.strip_prefix("export ").unwrap_or(l);
            l.split_once('=').is_some_and(|(k, _)| k.trim() == var)
        })
    };
    for var in vars {
        if std::env::var_os(var).is_none() && !in_dotenv(var) {
            crate::render::note!(
                "note: the output reads ${{{var}}} when `docker compose up` runs; {var} is not set \
                 now, nor in ./.env (compose substitutes an empty string unless it is set then)"
            );
        }
    }
}

/// A problem found in a workload the project remembers from an earlier run points at what the
/// user edits: its Score file, when that file still exists and holds the same place (found by the
/// diagnostic's JSON pointer); otherwise it stays on the stored copy and says so, with how to
/// replace or `--remove` the workload.
pub fn point_at_user_files(project: &Project, diags: Diagnostics, given: &[String]) -> Diagnostics {
    // A stored workload loaded without spans: first at the lines of its stored text.
    let mut diags = project.locate(diags);
    let stored: Vec<&WorkloadInput> = project
        .workloads()
        .iter()
        .filter(|w| !given.iter().any(|g| g.as_str() == w.loaded.workload.name()))
        .collect();
    for d in &mut diags.0 {
        repoint(d, &stored);
    }
    diags
}

fn repoint(d: &mut Diagnostic, stored: &[&WorkloadInput]) {
    for r in &mut d.related {
        repoint(r, stored);
    }
    let Some(file) = d.file.clone() else { return };
    let Some(w) = stored
        .iter()
        .find(|w| w.loaded.document.source.name == file.name)
    else {
        return;
    };
    let name = w.loaded.workload.name();
    let user_doc = w.file.as_deref().and_then(|f| {
        let text = std::fs::read_to_string(f).ok()?;
        score_core::parse_document(f, &text).ok()
    });
    let span = match (&user_doc, d.pointer.as_deref()) {
        (Some(doc), Some(p)) => doc.spans.value(p).or_else(|| doc.spans.key(p)),
        _ => None,
    };
    let note = match (span, &user_doc, w.file.as_deref()) {
        (Some(span), Some(doc), Some(_)) => {
            d.file = Some(doc.source.clone());
            d.span = Some(span);
            // Fixes were computed on the stored text.
            d.fixes.clear();
            format!(
                "workload '{name}' is in the project from an earlier run; after fixing its file, give it again"
            )
        }
        (_, _, Some(f)) if std::path::Path::new(f).exists() => format!(
            "this is the stored copy of workload '{name}' (from an earlier run; its file {f} has changed since): give {f} again, or --remove {name} to drop it"
        ),
        (_, _, Some(f)) => format!(
            "this is the stored copy of workload '{name}' (its file {f} no longer exists): give a Score file for it again, or --remove {name} to drop it"
        ),
        _ => format!(
            "this is the stored copy of workload '{name}': give its Score file again, or --remove {name} to drop it"
        ),
    };
    if !d.is_note {
        d.help = Some(match d.help.take() {
            Some(h) if !h.contains("--remove") => format!("{h}\n{note}"),
            Some(h) => h,
            None => note,
        });
    }
}
