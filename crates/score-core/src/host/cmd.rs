//! The `cmd://` protocol: run an executable with the resource's inputs as JSON on stdin and read
//! its answer as JSON from stdout (see `schemas/cmd-provisioner.json`).
//!
//! Only `std::process`: one thread feeds stdin, one drains stdout (capped), one drains stderr
//! (keeping the tail), and the caller polls the child against a deadline. The child runs in a
//! process group of its own; on timeout the whole group is killed, so background grandchildren
//! (e.g. `sleep` started by a shell script) do not run on. The pipe threads are still abandoned
//! rather than joined: a grandchild that left the group (`setsid`) and inherited the pipes would
//! otherwise keep us waiting.

use std::collections::{BTreeMap, BTreeSet};
use std::io::{Read, Write};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::sync::mpsc;
use std::thread;
use std::time::{Duration, Instant};

use serde::Serialize;
use serde_json::{Map, Value};

use crate::diag::{Code, Diagnostic};
use crate::provision::{CmdSpec, ProvisionInput, ProvisionOptions, ProvisionTarget};

/// How many trailing stderr lines an error message carries.
pub const STDERR_TAIL_LINES: usize = 20;
/// How many stderr bytes are kept at most (the tail).
const STDERR_KEEP: usize = 64 * 1024;

/// What the program reads on stdin.
#[derive(Serialize)]
struct CmdInput<'a> {
    resource_uid: &'a str,
    resource_type: &'a str,
    resource_class: &'a str,
    resource_id: &'a str,
    resource_params: &'a Map<String, Value>,
    resource_metadata: &'a Map<String, Value>,
    source_workload: &'a str,
    workload_services: &'a Value,
    resource_state: &'a Map<String, Value>,
    shared_state: &'a Map<String, Value>,
    target: &'a Value,
    requested_outputs: &'a [String],
    // What the ecosystem's programs also read (the tools' `provisioners.Input`): core's part,
    // then the target's fields (`Target::provisioner_fields`).
    resource_guid: String,
    workload_metadata: &'a Map<String, Value>,
    namespace: &'a str,
    #[serde(flatten)]
    fields: TargetFields<'a>,
}

/// The target's members of the input: each field's `cmd_field`, from its context key.
struct TargetFields<'a> {
    fields: &'a [crate::target::ProvisionerField],
    target: &'a Value,
}

impl Serialize for TargetFields<'_> {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeMap;
        let mut m = s.serialize_map(Some(self.fields.len()))?;
        for f in self.fields {
            m.serialize_entry(f.cmd_field, target_str(self.target, f.context_key))?;
        }
        m.end()
    }
}

/// The answer members core reads, whatever the target.
const CORE_ANSWER_KEYS: [&str; 6] = [
    "resource_state",
    "shared_state",
    "resource_outputs",
    "secret_outputs",
    "expression_outputs",
    "fragments",
];

/// What the program writes on stdout. Every member is optional; a member that is neither core's
/// nor one of the target's answer keys (`Target::cmd_answer_keys`) is an error, as the tools
/// refuse unknown members, so that an answer in another format (`services`, `volumes`, ...)
/// fails loudly instead of being silently dropped.
#[derive(Default)]
pub(crate) struct CmdOutput {
    pub resource_state: Option<Map<String, Value>>,
    pub shared_state: Option<Value>,
    pub resource_outputs: Option<Map<String, Value>>,
    pub secret_outputs: Option<BTreeSet<String>>,
    pub expression_outputs: Option<BTreeSet<String>>,
    pub fragments: Option<BTreeMap<String, Value>>,
    /// The target's answer keys present, by key.
    answers: Map<String, Value>,
}

/// Reads a [`CmdOutput`] accepting the target's answer keys (serde's messages, with
/// serde_json's line and column).
struct AnswerSeed<'a>(&'a [(&'a str, &'a str)]);

impl<'de> serde::de::DeserializeSeed<'de> for AnswerSeed<'_> {
    type Value = CmdOutput;

    fn deserialize<D: serde::Deserializer<'de>>(self, d: D) -> Result<CmdOutput, D::Error> {
        d.deserialize_map(self)
    }
}

