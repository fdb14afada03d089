//! Provisioner files: the YAML format, loading with line numbers, and matching resources.
//!
//! The format is specified in `spec/provisioners.md` and `schemas/provisioners.json`. Loading
//! keeps the line of every entry and every template section, so a template error at render time
//! can point at the exact line of the file.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use indexmap::IndexMap;
use serde_json::{Map, Value};

use super::gotemplate::{self, GoError, GoFunction, GoTemplate};
use super::template::{self, ErrorSite, SectionTemplate, Templates};
use crate::diag::{describe_type, Code, Diagnostic, SourceFile, Span};
use crate::load::yaml::{self, escape_pointer_segment, Document, Limits};
use crate::uid::ResourceUid;

/// The four sections every template provisioner may have, in render order.
pub(crate) const CORE_SECTIONS: [&str; 4] = ["init", "state", "shared", "outputs"];

/// Keys of an entry that are not target names.
const KNOWN_KEYS: [&str; 15] = [
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

/// Where a provisioner entry was defined.
#[derive(Debug, Clone)]
pub struct ProvisionerSource {
    /// The provisioner file (display name and text), for diagnostics.
    pub file: Arc<SourceFile>,
    /// 1-based line of the entry's first key.
    pub line: usize,
    /// The entry's position within its file (0-based).
    pub index: usize,
    /// The directory relative `cmd://./x` programs resolved against (`None`: the file is not on
    /// the local disk, so such programs cannot run).
    pub dir: Option<PathBuf>,
    /// Whether the file is trusted like the project's own code (a local file, or a remote one
    /// pinned by hash): [`super::CommandPolicy::AllowTrusted`] runs only these entries' programs.
    pub trusted: bool,
}

impl fmt::Display for ProvisionerSource {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}", self.file.name, self.line)
    }
}

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

/// The template language of a `template://` entry (spec/provisioners.md, "Dialects").
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum Dialect {
    /// Go `text/template` with sprig, in the score-compose / score-k8s entry format: what
    /// `template://` means to every Score tool, and the default.
    GoTemplate,
    /// score-gen's own minijinja entries (`engine: minijinja`).
    Minijinja,
}

/// How an entry provisions: templates rendered in-process, or an external command.
#[derive(Debug, Clone)]
pub(crate) enum Engine {
    Template(TemplateEntry),
    Go(GoEntry),
    Cmd(CmdSpec),
    /// `local-env://`: each requested output is `${KEY}`, read by compose when it runs.
    LocalEnv,
}

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

/// The compiled sections of a `template://` entry.
#[derive(Debug, Clone)]
pub(crate) struct TemplateEntry {
    pub templates: Templates,
    /// `init`, `state`, `shared`, `outputs` (those present).
    pub core: BTreeMap<String, SectionTemplate>,
    /// target name → section name → template, in file order.
    pub targets: BTreeMap<String, IndexMap<String, SectionTemplate>>,
}

/// The program a `cmd://` entry runs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CmdSpec {
    /// Resolved program: an absolute/relative path, or a bare name looked up on `PATH`.
    pub program: PathBuf,
    /// Extra arguments.
    pub args: Vec<String>,
}

impl CmdSpec {
    /// The program and its arguments as one line, for listings and `-v`.
    ///
    /// ```
    /// let c = score_core::provision::CmdSpec { program: "/bin/sh".into(), args: vec!["-c".into(), "true".into()] };
    /// assert_eq!(c.command_line(), "/bin/sh -c true");
    /// ```
    pub fn command_line(&self) -> String {
        std::iter::once(self.program.display().to_string())
            .chain(self.args.iter().cloned())
            .collect::<Vec<_>>()
            .join(" ")
    }
}

