//! The reader for rendered Go-template sections: YAML decoded exactly as Go's `gopkg.in/yaml.v3`
//! decodes it into an `interface{}`, which is what score-compose's and score-k8s's template
//! provisioners do with a rendered section (`yaml.Unmarshal(out, &intermediate)`).
//!
//! The differences from serde-saphyr's reading (which our minijinja sections keep):
//!
//! | plain scalar | yaml.v3 | serde-saphyr |
//! |---|---|---|
//! | `0644`, `010` (a leading zero) | octal integer: 420, 8 | decimal |
//! | `0x1F`, `0o17`, `0b101`, `1_000`, `+5` | integers 31, 15, 5, 1000, 5 | various |
//! | `08`, `09.5` (not octal) | floats 8, 9.5 | |
//! | `yes`, `no`, `on`, `off`, `y`, `n` | strings | booleans (YAML 1.1) |
//! | `true`, `True`, `TRUE` (and `false` alike) | booleans; any other spelling is a string | |
//! | `2024-01-02`, `2024-1-2T10:20:30.50-05:00` | a timestamp: RFC 3339 text (below) | string as written |
//!
//! Anchors, aliases and merge keys (`<<`) are resolved as yaml.v3 does (a key written in the
//! mapping wins over a merged one). Tags `!!str`, `!!int`, `!!float`, `!!bool`, `!!null` give
//! their type. Where the answer is something JSON cannot hold (`.inf`, `.nan`, other tags,
//! several documents, a collection as a key), the reader declines (`None`) and the caller falls
//! back to the general reader; a duplicate key is an error, as in yaml.v3.
//!
//! Timestamps: yaml.v3 gives a `time.Time` for a plain scalar (or `!!timestamp`) in one of its
//! four layouts (`resolve.go`: `2006-1-2T15:4:5.999999999Z07:00`, the same with `t`,
//! `2006-1-2 15:4:5.999999999`, `2006-1-2`, parsed by Go's `time.Parse`), which the tools write
//! into their YAML and JSON files as RFC 3339 (`2024-01-02T00:00:00Z`); the reader gives that
//! text. What it cannot give is the `time.Time` a later section of the same entry sees
//! (`{{ .Init.created }}` prints `2024-01-02 00:00:00 +0000 UTC` in Go), a documented deviation.

use std::collections::HashMap;

use granit_parser::{Event, Parser, ScalarStyle, Tag};
use serde_json::{Map, Number, Value};

const MAX_DEPTH: usize = 64;

/// Most bytes of string text alias expansions may copy in one document. yaml.v3 shares a
/// string between its aliases; a copy each would let `[*a, *a, ...]` of a 10 MB anchor cost
/// gigabytes, so past this the document is refused as excessive aliasing (a deviation only for
/// documents far beyond any real section).
pub(crate) const MAX_ALIAS_BYTES: u64 = 32 << 20;

/// yaml.v3's defence against alias bombs (`decoder.unmarshal`): every node decoded counts, the
/// ones decoded through an alias count as alias nodes too, and once there are more than 100 of
/// those and more than 1000 in all, their share may not pass `allowedAliasRatio` (99% up to
/// 400 000 nodes, falling to 10% at 4 000 000). Checked before an alias's value is copied.
#[derive(Default)]
struct AliasBudget {
    decoded: u64,
    aliased: u64,
    copied_bytes: u64,
}

impl AliasBudget {
    /// One node decoded outside any alias.
    fn node(&mut self) -> Result<(), String> {
        self.decoded += 1;
        self.check()
    }

    /// An alias node standing for `nodes` nodes (as decoded) holding `bytes` of text.
    fn alias(&mut self, nodes: u64, bytes: u64) -> Result<(), String> {
        self.decoded = self.decoded.saturating_add(1).saturating_add(nodes);
        self.aliased = self.aliased.saturating_add(nodes);
        self.copied_bytes = self.copied_bytes.saturating_add(bytes);
        if self.copied_bytes > MAX_ALIAS_BYTES {
            return Err(format!(
                "yaml: document contains excessive aliasing (aliases copy more than {} MiB of text)",
                MAX_ALIAS_BYTES >> 20
            ));
        }
        self.check()
    }

