//! Go's lexing of comment actions, where gotmpl's differs (gotmpl 0.6):
//! - `{{- /* c */}}` trims the text before it only; gotmpl trims the text after it too. Such a
//!   comment is replaced, byte for byte, by an action that prints nothing (`{{- ""      }}`),
//!   so every later position stays where it was.
//! - A comment must follow `{{` (or `{{- `) at once and end with `*/}}` or `*/ -}}`; Go refuses
//!   `{{ /* c */}}` and `{{/* c */ }}`, which gotmpl accepts.
//! - A pipeline ending in `|` (`{{ .x | }}`) is accepted by Go's parser (the last command takes
//!   the `|` and the pipeline ends); gotmpl says `empty command`. The `|` becomes a space.

use std::borrow::Cow;

use super::GoError;

/// Go's `isSpace` (the trim markers' spaces).
fn is_space(b: u8) -> bool {
    matches!(b, b' ' | b'\t' | b'\r' | b'\n')
}

/// `src` with Go's comment rules applied (see the module docs); an error is Go's.
pub(super) fn normalize(src: &str) -> Result<Cow<'_, str>, GoError> {
    if !src.contains("/*") && !src.contains('|') {
        return Ok(Cow::Borrowed(src));
    }
    let b = src.as_bytes();
    let mut fixes: Vec<(usize, usize)> = Vec::new();
    let mut pipes: Vec<usize> = Vec::new();
    let mut i = 0;
    while let Some(at) = src[i..].find("{{") {
        let open = i + at;
        let mut p = open + 2;
        let trim = b.len() >= p + 2 && b[p] == b'-' && is_space(b[p + 1]);
        if trim {
            p += 2;
        }
        if src[p..].starts_with("/*") {
            let body = p + 2;
            let Some(end) = src[body..].find("*/") else {
                return Err(error(src, open, "unclosed comment"));
            };
            let after = body + end + 2;
            let (close_trim, close_end) = if src[after..].starts_with("}}") {
                (false, after + 2)
            } else if b.len() > after + 1
                && is_space(b[after])
                && b[after + 1] == b'-'
                && src[after + 2..].starts_with("}}")
            {
                (true, after + 4)
            } else {
                return Err(error(src, open, "comment ends before closing delimiter"));
            };
            if trim && !close_trim {
                fixes.push((p, after));
            }
            i = close_end;
            continue;
        }
        // Spaces, then a comment: Go reads an action, and `/` is no token of one.
        let mut q = p;
        while q < b.len() && is_space(b[q]) {
            q += 1;
        }
        if q > p && src[q..].starts_with("/*") {
            return Err(error(src, q, "unexpected \"/\" in command"));
        }
        // Skip the action: to its `}}`, over quoted text (which may hold `}}`).
        match action_end(b, p) {
            Some(e) => {
                // A pipeline ending in `|` (`{{ .x | }}`): Go's parser takes the last command
                // with its `|` and accepts it; gotmpl wants another command. The `|` becomes
                // a space.
                let mut k = e - 2;
                if k >= 2 && b[k - 1] == b'-' && is_space(b[k - 2]) {
                    k -= 2;
                }
                while k > p && is_space(b[k - 1]) {
                    k -= 1;
                }
                if k > p && b[k - 1] == b'|' && !(k >= p + 2 && b[k - 2] == b'|') {
                    pipes.push(k - 1);
                }
                i = e;
            }
            // An unterminated action or string: gotmpl says what is wrong.
            None => break,
        }
    }
    if fixes.is_empty() && pipes.is_empty() {
        return Ok(Cow::Borrowed(src));
    }
    let mut out = src.as_bytes().to_vec();
    for at in pipes {
        out[at] = b' ';
    }
    for (from, to) in fixes {
        // `/* ... */` → `""` and spaces (newlines kept): the same bytes, nothing printed.
        out[from] = b'"';
        out[from + 1] = b'"';
        for x in &mut out[from + 2..to] {
            if *x != b'\n' {
                *x = b' ';
            }
        }
    }
    // Only ASCII bytes replaced whole UTF-8 sequences (continuation bytes included).
    Ok(Cow::Owned(
        String::from_utf8(out).unwrap_or_else(|_| src.to_string()),
    ))
}

/// The byte after the `}}` that ends the action whose content starts at `p`.
fn action_end(b: &[u8], mut p: usize) -> Option<usize> {
    while p < b.len() {
        match b[p] {
            b'}' if b.get(p + 1) == Some(&b'}') => return Some(p + 2),
            q @ (b'"' | b'\'') => {
                p += 1;
                while p < b.len() && b[p] != q {
                    if b[p] == b'\\' {
                        p += 1;
                    }
                    if b.get(p) == Some(&b'\n') {
                        return None;
                    }
                    p += 1;
                }
                p += 1;
            }
            b'`' => {
                p += 1;
                while p < b.len() && b[p] != b'`' {
                    p += 1;
                }
                p += 1;
            }
            _ => p += 1,
        }
    }
    None
}

fn error(src: &str, at: usize, message: &str) -> GoError {
    let before = &src[..at];
    let line = before.matches('\n').count() + 1;
    let column = before
        .rfind('\n')
        .map_or(before.chars().count(), |n| before[n + 1..].chars().count())
        + 1;
    GoError {
        message: message.to_string(),
        line: Some(line),
        column: Some(column),
    }
}
