//! The workload rules the JSON schema cannot express: score-go's `loader.Validate`, plus the
//! `before: {X: {ready: healthy}}` probe rule that score-compose enforces at conversion time.
//!
//! It runs on the JSON value after the schema has passed (see `spec/validation.md`), so every
//! issue carries the JSON pointer of the offending value and the caller can map it to
//! `file:line:col`. It never fails on odd input: values of an unexpected type are skipped (the
//! schema reports those).
//!
//! Messages are score-go's exact texts; where Go iterates a map we visit keys sorted, so the
//! order is deterministic:
//!
//! 1. `metadata.name` checks;
//! 2. placeholders, each distinct one once, in visiting order (containers by name; per container
//!    `variables`, `files`, `volumes`, each by key; then resources by name, `params` keys sorted);
//! 3. `before` entries (containers by name, entries by name), then one cycle message;
//! 4. the `healthy` probe rule (once per container);
//! 5. score-gen's own rules (stricter than score-go, see `spec/deviations.md`): environment
//!    variable names without NUL or line breaks, non-empty volume sources (containers by name,
//!    entries by key).
//!
//! ```
//! use score_core::validate::rules::{validate, format_go};
//! let doc = serde_json::json!({
//!     "apiVersion": "score.dev/v1b1",
//!     "metadata": {"name": "web"},
//!     "containers": {"main": {"image": "nginx",
//!         "variables": {"DB": "${resources.db.host}"}}},
//! });
//! let issues = validate(&doc);
//! assert_eq!(issues.len(), 1);
//! assert_eq!(issues[0].pointer, "/containers/main/variables/DB");
//! assert_eq!(format_go(&issues), "validating workload:\n    placeholder ${resources.db.host} does not \
//!     resolve to a resource, no resource with name \"db\"");
//! ```

use std::collections::{BTreeMap, BTreeSet};

use serde_json::{Map, Value};

use crate::diag::Code;
use crate::provision::placeholder::{references, split_ref_parts};

/// One rule violation.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Issue {
    /// Which rule is violated, e.g. [`Code::ValidateBeforeCycle`].
    pub code: Code,
    /// JSON pointer (RFC 6901, `~0`/`~1` escaped) of the value at fault: the string holding the
    /// placeholder, the `before` entry, or `/metadata` (`""` when `metadata` is absent).
    pub pointer: String,
    /// score-go's exact message.
    pub message: String,
    /// What to do about it.
    pub help: Option<String>,
    /// True when the issue is about the map key at `pointer` (e.g. a variable name) rather than
    /// its value, so the caller can underline the key.
    pub on_key: bool,
    /// The exact text at fault inside the value (a `${...}` placeholder), so the caller can
    /// underline just that part of a longer string or block.
    pub needle: Option<String>,
    /// The one likely intended text for `needle` (or for the key, with `on_key`): a near-miss
    /// resource or container name, the basis of a machine-applicable fix (spec/fixes.md).
    pub replacement: Option<String>,
}

impl Issue {
    fn new(code: Code, pointer: String, message: String, help: impl Into<String>) -> Self {
        Self {
            code,
            pointer,
            message,
            help: Some(help.into()),
            on_key: false,
            needle: None,
            replacement: None,
        }
    }

    /// The likely intended text (see [`Issue::replacement`]).
    fn replace_with(mut self, text: Option<String>) -> Self {
        self.replacement = text;
        self
    }

    /// Underlines `text` within the value when the caller can find it there.
    fn at_text(mut self, text: String) -> Self {
        self.needle = Some(text);
        self
    }

    /// Points the issue at the key of its pointer's member rather than at the value (the
    /// place to edit is the name: a `before` entry naming the wrong container).
    fn at_key(mut self) -> Self {
        self.on_key = true;
        self
    }
}

/// Checks every rule and returns all violations, in a deterministic order (empty = valid).
pub fn validate(doc: &Value) -> Vec<Issue> {
    let mut issues = Vec::new();
    check_metadata(doc, &mut issues);
    check_placeholders(doc, &mut issues);
    check_before(doc, &mut issues);
    check_healthy_needs_probe(doc, &mut issues);
    check_variable_names_and_volume_sources(doc, &mut issues);
    issues
}

