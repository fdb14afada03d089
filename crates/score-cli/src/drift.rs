//! `--check` (are the outputs on disk what this run would write?) and `--locked` / `--frozen`
//! (would this run change the state's resources?), for CI and GitOps (spec/cli.md).
//!
//! Both sit at the seam where a run has computed everything (artefacts and the new state) and
//! has not written anything yet: `--check` compares instead of writing, `--locked` refuses to
//! write when the state's resources would change.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Mutex;
use std::time::Duration;

use score_core::host::fsutil;
use score_core::project::ResourceState;
use score_core::{Code, Diagnostic, Diagnostics, State};
use serde_json::{Map, Value};

use crate::files::io_diag;

/// The exit code of a `--check` run that found outputs out of date (1 is invalid input, 2 a
/// usage error).
pub const EXIT_DRIFT: u8 = 3;

/// Lines of diff printed per file before the rest is summarised.
const MAX_DIFF_LINES: usize = 200;

/// Set when a `--check` run found a difference; `main` turns it into [`EXIT_DRIFT`].
static DRIFTED: AtomicBool = AtomicBool::new(false);

/// The files a `--check` run found out of date, with what is wrong (for `--message-format json`).
static REPORT: Mutex<Vec<(String, &'static str)>> = Mutex::new(Vec::new());

/// Whether a `--check` run found outputs out of date.
pub fn drifted() -> bool {
    DRIFTED.load(Ordering::Relaxed)
}

/// The out-of-date files as JSON (`{"file": ..., "status": "changed|missing|mode|not-a-file"}`).
pub fn report_json() -> Value {
    let report = REPORT.lock().map(|r| r.clone()).unwrap_or_default();
    Value::Array(
        report
            .into_iter()
            .map(|(file, status)| serde_json::json!({"file": file, "status": status}))
            .collect(),
    )
}

/// What one target's run would put on disk.
pub struct Planned<'a> {
    /// (path, bytes, directory the path must stay inside), as `generate::plan` gives them.
    pub files: Vec<(PathBuf, Vec<u8>, PathBuf)>,
    /// Permission bits the run would set.
    pub modes: Vec<(PathBuf, u32)>,
    /// Directories the run would create.
    pub directories: Vec<PathBuf>,
    /// Values never to print (secret outputs and provisioner state of the old and new state).
    pub secrets: &'a Secrets,
}

