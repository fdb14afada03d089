//! Turning an [`hcl::Body`] into text that `terraform fmt` leaves unchanged.
//!
//! hcl-rs formats with 2-space indents and blank lines between blocks, but never aligns `=`.
//! `terraform fmt` (hclwrite's `formatCells`) pads the key of every attribute or object item in
//! a *run* so their `=` line up, where a run is a sequence of consecutive lines that each hold a
//! complete `key = value` (a value that opens a bracket it does not close on the same line ends
//! the run, as does any line without `=`: a block header, a closing bracket, a blank line).
//! Items of an object written on one line (`{ a = 1, bb = 2 }`) are not aligned.
//!
//! [`Printer`] lays the body out exactly as hcl-rs does (same blank lines, indents, commas and
//! key quoting) and pads runs as it goes. Bodies, blocks, arrays, objects, string literals
//! (escaped by [`strings`]) and heredoc values are its own; every other expression (templates,
//! references, function calls, ...) is printed by hcl-rs, with the string literals inside it
//! escaped by us. Such a leaf is one line unless it holds a bracket hcl-rs breaks over lines (an
//! object in parentheses, say): then the printer gives up and the whole body takes the slower
//! path, [`via_hcl_edit`]. A heredoc anywhere but as a whole value is an error.

use crate::strings;
use hcl::expr::{HeredocStripMode, TemplateExpr};
use hcl::format::{Format as _, Formatter};
use hcl::{Block, BlockLabel, Body, Expression, Identifier, ObjectKey, Structure};
use hcl_edit::expr::{Expression as EditExpression, ForExpr as EditForExpr, Object};
use hcl_edit::structure::Block as EditBlock;
use hcl_edit::structure::Body as EditBody;
use hcl_edit::visit::{visit_block, visit_body, visit_for_expr, visit_object, Visit};
use hcl_edit::{Decorate, Span};
use unicode_segmentation::UnicodeSegmentation as _;

/// Formats `body` like `terraform fmt` would.
pub(crate) fn to_terraform_string(body: &Body) -> Result<String, String> {
    let mut printer = Printer::new();
    match printer.body(body, 0) {
        Ok(()) => Ok(printer.out),
        Err(Fallback::MultiLineLeaf) => via_hcl_edit(body),
        Err(Fallback::Error(e)) => Err(e),
    }
}

/// Why [`Printer`] stopped.
enum Fallback {
    /// A leaf expression spans lines; [`via_hcl_edit`] handles it.
    MultiLineLeaf,
    /// hcl-rs could not format a value.
    Error(String),
}

/// Where the previous structure left the output, as hcl-rs's formatter tracks it: a blank line
/// goes before a block that follows anything, and before anything that follows a block.
#[derive(Clone, Copy, PartialEq)]
enum State {
    Initial,
    AttributeEnd,
    BlockBodyStart,
    BlockEnd,
}

/// The direct printer: one pass over the tree, no re-parse.
struct Printer {
    out: String,
    state: State,
    /// hcl-rs's formatter, reused for leaves, object keys and block labels.
    leaf: Formatter<'static, Vec<u8>>,
}

const INDENT: &str = "  ";

fn push_indent(out: &mut String, level: usize) {
    for _ in 0..level {
        out.push_str(INDENT);
    }
}

/// Pads each member of a run (`Some(width)` in [`columns`]; `None` breaks runs) to the run's
/// widest key, and returns the number of spaces to write between each key and its `=`.
fn paddings(widths: &[Option<usize>]) -> Vec<usize> {
    let mut pads = vec![1; widths.len()];
    let mut start = 0;
    while start < widths.len() {
        if widths[start].is_none() {
            start += 1;
            continue;
        }
        let end = widths[start..]
            .iter()
            .position(Option::is_none)
            .map_or(widths.len(), |p| start + p);
        let max = widths[start..end]
            .iter()
            .flatten()
            .max()
            .copied()
            .unwrap_or(0);
        for i in start..end {
            pads[i] = max - widths[i].unwrap_or(max) + 1;
        }
        start = end;
    }
    pads
}