/// score-gen's own rules. score-go and the spec schema accept both, but a variable name holding
/// NUL or a line break cannot reach a process (and breaks env files), and an empty volume source
/// names no volume (compose got a volume called "").
fn check_variable_names_and_volume_sources(doc: &Value, issues: &mut Vec<Issue>) {
    for (cname, c) in entries(doc.get("containers")) {
        let cptr = ptr("/containers", &cname);
        if let Some(vars) = obj(c, "variables") {
            for (k, _) in sorted(vars) {
                if k.contains(['\0', '\n', '\r']) {
                    let mut issue = Issue::new(
                        Code::ValidateVariableName,
                        ptr(&ptr(&cptr, "variables"), k),
                        format!("environment variable name {k:?} contains a NUL or line-break character"),
                        "rename the variable: a name made of letters, digits and `_` works everywhere",
                    );
                    issue.on_key = true;
                    issues.push(issue);
                }
            }
        }
        for (k, v) in entries(c.get("volumes")) {
            if v.get("source").and_then(Value::as_str) == Some("") {
                issues.push(Issue::new(
                    Code::ValidateEmptyVolumeSource,
                    ptr(&ptr(&ptr(&cptr, "volumes"), &k), "source"),
                    "a volume source must not be empty".into(),
                    "set `source` to the volume to mount, usually a placeholder such as ${resources.data}",
                ));
            }
        }
    }
}

/// score-go's `ValidationError.Error()` text: `validating workload:` and one indented line per
/// message. Empty input gives an empty string (Go returns no error at all then).
///
/// ```
/// use score_core::validate::rules::{format_go, Issue};
/// use score_core::Code;
/// let i = |m: &str| Issue {
///     code: Code::ValidateMetadataName,
///     pointer: String::new(),
///     message: m.into(),
///     help: None,
///     on_key: false,
///     needle: None,
///     replacement: None,
/// };
/// assert_eq!(format_go(&[i("a"), i("b")]), "validating workload:\n    a\n    b");
/// ```
pub fn format_go(issues: &[Issue]) -> String {
    if issues.is_empty() {
        return String::new();
    }
    let mut out = String::from("validating workload:");
    for i in issues {
        out.push_str("\n    ");
        out.push_str(&i.message);
    }
    out
}

pub(crate) use crate::load::yaml::escape_pointer_segment;

fn ptr(base: &str, seg: &str) -> String {
    format!("{base}/{}", escape_pointer_segment(seg))
}

/// Object entries sorted by key (Go visits maps in random order; we sort).
fn sorted(m: &Map<String, Value>) -> Vec<(&String, &Value)> {
    let mut v: Vec<_> = m.iter().collect();
    v.sort_by(|a, b| a.0.cmp(b.0));
    v
}

fn obj<'a>(v: &'a Value, key: &str) -> Option<&'a Map<String, Value>> {
    v.get(key).and_then(Value::as_object)
}

/// Entries of a map, or of a deprecated array form (index as key), so an un-upgraded document
/// is still checked.
fn entries(v: Option<&Value>) -> Vec<(String, &Value)> {
    match v {
        Some(Value::Object(m)) => sorted(m).into_iter().map(|(k, v)| (k.clone(), v)).collect(),
        Some(Value::Array(a)) => a
            .iter()
            .enumerate()
            .map(|(i, v)| (i.to_string(), v))
            .collect(),
        _ => Vec::new(),
    }
}

fn check_metadata(doc: &Value, issues: &mut Vec<Issue>) {
    let meta = doc.get("metadata");
    let name = meta.and_then(Value::as_object).and_then(|m| m.get("name"));
    match name {
        None => {
            let pointer = if meta.is_some() { "/metadata" } else { "" };
            issues.push(Issue::new(
                Code::ValidateMetadataName,
                pointer.to_string(),
                "metadata.name is required".into(),
                "add `metadata: {name: <workload-name>}`; the name is a lower-case RFC 1123 label such as `my-app`",
            ));
        }
        Some(Value::String(s)) if !s.is_empty() => {}
        Some(_) => issues.push(Issue::new(
            Code::ValidateMetadataName,
            "/metadata/name".into(),
            "metadata.name must be a non-empty string".into(),
            "set `metadata.name` to a non-empty string such as `my-app` (quote it if YAML reads it as a number)",
        )),
    }
}

