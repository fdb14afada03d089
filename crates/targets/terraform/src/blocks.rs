//! From provisioner fragments (YAML describing HCL blocks) and resolved strings to hcl-rs values.
//!
//! The fragment shape is documented in `spec/targets/terraform.md` §3.

use crate::codes;
use hcl::expr::{TemplateExpr, Traversal, TraversalOperator, Variable};
use hcl::{Attribute, Block, Body, Expression, Identifier, Number, Object, ObjectKey};
use score_core::diag::TargetCode;
use score_core::target::ResolvedProject;
use score_core::target::{Found, Piece, Resolved};
use serde_json::Value;

/// Parses an HCL expression written by a provisioner (an expression output or an `{expr: ...}`
/// value); `what` names it in the error.
pub(crate) fn parse_expr(text: &str, what: &str) -> Result<Expression, String> {
    if let Some(e) = plain_traversal(text.trim()) {
        return Ok(e);
    }
    text.trim()
        .parse::<Expression>()
        .map_err(|e| format!("{what}: '{text}' is not a valid HCL expression: {e}"))
}

/// `module.db.host`, the usual expression output: ASCII identifiers joined by `.`, built as the
/// parser would build it without running the parser (debug builds check that it agrees).
/// `None` for anything else, which goes to the parser.
pub(crate) fn plain_traversal(text: &str) -> Option<Expression> {
    fn ident(s: &str) -> bool {
        let mut b = s.bytes();
        b.next()
            .is_some_and(|c| c.is_ascii_alphabetic() || c == b'_')
            && b.all(|c| c.is_ascii_alphanumeric() || c == b'_' || c == b'-')
    }
    let mut parts = text.split('.');
    let root = parts.next()?;
    if !ident(root) || matches!(root, "true" | "false" | "null") {
        return None;
    }
    let operators = parts
        .map(|p| ident(p).then(|| TraversalOperator::GetAttr(Identifier::unchecked(p))))
        .collect::<Option<Vec<_>>>()?;
    let root = Variable::unchecked(root);
    let e = if operators.is_empty() {
        Expression::Variable(root)
    } else {
        Expression::from(Traversal::new(root, operators))
    };
    debug_assert_eq!(text.parse::<Expression>().ok().as_ref(), Some(&e), "{text}");
    Some(e)
}

/// Whether a resolved value is a Terraform expression: marked by the provisioner entry's
/// `expression_outputs`, or listed in the resource's `terraform.expression_outputs` fragment
/// (which a template can render from `requested_outputs`, so dynamic keys work too).
pub(crate) fn is_expression(found: &Found, project: &ResolvedProject) -> bool {
    if found.expression {
        return true;
    }
    let Some(origin) = &found.origin else {
        return false;
    };
    let Some(first) = origin.key.first() else {
        return false;
    };
    project
        .resources
        .get(origin.uid.as_str())
        .and_then(|r| r.fragments.get("expression_outputs"))
        .and_then(Value::as_array)
        .is_some_and(|keys| keys.iter().any(|k| k.as_str() == Some(first)))
}

/// A resolved Score string as an HCL expression:
/// - no expression pieces → a string literal (hcl-rs escapes `${`/`%{` in it);
/// - exactly one expression piece and nothing else → the bare expression;
/// - otherwise → a quoted template string with each expression interpolated.
pub(crate) fn resolved_expr(
    r: &Resolved,
    project: &ResolvedProject,
    what: &str,
) -> Result<Expression, String> {
    if !r.values().any(|f| is_expression(f, project)) {
        return Ok(Expression::String(r.to_plain()));
    }
    if let Some(f) = r.single_value() {
        return parse_expr(&f.render(), what);
    }
    let mut src = String::new();
    let mut multi_line = false;
    for p in &r.pieces {
        match p {
            Piece::Text(t) => src.push_str(&crate::strings::escape(t)),
            Piece::Value(f) if is_expression(f, project) => {
                let text = f.render();
                if let Some(_e) = plain_traversal(text.trim()) {
                    // hcl-rs prints such a traversal as it is written.
                    debug_assert_eq!(
                        hcl::format::to_string(&_e).ok().as_deref(),
                        Some(text.trim())
                    );
                    src.push_str("${");
                    src.push_str(text.trim());
                    src.push('}');
                    continue;
                }
                let mut e = parse_expr(&text, what)?;
                // String literals inside it escaped by us (see `strings`), not by hcl-rs.
                crate::strings::raw_strings(&mut e);
                let e = hcl::format::to_string(&e).map_err(|e| format!("{what}: {e}"))?;
                multi_line |= e.contains('\n');
                src.push_str("${");
                src.push_str(&e);
                src.push('}');
            }
            Piece::Value(f) => src.push_str(&crate::strings::escape(&f.render())),
            // A piece kind this target does not know yet: its plain text, escaped like literal text.
            other => src.push_str(&crate::strings::escape(
                &Resolved {
                    pieces: vec![other.clone()],
                }
                .to_plain(),
            )),
        }
    }
    // The literal parts are escaped by construction and each interpolated expression parsed
    // above; only an expression hcl-rs spread over lines could still make the quoted template
    // invalid, so that case is parsed once more, making it our error rather than Terraform's.
    if multi_line {
        parse_expr(&format!("\"{src}\""), what)?;
    }
    Ok(Expression::TemplateExpr(Box::new(
        TemplateExpr::QuotedString(src),
    )))
}

