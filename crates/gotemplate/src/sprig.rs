//! The function library: sprig 3.3.0 as Go's sprig behaves (read from its source), the
//! refused functions, and the internal helpers the tree rewrite calls. Callers add their own
//! functions through [`super::Functions::with`].
//!
//! Every function checks its arguments as Go's `reflect` call does for the Go signature
//! (a `string` parameter given an `int` is `wrong type for value; expected string; got int`,
//! a missing value is `invalid value; expected string`, a map parameter given nothing gets an
//! empty map), and the size of what it returns is charged against the render's fuel.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::sync::{Arc, OnceLock};

use gotmpl::{FuncMap, Value};

use super::gofmt::{self, e_format, f_format, float_v as go_float, quote as go_quote, shortest};
use super::random::Stream;
use super::{charge, fuel_left};

/// Prints an action's value the way Go's `fmt` does (internal).
pub(super) const FN_OUT: &str = "\u{0}out";
/// Charges the size of a pipeline's value (internal).
pub(super) const FN_CHARGE: &str = "\u{0}charge";
/// Checks a `printf` format against the fuel (internal).
pub(super) const FN_FMT: &str = "\u{0}fmt";
/// One template call with data (internal).
pub(super) const FN_TICK: &str = "\u{0}tick";
/// One template call without data: nil, as Go passes (internal).
pub(super) const FN_NIL_TICK: &str = "\u{0}niltick";
/// Prepares one `printf` argument for its verb (internal): Go's formatting of floats, lists
/// and maps, and of a verb that does not fit its argument, where gotmpl's differs.
pub(super) const FN_FMTARG: &str = "\u{0}fmtarg";
/// Checks the printed size of a list or dict against the fuel left, passing it on (internal).
pub(super) const FN_ROOM: &str = "\u{0}room";
/// `$x = ...` where no scope declares `$x` (internal): Go's execution error.
pub(super) const FN_UNDEF_VAR: &str = "\u{0}undefvar";
/// Keeps the dict a map-changing call returned, under the call's id (internal).
pub(super) const FN_KEEP: &str = "\u{0}keep";
/// The dict kept under an id since it was last asked for, else the current value (internal).
pub(super) const FN_KEPT: &str = "\u{0}kept";
/// Records the position of the action about to run (internal).
pub(super) const FN_POS: &str = "\u{0}pos";
/// `X.NAME args...` for a semver method name (internal): see `typed::method`.
pub(super) const FN_METHOD: &str = "\u{0}method";
/// An unknown field of the root struct (internal).
pub(super) const FN_FIELD: &str = "\u{0}field";

/// Go's built-in functions (gotmpl provides them).
pub(super) const GO_BUILTINS: &[&str] = &[
    "and", "call", "html", "index", "slice", "js", "len", "not", "or", "print", "printf",
    "println", "urlquery", "eq", "ge", "gt", "le", "lt", "ne",
];

/// Functions whose result is always a string, integer or bool, which gotmpl prints as Go does
/// (an action ending in one needs no formatting step).
pub(super) const SCALAR_RESULTS: &[&str] = &[
    "quote",
    "squote",
    "cat",
    "upper",
    "lower",
    "title",
    "untitle",
    "trim",
    "trimAll",
    "trimall",
    "trimPrefix",
    "trimSuffix",
    "replace",
    "indent",
    "nindent",
    "printf",
    "print",
    "println",
    "html",
    "js",
    "urlquery",
    "b64enc",
    "b64dec",
    "b32enc",
    "b32dec",
    "toJson",
    "toRawJson",
    "toPrettyJson",
    "mustToJson",
    "mustToRawJson",
    "mustToPrettyJson",
    "toString",
    "join",
    "substr",
    "trunc",
    "abbrev",
    "abbrevboth",
    "repeat",
    "nospace",
    "initials",
    "wrap",
    "wrapWith",
    "camelcase",
    "snakecase",
    "kebabcase",
    "swapcase",
    "sha1sum",
    "sha256sum",
    "sha512sum",
    "adler32sum",
    "randAlphaNum",
    "randAlpha",
    "randNumeric",
    "randAscii",
    "randBytes",
    "uuidv4",
    "regexReplaceAll",
    "regexReplaceAllLiteral",
    "regexFind",
    "regexQuoteMeta",
    "urlJoin",
    "base",
    "dir",
    "ext",
    "clean",
    "osBase",
    "osDir",
    "osExt",
    "osClean",
    "typeOf",
    "kindOf",
    "len",
    "add",
    "add1",
    "sub",
    "mul",
    "div",
    "mod",
    "max",
    "min",
    "biggest",
    "atoi",
    "int",
    "int64",
    "toDecimal",
    "randInt",
    "eq",
    "ne",
    "lt",
    "le",
    "gt",
    "ge",
    "not",
    "contains",
    "hasPrefix",
    "hasSuffix",
    "hasKey",
    "has",
    "empty",
    "all",
    "any",
    "regexMatch",
    "semverCompare",
    "typeIs",
    "typeIsLike",
    "kindIs",
    "deepEqual",
    "isAbs",
    "osIsAbs",
    "seq",
];

/// The built-ins whose result can be larger than their arguments (charged by the rewrite).
pub(super) const PRINTING_BUILTINS: &[&str] =
    &["print", "printf", "println", "html", "js", "urlquery"];

/// The functions refused, with why (the message names the function).
pub(super) const REFUSED: &[(&str, &str)] = &[
    ("env", ENV),
    ("expandenv", ENV),
    ("getHostByName", NET),
    ("now", CLOCK),
    ("ago", CLOCK),
    ("date", CLOCK),
    ("date_in_zone", CLOCK),
    ("dateInZone", CLOCK),
    ("date_modify", CLOCK),
    ("dateModify", CLOCK),
    ("must_date_modify", CLOCK),
    ("mustDateModify", CLOCK),
    ("duration", CLOCK),
    ("durationRound", CLOCK),
    ("htmlDate", CLOCK),
    ("htmlDateInZone", CLOCK),
    ("toDate", CLOCK),
    ("mustToDate", CLOCK),
    ("unixEpoch", CLOCK),
    ("bcrypt", CRYPTO),
    ("htpasswd", CRYPTO),
    ("genPrivateKey", CRYPTO),
    ("derivePassword", CRYPTO),
    ("buildCustomCert", CRYPTO),
    ("genCA", CRYPTO),
    ("genCAWithKey", CRYPTO),
    ("genSelfSignedCert", CRYPTO),
    ("genSelfSignedCertWithKey", CRYPTO),
    ("genSignedCert", CRYPTO),
    ("genSignedCertWithKey", CRYPTO),
    ("encryptAES", CRYPTO),
    ("decryptAES", CRYPTO),
];

const ENV: &str = "provisioner templates are data: they do not read the environment of the \
                   machine that runs score-gen (pass values through params or the state)";
const NET: &str = "provisioner templates are data: they do not use the network";
const CLOCK: &str = "score-gen renders the same inputs to the same bytes, so templates do not \
                     read the clock (none of the reference provisioners uses a date function)";
const CRYPTO: &str = "key, certificate and password-hash generators are not provided (no \
                      reference provisioner uses them; generate secrets with randAlphaNum)";

/// A parameter's Go type: how a function's argument is checked before the function runs, as
/// Go's `reflect` call checks it (`wrong type for value; expected string; got int`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Param {
    /// `string`
    String,
    /// `int`
    Int,
    /// `float64` (an `int` argument is converted)
    Float,
    /// `bool`
    Bool,
    /// `map[string]interface{}` (a missing value becomes an empty map)
    Map,
    /// `interface{}`: anything passes
    Any,
}

use Param as P;

type Body = fn(&[Value]) -> Result<Value, String>;

/// Go's built-ins and sprig: built once, shared by every template.
pub(super) fn sprig_map() -> Arc<FuncMap> {
    static MAP: OnceLock<Arc<FuncMap>> = OnceLock::new();
    Arc::clone(MAP.get_or_init(|| Arc::new(build())))
}

fn reg(m: &mut FuncMap, name: &'static str, params: &'static [P], variadic: Option<P>, f: Body) {
    m.insert(
        name.to_string(),
        Arc::new(move |args: &[Value]| call(name, params, variadic, &f, args)),
    );
}

/// Registers a caller's function (see [`super::Functions::with`]): its arguments are checked
/// like sprig's, its result is charged against the fuel, and it sees the render's extra data.
pub(super) fn register_extra(
    m: &mut FuncMap,
    name: &str,
    params: &'static [P],
    f: Arc<super::ExtraFn>,
) {
    let owned = name.to_string();
    m.insert(
        name.to_string(),
        Arc::new(move |args: &[Value]| {
            let extra = super::render_extra();
            let body = |a: &[Value]| f(a, extra.as_deref());
            call(&owned, params, None, &body, args)
        }),
    );
}

fn call(
    name: &str,
    params: &[P],
    variadic: Option<P>,
    f: &dyn Fn(&[Value]) -> Result<Value, String>,
    args: &[Value],
) -> gotmpl::Result<Value> {
    let exec = gotmpl::TemplateError::Exec;
    match variadic {
        None if args.len() != params.len() => {
            return Err(exec(format!(
                "wrong number of args for {name}: want {} got {}",
                params.len(),
                args.len()
            )));
        }
        Some(_) if args.len() < params.len() => {
            return Err(exec(format!(
                "wrong number of args for {name}: want at least {} got {}",
                params.len(),
                args.len()
            )));
        }
        _ => {}
    }
    // Most arguments pass as they are; only a nil map or an int for a float is replaced.
    let mut conv: Option<Vec<Value>> = None;
    for (i, a) in args.iter().enumerate() {
        let p = params.get(i).copied().or(variadic).unwrap_or(P::Any);
        if let Some(replaced) = check(p, a).map_err(exec)? {
            conv.get_or_insert_with(|| args.to_vec())[i] = replaced;
        }
    }
    let conv: &[Value] = conv.as_deref().unwrap_or(args);
    if TEXT_OF_ARGS.contains(&name) {
        // The text of a list can be far larger than what was charged for building it (a list
        // of many references to one large string): count it before producing it.
        let mut need = conv
            .iter()
            .fold(0u64, |n, a| n.saturating_add(printed_size(a, fuel_left())));
        if let (Some(Value::String(sep)), Some(Value::List(l))) = (conv.first(), conv.get(1))
            && name == "join"
        {
            need = need.saturating_add((sep.len() as u64).saturating_mul(l.len() as u64));
        }
        check_room(need).map_err(exec)?;
    }
    let out = f(conv).map_err(|e| exec(format!("error calling {name}: {e}")))?;
    charge(size(&out)).map_err(exec)?;
    if NESTING.contains(&name) && too_deep(&out, MAX_DEPTH) {
        return Err(exec(format!(
            "error calling {name}: the value would be nested deeper than {MAX_DEPTH} levels \
             (score-gen bounds the values templates build)"
        )));
    }
    Ok(out)
}

/// The functions whose result is (or holds) the text of their arguments: their output is
/// bounded by the fuel before it is produced.
const TEXT_OF_ARGS: &[&str] = &[
    "join",
    "cat",
    "print",
    "println",
    "html",
    "js",
    "urlquery",
    "quote",
    "squote",
    "toString",
    "toStrings",
    "sortAlpha",
    "toJson",
    "toRawJson",
    "toPrettyJson",
    "mustToJson",
    "mustToRawJson",
    "mustToPrettyJson",
];

/// A lower bound of the bytes Go's `fmt` or `json.Marshal` writes for `v`: its strings' and
/// keys' bytes plus one per value. Counting stops above `cap` (a list may hold the same large
/// value many times, or lists nested in each other, so the count can be far above the values'
/// memory).
pub(super) fn printed_size(v: &Value, cap: u64) -> u64 {
    let mut total = 0u64;
    let mut stack = vec![v];
    while let Some(x) = stack.pop() {
        total = total.saturating_add(1);
        match x {
            Value::String(t) => total = total.saturating_add(t.len() as u64),
            Value::List(l) => stack.extend(l.iter()),
            Value::Map(m) => {
                for (k, c) in m.iter() {
                    total = total.saturating_add(k.len() as u64);
                    stack.push(c);
                }
            }
            _ => {}
        }
        if total > cap {
            break;
        }
    }
    total
}

/// Fails (and uses up the fuel) when `need` is more than the fuel left.
pub(super) fn check_room(need: u64) -> Result<(), String> {
    if need > fuel_left() {
        charge(need)?;
    }
    Ok(())
}

/// The functions that put a list or dict inside a new one (a template could otherwise build a
/// value nested so deep that printing or dropping it overflows the stack).
const NESTING: &[&str] = &[
    "list",
    "tuple",
    "dict",
    "append",
    "push",
    "mustAppend",
    "mustPush",
    "prepend",
    "mustPrepend",
    "set",
    "merge",
    "mustMerge",
    "mergeOverwrite",
    "mustMergeOverwrite",
    "chunk",
    "mustChunk",
];

/// How deep the values templates build may nest.
const MAX_DEPTH: usize = 100;

/// Whether `v` nests lists and dicts more than `limit` deep (iterative: no recursion).
fn too_deep(v: &Value, limit: usize) -> bool {
    let mut stack = vec![(v, 1usize)];
    while let Some((x, d)) = stack.pop() {
        let children: Box<dyn Iterator<Item = &Value>> = match x {
            Value::List(l) => Box::new(l.iter()),
            Value::Map(m) => Box::new(m.values()),
            _ => continue,
        };
        if d > limit {
            return true;
        }
        for c in children {
            if matches!(c, Value::List(_) | Value::Map(_)) {
                stack.push((c, d + 1));
            }
        }
    }
    false
}

/// Go's argument check for a parameter of type `p`: `Some` when the value passes changed.
fn check(p: P, v: &Value) -> Result<Option<Value>, String> {
    let want = match p {
        P::Any => return Ok(None),
        P::String => "string",
        P::Int => "int",
        P::Float => "float64",
        P::Bool => "bool",
        P::Map => "map[string]interface {}",
    };
    match (p, v) {
        (P::String, Value::String(_))
        | (P::Int, Value::Int(_))
        | (P::Bool, Value::Bool(_))
        | (P::Float, Value::Float(_)) => Ok(None),
        (P::Map, Value::Map(m)) => match super::typed::go_type_of(m) {
            None => Ok(None),
            Some(t) => Err(format!("wrong type for value; expected {want}; got {t}")),
        },
        (P::Float, Value::Int(i)) => Ok(Some(Value::Float(*i as f64))),
        (P::Map, Value::Nil) => Ok(Some(Value::Map(Arc::new(BTreeMap::new())))),
        (_, Value::Nil) => Err(format!("invalid value; expected {want}")),
        _ => Err(format!(
            "wrong type for value; expected {want}; got {}",
            go_type(v)
        )),
    }
}

/// How much fuel a produced value costs: its length (at least 1).
fn size(v: &Value) -> u64 {
    match v {
        Value::String(s) => s.len() as u64,
        Value::List(l) => l.len() as u64,
        Value::Map(m) => m.len() as u64,
        _ => 1,
    }
    .max(1)
}