/// One entry of a provisioner file.
///
/// ```
/// use score_core::provision::ProvisionerSet;
/// let text = "- uri: template://x\n  engine: minijinja\n  type: redis\n  outputs: |\n    host: redis\n";
/// let set = ProvisionerSet::load(&[score_core::input::ProvisionerFile::new("p.yaml", text)]).unwrap();
/// let p = set.iter().next().unwrap();
/// assert_eq!((p.uri.as_str(), p.kind.as_str(), p.source.line), ("template://x", "redis", 1));
/// ```
#[derive(Debug, Clone)]
pub struct Provisioner {
    /// Unique id of the entry (`template://...` or `cmd://...`).
    pub uri: String,
    /// Resource type it provisions.
    pub kind: String,
    /// Only this class, when set.
    pub class: Option<String>,
    /// Only this resource id, when set.
    pub id: Option<String>,
    /// Free text for `provisioners list`.
    pub description: String,
    /// When set, any other param is an error.
    pub supported_params: Option<Vec<String>>,
    /// Outputs that must be present after provisioning.
    pub expected_outputs: Vec<String>,
    /// Where each of `expected_outputs` is written in the file (for a missing one's error).
    pub(crate) expected_output_spans: Vec<Option<Span>>,
    /// Top-level output keys that are secret.
    pub secret_outputs: Vec<String>,
    /// Top-level output keys that are target expressions, not literals.
    pub expression_outputs: Vec<String>,
    /// Where the entry is.
    pub source: ProvisionerSource,
    pub(crate) engine: Engine,
}

impl Provisioner {
    /// True when the entry matches the resource: type equal, and class / id equal when set.
    pub(crate) fn matches(&self, uid: &ResourceUid) -> bool {
        self.kind == uid.kind()
            && self.class.as_deref().is_none_or(|c| c == uid.class())
            && self.id.as_deref().is_none_or(|i| i == uid.id())
    }

    /// True for `cmd://` entries.
    pub fn is_cmd(&self) -> bool {
        matches!(self.engine, Engine::Cmd(_))
    }

    /// The template language of a `template://` entry (`None` for `cmd://`).
    pub fn dialect(&self) -> Option<Dialect> {
        match self.engine {
            Engine::Template(_) => Some(Dialect::Minijinja),
            Engine::Go(_) => Some(Dialect::GoTemplate),
            Engine::Cmd(_) | Engine::LocalEnv => None,
        }
    }

    /// The command of a `cmd://` entry.
    pub fn cmd(&self) -> Option<&CmdSpec> {
        match &self.engine {
            Engine::Cmd(c) => Some(c),
            _ => None,
        }
    }
}

/// An ordered list of provisioners: user files first (in the order given), target defaults last.
#[derive(Debug, Clone, Default)]
pub struct ProvisionerSet {
    entries: Vec<Provisioner>,
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

    /// Appends the entries of `other` after this set's (e.g. target defaults after user files).
    pub fn extend(&mut self, other: ProvisionerSet) {
        self.entries.extend(other.entries);
    }

    /// The first entry that matches `uid`: type equal, and class / id equal when the entry sets them.
    pub fn find(&self, uid: &ResourceUid) -> Option<&Provisioner> {
        self.entries.iter().find(|p| p.matches(uid))
    }

    /// The error for a resource no entry matches: names the uid and the types that do have
    /// provisioners (sorted), so a typo in `type:` is obvious.
    pub fn no_match_error(&self, uid: &ResourceUid) -> Diagnostic {
        let types: BTreeSet<&str> = self.entries.iter().map(|p| p.kind.as_str()).collect();
        let same_type: Vec<String> = self
            .entries
            .iter()
            .filter(|p| p.kind == uid.kind())
            .map(|p| {
                let mut s = p.uri.clone();
                if let Some(c) = &p.class {
                    s.push_str(&format!(" (class {c})"));
                }
                if let Some(i) = &p.id {
                    s.push_str(&format!(" (id {i})"));
                }
                s
            })
            .collect();
        let help = if !same_type.is_empty() {
            format!(
                "provisioners for type '{}' exist but none matches class '{}' and id '{}': {}",
                uid.kind(),
                uid.class(),
                uid.id(),
                same_type.join(", ")
            )
        } else if types.is_empty() {
            "no provisioners are loaded; pass a provisioner file".to_string()
        } else {
            format!(
                "types with provisioners: {}; add a provisioner for '{}' or fix the resource type",
                types.into_iter().collect::<Vec<_>>().join(", "),
                uid.kind()
            )
        };
        Diagnostic::new(
            Code::ProvisionNoMatch,
            format!("resource '{uid}' is not supported by any provisioner"),
        )
        .with_help(help)
    }