impl Printer {
    fn new() -> Self {
        Printer {
            out: String::new(),
            state: State::Initial,
            leaf: Formatter::builder().prefer_ident_keys(true).build_vec(),
        }
    }

    fn format<T: hcl::format::Format>(&mut self, value: &T) -> Result<String, Fallback> {
        value
            .format_string(&mut self.leaf)
            .map_err(|e| Fallback::Error(format!("cannot format HCL: {e}")))
    }

    fn body(&mut self, body: &Body, level: usize) -> Result<(), Fallback> {
        // Values first: whether each attribute's value fits on one line decides the runs.
        let mut values = Vec::new();
        let mut widths = Vec::new();
        for s in body.iter() {
            if let Structure::Attribute(attr) = s {
                values.push(self.value(&attr.expr, level)?);
                widths.push(is_cell(&attr.expr).then(|| columns(attr.key.as_str())));
            } else {
                widths.push(None);
            }
        }
        let pads = paddings(&widths);
        let mut values = values.into_iter();
        for (s, pad) in body.iter().zip(pads) {
            match s {
                Structure::Attribute(attr) => {
                    if matches!(self.state, State::BlockEnd | State::BlockBodyStart) {
                        self.out.push('\n');
                    }
                    push_indent(&mut self.out, level);
                    self.out.push_str(attr.key.as_str());
                    push_spaces(&mut self.out, pad);
                    self.out.push_str("= ");
                    self.out.push_str(&values.next().unwrap_or_default());
                    self.out.push('\n');
                    self.state = State::AttributeEnd;
                }
                Structure::Block(block) => {
                    if self.state != State::Initial {
                        self.out.push('\n');
                    }
                    push_indent(&mut self.out, level);
                    self.out.push_str(block.identifier.as_str());
                    for label in &block.labels {
                        self.out.push(' ');
                        match label {
                            BlockLabel::Identifier(id) => self.out.push_str(id.as_str()),
                            BlockLabel::String(s) => self.out.push_str(&strings::quoted(s)),
                        }
                    }
                    self.out.push_str(" {");
                    if block.body.iter().next().is_none() {
                        self.out.push_str("}\n");
                    } else {
                        self.state = State::BlockBodyStart;
                        self.body(&block.body, level + 1)?;
                        push_indent(&mut self.out, level);
                        self.out.push_str("}\n");
                    }
                    self.state = State::BlockEnd;
                }
            }
        }
        Ok(())
    }

    /// The value of an attribute or object item on a line indented `level` times. A heredoc
    /// may stand only here: as an array element hcl-rs would put the `,` after its closing
    /// marker, and in an expression its layout is hcl-rs's, at an indent we do not know.
    fn value(&mut self, expr: &Expression, level: usize) -> Result<String, Fallback> {
        if let Expression::TemplateExpr(t) = expr
            && let TemplateExpr::Heredoc(h) = &**t
        {
            let mut text = format!("{}{}\n{}", h.strip.as_str(), h.delimiter, h.template);
            if !h.template.ends_with('\n') {
                text.push('\n');
            }
            if h.strip == HeredocStripMode::Indent {
                push_indent(&mut text, level);
            }
            text.push_str(h.delimiter.as_str());
            return Ok(text);
        }
        self.expr(expr, level)
    }