/// True when `reference` is a well-formed placeholder.
///
/// score-go's rule is `^[a-zA-Z0-9_-]+(\.[a-zA-Z0-9_-]+)+$`. We also accept, inside an element,
/// `\.` (an escaped, literal dot) and `/`, because the substitution engine resolves
/// `${metadata.annotations.example\.com/x}` while score-go's loader calls it malformed
/// (deliberate deviation, see `spec/validation.md`).
pub(crate) fn placeholder_is_well_formed(reference: &str) -> bool {
    let mut elements = 1;
    let mut element_len = 0;
    let mut chars = reference.chars();
    while let Some(c) = chars.next() {
        match c {
            '.' => {
                if element_len == 0 {
                    return false;
                }
                elements += 1;
                element_len = 0;
            }
            '\\' => {
                if chars.next() != Some('.') {
                    return false;
                }
                element_len += 1;
            }
            c if c.is_ascii_alphanumeric() || matches!(c, '_' | '-' | '/') => element_len += 1,
            _ => return false,
        }
    }
    elements >= 2 && element_len > 0
}

/// Where the placeholders are, per score-go: file `content` unless `noExpand`, `variables`,
/// volume `source`, and every string inside resource `params`. Never `command`, `args`,
/// `binaryContent`, probes or any `metadata`.
fn collect_placeholder_strings<'a>(doc: &'a Value, out: &mut Vec<(String, &'a str)>) {
    for (cname, c) in entries(doc.get("containers")) {
        let cptr = ptr("/containers", &cname);
        for (k, v) in entries(c.get("variables")) {
            if let Some(s) = v.as_str() {
                out.push((ptr(&ptr(&cptr, "variables"), &k), s));
            }
        }
        for (k, f) in entries(c.get("files")) {
            if f.get("noExpand").and_then(Value::as_bool) == Some(true) {
                continue;
            }
            if let Some(s) = f.get("content").and_then(Value::as_str) {
                out.push((ptr(&ptr(&ptr(&cptr, "files"), &k), "content"), s));
            }
        }
        for (k, v) in entries(c.get("volumes")) {
            if let Some(s) = v.get("source").and_then(Value::as_str) {
                out.push((ptr(&ptr(&ptr(&cptr, "volumes"), &k), "source"), s));
            }
        }
    }
    if let Some(res) = obj(doc, "resources") {
        for (rname, r) in sorted(res) {
            if let Some(p) = r.get("params") {
                let base = ptr(&ptr("/resources", rname), "params");
                collect_strings(p, base, out);
            }
        }
    }
}

/// Every string under `v`, with its pointer; object keys sorted, arrays in order.
pub(crate) fn collect_strings<'a>(v: &'a Value, at: String, out: &mut Vec<(String, &'a str)>) {
    match v {
        Value::String(s) => out.push((at, s)),
        Value::Array(a) => {
            for (i, x) in a.iter().enumerate() {
                collect_strings(x, format!("{at}/{i}"), out);
            }
        }
        Value::Object(m) => {
            for (k, x) in sorted(m) {
                collect_strings(x, ptr(&at, k), out);
            }
        }
        _ => {}
    }
}

