//! The fastest path for a rendered section: plain block YAML read line by line.
//!
//! Provisioner templates render block YAML of a narrow shape: mappings and sequences by
//! indentation, one scalar per line (plain, or quoted by `| quote`), short flow sequences
//! (`[a, "b"]`), comments. Reading that shape line by line costs a fraction of a full YAML
//! parser; for the Kubernetes target, whose sections render whole manifests, the YAML parse was
//! the largest cost left in provisioning.
//!
//! Like [`crate::load::yaml::events`], this only answers when the answer is certain to be serde-saphyr's,
//! and returns `None` for anything outside the shape, so the caller falls back (to
//! [`crate::load::yaml::events`], then serde-saphyr, which words any error). It declines on: tabs, control
//! characters and the YAML 1.1 line breaks; document markers and directives; block scalars
//! (`|`, `>`); anchors, aliases and tags; flow mappings other than `{}`; nested or multi-line
//! flow sequences; quoted scalars that do not close on their line, and escapes other than
//! `\" \\ \/ \n \t \r \b \f \0 \uXXXX`; a plain scalar that starts with an indicator, holds `: `,
//! or continues on the next line; a key that is not a plain or quoted string on one line, or is
//! `<<`, null-like or repeated; and any line whose indentation does not fit the structure. Plain
//! scalars get their type from [`crate::load::yaml::events::scalar`], which declines whatever is not
//! certain. Debug builds check every answer against serde-saphyr
//! ([`super::parse_section`]).

use std::borrow::Cow;

use granit_parser::ScalarStyle;
use serde_json::{Map, Value};

use crate::load::yaml::events::{key_text, scalar};

/// One line with content: its indentation (spaces) and the rest, trailing spaces removed.
#[derive(Clone, Copy)]
struct Line<'a> {
    indent: usize,
    text: &'a str,
}

/// The value of `text`, or `None` when the other paths must decide.
pub(crate) fn parse(text: &str) -> Option<Value> {
    parse_as(text, false)
}

/// The value of a rendered Go-template section as yaml.v3 decodes it into `interface{}`
/// (plain scalars resolved by [`super::gov3::scalar`]: `0644` is 420, `yes` a string), or
/// `None` when [`super::gov3::parse`] must decide. The shape rules are the same: keys are
/// their text in both readers, quoted scalars strings, and everything else declines.
pub(crate) fn parse_go(text: &str) -> Option<Value> {
    parse_as(text, true)
}

fn parse_as(text: &str, go: bool) -> Option<Value> {
    if text.bytes().any(|b| (b < 0x20 && b != b'\n') || b == 0x7f)
        || text.contains(['\u{85}', '\u{2028}', '\u{2029}', '\u{feff}'])
    {
        return None;
    }
    let mut lines = Vec::new();
    for raw in text.split('\n') {
        let trimmed = raw.trim_end_matches(' ');
        let content = trimmed.trim_start_matches(' ');
        if content.is_empty() || content.starts_with('#') {
            continue;
        }
        if content.starts_with("---") || content.starts_with("...") || content.starts_with('%') {
            return None;
        }
        lines.push(Line {
            indent: trimmed.len() - content.len(),
            text: content,
        });
    }
    let first = lines.first()?.indent;
    let mut p = Reader {
        lines,
        pos: 0,
        depth: 0,
        go,
    };
    let value = p.node(first)?;
    (p.pos == p.lines.len()).then_some(value)
}

struct Reader<'a> {
    lines: Vec<Line<'a>>,
    pos: usize,
    /// Open collections; deep documents are left to the parsers with limits.
    depth: usize,
    /// Plain scalars as yaml.v3 resolves them (a Go-template section).
    go: bool,
}

/// Deeper than this, serde-saphyr's budget (64) decides.
const MAX_DEPTH: usize = 48;

fn is_dash(text: &str) -> bool {
    text == "-" || text.starts_with("- ")
}

