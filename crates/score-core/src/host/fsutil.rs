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
//! Writes are confined (spec/security.md): every write replaces only a regular file or creates a
//! new one — never a symbolic link, a FIFO, a device or a directory — and [`check_confined`] /
//! [`create_dirs_confined`] refuse a path that passes through a symbolic link below the project
//! directory, so a repository cannot redirect score-gen's writes (a `.score-gen/mounts/app`
//! linked to `~/.ssh`) out of the project.
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

use tempfile::{NamedTempFile, TempPath};

/// Mode for files that did not exist before: what a plain `File::create` gives, `0666` less the
/// process's umask (`0644` under the usual 022; `0600` under 077, for users who keep generated
/// files holding passwords private). Existing files keep their mode so a user's `chmod`
/// survives regeneration.
#[cfg(unix)]
fn new_file_mode() -> u32 {
    0o666 & !umask()
}

/// The process's umask, read without changing it (Linux: `/proc/self/status`); 022 where it
/// cannot be read.
#[cfg(unix)]
fn umask() -> u32 {
    // Read once per process (score-gen never changes its umask): a batch of thousands of files
    // would otherwise open /proc/self/status once per file.
    static UMASK: std::sync::OnceLock<u32> = std::sync::OnceLock::new();
    *UMASK.get_or_init(read_umask)
}

#[cfg(unix)]
fn read_umask() -> u32 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find_map(|l| l.strip_prefix("Umask:"))
                .and_then(|v| u32::from_str_radix(v.trim(), 8).ok())
        })
        .unwrap_or(0o022)
}

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
    if holds(path, bytes, None) {
        return Ok(());
    }
    let staged = stage(path, bytes, None)?;
    commit(staged, path)?;
    sync_parent(path);
    Ok(())
}

/// Like [`atomic_write`] but the file gets exactly `mode` (Unix permission bits), e.g. `0o600`
/// for files that may hold secrets. On other platforms `mode` is ignored.
pub(crate) fn atomic_write_mode(path: &Path, bytes: &[u8], mode: u32) -> io::Result<()> {
    if holds(path, bytes, Some(mode)) {
        return Ok(());
    }
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
/// A file that already holds exactly its new bytes is left alone (not rewritten, its mtime
/// kept), so regenerating an unchanged project writes nothing. At most [`OPEN_AT_ONCE`] temp
/// files are open at any time, whatever the batch's size.
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
    let changed: Vec<&(PathBuf, Vec<u8>)> = files
        .iter()
        .filter(|(path, bytes)| !holds(path, bytes, None))
        .collect();
    // One commit for both ways of staging: a batch that `commit` flushes with syncfs(2) is
    // staged closed and unsynced, as `stage_all` stages; a smaller one is synced while its temp
    // files are still open (no reopening them to sync, as `commit` must for `stage_all`'s).
    let mut staged = Staged::default();
    if flushes_file_systems(changed.len()) {
        for (path, bytes) in changed {
            // An early return drops the already staged temp files, which deletes them.
            staged.push(path.clone(), bytes)?;
        }
    } else {
        staged.push_synced(&changed)?;
    }
    staged.commit()
}

/// Whether [`Staged::commit`] makes a batch of `files` durable with `syncfs(2)` (Linux, more
/// than [`OPEN_AT_ONCE`] files) rather than one `fsync` per file and per directory.
fn flushes_file_systems(files: usize) -> bool {
    cfg!(target_os = "linux") && files > OPEN_AT_ONCE
}

/// Files written to temp files beside their destinations and closed, not yet renamed
/// ([`stage_all`]); [`Staged::commit`] puts them in place with [`atomic_write_all`]'s order and
/// durability. Dropping it deletes the temp files: nothing was replaced.
///
/// A run of several parts (`score-gen all`: three targets) stages each part's files as soon as
/// they are computed, so their bytes need not be held until every part succeeded.
///
/// ```
/// use score_core::host::fsutil::stage_all;
/// let dir = tempfile::tempdir().unwrap();
/// let mut staged = stage_all(vec![(dir.path().join("a.yaml"), b"a\n".to_vec())]).unwrap();
/// staged.append(stage_all(vec![(dir.path().join("b.yaml"), b"b\n".to_vec())]).unwrap());
/// assert!(!dir.path().join("a.yaml").exists());
/// staged.commit().unwrap();
/// assert_eq!(std::fs::read(dir.path().join("b.yaml")).unwrap(), b"b\n");
/// ```
#[derive(Debug, Default)]
pub struct Staged {
    files: Vec<StagedFile>,
}

