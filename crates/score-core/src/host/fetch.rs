//! Fetching provisioner files from URIs, like score-go's `uriget` (behaviour notes §5), plus an
//! optional integrity pin.
//!
//! | URI | source |
//! |---|---|
//! | `path`, `./path`, `/abs`, `~/path`, `file://path`, `file:///abs` | local file; a directory gives its `*.yaml`/`*.yml` files sorted by name |
//! | `-` | standard input (must not be a terminal, must not be empty) |
//! | `https://…`, `http://…#sha256=…` | GET through the local `curl` binary (30 s timeout, size cap); plain `http://` only with a pin |
//! | `git-https://host/org/repo.git/<path>`, `git-ssh://…` | sparse shallow checkout through the local `git` binary |
//! | `git-file:///abs/repo.git/<path>`, `git-file://rel/repo.git/<path>` | the same from a local repository (ours) |
//!
//! Any URI may end in `#sha256=<64 hex>`: the fetched bytes must hash to that value or the file is
//! refused. Each [`Fetched`] says whether it is `remote` (http, git, stdin) and `pinned`: a remote
//! file that is not pinned is not trusted to run programs (spec/security.md). Network and git access go through the `curl` and `git` programs rather than Rust
//! crates: score-go already depends on the `git` binary, `curl` is present wherever `git` is, and
//! this keeps TLS, proxies and credentials configured the way the user's system configures them,
//! without adding an HTTP/TLS stack to the build.
//!
//! ```
//! use score_core::host::fetch::{fetch, FetchOptions};
//! let dir = tempfile::tempdir().unwrap();
//! std::fs::write(dir.path().join("b.yaml"), "- type: b\n").unwrap();
//! std::fs::write(dir.path().join("a.yml"), "- type: a\n").unwrap();
//! std::fs::write(dir.path().join("notes.txt"), "ignored").unwrap();
//! let files = fetch("providers", dir.path(), &FetchOptions::default()).unwrap_err();
//! assert!(files.message.contains("providers"));
//! let files = fetch(dir.path().to_str().unwrap(), dir.path(), &FetchOptions::default()).unwrap();
//! let names: Vec<_> = files.iter().map(|f| f.name.as_str()).collect();
//! assert_eq!(names, ["a.yml", "b.yaml"]);
//! ```

use std::io::{self, IsTerminal, Read};
use std::path::{Component, Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::thread;
use std::time::{Duration, Instant};

use sha2::{Digest, Sha256};

use super::fsutil::read_limited;

use crate::diag::{Code, Diagnostic};

/// The error score-go gives for a git URI without `<repo>.git/<path>`.
pub const INVALID_GIT_URL: &str = "invalid git url, expected a path with ../<REPO>.git/<PATH>";

/// One fetched file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Fetched {
    /// The URI of this file (for a directory listing: the directory URI joined with `name`),
    /// without the `#sha256=` pin. Stable, so callers can derive cache names from it.
    pub uri: String,
    /// The file name (last path segment); `-` for standard input.
    pub name: String,
    /// The content (must be UTF-8).
    pub text: String,
    /// For local files, the directory that holds the file, so relative references inside a
    /// provisioner file (e.g. `cmd://./script.sh`) can be resolved. `None` for remote sources.
    pub dir: Option<PathBuf>,
    /// Whether it came from outside the local file system: `http(s)://`, a git repository
    /// (`git-https://`, `git-ssh://`, `git-file://`) or standard input. Such files may not run
    /// programs unless pinned or explicitly allowed (spec/security.md).
    pub remote: bool,
    /// Whether the URI carried a `#sha256=` pin that the content matched.
    pub pinned: bool,
}

impl Fetched {
    /// Trusted like the project's own files: local, or remote but pinned by hash.
    pub fn trusted(&self) -> bool {
        !self.remote || self.pinned
    }
}

/// Limits for [`fetch`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FetchOptions {
    /// Maximum size of one file in bytes (score-go: 1 GiB; ours: 16 MiB, far above any real
    /// provisioner file, and low enough to keep a bad URI from filling memory).
    pub max_bytes: u64,
    /// Timeout of one HTTP request (score-go: 30 s).
    pub http_timeout: Duration,
    /// Timeout of each `git` step (score-go has none; a hung remote would hang it forever).
    pub git_timeout: Duration,
}

