//! Schema stage: validates a Score document against score-gen's own `score.dev/v1b1` JSON Schema
//! and turns the validator's errors into messages written for humans.
//!
//! The schema ([`SCORE_V1B1_SCHEMA`], `schemas/score-v1b1.json`) accepts exactly the documents the
//! official spec schema accepts, including the deprecated list forms of `files`/`volumes` and the
//! probe rule "at least one of `httpGet`/`exec`". The pipeline normally upgrades list forms before
//! this stage, but validating a raw document is fine too.
//!
//! Raw validator errors are poor for people: a bad file mode inside a map-form `files` surfaces as
//! "not valid under any of the schemas listed in 'oneOf'" at `/containers/x/files`. [`validate`]
//! descends into `oneOf`/`anyOf` branches, keeps the branch that fits the value's shape, and
//! rewrites each leaf error into a short message plus help (mostly the schema's own
//! `description`, which is written to double as help text).
//!
//! ```
//! use score_core::validate::schema::validate;
//! let doc = serde_json::json!({
//!     "apiVersion": "score.dev/v1b1",
//!     "metadata": {"name": "hello"},
//!     "containers": {"main": {"image": "nginx", "variables": {"PORT": 8080}}}
//! });
//! let errors = validate(&doc);
//! assert_eq!(errors.len(), 1);
//! assert_eq!(errors[0].pointer, "/containers/main/variables/PORT");
//! assert_eq!(errors[0].message, "expected a string, found the number 8080");
//! assert_eq!(errors[0].help.as_deref(), Some("quote it: \"8080\""));
//! ```

use std::fmt;
use std::sync::LazyLock;

use jsonschema::error::{TypeKind, ValidationErrorKind};
use jsonschema::{ValidationError, Validator};
use serde_json::Value;

use crate::diag::{Code, Diagnostic};

/// score-gen's JSON Schema for Score `score.dev/v1b1` workloads (draft 2020-12), embedded at build
/// time. It is our own text, equivalent in what it accepts to the official spec schema.
pub const SCORE_V1B1_SCHEMA: &str = include_str!("../../schemas/score-v1b1.json");

/// The schema as a JSON value, parsed once.
static SCHEMA: LazyLock<Value> = LazyLock::new(|| {
    // The schema is a compile-time constant covered by unit tests, not user input.
    serde_json::from_str(SCORE_V1B1_SCHEMA).expect("embedded schemas/score-v1b1.json is valid JSON")
});

/// The compiled validator, built once on first use.
///
/// The file declares JSON Schema 2020-12 (for editors), and is a valid 2020-12 schema, but it
/// only uses keywords whose meaning is the same under draft 7, with no `$ref` beside other
/// assertions (a test checks both). Compiling it under draft 7 gives the same verdicts and
/// errors for about two thirds of the cost: jsonschema meta-validates the schema while building,
/// and the 2020-12 meta-schema (split into vocabularies) is much more expensive to build than
/// draft 7's. This is most of a cold `score-gen validate` (see BENCHMARKS.md).
static VALIDATOR: LazyLock<Validator> = LazyLock::new(|| {
    jsonschema::draft7::new(&SCHEMA).expect("embedded schemas/score-v1b1.json compiles")
});

/// The embedded schema as a parsed JSON value (for tools that want to print or inspect it).
pub fn schema() -> &'static Value {
    &SCHEMA
}

/// One schema violation, phrased for a human.
///
/// `pointer` is the JSON Pointer (RFC 6901, `/` escaped as `~1`) of the offending value, or of the
/// offending *key* when `on_key` is true (unknown fields, invalid map keys), so the caller can
/// underline the key rather than its value.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SchemaError {
    /// JSON Pointer of the value (or key, see `on_key`) that is wrong; `""` is the document root.
    pub pointer: String,
    /// What is wrong, e.g. `unknown field "imagee"`.
    pub message: String,
    /// What to do about it, when we can say something useful.
    pub help: Option<String>,
    /// True when the error is about the map key at `pointer` rather than its value.
    pub on_key: bool,
    /// For an unknown field: the one allowed field it is probably a misspelling of (a
    /// machine-applicable rename, spec/fixes.md).
    pub rename_to: Option<String>,
}

impl SchemaError {
    /// Converts into a [`Diagnostic`] with code [`Code::SchemaViolation`]; file and span are left to the caller,
    /// which knows where `pointer` lies in the source.
    pub fn into_diagnostic(self) -> Diagnostic {
        let mut d = Diagnostic::new(Code::SchemaViolation, self.message).with_pointer(self.pointer);
        if let Some(help) = self.help {
            d = d.with_help(help);
        }
        d
    }
}

impl fmt::Display for SchemaError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let at = if self.pointer.is_empty() {
            "/"
        } else {
            &self.pointer
        };
        write!(f, "{at}: {}", self.message)
    }
}