/// Go's `%T` of a value as the tools' data holds it.
pub(super) fn go_type(v: &Value) -> &'static str {
    match v {
        Value::Nil => "<nil>",
        Value::Bool(_) => "bool",
        Value::Int(_) => "int",
        Value::Uint(_) => "uint64",
        Value::Float(_) => "float64",
        Value::String(_) => "string",
        Value::List(_) => "[]interface {}",
        Value::Map(m) => super::typed::go_type_of(m).unwrap_or("map[string]interface {}"),
        _ => "func",
    }
}

fn go_kind(v: &Value) -> &'static str {
    match v {
        Value::Map(m) => match super::typed::kind_of(m) {
            Some(super::typed::Kind::Struct(_)) => "struct",
            Some(super::typed::Kind::Semver(true)) => "ptr",
            Some(super::typed::Kind::Semver(false)) => "struct",
            _ => "map",
        },
        Value::Nil => "invalid",
        Value::Bool(_) => "bool",
        Value::Int(_) => "int",
        Value::Uint(_) => "uint64",
        Value::Float(_) => "float64",
        Value::String(_) => "string",
        Value::List(_) => "slice",

        _ => "func",
    }
}

fn st(v: &Value) -> &str {
    v.as_str().unwrap_or("")
}

fn int(v: &Value) -> i64 {
    match v {
        Value::Int(i) => *i,
        _ => 0,
    }
}

fn s(x: impl Into<String>) -> Value {
    Value::String(Arc::from(x.into()))
}

fn list(items: Vec<Value>) -> Value {
    Value::List(Arc::from(items))
}

fn map(m: BTreeMap<Arc<str>, Value>) -> Value {
    Value::Map(Arc::new(m))
}

fn items(v: &Value) -> Option<&[Value]> {
    match v {
        Value::List(l) => Some(l),
        _ => None,
    }
}

fn list_arg<'a>(v: &'a Value, what: &str) -> Result<&'a [Value], String> {
    match v {
        Value::List(l) => Ok(l),
        Value::Nil => {
            Err("runtime error: invalid memory address or nil pointer dereference".into())
        }
        other => Err(format!("Cannot {what} type {}", go_kind(other))),
    }
}

fn map_of(v: &Value) -> &BTreeMap<Arc<str>, Value> {
    static EMPTY: OnceLock<BTreeMap<Arc<str>, Value>> = OnceLock::new();
    match v {
        Value::Map(m) => m,
        _ => EMPTY.get_or_init(BTreeMap::new),
    }
}

// ---- Go formatting (the scalar forms are in `gofmt`) ----------------------------------------

/// Go's `fmt.Sprint` of one value (`%v`).
pub(super) fn go_sprint(v: &Value) -> String {
    let mut out = String::new();
    sprint_into(&mut out, v);
    out
}

fn sprint_into(out: &mut String, v: &Value) {
    match v {
        Value::Nil => out.push_str("<nil>"),
        Value::Bool(b) => {
            let _ = write!(out, "{b}");
        }
        Value::Int(i) => {
            let _ = write!(out, "{i}");
        }
        Value::Uint(i) => {
            let _ = write!(out, "{i}");
        }
        Value::Float(f) => out.push_str(&go_float(*f)),
        Value::String(s) => out.push_str(s),
        Value::List(l) => {
            out.push('[');
            for (i, x) in l.iter().enumerate() {
                if i > 0 {
                    out.push(' ');
                }
                sprint_into(out, x);
            }
            out.push(']');
        }
        Value::Map(m) => match super::typed::kind_of(m) {
            Some(super::typed::Kind::Semver(_)) => {
                if let Some(Value::String(s)) = m.get("String") {
                    out.push_str(s);
                }
            }
            Some(super::typed::Kind::Struct(fields)) => {
                out.push('{');
                for (i, f) in fields.iter().enumerate() {
                    if i > 0 {
                        out.push(' ');
                    }
                    sprint_into(out, m.get(f).unwrap_or(&Value::Nil));
                }
                out.push('}');
            }
            _ => sprint_map(out, m),
        },
        _ => out.push_str("<func>"),
    }
}

fn sprint_map(out: &mut String, m: &BTreeMap<Arc<str>, Value>) {
    out.push_str("map[");
    for (i, (k, x)) in m.iter().enumerate() {
        if i > 0 {
            out.push(' ');
        }
        out.push_str(k);
        out.push(':');
        sprint_into(out, x);
    }
    out.push(']');
}

/// sprig's `strval`.
fn strval(v: &Value) -> String {
    go_sprint(v)
}

/// Go's `strconv.QuoteToASCII` (`%+q`): non-ASCII as `\\u`/`\\U` escapes.
fn go_quote_ascii(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 2);
    for c in go_quote(s).chars() {
        match c as u32 {
            0..=0x7f => out.push(c),
            u @ 0x80..=0xffff => {
                let _ = write!(out, "\\u{u:04x}");
            }
            u => {
                let _ = write!(out, "\\U{u:08x}");
            }
        }
    }
    out
}

/// Go's `unicode.IsSpace`.
fn is_space(c: char) -> bool {
    matches!(
        c,
        '\t' | '\n' | '\u{b}' | '\u{c}' | '\r' | ' ' | '\u{85}' | '\u{a0}'
    ) || ((c as u32) > 0xff && c.is_whitespace())
}

fn upper_char(c: char) -> char {
    let mut u = c.to_uppercase();
    match (u.next(), u.next()) {
        (Some(x), None) => x,
        _ => c,
    }
}

fn lower_char(c: char) -> char {
    let mut u = c.to_lowercase();
    match (u.next(), u.next()) {
        (Some(x), None) => x,
        // `İ` (U+0130) is the one character whose lower case is two: Go's `unicode.ToLower`
        // gives the first, `i`.
        (Some(x), Some(_)) if c == '\u{130}' => x,
        _ => c,
    }
}

/// Go's `unicode.ToTitle`: the upper case, except the digraphs with a title-case form.
fn title_char(c: char) -> char {
    match c {
        '\u{1c4}'..='\u{1c6}' => '\u{1c5}',
        '\u{1c7}'..='\u{1c9}' => '\u{1c8}',
        '\u{1ca}'..='\u{1cc}' => '\u{1cb}',
        '\u{1f1}'..='\u{1f3}' => '\u{1f2}',
        _ => upper_char(c),
    }
}

// ---- JSON ----------------------------------------------------------------------------------

fn json_into(out: &mut String, v: &Value, html: bool, indent: Option<usize>) -> Result<(), String> {
    match v {
        Value::Nil => out.push_str("null"),
        Value::Bool(b) => {
            let _ = write!(out, "{b}");
        }
        Value::Int(i) => {
            let _ = write!(out, "{i}");
        }
        Value::Uint(i) => {
            let _ = write!(out, "{i}");
        }
        Value::Float(f) => {
            if !f.is_finite() {
                return Err(format!("json: unsupported value: {}", go_float(*f)));
            }
            gofmt::write_json_float(out, *f);
        }
        Value::String(s) => gofmt::write_json_string(out, s, html),
        Value::List(l) => {
            if l.is_empty() {
                out.push_str("[]");
                return Ok(());
            }
            out.push('[');
            for (i, x) in l.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                newline(out, indent.map(|d| d + 1));
                json_into(out, x, html, indent.map(|d| d + 1))?;
            }
            newline(out, indent);
            out.push(']');
        }
        Value::Map(m) if super::typed::as_semver(v).is_some() => {
            // `Version.MarshalJSON`: its `String()`.
            if let Some(Value::String(s)) = m.get("String") {
                gofmt::write_json_string(out, s, html);
            }
        }
        Value::Map(m) => {
            if m.is_empty() {
                out.push_str("{}");
                return Ok(());
            }
            out.push('{');
            for (i, (k, x)) in m.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                newline(out, indent.map(|d| d + 1));
                gofmt::write_json_string(out, k, html);
                out.push(':');
                if indent.is_some() {
                    out.push(' ');
                }
                json_into(out, x, html, indent.map(|d| d + 1))?;
            }
            newline(out, indent);
            out.push('}');
        }
        _ => return Err("json: unsupported type: func".into()),
    }
    Ok(())
}

fn newline(out: &mut String, indent: Option<usize>) {
    if let Some(d) = indent {
        out.push('\n');
        for _ in 0..d {
            out.push_str("  ");
        }
    }
}

fn to_json(v: &Value, html: bool, indent: bool) -> Result<String, String> {
    let mut out = String::new();
    json_into(&mut out, v, html, indent.then_some(0))?;
    Ok(out)
}

fn from_json(text: &str) -> Result<Value, String> {
    let j: serde_json::Value = serde_json::from_str(text).map_err(|e| e.to_string())?;
    Ok(json_floats(&j))
}

/// Go's `json.Unmarshal` into `interface{}`: every number is a float64.
fn json_floats(j: &serde_json::Value) -> Value {
    match j {
        serde_json::Value::Number(n) => Value::Float(n.as_f64().unwrap_or(0.0)),
        serde_json::Value::Array(a) => list(a.iter().map(json_floats).collect()),
        serde_json::Value::Object(o) => map(o
            .iter()
            .map(|(k, v)| (Arc::from(k.as_str()), json_floats(v)))
            .collect()),
        other => super::to_value(other),
    }
}

// ---- numbers (spf13/cast as sprig uses it) --------------------------------------------------

fn parse_go_int(s: &str) -> Option<i64> {
    // strconv.ParseInt(s, 0, 0): sign, then 0x/0o/0b/0 prefixes, underscores allowed with a prefix.
    let (neg, body) = match s.as_bytes().first() {
        Some(b'-') => (true, &s[1..]),
        Some(b'+') => (false, &s[1..]),
        _ => (false, s),
    };
    let lower = body.to_ascii_lowercase();
    let (radix, digits, prefixed) = if let Some(r) = lower.strip_prefix("0x") {
        (16, r.to_string(), true)
    } else if let Some(r) = lower.strip_prefix("0o") {
        (8, r.to_string(), true)
    } else if let Some(r) = lower.strip_prefix("0b") {
        (2, r.to_string(), true)
    } else if lower.len() > 1 && lower.starts_with('0') {
        (8, lower[1..].to_string(), true)
    } else {
        (10, lower.clone(), false)
    };
    let digits = if prefixed {
        digits.replace('_', "")
    } else {
        digits
    };
    if digits.is_empty() || digits.starts_with('+') || digits.starts_with('-') {
        return None;
    }
    let mag = i128::from_str_radix(&digits, radix).ok()?;
    let v = if neg { -mag } else { mag };
    i64::try_from(v).ok()
}

fn trim_zero_decimal(s: &str) -> &str {
    let b = s.as_bytes();
    let mut found_zero = false;
    for i in (1..=b.len()).rev() {
        match b[i - 1] {
            b'.' => {
                if found_zero {
                    return &s[..i - 1];
                }
            }
            b'0' => found_zero = true,
            _ => return s,
        }
    }
    s
}

/// cast.ToInt64 (0 on failure).
fn to_int64(v: &Value) -> i64 {
    match v {
        Value::Int(i) => *i,
        Value::Uint(u) => *u as i64,
        Value::Float(f) => *f as i64,
        Value::Bool(b) => i64::from(*b),
        Value::String(s) => parse_go_int(trim_zero_decimal(s)).unwrap_or(0),
        _ => 0,
    }
}

/// cast.ToFloat64 (0 on failure).
fn to_float64(v: &Value) -> f64 {
    match v {
        Value::Int(i) => *i as f64,
        Value::Uint(u) => *u as f64,
        Value::Float(f) => *f,
        Value::Bool(b) => f64::from(u8::from(*b)),
        Value::String(s) => parse_go_float(s).unwrap_or(0.0),
        _ => 0.0,
    }
}

fn parse_go_float(s: &str) -> Option<f64> {
    let t = s.trim_start_matches(['+', '-']);
    let lower = t.to_ascii_lowercase();
    if lower == "inf" || lower == "infinity" {
        return Some(if s.starts_with('-') {
            f64::NEG_INFINITY
        } else {
            f64::INFINITY
        });
    }
    if lower == "nan" {
        return Some(f64::NAN);
    }
    if lower.starts_with("0x") {
        return parse_go_int(s).map(|i| i as f64);
    }
    if s.contains('_') || s.is_empty() {
        return None;
    }
    s.parse::<f64>().ok()
}

/// Sprig's decimal arithmetic: shopspring/decimal over the shortest decimal form of each float.
#[derive(Clone, Copy)]
struct Dec {
    m: i128,
    e: i32,
}

impl Dec {
    fn from_f64(f: f64) -> Option<Dec> {
        if !f.is_finite() {
            return None;
        }
        let (neg, digits, exp) = shortest(f);
        let m: i128 = digits.parse().ok()?;
        let e = exp - (digits.len() as i32 - 1);
        Some(Dec {
            m: if neg { -m } else { m },
            e,
        })
    }
    fn align(a: Dec, b: Dec) -> Option<(i128, i128, i32)> {
        let e = a.e.min(b.e);
        let am = a.m.checked_mul(10i128.checked_pow((a.e - e) as u32)?)?;
        let bm = b.m.checked_mul(10i128.checked_pow((b.e - e) as u32)?)?;
        Some((am, bm, e))
    }
    fn to_f64(self) -> f64 {
        format!("{}e{}", self.m, self.e).parse().unwrap_or(0.0)
    }
}

fn dec_op(a: &Value, rest: &[Value], op: u8) -> f64 {
    let mut acc = to_float64(a);
    for x in rest {
        let b = to_float64(x);
        let exact = (|| {
            let (da, db) = (Dec::from_f64(acc)?, Dec::from_f64(b)?);
            match op {
                b'+' | b'-' => {
                    let (am, bm, e) = Dec::align(da, db)?;
                    let m = if op == b'+' {
                        am.checked_add(bm)?
                    } else {
                        am.checked_sub(bm)?
                    };
                    Some(Dec { m, e }.to_f64())
                }
                b'*' => Some(
                    Dec {
                        m: da.m.checked_mul(db.m)?,
                        e: da.e + db.e,
                    }
                    .to_f64(),
                ),
                _ => {
                    if db.m == 0 {
                        return None;
                    }
                    // Rounded to 16 decimal places, as decimal.Div does.
                    let shift = da.e - db.e + 16;
                    let num = if shift >= 0 {
                        da.m.checked_mul(10i128.checked_pow(shift as u32)?)?
                    } else {
                        da.m / 10i128.checked_pow((-shift) as u32)?
                    };
                    let q = num / db.m;
                    let r = num % db.m;
                    let q = if (r.abs() * 2) >= db.m.abs() {
                        q + if (num < 0) != (db.m < 0) { -1 } else { 1 }
                    } else {
                        q
                    };
                    Some(Dec { m: q, e: -16 }.to_f64())
                }
            }
        })();
        acc = exact.unwrap_or(match op {
            b'+' => acc + b,
            b'-' => acc - b,
            b'*' => acc * b,
            _ => acc / b,
        });
    }
    acc
}

// ---- the map -------------------------------------------------------------------------------

const A: P = P::Any;
const B: P = P::Bool;
const F: P = P::Float;
const I: P = P::Int;
const M: P = P::Map;
const S: P = P::String;