/// A JSON/YAML value from a fragment as an HCL expression. A mapping with the single key `expr`
/// holding a string is a raw HCL expression; every other string is a literal.
pub(crate) fn value_expr(v: &Value, what: &str) -> Result<Expression, String> {
    Ok(match v {
        Value::Null => Expression::Null,
        Value::Bool(b) => Expression::Bool(*b),
        Value::Number(n) => {
            if let Some(i) = n.as_i64() {
                Expression::Number(Number::from(i))
            } else if let Some(u) = n.as_u64() {
                Expression::Number(Number::from(u))
            } else {
                let f = n.as_f64().unwrap_or_default();
                Expression::Number(
                    Number::from_f64(f).ok_or_else(|| format!("{what}: {n} is not a number"))?,
                )
            }
        }
        Value::String(s) => Expression::String(s.clone()),
        Value::Array(a) => Expression::Array(
            a.iter()
                .enumerate()
                .map(|(i, x)| value_expr(x, &format!("{what}[{i}]")))
                .collect::<Result<_, _>>()?,
        ),
        Value::Object(m) => {
            if let (1, Some(Value::String(e))) = (m.len(), m.get("expr")) {
                return parse_expr(e, what);
            }
            let mut o = Object::new();
            for (k, x) in m {
                o.insert(
                    ObjectKey::Expression(Expression::String(k.clone())),
                    value_expr(x, &format!("{what}.{k}"))?,
                );
            }
            Expression::Object(o)
        }
    })
}

/// An HCL identifier (attribute name, block type).
pub(crate) fn ident(s: &str, what: &str) -> Result<Identifier, String> {
    Identifier::new(s).map_err(|_| format!("{what}: '{s}' is not a valid HCL identifier"))
}

/// One block from a fragment: `{type, labels?, body?, blocks?}`.
pub(crate) fn block_from_value(v: &Value, what: &str) -> Result<Block, String> {
    let m = v.as_object().ok_or_else(|| {
        format!("{what}: a block must be a mapping with 'type', 'labels', 'body' and 'blocks'")
    })?;
    if let Some(k) = m
        .keys()
        .find(|k| !matches!(k.as_str(), "type" | "labels" | "body" | "blocks"))
    {
        return Err(format!(
            "{what}: unknown key '{k}' (a block has 'type', 'labels', 'body' and 'blocks')"
        ));
    }
    let kind = m
        .get("type")
        .and_then(Value::as_str)
        .ok_or_else(|| format!("{what}: 'type' must be a string"))?;
    let mut b = Block::builder(ident(kind, &format!("{what}.type"))?);
    match m.get("labels") {
        None | Some(Value::Null) => {}
        Some(Value::Array(ls)) => {
            for l in ls {
                let l = l
                    .as_str()
                    .ok_or_else(|| format!("{what}: 'labels' must be a list of strings"))?;
                b = b.add_label(l);
            }
        }
        Some(_) => return Err(format!("{what}: 'labels' must be a list of strings")),
    }
    match m.get("body") {
        None | Some(Value::Null) => {}
        Some(Value::Object(body)) => {
            for (k, x) in body {
                let key = ident(k, &format!("{what}.body"))?;
                b = b.add_attribute(Attribute::new(
                    key,
                    value_expr(x, &format!("{what}.body.{k}"))?,
                ));
            }
        }
        Some(_) => return Err(format!("{what}: 'body' must be a mapping of attributes")),
    }
    match m.get("blocks") {
        None | Some(Value::Null) => {}
        Some(Value::Array(bs)) => {
            for (i, x) in bs.iter().enumerate() {
                b = b.add_block(block_from_value(x, &format!("{what}.blocks[{i}]"))?);
            }
        }
        Some(_) => return Err(format!("{what}: 'blocks' must be a list of blocks")),
    }
    Ok(b.build())
}

/// The fragment sections a terraform provisioner may render.
pub(crate) const SECTIONS: &[&str] = &["blocks", "expression_outputs", "files"];