/// Validates a (possibly un-upgraded) Score document against [`SCORE_V1B1_SCHEMA`].
///
/// Returns every violation, sorted by pointer then message, without duplicates; an empty vector
/// means the document is valid. Never panics on any input value.
pub fn validate(doc: &Value) -> Vec<SchemaError> {
    let mut out = Vec::new();
    for err in VALIDATOR.iter_errors(doc) {
        convert(&err, &mut out);
    }
    out.sort_by(|a, b| {
        (a.pointer.as_str(), a.message.as_str(), a.on_key).cmp(&(
            b.pointer.as_str(),
            b.message.as_str(),
            b.on_key,
        ))
    });
    out.dedup_by(|b, a| a.pointer == b.pointer && a.message == b.message && a.on_key == b.on_key);
    out
}

fn push(out: &mut Vec<SchemaError>, pointer: String, message: String, help: Option<String>) {
    out.push(SchemaError {
        pointer,
        message,
        help,
        on_key: false,
        rename_to: None,
    });
}

fn push_key(out: &mut Vec<SchemaError>, pointer: String, message: String, help: Option<String>) {
    out.push(SchemaError {
        pointer,
        message,
        help,
        on_key: true,
        rename_to: None,
    });
}

/// Rewrites one validator error (and, for combinators, its branch errors) into `out`.
fn convert(err: &ValidationError<'_>, out: &mut Vec<SchemaError>) {
    let at = err.instance_path().as_str().to_string();
    let instance: &Value = err.instance();
    let keyword_at = err.schema_path().as_str();
    match err.kind() {
        ValidationErrorKind::PropertyNames { error } => {
            convert_key(&at, error, out);
        }
        ValidationErrorKind::AdditionalProperties { unexpected } => {
            let allowed = sibling_properties(keyword_at);
            for key in unexpected {
                let (message, help) = unknown_field(key, &allowed);
                push_key(out, child(&at, key), message, Some(help));
                if let Some(last) = out.last_mut() {
                    last.rename_to = rename_for(key, &allowed, instance);
                }
            }
        }
        ValidationErrorKind::Type { kind } => {
            let expected = expected_types(kind);
            let message = format!("expected {}, found {}", join_or(&expected), found(instance));
            let help = type_help(&expected, instance).or_else(|| description_for(keyword_at));
            push(out, at, message, help);
        }
        ValidationErrorKind::Required { property } => {
            let name = property.as_str().unwrap_or_default();
            let description = property_description(keyword_at, name);
            let message = format!("missing required property \"{name}\"");
            // Under a named mapping (a container, `metadata`) the place to edit is that name: the
            // missing key goes in its block. At the document's root there is no such key.
            match at
                .rsplit_once('/')
                .map(|(_, parent)| parent.replace("~1", "/").replace("~0", "~"))
            {
                Some(parent) if !parent.is_empty() => {
                    let add = format!("add `{name}:` under `{parent}`");
                    let help = match description {
                        Some(d) => format!("{add}. {d}"),
                        None => add,
                    };
                    push_key(out, at, message, Some(help));
                }
                _ => push(out, at, message, description),
            }
        }
        ValidationErrorKind::Pattern { pattern } => {
            convert_pattern(at, keyword_at, instance, pattern, out);
        }
        ValidationErrorKind::MinLength { limit } | ValidationErrorKind::MaxLength { limit } => {
            let too_short = matches!(err.kind(), ValidationErrorKind::MinLength { .. });
            convert_length(at, keyword_at, instance, *limit, too_short, out);
        }
        ValidationErrorKind::Minimum { limit } => {
            let message = format!("{} is less than the minimum {limit}", show(instance));
            push(out, at, message, description_for(keyword_at));
        }
        ValidationErrorKind::Maximum { limit } => {
            let message = format!("{} is greater than the maximum {limit}", show(instance));
            push(out, at, message, description_for(keyword_at));
        }
        ValidationErrorKind::MinProperties { limit } => {
            let message = if at == "/containers" {
                "at least one container is required".to_string()
            } else {
                format!("expected at least {limit} entries")
            };
            push(out, at, message, description_for(keyword_at));
        }
        ValidationErrorKind::Enum { options } => {
            convert_enum(at, keyword_at, instance, options, out);
        }
        ValidationErrorKind::Not { schema } => {
            convert_not(err, at, keyword_at, schema, out);
        }
        ValidationErrorKind::OneOfNotValid { context } | ValidationErrorKind::AnyOf { context } => {
            let any = matches!(err.kind(), ValidationErrorKind::AnyOf { .. });
            convert_combinator(err, &at, keyword_at, context, any, out);
        }
        ValidationErrorKind::OneOfMultipleValid { context } => {
            convert_one_of_multiple(at, keyword_at, context, out);
        }
        _ => push(out, at, err.to_string(), description_for(keyword_at)),
    }
}

