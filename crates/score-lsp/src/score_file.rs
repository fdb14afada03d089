//! Score files: diagnostics (validate's, the project's, provisioner coverage), completion,
//! hover and go to definition.

use std::collections::BTreeMap;
use std::path::Path;
use std::sync::Arc;

use serde_json::{json, Value};

use score_core::input::Document;
use score_core::project::{check_project, WorkloadInput};
use score_core::provision::Provisioner;
use score_core::target::ResourceUid;
use score_core::{load_workload, Code, Diagnostic, LoadOptions, LoadedWorkload};

use crate::project::{outputs_of, uri_to_path, Kind, Project};
use crate::schema;
use crate::text::LineIndex;
use crate::yamlpath::{self, Seg};
use crate::Doc;

/// The front half's verdict on one Score file's text.
#[derive(Debug)]
pub struct Analysis {
    result: Result<LoadedWorkload, Vec<Diagnostic>>,
}

impl Analysis {
    /// Loads `text` as `score-gen validate` does.
    pub fn new(uri: &str, text: &str, root: Option<&Path>) -> Self {
        Analysis {
            result: load(uri, text, root),
        }
    }
}

fn load(uri: &str, text: &str, _root: Option<&Path>) -> Result<LoadedWorkload, Vec<Diagnostic>> {
    // `files[].source` is read relative to the Score file's folder, confined to it, as
    // `validate` reads it (an unsaved buffer has no folder: such a source is an error).
    let sources = uri_to_path(uri)
        .and_then(|p| p.parent().map(Path::to_path_buf))
        .map(|dir| {
            Arc::new(score_core::host::FsSources::new(dir))
                as Arc<dyn score_core::input::SourceReader>
        });
    let opts = LoadOptions {
        sources,
        ..LoadOptions::default()
    };
    load_workload(uri, text.as_bytes(), &opts).map_err(|d| d.0)
}

/// The diagnostics `score-gen validate` gives for this text (the file named by its URI).
pub fn validate(uri: &str, text: &str, root: Option<&Path>) -> Vec<Diagnostic> {
    load(uri, text, root).err().unwrap_or_default()
}

/// Every open Score file's diagnostics, each with its LSP severity (1 error, 2 warning): the
/// file's own (validate's), the project's across the files that load, and a warning for a
/// resource no provisioner serves (what `generate` would stop at).
pub fn project_diagnostics(
    docs: &BTreeMap<String, Doc>,
    project: &Project,
) -> BTreeMap<String, Vec<(Diagnostic, u8)>> {
    let mut out: BTreeMap<String, Vec<(Diagnostic, u8)>> = BTreeMap::new();
    let mut inputs = Vec::new();
    for (uri, doc) in docs {
        if doc.kind != Kind::Score {
            continue;
        }
        let entry = out.entry(uri.clone()).or_default();
        match doc.analysis.as_ref().map(|a| &a.result) {
            Some(Ok(loaded)) => inputs.push(WorkloadInput {
                loaded: loaded.clone(),
                file: Some(uri.clone()),
            }),
            Some(Err(diags)) => entry.extend(diags.iter().cloned().map(|d| (d, 1))),
            None => {}
        }
    }
    if let Err(diags) = check_project(&inputs) {
        for d in diags {
            let file = d.file.as_ref().map(|f| f.name.clone());
            if let Some(list) = file.and_then(|f| out.get_mut(&f)) {
                list.push((d, 1));
            }
        }
    }
    for w in &inputs {
        let Some(uri) = &w.file else { continue };
        let workload = &w.loaded.workload;
        for (name, res) in &workload.resources {
            let uid = ResourceUid::new(
                workload.name(),
                name,
                &res.kind,
                res.class.as_deref(),
                res.id.as_deref(),
            );
            if project.set.find(&uid).is_some() {
                continue;
            }
            let template = project.set.no_match_error(&uid);
            let pointer = format!("/resources/{}/type", escape(name));
            let mut d =
                w.loaded
                    .document
                    .diagnostic(Code::ProvisionNoMatch, &pointer, template.message);
            if let Some(h) = template.help {
                d = d.with_help(format!("{h} (target {})", project.target));
            }
            if let Some(list) = out.get_mut(uri) {
                list.push((d, 2));
            }
        }
    }
    out
}

