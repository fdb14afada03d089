//! Helpers the CLI's end-to-end tests share: run the built `score-gen` (and the drop-in tools)
//! and read what it said. Every test starts an executable of this crate through [`exe`] (the
//! test kit's runner, `score_testkit::cli`).

use std::path::{Path, PathBuf};
use std::process::Output;

pub use score_testkit::cli::{stderr, Bin};

/// An executable of this crate, by name: `score-gen`, `score-compose` or `score-k8s`.
pub fn exe(name: &str) -> Bin {
    match name {
        "score-gen" => score_testkit::bin!("score-gen"),
        "score-compose" => score_testkit::bin!("score-compose"),
        "score-k8s" => score_testkit::bin!("score-k8s"),
        other => panic!("score-cli has no executable {other}"),
    }
}

/// The directory of the built executables (`score-gen`, `score-compose`, `score-k8s`).
pub fn bin_dir() -> PathBuf {
    let dir = exe("score-gen")
        .path()
        .parent()
        .expect("the executables' directory")
        .to_path_buf();
    for tool in ["score-compose", "score-k8s"] {
        assert!(
            exe(tool).path().starts_with(&dir),
            "{tool} is not beside score-gen"
        );
    }
    dir
}

/// `PATH` with [`bin_dir`] first, so a command line that says `score-gen` (a README's, a CI
/// recipe's) runs ours.
pub fn tools_path() -> std::ffi::OsString {
    let mut paths = vec![bin_dir()];
    paths.extend(std::env::split_paths(
        &std::env::var_os("PATH").unwrap_or_default(),
    ));
    std::env::join_paths(paths).expect("PATH")
}

/// Runs `score-gen --color never ARGS` in `cwd`.
pub fn score_gen(cwd: &Path, args: &[&str]) -> Output {
    exe("score-gen")
        .command()
        .args(["--color", "never"])
        .args(args)
        .current_dir(cwd)
        .output()
        .expect("run score-gen")
}

/// Runs `score-gen ARGS` in `dir` (colour off through `NO_COLOR`).
pub fn run_in(dir: &Path, args: &[&str]) -> Output {
    exe("score-gen").run(dir, args)
}

/// Asserts the run succeeded; its stdout.
pub fn ok(out: &Output) -> String {
    assert!(
        out.status.success(),
        "exit {:?}\nstderr: {}",
        out.status.code(),
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// Asserts the run failed with exit 1; its stderr.
pub fn fails(out: &Output) -> String {
    assert_eq!(
        out.status.code(),
        Some(1),
        "stderr: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stderr).into_owned()
}

/// A file of the project, which must exist.
pub fn read(dir: &Path, rel: &str) -> String {
    std::fs::read_to_string(dir.join(rel)).unwrap_or_else(|e| panic!("{rel}: {e}"))
}