#[derive(Debug)]
struct StagedFile {
    tmp: TempPath,
    path: PathBuf,
    /// Its data is on disk already (fsynced while it was open, by [`atomic_write_all`]).
    synced: bool,
}

/// Writes each file's bytes to a temp file beside it (the file's mode, `0666` less the umask
/// for a new one), closed and not yet synced, freeing the bytes as it goes; a file that already
/// holds exactly its bytes is left out (an unchanged file is not rewritten). At most one temp
/// file is open at a time. On an error the files staged so far are deleted.
pub fn stage_all(files: impl IntoIterator<Item = (PathBuf, Vec<u8>)>) -> io::Result<Staged> {
    let mut staged = Staged::default();
    for (path, bytes) in files {
        if holds(&path, &bytes, None) {
            continue;
        }
        // `bytes` is freed at the end of each turn, once its file is staged.
        staged.push(path, &bytes)?;
    }
    Ok(staged)
}

/// `e` with the path it is about in front (`<path>: <error>`).
fn about(path: &Path) -> impl Fn(io::Error) -> io::Error {
    let path = path.display().to_string();
    move |e: io::Error| io::Error::new(e.kind(), format!("{path}: {e}"))
}

impl Staged {
    /// Writes `bytes` to a closed, unsynced temp file beside `path`, to be renamed over it by
    /// [`Staged::commit`]. On an error the files staged so far stay staged (dropping `self`
    /// deletes them).
    fn push(&mut self, path: PathBuf, bytes: &[u8]) -> io::Result<()> {
        let tmp = stage_unsynced(&path, bytes, None).map_err(about(&path))?;
        // Closing the descriptor keeps the temp file (deleted when its TempPath is dropped).
        self.files.push(StagedFile {
            tmp: tmp.into_temp_path(),
            path,
            synced: false,
        });
        Ok(())
    }

    /// Stages `files` synced, in groups of at most [`OPEN_AT_ONCE`]: a group's temp files are
    /// written, then synced together (concurrently, so the file system flushes them in a few
    /// journal commits instead of one per file), then closed. Only the group's descriptors are
    /// ever open, so a batch of any size stays under the process's open-file limit.
    fn push_synced(&mut self, files: &[&(PathBuf, Vec<u8>)]) -> io::Result<()> {
        for group in files.chunks(OPEN_AT_ONCE) {
            let mut open = Vec::with_capacity(group.len());
            for (path, bytes) in group.iter().copied() {
                // An early return drops the group's and the already staged temp files, which
                // deletes them.
                let tmp = stage_unsynced(path, bytes, None).map_err(about(path))?;
                open.push((tmp, path));
            }
            concurrently(&open, |(tmp, path)| {
                tmp.as_file().sync_all().map_err(about(path))
            })?;
            // Closing the descriptor keeps the temp file (deleted when its TempPath is dropped).
            self.files
                .extend(open.into_iter().map(|(tmp, path)| StagedFile {
                    tmp: tmp.into_temp_path(),
                    path: path.clone(),
                    synced: true,
                }));
        }
        Ok(())
    }

    /// Adds `other`'s files (committed after this one's).
    pub fn append(&mut self, mut other: Staged) {
        self.files.append(&mut other.files);
    }

    /// How many files are staged (files that already held their bytes are not).
    pub fn len(&self) -> usize {
        self.files.len()
    }

    /// Whether no file is staged.
    pub fn is_empty(&self) -> bool {
        self.files.is_empty()
    }