fn build() -> FuncMap {
    let mut m = FuncMap::new();
    internal(&mut m);
    strings(&mut m);
    numbers(&mut m);
    defaults(&mut m);
    lists(&mut m);
    dicts(&mut m);
    encoding(&mut m);
    regexes(&mut m);
    reg(&mut m, "semver", &[S], None, |a| {
        let v = super::semver::parse_version(st(&a[0]))?;
        Ok(super::typed::semver_value(&v, true))
    });
    reg(&mut m, "semverCompare", &[S, S], None, |a| {
        Ok(Value::Bool(super::semver::compare(st(&a[0]), st(&a[1]))?))
    });
    randoms(&mut m);
    for (name, why) in REFUSED {
        let (name, why) = (*name, *why);
        m.insert(
            name.to_string(),
            Arc::new(move |_: &[Value]| {
                Err(gotmpl::TemplateError::Exec(format!(
                    "function {name:?} is refused: {why}"
                )))
            }),
        );
    }
    m
}

fn internal(m: &mut FuncMap) {
    // Go's `index`, where a typed map's missing key gives its struct's zero value.
    m.insert(
        "index".into(),
        Arc::new(|a: &[Value]| {
            if a.len() < 2 {
                return Err(gotmpl::TemplateError::ArgCount {
                    name: "index".into(),
                    expected: 2,
                    got: a.len(),
                });
            }
            let mut v = a[0].clone();
            for k in &a[1..] {
                v = match (&v, k) {
                    // A struct (or a version) is no map to Go's `index`.
                    (Value::Map(m), _)
                        if matches!(
                            super::typed::kind_of(m),
                            Some(super::typed::Kind::Struct(_) | super::typed::Kind::Semver(_))
                        ) =>
                    {
                        return Err(gotmpl::TemplateError::Exec(format!(
                            "error calling index: can't index item of type {}",
                            go_type(&v).trim_start_matches('*')
                        )));
                    }
                    (Value::Map(m), Value::String(key)) => match m.get(key.as_ref()) {
                        Some(x) => x.clone(),
                        None => super::typed::missing_entry(m),
                    },
                    _ => v.index(k)?,
                };
            }
            Ok(v)
        }),
    );
    m.insert(
        FN_METHOD.into(),
        Arc::new(|a: &[Value]| match a {
            [recv, Value::String(name), args @ ..] => {
                super::typed::method(recv, name, args).map_err(gotmpl::TemplateError::Exec)
            }
            _ => Err(gotmpl::TemplateError::Exec("internal method call".into())),
        }),
    );
    m.insert(
        FN_OUT.into(),
        Arc::new(|a: &[Value]| {
            let v = a.last().cloned().unwrap_or(Value::Nil);
            Ok(match v {
                Value::Nil | Value::String(_) => v,
                other => {
                    check_room(printed_size(&other, fuel_left()))
                        .map_err(gotmpl::TemplateError::Exec)?;
                    let p = go_sprint(&other);
                    charge(p.len() as u64).map_err(gotmpl::TemplateError::Exec)?;
                    s(p)
                }
            })
        }),
    );
    m.insert(
        FN_CHARGE.into(),
        Arc::new(|a: &[Value]| {
            let v = a.last().cloned().unwrap_or(Value::Nil);
            charge(size(&v)).map_err(gotmpl::TemplateError::Exec)?;
            Ok(v)
        }),
    );
    m.insert(
        FN_ROOM.into(),
        Arc::new(|a: &[Value]| {
            let v = a.last().cloned().unwrap_or(Value::Nil);
            if matches!(v, Value::List(_) | Value::Map(_)) {
                check_room(printed_size(&v, fuel_left())).map_err(gotmpl::TemplateError::Exec)?;
            }
            Ok(v)
        }),
    );
    m.insert(
        FN_KEEP.into(),
        Arc::new(|a: &[Value]| {
            let v = a.last().cloned().unwrap_or(Value::Nil);
            if let Some(Value::Int(id)) = a.first() {
                super::keep(*id, v.clone());
            }
            Ok(v)
        }),
    );
    m.insert(
        FN_KEPT.into(),
        Arc::new(|a: &[Value]| {
            let current = a.last().cloned().unwrap_or(Value::Nil);
            Ok(match a.first() {
                Some(Value::Int(id)) => super::take_kept(*id).unwrap_or(current),
                _ => current,
            })
        }),
    );
    m.insert(
        FN_UNDEF_VAR.into(),
        Arc::new(|a: &[Value]| {
            let name = a.first().map(go_sprint).unwrap_or_default();
            Err(gotmpl::TemplateError::Exec(format!(
                "undefined variable: {name}"
            )))
        }),
    );
    m.insert(
        FN_TICK.into(),
        Arc::new(|a: &[Value]| {
            charge(1).map_err(gotmpl::TemplateError::Exec)?;
            Ok(a.last().cloned().unwrap_or(Value::Nil))
        }),
    );
    m.insert(
        FN_NIL_TICK.into(),
        Arc::new(|_: &[Value]| {
            charge(1).map_err(gotmpl::TemplateError::Exec)?;
            Ok(Value::Nil)
        }),
    );
    m.insert(
        FN_POS.into(),
        Arc::new(|a: &[Value]| {
            let n = |i: usize| match a.get(i) {
                Some(Value::Int(x)) => usize::try_from(*x).unwrap_or(0),
                _ => 0,
            };
            super::set_position(n(0), n(1));
            Ok(Value::Nil)
        }),
    );
    m.insert(
        FN_FMTARG.into(),
        Arc::new(|a: &[Value]| {
            let directive = a.first().and_then(Value::as_str).unwrap_or("%v");
            if let Some(v @ (Value::List(_) | Value::Map(_))) = a.get(1) {
                check_room(printed_size(v, fuel_left())).map_err(gotmpl::TemplateError::Exec)?;
            }
            let out = fmt_arg(directive, a.get(1).unwrap_or(&Value::Nil))
                .map_err(gotmpl::TemplateError::Exec)?;
            charge(out.len() as u64).map_err(gotmpl::TemplateError::Exec)?;
            Ok(s(out))
        }),
    );
    m.insert(
        FN_FIELD.into(),
        Arc::new(|a: &[Value]| {
            let name = a.first().map(go_sprint).unwrap_or_default();
            Err(gotmpl::TemplateError::Exec(format!(
                "can't evaluate field {name} in type Data (the template data has no field {name})"
            )))
        }),
    );
    m.insert(
        FN_FMT.into(),
        Arc::new(|a: &[Value]| {
            let v = a.last().cloned().unwrap_or(Value::Nil);
            if let Value::String(f) = &v {
                check_format(f).map_err(gotmpl::TemplateError::Exec)?;
            }
            Ok(v)
        }),
    );
}

/// Refuses a `printf` format whose widths or precisions exceed the fuel left, or that takes
/// them from arguments (`*`), before Go's formatting allocates them.
fn check_format(f: &str) -> Result<(), String> {
    let left = fuel_left();
    let b = f.as_bytes();
    let mut i = 0;
    while i < b.len() {
        if b[i] != b'%' {
            i += 1;
            continue;
        }
        i += 1;
        while i < b.len() && !b[i].is_ascii_alphabetic() && b[i] != b'%' {
            if b[i] == b'*' {
                return Err(
                    "printf: '*' widths are not supported by score-gen (bounded output)".into(),
                );
            }
            if b[i].is_ascii_digit() {
                let start = i;
                while i < b.len() && b[i].is_ascii_digit() {
                    i += 1;
                }
                let n: u64 = f[start..i].parse().unwrap_or(u64::MAX);
                if n > left {
                    return Err(super::fuel_message(
                        super::STATE.with(|s| s.borrow().as_ref().map_or(0, |st| st.fuel)),
                    ));
                }
                continue;
            }
            i += 1;
        }
        i += 1;
    }
    Ok(())
}

/// The `%...verb` directives of a literal `printf` format, as byte ranges in argument order
/// (`None` when the format uses explicit argument indexes or `*`, which are left alone).
pub(super) fn printf_directives(f: &str) -> Option<Vec<(usize, usize)>> {
    let b = f.as_bytes();
    let mut out = Vec::new();
    let mut i = 0;
    while i < b.len() {
        if b[i] != b'%' {
            i += 1;
            continue;
        }
        let start = i;
        i += 1;
        while i < b.len() && b"+-# 0".contains(&b[i]) {
            i += 1;
        }
        while i < b.len() && (b[i].is_ascii_digit() || b[i] == b'.') {
            i += 1;
        }
        match b.get(i) {
            Some(b'%') => {}
            Some(b'[' | b'*') => return None,
            Some(_) => {
                let end = i + f[i..].chars().next().map_or(1, char::len_utf8);
                out.push((start, end));
                i = end;
                continue;
            }
            None => {}
        }
        i += 1;
    }
    Some(out)
}

/// Go's `%.Pg` of a float (`strconv.FormatFloat(f, 'g', P, 64)` as `fmt` prints it).
fn go_g_precision(f: f64, p: usize) -> String {
    if !f.is_finite() {
        return go_float(f);
    }
    let p = p.max(1);
    let e = format!("{:.*e}", p - 1, f.abs());
    let (m, x) = e.split_once('e').unwrap_or((&e, "0"));
    let mut digits: String = m.chars().filter(|c| *c != '.').collect();
    while digits.len() > 1 && digits.ends_with('0') {
        digits.pop();
    }
    let exp: i32 = x.parse().unwrap_or(0);
    let (nd, dp) = (digits.len() as i32, exp + 1);
    let p = p as i32;
    let eprec = if p > nd && nd >= dp { nd } else { p };
    let mut out = String::new();
    if f.is_sign_negative() {
        out.push('-');
    }
    if digits == "0" {
        out.push('0');
    } else if exp < -4 || exp >= eprec {
        e_format(&mut out, &digits, exp);
    } else {
        f_format(&mut out, &digits, exp);
    }
    out
}

/// Go's `%v` of a scalar with `flags`, `width` and `precision` (`fmtInteger`, `fmtFloat` with
/// `%g`, `padString`): a precision is the minimum digits of an integer, the significant
/// digits of a float, the length of a string; `0` pads with zeros (after the sign; an
/// integer with a precision pads with spaces); `+` and space sign numbers unless
/// `clear_plus` (Go's `%+v` moves `+` to struct fields). `None` for other values.
fn fmt_v_flags(
    flags: &str,
    width: usize,
    precision: Option<usize>,
    v: &Value,
    clear_plus: bool,
) -> Option<String> {
    let minus = flags.contains('-');
    let zero = flags.contains('0') && !minus;
    let plus = flags.contains('+') && !clear_plus;
    let space = flags.contains(' ');
    let sign = |neg: bool| {
        if neg {
            "-"
        } else if plus {
            "+"
        } else if space {
            " "
        } else {
            ""
        }
    };
    let (sign, body, zero_pads) = match v {
        Value::Int(_) | Value::Uint(_) => {
            let (neg, mut digits) = match v {
                Value::Int(i) => (*i < 0, i.unsigned_abs().to_string()),
                Value::Uint(u) => (false, u.to_string()),
                _ => return None,
            };
            if let Some(p) = precision {
                if p == 0 && digits == "0" {
                    digits.clear();
                }
                while digits.len() < p {
                    digits.insert(0, '0');
                }
            }
            (sign(neg), digits, zero && precision.is_none())
        }
        Value::Float(f) => {
            let text = match precision {
                Some(p) => go_g_precision(f.abs(), p),
                None => go_float(f.abs()),
            };
            let text = match text.as_str() {
                "+Inf" => "Inf".to_string(),
                _ => text,
            };
            (
                sign(f.is_sign_negative() && !f.is_nan()),
                text,
                zero && f.is_finite(),
            )
        }
        Value::String(x) => {
            let body = match precision {
                Some(p) => x.chars().take(p).collect(),
                None => x.to_string(),
            };
            ("", body, zero)
        }
        Value::Bool(b) => ("", b.to_string(), zero),
        _ => return None,
    };
    let len = sign.chars().count() + body.chars().count();
    let fill = width.saturating_sub(len);
    Some(if minus {
        format!("{sign}{body}{}", " ".repeat(fill))
    } else if zero_pads {
        format!("{sign}{}{body}", "0".repeat(fill))
    } else {
        format!("{}{sign}{body}", " ".repeat(fill))
    })
}

fn fmt_map(directive: &str, m: &BTreeMap<Arc<str>, Value>) -> Result<String, String> {
    let mut parts = Vec::with_capacity(m.len());
    for (k, x) in m.iter() {
        parts.push(format!(
            "{}:{}",
            fmt_value(directive, &Value::String(k.clone()), true)?,
            fmt_value(directive, x, true)?
        ));
    }
    Ok(format!("map[{}]", parts.join(" ")))
}

/// `v` formatted by `directive` as Go's `fmt` does (see [`FN_FMTARG`]): lists and maps element
/// by element, floats under `%v`, integers under `%q` and a verb that does not fit its argument
/// here, the rest by gotmpl's `printf`.
fn fmt_arg(directive: &str, v: &Value) -> Result<String, String> {
    check_format(directive)?;
    fmt_value(directive, v, false)
}

