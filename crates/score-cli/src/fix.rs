//! `score-gen fix FILE...`: applies the machine-applicable fixes the diagnostics carry
//! (spec/fixes.md) to each Score file in place.
//!
//! The file is edited by the byte spans the loader records — never re-serialised — so comments,
//! key order, quoting and indentation stay. Fixes are applied in passes (validate, apply the
//! fixes that do not overlap, validate again) until nothing more applies; the file is then
//! written atomically, and only if it has not changed on disk since it was read.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use score_core::diag::{apply_fixes, Fix};
use score_core::host::{fsutil, FsSources};
use score_core::input::ProvisionerFile;
use score_core::{load_workload, Code, Diagnostic, LoadOptions, ProvisionerSet};

use crate::render::Format;
use crate::render::Output;

/// At most this many validate-and-apply passes per file (each pass applies every fix that does
/// not overlap another; a later pass picks up what an earlier one uncovered).
const MAX_PASSES: usize = 8;

#[derive(Debug, clap::Args)]
pub struct Args {
    /// Score files to fix in place.
    #[arg(required = true, value_name = "FILE")]
    files: Vec<PathBuf>,
    /// Print the changes as a unified diff on stdout; write nothing.
    #[arg(long)]
    dry_run: bool,
    /// The state directory whose provisioner files (`DIR/<target>/provisioners/`) add resource
    /// types to those of the default provisioners.
    #[arg(long, default_value = ".score-gen", value_name = "DIR")]
    state_dir: PathBuf,
    /// Allow `files[].source` paths outside the Score file's directory.
    #[arg(long)]
    allow_outside_paths: bool,
}

/// One applied fix, for the report.
struct Applied {
    line: usize,
    column: usize,
    message: String,
}

pub fn run(args: &Args, out: &Output) -> Result<(), u8> {
    let known = known_types(&args.state_dir);
    let mut ok = true;
    let mut json_files = Vec::new();
    let mut left_total = 0usize;
    for path in &args.files {
        let name = path.display().to_string();
        let report = fix_file(path, &name, &known, args);
        let (applied, left, changed) = match report {
            Ok(r) => r,
            Err(d) => (Vec::new(), vec![d], false),
        };
        ok &= left.is_empty();
        left_total += left.len();
        match out.format {
            Format::Json => json_files.push(serde_json::json!({
                "file": name,
                "changed": changed,
                "written": changed && !args.dry_run,
                "applied": applied.iter().map(|a| serde_json::json!({
                    "line": a.line, "column": a.column, "message": a.message,
                })).collect::<Vec<_>>(),
                "valid": left.is_empty(),
                "diagnostics": left.iter().map(Diagnostic::to_json).collect::<Vec<_>>(),
            })),
            Format::Human => {
                for a in &applied {
                    eprintln!("{name}:{}:{}: fixed: {}", a.line, a.column, a.message);
                }
                out.print_human(&left);
                let verb = if args.dry_run {
                    "would apply"
                } else {
                    "applied"
                };
                match (applied.len(), left.len()) {
                    (0, 0) => eprintln!("{name}: nothing to fix, valid"),
                    (n, 0) => eprintln!("{name}: {verb} {n} fix(es), valid"),
                    (n, m) => {
                        eprintln!("{name}: {verb} {n} fix(es), {m} problem(s) left to fix by hand")
                    }
                }
            }
        }
    }
    if out.format == Format::Json {
        let doc = serde_json::json!({ "valid": ok, "files": json_files });
        // With --dry-run the diff is on stdout: the JSON report goes to stderr.
        let text = serde_json::to_string_pretty(&doc).unwrap_or_default();
        if args.dry_run {
            eprintln!("{text}");
        } else {
            println!("{text}");
        }
    } else if args.files.len() > 1 && left_total > 0 {
        eprintln!("{left_total} problem(s) left");
    }
    if ok {
        Ok(())
    } else {
        Err(1)
    }
}

type FileReport = (Vec<Applied>, Vec<Diagnostic>, bool);

