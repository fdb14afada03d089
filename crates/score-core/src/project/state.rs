//! The persisted project state: one YAML file per target, e.g. `.score-gen/compose/state.yaml`.
//!
//! The state is what makes runs repeatable: generated passwords, random names and provisioner
//! state survive between `score-gen generate` calls. Its shape follows score-go's
//! `framework.State` (§4.2 of the behaviour notes) with readable keys (`source_workload`,
//! `provisioner`, `shared_state`), plus a `version` and a per-project random `seed`.
//!
//! Serialisation is deterministic: every map is sorted by key (as Go's yaml.v3 sorts maps), so the
//! same state always produces the same bytes and `to_yaml(from_yaml(to_yaml(s))) == to_yaml(s)`.
//! Version 3 is written as JSON, which YAML tools read too, because a large project reads and
//! writes it on every run; the reader takes JSON or YAML (versions 1 and 2, hand-written files).
//!
//! ```
//! use score_core::project::state::{ResourceState, State};
//! let mut s = State::with_seed("0123456789abcdef0123456789abcdef");
//! s.resources.insert("postgres.default#web.db".into(), ResourceState::new("postgres", "default", None, "web", "template://default"));
//! let text = s.to_yaml();
//! let back = State::from_yaml("state.yaml", &text).unwrap();
//! assert_eq!(back, s);
//! assert_eq!(back.to_yaml(), text);
//! ```

use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;
use std::time::Duration;

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use crate::diag::{Code, Diagnostic, SourceFile, Span};

/// The largest state file read (checked before reading): far above what 10,000 workloads with
/// several resources each produce (~40 MiB), low enough that a planted file cannot exhaust
/// memory.
pub const MAX_STATE_BYTES: u64 = 512 * 1024 * 1024;

/// The state format this build writes. Version 2 stores each workload's document
/// ([`WorkloadState::spec`]) so the project can be regenerated without its files; version 3
/// keeps a target's own fields in [`Extras`] (version 2's compose `builds` of a workload move to
/// its `extras`).
pub const STATE_VERSION: u32 = 3;

/// The oldest state format this build reads (and migrates to [`STATE_VERSION`] on load):
/// version 1 recorded each workload's file but not its document.
pub(crate) const MIN_STATE_VERSION: u32 = 1;

/// Whether [`State::to_yaml`] writes JSON (a YAML 1.2 document) rather than block YAML.
const JSON_STATE: bool = true;

/// The state file's name inside a `host::StateDir`.
pub const STATE_FILE: &str = "state.yaml";

/// The directory under the project root that holds one sub-directory per target.
pub const STATE_ROOT: &str = ".score-gen";

/// How long `host::StateDir::open` waits for another score-gen to release the directory.
pub const DEFAULT_LOCK_TIMEOUT: Duration = Duration::from_secs(10);

/// The whole persisted state of one project for one target.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct State {
    /// Format version; [`STATE_VERSION`] for files this build writes.
    pub version: u32,
    /// Per-project random hex string, generated once; seeds deterministic "random" values.
    pub seed: String,
    /// The project's workloads, by `metadata.name`: every workload a run was given, until a run
    /// removes it. A run without Score files regenerates these.
    #[serde(default)]
    pub workloads: BTreeMap<String, WorkloadState>,
    /// Resources by uid (`type.class#id`). Resources no workload uses any more are kept.
    #[serde(default)]
    pub resources: BTreeMap<String, ResourceState>,
    /// State shared by all provisioners (merged with RFC 7386 JSON merge patch).
    #[serde(default)]
    pub shared_state: Map<String, Value>,
    /// The target's own project-wide fields (score-go's `StateExtras`).
    #[serde(default, skip_serializing_if = "Extras::is_empty")]
    pub extras: Extras,
}