/// A `pattern` failure: the apiVersion, a named `$defs` value, or any other string.
fn convert_pattern(
    at: String,
    keyword_at: &str,
    instance: &Value,
    pattern: &str,
    out: &mut Vec<SchemaError>,
) {
    if keyword_at == "/properties/apiVersion/pattern" {
        let help = format!(
            "found {}; write `apiVersion: score.dev/v1b1`, the only version score-gen understands",
            found(instance)
        );
        push(
            out,
            at,
            "apiVersion must be \"score.dev/v1b1\"".to_string(),
            Some(help),
        );
    } else if let Some(message) = named_def_message(keyword_at, &at, instance, false) {
        push(out, at, message, description_for(keyword_at));
    } else {
        push(
            out,
            at,
            format!("{} does not match the pattern {pattern}", show(instance)),
            description_for(keyword_at),
        );
    }
}

/// A `minLength` (`too_short`) or `maxLength` failure.
fn convert_length(
    at: String,
    keyword_at: &str,
    instance: &Value,
    limit: u64,
    too_short: bool,
    out: &mut Vec<SchemaError>,
) {
    let message = if let Some(m) = named_def_message(keyword_at, &at, instance, false) {
        m
    } else if too_short && limit == 1 {
        format!("{} must not be empty", field_name(&at))
    } else if too_short {
        format!("{} is shorter than {limit} characters", show(instance))
    } else {
        format!("{} is longer than {limit} characters", show(instance))
    };
    push(out, at, message, description_for(keyword_at));
}

/// An `enum` failure, with a hint when only the case differs.
fn convert_enum(
    at: String,
    keyword_at: &str,
    instance: &Value,
    options: &Value,
    out: &mut Vec<SchemaError>,
) {
    // A non-string against a string enum is already reported by `type`.
    let declared = keyword_parent(keyword_at).and_then(|s| s.get("type"));
    if declared == Some(&Value::from("string")) && !instance.is_string() {
        return;
    }
    let values: Vec<&str> = options
        .as_array()
        .map(|a| a.iter().filter_map(Value::as_str).collect())
        .unwrap_or_default();
    let quoted: Vec<String> = values.iter().map(|v| format!("\"{v}\"")).collect();
    let message = format!("{} is not one of {}", show(instance), join_or(&quoted));
    let near = instance.as_str().and_then(|s| {
        values
            .iter()
            .find(|v| v.eq_ignore_ascii_case(s))
            .map(|v| format!("values are case-sensitive: did you mean \"{v}\"?"))
    });
    push(
        out,
        at,
        message,
        near.or_else(|| description_for(keyword_at)),
    );
}

/// A `not` failure: a key the map form forbids (`not: {required: [name]}`) is reported on the key.
fn convert_not(
    err: &ValidationError<'_>,
    at: String,
    keyword_at: &str,
    schema: &Value,
    out: &mut Vec<SchemaError>,
) {
    let forbidden: Vec<&str> = schema
        .get("required")
        .and_then(Value::as_array)
        .map(|a| a.iter().filter_map(Value::as_str).collect())
        .unwrap_or_default();
    if let [name] = forbidden.as_slice() {
        let noun = if at.contains("/volumes/") {
            "mount path"
        } else {
            "target path"
        };
        push_key(
            out,
            child(&at, name),
            format!("\"{name}\" is not allowed in the map form"),
            Some(format!(
                "the map key is already the {noun}; remove \"{name}\""
            )),
        );
    } else {
        push(out, at, err.to_string(), description_for(keyword_at));
    }
}