    /// An expression as it appears after `= ` on a line indented `level` times.
    fn expr(&mut self, expr: &Expression, level: usize) -> Result<String, Fallback> {
        match expr {
            Expression::Array(items) if !items.is_empty() => {
                let mut text = String::from("[");
                for (i, item) in items.iter().enumerate() {
                    text.push_str(if i == 0 { "\n" } else { ",\n" });
                    push_indent(&mut text, level + 1);
                    text.push_str(&self.expr(item, level + 1)?);
                }
                text.push('\n');
                push_indent(&mut text, level);
                text.push(']');
                Ok(text)
            }
            Expression::Object(object) if !object.is_empty() => {
                let mut items = Vec::with_capacity(object.len());
                let mut widths = Vec::with_capacity(object.len());
                for (key, value) in object {
                    let key = self.key(key)?;
                    widths.push(is_cell(value).then(|| columns(&key)));
                    items.push((key, self.value(value, level + 1)?));
                }
                let mut text = String::from("{");
                for ((key, value), pad) in items.into_iter().zip(paddings(&widths)) {
                    text.push('\n');
                    push_indent(&mut text, level + 1);
                    text.push_str(&key);
                    push_spaces(&mut text, pad);
                    text.push_str("= ");
                    text.push_str(&value);
                }
                text.push('\n');
                push_indent(&mut text, level);
                text.push('}');
                Ok(text)
            }
            Expression::String(s) => Ok(strings::quoted(s)),
            leaf => self.leaf(leaf),
        }
    }

    /// Any other expression, printed by hcl-rs (string literals inside it escaped by us first).
    fn leaf(&mut self, leaf: &Expression) -> Result<String, Fallback> {
        let text = match leaf {
            Expression::Null
            | Expression::Bool(_)
            | Expression::Number(_)
            | Expression::Variable(_)
            | Expression::TemplateExpr(_) => self.format(leaf)?,
            _ => {
                let mut leaf = leaf.clone();
                strings::raw_strings(&mut leaf);
                self.format(&leaf)?
            }
        };
        // hcl-rs writes an object `for` as `{for k, v in m : k => v}`; `terraform fmt` pads it
        // like any object on one line. (A `for` nested in another expression keeps hcl-rs's form.)
        let text = match leaf {
            Expression::ForExpr(f) if f.key_expr.is_some() && !text.contains('\n') => text
                .strip_prefix('{')
                .and_then(|t| t.strip_suffix('}'))
                .map_or(text.clone(), |inner| format!("{{ {inner} }}")),
            _ => text,
        };
        if text.contains('\n') {
            if text.lines().any(opens_heredoc) {
                return Err(Fallback::Error(format!(
                    "cannot place a heredoc inside a list or an expression in HCL (`{}`); \
                     write it as a whole attribute value, or as a quoted string with \\n",
                    text.lines().next().unwrap_or_default()
                )));
            }
            return Err(Fallback::MultiLineLeaf);
        }
        Ok(text)
    }

    fn key(&mut self, key: &ObjectKey) -> Result<String, Fallback> {
        match key {
            ObjectKey::Identifier(id) => Ok(strings::key_text(id.as_str())),
            ObjectKey::Expression(Expression::String(s)) => Ok(strings::key_text(s)),
            ObjectKey::Expression(e) => self.leaf(e),
            other => {
                let text = self.format(&strings::raw_key(other.clone()))?;
                if text.contains('\n') {
                    return Err(Fallback::MultiLineLeaf);
                }
                Ok(text)
            }
        }
    }
}

/// Whether a value is one cell of an alignment run. `terraform fmt` aligns a key whose value
/// fits on its line, and a heredoc counts as fitting (hclwrite's heredoc tokens hold their own
/// line breaks); a list or object spread over lines does not.
fn is_cell(value: &Expression) -> bool {
    match value {
        Expression::Array(items) => items.is_empty(),
        Expression::Object(object) => object.is_empty(),
        _ => true,
    }
}

/// Whether hcl-rs's line ends by opening a heredoc (`<<EOT`, `<<-EOT`); nothing else we print
/// ends in `<<` and an identifier (strings are quoted and their line breaks escaped).
fn opens_heredoc(line: &str) -> bool {
    line.rfind("<<").is_some_and(|i| {
        let rest = line[i + 2..].strip_prefix('-').unwrap_or(&line[i + 2..]);
        Identifier::new(rest).is_ok()
    })
}