/// A target's own fields in the state, as score-go's `framework.State[StateExtras,
/// WorkloadExtras, ResourceExtras]` carries them: core stores them without knowing them, and the
/// target reads and writes them through its own type (compose keeps a workload's `--build` as
/// `score_target_compose::WorkloadExtras`).
///
/// ```
/// use score_core::project::Extras;
/// #[derive(serde::Serialize, serde::Deserialize, Default, PartialEq, Debug)]
/// struct Mine { builds: std::collections::BTreeMap<String, String> }
/// let mut e = Extras::default();
/// assert_eq!(e.get::<Mine>().unwrap(), Mine::default());
/// let mine = Mine { builds: [("main".to_string(), "./web".to_string())].into() };
/// e.set(&mine);
/// assert_eq!(e.get::<Mine>().unwrap(), mine);
/// assert_eq!(e.as_map()["builds"]["main"], "./web");
/// ```
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(transparent)]
pub struct Extras(Map<String, Value>);

impl Extras {
    /// Whether no target field is set (the state then omits the key).
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// The fields read as the target's type `T` (no fields: `T::default()`).
    // `Result<_, Diagnostic>` is the crate-wide error contract; the size is the price of spans.
    #[allow(clippy::result_large_err)]
    pub fn get<T: serde::de::DeserializeOwned + Default>(&self) -> Result<T, Diagnostic> {
        if self.0.is_empty() {
            return Ok(T::default());
        }
        serde_json::from_value(Value::Object(self.0.clone())).map_err(|e| {
            Diagnostic::new(
                Code::StateInvalid,
                format!("invalid target fields in the state: {e}"),
            )
            .with_help(
                "the state file is written by score-gen; if it was edited by hand, fix or delete it",
            )
        })
    }

    /// Replaces the fields with `value` (a struct or map; anything else clears them).
    pub fn set<T: Serialize>(&mut self, value: &T) {
        self.0 = match serde_json::to_value(value) {
            Ok(Value::Object(m)) => m,
            _ => Map::new(),
        };
    }

    /// The fields as JSON.
    pub fn as_map(&self) -> &Map<String, Value> {
        &self.0
    }

    /// The fields as JSON, to edit.
    pub fn as_map_mut(&mut self) -> &mut Map<String, Value> {
        &mut self.0
    }
}

impl From<Map<String, Value>> for Extras {
    fn from(m: Map<String, Value>) -> Self {
        Extras(m)
    }
}

/// What the state remembers about a workload: enough to regenerate it without its file.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, from = "WorkloadStateRepr")]
pub struct WorkloadState {
    /// The Score file it was loaded from, when it came from a file.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub file: Option<String>,
    /// The directory its relative `files[].source` paths are read from (the Score file's
    /// directory when it was given), when it came from a file.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub dir: Option<String>,
    /// The workload document as it was compiled: overrides, `--image` and upgrades applied, keys
    /// in the author's order. `None` only in a state migrated from version 1 (the workload is
    /// then read again from `file`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub spec: Option<Map<String, Value>>,
    /// The target's own fields for this workload (score-go's `WorkloadExtras`; compose: the
    /// `--build` of the run that added it).
    #[serde(default, skip_serializing_if = "Extras::is_empty")]
    pub extras: Extras,
}

/// [`WorkloadState`] as read: version 2 kept compose's builds in a `builds` key of core's
/// entry; they move into the target's [`Extras`] (`extras.builds`).
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct WorkloadStateRepr {
    #[serde(default)]
    file: Option<String>,
    #[serde(default)]
    dir: Option<String>,
    #[serde(default)]
    spec: Option<Map<String, Value>>,
    #[serde(default)]
    builds: Option<Map<String, Value>>,
    #[serde(default)]
    extras: Extras,
}

impl From<WorkloadStateRepr> for WorkloadState {
    fn from(r: WorkloadStateRepr) -> Self {
        let mut extras = r.extras;
        if let Some(builds) = r.builds.filter(|b| !b.is_empty()) {
            extras.0.insert("builds".into(), Value::Object(builds));
        }
        WorkloadState {
            file: r.file,
            dir: r.dir,
            spec: r.spec,
            extras,
        }
    }
}

