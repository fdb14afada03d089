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
use serde::de::{self, Deserializer, MapAccess, SeqAccess, Visitor};
use serde::Deserialize;
use serde_saphyr::Spanned;

use super::template::{self, ErrorSite, SectionTemplate, Templates};
use crate::diag::{Diagnostic, SourceFile, Span};
use crate::uid::ResourceUid;

/// The four sections every template provisioner may have, in render order.
pub const CORE_SECTIONS: [&str; 4] = ["init", "state", "shared", "outputs"];

/// Keys of an entry that are not target names.
const KNOWN_KEYS: [&str; 14] = [
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
}

impl fmt::Display for ProvisionerSource {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}", self.file.name, self.line)
    }
}

/// How an entry provisions: templates rendered in-process, or an external command.
#[derive(Debug, Clone)]
pub(crate) enum Engine {
    Template(TemplateEntry),
    Cmd(CmdSpec),
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

/// One entry of a provisioner file.
///
/// ```
/// use score_core::provision::ProvisionerSet;
/// let text = "- uri: template://x\n  type: redis\n  outputs: |\n    host: redis\n";
/// let set = ProvisionerSet::load(&[("p.yaml".into(), text.into(), None)]).unwrap();
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
    pub fn matches(&self, uid: &ResourceUid) -> bool {
        self.kind == uid.kind()
            && self.class.as_deref().is_none_or(|c| c == uid.class())
            && self.id.as_deref().is_none_or(|i| i == uid.id())
    }

    /// True for `cmd://` entries.
    pub fn is_cmd(&self) -> bool {
        matches!(self.engine, Engine::Cmd(_))
    }

    /// The command of a `cmd://` entry.
    pub fn cmd(&self) -> Option<&CmdSpec> {
        match &self.engine {
            Engine::Cmd(c) => Some(c),
            Engine::Template(_) => None,
        }
    }

    /// Target names this entry has sections for (sorted).
    pub fn targets(&self) -> Vec<&str> {
        match &self.engine {
            Engine::Template(t) => t.targets.keys().map(String::as_str).collect(),
            Engine::Cmd(_) => Vec::new(),
        }
    }

    /// Section names this entry has for `target`, in file order.
    pub fn target_sections(&self, target: &str) -> Vec<&str> {
        match &self.engine {
            Engine::Template(t) => t
                .targets
                .get(target)
                .map(|m| m.keys().map(String::as_str).collect())
                .unwrap_or_default(),
            Engine::Cmd(_) => Vec::new(),
        }
    }
}

/// An ordered list of provisioners: user files first (in the order given), target defaults last.
#[derive(Debug, Clone, Default)]
pub struct ProvisionerSet {
    entries: Vec<Provisioner>,
}

/// One input file for [`ProvisionerSet::load`]: display name, text, and the directory that
/// relative `cmd://./...` paths resolve against (`None`: the process's working directory).
pub type ProvisionerFile = (String, String, Option<PathBuf>);

impl ProvisionerSet {
    /// Loads files in priority order (user files first, target defaults last).
    ///
    /// Compiles every template once; syntax errors, unknown keys and wrong types are reported
    /// with the file and line.
    ///
    /// ```
    /// use score_core::provision::ProvisionerSet;
    /// let user = "- uri: template://big\n  type: postgres\n  class: large\n";
    /// let defaults = "- uri: template://pg\n  type: postgres\n";
    /// let set = ProvisionerSet::load(&[
    ///     ("mine.yaml".into(), user.into(), None),
    ///     ("defaults".into(), defaults.into(), None),
    /// ]).unwrap();
    /// let uid = score_core::ResourceUid::new("w", "db", "postgres", None, None);
    /// assert_eq!(set.find(&uid).unwrap().uri, "template://pg");
    /// ```
    pub fn load(files: &[ProvisionerFile]) -> Result<Self, Diagnostic> {
        let mut entries = Vec::new();
        for (name, text, dir) in files {
            let file = Arc::new(SourceFile::new(name.clone(), text.clone()));
            entries.extend(load_file(&file, dir.as_deref())?);
        }
        Ok(Self { entries })
    }