impl<'de> serde::de::Visitor<'de> for AnswerSeed<'_> {
    type Value = CmdOutput;

    fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("struct CmdOutput")
    }

    fn visit_map<A: serde::de::MapAccess<'de>>(self, mut map: A) -> Result<CmdOutput, A::Error> {
        use serde::de::Error;
        let mut out = CmdOutput::default();
        let mut seen = BTreeSet::new();
        while let Some(key) = map.next_key::<String>()? {
            if !seen.insert(key.clone()) {
                return Err(A::Error::custom(format_args!("duplicate field `{key}`")));
            }
            match key.as_str() {
                "resource_state" => out.resource_state = map.next_value()?,
                "shared_state" => out.shared_state = map.next_value()?,
                "resource_outputs" => out.resource_outputs = map.next_value()?,
                "secret_outputs" => out.secret_outputs = map.next_value()?,
                "expression_outputs" => out.expression_outputs = map.next_value()?,
                "fragments" => out.fragments = map.next_value()?,
                k if self.0.iter().any(|(a, _)| *a == k) => {
                    let v: Value = map.next_value()?;
                    out.answers.insert(key, v);
                }
                _ => {
                    let expected: Vec<String> = CORE_ANSWER_KEYS
                        .iter()
                        .chain(self.0.iter().map(|(a, _)| a))
                        .map(|k| format!("`{k}`"))
                        .collect();
                    return Err(A::Error::custom(format_args!(
                        "unknown field `{key}`, expected one of {}",
                        expected.join(", ")
                    )));
                }
            }
        }
        Ok(out)
    }
}

impl CmdOutput {
    /// The fragments for a target: the `fragments` object, plus the target's answer keys
    /// (`answer_keys`: answer key → section), each filling its section unless `fragments` has
    /// it already.
    pub(crate) fn fragments_for(
        &mut self,
        answer_keys: &[(&str, &str)],
    ) -> BTreeMap<String, Value> {
        let mut out = self.fragments.take().unwrap_or_default();
        for (key, section) in answer_keys {
            match self.answers.remove(*key) {
                None | Some(Value::Null) => {}
                Some(v) => {
                    out.entry(section.to_string()).or_insert(v);
                }
            }
        }
        out
    }
}

/// What the pipe threads report when their pipe closes.
enum Pipe {
    Stdout(Result<Vec<u8>, String>),
    Stderr(Vec<u8>),
}

/// What the program's pipes delivered: stdout (or why it was dropped) and the stderr tail.
#[derive(Default)]
struct Captured {
    stdout: Option<Result<Vec<u8>, String>>,
    stderr: Vec<u8>,
}

impl Captured {
    /// Stores one pipe's report.
    fn take(&mut self, pipe: Pipe) {
        match pipe {
            Pipe::Stdout(r) => self.stdout = Some(r),
            Pipe::Stderr(e) => self.stderr = e,
        }
    }
}

/// Runs the command and parses its answer.
pub(crate) fn run(
    uri: &str,
    spec: &CmdSpec,
    program: &Path,
    input: &ProvisionInput,
    target: &ProvisionTarget<'_>,
    opts: &ProvisionOptions,
) -> Result<CmdOutput, Diagnostic> {
    let uid = input.uid.as_str();
    let stdin_json = encode_input(input, target.fields).map_err(|e| {
        Diagnostic::new(
            Code::ProvisionCommandFailed,
            format!("cmd provisioner '{uri}': cannot encode input: {e}"),
        )
    })?;
    let mut child = spawn(uri, uid, spec, program)?;
    let rx = start_pipe_threads(&mut child, stdin_json, opts.max_cmd_output);
    // A caller's huge timeout (Duration::MAX) must not overflow the clock: a year is forever here.
    let start = Instant::now();
    let deadline = start
        .checked_add(opts.cmd_timeout)
        .unwrap_or_else(|| start + Duration::from_secs(365 * 24 * 3600));
    let (status, captured) = wait_with_deadline(
        uri,
        uid,
        &mut child,
        &rx,
        deadline,
        opts,
        target.answer_keys,
    )?;
    parse_output(uri, uid, &status, captured, target.answer_keys)
}

