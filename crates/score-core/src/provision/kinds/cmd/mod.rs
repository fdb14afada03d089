//! `cmd://` entries: a program that reads the resource's inputs as JSON on stdin and answers
//! with JSON on stdout ([`protocol`]); `host::cmd` runs it. A build without `host` runs no
//! program: its entries load, and provisioning with one is an error.

// A build without `host` reads no answer, so the protocol is unused there; it still compiles.
#[cfg_attr(not(feature = "host"), allow(dead_code))]
pub(crate) mod protocol;

use std::path::{Path, PathBuf};

use serde_json::{Map, Value};

use super::ProvisionerKind;
use crate::diag::{Code, Diagnostic};
use crate::provision::loader::{err_key, member, CommonFields, EntryCx, COMMON_KEYS};
use crate::provision::{
    entry_diag, CommandPolicy, ProvisionInput, ProvisionOptions, ProvisionOutput, ProvisionTarget,
    Provisioner,
};

/// The program a `cmd://` entry runs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CmdSpec {
    /// Resolved program: an absolute/relative path, or a bare name looked up on `PATH`.
    pub program: PathBuf,
    /// Extra arguments.
    pub args: Vec<String>,
}

impl CmdSpec {
    /// The program and its arguments as one line, for listings and `-v`.
    ///
    /// ```
    /// let c = score_core::provision::CmdSpec { program: "/bin/sh".into(), args: vec!["-c".into(), "true".into()] };
    /// assert_eq!(c.command_line(), "/bin/sh -c true");
    /// ```
    pub fn command_line(&self) -> String {
        std::iter::once(self.program.display().to_string())
            .chain(self.args.iter().cloned())
            .collect::<Vec<_>>()
            .join(" ")
    }
}

impl ProvisionerKind for CmdSpec {
    /// The `args`, when given.
    type Builder = Option<Vec<String>>;

    const COMMON_KEYS: &'static [&'static str] = &COMMON_KEYS;

    fn start(
        cx: &EntryCx<'_>,
        pointer: &str,
        fields: &Map<String, Value>,
        _common: &mut CommonFields,
    ) -> Result<Self::Builder, Diagnostic> {
        if fields.contains_key("engine") {
            return Err(err_key(
                cx.doc,
                &member(pointer, "engine"),
                format!(
                    "provisioner '{}': 'engine' is only allowed for template:// provisioners",
                    cx.uri
                ),
            ));
        }
        Ok(None)
    }

    fn read_key(
        args: &mut Self::Builder,
        cx: &EntryCx<'_>,
        _common: &mut CommonFields,
        key: &str,
        at: &str,
        v: &Value,
    ) -> Result<(), Diagnostic> {
        match key {
            "args" => *args = Some(cx.strings(key, at, v)?),
            // score-compose's and score-k8s's cmd entries may list `params` and `outputs`
            // (documentation only: they drive nothing there either).
            "params" | "outputs" if v.is_array() || v.is_null() => {
                cx.strings(key, at, v)?;
            }
            "init" | "state" | "shared" | "outputs" => {
                return Err(err_key(
                    cx.doc,
                    at,
                    format!(
                        "provisioner '{}': cmd:// provisioners have no template sections ('{key}')",
                        cx.uri
                    ),
                ))
            }
            target => {
                return Err(err_key(
                    cx.doc,
                    at,
                    format!(
                        "provisioner '{}': unknown key '{target}' (cmd:// provisioners have no target sections)",
                        cx.uri
                    ),
                ))
            }
        }
        Ok(())
    }

    fn finish(args: Self::Builder, cx: &EntryCx<'_>, dir: Option<&Path>) -> Self {
        CmdSpec {
            program: resolve_program(&cx.uri["cmd://".len()..], dir),
            args: args.unwrap_or_default(),
        }
    }

    fn provision(
        &self,
        p: &Provisioner,
        input: &ProvisionInput,
        target: &ProvisionTarget<'_>,
        opts: &ProvisionOptions,
    ) -> Result<ProvisionOutput, Diagnostic> {
        let answer = run_command(p, self, input, target, opts)?;
        Ok(answer.into_output(target.answer_keys))
    }
}

/// Checks that `p`'s program may run ([`check_command`]), runs it and reads its answer.
#[cfg(feature = "host")]
fn run_command(
    p: &Provisioner,
    spec: &CmdSpec,
    input: &ProvisionInput,
    target: &ProvisionTarget<'_>,
    opts: &ProvisionOptions,
) -> Result<protocol::CmdOutput, Diagnostic> {
    let program = check_command(p, input.uid.as_str(), opts)?;
    let (uri, uid) = (p.uri.as_str(), input.uid.as_str());
    let stdin = protocol::encode_input(input, target.fields).map_err(|e| {
        Diagnostic::new(
            Code::ProvisionCommandFailed,
            format!("cmd provisioner '{uri}': cannot encode input: {e}"),
        )
    })?;
    let help = protocol::answer_help(target.answer_keys);
    let ran = crate::host::cmd::run(crate::host::cmd::Run {
        uri,
        uid,
        named: &spec.program,
        program: &program,
        args: &spec.args,
        stdin,
        timeout: opts.cmd_timeout,
        max_stdout: opts.max_cmd_output,
        stdout_help: &help,
    })?;
    protocol::parse_answer(uri, uid, &ran.stdout, target.answer_keys)
        .map_err(|d| d.with_help(ran.stderr_help(&help)))
}

