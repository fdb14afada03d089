//! The command line of `score-gen`, `score-compose` and `score-k8s`: compile Score workloads
//! to docker-compose, Kubernetes and Terraform.
//!
//! Each executable is a thin `main` over [`run`] (`src/main.rs`, `src/bin/`). Thin by design:
//! parse flags, read files, call score-core and a target, write outputs atomically, render
//! diagnostics. Exit codes: 0 success, 1 the input is wrong (diagnostics printed), 2 the
//! command line is wrong (clap's usage errors). Not a library for other crates: the API is
//! [`run`], and [`run_with_targets`] with the rows of [`targets`] for a program that adds a
//! target of its own (`examples/fourth-target`); nothing else is promised.

// The doc comments on clap arguments are --help text, written for a terminal, not rustdoc markup.
#![allow(rustdoc::bare_urls, rustdoc::invalid_html_tags)]

mod all;
mod annotations;
mod budget;
mod commands;
mod drift;
mod files;
mod fix;
mod generate;
mod graph;
mod kustomize;
mod patches;
mod render;
mod row;
mod table;
pub mod targets;
mod tool;
mod validate;

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{CommandFactory, FromArgMatches, Parser, Subcommand};

pub use render::{Color, Format, LegacyFormat, QUIET, VERBOSE};

/// Compile Score (score.dev/v1b1) workloads to docker-compose, Kubernetes and Terraform.
#[derive(Debug, Parser)]
#[command(name = "score-gen", version, about, propagate_version = true)]
struct Cli {
    /// How to print diagnostics: `human` (default) or `json` (one JSON document, for CI; on
    /// stderr when the output goes to stdout with `-o -`).
    #[arg(long, global = true, value_enum, value_name = "FORMAT", help_heading = GLOBAL)]
    message_format: Option<Format>,
    /// The former name of --message-format, before the subcommand (`score-gen --format json
    /// validate ...`). Subcommands take it too where --format means nothing else.
    #[arg(long = "format", value_enum, hide = true, value_name = "FORMAT")]
    legacy_format: Option<Format>,
    /// Print no notes on stderr (e.g. `init`'s "wrote FILE", warnings); errors still print.
    #[arg(short, long, global = true, conflicts_with = "verbose", help_heading = GLOBAL)]
    quiet: bool,
    /// When to colour human output.
    #[arg(long, global = true, value_enum, default_value_t = Color::Auto, help_heading = GLOBAL)]
    color: Color,
    /// Say more on stderr: `-v` lists every program a cmd:// provisioner ran (which program, for
    /// which resource, from which provisioner file).
    #[arg(short, long, global = true, action = clap::ArgAction::Count, help_heading = GLOBAL)]
    verbose: u8,
    /// Stop (exit 1, nothing written) when the run would hold more than this many MiB: the
    /// backstop for provisioner templates that build huge values (spec/security.md).
    #[arg(long, global = true, value_name = "MIB", default_value_t = budget::DEFAULT_MIB, help_heading = GLOBAL,
          value_parser = clap::value_parser!(u64).range(64..=1_048_576))]
    max_memory: u64,
    /// `None` for a target's subcommand, which the table adds ([`cli_command`]).
    #[command(subcommand)]
    command: Option<Command>,
}

/// score-gen's command line: the derived commands plus one subcommand per row of the target
/// table (its flags, help and examples), and `all`'s help naming the table's outputs.
fn cli_command() -> clap::Command {
    let rows = targets::all();
    let outputs: Vec<String> = rows
        .iter()
        .map(|t| format!("DIR/{}", t.all_output))
        .collect();
    let names: Vec<&str> = rows.iter().map(|t| t.name).collect();
    let mut cmd = Cli::command()
        .subcommand_required(true)
        .arg_required_else_help(true)
        .mut_subcommand("all", |c| {
            c.about(format!(
                "Compile to {} at once (shared load and validation): {}",
                names.join(", "),
                outputs.join(", ")
            ))
        });
    // The target subcommands after `init`, in the table's order.
    let derived: Vec<String> = cmd
        .get_subcommands()
        .map(|c| c.get_name().to_string())
        .collect();
    for (j, name) in derived.iter().enumerate() {
        let order = if j < 3 { j } else { 100 + j };
        cmd = cmd.mut_subcommand(name, |c| c.display_order(order));
    }
    for (i, t) in rows.iter().enumerate() {
        // The flags first: an `Args` struct brings its own doc comment as `about`.
        let mut sub = (t.command.args)(clap::Command::new(t.name))
            .about(t.about)
            .display_order(3 + i);
        if !t.examples.is_empty() {
            sub = sub.after_help(t.examples);
        }
        cmd = cmd.subcommand(sub);
    }
    cmd = cmd.mut_subcommand("all", |c| c.display_order(3 + rows.len()));
    cmd
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Check Score files: schema, placeholders, `before` graph. Exit 0 when all are valid.
    #[command(after_help = examples::VALIDATE)]
    Validate(validate::Args),
    /// Apply the machine-applicable fixes of Score files' problems in place (spec/fixes.md).
    Fix(fix::Args),
    /// Write a sample score.yaml (if none) and the target's default provisioners into the state dir.
    #[command(after_help = examples::INIT)]
    Init(commands::InitArgs),
    /// Compile to every target at once (its help names them, from the target table).
    #[command(after_help = examples::ALL)]
    All(all::AllArgs),
    /// Draw the workloads, resources, provisioners and their edges (dot, mermaid, json,
    /// backstage catalog entities) on stdout; nothing is provisioned or written.
    Graph(graph::GraphArgs),
    /// Inspect the provisioners a target would use.
    #[command(subcommand, after_help = examples::PROVISIONERS)]
    Provisioners(commands::ProvisionersCommand),
    /// Inspect provisioned resources in the state.
    #[command(subcommand, after_help = examples::RESOURCES)]
    Resources(commands::ResourcesCommand),
    /// Run the language server on stdin/stdout, for editors (docs/editors.md).
    Lsp,
    /// Print the version.
    Version,
    /// Not a score-gen command: score-compose's and score-k8s's `generate` (hidden; it answers
    /// with the command to use).
    #[command(hide = true, disable_help_flag = true)]
    Generate {
        /// Whatever followed.
        #[arg(trailing_var_arg = true, allow_hyphen_values = true)]
        rest: Vec<std::ffi::OsString>,
    },
    /// Print a shell completion script, e.g. `score-gen completion bash > /etc/bash_completion.d/score-gen`.
    Completion {
        /// The shell.
        #[arg(value_enum)]
        shell: clap_complete::Shell,
    },
}

