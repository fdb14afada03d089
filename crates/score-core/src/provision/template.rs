//! The minijinja environment provisioner templates run in, and the mapping from template errors
//! back to lines of the provisioner file.
//!
//! One `Templates` per provisioner entry: every section is compiled once when the file is
//! loaded (syntax errors surface at load time) and shared by every resource the entry provisions.
//! The environment is strict (an undefined variable is an error, even in `if`), has no loader (no
//! `include` of files, no network), no auto-escaping, `trim_blocks` + `lstrip_blocks` (so
//! `{% if %}` lines do not leave blank lines in YAML) and a fuel budget per render.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use minijinja::syntax::SyntaxConfig;
use minijinja::value::{Enumerator, Object, ObjectRepr, Serde};
use minijinja::{AutoEscape, Environment, ErrorKind, UndefinedBehavior};
use serde_json::Value;

use super::helpers::{self, FailError};
use crate::diag::{Code, Diagnostic, SourceFile, Span};

/// Default fuel per section render: generous for real templates, a hard stop for loops gone wild.
pub(crate) const DEFAULT_FUEL: u64 = 1_000_000;

/// Where a section's template text starts in the provisioner file.
#[derive(Debug, Clone)]
pub(crate) struct SectionTemplate {
    /// Name inside the environment, unique per entry (e.g. `outputs`, `compose/services`).
    pub env_name: String,
    /// 1-based line of the first template line in the file.
    pub first_line: usize,
    /// Whether the text calls `rand_alnum` (only then is its key computed for a render).
    pub uses_rand: bool,
}

/// Section name → (last rendered text, its parsed value once that text has come twice).
type LastParsed = HashMap<String, (String, Option<Option<Value>>)>;

/// The compiled templates of one provisioner entry.
#[derive(Debug, Clone)]
pub(crate) struct Templates {
    env: Arc<Environment<'static>>,
    /// Per section: the last rendered text and, once it repeats, its parsed value. Many resources
    /// of one type render a section to the same text (a shared database server's `services`,
    /// say); parsing YAML costs far more than comparing and cloning, so a repeat of the last text
    /// reuses the value. One slot per section keeps memory bounded.
    last_parsed: Arc<Mutex<LastParsed>>,
}

/// Builds the strict, sandboxed environment every provisioner uses.
pub(crate) fn new_environment() -> Environment<'static> {
    let mut env = Environment::new();
    // minijinja's default is `cfg!(debug_assertions)`: a release build's error for an undefined
    // value lost its detail ("undefined value" without "`state.user` is undefined"), so the
    // released CLI and the wasm package said less than the debug build the tests snapshot.
    env.set_debug(true);
    env.set_undefined_behavior(UndefinedBehavior::Strict);
    env.set_auto_escape_callback(|_| AutoEscape::None);
    if let Ok(syntax) = SyntaxConfig::builder()
        .trim_blocks(true)
        .lstrip_blocks(true)
        .build()
    {
        env.set_syntax(syntax);
    }
    env.set_fuel(Some(DEFAULT_FUEL));
    env.set_formatter(bounded_formatter);
    helpers::register(&mut env);
    env
}

/// Writes `{{ value }}`, stopping a container's text at what the remaining fuel pays for.
///
/// minijinja charges for emitted bytes after they are written, and a list can hold 100 000
/// references to one 100 kB string: its text is 10 GB. The bound matters inside `{% set %}`
/// blocks and macros, whose output goes to a buffer rather than to [`CappedWriter`].
fn bounded_formatter(
    out: &mut minijinja::Output<'_>,
    state: &mut minijinja::State<'_, '_>,
    value: &minijinja::Value,
) -> Result<(), minijinja::Error> {
    if value.as_object().is_none() {
        return minijinja::escape_formatter(out, state, value);
    }
    let limit = state
        .fuel_levels()
        .map_or(output_limit(DEFAULT_FUEL), |(_, remaining)| {
            output_limit(remaining)
        });
    let mut w = LimitedFmt {
        out,
        left: limit,
        exceeded: false,
    };
    let written = std::fmt::Write::write_fmt(&mut w, format_args!("{value}"));
    if w.exceeded {
        return Err(minijinja::Error::new(
            ErrorKind::OutOfFuel,
            format!(
                "the value's text is larger than the {limit} bytes the remaining fuel pays for"
            ),
        ));
    }
    written.map_err(|_| minijinja::Error::new(ErrorKind::WriteFailure, "cannot format the value"))
}

