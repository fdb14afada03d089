//! The provisioner file loader: provisioner files (YAML) into a [`ProvisionerSet`], with the line
//! of every entry and every template section kept, so an error at render time can point at the
//! exact line of the file. The format is specified in `spec/provisioners.md` and
//! `schemas/provisioners.json`.

use std::collections::BTreeMap;
use std::path::Path;
use std::path::PathBuf;
use std::sync::Arc;

use indexmap::IndexMap;
use serde_json::{Map, Value};

use super::kinds::cmd::{resolve_program, CmdSpec};
use super::kinds::gotemplate::{GoEntry, GoSection, ECOSYSTEM_SECTIONS};
use super::kinds::local_env::local_env_entry;
use super::kinds::minijinja::TemplateEntry;
use super::kinds::Engine;
use super::template::{self, SectionTemplate, Templates};
use super::{Dialect, Provisioner, ProvisionerSet, ProvisionerSource};
use crate::diag::{describe_type, Code, Diagnostic, SourceFile, Span};
use crate::load::yaml::{self, escape_pointer_segment, Document, Limits};

/// Keys of an entry that are not target names.
pub(crate) const KNOWN_KEYS: [&str; 15] = [
    "engine",
    "uri",
    "type",
    "class",
    "id",
    "description",
    "supported_params",
    "expected_outputs",
    "secret_outputs",
    "expression_outputs",
    "args",
    "init",
    "state",
    "shared",
    "outputs",
];

/// One input file for [`ProvisionerSet::load`].
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ProvisionerFile {
    /// The name diagnostics show (a path, a URI, `<compose default provisioners>`).
    pub name: String,
    /// The file's text.
    pub text: String,
    /// The directory relative `cmd://./...` programs resolve against (`None`: the process's
    /// working directory).
    pub dir: Option<PathBuf>,
}

impl ProvisionerFile {
    /// A file with no directory of its own.
    pub fn new(name: impl Into<String>, text: impl Into<String>) -> Self {
        ProvisionerFile {
            name: name.into(),
            text: text.into(),
            dir: None,
        }
    }

    /// The same file, its relative `cmd://` programs resolved against `dir`.
    pub fn in_dir(mut self, dir: impl Into<PathBuf>) -> Self {
        self.dir = Some(dir.into());
        self
    }
}

impl ProvisionerSet {
    /// Loads files in priority order (user files first, target defaults last).
    ///
    /// Compiles every template once; syntax errors, unknown keys and wrong types are reported
    /// with the file and line.
    ///
    /// ```
    /// use score_core::{input::ProvisionerFile, ProvisionerSet};
    /// let user = "- uri: template://big\n  engine: minijinja\n  type: postgres\n  class: large\n";
    /// let defaults = "- uri: template://pg\n  engine: minijinja\n  type: postgres\n";
    /// let set = ProvisionerSet::load(&[
    ///     ProvisionerFile::new("mine.yaml", user),
    ///     ProvisionerFile::new("defaults", defaults),
    /// ]).unwrap();
    /// let uid = score_core::target::ResourceUid::new("w", "db", "postgres", None, None);
    /// assert_eq!(set.find(&uid).unwrap().uri, "template://pg");
    /// ```
    pub fn load(files: &[ProvisionerFile]) -> Result<Self, Diagnostic> {
        Self::load_with_trust(files, true)
    }

    /// [`ProvisionerSet::load`], marking every entry trusted or not (see
    /// [`ProvisionerSource::trusted`]): files fetched from outside the project and not pinned
    /// are loaded with `trusted = false`.
    pub fn load_with_trust(files: &[ProvisionerFile], trusted: bool) -> Result<Self, Diagnostic> {
        let mut set = Self::default();
        for f in files {
            let file = Arc::new(SourceFile::new(f.name.clone(), f.text.clone()));
            set.extend(Self::load_source(file, f.dir.as_deref(), trusted)?);
        }
        Ok(set)
    }

    /// One provisioner file given as a [`SourceFile`] (so the caller can mark its contents
    /// hidden: a file linked out of the project, [`SourceFile::with_contents_hidden`]), with the
    /// directory its relative programs resolve against and whether its entries are trusted.
    pub fn load_source(
        file: Arc<SourceFile>,
        dir: Option<&Path>,
        trusted: bool,
    ) -> Result<Self, Diagnostic> {
        let loaded = load_file(&file, dir)?;
        Ok(Self {
            entries: loaded
                .into_iter()
                .map(|mut p| {
                    p.source.trusted = trusted;
                    p
                })
                .collect(),
        })
    }
}