fn escape(s: &str) -> String {
    s.replace('~', "~0").replace('/', "~1")
}

/// The document's value for completion and hover: the text parsed, else the text with the
/// cursor's line removed (the line being typed is the usual reason it does not parse).
fn value_of(text: &str, index: &LineIndex, line: usize) -> Option<Document> {
    if let Ok(d) = score_core::parse_document("score.yaml", text) {
        return Some(d);
    }
    let start = index.line_start(line)?;
    let end = index.line_end(text, line);
    let mut t = text.to_string();
    t.replace_range(start..end, "");
    score_core::parse_document("score.yaml", &t).ok()
}

/// The workload name and the resource `name`'s uid, read from a parsed value.
fn uid_of(value: &Value, name: &str) -> Option<ResourceUid> {
    let res = value.get("resources")?.get(name)?;
    let workload = value["metadata"]["name"].as_str().unwrap_or("");
    Some(ResourceUid::new(
        workload,
        name,
        res.get("type")?.as_str()?,
        res.get("class").and_then(Value::as_str),
        res.get("id").and_then(Value::as_str),
    ))
}

/// The `${` reference being typed or under the cursor on this line: (start of its text, its
/// text up to `end`). `closed_ok`: also a finished `${...}` around the cursor.
fn placeholder_at(line: &str, col: usize, closed_ok: bool) -> Option<(usize, &str)> {
    let open = line[..col].rfind("${")?;
    let inner = open + 2;
    if let Some(close) = line[inner..].find('}') {
        let close = inner + close;
        if close < col {
            return None;
        }
        if closed_ok {
            return Some((inner, &line[inner..close]));
        }
    }
    Some((inner, &line[inner..col]))
}

fn item(label: &str, kind: u8, detail: Option<String>, doc: Option<&str>, edit: Value) -> Value {
    let mut v = json!({"label": label, "kind": kind, "textEdit": edit});
    if let Some(d) = detail {
        v["detail"] = json!(d);
    }
    if let Some(d) = doc {
        v["documentation"] = json!({"kind": "markdown", "value": d});
    }
    v
}

// LSP CompletionItemKind values.
const KIND_PROPERTY: u8 = 10;
const KIND_VALUE: u8 = 12;
const KIND_ENUM_MEMBER: u8 = 20;
const KIND_MODULE: u8 = 9;
const KIND_VARIABLE: u8 = 6;

