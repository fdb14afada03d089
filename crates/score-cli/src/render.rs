//! Diagnostic rendering: miette for humans, JSON for CI.

use std::io::{IsTerminal, Write};

use miette::{GraphicalReportHandler, GraphicalTheme};
use score_core::Diagnostic;

/// The former `--format human|json` of a subcommand whose `--format` means nothing else: the
/// diagnostics format, as --message-format.
#[derive(Debug, Clone, clap::Args)]
pub struct LegacyFormat {
    /// The former name of --message-format.
    #[arg(long = "format", value_enum, hide = true, value_name = "FORMAT")]
    pub format: Option<Format>,
}

/// Diagnostic output format.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Format {
    /// Human-readable, with source snippets, on stderr.
    Human,
    /// One JSON document on stdout (on stderr with `-o -`).
    Json,
}

/// Colour choice for human output.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Color {
    /// Colour when stderr is a terminal and NO_COLOR is unset.
    Auto,
    /// Always colour.
    Always,
    /// Never colour.
    Never,
}

/// `-v` count, read where a command reports what it did (set once, before any command runs).
pub static VERBOSE: std::sync::atomic::AtomicU8 = std::sync::atomic::AtomicU8::new(0);

/// `--quiet`: no notes on stderr (set once, before any command runs).
pub static QUIET: std::sync::atomic::AtomicBool = std::sync::atomic::AtomicBool::new(false);

/// Prints a note (not an error) on stderr, unless `--quiet`.
macro_rules! note {
    ($($arg:tt)*) => {
        if !$crate::render::QUIET.load(std::sync::atomic::Ordering::Relaxed) {
            eprintln!("{}", $crate::render::terminal_safe(&format!($($arg)*)));
        }
    };
}
pub(crate) use note;

/// Where and how diagnostics and results are printed.
pub struct Output {
    pub format: Format,
    /// JSON diagnostics go to stderr, not stdout (the command's result is on stdout: `-o -`).
    json_to_stderr: bool,
    handler: GraphicalReportHandler,
}

impl Output {
    pub fn new(format: Format, color: Color) -> Self {
        let colored = match color {
            Color::Always => true,
            Color::Never => false,
            Color::Auto => {
                std::env::var_os("NO_COLOR").is_none() && std::io::stderr().is_terminal()
            }
        };
        let theme = if colored {
            GraphicalTheme::unicode()
        } else {
            GraphicalTheme::unicode_nocolor()
        };
        Self {
            format,
            json_to_stderr: false,
            handler: GraphicalReportHandler::new_themed(theme).with_width(100),
        }
    }

    /// With `-o -` stdout carries the result: JSON diagnostics go to stderr too (human ones
    /// always do), so a consumer of stdout never reads an error document as output.
    pub fn with_json_on_stderr(mut self, yes: bool) -> Self {
        self.json_to_stderr = yes;
        self
    }

    /// Renders one diagnostic for humans (no trailing newline handling needed by callers).
    pub fn human(&self, d: &Diagnostic) -> String {
        let d = &name_spanless_files(&shown(d).redacted());
        let mut s = String::new();
        if self.handler.render_report(&mut s, d).is_err() {
            s = format!("error: {}: {}\n", d.location(), d.message);
        }
        s
    }

    /// Prints diagnostics to stderr in human format (JSON callers collect them instead).
    pub fn print_human(&self, diags: &[Diagnostic]) {
        let mut err = std::io::stderr().lock();
        for d in diags {
            let _ = write!(err, "{}", self.human(d));
        }
    }
}