/// Compares what the run would write with the disk and writes nothing. Differences are
/// reported on stderr (a bounded unified diff per file, secret values redacted) and make the
/// process exit with [`EXIT_DRIFT`]; an output that could not be written (it is an input, or a
/// link) is an error as in a writing run.
pub fn check(planned: &[Planned<'_>], inputs: &[PathBuf]) -> Result<(), Diagnostics> {
    let root = std::env::current_dir().map_err(|e| io_diag(".", e))?;
    let mut out = String::new();
    let mut report = Vec::new();
    let mut total = 0usize;
    for p in planned {
        for (path, bytes, base) in &p.files {
            total += 1;
            let name = path.display().to_string();
            if let Some(input) = inputs.iter().find(|i| fsutil::same_file(i, path)) {
                return Err(Diagnostic::new(
                    Code::UsageOutputIsInput,
                    format!(
                        "refusing to compare {name}: it is the input {}",
                        input.display()
                    ),
                )
                .with_help("choose another output path (-o); score-gen never overwrites its inputs")
                .into());
            }
            // What a writing run would refuse, --check refuses too; and it never reads (and
            // prints) a file through a link.
            fsutil::check_confined(&root, path).map_err(|e| io_diag(&name, e))?;
            fsutil::check_confined(base, path).map_err(|e| io_diag(&name, e))?;
            let status = compare_file(path, bytes, p.secrets, &mut out)?;
            if let Some(status) = status {
                report.push((name, status));
            }
        }
        #[cfg(unix)]
        for (path, bits) in &p.modes {
            use std::os::unix::fs::PermissionsExt;
            let Ok(meta) = std::fs::symlink_metadata(path) else {
                continue; // missing: already reported
            };
            let on_disk = meta.permissions().mode() & 0o7777;
            if on_disk != *bits && !report.iter().any(|(f, _)| Path::new(f) == path) {
                out.push_str(&format!(
                    "{}: mode is {on_disk:o}, the run would set {bits:o}\n",
                    path.display()
                ));
                report.push((path.display().to_string(), "mode"));
            }
        }
        for dir in &p.directories {
            total += 1;
            if !dir.is_dir() {
                out.push_str(&format!(
                    "{}/: missing directory (the run would create it)\n",
                    dir.display()
                ));
                report.push((dir.display().to_string(), "missing"));
            }
        }
    }
    if report.is_empty() {
        crate::render::note!("score-gen --check: {total} outputs up to date");
        return Ok(());
    }
    out.push_str(&format!(
        "score-gen --check: {} of {total} outputs out of date; run the same command without --check to update them\n",
        report.len()
    ));
    eprint!("{out}");
    DRIFTED.store(true, Ordering::Relaxed);
    if let Ok(mut r) = REPORT.lock() {
        r.extend(report);
    }
    Ok(())
}

/// Compares one file; appends its diff to `out` and says what is wrong, or `None`.
fn compare_file(
    path: &Path,
    want: &[u8],
    secrets: &Secrets,
    out: &mut String,
) -> Result<Option<&'static str>, Diagnostics> {
    let name = path.display().to_string();
    let meta = match std::fs::symlink_metadata(path) {
        Ok(m) => m,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            out.push_str(&unified_diff(&name, None, want, secrets));
            return Ok(Some("missing"));
        }
        Err(e) => return Err(io_diag(&name, e).into()),
    };
    if !meta.is_file() {
        out.push_str(&format!("{name}: not a regular file\n"));
        return Ok(Some("not-a-file"));
    }
    // Outputs are bounded by the run's own memory budget; a file on disk much larger than what
    // the run wants is out of date whatever it holds, so it is not read whole.
    let limit = (want.len() as u64).saturating_mul(4).max(1 << 20);
    let have = match fsutil::read_bounded(path, limit, Duration::from_secs(10)) {
        Ok(b) => b,
        Err(e) if e.kind() == std::io::ErrorKind::FileTooLarge => {
            out.push_str(&format!(
                "{name}: on disk is {} bytes, the run would write {}\n",
                meta.len(),
                want.len()
            ));
            return Ok(Some("changed"));
        }
        Err(e) => return Err(io_diag(&name, e).into()),
    };
    if have == want {
        return Ok(None);
    }
    out.push_str(&unified_diff(&name, Some(&have), want, secrets));
    Ok(Some("changed"))
}

/// A unified diff of one file (on disk → generated), at most [`MAX_DIFF_LINES`] lines, with
/// secret values redacted.
fn unified_diff(name: &str, have: Option<&[u8]>, want: &[u8], secrets: &Secrets) -> String {
    let old = have.map(String::from_utf8_lossy).unwrap_or_default();
    let new = String::from_utf8_lossy(want);
    let (from, to) = match have {
        Some(_) => (format!("{name} (on disk)"), format!("{name} (generated)")),
        None => (
            "/dev/null (missing)".to_string(),
            format!("{name} (generated)"),
        ),
    };
    let diff = similar::TextDiff::from_lines(old.as_ref(), new.as_ref());
    let text = diff
        .unified_diff()
        .context_radius(3)
        .header(&from, &to)
        .to_string();
    // A value no state knows any more (the on-disk file's password from a lost state) is
    // redacted where its line matches a generated line with the secret cut out: the removed
    // `DB: postgres://u:OLD@host` takes the shape of the added `DB: postgres://u:<redacted>@host`.
    let all: Vec<&str> = text.lines().collect();
    let shapes: Vec<String> = all
        .iter()
        .filter_map(|l| l.strip_prefix('+'))
        .map(|l| secrets.redact_line(l))
        .filter(|l| l.contains(REDACTED))
        .collect();
    let mut s = String::new();
    for line in all.iter().take(MAX_DIFF_LINES) {
        let mut shown = secrets.redact_line(line);
        if let Some(removed) = line.strip_prefix('-').filter(|_| !line.starts_with("---"))
            && let Some(shape) = shapes.iter().find(|t| fits(removed, t))
        {
            shown = format!("-{shape}");
        }
        s.push_str(&shown);
        s.push('\n');
    }
    let rest = all.len().saturating_sub(MAX_DIFF_LINES);
    if rest > 0 {
        s.push_str(&format!(
            "... {rest} more diff lines for {name} not shown\n"
        ));
    }
    s
}

