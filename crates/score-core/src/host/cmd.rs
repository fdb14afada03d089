//! Running a `cmd://` provisioner's program: bytes in on stdin, bytes out from stdout, with a
//! deadline, a cap on stdout and the tail of stderr for messages. What the bytes mean (the
//! protocol's JSON request and answer) is the cmd kind's (`provision::kinds::cmd`), not this
//! module's.
//!
//! Only `std::process`: one thread feeds stdin, one drains stdout (capped), one drains stderr
//! (keeping the tail), and the caller polls the child against a deadline. The child runs in a
//! process group of its own; on timeout the whole group is killed, so background grandchildren
//! (e.g. `sleep` started by a shell script) do not run on. The pipe threads are still abandoned
//! rather than joined: a grandchild that left the group (`setsid`) and inherited the pipes would
//! otherwise keep us waiting.

use std::io::{Read, Write};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::sync::mpsc;
use std::thread;
use std::time::{Duration, Instant};

use crate::diag::{Code, Diagnostic};

/// How many trailing stderr lines an error message carries.
pub const STDERR_TAIL_LINES: usize = 20;
/// How many stderr bytes are kept at most (the tail).
const STDERR_KEEP: usize = 64 * 1024;

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

/// One run of a program: what it is, what it reads, its limits, and the names its messages use.
pub(crate) struct Run<'a> {
    /// The provisioner entry's uri, for messages.
    pub uri: &'a str,
    /// The resource it provisions, for messages.
    pub uid: &'a str,
    /// The program as the entry names it, for messages.
    pub named: &'a Path,
    /// The program to start: what [`locate`] found.
    pub program: &'a Path,
    /// Its arguments.
    pub args: &'a [String],
    /// What it reads on stdin.
    pub stdin: Vec<u8>,
    /// How long it may run before it (and its process group) is killed.
    pub timeout: Duration,
    /// The most bytes it may write to stdout.
    pub max_stdout: usize,
    /// What its stdout must hold, for the help of an error about it.
    pub stdout_help: &'a str,
}

/// What a program that exited successfully wrote.
pub(crate) struct Ran {
    /// Its stdout.
    pub stdout: Vec<u8>,
    /// The tail of its stderr.
    stderr: Vec<u8>,
}

impl Ran {
    /// `advice`, then the tail of the program's stderr when it wrote any.
    pub(crate) fn stderr_help(&self, advice: &str) -> String {
        stderr_help(&self.stderr, advice)
    }
}

/// Runs the program to its end: its stdout when it exits successfully within its limits, else
/// the error (it could not start, timed out, wrote too much, failed).
pub(crate) fn run(r: Run<'_>) -> Result<Ran, Diagnostic> {
    let mut child = spawn(&r)?;
    let rx = start_pipe_threads(&mut child, r.stdin, r.max_stdout);
    // A caller's huge timeout (Duration::MAX) must not overflow the clock: a year is forever here.
    let start = Instant::now();
    let deadline = start
        .checked_add(r.timeout)
        .unwrap_or_else(|| start + Duration::from_secs(365 * 24 * 3600));
    let (uri, uid) = (r.uri, r.uid);
    let (status, captured) = wait_with_deadline(
        uri,
        uid,
        &mut child,
        &rx,
        deadline,
        r.timeout,
        r.stdout_help,
    )?;
    finish(uri, uid, &status, captured, r.stdout_help)
}

/// Starts the program in a process group of its own (so a timeout can kill what it started too)
/// with all three standard streams piped.
fn spawn(r: &Run<'_>) -> Result<Child, Diagnostic> {
    let (uri, uid) = (r.uri, r.uid);
    // `program` is what `locate` found: a path, never a bare name the OS would look up again
    // (its lookup would use PATH's `.` entries).
    let mut command = Command::new(r.program);
    #[cfg(unix)]
    {
        use std::os::unix::process::CommandExt;
        command.process_group(0);
    }
    command
        .args(r.args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .map_err(|e| {
            Diagnostic::new(
                Code::ProvisionCommandFailed,
                format!(
                    "cmd provisioner '{uri}' for resource '{uid}': cannot start '{}': {e}",
                    r.named.display()
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
    timeout: Duration,
    stdout_help: &str,
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
            break_on_output_error(uri, uid, &captured.stdout, &captured.stderr, stdout_help)?;
        }
        let now = Instant::now();
        if now >= deadline {
            kill_group(child);
            let _ = child.wait();
            return Err(Diagnostic::new(
                Code::ProvisionCommandTimeout,
                format!(
                "cmd provisioner '{uri}' for resource '{uid}' timed out after {} and was killed",
                fmt_duration(timeout)
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

/// Turns the exit status and captured pipes into what the program wrote, or an error.
fn finish(
    uri: &str,
    uid: &str,
    status: &ExitStatus,
    captured: Captured,
    stdout_help: &str,
) -> Result<Ran, Diagnostic> {
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
    break_on_output_error(uri, uid, &stdout, &stderr, stdout_help)?;
    let stdout = match stdout {
        Some(Ok(b)) => b,
        _ => Vec::new(),
    };
    Ok(Ran { stdout, stderr })
}

fn break_on_output_error(
    uri: &str,
    uid: &str,
    stdout: &Option<Result<Vec<u8>, String>>,
    stderr: &[u8],
    stdout_help: &str,
) -> Result<(), Diagnostic> {
    if let Some(Err(e)) = stdout {
        return Err(Diagnostic::new(
            Code::ProvisionCommandOutput,
            format!("cmd provisioner '{uri}' for resource '{uid}': {e}"),
        )
        .with_help(stderr_help(stderr, stdout_help)));
    }
    Ok(())
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