/// A `fmt::Write` that passes at most `left` bytes on to `out`.
struct LimitedFmt<'a, 'o> {
    out: &'a mut minijinja::Output<'o>,
    left: usize,
    exceeded: bool,
}

impl std::fmt::Write for LimitedFmt<'_, '_> {
    fn write_str(&mut self, s: &str) -> std::fmt::Result {
        if s.len() > self.left {
            self.exceeded = true;
            return Err(std::fmt::Error);
        }
        self.left -= s.len();
        self.out.write_str(s)
    }
}

impl Templates {
    /// Wraps a fully loaded environment.
    pub fn new(env: Environment<'static>) -> Self {
        Self {
            env: Arc::new(env),
            last_parsed: Arc::default(),
        }
    }

    /// Renders one section with `ctx` under `fuel`, returning the rendered text.
    ///
    /// The environment is cloned only when the caller asks for a different fuel budget; the clone
    /// shares the compiled templates (they sit behind `Arc`s), so nothing is recompiled.
    pub fn render(
        &self,
        section: &SectionTemplate,
        ctx: minijinja::Value,
        fuel: u64,
    ) -> Result<String, minijinja::Error> {
        let owned;
        let env: &Environment<'static> = if self.env.fuel() == Some(fuel) {
            &self.env
        } else {
            let mut e = (*self.env).clone();
            e.set_fuel(Some(fuel));
            owned = e;
            &owned
        };
        let tmpl = env.get_template(&section.env_name)?;
        // Fuel charges for the output only at the next instruction, after one `{{ }}` has
        // formatted its whole value: a list of 100 000 references to one 100 kB string would be
        // 10 GB of text before the charge. The writer stops at what the fuel could pay for.
        let mut out = CappedWriter {
            buf: Vec::new(),
            limit: output_limit(fuel),
        };
        tmpl.render_captured_to(ctx, &mut out)?;
        Ok(String::from_utf8(out.buf)
            .unwrap_or_else(|e| String::from_utf8_lossy(e.as_bytes()).into_owned()))
    }

    /// [`crate::load::yaml::parse_section`] of a section's rendered `text`, reusing the value when the section
    /// rendered the same text last time.
    ///
    /// The value is kept only once a text has come twice in a row: most sections render a
    /// different text for every resource, and keeping a copy of each of their values cost more
    /// than the repeats saved (k8s manifests).
    pub fn parse(&self, section: &SectionTemplate, text: &str) -> Result<Option<Value>, String> {
        let mut repeated = false;
        if let Ok(cache) = self.last_parsed.lock()
            && let Some((last, value)) = cache.get(&section.env_name)
            && last == text
        {
            if let Some(value) = value {
                return Ok(value.clone());
            }
            repeated = true;
        }
        let value = crate::load::yaml::parse_section(text)?;
        if let Ok(mut cache) = self.last_parsed.lock() {
            let kept = repeated.then(|| value.clone());
            cache.insert(section.env_name.clone(), (text.to_string(), kept));
        }
        Ok(value)
    }
}

/// The most text one render with `fuel` may produce: minijinja charges one fuel per 64 bytes of
/// output, so a render that stays within its fuel never reaches this.
pub(crate) fn output_limit(fuel: u64) -> usize {
    usize::try_from(fuel.saturating_mul(64)).unwrap_or(usize::MAX)
}

/// The error a render gets when its text would pass [`output_limit`].
#[derive(Debug)]
pub(crate) struct OutputLimitError(pub usize);

impl std::fmt::Display for OutputLimitError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "rendered text is too large: more than {} bytes (the fuel limit's share of output)",
            self.0
        )
    }
}

impl std::error::Error for OutputLimitError {}

