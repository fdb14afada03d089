//! Turning an [`hcl::Body`] into text that `terraform fmt` leaves unchanged.
//!
//! hcl-rs formats with 2-space indents and blank lines between blocks, but never aligns `=`.
//! `terraform fmt` (hclwrite's `formatCells`) pads the key of every attribute or object item in
//! a *run* so their `=` line up, where a run is a sequence of consecutive lines that each hold a
//! complete `key = value` (a value that opens a bracket it does not close on the same line ends
//! the run, as does any line without `=`: a block header, a closing bracket, a blank line).
//!
//! We apply that rule on an hcl-edit tree (parsed from hcl-rs's output, so the round trip is
//! lossless) by setting the decor after each key, then print the tree again.

use hcl_edit::expr::{Object, ObjectKey};
use hcl_edit::repr::Decorate;
use hcl_edit::structure::Block as EditBlock;
use hcl_edit::structure::Body as EditBody;
use hcl_edit::visit_mut::{visit_block_mut, visit_body_mut, visit_object_mut, VisitMut};

/// Formats `body` like `terraform fmt` would.
pub(crate) fn to_terraform_string(body: &hcl::Body) -> Result<String, String> {
    let raw = hcl::format::Formatter::builder()
        .prefer_ident_keys(true)
        .build_vec();
    let mut fmt = raw;
    let text = {
        use hcl::format::Format as _;
        body.format_string(&mut fmt)
            .map_err(|e| format!("cannot format HCL: {e}"))?
    };
    let mut tree: EditBody = text
        .parse()
        .map_err(|e| format!("generated HCL does not parse: {e}\n{text}"))?;
    Aligner.visit_body_mut(&mut tree);
    Ok(tree.to_string())
}

/// The `=`-alignment pass.
struct Aligner;

/// One member of a run: the key's width and where to write the padding.
type Run = Vec<(usize, usize)>;

fn pad(run: &mut Run, widths: &mut Vec<(usize, usize)>) {
    let max = run.iter().map(|(_, w)| *w).max().unwrap_or(0);
    for (idx, w) in run.drain(..) {
        widths.push((idx, max - w + 1));
    }
}

fn single_line(text: &str) -> bool {
    !text.trim_end_matches(['\n', ' ']).contains('\n')
}

fn starts_after_blank_line(prefix: Option<&hcl_edit::RawString>) -> bool {
    prefix.is_some_and(|p| p.contains('\n'))
}

impl VisitMut for Aligner {
    /// hcl-rs prints an empty nested block as `name {<indent>}`; `terraform fmt` wants `name {}`.
    fn visit_block_mut(&mut self, node: &mut EditBlock) {
        visit_block_mut(self, node);
        if node.body.is_empty() {
            node.body.decor_mut().clear();
            node.body.set_prefer_oneline(true);
        }
    }

    fn visit_body_mut(&mut self, node: &mut EditBody) {
        visit_body_mut(self, node);
        // First pass: decide the padding for every attribute (index → spaces before `=`).
        let mut spaces = Vec::new();
        let mut run: Run = Vec::new();
        for (idx, s) in node.iter().enumerate() {
            let aligned = match s.as_attribute() {
                Some(attr) if single_line(&attr.value.to_string()) => {
                    if starts_after_blank_line(s.decor().prefix()) {
                        pad(&mut run, &mut spaces);
                    }
                    Some(attr.key.value().as_str().len())
                }
                _ => None,
            };
            match aligned {
                Some(w) => run.push((idx, w)),
                None => pad(&mut run, &mut spaces),
            }
        }
        pad(&mut run, &mut spaces);
        for (idx, n) in spaces {
            if let Some(hcl_edit::structure::Structure::Attribute(attr)) = node.get_mut(idx) {
                attr.key.decor_mut().set_suffix(" ".repeat(n));
            }
        }
    }

    fn visit_object_mut(&mut self, node: &mut Object) {
        visit_object_mut(self, node);
        let mut widths: Vec<Option<usize>> = Vec::new();
        for (key, value) in node.iter() {
            widths.push(if single_line(&value.expr().to_string()) {
                Some(key_width(key))
            } else {
                None
            });
        }
        let mut spaces: Vec<(usize, usize)> = Vec::new();
        let mut run: Run = Vec::new();
        for (idx, w) in widths.into_iter().enumerate() {
            match w {
                Some(w) => run.push((idx, w)),
                None => pad(&mut run, &mut spaces),
            }
        }
        pad(&mut run, &mut spaces);
        for (i, (mut key, _)) in node.iter_mut().enumerate() {
            if let Some((_, n)) = spaces.iter().find(|(idx, _)| *idx == i) {
                key.decor_mut().set_suffix(" ".repeat(*n));
            }
        }
    }
}

/// The key as printed, without surrounding whitespace.
fn key_width(key: &ObjectKey) -> usize {
    match key {
        ObjectKey::Ident(id) => id.value().as_str().len(),
        ObjectKey::Expression(e) => {
            let mut e = e.clone();
            e.decor_mut().clear();
            e.to_string().len()
        }
    }
}

#[cfg(test)]
mod tests {
    use super::to_terraform_string;
    use hcl::{Block, Body, Expression, Object, ObjectKey};

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
}
