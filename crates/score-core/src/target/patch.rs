//! Patch templates, as score-compose and score-k8s define them (`init --patch-templates`).
//!
//! A patch template is a Go `text/template` rendered with the tools' data (the output document
//! being patched, the workload specs, ...) into a YAML list of operations:
//!
//! ```yaml
//! - op: set              # or delete
//!   path: services.web-main.read_only
//!   value: true          # for set; any YAML value
//!   description: why     # optional
//! ```
//!
//! Operations are applied in order to the output document before it is serialised; each
//! template sees the document as the templates before it left it. Paths follow the tools'
//! library (tidwall/sjson): dot-separated keys, `\` escapes the next character (`a\.b` is the
//! key `a.b`), a number indexes a list, `-1` appends to a list (and deletes its last item),
//! a leading `:` makes a number a map key when a missing level is created (`:0000`). Setting
//! through a missing level creates it (a list when the next key is a number or `-1`, else a
//! map); setting through a scalar replaces the scalar; deleting a path that does not exist
//! changes nothing. The exact rules, and where score-gen differs, are in `spec/patching.md`.
//!
//! ```
//! use score_core::target::{apply_patch_operations, parse_patch_operations};
//! let mut doc = serde_json::json!({"services": {"web": {"image": "nginx", "ports": [80]}}});
//! let ops = parse_patch_operations(
//!     "patch.tpl",
//!     "- op: set\n  path: services.web.ports.-1\n  value: 443\n\
//!      - op: delete\n  path: services.web.image\n",
//! )
//! .unwrap();
//! apply_patch_operations("patch.tpl", &ops, &mut doc).unwrap();
//! assert_eq!(doc, serde_json::json!({"services": {"web": {"ports": [80, 443]}}}));
//! ```

// The crate-wide error is `Diagnostic`; boxing it here alone would make this API differ.
#![allow(clippy::result_large_err)]

use std::sync::Arc;

use serde_json::{Map, Value};

use crate::diag::{Code, Diagnostic, Diagnostics, SourceFile, Span};
use crate::load::yaml::{self, Limits};
use crate::provision::gotemplate::{
    patch_functions, substitute_extra, GoError, GoTemplate, RenderContext, SubstituteFn,
};
use crate::target::ResolvedProject;

/// Fuel for one patch template render (range iterations and output size).
pub const PATCH_FUEL: u64 = 50_000_000;

/// How far past the end of a list a `set` may index (`list.N` pads the list with nulls up to
/// `N`, as the tools do); a larger gap is an error rather than a huge list of nulls.
pub const MAX_LIST_PADDING: usize = 10_000;

/// The most keys a patch path may have. Setting a path walks (and may build) one level per key,
/// and everything after the patch (the next template's data, the writers) walks the document
/// again: a template is data (it may be remote and unpinned), so its path may not make the
/// document deeper than a bounded walk handles. The value set is parsed with the YAML layer's
/// depth limit (64), so a patched document nests at most `MAX_PATH_KEYS + 64` deep.
pub const MAX_PATH_KEYS: usize = 256;

/// One patch template: where it came from (shown in errors) and its text.
#[derive(Debug, Clone, PartialEq, Eq, serde::Deserialize, serde::Serialize)]
#[serde(deny_unknown_fields)]
pub struct PatchTemplate {
    /// Where the template came from (the URI given to `init --patch-templates`, or a name).
    pub origin: String,
    /// The Go template text.
    pub text: String,
}

/// The data and functions a target's patch templates get (`Target::patch_dialect`): the
/// document being patched under the target's field name (score-compose's `.Compose`, score-k8s's
/// `.Manifests`), `.Workloads` (name → Score spec), the target's other fields, and sprig, plus
/// core's placeholder substitution under the name the target gives it (score-k8s's
/// `substituteValue WORKLOAD VALUE`).
///
/// ```
/// use score_core::target::PatchDialect;
/// let d = PatchDialect::new("Objects", &["Objects", "Workloads", "Region"])
///     .with_field("Region", "eu")
///     .with_substitute_function("substituteValue");
/// assert_eq!(d.document_field(), "Objects");
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PatchDialect {
    document: &'static str,
    fields: &'static [&'static str],
    data: Map<String, Value>,
    substitute: Option<&'static str>,
}

impl PatchDialect {
    /// Templates read the patched document as `.{document}`; `fields` are every field of the
    /// data (the document's, `Workloads` and those [`PatchDialect::with_field`] sets): any other
    /// `.Field` of the root is an error, as for the tools' Go struct.
    pub fn new(document: &'static str, fields: &'static [&'static str]) -> Self {
        PatchDialect {
            document,
            fields,
            data: Map::new(),
            substitute: None,
        }
    }

    /// Adds the field `name` with `value` (a string, as the tools' fields are).
    pub fn with_field(mut self, name: &str, value: impl Into<String>) -> Self {
        self.data
            .insert(name.to_string(), Value::String(value.into()));
        self
    }

    /// Templates may call `name WORKLOAD VALUE`: `VALUE` with its Score placeholders
    /// (`${metadata...}`, `${resources...}`) resolved as the workload sees them.
    pub fn with_substitute_function(mut self, name: &'static str) -> Self {
        self.substitute = Some(name);
        self
    }

    /// The field the patched document is under.
    pub fn document_field(&self) -> &'static str {
        self.document
    }

