//! Fuzz checks for score-core, shared by the cargo-fuzz targets (`fuzz_targets/`, nightly +
//! libFuzzer) and the stable mutation loops (`src/bin/fuzz_*.rs`, [`driver`]).
//!
//! Each `check_*` takes arbitrary bytes and returns `Err(finding)` when an invariant breaks; a
//! panic inside score-core is a finding too (libFuzzer catches it; the stable driver uses
//! `catch_unwind`). "Returns an error" is never a finding: rejecting garbage is the job.

use std::collections::BTreeMap;
use std::sync::Arc;

use score_core::diag::SourceFile;
use score_core::input::Limits;
use score_core::load::yaml;
use score_core::provision::placeholder::{self, Token};
use score_core::provision::substitute::{self, Context, OutputLookup, Unescape};
use score_core::provision::{self, ProvisionInput};
use score_core::target::ResourceUid;
use score_core::target::{Found, Outputs};
use score_core::{load_workload, LoadOptions};
use score_core::{Code, Diagnostic};
use score_core::{ProvisionOptions, ProvisionerSet};
use serde_json::json;

pub mod driver;

/// Counts live heap bytes so the stable loops can report an input that would exhaust memory
/// (the cap is armed only by [`driver::main`]).
#[global_allocator]
static ALLOC: driver::CappedAlloc = driver::CappedAlloc;

/// Every diagnostic (and related note) has a span inside its file, and renders with miette
/// exactly as the CLI renders it (a span out of bounds would lose the snippet).
fn check_diagnostic(d: &Diagnostic) -> Result<(), String> {
    if let (Some(f), Some(s)) = (&d.file, &d.span) {
        let end = s.offset.checked_add(s.len);
        if end.is_none_or(|e| e > f.text.len()) || s.line == 0 || s.column == 0 {
            return Err(format!(
                "span {s:?} outside {} ({} bytes) for: {}",
                f.name,
                f.text.len(),
                d.message
            ));
        }
        if !f.text.is_char_boundary(s.offset) {
            return Err(format!(
                "span offset {} is not a char boundary: {}",
                s.offset, d.message
            ));
        }
    }
    let handler =
        miette::GraphicalReportHandler::new_themed(miette::GraphicalTheme::unicode_nocolor())
            .with_width(100);
    let mut out = String::new();
    handler
        .render_report(&mut out, d)
        .map_err(|e| format!("miette cannot render `{}`: {e}", d.message))?;
    // Exact match: user text echoed in other messages may contain these words.
    if d.code == Code::Internal && d.message == "the YAML parser failed unexpectedly" {
        // load.rs turns a panic on its parser thread into this diagnostic.
        return Err(format!("parser thread panicked: {}", d.message));
    }
    for r in &d.related {
        check_diagnostic(r)?;
    }
    Ok(())
}

/// `yaml::parse` on arbitrary bytes, then the whole front half (`load_workload`: overrides,
/// upgrade, schema, extra rules, model) when it parses. Tight limits keep each run fast.
pub fn check_load(data: &[u8]) -> Result<(), String> {
    let limits = Limits {
        max_bytes: 64 * 1024,
        max_nodes: 20_000,
        max_alias_replayed_events: 20_000,
        ..Limits::default()
    };
    let source = Arc::new(SourceFile::new("fuzz.yaml", String::from_utf8_lossy(data)));
    match yaml::parse(source, data, &limits) {
        Err(d) => check_diagnostic(&d),
        Ok(doc) => {
            if !doc.value.is_object() {
                return Err("parse returned a non-mapping document".into());
            }
            let opts = LoadOptions {
                limits,
                ..LoadOptions::default()
            };
            match load_workload("fuzz.yaml", data, &opts) {
                Ok(_) => Ok(()),
                Err(ds) => ds.iter().try_for_each(check_diagnostic),
            }
        }
    }
}