impl<'a> Reader<'a> {
    fn next_line(&self) -> Option<Line<'a>> {
        self.lines.get(self.pos).copied()
    }

    /// The node starting at the current line, which is indented exactly `indent`.
    fn node(&mut self, indent: usize) -> Option<Value> {
        let line = self.next_line()?;
        let dash = is_dash(line.text);
        let first_entry = if dash { None } else { split_key(line.text)? };
        if dash || first_entry.is_some() {
            if self.depth >= MAX_DEPTH {
                return None;
            }
            self.depth += 1;
            let v = match first_entry {
                None => self.seq(indent),
                Some(entry) => self.map(indent, entry),
            };
            self.depth -= 1;
            return v;
        }
        // A scalar on its own line.
        let value = inline_value(line.text, self.go)?;
        self.pos += 1;
        if self.next_line().is_some_and(|n| n.indent > indent) {
            return None;
        }
        Some(value)
    }

    fn seq(&mut self, indent: usize) -> Option<Value> {
        let mut items = Vec::new();
        while let Some(line) = self.next_line() {
            if line.indent != indent || !is_dash(line.text) {
                break;
            }
            let rest = line.text[1..].trim_start_matches(' ');
            if rest.is_empty() {
                self.pos += 1;
                items.push(match self.next_line() {
                    Some(n) if n.indent > indent => self.node(n.indent)?,
                    _ => Value::Null,
                });
            } else {
                // `- key: v` or `- - x`: the rest is a node at its own column.
                let column = indent + (line.text.len() - rest.len());
                self.lines[self.pos] = Line {
                    indent: column,
                    text: rest,
                };
                items.push(self.node(column)?);
            }
            if self.next_line().is_some_and(|n| n.indent > indent) {
                return None;
            }
        }
        Some(Value::Array(items))
    }

    /// A mapping whose first line (already split) is the current one.
    fn map(&mut self, indent: usize, first: (String, &'a str)) -> Option<Value> {
        let mut map = Map::new();
        let mut entry = Some(first);
        while let Some(line) = self.next_line() {
            if line.indent != indent || is_dash(line.text) {
                break;
            }
            let (key, rest) = match entry.take() {
                Some(e) => e,
                None => split_key(line.text)??,
            };
            if map.contains_key(&key) {
                return None;
            }
            self.pos += 1;
            let value = if rest.is_empty() {
                match self.next_line() {
                    Some(n) if n.indent > indent => self.node(n.indent)?,
                    // A sequence may sit at its key's indentation.
                    Some(n) if n.indent == indent && is_dash(n.text) => self.node(indent)?,
                    _ => Value::Null,
                }
            } else {
                let v = inline_value(rest, self.go)?;
                if self.next_line().is_some_and(|n| n.indent > indent) {
                    return None;
                }
                v
            };
            map.insert(key, value);
        }
        Some(Value::Object(map))
    }
}

/// `Some(Some((key, rest)))` for a `key: rest` line, `Some(None)` for a line that is not a
/// mapping entry, `None` to decline.
fn split_key(text: &str) -> Option<Option<(String, &str)>> {
    if text.starts_with(['"', '\'']) {
        let (key, after) = quoted(text)?;
        if let Some(rest) = after.strip_prefix(':') {
            if rest.is_empty() || rest.starts_with(' ') {
                return Some(Some((key, rest.trim_start_matches(' '))));
            }
            return None;
        }
        return if trailing_ok(after) { Some(None) } else { None };
    }
    let (key, rest) = match text.find(": ") {
        Some(i) => (&text[..i], text[i + 2..].trim_start_matches(' ')),
        None => match text.strip_suffix(':') {
            Some(k) => (k, ""),
            None => return Some(None),
        },
    };
    // (A space before the `:` would be trimmed from the key: left to the full parser.)
    if !plain_ok(key) || key.ends_with(' ') || key.contains(['"', '\'']) || key == "<<" {
        return None;
    }
    let key = key_text(Cow::Borrowed(key), ScalarStyle::Plain)?;
    // A comment after `key:` leaves the value to the lines below.
    let rest = if rest.starts_with('#') { "" } else { rest };
    Some(Some((key, rest)))
}

/// Whether a plain scalar's text is of the safe shape: no leading indicator (a `-` only when a
/// non-space follows), no `: `, ` #`, trailing `:` or flow brackets.
fn plain_ok(text: &str) -> bool {
    let Some(first) = text.chars().next() else {
        return false;
    };
    if "?:,[]{}#&*!|>'\"%@`".contains(first) {
        return false;
    }
    if first == '-' && !text[1..].starts_with(|c: char| c != ' ') {
        return false;
    }
    // One pass: no `: `, ` #`, trailing `:` or bracket.
    let bytes = text.as_bytes();
    for (i, &b) in bytes.iter().enumerate() {
        match b {
            b':' if bytes.get(i + 1).is_none_or(|&n| n == b' ') => return false,
            b'#' if i > 0 && bytes[i - 1] == b' ' => return false,
            b'[' | b']' | b'{' | b'}' => return false,
            _ => {}
        }
    }
    true
}

