//! Machine-applicable suggestions: a [`Fix`] is a set of text [`Edit`]s (byte span + replacement)
//! in the file a [`crate::Diagnostic`] points into. `score-gen fix` applies them; an editor shows
//! them as code actions. The format is documented in `spec/fixes.md` and `schemas/diagnostics.json`.
//!
//! ```
//! use score_core::diag::{apply_edits, Edit, Span};
//! let text = "resources:\n  db:\n    type: postgres\n    properties: {}\n";
//! let at = text.find("properties").unwrap();
//! let edit = Edit::new(Span::new(at, "properties".len(), 4, 5), "params");
//! assert_eq!(
//!     apply_edits(text, &[edit]).unwrap(),
//!     "resources:\n  db:\n    type: postgres\n    params: {}\n"
//! );
//! ```

use serde::Serialize;

use crate::diag::{SourceFile, Span};

/// Replace the bytes `span.offset .. span.offset + span.len` of the diagnostic's file with
/// `replacement` (an insertion when `span.len` is 0, a deletion when `replacement` is empty).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Edit {
    /// The bytes replaced; `line`/`column` are those of its start.
    pub span: Span,
    /// The new text.
    pub replacement: String,
}

impl Edit {
    /// An edit from its parts.
    pub fn new(span: Span, replacement: impl Into<String>) -> Self {
        Self {
            span,
            replacement: replacement.into(),
        }
    }

    /// An edit of `file`'s bytes `offset .. offset + len`, with the line and column computed.
    pub fn at(
        file: &SourceFile,
        offset: usize,
        len: usize,
        replacement: impl Into<String>,
    ) -> Self {
        let (line, column) = file.line_col(offset);
        Self::new(Span::new(offset, len, line, column), replacement)
    }

    /// The JSON form (`schemas/diagnostics.json#/$defs/edit`): start and end as byte offsets and
    /// as 1-based line/column (columns in characters), plus the replacement.
    pub fn to_json(&self, file: Option<&SourceFile>) -> serde_json::Value {
        let (end_line, end_column) = match file {
            Some(f) => f.line_col(self.span.offset + self.span.len),
            None => (self.span.line, self.span.column),
        };
        serde_json::json!({
            "offset": self.span.offset,
            "len": self.span.len,
            "line": self.span.line,
            "column": self.span.column,
            "end_line": end_line,
            "end_column": end_column,
            "replacement": self.replacement,
        })
    }
}

/// How sure a [`Fix`] is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Applicability {
    /// The fix is what the user meant; `score-gen fix` applies it without asking.
    MachineApplicable,
    /// A guess (one of several near names, a placeholder value to fill in): shown, offered as a
    /// code action, never applied by `score-gen fix`.
    MaybeIncorrect,
}

impl Applicability {
    /// `machine-applicable` or `maybe-incorrect`.
    pub fn as_str(&self) -> &'static str {
        match self {
            Applicability::MachineApplicable => "machine-applicable",
            Applicability::MaybeIncorrect => "maybe-incorrect",
        }
    }
}

/// A suggested change: what it does (`rename \`properties\` to \`params\``) and the edits that do
/// it, applied together or not at all.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Fix {
    /// One line, imperative: what applying the fix does.
    pub message: String,
    /// The edits, in the diagnostic's file, non-overlapping.
    pub edits: Vec<Edit>,
    /// Whether `score-gen fix` may apply it.
    pub applicability: Applicability,
}

impl Fix {
    /// A machine-applicable fix.
    pub fn machine(message: impl Into<String>, edits: Vec<Edit>) -> Self {
        Self {
            message: message.into(),
            edits,
            applicability: Applicability::MachineApplicable,
        }
    }

    /// A fix that is a guess (never applied by `score-gen fix`).
    pub fn maybe(message: impl Into<String>, edits: Vec<Edit>) -> Self {
        Self {
            message: message.into(),
            edits,
            applicability: Applicability::MaybeIncorrect,
        }
    }

    /// True for [`Applicability::MachineApplicable`].
    pub fn is_machine_applicable(&self) -> bool {
        self.applicability == Applicability::MachineApplicable
    }

    /// The JSON form (`schemas/diagnostics.json#/$defs/fix`).
    pub fn to_json(&self, file: Option<&SourceFile>) -> serde_json::Value {
        serde_json::json!({
            "message": self.message,
            "applicability": self.applicability.as_str(),
            "edits": self.edits.iter().map(|e| e.to_json(file)).collect::<Vec<_>>(),
        })
    }
}

/// Why [`apply_edits`] refused.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum EditError {
    /// Two edits touch the same bytes (or insert at the same point).
    Overlap {
        /// The start of the second edit.
        offset: usize,
    },
    /// An edit lies outside the text or splits a UTF-8 character.
    OutOfBounds {
        /// The start of the edit.
        offset: usize,
    },
}