fn check_placeholders(doc: &Value, issues: &mut Vec<Issue>) {
    let mut strings = Vec::new();
    collect_placeholder_strings(doc, &mut strings);
    let declared: BTreeSet<&str> = obj(doc, "resources")
        .map(|m| m.keys().map(String::as_str).collect())
        .unwrap_or_default();
    // Only an unknown resource's help lists them.
    let declared_list = || {
        if declared.is_empty() {
            "this workload declares no resources".to_string()
        } else {
            format!(
                "declared resources: {}",
                declared.iter().copied().collect::<Vec<_>>().join(", ")
            )
        }
    };
    // Go de-duplicates placeholders through a map: one message per distinct text.
    let mut seen = BTreeSet::new();
    for (pointer, s) in strings {
        for r in references(s) {
            if !seen.insert(r) {
                continue;
            }
            if !placeholder_is_well_formed(r) {
                issues.push(Issue::new(
                    Code::ValidatePlaceholderMalformed,
                    pointer.clone(),
                    format!(
                        "placeholder ${{{r}}} is malformed, must contain at least two elements separated by \".\", each element must be alphanumeric or contain \"_\" or \"-\""
                    ),
                    if r.trim() != r {
                        format!("remove the spaces inside the braces: write `${{{}}}`", r.trim())
                    } else {
                        "write `${metadata.<key>}` or `${resources.<name>[.<output>]}`; elements may hold letters, digits, `_`, `-`, `/` and `\\.` (a literal dot); write `$${...}` for a literal `${...}`".to_string()
                    },
                ).at_text(format!("${{{r}}}")));
                continue;
            }
            let parts = split_ref_parts(r);
            match parts[0].as_str() {
                "resources" => {
                    let name = parts[1].as_str();
                    if !declared.contains(name) {
                        let near = crate::validate::schema::closest(name, declared.iter().copied());
                        let mean = near
                            .map(|n| format!("did you mean `{n}`? "))
                            .unwrap_or_default();
                        let fixed = near.map(|n| {
                            let mut p = parts.clone();
                            p[1] = n.to_string();
                            format!("${{{}}}", p.join("."))
                        });
                        issues.push(Issue::new(
                            Code::ValidatePlaceholderUnknownResource,
                            pointer.clone(),
                            format!(
                                "placeholder ${{{r}}} does not resolve to a resource, no resource with name \"{name}\""
                            ),
                            format!(
                                "{mean}declare it under `resources:` or fix the name; {}",
                                declared_list()
                            ),
                        ).at_text(format!("${{{r}}}"))
                        // Only when the reference reads back the same after the rename.
                        .replace_with(fixed.filter(|_| parts.iter().all(|p| !p.contains('.')))));
                    }
                }
                "metadata" => {}
                first => {
                    let hint = if first.eq_ignore_ascii_case("metadata")
                        || first.eq_ignore_ascii_case("resources")
                    {
                        format!(
                            "did you mean `{}`? The first element is case-sensitive",
                            first.to_ascii_lowercase()
                        )
                    } else if let Some(near) = crate::validate::schema::closest(
                        first,
                        ["metadata", "resources"].into_iter(),
                    ) {
                        format!("did you mean `{near}`? A placeholder starts with `metadata` or `resources`")
                    } else {
                        "a placeholder starts with `metadata` or `resources`; write `$${...}` for a literal `${...}`".to_string()
                    };
                    let fixed = crate::validate::schema::closest(
                        first,
                        ["metadata", "resources"].into_iter(),
                    )
                    .filter(|_| parts.iter().all(|p| !p.contains('.')))
                    .map(|n| {
                        let mut p = parts.clone();
                        p[0] = n.to_string();
                        format!("${{{}}}", p.join("."))
                    });
                    issues.push(
                        Issue::new(
                            Code::ValidatePlaceholderUnsupported,
                            pointer.clone(),
                            format!(
                                "placeholder ${{{r}}} has unsupported first element of \"{first}\""
                            ),
                            hint,
                        )
                        .at_text(format!("${{{r}}}"))
                        .replace_with(fixed),
                    );
                }
            }
        }
    }
}