/// A key's width as `terraform fmt` measures it: in grapheme clusters (hclwrite counts with
/// textseg), so `"é"` is 3 wide whether the `é` is one code point or `e` and a combining accent,
/// and `日本` is 2.
fn columns(text: &str) -> usize {
    // In ASCII only `\r\n` is a cluster of two characters.
    if text.is_ascii() && !text.contains('\r') {
        return text.len();
    }
    text.graphemes(true).count()
}

fn push_spaces(out: &mut String, n: usize) {
    for _ in 0..n {
        out.push(' ');
    }
}

/// The general path, for bodies with multi-line leaves: hcl-rs prints the body (its string
/// literals escaped by us first), hcl-edit parses that text only to find where things are, and
/// the [`Aligner`] pads keys and closes empty blocks by editing the text at those places. The
/// tree is never printed again, so every byte but the padding is hcl-rs's.
fn via_hcl_edit(body: &Body) -> Result<String, String> {
    let mut fmt = Formatter::builder().prefer_ident_keys(true).build_vec();
    let text = escaped_body(body)
        .format_string(&mut fmt)
        .map_err(|e| format!("cannot format HCL: {e}"))?;
    let tree: EditBody = text
        .parse()
        .map_err(|e| format!("generated HCL does not parse: {e}\n{text}"))?;
    let mut aligner = Aligner {
        text: &text,
        edits: Vec::new(),
    };
    aligner.visit_body(&tree);
    let mut edits = aligner.edits;
    edits.sort_by_key(|e| e.at);
    let mut out = String::with_capacity(text.len() + edits.len() * 4);
    let mut pos = 0;
    for edit in edits {
        out.push_str(&text[pos..edit.at]);
        push_spaces(&mut out, edit.insert_spaces);
        pos = edit.at + edit.delete;
    }
    out.push_str(&text[pos..]);
    Ok(out)
}

/// A copy of `body` whose string literals and labels are escaped already (see [`strings`]).
fn escaped_body(body: &Body) -> Body {
    body.iter()
        .map(|s| match s {
            Structure::Attribute(attr) => {
                let mut attr = attr.clone();
                strings::raw_strings(&mut attr.expr);
                Structure::Attribute(attr)
            }
            Structure::Block(block) => Structure::Block(Block {
                identifier: block.identifier.clone(),
                labels: block
                    .labels
                    .iter()
                    .cloned()
                    .map(strings::raw_label)
                    .collect(),
                body: escaped_body(&block.body),
            }),
        })
        .collect()
}

/// One change to hcl-rs's text: at byte `at`, remove `delete` bytes and write spaces.
struct Edit {
    at: usize,
    delete: usize,
    insert_spaces: usize,
}

/// The `=`-alignment pass over hcl-edit's tree of `text`.
struct Aligner<'a> {
    text: &'a str,
    edits: Vec<Edit>,
}

impl Aligner<'_> {
    fn text_of(&self, node: &impl Span) -> &str {
        node.span().and_then(|r| self.text.get(r)).unwrap_or("")
    }

    /// See [`is_cell`]: a value on its key's line, or a heredoc.
    fn is_cell(&self, value: &EditExpression) -> bool {
        matches!(value, EditExpression::HeredocTemplate(_)) || !self.text_of(value).contains('\n')
    }

    /// hcl-rs writes one space between a key and its `=`; a member padded to `pad` spaces gets
    /// the rest right after its key.
    fn pad_keys(&mut self, members: Vec<(Option<usize>, usize)>) {
        let widths: Vec<Option<usize>> = members.iter().map(|(w, _)| *w).collect();
        for ((_, key_end), pad) in members.into_iter().zip(paddings(&widths)) {
            if pad > 1 {
                self.edits.push(Edit {
                    at: key_end,
                    delete: 0,
                    insert_spaces: pad - 1,
                });
            }
        }
    }
}

