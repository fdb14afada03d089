//! Path confinement through the file system: the lexical rule ([`crate::target::path_escape`])
//! plus symbolic links, for the three kinds of path score-gen confines to a directory.
//!
//! - [`source_escape`]: a path read relative to a directory (`files[].source`, relative to the
//!   Score file's): absolute, `..` above the directory, or a file whose real path is outside
//!   the directory's real path;
//! - [`project_escape`]: a path given to the CLI (`--env-file`, and what a stored workload
//!   reads), relative to the project directory or absolute: outside it, `..` above it, or a
//!   directory on its way that is a link out of it (the file itself may not exist yet; a link
//!   as the final component of a write is refused by `fsutil`'s own check);
//! - [`linked_out_of`]: a file named inside the project (where it lands, lexically) whose real
//!   path is outside it; its text is not shown in diagnostics (spec/security.md).
//!
//! `fsutil::check_confined` finds the directories below the project whose links it refuses
//! with this module's lexical placement (`lands_under`). The cases, and how each of these
//! answers them, are the table of the test at the end of this file.

use std::path::{Path, PathBuf};

use crate::confine::{clean, escape_of, under, PathEscape};

/// How a path leaves the directory it is confined to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Escape {
    /// By its spelling: absolute, or a `..` above the directory.
    Lexical(PathEscape),
    /// Through a symbolic link: where it really leads (every link resolved).
    Link(PathBuf),
}

/// How `source`, read relative to `dir`, leaves `dir`: lexically (any absolute path, or `..`
/// above `dir`), or, when the file exists, by its real path (a link, or a link to a directory
/// on the way) being outside `dir`'s real path. `None` when it stays inside, or is lexically
/// inside and does not exist (reading it will fail).
///
/// ```
/// use score_core::host::confine::{source_escape, Escape};
/// use score_core::target::PathEscape;
/// use std::path::Path;
/// let dir = tempfile::tempdir().unwrap();
/// assert_eq!(source_escape(dir.path(), Path::new("a/../b.txt")), None);
/// assert_eq!(
///     source_escape(dir.path(), Path::new("../b.txt")),
///     Some(Escape::Lexical(PathEscape::Climbs))
/// );
/// ```
pub fn source_escape(dir: &Path, source: &Path) -> Option<Escape> {
    if let Some(e) = escape_of(source) {
        return Some(Escape::Lexical(e));
    }
    resolves_outside(dir, &dir.join(source)).map(Escape::Link)
}

/// How `path`, relative to `root` (the project directory; give it absolute) or absolute, leaves
/// `root`: an absolute path not below `root`, `..` climbing above `root` (for an absolute path,
/// from `root` on: `<root>/../x` climbs), or the directory holding it resolving, through a
/// symbolic link, outside `root`'s real path. `None` when it stays inside.
///
/// ```
/// use score_core::host::confine::project_escape;
/// use std::path::Path;
/// let dir = tempfile::tempdir().unwrap();
/// let root = dir.path();
/// assert!(project_escape(root, Path::new(".env")).is_none());
/// assert!(project_escape(root, &root.join("sub/.env")).is_none());
/// assert!(project_escape(root, &root.join("../x/.env")).is_some());
/// assert!(project_escape(root, Path::new("/elsewhere/.env")).is_some());
/// ```
pub fn project_escape(root: &Path, path: &Path) -> Option<Escape> {
    let lexical = match escape_of(path) {
        Some(PathEscape::Absolute) => match path.strip_prefix(root) {
            Ok(rest) => escape_of(rest),
            Err(_) => Some(PathEscape::Absolute),
        },
        other => other,
    };
    if let Some(e) = lexical {
        return Some(Escape::Lexical(e));
    }
    root.join(path)
        .parent()
        .and_then(|dir| resolves_outside(root, dir))
        .map(Escape::Link)
}

/// Whether `path` names a place inside `root` (lexically) but resolves, through a symbolic link,
/// to a file outside it: a repository's `score.yaml -> ~/.aws/credentials`. A path outside
/// `root` is the user's explicit choice and does not count. Both may be relative to the
/// working directory.
///
/// ```
/// let dir = tempfile::tempdir().unwrap();
/// let (root, outside) = (dir.path().join("p"), dir.path().join("secret"));
/// std::fs::create_dir(&root).unwrap();
/// std::fs::write(&outside, "x").unwrap();
/// std::os::unix::fs::symlink(&outside, root.join("score.yaml")).unwrap();
/// use score_core::host::confine::linked_out_of;
/// assert!(linked_out_of(&root, &root.join("score.yaml")));
/// assert!(!linked_out_of(&root, &outside));
/// ```
pub fn linked_out_of(root: &Path, path: &Path) -> bool {
    lands_under(root, path).is_some() && resolves_outside(root, path).is_some()
}

/// `root` made absolute and lexical, and `path`'s part below it, when `path` (relative to the
/// working directory, or absolute) lands inside `root` lexically.
pub(crate) fn lands_under(root: &Path, path: &Path) -> Option<(PathBuf, PathBuf)> {
    let root = absolute(root);
    let rel = under(&root, &absolute(path))?;
    Some((clean(&root), rel))
}

/// `path` made absolute against the working directory (lexically; links are not resolved).
pub(crate) fn absolute(path: &Path) -> PathBuf {
    if path.is_absolute() {
        path.to_path_buf()
    } else {
        std::env::current_dir().unwrap_or_default().join(path)
    }
}

