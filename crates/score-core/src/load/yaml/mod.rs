//! YAML text → values: the one place score-core turns text into a value.
//!
//! - [`parse`] / [`parse_any`]: a whole file → [`Document`], a `serde_json::Value` plus a span
//!   for every node (Score files, override files, provisioner files);
//! - `parse_section`: a rendered provisioner section → value;
//! - `parse_scalar_value` (an `--override-property` value) and `from_str_typed` (the state
//!   file) for the rest.
//!
//! Two fast paths (`fast`: a document straight from parser events; `simple` and `events`:
//! rendered sections) answer only when their answer is certain to be serde-saphyr's; everything
//! else goes to serde-saphyr. With the `yaml-cross-check` feature (turned on by the workspace's
//! tests and the fuzzers, never by default) every fast answer is checked against serde-saphyr.
//!
//! YAML (and therefore JSON, which is valid YAML) is parsed with serde-saphyr into a private
//! spanned node tree, then converted to a [`serde_json::Value`] and a [`SpanIndex`] keyed by JSON
//! pointer. Later stages (schema, validate, upgrade) work on the plain value and use the index to
//! point their diagnostics at the exact place in the file. See `spec/loading.md` for the rules.
//!
//! ```
//! use score_core::load::yaml::parse_str;
//! let doc = parse_str("score.yaml", "apiVersion: score.dev/v1b1\nmetadata:\n  name: hello\n").unwrap();
//! assert_eq!(doc.value["metadata"]["name"], "hello");
//! let span = doc.spans.value("/metadata/name").unwrap();
//! assert_eq!((span.line, span.column), (3, 9));
//! let key = doc.spans.key("/metadata/name").unwrap();
//! assert_eq!((key.line, key.column), (3, 3));
//! ```

// The project-wide error shape is `Diagnostic` (184 bytes); boxing it here alone would make this
// stage's API differ from every other stage's.
#![allow(clippy::result_large_err)]

use std::collections::HashMap;
use std::fmt;
use std::sync::Arc;

use serde::de::{self, Deserialize, Deserializer, MapAccess, SeqAccess, Visitor};
use serde_json::{Map, Number, Value};
use serde_saphyr::budget::BudgetBreach;
use serde_saphyr::{DuplicateKeyPolicy, Location, Spanned};

use crate::diag::{Code, Diagnostic, SourceFile, Span};

mod events;
mod fast;
mod gov3;
mod simple;

/// A parsed Score (or provisioner) file: its source, its value and where each value came from.
#[derive(Debug, Clone)]
pub struct Document {
    /// The file the value was read from (shared with every diagnostic pointing into it).
    pub source: Arc<SourceFile>,
    /// The document as JSON. Integers stay integers, floats stay floats; map order is file order.
    pub value: serde_json::Value,
    /// JSON pointer → span of the value (and of the key, for mapping members).
    pub spans: SpanIndex,
}

impl Document {
    /// A diagnostic pointing at `pointer` — its own span, else that of the nearest ancestor that
    /// has one — with the file and pointer attached.
    ///
    /// ```
    /// use score_core::load::yaml::parse_str;
    /// use score_core::Code;
    /// let doc = parse_str("s.yaml", "containers:\n  web:\n    image: nginx\n").unwrap();
    /// let d = doc.diagnostic(Code::SchemaViolation, "/containers/web/ports", "unknown property");
    /// assert_eq!(d.location(), "s.yaml:3:5"); // nearest existing node: the `web` mapping
    /// assert_eq!(d.pointer.as_deref(), Some("/containers/web/ports"));
    /// ```
    pub fn diagnostic(&self, code: Code, pointer: &str, message: impl Into<String>) -> Diagnostic {
        let d = Diagnostic::new(code, message)
            .with_file(self.source.clone())
            .with_pointer(pointer);
        match self.spans.locate(pointer) {
            Some(span) => d.with_span(span),
            None => d,
        }
    }
}

/// Spans by JSON pointer (RFC 6901: `~` → `~0`, `/` → `~1`; the root is `""`).
///
/// A mapping member has two spans (its value's and its key's) under one pointer, held in one
/// entry with 32-bit fields: a large project keeps one index per workload for its whole run
/// (issue 24: two maps of `String` keys were about half of a loaded workload's memory). A span
/// whose offset does not fit 32 bits (a file over 4 GiB; the loader refuses 4 MiB) is not
/// indexed: [`SpanIndex::locate`] then finds its nearest ancestor's.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct SpanIndex {
    entries: HashMap<Box<str>, Spans>,
    values: usize,
}

/// The spans indexed at one pointer.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
struct Spans {
    value: Option<Packed>,
    key: Option<Packed>,
}