fn fmt_value(directive: &str, v: &Value, nested: bool) -> Result<String, String> {
    let verb = directive.chars().last().unwrap_or('v');
    let body = &directive[1..directive.len() - verb.len_utf8()];
    let flags: String = body.chars().take_while(|c| "+-# 0".contains(*c)).collect();
    let rest = &body[flags.len()..];
    let (width, precision) = match rest.split_once('.') {
        Some((w, p)) => (w, Some(p)),
        None => (rest, None),
    };
    let width: usize = width.parse().unwrap_or(0);
    let pad = |inner: String| {
        let fill = " ".repeat(width.saturating_sub(inner.chars().count()));
        if flags.contains('-') {
            inner + &fill
        } else {
            fill + &inner
        }
    };
    let plain = flags.chars().all(|c| c == '-') && precision.is_none();
    let fits = match v {
        Value::Bool(_) => "tv".contains(verb),
        Value::Int(_) | Value::Uint(_) => "bcdoOqxXUv".contains(verb),
        Value::Float(_) => "beEfFgGxXv".contains(verb),
        Value::String(_) => "sqxXv".contains(verb),
        _ => true,
    };
    let simple = flags.chars().all(|c| c == '-');
    Ok(match v {
        _ if verb == 'T' && plain => pad(go_type(v).into()),
        Value::String(x) if verb == 'v' && flags == "#" && precision.is_none() => pad(go_quote(x)),
        Value::String(x) if verb == 'q' && flags == "+" && precision.is_none() => {
            pad(go_quote_ascii(x))
        }
        Value::String(x)
            if (verb == 'x' || verb == 'X')
                && precision.is_none()
                && flags.chars().all(|c| " #-".contains(c))
                && (flags.contains(' ') || flags.contains('#')) =>
        {
            let spaced = flags.contains(' ');
            let prefix = if !flags.contains('#') {
                ""
            } else if verb == 'x' {
                "0x"
            } else {
                "0X"
            };
            let mut out = String::new();
            for (i, b) in x.bytes().enumerate() {
                if i > 0 && spaced {
                    out.push(' ');
                }
                if i == 0 || spaced {
                    out.push_str(prefix);
                }
                let _ = if verb == 'x' {
                    write!(out, "{b:02x}")
                } else {
                    write!(out, "{b:02X}")
                };
            }
            pad(out)
        }
        Value::Int(i) if verb == 'c' && plain => pad(u32::try_from(*i)
            .ok()
            .and_then(char::from_u32)
            .unwrap_or('\u{fffd}')
            .to_string()),
        Value::String(x) if (verb == 'v' || verb == 's') && simple && precision.is_some() => {
            let n: usize = precision.unwrap_or("").parse().unwrap_or(0);
            pad(x.chars().take(n).collect())
        }
        // The common cases, directly.
        Value::String(x) if verb == 's' && plain => pad(x.to_string()),
        Value::Int(_) | Value::Uint(_) if verb == 'd' && plain => pad(go_sprint(v)),
        Value::String(_) | Value::Int(_) | Value::Uint(_) | Value::Bool(_)
            if verb == 'v' && plain =>
        {
            pad(go_sprint(v))
        }
        Value::Map(m) if verb != 'T' && super::typed::kind_of(m).is_some() => {
            match super::typed::kind_of(m) {
                // A semver version is a `fmt.Stringer`: its `String()` under every verb.
                Some(super::typed::Kind::Semver(_)) => {
                    let text = m.get("String").cloned().unwrap_or(Value::Nil);
                    fmt_value(directive, &text, nested)?
                }
                Some(super::typed::Kind::Struct(fields)) => {
                    // `%+v` names the fields.
                    let named = verb == 'v' && flags.contains('+');
                    let parts = fields
                        .iter()
                        .map(|f| {
                            let x = fmt_value(directive, m.get(f).unwrap_or(&Value::Nil), true)?;
                            Ok(if named { format!("{f}:{x}") } else { x })
                        })
                        .collect::<Result<Vec<_>, String>>()?;
                    format!("{{{}}}", parts.join(" "))
                }
                _ => fmt_map(directive, m)?,
            }
        }
        Value::List(l) if verb != 'T' => {
            let parts = l
                .iter()
                .map(|x| fmt_value(directive, x, true))
                .collect::<Result<Vec<_>, _>>()?;
            format!("[{}]", parts.join(" "))
        }
        Value::Map(m) if verb != 'T' => fmt_map(directive, m)?,
        Value::Nil if nested => pad("<nil>".into()),
        Value::Float(_) if verb == 'v' && plain => pad(go_sprint(v)),
        Value::Float(f) if (verb == 'x' || verb == 'X') && plain => {
            let h = hex_float(*f);
            pad(if verb == 'X' { h.to_uppercase() } else { h })
        }
        Value::Int(i) if verb == 'q' && plain => pad(quote_rune(*i)),
        // `%O`: octal with Go's `0o` prefix (after the sign).
        Value::Int(i) if verb == 'O' && plain => pad(format!(
            "{}0o{:o}",
            if *i < 0 { "-" } else { "" },
            i.unsigned_abs()
        )),
        Value::Uint(u) if verb == 'O' && plain => pad(format!("0o{u:o}")),
        _ if !fits && plain && !matches!(v, Value::Nil) => {
            format!("%!{verb}({}={})", go_type(v), pad(go_sprint(v)))
        }
        // Go's `badVerb`: the value under `%v` with the directive's flags, width, precision.
        _ if !fits && !matches!(v, Value::Nil) => {
            let p = precision.map(|p| p.parse().unwrap_or(0));
            match fmt_v_flags(&flags, width, p, v, false) {
                Some(text) => format!("%!{verb}({}={text})", go_type(v)),
                None => gotmpl_printf(directive, v)?,
            }
        }
        // `%v` of a scalar with flags or a precision (`%05v`, `%.2v`, `%-6v`).
        Value::Int(_) | Value::Uint(_) | Value::Float(_) | Value::Bool(_) | Value::String(_)
            if verb == 'v' && !flags.contains('#') =>
        {
            let p = precision.map(|p| p.parse().unwrap_or(0));
            match fmt_v_flags(&flags, width, p, v, true) {
                Some(text) => text,
                None => gotmpl_printf(directive, v)?,
            }
        }
        _ => gotmpl_printf(directive, v)?,
    })
}

/// Go's `strconv.FormatFloat(f, 'x', -1, 64)`: `-0x1.4p+01`.
fn hex_float(f: f64) -> String {
    if f.is_nan() {
        return "NaN".into();
    }
    if f.is_infinite() {
        return if f > 0.0 { "+Inf" } else { "-Inf" }.into();
    }
    let sign = if f.is_sign_negative() { "-" } else { "" };
    if f == 0.0 {
        return format!("{sign}0x0p+00");
    }
    let bits = f.to_bits();
    let mut exp = ((bits >> 52) & 0x7ff) as i64;
    let mut mant = bits & ((1u64 << 52) - 1);
    if exp == 0 {
        // Subnormal: normalise so the leading 1 is implicit.
        while mant & (1u64 << 52) == 0 {
            mant <<= 1;
            exp -= 1;
        }
        mant &= (1u64 << 52) - 1;
        exp += 1;
    }
    let e = exp - 1023;
    let mut digits = format!("{mant:013x}");
    while digits.ends_with('0') {
        digits.pop();
    }
    let frac = if digits.is_empty() {
        String::new()
    } else {
        format!(".{digits}")
    };
    format!(
        "{sign}0x1{frac}p{}{:02}",
        if e < 0 { '-' } else { '+' },
        e.unsigned_abs()
    )
}

/// Go's `strconv.QuoteRune` of an integer (`%q`); not a character: U+FFFD.
fn quote_rune(i: i64) -> String {
    let c = u32::try_from(i)
        .ok()
        .and_then(char::from_u32)
        .unwrap_or('\u{fffd}');
    match c {
        '\'' => "'\\''".into(),
        '"' => "'\"'".into(),
        _ => {
            let q = go_quote(&c.to_string());
            format!("'{}'", &q[1..q.len() - 1])
        }
    }
}

/// gotmpl's own `printf` of one value (a built-in a function cannot call directly).
fn gotmpl_printf(directive: &str, v: &Value) -> Result<String, String> {
    static T: OnceLock<Option<gotmpl::Template>> = OnceLock::new();
    let t = T
        .get_or_init(|| gotmpl::Template::new("").parse("{{printf .f .v}}").ok())
        .as_ref()
        .ok_or("printf is unavailable")?;
    let mut data = BTreeMap::new();
    data.insert(Arc::from("f"), s(directive));
    data.insert(Arc::from("v"), v.clone());
    t.execute_to_string(&map(data)).map_err(|e| e.to_string())
}

/// Go's `fmt.Sprint`: operands separated by a space when neither side is a string.
fn go_sprint_all(args: &[Value]) -> String {
    let mut out = String::new();
    for (i, a) in args.iter().enumerate() {
        if i > 0 && !matches!(a, Value::String(_)) && !matches!(args[i - 1], Value::String(_)) {
            out.push(' ');
        }
        out.push_str(&go_sprint(a));
    }
    out
}

/// What Go's `html`, `js` and `urlquery` escape: a lone string, else `fmt.Sprint` of all.
/// (Go's `evalArgs`: a missing value is `<no value>` there.)
fn escape_input(args: &[Value]) -> String {
    match args {
        [Value::String(x)] => x.to_string(),
        _ => {
            let args: Vec<Value> = args
                .iter()
                .map(|a| match a {
                    Value::Nil => s("<no value>"),
                    other => other.clone(),
                })
                .collect();
            go_sprint_all(&args)
        }
    }
}

fn strings(m: &mut FuncMap) {
    reg(m, "print", &[], Some(A), |a| Ok(s(go_sprint_all(a))));
    reg(m, "println", &[], Some(A), |a| {
        let mut out = a.iter().map(go_sprint).collect::<Vec<_>>().join(" ");
        out.push('\n');
        Ok(s(out))
    });
    reg(m, "html", &[], Some(A), |a| {
        Ok(s(gotmpl::html_escape(&escape_input(a))))
    });
    reg(m, "js", &[], Some(A), |a| {
        Ok(s(gotmpl::js_escape(&escape_input(a))))
    });
    reg(m, "urlquery", &[], Some(A), |a| {
        Ok(s(gotmpl::url_encode(&escape_input(a))))
    });
    reg(m, "hello", &[], None, |_| Ok(s("Hello!")));
    reg(m, "trim", &[S], None, |a| {
        Ok(s(st(&a[0]).trim_matches(is_space)))
    });
    reg(m, "upper", &[S], None, |a| {
        Ok(s(st(&a[0]).chars().map(upper_char).collect::<String>()))
    });
    reg(m, "lower", &[S], None, |a| {
        Ok(s(st(&a[0]).chars().map(lower_char).collect::<String>()))
    });
    reg(m, "title", &[S], None, |a| Ok(s(title(st(&a[0])))));
    reg(m, "untitle", &[S], None, |a| {
        let mut out = String::new();
        let mut next = true;
        for c in st(&a[0]).chars() {
            if is_space(c) {
                next = true;
                out.push(c);
            } else if next {
                out.push(lower_char(c));
                next = false;
            } else {
                out.push(c);
            }
        }
        Ok(s(out))
    });
    reg(m, "substr", &[I, I, S], None, |a| {
        let (start, end, x) = (int(&a[0]), int(&a[1]), st(&a[2]).as_bytes());
        let len = x.len() as i64;
        let (lo, hi) = if start < 0 {
            (0, end)
        } else if end < 0 || end > len {
            (start, len)
        } else {
            (start, end)
        };
        if lo < 0 || hi < 0 || hi > len || lo > hi {
            return Err(format!(
                "runtime error: slice bounds out of range [{lo}:{hi}] with length {len}"
            ));
        }
        Ok(s(
            String::from_utf8_lossy(&x[lo as usize..hi as usize]).into_owned()
        ))
    });
    reg(m, "trunc", &[I, S], None, |a| {
        let (c, x) = (int(&a[0]), st(&a[1]));
        let len = x.len() as i64;
        let b = x.as_bytes();
        Ok(s(if c < 0 && len + c > 0 {
            String::from_utf8_lossy(&b[(len + c) as usize..]).into_owned()
        } else if c >= 0 && len > c {
            String::from_utf8_lossy(&b[..c as usize]).into_owned()
        } else {
            x.to_string()
        }))
    });
    reg(m, "abbrev", &[I, S], None, |a| {
        let (w, x) = (int(&a[0]), st(&a[1]));
        Ok(s(if w < 4 {
            x.to_string()
        } else {
            abbreviate(x, 0, w)
        }))
    });
    reg(m, "abbrevboth", &[I, I, S], None, |a| {
        let (l, r, x) = (int(&a[0]), int(&a[1]), st(&a[2]));
        Ok(s(if r < 4 || (l > 0 && r < 7) {
            x.to_string()
        } else {
            abbreviate(x, l, r)
        }))
    });
    reg(m, "repeat", &[I, S], None, |a| {
        let (n, x) = (int(&a[0]), st(&a[1]));
        if n < 0 {
            return Err("strings: negative Repeat count".into());
        }
        charge((n as u64).saturating_mul(x.len() as u64))?;
        Ok(s(x.repeat(n as usize)))
    });
    for name in ["trimall", "trimAll"] {
        reg(m, name, &[S, S], None, |a| {
            // A set, not `str::contains`: a long cutset times a long string was quadratic.
            let cut: std::collections::HashSet<char> = st(&a[0]).chars().collect();
            Ok(s(st(&a[1]).trim_matches(|c| cut.contains(&c))))
        });
    }
    reg(m, "trimSuffix", &[S, S], None, |a| {
        let x = st(&a[1]);
        Ok(s(x.strip_suffix(st(&a[0])).unwrap_or(x)))
    });
    reg(m, "trimPrefix", &[S, S], None, |a| {
        let x = st(&a[1]);
        Ok(s(x.strip_prefix(st(&a[0])).unwrap_or(x)))
    });
    reg(m, "nospace", &[S], None, |a| {
        let x = st(&a[0]);
        // goutils walks bytes as runes (Latin-1), as written.
        if !x.bytes().any(|b| is_space(char::from(b))) {
            return Ok(s(x));
        }
        Ok(s(x
            .bytes()
            .map(char::from)
            .filter(|c| !is_space(*c))
            .collect::<String>()))
    });
    reg(m, "initials", &[S], None, |a| {
        let mut out = String::new();
        let mut gap = true;
        for c in st(&a[0]).bytes().map(char::from) {
            if is_space(c) {
                gap = true;
            } else if gap {
                out.push(c);
                gap = false;
            }
        }
        Ok(s(out))
    });
    reg(m, "swapcase", &[S], None, |a| {
        let mut ws = true;
        let mut out = String::new();
        for c in st(&a[0]).chars() {
            if c.is_uppercase() {
                out.push(lower_char(c));
                ws = false;
            } else if c.is_lowercase() {
                out.push(upper_char(c));
                ws = false;
            } else {
                ws = is_space(c);
                out.push(c);
            }
        }
        let _ = ws;
        Ok(s(out))
    });
    reg(m, "snakecase", &[S], None, |a| {
        Ok(s(words_joined(st(&a[0]), '_')))
    });
    reg(m, "kebabcase", &[S], None, |a| {
        Ok(s(words_joined(st(&a[0]), '-')))
    });
    reg(m, "camelcase", &[S], None, |a| Ok(s(camel(st(&a[0])))));
    reg(m, "wrap", &[I, S], None, |a| {
        Ok(s(wrap(st(&a[1]), int(&a[0]), "\n", false)?))
    });
    reg(m, "wrapWith", &[I, S, S], None, |a| {
        Ok(s(wrap(st(&a[2]), int(&a[0]), st(&a[1]), true)?))
    });
    reg(m, "contains", &[S, S], None, |a| {
        Ok(Value::Bool(st(&a[1]).contains(st(&a[0]))))
    });
    reg(m, "hasPrefix", &[S, S], None, |a| {
        Ok(Value::Bool(st(&a[1]).starts_with(st(&a[0]))))
    });
    reg(m, "hasSuffix", &[S, S], None, |a| {
        Ok(Value::Bool(st(&a[1]).ends_with(st(&a[0]))))
    });
    reg(m, "quote", &[], Some(A), |a| {
        Ok(s(a
            .iter()
            .filter(|v| !matches!(v, Value::Nil))
            .map(|v| go_quote(&strval(v)))
            .collect::<Vec<_>>()
            .join(" ")))
    });
    reg(m, "squote", &[], Some(A), |a| {
        Ok(s(a
            .iter()
            .filter(|v| !matches!(v, Value::Nil))
            .map(|v| format!("'{}'", go_sprint(v)))
            .collect::<Vec<_>>()
            .join(" ")))
    });
    reg(m, "cat", &[], Some(A), |a| {
        Ok(s(a
            .iter()
            .filter(|v| !matches!(v, Value::Nil))
            .map(go_sprint)
            .collect::<Vec<_>>()
            .join(" ")))
    });
    reg(m, "indent", &[I, S], None, |a| {
        indent(int(&a[0]), st(&a[1]), false)
    });
    reg(m, "nindent", &[I, S], None, |a| {
        indent(int(&a[0]), st(&a[1]), true)
    });
    reg(m, "replace", &[S, S, S], None, |a| {
        let (old, new, src) = (st(&a[0]), st(&a[1]), st(&a[2]));
        if old.is_empty() {
            // Go inserts `new` before every rune and at the end.
            let n = src.chars().count() as u64 + 1;
            charge(n.saturating_mul(new.len() as u64))?;
            let mut out = String::from(new);
            for c in src.chars() {
                out.push(c);
                out.push_str(new);
            }
            return Ok(s(out));
        }
        let n = src.matches(old).count() as u64;
        charge(n.saturating_mul(new.len() as u64))?;
        Ok(s(src.replace(old, new)))
    });
    reg(m, "plural", &[S, S, I], None, |a| {
        Ok(if int(&a[2]) == 1 {
            a[0].clone()
        } else {
            a[1].clone()
        })
    });
    reg(m, "sha1sum", &[S], None, |a| {
        use sha1::Digest;
        Ok(s(hex(&sha1::Sha1::digest(st(&a[0]).as_bytes()))))
    });
    reg(m, "sha256sum", &[S], None, |a| {
        use sha2::Digest;
        Ok(s(hex(&sha2::Sha256::digest(st(&a[0]).as_bytes()))))
    });
    // sprig 3.3.0 (the tools' version) added sha512sum.
    reg(m, "sha512sum", &[S], None, |a| {
        use sha2::Digest;
        Ok(s(hex(&sha2::Sha512::digest(st(&a[0]).as_bytes()))))
    });
    reg(m, "adler32sum", &[S], None, |a| {
        let (mut x, mut y) = (1u32, 0u32);
        for b in st(&a[0]).bytes() {
            x = (x + u32::from(b)) % 65521;
            y = (y + x) % 65521;
        }
        Ok(s(((y << 16) | x).to_string()))
    });
    reg(m, "toString", &[A], None, |a| Ok(s(strval(&a[0]))));
    reg(m, "toStrings", &[A], None, |a| Ok(list(strslice(&a[0]))));
    reg(m, "join", &[S, A], None, |a| {
        Ok(s(strslice(&a[1])
            .iter()
            .map(|v| st(v).to_string())
            .collect::<Vec<_>>()
            .join(st(&a[0]))))
    });
    reg(m, "sortAlpha", &[A], None, |a| {
        Ok(match &a[0] {
            Value::List(_) => {
                let mut v: Vec<String> =
                    strslice(&a[0]).iter().map(|x| st(x).to_string()).collect();
                v.sort();
                list(v.into_iter().map(s).collect())
            }
            other => list(vec![s(strval(other))]),
        })
    });
    reg(m, "split", &[S, S], None, |a| {
        Ok(numbered(go_split(st(&a[1]), st(&a[0]), -1)))
    });
    reg(m, "splitList", &[S, S], None, |a| {
        Ok(list(
            go_split(st(&a[1]), st(&a[0]), -1)
                .into_iter()
                .map(s)
                .collect(),
        ))
    });
    reg(m, "splitn", &[S, I, S], None, |a| {
        Ok(numbered(go_split(st(&a[2]), st(&a[0]), int(&a[1]))))
    });
    reg(m, "fail", &[S], None, |a| Err(st(&a[0]).to_string()));
    for (name, f) in [
        ("base", path_base as fn(&str) -> String),
        ("osBase", path_base),
        ("dir", path_dir),
        ("osDir", path_dir),
        ("clean", path_clean),
        ("osClean", path_clean),
        ("ext", path_ext),
        ("osExt", path_ext),
    ] {
        m.insert(
            name.into(),
            Arc::new(move |args: &[Value]| {
                call(name, &[S], None, &|_| Ok(Value::Nil), args)?;
                Ok(s(f(st(&args[0]))))
            }),
        );
    }
    for name in ["isAbs", "osIsAbs"] {
        reg(m, name, &[S], None, |a| {
            Ok(Value::Bool(st(&a[0]).starts_with('/')))
        });
    }
    reg(m, "urlParse", &[S], None, |a| url_parse(st(&a[0])));
    reg(m, "urlJoin", &[M], None, |a| url_join(map_of(&a[0])));
}