impl Default for FetchOptions {
    fn default() -> Self {
        Self {
            max_bytes: 16 * 1024 * 1024,
            http_timeout: Duration::from_secs(30),
            git_timeout: Duration::from_secs(120),
        }
    }
}

/// Fetches the file(s) a URI names. Relative local paths are resolved against `base_dir`.
///
/// Every error is a [`Diagnostic`] whose message starts with `cannot get <uri>: ` followed by
/// the reason (score-go's wording where it has one, e.g. `GET <url> non-200 status code: 404`).
// `Result<_, Diagnostic>` is the crate-wide error contract; the size is the price of spans.
///
/// A credential in the URI (`https://user:token@host/p.yaml`) is used to fetch, but no message
/// shows it ([`without_credentials`]).
#[allow(clippy::result_large_err)]
pub fn fetch(uri: &str, base_dir: &Path, opts: &FetchOptions) -> Result<Vec<Fetched>, Diagnostic> {
    fetch_shown(uri, base_dir, opts).map_err(|mut d| {
        if let Some((secret, kept)) = credentials(uri) {
            d.message = d.message.replace(&secret, &kept);
            d.help = d.help.map(|h| h.replace(&secret, &kept));
        }
        d
    })
}

/// `uri` without the credentials of its authority, for what is stored and shown: the user name
/// and password of `https://user:token@host/p` (a token is often given as the user name) become
/// `https://host/p`; for `ssh` schemes (`git-ssh://git@host/...`) the user name, which is no
/// secret there, stays and only a password goes. Anything else is returned as it is.
///
/// ```
/// use score_core::host::fetch::without_credentials;
/// assert_eq!(without_credentials("https://u:t0ken@host/p.tpl"), "https://host/p.tpl");
/// assert_eq!(without_credentials("git-ssh://git@host/o/r.git/p"), "git-ssh://git@host/o/r.git/p");
/// assert_eq!(without_credentials("git-ssh://git:pw@host/o/r.git/p"), "git-ssh://git@host/o/r.git/p");
/// assert_eq!(without_credentials("patches/x@y.tpl"), "patches/x@y.tpl");
/// ```
pub fn without_credentials(uri: &str) -> String {
    match credentials(uri) {
        Some((secret, kept)) => uri.replacen(&secret, &kept, 1),
        None => uri.to_string(),
    }
}

/// The credential part of `uri`'s authority with its `@` (`user:token@`), and what stands for
/// it once removed (nothing, or for ssh the user name and `@`); `None` when there is none.
fn credentials(uri: &str) -> Option<(String, String)> {
    let scheme_end = uri.find("://")?;
    let scheme = &uri[..scheme_end];
    if scheme.is_empty()
        || !scheme
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"+-.".contains(&b))
    {
        return None;
    }
    let rest = &uri[scheme_end + 3..];
    let authority = &rest[..rest.find(['/', '?', '#']).unwrap_or(rest.len())];
    let at = authority.rfind('@')?;
    let secret = &authority[..=at];
    if scheme.ends_with("ssh") {
        let user = &secret[..secret.find(':')?];
        return Some((secret.to_string(), format!("{user}@")));
    }
    Some((secret.to_string(), String::new()))
}