/// A [`Span`] in 16 bytes.
#[derive(Debug, Clone, Copy, PartialEq)]
struct Packed {
    offset: u32,
    len: u32,
    line: u32,
    column: u32,
}

impl Packed {
    fn new(s: Span) -> Option<Packed> {
        Some(Packed {
            offset: s.offset.try_into().ok()?,
            len: s.len.try_into().ok()?,
            line: s.line.try_into().ok()?,
            column: s.column.try_into().ok()?,
        })
    }

    fn span(self) -> Span {
        Span::new(
            self.offset as usize,
            self.len as usize,
            self.line as usize,
            self.column as usize,
        )
    }
}

impl SpanIndex {
    /// Records the span of the value at `pointer`.
    pub(crate) fn set_value(&mut self, pointer: String, span: Span) {
        let entry = self.entries.entry(pointer.into_boxed_str()).or_default();
        self.values += usize::from(entry.value.is_none());
        entry.value = Packed::new(span);
    }

    /// Records the span of the mapping key of the member at `pointer`.
    pub(crate) fn set_key(&mut self, pointer: String, span: Span) {
        self.entries
            .entry(pointer.into_boxed_str())
            .or_default()
            .key = Packed::new(span);
    }

    /// The span of the value at exactly `pointer`.
    pub fn value(&self, pointer: &str) -> Option<Span> {
        self.entries.get(pointer)?.value.map(Packed::span)
    }

    /// The span of the mapping KEY of the member at `pointer` (`None` for sequence items and the
    /// root). Schema errors about unknown properties point here.
    pub fn key(&self, pointer: &str) -> Option<Span> {
        self.entries.get(pointer)?.key.map(Packed::span)
    }

    /// The span at `pointer`, else the span of the nearest ancestor that has one.
    pub fn locate(&self, pointer: &str) -> Option<Span> {
        let mut p = pointer;
        loop {
            if let Some(s) = self.value(p) {
                return Some(s);
            }
            match p.rfind('/') {
                Some(i) => p = &p[..i],
                None => return None,
            }
        }
    }

    /// Number of values with a span.
    pub fn len(&self) -> usize {
        self.values
    }

    /// True when nothing is indexed.
    pub fn is_empty(&self) -> bool {
        self.values == 0
    }
}

/// Escapes one JSON-pointer segment: `~` → `~0`, `/` → `~1` (`/etc/a~b` → `~1etc~1a~0b`).
pub(crate) fn escape_pointer_segment(segment: &str) -> String {
    segment.replace('~', "~0").replace('/', "~1")
}

/// Resource limits for parsing untrusted input.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Limits {
    /// Largest accepted input, checked before parsing. Default 4 MiB.
    pub max_bytes: usize,
    /// Deepest accepted nesting of mappings and sequences. Default 64.
    pub max_depth: usize,
    /// Most nodes (scalars, mappings, sequences) in the parsed document. Default 250 000.
    pub max_nodes: usize,
    /// Most alias (`*name`) uses. Default 10 000.
    pub max_aliases: usize,
    /// Most parser events replayed by alias expansion in total — the knob that stops a
    /// "billion laughs" alias bomb while memory is still small. Default 100 000.
    pub max_alias_replayed_events: usize,
}

impl Default for Limits {
    fn default() -> Self {
        Self {
            max_bytes: 4 * 1024 * 1024,
            max_depth: 64,
            max_nodes: 250_000,
            max_aliases: 10_000,
            max_alias_replayed_events: 100_000,
        }
    }
}

/// Parses `text` with default [`Limits`]; `name` is the file name shown in diagnostics.
pub fn parse_str(name: &str, text: &str) -> Result<Document, Diagnostic> {
    let source = Arc::new(SourceFile::new(name, text));
    parse(source, text.as_bytes(), &Limits::default())
}

/// Parses one YAML (or JSON) document that must be a mapping.
///
/// `source` is the file the diagnostics name; its text should be `bytes` decoded (lossily when
/// not UTF-8). `bytes` is what is parsed. Every error is a `score::load::*` diagnostic with a span
/// (a parser that panics, a bug, gives `score::internal::bug`).
pub fn parse(
    source: Arc<SourceFile>,
    bytes: &[u8],
    limits: &Limits,
) -> Result<Document, Diagnostic> {
    parse_root(source, bytes, limits, true)
}

/// Like [`parse`], but the root may be any YAML value (a provisioner file is a sequence); the
/// caller checks its shape. Empty input is still an error, so callers that accept it check first.
pub fn parse_any(
    source: Arc<SourceFile>,
    bytes: &[u8],
    limits: &Limits,
) -> Result<Document, Diagnostic> {
    parse_root(source, bytes, limits, false)
}