// ---------------------------------------------------------------------------------------------
// Parsing goes through the loader (`crate::load`), so provisioner files get the same limits
// (size, depth, alias expansion, duplicate keys) as Score files; entries are then read from the
// JSON value by pointer and located through the loader's span index.

/// A [`Code::ProvisionerFileInvalid`] diagnostic in `doc` at `pointer`, located at `span` (or
/// unlocated when the loader has none).
fn err_at(doc: &Document, pointer: &str, span: Option<Span>, msg: String) -> Diagnostic {
    let d = Diagnostic::new(Code::ProvisionerFileInvalid, msg)
        .with_file(doc.source.clone())
        .with_pointer(pointer);
    match span {
        Some(s) => d.with_span(s),
        None => d,
    }
}

/// An error about the value at `pointer`.
pub(crate) fn err_value(doc: &Document, pointer: &str, msg: String) -> Diagnostic {
    err_at(doc, pointer, doc.spans.value(pointer), msg)
}

/// An error about the mapping key of the member at `pointer`.
pub(crate) fn err_key(doc: &Document, pointer: &str, msg: String) -> Diagnostic {
    err_at(doc, pointer, doc.spans.key(pointer), msg)
}

/// Re-words a loader error for a provisioner file; it keeps the loader's code (the problem is
/// the YAML, as in any file). Invalid YAML keeps the wording provisioner files always had
/// (`... is not valid YAML: <cause> at line L, column C`); help that speaks of "a Score file"
/// does not apply here and is dropped.
fn load_error(file: &SourceFile, d: Diagnostic) -> Diagnostic {
    let mut out = d.clone();
    match d.message.strip_prefix("invalid YAML: ") {
        Some(cause) => {
            let at = d
                .span
                .map(|s| format!(" at line {}, column {}", s.line, s.column))
                .unwrap_or_default();
            out.message = format!(
                "provisioner file '{}' is not valid YAML: {cause}{at}",
                file.name
            );
            out.help = Some(
                "fix the YAML syntax at the marked position: a provisioner file is a list of entries, each starting with `- ` at the same indentation"
                    .into(),
            );
        }
        None => {
            out.message = format!("provisioner file '{}': {}", file.name, d.message);
            if out
                .help
                .as_deref()
                .is_some_and(|h| h.contains("Score file"))
            {
                out.help = None;
            }
        }
    }
    out
}

/// True when the text holds no YAML content (only blank lines and comments), as the loader
/// decides it: such a file is an empty set of provisioners, not an error.
fn is_blank(text: &str) -> bool {
    text.trim_start_matches('\u{feff}')
        .lines()
        .all(|l| l.trim().is_empty() || l.trim_start().starts_with('#'))
}

/// Child pointer of a mapping member.
pub(crate) fn member(parent: &str, key: &str) -> String {
    format!("{parent}/{}", escape_pointer_segment(key))
}

pub(crate) struct EntryCx<'a> {
    pub(crate) doc: &'a Document,
    pub(crate) uri: String,
}

impl EntryCx<'_> {
    pub(crate) fn string(&self, key: &str, pointer: &str, v: &Value) -> Result<String, Diagnostic> {
        match v {
            Value::String(s) => Ok(s.clone()),
            other => Err(err_value(
                self.doc,
                pointer,
                format!(
                    "provisioner '{}': '{key}' must be a string, not {}",
                    self.uri,
                    describe_type(other)
                ),
            )),
        }
    }

    pub(crate) fn strings(
        &self,
        key: &str,
        pointer: &str,
        v: &Value,
    ) -> Result<Vec<String>, Diagnostic> {
        match v {
            Value::Null => Ok(Vec::new()),
            Value::Array(items) => items
                .iter()
                .enumerate()
                .map(|(i, item)| match item {
                    Value::String(s) => Ok(s.clone()),
                    other => Err(err_value(
                        self.doc,
                        &format!("{pointer}/{i}"),
                        format!(
                            "provisioner '{}': '{key}' must be a list of strings, found {}",
                            self.uri,
                            describe_type(other)
                        ),
                    )),
                })
                .collect(),
            other => Err(err_value(
                self.doc,
                pointer,
                format!(
                    "provisioner '{}': '{key}' must be a list of strings, not {}",
                    self.uri,
                    describe_type(other)
                ),
            )),
        }
    }
}

