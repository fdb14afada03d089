//! The provisioner file loader: provisioner files (YAML) into a [`ProvisionerSet`], with the line
//! of every entry and every template section kept, so an error at render time can point at the
//! exact line of the file. The format is specified in `spec/provisioners.md` and
//! `schemas/provisioners.json`.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use serde_json::{Map, Value};

use super::kinds::cmd::CmdSpec;
use super::kinds::gotemplate::GoEntry;
use super::kinds::local_env::LocalEnv;
use super::kinds::minijinja::MinijinjaEntry;
use super::kinds::{Kind, ProvisionerKind};
use super::{Dialect, Provisioner, ProvisionerSet, ProvisionerSource};
use crate::diag::{describe_type, Code, Diagnostic, SourceFile, Span};
use crate::load::yaml::{self, escape_pointer_segment, Document, Limits};

/// Keys of an entry that are not target names: `engine` and `uri`, the keys every kind may have
/// ([`COMMON_KEYS`]), the `cmd://` kind's `args` and the template kinds' sections, in that order
/// (the order "did you mean" breaks ties in).
pub(crate) fn known_keys() -> impl Iterator<Item = &'static str> {
    ["engine", "uri"]
        .into_iter()
        .chain(COMMON_KEYS)
        .chain(["args"])
        .chain(crate::provision::kinds::CORE_SECTIONS)
}

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

/// Reads one entry of a provisioner file: its uri (which picks the kind), its other keys, and its
/// type.
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
    let cx = EntryCx { doc, uri };
    let (common, how) = if cx.uri.starts_with("local-env://") {
        let (c, k) = read_entry::<LocalEnv>(&cx, dir, pointer, fields)?;
        (c, Kind::LocalEnv(k))
    } else if cx.uri.starts_with("cmd://") {
        let (c, k) = read_entry::<CmdSpec>(&cx, dir, pointer, fields)?;
        (c, Kind::Cmd(k))
    } else {
        match cx.template_dialect(pointer, fields)? {
            Dialect::GoTemplate => {
                let (c, k) = read_entry::<GoEntry>(&cx, dir, pointer, fields)?;
                (c, Kind::GoTemplate(k))
            }
            Dialect::Minijinja => {
                let (c, k) = read_entry::<MinijinjaEntry>(&cx, dir, pointer, fields)?;
                (c, Kind::Minijinja(k))
            }
        }
    };
    let kind = entry_kind(doc, &cx.uri, pointer, common.kind)?;
    Ok(Provisioner {
        uri: cx.uri,
        kind,
        class: common.class,
        id: common.id,
        description: common.description,
        supported_params: common.supported_params,
        expected_outputs: common.expected_outputs,
        expected_output_spans: common.expected_output_spans,
        secret_outputs: common.secret_outputs,
        expression_outputs: common.expression_outputs,
        source: ProvisionerSource {
            file: file.clone(),
            line,
            index,
            dir: dir.map(Path::to_path_buf),
            trusted: true,
        },
        how,
    })
}

/// The one loop over an entry's keys, for every kind: in file order, failing at the first bad
/// key; `uri` is read already, the keys every kind shares (those `K` takes) are read here, and
/// `K` reads the rest.
fn read_entry<K: ProvisionerKind>(
    cx: &EntryCx<'_>,
    dir: Option<&Path>,
    pointer: &str,
    fields: &Map<String, Value>,
) -> Result<(CommonFields, K), Diagnostic> {
    let mut common = CommonFields::default();
    let mut builder = K::start(cx, pointer, fields, &mut common)?;
    // The YAML loader has already rejected duplicate keys, so each key is seen once.
    for (key, v) in fields {
        let key = key.as_str();
        let at = member(pointer, key);
        match key {
            "uri" => {}
            k if K::COMMON_KEYS.contains(&k) => common.read(cx, k, &at, v)?,
            k => K::read_key(&mut builder, cx, &mut common, k, &at, v)?,
        }
    }
    Ok((common, K::finish(builder, cx, dir)))
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

/// The keys every kind of entry may have (a kind takes those of them it lists in
/// [`ProvisionerKind::COMMON_KEYS`]), as read; `type` is checked once the whole entry is read.
#[derive(Default)]
pub(crate) struct CommonFields {
    /// The type and the pointer to its value.
    pub(crate) kind: Option<(String, String)>,
    pub(crate) class: Option<String>,
    pub(crate) id: Option<String>,
    pub(crate) description: String,
    pub(crate) supported_params: Option<Vec<String>>,
    pub(crate) expected_outputs: Vec<String>,
    /// Where each of `expected_outputs` is written, for an error naming a missing one.
    pub(crate) expected_output_spans: Vec<Option<Span>>,
    pub(crate) secret_outputs: Vec<String>,
    pub(crate) expression_outputs: Vec<String>,
}

/// The keys of [`CommonFields`].
pub(crate) const COMMON_KEYS: [&str; 8] = [
    "type",
    "class",
    "id",
    "description",
    "supported_params",
    "expected_outputs",
    "secret_outputs",
    "expression_outputs",
];

impl CommonFields {
    /// Reads `key`, one of [`COMMON_KEYS`], at `at`.
    fn read(&mut self, cx: &EntryCx<'_>, key: &str, at: &str, v: &Value) -> Result<(), Diagnostic> {
        match key {
            "type" => self.kind = Some((cx.string(key, at, v)?, at.to_string())),
            "class" => self.class = cx.opt_string(key, at, v)?,
            "id" => self.id = cx.opt_string(key, at, v)?,
            "description" => self.description = cx.opt_string(key, at, v)?.unwrap_or_default(),
            "supported_params" => self.supported_params = Some(cx.strings(key, at, v)?),
            "expected_outputs" => {
                self.expected_outputs = cx.strings(key, at, v)?;
                self.expected_output_spans = (0..self.expected_outputs.len())
                    .map(|i| cx.doc.spans.value(&format!("{at}/{i}")))
                    .collect();
            }
            "secret_outputs" => self.secret_outputs = cx.strings(key, at, v)?,
            "expression_outputs" => self.expression_outputs = cx.strings(key, at, v)?,
            other => unreachable!("'{other}' is not a common key"),
        }
        Ok(())
    }
}

impl EntryCx<'_> {
    /// The template language of a `template://` entry: `engine: minijinja` or
    /// `engine: gotemplate`; without `engine` it is a Go template, as for every Score tool.
    fn template_dialect(
        &self,
        pointer: &str,
        fields: &Map<String, Value>,
    ) -> Result<Dialect, Diagnostic> {
        let Some(v) = fields.get("engine") else {
            return Ok(Dialect::GoTemplate);
        };
        let at = member(pointer, "engine");
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
    fn opt_string(
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
}

/// The error for `args` in an entry that is not `cmd://`.
pub(crate) fn args_only_for_cmd(cx: &EntryCx<'_>, at: &str) -> Diagnostic {
    err_key(
        cx.doc,
        at,
        format!(
            "provisioner '{}': 'args' is only allowed for cmd:// provisioners",
            cx.uri
        ),
    )
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

pub(crate) fn known_keys_list() -> String {
    let mut k: Vec<&str> = known_keys().collect();
    k.sort_unstable();
    k.dedup();
    k.join(", ")
}
