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

use score_core::diag::{Diagnostic, Diagnostics};
use score_core::resolved::TargetOptions;
use score_target_compose::ComposeTarget;
use score_target_k8s::K8sTarget;
use score_target_terraform::TerraformTarget;

use crate::commands::{compose_options, ComposeFlags};
use crate::generate::{self, io_diag, CommonArgs, Compiled};

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
    #[arg(long)]
    namespace: Option<String>,
    /// k8s: also emit the Namespace object (needs --namespace).
    #[arg(long, requires = "namespace")]
    generate_namespace: bool,
}

/// The primary output of each target, relative to `DIR`.
pub const OUTPUTS: [(&str, &str); 3] = [
    ("compose", "compose.yaml"),
    ("k8s", "manifests.yaml"),
    ("terraform", "terraform/main.tf"),
];

/// Runs `score-gen all`.
pub fn run(args: &AllArgs) -> Result<(), Diagnostics> {
    if args.output == Path::new("-") {
        return Err(Diagnostic::new(
            "score::usage",
            "score-gen all writes three outputs and needs a directory, not '-'",
        )
        .with_help("use -o DIR, or a single-target command (compose, k8s, terraform) for stdout")
        .into());
    }
    if args.output.is_file() {
        return Err(Diagnostic::new(
            "score::usage",
            format!("-o {}: is a file, not a directory", args.output.display()),
        )
        .into());
    }
    generate::check_override_usage(&args.common)?;
    let compose_opts = compose_options(&args.compose, None)?;
    let mut k8s_opts = TargetOptions::default();
    let mut tf_opts = TargetOptions::default();
    if let Some(ns) = &args.namespace {
        k8s_opts.settings.insert("namespace".into(), ns.clone());
        tf_opts.settings.insert("namespace".into(), ns.clone());
    }
    if args.generate_namespace {
        k8s_opts
            .settings
            .insert("generate_namespace".into(), "true".into());
    }

    let workloads = generate::load_all(&args.common)?;
    let common = &args.common;
    let wl = &workloads[..];
    // One thread per target: they share nothing mutable (own state dir, own provisioners).
    let (compose, k8s, terraform) = std::thread::scope(|s| {
        let c = s.spawn(|| generate::compile_target(&ComposeTarget, common, wl, &compose_opts));
        let k = s.spawn(|| generate::compile_target(&K8sTarget, common, wl, &k8s_opts));
        let t = generate::compile_target(&TerraformTarget, common, wl, &tf_opts);
        (join(c), join(k), t)
    });

    // Report every target's problems, each tagged with its target, before failing.
    let mut diags = Diagnostics::default();
    let mut compiled = Vec::new();
    for (result, (name, rel)) in [compose, k8s, terraform].into_iter().zip(OUTPUTS) {
        match result {
            Ok(c) => compiled.push((c, args.output.join(rel))),
            Err(d) => diags.0.extend(d.0.into_iter().map(|mut x| {
                x.message = format!("{name}: {}", x.message);
                x
            })),
        }
    }
    diags.into_result()?;

    write_all(&compiled)?;
    for (c, _) in &compiled {
        c.save_state()?;
    }
    Ok(())
}

fn join(
    h: std::thread::ScopedJoinHandle<'_, Result<Compiled, Diagnostics>>,
) -> Result<Compiled, Diagnostics> {
    h.join().unwrap_or_else(|_| {
        Err(
            Diagnostic::new("score::internal", "a target thread panicked")
                .with_help("please report this with the Score files attached")
                .into(),
        )
    })
}

/// Every target's files in one atomic batch: the primary output at its path, extra artefacts
/// (compose mounts, ...) relative to the primary's directory, as the single-target commands do.
fn write_all(compiled: &[(Compiled, PathBuf)]) -> Result<(), Diagnostics> {
    let mut files = Vec::new();
    for (c, primary) in compiled {
        let base = generate::parent_dir(primary);
        for (i, (rel, bytes)) in c.artefacts.files.iter().enumerate() {
            let path = if i == 0 {
                primary.clone()
            } else {
                base.join(rel)
            };
            files.push((path, bytes.clone()));
        }
    }
    for (p, _) in &files {
        if let Some(dir) = p.parent() {
            if !dir.as_os_str().is_empty() {
                std::fs::create_dir_all(dir).map_err(|e| io_diag(&dir.display().to_string(), e))?;
            }
        }
    }
    score_core::fsutil::atomic_write_all(&files).map_err(|e| {
        let first = files.first().map(|(p, _)| p.display().to_string());
        io_diag(&first.unwrap_or_default(), e)
    })?;
    for (c, primary) in compiled {
        generate::apply_modes(&generate::parent_dir(primary), &c.artefacts)?;
    }
    Ok(())
}