/// A plain scalar's value: serde-saphyr's, or yaml.v3's with `go`.
fn plain_scalar(text: &str, go: bool) -> Option<Value> {
    if go {
        super::gov3::scalar(text, true, None)
    } else {
        scalar(Cow::Borrowed(text), ScalarStyle::Plain, false)
    }
}

/// A value written on the rest of a line.
fn inline_value(text: &str, go: bool) -> Option<Value> {
    if text.starts_with(['"', '\'']) {
        let (s, after) = quoted(text)?;
        return trailing_ok(after).then_some(Value::String(s));
    }
    if let Some(inner) = text.strip_prefix('[') {
        return flow_seq(inner, go);
    }
    if let Some(after) = text.strip_prefix("{}") {
        return trailing_ok(after).then(|| Value::Object(Map::new()));
    }
    let text = match text.find(" #") {
        Some(i) => text[..i].trim_end_matches(' '),
        None => text,
    };
    if !plain_ok(text) {
        return None;
    }
    plain_scalar(text, go)
}

/// Nothing, or a comment, after a closed scalar or bracket.
fn trailing_ok(after: &str) -> bool {
    let rest = after.trim_start_matches(' ');
    rest.is_empty() || (rest.starts_with('#') && after.starts_with(' '))
}

/// `[a, "b", 3]` (the text after `[`), items plain or quoted, on one line.
fn flow_seq(mut s: &str, go: bool) -> Option<Value> {
    let mut items = Vec::new();
    s = s.trim_start_matches(' ');
    if let Some(after) = s.strip_prefix(']') {
        return trailing_ok(after).then_some(Value::Array(items));
    }
    loop {
        s = s.trim_start_matches(' ');
        let (item, rest) = if s.starts_with(['"', '\'']) {
            let (v, rest) = quoted(s)?;
            (Value::String(v), rest)
        } else {
            let end = s.find([',', ']'])?;
            let text = s[..end].trim_end_matches(' ');
            if !plain_ok(text) || text.contains([':', '#']) {
                return None;
            }
            (plain_scalar(text, go)?, &s[end..])
        };
        items.push(item);
        let rest = rest.trim_start_matches(' ');
        if let Some(r) = rest.strip_prefix(',') {
            s = r;
            // No trailing comma.
            if s.trim_start_matches(' ').starts_with(']') {
                return None;
            }
        } else if let Some(after) = rest.strip_prefix(']') {
            return trailing_ok(after).then_some(Value::Array(items));
        } else {
            return None;
        }
    }
}

