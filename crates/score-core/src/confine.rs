//! Path confinement, lexically: whether a path, read against the directory it is relative to,
//! stays inside that directory. No file system access; `host::confine` adds what symbolic links
//! do, and every confinement check of score-gen goes through one of the two (the rule and its
//! table of cases: `host/confine.rs`).
//!
//! Two questions are asked, and they differ on purpose:
//! - [`path_escape`] / [`escape_of`]: does the path's *spelling* leave its directory — is it
//!   absolute, or does a `..` climb above the start, even if later parts come back
//!   (`../p/x` from `p` climbs)? For paths a user or a provisioner writes (`files[].source`,
//!   a bind mount's host path, `--env-file`).
//! - [`under`]: where does an absolute path *land*, once `.` and `..` are resolved — inside
//!   the directory or not? For paths score-gen derives or checks for links (`../p/x` from `p`
//!   lands inside, so its links are checked as the project's).

use std::path::{Component, Path, PathBuf};

/// How a path leaves the directory it is relative to ([`path_escape`]).
///
/// ```
/// use score_core::target::{path_escape, PathEscape};
/// assert_eq!(path_escape("/srv/data"), Some(PathEscape::Absolute));
/// assert_eq!(path_escape("a/../../b"), Some(PathEscape::Climbs));
/// assert_eq!(path_escape("./a/../b/"), None);
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PathEscape {
    /// The path is absolute: it names its place whatever the directory is.
    Absolute,
    /// A `..` climbs above the directory (later parts coming back in do not undo it).
    Climbs,
}

/// How `path`, a `/`-separated relative path as written in a Score or provisioner file, leaves
/// the directory it is read against, or `None` when it stays inside. Empty parts and `.` count
/// for nothing (`a//b/./c/`); `..` goes up one part. `\` and `:` are ordinary characters of a
/// name (`..\x` and `C:\x` are one plain name each): the rule is the same on every platform.
///
/// ```
/// use score_core::target::{path_escape, PathEscape};
/// assert_eq!(path_escape("data/../.."), Some(PathEscape::Climbs));
/// assert_eq!(path_escape("a/./b/../../c"), None);
/// assert_eq!(path_escape(r"..\x"), None);
/// ```
pub fn path_escape(path: &str) -> Option<PathEscape> {
    if path.starts_with('/') {
        return Some(PathEscape::Absolute);
    }
    walk(path.split('/').map(|part| match part {
        "" | "." => Step::Stay,
        ".." => Step::Up,
        _ => Step::Down,
    }))
}

/// [`path_escape`] for a path of this platform (its separators and roots; `Path::is_absolute`
/// decides absoluteness). On Unix it answers as `path_escape` does for the same text.
#[cfg_attr(not(feature = "host"), allow(dead_code))]
pub(crate) fn escape_of(path: &Path) -> Option<PathEscape> {
    if path.is_absolute() {
        return Some(PathEscape::Absolute);
    }
    walk(path.components().map(|c| match c {
        Component::ParentDir => Step::Up,
        Component::Normal(_) => Step::Down,
        // `.`, and a root or prefix that does not make the path absolute (Windows' `\x`, `C:x`).
        _ => Step::Stay,
    }))
}

enum Step {
    Up,
    Down,
    Stay,
}

/// The one walk: the depth below the start, which a `..` at depth 0 leaves.
fn walk(steps: impl Iterator<Item = Step>) -> Option<PathEscape> {
    let mut depth = 0usize;
    for step in steps {
        match step {
            Step::Up if depth == 0 => return Some(PathEscape::Climbs),
            Step::Up => depth -= 1,
            Step::Down => depth += 1,
            Step::Stay => {}
        }
    }
    None
}

/// `path` with `.` and `..` resolved lexically, as Go's `filepath.Clean`: `a/./b/..` → `a`,
/// a leading `..` of a relative path is kept (`../x`), `..` at the root stays at the root
/// (`/..` → `/`), and an empty result is `.`.
#[cfg_attr(not(feature = "host"), allow(dead_code))]
pub(crate) fn clean(path: &Path) -> PathBuf {
    let mut out: Vec<Component> = Vec::new();
    for c in path.components() {
        match c {
            Component::CurDir => {}
            Component::ParentDir => match out.last() {
                Some(Component::Normal(_)) => {
                    out.pop();
                }
                Some(Component::RootDir) | Some(Component::Prefix(_)) => {}
                _ => out.push(c),
            },
            other => out.push(other),
        }
    }
    if out.is_empty() {
        return PathBuf::from(".");
    }
    out.iter().collect()
}

/// Where `path` lands below `root`, lexically (both [`clean`]ed; give both absolute): `None`
/// when it lands outside. `root/../root/x` lands at `x`.
#[cfg_attr(not(feature = "host"), allow(dead_code))]
pub(crate) fn under(root: &Path, path: &Path) -> Option<PathBuf> {
    clean(path)
        .strip_prefix(clean(root))
        .ok()
        .map(Path::to_path_buf)
}
