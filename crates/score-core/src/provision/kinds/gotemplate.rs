//! `template://` entries in the Score ecosystem's Go-template format (score-compose's and
//! score-k8s's `template://` provisioners): sections compiled with the Go engine at load, and
//! rendered with the tools' `Data` for each resource.

use std::collections::BTreeMap;
use std::path::Path;
use std::sync::Arc;

use indexmap::IndexMap;
use serde_json::{Map, Value};

use super::{core_map, not_yaml, own_secrets, section_diag, ProvisionerKind, CORE_SECTIONS};
use crate::diag::{Code, Diagnostic};
use crate::provision::gotemplate::{self, GoError, GoFunction, GoTemplate};
use crate::provision::loader::{
    args_only_for_cmd, known_keys, known_keys_list, member, CommonFields, EntryCx, COMMON_KEYS,
};
use crate::provision::{
    merge_patch, template, ProvisionInput, ProvisionOptions, ProvisionOutput, ProvisionTarget,
    Provisioner,
};

/// The target sections the Score ecosystem's Go-template entries write at their top level (the
/// entry format of the ecosystem's provisioner files). The loader accepts exactly these, so a
/// misspelt key is an error whichever targets are linked; each target names the ones it reads
/// ([`crate::Target::ecosystem_sections`]), and a section no target of the run reads is
/// ignored. `info_logs` holds messages for the user, not a fragment.
pub(crate) const ECOSYSTEM_SECTIONS: [&str; 8] = [
    "services",
    "volumes",
    "networks",
    "models",
    "directories",
    "files",
    "info_logs",
    "manifests",
];

/// The ecosystem section whose rendered list holds messages for the user.
pub(crate) const MESSAGES_SECTION: &str = "info_logs";

/// The fields of the data every Go-template section sees (what the tools' `Data` structs have in
/// common, with score-k8s's `Guid` and `Namespace`); a target adds its own
/// ([`crate::Target::provisioner_fields`]). Any other `.Field` of the root is an error, as in Go.
pub(crate) static GO_DATA_FIELDS: [&str; 14] = [
    "Guid",
    "Uid",
    "Type",
    "Class",
    "Id",
    "Params",
    "Metadata",
    "Init",
    "State",
    "Shared",
    "SourceWorkload",
    "WorkloadMetadata",
    "WorkloadServices",
    "Namespace",
];

/// One compiled Go-template section and where its text starts in the file.
#[derive(Debug, Clone)]
pub(crate) struct GoSection {
    /// The text compiled with sprig and core's data fields (when it calls no other function).
    pub template: Arc<GoTemplate>,
    /// The text as compiled (trimmed), to place an error's line and column in the file.
    pub text: Arc<str>,
    /// 1-based line of the first template line in the file.
    pub first_line: usize,
    /// The functions the text calls that sprig lacks: a target must supply them.
    pub calls: Arc<[String]>,
    /// The text compiled for a target that adds functions or data fields, by the addresses of
    /// its `'static` declarations (the same for every render of that target).
    by_target: Arc<std::sync::Mutex<Vec<(TargetKey, Compiled)>>>,
}

/// The addresses of a target's function and field declarations.
type TargetKey = (usize, usize);

/// A section compiled for a target, or Go's parse error.
type Compiled = Result<Arc<GoTemplate>, GoError>;

/// Lists of data fields built so far, by the address of a target's declaration.
type FieldLists = std::sync::Mutex<Vec<(usize, &'static [&'static str])>>;