/// A `oneOf` that more than one branch matched: names the mutually exclusive fields that are set.
fn convert_one_of_multiple(
    at: String,
    keyword_at: &str,
    context: &[Vec<ValidationError<'static>>],
    out: &mut Vec<SchemaError>,
) {
    let names = single_required_branches(keyword_at);
    let present: Vec<String> = names
        .iter()
        .enumerate()
        .filter(|(i, _)| context.get(*i).is_some_and(Vec::is_empty))
        .map(|(_, n)| format!("\"{n}\""))
        .collect();
    let message = if names.is_empty() {
        "the value matches more than one of the allowed forms".to_string()
    } else {
        let all: Vec<String> = names.iter().map(|n| format!("\"{n}\"")).collect();
        format!(
            "only one of {} may be set, found {}",
            join_or(&all),
            join_and(&present)
        )
    };
    push(out, at, message, description_for(keyword_at));
}

/// `oneOf`/`anyOf` failures: report the branch that explains the problem instead of the flat
/// "not valid under any of the schemas" message.
fn convert_combinator(
    err: &ValidationError<'_>,
    at: &str,
    keyword_at: &str,
    context: &[Vec<ValidationError<'static>>],
    any: bool,
    out: &mut Vec<SchemaError>,
) {
    let instance: &Value = err.instance();
    let help = description_for(keyword_at);
    // Branches that are pure `required` alternatives ("needs content, binaryContent or source").
    let only_required = !context.is_empty()
        && context.iter().all(|branch| {
            !branch.is_empty()
                && branch.iter().all(|e| {
                    matches!(e.kind(), ValidationErrorKind::Required { .. })
                        && e.instance_path().as_str() == at
                })
        });
    if only_required {
        let names: Vec<String> = context
            .iter()
            .flat_map(|b| b.iter())
            .filter_map(|e| match e.kind() {
                ValidationErrorKind::Required { property } => {
                    property.as_str().map(|p| format!("\"{p}\""))
                }
                _ => None,
            })
            .collect();
        let message = if any {
            format!("needs at least one of {}", join_or(&names))
        } else {
            format!("needs one of {}", join_or(&names))
        };
        push(out, at.to_string(), message, help);
        return;
    }
    // A branch whose own type does not fit the value is the wrong shape, not the explanation.
    let wrong_shape = |branch: &Vec<ValidationError<'static>>| {
        branch.iter().any(|e| {
            matches!(e.kind(), ValidationErrorKind::Type { .. }) && e.instance_path().as_str() == at
        })
    };
    let fitting: Vec<&Vec<ValidationError<'static>>> =
        context.iter().filter(|b| !wrong_shape(b)).collect();
    match fitting.as_slice() {
        [] => {
            let mut expected: Vec<String> = Vec::new();
            for e in context.iter().flatten() {
                if let ValidationErrorKind::Type { kind } = e.kind()
                    && e.instance_path().as_str() == at
                {
                    for t in expected_types(kind) {
                        if !expected.contains(&t) {
                            expected.push(t);
                        }
                    }
                }
            }
            let message = if expected.is_empty() {
                err.to_string()
            } else {
                format!("expected {}, found {}", join_or(&expected), found(instance))
            };
            push(out, at.to_string(), message, help);
        }
        branches => {
            // Several branches fit the shape: the one with the fewest complaints is the closest.
            if let Some(best) = branches.iter().min_by_key(|b| b.len()) {
                for e in best.iter() {
                    convert(e, out);
                }
            }
        }
    }
}

/// An invalid map key reported through `propertyNames`.
fn convert_key(at: &str, inner: &ValidationError<'_>, out: &mut Vec<SchemaError>) {
    let key_value: &Value = inner.instance();
    let key = key_value.as_str().unwrap_or_default();
    let keyword_at = inner.schema_path().as_str();
    let message = named_def_message(keyword_at, at, key_value, true)
        .unwrap_or_else(|| format!("{} is not an allowed key here", show(key_value)));
    push_key(out, child(at, key), message, description_for(keyword_at));
}

/// Message for a failure inside one of our named `$defs` (names, quantities, modes...), where the
/// keyword that failed (pattern, minLength, maxLength) matters less than what the value is.
fn named_def_message(keyword_at: &str, at: &str, value: &Value, is_key: bool) -> Option<String> {
    let def = keyword_at.strip_prefix("/$defs/")?.split('/').next()?;
    let noun = match def {
        "rfc1123Label" => {
            if is_key {
                key_noun(at)
            } else if at == "/metadata/name" {
                "workload name"
            } else {
                "name"
            }
        }
        "annotationKey" => "annotation key",
        "variableName" => "environment variable name",
        "resourceTypeName" => {
            if at.ends_with("/class") {
                "resource class"
            } else {
                "resource type"
            }
        }
        "resourceId" => "resource id",
        "memoryQuantity" => "memory quantity",
        "cpuQuantity" => "CPU quantity",
        "fileMode" => "file mode",
        _ => return None,
    };
    Some(format!("{} is not a valid {noun}", show(value)))
}

/// What kind of name a key of the map at `at` is.
fn key_noun(at: &str) -> &'static str {
    if at == "/containers" || at.ends_with("/before") {
        "container name"
    } else if at == "/resources" {
        "resource name"
    } else if at == "/service/ports" {
        "port name"
    } else {
        "name"
    }
}

fn unknown_field(key: &str, allowed: &[String]) -> (String, String) {
    let message = format!("unknown field \"{key}\"");
    if key == "read_only" && allowed.iter().any(|a| a == "readOnly") {
        return (message, "use \"readOnly\"".to_string());
    }
    let help = match closest(key, allowed.iter().map(String::as_str)) {
        Some(a) => format!("did you mean \"{a}\"?"),
        None if allowed.is_empty() => "remove it".to_string(),
        None => {
            let quoted: Vec<String> = allowed.iter().map(|a| format!("\"{a}\"")).collect();
            format!("allowed fields here: {}", quoted.join(", "))
        }
    };
    (message, help)
}