/// Parses a rendered provisioner section as YAML. Empty (or whitespace/comment-only) text is
/// `None`; an error is serde-saphyr's message.
pub(crate) fn parse_section(text: &str) -> Result<Option<Value>, String> {
    if text
        .lines()
        .all(|l| l.trim().is_empty() || l.trim_start().starts_with('#'))
    {
        return Ok(None);
    }
    // Line by line when the text has the plain block shape, else from parser events; each
    // answers only when certain.
    if let Some(v) = simple::parse(text).or_else(|| events::parse(text)) {
        #[cfg(feature = "yaml-cross-check")]
        {
            let slow: Result<Value, _> = serde_saphyr::from_str(text);
            assert!(
                slow.as_ref().is_ok_and(|s| *s == v),
                "fast YAML path disagrees with serde-saphyr on {text:?}: {v:?} vs {slow:?}"
            );
        }
        return Ok(Some(v));
    }
    // The caller shows the rendered text itself: no snippet inside the message.
    let options = serde_saphyr::options! { with_snippet: false };
    let v: Value = serde_saphyr::from_str_with_options(text, options).map_err(|e| e.to_string())?;
    Ok(Some(v))
}

/// Parses a rendered Go-template section as Go's yaml.v3 decodes it into `interface{}` (as
/// score-compose and score-k8s do; see `gov3.rs`): `0644` is 420, `yes` a string. Empty (or
/// comment-only) text is `None`; what JSON cannot hold (`.inf`, custom tags, several documents)
/// is read by [`parse_section`].
pub(crate) fn parse_go_section(text: &str) -> Result<Option<Value>, String> {
    if text
        .lines()
        .all(|l| l.trim().is_empty() || l.trim_start().starts_with('#'))
    {
        return Ok(None);
    }
    // Line by line when the text has the plain block shape (most sections), else from events.
    if let Some(v) = simple::parse_go(text) {
        #[cfg(feature = "yaml-cross-check")]
        {
            let slow = gov3::parse(text);
            assert!(
                slow.as_ref().is_ok_and(|s| s.as_ref() == Some(&v)),
                "fast Go-section path disagrees with gov3 on {text:?}: {v:?} vs {slow:?}"
            );
        }
        return Ok(Some(v));
    }
    match gov3::parse(text)? {
        Some(v) => Ok(Some(v)),
        None => parse_section(text),
    }
}

/// One YAML value as written on a command line (`--override-property PATH=VALUE`): YAML 1.2
/// booleans only (`yes` stays a string).
pub(crate) fn parse_scalar_value(raw: &str) -> Result<Value, serde_saphyr::Error> {
    let opts = serde_saphyr::options! { strict_booleans: true };
    serde_saphyr::from_str_with_options(raw, opts)
}

/// A typed value from YAML text, with serde-saphyr's `options` (the state file).
pub(crate) fn from_str_typed<T: serde::de::DeserializeOwned>(
    text: &str,
    options: serde_saphyr::Options,
) -> Result<T, serde_saphyr::Error> {
    serde_saphyr::from_str_with_options::<T>(text, options)
}

fn parse_root(
    source: Arc<SourceFile>,
    bytes: &[u8],
    limits: &Limits,
    require_mapping: bool,
) -> Result<Document, Diagnostic> {
    let err =
        |code: Code, message: String| Diagnostic::new(code, message).with_file(source.clone());
    if bytes.len() > limits.max_bytes {
        return Err(err(
            Code::LoadTooLarge,
            format!(
                "input is too large: {} bytes, the limit is {} bytes",
                bytes.len(),
                limits.max_bytes
            ),
        )
        .with_help("a Score file is a small YAML document; check that the right file was given"));
    }
    let text = match std::str::from_utf8(bytes) {
        Ok(t) => t,
        Err(e) => {
            let at = e.valid_up_to();
            return Err(err(Code::LoadNotUtf8, format!("input is not valid UTF-8 at byte {at}"))
                .with_span(point_span(&source, at))
                .with_help("a Score file must be UTF-8 text (YAML or JSON): re-save it as UTF-8 (it may be in Latin-1 or another legacy encoding); binary file content belongs in `binaryContent` as base64"));
        }
    };
    // An optional byte-order mark is not part of the document (and would shift every span).
    let bom = if text.starts_with('\u{feff}') { 3 } else { 0 };
    let body = &text[bom..];
    if body
        .lines()
        .all(|l| l.trim().is_empty() || l.trim_start().starts_with('#'))
    {
        return Err(err(
            Code::LoadEmpty,
            "empty document (EOF): the input holds no YAML content".into(),
        )
        // The file as a whole is the problem; a caret past its last line would not be drawn.
        .with_span(point_span(&source, 0))
        .with_help(
            "a Score file must be a YAML mapping with `apiVersion`, `metadata` and `containers`",
        ));
    }

    // Most files take the fast path (iterative, so no big stack is needed); it declines whatever
    // it cannot decide exactly as serde-saphyr would, errors included.
    if let Some(doc) = fast::parse_body(&source, bom, body, limits, require_mapping) {
        #[cfg(feature = "yaml-cross-check")]
        fast::check_against_slow(
            &doc,
            &slow_path(&source, bom, body, limits, require_mapping, &|m| {
                err(Code::Internal, m)
            }),
        );
        return Ok(doc);
    }
    slow_path(&source, bom, body, limits, require_mapping, &|m| {
        err(Code::Internal, m)
    })
}