impl Visit for Aligner<'_> {
    /// hcl-rs prints an empty nested block as `name {<indent>}`; `terraform fmt` wants `name {}`.
    fn visit_block(&mut self, node: &EditBlock) {
        visit_block(self, node);
        if !node.body.is_empty() {
            return;
        }
        let Some(span) = node.span() else { return };
        let block = &self.text[span.clone()];
        let Some(close) = block.rfind('}') else {
            return;
        };
        let Some(open) = block[..close].rfind('{') else {
            return;
        };
        if close > open + 1 && block[open + 1..close].trim().is_empty() {
            self.edits.push(Edit {
                at: span.start + open + 1,
                delete: close - open - 1,
                insert_spaces: 0,
            });
        }
    }

    fn visit_body(&mut self, node: &EditBody) {
        visit_body(self, node);
        let mut members = Vec::new();
        for s in node.iter() {
            match s.as_attribute() {
                Some(attr) if self.is_cell(&attr.value) => {
                    if s.decor().prefix().is_some_and(|p| p.contains('\n')) {
                        // A blank line before it starts a new run.
                        members.push((None, 0));
                    }
                    let key_end = attr.key.span().map_or(0, |r| r.end);
                    members.push((Some(columns(attr.key.as_str())), key_end));
                }
                _ => members.push((None, 0)),
            }
        }
        self.pad_keys(members);
    }

    /// `{for k, v in m : k => v}` (hcl-rs) → `{ for k, v in m : k => v }` (`terraform fmt`).
    fn visit_for_expr(&mut self, node: &EditForExpr) {
        visit_for_expr(self, node);
        let Some(span) = node.span() else { return };
        let text = &self.text[span.clone()];
        if node.key_expr.is_some() && text.starts_with("{for") && !text.contains('\n') {
            for at in [span.start + 1, span.end - 1] {
                self.edits.push(Edit {
                    at,
                    delete: 0,
                    insert_spaces: 1,
                });
            }
        }
    }

    fn visit_object(&mut self, node: &Object) {
        visit_object(self, node);
        // `{ a = 1, bb = 2 }` on one line: `terraform fmt` aligns nothing in it.
        if !self.text_of(node).contains('\n') {
            return;
        }
        let mut members = Vec::new();
        for (key, value) in node.iter() {
            if !self.is_cell(value.expr()) {
                members.push((None, 0));
            } else {
                let width = columns(self.text_of(key));
                members.push((Some(width), key.span().map_or(0, |r| r.end)));
            }
        }
        self.pad_keys(members);
    }
}

#[cfg(test)]
mod tests {
    use super::{to_terraform_string, via_hcl_edit, Fallback, Printer};
    use hcl::{Block, BlockLabel, Body, Expression, Identifier, Object, ObjectKey, Structure};
    use proptest::prelude::*;
    use proptest::sample::select;
    use proptest::strategy::ValueTree;
    use proptest::test_runner::TestRunner;
    use std::path::PathBuf;
    use std::process::Command;

    /// The expected text is what `terraform fmt` 1.0.3 prints for this input (runs broken by a
    /// multi-line value and by a block; object items aligned on their own; empty nested block).
    #[test]
    fn aligns_like_terraform_fmt() {
        let mut labels = Object::new();
        labels.insert(
            ObjectKey::from("app.kubernetes.io/name"),
            Expression::from("x"),
        );
        labels.insert(ObjectKey::from("cpu"), Expression::from("y"));
        let body = Body::builder()
            .add_attribute(("a", 1))
            .add_attribute(("bbbbb", "x${y}"))
            .add_block(
                Block::builder("resource")
                    .add_label("t")
                    .add_label("n")
                    .add_attribute(("count", 1))
                    .add_attribute(("list", Expression::Array(vec!["a".into()])))
                    .add_attribute(("z", 2))
                    .add_attribute(("labels", Expression::Object(labels)))
                    .add_block(Block::builder("empty").build())
                    .add_attribute(("after", 2))
                    .add_attribute(("tpl", "a".parse::<Expression>().unwrap()))
                    .build(),
            )
            .build();
        let expected = r#"a     = 1
bbbbb = "x$${y}"

resource "t" "n" {
  count = 1
  list = [
    "a"
  ]
  z = 2
  labels = {
    "app.kubernetes.io/name" = "x"
    cpu                      = "y"
  }

  empty {}

  after = 2
  tpl   = a
}
"#;
        assert_eq!(to_terraform_string(&body).unwrap(), expected);
    }