fn check_before(doc: &Value, issues: &mut Vec<Issue>) {
    let Some(containers) = obj(doc, "containers") else {
        return;
    };
    let names = sorted(containers)
        .into_iter()
        .map(|(k, _)| k.as_str())
        .collect::<Vec<_>>();
    // Edges that survive the self/unknown checks: container -> containers it starts before.
    let mut edges: BTreeMap<&str, Vec<&str>> = BTreeMap::new();
    for (cname, c) in sorted(containers) {
        let Some(before) = obj(c, "before") else {
            continue;
        };
        let bptr = ptr(&ptr("/containers", cname), "before");
        for (dep, _) in sorted(before) {
            if dep == cname {
                issues.push(Issue::new(
                    Code::ValidateBeforeSelf,
                    ptr(&bptr, dep),
                    format!("container \"{cname}\" has a self-referencing before entry"),
                    format!(
                        "remove it: `before: {{{dep}: ...}}` means container \"{cname}\" starts before container \"{dep}\""
                    ),
                ).at_key());
            } else if !containers.contains_key(dep) {
                issues.push(
                    Issue::new(
                        Code::ValidateBeforeUnknownContainer,
                        ptr(&bptr, dep),
                        format!(
                            "container \"{cname}\" before refers to unknown container \"{dep}\""
                        ),
                        match crate::validate::schema::closest(
                            dep,
                            names.iter().copied().filter(|n| *n != cname),
                        ) {
                            Some(n) => format!(
                                "did you mean `{n}`? containers in this workload: {}",
                                names.join(", ")
                            ),
                            None => format!("containers in this workload: {}", names.join(", ")),
                        },
                    )
                    .at_key()
                    .replace_with(
                        crate::validate::schema::closest(
                            dep,
                            names.iter().copied().filter(|n| *n != cname),
                        )
                        .filter(|n| !before.contains_key(*n))
                        .map(str::to_string),
                    ),
                );
            } else {
                edges.entry(cname.as_str()).or_default().push(dep.as_str());
            }
        }
    }
    if let Some(cycle) = find_cycle(&names, &edges) {
        // Point at the entry that closes the cycle.
        let n = cycle.len();
        let pointer = ptr(
            &ptr(&ptr("/containers", cycle[n - 2]), "before"),
            cycle[n - 1],
        );
        issues.push(
            Issue::new(
                Code::ValidateBeforeCycle,
                pointer,
                "containers before relationships contain a cycle".into(),
                format!(
                    "{} (each starts before the next); remove one of these `before` entries",
                    cycle.join(" -> ")
                ),
            )
            .at_key(),
        );
    }
}

/// Depth-first search (white/grey/black) in sorted order; the first cycle found, closed
/// (`[a, b, a]`).
fn find_cycle<'a>(
    names: &[&'a str],
    edges: &BTreeMap<&'a str, Vec<&'a str>>,
) -> Option<Vec<&'a str>> {
    #[derive(Clone, Copy, PartialEq)]
    enum Colour {
        White,
        Grey,
        Black,
    }
    let mut colour: BTreeMap<&str, Colour> = names.iter().map(|n| (*n, Colour::White)).collect();
    for &start in names {
        if colour[start] != Colour::White {
            continue;
        }
        // Iterative DFS: stack of (node, next edge index).
        let mut stack: Vec<(&str, usize)> = vec![(start, 0)];
        colour.insert(start, Colour::Grey);
        while let Some(&mut (node, ref mut idx)) = stack.last_mut() {
            let next = edges.get(node).and_then(|e| e.get(*idx)).copied();
            *idx += 1;
            match next {
                None => {
                    colour.insert(node, Colour::Black);
                    stack.pop();
                }
                Some(to) => match colour.get(to).copied().unwrap_or(Colour::Black) {
                    Colour::White => {
                        colour.insert(to, Colour::Grey);
                        stack.push((to, 0));
                    }
                    Colour::Grey => {
                        let from = stack.iter().position(|(n, _)| *n == to).unwrap_or(0);
                        let mut cycle: Vec<&str> = stack[from..].iter().map(|(n, _)| *n).collect();
                        cycle.push(to);
                        return Some(cycle);
                    }
                    Colour::Black => {}
                },
            }
        }
    }
    None
}