/// A byte buffer that refuses to grow past `limit`.
struct CappedWriter {
    buf: Vec<u8>,
    limit: usize,
}

impl std::io::Write for CappedWriter {
    fn write(&mut self, data: &[u8]) -> std::io::Result<usize> {
        if self.buf.len().saturating_add(data.len()) > self.limit {
            return Err(std::io::Error::other(OutputLimitError(self.limit)));
        }
        self.buf.extend_from_slice(data);
        Ok(data.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

/// A JSON value as a template value.
pub(crate) fn to_template(v: &Value) -> minijinja::Value {
    minijinja::Value::from(Serde(v))
}

/// A JSON object handed to templates without converting it up front: a member is converted to a
/// template value only when a template reads it.
///
/// `workload_services` holds every workload of the project and is the same for every resource;
/// converting it whole for each rendered section made provisioning quadratic in the number of
/// workloads. Templates see a mapping exactly as before (lookup, `in`, iteration in key order,
/// `length`, `tojson`).
#[derive(Debug)]
pub(crate) struct LazyJsonMap(pub Arc<Value>);

impl LazyJsonMap {
    /// The value to put into a template context: lazy for an object, converted for anything else.
    pub fn into_value(value: Arc<Value>) -> minijinja::Value {
        if value.is_object() {
            minijinja::Value::from_object(LazyJsonMap(value))
        } else {
            to_template(&value)
        }
    }

    fn map(&self) -> Option<&serde_json::Map<String, Value>> {
        self.0.as_object()
    }
}

impl Object for LazyJsonMap {
    fn repr(self: &Arc<Self>) -> ObjectRepr {
        ObjectRepr::Map
    }

    fn get_value(self: &Arc<Self>, key: &minijinja::Value) -> Option<minijinja::Value> {
        self.map()?.get(key.as_str()?).map(to_template)
    }

    fn enumerate(self: &Arc<Self>) -> Enumerator {
        let keys: Vec<minijinja::Value> = self
            .map()
            .map(|m| {
                m.keys()
                    .map(|k| minijinja::Value::from(k.as_str()))
                    .collect()
            })
            .unwrap_or_default();
        Enumerator::Values(keys)
    }

    fn enumerator_len(self: &Arc<Self>) -> Option<usize> {
        Some(self.map().map_or(0, |m| m.len()))
    }
}

/// What a template error is about, for the diagnostic.
pub(crate) struct ErrorSite<'a> {
    pub file: &'a Arc<SourceFile>,
    pub uri: &'a str,
    pub section: &'a str,
    pub first_line: usize,
}

/// Turns a minijinja error into a diagnostic at the right line of the file: `code` says whether
/// the template failed to parse or to render.
pub(crate) fn template_diagnostic(
    code: Code,
    err: &minijinja::Error,
    site: &ErrorSite<'_>,
) -> Diagnostic {
    let reason = reason_of(err);
    let tline = err.line().unwrap_or(1).max(1);
    let file_line = site.first_line + tline - 1;
    let span = line_span(site.file, file_line);
    let mut d = Diagnostic::new(
        code,
        format!(
            "provisioner '{}' section '{}' ({}:{}): {}",
            site.uri, site.section, site.file.name, file_line, reason
        ),
    )
    .with_file(site.file.clone())
    .with_label(reason.clone());
    if let Some(s) = span {
        d = d.with_span(s);
    }
    // A syntax error's own byte range in the template, mapped into the file: the token the
    // parser stopped at, not the whole line.
    if err.kind() == ErrorKind::SyntaxError {
        if let Some(s) = precise_span(err, site) {
            d = d.with_span(s);
        }
        d = d.with_help(syntax_help(&reason));
    }
    if err.kind() == ErrorKind::SyntaxError && reason.contains("expected end of") {
        // The parser reached the end of the section inside a block: the place to edit is the
        // block's opening tag.
        if let Some((line, tag)) = unclosed_block(site.file, site.first_line, file_line) {
            if let Some(s) = line_span(site.file, line) {
                d = d.with_span(s);
            }
            d.label = Some(format!("this `{{% {tag} %}}` is never closed"));
            return d.with_help(format!("close it with `{{% end{tag} %}}`"));
        }
    }
    let help = match err.kind() {
        ErrorKind::UndefinedError => Some(
            "templates are strict: use `x is defined`, `x | default(...)` or `dig(map, \"a.b\", default)` for optional values",
        ),
        ErrorKind::OutOfFuel => {
            Some("the template ran out of fuel (too much work in one render); look for runaway loops")
        }
        _ => None,
    };
    if let Some(h) = help {
        d = d.with_help(h);
    }
    d
}

/// The file span of a minijinja error's byte range in its template (block scalars are mapped
/// line by line, so the range must lie on one template line).
fn precise_span(err: &minijinja::Error, site: &ErrorSite<'_>) -> Option<Span> {
    let range = err.range()?;
    let text = err.template_source()?;
    let before = text.get(..range.start)?;
    let tline = before.matches('\n').count() + 1;
    let col = before.len() - before.rfind('\n').map_or(0, |i| i + 1);
    let start = template_point_span(site.file, site.first_line, text, tline, col + 1)?;
    let line_rest = text[range.start..].split('\n').next().unwrap_or("");
    let len = (range.end - range.start).min(line_rest.len()).max(1);
    let len = if start.offset + len <= site.file.text.len()
        && site.file.text.is_char_boundary(start.offset + len)
    {
        len
    } else {
        start.len
    };
    Some(Span::new(start.offset, len, start.line, start.column))
}

/// Help for a minijinja syntax error, by what the parser expected.
fn syntax_help(reason: &str) -> String {
    if reason.contains("end of variable block") {
        "close the expression with `}}`: `{{ value }}`".into()
    } else if reason.contains("end of block") {
        "close the tag with `%}`: `{% if x %}`".into()
    } else if reason.contains("unknown filter") || reason.contains("unknown function") {
        "see spec/provisioners.md for the filters and functions templates may use".into()
    } else {
        "the section is a minijinja (Jinja2) template: `{{ expr }}` for values, `{% tag %}` for logic; write `{{ \"{{\" }}` for a literal `{{`".into()
    }
}

/// The innermost block tag (`if`, `for`, `macro`, ...) opened and not closed in lines
/// `first..=last` of `file` (1-based), with its line.
fn unclosed_block(file: &SourceFile, first: usize, last: usize) -> Option<(usize, String)> {
    const BLOCKS: [&str; 7] = ["if", "for", "macro", "call", "filter", "with", "raw"];
    let mut open: Vec<(usize, String)> = Vec::new();
    for (i, text) in file.text.lines().enumerate() {
        let line = i + 1;
        if line < first || line > last {
            continue;
        }
        for piece in text.split("{%").skip(1) {
            let word: String = piece
                .trim_start_matches(['-', '+'])
                .trim_start()
                .chars()
                .take_while(|c| c.is_ascii_alphanumeric() || *c == '_')
                .collect();
            if BLOCKS.contains(&word.as_str()) {
                open.push((line, word));
            } else if let Some(closed) = word.strip_prefix("end")
                && open.last().is_some_and(|(_, t)| t == closed)
            {
                open.pop();
            }
        }
    }
    open.pop()
}

/// The human reason: the `fail()` message verbatim, else minijinja's kind and detail.
fn reason_of(err: &minijinja::Error) -> String {
    let mut src: Option<&(dyn std::error::Error + 'static)> = std::error::Error::source(err);
    while let Some(s) = src {
        if let Some(f) = s.downcast_ref::<FailError>() {
            return f.0.clone();
        }
        // `io::Error::source` skips the error it wraps: look inside.
        if let Some(o) = s
            .downcast_ref::<std::io::Error>()
            .and_then(|io| io.get_ref())
            .and_then(|inner| inner.downcast_ref::<OutputLimitError>())
        {
            return o.to_string();
        }
        src = s.source();
    }
    match err.detail() {
        Some(d) => format!("{}: {}", err.kind(), d),
        None => err.kind().to_string(),
    }
}

/// The span of line `line` (1-based) from its first non-blank character to its end.
/// The span of a position a template engine reported inside a section: `template_line` (1-based)
/// of `text` (the section as the engine saw it) at `column` (1-based, bytes), given the section's
/// first line in the file. The file line holds the template line after the block scalar's
/// indentation, which is how the column maps back. Covers the action from there to its `}}`.
pub(crate) fn template_point_span(
    file: &SourceFile,
    first_line: usize,
    text: &str,
    template_line: usize,
    column: usize,
) -> Option<Span> {
    let line = first_line + template_line.checked_sub(1)?;
    let in_template = text.lines().nth(template_line - 1)?;
    let mut offset = 0usize;
    let raw = file
        .text
        .split_inclusive('\n')
        .enumerate()
        .find_map(|(i, l)| {
            if i + 1 == line {
                Some(l)
            } else {
                offset += l.len();
                None
            }
        })?;
    let body = raw.trim_end_matches(['\n', '\r']);
    let indent = if body.ends_with(in_template) {
        body.len() - in_template.len()
    } else {
        body.len() - body.trim_start().len()
    };
    let at = indent + column.saturating_sub(1);
    if at >= body.len() || !body.is_char_boundary(at) {
        return line_span(file, line);
    }
    let rest = &body[at..];
    let len = rest.find("}}").map_or(rest.len(), |i| i + 2).max(1);
    Some(Span::new(
        offset + at,
        len,
        line,
        body[..at].chars().count() + 1,
    ))
}

pub(crate) fn line_span(file: &SourceFile, line: usize) -> Option<Span> {
    let mut offset = 0usize;
    for (i, l) in file.text.split_inclusive('\n').enumerate() {
        if i + 1 == line {
            let body = l.trim_end_matches(['\n', '\r']);
            let indent = body.len() - body.trim_start().len();
            let len = body.trim().len();
            let col = body[..indent].chars().count() + 1;
            return Some(Span::new(offset + indent, len, line, col));
        }
        offset += l.len();
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    /// An engine position past the end of its line (the fuzzer found one) falls back to the
    /// line: a span never leaves the file.
    #[test]
    fn a_point_past_the_line_end_stays_in_the_file() {
        let file = SourceFile::new("p.yaml".to_string(), "a:\n  x: ab".to_string());
        let s = template_point_span(&file, 2, "x: ab", 1, 6).expect("a span");
        assert!(s.offset + s.len <= file.text.len(), "{s:?}");
        assert_eq!((s.line, s.column), (2, 3));
        let s = template_point_span(&file, 2, "x: ab", 1, 4).expect("a span");
        assert_eq!(
            (s.line, s.column, &file.text[s.offset..s.offset + s.len]),
            (2, 6, "ab")
        );
    }

    /// The lazy map must render exactly like the eagerly converted value in every way templates
    /// use `workload_services`.
    #[test]
    fn lazy_json_map_renders_like_the_converted_value() {
        let services = serde_json::json!({
            "web": {"service_name": "web", "ports": {"http": {"port": 80, "target_port": 8080}}},
            "api": {"service_name": "api", "ports": {}},
            "db": {"service_name": "db", "ports": {"5432": {"port": 5432}}}
        });
        let env = new_environment();
        let source = "{{ ws.web.ports.http.target_port }}|{{ 'api' in ws }}|{{ 'nope' in ws }}|\
            {% for k in ws %}{{ k }},{% endfor %}|{{ ws | length }}|{{ ws | tojson }}|\
            {{ ws['db'].ports['5432'].port }}|{{ ws.nope | default('none') }}|\
            {% for k, v in ws | items %}{{ k }}={{ v.service_name }};{% endfor %}|{{ ws is mapping }}";
        let eager = env
            .render_str(source, minijinja::context! { ws => to_template(&services) })
            .unwrap();
        let lazy = env
            .render_str(
                source,
                minijinja::context! { ws => LazyJsonMap::into_value(Arc::new(services.clone())) },
            )
            .unwrap();
        assert_eq!(lazy, eager);
        assert!(
            lazy.starts_with("8080|True|False|web,api,db,|3|{"),
            "{lazy}"
        );
    }
}
