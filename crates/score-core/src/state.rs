//! The persisted project state: one YAML file per target, e.g. `.score-gen/compose/state.yaml`.
//!
//! The state is what makes runs repeatable: generated passwords, random names and provisioner
//! state survive between `score-gen generate` calls. Its shape follows score-go's
//! `framework.State` (§4.2 of the behaviour notes) with readable keys (`source_workload`,
//! `provisioner`, `shared_state`), plus a `version` and a per-project random `seed`.
//!
//! Serialisation is deterministic: every map is sorted by key (as Go's yaml.v3 sorts maps), so the
//! same state always produces the same bytes and `to_yaml(from_yaml(to_yaml(s))) == to_yaml(s)`.
//!
//! ```
//! use score_core::state::{ResourceState, State};
//! let mut s = State::new_random();
//! s.resources.insert("postgres.default#web.db".into(), ResourceState::new("postgres", "default", None, "web", "template://default"));
//! let text = s.to_yaml();
//! let back = State::from_yaml("state.yaml", &text).unwrap();
//! assert_eq!(back, s);
//! assert_eq!(back.to_yaml(), text);
//! ```

use std::collections::{BTreeMap, BTreeSet};
use std::hash::{BuildHasher, Hasher};
use std::io::{self, Read};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use crate::diag::{Diagnostic, SourceFile, Span};
use crate::fsutil::{self, DirLock};

/// The state format this build reads and writes.
pub const STATE_VERSION: u32 = 1;

/// The state file's name inside a [`StateDir`].
pub const STATE_FILE: &str = "state.yaml";

/// The directory under the project root that holds one sub-directory per target.
pub const STATE_ROOT: &str = ".score-gen";

/// How long [`StateDir::open`] waits for another score-gen to release the directory.
pub const DEFAULT_LOCK_TIMEOUT: Duration = Duration::from_secs(10);

const CODE: &str = "score::state";

/// The whole persisted state of one project for one target.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct State {
    /// Format version; [`STATE_VERSION`] for files this build writes.
    pub version: u32,
    /// Per-project random hex string, generated once; seeds deterministic "random" values.
    pub seed: String,
    /// Workloads seen by the last run, by `metadata.name`.
    #[serde(default)]
    pub workloads: BTreeMap<String, WorkloadState>,
    /// Resources by uid (`type.class#id`). Resources no workload uses any more are kept.
    #[serde(default)]
    pub resources: BTreeMap<String, ResourceState>,
    /// State shared by all provisioners (merged with RFC 7386 JSON merge patch).
    #[serde(default)]
    pub shared_state: Map<String, Value>,
}

/// What the state remembers about a workload.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct WorkloadState {
    /// The Score file it was loaded from, when it came from a file.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub file: Option<String>,
}

/// One provisioned resource.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ResourceState {
    /// The resource type (`type` in YAML).
    #[serde(rename = "type")]
    pub kind: String,
    /// The class; `default` when the workload gave none.
    pub class: String,
    /// The shared id, when the workload gave one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub id: Option<String>,
    /// The workload whose definition (params, metadata) is used.
    pub source_workload: String,
    /// The URI of the provisioner that provisioned it; switching provisioner is an error.
    pub provisioner: String,
    /// Params as given by the workload (before substitution).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub params: Option<Map<String, Value>>,
    /// Metadata as given by the workload.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub metadata: Option<Map<String, Value>>,
    /// The provisioner's private state, handed back to it on the next run.
    #[serde(default)]
    pub state: Map<String, Value>,
    /// The resource outputs (may hold secrets: the state file is written `0600`).
    #[serde(default)]
    pub outputs: Map<String, Value>,
    /// Names of outputs that are secrets (targets must not inline them).
    #[serde(default, skip_serializing_if = "BTreeSet::is_empty")]
    pub secret_outputs: BTreeSet<String>,
    /// Names of outputs that are target expressions (e.g. Terraform references), not literals.
    #[serde(default, skip_serializing_if = "BTreeSet::is_empty")]
    pub expression_outputs: BTreeSet<String>,
}