/// goutils' AbbreviateFull (byte offsets, as written).
fn abbreviate(x: &str, offset: i64, width: i64) -> String {
    let b = x.as_bytes();
    let len = b.len() as i64;
    let cut = |lo: i64, hi: i64| String::from_utf8_lossy(&b[lo as usize..hi as usize]).into_owned();
    if x.is_empty() || len <= width {
        return x.to_string();
    }
    let mut offset = offset.min(len);
    if len - offset < width - 3 {
        offset = len - (width - 3);
    }
    if offset <= 4 {
        return format!("{}...", cut(0, width - 3));
    }
    if width < 7 {
        return String::new();
    }
    if offset + width - 3 < len {
        let rest = cut(offset, len);
        return format!("...{}", abbreviate(&rest, 0, width - 3));
    }
    format!("...{}", cut(len - (width - 3), len))
}

fn indent(n: i64, x: &str, newline: bool) -> Result<Value, String> {
    if n < 0 {
        return Err("strings: negative Repeat count".into());
    }
    let lines = x.matches('\n').count() as u64 + 1;
    charge(lines.saturating_mul(n as u64))?;
    let pad = " ".repeat(n as usize);
    let mut out = String::new();
    if newline {
        out.push('\n');
    }
    out.push_str(&pad);
    out.push_str(&x.replace('\n', &format!("\n{pad}")));
    Ok(s(out))
}

fn title(x: &str) -> String {
    let mut prev = ' ';
    let mut out = String::with_capacity(x.len());
    for c in x.chars() {
        let sep = if c.is_ascii() {
            !(c.is_ascii_alphanumeric() || c == '_')
        } else {
            !(c.is_alphanumeric()) && is_space(c)
        };
        let prev_sep = if prev.is_ascii() {
            !(prev.is_ascii_alphanumeric() || prev == '_')
        } else {
            !(prev.is_alphanumeric()) && is_space(prev)
        };
        let _ = sep;
        if prev_sep {
            out.push(title_char(c));
        } else {
            out.push(c);
        }
        prev = c;
    }
    out
}

fn is_connector(c: char) -> bool {
    c == '-' || c == '_' || is_space(c)
}

#[derive(Clone, Copy, PartialEq)]
enum Word {
    /// The end (no more words).
    End,
    Connector,
    Punct,
    Upper,
    Alpha,
    Number,
    Other,
}

/// Go's `unicode.IsPunct` for ASCII (`$+<=>^`|~` are symbols there), letters' punctuation
/// classes beyond ASCII approximated by "neither letter, digit, space nor symbol-like".
fn is_punct(c: char) -> bool {
    if c.is_ascii() {
        return c.is_ascii_punctuation() && !"$+<=>^`|~".contains(c);
    }
    false
}

/// The next word of `s` as xstrings splits words: a run of connectors (`-`, `_`, spaces), of
/// punctuation, of digits, a lowercase run, or an upper-case word (one capital and the
/// lowercase letters after it, or a run of capitals less the last when a lowercase letter
/// follows it).
fn next_word(s: &str) -> (Word, &str, &str) {
    let mut it = s.char_indices().peekable();
    let Some((_, c)) = it.next() else {
        return (Word::End, "", "");
    };
    let end_of = |pred: &dyn Fn(char) -> bool| -> usize {
        s.char_indices()
            .skip(1)
            .find(|(_, x)| !pred(*x))
            .map_or(s.len(), |(i, _)| i)
    };
    let (kind, end) = if is_connector(c) {
        (Word::Connector, end_of(&is_connector))
    } else if is_punct(c) {
        (Word::Punct, end_of(&is_punct))
    } else if c.is_uppercase() {
        let rest: Vec<(usize, char)> = s.char_indices().skip(1).collect();
        match rest.first() {
            None => (Word::Upper, s.len()),
            Some((_, n)) if n.is_uppercase() => {
                // The run of capitals.
                let mut k = 0;
                while k < rest.len() && rest[k].1.is_uppercase() {
                    k += 1;
                }
                if k < rest.len() && rest[k].1.is_alphabetic() {
                    // Leave the last capital to start the next word.
                    (Word::Upper, rest[k - 1].0)
                } else {
                    (Word::Upper, rest.get(k).map_or(s.len(), |(i, _)| *i))
                }
            }
            Some((_, n)) if n.is_alphabetic() => (
                Word::Upper,
                end_of(&|x: char| x.is_alphabetic() && !x.is_uppercase()),
            ),
            Some((i, _)) => (Word::Upper, *i),
        }
    } else if c.is_alphabetic() {
        (
            Word::Alpha,
            end_of(&|x: char| x.is_alphabetic() && !x.is_uppercase()),
        )
    } else if c.is_numeric() {
        (Word::Number, end_of(&|x: char| x.is_numeric()))
    } else {
        (
            Word::Other,
            end_of(&|x: char| {
                !(is_connector(x) || x.is_alphabetic() || x.is_numeric() || is_punct(x))
            }),
        )
    };
    (kind, &s[..end], &s[end..])
}

/// xstrings' word writer: upper-case words and connectors are rewritten, others kept.
fn write_word(out: &mut String, kind: Word, w: &str, sep: char) {
    if kind != Word::Upper && kind != Word::Connector {
        out.push_str(w);
        return;
    }
    for c in w.chars() {
        if is_connector(c) {
            out.push(sep);
        } else {
            out.push(lower_char(c));
        }
    }
}

/// xstrings' `ToSnakeCase`/`ToKebabCase`: words lower-cased and joined by `sep`; a number
/// sticks to the word before it unless a lowercase word follows it.
fn words_joined(x: &str, sep: char) -> String {
    let mut out = String::new();
    if x.is_empty() {
        return out;
    }
    let is_word = |k: Word| matches!(k, Word::Alpha | Word::Number);
    let (mut kind, mut word, mut rest) = next_word(x);
    while !rest.is_empty() {
        if kind != Word::Connector {
            write_word(&mut out, kind, word, sep);
        }
        let (prev, last) = (kind, word);
        (kind, word, rest) = next_word(rest);
        match prev {
            Word::Number => {
                while is_word(kind) {
                    write_word(&mut out, kind, word, sep);
                    (kind, word, rest) = next_word(rest);
                }
                if !matches!(kind, Word::End | Word::Punct | Word::Connector) {
                    out.push(sep);
                }
            }
            Word::Connector => write_word(&mut out, prev, last, sep),
            Word::Punct => {}
            _ => {
                if kind != Word::Number {
                    if !matches!(kind, Word::Connector | Word::Punct) {
                        out.push(sep);
                    }
                    continue;
                }
                if rest.is_empty() {
                    continue;
                }
                let number = word;
                (kind, word, rest) = next_word(rest);
                if kind != Word::Alpha {
                    write_word(&mut out, Word::Number, number, sep);
                    if !matches!(kind, Word::Connector | Word::Punct) {
                        out.push(sep);
                    }
                    continue;
                }
                out.push(sep);
                write_word(&mut out, Word::Number, number, sep);
                while is_word(kind) {
                    write_word(&mut out, kind, word, sep);
                    (kind, word, rest) = next_word(rest);
                }
                if !matches!(kind, Word::End | Word::Connector | Word::Punct) {
                    out.push(sep);
                }
            }
        }
    }
    write_word(&mut out, kind, word, sep);
    out
}

fn camel(x: &str) -> String {
    let mut out = String::new();
    let mut chars = x.chars().peekable();
    // Leading connectors are kept; the first letter is upper-cased.
    while let Some(&c) = chars.peek() {
        if is_connector(c) {
            out.push(c);
            chars.next();
        } else {
            break;
        }
    }
    let rest: Vec<char> = chars.collect();
    if rest.is_empty() {
        return out;
    }
    let mut prev = rest[0];
    let mut pending = upper_char(prev);
    for &c in &rest[1..] {
        if is_connector(c) && is_connector(prev) {
            out.push(prev);
            prev = c;
            pending = c;
            continue;
        }
        if is_connector(prev) {
            pending = upper_char(c);
        } else {
            out.push(pending);
            pending = lower_char(c);
        }
        prev = c;
    }
    out.push(pending);
    out
}

/// goutils' WrapCustom (byte offsets, as written). The text grows by a separator per break
/// (`wrapWith 1 (repeat 100000 "y") $s` is 10 GB): it stops at what the fuel left pays for.
fn wrap(x: &str, width: i64, nl: &str, long_words: bool) -> Result<String, String> {
    if x.is_empty() {
        return Ok(String::new());
    }
    let limit = fuel_left();
    let nl = if nl.is_empty() { "\n" } else { nl };
    let w = width.max(1) as usize;
    let b = x.as_bytes();
    let mut out: Vec<u8> = Vec::new();
    let mut off = 0usize;
    while b.len() - off > w {
        if out.len() as u64 > limit {
            charge(out.len() as u64)?;
        }
        if b[off] == b' ' {
            off += 1;
            continue;
        }
        let end = (w + off + 1).min(b.len());
        match b[off..end].iter().rposition(|c| *c == b' ') {
            Some(p) => {
                out.extend_from_slice(&b[off..off + p]);
                out.extend_from_slice(nl.as_bytes());
                off += p + 1;
            }
            None if long_words => {
                out.extend_from_slice(&b[off..off + w]);
                out.extend_from_slice(nl.as_bytes());
                off += w;
            }
            None => match b[off + w..].iter().position(|c| *c == b' ') {
                None => {
                    out.extend_from_slice(&b[off..]);
                    off = b.len();
                }
                Some(p) => {
                    out.extend_from_slice(&b[off..off + w + p]);
                    out.extend_from_slice(nl.as_bytes());
                    off += w + p + 1;
                }
            },
        }
    }
    out.extend_from_slice(&b[off..]);
    Ok(String::from_utf8_lossy(&out).into_owned())
}

fn go_split(x: &str, sep: &str, n: i64) -> Vec<String> {
    if n == 0 {
        return Vec::new();
    }
    if sep.is_empty() {
        let chars: Vec<String> = x.chars().map(String::from).collect();
        if n > 0 && (n as usize) < chars.len() {
            let mut v: Vec<String> = chars[..n as usize - 1].to_vec();
            let used: usize = v.iter().map(String::len).sum();
            v.push(x[used..].to_string());
            return v;
        }
        return chars;
    }
    if n < 0 {
        x.split(sep).map(String::from).collect()
    } else {
        x.splitn(n as usize, sep).map(String::from).collect()
    }
}

fn numbered(parts: Vec<String>) -> Value {
    map(parts
        .into_iter()
        .enumerate()
        .map(|(i, p)| (Arc::from(format!("_{i}")), s(p)))
        .collect())
}

fn strslice(v: &Value) -> Vec<Value> {
    match v {
        Value::List(l) => l
            .iter()
            .filter(|x| !matches!(x, Value::Nil))
            .map(|x| s(strval(x)))
            .collect(),
        Value::Nil => Vec::new(),
        other => vec![s(strval(other))],
    }
}

