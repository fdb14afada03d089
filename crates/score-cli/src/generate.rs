//! `score-gen compose|k8s|terraform FILE...`: the shared generate flow.
//!
//! read Score files → load (overrides, --image) → state dir (locked) → provisioners (user URIs
//! first, then the target's defaults) → engine → target emit → write outputs + state atomically.

use std::path::{Path, PathBuf};
use std::time::Duration;

use score_core::host::fetch::{self, FetchOptions};
use score_core::host::{FsSources, StateDir};
use score_core::unstable::yaml::{self, Limits};
use score_core::{load_workload, resolve_project, LoadOptions, WorkloadInput};
use score_core::{Artefacts, Target};
use score_core::{Code, Diagnostic, Diagnostics};
use score_core::{CommandPolicy, ProvisionOptions, ProvisionerSet, State};

/// Flags every target shares.
#[derive(Debug, Clone, clap::Args)]
pub struct CommonArgs {
    /// Score files, one workload each.
    #[arg(required = true, value_name = "FILE")]
    pub files: Vec<PathBuf>,
    /// Deep-merge this YAML file over the workload before validation (one Score file only).
    #[arg(long = "override-file", alias = "overrides-file", value_name = "FILE")]
    pub override_files: Vec<PathBuf>,
    /// Set or delete (empty VALUE) one property: PATH=VALUE, e.g. containers.web.image=nginx:1.27.
    #[arg(long = "override-property", value_name = "PATH=VALUE")]
    pub override_properties: Vec<String>,
    /// Image for containers whose image is `.` (one Score file only).
    #[arg(long, value_name = "IMAGE")]
    pub image: Option<String>,
    /// Extra provisioner file or directory URI, tried before the defaults (repeatable; first wins).
    /// Schemes: path, file://, http(s)://, git-https://, git-ssh://, git-file://; pin with #sha256=HEX.
    #[arg(long = "provisioners", value_name = "URI")]
    pub provisioners: Vec<String>,
    /// The state directory (created on first use).
    #[arg(long, value_name = "DIR", default_value = ".score-gen")]
    pub state_dir: PathBuf,
    /// Allow `files[].source` paths outside the Score file's directory.
    #[arg(long)]
    pub allow_outside_paths: bool,
    /// Seconds a `cmd://` provisioner may run.
    #[arg(long, value_name = "SECONDS", default_value_t = 60)]
    pub cmd_timeout: u64,
}

/// Runs the whole flow for one target and writes its artefacts under `output`
/// (a file for the primary artefact; extra artefacts go beside it). `-` writes the primary to stdout.
pub fn run(target: &dyn Target, common: &CommonArgs, output: &Path) -> Result<(), Diagnostics> {
    check_override_usage(common)?;
    let workloads = load_all(common)?;
    let compiled = compile_target(target, common, &workloads)?;
    write_outputs(output, &compiled.artefacts)?;
    compiled.save_state()
}