/// The blocks of one resource's `terraform.blocks` fragment (after checking its sections).
pub(crate) fn resource_blocks(
    fragments: &std::collections::BTreeMap<String, Value>,
    what: &str,
) -> Result<Vec<Block>, String> {
    if let Some(k) = fragments.keys().find(|k| !SECTIONS.contains(&k.as_str())) {
        return Err(format!(
            "{what}: unknown terraform section '{k}' (supported: {})",
            SECTIONS.join(", ")
        ));
    }
    if let Some(e) = fragments.get("expression_outputs")
        && !e.as_array().is_some_and(|a| a.iter().all(Value::is_string))
    {
        return Err(format!(
            "{what}: terraform section 'expression_outputs' must render a list of output keys"
        ));
    }
    match fragments.get("blocks") {
        None | Some(Value::Null) => Ok(Vec::new()),
        Some(Value::Array(bs)) => bs
            .iter()
            .enumerate()
            .map(|(i, b)| block_from_value(b, &format!("{what}: blocks[{i}]")))
            .collect(),
        Some(_) => Err(format!(
            "{what}: terraform section 'blocks' must render a list of blocks"
        )),
    }
}

/// The files of one resource's `terraform.files` fragment: a mapping of relative path (e.g.
/// `modules/postgres/main.tf`) to HCL text, paths checked; [`file_text`] prints each.
pub(crate) fn resource_files<'a>(
    fragments: &'a std::collections::BTreeMap<String, Value>,
    what: &str,
) -> Result<Vec<(&'a str, &'a str)>, String> {
    let files = match fragments.get("files") {
        None | Some(Value::Null) => return Ok(Vec::new()),
        Some(Value::Object(m)) => m,
        Some(_) => {
            return Err(format!(
            "{what}: terraform section 'files' must render a mapping of relative path to HCL text"
        ))
        }
    };
    let mut out = Vec::new();
    for (path, text) in files {
        check_file_path(path).map_err(|e| format!("{what}: files: '{path}' {e}"))?;
        let text = text
            .as_str()
            .ok_or_else(|| format!("{what}: files: '{path}' must be HCL text (a string)"))?;
        out.push((path.as_str(), text));
    }
    Ok(out)
}

/// One file's HCL text, parsed (our error, not Terraform's, when it is not HCL) and printed like
/// `main.tf`, then read back and compared: a file must mean what the provisioner wrote (hcl-rs
/// holds parsed quoted templates unescaped; see `strings::parsed_templates_to_source`).
///
/// An error message follows the file's name: ` is not valid HCL: ...` or `: ...`.
pub(crate) fn file_text(text: &str) -> Result<String, (TargetCode, String)> {
    let invalid = |e: String| (codes::INVALID_SECTION, e);
    let mut body: Body =
        hcl::parse(text).map_err(|e| invalid(format!(" is not valid HCL: {e}")))?;
    crate::strings::parsed_templates_to_source(&mut body).map_err(|e| invalid(format!(": {e}")))?;
    let printed =
        crate::format::to_terraform_string(&body).map_err(|e| (codes::EMIT, format!(": {e}")))?;
    let reread = hcl::parse(&printed)
        .map_err(|e| e.to_string())
        .and_then(|mut b| crate::strings::parsed_templates_to_source(&mut b).map(|()| b));
    match reread {
        Ok(b) if b == body => Ok(printed),
        _ => Err((
            codes::EMIT,
            ": the printed file does not read back as the same HCL; please report this".into(),
        )),
    }
}

/// A file a provisioner may write beside `main.tf`: a relative path of plain names (no `.`,
/// `..`, empty part or backslash), ending in `.tf`, in a sub-directory (the top-level files are
/// the target's own).
fn check_file_path(path: &str) -> Result<(), &'static str> {
    if path.chars().any(char::is_control) {
        // NUL fails only at write time (after `modules/` exists); a newline or ESC makes a
        // name no one can read back in a listing.
        return Err("must not hold a control character (NUL, newline, ESC, ...)");
    }
    let parts: Vec<&str> = path.split('/').collect();
    if parts
        .iter()
        .any(|p| p.is_empty() || *p == "." || *p == ".." || p.contains('\\') || p.contains(':'))
    {
        return Err("must be a relative path of plain names separated by '/'");
    }
    if parts.len() < 2 {
        return Err("must be in a sub-directory (e.g. modules/<name>/main.tf): the top-level files are the target's");
    }
    if !path.ends_with(".tf") {
        return Err("must end in .tf");
    }
    Ok(())
}

/// `key = value` attributes of a map in order, as an HCL object.
pub(crate) fn string_object<'a>(
    entries: impl IntoIterator<Item = (&'a str, Expression)>,
) -> Expression {
    let mut o = Object::new();
    for (k, v) in entries {
        o.insert(ObjectKey::Expression(Expression::String(k.to_string())), v);
    }
    Expression::Object(o)
}

/// A body holding `blocks`, separated as `terraform fmt` expects (hcl-rs adds the blank lines).
pub(crate) fn body_of(blocks: Vec<Block>) -> Body {
    let mut b = Body::builder();
    for x in blocks {
        b = b.add_block(x);
    }
    b.build()
}