/// Encodes the program's stdin document.
fn encode_input(
    input: &ProvisionInput,
    fields: &[crate::target::ProvisionerField],
) -> serde_json::Result<Vec<u8>> {
    serde_json::to_vec(&CmdInput {
        resource_uid: input.uid.as_str(),
        resource_type: &input.kind,
        resource_class: &input.class,
        resource_id: &input.id,
        resource_params: &input.params,
        resource_metadata: &input.metadata,
        source_workload: &input.source_workload,
        workload_services: &input.workload_services,
        resource_state: &input.state,
        shared_state: &input.shared,
        target: &input.target,
        requested_outputs: &input.requested_outputs,
        resource_guid: input.guid(),
        workload_metadata: &input.workload_metadata,
        namespace: target_str(&input.target, "namespace"),
        fields: TargetFields {
            fields,
            target: &input.target,
        },
    })
}

/// A string member of the target's context map (`""` when absent).
fn target_str<'a>(target: &'a Value, key: &str) -> &'a str {
    target.get(key).and_then(Value::as_str).unwrap_or_default()
}

/// Starts the program in a process group of its own (so a timeout can kill what it started too)
/// with all three standard streams piped.
fn spawn(uri: &str, uid: &str, spec: &CmdSpec, program: &Path) -> Result<Child, Diagnostic> {
    // `program` is what `locate` found: a path, never a bare name the OS would look up again
    // (its lookup would use PATH's `.` entries).
    let mut command = Command::new(program);
    #[cfg(unix)]
    {
        use std::os::unix::process::CommandExt;
        command.process_group(0);
    }
    command
        .args(&spec.args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .map_err(|e| {
            Diagnostic::new(
                Code::ProvisionCommandFailed,
                format!(
                    "cmd provisioner '{uri}' for resource '{uid}': cannot start '{}': {e}",
                    spec.program.display()
                ),
            )
            .with_help(crate::provision::kinds::cmd::PROGRAM_HELP)
        })
}

/// Where `program` is, before anything starts: a path (it has a `/`) must name an executable
/// file; a bare name is looked up on `PATH` as Go's `exec.LookPath` does (the tools' lookup): the
/// first entry holding an executable file of that name wins, an empty entry means `.`, and a
/// match through an entry that is not absolute (`.`, ``, `bin`) is refused (Go's `ErrDot`), so a
/// provisioner file cannot run the project's `./name` through a PATH that holds `.`.
pub(crate) fn locate(program: &Path) -> Result<PathBuf, String> {
    let bare = program.components().count() == 1
        && matches!(
            program.components().next(),
            Some(std::path::Component::Normal(_))
        );
    if !bare {
        return executable(program).map(|()| program.to_path_buf());
    }
    let path = crate::host::path_var().unwrap_or_default();
    for dir in std::env::split_paths(&path) {
        let relative = !dir.is_absolute();
        let candidate = if dir.as_os_str().is_empty() {
            Path::new(".").join(program)
        } else {
            dir.join(program)
        };
        if executable(&candidate).is_ok() {
            if relative {
                return Err(format!(
                    "it is found as '{}' through the PATH entry '{}', which is not absolute: score-gen, like Go's exec.LookPath (ErrDot), does not run a program from the current directory by its bare name",
                    candidate.display(),
                    dir.display()
                ));
            }
            return Ok(candidate);
        }
    }
    Err("no executable file of that name on PATH".to_string())
}

/// `path` is an executable file (Go's `findExecutable`: not a directory, some execute bit).
fn executable(path: &Path) -> Result<(), String> {
    let m = std::fs::metadata(path).map_err(|e| match e.kind() {
        std::io::ErrorKind::NotFound => "no such file".to_string(),
        _ => e.to_string(),
    })?;
    if m.is_dir() {
        return Err("it is a directory".into());
    }
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        if m.permissions().mode() & 0o111 == 0 {
            return Err("it is not executable".into());
        }
    }
    Ok(())
}