fn path_clean(p: &str) -> String {
    if p.is_empty() {
        return ".".into();
    }
    let rooted = p.starts_with('/');
    let mut parts: Vec<&str> = Vec::new();
    for seg in p.split('/') {
        match seg {
            "" | "." => {}
            ".." => {
                if parts.last().is_some_and(|l| *l != "..") {
                    parts.pop();
                } else if !rooted {
                    parts.push("..");
                }
            }
            s => parts.push(s),
        }
    }
    let body = parts.join("/");
    match (rooted, body.is_empty()) {
        (true, _) => format!("/{body}"),
        (false, true) => ".".into(),
        (false, false) => body,
    }
}

fn path_base(p: &str) -> String {
    if p.is_empty() {
        return ".".into();
    }
    let t = p.trim_end_matches('/');
    if t.is_empty() {
        return "/".into();
    }
    t.rsplit('/').next().unwrap_or(t).to_string()
}

fn path_dir(p: &str) -> String {
    let dir = match p.rfind('/') {
        Some(i) => &p[..=i],
        None => "",
    };
    path_clean(dir)
}

fn path_ext(p: &str) -> String {
    for (i, c) in p.char_indices().rev() {
        if c == '/' {
            break;
        }
        if c == '.' {
            return p[i..].to_string();
        }
    }
    String::new()
}

fn url_parse(u: &str) -> Result<Value, String> {
    let (rest, fragment) = u.split_once('#').unwrap_or((u, ""));
    let (scheme, rest) = match rest.split_once(':') {
        Some((sch, r))
            if !sch.is_empty()
                && sch.chars().next().is_some_and(|c| c.is_ascii_alphabetic())
                && sch
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || "+-.".contains(c)) =>
        {
            (sch.to_ascii_lowercase(), r)
        }
        _ => (String::new(), rest),
    };
    let (rest, query) = rest.split_once('?').unwrap_or((rest, ""));
    let (authority, path, opaque) = if let Some(r) = rest.strip_prefix("//") {
        match r.find('/') {
            Some(i) => (&r[..i], &r[i..], ""),
            None => (r, "", ""),
        }
    } else if !scheme.is_empty() && !rest.starts_with('/') {
        ("", "", rest)
    } else {
        ("", rest, "")
    };
    let (userinfo, host) = match authority.rsplit_once('@') {
        Some((u, h)) => (u, h),
        None => ("", authority),
    };
    let hostname = if let Some(h) = host.strip_prefix('[') {
        h.split(']').next().unwrap_or("")
    } else {
        host.rsplit_once(':').map_or(host, |(h, _)| h)
    };
    let mut out = BTreeMap::new();
    for (k, v) in [
        ("scheme", scheme.as_str()),
        ("host", host),
        ("hostname", hostname),
        ("path", path),
        ("query", query),
        ("opaque", opaque),
        ("fragment", fragment),
        ("userinfo", userinfo),
    ] {
        out.insert(Arc::from(k), s(v));
    }
    Ok(map(out))
}

/// Go's `url.URL.String()` of the dict's parts (sprig's `urlJoin`).
fn url_join(d: &BTreeMap<Arc<str>, Value>) -> Result<Value, String> {
    let get = |k: &str| -> Result<String, String> {
        match d.get(k) {
            None => Ok(String::new()),
            Some(Value::String(x)) => Ok(x.to_string()),
            Some(other) => Err(format!(
                "unable to parse {k} key, must be of type string, but {} found",
                go_kind(other)
            )),
        }
    };
    let (scheme, host, path, query, opaque, fragment, userinfo) = (
        get("scheme")?,
        get("host")?,
        get("path")?,
        get("query")?,
        get("opaque")?,
        get("fragment")?,
        get("userinfo")?,
    );
    let mut out = String::new();
    if !scheme.is_empty() {
        out.push_str(&scheme);
        out.push(':');
    }
    if !opaque.is_empty() {
        out.push_str(&opaque);
    } else {
        if !scheme.is_empty() || !host.is_empty() || !userinfo.is_empty() {
            if !host.is_empty() || !path.is_empty() || !userinfo.is_empty() {
                out.push_str("//");
            }
            if !userinfo.is_empty() {
                if !userinfo
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || "-._:~!$&'()*+,;=%@".contains(c))
                {
                    return Err(format!(
                        "unable to parse userinfo in dict: parse \"proto://{userinfo}@host\": \
                         net/url: invalid userinfo"
                    ));
                }
                let (user, pass) = match userinfo.split_once(':') {
                    Some((u, p)) => (u, Some(p)),
                    None => (userinfo.as_str(), None),
                };
                // Go's url.Parse unescapes the user and password; String() escapes them again.
                let unescape = |s: &str| -> Result<String, String> {
                    let b = s.as_bytes();
                    let mut out = Vec::with_capacity(b.len());
                    let mut i = 0;
                    while i < b.len() {
                        if b[i] == b'%' {
                            let hex = s.get(i + 1..i + 3).filter(|h| {
                                h.len() == 2 && h.bytes().all(|c| c.is_ascii_hexdigit())
                            });
                            let Some(h) = hex else {
                                let bad: String = s[i..].chars().take(3).collect();
                                return Err(format!(
                                    "unable to parse userinfo in dict: parse \"proto://{userinfo}@host\": \
                                     invalid URL escape \"{bad}\""
                                ));
                            };
                            out.push(u8::from_str_radix(h, 16).unwrap_or(b'?'));
                            i += 3;
                        } else {
                            out.push(b[i]);
                            i += 1;
                        }
                    }
                    Ok(String::from_utf8_lossy(&out).into_owned())
                };
                out.push_str(&pct(&unescape(user)?, "-_.~$&+,;="));
                if let Some(p) = pass {
                    out.push(':');
                    out.push_str(&pct(&unescape(p)?, "-_.~$&+,;="));
                }
                out.push('@');
            }
            out.push_str(&pct(&host, "-_.~!$&'()*+,;=:[]<>\""));
        }
        let p = pct(&path, "-_.~$&+,/:;=@");
        if !p.is_empty() && !p.starts_with('/') && !host.is_empty() {
            out.push('/');
        }
        if out.is_empty() && p.split('/').next().is_some_and(|seg| seg.contains(':')) {
            out.push_str("./");
        }
        out.push_str(&p);
    }
    if !query.is_empty() {
        out.push('?');
        out.push_str(&query);
    }
    if !fragment.is_empty() {
        out.push('#');
        out.push_str(&pct(&fragment, "-_.~$&+,/:;=?@!()*"));
    }
    Ok(s(out))
}

/// Percent-escapes every byte but ASCII letters, digits and `keep`.
fn pct(x: &str, keep: &str) -> String {
    let mut out = String::new();
    for b in x.bytes() {
        if b.is_ascii_alphanumeric() || keep.as_bytes().contains(&b) {
            out.push(char::from(b));
        } else {
            let _ = write!(out, "%{b:02X}");
        }
    }
    out
}

fn numbers(m: &mut FuncMap) {
    reg(m, "atoi", &[S], None, |a| {
        // strconv.Atoi: an optional sign and decimal digits; out of range gives the bound.
        let x = st(&a[0]);
        let (neg, digits) = match x.strip_prefix('-') {
            Some(d) => (true, d),
            None => (false, x.strip_prefix('+').unwrap_or(x)),
        };
        if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
            return Ok(Value::Int(0));
        }
        Ok(Value::Int(match digits.parse::<i64>() {
            Ok(v) if neg => -v,
            Ok(v) => v,
            Err(_) if neg => i64::MIN,
            Err(_) => i64::MAX,
        }))
    });
    reg(m, "int64", &[A], None, |a| Ok(Value::Int(to_int64(&a[0]))));
    reg(m, "int", &[A], None, |a| Ok(Value::Int(to_int64(&a[0]))));
    reg(m, "float64", &[A], None, |a| {
        Ok(Value::Float(to_float64(&a[0])))
    });
    reg(m, "toDecimal", &[A], None, |a| {
        let t = go_sprint(&a[0]);
        let (neg, d) = match t.strip_prefix('-') {
            Some(r) => (true, r),
            None => (false, t.strip_prefix('+').unwrap_or(&t)),
        };
        Ok(Value::Int(match i64::from_str_radix(d, 8) {
            Ok(v) if !d.is_empty() && !d.starts_with(['+', '-']) => {
                if neg {
                    -v
                } else {
                    v
                }
            }
            _ => 0,
        }))
    });
    reg(m, "add1", &[A], None, |a| {
        Ok(Value::Int(to_int64(&a[0]).wrapping_add(1)))
    });
    reg(m, "add", &[], Some(A), |a| {
        Ok(Value::Int(
            a.iter().fold(0i64, |x, y| x.wrapping_add(to_int64(y))),
        ))
    });
    reg(m, "sub", &[A, A], None, |a| {
        Ok(Value::Int(to_int64(&a[0]).wrapping_sub(to_int64(&a[1]))))
    });
    reg(m, "div", &[A, A], None, |a| {
        let d = to_int64(&a[1]);
        if d == 0 {
            return Err("runtime error: integer divide by zero".into());
        }
        Ok(Value::Int(to_int64(&a[0]).wrapping_div(d)))
    });
    reg(m, "mod", &[A, A], None, |a| {
        let d = to_int64(&a[1]);
        if d == 0 {
            return Err("runtime error: integer divide by zero".into());
        }
        Ok(Value::Int(to_int64(&a[0]).wrapping_rem(d)))
    });
    reg(m, "mul", &[A], Some(A), |a| {
        Ok(Value::Int(
            a[1..]
                .iter()
                .fold(to_int64(&a[0]), |x, y| x.wrapping_mul(to_int64(y))),
        ))
    });
    for name in ["max", "biggest"] {
        reg(m, name, &[A], Some(A), |a| {
            Ok(Value::Int(a.iter().map(to_int64).max().unwrap_or(0)))
        });
    }
    reg(m, "min", &[A], Some(A), |a| {
        Ok(Value::Int(a.iter().map(to_int64).min().unwrap_or(0)))
    });
    reg(m, "maxf", &[A], Some(A), |a| {
        Ok(Value::Float(
            a[1..]
                .iter()
                .fold(to_float64(&a[0]), |x, y| go_max(x, to_float64(y))),
        ))
    });
    reg(m, "minf", &[A], Some(A), |a| {
        Ok(Value::Float(
            a[1..]
                .iter()
                .fold(to_float64(&a[0]), |x, y| go_min(x, to_float64(y))),
        ))
    });
    reg(m, "floor", &[A], None, |a| {
        Ok(Value::Float(to_float64(&a[0]).floor()))
    });
    reg(m, "ceil", &[A], None, |a| {
        Ok(Value::Float(to_float64(&a[0]).ceil()))
    });
    reg(m, "round", &[A, I], Some(F), |a| {
        let on = a.get(2).and_then(Value::as_float).unwrap_or(0.5);
        let pow = 10f64.powf(int(&a[1]) as f64);
        let digit = pow * to_float64(&a[0]);
        let frac = digit.fract();
        let r = if frac >= on {
            digit.ceil()
        } else {
            digit.floor()
        };
        Ok(Value::Float(r / pow))
    });
    reg(m, "add1f", &[A], None, |a| {
        Ok(Value::Float(dec_op(&a[0], &[Value::Int(1)], b'+')))
    });
    reg(m, "addf", &[], Some(A), |a| {
        Ok(Value::Float(dec_op(&Value::Float(0.0), a, b'+')))
    });
    reg(m, "subf", &[A], Some(A), |a| {
        Ok(Value::Float(dec_op(&a[0], &a[1..], b'-')))
    });
    reg(m, "mulf", &[A], Some(A), |a| {
        Ok(Value::Float(dec_op(&a[0], &a[1..], b'*')))
    });
    reg(m, "divf", &[A], Some(A), |a| {
        if a[1..].iter().any(|x| to_float64(x) == 0.0) {
            return Err("decimal division by 0".into());
        }
        Ok(Value::Float(dec_op(&a[0], &a[1..], b'/')))
    });
    reg(m, "until", &[I], None, |a| {
        let n = int(&a[0]);
        until_step(0, n, if n < 0 { -1 } else { 1 })
    });
    reg(m, "untilStep", &[I, I, I], None, |a| {
        until_step(int(&a[0]), int(&a[1]), int(&a[2]))
    });
    reg(m, "seq", &[], Some(I), |a| {
        let p: Vec<i64> = a.iter().map(int).collect();
        let nums = match p.as_slice() {
            [end] => {
                let inc = if *end < 1 { -1 } else { 1 };
                until_step(1, end + inc, inc)?
            }
            [start, end] => {
                let step = if end < start { -1 } else { 1 };
                until_step(*start, end + step, step)?
            }
            [start, step, end] => {
                let inc = if end < start { -1 } else { 1 };
                if end < start && *step > 0 {
                    return Ok(s(""));
                }
                until_step(*start, end + inc, *step)?
            }
            _ => return Ok(s("")),
        };
        Ok(s(items(&nums)
            .unwrap_or(&[])
            .iter()
            .map(|v| int(v).to_string())
            .collect::<Vec<_>>()
            .join(" ")))
    });
}

fn go_max(x: f64, y: f64) -> f64 {
    if x.is_nan() || y.is_nan() {
        f64::NAN
    } else {
        x.max(y)
    }
}

fn go_min(x: f64, y: f64) -> f64 {
    if x.is_nan() || y.is_nan() {
        f64::NAN
    } else {
        x.min(y)
    }
}

fn until_step(start: i64, stop: i64, step: i64) -> Result<Value, String> {
    let count = if stop < start {
        if step >= 0 {
            0
        } else {
            ((start as i128 - stop as i128 - 1) / (-(step as i128)) + 1) as u128
        }
    } else if step <= 0 {
        0
    } else {
        ((stop as i128 - start as i128 - 1).max(-1) / step as i128 + 1).max(0) as u128
    };
    let count = u64::try_from(count).unwrap_or(u64::MAX);
    charge(count)?;
    let mut v = Vec::with_capacity(count as usize);
    let mut i = start;
    for _ in 0..count {
        v.push(Value::Int(i));
        i = i.wrapping_add(step);
    }
    Ok(list(v))
}

/// sprig's `empty`.
fn empty(v: &Value) -> bool {
    match v {
        Value::Nil => true,
        Value::Bool(b) => !b,
        Value::Int(i) => *i == 0,
        Value::Uint(u) => *u == 0,
        Value::Float(f) => *f == 0.0,
        Value::String(s) => s.is_empty(),
        Value::List(l) => l.is_empty(),
        Value::Map(m) => m.is_empty(),
        _ => false,
    }
}

