//! Crash-safe file writes and a per-directory lock.
//!
//! Everything score-gen persists (the state file, generated artefacts) goes through
//! [`atomic_write`] or [`atomic_write_all`]: the bytes land in a temporary file in the *same*
//! directory, are fsynced, and are then renamed over the target. A reader (or a crash) therefore
//! sees either the old file or the new one, never a half-written one. Renames are atomic only
//! within one file system, which is why the temporary file must live next to its target.
//!
//! [`DirLock`] serialises score-gen processes (and threads) that share a state directory.
//!
//! ```
//! use score_core::host::fsutil::{atomic_write, DirLock};
//! use std::time::Duration;
//! let dir = tempfile::tempdir().unwrap();
//! let _lock = DirLock::acquire(dir.path(), Duration::from_secs(1)).unwrap();
//! atomic_write(&dir.path().join("out.yaml"), b"a: 1\n").unwrap();
//! assert_eq!(std::fs::read(dir.path().join("out.yaml")).unwrap(), b"a: 1\n");
//! ```

use std::fs::{File, OpenOptions, TryLockError};
use std::io::{self, Write};
use std::path::{Path, PathBuf};
use std::thread;
use std::time::{Duration, Instant};

use tempfile::NamedTempFile;

/// Mode for files that did not exist before: what a plain `File::create` gives under the usual
/// umask 022. Existing files keep their mode so a user's `chmod` survives regeneration.
#[cfg(unix)]
const DEFAULT_MODE: u32 = 0o644;

/// Writes `bytes` to `path` atomically: a temporary file in the same directory, fsync, rename.
///
/// A reader never observes a partially written file; after a crash the file holds either the
/// old or the new content. An existing file's permissions are kept; a new file gets `0644`.
///
/// ```
/// let dir = tempfile::tempdir().unwrap();
/// let p = dir.path().join("compose.yaml");
/// score_core::host::fsutil::atomic_write(&p, b"services: {}\n").unwrap();
/// assert_eq!(std::fs::read_to_string(&p).unwrap(), "services: {}\n");
/// ```
pub fn atomic_write(path: &Path, bytes: &[u8]) -> io::Result<()> {
    let staged = stage(path, bytes, None)?;
    commit(staged, path)?;
    sync_parent(path);
    Ok(())
}

/// Like [`atomic_write`] but the file gets exactly `mode` (Unix permission bits), e.g. `0o600`
/// for files that may hold secrets. On other platforms `mode` is ignored.
pub(crate) fn atomic_write_mode(path: &Path, bytes: &[u8], mode: u32) -> io::Result<()> {
    let staged = stage(path, bytes, Some(mode))?;
    commit(staged, path)?;
    sync_parent(path);
    Ok(())
}

/// Writes several files so that either all of them are replaced or none is.
///
/// Every file is first staged (written and fsynced to a temporary file next to its target); only
/// when all are staged are they renamed into place. If staging any file fails, nothing is renamed
/// and the previous files are untouched. The renames themselves are individually atomic but not
/// as a group: an OS error *during* the rename phase (after every byte was safely written) can
/// leave some files new and some old; that window is a few `rename(2)` calls long.
///
/// ```
/// use std::path::PathBuf;
/// let dir = tempfile::tempdir().unwrap();
/// let files = vec![
///     (dir.path().join("a.yaml"), b"a\n".to_vec()),
///     (dir.path().join("b.yaml"), b"b\n".to_vec()),
/// ];
/// score_core::host::fsutil::atomic_write_all(&files).unwrap();
/// assert_eq!(std::fs::read(dir.path().join("b.yaml")).unwrap(), b"b\n");
/// ```
pub fn atomic_write_all(files: &[(PathBuf, Vec<u8>)]) -> io::Result<()> {
    let with_path = |path: &Path| {
        let path = path.display().to_string();
        move |e: io::Error| io::Error::new(e.kind(), format!("{path}: {e}"))
    };
    // Write every temp file first and sync them after: the file system can then flush them
    // together (one journal commit on ext4) instead of one file per round trip. Every file's
    // data is on disk before the first rename, as with one-at-a-time writes.
    let mut staged = Vec::with_capacity(files.len());
    for (path, bytes) in files {
        // An early return drops the already staged temp files, which deletes them.
        let tmp = stage_unsynced(path, bytes, None).map_err(with_path(path))?;
        staged.push((tmp, path));
    }
    for (tmp, path) in &staged {
        tmp.as_file().sync_all().map_err(with_path(path))?;
    }
    // Each directory's entries are synced once, after all its renames.
    let mut dirs = std::collections::BTreeSet::new();
    for (tmp, path) in staged {
        commit(tmp, path).map_err(with_path(path))?;
        dirs.insert(parent_dir(path));
    }
    for dir in dirs {
        sync_dir(dir);
    }
    Ok(())
}