/// The placeholder tokenizer and substitution on an arbitrary string:
/// - tokens cover the input exactly, in order, and references are `${…}` at their offsets;
/// - substituting every reference with itself and keeping escapes gives the input back;
/// - a real context (metadata + one resource) resolves or errors, never panics.
pub fn check_substitute(data: &[u8]) -> Result<(), String> {
    let s = String::from_utf8_lossy(data);
    let s = s.as_ref();
    let mut rebuilt = String::with_capacity(s.len());
    for tok in placeholder::tokenize(s) {
        match tok {
            Token::Literal(t) | Token::Escape(t) => rebuilt.push_str(t),
            Token::Reference {
                reference,
                start,
                end,
            } => {
                let whole = s
                    .get(start..end)
                    .ok_or_else(|| format!("reference range {start}..{end} not in {s:?}"))?;
                if whole != format!("${{{reference}}}") {
                    return Err(format!(
                        "reference {reference:?} at {start}..{end} is {whole:?}"
                    ));
                }
                if start != rebuilt.len() {
                    return Err(format!("reference at {start}, expected {}", rebuilt.len()));
                }
                let _ = placeholder::split_ref_parts(reference);
                rebuilt.push_str(whole);
            }
        }
    }
    if rebuilt != s {
        return Err(format!("tokens rebuild {rebuilt:?}, input {s:?}"));
    }
    let same = substitute::substitute(s, |r| Ok(Found::plain(format!("${{{r}}}"))), Unescape::Keep)
        .map_err(|e| format!("identity substitution failed: {e}"))?;
    if same.to_plain() != s {
        return Err(format!("identity substitution gave {:?}", same.to_plain()));
    }
    let _ = substitute::substitute_string(s, |r| Ok(r.to_uppercase()));
    let _ = placeholder::references(s).count();

    let metadata = json!({"name": "fuzz", "annotations": {"a.b/c": "x"}, "n": 1});
    let db = Outputs::new(
        "postgres.default#fuzz.db",
        json!({"host": "pg", "port": 5432, "nested": {"k": [1, {"z": null}]}, "password": "p"}),
    )
    .with_secret("password");
    let mut resources: BTreeMap<String, &dyn OutputLookup> = BTreeMap::new();
    resources.insert("db".into(), &db);
    let ctx = Context {
        metadata: metadata.as_object().ok_or("metadata")?,
        resources,
    };
    let _ = ctx.substitute(s);
    let _ = substitute::substitute_value(&json!({"k": s, "l": [s]}), &ctx);
    Ok(())
}

/// A provisioner entry whose `state`, `outputs` and a compose section are arbitrary template
/// text (the input split at NUL bytes): loading compiles the templates, provisioning renders them
/// under a small fuel budget. Load and render errors are fine; panics, hangs and diagnostics with
/// bad spans are not.
pub fn check_template(data: &[u8]) -> Result<(), String> {
    let text = String::from_utf8_lossy(data);
    let mut parts = text.split('\0');
    let outputs = parts.next().unwrap_or("");
    let state = parts.next();
    let section = parts.next();
    let mut entry = serde_json::Map::new();
    entry.insert("uri".into(), json!("template://fuzz/t"));
    // Both dialects: an odd first byte makes the sections Go templates.
    let engine = if data.first().is_some_and(|b| b & 1 == 1) {
        "gotemplate"
    } else {
        "minijinja"
    };
    entry.insert("engine".into(), json!(engine));
    entry.insert("type".into(), json!("fuzz"));
    entry.insert("outputs".into(), json!(outputs));
    if let Some(st) = state {
        entry.insert("state".into(), json!(st));
    }
    if let Some(sec) = section {
        entry.insert("compose".into(), json!({ "services": sec }));
    }
    // JSON is YAML, and serde_json escapes whatever the input holds.
    let file = serde_json::to_string_pretty(&json!([entry])).map_err(|e| e.to_string())?;
    let set = match ProvisionerSet::load(&[score_core::input::ProvisionerFile::new(
        "fuzz.provisioners.yaml",
        file,
    )]) {
        Ok(set) => set,
        Err(d) => return check_diagnostic(&d),
    };
    let uid = ResourceUid::new("wl", "res", "fuzz", None, None);
    let Some(p) = set.find(&uid) else {
        return Err("the loaded entry does not match its own type".into());
    };
    let mut input = ProvisionInput::new(uid, "fuzz-seed");
    input.params = json!({"version": "16", "list": [1, 2], "map": {"a": "b"}})
        .as_object()
        .cloned()
        .unwrap_or_default();
    input.state = json!({"password": "x"})
        .as_object()
        .cloned()
        .unwrap_or_default();
    input.requested_outputs = vec!["host".into()];
    let opts = ProvisionOptions {
        fuel: 50_000,
        ..ProvisionOptions::default()
    };
    match provision::provision(p, &input, "compose", &opts) {
        Ok(_) => Ok(()),
        Err(d) => check_diagnostic(&d),
    }
}