/// Every check made before entry `p` (a `cmd://` entry) starts its program for resource `uid`:
/// the permission ([`CommandPolicy`]), a relative program of a file that is not on the local disk,
/// and where the program is (a path that must name an executable file, or a bare name looked up
/// on `PATH` as Go's `exec.LookPath` does, refusing a match through a relative entry such as `.`
/// or an empty one). Returns the program to start. `resolve_project` makes these checks for every
/// resource before the first program starts (spec/security.md).
pub(crate) fn check_command(
    p: &Provisioner,
    uid: &str,
    opts: &ProvisionOptions,
) -> Result<std::path::PathBuf, Diagnostic> {
    let Some(spec) = p.cmd() else {
        return Err(command_denied(p, uid));
    };
    // A build without `host` runs no program, whatever its path: that is the one answer (and
    // `Path::is_relative` is true of every path on wasm32-unknown-unknown, `/bin/sh` included).
    if cfg!(not(feature = "host")) {
        return Err(command_denied(p, uid));
    }
    if p.source.dir.is_none() && spec.program.is_relative() && spec.program.components().count() > 1
    {
        // Resolving it against the working directory would run the project's own `./x` on
        // behalf of a file that is not the project's.
        return Err(entry_diag(
            Code::ProvisionCommandRelative,
            p,
            format!(
                "provisioner '{}' names the relative program '{}', but its file is not on the local disk, so there is nothing to resolve it against",
                p.uri,
                spec.program.display()
            ),
        )
        .with_help("use an absolute path or a program name looked up on PATH, or keep the provisioner file in the project"));
    }
    match opts.commands {
        CommandPolicy::Allow => {}
        CommandPolicy::AllowTrusted if p.source.trusted => {}
        CommandPolicy::AllowTrusted => {
            return Err(entry_diag(
                Code::ProvisionCommandUntrusted,
                p,
                format!(
                    "provisioner '{}' for resource '{uid}' comes from outside the project ({}) and would run the program '{}'",
                    p.uri,
                    p.source.file.name,
                    spec.program.display()
                ),
            )
            .with_help(
                "review the file, then pin it (URI#sha256=<hex>) or pass --allow-remote-commands to let remote provisioner files run programs",
            ))
        }
        CommandPolicy::Deny => return Err(command_denied(p, uid)),
    }
    #[cfg(feature = "host")]
    {
        crate::host::cmd::locate(&spec.program).map_err(|why| {
            entry_diag(
                Code::ProvisionCommandFailed,
                p,
                format!(
                    "cmd provisioner '{}' for resource '{uid}': cannot start '{}': {why}",
                    p.uri,
                    spec.program.display()
                ),
            )
            .with_help(PROGRAM_HELP)
        })
    }
    #[cfg(not(feature = "host"))]
    Err(command_denied(p, uid))
}

/// How a `cmd://` program is found (spec/provisioners.md §5).
// Used only by the host code (running programs); a build without `host` has no programs.
#[cfg_attr(not(feature = "host"), allow(dead_code))]
pub(crate) const PROGRAM_HELP: &str = "cmd://./x is relative to the project directory (where score-gen runs; a library caller gives the directory), cmd://~/x to $HOME, cmd:///x is absolute, and cmd://name is looked up on PATH (an entry that is `.`, empty or relative is not used)";

#[cfg(not(feature = "host"))]
fn run_command(
    p: &Provisioner,
    _spec: &CmdSpec,
    input: &ProvisionInput,
    _target: &ProvisionTarget<'_>,
    _opts: &ProvisionOptions,
) -> Result<protocol::CmdOutput, Diagnostic> {
    Err(command_denied(p, input.uid.as_str()))
}

fn command_denied(p: &Provisioner, uid: &str) -> Diagnostic {
    entry_diag(
        Code::ProvisionCommandDenied,
        p,
        format!(
            "provisioner '{}' for resource '{}' would run the program '{}', and running programs is not allowed",
            p.uri,
            uid,
            p.cmd().map_or_else(String::new, |c| c.program.display().to_string())
        ),
    )
    .with_help(if cfg!(feature = "host") {
        "set ProvisionOptions::commands to CommandPolicy::Allow to run cmd:// provisioners"
    } else {
        "this build of score-core has no `host` feature, so it cannot run cmd:// provisioners"
    })
}

/// `cmd://` path rules: `./x`, `../x` and any path with a `/` that is not absolute resolve
/// against the file's directory; `~/x` against `$HOME`; absolute paths stay; a bare name is looked
/// up on `PATH` by the OS. A `#fragment` is not part of the program: it only makes the uri unique
/// when several entries run the same program with different `args`.
fn resolve_program(rest: &str, dir: Option<&Path>) -> PathBuf {
    let rest = rest.split_once('#').map_or(rest, |(p, _)| p);
    if let Some(home_rel) = rest.strip_prefix("~/") {
        #[cfg(feature = "host")]
        if let Some(home) = crate::host::home_dir() {
            return home.join(home_rel);
        }
        #[cfg(not(feature = "host"))]
        let _ = home_rel;
    }
    let p = Path::new(rest);
    if p.is_absolute() || !rest.contains('/') {
        return p.to_path_buf();
    }
    match dir {
        // `./` adds nothing after a directory (and `././x` in a message confuses).
        Some(d) => d.join(p.strip_prefix(".").unwrap_or(p)),
        None => p.to_path_buf(),
    }
}