    /// The template data: the document under its field name, `.Workloads`, and the other fields.
    fn data(&self, doc: &Value, workloads: &Value) -> Value {
        let mut m = Map::new();
        m.insert(self.document.into(), doc.clone());
        m.insert("Workloads".into(), workloads.clone());
        for (k, v) in &self.data {
            m.insert(k.clone(), v.clone());
        }
        Value::Object(m)
    }
}

/// What a patch operation does.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum PatchOp {
    /// `set`: put `value` at `path`, creating missing levels.
    Set,
    /// `delete`: remove what is at `path` (nothing when it does not exist).
    Delete,
}

impl PatchOp {
    /// `set` or `delete`.
    pub fn as_str(self) -> &'static str {
        match self {
            PatchOp::Set => "set",
            PatchOp::Delete => "delete",
        }
    }
}

/// One operation of a rendered patch template.
#[derive(Debug, Clone, PartialEq)]
pub struct PatchOperation {
    /// `set` or `delete`.
    pub op: PatchOp,
    /// The dot-separated path (sjson syntax, see the module docs).
    pub path: String,
    /// The value a `set` puts (`null` when absent).
    pub value: Value,
    /// The optional description (the tools log it).
    pub description: Option<String>,
    /// Where the operation is in the rendered text (for errors), when known.
    at: Option<(Arc<SourceFile>, Span)>,
}

impl PatchOperation {
    /// An operation made by hand (no position in a rendered text).
    pub fn new(op: PatchOp, path: impl Into<String>, value: Value) -> Self {
        PatchOperation {
            op,
            path: path.into(),
            value,
            description: None,
            at: None,
        }
    }
}

/// Checks that `template` parses (what `init --patch-templates` does before storing it).
pub fn check_patch_template(
    template: &PatchTemplate,
    dialect: &PatchDialect,
) -> Result<(), Diagnostic> {
    compile(template, dialect).map(|_| ())
}

fn compile(template: &PatchTemplate, dialect: &PatchDialect) -> Result<GoTemplate, Diagnostic> {
    GoTemplate::parse(
        &template.text,
        &patch_functions(dialect.substitute),
        Some(dialect.fields),
    )
    .map_err(|e| {
        template_error(
            template,
            Code::PatchTemplateSyntax,
            &e,
            "fix the template syntax (Go text/template) at the marked line",
        )
    })
}

fn template_error(template: &PatchTemplate, code: Code, e: &GoError, help: &str) -> Diagnostic {
    let file = Arc::new(SourceFile::new(
        template.origin.clone(),
        template.text.clone(),
    ));
    let mut d = Diagnostic::new(
        code,
        format!("patch template '{}': {}", template.origin, e.message),
    )
    .with_help(help);
    if let Some(line) = e.line {
        let offset = offset_of(&template.text, line, e.column.unwrap_or(1));
        d = d.with_file(file.clone()).with_span({
            let (l, c) = file.line_col(offset);
            Span::new(offset, 0, l, c)
        });
    }
    d
}

/// Byte offset of 1-based `line` and character `column` in `text` (clamped to the text).
fn offset_of(text: &str, line: usize, column: usize) -> usize {
    let mut start = 0;
    for _ in 1..line {
        match text[start..].find('\n') {
            Some(i) => start += i + 1,
            None => return text.len(),
        }
    }
    let rest = &text[start..];
    let line_text = &rest[..rest.find('\n').unwrap_or(rest.len())];
    start
        + line_text
            .char_indices()
            .nth(column.saturating_sub(1))
            .map_or(line_text.len(), |(i, _)| i)
}

/// The `.Workloads` of the template data: workload name → Score spec (as loaded, after
/// overrides), as the tools give it.
pub fn patch_workloads(project: &ResolvedProject) -> Value {
    Value::Object(
        project
            .workloads
            .iter()
            .map(|w| {
                (
                    w.name.clone(),
                    serde_json::to_value(&w.spec).unwrap_or(Value::Null),
                )
            })
            .collect(),
    )
}