#[allow(clippy::result_large_err)]
fn fetch_shown(
    uri: &str,
    base_dir: &Path,
    opts: &FetchOptions,
) -> Result<Vec<Fetched>, Diagnostic> {
    let fail = |code: Code, msg: String| Diagnostic::new(code, format!("cannot get {uri}: {msg}"));
    let failed = |msg: String| {
        fail(Code::FetchFailed, msg).with_help(
            "check the URI: a path is relative to the working directory; the other forms are https://, git-https://, git-ssh://, git-file:// and - (stdin)",
        )
    };
    let (plain, pin) = split_pin(uri).map_err(failed)?;
    if pin.is_none() && scheme_of(plain).as_deref() == Some("http") {
        return Err(fail(
            Code::FetchInsecureHttp,
            "plain http:// is refused without a #sha256= pin: anyone on the network path could change the file"
                .to_string(),
        )
        .with_help("use https://, or pin the content: URI#sha256=<hex of the file's SHA-256>"));
    }
    let (mut files, is_dir) = dispatch(plain, base_dir, opts).map_err(failed)?;
    if let Some(expected) = pin {
        if is_dir || files.len() != 1 {
            return Err(fail(
                Code::FetchPinNeedsFile,
                format!(
                    "a #sha256= pin needs a URI that names one file, but {plain} is a directory"
                ),
            )
            .with_help("pin each file separately"));
        }
        let actual = hex(&Sha256::digest(files[0].text.as_bytes()));
        if actual != expected {
            return Err(fail(
                Code::FetchPinMismatch,
                format!("integrity check failed: expected sha256 {expected}, got sha256 {actual}"),
            )
            .with_help(
                "the file changed since the pin was written; review it and update the pin",
            ));
        }
        files[0].pinned = true;
    }
    Ok(files)
}

/// Splits a git URI into the remote to clone and the path inside the repository, as score-go's
/// `parseGitUrl`: `git-https://host/org/repo.git/path/to/x` → (`https://host/org/repo.git`,
/// `path/to/x`). A trailing `/` is dropped; query and fragment are ignored.
///
/// For `git-file://` (ours) the remote is the local repository path as written (relative paths
/// stay relative; [`fetch`] resolves them against its base directory).
///
/// ```
/// use score_core::host::fetch::parse_git_url;
/// assert_eq!(
///     parse_git_url("git-ssh://git@github.com/org/repo.git/dir/").unwrap(),
///     ("ssh://git@github.com/org/repo.git".to_string(), "dir".to_string())
/// );
/// assert!(parse_git_url("git-https://github.com/org/repo/path").is_err());
/// ```
pub fn parse_git_url(url: &str) -> Result<(String, String), String> {
    let (scheme, rest) = url
        .split_once("://")
        .ok_or_else(|| INVALID_GIT_URL.to_string())?;
    let scheme = scheme.to_ascii_lowercase();
    let target = match scheme.as_str() {
        "git-https" | "git-ssh" | "git-file" => &scheme[4..],
        other => return Err(format!("unsupported git scheme '{other}'")),
    };
    let rest = rest.split(['?', '#']).next().unwrap_or("");
    // A local repository path has no host: `git-file://rel/r.git/x` means the path `rel/r.git`.
    let (host, path) = match rest.find('/') {
        _ if target == "file" => ("", rest),
        Some(i) => rest.split_at(i),
        None => (rest, ""),
    };
    let (repo, sub) = path
        .split_once(".git/")
        .ok_or_else(|| INVALID_GIT_URL.to_string())?;
    let sub = sub.trim_end_matches('/');
    if repo.is_empty() || sub.is_empty() {
        return Err(INVALID_GIT_URL.to_string());
    }
    if target != "file" && host.is_empty() {
        return Err(format!("{INVALID_GIT_URL} (the host is missing)"));
    }
    let remote = if target == "file" {
        format!("{host}{repo}.git")
    } else {
        format!("{target}://{host}{repo}.git")
    };
    Ok((remote, sub.to_string()))
}