/// The one allowed field an unknown `key` is a misspelling of: `read_only` → `readOnly`, else
/// the single closest candidate (no tie), when the mapping does not already have it.
fn rename_for(key: &str, allowed: &[String], instance: &Value) -> Option<String> {
    let target = if key == "read_only" && allowed.iter().any(|a| a == "readOnly") {
        "readOnly".to_string()
    } else {
        let lower = key.to_lowercase();
        let mut scored: Vec<(usize, &String)> = allowed
            .iter()
            .map(|a| (edit_distance(&lower, &a.to_lowercase()), a))
            .filter(|(d, a)| *d <= 2.max(a.chars().count() / 4))
            .collect();
        scored.sort();
        match scored.as_slice() {
            [(_, a)] => (*a).clone(),
            [(d, a), (e, _), ..] if d < e => (*a).clone(),
            _ => return None,
        }
    };
    let taken = instance
        .as_object()
        .is_some_and(|m| m.contains_key(&target));
    (!taken).then_some(target)
}

/// The candidate closest to `key` (case-insensitive edit distance at most 2, or a quarter of the
/// candidate's length), for "did you mean" help.
pub(crate) fn closest<'a>(key: &str, candidates: impl Iterator<Item = &'a str>) -> Option<&'a str> {
    candidates
        .map(|a| (edit_distance(&key.to_lowercase(), &a.to_lowercase()), a))
        .filter(|(d, a)| *d <= 2.max(a.chars().count() / 4))
        .min_by_key(|(d, _)| *d)
        .map(|(_, a)| a)
}

pub(crate) fn edit_distance(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut prev: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.chars().enumerate() {
        let mut cur = vec![i + 1; b.len() + 1];
        for (j, cb) in b.iter().enumerate() {
            let cost = usize::from(ca != *cb);
            cur[j + 1] = (prev[j] + cost).min(prev[j + 1] + 1).min(cur[j] + 1);
        }
        prev = cur;
    }
    prev[b.len()]
}

fn expected_types(kind: &TypeKind) -> Vec<String> {
    let names: Vec<String> = match kind {
        TypeKind::Single(t) => vec![t.to_string()],
        TypeKind::Multiple(set) => set.iter().map(|t| t.to_string()).collect(),
    };
    names.iter().map(|t| type_noun(t).to_string()).collect()
}

fn type_noun(json_type: &str) -> &'static str {
    match json_type {
        "string" => "a string",
        "integer" => "an integer",
        "number" => "a number",
        "boolean" => "a boolean",
        "object" => "a map",
        "array" => "a list",
        "null" => "null",
        _ => "a value of another type",
    }
}

/// Help for the commonest YAML type slips: unquoted numbers/booleans, quoted numbers/booleans.
fn type_help(expected: &[String], instance: &Value) -> Option<String> {
    let wants = |t: &str| expected.iter().any(|e| e == t);
    match instance {
        Value::Number(n) if wants("a string") => Some(format!("quote it: \"{n}\"")),
        Value::Bool(b) if wants("a string") => Some(format!("quote it: \"{b}\"")),
        Value::String(s) if wants("an integer") && s.trim().parse::<i64>().is_ok() => {
            Some(format!("remove the quotes: {}", s.trim()))
        }
        Value::String(s)
            if wants("a boolean") && matches!(s.as_str(), "true" | "false" | "True" | "False") =>
        {
            Some(format!("remove the quotes: {}", s.to_lowercase()))
        }
        Value::String(_) if wants("a boolean") => {
            Some("write true or false, without quotes".to_string())
        }
        Value::Null => {
            Some("the value is empty (null): give it a value or remove the key".to_string())
        }
        _ => None,
    }
}

/// Short description of a found value for messages.
fn found(v: &Value) -> String {
    match v {
        Value::Null => "null".to_string(),
        Value::Bool(b) => format!("the boolean {b}"),
        Value::Number(n) => format!("the number {n}"),
        Value::String(_) => format!("the string {}", show(v)),
        Value::Array(_) => "a list".to_string(),
        Value::Object(_) => "a map".to_string(),
    }
}

/// A value as it appears in messages: scalars in JSON syntax (long strings cut), containers named.
fn show(v: &Value) -> String {
    match v {
        Value::String(s) => {
            const MAX: usize = 80;
            if s.chars().count() > MAX {
                let cut: String = s.chars().take(MAX).collect();
                format!("{}…", Value::String(cut))
            } else {
                Value::String(s.clone()).to_string()
            }
        }
        Value::Array(_) => "the list".to_string(),
        Value::Object(_) => "the map".to_string(),
        other => other.to_string(),
    }
}

/// The last segment of a pointer, unescaped, for "image must not be empty".
fn field_name(pointer: &str) -> String {
    let last = pointer.rsplit('/').next().unwrap_or_default();
    if last.is_empty() {
        "the value".to_string()
    } else {
        last.replace("~1", "/").replace("~0", "~")
    }
}

/// Appends an object member to a JSON Pointer (RFC 6901 escaping).
fn child(pointer: &str, key: &str) -> String {
    format!("{pointer}/{}", key.replace('~', "~0").replace('/', "~1"))
}

fn parent_pointer(pointer: &str) -> &str {
    pointer.rfind('/').map_or("", |i| &pointer[..i])
}