/// `path`'s real path, when it exists and is outside `root`'s real path.
fn resolves_outside(root: &Path, path: &Path) -> Option<PathBuf> {
    let real = path.canonicalize().ok()?;
    let root = root.canonicalize().ok()?;
    (!real.starts_with(root)).then_some(real)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::target::path_escape;

    /// What a check answered, in a form a table row can spell.
    #[derive(Debug, PartialEq, Eq, Clone, Copy)]
    enum V {
        /// Stays inside.
        In,
        /// Absolute.
        Abs,
        /// `..` above the directory.
        Up,
        /// A symbolic link out.
        Link,
    }
    use V::*;

    fn v(e: Option<Escape>) -> V {
        match e {
            None => In,
            Some(Escape::Lexical(PathEscape::Absolute)) => Abs,
            Some(Escape::Lexical(PathEscape::Climbs)) => Up,
            Some(Escape::Link(_)) => Link,
        }
    }

    fn lexical(e: Option<PathEscape>) -> V {
        v(e.map(Escape::Lexical))
    }

    /// Every confinement check on one table. The project is `<tmp>/proj` holding the file `c`, the
    /// directories `a/b/`, and links `in-out -> ../outside/secret`, `in-in -> c`,
    /// `dangling -> nowhere`, `up -> ../outside` (a directory); `<tmp>/outside/secret` is a file.
    /// `{root}` in a path is the project's absolute path. Columns:
    /// - `text`: `path_escape` on the text (targets' rule, every platform; on Unix, `escape_of`
    ///   on the path answers the same);
    /// - `source`: `source_escape(root, path)` (`files[].source`);
    /// - `project`: `project_escape(root, path)` (the CLI's `--env-file`, stored workloads);
    /// - `linked`: `linked_out_of(root, root.join(path))` (diagnostics hide the file's text).
    #[test]
    fn one_table_for_every_confinement_check() {
        #[rustfmt::skip]
        let table: &[(&str, V, V, V, bool)] = &[
            // path              text  source project linked
            ("a",                In,   In,    In,    false),
            ("./a",              In,   In,    In,    false),
            ("a/..",             In,   In,    In,    false),
            ("a/../..",          Up,   Up,    Up,    false),
            ("../x",             Up,   Up,    Up,    false),
            // Climbs out and back: refused by spelling, though it lands inside.
            ("../proj/c",        Up,   Up,    Up,    false),
            ("/abs",             Abs,  Abs,   Abs,   false),
            ("a/./b/../../c",    In,   In,    In,    false),
            ("a/",               In,   In,    In,    false),
            ("a//b//",           In,   In,    In,    false),
            ("a/b/../../../x",   Up,   Up,    Up,    false),
            // The empty path and `.` name the directory; the CLI's rule looks at the directory
            // holding the path, here the project's parent.
            ("",                 In,   In,    Link,  false),
            (".",                In,   In,    Link,  false),
            // Windows-ish text is one plain name on Unix, and for targets everywhere.
            (r"..\x",            In,   In,    In,    false),
            (r"C:\x",            In,   In,    In,    false),
            (r"\\server\share",  In,   In,    In,    false),
            ("C:x",              In,   In,    In,    false),
            // Symbolic links: the file itself (the CLI's rule checks its directory only; a
            // write refuses a link as the final component separately), inside, dangling, and a
            // link in a parent directory (the file exists, or not yet).
            ("in-out",           In,   Link,  In,    true),
            ("in-in",            In,   In,    In,    false),
            ("dangling",         In,   In,    In,    false),
            ("up/secret",        In,   Link,  Link,  true),
            ("up/new.env",       In,   In,    Link,  false),
            ("a/../up/secret",   In,   Link,  Link,  true),
            // Absolute paths into the project: a file source may never be absolute; the CLI's
            // paths may, when they stay below the project.
            ("{root}/c",         Abs,  Abs,   In,    false),
            ("{root}/a/../c",    Abs,  Abs,   In,    false),
            ("{root}/../x/new",  Abs,  Abs,   Up,    false),
            ("{root}/up/secret", Abs,  Abs,   Link,  true),
            ("{root}/in-out",    Abs,  Abs,   In,    true),
        ];
        let tmp = tempfile::tempdir().unwrap();
        let root = tmp.path().join("proj");
        std::fs::create_dir_all(root.join("a/b")).unwrap();
        std::fs::create_dir(tmp.path().join("outside")).unwrap();
        std::fs::write(tmp.path().join("outside/secret"), "s").unwrap();
        std::fs::write(root.join("c"), "c").unwrap();
        #[cfg(unix)]
        for (link, to) in [
            ("in-out", "../outside/secret"),
            ("in-in", "c"),
            ("dangling", "nowhere"),
            ("up", "../outside"),
        ] {
            std::os::unix::fs::symlink(to, root.join(link)).unwrap();
        }
        let mut wrong = Vec::new();
        for &(path, text, source, project, linked) in table {
            let path = path.replace("{root}", &root.display().to_string());
            if !path.contains(&root.display().to_string()) {
                let got = lexical(path_escape(&path));
                if got != text {
                    wrong.push(format!("{path:?}: path_escape {got:?}, want {text:?}"));
                }
            }
            #[cfg(unix)]
            {
                let p = Path::new(&path);
                let got = (
                    lexical(escape_of(p)),
                    v(source_escape(&root, p)),
                    v(project_escape(&root, p)),
                    linked_out_of(&root, &root.join(p)),
                );
                if got != (text, source, project, linked) {
                    wrong.push(format!(
                        "{path:?}: (text, source, project, linked) = {got:?}, want {:?}",
                        (text, source, project, linked)
                    ));
                }
            }
        }
        assert!(wrong.is_empty(), "\n{}", wrong.join("\n"));
    }
}
