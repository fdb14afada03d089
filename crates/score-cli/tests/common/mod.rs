//! Helpers the CLI's end-to-end tests share: run the built `score-gen` and read what it said.
#![allow(dead_code)] // each test binary uses a different subset

use std::path::Path;
use std::process::{Command, Output};

/// Runs `score-gen --color never ARGS` in `cwd`.
pub fn score_gen(cwd: &Path, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_score-gen"))
        .args(["--color", "never"])
        .args(args)
        .current_dir(cwd)
        .output()
        .expect("run score-gen")
}

/// The run's stderr, lossily decoded.
pub fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}