impl ResourceState {
    /// A fresh resource with empty state and outputs.
    pub fn new(
        kind: impl Into<String>,
        class: impl Into<String>,
        id: Option<String>,
        source_workload: impl Into<String>,
        provisioner: impl Into<String>,
    ) -> Self {
        Self {
            kind: kind.into(),
            class: class.into(),
            id,
            source_workload: source_workload.into(),
            provisioner: provisioner.into(),
            params: None,
            metadata: None,
            state: Map::new(),
            outputs: Map::new(),
            secret_outputs: BTreeSet::new(),
            expression_outputs: BTreeSet::new(),
        }
    }
}

/// Only the `version` key, read first so a newer file fails with a version error rather than
/// with a confusing "unknown field" about whatever that version added.
#[derive(Deserialize)]
struct VersionProbe {
    version: Option<Value>,
}

impl State {
    /// An empty state (current version) with a fresh random seed.
    ///
    /// ```
    /// let a = score_core::state::State::new_random();
    /// let b = score_core::state::State::new_random();
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
        }
    }

    /// The canonical YAML text: maps sorted by key, empty optional fields omitted.
    pub fn to_yaml(&self) -> String {
        let mut canonical = self.clone();
        sort_map(&mut canonical.shared_state);
        for r in canonical.resources.values_mut() {
            for m in [&mut r.state, &mut r.outputs] {
                sort_map(m);
            }
            for m in [r.params.as_mut(), r.metadata.as_mut()]
                .into_iter()
                .flatten()
            {
                sort_map(m);
            }
        }
        // The state holds only strings, integers, floats from JSON, booleans, nulls, maps and
        // sequences, all of which the emitter accepts; a failure would be a bug in the emitter.
        serde_saphyr::to_string(&canonical)
            .unwrap_or_else(|e| unreachable!("serde-saphyr cannot emit a JSON-shaped state: {e}"))
    }

    /// Parses a state file. `name` is used in diagnostics (usually the path).
    ///
    /// Errors (never panics): not YAML, not a mapping, no or unknown `version`, unknown keys,
    /// wrong types. Each carries the file and, where the parser knows it, the line and column.
    ///
    /// ```
    /// let err = score_core::state::State::from_yaml("s.yaml", "version: 7\nseed: ab\n").unwrap_err();
    /// assert!(err.message.contains("unsupported state version 7"));
    /// ```
    // `Result<_, Diagnostic>` is the crate-wide error contract; the size is the price of spans.
    #[allow(clippy::result_large_err)]
    pub fn from_yaml(name: &str, text: &str) -> Result<State, Diagnostic> {
        let file = Arc::new(SourceFile::new(name, text));
        if text.trim().is_empty() {
            return Err(Diagnostic::new(CODE, format!("state file {name} is empty"))
                .with_file(file)
                .with_help(
                    "delete it to start from a fresh state (generated values will change)",
                ));
        }
        let probe: VersionProbe = parse(&file, text)?;
        match probe.version {
            Some(Value::Number(n)) if n.as_u64() == Some(u64::from(STATE_VERSION)) => {}
            Some(Value::Number(n)) => {
                return Err(Diagnostic::new(
                    CODE,
                    format!(
                        "unsupported state version {n} in {name}; this score-gen reads version {STATE_VERSION}"
                    ),
                )
                .with_file(file.clone())
                .with_span(version_span(&file))
                .with_pointer("/version")
                .with_help("use the score-gen release that wrote this state, or delete the file"))
            }
            Some(other) => {
                return Err(Diagnostic::new(
                    CODE,
                    format!("state file {name}: version must be an integer, found {other}"),
                )
                .with_file(file.clone())
                .with_span(version_span(&file))
                .with_pointer("/version"))
            }
            None => {
                return Err(Diagnostic::new(
                    CODE,
                    format!("{name} is not a score-gen state file: it has no `version`"),
                )
                .with_file(file)
                .with_help("state files are written by `score-gen init` and `score-gen generate`"))
            }
        }
        parse(&file, text)
    }
}