/// Overrides and `--image` name one workload, so they need exactly one Score file.
pub fn check_override_usage(common: &CommonArgs) -> Result<(), Diagnostics> {
    if common.files.len() > 1
        && (!common.override_files.is_empty()
            || !common.override_properties.is_empty()
            || common.image.is_some())
    {
        return Err(Diagnostic::new(
            Code::Usage,
            "--override-file, --override-property and --image apply to exactly one Score file",
        )
        .with_help(
            "run score-gen once per workload that needs overrides, or put them in the Score file",
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
    state_dir: StateDir,
    state: State,
}

impl Compiled {
    /// Writes the new state (atomically) into the target's state directory.
    pub fn save_state(&self) -> Result<(), Diagnostics> {
        self.state_dir
            .save(&self.state)
            .map_err(|e| Diagnostic::new(Code::StateIo, format!("cannot write state: {e}")).into())
    }
}

/// Provisions, substitutes and emits already-loaded `workloads` for `target`, with the target's
/// own state directory (`<state-dir>/<target>`, locked until the result is dropped) and
/// provisioners.
pub fn compile_target(
    target: &dyn Target,
    common: &CommonArgs,
    workloads: &[WorkloadInput],
) -> Result<Compiled, Diagnostics> {
    let dir = common.state_dir.join(target.name());
    let state_dir = StateDir::open_dir(&dir, score_core::unstable::state::DEFAULT_LOCK_TIMEOUT)
        .map_err(|e| {
            Diagnostic::new(
                Code::StateIo,
                format!("cannot open state directory {}: {e}", dir.display()),
            )
        })?;
    let state = state_dir.load()?;

    let provisioners = load_provisioners(target, common)?;
    // The CLI runs cmd:// provisioners, as score-compose and score-k8s do (see --help).
    let (project, state) = resolve_project(
        workloads,
        &provisioners,
        state,
        target,
        &ProvisionOptions {
            cmd_timeout: Duration::from_secs(common.cmd_timeout),
            commands: CommandPolicy::Allow,
            ..ProvisionOptions::default()
        },
    )?;
    let artefacts = target.emit(&project)?;
    Ok(Compiled {
        artefacts,
        state_dir,
        state,
    })
}

/// Reads and loads every Score file of `common` (overrides and `--image` applied), reporting
/// every file's problems together.
pub fn load_all(common: &CommonArgs) -> Result<Vec<WorkloadInput>, Diagnostics> {
    let mut override_files = Vec::new();
    for f in &common.override_files {
        let name = f.display().to_string();
        let bytes = std::fs::read(f).map_err(|e| io_diag(&name, e))?;
        let text = String::from_utf8_lossy(&bytes).into_owned();
        override_files.push(yaml::parse(
            std::sync::Arc::new(score_core::SourceFile::new(name, text)),
            &bytes,
            &Limits::default(),
        )?);
    }
    let mut out = Vec::new();
    let mut diags = Diagnostics::default();
    for path in &common.files {
        let name = path.display().to_string();
        let bytes = match std::fs::read(path) {
            Ok(b) => b,
            Err(e) => {
                diags.push(io_diag(&name, e));
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

/// User URIs in the order given, then every file in `<state>/<target>/provisioners/` (by name),
/// then the target's defaults.
pub fn load_provisioners(
    target: &dyn Target,
    common: &CommonArgs,
) -> Result<ProvisionerSet, Diagnostics> {
    let cwd = PathBuf::from(".");
    let mut files = Vec::new();
    for uri in &common.provisioners {
        for f in fetch::fetch(uri, &cwd, &FetchOptions::default())? {
            files.push((f.name, f.text, f.dir));
        }
    }
    let local = common.state_dir.join(target.name()).join("provisioners");
    if local.is_dir() {
        let uri = local.display().to_string();
        for f in fetch::fetch(&uri, &cwd, &FetchOptions::default())? {
            files.push((f.name, f.text, f.dir));
        }
    }
    files.push((
        format!("<{} default provisioners>", target.name()),
        target.default_provisioners().to_string(),
        None,
    ));
    ProvisionerSet::load(&files).map_err(Diagnostics::from)
}

fn write_outputs(output: &Path, artefacts: &Artefacts) -> Result<(), Diagnostics> {
    let mut files = Vec::new();
    let base = parent_dir(output);
    for (i, (rel, bytes)) in artefacts.files.iter().enumerate() {
        if i == 0 {
            if output == Path::new("-") {
                use std::io::Write;
                std::io::stdout()
                    .write_all(bytes)
                    .map_err(|e| io_diag("<stdout>", e))?;
                continue;
            }
            files.push((output.to_path_buf(), bytes.clone()));
        } else {
            files.push((base.join(rel), bytes.clone()));
        }
    }
    for (p, _) in &files {
        if let Some(dir) = p.parent() {
            if !dir.as_os_str().is_empty() {
                std::fs::create_dir_all(dir).map_err(|e| io_diag(&dir.display().to_string(), e))?;
            }
        }
    }
    score_core::host::fsutil::atomic_write_all(&files)
        .map_err(|e| io_diag(&output.display().to_string(), e))?;
    apply_modes(&base, artefacts)
}

/// Sets the permission bits targets asked for (a Score file's `mode`), on Unix.
pub fn apply_modes(base: &Path, artefacts: &Artefacts) -> Result<(), Diagnostics> {
    #[cfg(unix)]
    for (rel, bits) in &artefacts.modes {
        use std::os::unix::fs::PermissionsExt;
        let path = base.join(rel);
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(*bits))
            .map_err(|e| io_diag(&path.display().to_string(), e))?;
    }
    #[cfg(not(unix))]
    let _ = (base, artefacts);
    Ok(())
}

pub fn parent_dir(path: &Path) -> PathBuf {
    match path.parent() {
        Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
        _ => PathBuf::from("."),
    }
}

pub fn io_diag(name: &str, e: std::io::Error) -> Diagnostic {
    Diagnostic::new(Code::Io, format!("{name}: {e}"))
}
