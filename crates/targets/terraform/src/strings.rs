//! String literals in HCL, escaped correctly.
//!
//! hcl-rs escapes quotes, backslashes and control characters like JSON does, and doubles the
//! start of `${` and `%{` so they stay literal. Its marker escaping (hcl-primitives
//! `escape_markers`), once it has found a first marker, skips the character after every `$` or
//! `%`, so a later `%${x}` or `$${x}` keeps its `${`: the text `${a}%${b}` comes out as
//! `"$${a}%${b}"`, whose second half Terraform evaluates as an interpolation. We escape strings ourselves and hand hcl-rs only text that
//! is already escaped: [`raw_strings`] turns every string literal in an expression into a
//! quoted template of the escaped text, which hcl-rs prints unchanged.

use hcl::expr::{Operation, TemplateExpr, TraversalOperator};
use hcl::{BlockLabel, Expression, Identifier, ObjectKey};

/// `text` as the inside of a quoted HCL string: `"`, `\` and control characters escaped as
/// hcl-rs escapes them (`\n`, `\r`, `\t`, `\u00XX`), and each `${` / `%{` written `$${` / `%%{`.
pub(crate) fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len() + 2);
    let bytes = text.as_bytes();
    for (i, ch) in text.char_indices() {
        match ch {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            c if (c as u32) < 0x20 => {
                out.push_str(&format!("\\u{:04x}", c as u32));
            }
            '$' | '%' if bytes.get(i + 1) == Some(&b'{') => {
                out.push(ch);
                out.push(ch);
            }
            c => out.push(c),
        }
    }
    out
}

/// `text` as a quoted HCL string literal.
pub(crate) fn quoted(text: &str) -> String {
    format!("\"{}\"", escape(text))
}

/// Whether `key` may stand unquoted as an object key (what hcl-rs's `prefer_ident_keys` does):
/// an HCL identifier other than `true`, `false`, `null` and `for`.
fn is_bare_key(key: &str) -> bool {
    Identifier::new(key).is_ok() && !matches!(key, "true" | "false" | "null" | "for")
}

/// An object key as printed: bare when [`is_bare_key`], else quoted (the text form of
/// [`raw_key`]).
pub(crate) fn key_text(key: &str) -> String {
    if is_bare_key(key) {
        key.to_string()
    } else {
        quoted(key)
    }
}

fn raw(text: &str) -> Expression {
    Expression::TemplateExpr(Box::new(TemplateExpr::QuotedString(escape(text))))
}

/// An object key as hcl-rs should print it: bare keys stay as they are, every other string
/// becomes an already-escaped quoted template.
pub(crate) fn raw_key(key: ObjectKey) -> ObjectKey {
    match key {
        ObjectKey::Identifier(id) if is_bare_key(id.as_str()) => ObjectKey::Identifier(id),
        ObjectKey::Identifier(id) => ObjectKey::Expression(raw(id.as_str())),
        ObjectKey::Expression(Expression::String(s)) if is_bare_key(&s) => {
            ObjectKey::Expression(Expression::String(s))
        }
        ObjectKey::Expression(Expression::String(s)) => ObjectKey::Expression(raw(&s)),
        ObjectKey::Expression(mut e) => {
            raw_strings(&mut e);
            ObjectKey::Expression(e)
        }
        other => other,
    }
}

/// A block label as hcl-rs should print it (a string label, escaped, as a verbatim identifier).
pub(crate) fn raw_label(label: BlockLabel) -> BlockLabel {
    match label {
        BlockLabel::String(s) => BlockLabel::Identifier(Identifier::unchecked(quoted(&s))),
        other => other,
    }
}

/// Rewrites every string literal inside `expr` (object keys included) into a quoted template
/// holding its escaped text, so hcl-rs prints it without escaping it again.
pub(crate) fn raw_strings(expr: &mut Expression) {
    match expr {
        Expression::String(s) => *expr = raw(s),
        Expression::Array(items) => items.iter_mut().for_each(raw_strings),
        Expression::Object(object) => {
            let items = std::mem::take(object);
            *object = items
                .into_iter()
                .map(|(k, mut v)| {
                    raw_strings(&mut v);
                    (raw_key(k), v)
                })
                .collect();
        }
        Expression::FuncCall(call) => call.args.iter_mut().for_each(raw_strings),
        Expression::Traversal(t) => {
            raw_strings(&mut t.expr);
            for op in &mut t.operators {
                if let TraversalOperator::Index(e) = op {
                    raw_strings(e);
                }
            }
        }
        Expression::Parenthesis(e) => raw_strings(e),
        Expression::Conditional(c) => {
            raw_strings(&mut c.cond_expr);
            raw_strings(&mut c.true_expr);
            raw_strings(&mut c.false_expr);
        }
        Expression::Operation(op) => match &mut **op {
            Operation::Unary(u) => raw_strings(&mut u.expr),
            Operation::Binary(b) => {
                raw_strings(&mut b.lhs_expr);
                raw_strings(&mut b.rhs_expr);
            }
        },
        Expression::ForExpr(f) => {
            raw_strings(&mut f.collection_expr);
            if let Some(k) = &mut f.key_expr {
                raw_strings(k);
            }
            raw_strings(&mut f.value_expr);
            if let Some(c) = &mut f.cond_expr {
                raw_strings(c);
            }
        }
        // Null, booleans, numbers, variables and templates (already source text) hold no
        // string literal.
        _ => {}
    }
}