/// The schema object that holds the keyword at `keyword_at` (a pointer into our schema).
fn keyword_parent(keyword_at: &str) -> Option<&'static Value> {
    SCHEMA.pointer(parent_pointer(keyword_at))
}

/// The `description` of the schema holding the keyword, following a `$ref` without its own
/// description.
fn description_for(keyword_at: &str) -> Option<String> {
    schema_description(keyword_parent(keyword_at)?)
}

fn schema_description(schema: &'static Value) -> Option<String> {
    if let Some(d) = schema.get("description").and_then(Value::as_str) {
        return Some(d.to_string());
    }
    let target = schema.get("$ref")?.as_str()?.strip_prefix('#')?;
    SCHEMA
        .pointer(target)?
        .get("description")
        .and_then(Value::as_str)
        .map(str::to_string)
}

/// The `description` of property `name` of the schema holding a `required` keyword.
fn property_description(keyword_at: &str, name: &str) -> Option<String> {
    let parent = keyword_parent(keyword_at)?;
    parent
        .get("properties")
        .and_then(|p| p.get(name))
        .and_then(schema_description)
        .or_else(|| schema_description(parent))
}

/// Property names declared next to an `additionalProperties` keyword.
fn sibling_properties(keyword_at: &str) -> Vec<String> {
    keyword_parent(keyword_at)
        .and_then(|s| s.get("properties"))
        .and_then(Value::as_object)
        .map(|m| m.keys().cloned().collect())
        .unwrap_or_default()
}

/// For a `oneOf` whose branches are each `{"required": [name]}`, the names in branch order.
fn single_required_branches(keyword_at: &str) -> Vec<String> {
    let Some(branches) = SCHEMA.pointer(keyword_at).and_then(Value::as_array) else {
        return Vec::new();
    };
    let names: Vec<String> = branches
        .iter()
        .filter_map(|b| match b.get("required").and_then(Value::as_array) {
            Some(r) if r.len() == 1 => r[0].as_str().map(str::to_string),
            _ => None,
        })
        .collect();
    if names.len() == branches.len() {
        names
    } else {
        Vec::new()
    }
}

fn join_with(items: &[String], last: &str) -> String {
    match items {
        [] => String::new(),
        [one] => one.clone(),
        [init @ .., tail] => format!("{} {last} {tail}", init.join(", ")),
    }
}

fn join_or(items: &[String]) -> String {
    join_with(items, "or")
}