fn defaults(m: &mut FuncMap) {
    reg(m, "default", &[A], Some(A), |a| {
        Ok(match a.get(1) {
            Some(g) if !empty(g) => g.clone(),
            _ => a[0].clone(),
        })
    });
    reg(m, "empty", &[A], None, |a| Ok(Value::Bool(empty(&a[0]))));
    reg(m, "coalesce", &[], Some(A), |a| {
        Ok(a.iter().find(|v| !empty(v)).cloned().unwrap_or(Value::Nil))
    });
    reg(m, "all", &[], Some(A), |a| {
        Ok(Value::Bool(a.iter().all(|v| !empty(v))))
    });
    reg(m, "any", &[], Some(A), |a| {
        Ok(Value::Bool(a.iter().any(|v| !empty(v))))
    });
    reg(m, "fromJson", &[S], None, |a| {
        Ok(from_json(st(&a[0])).unwrap_or(Value::Nil))
    });
    reg(m, "mustFromJson", &[S], None, |a| from_json(st(&a[0])));
    reg(m, "toJson", &[A], None, |a| {
        Ok(s(to_json(&a[0], true, false).unwrap_or_default()))
    });
    reg(m, "mustToJson", &[A], None, |a| {
        Ok(s(to_json(&a[0], true, false)?))
    });
    reg(m, "toPrettyJson", &[A], None, |a| {
        Ok(s(to_json(&a[0], true, true).unwrap_or_default()))
    });
    reg(m, "mustToPrettyJson", &[A], None, |a| {
        Ok(s(to_json(&a[0], true, true)?))
    });
    reg(m, "toRawJson", &[A], None, |a| {
        Ok(s(to_json(&a[0], false, false)?))
    });
    reg(m, "mustToRawJson", &[A], None, |a| {
        Ok(s(to_json(&a[0], false, false)?))
    });
    reg(m, "ternary", &[A, A, B], None, |a| {
        Ok(if a[2] == Value::Bool(true) {
            a[0].clone()
        } else {
            a[1].clone()
        })
    });
    for name in ["deepCopy", "mustDeepCopy"] {
        reg(m, name, &[A], None, |a| match &a[0] {
            // copystructure's reflection on a nil interface panics.
            Value::Nil => Err("reflect: call of reflect.Value.Type on zero Value".into()),
            v => Ok(v.clone()),
        });
    }
    reg(m, "typeOf", &[A], None, |a| Ok(s(go_type(&a[0]))));
    reg(m, "typeIs", &[S, A], None, |a| {
        Ok(Value::Bool(st(&a[0]) == go_type(&a[1])))
    });
    reg(m, "typeIsLike", &[S, A], None, |a| {
        let t = go_type(&a[1]);
        Ok(Value::Bool(
            st(&a[0]) == t || format!("*{}", st(&a[0])) == t,
        ))
    });
    reg(m, "kindOf", &[A], None, |a| Ok(s(go_kind(&a[0]))));
    reg(m, "kindIs", &[S, A], None, |a| {
        Ok(Value::Bool(st(&a[0]) == go_kind(&a[1])))
    });
    reg(m, "deepEqual", &[A, A], None, |a| {
        charge_scan(shallow_len(&a[0]).min(shallow_len(&a[1])))?;
        Ok(Value::Bool(deep_equal(&a[0], &a[1])))
    });
}

/// Comparisons cost fuel, one unit per 64 (as minijinja charges bytes): `uniq` of 200 000
/// items or `has` over a long list in every iteration of a range would otherwise run for
/// minutes with the fuel untouched (issue 21's hostile review).
fn charge_scan(comparisons: usize) -> Result<(), String> {
    charge((comparisons / 64) as u64)
}

/// The entries of a list or map (1 for anything else).
fn shallow_len(v: &Value) -> usize {
    match v {
        Value::List(l) => l.len(),
        Value::Map(m) => m.len(),
        _ => 1,
    }
}

fn deep_equal(a: &Value, b: &Value) -> bool {
    match (a, b) {
        (Value::List(x), Value::List(y)) => {
            x.len() == y.len() && x.iter().zip(y.iter()).all(|(p, q)| deep_equal(p, q))
        }
        (Value::Map(x), Value::Map(y)) => {
            x.len() == y.len()
                && x.iter()
                    .all(|(k, v)| y.get(k).is_some_and(|w| deep_equal(v, w)))
        }
        (Value::Float(x), Value::Float(y)) => x == y,
        _ => a == b,
    }
}

fn lists(m: &mut FuncMap) {
    for name in ["list", "tuple"] {
        reg(m, name, &[], Some(A), |a| Ok(list(a.to_vec())));
    }
    for name in ["append", "push", "mustAppend", "mustPush"] {
        reg(m, name, &[A, A], None, |a| {
            let mut v = list_arg(&a[0], "push on")?.to_vec();
            v.push(a[1].clone());
            Ok(list(v))
        });
    }
    for name in ["prepend", "mustPrepend"] {
        reg(m, name, &[A, A], None, |a| {
            let mut v = vec![a[1].clone()];
            v.extend_from_slice(list_arg(&a[0], "prepend on")?);
            Ok(list(v))
        });
    }
    for name in ["first", "mustFirst"] {
        reg(m, name, &[A], None, |a| {
            Ok(list_arg(&a[0], "find first on")?
                .first()
                .cloned()
                .unwrap_or(Value::Nil))
        });
    }
    for name in ["last", "mustLast"] {
        reg(m, name, &[A], None, |a| {
            Ok(list_arg(&a[0], "find last on")?
                .last()
                .cloned()
                .unwrap_or(Value::Nil))
        });
    }
    for name in ["rest", "mustRest"] {
        reg(m, name, &[A], None, |a| {
            let l = list_arg(&a[0], "find rest on")?;
            Ok(list(l.get(1..).unwrap_or(&[]).to_vec()))
        });
    }
    for name in ["initial", "mustInitial"] {
        reg(m, name, &[A], None, |a| {
            let l = list_arg(&a[0], "find initial on")?;
            Ok(list(l[..l.len().saturating_sub(1)].to_vec()))
        });
    }
    for name in ["reverse", "mustReverse"] {
        reg(m, name, &[A], None, |a| {
            Ok(list(
                list_arg(&a[0], "find reverse on")?
                    .iter()
                    .rev()
                    .cloned()
                    .collect(),
            ))
        });
    }
    for name in ["compact", "mustCompact"] {
        reg(m, name, &[A], None, |a| {
            Ok(list(
                list_arg(&a[0], "compact on")?
                    .iter()
                    .filter(|v| !empty(v))
                    .cloned()
                    .collect(),
            ))
        });
    }
    for name in ["uniq", "mustUniq"] {
        reg(m, name, &[A], None, |a| {
            let mut out: Vec<Value> = Vec::new();
            for v in list_arg(&a[0], "find uniq on")? {
                charge_scan(out.len())?;
                if !out.iter().any(|o| deep_equal(o, v)) {
                    out.push(v.clone());
                }
            }
            Ok(list(out))
        });
    }
    for name in ["without", "mustWithout"] {
        reg(m, name, &[A], Some(A), |a| {
            let omit = &a[1..];
            let l = list_arg(&a[0], "find without on")?;
            charge_scan(l.len().saturating_mul(omit.len()))?;
            Ok(list(
                l.iter()
                    .filter(|v| !omit.iter().any(|o| deep_equal(o, v)))
                    .cloned()
                    .collect(),
            ))
        });
    }
    for name in ["has", "mustHas"] {
        reg(m, name, &[A, A], None, |a| {
            if matches!(a[1], Value::Nil) {
                return Ok(Value::Bool(false));
            }
            let l = list_arg(&a[1], "find has on")?;
            charge_scan(l.len())?;
            Ok(Value::Bool(l.iter().any(|v| deep_equal(&a[0], v))))
        });
    }
    for name in ["slice", "mustSlice"] {
        reg(m, name, &[A], Some(A), |a| {
            let l = match &a[0] {
                Value::List(l) => l,
                Value::Nil => {
                    return Err(
                        "runtime error: invalid memory address or nil pointer dereference".into(),
                    )
                }
                other => {
                    return Err(format!(
                        "list should be type of slice or array but {}",
                        go_kind(other)
                    ));
                }
            };
            if l.is_empty() {
                return Ok(Value::Nil);
            }
            let start = a.get(1).map_or(0, to_int64);
            let end = a.get(2).map_or(l.len() as i64, to_int64);
            if start < 0 || end < start || end as usize > l.len() {
                return Err("reflect: slice index out of range".into());
            }
            Ok(list(l[start as usize..end as usize].to_vec()))
        });
    }
    reg(m, "concat", &[], Some(A), |a| {
        let mut out = Vec::new();
        for x in a {
            match x {
                Value::List(l) => out.extend(l.iter().cloned()),
                other => return Err(format!("Cannot concat type {} as list", go_kind(other))),
            }
        }
        Ok(list(out))
    });
    for name in ["chunk", "mustChunk"] {
        reg(m, name, &[I, A], None, |a| {
            let size = int(&a[0]);
            let l = list_arg(&a[1], "chunk")?;
            if size <= 0 {
                return Err("runtime error: integer divide by zero".into());
            }
            Ok(list(
                l.chunks(size as usize).map(|c| list(c.to_vec())).collect(),
            ))
        });
    }
    reg(m, "dig", &[], Some(A), |a| {
        if a.len() < 3 {
            return Err("dig needs at least three arguments".into());
        }
        let mut cur = match &a[a.len() - 1] {
            Value::Map(m) if super::typed::go_type_of(m).is_none() => m.clone(),
            other => {
                return Err(format!(
                    "interface conversion: interface {{}} is {}, not map[string]interface {{}}",
                    go_type(other)
                ));
            }
        };
        let def = &a[a.len() - 2];
        let keys = &a[..a.len() - 2];
        for k in keys {
            if !matches!(k, Value::String(_)) {
                return Err(format!(
                    "interface conversion: interface {{}} is {}, not string",
                    go_type(k)
                ));
            }
        }
        for (i, k) in keys.iter().enumerate() {
            let Some(step) = cur.get(st(k)) else {
                return Ok(def.clone());
            };
            if i + 1 == keys.len() {
                return Ok(step.clone());
            }
            cur = match step {
                Value::Map(m) if super::typed::go_type_of(m).is_none() => m.clone(),
                other => {
                    return Err(format!(
                        "interface conversion: interface {{}} is {}, not map[string]interface {{}}",
                        go_type(other)
                    ));
                }
            };
        }
        Ok(def.clone())
    });
}

fn dicts(m: &mut FuncMap) {
    reg(m, "dict", &[], Some(A), |a| {
        let mut out = BTreeMap::new();
        for pair in a.chunks(2) {
            let k: Arc<str> = Arc::from(strval(&pair[0]));
            out.insert(k, pair.get(1).cloned().unwrap_or_else(|| s("")));
        }
        Ok(map(out))
    });
    reg(m, "get", &[M, S], None, |a| {
        Ok(map_of(&a[0])
            .get(st(&a[1]))
            .cloned()
            .unwrap_or_else(|| s("")))
    });
    reg(m, "set", &[M, S, A], None, |a| {
        let mut d = map_of(&a[0]).clone();
        d.insert(Arc::from(st(&a[1])), a[2].clone());
        Ok(map(d))
    });
    reg(m, "unset", &[M, S], None, |a| {
        let mut d = map_of(&a[0]).clone();
        d.remove(st(&a[1]));
        Ok(map(d))
    });
    reg(m, "hasKey", &[M, S], None, |a| {
        Ok(Value::Bool(map_of(&a[0]).contains_key(st(&a[1]))))
    });
    reg(m, "pluck", &[S], Some(M), |a| {
        Ok(list(
            a[1..]
                .iter()
                .filter_map(|d| map_of(d).get(st(&a[0])).cloned())
                .collect(),
        ))
    });
    reg(m, "keys", &[], Some(M), |a| {
        Ok(list(
            a.iter()
                .flat_map(|d| map_of(d).keys().map(|k| Value::String(k.clone())))
                .collect(),
        ))
    });
    reg(m, "pick", &[M], Some(S), |a| {
        let d = map_of(&a[0]);
        Ok(map(a[1..]
            .iter()
            .filter_map(|k| d.get_key_value(st(k)).map(|(k, v)| (k.clone(), v.clone())))
            .collect()))
    });
    reg(m, "omit", &[M], Some(S), |a| {
        let omit: Vec<&str> = a[1..].iter().map(st).collect();
        Ok(map(map_of(&a[0])
            .iter()
            .filter(|(k, _)| !omit.contains(&k.as_ref()))
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect()))
    });
    reg(m, "values", &[M], None, |a| {
        Ok(list(map_of(&a[0]).values().cloned().collect()))
    });
    for (name, overwrite) in [
        ("merge", false),
        ("mustMerge", false),
        ("mergeOverwrite", true),
        ("mustMergeOverwrite", true),
    ] {
        let f: Body = if overwrite {
            |a| Ok(merge_all(a, true))
        } else {
            |a| Ok(merge_all(a, false))
        };
        reg(m, name, &[M], Some(M), f);
    }
}

fn merge_all(a: &[Value], overwrite: bool) -> Value {
    let mut dst = map_of(&a[0]).clone();
    for src in &a[1..] {
        merge_into(&mut dst, map_of(src), overwrite);
    }
    map(dst)
}

/// mergo's Merge / MergeWithOverwrite over `map[string]interface{}`: nested maps merge,
/// a value fills a missing or empty destination (any destination, with overwrite).
fn merge_into(
    dst: &mut BTreeMap<Arc<str>, Value>,
    src: &BTreeMap<Arc<str>, Value>,
    overwrite: bool,
) {
    for (k, sv) in src {
        match (dst.get_mut(k), sv) {
            (Some(Value::Map(dm)), Value::Map(sm)) => {
                let mut inner = (**dm).clone();
                merge_into(&mut inner, sm, overwrite);
                *dm = Arc::new(inner);
            }
            (Some(_), Value::Nil) if !overwrite => {}
            (Some(dv), _) => {
                if overwrite || empty(dv) {
                    *dv = sv.clone();
                }
            }
            // A nil source value is skipped unless overwriting.
            (None, Value::Nil) if !overwrite => {}
            (None, _) => {
                dst.insert(k.clone(), sv.clone());
            }
        }
    }
}

fn encoding(m: &mut FuncMap) {
    use base64::Engine;
    reg(m, "b64enc", &[S], None, |a| {
        Ok(s(
            base64::engine::general_purpose::STANDARD.encode(st(&a[0]))
        ))
    });
    reg(m, "b64dec", &[S], None, |a| {
        Ok(s(match b64dec(st(&a[0]).as_bytes()) {
            Ok(b) => String::from_utf8_lossy(&b).into_owned(),
            Err(i) => format!("illegal base64 data at input byte {i}"),
        }))
    });
    reg(m, "b32enc", &[S], None, |a| {
        Ok(s(b32enc(st(&a[0]).as_bytes())))
    });
    reg(m, "b32dec", &[S], None, |a| {
        Ok(s(match b32dec(&no_newlines(st(&a[0]))) {
            Ok(b) => String::from_utf8_lossy(&b).into_owned(),
            Err(i) => format!("illegal base32 data at input byte {i}"),
        }))
    });
}

/// Go's base64 and base32 decoders skip `\r` and `\n`.
fn no_newlines(x: &str) -> String {
    x.replace(['\r', '\n'], "")
}