impl GoSection {
    /// The section compiled for a target with `functions` and data `fields`; Go's parse error
    /// when the text calls a function that neither sprig nor `functions` has.
    pub(crate) fn for_target(
        &self,
        functions: &'static [GoFunction],
        fields: &'static [crate::target::ProvisionerField],
    ) -> Result<Arc<GoTemplate>, GoError> {
        if fields.is_empty() && self.calls.is_empty() {
            return Ok(self.template.clone());
        }
        let key = (functions.as_ptr() as usize, fields.as_ptr() as usize);
        let mut compiled = self.by_target.lock().unwrap_or_else(|p| p.into_inner());
        if let Some((_, t)) = compiled.iter().find(|(k, _)| *k == key) {
            return t.clone();
        }
        let root: &'static [&'static str] = if fields.is_empty() {
            &GO_DATA_FIELDS
        } else {
            root_fields(fields)
        };
        // A function the target lacks fails to parse, as Go fails.
        let t = GoTemplate::parse(&self.text, &gotemplate::functions(functions), Some(root))
            .map(Arc::new);
        compiled.push((key, t.clone()));
        t
    }
}

/// Core's data fields and a target's, as one `'static` list (built once per target).
fn root_fields(fields: &'static [crate::target::ProvisionerField]) -> &'static [&'static str] {
    static NAMES: std::sync::OnceLock<FieldLists> = std::sync::OnceLock::new();
    let key = fields.as_ptr() as usize;
    let mut names = NAMES
        .get_or_init(Default::default)
        .lock()
        .unwrap_or_else(|p| p.into_inner());
    if let Some((_, n)) = names.iter().find(|(k, _)| *k == key) {
        return n;
    }
    // One short list per target declaration (bounded by the targets a program links): leaked,
    // since the engine takes a `'static` list.
    let n: &'static [&'static str] = Vec::leak(
        GO_DATA_FIELDS
            .iter()
            .copied()
            .chain(fields.iter().map(|f| f.go_field))
            .collect(),
    );
    names.push((key, n));
    n
}

/// The compiled sections of a Go-template entry.
#[derive(Debug, Clone)]
pub(crate) struct GoEntry {
    /// `init`, `state`, `shared`, `outputs` (those present).
    pub core: BTreeMap<String, GoSection>,
    /// The ecosystem's top-level sections ([`ECOSYSTEM_SECTIONS`]), in file order.
    pub ecosystem: IndexMap<String, GoSection>,
    /// target name → section name → template, in file order (nested `<target>:` mappings).
    pub targets: BTreeMap<String, IndexMap<String, GoSection>>,
}

impl ProvisionerKind for GoEntry {
    // Each section compiles on its own, straight into the entry.
    type Builder = GoEntry;

    const COMMON_KEYS: &'static [&'static str] = &COMMON_KEYS;

    fn start(
        _cx: &EntryCx<'_>,
        _pointer: &str,
        _fields: &Map<String, Value>,
        _common: &mut CommonFields,
    ) -> Result<GoEntry, Diagnostic> {
        Ok(GoEntry {
            core: BTreeMap::new(),
            ecosystem: IndexMap::new(),
            targets: BTreeMap::new(),
        })
    }

    fn read_key(
        g: &mut GoEntry,
        cx: &EntryCx<'_>,
        _common: &mut CommonFields,
        key: &str,
        at: &str,
        v: &Value,
    ) -> Result<(), Diagnostic> {
        match key {
            // Read by the loader, to choose this kind.
            "engine" => {}
            "args" => return Err(args_only_for_cmd(cx, at)),
            "init" | "state" | "shared" | "outputs" => {
                let s = cx.add_go_template(key, at, v)?;
                g.core.insert(key.to_string(), s);
            }
            section if ECOSYSTEM_SECTIONS.contains(&section) => {
                let s = cx.add_go_template(section, at, v)?;
                g.ecosystem.insert(section.to_string(), s);
            }
            target => {
                let m = cx.go_target_templates(target, at, v)?;
                g.targets.entry(target.to_string()).or_default().extend(m);
            }
        }
        Ok(())
    }

    fn finish(g: GoEntry, _cx: &EntryCx<'_>, _dir: Option<&Path>) -> Self {
        g
    }

    fn provision(
        &self,
        p: &Provisioner,
        input: &ProvisionInput,
        target: &ProvisionTarget<'_>,
        opts: &ProvisionOptions,
    ) -> Result<ProvisionOutput, Diagnostic> {
        render_go(p, self, input, target, opts)
    }
}