fn join_and(items: &[String]) -> String {
    join_with(items, "and")
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    /// What makes compiling under draft 7 safe (see [`VALIDATOR`]): the schema is valid
    /// 2020-12, every keyword in it means the same in draft 7 and 2020-12, and no `$ref` has an
    /// assertion beside it (draft 7 ignores `$ref` siblings; 2020-12 applies them).
    #[test]
    fn schema_means_the_same_under_draft_7() {
        assert!(jsonschema::draft202012::meta::is_valid(schema()));
        const SAME: &[&str] = &[
            "type",
            "properties",
            "additionalProperties",
            "required",
            "enum",
            "const",
            "items",
            "minLength",
            "maxLength",
            "minimum",
            "maximum",
            "pattern",
            "oneOf",
            "anyOf",
            "allOf",
            "not",
            "propertyNames",
            "minProperties",
            "maxProperties",
            "minItems",
            "maxItems",
            "uniqueItems",
            "patternProperties",
            "$ref",
            "$defs",
            "$id",
            "$schema",
            "$comment",
            "description",
            "title",
            "deprecated",
            "default",
            "examples",
        ];
        const ANNOTATIONS: &[&str] = &["description", "title", "deprecated", "$comment"];
        fn walk(v: &Value, at: &str) {
            let Some(map) = v.as_object() else { return };
            for k in map.keys() {
                assert!(
                    SAME.contains(&k.as_str()),
                    "{at}: keyword {k} may differ in draft 7"
                );
            }
            if map.contains_key("$ref") {
                for k in map.keys() {
                    assert!(
                        k == "$ref" || ANNOTATIONS.contains(&k.as_str()),
                        "{at}: `{k}` beside `$ref` (draft 7 ignores it); wrap both in allOf"
                    );
                }
            }
            for (k, sub) in map {
                match k.as_str() {
                    "properties" | "$defs" | "patternProperties" => {
                        for (name, s) in sub.as_object().into_iter().flatten() {
                            walk(s, &format!("{at}/{k}/{name}"));
                        }
                    }
                    "oneOf" | "anyOf" | "allOf" => {
                        for (i, s) in sub.as_array().into_iter().flatten().enumerate() {
                            walk(s, &format!("{at}/{k}/{i}"));
                        }
                    }
                    "items" | "not" | "additionalProperties" | "propertyNames" => {
                        walk(sub, &format!("{at}/{k}"))
                    }
                    _ => {}
                }
            }
        }
        walk(schema(), "");
    }

    fn base() -> Value {
        json!({
            "apiVersion": "score.dev/v1b1",
            "metadata": {"name": "hello"},
            "containers": {"main": {"image": "nginx"}}
        })
    }

    fn with(pointer: &str, value: Value) -> Value {
        let mut doc = base();
        let (parent, key) = pointer.rsplit_once('/').unwrap();
        let key = key.replace("~1", "/").replace("~0", "~");
        doc.pointer_mut(parent)
            .unwrap()
            .as_object_mut()
            .unwrap()
            .insert(key, value);
        doc
    }

    fn one(doc: &Value) -> SchemaError {
        let errors = validate(doc);
        assert_eq!(
            errors.len(),
            1,
            "expected exactly one error, got {errors:#?}"
        );
        errors.into_iter().next().unwrap()
    }

    #[test]
    fn embedded_schema_compiles_and_accepts_base() {
        assert_eq!(
            schema()["$id"],
            "https://score-gen.dev/schemas/score-v1b1.json"
        );
        assert!(validate(&base()).is_empty());
        assert!(VALIDATOR.is_valid(&base()));
    }

    #[test]
    fn unknown_field_points_at_key_with_suggestion() {
        let e = one(&with("/containers/main/imagee", json!("x")));
        assert_eq!(e.pointer, "/containers/main/imagee");
        assert_eq!(e.message, "unknown field \"imagee\"");
        assert_eq!(e.help.as_deref(), Some("did you mean \"image\"?"));
        assert!(e.on_key);
    }

    #[test]
    fn unknown_top_level_field_lists_allowed_fields() {
        let e = one(&with("/zzzzzz", json!(1)));
        assert_eq!(e.pointer, "/zzzzzz");
        assert!(e.on_key);
        let help = e.help.unwrap();
        assert!(help.starts_with("allowed fields here: "), "{help}");
        assert!(help.contains("\"containers\""), "{help}");
    }

    #[test]
    fn unquoted_number_gets_quote_help() {
        let e = one(&with("/containers/main/variables", json!({"PORT": 8080})));
        assert_eq!(e.pointer, "/containers/main/variables/PORT");
        assert_eq!(e.message, "expected a string, found the number 8080");
        assert_eq!(e.help.as_deref(), Some("quote it: \"8080\""));
        assert!(!e.on_key);
    }

    #[test]
    fn memory_zero_is_explained() {
        let e = one(&with(
            "/containers/main/resources",
            json!({"limits": {"memory": "0"}}),
        ));
        assert_eq!(e.pointer, "/containers/main/resources/limits/memory");
        assert_eq!(e.message, "\"0\" is not a valid memory quantity");
        let help = e.help.unwrap();
        for form in ["greater than zero", "128Mi", "1.5Gi"] {
            assert!(help.contains(form), "{help}");
        }
    }

    #[test]
    fn cpu_and_mode_messages() {
        let e = one(&with(
            "/containers/main/resources",
            json!({"requests": {"cpu": ".5"}}),
        ));
        assert_eq!(e.message, "\".5\" is not a valid CPU quantity");
        let e = one(&with(
            "/containers/main/files",
            json!({"/etc/x": {"mode": "0800", "content": "a"}}),
        ));
        assert_eq!(e.pointer, "/containers/main/files/~1etc~1x/mode");
        assert_eq!(e.message, "\"0800\" is not a valid file mode");
    }

    #[test]
    fn api_version() {
        let e = one(&with("/apiVersion", json!("score.dev/v1b2")));
        assert_eq!(e.pointer, "/apiVersion");
        assert_eq!(e.message, "apiVersion must be \"score.dev/v1b1\"");
        assert!(e.help.unwrap().contains("\"score.dev/v1b2\""));
    }

    #[test]
    fn missing_name() {
        let e = one(&with("/metadata", json!({"other": 1})));
        assert_eq!(e.pointer, "/metadata");
        assert_eq!(e.message, "missing required property \"name\"");
        assert!(e.help.unwrap().contains("RFC 1123"));
    }

    #[test]
    fn container_name_is_a_key_error_with_rfc1123_help() {
        let mut doc = base();
        doc["containers"]["A"] = json!({"image": "x"});
        // minLength and pattern both fail for "A"; the user sees one error.
        let e = one(&doc);
        assert_eq!(e.pointer, "/containers/A");
        assert_eq!(e.message, "\"A\" is not a valid container name");
        assert!(e.on_key);
        let help = e.help.unwrap();
        assert!(
            help.contains("2-63 characters") && help.contains("lowercase"),
            "{help}"
        );
    }

    #[test]
    fn workload_name_value() {
        let e = one(&with("/metadata/name", json!("Hello_World")));
        assert_eq!(e.pointer, "/metadata/name");
        assert_eq!(e.message, "\"Hello_World\" is not a valid workload name");
    }

    #[test]
    fn map_form_files_report_inside_the_branch() {
        let e = one(&with(
            "/containers/main/files",
            json!({"/etc/x": {"mode": 600, "content": "a"}}),
        ));
        assert_eq!(e.pointer, "/containers/main/files/~1etc~1x/mode");
        assert_eq!(e.message, "expected a string, found the number 600");
    }

    #[test]
    fn list_form_files_report_inside_the_list_branch() {
        let e = one(&with(
            "/containers/main/volumes",
            json!([{"source": 1, "target": "/x"}]),
        ));
        assert_eq!(e.pointer, "/containers/main/volumes/0/source");
    }

    #[test]
    fn files_null_names_both_shapes() {
        let e = one(&with("/containers/main/files", Value::Null));
        assert_eq!(e.pointer, "/containers/main/files");
        assert_eq!(e.message, "expected a map or a list, found null");
        assert!(e.help.unwrap().contains("target path"));
    }

    #[test]
    fn wrong_type_against_enum_is_reported_once() {
        let e = one(&with(
            "/containers/main/livenessProbe",
            json!({"httpGet": {"port": 80, "path": "/", "scheme": 12}}),
        ));
        assert_eq!(e.pointer, "/containers/main/livenessProbe/httpGet/scheme");
        assert_eq!(e.message, "expected a string, found the number 12");
    }

    #[test]
    fn diagnostic_and_display() {
        let e = one(&with("/containers/main/image", json!("")));
        assert_eq!(
            e.to_string(),
            "/containers/main/image: image must not be empty"
        );
        let d = e.into_diagnostic();
        assert_eq!(d.code, Code::SchemaViolation);
        assert_eq!(d.pointer.as_deref(), Some("/containers/main/image"));
        assert!(d.help.is_some());
    }

    #[test]
    fn target_in_map_form_points_at_the_key() {
        let e = one(&with(
            "/containers/main/files",
            json!({"/etc/x": {"target": "/etc/x", "content": "a"}}),
        ));
        assert_eq!(e.pointer, "/containers/main/files/~1etc~1x/target");
        assert!(e.on_key);
        assert_eq!(e.message, "\"target\" is not allowed in the map form");
    }

    #[test]
    fn file_content_alternatives() {
        let e = one(&with("/containers/main/files", json!({"/etc/x": {}})));
        assert_eq!(e.pointer, "/containers/main/files/~1etc~1x");
        assert_eq!(
            e.message,
            "needs one of \"content\", \"binaryContent\" or \"source\""
        );
        let e = one(&with(
            "/containers/main/files",
            json!({"/etc/x": {"content": "", "source": "f"}}),
        ));
        assert_eq!(
            e.message,
            "only one of \"content\", \"binaryContent\" or \"source\" may be set, found \"content\" and \"source\""
        );
    }

    #[test]
    fn empty_probe_needs_http_get_or_exec() {
        let e = one(&with("/containers/main/livenessProbe", json!({})));
        assert_eq!(e.pointer, "/containers/main/livenessProbe");
        assert_eq!(e.message, "needs at least one of \"httpGet\" or \"exec\"");
    }

    #[test]
    fn enum_case_hint_and_range() {
        let errors = validate(&with(
            "/service",
            json!({"ports": {"web": {"port": 0, "protocol": "tcp"}}}),
        ));
        assert_eq!(errors.len(), 2);
        assert_eq!(errors[0].pointer, "/service/ports/web/port");
        assert_eq!(errors[0].message, "0 is less than the minimum 1");
        assert_eq!(errors[1].pointer, "/service/ports/web/protocol");
        assert_eq!(
            errors[1].message,
            "\"tcp\" is not one of \"TCP\" or \"UDP\""
        );
        assert_eq!(
            errors[1].help.as_deref(),
            Some("values are case-sensitive: did you mean \"TCP\"?")
        );
    }

    #[test]
    fn empty_image_and_read_only() {
        let e = one(&with("/containers/main/image", json!("")));
        assert_eq!(e.message, "image must not be empty");
        let e = one(&with(
            "/containers/main/volumes",
            json!({"/data": {"source": "x", "read_only": true}}),
        ));
        assert_eq!(e.pointer, "/containers/main/volumes/~1data/read_only");
        assert_eq!(e.help.as_deref(), Some("use \"readOnly\""));
    }

    #[test]
    fn sorted_and_deduplicated() {
        let doc = json!({
            "apiVersion": 1,
            "metadata": {"name": "A"},
            "containers": {"Z": {"image": ""}, "b": {"image": 2}},
            "zz": 1
        });
        let errors = validate(&doc);
        let keys: Vec<(&str, &str)> = errors
            .iter()
            .map(|e| (e.pointer.as_str(), e.message.as_str()))
            .collect();
        let mut sorted = keys.clone();
        sorted.sort();
        sorted.dedup();
        assert_eq!(keys, sorted);
        assert_eq!(errors.len(), 7, "{errors:#?}");
    }

    #[test]
    fn never_panics_on_odd_roots() {
        for doc in [json!(null), json!([]), json!("x"), json!(1), json!({})] {
            assert!(!validate(&doc).is_empty());
        }
    }
}