impl WorkloadState {
    /// The stored document as YAML text, to load again (`None` without a stored document).
    pub fn spec_yaml(&self) -> Option<String> {
        self.spec.as_ref().map(|spec| {
            serde_saphyr::to_string(spec).unwrap_or_else(|e| {
                unreachable!("serde-saphyr cannot emit a JSON-shaped document: {e}")
            })
        })
    }
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
    /// The guid score-compose or score-k8s gave the resource when it was first added (their
    /// state's `guid`), kept so templates that read `.Guid` (score-k8s's secret names) see the
    /// same value; `None` for resources score-gen added (their guid derives from the seed).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub guid: Option<String>,
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
    /// The target's own fields for this resource (score-go's `ResourceExtras`).
    #[serde(default, skip_serializing_if = "Extras::is_empty")]
    pub extras: Extras,
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
            guid: None,
            source_workload: source_workload.into(),
            provisioner: provisioner.into(),
            params: None,
            metadata: None,
            state: Map::new(),
            outputs: Map::new(),
            secret_outputs: BTreeSet::new(),
            expression_outputs: BTreeSet::new(),
            extras: Extras::default(),
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
    /// An empty state (current version) with the given seed: the same seed and inputs give the
    /// same generated values (passwords, names) and so the same output bytes.
    ///
    /// ```
    /// let s = score_core::State::with_seed("0123456789abcdef");
    /// assert_eq!(s.seed, "0123456789abcdef");
    /// assert!(s.resources.is_empty());
    /// ```
    pub fn with_seed(seed: impl Into<String>) -> State {
        State {
            version: STATE_VERSION,
            seed: seed.into(),
            workloads: BTreeMap::new(),
            resources: BTreeMap::new(),
            shared_state: Map::new(),
            extras: Extras::default(),
        }
    }

    /// The canonical text: pretty-printed JSON (a YAML 1.2 document, so YAML tools read it),
    /// maps sorted by key except workload documents, empty optional fields omitted.
    pub fn to_yaml(&self) -> String {
        self.clone().into_yaml()
    }

    /// [`State::to_yaml`], giving the state up: no copy of it is made on the way (a large
    /// project's state is tens of megabytes as values).
    pub fn into_yaml(self) -> String {
        let mut canonical = self;
        sort_map(&mut canonical.shared_state);
        sort_map(&mut canonical.extras.0);
        for w in canonical.workloads.values_mut() {
            sort_map(&mut w.extras.0);
        }
        for r in canonical.resources.values_mut() {
            for m in [&mut r.state, &mut r.outputs, &mut r.extras.0] {
                sort_map(m);
            }
            for m in [r.params.as_mut(), r.metadata.as_mut()]
                .into_iter()
                .flatten()
            {
                sort_map(m);
            }
        }
        // Workload documents (`spec`) keep the author's key order: a regenerate loads them
        // again, and the order of containers, ports and variables reaches the outputs.
        // Version 3 is written as JSON (a YAML 1.2 document, so YAML tools still read it): it
        // reads and writes an order of magnitude faster than block YAML, which a project of
        // a thousand workloads pays on every run. Every value is a JSON value; a failure would
        // be a bug in serde_json.
        if JSON_STATE {
            let mut text = serde_json::to_string_pretty(&canonical).unwrap_or_else(|e| {
                unreachable!("serde_json cannot fail on a JSON-shaped state: {e}")
            });
            text.push('\n');
            return text;
        }
        serde_saphyr::to_string(&canonical)
            .unwrap_or_else(|e| unreachable!("serde-saphyr cannot emit a JSON-shaped state: {e}"))
    }

