//! Diagnostics: the one error shape every stage returns for bad user input.
//!
//! A [`Diagnostic`] names what is wrong (`message`), what to do (`help`), where (`file`, `span`,
//! `pointer`) and which stage found it (`code`). It implements [`miette::Diagnostic`] so the CLI
//! renders it with a source snippet, and it serialises to JSON for `--format json`.
//!
//! ```
//! use std::sync::Arc;
//! use score_core::{Diagnostic, SourceFile, Span};
//! let file = Arc::new(SourceFile::new("score.yaml", "apiVersion: score.dev/v9\n"));
//! let d = Diagnostic::new("score::schema", "\"score.dev/v9\" does not match \"^score\\.dev/v1b1$\"")
//!     .with_file(file)
//!     .with_span(Span::new(12, 12, 1, 13))
//!     .with_pointer("/apiVersion")
//!     .with_help("use apiVersion: score.dev/v1b1");
//! assert_eq!(d.location(), "score.yaml:1:13");
//! ```

use std::fmt;
use std::sync::Arc;

use serde::Serialize;

/// A named source text, shared by every diagnostic that points into it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SourceFile {
    /// Display name, usually the path as the user gave it.
    pub name: String,
    /// The text. Non-UTF-8 input is stored lossily (it is only used for snippets).
    pub text: String,
}

impl SourceFile {
    /// A new source file.
    pub fn new(name: impl Into<String>, text: impl Into<String>) -> Self {
        Self {
            name: name.into(),
            text: text.into(),
        }
    }

    /// Line and column (both 1-based, column in characters) of a byte offset.
    pub fn line_col(&self, offset: usize) -> (usize, usize) {
        let offset = offset.min(self.text.len());
        let before = &self.text.as_bytes()[..offset];
        let line = before.iter().filter(|b| **b == b'\n').count() + 1;
        let line_start = before
            .iter()
            .rposition(|b| *b == b'\n')
            .map_or(0, |p| p + 1);
        let col = String::from_utf8_lossy(&before[line_start..])
            .chars()
            .count()
            + 1;
        (line, col)
    }
}

/// A location in a [`SourceFile`]: byte offset and length, plus 1-based line and column.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct Span {
    /// Byte offset of the first byte.
    pub offset: usize,
    /// Length in bytes (0 for a point).
    pub len: usize,
    /// 1-based line.
    pub line: usize,
    /// 1-based column, counted in characters.
    pub column: usize,
}

impl Span {
    /// A span from its parts.
    pub fn new(offset: usize, len: usize, line: usize, column: usize) -> Self {
        Self {
            offset,
            len,
            line,
            column,
        }
    }
}

/// One problem with the user's input.
#[derive(Debug, Clone)]
pub struct Diagnostic {
    /// Which stage found it, e.g. `score::schema`, `score::validate`, `score::provision`.
    pub code: &'static str,
    /// What is wrong, one sentence, no trailing period.
    pub message: String,
    /// What to do about it.
    pub help: Option<String>,
    /// The label shown under the snippet; defaults to the message.
    pub label: Option<String>,
    /// The file it is in, when there is one.
    pub file: Option<Arc<SourceFile>>,
    /// Where in the file.
    pub span: Option<Span>,
    /// JSON pointer of the offending value inside the document, when known.
    pub pointer: Option<String>,
    /// Further locations or causes (e.g. the other definition of a shared resource).
    pub related: Vec<Diagnostic>,
}

impl Diagnostic {
    /// A diagnostic with a code and a message and nothing else.
    pub fn new(code: &'static str, message: impl Into<String>) -> Self {
        Self {
            code,
            message: message.into(),
            help: None,
            label: None,
            file: None,
            span: None,
            pointer: None,
            related: Vec::new(),
        }
    }

    /// Sets the help line.
    pub fn with_help(mut self, help: impl Into<String>) -> Self {
        self.help = Some(help.into());
        self
    }

    /// Sets the label shown at the span.
    pub fn with_label(mut self, label: impl Into<String>) -> Self {
        self.label = Some(label.into());
        self
    }

    /// Sets the file.
    pub fn with_file(mut self, file: Arc<SourceFile>) -> Self {
        self.file = Some(file);
        self
    }

    /// Sets the span.
    pub fn with_span(mut self, span: Span) -> Self {
        self.span = Some(span);
        self
    }

    /// Sets the JSON pointer.
    pub fn with_pointer(mut self, pointer: impl Into<String>) -> Self {
        self.pointer = Some(pointer.into());
        self
    }

    /// Adds a related diagnostic.
    pub fn with_related(mut self, related: Diagnostic) -> Self {
        self.related.push(related);
        self
    }

    /// `file:line:col`, `file`, or `<input>` — for one-line renderings and tests.
    pub fn location(&self) -> String {
        match (&self.file, &self.span) {
            (Some(f), Some(s)) => format!("{}:{}:{}", f.name, s.line, s.column),
            (Some(f), None) => f.name.clone(),
            (None, _) => "<input>".to_string(),
        }
    }