/// The data a Go-template section sees: score-compose's and score-k8s's `Data` structs in one
/// mapping with their Go field names (spec/provisioners.md, "Go-template entries"), held as the
/// engine's values so each section's render shares them (only `Init`, `State` and `Shared`
/// change between sections).
struct GoData(std::collections::BTreeMap<Arc<str>, gotemplate::Value>);

impl GoData {
    fn new(input: &ProvisionInput, fields: &[crate::target::ProvisionerField]) -> Self {
        let target = |key: &str| {
            input
                .target
                .get(key)
                .and_then(Value::as_str)
                .unwrap_or_default()
                .to_string()
        };
        let string = |s: String| gotemplate::Value::String(s.into());
        let object = |m: &Map<String, Value>| gotemplate::to_value(&Value::Object(m.clone()));
        let mut d = std::collections::BTreeMap::new();
        let mut put = |k: &str, v: gotemplate::Value| {
            d.insert(Arc::<str>::from(k), v);
        };
        put("Guid", string(input.guid()));
        put("Uid", string(input.uid.to_string()));
        put("Type", string(input.kind.clone()));
        put("Class", string(input.class.clone()));
        put("Id", string(input.id.clone()));
        put("Params", object(&input.params));
        put("Metadata", object(&input.metadata));
        put("Init", object(&Map::new()));
        put("State", object(&input.state));
        put("Shared", object(&input.shared));
        put("SourceWorkload", string(input.source_workload.clone()));
        put("WorkloadMetadata", object(&input.workload_metadata));
        put(
            "WorkloadServices",
            go_workload_services(&input.workload_services),
        );
        put("Namespace", string(target("namespace")));
        for f in fields {
            put(f.go_field, string(target(f.context_key)));
        }
        GoData(d)
    }

    fn set(&mut self, key: &str, value: &Value) {
        self.0.insert(Arc::from(key), gotemplate::to_value(value));
    }

    fn value(&self) -> gotemplate::Value {
        gotemplate::Value::Map(Arc::new(self.0.clone()))
    }
}

/// `workload_services` with the Go field names of the tools' `NetworkService` and `ServicePort`,
/// as the engine's value. The map is the same for every resource of a project and O(workloads)
/// large, so the last conversion is kept (per thread) and reused while the caller's `Arc` is the
/// same.
fn go_workload_services(services: &Arc<Value>) -> gotemplate::Value {
    thread_local! {
        static LAST: std::cell::RefCell<Option<(Arc<Value>, gotemplate::Value)>> =
            const { std::cell::RefCell::new(None) };
    }
    if let Some(v) = LAST.with(|l| {
        l.borrow()
            .as_ref()
            .filter(|(k, _)| Arc::ptr_eq(k, services))
            .map(|(_, v)| v.clone())
    }) {
        return v;
    }
    let rename = |v: &Value, names: &[(&str, &str)]| -> Map<String, Value> {
        let mut out = Map::new();
        if let Value::Object(m) = v {
            for (from, to) in names {
                if let Some(x) = m.get(*from) {
                    out.insert((*to).to_string(), x.clone());
                }
            }
        }
        out
    };
    let mut out = Map::new();
    if let Value::Object(m) = services.as_ref() {
        for (name, svc) in m {
            let mut s = rename(svc, &[("service_name", "ServiceName")]);
            let mut ports = Map::new();
            if let Some(Value::Object(ps)) = svc.get("ports") {
                for (pname, p) in ps {
                    let port = rename(
                        p,
                        &[
                            ("name", "Name"),
                            ("port", "Port"),
                            ("target_port", "TargetPort"),
                            ("protocol", "Protocol"),
                        ],
                    );
                    ports.insert(pname.clone(), Value::Object(port));
                }
            }
            s.insert("Ports".into(), Value::Object(ports));
            out.insert(name.clone(), Value::Object(s));
        }
    }
    // Go's typed map: a workload or port it lacks reads as the zero struct (spec/gotemplate.md).
    let v = gotemplate::network_services(&Value::Object(out));
    LAST.with(|l| *l.borrow_mut() = Some((services.clone(), v.clone())));
    v
}