    fn check(&self) -> Result<(), String> {
        // The share only grows while one alias is expanded and the allowed ratio only falls as
        // nodes are added, so checking after each alias and each node is yaml.v3's check.
        const LOW: f64 = 400_000.0;
        const HIGH: f64 = 4_000_000.0;
        let d = self.decoded as f64;
        let allowed = if d <= LOW {
            0.99
        } else if d >= HIGH {
            0.10
        } else {
            0.99 - 0.89 * ((d - LOW) / (HIGH - LOW))
        };
        if self.aliased > 100 && self.decoded > 1000 && self.aliased as f64 / d > allowed {
            return Err("yaml: document contains excessive aliasing".into());
        }
        Ok(())
    }
}

/// An anchored value with what an alias of it costs: the nodes yaml.v3 decodes for it and
/// the bytes of text it holds.
struct Anchored {
    value: Value,
    nodes: u64,
    bytes: u64,
}

enum Frame {
    Seq(Vec<Value>, usize),
    /// A mapping, the key waiting for its value, the keys merged in by `<<` (which written
    /// keys replace), and the anchor of the mapping.
    Map {
        map: Map<String, Value>,
        key: Option<Key>,
        merged: Vec<Map<String, Value>>,
        anchor: usize,
    },
}

enum Key {
    Text(String),
    Merge,
}