/// serde-saphyr's spanned deserializer, then [`Converter`]. `err` makes the diagnostic for a
/// parser that panicked (a bug: [`Code::Internal`]).
fn slow_path(
    source: &Arc<SourceFile>,
    bom: usize,
    body: &str,
    limits: &Limits,
    require_mapping: bool,
    err: &dyn Fn(String) -> Diagnostic,
) -> Result<Document, Diagnostic> {
    // The spanned deserializer recurses once per nesting level with large debug-build frames
    // (~30 KiB), more than a test thread's 2 MiB allows at the default depth. Parsing on a
    // thread sized for `max_depth` keeps deep-but-legal input from overflowing the caller's stack.
    let stack = (1usize << 20).saturating_add(limits.max_depth.saturating_mul(64 << 10));
    std::thread::scope(|scope| {
        match std::thread::Builder::new()
            .name("score-load".into())
            .stack_size(stack)
            .spawn_scoped(scope, || {
                parse_body(source, bom, body, limits, require_mapping)
            }) {
            Ok(handle) => handle.join().unwrap_or_else(|_| {
                Err(err("the YAML parser failed unexpectedly".into())
                    .with_help("please report this input as a bug"))
            }),
            // No thread available (e.g. a restricted runtime): parse here instead.
            Err(_) => parse_body(source, bom, body, limits, require_mapping),
        }
    })
}

fn parse_body(
    source: &Arc<SourceFile>,
    bom: usize,
    body: &str,
    limits: &Limits,
    require_mapping: bool,
) -> Result<Document, Diagnostic> {
    let options = serde_saphyr::options! {
        strict_booleans: true,
        legacy_octal_numbers: true,
        with_snippet: false,
        // Duplicates are detected while converting, where both occurrences' spans are known.
        duplicate_keys: DuplicateKeyPolicy::PassThrough,
        budget: serde_saphyr::budget! {
            max_depth: limits.max_depth,
            flow_nesting_limit: limits.max_depth,
            max_nodes: limits.max_nodes,
            max_aliases: limits.max_aliases,
            max_events: limits.max_nodes.saturating_mul(4),
            max_documents: 2,
        },
        alias_limits: alias_limits(limits),
    };
    let root: Spanned<Node> = serde_saphyr::from_str_with_options(body, options)
        .map_err(|e| saphyr_error(source, bom, limits, &e))?;

    let mut conv = Converter {
        source,
        bom,
        spans: SpanIndex::default(),
        max_depth: limits.max_depth,
    };
    let root_span = conv.span(&root);
    if require_mapping && !matches!(root.value, Node::Map(_)) {
        let mut d = Diagnostic::new(
            Code::LoadNotMapping,
            format!(
                "a Score file must be a YAML mapping, but this document is {}",
                root.value.kind()
            ),
        )
        .with_file(source.clone())
        .with_help("start the file with `apiVersion: score.dev/v1b1` and give the workload's fields as `key: value` lines")
        .with_pointer("");
        if let Some(s) = root_span {
            d = d.with_span(s);
        }
        return Err(d);
    }
    let mut pointer = String::new();
    let value = conv.convert(root, &mut pointer, 0)?;
    Ok(Document {
        source: source.clone(),
        value,
        spans: conv.spans,
    })
}

fn alias_limits(limits: &Limits) -> serde_saphyr::options::AliasLimits {
    let mut a = serde_saphyr::options::AliasLimits::default();
    a.max_total_replayed_events = limits.max_alias_replayed_events;
    a.max_replay_stack_depth = limits.max_depth;
    a
}

fn point_span(source: &SourceFile, offset: usize) -> Span {
    let offset = offset.min(source.text.len());
    let (line, column) = source.line_col(offset);
    Span::new(offset, 0, line, column)
}

