//! The front half of the pipeline for one Score file: parse → override → upgrade → schema →
//! extra rules → typed model → normalise file sources.
//!
//! ```
//! use score_core::{load_workload, LoadOptions};
//! let text = "apiVersion: score.dev/v1b1\nmetadata: {name: hello}\ncontainers: {main: {image: nginx}}\n";
//! let loaded = load_workload("score.yaml", text.as_bytes(), &LoadOptions::default()).unwrap();
//! assert_eq!(loaded.workload.name(), "hello");
//! ```

pub mod overrides;
pub mod upgrade;
pub mod yaml;

use std::sync::Arc;

use base64::Engine as _;
use serde::Deserialize as _;
use serde_json::Value;

use crate::diag::{Code, Diagnostic, Diagnostics, SourceFile};
use crate::fix::{Edit, Fix};
use crate::model::Workload;
use crate::validate::{hints, rules, schema};
use yaml::{Document, Limits};

/// How to load a workload.
#[derive(Debug, Clone, Default)]
pub struct LoadOptions {
    /// Size, depth and alias limits for parsing.
    pub limits: Limits,
    /// Documents deep-merged over the workload before validation (`--override-file`), in order.
    pub override_files: Vec<Document>,
    /// `PATH=VALUE` overrides (`--override-property`), applied after the files, in order.
    pub override_properties: Vec<String>,
    /// Replaces every container image that is `.` (`--image`).
    pub image: Option<String>,
    /// Where `files[].source` contents come from: a [`MemorySources`] map, or (feature `host`)
    /// [`crate::host::FsSources`] reading relative to the Score file's directory. `None`: a
    /// workload with a `files[].source` is an error.
    pub sources: Option<Arc<dyn SourceReader>>,
    /// Diagnostics must not show the file's text (see [`SourceFile::with_contents_hidden`]): the
    /// CLI sets it for a Score file reached through a link out of the project.
    pub contents_hidden: bool,
}

/// Supplies the bytes of `files[].source` entries.
///
/// ```
/// use score_core::input::{MemorySources, SourceReader};
/// let mut m = MemorySources::default();
/// m.insert("nginx.conf", "server {}");
/// assert_eq!(m.read("nginx.conf").unwrap(), b"server {}");
/// assert!(m.read("./nginx.conf").is_ok());
/// assert!(m.read("missing.txt").is_err());
/// ```
pub trait SourceReader: std::fmt::Debug + Send + Sync {
    /// The bytes of `source`, as written in the Score file.
    fn read(&self, source: &str) -> Result<Vec<u8>, SourceError>;
}

/// Why a `files[].source` could not be read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SourceError {
    /// What went wrong, e.g. `open conf/x.txt: no such file or directory`.
    pub message: String,
    /// What to do about it.
    pub help: String,
}

/// `files[].source` contents held in memory, by path as written (a leading `./` is ignored).
#[derive(Debug, Clone, Default)]
pub struct MemorySources {
    files: std::collections::BTreeMap<String, Vec<u8>>,
}

impl MemorySources {
    /// Adds (or replaces) a file.
    pub fn insert(&mut self, path: impl Into<String>, bytes: impl Into<Vec<u8>>) -> &mut Self {
        let path = path.into();
        let key = path.strip_prefix("./").unwrap_or(&path).to_string();
        self.files.insert(key, bytes.into());
        self
    }
}

impl SourceReader for MemorySources {
    fn read(&self, source: &str) -> Result<Vec<u8>, SourceError> {
        let key = source.strip_prefix("./").unwrap_or(source);
        self.files.get(key).cloned().ok_or_else(|| SourceError {
            message: format!("open {source}: no such file in the supplied sources"),
            help: "add the file to the MemorySources given in LoadOptions::sources".into(),
        })
    }
}

/// A workload that passed every check.
#[derive(Debug, Clone)]
pub struct LoadedWorkload {
    /// The typed workload; file `source`s are already read into `content`/`binaryContent`
    /// by [`LoadOptions::sources`].
    pub workload: Workload,
    /// The parsed document (after overrides and upgrades), with spans into the source; shared
    /// with the [`crate::target::ResolvedWorkload`] so targets can point into the Score file.
    pub document: Arc<Document>,
    /// Upgrades applied to deprecated forms, as messages (e.g. `containers.web.files: migrated to object`).
    pub upgrades: Vec<String>,
}