fn load_file(file: &Arc<SourceFile>, dir: Option<&Path>) -> Result<Vec<Provisioner>, Diagnostic> {
    if is_blank(&file.text) {
        return Ok(Vec::new());
    }
    let doc = yaml::parse_any(file.clone(), file.text.as_bytes(), &Limits::default())
        .map_err(|d| load_error(file, d))?;
    let items = match &doc.value {
        Value::Null => return Ok(Vec::new()),
        Value::Array(items) => items,
        other => {
            return Err(err_value(
                &doc,
                "",
                format!(
                    "provisioner file '{}' must be a list of provisioners, not {}",
                    file.name,
                    describe_type(other)
                ),
            ))
        }
    };
    let mut seen: BTreeMap<String, usize> = BTreeMap::new();
    let mut out = Vec::with_capacity(items.len());
    for (index, item) in items.iter().enumerate() {
        let pointer = format!("/{index}");
        let p = load_entry(&doc, dir, index, &pointer, item)?;
        if let Some(prev) = seen.insert(p.uri.clone(), p.source.line) {
            // The second `uri:` value is where the duplicate is reported (file:line:col).
            let msg = format!(
                "provisioner '{}' is defined twice in '{}' (lines {} and {})",
                p.uri, file.name, prev, p.source.line
            );
            let mut d = err_value(&doc, &member(&pointer, "uri"), msg)
                .with_help("each entry's uri must be unique within its file");
            d.code = Code::ProvisionerDuplicateUri;
            return Err(d);
        }
        out.push(p);
    }
    Ok(out)
}

/// Reads one entry of a provisioner file: its uri, its other keys, its type, and the engine that
/// runs it.
fn load_entry(
    doc: &Document,
    dir: Option<&Path>,
    index: usize,
    pointer: &str,
    item: &Value,
) -> Result<Provisioner, Diagnostic> {
    let file = &doc.source;
    let line = doc.spans.value(pointer).map_or(0, |s| s.line);
    let Value::Object(fields) = item else {
        return Err(err_value(
            doc,
            pointer,
            format!(
                "provisioner #{} in '{}' must be a mapping, not {}",
                index + 1,
                file.name,
                describe_type(item)
            ),
        ));
    };
    let uri = entry_uri(doc, index, pointer, fields)?;
    if uri.starts_with("local-env://") {
        return local_env_entry(doc, dir, index, pointer, uri, fields);
    }
    let is_cmd = uri.starts_with("cmd://");
    let cx = EntryCx { doc, uri };
    let dialect = cx.dialect(pointer, fields, is_cmd)?;
    let f = cx.read_fields(pointer, fields, is_cmd, dialect)?;
    let uri = cx.uri;
    let kind = entry_kind(doc, &uri, pointer, f.kind)?;

    let engine = if is_cmd {
        Engine::Cmd(CmdSpec {
            program: resolve_program(&uri["cmd://".len()..], dir),
            args: f.args.unwrap_or_default(),
        })
    } else if dialect == Dialect::GoTemplate {
        Engine::Go(GoEntry {
            core: f.go_core,
            ecosystem: f.go_ecosystem,
            targets: f.go_targets,
        })
    } else {
        Engine::Template(TemplateEntry {
            templates: Templates::new(f.env),
            core: f.core,
            targets: f.targets,
        })
    };

    Ok(Provisioner {
        uri,
        kind,
        class: f.class,
        id: f.id,
        description: f.description,
        supported_params: f.supported_params,
        expected_outputs: f.expected_outputs,
        expected_output_spans: f.expected_output_spans,
        secret_outputs: f.secret_outputs,
        expression_outputs: f.expression_outputs,
        source: ProvisionerSource {
            file: file.clone(),
            line,
            index,
            dir: dir.map(Path::to_path_buf),
            trusted: true,
        },
        engine,
    })
}

/// The entry's `uri`, which must be present, a string, and `template://` or `cmd://`.
fn entry_uri(
    doc: &Document,
    index: usize,
    pointer: &str,
    fields: &Map<String, Value>,
) -> Result<String, Diagnostic> {
    let file = &doc.source;
    // Until the uri is known, errors name the entry by its position.
    let cx = EntryCx {
        doc,
        uri: format!("#{}", index + 1),
    };
    let uri_pointer = member(pointer, "uri");
    let uri = match fields.get("uri") {
        Some(v) => cx.string("uri", &uri_pointer, v)?,
        None => {
            return Err(err_value(
                doc,
                pointer,
                format!("provisioner #{} in '{}' has no 'uri'", index + 1, file.name),
            )
            .with_help("every entry needs `uri: template://<name>` or `uri: cmd://<program>`"))
        }
    };
    if !["cmd://", "template://", "local-env://"]
        .iter()
        .any(|s| uri.starts_with(s))
    {
        return Err(err_value(
            doc,
            &uri_pointer,
            format!("provisioner '{uri}': uri must start with 'template://', 'cmd://' or 'local-env://'"),
        ));
    }
    Ok(uri)
}