/// Starts the threads that feed stdin and drain stdout (capped at `max` bytes) and stderr (its
/// tail); each reports on the returned channel when its pipe closes.
fn start_pipe_threads(child: &mut Child, stdin_json: Vec<u8>, max: usize) -> mpsc::Receiver<Pipe> {
    let (tx, rx) = mpsc::channel::<Pipe>();
    if let Some(mut stdin) = child.stdin.take() {
        // A program that exits without reading stdin makes this write fail: that is fine, its
        // exit status tells the story.
        thread::spawn(move || {
            let _ = stdin.write_all(&stdin_json);
        });
    }
    if let Some(mut out) = child.stdout.take() {
        let tx = tx.clone();
        thread::spawn(move || {
            let mut buf = Vec::new();
            let res = match (&mut out).take(max as u64 + 1).read_to_end(&mut buf) {
                Ok(_) if buf.len() > max => Err(format!("stdout exceeded {}", fmt_bytes(max))),
                Ok(_) => Ok(buf),
                Err(e) => Err(format!("cannot read stdout: {e}")),
            };
            let _ = tx.send(Pipe::Stdout(res));
        });
    }
    if let Some(mut err) = child.stderr.take() {
        let tx = tx.clone();
        thread::spawn(move || {
            let mut keep = Vec::new();
            let mut chunk = [0u8; 8192];
            loop {
                match err.read(&mut chunk) {
                    Ok(0) | Err(_) => break,
                    Ok(n) => {
                        keep.extend_from_slice(&chunk[..n]);
                        if keep.len() > 2 * STDERR_KEEP {
                            keep.drain(..keep.len() - STDERR_KEEP);
                        }
                    }
                }
            }
            let _ = tx.send(Pipe::Stderr(keep));
        });
    }
    rx
}

/// Polls the child until it exits, killing it when its stdout overflows or the deadline passes,
/// then collects what the pipe threads still hold.
fn wait_with_deadline(
    uri: &str,
    uid: &str,
    child: &mut Child,
    rx: &mpsc::Receiver<Pipe>,
    deadline: Instant,
    opts: &ProvisionOptions,
    answer_keys: &[(&str, &str)],
) -> Result<(ExitStatus, Captured), Diagnostic> {
    let mut captured = Captured::default();
    let mut pipes_open = 2usize;
    let status: ExitStatus = loop {
        match child.try_wait() {
            Ok(Some(s)) => break s,
            Ok(None) => {}
            Err(e) => {
                let _ = child.kill();
                return Err(Diagnostic::new(
                    Code::ProvisionCommandFailed,
                    format!(
                    "cmd provisioner '{uri}' for resource '{uid}': cannot wait for the process: {e}"
                ),
                ));
            }
        }
        if matches!(captured.stdout, Some(Err(_))) {
            // Output too large: no reason to let it run on.
            let _ = child.kill();
            let _ = child.wait();
            break_on_output_error(uri, uid, &captured.stdout, &captured.stderr, answer_keys)?;
        }
        let now = Instant::now();
        if now >= deadline {
            kill_group(child);
            let _ = child.wait();
            return Err(Diagnostic::new(
                Code::ProvisionCommandTimeout,
                format!(
                "cmd provisioner '{uri}' for resource '{uid}' timed out after {} and was killed",
                fmt_duration(opts.cmd_timeout)
            ),
            )
            .with_help(stderr_help(
                &captured.stderr,
                "make the program finish sooner, or give it more time (score-gen: --cmd-timeout SECONDS)",
            )));
        }
        if let Ok(pipe) = rx.recv_timeout((deadline - now).min(Duration::from_millis(20))) {
            captured.take(pipe);
            pipes_open -= 1;
        }
    };
    // The child is gone; collect what the pipe threads still hold, but never past the deadline.
    while pipes_open > 0 {
        let now = Instant::now();
        let wait = deadline
            .saturating_duration_since(now)
            .max(Duration::from_millis(200));
        match rx.recv_timeout(wait) {
            Ok(pipe) => captured.take(pipe),
            Err(_) => break,
        }
        pipes_open -= 1;
    }
    Ok((status, captured))
}

/// Kills the program's whole process group (a shell script's background children with it), then
/// the program itself.
fn kill_group(child: &mut Child) {
    #[cfg(unix)]
    if let Ok(pgid @ 1..) = libc::pid_t::try_from(child.id()) {
        // SAFETY: kill(2) takes no pointers. The child is not reaped yet, so its pid, which
        // `process_group(0)` made the group id, still names its group and no other.
        unsafe {
            libc::kill(-pgid, libc::SIGKILL);
        }
    }
    let _ = child.kill();
}