    fn parse(text: &str) -> Body {
        text.parse().unwrap()
    }

    /// Expected texts below are what `terraform fmt` (1.0.3 and 1.11) prints for them.
    #[test]
    fn keys_are_measured_in_characters() {
        let mut o = Object::new();
        for (k, v) in [
            ("e\u{301}.x", 1),
            ("ab", 2),
            ("abcdefgh", 3),
            ("日本.y", 4),
            ("日本", 5),
        ] {
            o.insert(
                ObjectKey::Expression(Expression::from(k)),
                Expression::from(v),
            );
        }
        let body = Body::builder()
            .add_attribute(("x", Expression::Object(o)))
            .build();
        let expected = "x = {\n  \"e\u{301}.x\"    = 1\n  ab       = 2\n  abcdefgh = 3\n  \"日本.y\"   = 4\n  日本       = 5\n}\n";
        assert_eq!(to_terraform_string(&body).unwrap(), expected);
        assert_eq!(via_hcl_edit(&body).unwrap(), expected);
    }

    #[test]
    fn objects_on_one_line_are_not_aligned() {
        let body = parse("x = merge({ a = 1, bb = 2 }, var.y)\nyy = 1\n");
        let expected = "x  = merge({ a = 1, bb = 2 }, var.y)\nyy = 1\n";
        assert_eq!(to_terraform_string(&body).unwrap(), expected);
        assert_eq!(via_hcl_edit(&body).unwrap(), expected);
    }

    /// A value hcl-rs spreads over lines inside a leaf (here an object in parentheses) makes the
    /// direct printer give up; the hcl-edit path aligns inside it.
    #[test]
    fn multi_line_leaves_take_the_hcl_edit_path() {
        let body = parse("z = ({ a = 1, bb = 2 })\nyy = 1\n");
        assert!(matches!(
            Printer::new().body(&body, 0),
            Err(Fallback::MultiLineLeaf)
        ));
        let expected = "z = ({\n  a  = 1\n  bb = 2\n})\nyy = 1\n";
        assert_eq!(to_terraform_string(&body).unwrap(), expected);
    }

    /// As `terraform fmt` 1.0.3 prints it: a heredoc value is a cell of its run.
    #[test]
    fn heredocs_align_with_their_neighbours() {
        // (hcl-rs parses `<<-EOT` into a plain `<<EOT` with the indent stripped, so that is all
        // we ever print.)
        let text = "r \"x\" {\n  a = <<EOT\nhi\nEOT\n  b = <<EOT\nhi\nEOT\n  c = {\n    k  = <<EOT\nx\nEOT\n    kk = 1\n  }\n}\n";
        assert_eq!(to_terraform_string(&parse(text)).unwrap(), text);
    }

    #[test]
    fn a_heredoc_in_a_list_is_an_error() {
        let body = parse("a = [<<EOT\nhi\nEOT\n]\n");
        let err = to_terraform_string(&body).unwrap_err();
        assert!(
            err.contains("cannot place a heredoc inside a list"),
            "{err}"
        );
    }

    fn string() -> impl Strategy<Value = String> {
        proptest::collection::vec(
            select(vec![
                "a", "Z", "0", "-", ".", "/", " ", "é", "日", "\"", "\\", "\n", "\t", "$", "{",
                "}", "%", "${", "%{", "$${",
            ]),
            0..8,
        )
        .prop_map(|parts| parts.concat())
    }

    fn ident() -> impl Strategy<Value = Identifier> {
        select(vec![
            "a",
            "bb",
            "name",
            "app_kubernetes",
            "x-y",
            "for",
            "é",
            "count",
            "secret_key_ref",
        ])
        .prop_map(Identifier::unchecked)
    }