/// Renders each template in order with `dialect`'s data and applies its operations to `doc`.
///
/// Every error names the template's origin; an operation's error also names its number
/// (1-based, as the tools count) and path, and points into the rendered text.
pub fn apply_patch_templates(
    templates: &[PatchTemplate],
    dialect: &PatchDialect,
    project: &ResolvedProject,
    doc: &mut Value,
) -> Result<(), Diagnostics> {
    if templates.is_empty() {
        return Ok(());
    }
    let workloads = patch_workloads(project);
    // The dialect's substitution function (score-k8s's `substituteValue WORKLOAD VALUE`): the
    // workload's placeholders resolved against this project, the same for every template.
    let substitute: Option<Arc<SubstituteFn>> = dialect.substitute.map(|_| {
        let scope = SubstitutionScope::of(project);
        Arc::new(move |w: &str, v: &str| scope.substitute(w, v)) as Arc<SubstituteFn>
    });
    let help = format!(
        "fix the template, or the data it reads (.{}, .Workloads)",
        dialect.document
    );
    for t in templates {
        let compiled = compile(t, dialect)?;
        let data = dialect.data(doc, &workloads);
        // Random functions are seeded from the template itself: the same template gives the
        // same bytes (patch templates are no place for generated secrets).
        let key = format!("score-gen patch template\0{}\0{}", t.origin, t.text);
        let ctx = RenderContext {
            random_key: key.as_bytes(),
            fuel: PATCH_FUEL,
        };
        let rendered = match &substitute {
            Some(f) => compiled.render_with(&data, &ctx, &substitute_extra(f)),
            None => compiled.render(&data, &ctx),
        }
        .map_err(|e| template_error(t, Code::PatchTemplateRender, &e, &help))?;
        let ops = parse_patch_operations(&t.origin, &rendered)?;
        apply_patch_operations(&t.origin, &ops, doc)?;
    }
    Ok(())
}

/// What the substitution function reads (score-k8s's `substituteValue` reads it from its state): each workload's metadata and its
/// resources' outputs by resource name.
struct SubstitutionScope(std::collections::BTreeMap<String, WorkloadScope>);

/// A workload's metadata, and its resources' outputs by resource name.
type WorkloadScope = (Map<String, Value>, Vec<(String, crate::target::Outputs)>);

impl SubstitutionScope {
    fn of(project: &ResolvedProject) -> Self {
        let mut m = std::collections::BTreeMap::new();
        for w in &project.workloads {
            let outputs = w
                .resources
                .iter()
                .filter_map(|(name, uid)| {
                    project
                        .resources
                        .get(uid)
                        .map(|r| (name.clone(), r.outputs.clone()))
                })
                .collect();
            m.insert(w.name.clone(), (w.spec.metadata.clone(), outputs));
        }
        SubstitutionScope(m)
    }

    /// `value` with workload `w`'s placeholders (`${metadata...}`, `${resources...}`) resolved.
    fn substitute(&self, w: &str, value: &str) -> Result<String, String> {
        let (metadata, outputs) = self
            .0
            .get(w)
            .ok_or_else(|| format!("unknown workload '{w}'"))?;
        let ctx = crate::provision::substitute::Context {
            metadata,
            resources: outputs
                .iter()
                .map(|(n, o)| {
                    (
                        n.clone(),
                        o as &dyn crate::provision::substitute::OutputLookup,
                    )
                })
                .collect(),
        };
        crate::provision::substitute::substitute(
            value,
            |r| ctx.resolve(r),
            crate::provision::substitute::Unescape::DropFirst,
        )
        .map(|r| r.to_plain())
        .map_err(|e| e.to_string())
    }
}

fn rendered_name(origin: &str) -> String {
    format!("{origin} (rendered)")
}