    /// Parses a state file. `name` is used in diagnostics (usually the path).
    ///
    /// Errors (never panics): not YAML, not a mapping, no or unknown `version`, unknown keys,
    /// wrong types. Each carries the file and, where the parser knows it, the line and column.
    ///
    /// ```
    /// let err = score_core::project::state::State::from_yaml("s.yaml", "version: 7\nseed: ab\n").unwrap_err();
    /// assert!(err.message.contains("unsupported state version 7"));
    /// ```
    // `Result<_, Diagnostic>` is the crate-wide error contract; the size is the price of spans.
    #[allow(clippy::result_large_err)]
    pub fn from_yaml(name: &str, text: &str) -> Result<State, Diagnostic> {
        let file = Arc::new(SourceFile::new(name, text));
        if text.trim().is_empty() {
            return Err(
                Diagnostic::new(Code::StateEmpty, format!("state file {name} is empty"))
                    .with_file(file)
                    .with_help(
                        "delete it to start from a fresh state (generated values will change)",
                    ),
            );
        }
        // One parse on the happy path; the version probe (a second parse) only explains a
        // failure or an unsupported version.
        let mut state: State = match parse::<State>(&file, text) {
            Ok(state) if (MIN_STATE_VERSION..=STATE_VERSION).contains(&state.version) => state,
            parsed => {
                check_version(name, &file, text)?;
                parsed?
            }
        };
        // Migration 1 → 3: the keys of version 1 are a subset of version 3's; its workloads have
        // no stored document and are read again from their files on the next run
        // (`Project::load`). Migration 2 → 3: a workload's `builds` moved into its extras as it
        // was read (`WorkloadStateRepr`).
        state.version = STATE_VERSION;
        if state.seed.chars().count() < MIN_SEED_CHARS {
            // Every generated password derives from the seed: a planted empty or short seed would
            // make them all predictable.
            return Err(Diagnostic::new(
                Code::StateInvalid,
                format!(
                    "state file {name}: the seed has {} characters, fewer than the {MIN_SEED_CHARS} a safe seed needs",
                    state.seed.chars().count()
                ),
            )
            .with_span(key_span(&file, "seed"))
            .with_file(file)
            .with_pointer("/seed")
            .with_help("delete the state file to draw a new seed (generated passwords and names will change)"));
        }
        Ok(state)
    }
}

/// The error for a state whose `version` is missing, not an integer, or not one this build
/// reads; `Ok` when the version is fine (the state's problem is elsewhere).
#[allow(clippy::result_large_err)]
fn check_version(name: &str, file: &Arc<SourceFile>, text: &str) -> Result<(), Diagnostic> {
    let probe: VersionProbe = parse(file, text)?;
    match probe.version {
            Some(Value::Number(n))
                if n.as_u64().is_some_and(|v| {
                    (u64::from(MIN_STATE_VERSION)..=u64::from(STATE_VERSION)).contains(&v)
                }) => {}
            Some(Value::Number(n)) => {
                return Err(Diagnostic::new(
                    Code::StateUnsupportedVersion,
                    format!(
                        "unsupported state version {n} in {name}; this score-gen reads versions {MIN_STATE_VERSION} to {STATE_VERSION}"
                    ),
                )
                .with_file(file.clone())
                .with_span(version_span(file))
                .with_pointer("/version")
                .with_help("use the score-gen release that wrote this state, or delete the file"))
            }
            Some(other) => {
                return Err(Diagnostic::new(
                    Code::StateInvalid,
                    format!("state file {name}: version must be an integer, found {other}"),
                )
                .with_file(file.clone())
                .with_span(version_span(file))
                .with_pointer("/version"))
            }
            None => {
                return Err(Diagnostic::new(
                    Code::StateInvalid,
                    format!("{name} is not a score-gen state file: it has no `version`"),
                )
                .with_file(file.clone())
                .with_help("state files are written by `score-gen init` and `score-gen generate`"))
            }
        }
    Ok(())
}

/// The most YAML nodes a state file may hold (the Score reader's bound is 250,000 per file). A
/// project of 10,000 workloads and 30,000 resources writes about a million
/// (`crates/score-bench/tests/large_project.rs`); a node costs up to ~250 bytes once read, so
/// this bound keeps a state's values near 1 GiB, inside the default `--max-memory`.
pub const MAX_STATE_NODES: usize = 4_000_000;

/// The fewest characters a seed read from a state file may have (score-gen writes 32 hex
/// characters, 128 bits).
pub(crate) const MIN_SEED_CHARS: usize = 16;

fn version_span(file: &SourceFile) -> Span {
    key_span(file, "version")
}