/// The entry's `type` (read with the pointer to its value), which must be present, non-empty and
/// free of `.` and `#`.
pub(crate) fn entry_kind(
    doc: &Document,
    uri: &str,
    pointer: &str,
    kind: Option<(String, String)>,
) -> Result<String, Diagnostic> {
    let Some((kind, kind_pointer)) = kind else {
        return Err(err_value(
            doc,
            pointer,
            format!("provisioner '{uri}' has no 'type'"),
        ));
    };
    if kind.is_empty() || kind.contains(['.', '#']) {
        return Err(err_value(
            doc,
            &kind_pointer,
            format!(
                "provisioner '{uri}': type '{kind}' must be non-empty and contain no '.' or '#'"
            ),
        ));
    }
    Ok(kind)
}

/// What an entry's keys other than `uri` hold; template sections are compiled into `env`.
struct EntryFields {
    /// The type and the pointer to its value.
    kind: Option<(String, String)>,
    class: Option<String>,
    id: Option<String>,
    description: String,
    supported_params: Option<Vec<String>>,
    expected_outputs: Vec<String>,
    /// Where each of `expected_outputs` is written, for an error naming a missing one.
    expected_output_spans: Vec<Option<Span>>,
    secret_outputs: Vec<String>,
    expression_outputs: Vec<String>,
    args: Option<Vec<String>>,
    env: minijinja::Environment<'static>,
    core: BTreeMap<String, SectionTemplate>,
    targets: BTreeMap<String, IndexMap<String, SectionTemplate>>,
    go_core: BTreeMap<String, GoSection>,
    go_ecosystem: IndexMap<String, GoSection>,
    go_targets: BTreeMap<String, IndexMap<String, GoSection>>,
}