/// Completion items at byte `offset`.
pub fn completion(text: &str, index: &LineIndex, offset: usize, project: &Project) -> Vec<Value> {
    let pos = index.position(text, offset);
    let line_no = pos.line as usize;
    let line = index.line(text, line_no);
    let Some(line_start) = index.line_start(line_no) else {
        return Vec::new();
    };
    let col = crate::text::floor_boundary(line, offset.saturating_sub(line_start));
    let doc = value_of(text, index, line_no);
    let value = doc.as_ref().map(|d| &d.value).unwrap_or(&Value::Null);
    let range_from = |start_col: usize| index.range(text, line_start + start_col, col - start_col);

    // 1. A placeholder being typed.
    if let Some((inner, typed)) = placeholder_at(line, col, false) {
        let seg_start = inner + typed.rfind('.').map_or(0, |i| i + 1);
        let edit = |label: &str| json!({"range": range_from(seg_start), "newText": label});
        let parts: Vec<&str> = typed.split('.').collect();
        let mut out = Vec::new();
        match parts.as_slice() {
            [_] => {
                out.push(item(
                    "metadata",
                    KIND_MODULE,
                    Some("the workload's metadata".into()),
                    None,
                    edit("metadata"),
                ));
                out.push(item(
                    "resources",
                    KIND_MODULE,
                    Some("the workload's resources".into()),
                    None,
                    edit("resources"),
                ));
            }
            ["metadata", _] => {
                for (k, v) in value["metadata"].as_object().into_iter().flatten() {
                    let shown = if v.is_string() {
                        Some(format!("= {v}"))
                    } else {
                        None
                    };
                    out.push(item(k, KIND_PROPERTY, shown, None, edit(k)));
                }
            }
            ["resources", _] => {
                for (k, v) in value["resources"].as_object().into_iter().flatten() {
                    let t = v["type"].as_str().map(|t| format!("resource of type {t}"));
                    out.push(item(k, KIND_VARIABLE, t, None, edit(k)));
                }
            }
            ["resources", name, _] => {
                if let Some(p) = uid_of(value, name).and_then(|u| project.set.find(&u)) {
                    for (k, secret) in outputs_of(p) {
                        let detail = format!(
                            "output of {}{}",
                            p.uri,
                            if secret { " (secret)" } else { "" }
                        );
                        out.push(item(&k, KIND_VALUE, Some(detail), None, edit(&k)));
                    }
                }
            }
            _ => {}
        }
        return out;
    }

    let lines: Vec<&str> = (0..index.len()).map(|i| index.line(text, i)).collect();
    let cur = yamlpath::cursor(&lines, line_no, col);
    let prefix_start = col - cur.prefix.len();
    let edit = |new: &str| json!({"range": range_from(prefix_start), "newText": new});
    let keys = |p: &[Seg]| -> Vec<String> {
        p.iter()
            .map(|s| match s {
                Seg::Key(k) => k.clone(),
                Seg::Item => "-".into(),
            })
            .collect()
    };
    let parents = keys(&cur.parents);
    let mut out = Vec::new();
    if cur.in_key {
        // 2. `before:` keys are the workload's other containers.
        if parents.len() == 3 && parents[0] == "containers" && parents[2] == "before" {
            for k in value["containers"]
                .as_object()
                .into_iter()
                .flatten()
                .map(|m| m.0)
            {
                if *k != parents[1] {
                    out.push(item(
                        k,
                        KIND_VARIABLE,
                        Some("container".into()),
                        None,
                        edit(&format!("{k}:")),
                    ));
                }
            }
            return out;
        }
        // 3. Keys from the schema.
        if let Some(node) = schema::at(&cur.parents) {
            for (k, desc) in node.properties() {
                out.push(item(k, KIND_PROPERTY, None, desc, edit(&format!("{k}: "))));
            }
        }
        return out;
    }
    // 4. Values: resource types from the provisioners, enums from the schema.
    let Some(key) = cur.key.clone() else {
        return out;
    };
    if parents.len() == 2 && parents[0] == "resources" && key == "type" {
        let mut seen = Vec::new();
        for p in project.set.iter() {
            if seen.contains(&p.kind) {
                continue;
            }
            seen.push(p.kind.clone());
            let doc = (!p.description.is_empty()).then_some(p.description.as_str());
            out.push(item(
                &p.kind,
                KIND_ENUM_MEMBER,
                Some(format!("provisioned by {}", p.uri)),
                doc,
                edit(&p.kind),
            ));
        }
        return out;
    }
    let mut path = cur.parents.clone();
    path.push(Seg::Key(key));
    if let Some(node) = schema::at(&path) {
        for v in node.enum_values() {
            out.push(item(&v, KIND_ENUM_MEMBER, None, None, edit(&v)));
        }
    }
    out
}

/// What a provisioner entry says about a resource, as Markdown (never an output's value).
fn resource_markdown(
    name: &str,
    uid: &ResourceUid,
    p: Option<&Provisioner>,
    target: &str,
) -> String {
    let mut s = format!("**resource `{name}`** — uid `{uid}`\n\n");
    match p {
        Some(p) => {
            s.push_str(&format!(
                "Provisioned by `{}` ({}",
                p.uri, p.source.file.name
            ));
            if !p.source.file.name.starts_with('<') {
                s.push_str(&format!(":{}", p.source.line));
            }
            s.push_str(&format!(") for target `{target}`.\n\n"));
            if !p.description.is_empty() {
                s.push_str(&p.description);
                s.push_str("\n\n");
            }
            let outs = outputs_of(p);
            if !outs.is_empty() {
                s.push_str("Outputs: ");
                let list: Vec<String> = outs
                    .iter()
                    .map(|(k, secret)| {
                        if *secret {
                            format!("`{k}` (secret)")
                        } else {
                            format!("`{k}`")
                        }
                    })
                    .collect();
                s.push_str(&list.join(", "));
            }
        }
        None => s.push_str(&format!(
            "No provisioner of target `{target}` serves this resource."
        )),
    }
    s
}

