//! The placeholder grammar: tokenising `${...}` references and `$$` escapes.
//!
//! Equivalent to score-go's `\$((?:\$?{([^}]*)})|\$)` scanned leftmost-first (see
//! `spec/placeholders.md`), written as a hand scanner so it allocates nothing:
//!
//! * `${ref}` is a reference: `ref` is everything up to the first `}` (it may hold spaces, `$`, `{`).
//! * `$$` is an escape of `$`, and `$${...}` an escape of a whole `${...}` (the default un-escaper
//!   drops the first `$`).
//! * anything else, including a lone `$`, `$x`, `$ {x}` and an unclosed `${x`, is literal text.
//!
//! ```
//! use score_core::provision::placeholder::{tokenize, Token};
//! let toks: Vec<_> = tokenize("a $$ ${metadata.name} $${x}").collect();
//! assert_eq!(toks, vec![
//!     Token::Literal("a "),
//!     Token::Escape("$$"),
//!     Token::Literal(" "),
//!     Token::Reference { reference: "metadata.name", start: 5, end: 21 },
//!     Token::Literal(" "),
//!     Token::Escape("$${x}"),
//! ]);
//! ```

/// One piece of a string, in order.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Token<'a> {
    /// Text copied as it is.
    Literal(&'a str),
    /// An escape: the whole matched text, `$$` or `$${...}`.
    Escape(&'a str),
    /// A reference `${reference}`; `start..end` is the byte range of the whole `${...}`.
    Reference {
        /// The text between the braces.
        reference: &'a str,
        /// Byte offset of the `$`.
        start: usize,
        /// Byte offset just past the `}`.
        end: usize,
    },
}

/// Iterator over the [`Token`]s of a string.
#[derive(Debug, Clone)]
pub struct Tokens<'a> {
    s: &'a str,
    pos: usize,
    pending: Option<Token<'a>>,
}

/// Splits `s` into literals, escapes and references.
pub fn tokenize(s: &str) -> Tokens<'_> {
    Tokens {
        s,
        pos: 0,
        pending: None,
    }
}

/// The match starting at byte `i` (which holds `$`), as (token, end), or `None` if `$` is literal.
fn match_at(s: &str, i: usize) -> Option<(Token<'_>, usize)> {
    let b = s.as_bytes();
    debug_assert_eq!(b[i], b'$');
    match b.get(i + 1) {
        Some(b'{') => {
            let close = s[i + 2..].find('}')? + i + 2;
            Some((
                Token::Reference {
                    reference: &s[i + 2..close],
                    start: i,
                    end: close + 1,
                },
                close + 1,
            ))
        }
        Some(b'$') => {
            if b.get(i + 2) == Some(&b'{')
                && let Some(rel) = s[i + 3..].find('}')
            {
                let end = i + 3 + rel + 1;
                return Some((Token::Escape(&s[i..end]), end));
            }
            Some((Token::Escape(&s[i..i + 2]), i + 2))
        }
        _ => None,
    }
}

impl<'a> Iterator for Tokens<'a> {
    type Item = Token<'a>;

    fn next(&mut self) -> Option<Token<'a>> {
        if let Some(t) = self.pending.take() {
            return Some(t);
        }
        if self.pos >= self.s.len() {
            return None;
        }
        let start = self.pos;
        let mut search = start;
        while let Some(rel) = self.s[search..].find('$') {
            let i = search + rel;
            if let Some((tok, end)) = match_at(self.s, i) {
                self.pos = end;
                if i > start {
                    self.pending = Some(tok);
                    return Some(Token::Literal(&self.s[start..i]));
                }
                return Some(tok);
            }
            search = i + 1;
        }
        self.pos = self.s.len();
        Some(Token::Literal(&self.s[start..]))
    }
}

/// Splits a reference into its parts: on `.`, except that `\.` is a literal dot.
///
/// ```
/// use score_core::provision::placeholder::split_ref_parts;
/// assert_eq!(split_ref_parts(r"metadata.annotations.key\.com/x"),
///            vec!["metadata", "annotations", "key.com/x"]);
/// ```
pub fn split_ref_parts(reference: &str) -> Vec<String> {
    if !reference.contains('\\') {
        return reference.split('.').map(str::to_string).collect();
    }
    let mut parts = Vec::new();
    let mut cur = String::new();
    let mut chars = reference.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '\\' if chars.peek() == Some(&'.') => {
                chars.next();
                cur.push('.');
            }
            '.' => parts.push(std::mem::take(&mut cur)),
            _ => cur.push(c),
        }
    }
    parts.push(cur);
    parts
}

/// The references in `s`, in order (escapes skipped).
pub fn references(s: &str) -> impl Iterator<Item = &str> {
    tokenize(s).filter_map(|t| match t {
        Token::Reference { reference, .. } => Some(reference),
        _ => None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn render(s: &str) -> String {
        tokenize(s)
            .map(|t| match t {
                Token::Literal(l) => format!("L({l})"),
                Token::Escape(e) => format!("E({e})"),
                Token::Reference { reference, .. } => format!("R({reference})"),
            })
            .collect()
    }

    #[test]
    fn scanner_matches_go_regex_leftmost_first() {
        assert_eq!(render(""), "");
        assert_eq!(render("$"), "L($)");
        assert_eq!(render("a$"), "L(a$)");
        assert_eq!(render("$$$"), "E($$)L($)");
        assert_eq!(render("$$${abc}"), "E($$)R(abc)");
        assert_eq!(render("$$$${abc}"), "E($$)E($${abc})");
        assert_eq!(render("${a${b}}"), "R(a${b)L(})");
        assert_eq!(render("${x"), "L(${x)");
        assert_eq!(render("$${x"), "E($$)L({x)");
        assert_eq!(render("$ {x}"), "L($ {x})");
        assert_eq!(render("é${a}é"), "L(é)R(a)L(é)");
    }

    #[test]
    fn split_parts() {
        assert_eq!(split_ref_parts(""), vec![""]);
        assert_eq!(split_ref_parts("a.b"), vec!["a", "b"]);
        assert_eq!(split_ref_parts(r"a\\.b"), vec![r"a\.b"]);
        assert_eq!(split_ref_parts("a..b"), vec!["a", "", "b"]);
    }
}
