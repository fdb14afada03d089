//! Everything that touches the host: the file system, processes and the network. Behind the
//! default-on `host` feature; without it score-core is pure (bytes and values in, values out),
//! and clippy's `disallowed-methods`/`disallowed-types` (see `clippy.toml`) keep file, process
//! and network calls out of every other module.
//!
//! - [`confine`](mod@confine): whether a path stays inside its directory, symbolic links
//!   included (the lexical rule is [`crate::target::path_escape`]);
//! - [`fsutil`]: atomic writes and the directory lock;
//! - [`fetch`](mod@fetch): provisioner files from paths, `http(s)://` and git URIs;
//! - [`StateDir`]: the locked `.score-gen/<target>/` directory, and [`crate::State::new_random`];
//! - [`FsSources`]: `files[].source` read relative to the Score file's directory;
//! - running `cmd://` provisioners (only when [`crate::ProvisionOptions::commands`] allows it).

#![allow(clippy::disallowed_methods, clippy::disallowed_types)]
// `Diagnostic` is the crate-wide error shape (see `provision`).
#![allow(clippy::result_large_err)]

pub(crate) mod cmd;
pub mod confine;
pub mod fetch;
pub mod fsutil;
mod sources;
mod state_dir;

pub use fetch::{fetch, FetchOptions, Fetched};
pub use fsutil::{atomic_write, atomic_write_all, DirLock};
pub use sources::FsSources;
pub use state_dir::StateDir;

/// The state directory's layout and bounds (`.score-gen/<target>/state.yaml`), for callers that
/// name the files themselves (score-gen's CLI and its drop-in tools).
pub use crate::project::state::{DEFAULT_LOCK_TIMEOUT, MAX_STATE_BYTES, STATE_FILE, STATE_ROOT};

/// `PATH`, to find a `cmd://name` program as the tools do (`host::cmd::locate`).
pub(crate) fn path_var() -> Option<std::ffi::OsString> {
    std::env::var_os("PATH")
}

/// `~/x` → `$HOME/x` for a `cmd://~/x` program path; `None` when `HOME` is unset.
pub(crate) fn home_dir() -> Option<std::path::PathBuf> {
    std::env::var_os("HOME").map(std::path::PathBuf::from)
}