/// Runs the front half of the pipeline on one Score file's bytes.
pub fn load_workload(
    name: &str,
    bytes: &[u8],
    opts: &LoadOptions,
) -> Result<LoadedWorkload, Diagnostics> {
    let mut file = SourceFile::new(name, String::from_utf8_lossy(bytes));
    if opts.contents_hidden {
        file = file.with_contents_hidden();
    }
    let source = Arc::new(file);
    let mut document =
        yaml::parse(source, bytes, &opts.limits).map_err(hints::explain_yaml_error)?;
    apply_overrides(&mut document, opts)?;
    load_document(document, opts)
}

/// The front half for a document held as a value (a workload the project stored): every check
/// of [`load_workload`] after the parse, without a YAML round trip. The document has no spans, so
/// `None` when it does not pass cleanly: the caller then loads its text with [`load_workload`],
/// whose diagnostics point at lines.
pub(crate) fn load_value(
    name: &str,
    value: serde_json::Map<String, Value>,
    opts: &LoadOptions,
) -> Option<LoadedWorkload> {
    let mut file = SourceFile::new(name, String::new());
    if opts.contents_hidden {
        file = file.with_contents_hidden();
    }
    let document = Document {
        source: Arc::new(file),
        value: Value::Object(value),
        spans: yaml::SpanIndex::default(),
    };
    load_document(document, opts)
        .ok()
        .filter(|w| w.upgrades.is_empty())
}