/// Go's `base64.StdEncoding.DecodeString`, quantum by quantum, with its error offsets.
fn b64dec(src: &[u8]) -> Result<Vec<u8>, usize> {
    let val = |c: u8| -> Option<u32> {
        Some(u32::from(match c {
            b'A'..=b'Z' => c - b'A',
            b'a'..=b'z' => c - b'a' + 26,
            b'0'..=b'9' => c - b'0' + 52,
            b'+' => 62,
            b'/' => 63,
            _ => return None,
        }))
    };
    let skip_nl = |mut i: usize| {
        while i < src.len() && (src[i] == b'\n' || src[i] == b'\r') {
            i += 1;
        }
        i
    };
    let mut out = Vec::new();
    let mut si = 0;
    loop {
        let mut buf = [0u32; 4];
        let mut len = 4;
        let mut j = 0;
        let mut trailing = None;
        while j < 4 {
            if si == src.len() {
                if j == 0 {
                    return Ok(out);
                }
                return Err(si - j);
            }
            let c = src[si];
            si += 1;
            if let Some(v) = val(c) {
                buf[j] = v;
                j += 1;
                continue;
            }
            if c == b'\n' || c == b'\r' {
                continue;
            }
            if c != b'=' || j < 2 {
                return Err(si - 1);
            }
            if j == 2 {
                si = skip_nl(si);
                if si == src.len() {
                    return Err(src.len());
                }
                if src[si] != b'=' {
                    return Err(si - 1);
                }
                si += 1;
            }
            si = skip_nl(si);
            if si < src.len() {
                trailing = Some(si);
            }
            len = j;
            break;
        }
        let v = buf[0] << 18 | buf[1] << 12 | buf[2] << 6 | buf[3];
        let bytes = [(v >> 16) as u8, (v >> 8) as u8, v as u8];
        out.extend_from_slice(&bytes[..len - 1]);
        if let Some(at) = trailing {
            return Err(at);
        }
        if len < 4 {
            return Ok(out);
        }
    }
}

const B32: &[u8; 32] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";

fn b32enc(b: &[u8]) -> String {
    let mut out = String::new();
    for chunk in b.chunks(5) {
        let mut buf = [0u8; 5];
        buf[..chunk.len()].copy_from_slice(chunk);
        let n = u64::from_be_bytes([0, 0, 0, buf[0], buf[1], buf[2], buf[3], buf[4]]);
        let chars = match chunk.len() {
            1 => 2,
            2 => 4,
            3 => 5,
            4 => 7,
            _ => 8,
        };
        for i in 0..8 {
            if i < chars {
                out.push(char::from(B32[((n >> (35 - 5 * i)) & 31) as usize]));
            } else {
                out.push('=');
            }
        }
    }
    out
}

fn b32dec(x: &str) -> Result<Vec<u8>, usize> {
    let b = x.as_bytes();
    if !b.len().is_multiple_of(8) {
        return Err(b.len() / 8 * 8);
    }
    let mut out = Vec::new();
    for (ci, chunk) in b.chunks(8).enumerate() {
        let mut n: u64 = 0;
        let mut count = 0;
        for (i, c) in chunk.iter().enumerate() {
            if *c == b'=' {
                if chunk[i..].iter().any(|c| *c != b'=') || ci + 1 != b.len() / 8 {
                    return Err(ci * 8 + i);
                }
                break;
            }
            let v = B32.iter().position(|x| x == c).ok_or(ci * 8 + i)?;
            n |= (v as u64) << (35 - 5 * i);
            count += 1;
        }
        let bytes = match count {
            8 => 5,
            7 => 4,
            5 => 3,
            4 => 2,
            2 => 1,
            0 => 0,
            _ => return Err(ci * 8 + count),
        };
        let all = n.to_be_bytes();
        out.extend_from_slice(&all[3..3 + bytes]);
    }
    Ok(out)
}

fn hex(b: &[u8]) -> String {
    b.iter().fold(String::new(), |mut s, x| {
        let _ = write!(s, "{x:02x}");
        s
    })
}

fn regex_of(p: &str) -> Result<regex::Regex, String> {
    regex::Regex::new(&re2_to_rust(p)).map_err(|e| format!("error parsing regexp: {e}"))
}

/// `regexReplaceAll` (`expand`: `$1` and `${name}` in `with`) and its literal form, stopping at
/// what the fuel left pays for: the replacement is written once per match, so
/// `regexReplaceAll "" (repeat 10000 "x") (repeat 100000 "y")` would be 1 GB.
fn bounded_replace(r: &regex::Regex, src: &str, with: &str, expand: bool) -> Result<Value, String> {
    struct Bounded<'a> {
        with: &'a str,
        expand: bool,
        limit: usize,
        over: bool,
    }
    impl regex::Replacer for Bounded<'_> {
        fn replace_append(&mut self, caps: &regex::Captures<'_>, dst: &mut String) {
            if self.over {
                return;
            }
            if self.expand {
                caps.expand(self.with, dst);
            } else {
                dst.push_str(self.with);
            }
            if dst.len() > self.limit {
                self.over = true;
            }
        }
    }
    let mut b = Bounded {
        with,
        expand,
        limit: usize::try_from(fuel_left()).unwrap_or(usize::MAX),
        over: false,
    };
    let out = r
        .replace_all(src, regex::Replacer::by_ref(&mut b))
        .into_owned();
    if b.over {
        charge(u64::MAX)?;
    }
    Ok(s(out))
}

/// A pattern that Go's `regexp.MustCompile` refuses fails the call as Go's panic does.
fn must_regex(p: &str) -> Result<regex::Regex, String> {
    regex_of(p).map_err(|e| {
        let quoted = if p
            .chars()
            .all(|c| c != '`' && (c == '\t' || !c.is_control()))
        {
            format!("`{p}`")
        } else {
            format!("{p:?}")
        };
        format!("regexp: Compile({quoted}): {e}")
    })
}

/// Go's RE2 dialect in the regex crate's: the Perl classes `\d \w \s` and the word
/// boundaries `\b \B` are ASCII in RE2 (Unicode in the regex crate), and `\Q...\E` quotes
/// literal text. Everything else is passed through (the syntaxes agree on it).
fn re2_to_rust(p: &str) -> std::borrow::Cow<'_, str> {
    if !p.contains('\\') {
        return std::borrow::Cow::Borrowed(p);
    }
    let mut out = String::with_capacity(p.len() + 16);
    let mut chars = p.chars().peekable();
    // Depth of `[...]` classes (the regex crate nests them).
    let mut class = 0usize;
    while let Some(c) = chars.next() {
        match c {
            '\\' => {
                let Some(e) = chars.next() else {
                    out.push('\\');
                    break;
                };
                let inside = class > 0;
                match (e, inside) {
                    ('d', _) => out.push_str("[0-9]"),
                    ('D', _) => out.push_str("[^0-9]"),
                    ('w', _) => out.push_str("[0-9A-Za-z_]"),
                    ('W', _) => out.push_str("[^0-9A-Za-z_]"),
                    ('s', _) => out.push_str("[\\t\\n\\f\\r ]"),
                    ('S', _) => out.push_str("[^\\t\\n\\f\\r ]"),
                    ('b', false) => out.push_str("(?-u:\\b)"),
                    ('B', false) => out.push_str("(?-u:\\B)"),
                    ('Q', _) => {
                        let mut lit = String::new();
                        while let Some(q) = chars.next() {
                            if q == '\\' && chars.peek() == Some(&'E') {
                                chars.next();
                                break;
                            }
                            lit.push(q);
                        }
                        if inside {
                            for q in lit.chars() {
                                if q.is_ascii_punctuation() {
                                    out.push('\\');
                                }
                                out.push(q);
                            }
                        } else {
                            out.push_str(&regex::escape(&lit));
                        }
                    }
                    _ => {
                        out.push('\\');
                        out.push(e);
                    }
                }
            }
            '[' => {
                class += 1;
                out.push('[');
                // `[]a]` and `[^]a]`: a `]` first in a class is literal.
                if chars.peek() == Some(&'^') {
                    out.push('^');
                    chars.next();
                }
                if chars.peek() == Some(&']') {
                    out.push_str("\\]");
                    chars.next();
                }
                // `[[:alpha:]]`: a POSIX class opens no nested class.
                if chars.peek() == Some(&'[') {
                    let rest: String = chars.clone().take(3).collect();
                    if rest.starts_with("[:") {
                        for q in chars.by_ref() {
                            out.push(q);
                            if q == ']' {
                                break;
                            }
                        }
                    }
                }
            }
            ']' if class > 0 => {
                class -= 1;
                out.push(']');
            }
            _ => out.push(c),
        }
    }
    std::borrow::Cow::Owned(out)
}

fn regexes(m: &mut FuncMap) {
    reg(m, "regexMatch", &[S, S], None, |a| {
        Ok(Value::Bool(
            regex_of(st(&a[0])).is_ok_and(|r| r.is_match(st(&a[1]))),
        ))
    });
    reg(m, "mustRegexMatch", &[S, S], None, |a| {
        Ok(Value::Bool(regex_of(st(&a[0]))?.is_match(st(&a[1]))))
    });
    fn find_all(a: &[Value]) -> Result<Value, String> {
        let r = regex_of(st(&a[0]))?;
        let n = int(&a[2]);
        let it = r.find_iter(st(&a[1])).map(|m| s(m.as_str()));
        Ok(list(if n < 0 {
            it.collect()
        } else {
            it.take(n as usize).collect()
        }))
    }
    // sprig's non-`must` variants compile with `regexp.MustCompile`: a bad pattern panics,
    // which Go's template turns into the call's error.
    reg(m, "regexFindAll", &[S, S, I], None, |a| {
        must_regex(st(&a[0]))?;
        find_all(a)
    });
    reg(m, "mustRegexFindAll", &[S, S, I], None, find_all);
    fn find(a: &[Value]) -> Result<Value, String> {
        let r = regex_of(st(&a[0]))?;
        Ok(s(r.find(st(&a[1])).map_or("", |m| m.as_str())))
    }
    reg(m, "regexFind", &[S, S], None, |a| {
        must_regex(st(&a[0]))?;
        find(a)
    });
    reg(m, "mustRegexFind", &[S, S], None, find);
    fn replace_all(a: &[Value]) -> Result<Value, String> {
        let r = regex_of(st(&a[0]))?;
        bounded_replace(&r, st(&a[1]), st(&a[2]), true)
    }
    reg(m, "regexReplaceAll", &[S, S, S], None, |a| {
        must_regex(st(&a[0]))?;
        replace_all(a)
    });
    reg(m, "mustRegexReplaceAll", &[S, S, S], None, replace_all);
    fn replace_lit(a: &[Value]) -> Result<Value, String> {
        let r = regex_of(st(&a[0]))?;
        bounded_replace(&r, st(&a[1]), st(&a[2]), false)
    }
    reg(m, "regexReplaceAllLiteral", &[S, S, S], None, |a| {
        must_regex(st(&a[0]))?;
        replace_lit(a)
    });
    reg(
        m,
        "mustRegexReplaceAllLiteral",
        &[S, S, S],
        None,
        replace_lit,
    );
    fn split(a: &[Value]) -> Result<Value, String> {
        let r = regex_of(st(&a[0]))?;
        let (x, n) = (st(&a[1]), int(&a[2]));
        if n == 0 {
            return Ok(list(Vec::new()));
        }
        if !st(&a[0]).is_empty() && x.is_empty() {
            return Ok(list(vec![s("")]));
        }
        // Go's Regexp.Split.
        let mut parts: Vec<Value> = Vec::new();
        let (mut beg, mut end) = (0, 0);
        for (count, mt) in r.find_iter(x).enumerate() {
            if n > 0 && (count as i64 >= n || parts.len() as i64 == n - 1) {
                break;
            }
            end = mt.start();
            if mt.end() != 0 {
                parts.push(s(&x[beg..end]));
            }
            beg = mt.end();
        }
        if end != x.len() {
            parts.push(s(&x[beg..]));
        }
        Ok(list(parts))
    }
    reg(m, "regexSplit", &[S, S, I], None, |a| {
        must_regex(st(&a[0]))?;
        split(a)
    });
    reg(m, "mustRegexSplit", &[S, S, I], None, split);
    reg(m, "regexQuoteMeta", &[S], None, |a| {
        let mut out = String::new();
        for c in st(&a[0]).chars() {
            if "\\.+*?()|[]{}^$".contains(c) {
                out.push('\\');
            }
            out.push(c);
        }
        Ok(s(out))
    });
}

const ALPHA: &[u8] = b"abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ";
const ALNUM: &[u8] = b"abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789";
const DIGITS: &[u8] = b"0123456789";

fn rand_string(count: i64, set: &[u8]) -> Result<Value, String> {
    if count <= 0 {
        return Ok(s(""));
    }
    charge(count as u64)?;
    let mut r = Stream::next_call();
    let out: String = (0..count).map(|_| char::from(r.pick(set))).collect();
    super::note_generated(&out);
    Ok(s(out))
}

fn randoms(m: &mut FuncMap) {
    reg(m, "randAlphaNum", &[I], None, |a| {
        rand_string(int(&a[0]), ALNUM)
    });
    reg(m, "randAlpha", &[I], None, |a| {
        rand_string(int(&a[0]), ALPHA)
    });
    reg(m, "randNumeric", &[I], None, |a| {
        rand_string(int(&a[0]), DIGITS)
    });
    reg(m, "randAscii", &[I], None, |a| {
        let set: Vec<u8> = (32u8..127).collect();
        rand_string(int(&a[0]), &set)
    });
    reg(m, "randBytes", &[I], None, |a| {
        use base64::Engine;
        let n = int(&a[0]);
        if n < 0 {
            return Err("runtime error: makeslice: len out of range".into());
        }
        charge(n as u64)?;
        let mut r = Stream::next_call();
        let bytes: Vec<u8> = (0..n).map(|_| r.byte()).collect();
        let out = base64::engine::general_purpose::STANDARD.encode(bytes);
        super::note_generated(&out);
        Ok(s(out))
    });
    reg(m, "randInt", &[I, I], None, |a| {
        let (lo, hi) = (int(&a[0]), int(&a[1]));
        let span = hi
            .checked_sub(lo)
            .filter(|d| *d > 0)
            .ok_or("invalid argument to Intn")?;
        let mut r = Stream::next_call();
        Ok(Value::Int(lo + r.below(span as u64) as i64))
    });
    reg(m, "uuidv4", &[], None, |_| {
        let mut r = Stream::next_call();
        let mut b: Vec<u8> = (0..16).map(|_| r.byte()).collect();
        b[6] = (b[6] & 0x0f) | 0x40;
        b[8] = (b[8] & 0x3f) | 0x80;
        let h = hex(&b);
        let out = format!(
            "{}-{}-{}-{}-{}",
            &h[..8],
            &h[8..12],
            &h[12..16],
            &h[16..20],
            &h[20..]
        );
        super::note_generated(&out);
        Ok(s(out))
    });
    reg(m, "shuffle", &[S], None, |a| {
        let mut chars: Vec<char> = st(&a[0]).chars().collect();
        let mut r = Stream::next_call();
        for i in (1..chars.len()).rev() {
            let j = r.below(i as u64 + 1) as usize;
            chars.swap(i, j);
        }
        Ok(s(chars.into_iter().collect::<String>()))
    });
}