fn location_span(source: &SourceFile, bom: usize, loc: &Location) -> Option<Span> {
    if loc.line() == 0 {
        return None;
    }
    let s = loc.span();
    match s.byte_offset() {
        Some(off) => {
            let offset = usize::try_from(off).ok()? + bom;
            let len = s
                .byte_len()
                .and_then(|l| usize::try_from(l).ok())
                .unwrap_or(0);
            let len = len.min(source.text.len().saturating_sub(offset));
            // serde-saphyr's own line/column are relative to the body, so a skipped BOM does not
            // shift the first line's columns.
            Some(Span::new(
                offset,
                len,
                loc.line() as usize,
                loc.column() as usize,
            ))
        }
        None => {
            let (line, column) = (loc.line() as usize, loc.column() as usize);
            let offset = offset_of_line_col(source, bom, line, column);
            Some(Span::new(offset, 0, line, column))
        }
    }
}

/// Byte offset of a 1-based line and character column of the parsed body (which starts after
/// `bom` bytes of the text).
fn offset_of_line_col(source: &SourceFile, bom: usize, line: usize, column: usize) -> usize {
    let text = source.text.get(bom..).unwrap_or("");
    let mut start = 0;
    for _ in 1..line {
        match text[start..].find('\n') {
            Some(i) => start += i + 1,
            None => return source.text.len(),
        }
    }
    let rest = &text[start..];
    let col = rest
        .char_indices()
        .nth(column.saturating_sub(1))
        .map_or(rest.len(), |(i, _)| i);
    bom + start + col
}

fn saphyr_error(
    source: &Arc<SourceFile>,
    bom: usize,
    limits: &Limits,
    e: &serde_saphyr::Error,
) -> Diagnostic {
    use serde_saphyr::Error as E;
    use serde_saphyr::MessageFormatter;
    const MULTI_HELP: &str = "a Score file holds exactly one workload; put each document in its own file (a single leading `---` is fine)";
    const BOMB_HELP: &str = "expand the aliases by hand or use fewer of them";
    const SIZE_HELP: &str =
        "a Score file is a small YAML document; check that the right file was given";
    const DEPTH_HELP: &str = "flatten the structure; no Score field nests this deep";
    // Alias and snippet wrappers carry the real cause inside.
    let mut inner = e;
    while let E::WithSnippet { error, .. } | E::AliasError { error, .. } = inner {
        inner = error;
    }
    let depth_msg = || format!("the document nests deeper than {} levels", limits.max_depth);
    let multi = || {
        (
            Code::LoadMultipleDocuments,
            "more than one YAML document in the file".to_string(),
            MULTI_HELP,
        )
    };
    let (code, message, help): (Code, String, &str) = match inner {
        E::MultipleDocuments { .. } => multi(),
        E::Budget { breach, .. } => match breach {
            BudgetBreach::Depth { .. } => (Code::LoadTooDeep, depth_msg(), DEPTH_HELP),
            BudgetBreach::Aliases { .. } | BudgetBreach::AliasAnchorRatio { .. } => (
                Code::LoadAliasLimit,
                "too many YAML aliases (possible alias bomb)".into(),
                BOMB_HELP,
            ),
            BudgetBreach::Documents { .. } => multi(),
            BudgetBreach::Nodes { .. } | BudgetBreach::Events { .. } => (
                Code::LoadTooLarge,
                format!(
                    "the document has too many nodes (the limit is {}; aliases count for what they expand to)",
                    limits.max_nodes
                ),
                SIZE_HELP,
            ),
            other => (
                Code::LoadTooLarge,
                format!("the document exceeds a parser limit: {other:?}"),
                SIZE_HELP,
            ),
        },
        E::AliasReplayLimitExceeded { .. }
        | E::AliasExpansionLimitExceeded { .. }
        | E::AliasReplayStackDepthExceeded { .. }
        | E::AliasReplayCounterOverflow { .. } => (
            Code::LoadAliasLimit,
            "YAML aliases expand to too much data (possible alias bomb)".into(),
            BOMB_HELP,
        ),
        other => {
            let text = serde_saphyr::UserMessageFormatter.format_message(other);
            let text: String = text
                .chars()
                .map(|c| if c.is_control() { ' ' } else { c })
                .collect();
            if text.contains("recursion limit exceeded") {
                (Code::LoadTooDeep, depth_msg(), DEPTH_HELP)
            } else if text.contains("is not a finite number") {
                // `.nan` fails here, `.inf` in the converter: one problem, one code.
                (
                    Code::LoadNonFiniteNumber,
                    format!("invalid YAML: {text}"),
                    "fix the YAML syntax at the marked position",
                )
            } else {
                (
                    Code::LoadSyntax,
                    format!("invalid YAML: {text}"),
                    "fix the YAML syntax at the marked position",
                )
            }
        }
    };
    let mut d = Diagnostic::new(code, message)
        .with_file(source.clone())
        .with_help(help);
    if let Some(span) = e.location().and_then(|l| location_span(source, bom, &l)) {
        d = d.with_span(span);
    }
    if code == Code::LoadTooDeep
        && let Some(span) = fast::first_too_deep(source, bom, limits.max_depth)
    {
        d = d.with_span(span);
    }
    if code == Code::LoadSyntax && d.message.contains("quoted scalar") {
        d = point_at_runaway_quote(source, d);
    }
    if code == Code::LoadSyntax && d.message.contains("tabs disallowed") {
        d = point_at_tabs(source, d);
    }
    if code == Code::LoadSyntax && d.message.contains("did not find expected ','") {
        d = point_at_missing_comma(source, d);
    }
    d
}