    /// Appends the entries of `other` after this set's (e.g. target defaults after user files).
    pub fn extend(&mut self, other: ProvisionerSet) {
        self.entries.extend(other.entries);
    }

    /// The first entry that matches `uid` (see [`Provisioner::matches`]).
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
            "score::provision",
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
// Raw YAML with spans everywhere. `Spanned` loses its location inside untagged enums, so the
// node type has a hand-written visitor that asks for `Spanned<Node>` children directly.

#[derive(Debug)]
enum Node {
    Null,
    Bool,
    Number,
    Str(String),
    Seq(Vec<Spanned<Node>>),
    Map(Vec<(Spanned<String>, Spanned<Node>)>),
}

impl Node {
    fn type_name(&self) -> &'static str {
        match self {
            Node::Null => "null",
            Node::Bool => "a boolean",
            Node::Number => "a number",
            Node::Str(_) => "a string",
            Node::Seq(_) => "a list",
            Node::Map(_) => "a mapping",
        }
    }
}

impl<'de> Deserialize<'de> for Node {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = Node;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a YAML value")
            }
            fn visit_unit<E: de::Error>(self) -> Result<Node, E> {
                Ok(Node::Null)
            }
            fn visit_none<E: de::Error>(self) -> Result<Node, E> {
                Ok(Node::Null)
            }
            fn visit_some<D: Deserializer<'de>>(self, d: D) -> Result<Node, D::Error> {
                Node::deserialize(d)
            }
            fn visit_bool<E: de::Error>(self, _: bool) -> Result<Node, E> {
                Ok(Node::Bool)
            }
            fn visit_i64<E: de::Error>(self, _: i64) -> Result<Node, E> {
                Ok(Node::Number)
            }
            fn visit_u64<E: de::Error>(self, _: u64) -> Result<Node, E> {
                Ok(Node::Number)
            }
            fn visit_i128<E: de::Error>(self, _: i128) -> Result<Node, E> {
                Ok(Node::Number)
            }
            fn visit_u128<E: de::Error>(self, _: u128) -> Result<Node, E> {
                Ok(Node::Number)
            }
            fn visit_f64<E: de::Error>(self, _: f64) -> Result<Node, E> {
                Ok(Node::Number)
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<Node, E> {
                Ok(Node::Str(v.to_string()))
            }
            fn visit_string<E: de::Error>(self, v: String) -> Result<Node, E> {
                Ok(Node::Str(v))
            }
            fn visit_seq<A: SeqAccess<'de>>(self, mut a: A) -> Result<Node, A::Error> {
                let mut out = Vec::new();
                while let Some(v) = a.next_element::<Spanned<Node>>()? {
                    out.push(v);
                }
                Ok(Node::Seq(out))
            }
            fn visit_map<A: MapAccess<'de>>(self, mut a: A) -> Result<Node, A::Error> {
                let mut out = Vec::new();
                while let Some(k) = a.next_key::<Spanned<String>>()? {
                    let v = a.next_value::<Spanned<Node>>()?;
                    out.push((k, v));
                }
                Ok(Node::Map(out))
            }
        }
        d.deserialize_any(V)
    }
}

/// Span of a saphyr location in `file` (byte offset when known, else from the line start).
fn span_of(file: &SourceFile, loc: &serde_saphyr::Location) -> Option<Span> {
    let line = usize::try_from(loc.line()).ok().filter(|l| *l > 0)?;
    let col = usize::try_from(loc.column()).unwrap_or(1).max(1);
    let offset = match loc.span().byte_offset() {
        Some(o) => usize::try_from(o).ok()?,
        None => {
            let start: usize = file
                .text
                .split_inclusive('\n')
                .take(line - 1)
                .map(str::len)
                .sum();
            start
                + file.text[start.min(file.text.len())..]
                    .chars()
                    .take(col - 1)
                    .map(char::len_utf8)
                    .sum::<usize>()
        }
    };
    let len = loc
        .span()
        .byte_len()
        .and_then(|l| usize::try_from(l).ok())
        .unwrap_or(0);
    Some(Span::new(offset.min(file.text.len()), len, line, col))
}