/// Turns the exit status and captured pipes into the program's answer or an error.
fn parse_output(
    uri: &str,
    uid: &str,
    status: &ExitStatus,
    captured: Captured,
    answer_keys: &[(&str, &str)],
) -> Result<CmdOutput, Diagnostic> {
    let Captured { stdout, stderr } = captured;
    if !status.success() {
        let tail = stderr_tail(&stderr);
        let mut msg = format!(
            "cmd provisioner '{uri}' for resource '{uid}' failed: {}",
            describe_status(status)
        );
        if !tail.is_empty() {
            msg.push_str(&format!(
                "\nstderr (last {STDERR_TAIL_LINES} lines):\n{tail}"
            ));
        }
        return Err(Diagnostic::new(Code::ProvisionCommandFailed, msg));
    }
    break_on_output_error(uri, uid, &stdout, &stderr, answer_keys)?;
    let bytes = match stdout {
        Some(Ok(b)) => b,
        _ => Vec::new(),
    };
    let help = answer_help(answer_keys);
    let mut de = serde_json::Deserializer::from_slice(&bytes);
    serde::de::DeserializeSeed::deserialize(AnswerSeed(answer_keys), &mut de)
        .and_then(|out| de.end().map(|()| out))
        .map_err(|e| {
        let shown: String = String::from_utf8_lossy(&bytes).chars().take(200).collect();
        // Valid JSON of the wrong shape is not "invalid JSON".
        let what = if e.is_data() {
            "returned an answer that is not the cmd:// protocol's"
        } else {
            "returned invalid JSON on stdout"
        };
        Diagnostic::new(
            Code::ProvisionCommandOutput,
            format!(
            "cmd provisioner '{uri}' for resource '{uid}' {what}: {e} (stdout starts with: {shown:?})"
        ))
        .with_help(stderr_help(&stderr, &help))
    })
}

fn break_on_output_error(
    uri: &str,
    uid: &str,
    stdout: &Option<Result<Vec<u8>, String>>,
    stderr: &[u8],
    answer_keys: &[(&str, &str)],
) -> Result<(), Diagnostic> {
    if let Some(Err(e)) = stdout {
        return Err(Diagnostic::new(
            Code::ProvisionCommandOutput,
            format!("cmd provisioner '{uri}' for resource '{uid}': {e}"),
        )
        .with_help(stderr_help(stderr, &answer_help(answer_keys))));
    }
    Ok(())
}

/// What a cmd:// program must print, for help lines: core's members and the target's answer keys.
fn answer_help(answer_keys: &[(&str, &str)]) -> String {
    let mut help = "the program must print one JSON object on stdout, with any of resource_state, shared_state, resource_outputs (an object), secret_outputs, expression_outputs, fragments".to_string();
    if !answer_keys.is_empty() {
        let keys: Vec<&str> = answer_keys.iter().map(|(k, _)| *k).collect();
        help.push_str(", or the target's answer keys ");
        help.push_str(&keys.join(", "));
    }
    help.push_str(" (spec/provisioners.md)");
    help
}

/// `advice`, then the tail of the program's stderr when it wrote any.
fn stderr_help(stderr: &[u8], advice: &str) -> String {
    let tail = stderr_tail(stderr);
    if tail.is_empty() {
        format!("{advice} (the program wrote nothing to stderr)")
    } else {
        format!("{advice}\nstderr (last {STDERR_TAIL_LINES} lines):\n{tail}")
    }
}

/// `16 MiB` for whole mebibytes, else bytes.
fn fmt_bytes(n: usize) -> String {
    if n >= 1 << 20 && n.is_multiple_of(1 << 20) {
        format!("{} MiB", n >> 20)
    } else {
        format!("{n} bytes")
    }
}

/// The last [`STDERR_TAIL_LINES`] non-empty-trailing lines of stderr, lossily decoded.
fn stderr_tail(stderr: &[u8]) -> String {
    let text = String::from_utf8_lossy(stderr);
    let lines: Vec<&str> = text.trim_end().lines().collect();
    let start = lines.len().saturating_sub(STDERR_TAIL_LINES);
    lines[start..].join("\n")
}

fn describe_status(status: &ExitStatus) -> String {
    if let Some(code) = status.code() {
        return format!("exit status {code}");
    }
    #[cfg(unix)]
    {
        use std::os::unix::process::ExitStatusExt;
        if let Some(sig) = status.signal() {
            return format!("killed by signal {sig}");
        }
    }
    status.to_string()
}

fn fmt_duration(d: Duration) -> String {
    if d.subsec_millis() == 0 {
        format!("{}s", d.as_secs())
    } else {
        format!("{:.1}s", d.as_secs_f64())
    }
}
