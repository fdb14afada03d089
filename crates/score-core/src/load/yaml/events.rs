//! A fast path for turning a provisioner section's rendered text into a JSON value.
//!
//! Every resource renders several sections, and each rendered text used to go through
//! serde-saphyr into a `serde_json::Value`. For the Kubernetes target that parse was over a third
//! of the whole pipeline. serde-saphyr spends about half its time above the event parser it uses
//! (granit-parser); building the value straight from those events is about twice as fast.
//!
//! The fast path only answers when it is sure to give exactly what serde-saphyr gives, and returns
//! `None` otherwise, so the caller falls back to serde-saphyr (which also words any error). It
//! declines on: a parse error, tags, anchors or aliases, merge keys (`<<`), duplicate keys, more
//! than one document, very deep nesting, and any plain scalar outside the shapes below:
//!
//! | plain scalar | value |
//! |---|---|
//! | empty, `~`, `null`, `Null`, `NULL` | null |
//! | `true`/`yes`/`y`/`on`, `false`/`no`/`n`/`off`, any case | bool (serde-saphyr's YAML 1.1 booleans) |
//! | `0`, or `1`–`9` then up to 17 digits, optionally after `-` | integer |
//! | anything else whose first character after an optional sign is not a digit or `.` | string |
//! | a digit first, and a character no number form uses (`2s`, `1Gi`) | string |
//!
//! Quoted and block scalars are strings, as the parser decoded them; a key is the text of its
//! scalar. With the `yaml-cross-check` feature [`super::parse_section`] checks every fast answer against
//! serde-saphyr, so the whole test suite doubles as a differential test.

use std::borrow::Cow;

use granit_parser::{Event, Parser, ScalarStyle};
use serde_json::{Map, Number, Value};

/// Deeper documents take the slow path (and its limits).
const MAX_DEPTH: usize = 64;

enum Frame {
    Seq(Vec<Value>),
    /// A mapping and the key waiting for its value.
    Map(Map<String, Value>, Option<String>),
}

/// The value of a one-document YAML text, or `None` when serde-saphyr must decide.
pub(crate) fn parse(text: &str) -> Option<Value> {
    let mut stack: Vec<Frame> = Vec::new();
    let mut root: Option<Value> = None;
    let mut documents = 0;
    for next in Parser::new_from_str(text) {
        let (event, _span) = next.ok()?;
        let is_seq = matches!(event, Event::SequenceStart(..));
        let value = match event {
            Event::StreamStart | Event::StreamEnd | Event::DocumentEnd => continue,
            Event::DocumentStart(..) => {
                documents += 1;
                if documents > 1 {
                    return None;
                }
                continue;
            }
            Event::Scalar(text, style, anchor, tag) => {
                if anchor != 0 || tag.is_some() {
                    return None;
                }
                // A key is its scalar's text.
                if let Some(Frame::Map(map, key @ None)) = stack.last_mut() {
                    let k = key_text(text, style)?;
                    if k == "<<" || map.contains_key(&k) {
                        return None;
                    }
                    *key = Some(k);
                    continue;
                }
                scalar(text, style, false)?
            }
            Event::SequenceStart(_, anchor, tag) | Event::MappingStart(_, anchor, tag) => {
                if anchor != 0 || tag.is_some() || stack.len() >= MAX_DEPTH {
                    return None;
                }
                // A collection as a key has no JSON counterpart.
                if let Some(Frame::Map(_, None)) = stack.last() {
                    return None;
                }
                stack.push(if is_seq {
                    Frame::Seq(Vec::new())
                } else {
                    Frame::Map(Map::new(), None)
                });
                continue;
            }
            Event::SequenceEnd => match stack.pop()? {
                Frame::Seq(items) => Value::Array(items),
                Frame::Map(..) => return None,
            },
            Event::MappingEnd => match stack.pop()? {
                Frame::Map(map, None) => Value::Object(map),
                Frame::Map(_, Some(_)) | Frame::Seq(_) => return None,
            },
            // Aliases, anchors, comments (if the parser reports them): the slow path.
            #[allow(unreachable_patterns)]
            _ => return None,
        };
        match stack.last_mut() {
            None => {
                if root.is_some() {
                    return None;
                }
                root = Some(value);
            }
            Some(Frame::Seq(items)) => items.push(value),
            Some(Frame::Map(map, key)) => {
                map.insert(key.take()?, value);
            }
        }
    }
    if !stack.is_empty() {
        return None;
    }
    root
}