fn err_at(file: &Arc<SourceFile>, loc: &serde_saphyr::Location, msg: String) -> Diagnostic {
    let d = Diagnostic::new("score::provision", msg).with_file(file.clone());
    match span_of(file, loc) {
        Some(s) => d.with_span(s),
        None => d,
    }
}

/// 1-based line where the text of a scalar starts: the line after `|`/`>` for block scalars.
fn content_first_line(file: &SourceFile, loc: &serde_saphyr::Location) -> usize {
    let line = usize::try_from(loc.line()).unwrap_or(1).max(1);
    let Some(span) = span_of(file, loc) else {
        return line;
    };
    match file.text[span.offset..].chars().next() {
        Some('|') | Some('>') => line + 1,
        _ => line,
    }
}

struct EntryCx<'a> {
    file: &'a Arc<SourceFile>,
    uri: String,
}

impl EntryCx<'_> {
    fn string(&self, key: &str, v: &Spanned<Node>) -> Result<String, Diagnostic> {
        match &v.value {
            Node::Str(s) => Ok(s.clone()),
            other => Err(err_at(
                self.file,
                &v.referenced,
                format!(
                    "provisioner '{}': '{key}' must be a string, not {}",
                    self.uri,
                    other.type_name()
                ),
            )),
        }
    }

    fn strings(&self, key: &str, v: &Spanned<Node>) -> Result<Vec<String>, Diagnostic> {
        match &v.value {
            Node::Null => Ok(Vec::new()),
            Node::Seq(items) => items
                .iter()
                .map(|i| match &i.value {
                    Node::Str(s) => Ok(s.clone()),
                    other => Err(err_at(
                        self.file,
                        &i.referenced,
                        format!(
                            "provisioner '{}': '{key}' must be a list of strings, found {}",
                            self.uri,
                            other.type_name()
                        ),
                    )),
                })
                .collect(),
            other => Err(err_at(
                self.file,
                &v.referenced,
                format!(
                    "provisioner '{}': '{key}' must be a list of strings, not {}",
                    self.uri,
                    other.type_name()
                ),
            )),
        }
    }
}

fn load_file(file: &Arc<SourceFile>, dir: Option<&Path>) -> Result<Vec<Provisioner>, Diagnostic> {
    if file.text.trim().is_empty() {
        return Ok(Vec::new());
    }
    let root: Spanned<Node> = serde_saphyr::from_str(&file.text).map_err(|e| {
        let d = Diagnostic::new(
            "score::provision",
            format!(
                "provisioner file '{}' is not valid YAML: {}",
                file.name,
                e.without_snippet()
            ),
        )
        .with_file(file.clone());
        match e.location().and_then(|l| span_of(file, &l)) {
            Some(s) => d.with_span(s),
            None => d,
        }
    })?;
    let items = match root.value {
        Node::Null => return Ok(Vec::new()),
        Node::Seq(items) => items,
        other => {
            return Err(err_at(
                file,
                &root.referenced,
                format!(
                    "provisioner file '{}' must be a list of provisioners, not {}",
                    file.name,
                    other.type_name()
                ),
            ))
        }
    };
    let mut seen: BTreeMap<String, usize> = BTreeMap::new();
    let mut out = Vec::with_capacity(items.len());
    for (index, item) in items.into_iter().enumerate() {
        // The second `uri:` value is where the duplicate is reported (file:line:col).
        let uri_loc = match &item.value {
            Node::Map(fields) => fields
                .iter()
                .find(|(k, _)| k.value == "uri")
                .map(|(_, v)| v.referenced),
            _ => None,
        };
        let p = load_entry(file, dir, index, item)?;
        if let Some(prev) = seen.insert(p.uri.clone(), p.source.line) {
            let msg = format!(
                "provisioner '{}' is defined twice in '{}' (lines {} and {})",
                p.uri, file.name, prev, p.source.line
            );
            let d = match uri_loc {
                Some(loc) => err_at(file, &loc, msg),
                None => Diagnostic::new("score::provision", msg).with_file(file.clone()),
            };
            return Err(d.with_help("each entry's uri must be unique within its file"));
        }
        out.push(p);
    }
    Ok(out)
}