/// In a flow collection (JSON) the parser notices a missing `,` at the next entry, often on the
/// next line; the place to edit is just after the entry before it.
fn point_at_missing_comma(source: &Arc<SourceFile>, mut d: Diagnostic) -> Diagnostic {
    let Some(at) = d.span else {
        return d;
    };
    let text = &source.text;
    let before = text[..at.offset.min(text.len())].trim_end();
    if before.is_empty() || before.len() == at.offset {
        return d;
    }
    let offset = before.len();
    let (line, column) = source.line_col(offset);
    d.span = Some(Span::new(offset, 0, line, column));
    d.label = Some("a `,` is missing here".into());
    d.help = Some(
        "separate the entries of a `{...}` or `[...]` with commas (JSON and YAML flow style)"
            .into(),
    );
    d
}

/// The parser reports a tab used for indentation just after it; the place to edit is the tab
/// (the first of the run at the start of the line), and the fix is spaces.
fn point_at_tabs(source: &Arc<SourceFile>, mut d: Diagnostic) -> Diagnostic {
    d.help = Some("indent with spaces: YAML does not allow tabs for indentation".into());
    let Some(at) = d.span else {
        return d;
    };
    let text = source.text.as_bytes();
    let mut start = at.offset.min(text.len());
    while start > 0 && text[start - 1] == b'\t' {
        start -= 1;
    }
    if start < at.offset {
        let (line, column) = source.line_col(start);
        d.span = Some(Span::new(start, at.offset - start, line, column));
    }
    d
}

/// A quoted scalar whose closing quote is missing runs on until the next quote, often lines
/// later, where the parser then trips over the rest of the line. The place to edit is where the
/// string opens: when the scalar that ends just before the error started on an earlier line,
/// the diagnostic points there and keeps the parser's position as a related note.
fn point_at_runaway_quote(source: &Arc<SourceFile>, d: Diagnostic) -> Diagnostic {
    let Some(at) = d.span else {
        return d;
    };
    let text = source.text.as_bytes();
    let before = &text[..at.offset.min(text.len())];
    // The closing quote of the scalar the parser just read.
    let Some(close) = before.iter().rposition(|b| *b == b'"' || *b == b'\'') else {
        return d;
    };
    let quote = before[close];
    let mut i = close;
    let open = loop {
        let Some(p) = before[..i].iter().rposition(|b| *b == quote) else {
            return d;
        };
        let escaped = if quote == b'"' {
            before[..p]
                .iter()
                .rev()
                .take_while(|b| **b == b'\\')
                .count()
                % 2
                == 1
        } else {
            p > 0 && before[p - 1] == b'\''
        };
        if !escaped {
            break p;
        }
        // `''` inside a single-quoted scalar is an escaped quote: skip the pair.
        i = if quote == b'"' { p } else { p - 1 };
    };
    let (line, column) = source.line_col(open);
    if line >= at.line {
        return d;
    }
    let (close_line, close_column) = source.line_col(close);
    let note = Diagnostic::new(d.code, d.message.clone())
        .with_file(source.clone())
        .with_span(Span::new(close, 1, close_line, close_column))
        .with_label(format!(
            "the string only ends at this quote, on line {close_line}; {}",
            d.message.trim_start_matches("invalid YAML: ")
        ));
    let moved = Diagnostic::new(
        d.code,
        format!(
            "invalid YAML: the quoted string that starts here runs on to line {} (is its closing quote missing?)",
            at.line
        ),
    )
    .with_file(source.clone())
    .with_span(Span::new(open, 1, line, column))
    .with_help("close the quote on the line where it opens");
    moved.with_related(note)
}