/// The diagnostic renderer on arbitrary text, as the CLI renders: a span chosen from the input's
/// first bytes, and (when the first byte is odd) the text made one line wider than 65,535
/// columns, as a minified JSON file is. Never a panic, the header names the span's real
/// line:column, and no control character (a terminal escape) reaches the output.
pub fn check_render(data: &[u8]) -> Result<(), String> {
    let (head, rest) = data.split_at(data.len().min(4));
    let mut text = String::from_utf8_lossy(rest).into_owned();
    if head.first().is_some_and(|b| b % 2 == 1) {
        let line: String = text.replace(['\n', '\r'], " ");
        text = line.repeat(70_000 / line.len().max(1) + 1);
    }
    let pick = |i: usize| head.get(i).copied().unwrap_or(0) as usize;
    let mut offset = (pick(1) * 997 + pick(2) * 65_537) % (text.len() + 1);
    while !text.is_char_boundary(offset) {
        offset -= 1;
    }
    let mut end = (offset + pick(3) * 31).min(text.len());
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    let file = Arc::new(SourceFile::new("fuzz.json", text));
    let (line, column) = file.line_col(offset);
    let d = Diagnostic::new(Code::SchemaViolation, "a problem")
        .with_file(file.clone())
        .with_span(score_core::diag::Span::new(
            offset,
            end - offset,
            line,
            column,
        ));
    let handler =
        miette::GraphicalReportHandler::new_themed(miette::GraphicalTheme::unicode_nocolor())
            .with_width(100);
    let mut out = String::new();
    handler
        .render_report(&mut out, &d)
        .map_err(|e| format!("miette cannot render: {e}"))?;
    if let Some(c) = out.chars().find(|c| c.is_control() && *c != '\n') {
        return Err(format!("control character {c:?} in the rendered snippet"));
    }
    let header = format!("fuzz.json:{line}:{column}]");
    if !out.contains(&header) {
        return Err(format!("header {header} missing from:\n{out}"));
    }
    Ok(())
}

/// The state reader on arbitrary text: an error is a diagnostic with a good span, never a panic;
/// a state it accepts writes back to text it reads as the same state, and each workload it
/// stores (the additive project's shape: `workloads.<name>.spec`) loads as the CLI loads it,
/// without a panic and with good diagnostics.
pub fn check_state(data: &[u8]) -> Result<(), String> {
    let text = String::from_utf8_lossy(data);
    match score_core::State::from_yaml("state.yaml", &text) {
        Err(d) => check_diagnostic(&d),
        Ok(state) => {
            let again = state.to_yaml();
            let back = score_core::State::from_yaml("state.yaml", &again)
                .map_err(|d| format!("written state does not read back: {}", d.message))?;
            if back != state {
                return Err("state changed across to_yaml/from_yaml".into());
            }
            for (name, stored) in &state.workloads {
                let Some(spec) = stored.spec_yaml() else {
                    continue;
                };
                let label = format!("<workload '{name}' stored in state.yaml>");
                if let Err(ds) = load_workload(&label, spec.as_bytes(), &LoadOptions::default()) {
                    for d in &ds.0 {
                        check_diagnostic(d)?;
                    }
                }
            }
            Ok(())
        }
    }
}

/// Patch templates' operations: the text before the first NUL is a rendered template (a YAML
/// list of `{op, path, value}`), parsed and applied to a compose-shaped document; the bytes
/// after it build one more path, a segment repeated up to ~50,000 times (the depth that
/// overflowed the stack, issue 21). Never a panic or a stack overflow; errors are diagnostics
/// with good spans.
pub fn check_patch(data: &[u8]) -> Result<(), String> {
    use score_core::target::{
        apply_patch_operations, parse_patch_operations, PatchOp, PatchOperation,
    };
    let (ops_text, path_spec) = match data.iter().position(|b| *b == 0) {
        Some(i) => (&data[..i], Some(&data[i + 1..])),
        None => (data, None),
    };
    let doc = json!({
        "name": "p",
        "services": {"app-main": {"image": "nginx", "ports": [{"target": 80}], "environment": {"A": "1"}}},
        "volumes": {"v": {}},
    });
    let text = String::from_utf8_lossy(ops_text);
    match parse_patch_operations("fuzz.tpl", &text) {
        Err(d) => check_diagnostic(&d)?,
        Ok(ops) => {
            let mut patched = doc.clone();
            if let Err(d) = apply_patch_operations("fuzz.tpl", &ops, &mut patched) {
                check_diagnostic(&d)?;
            }
        }
    }
    if let Some(spec) = path_spec {
        let (count, segment) = match spec.split_first() {
            Some((n, rest)) => (usize::from(*n) * 200 + 1, String::from_utf8_lossy(rest)),
            None => (1, "a".into()),
        };
        // A short segment: the path's length is the count that matters, not its bytes.
        let segment: String = segment.chars().take(16).collect();
        let segment = if segment.is_empty() {
            "a".to_string()
        } else {
            segment
        };
        let path = vec![segment.as_str(); count].join(".");
        for op in [PatchOp::Set, PatchOp::Delete] {
            let mut patched = doc.clone();
            let ops = [PatchOperation::new(op, path.clone(), json!({"x": [1, 2]}))];
            if let Err(d) = apply_patch_operations("fuzz.tpl", &ops, &mut patched) {
                check_diagnostic(&d)?;
            }
        }
    }
    Ok(())
}