/// The value of a one-document YAML text as yaml.v3 decodes it into `interface{}`; `Ok(None)`
/// when JSON cannot say it (the caller decides), `Err` for a duplicate key or a bad alias.
pub(crate) fn parse(text: &str) -> Result<Option<Value>, String> {
    let mut stack: Vec<Frame> = Vec::new();
    let mut root: Option<Value> = None;
    let mut anchors: HashMap<usize, Anchored> = HashMap::new();
    // Per open collection: the nodes and bytes of text it holds so far (itself included).
    let mut sizes: Vec<(u64, u64)> = Vec::new();
    let mut budget = AliasBudget::default();
    let mut documents = 0;
    for next in Parser::new_from_str(text) {
        let Ok((event, span)) = next else {
            return Ok(None);
        };
        let line = span.start.line();
        let (value, anchor, size) = match event {
            Event::StreamStart | Event::StreamEnd | Event::DocumentEnd => continue,
            Event::DocumentStart(..) => {
                documents += 1;
                if documents > 1 {
                    return Ok(None);
                }
                continue;
            }
            Event::Alias(id) => match anchors.get(&id) {
                Some(a) => {
                    budget.alias(a.nodes, a.bytes)?;
                    (a.value.clone(), 0, (a.nodes + 1, a.bytes))
                }
                None => return Ok(None),
            },
            Event::Scalar(text, style, anchor, tag) => {
                let plain = matches!(style, ScalarStyle::Plain);
                // A key is its scalar's text (a non-string key is printed back by Go as text).
                if let Some(Frame::Map {
                    map,
                    key: key @ None,
                    ..
                }) = stack.last_mut()
                {
                    budget.node()?;
                    if let Some(top) = sizes.last_mut() {
                        top.0 += 1;
                        top.1 += text.len() as u64;
                    }
                    if plain && tag.is_none() && &*text == "<<" {
                        *key = Some(Key::Merge);
                        continue;
                    }
                    if plain && matches!(&*text, "" | "~" | "null" | "Null" | "NULL") {
                        return Ok(None);
                    }
                    let k = text.into_owned();
                    if map.contains_key(&k) {
                        return Err(format!(
                            "yaml: line {line}: mapping key {k:?} already defined"
                        ));
                    }
                    if anchor != 0 {
                        let bytes = k.len() as u64;
                        let value = Value::String(k.clone());
                        anchors.insert(
                            anchor,
                            Anchored {
                                value,
                                nodes: 1,
                                bytes,
                            },
                        );
                    }
                    *key = Some(Key::Text(k));
                    continue;
                }
                let Some(v) = scalar(&text, plain, tag.as_deref()) else {
                    return Ok(None);
                };
                budget.node()?;
                (v, anchor, (1, text.len() as u64))
            }
            Event::SequenceStart(_, _, tag) | Event::MappingStart(_, _, tag)
                if tag.is_some() || stack.len() >= MAX_DEPTH =>
            {
                return Ok(None);
            }
            Event::SequenceStart(_, anchor, _) => {
                if let Some(Frame::Map { key: None, .. }) = stack.last() {
                    return Ok(None);
                }
                budget.node()?;
                sizes.push((1, 0));
                stack.push(Frame::Seq(Vec::new(), anchor));
                continue;
            }
            Event::MappingStart(_, anchor, _) => {
                if let Some(Frame::Map { key: None, .. }) = stack.last() {
                    return Ok(None);
                }
                budget.node()?;
                sizes.push((1, 0));
                stack.push(Frame::Map {
                    map: Map::new(),
                    key: None,
                    merged: Vec::new(),
                    anchor,
                });
                continue;
            }
            Event::SequenceEnd => match (stack.pop(), sizes.pop()) {
                (Some(Frame::Seq(items, anchor)), Some(size)) => {
                    (Value::Array(items), anchor, size)
                }
                _ => return Ok(None),
            },
            Event::MappingEnd => match (stack.pop(), sizes.pop()) {
                (
                    Some(Frame::Map {
                        map,
                        key: None,
                        merged,
                        anchor,
                    }),
                    Some(size),
                ) => (Value::Object(with_merged(map, merged)), anchor, size),
                _ => return Ok(None),
            },
            // Comments and anything else the parser may report carry no value.
            #[allow(unreachable_patterns)]
            _ => continue,
        };
        if let Some(top) = sizes.last_mut() {
            top.0 = top.0.saturating_add(size.0);
            top.1 = top.1.saturating_add(size.1);
        }
        if anchor != 0 {
            let (nodes, bytes) = size;
            let value = value.clone();
            anchors.insert(
                anchor,
                Anchored {
                    value,
                    nodes,
                    bytes,
                },
            );
        }
        match stack.last_mut() {
            None => {
                if root.is_some() {
                    return Ok(None);
                }
                root = Some(value);
            }
            Some(Frame::Seq(items, _)) => items.push(value),
            Some(Frame::Map {
                map, key, merged, ..
            }) => match key.take() {
                Some(Key::Text(k)) => {
                    map.insert(k, value);
                }
                Some(Key::Merge) => match value {
                    Value::Object(m) => merged.push(m),
                    // A list of mappings: the earlier ones win (yaml.v3).
                    Value::Array(items) => {
                        let mut maps = Vec::new();
                        for i in items {
                            match i {
                                Value::Object(m) => maps.push(m),
                                _ => {
                                    return Err(format!(
                                        "yaml: line {line}: map merge requires map or sequence of maps as the value"
                                    ))
                                }
                            }
                        }
                        merged.extend(maps.into_iter().rev());
                    }
                    _ => {
                        return Err(format!(
                            "yaml: line {line}: map merge requires map or sequence of maps as the value"
                        ))
                    }
                },
                None => return Ok(None),
            },
        }
    }
    if !stack.is_empty() {
        return Ok(None);
    }
    Ok(root)
}

/// A mapping with the maps `<<` merged into it: written keys keep their value and position,
/// merged keys not written come first in merge order (a later merge overrides an earlier one).
fn with_merged(map: Map<String, Value>, merged: Vec<Map<String, Value>>) -> Map<String, Value> {
    if merged.is_empty() {
        return map;
    }
    let mut out = Map::new();
    for m in merged {
        for (k, v) in m {
            out.insert(k, v);
        }
    }
    for (k, v) in map {
        out.insert(k, v);
    }
    out
}