const REDACTED: &str = "<redacted>";

/// Whether `line` is `shape` with something in place of each `<redacted>`.
fn fits(line: &str, shape: &str) -> bool {
    let parts: Vec<&str> = shape.split(REDACTED).collect();
    let (Some(first), Some(last)) = (parts.first(), parts.last()) else {
        return false;
    };
    if parts.len() < 2 || !line.starts_with(first) || !line[first.len()..].ends_with(last) {
        return false;
    }
    let mut rest = &line[first.len()..line.len() - last.len()];
    for part in &parts[1..parts.len() - 1] {
        match rest.find(part) {
            Some(i) => rest = &rest[i + part.len()..],
            None => return false,
        }
    }
    true
}

/// Values a diff must not print: every secret output and every string in the provisioners'
/// private state (generated passwords live there), with their base64 forms (Kubernetes Secret
/// data), of the old and the new state. Lines whose key names a secret (`password`, `token`,
/// ...) have their value redacted too, so a value no state knows (a password the on-disk file
/// got from a lost state) is not printed either.
#[derive(Debug, Default)]
pub struct Secrets {
    values: BTreeSet<String>,
}

/// The shortest value redacted by value: shorter strings (`5432`, `true`) are not secrets and
/// would blank out half a diff.
const MIN_SECRET_LEN: usize = 6;

impl Secrets {
    /// Collects the secret values of `states`.
    pub fn of<'a>(states: impl IntoIterator<Item = &'a BTreeMap<String, ResourceState>>) -> Self {
        use base64::Engine;
        let mut values = BTreeSet::new();
        for resources in states {
            for r in resources.values() {
                for name in &r.secret_outputs {
                    if let Some(v) = r.outputs.get(name) {
                        strings(v, &mut values);
                    }
                }
                for v in r.state.values() {
                    strings(v, &mut values);
                }
            }
        }
        let encoded: Vec<String> = values
            .iter()
            .map(|v| base64::engine::general_purpose::STANDARD.encode(v))
            .collect();
        values.extend(encoded);
        values.retain(|v| v.len() >= MIN_SECRET_LEN);
        Secrets { values }
    }

    /// `line` with every secret value, and the value of a secret-named key, replaced.
    pub fn redact_line(&self, line: &str) -> String {
        let mut s = line.to_string();
        // Longest first, so a value containing another is replaced whole.
        let mut values: Vec<&String> = self.values.iter().collect();
        values.sort_by_key(|v| std::cmp::Reverse(v.len()));
        for v in values {
            if s.contains(v.as_str()) {
                s = s.replace(v.as_str(), REDACTED);
            }
        }
        redact_secret_key(&s)
    }
}

fn strings(v: &Value, out: &mut BTreeSet<String>) {
    match v {
        Value::String(s) => {
            out.insert(s.clone());
        }
        Value::Array(a) => a.iter().for_each(|x| strings(x, out)),
        Value::Object(m) => m.values().for_each(|x| strings(x, out)),
        _ => {}
    }
}

/// `KEY: VALUE` / `KEY=VALUE` (YAML, HCL, .env) where KEY names a secret: the value redacted.
fn redact_secret_key(line: &str) -> String {
    const WORDS: [&str; 6] = ["password", "passwd", "secret", "token", "apikey", "api_key"];
    let Some(at) = line.find([':', '=']) else {
        return line.to_string();
    };
    let (key, rest) = line.split_at(at);
    let key_l = key.to_ascii_lowercase();
    let value = rest[1..].trim();
    if !WORDS.iter().any(|w| key_l.contains(w))
        || value.is_empty()
        || value == REDACTED
        || value.starts_with(['{', '['])
        || value == "|"
        || value == ">"
    {
        return line.to_string();
    }
    format!("{key}{} {REDACTED}", &rest[..1])
}