/// A mapping key's text (serde-saphyr keys an untyped map by the scalar's text), or `None` for
/// a null-like plain key.
pub(crate) fn key_text(text: Cow<'_, str>, style: ScalarStyle) -> Option<String> {
    if matches!(style, ScalarStyle::Plain)
        && (matches!(&*text, "" | "~" | "null" | "Null" | "NULL") || odd_number_key(&text))
    {
        return None;
    }
    Some(text.into_owned())
}

/// A plain key that may be an integer spelt other than `0`, `7`, `-7`: serde-saphyr compares
/// integer keys by value, so `-0` and `0`, `+1` and `1`, `0x1` and `1`, `1_2` and `12` are
/// duplicate keys to it, while the fast path keeps keys as text. Such a key declines; two
/// canonical spellings of one integer are the same text, which the duplicate check catches.
fn odd_number_key(k: &str) -> bool {
    let Some(first) = k.chars().next() else {
        return false;
    };
    if !matches!(first, '+' | '-' | '.' | '0'..='9') {
        return false;
    }
    let digits = k.strip_prefix('-').unwrap_or(k);
    let canonical = digits == "0" && k == "0"
        || digits.starts_with(|c: char| matches!(c, '1'..='9'))
            && digits.bytes().all(|b| b.is_ascii_digit());
    !canonical
}

/// A scalar's value as serde-saphyr decides it when deserialising into an untyped value, or
/// `None` when that is not certain. With `strict_booleans` (the loader's option) only `true`,
/// `True`, `TRUE` and the `false` forms are booleans and `yes`/`on`/`y`/... are strings;
/// without it (serde-saphyr's default, used for rendered sections) those are YAML 1.1 booleans.
pub(crate) fn scalar(
    text: Cow<'_, str>,
    style: ScalarStyle,
    strict_booleans: bool,
) -> Option<Value> {
    if !matches!(style, ScalarStyle::Plain) {
        return Some(Value::String(text.into_owned()));
    }
    let t: &str = &text;
    if matches!(t, "" | "~" | "null" | "Null" | "NULL") {
        return Some(Value::Null);
    }
    if strict_booleans {
        match t {
            "true" | "True" | "TRUE" => return Some(Value::Bool(true)),
            "false" | "False" | "FALSE" => return Some(Value::Bool(false)),
            _ => {}
        }
    }
    for (word, b) in [
        ("true", true),
        ("yes", true),
        ("y", true),
        ("on", true),
        ("false", false),
        ("no", false),
        ("n", false),
        ("off", false),
    ] {
        if t.eq_ignore_ascii_case(word) {
            // Strict: any other spelling is text (no number or null looks like these).
            return Some(if strict_booleans {
                Value::String(text.into_owned())
            } else {
                Value::Bool(b)
            });
        }
    }
    // Integers and floats start with a digit or `.`, after at most one sign.
    let (negative, digits) = match t.as_bytes()[0] {
        b'-' => (true, &t[1..]),
        b'+' => (false, &t[1..]),
        _ => (false, t),
    };
    match digits.as_bytes().first() {
        Some(b) if b.is_ascii_digit() || *b == b'.' => {}
        _ => return Some(Value::String(text.into_owned())),
    }
    let decimal = !t.starts_with('+')
        && (digits == "0"
            || (digits.len() <= 18
                && digits.as_bytes()[0] != b'0'
                && digits.bytes().all(|b| b.is_ascii_digit())));
    if !decimal || (negative && digits == "0") {
        // `2s`, `1Gi`, `17.2-alpine`: a character no number form has makes it a string.
        let numeric = |b: u8| b.is_ascii_hexdigit() || b"xXoObB._+-".contains(&b);
        // (`.inf` and `.nan` are floats, so a leading `.` always takes the slow path.)
        if digits.as_bytes()[0] != b'.' && digits.bytes().any(|b| !numeric(b)) {
            return Some(Value::String(text.into_owned()));
        }
        return None;
    }
    let n: u64 = digits.parse().ok()?;
    Some(Value::Number(if negative {
        Number::from(-i64::try_from(n).ok()?)
    } else {
        Number::from(n)
    }))
}