/// A scalar's value as yaml.v3 resolves it (`resolve.go`), `None` when JSON has no such value.
pub(crate) fn scalar(text: &str, plain: bool, tag: Option<&Tag>) -> Option<Value> {
    let core = |suffix: &str| tag.is_some_and(|t| t.is_yaml_core_schema_tag(suffix));
    if let Some(t) = tag {
        if core("str") {
            return Some(Value::String(text.to_string()));
        }
        let (handle, suffix) = t.parts();
        if format!("{handle}{suffix}") == "tag:yaml.org,2002:timestamp" {
            // Not a timestamp: yaml.v3 fails (`cannot decode !!str ... as a !!timestamp`); the
            // general reader decides.
            return go_timestamp(text).map(Value::String);
        }
        if !t.is_yaml_core_schema()
            || !(core("int") || core("float") || core("bool") || core("null"))
        {
            return None;
        }
        let v = resolve(text)?;
        // An explicit tag must agree with what the text resolves to (an int is a valid float).
        let fits = match &v {
            Value::Null => core("null"),
            Value::Bool(_) => core("bool"),
            Value::Number(n) if n.is_f64() => core("float"),
            Value::Number(n) => {
                if core("float") {
                    return Number::from_f64(n.as_f64()?).map(Value::Number);
                }
                core("int")
            }
            _ => false,
        };
        return fits.then_some(v);
    }
    if !plain {
        return Some(Value::String(text.to_string()));
    }
    resolve(text)
}

/// yaml.v3's resolution of an untagged plain scalar.
fn resolve(t: &str) -> Option<Value> {
    match t {
        "" | "~" | "null" | "Null" | "NULL" => return Some(Value::Null),
        "true" | "True" | "TRUE" => return Some(Value::Bool(true)),
        "false" | "False" | "FALSE" => return Some(Value::Bool(false)),
        ".nan" | ".NaN" | ".NAN" | ".inf" | ".Inf" | ".INF" | "+.inf" | "+.Inf" | "+.INF"
        | "-.inf" | "-.Inf" | "-.INF" => return None,
        _ => {}
    }
    let string = || Some(Value::String(t.to_string()));
    match t.as_bytes()[0] {
        // Go's ParseFloat of a text starting with `.`: digits, an exponent, `_` between digits.
        b'.' if go_float_syntax(t) => match t.replace('_', "").parse::<f64>() {
            Ok(f) if f.is_finite() => Number::from_f64(f).map(Value::Number),
            _ => string(),
        },
        b'.' => string(),
        b'0'..=b'9' if go_timestamp(t).is_some() => go_timestamp(t).map(Value::String),
        b'0'..=b'9' | b'+' | b'-' => {
            let plain: String = t.chars().filter(|c| *c != '_').collect();
            if let Some(i) = go_parse_int(&plain) {
                return Some(Value::Number(i));
            }
            if yaml_style_float(&plain) {
                return match plain.parse::<f64>() {
                    Ok(f) if f.is_finite() => Number::from_f64(f).map(Value::Number),
                    _ => string(),
                };
            }
            string()
        }
        _ => string(),
    }
}

/// yaml.v3's `parseTimestamp` (four digits, `-`, then its layouts through Go's `time.Parse`),
/// as RFC 3339 text with nanoseconds (`time.Time`'s `MarshalJSON` and YAML form).
fn go_timestamp(s: &str) -> Option<String> {
    let b = s.as_bytes();
    if b.len() < 5 || !b[..4].iter().all(u8::is_ascii_digit) || b[4] != b'-' {
        return None;
    }
    // (separator between date and time, whether a zone follows)
    [
        (Some(b'T'), true),
        (Some(b't'), true),
        (Some(b' '), false),
        (None, false),
    ]
    .into_iter()
    .find_map(|(sep, zone)| go_parse_layout(b, sep, zone))
}