/// [`load_workload`] after the parse and the overrides.
fn load_document(
    mut document: Document,
    opts: &LoadOptions,
) -> Result<LoadedWorkload, Diagnostics> {
    // Every stage whose input is well-formed enough runs, so one run reports every problem
    // (hints for older forms, upgrade, schema, rules), in file order.
    let hints = hints::hints(&document);
    let mut problems: Vec<Diagnostic> = hints
        .iter()
        .map(|h| {
            let d = locate(
                &document,
                opts,
                h.code,
                &h.pointer,
                h.message.clone(),
                h.on_key,
            )
            .with_help(h.help.clone());
            with_fix_in(d, &document, h.fix.clone())
        })
        .collect();
    let covered = |pointer: &str| hints.iter().any(|h| h.covers(pointer));

    let (upgrades, upgrade_problems) = upgrade_leniently(&mut document);
    problems.extend(
        upgrade_problems
            .into_iter()
            .filter(|(pointer, _)| !covered(pointer))
            .map(|(_, d)| d),
    );

    let schema_errors = schema::validate(&document.value);
    let schema_pointers: Vec<String> = schema_errors.iter().map(|e| e.pointer.clone()).collect();
    // Where a rename fix would put a key (the parent's pointer and the new name).
    let renamed_to: Vec<String> = schema_errors
        .iter()
        .filter_map(|e| {
            let new = e.rename_to.as_ref()?;
            let parent = &e.pointer[..e.pointer.rfind('/')?];
            Some(format!("{parent}/{}", yaml::escape_pointer_segment(new)))
        })
        .collect();
    for e in schema_errors {
        // A missing property is about the key that is missing (`/metadata` when a hint says
        // where the user's `name` should go).
        let missing = e
            .message
            .strip_prefix("missing required property \"")
            .and_then(|m| m.strip_suffix('"'))
            .map(|p| format!("{}/{}", e.pointer, yaml::escape_pointer_segment(p)));
        if covered(&e.pointer) || missing.as_deref().is_some_and(covered) {
            continue;
        }
        // `imgae:` with a rename to `image`: the missing `image` is the same problem.
        if missing
            .as_deref()
            .is_some_and(|m| renamed_to.iter().any(|r| r == m))
        {
            continue;
        }
        let mut fix = None;
        if let Some(new) = &e.rename_to {
            fix = hints::rename_key(&document, &e.pointer, new)
                .map(|edit| Fix::machine(format!("rename to `{new}`"), vec![edit]));
        } else if e.help.as_deref().is_some_and(|h| h.starts_with("quote it")) {
            fix = quote_number(&document, &e.pointer);
        }
        let mut d = locate(
            &document,
            opts,
            Code::SchemaViolation,
            &e.pointer,
            e.message,
            e.on_key,
        );
        if let Some(h) = e.help {
            d = d.with_help(h);
        }
        problems.push(with_fix_in(d, &document, fix));
    }
    let schema_failed = !schema_pointers.is_empty();

    integral_floats_to_integers(&mut document.value);

    // The rules read only what they understand, so they run on a document the schema refused
    // too; an issue at or below a place the schema already reported is left out.
    let under = |pointer: &str, base: &str| {
        pointer == base || (pointer.starts_with(base) && pointer[base.len()..].starts_with('/'))
    };
    for i in rules::validate(&document.value) {
        if covered(&i.pointer)
            || hints.iter().any(|h| h.suppresses == Some(i.code))
            || (schema_failed && i.code == Code::ValidateMetadataName)
            || schema_pointers
                .iter()
                .any(|p| under(&i.pointer, p) || (p.is_empty() && i.pointer.is_empty()))
        {
            continue;
        }
        let mut d = locate(&document, opts, i.code, &i.pointer, i.message, i.on_key);
        if let Some(needle) = &i.needle {
            d = d.narrowed_to(needle);
        }
        if let Some(h) = i.help {
            d = d.with_help(h);
        }
        let fix = i.replacement.as_ref().and_then(|new| {
            let span = if i.on_key {
                return hints::rename_key(&document, &i.pointer, new)
                    .map(|e| Fix::machine(format!("rename to `{new}`"), vec![e]));
            } else {
                d.span?
            };
            let raw = document
                .source
                .text
                .get(span.offset..span.offset + span.len)?;
            (Some(raw) == i.needle.as_deref())
                .then(|| Fix::machine(format!("write `{new}`"), vec![Edit::new(span, new.clone())]))
        });
        problems.push(with_fix_in(d, &document, fix));
    }
    if !problems.is_empty() {
        problems.extend(
            hints::older_type_names(&document)
                .into_iter()
                .filter(|d| d.pointer.as_deref().is_none_or(|p| !covered(p))),
        );
        return Err(Diagnostics(in_file_order(problems, &document)));
    }

    // Read from the document in place: cloning the whole value first only to move it in cost
    // more than the copies of its strings the model needs.
    let mut workload = Workload::deserialize(&document.value).map_err(|e| {
        // The schema admits exactly what the model reads; reaching this is a bug, but it must
        // still be a diagnostic, not a panic.
        Diagnostics::from(
            document
                .diagnostic(
                    Code::Internal,
                    "",
                    format!("internal: workload does not fit the model: {e}"),
                )
                .with_help("please report this with the Score file attached"),
        )
    })?;

    normalise_file_sources(&mut workload, &document, opts.sources.as_deref())?;
    Ok(LoadedWorkload {
        workload,
        document: Arc::new(document),
        upgrades,
    })
}

/// Attaches `fix` when the diagnostic points into the Score file itself (a fix's edits are in
/// that file; a problem located in an override file gets the hint without the edit).
fn with_fix_in(d: Diagnostic, document: &Document, fix: Option<Fix>) -> Diagnostic {
    match fix {
        Some(f)
            if d.file
                .as_ref()
                .is_some_and(|file| Arc::ptr_eq(file, &document.source)) =>
        {
            d.with_fix(f)
        }
        _ => d,
    }
}

/// Problems sorted by where they are: the Score file first, by offset, then other files (override
/// files) by name and offset; the sort is stable, so equal places keep the stages' order.
fn in_file_order(mut problems: Vec<Diagnostic>, document: &Document) -> Vec<Diagnostic> {
    problems.sort_by_key(|d| {
        let main = d
            .file
            .as_ref()
            .is_some_and(|f| Arc::ptr_eq(f, &document.source));
        (
            !main,
            d.file.as_ref().map(|f| f.name.clone()),
            d.span.map_or(usize::MAX, |s| s.offset),
        )
    });
    problems
}