/// Reads `<state-dir>/<target>/state.yaml` without creating, locking or writing anything (a
/// read-only checkout). A missing file is a fresh state, except under `--frozen`.
pub fn read_state(state_file: &Path, frozen: bool) -> Result<State, Diagnostics> {
    let name = state_file.display().to_string();
    match fsutil::read_bounded(
        state_file,
        score_core::host::MAX_STATE_BYTES,
        Duration::from_secs(10),
    ) {
        Ok(bytes) => {
            let text = String::from_utf8(bytes).map_err(|e| {
                Diagnostic::new(
                    Code::StateInvalid,
                    format!(
                        "invalid state file {name}: not UTF-8 (byte {})",
                        e.utf8_error().valid_up_to()
                    ),
                )
            })?;
            Ok(State::from_yaml(&name, &text)?)
        }
        Err(e) if e.kind() == std::io::ErrorKind::NotFound && !frozen => Ok(State::new_random()),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Err(missing_state(state_file)),
        Err(e) => Err(Diagnostic::new(
            Code::StateIo,
            format!("cannot read state file {name}: {e}"),
        )
        .into()),
    }
}

/// `--locked` / `--frozen` on a project without a state file: the run would create one.
pub fn missing_state(state_file: &Path) -> Diagnostics {
    Diagnostic::new(
        Code::StateLocked,
        format!(
            "--locked: there is no state file {}, and the run would create one",
            state_file.display()
        ),
    )
    .with_help(
        "run once without --locked (generated values are made then), commit the state directory, \
         then run with --locked",
    )
    .into()
}

/// What `--locked` compares: the state's resources and shared state before the run.
pub struct Locked {
    resources: BTreeMap<String, ResourceState>,
    shared: Map<String, Value>,
}

impl Locked {
    /// Remembers `state` as it was loaded.
    pub fn before(state: &State) -> Self {
        Locked {
            resources: state.resources.clone(),
            shared: state.shared_state.clone(),
        }
    }

    /// Fails when `after` changes the state's resources: a new resource, a changed provisioner,
    /// a changed provisioner state (generated values), a new output name, a changed shared
    /// state. Workloads, params and the outputs that follow from them may change.
    pub fn verify(
        &self,
        target: &str,
        state_file: &Path,
        after: &State,
    ) -> Result<(), Diagnostics> {
        let mut changes = Vec::new();
        for (uid, new) in &after.resources {
            let Some(old) = self.resources.get(uid) else {
                changes.push(format!(
                    "new resource {uid} (provisioner {}, for workload '{}')",
                    new.provisioner, new.source_workload
                ));
                continue;
            };
            if old.provisioner != new.provisioner {
                changes.push(format!(
                    "resource {uid}: provisioner {} would replace {}",
                    new.provisioner, old.provisioner
                ));
            }
            let keys = |m: &Map<String, Value>| m.keys().cloned().collect::<BTreeSet<_>>();
            let (old_state, new_state) = (keys(&old.state), keys(&new.state));
            for k in new_state.difference(&old_state) {
                changes.push(format!("resource {uid}: new generated value `{k}`"));
            }
            for (k, v) in &new.state {
                if old.state.get(k).is_some_and(|o| o != v) {
                    changes.push(format!(
                        "resource {uid}: generated value `{k}` would change"
                    ));
                }
            }
            for k in keys(&new.outputs).difference(&keys(&old.outputs)) {
                changes.push(format!("resource {uid}: new output `{k}`"));
            }
        }
        for (k, v) in &after.shared_state {
            match self.shared.get(k) {
                None => changes.push(format!("new shared state `{k}`")),
                Some(o) if o != v => changes.push(format!("shared state `{k}` would change")),
                _ => {}
            }
        }
        if changes.is_empty() {
            return Ok(());
        }
        let shown = 20;
        let mut message = format!(
            "--locked: the run would change the {target} state {} ({} change{})",
            state_file.display(),
            changes.len(),
            if changes.len() == 1 { "" } else { "s" }
        );
        for c in changes.iter().take(shown) {
            message.push_str("\n  - ");
            message.push_str(c);
        }
        if changes.len() > shown {
            message.push_str(&format!("\n  ... and {} more", changes.len() - shown));
        }
        Err(Diagnostic::new(Code::StateLocked, message)
            .with_help(
                "run without --locked where the state may change (a developer's machine), commit \
                 the state directory, and run with --locked again",
            )
            .into())
    }
}