/// One layout of `go_timestamp`: `2006-1-2`, then `SEP15:4:5.999999999` and `Z07:00` if asked.
fn go_parse_layout(b: &[u8], sep: Option<u8>, zone: bool) -> Option<String> {
    // Go's `getnum(s, false)`: one or two digits.
    fn num(b: &[u8], at: &mut usize) -> Option<u32> {
        let d = |i: usize| {
            b.get(i)
                .filter(|c| c.is_ascii_digit())
                .map(|c| u32::from(c - b'0'))
        };
        let first = d(*at)?;
        *at += 1;
        match d(*at) {
            Some(second) => {
                *at += 1;
                Some(first * 10 + second)
            }
            None => Some(first),
        }
    }
    fn lit(b: &[u8], at: &mut usize, c: u8) -> Option<()> {
        (b.get(*at) == Some(&c)).then(|| *at += 1)
    }
    let year: u32 = std::str::from_utf8(&b[..4]).ok()?.parse().ok()?;
    let mut at = 5;
    let month = num(b, &mut at)?;
    lit(b, &mut at, b'-')?;
    let day = num(b, &mut at)?;
    let (mut hour, mut minute, mut second, mut nanos) = (0, 0, 0, 0u32);
    let mut offset: i32 = 0;
    if let Some(sep) = sep {
        lit(b, &mut at, sep)?;
        hour = num(b, &mut at)?;
        lit(b, &mut at, b':')?;
        minute = num(b, &mut at)?;
        lit(b, &mut at, b':')?;
        second = num(b, &mut at)?;
        // `.999999999`: optional, a period or comma and at least one digit; Go keeps nine.
        if matches!(b.get(at), Some(b'.' | b',')) && b.get(at + 1).is_some_and(u8::is_ascii_digit) {
            at += 1;
            let start = at;
            while b.get(at).is_some_and(u8::is_ascii_digit) {
                at += 1;
            }
            // More than nine digits: not a time (Go 1.19's time.Parse).
            let digits = b.get(start..at).filter(|d| d.len() <= 9)?;
            let mut n: u32 = 0;
            for d in digits {
                n = n * 10 + u32::from(d - b'0');
            }
            nanos = n * 10u32.pow(9 - digits.len() as u32);
        }
        if zone {
            match b.get(at) {
                Some(b'Z') => at += 1,
                Some(&sign @ (b'+' | b'-')) => {
                    let two = |i: usize| -> Option<i32> {
                        let h = b.get(i).filter(|c| c.is_ascii_digit())?;
                        let l = b.get(i + 1).filter(|c| c.is_ascii_digit())?;
                        Some(i32::from(h - b'0') * 10 + i32::from(l - b'0'))
                    };
                    let hh = two(at + 1)?;
                    (b.get(at + 3) == Some(&b':')).then_some(())?;
                    let mm = two(at + 4)?;
                    at += 6;
                    offset = (hh * 60 + mm) * 60 * if sign == b'-' { -1 } else { 1 };
                }
                _ => return None,
            }
        }
    }
    if at != b.len() || hour > 23 || minute > 59 || second > 59 || !(1..=12).contains(&month) {
        return None;
    }
    let leap = year.is_multiple_of(4) && (!year.is_multiple_of(100) || year.is_multiple_of(400));
    let days = match month {
        2 if leap => 29,
        2 => 28,
        4 | 6 | 9 | 11 => 30,
        _ => 31,
    };
    if day < 1 || day > days {
        return None;
    }
    let mut out = format!("{year:04}-{month:02}-{day:02}T{hour:02}:{minute:02}:{second:02}");
    if nanos > 0 {
        let frac = format!("{nanos:09}");
        out.push('.');
        out.push_str(frac.trim_end_matches('0'));
    }
    if offset == 0 {
        out.push('Z');
    } else {
        let a = offset.abs() / 60;
        out.push_str(&format!(
            "{}{:02}:{:02}",
            if offset < 0 { '-' } else { '+' },
            a / 60,
            a % 60
        ));
    }
    Some(out)
}