fn version_span(file: &SourceFile) -> Span {
    let offset = file
        .text
        .match_indices("version")
        .find(|(i, _)| *i == 0 || file.text.as_bytes()[i - 1] == b'\n')
        .map_or(0, |(i, _)| i);
    let (line, column) = file.line_col(offset);
    Span::new(offset, "version".len(), line, column)
}

// `Result<_, Diagnostic>` is the crate-wide error contract; the size is the price of spans.
#[allow(clippy::result_large_err)]
fn parse<T: for<'de> Deserialize<'de>>(
    file: &Arc<SourceFile>,
    text: &str,
) -> Result<T, Diagnostic> {
    let opts = serde_saphyr::options! {
        strict_booleans: true,
        legacy_octal_numbers: true,
        with_snippet: false,
    };
    serde_saphyr::from_str_with_options::<T>(text, opts).map_err(|e| {
        let mut d = Diagnostic::new(
            CODE,
            format!(
                "invalid state file {}: {}",
                file.name,
                first_line(&e.to_string())
            ),
        )
        .with_file(file.clone())
        .with_help(
            "the state file is written by score-gen; if it was edited by hand, fix or delete it",
        );
        if let Some(loc) = e.location() {
            let line = usize::try_from(loc.line()).unwrap_or(0);
            let column = usize::try_from(loc.column()).unwrap_or(0);
            if line > 0 {
                let offset = loc
                    .span()
                    .byte_offset()
                    .and_then(|o| usize::try_from(o).ok())
                    .unwrap_or_else(|| offset_of(&file.text, line, column));
                d = d.with_span(Span::new(offset, 0, line, column.max(1)));
            }
        }
        d
    })
}

fn first_line(s: &str) -> &str {
    s.lines().next().unwrap_or(s)
}

/// Byte offset of a 1-based line and character column, clamped to the text.
fn offset_of(text: &str, line: usize, column: usize) -> usize {
    let start = text
        .split_inclusive('\n')
        .take(line.saturating_sub(1))
        .map(str::len)
        .sum::<usize>();
    let rest = &text[start.min(text.len())..];
    start
        + rest
            .char_indices()
            .nth(column.saturating_sub(1))
            .map_or(rest.len(), |(i, _)| i)
}

fn sort_map(m: &mut Map<String, Value>) {
    m.sort_keys();
    for v in m.values_mut() {
        v.sort_all_objects();
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
    /// use score_core::state::StateDir;
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
        std::fs::create_dir_all(dir).map_err(|e| {
            io::Error::new(
                e.kind(),
                format!("cannot create state directory {}: {e}", dir.display()),
            )
        })?;
        let lock = DirLock::acquire(dir, timeout)?;
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
        match std::fs::read(&path) {
            Ok(bytes) => match String::from_utf8(bytes) {
                Ok(text) => State::from_yaml(&name, &text),
                Err(e) => Err(Diagnostic::new(
                    CODE,
                    format!(
                        "invalid state file {name}: not UTF-8 (byte {})",
                        e.utf8_error().valid_up_to()
                    ),
                )),
            },
            Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(State::new_random()),
            Err(e) => Err(Diagnostic::new(
                CODE,
                format!("cannot read state file {name}: {e}"),
            )),
        }
    }

    /// Writes the state atomically, mode `0600` (outputs may hold secrets).
    pub fn save(&self, s: &State) -> io::Result<()> {
        fsutil::atomic_write_mode(&self.state_path(), s.to_yaml().as_bytes(), 0o600)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn offset_of_counts_characters() {
        let t = "ab\néx: 1\n";
        assert_eq!(offset_of(t, 1, 1), 0);
        assert_eq!(offset_of(t, 2, 1), 3);
        assert_eq!(offset_of(t, 2, 2), 5);
        assert_eq!(offset_of(t, 9, 9), t.len());
    }

    #[test]
    fn random_hex_is_hex() {
        let h = random_hex(16);
        assert_eq!(h.len(), 32);
        assert!(h
            .chars()
            .all(|c| c.is_ascii_hexdigit() && !c.is_ascii_uppercase()));
    }
}