/// Renders a Go-template entry as the ecosystem's tools do: `init`, `state`, `shared`,
/// `outputs`, then the current target's sections; a section without text leaves its result
/// empty (so an entry without `state` stores `{}`, like the tools).
fn render_go(
    p: &Provisioner,
    g: &GoEntry,
    input: &ProvisionInput,
    target: &ProvisionTarget<'_>,
    opts: &ProvisionOptions,
) -> Result<ProvisionOutput, Diagnostic> {
    let ProvisionTarget {
        name: target,
        ecosystem_sections,
        go_functions,
        fields,
        ..
    } = *target;
    let mut data = GoData::new(input, fields);
    let compiled = (go_functions, fields);
    let mut out = ProvisionOutput {
        shared_patch: Value::Object(Map::new()),
        ..ProvisionOutput::default()
    };
    for name in CORE_SECTIONS {
        let Some(section) = g.core.get(name) else {
            continue;
        };
        let value = render_go_section(p, section, name, &data, input, (target, compiled), opts)?;
        warn_no_value(p, section, name, input, value.as_ref(), &mut out.warnings);
        let map = core_map(value).map_err(|m| go_section_diag(p, section, name, m))?;
        match name {
            "init" => data.set("Init", &Value::Object(map)),
            "state" => {
                let state = Value::Object(map);
                data.set("State", &state);
                if let Value::Object(m) = state {
                    out.state = m;
                }
            }
            "shared" => {
                let patch = Value::Object(map);
                let mut merged = Value::Object(input.shared.clone());
                merge_patch(&mut merged, &patch);
                data.set("Shared", &merged);
                out.shared_patch = patch;
            }
            _ => out.outputs = map,
        }
    }
    if !g.core.contains_key("state") {
        // score-compose and score-k8s store what the state template gave: nothing.
        data.set("State", &Value::Object(Map::new()));
    }
    // The ecosystem's top-level sections the target reads, then its nested ones.
    let reads = |name: &str| ecosystem_sections.contains(&name);
    let ecosystem = g.ecosystem.iter().filter(|(name, _)| reads(name));
    let nested = g.targets.get(target).into_iter().flatten();
    for (name, section) in ecosystem.chain(nested) {
        let label = format!("{target}.{name}");
        let rendered =
            render_go_section(p, section, &label, &data, input, (target, compiled), opts)
                .map_err(|d| own_secrets(p, input, &out.outputs).scrub_diagnostic(d))?;
        let Some(v) = rendered else {
            continue;
        };
        warn_no_value(p, section, &label, input, Some(&v), &mut out.warnings);
        if name == MESSAGES_SECTION && reads(MESSAGES_SECTION) {
            out.info_logs = info_logs(p, section, &label, v)
                .map_err(|d| own_secrets(p, input, &out.outputs).scrub_diagnostic(d))?;
        } else {
            out.fragments.insert(name.clone(), v);
        }
    }
    Ok(out)
}

/// What a target adds to Go-template entries: its functions and its data fields.
type GoExtras = (
    &'static [gotemplate::GoFunction],
    &'static [crate::target::ProvisionerField],
);

/// What Go's text/template prints for a missing map key.
const GO_NO_VALUE: &str = "<no value>";