fn parent_dir(path: &Path) -> &Path {
    match path.parent() {
        Some(p) if !p.as_os_str().is_empty() => p,
        _ => Path::new("."),
    }
}

fn stage(path: &Path, bytes: &[u8], mode: Option<u32>) -> io::Result<NamedTempFile> {
    let tmp = stage_unsynced(path, bytes, mode)?;
    tmp.as_file().sync_all()?;
    Ok(tmp)
}

/// A temp file beside `path` holding `bytes` (with `path`'s mode, or `mode`), not yet synced.
fn stage_unsynced(path: &Path, bytes: &[u8], mode: Option<u32>) -> io::Result<NamedTempFile> {
    if path.file_name().is_none() {
        return Err(io::Error::new(
            io::ErrorKind::InvalidInput,
            format!("{} does not name a file", path.display()),
        ));
    }
    let mut tmp = tempfile::Builder::new()
        .prefix(".score-gen-tmp-")
        .tempfile_in(parent_dir(path))?;
    tmp.write_all(bytes)?;
    tmp.flush()?;
    set_mode(tmp.as_file(), path, mode)?;
    Ok(tmp)
}

#[cfg(unix)]
fn set_mode(file: &File, target: &Path, mode: Option<u32>) -> io::Result<()> {
    use std::os::unix::fs::PermissionsExt;
    let mode = match mode {
        Some(m) => m,
        None => match std::fs::metadata(target) {
            Ok(m) => m.permissions().mode() & 0o7777,
            Err(_) => DEFAULT_MODE,
        },
    };
    file.set_permissions(std::fs::Permissions::from_mode(mode))
}

#[cfg(not(unix))]
fn set_mode(_file: &File, _target: &Path, _mode: Option<u32>) -> io::Result<()> {
    Ok(())
}

fn commit(tmp: NamedTempFile, path: &Path) -> io::Result<()> {
    tmp.persist(path).map(drop).map_err(|e| e.error)
}

/// Makes the rename itself durable. Best effort: some platforms cannot open or sync directories,
/// and the data is already safe in the renamed file.
fn sync_parent(path: &Path) {
    sync_dir(parent_dir(path));
}

fn sync_dir(dir: &Path) {
    #[cfg(unix)]
    if let Ok(d) = File::open(dir) {
        let _ = d.sync_all();
    }
    #[cfg(not(unix))]
    let _ = dir;
}

/// An exclusive lock on `<dir>/.lock`, held until dropped.
///
/// Uses the OS advisory file lock (`flock` on Unix, `LockFileEx` on Windows) through
/// `std::fs::File::try_lock`, so it is released automatically if the process dies. It excludes
/// other processes and other `DirLock`s in the same process alike. The `.lock` file itself is
/// never deleted: removing it would let two processes lock two different inodes.
#[derive(Debug)]
pub struct DirLock {
    file: File,
    path: PathBuf,
}