/// Reads a rendered patch template: a YAML list of `{op, path, value, description}` (empty or
/// `null` output: no operations). `origin` names the template in errors.
pub fn parse_patch_operations(
    origin: &str,
    rendered: &str,
) -> Result<Vec<PatchOperation>, Diagnostic> {
    if rendered
        .lines()
        .all(|l| l.trim().is_empty() || l.trim_start().starts_with('#'))
    {
        return Ok(Vec::new());
    }
    let source = Arc::new(SourceFile::new(rendered_name(origin), rendered));
    let limits = Limits {
        max_bytes: 256 * 1024 * 1024,
        max_nodes: 10_000_000,
        ..Limits::default()
    };
    let doc = yaml::parse_any(source, rendered.as_bytes(), &limits).map_err(|mut d| {
        d.message = format!(
            "patch template '{origin}' rendered invalid YAML: {}",
            d.message
        );
        d.code = Code::PatchInvalidOperations;
        d.with_help(
            "a patch template must render a YAML list of operations (op, path, value, description)",
        )
    })?;
    let invalid = |pointer: &str, message: String| {
        doc.diagnostic(
            Code::PatchInvalidOperations,
            pointer,
            format!("patch template '{origin}': {message}"),
        )
        .with_label(message)
        .with_help(
            "each operation is a mapping with `op` (set or delete), `path`, `value` (for set) and an optional `description`",
        )
    };
    let items = match &doc.value {
        Value::Null => return Ok(Vec::new()),
        Value::Array(items) => items,
        other => {
            return Err(invalid(
                "",
                format!(
                    "the output must be a list of patch operations, got {}",
                    crate::diag::describe_type(other)
                ),
            ))
        }
    };
    let mut ops = Vec::with_capacity(items.len());
    for (i, item) in items.iter().enumerate() {
        let ptr = format!("/{i}");
        let n = i + 1;
        let Value::Object(m) = item else {
            return Err(invalid(
                &ptr,
                format!(
                    "operation {n} must be a mapping, got {}",
                    crate::diag::describe_type(item)
                ),
            ));
        };
        for k in m.keys() {
            if !matches!(k.as_str(), "op" | "path" | "value" | "description") {
                let mut d = invalid(
                    &format!("{ptr}/{}", yaml::escape_pointer_segment(k)),
                    format!("operation {n} has an unknown key '{k}'"),
                );
                if let Some(span) = doc
                    .spans
                    .key(&format!("{ptr}/{}", yaml::escape_pointer_segment(k)))
                {
                    d = d.with_span(span);
                }
                return Err(d);
            }
        }
        let text_of = |key: &str| -> Result<Option<String>, Diagnostic> {
            let p = format!("{ptr}/{key}");
            match m.get(key) {
                None | Some(Value::Null) => Ok(None),
                Some(Value::String(s)) => Ok(Some(s.clone())),
                // A plain scalar read as a number or boolean: its text as written, as the
                // tools' YAML decoder gives a string field.
                Some(v @ (Value::Number(_) | Value::Bool(_))) => Ok(Some(
                    doc.spans
                        .value(&p)
                        .and_then(|s| rendered.get(s.offset..s.offset + s.len))
                        .filter(|t| !t.is_empty())
                        .map_or_else(|| v.to_string(), str::to_string),
                )),
                Some(other) => Err(invalid(
                    &p,
                    format!(
                        "operation {n}: '{key}' must be a string, got {}",
                        crate::diag::describe_type(other)
                    ),
                )),
            }
        };
        let op = match text_of("op")?.as_deref() {
            Some("set") => PatchOp::Set,
            Some("delete") => PatchOp::Delete,
            other => {
                return Err(invalid(
                    &format!("{ptr}/op"),
                    format!(
                        "operation {n}: unknown operation '{}': use set or delete",
                        other.unwrap_or_default()
                    ),
                ))
            }
        };
        let path = text_of("path")?.unwrap_or_default();
        let description = text_of("description")?;
        ops.push(PatchOperation {
            op,
            path,
            value: m.get("value").map(normalise_numbers).unwrap_or(Value::Null),
            description,
            // Errors point at the path (else the operation).
            at: doc
                .spans
                .value(&format!("{ptr}/path"))
                .or_else(|| doc.spans.value(&ptr))
                .map(|s| (doc.source.clone(), s)),
        });
    }
    Ok(ops)
}

/// Floats with an integral value become integers, as the tools' JSON round trip makes them
/// (`value: 3.0` is written `3`).
fn normalise_numbers(v: &Value) -> Value {
    match v {
        Value::Number(n) if n.is_f64() => match n.as_f64() {
            Some(f) if f.fract() == 0.0 && f.abs() < 9_007_199_254_740_992.0 => {
                Value::from(f as i64)
            }
            _ => v.clone(),
        },
        Value::Array(a) => Value::Array(a.iter().map(normalise_numbers).collect()),
        Value::Object(m) => Value::Object(
            m.iter()
                .map(|(k, v)| (k.clone(), normalise_numbers(v)))
                .collect(),
        ),
        _ => v.clone(),
    }
}

/// Applies `ops` in order to `doc`. `origin` names the template in errors.
pub fn apply_patch_operations(
    origin: &str,
    ops: &[PatchOperation],
    doc: &mut Value,
) -> Result<(), Diagnostic> {
    for (i, op) in ops.iter().enumerate() {
        if let Err(e) = apply_one(op, doc) {
            let mut d = Diagnostic::new(
                Code::PatchApplyFailed,
                format!(
                    "patch template '{origin}': operation {} ({} '{}'): {e}",
                    i + 1,
                    op.op.as_str(),
                    op.path
                ),
            )
            .with_help(
                "paths are dot-separated keys; a number indexes a list, -1 appends, \\ escapes the next character (spec/patching.md)",
            );
            if let Some((file, span)) = &op.at {
                d = d
                    .with_file(file.clone())
                    .with_span(*span)
                    .with_label(format!("operation {}: {e}", i + 1));
            }
            return Err(d);
        }
    }
    Ok(())
}

/// Applies one operation.
fn apply_one(op: &PatchOperation, doc: &mut Value) -> Result<(), String> {
    let segments = parse_path(&op.path)?;
    match op.op {
        PatchOp::Set => set(doc, &segments, op.value.clone()),
        PatchOp::Delete => {
            delete(doc, &segments);
            Ok(())
        }
    }
}

/// One key of a path.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Segment {
    /// The key, escapes removed and a leading `:` dropped.
    key: String,
    /// Written with a leading `:`: never a list index when a level is created.
    forced: bool,
}

impl Segment {
    /// The key as a list index (a leading `:` does not stop finding an existing item).
    fn index(&self) -> Option<usize> {
        if !self.key.is_empty() && self.key.bytes().all(|b| b.is_ascii_digit()) {
            Some(self.key.parse::<usize>().unwrap_or(usize::MAX))
        } else {
            None
        }
    }

    /// A number that creates or pads a list.
    fn numeric(&self) -> Option<usize> {
        if self.forced {
            None
        } else {
            self.index()
        }
    }