/// `(uri without pin, pin)`; the pin is lower-cased hex.
fn split_pin(uri: &str) -> Result<(&str, Option<String>), String> {
    match uri.rfind("#sha256=") {
        None => Ok((uri, None)),
        Some(i) => {
            let pin = &uri[i + "#sha256=".len()..];
            if pin.len() != 64 || !pin.bytes().all(|b| b.is_ascii_hexdigit()) {
                return Err(format!(
                    "invalid #sha256= pin '{pin}': expected 64 hexadecimal digits"
                ));
            }
            Ok((&uri[..i], Some(pin.to_ascii_lowercase())))
        }
    }
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// The scheme of `uri`, lower-cased, if it has the form `scheme://…`.
fn scheme_of(uri: &str) -> Option<String> {
    let (s, _) = uri.split_once("://")?;
    let mut chars = s.chars();
    let first = chars.next()?;
    (first.is_ascii_alphabetic()
        && chars.all(|c| c.is_ascii_alphanumeric() || matches!(c, '+' | '-' | '.')))
    .then(|| s.to_ascii_lowercase())
}

/// Fetches and reports whether the URI named a directory.
fn dispatch(uri: &str, base: &Path, opts: &FetchOptions) -> Result<(Vec<Fetched>, bool), String> {
    if uri == "-" {
        return read_stdin(opts).map(|f| (vec![f], false));
    }
    match scheme_of(uri).as_deref() {
        None => local(uri, uri, base, opts),
        Some("file") => local(uri, &uri["file://".len()..], base, opts),
        Some("http") | Some("https") => http(uri, opts).map(|f| (vec![f], false)),
        Some("git-https") | Some("git-ssh") | Some("git-file") => git(uri, base, opts),
        Some("oci") => Err(
            "unsupported scheme 'oci' (OCI registries are not supported by \
             score-gen; use https:// or git-https://)"
                .to_string(),
        ),
        Some(other) => Err(format!("unsupported scheme '{other}'")),
    }
}

fn read_stdin(opts: &FetchOptions) -> Result<Fetched, String> {
    let stdin = io::stdin();
    if stdin.is_terminal() {
        return Err("no stdin data provided".to_string());
    }
    let bytes = read_limited(stdin.lock(), opts.max_bytes)
        .map_err(|e| format!("failed to read stdin: {e}"))?;
    if bytes.is_empty() {
        return Err("stdin is empty".to_string());
    }
    Ok(Fetched {
        uri: "-".to_string(),
        name: "-".to_string(),
        text: utf8(bytes)?,
        dir: None,
        remote: true,
        pinned: false,
    })
}

fn utf8(bytes: Vec<u8>) -> Result<String, String> {
    String::from_utf8(bytes).map_err(|e| {
        format!(
            "the file is not UTF-8 text (invalid byte at offset {})",
            e.utf8_error().valid_up_to()
        )
    })
}

/// Go-like rendering of an io error: `no such file or directory` rather than Rust's
/// `No such file or directory (os error 2)`.
fn io_text(e: &io::Error) -> String {
    match e.kind() {
        io::ErrorKind::NotFound => "no such file or directory".to_string(),
        io::ErrorKind::PermissionDenied => "permission denied".to_string(),
        _ => {
            let s = e.to_string();
            match s.find(" (os error") {
                Some(i) => s[..i].to_lowercase(),
                None => s,
            }
        }
    }
}

fn expand_home(path: &str) -> Result<PathBuf, String> {
    match path.strip_prefix("~/") {
        Some(rest) => {
            let home = std::env::var_os("HOME")
                .or_else(|| std::env::var_os("USERPROFILE"))
                .filter(|h| !h.is_empty())
                .ok_or_else(|| "failed to find user home dir: $HOME is not set".to_string())?;
            Ok(PathBuf::from(home).join(rest))
        }
        None => Ok(PathBuf::from(path)),
    }
}

fn is_yaml_name(name: &str) -> bool {
    let lower = name.to_ascii_lowercase();
    lower.ends_with(".yaml") || lower.ends_with(".yml")
}

/// A local file or directory. `uri` is what the user wrote (used for result URIs), `shown` the
/// path as written (used in messages, like Go's `open <path>: …`).
fn local(
    uri: &str,
    shown: &str,
    base: &Path,
    opts: &FetchOptions,
) -> Result<(Vec<Fetched>, bool), String> {
    let path = base.join(expand_home(shown)?);
    let meta = std::fs::metadata(&path).map_err(|e| format!("open {shown}: {}", io_text(&e)))?;
    if meta.is_dir() {
        let files = read_dir_yaml(&path, shown, uri, opts, true)?;
        Ok((files, true))
    } else {
        let f = read_file(&path, shown, uri, opts, true)?;
        Ok((vec![f], false))
    }
}

fn read_file(
    path: &Path,
    shown: &str,
    uri: &str,
    opts: &FetchOptions,
    keep_dir: bool,
) -> Result<Fetched, String> {
    let file = std::fs::File::open(path).map_err(|e| format!("open {shown}: {}", io_text(&e)))?;
    let bytes = read_limited(file, opts.max_bytes).map_err(|e| {
        if e.kind() == io::ErrorKind::FileTooLarge {
            format!("failed to read file: {e}")
        } else {
            format!("failed to read file: {}", io_text(&e))
        }
    })?;
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    Ok(Fetched {
        uri: uri.to_string(),
        name,
        text: utf8(bytes)?,
        dir: if keep_dir {
            path.parent().map(Path::to_path_buf)
        } else {
            None
        },
        // Files read from a git checkout are the repository's, not local ones.
        remote: !keep_dir,
        pinned: false,
    })
}

/// The immediate `*.yaml`/`*.yml` regular files of `dir` (symlinks followed, sub-directories
/// skipped), sorted by file name bytes.
fn read_dir_yaml(
    dir: &Path,
    shown: &str,
    uri: &str,
    opts: &FetchOptions,
    keep_dir: bool,
) -> Result<Vec<Fetched>, String> {
    let entries = std::fs::read_dir(dir).map_err(|e| format!("open {shown}: {}", io_text(&e)))?;
    let mut names = Vec::new();
    for entry in entries {
        let entry = entry.map_err(|e| format!("failed to list {shown}: {}", io_text(&e)))?;
        let Ok(name) = entry.file_name().into_string() else {
            continue;
        };
        if !is_yaml_name(&name) {
            continue;
        }
        if std::fs::metadata(entry.path()).is_ok_and(|m| m.is_file()) {
            names.push(name);
        }
    }
    if names.is_empty() {
        return Err(format!("directory {shown} contains no .yaml or .yml files"));
    }
    names.sort();
    let base_uri = uri.trim_end_matches('/');
    let shown = shown.trim_end_matches('/');
    names
        .iter()
        .map(|n| {
            read_file(
                &dir.join(n),
                &format!("{shown}/{n}"),
                &format!("{base_uri}/{n}"),
                opts,
                keep_dir,
            )
        })
        .collect()
}

/// Why a helper program did not succeed.
enum RunError {
    Spawn(io::Error),
    TimedOut,
    /// Its stdout passed the limit; the program was killed.
    TooLarge,
    Failed(Option<i32>, String),
}

struct RunOutput {
    stdout: Vec<u8>,
    stderr: String,
}

/// Reads at most `limit` bytes of `pipe`; past that, sets `over` and stops reading (the
/// program then fails on a closed pipe, or is killed).
fn read_pipe(pipe: Option<impl Read>, limit: u64, over: &AtomicBool) -> Vec<u8> {
    let mut buf = Vec::new();
    if let Some(p) = pipe {
        let mut p = p.take(limit.saturating_add(1));
        let _ = p.read_to_end(&mut buf);
        if buf.len() as u64 > limit {
            over.store(true, Ordering::SeqCst);
            buf.clear();
        }
    }
    buf
}

/// Runs a program with a timeout, capturing its output (readers run on threads so a chatty
/// program cannot block on a full pipe). More than `stdout_limit` bytes on stdout kill it: the
/// limit holds whatever the program does, and nothing beyond it is kept.
fn run(cmd: &mut Command, timeout: Duration, stdout_limit: u64) -> Result<RunOutput, RunError> {
    let mut child = cmd
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .map_err(RunError::Spawn)?;
    let over = Arc::new(AtomicBool::new(false));
    let out = {
        let pipe = child.stdout.take();
        let over = Arc::clone(&over);
        thread::spawn(move || read_pipe(pipe, stdout_limit, &over))
    };
    let err = {
        let pipe = child.stderr.take();
        thread::spawn(move || {
            // stderr is only a message: its first 64 KiB are enough.
            let buf = read_pipe(pipe, 64 * 1024, &AtomicBool::new(false));
            String::from_utf8_lossy(&buf).into_owned()
        })
    };
    let start = Instant::now();
    let status = loop {
        if over.load(Ordering::SeqCst) {
            let _ = child.kill();
            let _ = child.wait();
            break Err(RunError::TooLarge);
        }
        match child.try_wait() {
            Ok(Some(status)) => break Ok(status),
            Ok(None) if start.elapsed() >= timeout => {
                let _ = child.kill();
                let _ = child.wait();
                break Err(RunError::TimedOut);
            }
            Ok(None) => thread::sleep(Duration::from_millis(10)),
            Err(e) => break Err(RunError::Spawn(e)),
        }
    };
    let stdout = out.join().unwrap_or_default();
    let stderr = err.join().unwrap_or_default();
    if over.load(Ordering::SeqCst) {
        return Err(RunError::TooLarge);
    }
    let status = status?;
    if status.success() {
        Ok(RunOutput { stdout, stderr })
    } else {
        Err(RunError::Failed(status.code(), stderr.trim().to_string()))
    }
}

fn http(url: &str, opts: &FetchOptions) -> Result<Fetched, String> {
    let secs = opts.http_timeout.as_secs().max(1).to_string();
    let mut cmd = Command::new("curl");
    // The body comes on stdout and is read through a bound (`--max-filesize` only sees a
    // Content-Length: a chunked response would pass it); the status code goes to stderr.
    cmd.args([
        "-sS",
        "-L",
        "--proto",
        "=http,https",
        "--proto-redir",
        "=http,https",
    ])
    .args(["--max-time", &secs])
    .args(["--max-filesize", &opts.max_bytes.to_string()])
    .args(["-w", "%{stderr}%{http_code}", "-o", "-"])
    .arg(url)
    .env("LC_ALL", "C");
    let too_large = || {
        format!(
            "failed to read response body: {} byte limit exceeded",
            opts.max_bytes
        )
    };
    // curl enforces its own --max-time; ours only guards against a wedged process.
    let res = run(
        &mut cmd,
        opts.http_timeout + Duration::from_secs(5),
        opts.max_bytes,
    );
    let out = match res {
        Ok(out) => out,
        Err(RunError::Spawn(e)) => {
            return Err(format!(
                "failed to find curl binary on the local system: {}",
                io_text(&e)
            ))
        }
        Err(RunError::TimedOut) => {
            return Err(format!(
                "failed to make get request: Get \"{url}\": timed out"
            ))
        }
        Err(RunError::TooLarge | RunError::Failed(Some(63), _)) => return Err(too_large()),
        Err(RunError::Failed(_, stderr)) => {
            return Err(format!(
                "failed to make get request: Get \"{url}\": {stderr}"
            ))
        }
    };
    let code = out.stderr.trim();
    if code != "200" {
        return Err(format!("GET {url} non-200 status code: {code}"));
    }
    let bytes = out.stdout;
    let path = url.split(['?', '#']).next().unwrap_or(url);
    let name = path
        .rsplit('/')
        .find(|s| !s.is_empty() && !s.contains(':'))
        .unwrap_or("")
        .to_string();
    Ok(Fetched {
        uri: url.to_string(),
        name,
        text: utf8(bytes)?,
        dir: None,
        remote: true,
        pinned: false,
    })
}

fn git(uri: &str, base: &Path, opts: &FetchOptions) -> Result<(Vec<Fetched>, bool), String> {
    let (mut remote, sub) = parse_git_url(uri)?;
    let sub_path = Path::new(&sub);
    if sub_path
        .components()
        .any(|c| !matches!(c, Component::Normal(_)))
    {
        return Err(format!(
            "the path '{sub}' inside the repository must be relative and must not contain '..' or '.'"
        ));
    }
    if scheme_of(uri).as_deref() == Some("git-file") {
        let local = base.join(expand_home(&remote)?);
        let abs = std::path::absolute(&local)
            .map_err(|e| format!("cannot resolve {}: {}", local.display(), io_text(&e)))?;
        // `file://` (not a bare path) so that git honours --depth for a local remote.
        remote = format!("file://{}", abs.display());
    }
    let td = tempfile::Builder::new()
        .prefix("score-gen-git-")
        .tempdir()
        .map_err(|e| format!("failed to make temp dir: {}", io_text(&e)))?;
    let dir = td.path();
    let step = |args: &[&str], what: &dyn Fn() -> String| -> Result<(), String> {
        let mut cmd = Command::new("git");
        cmd.args(args)
            .current_dir(dir)
            .env("GIT_TERMINAL_PROMPT", "0")
            .env("LC_ALL", "C");
        match run(&mut cmd, opts.git_timeout, 1024 * 1024) {
            Ok(_) => Ok(()),
            Err(RunError::TooLarge) => Err(format!("{}: more than 1 MiB of output", what())),
            Err(RunError::Spawn(e)) => Err(format!(
                "failed to find git binary on the local system: {}",
                io_text(&e)
            )),
            Err(RunError::TimedOut) => Err(format!(
                "{}: timed out after {}s",
                what(),
                opts.git_timeout.as_secs()
            )),
            Err(RunError::Failed(code, stderr)) => Err(format!(
                "{}: exit status {}: {}",
                what(),
                code.map_or_else(|| "signal".to_string(), |c| c.to_string()),
                stderr
            )),
        }
    };
    step(&["init", "-q"], &|| {
        format!("failed to init git repo in {}", dir.display())
    })?;
    step(&["remote", "add", "origin", &remote], &|| {
        format!("failed to set git remote to {remote}")
    })?;
    // A leading `/` anchors the no-cone pattern at the repository root (score-go's unanchored
    // pattern also matches same-named paths deeper down).
    let pattern = format!("/{sub}");
    step(
        &[
            "sparse-checkout",
            "set",
            "--no-cone",
            "--sparse-index",
            &pattern,
        ],
        &|| "failed to set sparse checkout".to_string(),
    )?;
    step(&["fetch", "-q", "--depth=1", "origin", "HEAD"], &|| {
        "failed to fetch".to_string()
    })?;
    step(
        &[
            "-c",
            "advice.detachedHead=false",
            "checkout",
            "-q",
            "FETCH_HEAD",
        ],
        &|| "failed to fetch".to_string(),
    )?;
    let target = dir.join(sub_path);
    let root = dir
        .canonicalize()
        .map_err(|e| format!("failed to read checkout: {}", io_text(&e)))?;
    let inside = |p: &Path| p.canonicalize().is_ok_and(|c| c.starts_with(&root));
    let meta =
        std::fs::metadata(&target).map_err(|_| format!("'{sub}' does not exist in {remote}"))?;
    if !inside(&target) {
        return Err(format!(
            "'{sub}' is a link that points outside the repository"
        ));
    }
    if meta.is_dir() {
        let files = read_dir_yaml(&target, &sub, uri, opts, false)?;
        for f in &files {
            if !inside(&target.join(&f.name)) {
                return Err(format!(
                    "'{sub}/{}' is a link that points outside the repository",
                    f.name
                ));
            }
        }
        Ok((files, true))
    } else {
        let f = read_file(&target, &sub, uri, opts, false)?;
        Ok((vec![f], false))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pins_are_parsed_and_validated() {
        let h = "AB".repeat(32);
        let uri = format!("x.yaml#sha256={h}");
        let (u, p) = split_pin(&uri).unwrap();
        assert_eq!(u, "x.yaml");
        assert_eq!(p.unwrap(), "ab".repeat(32));
        assert!(split_pin("x.yaml#sha256=abc").is_err());
        assert_eq!(split_pin("x#y").unwrap(), ("x#y", None));
    }

    #[test]
    fn schemes() {
        assert_eq!(scheme_of("HTTPS://x").as_deref(), Some("https"));
        assert_eq!(scheme_of("./a://b"), None);
        assert_eq!(scheme_of("a/b"), None);
        assert_eq!(
            scheme_of("git-file:///r.git/x").as_deref(),
            Some("git-file")
        );
    }

    #[test]
    fn git_file_remote_is_a_path() {
        assert_eq!(
            parse_git_url("git-file:///srv/r.git/a/b.yaml").unwrap(),
            ("/srv/r.git".to_string(), "a/b.yaml".to_string())
        );
        assert_eq!(
            parse_git_url("git-file://rel/r.git/a").unwrap(),
            ("rel/r.git".to_string(), "a".to_string())
        );
        assert!(parse_git_url("git-https:///r.git/a").is_err());
        assert!(parse_git_url("https://h/r.git/a").is_err());
    }

    #[test]
    fn io_errors_read_like_go() {
        let e = io::Error::from(io::ErrorKind::NotFound);
        assert_eq!(io_text(&e), "no such file or directory");
    }
}