fn check_healthy_needs_probe(doc: &Value, issues: &mut Vec<Issue>) {
    let Some(containers) = obj(doc, "containers") else {
        return;
    };
    for (cname, c) in sorted(containers) {
        let Some(before) = obj(c, "before") else {
            continue;
        };
        let has_probe = ["readinessProbe", "livenessProbe"]
            .iter()
            .any(|k| c.get(*k).is_some_and(|p| !p.is_null()));
        if has_probe {
            continue;
        }
        let healthy = sorted(before)
            .into_iter()
            .find(|(_, e)| e.get("ready").and_then(Value::as_str) == Some("healthy"));
        if let Some((dep, _)) = healthy {
            issues.push(Issue::new(
                Code::ValidateHealthyNeedsProbe,
                ptr(&ptr(&ptr(&ptr("/containers", cname), "before"), dep), "ready"),
                format!(
                    "containers.{cname}.before: ready 'healthy' requires a readiness or liveness probe to be defined"
                ),
                format!(
                    "add a `readinessProbe` or `livenessProbe` to container \"{cname}\", or use `ready: started`"
                ),
            ));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn placeholder_shapes() {
        let ok = placeholder_is_well_formed;
        assert!(ok("resources.db.host"));
        assert!(ok(r"metadata.annotations.example\.com/x"));
        assert!(!ok("resources"));
        assert!(!ok("resources.db.this has spaces!"));
        assert!(!ok("a..b"));
    }

    fn msgs(doc: Value) -> Vec<String> {
        validate(&doc).into_iter().map(|i| i.message).collect()
    }

    #[test]
    fn well_formed_grammar() {
        for ok in [
            "a.b",
            "resources.x",
            "metadata.a-b_c.d",
            r"metadata.a\.b",
            r"metadata.\.",
            "metadata.k/x",
        ] {
            assert!(placeholder_is_well_formed(ok), "{ok}");
        }
        for bad in [
            "",
            "a",
            ".a",
            "a.",
            "a..b",
            r"a.b\",
            r"a.b\c",
            "a.b c",
            "a.é",
            " metadata.name ",
        ] {
            assert!(!placeholder_is_well_formed(bad), "{bad}");
        }
    }

    #[test]
    fn pointers_are_escaped() {
        let doc = json!({"metadata": {"name": "w"}, "containers": {"c~x": {"image": "i",
            "files": {"/etc/a": {"content": "${nope.x}"}}}}});
        let issues = validate(&doc);
        assert_eq!(issues.len(), 1);
        assert_eq!(issues[0].pointer, "/containers/c~0x/files/~1etc~1a/content");
    }

    #[test]
    fn not_scanned_fields() {
        let doc = json!({"metadata": {"name": "w", "annotations": {"a": "${x}"}},
            "containers": {"c": {"image": "i", "command": ["${x}"], "args": ["${y}"],
                "files": {"/a": {"binaryContent": "${x}"}, "/b": {"source": "${x}"}},
                "livenessProbe": {"exec": {"command": ["${x}"]}}}},
            "resources": {"r": {"type": "t", "metadata": {"annotations": {"a": "${x}"}}}}});
        assert_eq!(msgs(doc), Vec::<String>::new());
    }

    #[test]
    fn healthy_needs_probe() {
        let doc = json!({"metadata": {"name": "w"}, "containers": {
            "db": {"image": "i", "before": {"web": {"ready": "healthy"}}},
            "web": {"image": "i"}}});
        let issues = validate(&doc);
        assert_eq!(
            issues[0].message,
            "containers.db.before: ready 'healthy' requires a readiness or liveness probe to be defined"
        );
        assert_eq!(issues[0].pointer, "/containers/db/before/web/ready");
        let doc = json!({"metadata": {"name": "w"}, "containers": {
            "db": {"image": "i", "readinessProbe": {"exec": {"command": ["true"]}},
                "before": {"web": {"ready": "healthy"}}},
            "web": {"image": "i"}}});
        assert!(validate(&doc).is_empty());
    }

    #[test]
    fn cycle_help_names_the_cycle() {
        let doc = json!({"metadata": {"name": "w"}, "containers": {
            "aa": {"image": "i", "before": {"bb": {"ready": "started"}}},
            "bb": {"image": "i", "before": {"cc": {"ready": "started"}}},
            "cc": {"image": "i", "before": {"aa": {"ready": "started"}}}}});
        let issues = validate(&doc);
        assert_eq!(issues.len(), 1);
        assert_eq!(issues[0].pointer, "/containers/cc/before/aa");
        assert!(issues[0]
            .help
            .as_deref()
            .unwrap()
            .starts_with("aa -> bb -> cc -> aa"));
    }

    #[test]
    fn metadata_not_an_object_or_absent() {
        assert_eq!(validate(&json!({"containers": {}}))[0].pointer, "");
        assert_eq!(
            msgs(json!({"metadata": "x"})),
            vec!["metadata.name is required"]
        );
        assert_eq!(
            msgs(json!({"metadata": {"name": null}})),
            vec!["metadata.name must be a non-empty string"]
        );
        assert!(validate(&json!(42)).len() == 1);
    }
}