/// Hover at `offset`: Markdown and the byte range it is about.
pub fn hover(
    text: &str,
    index: &LineIndex,
    offset: usize,
    project: &Project,
) -> Option<(String, (usize, usize))> {
    let pos = index.position(text, offset);
    let line_no = pos.line as usize;
    let line = index.line(text, line_no);
    let line_start = index.line_start(line_no)?;
    let col = crate::text::floor_boundary(line, offset.saturating_sub(line_start));
    let doc = value_of(text, index, line_no);
    let value = doc.as_ref().map(|d| &d.value).unwrap_or(&Value::Null);
    if let Some((inner, reference)) = placeholder_at(line, col, true) {
        let parts: Vec<&str> = reference.split('.').collect();
        let range = (line_start + inner - 2, reference.len() + 3);
        if parts.len() >= 2 && parts[0] == "resources" {
            let uid = uid_of(value, parts[1])?;
            let p = project.set.find(&uid);
            return Some((resource_markdown(parts[1], &uid, p, &project.target), range));
        }
        if parts[0] == "metadata" {
            return Some((
                format!(
                    "The workload's metadata key `{}`.",
                    parts.get(1).unwrap_or(&"")
                ),
                range,
            ));
        }
        return None;
    }
    let lines: Vec<&str> = (0..index.len()).map(|i| index.line(text, i)).collect();
    let cur = yamlpath::cursor(&lines, line_no, col);
    let key = cur.key.clone()?;
    let key_col = line.find(key.as_str())?;
    let key_range = (line_start + key_col, key.len());
    let on_key = col >= key_col && col <= key_col + key.len();
    let parents: Vec<&str> = cur
        .parents
        .iter()
        .map(|s| match s {
            Seg::Key(k) => k.as_str(),
            Seg::Item => "-",
        })
        .collect();
    // A resource: its key, or its `type` line.
    let resource = match parents.as_slice() {
        ["resources"] => Some(key.as_str()),
        ["resources", name] if key == "type" => Some(*name),
        _ => None,
    };
    if let Some(name) = resource
        && let Some(uid) = uid_of(value, name)
    {
        let p = project.set.find(&uid);
        let range = if on_key {
            key_range
        } else {
            (line_start, line.len())
        };
        return Some((resource_markdown(name, &uid, p, &project.target), range));
    }
    if !on_key {
        return None;
    }
    let mut path = cur.parents.clone();
    path.push(Seg::Key(key.clone()));
    let desc = schema::at(&path)?.description()?;
    Some((format!("**{key}**\n\n{desc}"), key_range))
}

/// Go to definition: a placeholder's resource, or the provisioner entry serving a resource
/// type (only for entries in files: the target's built-in defaults have no file to open).
pub fn definition(
    uri: &str,
    text: &str,
    index: &LineIndex,
    offset: usize,
    project: &Project,
    docs: &BTreeMap<String, Doc>,
) -> Option<Value> {
    let pos = index.position(text, offset);
    let line_no = pos.line as usize;
    let line = index.line(text, line_no);
    let line_start = index.line_start(line_no)?;
    let col = crate::text::floor_boundary(line, offset.saturating_sub(line_start));
    let doc = value_of(text, index, line_no)?;
    if let Some((_, reference)) = placeholder_at(line, col, true) {
        let parts: Vec<&str> = reference.split('.').collect();
        if parts.len() >= 2 && parts[0] == "resources" {
            let span = doc.spans.key(&format!("/resources/{}", escape(parts[1])))?;
            return Some(json!({"uri": uri, "range": index.range(text, span.offset, span.len)}));
        }
        return None;
    }
    let lines: Vec<&str> = (0..index.len()).map(|i| index.line(text, i)).collect();
    let cur = yamlpath::cursor(&lines, line_no, col);
    let name = match (cur.parents.as_slice(), cur.key.as_deref()) {
        ([Seg::Key(r), Seg::Key(name)], Some("type")) if r == "resources" => name.clone(),
        ([Seg::Key(r)], Some(name)) if r == "resources" => name.to_string(),
        _ => return None,
    };
    let uid = uid_of(&doc.value, &name)?;
    let p = project.set.find(&uid)?;
    let file = &p.source.file.name;
    if file.starts_with('<') {
        return None;
    }
    let line = p.source.line.saturating_sub(1) as u32;
    // The entry's line in the open buffer, or on disk.
    let _ = docs;
    Some(
        json!({"uri": file, "range": {"start": {"line": line, "character": 0}, "end": {"line": line, "character": 0}}}),
    )
}