/// Go's `strconv.ParseInt(s, 0, 64)`, then `ParseUint(s, 0, 64)` (no sign) for larger values.
fn go_parse_int(s: &str) -> Option<Number> {
    let (negative, unsigned) = match s.as_bytes().first()? {
        b'-' => (true, &s[1..]),
        b'+' => (false, &s[1..]),
        _ => (false, s),
    };
    let lower = unsigned.to_ascii_lowercase();
    let (radix, digits) = if let Some(d) = lower.strip_prefix("0x") {
        (16, d)
    } else if let Some(d) = lower.strip_prefix("0o") {
        (8, d)
    } else if let Some(d) = lower.strip_prefix("0b") {
        (2, d)
    } else if lower.len() > 1 && lower.starts_with('0') {
        (8, &lower[1..])
    } else {
        (10, lower.as_str())
    };
    if digits.is_empty() || !digits.chars().all(|c| c.is_digit(radix)) {
        return None;
    }
    let magnitude = u128::from_str_radix(digits, radix).ok()?;
    if negative {
        let v = i128::try_from(magnitude).ok()?.checked_neg()?;
        i64::try_from(v).ok().map(Number::from)
    } else if let Ok(v) = i64::try_from(magnitude) {
        Some(Number::from(v))
    } else if s.starts_with('+') {
        // ParseUint takes no sign.
        None
    } else {
        u64::try_from(magnitude).ok().map(Number::from)
    }
}

/// yaml.v3's `yamlStyleFloat`: `^[-+]?(\.[0-9]+|[0-9]+(\.[0-9]*)?)([eE][-+]?[0-9]+)?$`.
fn yaml_style_float(s: &str) -> bool {
    let b = s.as_bytes();
    let mut i = 0;
    if i < b.len() && (b[i] == b'-' || b[i] == b'+') {
        i += 1;
    }
    let digits = |i: &mut usize| {
        let start = *i;
        while *i < b.len() && b[*i].is_ascii_digit() {
            *i += 1;
        }
        *i - start
    };
    if i < b.len() && b[i] == b'.' {
        i += 1;
        if digits(&mut i) == 0 {
            return false;
        }
    } else {
        if digits(&mut i) == 0 {
            return false;
        }
        if i < b.len() && b[i] == b'.' {
            i += 1;
            digits(&mut i);
        }
    }
    if i < b.len() && (b[i] == b'e' || b[i] == b'E') {
        i += 1;
        if i < b.len() && (b[i] == b'-' || b[i] == b'+') {
            i += 1;
        }
        if digits(&mut i) == 0 {
            return false;
        }
    }
    i == b.len()
}