/// A quoted scalar at the start of `text` that closes on this line: its value and what follows.
fn quoted(text: &str) -> Option<(String, &str)> {
    let mut chars = text.char_indices();
    let (_, open) = chars.next()?;
    let mut out = String::new();
    if open == '\'' {
        while let Some((i, c)) = chars.next() {
            if c == '\'' {
                if text[i + 1..].starts_with('\'') {
                    chars.next();
                    out.push('\'');
                } else {
                    return Some((out, &text[i + 1..]));
                }
            } else {
                out.push(c);
            }
        }
        return None;
    }
    while let Some((i, c)) = chars.next() {
        match c {
            '"' => return Some((out, &text[i + 1..])),
            '\\' => {
                let (_, e) = chars.next()?;
                out.push(match e {
                    '"' => '"',
                    '\\' => '\\',
                    '/' => '/',
                    'n' => '\n',
                    't' => '\t',
                    'r' => '\r',
                    'b' => '\u{8}',
                    'f' => '\u{c}',
                    '0' => '\0',
                    'u' => {
                        let mut code = 0u32;
                        for _ in 0..4 {
                            code = code * 16 + chars.next()?.1.to_digit(16)?;
                        }
                        char::from_u32(code)?
                    }
                    _ => return None,
                });
            }
            c => out.push(c),
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::parse;
    use crate::load::yaml::events::agrees_with_serde_saphyr;
    use proptest::prelude::*;
    use serde_json::{json, Value};

    /// Whenever this path answers, serde-saphyr answers the same.
    fn agrees(text: &str) -> bool {
        agrees_with_serde_saphyr(parse(text), text)
    }

    #[test]
    fn reads_a_rendered_manifest() {
        let text = r#"
- apiVersion: v1
  kind: Secret
  metadata:
    name: "pg-web-1234"   # a comment
    labels:
      app.kubernetes.io/name: "pg-web-1234"
      app.kubernetes.io/managed-by: score-gen
  type: Opaque
  data:
    password: "c2VjcmV0"
- kind: StatefulSet
  spec:
    replicas: 1
    template:
      spec:
        containers:
        - name: postgres
          image: postgres:17.2-alpine
          env:
          - name: PGDATA
            value: /var/lib/postgresql/data/pgdata
          readinessProbe:
            exec:
              command: [pg_isready, -U, "user1", -d, 'db''x']
            periodSeconds: 5
        empty: {}
        none: []
        nothing:
    volumeClaimTemplates:
    -   metadata:
          name: data
"#;
        assert!(agrees(text));
        assert_eq!(
            parse(text).unwrap()[1]["spec"]["template"]["spec"]["containers"][0]["readinessProbe"]
                ["exec"]["command"],
            json!(["pg_isready", "-U", "user1", "-d", "db'x"])
        );
    }

    #[test]
    fn declines_what_it_cannot_read() {
        for text in [
            "a: |\n  x\n",
            "a: >\n  x\n",
            "a: &x 1\nb: *x\n",
            "a: !!str 1\n",
            "<<: {a: 1}\n",
            "a: 1\na: 2\n",
            "a: {b: 1}\n",
            "a: [[1]]\n",
            "a: [1,\n  2]\n",
            "a: \"open\n  close\"\n",
            "a: plain\n  continued\n",
            "a: b: c\n",
            "a:\tb\n",
            "--- \na: 1\n",
            "? a\n: b\n",
            "a: \"\\x41\"\n",
            "~: x\n",
            "a: 1.5\n",
            "a: 0777\n",
            "a: [1, 2,]\n",
            "  a: 1\n b: 2\n",
            "a :\n  b: 1\n",
            "a : 1\n",
        ] {
            assert!(parse(text).is_none(), "{text:?}");
        }
        // Deeper than serde-saphyr's budget allows.
        let deep: String = (0..60)
            .map(|i| format!("{}k{i}:\n", " ".repeat(i)))
            .collect();
        assert!(parse(&deep).is_none());
    }

    /// Block YAML written from a random value in the styles templates use (plain where safe,
    /// double- or single-quoted otherwise, flow sequences of scalars, comments, blank lines,
    /// sequences at their key's indentation or indented).
    fn emit(v: &Value, indent: usize, style: u64, out: &mut String) {
        let pad = " ".repeat(indent);
        match v {
            Value::Object(m) if !m.is_empty() => {
                for (i, (k, v)) in m.iter().enumerate() {
                    if i > 0 || !out.ends_with("- ") {
                        out.push_str(&pad);
                    }
                    out.push_str(&scalar_text(&Value::String(k.clone()), style));
                    out.push(':');
                    emit_value(v, indent, style.rotate_left(7), out);
                }
            }
            Value::Array(a) if !a.is_empty() => {
                for (i, item) in a.iter().enumerate() {
                    if i > 0 || !out.ends_with("- ") {
                        out.push_str(&pad);
                    }
                    out.push_str("- ");
                    match item {
                        Value::Object(m) if !m.is_empty() => emit(item, indent + 2, style, out),
                        Value::Array(a) if !a.is_empty() => emit(item, indent + 2, style, out),
                        _ => {
                            out.push_str(&scalar_text(item, style));
                            out.push('\n');
                        }
                    }
                }
            }
            other => {
                out.push_str(&pad);
                out.push_str(&scalar_text(other, style));
                out.push('\n');
            }
        }
    }

    fn emit_value(v: &Value, indent: usize, style: u64, out: &mut String) {
        match v {
            Value::Object(m) if !m.is_empty() => {
                out.push_str(if style.is_multiple_of(5) {
                    "  # c\n"
                } else {
                    "\n"
                });
                if style.is_multiple_of(7) {
                    out.push('\n');
                }
                emit(v, indent + 2, style, out);
            }
            Value::Array(a) if !a.is_empty() => {
                let flat = a.iter().all(|x| !x.is_object() && !x.is_array());
                if flat && style.is_multiple_of(3) {
                    let items: Vec<String> = a.iter().map(|x| scalar_text(x, style)).collect();
                    out.push_str(&format!(" [{}]\n", items.join(", ")));
                } else {
                    out.push('\n');
                    let at = if style.is_multiple_of(2) {
                        indent
                    } else {
                        indent + 2
                    };
                    emit(v, at, style, out);
                }
            }
            other => {
                out.push(' ');
                out.push_str(&scalar_text(other, style));
                out.push('\n');
            }
        }
    }

    fn scalar_text(v: &Value, style: u64) -> String {
        match v {
            Value::String(s) => match style % 4 {
                0 => serde_json::to_string(s).unwrap(),
                1 if !s.contains('\n') => format!("'{}'", s.replace('\'', "''")),
                _ => s.clone(),
            },
            Value::Null if style.is_multiple_of(2) => String::new(),
            Value::Object(_) => "{}".into(),
            Value::Array(_) => "[]".into(),
            other => other.to_string(),
        }
    }

    fn value() -> impl Strategy<Value = Value> {
        let word = proptest::sample::select(vec![
            "x",
            "name",
            "app.kubernetes.io/name",
            "-U",
            "5432",
            "1Gi",
            "true",
            "yes",
            "null",
            "",
            "a b",
            "a: b",
            "x #y",
            "#z",
            "it's",
            "q\"q",
            "é",
            "tab\there",
            "line\nbreak",
            "-",
            "- a",
            "[1]",
            "{}",
            "*a",
            "&a",
            "!t",
            "~",
            "0x1F",
            "1.5",
            "007",
            "+1",
            "-0",
            "a:b",
            "http://h:1/p",
            "%x",
            "@x",
            "`x",
            "|",
            ">",
            "? x",
        ]);
        let leaf = prop_oneof![
            word.prop_map(|s| Value::String(s.to_string())),
            any::<i32>().prop_map(|n| json!(n)),
            any::<bool>().prop_map(Value::Bool),
            Just(Value::Null),
        ];
        leaf.prop_recursive(4, 40, 5, |inner| {
            let key = proptest::sample::select(vec![
                "a",
                "bb",
                "name",
                "app.kubernetes.io/name",
                "x-y",
                "1",
                "true",
                "it's",
                "k k",
            ]);
            prop_oneof![
                proptest::collection::vec(inner.clone(), 0..4).prop_map(Value::Array),
                proptest::collection::vec((key, inner), 0..5).prop_map(|kv| {
                    Value::Object(kv.into_iter().map(|(k, v)| (k.to_string(), v)).collect())
                }),
            ]
        })
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(3000))]

        #[test]
        fn never_disagrees(v in value(), style in any::<u64>()) {
            let mut text = String::new();
            emit(&v, 0, style, &mut text);
            agrees(&text);
        }

        /// The Go-section path answers as the yaml.v3 reader does whenever it answers.
        #[test]
        fn never_disagrees_with_gov3(v in value(), style in any::<u64>()) {
            let mut text = String::new();
            emit(&v, 0, style, &mut text);
            if let Some(fast) = super::parse_go(&text) {
                let slow = super::super::gov3::parse(&text);
                prop_assert!(
                    slow.as_ref().is_ok_and(|s| s.as_ref() == Some(&fast)),
                    "{text:?}: {fast:?} vs {slow:?}"
                );
            }
        }
    }

    /// The generator's texts are mostly of the readable shape: the path is exercised, not
    /// just declining.
    #[test]
    fn answers_most_generated_texts() {
        use proptest::strategy::ValueTree;
        let mut runner = proptest::test_runner::TestRunner::deterministic();
        let (mut answered, total) = (0, 500);
        for _ in 0..total {
            let v = value().new_tree(&mut runner).unwrap().current();
            let mut text = String::new();
            emit(&v, 0, 1, &mut text);
            if agrees(&text) {
                answered += 1;
            }
        }
        eprintln!("answered {answered} of {total}");
        assert!(answered * 3 >= total, "answered {answered} of {total}");
    }
}