/// Turns every quoted template that hcl-rs parsed (its text unescaped: `"a \"b\" ${c}"` is held
/// as `a "b" ${c}`) back into source text, the form this crate hands hcl-rs to print: literal
/// parts escaped by [`escape`], interpolations printed. Directives (`%{ if }`) are refused.
pub(crate) fn parsed_templates_to_source(body: &mut hcl::Body) -> Result<(), String> {
    for s in body.iter_mut() {
        match s {
            hcl::Structure::Attribute(a) => parsed_template_expr(&mut a.expr)?,
            hcl::Structure::Block(b) => parsed_templates_to_source(&mut b.body)?,
        }
    }
    Ok(())
}

fn parsed_template_expr(expr: &mut Expression) -> Result<(), String> {
    match expr {
        Expression::TemplateExpr(t) => {
            if let TemplateExpr::QuotedString(text) = &mut **t {
                *text = template_source(text)?;
            }
        }
        Expression::Array(items) => {
            for e in items {
                parsed_template_expr(e)?;
            }
        }
        Expression::Object(object) => {
            for (_, v) in object.iter_mut() {
                parsed_template_expr(v)?;
            }
        }
        Expression::FuncCall(call) => {
            for e in &mut call.args {
                parsed_template_expr(e)?;
            }
        }
        Expression::Traversal(t) => {
            parsed_template_expr(&mut t.expr)?;
            for op in &mut t.operators {
                if let TraversalOperator::Index(e) = op {
                    parsed_template_expr(e)?;
                }
            }
        }
        Expression::Parenthesis(e) => parsed_template_expr(e)?,
        Expression::Conditional(c) => {
            parsed_template_expr(&mut c.cond_expr)?;
            parsed_template_expr(&mut c.true_expr)?;
            parsed_template_expr(&mut c.false_expr)?;
        }
        Expression::Operation(op) => match &mut **op {
            Operation::Unary(u) => parsed_template_expr(&mut u.expr)?,
            Operation::Binary(b) => {
                parsed_template_expr(&mut b.lhs_expr)?;
                parsed_template_expr(&mut b.rhs_expr)?;
            }
        },
        Expression::ForExpr(f) => {
            parsed_template_expr(&mut f.collection_expr)?;
            if let Some(k) = &mut f.key_expr {
                parsed_template_expr(k)?;
            }
            parsed_template_expr(&mut f.value_expr)?;
            if let Some(c) = &mut f.cond_expr {
                parsed_template_expr(c)?;
            }
        }
        _ => {}
    }
    Ok(())
}

/// The source text of a parsed (unescaped) quoted template.
fn template_source(text: &str) -> Result<String, String> {
    let template: hcl::Template = text
        .parse()
        .map_err(|e| format!("the template \"{text}\" does not parse: {e}"))?;
    let mut out = String::new();
    for element in template.elements() {
        match element {
            hcl::template::Element::Literal(l) => out.push_str(&escape(l)),
            hcl::template::Element::Interpolation(i) => {
                let mut e = i.expr.clone();
                parsed_template_expr(&mut e)?;
                raw_strings(&mut e);
                let e = hcl::format::to_string(&e).map_err(|e| e.to_string())?;
                out.push_str(if i.strip.strip_start() { "${~" } else { "${" });
                out.push_str(&e);
                out.push_str(if i.strip.strip_end() { "~}" } else { "}" });
            }
            hcl::template::Element::Directive(_) => {
                return Err(format!(
                    "the template \"{text}\" has a directive (%{{...}}), which files may not use; write a conditional or a for expression"
                ))
            }
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::{escape, quoted};

    #[test]
    fn markers_after_a_dollar_or_percent_are_escaped_too() {
        // Once hcl-rs 0.20 has met one marker, it skips the character after every later `$`
        // or `%`, so the second `${` in these stays live.
        assert_eq!(escape("${a}%${b}"), "$${a}%$${b}");
        assert_eq!(escape("${a}$${b}"), "$${a}$$${b}");
        assert_eq!(escape("5%${HOME}"), "5%$${HOME}");
        assert_eq!(escape("$${x}"), "$$${x}");
        assert_eq!(escape("%%{x}"), "%%%{x}");
        assert_eq!(escape("$%{x}"), "$%%{x}");
        assert_eq!(escape("${a}%{b}"), "$${a}%%{b}");
        assert_eq!(escape("$ { % {"), "$ { % {");
    }

    #[test]
    fn escapes_like_hcl_rs_otherwise() {
        for s in [
            "plain",
            "quote \" back \\ nl \n cr \r tab \t",
            "\u{1}\u{1f}\u{7f}",
            "é日本",
            "",
        ] {
            let ours = quoted(s);
            let theirs = hcl::format::to_string(&hcl::Expression::String(s.to_string())).unwrap();
            assert_eq!(ours, theirs, "{s:?}");
        }
    }
}