/// Whether Go's `ParseFloat` reads a text that starts with `.` (`.5`, `.5e3`; `_` only between
/// digits, as in `.1_0`).
fn go_float_syntax(t: &str) -> bool {
    let b = t.as_bytes();
    for (i, c) in b.iter().enumerate() {
        if *c == b'_' {
            let ok =
                i > 0 && i + 1 < b.len() && b[i - 1].is_ascii_digit() && b[i + 1].is_ascii_digit();
            if !ok {
                return false;
            }
        }
    }
    yaml_style_float(&t.replace('_', ""))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    /// Each row was decoded by Go 1.19 + gopkg.in/yaml.v3 (Debian's
    /// golang-gopkg-yaml.v3-dev) as `x: SCALAR` into `interface{}`; the JSON is Go's
    /// `json.Marshal` of the value (`None`: a value JSON cannot hold, which the reader leaves
    /// to its caller).
    #[test]
    fn scalars_resolve_as_yaml_v3_resolves_them() {
        let rows: &[(&str, Option<Value>)] = &[
            ("0644", Some(json!(420))),
            ("010", Some(json!(8))),
            ("08", Some(json!(8.0))),
            ("0x1F", Some(json!(31))),
            ("0X1f", Some(json!(31))),
            ("0o17", Some(json!(15))),
            ("0O17", Some(json!(15))),
            ("0b101", Some(json!(5))),
            ("-0b101", Some(json!(-5))),
            ("-0o17", Some(json!(-15))),
            ("1_000", Some(json!(1000))),
            ("0_644", Some(json!(420))),
            ("+5", Some(json!(5))),
            ("-0", Some(json!(0))),
            ("0", Some(json!(0))),
            ("00", Some(json!(0))),
            ("09.5", Some(json!(9.5))),
            ("1e3", Some(json!(1000.0))),
            ("1E3", Some(json!(1000.0))),
            (".5", Some(json!(0.5))),
            ("-.5", Some(json!(-0.5))),
            ("+.5", Some(json!(0.5))),
            ("1.", Some(json!(1.0))),
            ("1.0", Some(json!(1.0))),
            (".inf", None),
            ("-.Inf", None),
            (".nan", None),
            ("yes", Some(json!("yes"))),
            ("no", Some(json!("no"))),
            ("on", Some(json!("on"))),
            ("off", Some(json!("off"))),
            ("y", Some(json!("y"))),
            ("Y", Some(json!("Y"))),
            ("true", Some(json!(true))),
            ("True", Some(json!(true))),
            ("TRUE", Some(json!(true))),
            ("tRUE", Some(json!("tRUE"))),
            ("null", Some(json!(null))),
            ("Null", Some(json!(null))),
            ("~", Some(json!(null))),
            ("", Some(json!(null))),
            ("2024-13-45", Some(json!("2024-13-45"))),
            ("9223372036854775807", Some(json!(9223372036854775807i64))),
            ("9223372036854775808", Some(json!(9223372036854775808u64))),
            ("18446744073709551615", Some(json!(18446744073709551615u64))),
            ("18446744073709551616", Some(json!(18446744073709551616.0))),
            ("-9223372036854775809", Some(json!(-9223372036854775809.0))),
            ("1e400", Some(json!("1e400"))),
            ("0x", Some(json!("0x"))),
            ("1__2", Some(json!(12))),
            ("_1", Some(json!("_1"))),
            ("1_", Some(json!(1))),
            ("0x_1F", Some(json!(31))),
            ("+0x10", Some(json!(16))),
            ("-0x10", Some(json!(-16))),
            ("'+'", Some(json!("+"))),
            ("1:2", Some(json!("1:2"))),
            ("12:30", Some(json!("12:30"))),
            ("0.1.2", Some(json!("0.1.2"))),
            ("1e", Some(json!("1e"))),
            ("1e+", Some(json!("1e+"))),
            ("0xg", Some(json!("0xg"))),
            ("0b2", Some(json!("0b2"))),
            ("\"0644\"", Some(json!("0644"))),
            ("!!str 0644", Some(json!("0644"))),
            ("!!int \"12\"", Some(json!(12))),
            ("!!float 1", Some(json!(1.0))),
            ("0x1p-2", Some(json!("0x1p-2"))),
            ("Infinity", Some(json!("Infinity"))),
            ("inf", Some(json!("inf"))),
            ("NaN", Some(json!("NaN"))),
            ("1_000.5", Some(json!(1000.5))),
            (".1_0", Some(json!(0.1))),
            // Timestamps: yaml.v3 gives time.Time, which json.Marshal writes as RFC 3339.
            ("2024-01-02", Some(json!("2024-01-02T00:00:00Z"))),
            (
                "!!timestamp 2024-01-02",
                Some(json!("2024-01-02T00:00:00Z")),
            ),
            ("2024-1-2", Some(json!("2024-01-02T00:00:00Z"))),
            ("2024-01-02T10:20:30Z", Some(json!("2024-01-02T10:20:30Z"))),
            (
                "2001-12-14t21:59:43.10-05:00",
                Some(json!("2001-12-14T21:59:43.1-05:00")),
            ),
            ("2024-01-02 10:20:30", Some(json!("2024-01-02T10:20:30Z"))),
            (
                "2024-01-02 10:20:30.5 +02:00",
                Some(json!("2024-01-02 10:20:30.5 +02:00")),
            ),
            ("2024-01-02T10:20:30", Some(json!("2024-01-02T10:20:30"))),
            ("2024-02-30", Some(json!("2024-02-30"))),
            ("2024-13-01", Some(json!("2024-13-01"))),
            ("\"2024-01-02\"", Some(json!("2024-01-02"))),
            ("20240-01-02", Some(json!("20240-01-02"))),
            (
                "2024-01-02T10:20:30,5+01:30",
                Some(json!("2024-01-02T10:20:30.5+01:30")),
            ),
            ("2024-02-29", Some(json!("2024-02-29T00:00:00Z"))),
            ("2023-02-29", Some(json!("2023-02-29"))),
            ("2024-01-02T1:2:3Z", Some(json!("2024-01-02T01:02:03Z"))),
            (
                "2024-01-02T10:20:30.1234567891Z",
                Some(json!("2024-01-02T10:20:30.1234567891Z")),
            ),
            (
                "2024-01-02T10:20:30.123456789Z",
                Some(json!("2024-01-02T10:20:30.123456789Z")),
            ),
            (
                "2024-01-02T10:20:30.Z",
                Some(json!("2024-01-02T10:20:30.Z")),
            ),
            ("2024-01-02T24:00:00Z", Some(json!("2024-01-02T24:00:00Z"))),
            (
                "2024-01-02T10:20:30+1:00",
                Some(json!("2024-01-02T10:20:30+1:00")),
            ),
            (
                "2024-01-02T10:20:30-00:00",
                Some(json!("2024-01-02T10:20:30Z")),
            ),
            ("0000-01-01", Some(json!("0000-01-01T00:00:00Z"))),
        ];
        let mut bad = Vec::new();
        for (src, want) in rows {
            let text = format!("x: {src}");
            let got = parse(&text).unwrap().map(|v| v["x"].clone());
            if got != *want {
                bad.push(format!("{src:?}: {got:?}, want {want:?}"));
            }
            // The line-by-line path, where it answers, answers the same.
            if let Some(fast) = super::super::simple::parse_go(&text)
                && Some(&fast["x"]) != want.as_ref()
            {
                bad.push(format!("{src:?} (line by line): {fast:?}, want {want:?}"));
            }
        }
        assert!(bad.is_empty(), "{}", bad.join("\n"));
    }

    #[test]
    fn anchors_aliases_and_merge_keys() {
        let text = "base: &b\n  mode: 0644\n  name: a\nother:\n  <<: *b\n  name: b\nlist: [*b]\n";
        assert_eq!(
            parse(text).unwrap(),
            Some(json!({
                "base": {"mode": 420, "name": "a"},
                "other": {"mode": 420, "name": "b"},
                "list": [{"mode": 420, "name": "a"}],
            }))
        );
        let e = parse("a: 1\na: 2\n").unwrap_err();
        assert!(e.contains("already defined"), "{e}");
        // What JSON cannot hold is left to the caller.
        assert_eq!(parse("? [a]\n: 1\n").unwrap(), None);
        assert_eq!(parse("a: 1\n---\nb: 2\n").unwrap(), None);
    }

    /// The billion laughs the template fuzzer found (a rendered Go section of 359 bytes grew
    /// past 24 GB): refused with yaml.v3's words before the copies are made.
    #[test]
    fn alias_bombs_are_refused_as_yaml_v3_refuses_them() {
        let mut text =
            String::from("a: &a [\"x\",\"x\",\"x\",\"x\",\"x\",\"x\",\"x\",\"x\",\"x\",\"x\"]\n");
        for (prev, name) in "abcdefghi".chars().zip("bcdefghij".chars()) {
            let refs = vec![format!("*{prev}"); 10].join(",");
            text.push_str(&format!("{name}: &{name} [{refs}]\n"));
        }
        assert_eq!(
            parse(&text).unwrap_err(),
            "yaml: document contains excessive aliasing"
        );
        // Plain reuse stays fine: 100 aliases of a small mapping.
        let mut ok = String::from("base: &b {x: 1, y: [1, 2]}\nlist:\n");
        for _ in 0..100 {
            ok.push_str("  - *b\n");
        }
        assert_eq!(
            parse(&ok).unwrap().unwrap()["list"]
                .as_array()
                .unwrap()
                .len(),
            100
        );
        // Few nodes but many bytes: a 1 MiB string aliased 40 times.
        let big = "y".repeat(1 << 20);
        let copies = vec!["*s"; 40].join(", ");
        let e = parse(&format!("s: &s {big}\nl: [{copies}]\n")).unwrap_err();
        assert!(e.contains("excessive aliasing"), "{e}");
    }
}