    /// Syncs every staged file's data, then renames each over its destination, then syncs the
    /// renames, as [`atomic_write_all`] does (it commits through here): every file's data is on
    /// disk before the first rename. On Linux a batch of more than [`OPEN_AT_ONCE`] files is
    /// flushed with `syncfs(2)` (which reports write-back errors since Linux 5.8), once per file
    /// system before the renames and once after: compose with 10,000 workloads renames 20,001
    /// files into 10,001 directories with two flushes instead of an `fsync` per file and per
    /// directory. Otherwise each file not synced yet is reopened and synced (at most
    /// [`OPEN_AT_ONCE`] open at once, concurrently), and each directory is synced once after
    /// its renames.
    pub fn commit(self) -> io::Result<()> {
        #[cfg(target_os = "linux")]
        if flushes_file_systems(self.files.len()) {
            use std::os::unix::fs::MetadataExt;
            let mut devices: Vec<(u64, &Path)> = Vec::new();
            for f in &self.files {
                let dev = std::fs::metadata(&f.tmp).map_err(about(&f.path))?.dev();
                if !devices.iter().any(|(d, _)| *d == dev) {
                    devices.push((dev, parent_dir(&f.path)));
                }
            }
            for (_, dir) in &devices {
                syncfs(dir).map_err(about(dir))?;
            }
            let devices: Vec<PathBuf> = devices.iter().map(|(_, d)| d.to_path_buf()).collect();
            for f in self.files {
                f.tmp
                    .persist(&f.path)
                    .map_err(|e| about(&f.path)(e.error))?;
            }
            // Best effort, as in sync_parent: the data is already safe in the renamed files.
            for dir in &devices {
                let _ = syncfs(dir);
            }
            return Ok(());
        }
        let unsynced: Vec<&StagedFile> = self.files.iter().filter(|f| !f.synced).collect();
        for group in unsynced.chunks(OPEN_AT_ONCE) {
            concurrently(group, |f| {
                OpenOptions::new()
                    .write(true)
                    .open(&f.tmp)
                    .and_then(|file| file.sync_all())
                    .map_err(about(&f.path))
            })?;
        }
        let mut dirs = std::collections::BTreeSet::new();
        for f in self.files {
            f.tmp
                .persist(&f.path)
                .map_err(|e| about(&f.path)(e.error))?;
            dirs.insert(parent_dir(&f.path).to_path_buf());
        }
        let dirs: Vec<PathBuf> = dirs.into_iter().collect();
        for group in dirs.chunks(OPEN_AT_ONCE) {
            // Best effort, as in sync_parent: the data is already safe in the renamed files.
            let _ = concurrently(group, |dir| {
                sync_dir(dir);
                Ok(())
            });
        }
        Ok(())
    }
}

/// Flushes the file system holding `dir` (`syncfs(2)`).
#[cfg(target_os = "linux")]
fn syncfs(dir: &Path) -> io::Result<()> {
    use std::os::fd::AsRawFd;
    let d = File::open(dir)?;
    // SAFETY: syncfs on a descriptor this function owns; it reads no memory of ours.
    if unsafe { libc::syncfs(d.as_raw_fd()) } == 0 {
        Ok(())
    } else {
        Err(io::Error::last_os_error())
    }
}

/// How many temp files [`atomic_write_all`] holds open at once: well under the smallest usual
/// open-file limit (macOS's 256), with room for the rest of the process.
pub const OPEN_AT_ONCE: usize = 64;

/// Threads that wait in `fsync` together: concurrent syncs on one file system share its journal
/// commits (ext4, XFS), where one-by-one syncs pay a commit (a device flush) each.
const SYNC_THREADS: usize = 16;

/// Runs `f` on every item, spread over up to [`SYNC_THREADS`] threads (in this thread if one
/// cannot be started); the first error wins.
fn concurrently<T: Sync>(items: &[T], f: impl Fn(&T) -> io::Result<()> + Sync) -> io::Result<()> {
    if items.len() <= 1 {
        return items.iter().try_for_each(&f);
    }
    let per_thread = items.len().div_ceil(SYNC_THREADS);
    let f = &f;
    thread::scope(|s| {
        let mut handles = Vec::new();
        let mut result = Ok(());
        for chunk in items.chunks(per_thread) {
            match thread::Builder::new().spawn_scoped(s, move || chunk.iter().try_for_each(f)) {
                Ok(h) => handles.push(h),
                Err(_) => result = result.and_then(|()| chunk.iter().try_for_each(f)),
            }
        }
        for h in handles {
            let r = h
                .join()
                .unwrap_or_else(|_| Err(io::Error::other("a sync thread panicked")));
            result = result.and(r);
        }
        result
    })
}