/// The heading of the flags every command takes.
const GLOBAL: &str = "Global options";

/// The Examples section of each command's `--help`.
mod examples {
    pub const VALIDATE: &str = "\
Examples:
  # Check one file, or every service's file, for CI
  score-gen validate score.yaml
  score-gen validate --message-format json services/*/score.yaml";

    pub const INIT: &str = "\
Examples:
  # A sample score.yaml and the compose defaults in .score-gen/compose/provisioners/
  score-gen init

  # The k8s defaults, and a patch template every k8s run applies
  score-gen init --target k8s --patch-templates ./patches/replicas.tpl";

    pub const ALL: &str = "\
Examples:
  # out/compose.yaml, out/manifests.yaml, out/terraform/main.tf
  score-gen all score.yaml -o out";

    pub const PROVISIONERS: &str = "\
Examples:
  # What would provision each type, in the order tried
  score-gen provisioners list
  score-gen provisioners list --target k8s --format json";

    pub const RESOURCES: &str = "\
Examples:
  # What the project provisioned, and one resource's outputs
  score-gen resources list
  score-gen resources get-outputs 'postgres.default#hello.db' --format '{{.host}}:{{.port}}'

  # Let a changed provisioner take the resource over
  score-gen resources remove 'postgres.default#hello.db'";
}

#[global_allocator]
static ALLOCATOR: budget::Budgeted = budget::Budgeted::new();

impl Command {
    /// The diagnostics format the subcommand's own flags ask for: its former `--format
    /// human|json`, or (listings) `--format json`, which prints errors as JSON too.
    fn message_format(&self) -> Option<Format> {
        match self {
            Command::Validate(a) => a.legacy.format,
            Command::Init(a) => a.legacy.format,
            Command::All(a) => a.legacy.format,
            Command::Provisioners(c) => c.message_format(),
            Command::Resources(c) => c.message_format(),
            Command::Fix(_)
            | Command::Graph(_)
            | Command::Lsp
            | Command::Version
            | Command::Generate { .. }
            | Command::Completion { .. } => None,
        }
    }

    /// Whether the command writes its result to stdout (`-o -`), so diagnostics must not.
    fn output_is_stdout(&self) -> bool {
        let dash = |p: &std::path::Path| p == std::path::Path::new("-");
        let _ = dash;
        matches!(self, Command::Graph(_))
    }
}

/// A path argument that may be `-` for stdout.
pub type OutPath = PathBuf;

/// Which executable is running: the commands and project folder it speaks.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Program {
    /// `score-gen`: its own commands, `.score-gen/<target>/`.
    ScoreGen,
    /// `score-compose`: score-compose's commands, flags and `.score-compose/` folder.
    ScoreCompose,
    /// `score-k8s`: score-k8s's commands, flags and `.score-k8s/` folder.
    ScoreK8s,
}

/// Runs `program` with the process's arguments and `rows` as the target table (score-gen's
/// [`targets::DEFAULT_TARGETS`] plus a target of the caller's, say); the exit code to return
/// from `main`.
pub fn run_with_targets(program: Program, rows: Vec<targets::TargetInfo>) -> ExitCode {
    targets::set(rows);
    run(program)
}

/// Runs `program` with the process's arguments; the exit code to return from `main`.
pub fn run(program: Program) -> ExitCode {
    budget::init();
    row::install(targets::DEFAULT_TARGETS);
    match program {
        Program::ScoreGen => score_gen(),
        Program::ScoreCompose => tool::main(tool::folder::Tool::Compose),
        Program::ScoreK8s => tool::main(tool::folder::Tool::K8s),
    }
}

/// The one-line answer to `score-gen generate ...`: the command that does it.
fn generate_hint(rest: &[std::ffi::OsString]) -> Result<(), u8> {
    let args: Vec<String> = rest
        .iter()
        .map(|a| a.to_string_lossy().into_owned())
        .collect();
    let files = args.join(" ");
    let tail = if files.is_empty() {
        String::new()
    } else {
        format!(" {files}")
    };
    eprintln!(
        "error: score-gen has no `generate`: use `score-gen compose{tail}` or `score-gen k8s{tail}` \
         (or the score-compose and score-k8s commands installed beside score-gen, which take \
         `generate` as those tools do)"
    );
    Err(2)
}

fn score_gen() -> ExitCode {
    let matches = cli_command().get_matches();
    let cli = match Cli::from_arg_matches(&matches) {
        Ok(cli) => cli,
        Err(e) => e.exit(),
    };
    // A target's subcommand: its row of the table runs it.
    let row = matches.subcommand().and_then(|(name, m)| {
        let row = targets::all().iter().find(|t| t.name == name)?;
        Some((row, m))
    });
    VERBOSE.store(cli.verbose, std::sync::atomic::Ordering::Relaxed);
    QUIET.store(cli.quiet, std::sync::atomic::Ordering::Relaxed);
    budget::set_limit_mib(cli.max_memory);
    let (own_format, stdout) = match (&cli.command, row) {
        (Some(c), _) => (c.message_format(), c.output_is_stdout()),
        (None, Some((row, m))) => (row.command.output)(m),
        (None, None) => (None, false),
    };
    let format = cli
        .message_format
        .or(cli.legacy_format)
        .or(own_format)
        .unwrap_or(Format::Human);
    let out = render::Output::new(format, cli.color).with_json_on_stderr(stdout);
    let Some(command) = cli.command else {
        let result = match row {
            Some((row, m)) => out.finish((row.command.run)(row, m)),
            None => Err(2),
        };
        return exit_code(format, result);
    };
    let result = match command {
        Command::Validate(args) => validate::run(&args, &out),
        Command::Fix(args) => fix::run(&args, &out),
        Command::Init(args) => out.finish(commands::init(&args)),
        Command::All(args) => out.finish(all::run(&args)),
        Command::Graph(args) => out.finish(graph::run(&args)),
        Command::Provisioners(c) => out.finish(commands::provisioners(&c)),
        Command::Resources(c) => out.finish(commands::resources(&c)),
        Command::Lsp => score_lsp::run_stdio(targets::lsp_config()).map_err(|e| {
            eprintln!("score-gen lsp: {e}");
            1
        }),
        Command::Version => {
            println!("score-gen {}", env!("CARGO_PKG_VERSION"));
            Ok(())
        }
        Command::Generate { rest } => generate_hint(&rest),
        Command::Completion { shell } => {
            clap_complete::generate(
                shell,
                &mut cli_command(),
                "score-gen",
                &mut std::io::stdout(),
            );
            Ok(())
        }
    };
    exit_code(format, result)
}

/// The process's exit code for a command's result.
fn exit_code(format: Format, result: Result<(), u8>) -> ExitCode {
    match result {
        // --check found outputs out of date (the diff is on stderr).
        Ok(()) if drift::drifted() => {
            if format == Format::Json {
                let doc = serde_json::json!({"ok": false, "out_of_date": drift::report_json()});
                println!("{}", serde_json::to_string_pretty(&doc).unwrap_or_default());
            }
            ExitCode::from(drift::EXIT_DRIFT)
        }
        Ok(()) => ExitCode::SUCCESS,
        Err(code) => ExitCode::from(code),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every command line of the `--help` Examples parses: the flags and values they show exist.
    #[test]
    fn the_help_examples_parse() {
        row::install(targets::DEFAULT_TARGETS);
        let mut all = vec![
            examples::VALIDATE,
            examples::INIT,
            examples::ALL,
            examples::PROVISIONERS,
            examples::RESOURCES,
        ];
        all.extend(
            targets::all()
                .iter()
                .map(|t| t.examples)
                .filter(|e| !e.is_empty()),
        );
        let mut n = 0;
        for text in all {
            assert!(text.starts_with("Examples:\n"), "{text}");
            for line in text.lines().map(str::trim) {
                let Some(rest) = line.strip_prefix("score-gen ") else {
                    assert!(
                        line.is_empty() || line.starts_with('#') || line == "Examples:",
                        "{line}"
                    );
                    continue;
                };
                // The examples quote with '...' only.
                let mut args = vec!["score-gen".to_string()];
                let mut quoted = false;
                let mut cur = String::new();
                for c in rest.chars() {
                    match c {
                        '\'' => quoted = !quoted,
                        ' ' if !quoted => {
                            if !cur.is_empty() {
                                args.push(std::mem::take(&mut cur));
                            }
                        }
                        c => cur.push(c),
                    }
                }
                args.push(cur);
                if let Err(e) = cli_command().try_get_matches_from(&args) {
                    panic!("`{line}` does not parse: {e}");
                }
                n += 1;
            }
        }
        assert!(n >= 15, "{n}");
    }
}