/// Tests of the fast paths: whenever `answer` (a fast path's answer for `text`) is given,
/// serde-saphyr answers the same; returns whether there was an answer.
#[cfg(test)]
pub(crate) fn agrees_with_serde_saphyr(answer: Option<Value>, text: &str) -> bool {
    match answer {
        Some(fast) => {
            let slow = serde_saphyr::from_str::<Value>(text).ok();
            assert_eq!(Some(&fast), slow.as_ref(), "text: {text:?}");
            true
        }
        None => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn agrees(text: &str) -> bool {
        agrees_with_serde_saphyr(parse(text), text)
    }

    const SCALARS: &[&str] = &[
        "x",
        "hello world",
        "postgres:17.2-alpine",
        "/var/lib/data",
        "a: b",
        "true",
        "True",
        "TRUE",
        "tRuE",
        "yes",
        "Yes",
        "YES",
        "y",
        "Y",
        "on",
        "On",
        "ON",
        "false",
        "no",
        "n",
        "N",
        "off",
        "OFF",
        "null",
        "Null",
        "NULL",
        "nULL",
        "~",
        "0",
        "1",
        "-1",
        "-0",
        "007",
        "0x1f",
        "0o17",
        "0b1",
        "1_000",
        "+1",
        "1.5",
        "1e3",
        ".inf",
        "-.inf",
        ".nan",
        "inf",
        "nan",
        "Infinity",
        "123456789012345678",
        "1234567890123456789",
        "-123456789012345678",
        "9223372036854775807",
        "18446744073709551615",
        "18446744073709551616",
        "5432",
        "80",
        "'quoted'",
        "\"double\\tquoted\\u00e9\"",
        "'it''s'",
        "\"\"",
        "''",
        "2001-12-14",
        "12:30",
        "1:20",
        "=",
        "-",
        "abc # comment",
        "x:y",
        "ünïcode",
        "a\u{a0}b",
        "$$f",
        "{{ braces }}",
        "[1, 2]",
        "{a: 1}",
        "[]",
        "{}",
        "-U",
        "--requirepass",
        "$(REDIS_PASSWORD)",
        "_1",
        "-_1",
        "+_1",
        "-.5",
        "+.5",
        ".5",
        "-inf",
        "+inf",
        "-nan",
        "-Infinity",
        "+1",
        "+0",
        "-x",
        "+x",
        "--",
        "-",
        "+",
        "1:2",
        "0.",
        "-0.0",
        "+12",
        "=",
        "<<",
        "@x",
        "`x",
        "%x",
        "!x",
        "&x",
        "*x",
        "|x",
        ">x",
        "?x",
        ",x",
        "#x",
        "$",
        "-$",
        "_",
        "-_",
        "0_1",
        "1e",
        "2s",
        "1Gi",
        "500m",
        "17.2-alpine",
        "1.2.3",
        "0.5Gi",
        "1:2:3",
        "190:20:30",
        "12:30:00",
        "2001-12-14t21:59:43.10-05:00",
        "1 2",
        "1e3s",
        "0xfg",
        "0o9",
        "1_0s",
        "-2s",
        "+2s",
        ".5s",
    ];

    #[test]
    fn scalars_as_values_keys_and_items_agree_with_serde_saphyr() {
        let mut fast = 0;
        for s in SCALARS {
            for text in [
                format!("k: {s}\n"),
                format!("- {s}\n- other\n"),
                format!("{s}: v\n"),
                format!("outer:\n  inner: {s}\n  list: [{s}, 2]\n"),
                format!("{s}\n"),
            ] {
                fast += usize::from(agrees(&text));
            }
        }
        // The common shapes do take the fast path.
        assert!(fast > SCALARS.len() * 3, "{fast}");
    }

    #[test]
    fn typical_sections_take_the_fast_path() {
        let texts = [
            "host: postgres-instance\nport: 5432\nname: \"db_x\"\npassword: \"s3cr3t\"\n",
            "apiVersion: apps/v1\nkind: StatefulSet\nmetadata:\n  name: pg\n  labels: {app: pg}\n\
             spec:\n  replicas: 1\n  template:\n    spec:\n      containers:\n        - name: pg\n\
             \x20         image: postgres:17\n          ports: [{containerPort: 5432}]\n\
             \x20         args: [\"-c\", 'x']\n          enabled: true\n",
            "script: |\n  line one\n  line two\nfolded: >\n  a\n  b\n",
            "a:\nb: ~\n",
        ];
        for t in texts {
            assert!(agrees(t), "fast path declined: {t}");
        }
    }

    #[test]
    fn declines_what_it_cannot_be_sure_of() {
        for t in [
            "a: &x 1\nb: *x\n",
            "a: !!str 1\n",
            "base: &b {x: 1}\nc:\n  <<: *b\n",
            "a: 1\na: 2\n",
            "--- 1\n--- 2\n",
            "a: 1.5\n",
            "a: [1, 2\n",
            "? [a]\n: 1\n",
            "~: 1\n",
        ] {
            assert_eq!(parse(t), None, "{t}");
        }
    }

    /// Integer keys that serde-saphyr compares by value (found by `never_disagrees` in a CI
    /// rehearsal: `-0` and `0`): the fast path declines them, and canonical ones still answer.
    #[test]
    fn integer_keys_spelt_two_ways_decline() {
        for text in [
            "0: a\n-0: b",
            "1: a\n+1: b",
            "1: a\n0x1: b",
            "12: a\n1_2: b",
            "-0: #c>\n0: >\n#c[&x \t\t{",
        ] {
            assert!(!agrees(text), "{text:?} should decline");
        }
        for text in ["0: a\n1: b", "-1: a\n1: b", "10: a\nx: b"] {
            assert!(agrees(text), "{text:?} should answer");
        }
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(2000))]
        /// Random YAML-ish texts from a small alphabet of tokens: the fast path never disagrees.
        #[test]
        fn never_disagrees(parts in proptest::collection::vec(
            prop_oneof![
                Just("a"), Just("b"), Just(": "), Just(":"), Just("- "), Just("\n"), Just("  "),
                Just("1"), Just("0"), Just("-"), Just("yes"), Just("null"), Just("~"), Just("'q'"),
                Just("\"d\\n\""), Just("["), Just("]"), Just("{"), Just("}"), Just(", "),
                Just("|\n"), Just(">\n"), Just("#c"), Just("&x "), Just("*x"), Just("1.5"),
                Just("/p"), Just("---\n"), Just("<<"), Just("?"), Just("\t"), Just("x y"),
                Just("2s"), Just(".inf"), Just("1Gi"), Just("-U"), Just("$(X)"), Just("0x1"),
                Just("True"), Just("+1"), Just("-0"), Just("12:30"), Just("!!str "), Just("..."),
            ],
            0..24,
        )) {
            let text: String = parts.concat();
            agrees(&text);
        }
    }
}