fn load_entry(
    file: &Arc<SourceFile>,
    dir: Option<&Path>,
    index: usize,
    item: Spanned<Node>,
) -> Result<Provisioner, Diagnostic> {
    let line = usize::try_from(item.referenced.line()).unwrap_or(0);
    let Node::Map(fields) = item.value else {
        return Err(err_at(
            file,
            &item.referenced,
            format!(
                "provisioner #{} in '{}' must be a mapping, not {}",
                index + 1,
                file.name,
                item.value.type_name()
            ),
        ));
    };
    let uri_node = fields.iter().find(|(k, _)| k.value == "uri");
    let mut cx = EntryCx {
        file,
        uri: format!("#{}", index + 1),
    };
    let uri = match uri_node {
        Some((_, v)) => cx.string("uri", v)?,
        None => {
            return Err(err_at(
                file,
                &item.referenced,
                format!("provisioner #{} in '{}' has no 'uri'", index + 1, file.name),
            )
            .with_help("every entry needs `uri: template://<name>` or `uri: cmd://<program>`"))
        }
    };
    cx.uri = uri.clone();
    let is_cmd = uri.starts_with("cmd://");
    if !is_cmd && !uri.starts_with("template://") {
        let (_, v) = uri_node.expect("checked above");
        return Err(err_at(
            file,
            &v.referenced,
            format!("provisioner '{uri}': uri must start with 'template://' or 'cmd://'"),
        ));
    }

    let mut kind = None;
    let mut class = None;
    let mut id = None;
    let mut description = String::new();
    let mut supported_params = None;
    let mut expected_outputs = Vec::new();
    let mut secret_outputs = Vec::new();
    let mut expression_outputs = Vec::new();
    let mut args = None;
    let mut env = template::new_environment();
    let mut core = BTreeMap::new();
    let mut targets: BTreeMap<String, IndexMap<String, SectionTemplate>> = BTreeMap::new();

    let add_template = |env: &mut minijinja::Environment<'static>,
                        env_name: String,
                        label: String,
                        v: &Spanned<Node>|
     -> Result<SectionTemplate, Diagnostic> {
        let text = match &v.value {
            Node::Str(s) => s.clone(),
            Node::Null => String::new(),
            other => {
                return Err(err_at(
                    file,
                    &v.referenced,
                    format!(
                        "provisioner '{uri}': section '{label}' must be a template string, not {}",
                        other.type_name()
                    ),
                )
                .with_help("write the section as a YAML block scalar: `outputs: |`"))
            }
        };
        let section = SectionTemplate {
            env_name: env_name.clone(),
            first_line: content_first_line(file, &v.referenced),
        };
        env.add_template_owned(env_name, text).map_err(|e| {
            template::template_diagnostic(
                &e,
                &ErrorSite {
                    file,
                    uri: &uri,
                    section: &label,
                    first_line: section.first_line,
                },
            )
        })?;
        Ok(section)
    };

    let mut seen_keys = BTreeSet::new();
    for (k, v) in &fields {
        let key = k.value.as_str();
        if !seen_keys.insert(key.to_string()) {
            return Err(err_at(
                file,
                &k.referenced,
                format!("provisioner '{}': duplicate key '{key}'", cx.uri),
            ));
        }
        match key {
            "uri" => {}
            "type" => kind = Some((cx.string(key, v)?, v)),
            "class" => class = Some(cx.string(key, v)?),
            "id" => id = Some(cx.string(key, v)?),
            "description" => description = cx.string(key, v)?,
            "supported_params" => supported_params = Some(cx.strings(key, v)?),
            "expected_outputs" => expected_outputs = cx.strings(key, v)?,
            "secret_outputs" => secret_outputs = cx.strings(key, v)?,
            "expression_outputs" => expression_outputs = cx.strings(key, v)?,
            "args" => {
                if !is_cmd {
                    return Err(err_at(
                        file,
                        &k.referenced,
                        format!(
                            "provisioner '{}': 'args' is only allowed for cmd:// provisioners",
                            cx.uri
                        ),
                    ));
                }
                args = Some(cx.strings(key, v)?);
            }
            "init" | "state" | "shared" | "outputs" => {
                if is_cmd {
                    return Err(err_at(
                        file,
                        &k.referenced,
                        format!(
                            "provisioner '{}': cmd:// provisioners have no template sections ('{key}')",
                            cx.uri
                        ),
                    ));
                }
                let s = add_template(&mut env, key.to_string(), key.to_string(), v)?;
                core.insert(key.to_string(), s);
            }
            target => {
                if is_cmd {
                    return Err(err_at(
                        file,
                        &k.referenced,
                        format!(
                            "provisioner '{}': unknown key '{target}' (cmd:// provisioners have no target sections)",
                            cx.uri
                        ),
                    ));
                }
                let Node::Map(sections) = &v.value else {
                    return Err(err_at(
                        file,
                        &v.referenced,
                        format!(
                            "provisioner '{}': unknown key '{target}' with {} value (a target section must map section names to templates)",
                            cx.uri,
                            v.value.type_name()
                        ),
                    )
                    .with_help(format!("known keys: {}", known_keys()) ));
                };
                let mut m = IndexMap::new();
                for (sk, sv) in sections {
                    let label = format!("{target}.{}", sk.value);
                    let s = add_template(&mut env, format!("{target}/{}", sk.value), label, sv)?;
                    if m.insert(sk.value.clone(), s).is_some() {
                        return Err(err_at(
                            file,
                            &sk.referenced,
                            format!("provisioner '{}': duplicate key '{}'", cx.uri, sk.value),
                        ));
                    }
                }
                targets.insert(target.to_string(), m);
            }
        }
    }

    let Some((kind, kind_node)) = kind else {
        return Err(err_at(
            file,
            &item.referenced,
            format!("provisioner '{uri}' has no 'type'"),
        ));
    };
    if kind.is_empty() || kind.contains(['.', '#']) {
        return Err(err_at(
            file,
            &kind_node.referenced,
            format!(
                "provisioner '{uri}': type '{kind}' must be non-empty and contain no '.' or '#'"
            ),
        ));
    }

    let engine = if is_cmd {
        Engine::Cmd(CmdSpec {
            program: resolve_program(&uri["cmd://".len()..], dir),
            args: args.unwrap_or_default(),
        })
    } else {
        Engine::Template(TemplateEntry {
            templates: Templates::new(env),
            core,
            targets,
        })
    };

    Ok(Provisioner {
        uri,
        kind,
        class,
        id,
        description,
        supported_params,
        expected_outputs,
        secret_outputs,
        expression_outputs,
        source: ProvisionerSource {
            file: file.clone(),
            line,
            index,
        },
        engine,
    })
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
        if let Some(home) = std::env::var_os("HOME") {
            return PathBuf::from(home).join(home_rel);
        }
    }
    let p = Path::new(rest);
    if p.is_absolute() || !rest.contains('/') {
        return p.to_path_buf();
    }
    match dir {
        Some(d) => d.join(p),
        None => p.to_path_buf(),
    }
}