    /// A machine-readable form for `--format json`.
    pub fn to_json(&self) -> serde_json::Value {
        serde_json::json!({
            "code": self.code,
            "message": self.message,
            "help": self.help,
            "file": self.file.as_ref().map(|f| f.name.clone()),
            "line": self.span.map(|s| s.line),
            "column": self.span.map(|s| s.column),
            "pointer": self.pointer,
            "related": self.related.iter().map(Diagnostic::to_json).collect::<Vec<_>>(),
        })
    }
}

impl fmt::Display for Diagnostic {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for Diagnostic {}

impl miette::SourceCode for SourceFile {
    fn read_span<'a>(
        &'a self,
        span: &miette::SourceSpan,
        context_lines_before: usize,
        context_lines_after: usize,
    ) -> Result<Box<dyn miette::SpanContents<'a> + 'a>, miette::MietteError> {
        let inner = self
            .text
            .read_span(span, context_lines_before, context_lines_after)?;
        Ok(Box::new(miette::MietteSpanContents::new_named(
            self.name.clone(),
            inner.data(),
            *inner.span(),
            inner.line(),
            inner.column(),
            inner.line_count(),
        )))
    }
}

impl miette::Diagnostic for Diagnostic {
    fn code<'a>(&'a self) -> Option<Box<dyn fmt::Display + 'a>> {
        Some(Box::new(self.code))
    }

    fn help<'a>(&'a self) -> Option<Box<dyn fmt::Display + 'a>> {
        self.help
            .as_ref()
            .map(|h| Box::new(h) as Box<dyn fmt::Display>)
    }

    fn source_code(&self) -> Option<&dyn miette::SourceCode> {
        match (&self.file, &self.span) {
            (Some(f), Some(_)) => Some(f.as_ref()),
            _ => None,
        }
    }

    fn labels(&self) -> Option<Box<dyn Iterator<Item = miette::LabeledSpan> + '_>> {
        let span = self.span?;
        self.file.as_ref()?;
        let label = self.label.clone().unwrap_or_else(|| self.message.clone());
        Some(Box::new(std::iter::once(miette::LabeledSpan::new(
            Some(label),
            span.offset,
            span.len,
        ))))
    }

    fn related<'a>(&'a self) -> Option<Box<dyn Iterator<Item = &'a dyn miette::Diagnostic> + 'a>> {
        if self.related.is_empty() {
            return None;
        }
        Some(Box::new(
            self.related.iter().map(|d| d as &dyn miette::Diagnostic),
        ))
    }
}

/// How a value's type reads in a message: `null`, `a boolean`, `a number`, `a string`, `a list`,
/// `a mapping`.
///
/// ```
/// assert_eq!(score_core::unstable::describe_type(&serde_json::json!([1])), "a list");
/// ```
pub fn describe_type(v: &serde_json::Value) -> &'static str {
    use serde_json::Value;
    match v {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "a list",
        Value::Object(_) => "a mapping",
    }
}

/// Several diagnostics, returned when a stage finds more than one problem.
#[derive(Debug, Clone, Default)]
pub struct Diagnostics(pub Vec<Diagnostic>);

impl Diagnostics {
    /// True when there is nothing to report.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// Number of diagnostics.
    pub fn len(&self) -> usize {
        self.0.len()
    }

    /// Iterates the diagnostics.
    pub fn iter(&self) -> std::slice::Iter<'_, Diagnostic> {
        self.0.iter()
    }

    /// Adds one.
    pub fn push(&mut self, d: Diagnostic) {
        self.0.push(d);
    }

    /// `Ok(())` when empty, else `Err(self)`.
    pub fn into_result(self) -> Result<(), Diagnostics> {
        if self.0.is_empty() {
            Ok(())
        } else {
            Err(self)
        }
    }
}

impl From<Diagnostic> for Diagnostics {
    fn from(d: Diagnostic) -> Self {
        Diagnostics(vec![d])
    }
}

impl IntoIterator for Diagnostics {
    type Item = Diagnostic;
    type IntoIter = std::vec::IntoIter<Diagnostic>;
    fn into_iter(self) -> Self::IntoIter {
        self.0.into_iter()
    }
}

impl fmt::Display for Diagnostics {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, d) in self.0.iter().enumerate() {
            if i > 0 {
                writeln!(f)?;
            }
            write!(f, "{}: {}", d.location(), d.message)?;
        }
        Ok(())
    }
}

impl std::error::Error for Diagnostics {}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn line_col_counts_characters() {
        let f = SourceFile::new("x", "ab\né: z\n");
        assert_eq!(f.line_col(0), (1, 1));
        assert_eq!(f.line_col(3), (2, 1));
        // 'é' is two bytes; the byte after it is column 2.
        assert_eq!(f.line_col(5), (2, 2));
    }
}