/// One YAML node with spanned children. Maps keep every entry (duplicates included) so the
/// converter can report both occurrences of a duplicate key.
#[derive(Debug)]
enum Node {
    Null,
    Bool(bool),
    Int(i64),
    UInt(u64),
    Float(f64),
    Str(String),
    Seq(Vec<Spanned<Node>>),
    Map(Vec<(Spanned<Node>, Spanned<Node>)>),
}

impl Node {
    fn kind(&self) -> &'static str {
        match self {
            Node::Null => "null",
            Node::Bool(_) => "a boolean",
            Node::Int(_) | Node::UInt(_) | Node::Float(_) => "a number",
            Node::Str(_) => "a string",
            Node::Seq(_) => "a sequence",
            Node::Map(_) => "a mapping",
        }
    }
}

// Hand-written rather than `#[serde(untagged)]`: untagged enums buffer their input and so lose
// serde-saphyr's spans for every child.
impl<'de> Deserialize<'de> for Node {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserializer.deserialize_any(NodeVisitor)
    }
}

struct NodeVisitor;

impl<'de> Visitor<'de> for NodeVisitor {
    type Value = Node;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("any YAML value")
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

    fn visit_bool<E: de::Error>(self, v: bool) -> Result<Node, E> {
        Ok(Node::Bool(v))
    }

    fn visit_i64<E: de::Error>(self, v: i64) -> Result<Node, E> {
        Ok(Node::Int(v))
    }

    fn visit_u64<E: de::Error>(self, v: u64) -> Result<Node, E> {
        Ok(Node::UInt(v))
    }

    fn visit_i128<E: de::Error>(self, v: i128) -> Result<Node, E> {
        match (i64::try_from(v), u64::try_from(v)) {
            (Ok(i), _) => Ok(Node::Int(i)),
            (_, Ok(u)) => Ok(Node::UInt(u)),
            _ => Err(E::custom(format!("integer {v} is out of range"))),
        }
    }

    fn visit_u128<E: de::Error>(self, v: u128) -> Result<Node, E> {
        u64::try_from(v)
            .map(Node::UInt)
            .map_err(|_| E::custom(format!("integer {v} is out of range")))
    }

    fn visit_f64<E: de::Error>(self, v: f64) -> Result<Node, E> {
        Ok(Node::Float(v))
    }

    fn visit_str<E: de::Error>(self, v: &str) -> Result<Node, E> {
        Ok(Node::Str(v.to_owned()))
    }

    fn visit_string<E: de::Error>(self, v: String) -> Result<Node, E> {
        Ok(Node::Str(v))
    }

    fn visit_bytes<E: de::Error>(self, v: &[u8]) -> Result<Node, E> {
        // `!!binary` scalars: yaml.v3 decodes them to the raw bytes as a Go string.
        String::from_utf8(v.to_vec())
            .map(Node::Str)
            .map_err(|_| E::custom("a !!binary value must decode to UTF-8 text here"))
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Node, A::Error> {
        let mut items = Vec::new();
        while let Some(item) = seq.next_element::<Spanned<Node>>()? {
            items.push(item);
        }
        Ok(Node::Seq(items))
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Node, A::Error> {
        let mut entries = Vec::new();
        while let Some(key) = map.next_key::<Spanned<Node>>()? {
            let value = map.next_value::<Spanned<Node>>()?;
            entries.push((key, value));
        }
        Ok(Node::Map(entries))
    }
}

struct Converter<'a> {
    source: &'a Arc<SourceFile>,
    bom: usize,
    spans: SpanIndex,
    max_depth: usize,
}

impl Converter<'_> {
    fn span(&self, node: &Spanned<Node>) -> Option<Span> {
        location_span(self.source, self.bom, &node.referenced)
    }

    fn error(&self, code: Code, message: String, span: Option<Span>, pointer: &str) -> Diagnostic {
        let mut d = Diagnostic::new(code, message)
            .with_file(self.source.clone())
            .with_pointer(pointer);
        if let Some(s) = span {
            d = d.with_span(s);
        }
        d
    }

