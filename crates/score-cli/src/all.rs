//! `score-gen all FILE... -o DIR`: compose, k8s and terraform in one invocation.
//!
//! The Score files are read, parsed, overridden and validated once. Provisioning, substitution
//! and emit run once per target, because each target has its own provisioners and its own state
//! directory (`<state-dir>/compose`, `/k8s`, `/terraform`). The targets run one after the
//! other, each freeing what it loaded before the next starts, and each one's output files are
//! written to temp files beside their destinations as soon as it is done. Nothing is replaced
//! unless all three succeed: then the three states are saved and every output file is renamed
//! into place in one atomic batch (spec/reliability.md §5).
//!
//! Layout under `DIR`: `compose.yaml` (+ `.score-gen/mounts/...`), `manifests.yaml`,
//! `terraform/main.tf`.

use std::path::{Path, PathBuf};

use score_core::{Code, Diagnostic, Diagnostics};

use crate::commands::{compose_flags, ComposeFlags};
use crate::generate::{self, CommonArgs, Compiled};
use crate::row::{self, TargetInfo};
use score_core::host::StateDir;

/// Flags of `score-gen all`.
#[derive(Debug, clap::Args)]
pub struct AllArgs {
    #[command(flatten)]
    common: CommonArgs,
    /// Output directory: gets compose.yaml, manifests.yaml and terraform/main.tf.
    #[arg(short, long, value_name = "DIR")]
    output: PathBuf,
    #[command(flatten)]
    compose: ComposeFlags,
    /// Kubernetes namespace (k8s manifests and the terraform kubernetes resources).
    #[arg(short, long)]
    namespace: Option<String>,
    /// k8s: also emit the Namespace object (needs --namespace).
    #[arg(long, requires = "namespace")]
    generate_namespace: bool,
    /// terraform: let a resource's `source` param in a Score file choose its Terraform module
    /// (refused otherwise: the module is code that terraform downloads and runs).
    #[arg(long)]
    allow_source_params: bool,
    #[command(flatten)]
    pub legacy: crate::render::LegacyFormat,
}