impl EntryCx<'_> {
    /// Reads every key but `uri` in file order, failing at the first bad one.
    /// The entry's dialect: `engine: minijinja` or `engine: gotemplate`; a `template://` entry
    /// without `engine` is a Go template, as for every Score tool. `cmd://` entries take none.
    fn dialect(
        &self,
        pointer: &str,
        fields: &Map<String, Value>,
        is_cmd: bool,
    ) -> Result<Dialect, Diagnostic> {
        let Some(v) = fields.get("engine") else {
            return Ok(Dialect::GoTemplate);
        };
        let at = member(pointer, "engine");
        if is_cmd {
            return Err(err_key(
                self.doc,
                &at,
                format!(
                    "provisioner '{}': 'engine' is only allowed for template:// provisioners",
                    self.uri
                ),
            ));
        }
        match self.string("engine", &at, v)?.as_str() {
            "minijinja" => Ok(Dialect::Minijinja),
            "gotemplate" => Ok(Dialect::GoTemplate),
            other => Err(err_value(
                self.doc,
                &at,
                format!(
                    "provisioner '{}': unknown engine '{other}'",
                    self.uri
                ),
            )
            .with_help("engine is `gotemplate` (the default: Go text/template with sprig, as the Score ecosystem's tools) or `minijinja` (score-gen's Jinja2 entries)")),
        }
    }

    /// An optional string that Go's loaders also accept as `null` (`class: null` = any class).
    pub(crate) fn opt_string(
        &self,
        key: &str,
        pointer: &str,
        v: &Value,
    ) -> Result<Option<String>, Diagnostic> {
        match v {
            Value::Null => Ok(None),
            v => self.string(key, pointer, v).map(Some),
        }
    }

    fn read_fields(
        &self,
        pointer: &str,
        fields: &Map<String, Value>,
        is_cmd: bool,
        dialect: Dialect,
    ) -> Result<EntryFields, Diagnostic> {
        let doc = self.doc;
        let mut f = EntryFields {
            kind: None,
            class: None,
            id: None,
            description: String::new(),
            supported_params: None,
            expected_outputs: Vec::new(),
            expected_output_spans: Vec::new(),
            secret_outputs: Vec::new(),
            expression_outputs: Vec::new(),
            args: None,
            env: template::new_environment(),
            core: BTreeMap::new(),
            targets: BTreeMap::new(),
            go_core: BTreeMap::new(),
            go_ecosystem: IndexMap::new(),
            go_targets: BTreeMap::new(),
        };
        let go = dialect == Dialect::GoTemplate && !is_cmd;
        // The loader has already rejected duplicate keys, so each key is seen once.
        for (key, v) in fields {
            let key = key.as_str();
            let at = member(pointer, key);
            match key {
                "uri" | "engine" => {}
                "type" => f.kind = Some((self.string(key, &at, v)?, at)),
                "class" => f.class = self.opt_string(key, &at, v)?,
                "id" => f.id = self.opt_string(key, &at, v)?,
                "description" => f.description = self.opt_string(key, &at, v)?.unwrap_or_default(),
                "supported_params" => f.supported_params = Some(self.strings(key, &at, v)?),
                "expected_outputs" => {
                    f.expected_outputs = self.strings(key, &at, v)?;
                    f.expected_output_spans = (0..f.expected_outputs.len())
                        .map(|i| doc.spans.value(&format!("{at}/{i}")))
                        .collect();
                }
                "secret_outputs" => f.secret_outputs = self.strings(key, &at, v)?,
                "expression_outputs" => f.expression_outputs = self.strings(key, &at, v)?,
                "args" => {
                    if !is_cmd {
                        return Err(err_key(
                            doc,
                            &at,
                            format!(
                                "provisioner '{}': 'args' is only allowed for cmd:// provisioners",
                                self.uri
                            ),
                        ));
                    }
                    f.args = Some(self.strings(key, &at, v)?);
                }
                // score-compose's and score-k8s's cmd entries may list `params` and `outputs`
                // (documentation only: they drive nothing there either).
                "params" | "outputs" if is_cmd && (v.is_array() || v.is_null()) => {
                    self.strings(key, &at, v)?;
                }
                "init" | "state" | "shared" | "outputs" => {
                    if is_cmd {
                        return Err(err_key(
                            doc,
                            &at,
                            format!(
                                "provisioner '{}': cmd:// provisioners have no template sections ('{key}')",
                                self.uri
                            ),
                        ));
                    }
                    if go {
                        let s = self.add_go_template(key, &at, v)?;
                        f.go_core.insert(key.to_string(), s);
                        continue;
                    }
                    let s =
                        self.add_template(&mut f.env, key.to_string(), key.to_string(), &at, v)?;
                    f.core.insert(key.to_string(), s);
                }
                section if go && ECOSYSTEM_SECTIONS.contains(&section) => {
                    let s = self.add_go_template(section, &at, v)?;
                    f.go_ecosystem.insert(section.to_string(), s);
                }
                target => {
                    if is_cmd {
                        return Err(err_key(
                            doc,
                            &at,
                            format!(
                                "provisioner '{}': unknown key '{target}' (cmd:// provisioners have no target sections)",
                                self.uri
                            ),
                        ));
                    }
                    if go {
                        let m = self.go_target_templates(target, &at, v)?;
                        f.go_targets
                            .entry(target.to_string())
                            .or_default()
                            .extend(m);
                        continue;
                    }
                    let m = self.target_templates(&mut f.env, target, &at, v)?;
                    f.targets.insert(target.to_string(), m);
                }
            }
        }
        Ok(f)
    }
}

impl EntryCx<'_> {
    /// The error for an entry key that is neither known nor a target's sections.
    pub(crate) fn unknown_key(&self, at: &str, key: &str, help: String) -> Diagnostic {
        err_key(
            self.doc,
            at,
            format!("provisioner '{}': unknown key '{key}'", self.uri),
        )
        .with_help(help)
    }

    /// A template section's text (`null` = empty), or the error for any other value.
    pub(crate) fn template_text<'v>(
        &self,
        label: &str,
        at: &str,
        v: &'v Value,
    ) -> Result<&'v str, Diagnostic> {
        match v {
            Value::String(s) => Ok(s.as_str()),
            Value::Null => Ok(""),
            other => Err(err_value(
                self.doc,
                at,
                format!(
                    "provisioner '{}': section '{label}' must be a template string, not {}",
                    self.uri,
                    describe_type(other)
                ),
            )
            .with_help("write the section as a YAML block scalar: `outputs: |`")),
        }
    }
}

pub(crate) fn known_keys() -> String {
    let mut k: Vec<&str> = KNOWN_KEYS.to_vec();
    k.sort_unstable();
    k.dedup();
    k.join(", ")
}
