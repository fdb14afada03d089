//! `score-gen validate FILE...`

use std::path::PathBuf;

use score_core::host::FsSources;
use score_core::{load_workload, LoadOptions};
use score_core::{Code, Diagnostic};

use crate::render::Format;
use crate::render::Output;

#[derive(Debug, clap::Args)]
pub struct Args {
    /// Score files to check.
    #[arg(required = true, value_name = "FILE")]
    files: Vec<PathBuf>,
    /// Allow `files[].source` paths outside the Score file's directory.
    #[arg(long)]
    allow_outside_paths: bool,
    #[command(flatten)]
    pub legacy: crate::render::LegacyFormat,
}

/// Validates every file, prints every problem, returns Err(1) if any file is invalid.
pub fn run(args: &Args, out: &Output) -> Result<(), u8> {
    let mut results = Vec::new();
    let mut all_diags: Vec<Diagnostic> = Vec::new();
    // The first file that used each workload name: `compose`/`k8s` refuse two files with one
    // name in a run, so `validate` given both says so too.
    let mut names: std::collections::BTreeMap<String, score_core::LoadedWorkload> =
        std::collections::BTreeMap::new();
    for path in &args.files {
        let name = path.display().to_string();
        let diags = match crate::files::read_input(path) {
            Err(d) if d.code == Code::Io => vec![Diagnostic::new(
                Code::Io,
                format!(
                    "cannot read {name}: {}",
                    d.message.trim_start_matches(&format!("{name}: "))
                ),
            )
            .with_help("check the path; Score files are usually named score.yaml")],
            Err(d) => vec![d],
            Ok(bytes) => {
                let opts = LoadOptions {
                    sources: Some(std::sync::Arc::new(
                        FsSources::new(crate::files::parent_dir(path))
                            .allow_outside(args.allow_outside_paths),
                    )),
                    contents_hidden: crate::files::linked_out_of_project(path),
                    ..LoadOptions::default()
                };
                match load_workload(&name, &bytes, &opts) {
                    Ok(loaded) => match names.get(loaded.workload.name()) {
                        Some(first) => {
                            let wname = loaded.workload.name();
                            vec![loaded
                                .document
                                .diagnostic(
                                    Code::ProjectDuplicateWorkload,
                                    "/metadata/name",
                                    format!("workload name '{wname}' is used more than once"),
                                )
                                .with_help(
                                    "every workload in one run needs its own metadata.name; \
                                     `compose`/`k8s` given these files together would refuse them",
                                )
                                .with_related(first.document.diagnostic(
                                    Code::ProjectDuplicateWorkload,
                                    "/metadata/name",
                                    "first used here",
                                ))]
                        }
                        None => {
                            results.push(serde_json::json!({
                                "file": name, "valid": true, "workload": loaded.workload.name(),
                                "upgrades": loaded.upgrades,
                            }));
                            names.insert(loaded.workload.name().to_string(), loaded);
                            Vec::new()
                        }
                    },
                    Err(d) => d.0,
                }
            }
        };
        if !diags.is_empty() {
            results.push(serde_json::json!({
                "file": name, "valid": false,
                "diagnostics": diags.iter().map(|d| crate::render::shown(d).to_json()).collect::<Vec<_>>(),
            }));
        }
        all_diags.extend(diags);
    }
    let ok = all_diags.is_empty();
    match out.format {
        Format::Json => {
            let doc = serde_json::json!({ "valid": ok, "files": results });
            println!("{}", serde_json::to_string_pretty(&doc).unwrap_or_default());
        }
        Format::Human => {
            out.print_human(&all_diags);
            for r in &results {
                if r["valid"] == true {
                    println!(
                        "{}: valid (workload '{}')",
                        r["file"].as_str().unwrap_or(""),
                        r["workload"].as_str().unwrap_or("")
                    );
                }
            }
            if !ok {
                match all_diags.len() {
                    1 => eprintln!("1 problem found"),
                    n => eprintln!("{n} problems found"),
                }
            }
        }
    }
    if ok {
        Ok(())
    } else {
        Err(1)
    }
}