    fn convert(
        &mut self,
        node: Spanned<Node>,
        pointer: &mut String,
        depth: usize,
    ) -> Result<Value, Diagnostic> {
        let span = self.span(&node);
        if let Some(s) = span {
            self.spans.set_value(pointer.clone(), s);
        }
        Ok(match node.value {
            Node::Null => Value::Null,
            Node::Bool(b) => Value::Bool(b),
            Node::Int(i) => Value::Number(i.into()),
            Node::UInt(u) => Value::Number(u.into()),
            Node::Float(f) => {
                match Number::from_f64(f) {
                    Some(n) => Value::Number(n),
                    None => return Err(self
                        .error(
                            Code::LoadNonFiniteNumber,
                            format!("`{f}` is not a finite number"),
                            span,
                            pointer,
                        )
                        .with_help(
                            "JSON has no NaN or infinity; quote the value if it is meant as text",
                        )),
                }
            }
            Node::Str(s) => Value::String(s),
            Node::Seq(items) => {
                self.check_depth(depth, span, pointer)?;
                let mut out = Vec::with_capacity(items.len());
                for (i, item) in items.into_iter().enumerate() {
                    let len = pointer.len();
                    pointer.push('/');
                    pointer.push_str(&i.to_string());
                    out.push(self.convert(item, pointer, depth + 1)?);
                    pointer.truncate(len);
                }
                Value::Array(out)
            }
            Node::Map(entries) => {
                self.check_depth(depth, span, pointer)?;
                let mut out = Map::with_capacity(entries.len());
                let mut first_key_span: HashMap<String, Option<Span>> = HashMap::new();
                for (key, value) in entries {
                    let key_span = self.span(&key);
                    let name = self.key_string(key, key_span, pointer)?;
                    if let Some(first) = first_key_span.get(&name) {
                        return Err(self.duplicate_key(&name, *first, key_span, pointer));
                    }
                    first_key_span.insert(name.clone(), key_span);
                    let len = pointer.len();
                    pointer.push('/');
                    pointer.push_str(&escape_pointer_segment(&name));
                    if let Some(s) = key_span {
                        self.spans.set_key(pointer.clone(), s);
                    }
                    let v = self.convert(value, pointer, depth + 1)?;
                    pointer.truncate(len);
                    out.insert(name, v);
                }
                Value::Object(out)
            }
        })
    }

    fn check_depth(
        &self,
        depth: usize,
        span: Option<Span>,
        pointer: &str,
    ) -> Result<(), Diagnostic> {
        // serde-saphyr's budget already stops deeper input; this guards the recursion above if
        // that budget is ever loosened.
        if depth >= self.max_depth {
            return Err(self
                .error(
                    Code::LoadTooDeep,
                    format!("the document nests deeper than {} levels", self.max_depth),
                    span,
                    pointer,
                )
                .with_help("flatten the structure; no Score field nests this deep"));
        }
        Ok(())
    }

    /// Mapping keys become strings the way yaml.v3 decodes them into `map[string]interface{}`:
    /// scalars by their text; sequences and mappings as keys are rejected.
    fn key_string(
        &self,
        key: Spanned<Node>,
        span: Option<Span>,
        parent: &str,
    ) -> Result<String, Diagnostic> {
        match key.value {
            Node::Str(s) => Ok(s),
            Node::Seq(_) | Node::Map(_) => Err(self
                .error(
                    Code::LoadNonScalarKey,
                    format!("a mapping key must be a scalar, not {}", key.value.kind()),
                    span,
                    parent,
                )
                .with_help("use a plain string as the key")),
            other => {
                // Prefer the key's own spelling (`0x1F`, `~`), as Go keeps the scalar text.
                if let Some(s) = span.filter(|s| s.len > 0)
                    && let Some(text) = self.source.text.get(s.offset..s.offset + s.len)
                {
                    return Ok(text.to_owned());
                }
                Ok(match other {
                    Node::Null => String::new(),
                    Node::Bool(b) => b.to_string(),
                    Node::Int(i) => i.to_string(),
                    Node::UInt(u) => u.to_string(),
                    Node::Float(f) => f.to_string(),
                    _ => String::new(),
                })
            }
        }
    }

    fn duplicate_key(
        &self,
        name: &str,
        first: Option<Span>,
        second: Option<Span>,
        parent: &str,
    ) -> Diagnostic {
        let first_line = first
            .map(|s| format!(" (first defined on line {})", s.line))
            .unwrap_or_default();
        let mut d = self
            .error(
                Code::LoadDuplicateKey,
                format!("duplicate key `{name}`{first_line}"),
                second,
                &format!("{parent}/{}", escape_pointer_segment(name)),
            )
            .with_label("defined again here")
            .with_help(format!(
                "a mapping may define `{name}` only once; remove or merge one of the two entries"
            ));
        if let Some(s) = first {
            d = d.with_related(
                Diagnostic::new(
                    Code::LoadDuplicateKey,
                    format!("`{name}` first defined here"),
                )
                .with_file(self.source.clone())
                .with_span(s),
            );
        }
        d
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn escape_pointer_segment_escapes_tilde_then_slash() {
        assert_eq!(super::escape_pointer_segment("/etc/a~b"), "~1etc~1a~0b");
    }
}
