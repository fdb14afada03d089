//! `score-gen all FILE... -o DIR`: compose, k8s and terraform in one invocation.
//!
//! The Score files are read, parsed, overridden and validated once. Provisioning, substitution
//! and emit run once per target, because each target has its own provisioners and its own state
//! directory (`<state-dir>/compose`, `/k8s`, `/terraform`). The three targets run on separate
//! threads; nothing is written unless all three succeed, then every output file is written in
//! one atomic batch and the three states are saved.
//!
//! Layout under `DIR`: `compose.yaml` (+ `.score-gen/mounts/...`), `manifests.yaml`,
//! `terraform/main.tf`.

use std::path::{Path, PathBuf};

use score_core::{Code, Diagnostic, Diagnostics};

use crate::commands::{compose_flags, ComposeFlags};
use crate::generate::{self, CommonArgs, Compiled};
use crate::targets;

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
    pub legacy: crate::LegacyFormat,
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
    let rows = targets::all();
    for t in rows {
        (t.build)(&flags)?;
    }

    let workloads = generate::load_all(&args.common)?;
    let common = &args.common;
    let wl = &workloads[..];
    let flags = &flags;
    // The state directories are locked here, one after the other in the table's order: two
    // concurrent `all` runs then never hold one lock each while waiting for the other's
    // (issue 21). Each stays locked until its Compiled is dropped.
    let opened: Vec<_> = rows
        .iter()
        .map(|t| generate::open_state(t, common, wl))
        .collect();
    let gate = &Gate::new(rows.len());
    // One thread per target: they share nothing mutable (own state dir, own provisioners).
    let results: Vec<Result<Compiled, Diagnostics>> = std::thread::scope(|s| {
        let handles: Vec<_> = rows
            .iter()
            .zip(opened)
            .map(|(t, opened)| {
                // Every target checks its programs and permissions before any starts one; a
                // target whose state could not be opened fails the gate (its ticket is dropped).
                let ticket = gate.ticket();
                s.spawn(move || generate::compile_in(t, flags, common, wl, opened?, Some(ticket)))
            })
            .collect();
        handles.into_iter().map(join).collect()
    });

    // Report every target's problems, each tagged with its target, before failing.
    let mut diags = Diagnostics::default();
    let mut compiled = Vec::new();
    for (result, info) in results.into_iter().zip(rows) {
        match result {
            Ok(c) => compiled.push((c, args.output.join(info.all_output))),
            Err(d) => diags.0.extend(d.0.into_iter().map(|mut x| {
                x.message = format!("{}: {}", info.name, x.message);
                x
            })),
        }
    }
    diags.into_result()?;

    if args.common.check {
        let planned: Vec<_> = compiled
            .iter()
            .map(|(c, primary)| {
                let base = generate::parent_dir(primary);
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
    }
    let writes = prepare_all(&mut compiled, &args.common)?;
    // States first (see generate::run), then every output in one batch.
    for (c, _) in &compiled {
        c.save_state()?;
    }
    let result = writes.commit_after_state();
    for (c, _) in compiled {
        c.release();
    }
    // The process ends after this run (see generate::run).
    std::mem::forget(workloads);
    result
}

/// Where the targets of one `all` run meet before any of them starts a program: each passes it
/// once (ok or failed; a [`Ticket`] dropped unpassed counts as failed) and waits for the others;
/// it opens only if all were ok.
#[derive(Debug)]
pub struct Gate {
    parties: usize,
    /// (passed so far, whether any failed)
    seen: std::sync::Mutex<(usize, bool)>,
    cv: std::sync::Condvar,
}

impl Gate {
    /// A gate for `parties` targets.
    pub fn new(parties: usize) -> Self {
        Self {
            parties,
            seen: std::sync::Mutex::new((0, false)),
            cv: std::sync::Condvar::new(),
        }
    }

    /// One target's pass through the gate.
    pub fn ticket(&self) -> Ticket<'_> {
        Ticket {
            gate: self,
            used: false,
        }
    }

    fn arrive(&self, ok: bool) -> bool {
        let mut seen = self
            .seen
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        seen.0 += 1;
        seen.1 |= !ok;
        self.cv.notify_all();
        while seen.0 < self.parties && !seen.1 {
            seen = self
                .cv
                .wait(seen)
                .unwrap_or_else(std::sync::PoisonError::into_inner);
        }
        !seen.1
    }
}

/// One target's right to pass a [`Gate`] once.
#[derive(Debug)]
pub struct Ticket<'a> {
    gate: &'a Gate,
    used: bool,
}

impl Ticket<'_> {
    /// Reports whether this target's checks passed and waits for every other target (or the
    /// first failure); true when all passed.
    pub fn pass(&mut self, ok: bool) -> bool {
        if self.used {
            return ok;
        }
        self.used = true;
        self.gate.arrive(ok)
    }
}

impl Drop for Ticket<'_> {
    fn drop(&mut self) {
        if !self.used {
            self.used = true;
            // A target that stops before the gate (an error, a panic) fails it; it does not
            // wait for the others.
            let mut seen = self
                .gate
                .seen
                .lock()
                .unwrap_or_else(std::sync::PoisonError::into_inner);
            seen.0 += 1;
            seen.1 = true;
            self.gate.cv.notify_all();
        }
    }
}

fn join(
    h: std::thread::ScopedJoinHandle<'_, Result<Compiled, Diagnostics>>,
) -> Result<Compiled, Diagnostics> {
    h.join().unwrap_or_else(|_| {
        Err(Diagnostic::new(Code::Internal, "a target thread panicked")
            .with_help("please report this with the Score files attached")
            .into())
    })
}

/// Every target's files in one atomic batch: the primary output at its path, extra artefacts
/// (compose mounts, ...) relative to the primary's directory, as the single-target commands do.
fn prepare_all(
    compiled: &mut [(Compiled, PathBuf)],
    common: &CommonArgs,
) -> Result<generate::Writes, Diagnostics> {
    let files: Vec<_> = compiled
        .iter_mut()
        .flat_map(|(c, primary)| generate::take_plan(primary, &mut c.artefacts))
        .collect();
    let mut inputs = generate::inputs(common);
    inputs.extend(compiled.iter().flat_map(|(c, _)| c.inputs.iter().cloned()));
    let mut writes = generate::prepare_writes(files, &inputs)?;
    for (c, primary) in compiled.iter() {
        writes.modes.extend(generate::modes(
            &generate::parent_dir(primary),
            &c.artefacts,
        ));
        generate::create_directories(&generate::parent_dir(primary), &c.artefacts)?;
    }
    Ok(writes)
}