/// A warning for each value a Go-template section rendered as `<no value>` (Go prints it for a
/// key that does not exist, as the tools do; the output is then silently wrong): the file, the
/// entry, the section and the key.
fn warn_no_value(
    p: &Provisioner,
    section: &GoSection,
    label: &str,
    input: &ProvisionInput,
    value: Option<&Value>,
    warnings: &mut Vec<String>,
) {
    fn walk(v: &Value, path: &mut Vec<String>, found: &mut Vec<String>) {
        match v {
            Value::String(s) if s.contains(GO_NO_VALUE) => found.push(if path.is_empty() {
                "(the whole section)".to_string()
            } else {
                path.join(".")
            }),
            Value::Object(m) => {
                for (k, v) in m {
                    path.push(k.clone());
                    walk(v, path, found);
                    path.pop();
                }
            }
            Value::Array(items) => {
                for (i, v) in items.iter().enumerate() {
                    path.push(i.to_string());
                    walk(v, path, found);
                    path.pop();
                }
            }
            _ => {}
        }
    }
    let Some(value) = value else { return };
    if section.text.contains(GO_NO_VALUE) {
        return; // written by the template's author
    }
    let mut found = Vec::new();
    walk(value, &mut Vec::new(), &mut found);
    for key in found {
        warnings.push(format!(
            "{}: provisioner '{}', section '{label}', key '{key}': '{GO_NO_VALUE}' for resource \
             '{}' (the template read a key that does not exist; Go writes '{GO_NO_VALUE}' there, \
             as the Score ecosystem's tools do)",
            p.source, p.uri, input.uid
        ));
    }
}

/// An `info_logs` section's value: a list of strings (null = none).
fn info_logs(
    p: &Provisioner,
    section: &GoSection,
    label: &str,
    v: Value,
) -> Result<Vec<String>, Diagnostic> {
    let items = match v {
        Value::Null => return Ok(Vec::new()),
        Value::Array(items) => items,
        other => {
            return Err(go_section_diag(
                p,
                section,
                label,
                format!(
                    "must render to a YAML list of strings, got {}",
                    crate::diag::describe_type(&other)
                ),
            ))
        }
    };
    items
        .into_iter()
        .map(|i| match i {
            Value::String(s) => Ok(s),
            Value::Number(n) => Ok(n.to_string()),
            Value::Bool(b) => Ok(b.to_string()),
            other => Err(go_section_diag(
                p,
                section,
                label,
                format!(
                    "must render to a YAML list of strings, found {}",
                    crate::diag::describe_type(&other)
                ),
            )),
        })
        .collect()
}

fn render_go_section(
    p: &Provisioner,
    section: &GoSection,
    label: &str,
    data: &GoData,
    input: &ProvisionInput,
    (target, (functions, fields)): (&str, GoExtras),
    opts: &ProvisionOptions,
) -> Result<Option<Value>, Diagnostic> {
    let template = section.for_target(functions, fields).map_err(|e| {
        // The text calls a function neither sprig nor this target supplies (another target's,
        // or a misspelt one): Go fails to parse it, as the tool that lacks it does.
        let mut d = go_section_diag(
            p,
            section,
            label,
            format!(
                "Go template syntax error for target '{target}': {}",
                e.message
            ),
        );
        d.code = Code::ProvisionTemplateSyntax;
        if let (Some(l), Some(c)) = (e.line, e.column) {
            let file = &p.source.file;
            if let Some(span) =
                template::template_point_span(file, section.first_line, &section.text, l, c)
            {
                d = d.with_span(span).with_label(e.message.clone());
            }
        }
        d.with_help(format!(
            "the function is neither Go's, sprig's nor one target '{target}' supplies"
        ))
    })?;
    // The seeded random functions' key, for the sections that can call one.
    let key = if template.uses_random() {
        input.rand_key(label)
    } else {
        String::new()
    };
    let ctx = gotemplate::RenderContext {
        random_key: key.as_bytes(),
        fuel: opts.fuel,
    };
    let text = template
        .render_value(&data.value(), &ctx, None)
        .map_err(|e| {
            let mut d = go_section_diag(
                p,
                section,
                label,
                format!("Go template failed: {}", e.message),
            );
            d.code = Code::ProvisionTemplateRender;
            // Where the engine knows the failing action, point at it.
            if let (Some(l), Some(c)) = (e.line, e.column) {
                let file = &p.source.file;
                if let Some(span) =
                    template::template_point_span(file, section.first_line, &section.text, l, c)
                {
                    d = d.with_span(span).with_label(e.message.clone());
                }
            }
            d
        })?;
    if text.trim().is_empty() {
        return Ok(None);
    }
    crate::load::yaml::parse_go_section(&text)
        .map_err(|e| not_yaml(p, section.first_line, label, &e, &text))
}

