//! The state directory on disk: `<project>/.score-gen/<target>/`, locked while in use, and a
//! fresh random seed for a new project.

use std::collections::BTreeMap;
use std::hash::{BuildHasher, Hasher};
use std::io::{self, Read};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use serde_json::Map;

use super::fsutil::{self, DirLock};
use crate::diag::{Code, Diagnostic};
use crate::project::state::{State, DEFAULT_LOCK_TIMEOUT, STATE_FILE, STATE_ROOT, STATE_VERSION};

impl State {
    /// An empty state (current version) with a fresh random seed.
    ///
    /// ```
    /// let a = score_core::State::new_random();
    /// let b = score_core::State::new_random();
    /// assert_eq!(a.seed.len(), 32);
    /// assert_ne!(a.seed, b.seed);
    /// ```
    pub fn new_random() -> State {
        State {
            version: STATE_VERSION,
            seed: random_hex(16),
            workloads: BTreeMap::new(),
            resources: BTreeMap::new(),
            shared_state: Map::new(),
            extras: crate::project::state::Extras::default(),
        }
    }
}

/// `n` random bytes as lower-case hex. Reads the OS generator; if that is unavailable (no
/// `/dev/urandom`, e.g. Windows or a bare sandbox) mixes std's randomly keyed hasher with the
/// time, the process id and a counter — unpredictable enough for a seed that is not a secret key.
fn random_hex(n: usize) -> String {
    let mut bytes = vec![0u8; n];
    let from_os = std::fs::File::open("/dev/urandom")
        .and_then(|mut f| f.read_exact(&mut bytes))
        .is_ok();
    if !from_os {
        static COUNTER: AtomicU64 = AtomicU64::new(0);
        for (i, chunk) in bytes.chunks_mut(8).enumerate() {
            let mut h = std::collections::hash_map::RandomState::new().build_hasher();
            h.write_u128(
                SystemTime::now()
                    .duration_since(UNIX_EPOCH)
                    .map_or(0, |d| d.as_nanos()),
            );
            h.write_u32(std::process::id());
            h.write_u64(COUNTER.fetch_add(1, Ordering::Relaxed));
            h.write_usize(i);
            let v = h.finish().to_le_bytes();
            chunk.copy_from_slice(&v[..chunk.len()]);
        }
    }
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// A locked state directory such as `.score-gen/compose`.
///
/// Opening takes an exclusive [`DirLock`] that is held until the `StateDir` is dropped, so a
/// whole load → provision → save cycle is serialised against other score-gen processes.
#[derive(Debug)]
pub struct StateDir {
    dir: PathBuf,
    _lock: DirLock,
}

impl StateDir {
    /// Opens (creating if needed) `<root>/.score-gen/<target>` and locks it, waiting up to
    /// [`DEFAULT_LOCK_TIMEOUT`]. `root` is the project directory.
    ///
    /// `target` must be a plain directory name (no separators, not `.`/`..`).
    ///
    /// ```
    /// use score_core::host::StateDir;
    /// let root = tempfile::tempdir().unwrap();
    /// let dir = StateDir::open(root.path(), "compose").unwrap();
    /// let mut s = dir.load().unwrap();
    /// s.shared_state.insert("network".into(), "default".into());
    /// dir.save(&s).unwrap();
    /// assert!(root.path().join(".score-gen/compose/state.yaml").is_file());
    /// assert_eq!(dir.load().unwrap(), s);
    /// ```
    pub fn open(root: &Path, target: &str) -> io::Result<StateDir> {
        Self::open_with_timeout(root, target, DEFAULT_LOCK_TIMEOUT)
    }

    /// [`StateDir::open`] with an explicit lock timeout.
    pub fn open_with_timeout(root: &Path, target: &str, timeout: Duration) -> io::Result<StateDir> {
        let plain = !target.is_empty()
            && target != "."
            && target != ".."
            && !target.contains(['/', '\\'])
            && Path::new(target).components().count() == 1;
        if !plain {
            return Err(io::Error::new(
                io::ErrorKind::InvalidInput,
                format!("invalid target name {target:?}: expected a plain directory name"),
            ));
        }
        Self::open_dir(&root.join(STATE_ROOT).join(target), timeout)
    }

    /// Opens (creating if needed) and locks an explicit state directory.
    pub fn open_dir(dir: &Path, timeout: Duration) -> io::Result<StateDir> {
        // Confined: a symlinked `.score-gen` (or target directory) below the working directory
        // would move the state, the lock and the mounts anywhere.
        let root = std::env::current_dir()?;
        fsutil::create_dirs_confined(&root, dir).map_err(|e| {
            io::Error::new(
                e.kind(),
                format!("cannot create state directory {}: {e}", dir.display()),
            )
        })?;
        let lock = DirLock::acquire(dir, timeout)?;
        // Under the lock: temp files (state copies, with generated passwords) of runs that were
        // killed before their rename.
        fsutil::remove_stale_temp_files(dir)?;
        Ok(StateDir {
            dir: dir.to_path_buf(),
            _lock: lock,
        })
    }

    /// The directory.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// The state file, `<dir>/state.yaml`.
    pub fn state_path(&self) -> PathBuf {
        self.dir.join(STATE_FILE)
    }

    /// Reads the state; a missing file gives [`State::new_random`].
    // `Result<_, Diagnostic>` is the crate-wide error contract; the size is the price of spans.
    #[allow(clippy::result_large_err)]
    pub fn load(&self) -> Result<State, Diagnostic> {
        let path = self.state_path();
        let name = path.display().to_string();
        match fsutil::read_bounded(
            &path,
            crate::project::state::MAX_STATE_BYTES,
            Duration::from_secs(10),
        ) {
            Ok(bytes) => match String::from_utf8(bytes) {
                Ok(text) => State::from_yaml(&name, &text),
                Err(e) => Err(Diagnostic::new(
                    Code::StateInvalid,
                    format!(
                        "invalid state file {name}: not UTF-8 (byte {})",
                        e.utf8_error().valid_up_to()
                    ),
                )),
            },
            Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(State::new_random()),
            Err(e) => Err(Diagnostic::new(
                Code::StateIo,
                format!("cannot read state file {name}: {e}"),
            )),
        }
    }

    /// Writes the state atomically, mode `0600` (outputs may hold secrets).
    pub fn save(&self, s: &State) -> io::Result<()> {
        self.save_text(&s.to_yaml())
    }

    /// Writes a state's text ([`State::into_yaml`]) as [`StateDir::save`] does.
    pub fn save_text(&self, text: &str) -> io::Result<()> {
        fsutil::atomic_write_mode(&self.state_path(), text.as_bytes(), 0o600)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn random_hex_is_hex() {
        let h = random_hex(16);
        assert_eq!(h.len(), 32);
        assert!(h
            .chars()
            .all(|c| c.is_ascii_hexdigit() && !c.is_ascii_uppercase()));
    }
}