/// A number where the schema wants a string (`cpu: 1`, a variable `PORT: 8080`): quoted.
fn quote_number(document: &Document, pointer: &str) -> Option<Fix> {
    let v = document.value.pointer(pointer)?;
    if !v.is_number() {
        return None;
    }
    let span = document.spans.value(pointer)?;
    let raw = document
        .source
        .text
        .get(span.offset..span.offset + span.len)?;
    if raw.is_empty() || raw.contains(['"', '\'', '\n']) {
        return None;
    }
    Some(Fix::machine(
        format!("quote `{raw}`"),
        vec![Edit::new(span, format!("\"{raw}\""))],
    ))
}

/// The upgrade of the deprecated list forms, item by item: an item without a usable `target`
/// (missing, not a string, or empty, which the spec's schema refuses) is reported and left out,
/// and the others are upgraded, so later stages still check them. Returns score-go's change
/// messages and the problems with the pointer each is about.
fn upgrade_leniently(document: &mut Document) -> (Vec<String>, Vec<(String, Diagnostic)>) {
    let mut problems = Vec::new();
    let mut value = document.value.clone();
    if let Some(Value::Object(containers)) = value.get_mut("containers") {
        for (name, c) in containers.iter_mut() {
            for field in ["files", "volumes"] {
                let Some(Value::Array(items)) = c.get_mut(field) else {
                    continue;
                };
                for (i, item) in items.iter_mut().enumerate() {
                    if item.get("target").and_then(Value::as_str) == Some("") {
                        let pointer = format!(
                            "/containers/{}/{field}/{i}/target",
                            yaml::escape_pointer_segment(name)
                        );
                        let d = document
                            .diagnostic(
                                Code::SchemaViolation,
                                &pointer,
                                format!("containers.{name}.{field}.{i}.target: is empty"),
                            )
                            .with_help(format!(
                                "give the absolute path where the {} is mounted in the container, e.g. \"/etc/app/config.yaml\"",
                                if field == "files" { "file" } else { "volume" }
                            ));
                        problems.push((pointer, d));
                        // Non-mappings are dropped by the upgrade: leave the item out.
                        *item = Value::Null;
                    }
                }
            }
        }
    }
    loop {
        let mut attempt = value.clone();
        match upgrade::apply_common_upgrade_transforms(&mut attempt) {
            Ok(changes) => {
                document.value = attempt;
                return (changes, problems);
            }
            Err(e) => {
                let item = e
                    .pointer
                    .strip_suffix("/target")
                    .unwrap_or(&e.pointer)
                    .to_string();
                problems.push((e.pointer.clone(), e.to_diagnostic(document)));
                match value.pointer_mut(&item) {
                    Some(v) if !v.is_null() => *v = Value::Null,
                    // Cannot make progress: report what was found and keep the document.
                    _ => return (Vec::new(), problems),
                }
            }
        }
    }
}

/// A diagnostic at `pointer` of the merged document, in the file the value came from: the last
/// override file that sets exactly this value (or key, for `on_key`), else the Score file.
fn locate(
    document: &Document,
    opts: &LoadOptions,
    code: Code,
    pointer: &str,
    message: String,
    on_key: bool,
) -> Diagnostic {
    let from_override = opts.override_files.iter().rev().find(|f| {
        let Some(theirs) = f.value.pointer(pointer) else {
            return false;
        };
        // A later --override-property may have replaced the file's value.
        on_key || document.value.pointer(pointer) == Some(theirs)
    });
    let doc = from_override.unwrap_or(document);
    let mut d = doc.diagnostic(code, pointer, message);
    if on_key && let Some(span) = doc.spans.key(pointer) {
        d.span = Some(span);
    }
    d
}