/// The span of top-level `key:` (the writer puts top-level keys at the start of a line; a
/// hand-written file that does not falls back to the file's start).
fn key_span(file: &SourceFile, key: &str) -> Span {
    // YAML: `key:` at the start of a line; JSON (version 3): `  "key":` at the top level.
    let json = format!("\n  \"{key}\":");
    let offset = match file.text.find(&json) {
        Some(i) if is_json(&file.text) => i + 4,
        _ => file
            .text
            .match_indices(key)
            .find(|(i, _)| {
                (*i == 0 || file.text.as_bytes()[i - 1] == b'\n')
                    && file.text[i + key.len()..]
                        .trim_start_matches(' ')
                        .starts_with(':')
            })
            .map_or(0, |(i, _)| i),
    };
    let (line, column) = file.line_col(offset);
    Span::new(offset, key.len(), line, column)
}

// `Result<_, Diagnostic>` is the crate-wide error contract; the size is the price of spans.
#[allow(clippy::result_large_err)]
fn parse<T: for<'de> Deserialize<'de>>(
    file: &Arc<SourceFile>,
    text: &str,
) -> Result<T, Diagnostic> {
    if is_json(text) {
        return parse_json(file, text);
    }
    // The writer has no node limit, so the reader's scales with the file: a node or event takes
    // at least one byte of text, and the file's size is checked before it is read
    // (MAX_STATE_BYTES). serde-saphyr's fixed defaults (250,000 nodes) locked out projects
    // above ~4,000 workloads.
    // The state is data (a planted or corrupted file), so the budget also has a fixed ceiling
    // like the Score reader's: 16 million one-character list items read as ~4 GB of values.
    let scaled = text.len().saturating_add(1024);
    let opts = serde_saphyr::options! {
        strict_booleans: true,
        legacy_octal_numbers: true,
        with_snippet: false,
        budget: serde_saphyr::budget! {
            max_nodes: scaled.clamp(250_000, MAX_STATE_NODES),
            max_events: scaled.clamp(1_000_000, MAX_STATE_NODES.saturating_mul(4)),
        },
    };
    crate::load::yaml::from_str_typed::<T>(text, opts).map_err(|e| {
        let mut d = Diagnostic::new(
            Code::StateInvalid,
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

/// Whether the state text is JSON (version 3 and later are written as JSON; versions 1 and 2,
/// and hand-written files, are block YAML).
fn is_json(text: &str) -> bool {
    text.trim_start().starts_with('{')
}

/// [`parse`] for a JSON state: the same node bound as the YAML reader's, counted before any
/// value is built, and errors located at their line and column.
#[allow(clippy::result_large_err)]
fn parse_json<T: for<'de> Deserialize<'de>>(
    file: &Arc<SourceFile>,
    text: &str,
) -> Result<T, Diagnostic> {
    let invalid = |message: String| {
        Diagnostic::new(
            Code::StateInvalid,
            format!("invalid state file {}: {message}", file.name),
        )
        .with_file(file.clone())
        .with_help(
            "the state file is written by score-gen; if it was edited by hand, fix or delete it",
        )
    };
    if let Some(offset) = json_node_limit(text, MAX_STATE_NODES) {
        let (line, column) = file.line_col(offset);
        return Err(invalid(format!(
            "more than {MAX_STATE_NODES} values, the most a state file may hold"
        ))
        .with_span(Span::new(offset, 0, line, column)));
    }
    serde_json::from_str::<T>(text).map_err(|e| {
        let mut d = invalid(first_line(&e.to_string()).to_string());
        if e.line() > 0 {
            let offset = offset_of(&file.text, e.line(), e.column().max(1));
            d = d.with_span(Span::new(offset, 0, e.line(), e.column().max(1)));
        }
        d
    })
}

/// The offset where a JSON text's values pass `limit` (each `[`, `{`, `,` and `:` outside a
/// string starts at most one value), or `None` when they stay within it.
fn json_node_limit(text: &str, limit: usize) -> Option<usize> {
    let mut nodes = 1usize;
    let mut in_string = false;
    let mut escaped = false;
    for (i, b) in text.bytes().enumerate() {
        if in_string {
            match b {
                _ if escaped => escaped = false,
                b'\\' => escaped = true,
                b'"' => in_string = false,
                _ => {}
            }
            continue;
        }
        match b {
            b'"' => in_string = true,
            b'[' | b'{' | b',' | b':' => {
                nodes += 1;
                if nodes > limit {
                    return Some(i);
                }
            }
            _ => {}
        }
    }
    None
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
}