impl DirLock {
    /// Takes the lock on `dir` (which must exist), waiting up to `timeout`.
    ///
    /// On timeout the error has kind [`io::ErrorKind::TimedOut`] and the message
    /// `another score-gen is using <dir> (waited <n>s for <dir>/.lock)`.
    ///
    /// ```
    /// use score_core::host::fsutil::DirLock;
    /// use std::time::Duration;
    /// let dir = tempfile::tempdir().unwrap();
    /// let held = DirLock::acquire(dir.path(), Duration::from_millis(10)).unwrap();
    /// let err = DirLock::acquire(dir.path(), Duration::from_millis(10)).unwrap_err();
    /// assert!(err.to_string().starts_with("another score-gen is using"));
    /// drop(held);
    /// DirLock::acquire(dir.path(), Duration::from_millis(10)).unwrap();
    /// ```
    pub fn acquire(dir: &Path, timeout: Duration) -> io::Result<DirLock> {
        let path = dir.join(".lock");
        let file = OpenOptions::new()
            .create(true)
            .truncate(false)
            .read(true)
            .write(true)
            .open(&path)
            .map_err(|e| {
                io::Error::new(
                    e.kind(),
                    format!("cannot open lock file {}: {e}", path.display()),
                )
            })?;
        let start = Instant::now();
        let mut pause = Duration::from_millis(2);
        loop {
            match file.try_lock() {
                Ok(()) => return Ok(DirLock { file, path }),
                Err(TryLockError::WouldBlock) => {}
                Err(TryLockError::Error(e)) => {
                    return Err(io::Error::new(
                        e.kind(),
                        format!("cannot lock {}: {e}", path.display()),
                    ))
                }
            }
            let waited = start.elapsed();
            if waited >= timeout {
                return Err(io::Error::new(
                    io::ErrorKind::TimedOut,
                    format!(
                        "another score-gen is using {} (waited {:.1}s for {})",
                        dir.display(),
                        waited.as_secs_f64(),
                        path.display()
                    ),
                ));
            }
            thread::sleep(pause.min(timeout - waited));
            pause = (pause * 2).min(Duration::from_millis(100));
        }
    }

    /// The lock file, `<dir>/.lock`.
    pub fn path(&self) -> &Path {
        &self.path
    }
}

impl Drop for DirLock {
    fn drop(&mut self) {
        // Closing the file releases the lock too; unlocking first makes the release immediate
        // even if a duplicated handle were still open somewhere.
        let _ = self.file.unlock();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn new_file_gets_default_mode_and_existing_mode_is_kept() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("x");
        atomic_write(&p, b"1").unwrap();
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = |p: &Path| std::fs::metadata(p).unwrap().permissions().mode() & 0o777;
            assert_eq!(mode(&p), 0o644);
            std::fs::set_permissions(&p, std::fs::Permissions::from_mode(0o600)).unwrap();
            atomic_write(&p, b"2").unwrap();
            assert_eq!(mode(&p), 0o600);
            atomic_write_mode(&p, b"3", 0o640).unwrap();
            assert_eq!(mode(&p), 0o640);
        }
        assert_eq!(std::fs::read(&p).unwrap(), b"3");
    }

    #[test]
    fn no_temp_files_left_behind() {
        let dir = tempfile::tempdir().unwrap();
        atomic_write(&dir.path().join("a"), b"a").unwrap();
        let bad = dir.path().join("a").join("child");
        let files = vec![(dir.path().join("b"), b"b".to_vec()), (bad, b"x".to_vec())];
        assert!(atomic_write_all(&files).is_err());
        let names: Vec<_> = std::fs::read_dir(dir.path())
            .unwrap()
            .map(|e| e.unwrap().file_name().into_string().unwrap())
            .collect();
        assert_eq!(names, vec!["a".to_string()]);
    }

    #[test]
    fn a_path_without_file_name_is_refused() {
        assert_eq!(
            atomic_write(Path::new("/"), b"").unwrap_err().kind(),
            io::ErrorKind::InvalidInput
        );
    }
}
