//! The one way the CLI's tests start an executable of score-cli (`score-gen`, `score-compose`,
//! `score-k8s`): [`bin!`](crate::bin!) names it, [`Bin::command`] gives the `Command`, and the
//! helpers below read what it said.
//!
//! Cargo tells a test where its crate's executables are only at compile time
//! (`CARGO_BIN_EXE_<name>`), so [`bin!`](crate::bin!) is a macro: it expands in the test's own
//! crate.

use std::ffi::OsStr;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

/// An executable of the crate under test, by the path cargo built it at.
#[derive(Clone, Debug)]
pub struct Bin(PathBuf);

/// The executable `name` of the crate whose test this is: `bin!("score-gen")`.
#[macro_export]
macro_rules! bin {
    ($name:literal) => {
        $crate::cli::Bin::at(env!(concat!("CARGO_BIN_EXE_", $name)))
    };
}

impl Bin {
    /// The executable at `path` (what [`bin!`](crate::bin!) gives; or another build of it, such
    /// as the release binary a scale test measures).
    pub fn at(path: impl Into<PathBuf>) -> Bin {
        Bin(path.into())
    }

    /// Its path.
    pub fn path(&self) -> &Path {
        &self.0
    }

    /// A `Command` for it, nothing set: the caller adds its arguments, working directory and
    /// environment.
    pub fn command(&self) -> Command {
        Command::new(&self.0)
    }

    /// Runs it with `args` in `cwd`, colour off through `NO_COLOR`; what it said.
    pub fn run<S: AsRef<OsStr>>(&self, cwd: &Path, args: &[S]) -> Output {
        self.command()
            .args(args)
            .current_dir(cwd)
            .env("NO_COLOR", "1")
            .output()
            .unwrap_or_else(|e| panic!("run {}: {e}", self.0.display()))
    }
}

/// The run's stdout, lossily decoded.
pub fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

/// The run's stderr, lossily decoded.
pub fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}