    fn object_key() -> impl Strategy<Value = ObjectKey> {
        prop_oneof![
            ident().prop_map(ObjectKey::Identifier),
            prop_oneof![
                select(vec![
                    "app.kubernetes.io/name",
                    "cpu",
                    "true",
                    "日本",
                    "with space"
                ])
                .prop_map(str::to_string),
                string(),
            ]
            .prop_map(|s| ObjectKey::Expression(Expression::String(s))),
        ]
    }

    fn leaf() -> impl Strategy<Value = Expression> {
        prop_oneof![
            Just(Expression::Null),
            any::<bool>().prop_map(Expression::Bool),
            (-5000i64..100_000).prop_map(Expression::from),
            (-1e6f64..1e6).prop_map(Expression::from),
            string().prop_map(Expression::String),
            select(vec![
                "module.postgres_db.host",
                "var.x",
                "\"${var.a}-b\"",
                "\"$${literal} and %%{ok}\"",
                "merge({ a = 1, bb = 2 }, var.y)",
                "local.list[0]",
                "x ? 1 : 2",
                "[for s in var.l : upper(s)]",
                "{ for k, v in var.m : k => v }",
                "(1 + 2) * 3",
                "!var.enabled",
                "({ a = 1, bb = 2 })",
            ])
            .prop_map(|s| s.parse::<Expression>().unwrap()),
        ]
    }

    fn heredoc() -> impl Strategy<Value = Expression> {
        select(vec![
            "<<EOT\nhello ${var.x}\nEOT",
            "<<-EOT\n    hi\n      there\n  EOT",
        ])
        .prop_map(|s| s.parse::<Expression>().unwrap())
    }

    fn expr() -> impl Strategy<Value = Expression> {
        leaf().prop_recursive(3, 24, 5, |inner| {
            prop_oneof![
                proptest::collection::vec(inner.clone(), 0..4).prop_map(Expression::Array),
                proptest::collection::vec((object_key(), inner), 0..6).prop_map(|items| {
                    // Unique keys: `é` the identifier and "é" the string print alike.
                    let mut seen = std::collections::HashSet::new();
                    Expression::Object(
                        items
                            .into_iter()
                            .filter(|(k, _)| {
                                seen.insert(match k {
                                    ObjectKey::Identifier(i) => i.to_string(),
                                    ObjectKey::Expression(Expression::String(s)) => s.clone(),
                                    other => format!("{other:?}"),
                                })
                            })
                            .collect(),
                    )
                }),
            ]
        })
    }

    /// Labels as we write them: quoted, of names (`terraform fmt` quotes bare labels, and drops
    /// labels holding `$`, `%` or braces).
    fn label() -> impl Strategy<Value = BlockLabel> {
        select(vec!["a", "x-y", "app_1", "é", "with space", "a.b/c", ""])
            .prop_map(|s| BlockLabel::String(s.to_string()))
    }

    fn body() -> impl Strategy<Value = Body> {
        let attribute = (ident(), prop_oneof![6 => expr(), 1 => heredoc()])
            .prop_map(|(k, v)| Structure::Attribute((k, v).into()))
            .boxed();
        let structures = proptest::collection::vec(attribute.clone(), 0..5).boxed();
        structures
            .prop_recursive(3, 30, 6, move |inner| {
                let block = (ident(), proptest::collection::vec(label(), 0..3), inner).prop_map(
                    |(id, labels, body)| {
                        Structure::Block(Block {
                            identifier: id,
                            labels,
                            body: unique_attributes(body),
                        })
                    },
                );
                proptest::collection::vec(prop_oneof![3 => attribute.clone(), 1 => block], 0..6)
            })
            .prop_map(unique_attributes)
    }