/// The schema's `integer` fields (ports) accept a number without a fractional part, as JSON
/// Schema and score-go do: YAML `80.0`, `1e2` or `080` (yaml.v3 and our parser read the last as a
/// float) mean 80. The model reads integers, so those floats become integers here; anything the
/// schema let through at these places is integral and within 1..=65535.
fn integral_floats_to_integers(doc: &mut Value) {
    fn fix(v: Option<&mut Value>) {
        if let Some(v) = v
            && let Some(f) = v.as_f64().filter(|_| v.is_f64())
            && f.fract() == 0.0
            && (0.0..=65535.0).contains(&f)
        {
            // In range and integral: the cast is exact.
            *v = Value::from(f as u64);
        }
    }
    if let Some(Value::Object(ports)) = doc.pointer_mut("/service/ports") {
        for port in ports.values_mut() {
            fix(port.get_mut("port"));
            fix(port.get_mut("targetPort"));
        }
    }
    if let Some(Value::Object(containers)) = doc.get_mut("containers") {
        for c in containers.values_mut() {
            for probe in ["livenessProbe", "readinessProbe"] {
                fix(c.pointer_mut(&format!("/{probe}/httpGet/port")));
            }
        }
    }
}

fn apply_overrides(document: &mut Document, opts: &LoadOptions) -> Result<(), Diagnostics> {
    for file in &opts.override_files {
        if !file.value.is_object() {
            return Err(file
                .diagnostic(
                    Code::OverrideNotMapping,
                    "",
                    format!(
                        "an override file must be a YAML mapping, but this document is {}",
                        crate::diag::describe_type(&file.value)
                    ),
                )
                .with_help("write it as a partial Score file: the keys to change, e.g. `containers:` then `  main:` then `    image: busybox`")
                .into());
        }
        document.value = overrides::merge_overrides_file(&document.value, &file.value);
    }
    for prop in &opts.override_properties {
        let bad = |msg: String| {
            Diagnostic::new(Code::OverrideInvalidProperty, msg)
                .with_file(document.source.clone())
                .with_help("use --override-property PATH=VALUE, e.g. containers.main.image=nginx:1.27 (empty VALUE deletes)")
        };
        let (path, value) = overrides::parse_override_property(prop).map_err(&bad)?;
        let delete = value.is_none();
        document.value = overrides::override_path(&document.value, &path, delete, value)
            .map_err(|e| bad(format!("--override-property '{prop}': {e}")))?;
    }
    if let Some(image) = &opts.image
        && let Some(Value::Object(containers)) = document.value.get_mut("containers")
    {
        for c in containers.values_mut() {
            if let Some(img) = c.get_mut("image")
                && img.as_str() == Some(".")
            {
                *img = Value::String(image.clone());
            }
        }
    }
    Ok(())
}

/// Reads each `files[].source` (relative to `base_dir`) into `content` (valid UTF-8) or
/// `binaryContent` (standard base64), as score-go's `loader.Normalize`.
fn normalise_file_sources(
    workload: &mut Workload,
    document: &Document,
    sources: Option<&dyn SourceReader>,
) -> Result<(), Diagnostics> {
    let mut diags = Diagnostics::default();
    for (cname, container) in workload.containers.iter_mut() {
        for (target, file) in container.files.iter_mut() {
            let Some(source) = file.source.clone() else {
                continue;
            };
            let pointer = format!(
                "/containers/{}/files/{}/source",
                yaml::escape_pointer_segment(cname),
                yaml::escape_pointer_segment(target)
            );
            let read = match sources {
                Some(reader) => reader.read(&source),
                None => Err(SourceError {
                    message: "no source reader was given, so the file cannot be read".into(),
                    help: "pass LoadOptions::sources (MemorySources, or host::FsSources for the Score file's directory)".into(),
                }),
            };
            match read {
                Ok(bytes) => {
                    file.source = None;
                    match String::from_utf8(bytes) {
                        Ok(text) => file.content = Some(text),
                        Err(e) => {
                            file.binary_content = Some(
                                base64::engine::general_purpose::STANDARD.encode(e.into_bytes()),
                            )
                        }
                    }
                }
                Err(SourceError { message: msg, help }) => diags.push(
                    document
                        .diagnostic(
                            Code::FilesSourceUnreadable,
                            &pointer,
                            format!("embedding file '{source}' for container '{cname}': {msg}"),
                        )
                        .with_help(help),
                ),
            }
        }
    }
    diags.into_result()
}
