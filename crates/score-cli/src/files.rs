//! The CLI's file helpers: reading an input within bounds, naming an I/O error as a
//! diagnostic, and where a path lies relative to the project (the working directory). A leaf:
//! it imports no other module of the CLI, and every command may use it.

use std::path::{Path, PathBuf};
use std::time::Duration;

use score_core::host::fsutil;
use score_core::input::Limits;
use score_core::{Code, Diagnostic, Diagnostics};

pub fn parent_dir(path: &Path) -> PathBuf {
    match path.parent() {
        Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
        _ => PathBuf::from("."),
    }
}

/// Whether `path` names a place inside the project (the working directory) but resolves, through
/// a symbolic link, to a file outside it: a repository's `score.yaml -> ~/.aws/credentials`.
/// Diagnostics on such a file do not show its contents (spec/security.md). A path the user gave
/// outside the project is their explicit choice and is shown as usual.
pub fn linked_out_of_project(path: &Path) -> bool {
    std::env::current_dir().is_ok_and(|cwd| fsutil::linked_out_of(&cwd, path))
}

/// Reads a Score or override file, bounded before reading (spec/security.md): a file over the
/// loader's size limit is refused from its size, and a FIFO or device is read for at most the
/// limit and ten seconds.
// One diagnostic per file: callers collect them (validate reports every file).
#[allow(clippy::result_large_err)]
pub fn read_input(path: &Path) -> Result<Vec<u8>, Diagnostic> {
    let limit = Limits::default().max_bytes as u64;
    let name = path.display().to_string();
    fsutil::read_bounded(path, limit, Duration::from_secs(10)).map_err(|e| {
        if e.kind() == std::io::ErrorKind::FileTooLarge {
            let size = std::fs::metadata(path)
                .ok()
                .filter(|m| m.is_file())
                .map_or_else(|| format!("more than {limit}"), |m| m.len().to_string());
            Diagnostic::new(
                Code::LoadTooLarge,
                format!("{name}: input is too large: {size} bytes, the limit is {limit} bytes"),
            )
            .with_help("a Score file is a small YAML document; check that the right file was given")
        } else {
            io_diag(&name, e)
        }
    })
}

pub fn io_diag(name: &str, e: std::io::Error) -> Diagnostic {
    let unsafe_write = e
        .get_ref()
        .is_some_and(|inner| inner.is::<fsutil::UnsafeWrite>());
    if unsafe_write {
        // The message names the path and the link or special file.
        return Diagnostic::new(Code::IoUnsafeWrite, e.to_string()).with_help(
            "remove the link or special file, or choose another path (spec/security.md)",
        );
    }
    Diagnostic::new(Code::Io, format!("{name}: {e}"))
}

/// Refuses an output path outside the current (project) directory, lexically or through a
/// symlinked parent, unless `--allow-outside-paths` is given.
pub fn check_inside_project(path: &Path, flag: &str) -> Result<(), Diagnostics> {
    let cwd = std::env::current_dir().map_err(|e| io_diag(".", e))?;
    if outside_project(&cwd, path) {
        return Err(Diagnostic::new(
            Code::UsagePathOutsideProject,
            format!(
                "{flag} {} is outside the project directory {}",
                path.display(),
                cwd.display()
            ),
        )
        .with_help("write it inside the project directory, or pass --allow-outside-paths")
        .into());
    }
    Ok(())
}

/// Whether `path` lies outside the project directory `cwd`, lexically (absolute elsewhere, or
/// `..` climbing above it) or through a symbolic link in its parent.
pub fn outside_project(cwd: &Path, path: &Path) -> bool {
    let joined = cwd.join(path);
    let lexical_escape = path.is_absolute() && !joined.starts_with(cwd)
        || path
            .components()
            .try_fold(0i32, |depth, c| match c {
                std::path::Component::ParentDir if depth == 0 => None,
                std::path::Component::ParentDir => Some(depth - 1),
                std::path::Component::Normal(_) => Some(depth + 1),
                _ => Some(depth),
            })
            .is_none();
    let link_escape = match (joined.parent().map(Path::canonicalize), cwd.canonicalize()) {
        (Some(Ok(dir)), Ok(root)) => !dir.starts_with(root),
        _ => false,
    };
    lexical_escape || link_escape
}
