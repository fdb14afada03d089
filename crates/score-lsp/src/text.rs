//! Text positions: byte offsets ↔ LSP positions (UTF-16 code units, the protocol's default),
//! and edits applied to a document's text. Every conversion clamps instead of failing, so a
//! position past the end of a line or of the file (a client out of step) is never a panic.

use lsp_types::{Position, Range};

/// Line starts of one text, for offset ↔ position conversion.
#[derive(Debug, Clone)]
pub struct LineIndex {
    starts: Vec<usize>,
}

impl LineIndex {
    /// Indexes `text`'s lines (`\n`, `\r\n`, and a lone `\r`, as YAML counts them).
    pub fn new(text: &str) -> Self {
        let bytes = text.as_bytes();
        let mut starts = vec![0];
        let mut i = 0;
        while i < bytes.len() {
            match bytes[i] {
                b'\n' => starts.push(i + 1),
                b'\r' if bytes.get(i + 1) != Some(&b'\n') => starts.push(i + 1),
                _ => {}
            }
            i += 1;
        }
        Self { starts }
    }

    /// Number of lines.
    pub fn len(&self) -> usize {
        self.starts.len()
    }

    /// The LSP position of byte `offset` (clamped to the text, moved back to a char boundary).
    pub fn position(&self, text: &str, offset: usize) -> Position {
        let offset = floor_boundary(text, offset.min(text.len()));
        let line = self.starts.partition_point(|s| *s <= offset) - 1;
        let start = self.starts[line];
        let character: usize = text[start..offset].chars().map(char::len_utf16).sum();
        Position::new(to_u32(line), to_u32(character))
    }

    /// The byte offset of an LSP position; a line past the end is the end of the text, a
    /// character past the end of its line is the end of that line.
    pub fn offset(&self, text: &str, pos: Position) -> usize {
        let line = pos.line as usize;
        if line >= self.starts.len() {
            return text.len();
        }
        let start = self.starts[line];
        let end = self.line_end(text, line);
        let mut units = 0usize;
        for (i, c) in text[start..end].char_indices() {
            units += c.len_utf16();
            if units > pos.character as usize {
                return start + i;
            }
        }
        end
    }

    /// The byte range of a span as an LSP range.
    pub fn range(&self, text: &str, offset: usize, len: usize) -> Range {
        Range::new(
            self.position(text, offset),
            self.position(text, offset.saturating_add(len)),
        )
    }

    /// The byte offset where line `line`'s text ends (before its line break).
    pub fn line_end(&self, text: &str, line: usize) -> usize {
        let Some(next) = self.starts.get(line + 1) else {
            return text.len();
        };
        let mut end = *next;
        let b = text.as_bytes();
        if end > 0 && b[end - 1] == b'\n' {
            end -= 1;
        }
        if end > self.starts[line] && b[end - 1] == b'\r' {
            end -= 1;
        }
        end
    }

    /// Line `line`'s text without its line break (empty past the end).
    pub fn line<'t>(&self, text: &'t str, line: usize) -> &'t str {
        match self.starts.get(line) {
            Some(&s) => &text[s..self.line_end(text, line)],
            None => "",
        }
    }

    /// Byte offset where line `line` starts (the end of the text past the last line).
    pub fn line_start(&self, line: usize) -> Option<usize> {
        self.starts.get(line).copied()
    }
}

fn to_u32(n: usize) -> u32 {
    u32::try_from(n).unwrap_or(u32::MAX)
}

/// The largest char boundary at or before `i`.
pub fn floor_boundary(text: &str, mut i: usize) -> usize {
    i = i.min(text.len());
    while !text.is_char_boundary(i) {
        i -= 1;
    }
    i
}

/// Applies one `textDocument/didChange` edit: a range replaced by `new_text`, or (no range)
/// the whole text. Out-of-range positions are clamped; the start is never after the end.
pub fn apply_change(text: &mut String, range: Option<Range>, new_text: &str) {
    let Some(range) = range else {
        new_text.clone_into(text);
        return;
    };
    let index = LineIndex::new(text);
    let a = index.offset(text, range.start);
    let b = index.offset(text, range.end);
    let (start, end) = if a <= b { (a, b) } else { (b, a) };
    text.replace_range(start..end, new_text);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn positions_count_utf16_units() {
        let text = "a: é😀x\nb: 1\n";
        let idx = LineIndex::new(text);
        let x = text.find('x').unwrap();
        // é is one UTF-16 unit, 😀 two.
        assert_eq!(idx.position(text, x), Position::new(0, 6));
        assert_eq!(idx.offset(text, Position::new(0, 6)), x);
        assert_eq!(
            idx.offset(text, Position::new(1, 0)),
            text.find('b').unwrap()
        );
        // Clamped: past the line's end, past the last line.
        assert_eq!(idx.offset(text, Position::new(0, 99)), x + 1);
        assert_eq!(idx.offset(text, Position::new(99, 0)), text.len());
        // Inside a surrogate pair: the char's start.
        assert_eq!(
            idx.offset(text, Position::new(0, 5)),
            text.find('😀').unwrap()
        );
    }

    #[test]
    fn edits_clamp_and_order() {
        let mut t = "abc\ndef\n".to_string();
        apply_change(
            &mut t,
            Some(Range::new(Position::new(1, 1), Position::new(0, 1))),
            "X",
        );
        assert_eq!(t, "aXef\n");
        apply_change(
            &mut t,
            Some(Range::new(Position::new(9, 9), Position::new(9, 9))),
            "!",
        );
        assert_eq!(t, "aXef\n!");
    }
}