// One diagnostic per file, as `files::read_input`.
#[allow(clippy::result_large_err)]
fn fix_file(
    path: &Path,
    name: &str,
    known: &[String],
    args: &Args,
) -> Result<FileReport, Diagnostic> {
    let original = crate::files::read_input(path)?;
    let Ok(mut text) = String::from_utf8(original.clone()) else {
        // Not UTF-8: nothing can be edited; the loader says why.
        return Ok((
            Vec::new(),
            diagnose(path, name, &original, known, args),
            false,
        ));
    };
    let mut applied = Vec::new();
    for _ in 0..MAX_PASSES {
        let diags = diagnose(path, name, text.as_bytes(), known, args);
        let candidates: Vec<(&Diagnostic, &Fix)> = diags
            .iter()
            .filter(|d| d.file.as_ref().is_some_and(|f| f.name == name))
            .flat_map(|d| d.fixes.iter().map(move |f| (d, f)))
            .filter(|(_, f)| f.is_machine_applicable())
            .collect();
        let (next, taken) = apply_fixes(&text, candidates.iter().map(|(_, f)| *f));
        if taken.is_empty() || next == text {
            break;
        }
        let file = score_core::diag::SourceFile::new(name, text.as_str());
        for f in &taken {
            // Reported where the problem is (the diagnostic's place), else at the first edit.
            let at = candidates
                .iter()
                .find(|(_, c)| std::ptr::eq(*c, *f))
                .and_then(|(d, _)| d.span)
                .map(|s| s.offset)
                .unwrap_or_else(|| f.edits.iter().map(|e| e.span.offset).min().unwrap_or(0));
            let (line, column) = file.line_col(at);
            applied.push(Applied {
                line,
                column,
                message: f.message.clone(),
            });
        }
        text = next;
    }
    let left = diagnose(path, name, text.as_bytes(), known, args);
    let changed = text.as_bytes() != original.as_slice();
    if changed {
        if args.dry_run {
            print!(
                "{}",
                unified_diff(name, &String::from_utf8_lossy(&original), &text)
            );
        } else {
            // Nothing is written over a file that changed since it was read.
            let now = crate::files::read_input(path)?;
            if now != original {
                return Err(Diagnostic::new(
                    Code::Io,
                    format!("{name} changed on disk while it was being fixed; nothing written"),
                )
                .with_help("run `score-gen fix` again"));
            }
            fsutil::atomic_write(path, text.as_bytes())
                .map_err(|e| crate::files::io_diag(name, e))?;
        }
    }
    Ok((applied, left, changed))
}

/// Every problem of one file's text: the loader's, then (for a file that loads) resource types
/// no provisioner knows that have a likely intended type.
fn diagnose(
    path: &Path,
    name: &str,
    bytes: &[u8],
    known: &[String],
    args: &Args,
) -> Vec<Diagnostic> {
    let opts = LoadOptions {
        sources: Some(Arc::new(
            FsSources::new(crate::files::parent_dir(path)).allow_outside(args.allow_outside_paths),
        )),
        contents_hidden: crate::files::linked_out_of_project(path),
        ..LoadOptions::default()
    };
    match load_workload(name, bytes, &opts) {
        Err(d) => d.0,
        Ok(loaded) => score_core::validate::hints::check_resource_types(&loaded.document, known)
            .into_iter()
            // A type no default provisioner knows may be the platform's own: only a near miss
            // of a known type is a problem here.
            .filter(|d| !d.fixes.is_empty())
            .collect(),
    }
}

/// The resource types of every target's default provisioners and of the provisioner files in
/// the state directory.
fn known_types(state_dir: &Path) -> Vec<String> {
    let mut types = std::collections::BTreeSet::new();
    for name in crate::row::names() {
        let Ok(target) = crate::row::default_target(name) else {
            continue;
        };
        let mut files = vec![ProvisionerFile::new(
            format!("<{name} default provisioners>"),
            target.default_provisioners(),
        )];
        let dir = state_dir.join(name).join("provisioners");
        if let Ok(entries) = std::fs::read_dir(&dir) {
            let mut paths: Vec<PathBuf> = entries.flatten().map(|e| e.path()).collect();
            paths.sort();
            for p in paths {
                if let Ok(text) = std::fs::read_to_string(&p) {
                    files.push(ProvisionerFile::new(p.display().to_string(), text));
                }
            }
        }
        for f in files {
            if let Ok(set) = ProvisionerSet::load(&[f]) {
                types.extend(set.iter().map(|p| p.kind.clone()));
            }
        }
    }
    types.into_iter().collect()
}

fn unified_diff(name: &str, old: &str, new: &str) -> String {
    similar::TextDiff::from_lines(old, new)
        .unified_diff()
        .context_radius(3)
        .header(&format!("a/{name}"), &format!("b/{name}"))
        .to_string()
}