fn go_section_diag(p: &Provisioner, section: &GoSection, label: &str, msg: String) -> Diagnostic {
    let d = section_diag(p, section.first_line, label, msg);
    if d.span.is_some() {
        d.with_label(format!("section '{label}' starts here"))
    } else {
        d
    }
}

impl EntryCx<'_> {
    /// The sections of the nested target mapping `target` (at `at`) of a Go-template entry.
    fn go_target_templates(
        &self,
        target: &str,
        at: &str,
        v: &Value,
    ) -> Result<IndexMap<String, GoSection>, Diagnostic> {
        let Value::Object(sections) = v else {
            let help = match crate::validate::schema::closest(
                target,
                known_keys().chain(ECOSYSTEM_SECTIONS.iter().copied()),
            ) {
                Some(k) => format!("did you mean '{k}'?"),
                None => format!(
                    "known keys: {}, the ecosystem's target sections {} and a target name mapping section names to templates",
                    known_keys_list(),
                    ECOSYSTEM_SECTIONS.join(", ")
                ),
            };
            return Err(self.unknown_key(at, target, help));
        };
        let mut m = IndexMap::new();
        for (name, sv) in sections {
            let s = self.add_go_template(&format!("{target}.{name}"), &member(at, name), sv)?;
            m.insert(name.clone(), s);
        }
        Ok(m)
    }

    /// Compiles one Go-template section (at `at`); `label` names it in errors. Like the tools,
    /// the text is trimmed of surrounding whitespace before it is parsed.
    fn add_go_template(&self, label: &str, at: &str, v: &Value) -> Result<GoSection, Diagnostic> {
        let doc = self.doc;
        let uri = &self.uri;
        let text = self.template_text(label, at, v)?;
        let first_line = doc.spans.value(at).map_or(1, |s| s.line.max(1));
        // Lines trimmed from the start shift the template's line 1 down the file.
        let trimmed = text.trim();
        let skipped = text[..text.len() - text.trim_start().len()]
            .matches('\n')
            .count();
        let first_line = first_line + skipped;
        let (template, calls) = gotemplate::undefined_functions(
            trimmed,
            &gotemplate::functions(&[]),
            Some(&GO_DATA_FIELDS),
        )
        .map_err(|e| {
                let line = first_line + e.line.unwrap_or(1) - 1;
                let mut d = Diagnostic::new(
                    Code::ProvisionTemplateSyntax,
                    format!(
                        "provisioner '{uri}' section '{label}' ({}:{line}): Go template syntax error: {}",
                        doc.source.name, e.message
                    ),
                )
                .with_file(doc.source.clone())
                .with_help("the section is a Go text/template (sprig functions available); `engine: minijinja` selects score-gen's Jinja2 dialect");
                let span = match (e.line, e.column) {
                    (Some(l), Some(c)) => {
                        template::template_point_span(&doc.source, first_line, trimmed, l, c)
                    }
                    _ => template::line_span(&doc.source, line),
                };
                if let Some(span) = span {
                    d = d.with_span(span).with_label(e.message.clone());
                }
                d
            })?;
        Ok(GoSection {
            text: Arc::from(trimmed),
            template: Arc::new(template),
            first_line,
            calls: calls.into(),
            by_target: Arc::default(),
        })
    }
}