    /// `-1`: append to a list (delete: the last item).
    fn is_append(&self) -> bool {
        !self.forced && self.key == "-1"
    }
}

/// Splits a path as sjson does: `.` separates keys, `\` takes the next character literally, a
/// leading `:` marks a key that must not become a list index. sjson's query characters
/// (`| # @ * ?`) are refused unless escaped.
fn parse_path(path: &str) -> Result<Vec<Segment>, String> {
    if path.is_empty() {
        return Err("path cannot be empty".into());
    }
    let mut out = Vec::new();
    let mut key = String::new();
    let mut forced = false;
    let mut at_start = true;
    let mut chars = path.chars();
    while let Some(c) = chars.next() {
        if at_start {
            at_start = false;
            if c == ':' {
                forced = true;
                continue;
            }
        }
        match c {
            '.' => {
                out.push(Segment {
                    key: std::mem::take(&mut key),
                    forced,
                });
                forced = false;
                at_start = true;
            }
            '\\' => {
                if let Some(next) = chars.next() {
                    key.push(next);
                }
            }
            '|' | '#' | '@' | '*' | '?' => {
                return Err(format!(
                    "'{c}' is a query character of the tools' path syntax, which score-gen does not support; escape it as '\\{c}' to use it in a key"
                ))
            }
            _ => key.push(c),
        }
        if out.len() >= MAX_PATH_KEYS {
            return Err(format!(
                "the path has more than {MAX_PATH_KEYS} keys; score-gen sets at most {MAX_PATH_KEYS} levels deep"
            ));
        }
    }
    out.push(Segment { key, forced });
    if let Some(i) = out.iter().position(|s| s.key.is_empty()) {
        return Err(format!("key {} of the path is empty", i + 1));
    }
    Ok(out)
}

fn set(node: &mut Value, segs: &[Segment], value: Value) -> Result<(), String> {
    let (seg, rest) = segs.split_first().expect("paths have at least one key");
    match node {
        Value::Object(m) => match m.get_mut(&seg.key) {
            Some(child) if rest.is_empty() => *child = value,
            Some(child) => set(child, rest, value)?,
            None => {
                m.insert(seg.key.clone(), build(rest, value)?);
            }
        },
        Value::Array(a) => match seg.index().filter(|i| *i < a.len()) {
            Some(i) if rest.is_empty() => a[i] = value,
            Some(i) => set(&mut a[i], rest, value)?,
            None => {
                if let Some(n) = seg.numeric() {
                    if n - a.len() > MAX_LIST_PADDING {
                        return Err(format!(
                            "index {n} is more than {MAX_LIST_PADDING} past the end of a list of {} items",
                            a.len()
                        ));
                    }
                    a.resize(n, Value::Null);
                } else if !seg.is_append() {
                    return Err(format!(
                        "cannot set array element for non-numeric key '{}'",
                        seg.key
                    ));
                }
                a.push(build(rest, value)?);
            }
        },
        // A scalar (or null) on the way is replaced by a new level, as the tools do.
        scalar => {
            *scalar = if seg.numeric().is_some() {
                Value::Array(Vec::new())
            } else {
                Value::Object(Map::new())
            };
            set(scalar, segs, value)?;
        }
    }
    Ok(())
}

/// The value for the missing levels `segs`: a list for a number or `-1` (padded with nulls up to
/// the number), else a map.
fn build(segs: &[Segment], value: Value) -> Result<Value, String> {
    let Some((seg, rest)) = segs.split_first() else {
        return Ok(value);
    };
    let inner = build(rest, value)?;
    if let Some(n) = seg.numeric() {
        if n > MAX_LIST_PADDING {
            return Err(format!(
                "index {n} would create a list of more than {MAX_LIST_PADDING} nulls"
            ));
        }
        let mut a = vec![Value::Null; n];
        a.push(inner);
        Ok(Value::Array(a))
    } else if seg.is_append() {
        Ok(Value::Array(vec![inner]))
    } else {
        let mut m = Map::new();
        m.insert(seg.key.clone(), inner);
        Ok(Value::Object(m))
    }
}

