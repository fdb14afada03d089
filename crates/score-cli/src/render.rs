//! Diagnostic rendering: miette for humans, JSON for CI.

use std::io::{IsTerminal, Write};

use miette::{GraphicalReportHandler, GraphicalTheme};
use score_core::Diagnostic;

use crate::{Color, Format};

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
        let d = &name_spanless_files(&d.redacted());
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

/// miette shows the file name only with a source snippet, so a diagnostic that knows its file
/// but not a span (e.g. an input over the size limit) would not say which file is wrong: prefix
/// the message with the file name unless it already names it.
fn name_spanless_files(d: &Diagnostic) -> Diagnostic {
    let mut d = d.clone();
    if let (Some(f), None) = (&d.file, &d.span) {
        if !d.message.contains(&f.name) {
            d.message = format!("{}: {}", f.name, d.message);
        }
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
                            "diagnostics": diags.iter().map(Diagnostic::to_json).collect::<Vec<_>>(),
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