    /// Every entry, in priority order.
    pub fn iter(&self) -> impl Iterator<Item = &Provisioner> {
        self.entries.iter()
    }

    /// Number of entries.
    pub fn len(&self) -> usize {
        self.entries.len()
    }

    /// True when no entries are loaded.
    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
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
fn err_value(doc: &Document, pointer: &str, msg: String) -> Diagnostic {
    err_at(doc, pointer, doc.spans.value(pointer), msg)
}

/// An error about the mapping key of the member at `pointer`.
fn err_key(doc: &Document, pointer: &str, msg: String) -> Diagnostic {
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
fn member(parent: &str, key: &str) -> String {
    format!("{parent}/{}", escape_pointer_segment(key))
}

struct EntryCx<'a> {
    doc: &'a Document,
    uri: String,
}

impl EntryCx<'_> {
    fn string(&self, key: &str, pointer: &str, v: &Value) -> Result<String, Diagnostic> {
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

    fn strings(&self, key: &str, pointer: &str, v: &Value) -> Result<Vec<String>, Diagnostic> {
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

/// A `local-env://` entry (score-compose's environment provisioner): `type` defaults to
/// `environment`; every output a workload asks for is the compose interpolation of the
/// variable of the same name, left for compose to read from the shell or `.env`.
fn local_env_entry(
    doc: &Document,
    dir: Option<&Path>,
    index: usize,
    pointer: &str,
    uri: String,
    fields: &Map<String, Value>,
) -> Result<Provisioner, Diagnostic> {
    let cx = EntryCx { doc, uri };
    let mut p = Provisioner {
        uri: String::new(),
        kind: "environment".into(),
        class: None,
        id: None,
        description: String::new(),
        supported_params: Some(Vec::new()),
        expected_outputs: Vec::new(),
        expected_output_spans: Vec::new(),
        secret_outputs: Vec::new(),
        expression_outputs: vec!["*".into()],
        source: ProvisionerSource {
            file: doc.source.clone(),
            line: doc.spans.value(pointer).map_or(0, |s| s.line),
            index,
            dir: dir.map(Path::to_path_buf),
            trusted: true,
        },
        engine: Engine::LocalEnv,
    };
    for (key, v) in fields {
        let at = member(pointer, key);
        match key.as_str() {
            "uri" => {}
            "type" => p.kind = entry_kind(doc, &cx.uri, pointer, Some((cx.string(key, &at, v)?, at)))?,
            "class" => p.class = cx.opt_string(key, &at, v)?,
            "description" => p.description = cx.opt_string(key, &at, v)?.unwrap_or_default(),
            "supported_params" => p.supported_params = Some(cx.strings(key, &at, v)?),
            "expected_outputs" => {
                p.expected_outputs = cx.strings(key, &at, v)?;
                p.expected_output_spans = (0..p.expected_outputs.len())
                    .map(|i| doc.spans.value(&format!("{at}/{i}")))
                    .collect();
            }
            other => {
                return Err(err_key(
                    doc,
                    &at,
                    format!("provisioner '{}': unknown key '{other}' for a local-env:// provisioner", cx.uri),
                )
                .with_help("a local-env:// entry takes uri, type, class, description, supported_params and expected_outputs"))
            }
        }
    }
    p.uri = cx.uri;
    Ok(p)
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
fn entry_kind(
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

    /// Compiles the sections of the target section `target` (at `at`), which must be a mapping.
    fn target_templates(
        &self,
        env: &mut minijinja::Environment<'static>,
        target: &str,
        at: &str,
        v: &Value,
    ) -> Result<IndexMap<String, SectionTemplate>, Diagnostic> {
        let Value::Object(sections) = v else {
            // Not a target's sections: most likely a misspelt key.
            let help = match crate::validate::schema::closest(target, KNOWN_KEYS.iter().copied()) {
                Some(k) => format!("did you mean '{k}'?"),
                None => format!(
                    "known keys: {}; a target's name as a key maps section names to templates",
                    known_keys()
                ),
            };
            return Err(self.unknown_key(at, target, help));
        };
        let mut m = IndexMap::new();
        for (name, sv) in sections {
            let label = format!("{target}.{name}");
            let s = self.add_template(
                env,
                format!("{target}/{name}"),
                label,
                &member(at, name),
                sv,
            )?;
            m.insert(name.clone(), s);
        }
        Ok(m)
    }

    /// Compiles one template section (at `at`) into `env` under `env_name`; `label` names it in
    /// errors.
    fn add_template(
        &self,
        env: &mut minijinja::Environment<'static>,
        env_name: String,
        label: String,
        at: &str,
        v: &Value,
    ) -> Result<SectionTemplate, Diagnostic> {
        let doc = self.doc;
        let uri = &self.uri;
        let text = self.template_text(&label, at, v)?.to_string();
        // The loader's span of a block scalar starts at its first content line, which is the
        // line a template's own line 1 maps to.
        let first_line = doc.spans.value(at).map_or(1, |s| s.line.max(1));
        let section = SectionTemplate {
            env_name: env_name.clone(),
            first_line,
            // Without a loader, every call is in the section's own text.
            uses_rand: text.contains("rand_alnum"),
        };
        env.add_template_owned(env_name, text).map_err(|e| {
            template::template_diagnostic(
                Code::ProvisionTemplateSyntax,
                &e,
                &ErrorSite {
                    file: &doc.source,
                    uri,
                    section: &label,
                    first_line: section.first_line,
                },
            )
        })?;
        Ok(section)
    }
}

impl EntryCx<'_> {
    /// The error for an entry key that is neither known nor a target's sections.
    fn unknown_key(&self, at: &str, key: &str, help: String) -> Diagnostic {
        err_key(
            self.doc,
            at,
            format!("provisioner '{}': unknown key '{key}'", self.uri),
        )
        .with_help(help)
    }

    /// A template section's text (`null` = empty), or the error for any other value.
    fn template_text<'v>(
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
                KNOWN_KEYS
                    .iter()
                    .chain(ECOSYSTEM_SECTIONS.iter())
                    .copied(),
            ) {
                Some(k) => format!("did you mean '{k}'?"),
                None => format!(
                    "known keys: {}, the ecosystem's target sections {} and a target name mapping section names to templates",
                    known_keys(),
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

fn known_keys() -> String {
    let mut k: Vec<&str> = KNOWN_KEYS.to_vec();
    k.sort_unstable();
    k.dedup();
    k.join(", ")
}

/// `cmd://` path rules: `./x`, `../x` and any path with a `/` that is not absolute resolve
/// against the file's directory; `~/x` against `$HOME`; absolute paths stay; a bare name is looked
/// up on `PATH` by the OS. A `#fragment` is not part of the program: it only makes the uri unique
/// when several entries run the same program with different `args`.
fn resolve_program(rest: &str, dir: Option<&Path>) -> PathBuf {
    let rest = rest.split_once('#').map_or(rest, |(p, _)| p);
    if let Some(home_rel) = rest.strip_prefix("~/") {
        #[cfg(feature = "host")]
        if let Some(home) = crate::host::home_dir() {
            return home.join(home_rel);
        }
        #[cfg(not(feature = "host"))]
        let _ = home_rel;
    }
    let p = Path::new(rest);
    if p.is_absolute() || !rest.contains('/') {
        return p.to_path_buf();
    }
    match dir {
        // `./` adds nothing after a directory (and `././x` in a message confuses).
        Some(d) => d.join(p.strip_prefix(".").unwrap_or(p)),
        None => p.to_path_buf(),
    }
}