impl std::fmt::Display for EditError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            EditError::Overlap { offset } => write!(f, "edits overlap at byte {offset}"),
            EditError::OutOfBounds { offset } => {
                write!(f, "edit at byte {offset} lies outside the text")
            }
        }
    }
}

impl std::error::Error for EditError {}

/// Applies non-overlapping edits to `text` (in any order) and returns the new text; every byte
/// outside the edits is kept as it was.
pub fn apply_edits(text: &str, edits: &[Edit]) -> Result<String, EditError> {
    let mut sorted: Vec<&Edit> = edits.iter().collect();
    // Stable: equal starts keep the caller's order.
    sorted.sort_by_key(|e| (e.span.offset, e.span.len));
    let mut out = String::with_capacity(text.len());
    let mut at = 0usize;
    for e in sorted {
        let start = e.span.offset;
        let end = start
            .checked_add(e.span.len)
            .ok_or(EditError::OutOfBounds { offset: start })?;
        if end > text.len() || !text.is_char_boundary(start) || !text.is_char_boundary(end) {
            return Err(EditError::OutOfBounds { offset: start });
        }
        // Touching edits are fine (two insertions at one point apply in the order given);
        // shared bytes are not.
        if start < at {
            return Err(EditError::Overlap { offset: start });
        }
        out.push_str(&text[at..start]);
        out.push_str(&e.replacement);
        at = end;
    }
    out.push_str(&text[at..]);
    Ok(out)
}

/// Chooses, from many fixes for one file, a set whose edits do not overlap (first come, first
/// served, in the order given) and applies it: the text after, and how many fixes were applied.
/// The fixes left out are found again by the next validation, so a caller loops until nothing
/// changes.
pub fn apply_fixes<'a>(
    text: &str,
    fixes: impl IntoIterator<Item = &'a Fix>,
) -> (String, Vec<&'a Fix>) {
    let mut taken: Vec<&Fix> = Vec::new();
    let mut ranges: Vec<(usize, usize)> = Vec::new();
    for fix in fixes {
        let overlaps = fix.edits.iter().any(|e| {
            let (s, t) = (e.span.offset, e.span.offset + e.span.len);
            ranges.iter().any(|&(a, b)| (s < b && a < t) || s == a)
        });
        if overlaps
            || taken
                .iter()
                .any(|t| t.message == fix.message && t.edits == fix.edits)
        {
            continue;
        }
        let mut trial: Vec<Edit> = taken.iter().flat_map(|f| f.edits.clone()).collect();
        trial.extend(fix.edits.iter().cloned());
        if apply_edits(text, &trial).is_err() {
            continue;
        }
        ranges.extend(
            fix.edits
                .iter()
                .map(|e| (e.span.offset, e.span.offset + e.span.len)),
        );
        taken.push(fix);
    }
    let edits: Vec<Edit> = taken.iter().flat_map(|f| f.edits.clone()).collect();
    let out = apply_edits(text, &edits).unwrap_or_else(|_| text.to_string());
    (out, taken)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn e(offset: usize, len: usize, r: &str) -> Edit {
        Edit::new(Span::new(offset, len, 1, offset + 1), r)
    }

    #[test]
    fn applies_in_any_order_and_keeps_the_rest() {
        let t = "abcdef";
        assert_eq!(
            apply_edits(t, &[e(4, 1, "E"), e(0, 1, "A"), e(2, 0, "+")]).unwrap(),
            "Ab+cdEf"
        );
    }

    #[test]
    fn refuses_overlap_and_out_of_bounds() {
        assert_eq!(
            apply_edits("abcdef", &[e(0, 3, "x"), e(2, 2, "y")]),
            Err(EditError::Overlap { offset: 2 })
        );
        assert_eq!(
            apply_edits("abc", &[e(2, 5, "x")]),
            Err(EditError::OutOfBounds { offset: 2 })
        );
        assert_eq!(
            apply_edits("é", &[e(1, 0, "x")]),
            Err(EditError::OutOfBounds { offset: 1 })
        );
    }

    #[test]
    fn apply_fixes_skips_overlapping_and_duplicate_fixes() {
        let a = Fix::machine("a", vec![e(0, 3, "X")]);
        let b = Fix::machine("b", vec![e(1, 1, "Y")]);
        let c = Fix::machine("c", vec![e(4, 1, "Z")]);
        let (out, taken) = apply_fixes("abcdef", [&a, &b, &c, &c]);
        assert_eq!(out, "XdZf");
        assert_eq!(taken.len(), 2);
    }
}