    /// A body never holds one attribute twice (hcl-edit refuses to parse that).
    fn unique_attributes(structures: Vec<Structure>) -> Body {
        let mut seen = std::collections::HashSet::new();
        structures
            .into_iter()
            .filter(|s| match s {
                Structure::Attribute(a) => seen.insert(a.key.to_string()),
                Structure::Block(_) => true,
            })
            .collect()
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(400))]

        /// The direct printer and the hcl-edit path agree on every body the printer handles.
        #[test]
        fn direct_printer_agrees_with_the_hcl_edit_path(body in body()) {
            let mut printer = Printer::new();
            if printer.body(&body, 0).is_ok() {
                prop_assert_eq!(printer.out, via_hcl_edit(&body).unwrap());
            }
        }
    }

    /// A tool from the validators' virtualenv (`bash .ci/validators`); missing is a failure
    /// in CI and a skip elsewhere.
    fn validator(name: &str) -> Option<PathBuf> {
        let path = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
            .join("../../../.venv-validators/bin")
            .join(name);
        if path.exists() {
            return Some(path);
        }
        let msg = format!("{} missing; run `bash .ci/validators`", path.display());
        assert!(std::env::var_os("CI").is_none(), "{msg}");
        eprintln!("SKIP: {msg}");
        None
    }

    /// HashiCorp's own parser (pygohcl wraps hashicorp/hcl) reads every string back as it was,
    /// markers included: in `${a}%${b}` both stay text (hcl-rs would leave the second one live).
    #[test]
    fn strings_read_back_unchanged_by_hashicorps_parser() {
        let Some(py) = validator("python") else {
            return;
        };
        let tricky = [
            "${a}%${b}",
            "${a}$${b}",
            "%{ x }%%{ y }",
            "5%${HOME}",
            "$${x}",
            "$$${x}",
            "%%{x}",
            "$%{x}",
            "%${a}%{b}",
            "${",
            "%{",
            "$",
            "%",
            "a\"b\\c",
            "line\nbreak\ttab\r",
            "\u{1}",
            "é日本",
            "{}",
            "}${",
        ];
        let mut body = Body::builder();
        let mut object = Object::new();
        for (i, s) in tricky.iter().enumerate() {
            body = body.add_attribute((format!("s{i}"), Expression::from(*s)));
            object.insert(ObjectKey::from(format!("k{i}")), Expression::from(*s));
        }
        let body = body
            .add_attribute(("o", Expression::Object(object)))
            .build();
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("main.tf");
        std::fs::write(&file, to_terraform_string(&body).unwrap()).unwrap();
        let out = Command::new(&py)
            .args([
                "-c",
                "import json,pygohcl,sys; print(json.dumps(pygohcl.loads(open(sys.argv[1]).read())))",
            ])
            .arg(&file)
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        let read: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
        for (i, s) in tricky.iter().enumerate() {
            assert_eq!(read[format!("s{i}")], *s, "attribute s{i}");
            assert_eq!(read["o"][format!("k{i}")], *s, "object item k{i}");
        }
    }

    /// 300 generated bodies (a fixed seed, so the same ones every run), each written as its own
    /// file: `terraform fmt -check` must find nothing to change in any of them.
    #[test]
    fn generated_bodies_are_terraform_fmt_clean() {
        let Some(tf) = validator("terraform") else {
            return;
        };
        let dir = tempfile::tempdir().unwrap();
        let mut runner = TestRunner::deterministic();
        let strategy = body();
        let mut fallbacks = 0;
        for i in 0..300 {
            let body = strategy.new_tree(&mut runner).unwrap().current();
            if Printer::new().body(&body, 0).is_err() {
                fallbacks += 1;
            }
            let text = to_terraform_string(&body).unwrap();
            std::fs::write(dir.path().join(format!("b{i:03}.tf")), text).unwrap();
        }
        // Both paths are exercised.
        assert!(
            (10..290).contains(&fallbacks),
            "{fallbacks} of 300 fell back"
        );
        let out = Command::new(&tf)
            .env("TF_CLI_CONFIG_FILE", "/dev/null")
            .env("CHECKPOINT_DISABLE", "1")
            .args(["fmt", "-check", "-diff"])
            .arg(dir.path())
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "terraform fmt would change generated files:\n{}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
    }
}