/// Runs `score-gen all`.
pub fn run(args: &AllArgs) -> Result<(), Diagnostics> {
    if args.output == Path::new("-") {
        return Err(Diagnostic::new(
            Code::Usage,
            "score-gen all writes three outputs and needs a directory, not '-'",
        )
        .with_help("use -o DIR, or a single-target command (compose, k8s, terraform) for stdout")
        .into());
    }
    if args.output.is_file() {
        return Err(Diagnostic::new(
            Code::Usage,
            format!("-o {}: is a file, not a directory", args.output.display()),
        )
        .into());
    }
    generate::check_override_usage(&args.common)?;
    let mut flags = compose_flags(&args.compose);
    flags.namespace = args.namespace.clone();
    flags.generate_namespace = args.generate_namespace;
    flags.allow_source_params = args.allow_source_params;
    flags.allow_outside_paths = args.common.allow_outside_paths;
    flags.state_dir = Some(args.common.state_dir.clone());
    generate::check_build_usage(&args.common, &flags)?;
    // Flag errors before any file is read.
    let rows = row::all();
    for t in rows {
        (t.build)(&flags)?;
    }

    let mut workloads = generate::load_all(&args.common)?;
    let common = &args.common;
    let wl = &workloads[..];
    let flags = &flags;
    // Each target's problems are reported together, each tagged with its target.
    let mut diags = Diagnostics::default();
    // The state directories are locked here, one after the other in the table's order: two
    // concurrent `all` runs then never hold one lock each while waiting for the other's
    // (issue 21). Each stays locked until its target's result is dropped. Then every target's
    // provisioner files are read: what can fail cheaply fails before any target compiles.
    let mut opened = Vec::new();
    for info in rows {
        let ready = generate::open_state(info, common, wl).and_then(|state_dir| {
            Ok((
                state_dir,
                generate::target_provisioners(info, flags, common)?,
            ))
        });
        match ready {
            Ok((state_dir, provisioners)) => opened.push((info, state_dir, provisioners)),
            Err(d) => tag(&mut diags, info, d),
        }
    }
    if !diags.0.is_empty() {
        return Err(diags);
    }

    // The targets compile one after the other, each freeing its project before the next
    // loads its own, and each finished target's files go to temp files beside their
    // destinations at once: the run holds one target's project and outputs at a time, and the
    // finished targets' states as text (issue 24: at 10,000 workloads three at once exceeded
    // the default 2 GiB --max-memory).
    // When a provisioner file may start a program (cmd://), every target is loaded and checked
    // first (its programs and permissions, a provisioner for each resource): if any fails,
    // none starts a program (spec/security.md).
    let programs = opened.iter().any(|(_, _, p)| p.run_programs());
    // Each target's project gets the workloads; the last one takes them (one copy less).
    let last = opened.len().saturating_sub(1);
    let mut given = |i: usize| {
        if i == last {
            std::mem::take(&mut workloads)
        } else {
            workloads.clone()
        }
    };
    let mut waiting = Vec::new();
    for (i, (info, state_dir, provisioners)) in opened.into_iter().enumerate() {
        if !programs {
            waiting.push((i, info, Waiting::Opened(state_dir, provisioners)));
            continue;
        }
        let checked = generate::prepare(info, flags, common, given(i), state_dir, provisioners)
            .and_then(|p| p.check_programs().map(|()| p));
        match checked {
            Ok(p) => waiting.push((i, info, Waiting::Checked(Box::new(p)))),
            Err(d) => tag(&mut diags, info, d),
        }
    }
    if !diags.0.is_empty() {
        return Err(diags);
    }

    let mut stager = match args.common.check {
        true => None,
        false => Some(generate::Stager::new()?),
    };
    let mut compiled = Vec::new();
    for (i, info, w) in waiting {
        let prepared = match w {
            Waiting::Checked(p) => Ok(*p),
            Waiting::Opened(state_dir, provisioners) => {
                generate::prepare(info, flags, common, given(i), state_dir, provisioners)
            }
        };
        let primary = args.output.join(info.all_output);
        match prepared.and_then(|p| p.finish()) {
            Ok(mut c) => {
                if let (Some(stager), true) = (&mut stager, diags.0.is_empty()) {
                    // A refused write is the run's error, as a single target reports it.
                    stage(stager, &mut c, &primary)?;
                }
                compiled.push((c, primary));
            }
            // The other targets still run, to report their problems too; nothing is written.
            Err(d) => tag(&mut diags, info, d),
        }
    }
    diags.into_result()?;

    let Some(stager) = stager else {
        // --check: compare, write nothing.
        let planned: Vec<_> = compiled
            .iter()
            .map(|(c, primary)| {
                let base = crate::files::parent_dir(primary);
                crate::drift::Planned {
                    files: generate::plan(primary, &c.artefacts),
                    modes: generate::modes(&base, &c.artefacts),
                    directories: c
                        .artefacts
                        .directories
                        .iter()
                        .map(|d| base.join(d))
                        .collect(),
                    secrets: &c.secrets,
                }
            })
            .collect();
        let mut read = generate::inputs(&args.common);
        read.extend(compiled.iter().flat_map(|(c, _)| c.inputs.iter().cloned()));
        return crate::drift::check(&planned, &read);
    };
    let mut inputs = generate::inputs(&args.common);
    inputs.extend(compiled.iter().flat_map(|(c, _)| c.inputs.iter().cloned()));
    let writes = stager.finish(&inputs)?;
    // States first (see generate::run), in the table's order, then every output in one batch.
    for (c, _) in &compiled {
        c.save_state()?;
    }
    let result = writes.commit_after_state();
    for (c, _) in compiled {
        c.release();
    }
    result
}

/// Adds one target's problems to `diags`, each tagged with the target.
fn tag(diags: &mut Diagnostics, info: &TargetInfo, d: Diagnostics) {
    diags.0.extend(d.0.into_iter().map(|mut x| {
        x.message = format!("{}: {}", info.name, x.message);
        x
    }));
}

/// A target between opening its state and compiling.
enum Waiting<'a> {
    /// State directory open and locked, provisioners read.
    Opened(Option<StateDir>, generate::Provisioners),
    /// Loaded and its programs checked.
    Checked(Box<generate::Prepared<'a>>),
}

/// Checks one target's files for writing, creates their directories and writes them to temp
/// files: the primary output at its path, extra artefacts (compose mounts, ...) relative to the
/// primary's directory, as the single-target commands do.
fn stage(
    stager: &mut generate::Stager,
    c: &mut Compiled,
    primary: &Path,
) -> Result<(), Diagnostics> {
    let base = crate::files::parent_dir(primary);
    stager.stage(generate::take_plan(primary, &mut c.artefacts))?;
    stager.modes(generate::modes(&base, &c.artefacts));
    stager.create_directories(&base, &c.artefacts)
}
