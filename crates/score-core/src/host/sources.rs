//! `files[].source` from the file system, relative to the Score file's directory.

use std::path::{Path, PathBuf};

use super::confine::{source_escape, Escape};
// Go's `filepath.Clean`: score-go names the file `filepath.Join(baseDir, source)`, so
// `./fixtures` + `./x.txt` is reported as `fixtures/x.txt`, not `./fixtures/./x.txt`.
use crate::confine::clean;
use crate::load::{SourceError, SourceReader};

/// The largest `files[].source` read (a mounted config file, not a data set).
pub const MAX_SOURCE_BYTES: u64 = 16 * 1024 * 1024;

/// Reads `files[].source` relative to a Score file's directory, as score-go's `loader.Normalize`;
/// paths that leave the directory (lexically or through a symlink) are refused unless allowed.
///
/// ```
/// use score_core::host::FsSources;
/// use score_core::input::SourceReader;
/// let dir = tempfile::tempdir().unwrap();
/// std::fs::write(dir.path().join("a.txt"), "hi").unwrap();
/// let r = FsSources::new(dir.path());
/// assert_eq!(r.read("a.txt").unwrap(), b"hi");
/// assert!(r.read("../a.txt").is_err());
/// ```
#[derive(Debug, Clone)]
pub struct FsSources {
    base: PathBuf,
    allow_outside: bool,
}

impl FsSources {
    /// Sources relative to `base_dir` (the Score file's directory), confined to it.
    pub fn new(base_dir: impl Into<PathBuf>) -> Self {
        Self {
            base: base_dir.into(),
            allow_outside: false,
        }
    }

    /// Allows sources outside the directory (`--allow-outside-paths`).
    pub fn allow_outside(mut self, allow: bool) -> Self {
        self.allow_outside = allow;
        self
    }
}

impl SourceReader for FsSources {
    fn read(&self, source: &str) -> Result<Vec<u8>, SourceError> {
        read_source(&self.base, source, self.allow_outside)
            .map_err(|(message, help)| SourceError { message, help })
    }
}

fn read_source(
    base: &Path,
    source: &str,
    allow_outside: bool,
) -> Result<Vec<u8>, (String, String)> {
    let rel = Path::new(source);
    let joined = if rel.is_absolute() {
        rel.to_path_buf()
    } else {
        base.join(rel)
    };
    if !allow_outside && let Some(escape) = source_escape(base, rel) {
        let dir = clean(base).display().to_string();
        let message = match escape {
            Escape::Link(real) => format!(
                "{} is a link to {}, which is outside the Score file's directory '{dir}'",
                clean(&joined).display(),
                // As written in the link when the file itself is one; else where it leads.
                std::fs::read_link(&joined).unwrap_or(real).display()
            ),
            Escape::Lexical(_) => format!(
                "{} is outside the Score file's directory '{dir}'",
                clean(&joined).display()
            ),
        };
        return Err((
            message,
            "keep file sources inside the Score file's directory, or pass --allow-outside-paths"
                .into(),
        ));
    }
    // Bounded: a `source` of /dev/zero or a FIFO cannot exhaust memory or hang the run.
    super::fsutil::read_bounded(
        &joined,
        MAX_SOURCE_BYTES,
        std::time::Duration::from_secs(10),
    )
    .map_err(|e| {
        (
            format!("open {}: {}", clean(&joined).display(), io_reason(&e)),
            "paths in `source` are relative to the Score file's directory".into(),
        )
    })
}

fn io_reason(e: &std::io::Error) -> String {
    match e.kind() {
        std::io::ErrorKind::NotFound => "no such file or directory".into(),
        std::io::ErrorKind::PermissionDenied => "permission denied".into(),
        _ => e.to_string(),
    }
}