/// A diagnostic as it may be shown, human or JSON (spec/security.md): the one place two rules
/// are applied to everything printed.
/// - A file read through a link that leaves the project (a Score or override file, a
///   provisioner file, the state, the stored patch templates; `score.yaml -> ~/.aws/credentials`)
///   has its contents hidden: [`Diagnostic::redacted`] then shows its code, file, line and column
///   and nothing of its text, in the message as in the snippet. The readers mark such files
///   themselves where they know it; this catches every diagnostic whose file names a path.
/// - Control characters (a terminal escape in a stored workload key, a patch template's origin,
///   a message quoting a value) are escaped in the message, help, label, pointer and file name.
pub fn shown(d: &Diagnostic) -> Diagnostic {
    let mut d = d.clone();
    if let Some(f) = &d.file {
        let hide = !f.contents_hidden()
            && !f.name.is_empty()
            && crate::files::linked_out_of_project(std::path::Path::new(&f.name));
        let name = terminal_safe(&f.name);
        if hide || name != f.name {
            let mut file = (**f).clone();
            file.name = name.into_owned();
            if hide {
                file = file.with_contents_hidden();
            }
            d.file = Some(std::sync::Arc::new(file));
        }
    }
    d.message = terminal_safe(&d.message).into_owned();
    d.help = d.help.as_deref().map(|h| terminal_safe(h).into_owned());
    d.label = d.label.as_deref().map(|l| terminal_safe(l).into_owned());
    d.pointer = d.pointer.as_deref().map(|p| terminal_safe(p).into_owned());
    for fix in &mut d.fixes {
        fix.message = terminal_safe(&fix.message).into_owned();
    }
    d.related = d.related.iter().map(shown).collect();
    d
}

/// `s` with every control character but line feed and tab written as an escape (`\u{1b}`):
/// C0 controls, DEL and the C1 controls (a terminal reads U+009B as an escape sequence), so no
/// text from an input can move the cursor, retitle the window or clear the screen; likewise the
/// bidirectional controls (U+202E reorders what follows it on screen) and the line and paragraph
/// separators U+2028/U+2029.
pub fn terminal_safe(s: &str) -> std::borrow::Cow<'_, str> {
    score_core::diag::escape_controls(s)
}

/// miette shows the file name only with a source snippet, so a diagnostic that knows its file
/// but not a span (e.g. an input over the size limit) would not say which file is wrong: prefix
/// the message with the file name unless it already names it.
fn name_spanless_files(d: &Diagnostic) -> Diagnostic {
    let mut d = d.clone();
    if let (Some(f), None) = (&d.file, &d.span)
        && !d.message.contains(&f.name)
    {
        d.message = format!("{}: {}", f.name, d.message);
    }
    d.related = d.related.iter().map(name_spanless_files).collect();
    d
}

impl Output {
    /// Prints a command's diagnostics (human or JSON) and maps the result to an exit code.
    pub fn finish(&self, result: Result<(), score_core::Diagnostics>) -> Result<(), u8> {
        match result {
            Ok(()) => Ok(()),
            Err(diags) => {
                match self.format {
                    Format::Json => {
                        let doc = serde_json::json!({
                            "ok": false,
                            "diagnostics": diags.iter().map(|d| shown(d).to_json()).collect::<Vec<_>>(),
                        });
                        let text = serde_json::to_string_pretty(&doc).unwrap_or_default();
                        if self.json_to_stderr {
                            eprintln!("{text}");
                        } else {
                            println!("{text}");
                        }
                    }
                    Format::Human => {
                        self.print_human(&diags.0);
                        if diags.len() > 1 {
                            eprintln!("{} problems found", diags.len());
                        }
                    }
                }
                Err(1)
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn control_characters_are_escaped_in_every_part_of_a_diagnostic() {
        let file = std::sync::Arc::new(score_core::diag::SourceFile::new("a\u{1b}[2Jb", "x: 1\n"));
        let mut d = Diagnostic::new(
            score_core::Code::Usage,
            "m\u{1b}]0;t\u{7}\u{9b}1\nnext\u{202e}txt.exe\u{2028}",
        )
        .with_help("h\u{0}")
        .with_label("l\u{7f}")
        .with_file(file);
        d.related
            .push(Diagnostic::new(score_core::Code::Usage, "r\u{1b}"));
        d.fixes
            .push(score_core::diag::Fix::machine("f\u{1b}[2J", Vec::new()));
        let s = shown(&d);
        assert_eq!(
            s.message,
            "m\\u{1b}]0;t\\u{7}\\u{9b}1\nnext\\u{202e}txt.exe\\u{2028}"
        );
        assert_eq!(s.help.as_deref(), Some("h\\u{0}"));
        assert_eq!(s.label.as_deref(), Some("l\\u{7f}"));
        assert_eq!(s.file.as_ref().unwrap().name, "a\\u{1b}[2Jb");
        assert_eq!(s.related[0].message, "r\\u{1b}");
        assert_eq!(s.fixes[0].message, "f\\u{1b}[2J");
        let json = s.to_json().to_string();
        assert!(!json.contains("\\u001b"), "{json}");
    }
}