/// Whether `path` is a regular file (not a link) that already holds exactly `bytes` (and, when
/// given, has exactly the permission bits `mode`): writing it again would change nothing.
fn holds(path: &Path, bytes: &[u8], mode: Option<u32>) -> bool {
    use std::io::Read;
    // Only a regular file is opened (a device's open may act; a FIFO's would wait).
    if !std::fs::symlink_metadata(path).is_ok_and(|m| m.is_file()) {
        return false;
    }
    let mut options = OpenOptions::new();
    options.read(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::custom_flags(
        &mut options,
        libc::O_NOFOLLOW | libc::O_NONBLOCK,
    );
    let Ok(file) = options.open(path) else {
        return false;
    };
    let Ok(meta) = file.metadata() else {
        return false;
    };
    if !meta.is_file() || meta.len() != bytes.len() as u64 {
        return false;
    }
    #[cfg(unix)]
    if let Some(mode) = mode {
        use std::os::unix::fs::PermissionsExt;
        if meta.permissions().mode() & 0o7777 != mode {
            return false;
        }
    }
    #[cfg(not(unix))]
    let _ = mode;
    // One byte more than expected is read, so a file that grew since the stat is caught.
    let mut current = Vec::with_capacity(bytes.len() + 1);
    match file.take(bytes.len() as u64 + 1).read_to_end(&mut current) {
        Ok(_) => current == bytes,
        Err(_) => false,
    }
}

/// Refuses a write to `path` that would pass through a symbolic link at or below `root` (the
/// project directory), or that would replace anything but a regular file.
///
/// `path` may be relative (to the working directory, which `root` usually is) or absolute. Parts
/// of `path` above `root` are the user's explicit choice and are not checked; a path outside
/// `root` has only its final component checked. Missing components are fine (they will be
/// created by [`create_dirs_confined`]).
///
/// ```
/// let dir = tempfile::tempdir().unwrap();
/// let root = dir.path();
/// std::fs::create_dir(root.join("real")).unwrap();
/// std::os::unix::fs::symlink(root.join("real"), root.join("link")).unwrap();
/// use score_core::host::fsutil::check_confined;
/// assert!(check_confined(root, &root.join("real/out.yaml")).is_ok());
/// assert!(check_confined(root, &root.join("new/dir/out.yaml")).is_ok());
/// let err = check_confined(root, &root.join("link/out.yaml")).unwrap_err();
/// assert!(err.to_string().contains("symbolic link"), "{err}");
/// ```
pub fn check_confined(root: &Path, path: &Path) -> io::Result<()> {
    check_real_dirs(&confined_ancestors(root, path), path)?;
    check_replaceable(path)
}

/// `create_dir_all` for `dir`, refusing (like [`check_confined`]) a symbolic link at or below
/// `root`, before and after creating the missing directories.
pub fn create_dirs_confined(root: &Path, dir: &Path) -> io::Result<()> {
    check_dir_chain(root, dir)?;
    std::fs::create_dir_all(dir)
        .map_err(|e| io::Error::new(e.kind(), format!("{}: {e}", dir.display())))?;
    // A link planted between the check and the creation is caught here.
    check_dir_chain(root, dir)
}

fn check_dir_chain(root: &Path, dir: &Path) -> io::Result<()> {
    let mut chain = confined_ancestors(root, dir);
    if dir.file_name().is_some() {
        chain.push(dir.to_path_buf());
    }
    check_real_dirs(&chain, dir)
}

/// Each existing directory of `chain` (outermost first) is a real directory, not a link; the
/// first missing one ends the check (what follows it will be created). `target` names the path
/// being written, for the error.
fn check_real_dirs(chain: &[PathBuf], target: &Path) -> io::Result<()> {
    for dir in chain {
        match std::fs::symlink_metadata(dir) {
            Ok(m) if m.file_type().is_symlink() => {
                return Err(refused(dir, target, "is a symbolic link"))
            }
            Ok(m) if !m.is_dir() => return Err(refused(dir, target, "is not a directory")),
            Ok(_) => {}
            Err(e) if e.kind() == io::ErrorKind::NotFound => break,
            Err(e) => return Err(e),
        }
    }
    Ok(())
}

/// The directories from just below `root` down to `path`'s parent, when `path` lands inside
/// `root` (lexically: `root/../root/x` does); else none.
fn confined_ancestors(root: &Path, path: &Path) -> Vec<PathBuf> {
    let Some((root, rel)) = super::confine::lands_under(root, path) else {
        return Vec::new();
    };
    let mut out = Vec::new();
    let mut at = root;
    let parts: Vec<_> = rel.components().collect();
    for c in parts.iter().take(parts.len().saturating_sub(1)) {
        at.push(c);
        out.push(at.clone());
    }
    out
}

/// `path` may be created or replaced: it is absent or a regular file (not a link, FIFO, device,
/// socket or directory).
fn check_replaceable(path: &Path) -> io::Result<()> {
    match std::fs::symlink_metadata(path) {
        Ok(m) if m.file_type().is_symlink() => Err(refused(path, path, "is a symbolic link")),
        Ok(m) if !m.is_file() => Err(refused(path, path, "is not a regular file")),
        Ok(_) => Ok(()),
        Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(()),
        Err(e) => Err(e),
    }
}

/// The error inside an [`io::Error`] of kind `PermissionDenied` when a write is refused for
/// confinement (a link, a special file); callers can tell it from other I/O errors with
/// `e.get_ref().is_some_and(|i| i.is::<UnsafeWrite>())`.
#[derive(Debug)]
pub struct UnsafeWrite(pub String);

impl std::fmt::Display for UnsafeWrite {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for UnsafeWrite {}

fn refused(at: &Path, path: &Path, what: &str) -> io::Error {
    let message = if at == path {
        format!(
            "refusing to write {}: it {what}; score-gen replaces only regular files",
            path.display()
        )
    } else {
        format!(
            "refusing to write {}: {} {what}, and score-gen does not write through links out of the project",
            path.display(),
            at.display()
        )
    };
    io::Error::new(io::ErrorKind::PermissionDenied, UnsafeWrite(message))
}

/// Reads at most `max` bytes of `path`; a larger file is an error (`FileTooLarge`), decided from
/// its size before reading when it is a regular file. Anything else (a FIFO, a device, a
/// process substitution) is read in a helper thread for at most `wait`, so `/dev/zero` cannot
/// grow memory and a FIFO with no writer cannot hang the run.
///
/// ```
/// use std::time::Duration;
/// use score_core::host::fsutil::read_bounded;
/// let dir = tempfile::tempdir().unwrap();
/// let p = dir.path().join("a.yaml");
/// std::fs::write(&p, "0123456789").unwrap();
/// assert_eq!(read_bounded(&p, 10, Duration::from_secs(1)).unwrap(), b"0123456789");
/// let e = read_bounded(&p, 9, Duration::from_secs(1)).unwrap_err();
/// assert_eq!(e.kind(), std::io::ErrorKind::FileTooLarge);
/// ```
pub fn read_bounded(path: &Path, max: u64, wait: Duration) -> io::Result<Vec<u8>> {
    let too_large = |size: String| {
        io::Error::new(
            io::ErrorKind::FileTooLarge,
            format!(
                "{} is too large: {size} bytes, the limit is {max} bytes",
                path.display()
            ),
        )
    };
    let named = |e: io::Error| {
        if e.kind() == io::ErrorKind::FileTooLarge {
            too_large(format!("more than {max}"))
        } else {
            e
        }
    };
    let meta = std::fs::metadata(path)?;
    if meta.is_file() {
        if meta.len() > max {
            return Err(too_large(meta.len().to_string()));
        }
        return read_limited(File::open(path)?, max).map_err(named);
    }
    if meta.is_dir() {
        return Err(io::Error::new(
            io::ErrorKind::IsADirectory,
            format!("{} is a directory", path.display()),
        ));
    }
    let (tx, rx) = std::sync::mpsc::channel();
    let owned = path.to_path_buf();
    // Abandoned (not joined) on timeout: a FIFO with no writer blocks in open(2) for good.
    thread::spawn(move || {
        let _ = tx.send(File::open(&owned).and_then(|f| read_limited(f, max)));
    });
    match rx.recv_timeout(wait) {
        Ok(result) => result.map_err(named),
        Err(_) => Err(io::Error::new(
            io::ErrorKind::TimedOut,
            format!(
                "{} is not a regular file and gave no data within {:.0} s",
                path.display(),
                wait.as_secs_f64()
            ),
        )),
    }
}

/// At most `max` bytes of `r`; one more is a `FileTooLarge` error (`N byte limit exceeded`).
pub(crate) fn read_limited(r: impl std::io::Read, max: u64) -> io::Result<Vec<u8>> {
    use std::io::Read;
    let mut buf = Vec::new();
    r.take(max.saturating_add(1)).read_to_end(&mut buf)?;
    if buf.len() as u64 > max {
        return Err(io::Error::new(
            io::ErrorKind::FileTooLarge,
            format!("{max} byte limit exceeded"),
        ));
    }
    Ok(buf)
}

/// The prefix of every temp file: `.score-gen-tmp-<pid>-`, so a later run can tell the temp
/// files of a process that was killed (SIGKILL, power loss) from those of one still writing.
fn temp_prefix() -> &'static str {
    static PREFIX: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    PREFIX.get_or_init(|| format!("{TEMP_PREFIX}{}-", std::process::id()))
}

const TEMP_PREFIX: &str = ".score-gen-tmp-";

/// Removes, from `dir`, the temp files (`.score-gen-tmp-<pid>-*`, regular files only) of
/// score-gen processes that no longer run; call it under the state directory's lock. Returns how
/// many were removed. Temp files named without a pid (older releases) count as stale.
///
/// ```
/// let dir = tempfile::tempdir().unwrap();
/// std::fs::write(dir.path().join(".score-gen-tmp-999999999-abc"), "password: x").unwrap();
/// std::fs::write(dir.path().join(".score-gen-tmp-abc"), "old").unwrap();
/// std::fs::write(dir.path().join("compose.yaml"), "kept").unwrap();
/// assert_eq!(score_core::host::fsutil::remove_stale_temp_files(dir.path()).unwrap(), 2);
/// assert!(dir.path().join("compose.yaml").exists());
/// ```
pub fn remove_stale_temp_files(dir: &Path) -> io::Result<usize> {
    let entries = match std::fs::read_dir(dir) {
        Ok(e) => e,
        Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(0),
        Err(e) => return Err(e),
    };
    let mut removed = 0;
    for entry in entries.flatten() {
        let name = entry.file_name();
        let Some(rest) = name.to_str().and_then(|n| n.strip_prefix(TEMP_PREFIX)) else {
            continue;
        };
        let owner = rest
            .split_once('-')
            .and_then(|(pid, _)| pid.parse::<u32>().ok());
        if owner.is_some_and(process_alive) {
            continue;
        }
        if entry.file_type().is_ok_and(|t| t.is_file()) {
            std::fs::remove_file(entry.path())?;
            removed += 1;
        }
    }
    Ok(removed)
}

/// Whether a process with this id exists (signal 0 probes without sending anything).
fn process_alive(pid: u32) -> bool {
    #[cfg(unix)]
    {
        let Ok(pid) = libc::pid_t::try_from(pid) else {
            return false;
        };
        // SAFETY: kill with signal 0 only checks for the process; it has no other effect.
        let rc = unsafe { libc::kill(pid, 0) };
        rc == 0 || io::Error::last_os_error().raw_os_error() == Some(libc::EPERM)
    }
    #[cfg(not(unix))]
    {
        let _ = pid;
        true
    }
}

/// Whether `a` and `b` name the same existing file (same device and inode on Unix; the same
/// canonical path elsewhere). Used to refuse an output that is one of the run's inputs.
pub fn same_file(a: &Path, b: &Path) -> bool {
    #[cfg(unix)]
    {
        use std::os::unix::fs::MetadataExt;
        match (std::fs::metadata(a), std::fs::metadata(b)) {
            (Ok(x), Ok(y)) => x.dev() == y.dev() && x.ino() == y.ino(),
            _ => false,
        }
    }
    #[cfg(not(unix))]
    match (a.canonicalize(), b.canonicalize()) {
        (Ok(x), Ok(y)) => x == y,
        _ => false,
    }
}

/// The files a run reads, as a set that tells in one lookup whether a path names one of them:
/// the same device and inode on Unix (the same canonical path elsewhere) for a file that exists,
/// or the same lexical absolute path (for one the run creates before its outputs, such as a first
/// run's state file). Built once per run, so checking every output against every input costs
/// one `stat` per output.
///
/// ```
/// use score_core::host::fsutil::FileSet;
/// let dir = tempfile::tempdir().unwrap();
/// let a = dir.path().join("score.yaml");
/// std::fs::write(&a, "x").unwrap();
/// let missing = dir.path().join("state.yaml");
/// let set = FileSet::new([a.clone(), missing.clone()]);
/// assert_eq!(set.find(&dir.path().join("./score.yaml")), Some(a.as_path()));
/// assert_eq!(set.find(&dir.path().join("x/../state.yaml")), Some(missing.as_path()));
/// assert_eq!(set.find(&dir.path().join("other.yaml")), None);
/// ```
#[derive(Debug, Default)]
pub struct FileSet {
    files: std::collections::HashMap<FileId, PathBuf>,
    names: std::collections::HashMap<PathBuf, PathBuf>,
}

#[cfg(unix)]
type FileId = (u64, u64);
#[cfg(not(unix))]
type FileId = PathBuf;

fn file_id(path: &Path) -> Option<FileId> {
    #[cfg(unix)]
    {
        use std::os::unix::fs::MetadataExt;
        std::fs::metadata(path).ok().map(|m| (m.dev(), m.ino()))
    }
    #[cfg(not(unix))]
    path.canonicalize().ok()
}

/// `path` made absolute (against the working directory) and lexical.
fn absolute_lexical(path: &Path) -> PathBuf {
    crate::confine::clean(&super::confine::absolute(path))
}

impl FileSet {
    /// The set of `paths`.
    pub fn new(paths: impl IntoIterator<Item = PathBuf>) -> FileSet {
        let mut set = FileSet::default();
        for p in paths {
            set.insert(p);
        }
        set
    }

    /// Adds `path`; the first path given for a file is the one [`FileSet::find`] names.
    pub fn insert(&mut self, path: PathBuf) {
        if let Some(id) = file_id(&path) {
            self.files.entry(id).or_insert_with(|| path.clone());
        }
        self.names.entry(absolute_lexical(&path)).or_insert(path);
    }

    /// The input that `path` names, if any.
    pub fn find(&self, path: &Path) -> Option<&Path> {
        if self.names.is_empty() {
            return None;
        }
        let by_id = || file_id(path).and_then(|id| self.files.get(&id));
        self.names
            .get(&absolute_lexical(path))
            .or_else(by_id)
            .map(PathBuf::as_path)
    }
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
    check_replaceable(path)?;
    let mut tmp = tempfile::Builder::new()
        .prefix(temp_prefix())
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
            Err(_) => new_file_mode(),
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
        let mut options = OpenOptions::new();
        options.create(true).truncate(false).read(true).write(true);
        // A planted `.lock` symlink must not make us create or lock a file elsewhere.
        #[cfg(unix)]
        std::os::unix::fs::OpenOptionsExt::custom_flags(&mut options, libc::O_NOFOLLOW);
        let file = options.open(&path).map_err(|e| {
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