/// Removes what `segs` names; a missing path changes nothing.
fn delete(node: &mut Value, segs: &[Segment]) {
    let (seg, rest) = segs.split_first().expect("paths have at least one key");
    match node {
        Value::Object(m) => {
            if rest.is_empty() {
                m.shift_remove(&seg.key);
            } else if let Some(child) = m.get_mut(&seg.key) {
                delete(child, rest);
            }
        }
        Value::Array(a) => {
            let i = if seg.is_append() {
                a.len().checked_sub(1)
            } else {
                seg.index().filter(|i| *i < a.len())
            };
            match i {
                Some(i) if rest.is_empty() => {
                    a.remove(i);
                }
                Some(i) => delete(&mut a[i], rest),
                None => {}
            }
        }
        _ => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn apply(doc: Value, op: PatchOp, path: &str, value: Value) -> Result<Value, String> {
        let mut doc = doc;
        apply_one(&PatchOperation::new(op, path, value), &mut doc)?;
        Ok(doc)
    }

    fn set_ok(doc: Value, path: &str, value: Value) -> Value {
        apply(doc, PatchOp::Set, path, value).unwrap()
    }

    fn del_ok(doc: Value, path: &str) -> Value {
        apply(doc, PatchOp::Delete, path, Value::Null).unwrap()
    }

    #[test]
    fn paths_have_a_bounded_number_of_keys() {
        // Issue 21 (high): 30,000 keys overflowed the stack in `set`; now an error up front.
        let longest = vec!["a"; MAX_PATH_KEYS].join(".");
        let doc = set_ok(json!({}), &longest, json!(1));
        let mut node = &doc;
        for _ in 0..MAX_PATH_KEYS {
            node = &node["a"];
        }
        assert_eq!(node, &json!(1));
        for path in [
            format!("{longest}.b"),
            format!("x.{}b", "a.".repeat(30_000)),
        ] {
            for op in [PatchOp::Set, PatchOp::Delete] {
                let e = apply(json!({"x": {}}), op, &path, json!(1)).unwrap_err();
                assert!(e.contains("more than 256 keys"), "{e}");
            }
        }
        // Escaped dots do not count.
        set_ok(json!({}), &"a\\.".repeat(10_000), json!(1));
    }

    #[test]
    fn paths_split_on_dots_with_escapes_and_forced_keys() {
        let keys = |p: &str| -> Vec<(String, bool)> {
            parse_path(p)
                .unwrap()
                .into_iter()
                .map(|s| (s.key, s.forced))
                .collect()
        };
        assert_eq!(
            keys("a.b\\.c.:0.x\\\\y"),
            [
                ("a".into(), false),
                ("b.c".into(), false),
                ("0".into(), true),
                ("x\\y".into(), false)
            ]
        );
        assert_eq!(
            keys("acme\\.example\\.org/x"),
            [("acme.example.org/x".into(), false)]
        );
        assert_eq!(keys("a:b"), [("a:b".into(), false)]);
        // A trailing backslash is dropped, as sjson does.
        assert_eq!(keys("a\\"), [("a".into(), false)]);
        assert_eq!(keys("a.\\#"), [("a".into(), false), ("#".into(), false)]);
        assert!(parse_path("").unwrap_err().contains("empty"));
        assert!(parse_path("a..b").unwrap_err().contains("key 2"));
        assert!(parse_path("a.#.b").unwrap_err().contains("query character"));
        assert!(parse_path("a.b*").unwrap_err().contains("'*'"));
    }

    #[test]
    fn set_replaces_adds_and_creates_levels() {
        let doc = json!({"a": {"b": 1, "c": [1, 2]}});
        assert_eq!(
            set_ok(doc.clone(), "a.b", json!(2)),
            json!({"a": {"b": 2, "c": [1, 2]}})
        );
        // New keys go last; existing keys keep their place.
        assert_eq!(
            set_ok(doc.clone(), "a.z", json!("x")),
            json!({"a": {"b": 1, "c": [1, 2], "z": "x"}})
        );
        assert_eq!(
            set_ok(doc.clone(), "x.y.z", json!(true)),
            json!({"a": {"b": 1, "c": [1, 2]}, "x": {"y": {"z": true}}})
        );
        // A number after a missing level makes a list, padded with nulls.
        assert_eq!(
            set_ok(json!({}), "l.2", json!(1)),
            json!({"l": [null, null, 1]})
        );
        assert_eq!(
            set_ok(json!({}), "l.-1.k", json!(1)),
            json!({"l": [{"k": 1}]})
        );
        // ... unless forced to be a key.
        assert_eq!(
            set_ok(json!({}), "m.:0000.x", json!(1)),
            json!({"m": {"0000": {"x": 1}}})
        );
        // A number on a map is a key.
        assert_eq!(
            set_ok(json!({"m": {}}), "m.0", json!(1)),
            json!({"m": {"0": 1}})
        );
    }

    #[test]
    fn set_on_lists_indexes_pads_and_appends() {
        let doc = json!({"l": ["a", "b"]});
        assert_eq!(
            set_ok(doc.clone(), "l.0", json!("z")),
            json!({"l": ["z", "b"]})
        );
        assert_eq!(
            set_ok(doc.clone(), "l.-1", json!("c")),
            json!({"l": ["a", "b", "c"]})
        );
        assert_eq!(
            set_ok(doc.clone(), "l.2", json!("c")),
            json!({"l": ["a", "b", "c"]})
        );
        assert_eq!(
            set_ok(doc.clone(), "l.4", json!("e")),
            json!({"l": ["a", "b", null, null, "e"]})
        );
        // A forced key finds an existing item, but cannot create one.
        assert_eq!(
            set_ok(doc.clone(), "l.:1", json!("y")),
            json!({"l": ["a", "y"]})
        );
        assert_eq!(
            apply(doc.clone(), PatchOp::Set, "l.:5", json!(1)).unwrap_err(),
            "cannot set array element for non-numeric key '5'"
        );
        assert_eq!(
            apply(doc.clone(), PatchOp::Set, "l.x", json!(1)).unwrap_err(),
            "cannot set array element for non-numeric key 'x'"
        );
        assert!(apply(doc, PatchOp::Set, "l.99999999", json!(1))
            .unwrap_err()
            .contains("past the end"));
        // A list at the root (the k8s manifests).
        assert_eq!(
            set_ok(json!([{"kind": "A"}]), "0.spec.replicas", json!(3)),
            json!([{"kind": "A", "spec": {"replicas": 3}}])
        );
        assert_eq!(
            set_ok(json!([{"kind": "A"}]), "-1", json!({"kind": "B"})),
            json!([{"kind": "A"}, {"kind": "B"}])
        );
    }

    #[test]
    fn set_through_a_scalar_replaces_it() {
        assert_eq!(
            set_ok(json!({"a": 5}), "a.b", json!(1)),
            json!({"a": {"b": 1}})
        );
        assert_eq!(
            set_ok(json!({"a": null}), "a.1", json!(1)),
            json!({"a": [null, 1]})
        );
        // sjson replaces a scalar by a map for `-1` (it is not a number), but builds a list for a
        // missing level: both kept.
        assert_eq!(
            set_ok(json!({"a": "s"}), "a.-1", json!(1)),
            json!({"a": {"-1": 1}})
        );
    }

    #[test]
    fn delete_removes_and_ignores_missing_paths() {
        let doc = json!({"a": {"b": 1, "c": [1, 2, 3]}, "d": 4});
        assert_eq!(
            del_ok(doc.clone(), "a.b"),
            json!({"a": {"c": [1, 2, 3]}, "d": 4})
        );
        assert_eq!(
            del_ok(doc.clone(), "a.c.1"),
            json!({"a": {"b": 1, "c": [1, 3]}, "d": 4})
        );
        assert_eq!(
            del_ok(doc.clone(), "a.c.-1"),
            json!({"a": {"b": 1, "c": [1, 2]}, "d": 4})
        );
        // Order of the remaining keys is kept.
        assert_eq!(
            del_ok(json!({"x": 1, "y": 2, "z": 3}), "x"),
            json!({"y": 2, "z": 3})
        );
        assert_eq!(
            serde_json::to_string(&del_ok(json!({"x": 1, "y": 2, "z": 3}), "x")).unwrap(),
            r#"{"y":2,"z":3}"#
        );
        for missing in ["nope", "a.nope.x", "a.c.9", "d.x", "a.c.x", "a.b.c"] {
            assert_eq!(del_ok(doc.clone(), missing), doc, "{missing}");
        }
        assert_eq!(del_ok(json!({"l": []}), "l.-1"), json!({"l": []}));
        assert_eq!(del_ok(json!([{"a": 1}, {"b": 2}]), "0"), json!([{"b": 2}]));
        assert_eq!(
            del_ok(json!({"a.b": 1, "a": {"b": 2}}), "a\\.b"),
            json!({"a": {"b": 2}})
        );
    }

    #[test]
    fn operations_parse_from_yaml_with_their_rules() {
        let ops = parse_patch_operations(
            "t",
            "\n  \n- op: set\n  path: 0.spec.replicas\n  value: 3.0\n  description: scale\n- op: delete\n  path: 1\n",
        )
        .unwrap();
        assert_eq!(ops.len(), 2);
        assert_eq!(ops[0].op, PatchOp::Set);
        assert_eq!(ops[0].path, "0.spec.replicas");
        assert_eq!(ops[0].value, json!(3));
        assert_eq!(ops[0].description.as_deref(), Some("scale"));
        assert_eq!((ops[1].op, ops[1].path.as_str()), (PatchOp::Delete, "1"));
        // A number-looking path keeps its text.
        assert_eq!(
            parse_patch_operations("t", "- op: delete\n  path: 1.10\n").unwrap()[0].path,
            "1.10"
        );
        assert!(parse_patch_operations("t", "").unwrap().is_empty());
        assert!(parse_patch_operations("t", "  \n# nothing\n")
            .unwrap()
            .is_empty());
        assert!(parse_patch_operations("t", "null\n").unwrap().is_empty());
        assert!(parse_patch_operations("t", "[]").unwrap().is_empty());

        let e = parse_patch_operations("t.tpl", "- op: set\n  patch: a.b\n").unwrap_err();
        assert_eq!(e.code, Code::PatchInvalidOperations);
        assert!(e.message.contains("unknown key 'patch'"), "{}", e.message);
        assert_eq!(e.location(), "t.tpl (rendered):2:3");
        let e = parse_patch_operations("t", "- op: merge\n  path: a\n").unwrap_err();
        assert!(
            e.message.contains("unknown operation 'merge'"),
            "{}",
            e.message
        );
        let e = parse_patch_operations("t", "op: set\n").unwrap_err();
        assert!(e.message.contains("must be a list"), "{}", e.message);
        let e = parse_patch_operations("t", "- x\n").unwrap_err();
        assert!(
            e.message.contains("operation 1 must be a mapping"),
            "{}",
            e.message
        );
        let e = parse_patch_operations("t", "- op: set\n  path: [a]\n").unwrap_err();
        assert!(
            e.message.contains("'path' must be a string"),
            "{}",
            e.message
        );
        let e = parse_patch_operations("t", "- op: set\n  path: a: b: c\n").unwrap_err();
        assert!(e.message.contains("rendered invalid YAML"), "{}", e.message);
        // One YAML document only.
        let e = parse_patch_operations(
            "t",
            "- op: delete\n  path: a\n---\n- op: delete\n  path: b\n",
        )
        .unwrap_err();
        assert_eq!(e.code, Code::PatchInvalidOperations);
    }

    #[test]
    fn apply_errors_name_the_template_the_operation_and_the_path() {
        let ops = parse_patch_operations(
            "p.tpl",
            "- op: set\n  path: l.0\n  value: 1\n- op: set\n  path: l.x\n  value: 2\n",
        )
        .unwrap();
        let mut doc = json!({"l": []});
        let e = apply_patch_operations("p.tpl", &ops, &mut doc).unwrap_err();
        assert_eq!(e.code, Code::PatchApplyFailed);
        assert_eq!(
            e.message,
            "patch template 'p.tpl': operation 2 (set 'l.x'): cannot set array element for non-numeric key 'x'"
        );
        assert_eq!(e.location(), "p.tpl (rendered):5:9");
        let e = apply_patch_operations(
            "p.tpl",
            &[PatchOperation::new(PatchOp::Set, "", json!(1))],
            &mut doc,
        )
        .unwrap_err();
        assert!(e.message.ends_with("path cannot be empty"), "{}", e.message);
    }

    fn project() -> ResolvedProject {
        ResolvedProject {
            workloads: Vec::new(),
            resources: Default::default(),
            shared_state: Map::new(),
        }
    }

    #[test]
    fn templates_render_with_the_tools_data_and_apply_in_order() {
        let templates = [
            PatchTemplate {
                origin: "one".into(),
                text: "{{ range $name, $svc := .Doc.services }}\n- op: set\n  path: services.{{ $name }}.read_only\n  value: true\n{{ end }}".into(),
            },
            // The second template sees the first one's result.
            PatchTemplate {
                origin: "two".into(),
                text: "{{ if .Doc.services.web.read_only }}- op: delete\n  path: services.web.image{{ end }}\n".into(),
            },
        ];
        let mut doc = json!({"services": {"web": {"image": "nginx"}}});
        apply_patch_templates(&templates, &doc_dialect(), &project(), &mut doc).unwrap();
        assert_eq!(doc, json!({"services": {"web": {"read_only": true}}}));

        let objects = PatchDialect::new("Objects", &["Objects", "Workloads", "Namespace"])
            .with_field("Namespace", "shop");
        let t = PatchTemplate {
            origin: "ns".into(),
            text: "{{ range $i, $m := .Objects }}- op: set\n  path: {{ $i }}.metadata.namespace\n  value: {{ $.Namespace }}\n{{ end }}".into(),
        };
        let mut docs = json!([{"kind": "A", "metadata": {"name": "a"}}, {"kind": "B", "metadata": {"name": "b"}}]);
        apply_patch_templates(std::slice::from_ref(&t), &objects, &project(), &mut docs).unwrap();
        assert_eq!(docs[1]["metadata"]["namespace"], "shop");
        // A field the dialect does not have is Go's error; the substitution function exists
        // only when the dialect names it.
        let t = PatchTemplate {
            origin: "x".into(),
            text: "{{ .Namespace }}".into(),
        };
        let d = apply_patch_templates(
            std::slice::from_ref(&t),
            &doc_dialect(),
            &project(),
            &mut doc,
        )
        .unwrap_err();
        assert!(d.0[0].message.contains("Namespace"), "{}", d.0[0].message);
        assert!(d.0[0]
            .help
            .as_deref()
            .unwrap()
            .contains("(.Doc, .Workloads)"));
        let t = PatchTemplate {
            origin: "s".into(),
            text: "{{ substOf \"w\" \"v\" }}".into(),
        };
        assert!(check_patch_template(&t, &objects).is_err());
        check_patch_template(&t, &objects.clone().with_substitute_function("substOf")).unwrap();
    }

    fn doc_dialect() -> PatchDialect {
        PatchDialect::new("Doc", &["Doc", "Workloads"])
    }

    #[test]
    fn template_errors_point_into_the_template() {
        let bad = PatchTemplate {
            origin: "bad.tpl".into(),
            text: "- op: set\n  path: {{ if }}\n".into(),
        };
        let e = check_patch_template(&bad, &doc_dialect()).unwrap_err();
        assert_eq!(e.code, Code::PatchTemplateSyntax);
        assert!(
            e.message.starts_with("patch template 'bad.tpl': "),
            "{}",
            e.message
        );
        assert_eq!(e.location(), "bad.tpl:2:17");
        let mut doc = json!({});
        let d = apply_patch_templates(&[bad], &doc_dialect(), &project(), &mut doc).unwrap_err();
        assert_eq!(d.0[0].code, Code::PatchTemplateSyntax);
    }
}
